/**
 * Every API view that shows a device carries its state as the server decides it
 * (detectors/device-state.ts), with the household's own health settings: the dashboards show
 * it and never work it out again.
 */
import { deviceStatus, type DeviceStatus } from '../detectors/device-state.js'
import { resolveSettings } from '../detectors/settings.js'
import type { Device, RegistryRepository } from '../store/registry.js'

export type DeviceWithState = Device & DeviceStatus

/** `seen`: later sightings known elsewhere (the history's newest reading), by device id. */
export async function withStates(registry: RegistryRepository, devices: Device[], now: number, seen?: ReadonlyMap<string, number>): Promise<DeviceWithState[]> {
  if (devices.length === 0) return []
  const householdIds = [...new Set(devices.map((d) => d.householdId))]
  const households = householdIds.length === 1 ? [await registry.households.get(householdIds[0]!)].filter((h) => h !== undefined) : await registry.households.list()
  const communities = new Map((await registry.communities.list()).map((c) => [c.id, c]))
  const rules = new Map(households.map((h) => [h.id, resolveSettings(communities.get(h.communityId)?.detectorSettings, h.detectorSettings).health]))
  const fallback = resolveSettings().health
  return devices.map((d) => {
    const later = seen?.get(d.id)
    const lastSeenAt = later !== undefined && (d.lastSeenAt === null || later > d.lastSeenAt) ? later : d.lastSeenAt
    const facts = { ...d, lastSeenAt }
    return { ...facts, ...deviceStatus(facts, now, rules.get(d.householdId) ?? fallback) }
  })
}
