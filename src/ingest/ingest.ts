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
import { logPacer } from '../shared/recent.js'
import type { DeviceIdentity } from '../store/registry.js'
import type { TelemetryDedup } from './dedup.js'
import type { DeviceHealth } from './device-health.js'
import type { DeviceRates } from './rates.js'
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

/** `limited`: over the device's publish rate (docs/security.md §rates), dropped and counted. */
export type IngestResult = 'accepted' | 'duplicate' | 'dropped' | 'limited'

const OVER_RATE = 'over the device publish rate'
/** Check-in answers a button's retransmission is recognised among (it answers one prompt at a time). */
const RECENT_ANSWERS = 16

export function createIngest(deps: {
  incidents: Incidents
  health: DeviceHealth
  stats: IngestStats
  bus: EventBus<IngestEvents>
  clock: Clock
  log: Logger
  metrics?: IngestMetrics
  /** A reading sent again is one reading (dedup.ts). */
  dedup: TelemetryDedup
  /** What one device may send; an alarm is recorded whatever its rate. */
  rates: DeviceRates
}) {
  const { incidents, health, stats, bus, clock, log, metrics, dedup, rates } = deps
  /** Every dropped message is counted; the log has a line a minute per device and topic (an alarm's, every one). */
  const dropLog = logPacer()
  /** Check-in answers are never in the history store: each button's last ones are remembered here. */
  const recentAnswers = new Map<string, string[]>()

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

  function logPaced(deviceId: string, channel: UplinkChannel, reason: string): void {
    const held = dropLog.due(`${deviceId}\n${channel}`)
    if (held !== null) log.warn({ deviceId, channel, reason, ...(held > 0 ? { heldBack: held } : {}) }, 'device message dropped')
  }

  function drop(deviceId: string, channel: UplinkChannel, reason: string): IngestResult {
    stats.count(deviceId, 'dropped', reason)
    // An alarm that could not be read may be an elder's call: its installer must see every one.
    if (channel === 'alarm') log.error({ deviceId, channel, reason }, 'alarm message dropped')
    else logPaced(deviceId, channel, reason)
    return 'dropped'
  }

  /** Over the device's rate: counted, and logged like any repeat (a flood past the rate on the alarm topic too). */
  function limited(deviceId: string, channel: UplinkChannel): IngestResult {
    stats.count(deviceId, 'dropped', OVER_RATE)
    logPaced(deviceId, channel, OVER_RATE)
    return 'limited'
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
   * tell (contract v1.1 §cmd `checkin`). It keeps to the device's rate like telemetry (a button
   * answers a prompt once; a flood of answers is no elder's doing), and a retransmission is
   * recognised among the button's last answers.
   */
  function answered(device: DeviceIdentity, messageId: string, ref: string, at: number, battery: number | undefined): IngestResult {
    seen(device, 'alarm', at, battery === undefined ? {} : { battery })
    const recent = recentAnswers.get(device.id) ?? []
    if (recent.includes(messageId)) {
      stats.count(device.id, 'duplicate')
      return 'duplicate'
    }
    recentAnswers.set(device.id, [...recent.slice(-(RECENT_ANSWERS - 1)), messageId])
    stats.count(device.id, 'accepted')
    bus.emit('checkin.answered', { deviceId: device.id, householdId: device.householdId, ref, at })
    return 'accepted'
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
        // Counted toward the rate like any message; only an alarm passes over it.
        const withinRate = rates.take(device.id)
        const decoded = decodePayload(alarmPayload, payload)
        if (!decoded.ok) return withinRate ? drop(device.id, channel, decoded.reason) : limited(device.id, channel)
        const alarm = decoded.value
        if (alarm.type === 'checkin_ok') return withinRate ? answered(device, alarm.id, alarm.ref, eventTime(alarm.ts, receivedAt).at, alarm.battery) : limited(device.id, channel)
        if (!withinRate) rates.spend(device.id)
        const result = await raise(device, alarm.id, alarm.type, receivedAt, alarm.ts)
        // After the commit: the alarm's PUBACK and push wait for nothing else.
        seen(device, 'alarm', receivedAt, alarm.battery === undefined ? {} : { battery: alarm.battery })
        return result
      }
      case 'telemetry': {
        // Every message counts toward the rate, a malformed one too; only an alarm passes over it.
        const withinRate = rates.take(device.id)
        const decoded = decodePayload(telemetryPayload, payload)
        if (!decoded.ok) return withinRate ? drop(device.id, channel, decoded.reason) : limited(device.id, channel)
        const reading = decoded.value
        if ((reading.kind === 'smoke' || reading.kind === 'gas') && reading.alarm) {
          seen(device, 'telemetry', receivedAt)
          if (!withinRate) rates.spend(device.id)
          // Contract: smoke/gas `alarm: true` is handled with SOS priority, durably.
          return raise(device, reading.id, reading.kind, receivedAt, reading.ts)
        }
        if (!withinRate) return limited(device.id, channel)
        seen(device, 'telemetry', receivedAt)
        const time = eventTime(reading.ts, receivedAt)
        // A device's own time counts as its reading's time only when it was taken (contract §4).
        const deviceTime = reading.ts !== undefined && time.at === reading.ts ? time.at : null
        // Mostly answered at once; only a message that could be one sent again waits for the store.
        const verdict = dedup.check(device.id, reading.id, deviceTime)
        if ((typeof verdict === 'string' ? verdict : await verdict) === 'duplicate') {
          stats.count(device.id, 'duplicate')
          return 'duplicate'
        }
        stats.count(device.id, 'accepted')
        bus.emit('telemetry.received', { deviceId: device.id, householdId: device.householdId, reading, at: time.at, receivedAt })
        return 'accepted'
      }
      case 'status': {
        if (!rates.take(device.id)) return limited(device.id, channel)
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

  return {
    handle,
    /** Seconds until a device over its rate may send again (HTTP Retry-After). */
    retryAfterS: (deviceId: string): number => rates.retryAfterS(deviceId),
  }
}

export type Ingest = ReturnType<typeof createIngest>
