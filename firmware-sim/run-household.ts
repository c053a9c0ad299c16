/**
 * One simulated home end to end: provisioned through the platform's API, its six devices
 * connected over MQTT, its day (and an optional scenario) played in real time or time-warp.
 */
import type { ApiClient } from './api-client.js'
import { provisionFleet, type FleetDevice } from './fleet.js'
import { deviceId, HOUSEHOLD_DEVICES, simulateHousehold, type Scenario } from './household.js'
import { connectDevices, disconnectAll, play, type PlayEvent, type PlayStats, type TimeControl } from './player.js'
import type { IncidentSummary } from './scenarios.js'

export interface HouseholdRun {
  householdId: string
  devices: FleetDevice[]
  stats: PlayStats
  startedAt: number
  endedAt: number
}

const HOUR = 3_600_000
const SHANGHAI_OFFSET = 8 * HOUR

/** The next 06:00 in Shanghai at or after `t`: runs start at dawn, so days read naturally. */
export function nextDawn(t: number): number {
  const local = t + SHANGHAI_OFFSET
  const dawn = Math.floor(local / (24 * HOUR)) * 24 * HOUR + 6 * HOUR
  return (dawn >= local ? dawn : dawn + 24 * HOUR) - SHANGHAI_OFFSET
}

export async function runHousehold(o: {
  api: ApiClient
  mqttUrl: string
  time: TimeControl
  hours: number
  seed: number
  scenario?: Scenario
  /** Start at the next dawn (time-warp); a real-time run starts now. */
  startAtDawn?: boolean
  stepMs?: number
  onEvent?: (e: PlayEvent) => void
}): Promise<HouseholdRun> {
  // Move to the start first: devices provisioned hours before their first message would
  // rightly be reported offline.
  const now = await o.time.now()
  const from = o.startAtDawn ? nextDawn(now) : now
  await o.time.until(from)
  const key = `s${o.seed}-${Date.now().toString(36)}`
  const fleet = await provisionFleet(o.api, `模拟社区 ${key}`, [
    {
      elderName: `模拟老人 ${o.seed}`,
      address: `模拟小区 ${o.seed} 号`,
      devices: HOUSEHOLD_DEVICES.map((d) => ({ id: deviceId(d.role, key), kind: d.kind, room: d.room, heartbeatS: d.heartbeatS })),
    },
  ])
  const clients = await connectDevices(o.mqttUrl, fleet.devices)
  const to = from + o.hours * HOUR
  const events: PlayEvent[] = simulateHousehold({ seed: o.seed, from, to, ...(o.scenario ? { scenario: o.scenario, scenarioAt: from + HOUR } : {}) }).map((e) => ({
    at: e.at,
    deviceId: deviceId(e.role, key),
    channel: e.channel,
    payload: e.payload,
    ...(e.lastWill ? { lastWill: true } : {}),
  }))
  try {
    const stats = await play(events, clients, o.time, { ...(o.stepMs ? { stepMs: o.stepMs } : {}), ...(o.onEvent ? { onEvent: o.onEvent } : {}) })
    await o.time.until(to)
    return { householdId: fleet.devices[0]!.householdId, devices: fleet.devices, stats, startedAt: from, endedAt: to }
  } finally {
    await disconnectAll(clients)
  }
}

/** Every incident the platform holds for the household, in the shape the scenario check reads. */
export async function householdIncidents(api: ApiClient, householdId: string): Promise<IncidentSummary[]> {
  type Listed = Omit<IncidentSummary, 'raised'> & { id: string; householdId: string }
  type Detail = { events: { detail: { condition?: string } }[] }
  const all = await api.get<Listed[]>('/api/incidents?limit=1000')
  const mine = all.filter((i) => i.householdId === householdId)
  return Promise.all(
    mine.map(async (i) => {
      const { events } = await api.get<Detail>(`/api/incidents/${i.id}`)
      const raised = [...new Set(events.map((e) => e.detail.condition).filter((c): c is string => typeof c === 'string'))]
      return { category: i.category, type: i.type, conditions: i.conditions, raised, cancelledByResident: i.cancelledByResident }
    }),
  )
}
