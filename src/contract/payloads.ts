/**
 * Device contract v1 payload schemas, shared by the platform and firmware-sim.
 * Unknown fields are ignored (zod's default strip), as the contract requires.
 */
import { z } from 'zod'

/** Contract §Payloads: UTF-8 JSON objects of at most 4 KiB. */
export const MAX_PAYLOAD_BYTES = 4096
/** Contract §Payloads: a device clock more than 24 h off is replaced by platform time. */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000

const messageId = z.string().min(1).max(64)
const deviceTs = z.number().int().nonnegative()
const battery = z.number().min(0).max(100)

/** What a resident's press means (contract §alarm). */
export const ALARM_TYPES = ['sos', 'fall', 'service', 'cancel'] as const
export type AlarmType = (typeof ALARM_TYPES)[number]

const pressPayload = z.object({
  id: messageId,
  ts: deviceTs.optional(),
  type: z.enum(ALARM_TYPES),
  battery: battery.optional(),
})
/** Contract v1.1 §cmd `checkin`: the resident's answer to a check-in, naming the command it answers. */
const checkinAnswerPayload = z.object({
  id: messageId,
  ts: deviceTs.optional(),
  type: z.literal('checkin_ok'),
  ref: messageId,
  battery: battery.optional(),
})
export const alarmPayload = z.discriminatedUnion('type', [pressPayload, checkinAnswerPayload])
export type AlarmPayload = z.infer<typeof alarmPayload>

const waterReading = z.object({
  id: messageId,
  ts: deviceTs.optional(),
  kind: z.literal('water'),
  totalM3: z.number().nonnegative(),
  flowLpm: z.number().nonnegative().optional(),
})
const presenceReading = z.object({
  id: messageId,
  ts: deviceTs.optional(),
  kind: z.literal('presence'),
  occupied: z.boolean(),
  motion: z.boolean().optional(),
})
const doorReading = z.object({
  id: messageId,
  ts: deviceTs.optional(),
  kind: z.literal('door'),
  open: z.boolean(),
})
const hazardReading = z.object({
  id: messageId,
  ts: deviceTs.optional(),
  kind: z.enum(['smoke', 'gas']),
  alarm: z.boolean(),
})

export const telemetryPayload = z.discriminatedUnion('kind', [
  waterReading,
  presenceReading,
  doorReading,
  hazardReading,
])
export type TelemetryPayload = z.infer<typeof telemetryPayload>
export type HazardReading = z.infer<typeof hazardReading>

export const statusPayload = z.object({
  ts: deviceTs.optional(),
  online: z.boolean(),
  battery: battery.optional(),
  rssi: z.number().optional(),
  fw: z.string().max(64).optional(),
  /** Contract v1.1: what the device can do, e.g. `checkin` (plays a check-in prompt), `voice`. */
  caps: z.array(z.string().min(1).max(32)).max(16).optional(),
})
export type StatusPayload = z.infer<typeof statusPayload>

export const COMMANDS = ['ack', 'resolved', 'ping', 'config', 'checkin'] as const
/** Contract v1.1: a device declaring this in `status.caps` may be sent `checkin`; no other device is. */
export const CHECKIN_CAP = 'checkin'
export const commandPayload = z.object({
  id: messageId,
  ts: deviceTs,
  cmd: z.enum(COMMANDS),
  incidentId: z.string().optional(),
  heartbeatS: z.number().int().positive().optional(),
  /** `checkin`: what the device says (or its own recorded equivalent), and how long it waits for a key. */
  prompt: z.string().max(200).optional(),
  timeoutS: z.number().int().positive().max(3600).optional(),
})
export type CommandPayload = z.infer<typeof commandPayload>

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: string }

/** Contract §Payloads: UTF-8. A lenient decoder would turn bad bytes into U+FFFD and accept them. */
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Size check, UTF-8, JSON parse and schema validation: the one way a device payload is read. */
export function decodePayload<T>(schema: z.ZodType<T>, payload: Uint8Array): DecodeResult<T> {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return { ok: false, reason: `payload of ${payload.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}` }
  }
  let text: string
  try {
    text = utf8.decode(payload)
  } catch {
    return { ok: false, reason: 'payload is not valid UTF-8' }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'payload is not valid JSON' }
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'payload'
    return { ok: false, reason: `${where}: ${issue?.message ?? 'invalid'}` }
  }
  return { ok: true, value: parsed.data }
}

/** Contract §Payloads `ts`: absent or more than 24 h off → platform receive time, skew recorded. */
export function eventTime(deviceTs: number | undefined, receivedAt: number): { at: number; skewMs: number | null } {
  if (deviceTs === undefined) return { at: receivedAt, skewMs: null }
  const skewMs = deviceTs - receivedAt
  return Math.abs(skewMs) > MAX_CLOCK_SKEW_MS ? { at: receivedAt, skewMs } : { at: deviceTs, skewMs }
}
