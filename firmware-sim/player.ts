/**
 * Plays a household's events through real MQTT connections, one per device, in real time or
 * on the platform's virtual clock (time-warp). A Last Will event drops that device's line
 * without a DISCONNECT, so the broker publishes the will as a real device's would.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { deviceTopic } from '../src/contract/index.js'
import type { ApiClient } from './api-client.js'
import type { FleetDevice } from './fleet.js'

export interface PlayEvent {
  at: number
  deviceId: string
  channel: 'alarm' | 'telemetry' | 'status'
  payload: Record<string, unknown>
  lastWill?: boolean
}

/** How the player waits for an event's time: a real sleep, or moving the virtual clock. */
export interface TimeControl {
  now(): Promise<number>
  /** Resolves once the platform's time is `at` (and what fell due has run). */
  until(at: number): Promise<void>
}

export function realTime(): TimeControl {
  return {
    now: async () => Date.now(),
    until: (at) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now()))),
  }
}

/** Time-warp: the platform runs on a virtual clock (ANJU_CLOCK=virtual) that the player moves. */
export function virtualTime(api: ApiClient): TimeControl {
  let known: number | null = null
  const now = async () => (known ??= (await api.get<{ now: number }>('/api/clock')).now)
  return {
    now,
    async until(at) {
      const current = await now()
      if (at <= current) return
      known = (await api.post<{ now: number }>('/api/clock/advance', { ms: at - current })).now
    },
  }
}

export interface PlayStats {
  published: number
  wills: number
}

export async function connectDevices(url: string, devices: FleetDevice[]): Promise<Map<string, MqttClient>> {
  const clients = new Map<string, MqttClient>()
  for (const d of devices) {
    const client = await mqtt.connectAsync(url, {
      clientId: d.id,
      username: d.id,
      password: d.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      will: { topic: deviceTopic(d.id, 'status'), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    })
    ;(client.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true)
    clients.set(d.id, client)
  }
  return clients
}

/**
 * Publishes each event at its time. With `stepMs` the clock moves in steps of that size and
 * each step's events follow back to back (their `ts` still says when they happened): a
 * time-warped day then costs a few hundred clock moves instead of thousands.
 */
export async function play(
  events: readonly PlayEvent[],
  clients: Map<string, MqttClient>,
  time: TimeControl,
  options: { stepMs?: number; onEvent?: (e: PlayEvent) => void } = {},
): Promise<PlayStats> {
  const stats: PlayStats = { published: 0, wills: 0 }
  const step = options.stepMs ?? 0
  for (const e of events) {
    await time.until(step > 0 ? Math.ceil(e.at / step) * step : e.at)
    const client = clients.get(e.deviceId)
    if (!client) continue
    if (e.lastWill) {
      // An ungraceful loss: the broker publishes the device's Last Will.
      client.stream.destroy()
      clients.delete(e.deviceId)
      stats.wills++
    } else {
      // QoS 1 throughout: the PUBACK says the platform has taken the message in before time moves on.
      await client.publishAsync(deviceTopic(e.deviceId, e.channel), JSON.stringify(e.payload), { qos: 1 })
      stats.published++
    }
    options.onEvent?.(e)
  }
  return stats
}

export async function disconnectAll(clients: Map<string, MqttClient>): Promise<void> {
  await Promise.all([...clients.values()].map((c) => c.endAsync()))
  clients.clear()
}
