/** Fleet files: device credentials the platform hands out once (demo seed, POST /api/fleet). */
import { readFileSync, writeFileSync } from 'node:fs'
import type { ApiClient } from './api-client.js'

export interface FleetDevice {
  id: string
  secret: string
  kind: string
  householdId: string
  room: string | null
}

export interface Fleet {
  devices: FleetDevice[]
}

export function readFleet(file: string): Fleet {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`cannot read fleet file ${file}: ${(err as Error).message}`)
  }
  const devices = (parsed as Partial<Fleet>).devices
  if (!Array.isArray(devices)) throw new Error(`${file} is not a fleet file (no "devices" list)`)
  return { devices }
}

export function writeFleet(file: string, fleet: Fleet): void {
  writeFileSync(file, JSON.stringify(fleet, null, 2) + '\n', { mode: 0o600 })
}

export interface HouseholdPlan {
  elderName: string
  address: string
  devices: { id: string; kind: string; room: string | null; heartbeatS?: number }[]
}

/** The street of every community the simulator makes: how `remove-district` knows them. */
export const SIM_STREET = '模拟街道'

/** Creates a community and the households through the platform's API, 200 at a time. */
export async function provisionFleet(api: ApiClient, communityName: string, households: HouseholdPlan[]): Promise<Fleet> {
  const community = await api.post<{ id: string }>('/api/communities', { name: communityName, street: SIM_STREET })
  const devices: FleetDevice[] = []
  for (let i = 0; i < households.length; i += 200) {
    const batch = households.slice(i, i + 200)
    const created = await api.post<Fleet>('/api/fleet', { communityId: community.id, households: batch })
    devices.push(...created.devices)
  }
  return { devices }
}
