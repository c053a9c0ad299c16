/** Device health: offline (reported, or silent for more than two heartbeats), low battery, never seen. */
import type { DeviceRow } from '../shared/types'

export const LOW_BATTERY = 20
export type Health = 'offline' | 'never' | 'low' | 'ok'
const RANK: Record<Health, number> = { offline: 0, never: 1, low: 2, ok: 3 }

export function healthOf(d: DeviceRow, now: number): { status: Health; stale: boolean; low: boolean } {
  const stale = d.lastSeenAt !== null && now - d.lastSeenAt > 2 * d.heartbeatS * 1000
  const low = d.battery !== null && d.battery < LOW_BATTERY
  const status: Health = d.online === false || stale ? 'offline' : d.lastSeenAt === null && d.online === null ? 'never' : low ? 'low' : 'ok'
  return { status, stale, low }
}

/** Worst first: offline, never seen, low battery, healthy; then lower battery, then longest silent. */
export function sortWorstFirst<T extends DeviceRow>(list: T[], now: number): (T & { health: ReturnType<typeof healthOf> })[] {
  return list
    .map((d) => ({ ...d, health: healthOf(d, now) }))
    .sort((a, b) =>
      RANK[a.health.status] - RANK[b.health.status] ||
      Number(b.health.low) - Number(a.health.low) ||
      (a.battery ?? 101) - (b.battery ?? 101) ||
      (a.lastSeenAt ?? 0) - (b.lastSeenAt ?? 0),
    )
}

/** The building of an address: the text up to '号楼' (e.g. "3号楼"), else its first token. */
export function buildingOf(address: string): string {
  const a = address.trim()
  const i = a.indexOf('号楼')
  if (i > 0) {
    const head = a.slice(0, i).trim().split(/\s+/).pop()!
    return `${head}号楼`
  }
  return a.split(/\s+/)[0] || a
}
