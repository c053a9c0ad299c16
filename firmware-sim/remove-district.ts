/**
 * Removes simulated districts (`npm run sim -- remove-district [community]`): the communities the
 * simulator made (street 模拟街道), or the one named, with their households, devices and
 * incidents, through DELETE /api/communities/{id}?purge=true (docs/operations.md §simulated districts).
 */
import type { ApiClient } from './api-client.js'
import { SIM_STREET } from './fleet.js'

interface Community { id: string; name: string; street: string }
export interface Removed { communityId: string; name: string; households: number; devices: number; incidents: number }

/** `which`: a community id or name; without it, every community the simulator made. */
export async function removeDistricts(api: ApiClient, which?: string): Promise<Removed[]> {
  const all = await api.get<Community[]>('/api/communities')
  const chosen = which === undefined ? all.filter((c) => c.street === SIM_STREET) : all.filter((c) => c.id === which || c.name === which)
  if (which !== undefined && chosen.length === 0) throw new Error(`no community ${which}`)
  const removed: Removed[] = []
  for (const c of chosen) removed.push(await api.delete<Removed>(`/api/communities/${encodeURIComponent(c.id)}?purge=true`))
  return removed
}

export function removedSummary(removed: readonly Removed[]): string {
  if (removed.length === 0) return 'no simulated districts to remove'
  const lines = removed.map((r) => `removed ${r.name} (${r.communityId}): ${r.households} households, ${r.devices} devices, ${r.incidents} incidents`)
  return lines.join('\n')
}
