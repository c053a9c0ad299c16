/**
 * Ingest: every device message is decoded and validated here, then handed on.
 * - alarm (and smoke/gas `alarm: true`) → incidents, committed before the broker sends PUBACK;
 * - telemetry → the bus for detectors, deduplicated on (device, id);
 * - status → device health.
 * A bad message is dropped, counted and logged with its reason; it never throws. Only a
 * failure to record an alarm throws, so the broker withholds the PUBACK and the device retries.
 */
import type { Logger } from 'pino'
import {
  alarmPayload,
  decodePayload,
  eventTime,
  statusPayload,
  telemetryPayload,
  type TelemetryPayload,
  type UplinkChannel,
} from '../contract/index.js'
import type { AlarmInput, Incidents } from '../incidents/service.js'
import type { IngestMetrics } from '../metrics/metrics.js'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import type { DeviceIdentity } from '../store/registry.js'
import type { DeviceHealth } from './device-health.js'
import type { IngestStats } from './stats.js'

export interface TelemetryReceived {
  deviceId: string
  householdId: string
  reading: TelemetryPayload
  /** Device time when plausible, else receive time (contract §Payloads `ts`). */
  at: number
  receivedAt: number
}

/** Any valid message from a device: it is alive, and maybe says how its battery is. */
export interface DeviceSeen {
  deviceId: string
  householdId: string
  /** Which message showed it: telemetry also arrives as `telemetry.received`. */
  channel: UplinkChannel
  at: number
  online?: boolean
  battery?: number
  /** Contract v1.1 `status.caps`: what the device can do (`checkin`, `voice`). */
  caps?: string[]
}

/** Contract v1.1: the resident pressed a key to answer the check-in command `ref`. */
export interface CheckinAnswered {
  deviceId: string
  householdId: string
  ref: string
  at: number
}

export interface IngestEvents {
  'telemetry.received': TelemetryReceived
  'device.seen': DeviceSeen
  'checkin.answered': CheckinAnswered
}

export type IngestResult = 'accepted' | 'duplicate' | 'dropped'

/** How many recent telemetry ids are remembered per device to drop retransmissions. */
const RECENT_IDS = 16

export function createIngest(deps: {
  incidents: Incidents
  health: DeviceHealth
  stats: IngestStats
  bus: EventBus<IngestEvents>
  clock: Clock
  log: Logger
  metrics?: IngestMetrics
}) {
  const { incidents, health, stats, bus, clock, log, metrics } = deps
  const recentTelemetry = new Map<string, string[]>()

  function seen(device: DeviceIdentity, channel: UplinkChannel, at: number, update: { online?: boolean; battery?: number; fw?: string; caps?: string[] } = {}): void {
    const { caps, ...recorded } = update
    health.record(device.id, { lastSeenAt: at, ...recorded })
    bus.emit('device.seen', {
      deviceId: device.id,
      householdId: device.householdId,
      channel,
      at,
      ...(update.online === undefined ? {} : { online: update.online }),
      ...(update.battery === undefined ? {} : { battery: update.battery }),
      ...(caps === undefined ? {} : { caps }),
    })
  }

  function drop(deviceId: string, channel: UplinkChannel, reason: string): IngestResult {
    stats.count(deviceId, 'dropped', reason)
    log.warn({ deviceId, channel, reason }, 'device message dropped')
    return 'dropped'
  }

  async function raise(device: DeviceIdentity, messageId: string, alarm: AlarmInput['alarm'], receivedAt: number, deviceTs: number | undefined): Promise<IngestResult> {
    const started = performance.now()
    const outcome = await incidents.raiseAlarm({
      deviceId: device.id,
      householdId: device.householdId,
      communityId: device.communityId,
      messageId,
      alarm,
      receivedAt,
      ...(deviceTs === undefined ? {} : { deviceTs }),
    })
    metrics?.alarmCommitted((performance.now() - started) / 1000)
    if (outcome.result === 'duplicate') {
      stats.count(device.id, 'duplicate')
      return 'duplicate'
    }
    stats.count(device.id, 'accepted')
    return 'accepted'
  }

  /**
   * A check-in answer is no alarm: nothing to commit before the PUBACK, only the detectors to
   * tell (contract v1.1 §cmd `checkin`). A retransmission is recognised by its id like telemetry.
   */
  function answered(device: DeviceIdentity, messageId: string, ref: string, at: number, battery: number | undefined): IngestResult {
    seen(device, 'alarm', at, battery === undefined ? {} : { battery })
    if (seenRecently(device.id, messageId)) {
      stats.count(device.id, 'duplicate')
      return 'duplicate'
    }
    stats.count(device.id, 'accepted')
    bus.emit('checkin.answered', { deviceId: device.id, householdId: device.householdId, ref, at })
    return 'accepted'
  }

  function seenRecently(deviceId: string, messageId: string): boolean {
    const ids = recentTelemetry.get(deviceId) ?? []
    if (ids.includes(messageId)) return true
    ids.push(messageId)
    if (ids.length > RECENT_IDS) ids.shift()
    recentTelemetry.set(deviceId, ids)
    return false
  }

  async function handle(device: DeviceIdentity, channel: UplinkChannel, payload: Uint8Array): Promise<IngestResult> {
    const result = await handleMessage(device, channel, payload)
    metrics?.counted(channel, result)
    return result
  }

  async function handleMessage(device: DeviceIdentity, channel: UplinkChannel, payload: Uint8Array): Promise<IngestResult> {
    const receivedAt = clock.now()
    switch (channel) {
      case 'alarm': {
        const decoded = decodePayload(alarmPayload, payload)
        if (!decoded.ok) return drop(device.id, channel, decoded.reason)
        const alarm = decoded.value
        if (alarm.type === 'checkin_ok') return answered(device, alarm.id, alarm.ref, eventTime(alarm.ts, receivedAt).at, alarm.battery)
        const result = await raise(device, alarm.id, alarm.type, receivedAt, alarm.ts)
        // After the commit: the alarm's PUBACK and push wait for nothing else.
        seen(device, 'alarm', receivedAt, alarm.battery === undefined ? {} : { battery: alarm.battery })
        return result
      }
      case 'telemetry': {
        const decoded = decodePayload(telemetryPayload, payload)
        if (!decoded.ok) return drop(device.id, channel, decoded.reason)
        const reading = decoded.value
        seen(device, 'telemetry', receivedAt)
        if ((reading.kind === 'smoke' || reading.kind === 'gas') && reading.alarm) {
          // Contract: smoke/gas `alarm: true` is handled with SOS priority, durably.
          return raise(device, reading.id, reading.kind, receivedAt, reading.ts)
        }
        if (seenRecently(device.id, reading.id)) {
          stats.count(device.id, 'duplicate')
          return 'duplicate'
        }
        stats.count(device.id, 'accepted')
        bus.emit('telemetry.received', {
          deviceId: device.id,
          householdId: device.householdId,
          reading,
          at: eventTime(reading.ts, receivedAt).at,
          receivedAt,
        })
        return 'accepted'
      }
      case 'status': {
        const decoded = decodePayload(statusPayload, payload)
        if (!decoded.ok) return drop(device.id, channel, decoded.reason)
        const s = decoded.value
        seen(device, 'status', receivedAt, {
          online: s.online,
          ...(s.battery === undefined ? {} : { battery: s.battery }),
          ...(s.fw === undefined ? {} : { fw: s.fw }),
          ...(s.caps === undefined ? {} : { caps: s.caps }),
        })
        stats.count(device.id, 'accepted')
        return 'accepted'
      }
    }
  }

  return { handle }
}

export type Ingest = ReturnType<typeof createIngest>
