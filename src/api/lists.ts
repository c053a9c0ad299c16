/**
 * Long lists a console pages through (docs/operations.md §scale): the query every list takes,
 * and the pure decisions behind the households' district summary and the device health board.
 * A district has thousands of households: the server pages, counts and summarises; a page never
 * carries more than `MAX_PAGE` rows.
 */
import { z } from 'zod'
import { resolveSettings, type DetectorOverride } from '../detectors/settings.js'
import { DEVICE_STATES, deviceStatus, STATE_RANK, type DeviceState, type DeviceStatus } from '../detectors/device-state.js'
import type { DeviceFacts, HouseholdPlace } from '../store/registry.js'
import { deviceView } from './views.js'

export const DEFAULT_PAGE = 50
export const MAX_PAGE = 500

/** `?limit=&offset=` (query strings are text: coerced, then checked). */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE).describe(`rows per page, 1 to ${MAX_PAGE}`),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0).describe('rows skipped'),
}
export const searchQuery = z.string().trim().max(50).optional().describe("a fragment of the elder's name, the address or the phone number")

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number().int().describe('rows matching the filter, over all pages'),
    limit: z.number().int(),
    offset: z.number().int(),
  })

/** The building of an address: the text up to '号楼' ("3号楼"), else its first word. */
export function buildingOf(address: string): string {
  const a = address.trim()
  const i = a.indexOf('号楼')
  if (i > 0) return `${a.slice(0, i).trim().split(/\s+/).pop()!}号楼`
  return a.split(/\s+/)[0] || a
}

const tally = z.object({
  households: z.number().int(),
  emergency: z.number().int().describe('households with an unresolved emergency (SOS, fall, smoke, gas)'),
  incident: z.number().int().describe('households with another unresolved incident'),
})
export const districtView = tally.extend({
  streets: z.array(
    tally.extend({
      name: z.string().describe("the street; '' when the community has none"),
      communities: z.array(
        tally.extend({
          id: z.string(),
          name: z.string(),
          buildings: z.array(tally.extend({ name: z.string() })),
        }),
      ),
    }),
  ),
})
export type District = z.infer<typeof districtView>
type Tally = z.infer<typeof tally>

const zhNatural = new Intl.Collator('zh-CN', { numeric: true })
const add = (t: Tally, p: HouseholdPlace) => {
  t.households++
  if (p.incident === 'emergency') t.emergency++
  else if (p.incident === 'incident') t.incident++
}
const empty = (): Tally => ({ households: 0, emergency: 0, incident: 0 })

/** Street → community → building with counts at each level, in natural order (2号楼 before 10号楼). */
export function districtSummary(places: readonly HouseholdPlace[]): District {
  const total = empty()
  const streets = new Map<string, Tally & { communities: Map<string, Tally & { id: string; name: string; buildings: Map<string, Tally & { name: string }> }> }>()
  for (const p of places) {
    add(total, p)
    const s = streets.get(p.street) ?? streets.set(p.street, { ...empty(), communities: new Map() }).get(p.street)!
    add(s, p)
    const c = s.communities.get(p.communityId) ?? s.communities.set(p.communityId, { ...empty(), id: p.communityId, name: p.communityName, buildings: new Map() }).get(p.communityId)!
    add(c, p)
    const name = buildingOf(p.address)
    const b = c.buildings.get(name) ?? c.buildings.set(name, { ...empty(), name }).get(name)!
    add(b, p)
  }
  const byName = <T extends { name: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => zhNatural.compare(a.name, b.name))
  return {
    ...total,
    streets: byName([...streets].map(([name, s]) => ({ ...s, name }))).map((s) => ({
      ...s,
      communities: byName(s.communities.values()).map((c) => ({ ...c, buildings: byName(c.buildings.values()) })),
    })),
  }
}

/** The board filters by the server's device state (detectors/device-state.ts, the same as every other view); `problem`: every state but online. */
export const BOARD_FILTERS = ['all', 'problem', ...DEVICE_STATES] as const
export type BoardFilter = (typeof BOARD_FILTERS)[number]

export const boardRow = deviceView.extend({
  elderName: z.string(),
  address: z.string(),
  communityId: z.string(),
})
export type BoardRow = z.infer<typeof boardRow>
export const boardView = pageOf(boardRow).extend({
  counts: z.object(Object.fromEntries(['all', ...DEVICE_STATES].map((s) => [s, z.number().int()])) as Record<'all' | DeviceState, z.ZodNumber>)
    .describe('devices in each state over the scope and search, whatever the state filter'),
})
export type Board = z.infer<typeof boardView>

/**
 * The health board's page: problem devices first (offline, silent, low battery, not reporting yet), then the
 * lowest battery and the longest silent, filtered by state; counts per state over every device
 * given (the scope and search, whatever the state filter). Returns the page's ids and states:
 * the caller reads those rows only. Thousands of devices: states in an array, indices sorted.
 */
export function boardPage(
  devices: readonly DeviceFacts[],
  communitySettings: ReadonlyMap<string, DetectorOverride | null>,
  now: number,
  query: { state: BoardFilter; limit: number; offset: number },
): Omit<Board, 'items'> & { items: ({ id: string } & DeviceStatus)[] } {
  const healthOf = new Map<string, ReturnType<typeof resolveSettings>['health']>()
  const statuses: DeviceStatus[] = new Array(devices.length)
  const counts: Record<'all' | DeviceState, number> = { all: devices.length, not_reporting_yet: 0, offline: 0, silent: 0, low_battery: 0, online: 0 }
  const matching: number[] = []
  devices.forEach((d, i) => {
    // Most households have no override of their own: resolve once per community.
    const key = d.householdSettings ? `h:${d.householdId}` : `c:${d.communityId}`
    let health = healthOf.get(key)
    if (!health) healthOf.set(key, (health = resolveSettings(communitySettings.get(d.communityId), d.householdSettings).health))
    const status = (statuses[i] = deviceStatus(d, now, health))
    const state = status.state
    counts[state]++
    if (query.state === 'all' || (query.state === 'problem' ? state !== 'online' : state === query.state)) matching.push(i)
  })
  matching.sort((i, j) => {
    const a = devices[i]!
    const b = devices[j]!
    return (
      STATE_RANK[statuses[i]!.state] - STATE_RANK[statuses[j]!.state] ||
      (a.battery ?? 101) - (b.battery ?? 101) ||
      (a.lastSeenAt ?? 0) - (b.lastSeenAt ?? 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    )
  })
  const items = matching.slice(query.offset, query.offset + query.limit).map((i) => ({ id: devices[i]!.id, ...statuses[i]! }))
  return { items, total: matching.length, limit: query.limit, offset: query.offset, counts }
}
