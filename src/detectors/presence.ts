/**
 * Presence detector: mmWave radar and PIR readings → inactivity, morning check, bathroom dwell.
 *
 * Where each threshold falls (chosen once here, tested at the edge):
 * - inactivity raises when the silence is ≥ inactivityMin: "12 hours without activity" is
 *   reached at 12 h, not one millisecond later.
 * - morning_check is decided at morningCheckAt itself (10:00:00.000 already raises), and
 *   activity at morningWindowFrom exactly (05:00) counts for the morning.
 * - bathroom_dwell raises when the occupancy is > bathroomDwellMin: a 60-minute bath is normal.
 * - data is missing when the silence is > staleAfterMin: a report exactly 30 min ago is fresh.
 */
import type { EvalContext, DeviceInfo } from './context.js'
import { ROOM_EN, ROOM_ZH } from './names.js'
import { MINUTE, registeredOnly, soonest } from './context.js'
import type { Condition, Evaluation } from './model.js'
import { atLocalTime, formatLocalTime, minutesOf, startOfLocalDay } from './local-time.js'

const HOUR = 60 * MINUTE

/** What one sensor last said; one entry per registered presence device, so the state stays bounded. */
interface SensorState {
  /** Time of the sensor's latest reading: a reading not after it is out of order. */
  at: number
  room: string | null
  occupied: boolean
  /** Start of the current unbroken occupancy (for the bathroom dwell), null when unoccupied. */
  occupiedSince: number | null
}

export interface PresenceState {
  /** Latest activity seen anywhere in the home; read by the engine's explanations and by door.ts. */
  lastActivityAt: number | null
  lastActivityRoom: string | null
  /**
   * Latest activity in a room other than the entrance: the sign that someone who went out at
   * night is back inside (door.ts). Absent in states saved before it existed.
   */
  lastInsideActivityAt?: number | null
  sensors: Record<string, SensorState>
}

export function initialPresenceState(): PresenceState {
  return { lastActivityAt: null, lastActivityRoom: null, lastInsideActivityAt: null, sensors: {} }
}

export function applyPresenceReading(
  state: PresenceState,
  reading: { deviceId: string; room: string | null; at: number; occupied: boolean; motion?: boolean | undefined },
  ctx: EvalContext,
): PresenceState {
  const prev = state.sensors[reading.deviceId]
  if (prev && reading.at <= prev.at) return state

  const room = ctx.devices[reading.deviceId]?.room ?? reading.room
  const becameOccupied = reading.occupied && !(prev?.occupied ?? false)
  // A PIR sends no `motion`: its occupancy switching on is the only sign of movement it gives.
  const active = reading.motion === undefined ? becameOccupied : reading.motion
  const sensor: SensorState = {
    at: reading.at,
    room,
    occupied: reading.occupied,
    occupiedSince: !reading.occupied ? null : becameOccupied ? reading.at : (prev?.occupiedSince ?? reading.at),
  }
  // Another sensor may deliver a late reading; the latest activity never moves backwards.
  const isLatestActivity = active && (state.lastActivityAt === null || reading.at >= state.lastActivityAt)
  const inside = state.lastInsideActivityAt ?? null
  const isLatestInside = active && room !== 'entrance' && (inside === null || reading.at >= inside)
  return {
    lastActivityAt: isLatestActivity ? reading.at : state.lastActivityAt,
    lastActivityRoom: isLatestActivity ? room : state.lastActivityRoom,
    lastInsideActivityAt: isLatestInside ? reading.at : inside,
    sensors: { ...registeredOnly(state.sensors, ctx), [reading.deviceId]: sensor },
  }
}

/** `replaced`: rules the caller replaces (adaptive mode), said 'false' without being evaluated. */
export function evaluatePresence(state: PresenceState, ctx: EvalContext, replaced?: ReadonlySet<string>): Evaluation[] {
  const devices = presenceDevices(ctx)
  // Nothing to watch with: not a presence matter (the household simply has no sensor).
  const none = devices.length === 0
  return [
    none || replaced?.has('inactivity') ? { key: 'inactivity', status: 'false' } : evaluateInactivity(state, ctx, devices),
    none || replaced?.has('morning_check') ? { key: 'morning_check', status: 'false' } : evaluateMorningCheck(state, ctx, devices),
    none || replaced?.has('bathroom_dwell') ? { key: 'bathroom_dwell', status: 'false' } : evaluateBathroomDwell(state, ctx, devices),
  ]
}

export function nextPresenceCheck(state: PresenceState, ctx: EvalContext): number | null {
  const devices = presenceDevices(ctx)
  if (devices.length === 0) return null
  const p = ctx.settings.presence
  const now = ctx.now
  let next = soonest(null, staleFrom(state, ctx, devices), now)
  next = soonest(next, silenceFrom(state, ctx, devices) + p.inactivityMin * MINUTE, now)
  next = soonest(next, nextMorningCheck(now, ctx.settings.timeZone, p.morningCheckAt), now)
  for (const b of bathroomSensors(state, ctx, devices)) {
    next = soonest(next, b.staleFrom, now)
    if (b.dwellFrom !== null) next = soonest(next, b.dwellFrom + p.bathroomDwellMin * MINUTE + 1, now)
  }
  return next
}

// ── inactivity ────────────────────────────────────────────────────────────────

function evaluateInactivity(state: PresenceState, ctx: EvalContext, devices: Device[]): Evaluation {
  const key = 'inactivity'
  // Missing data is a device-health matter: never call it inactivity.
  if (ctx.now >= staleFrom(state, ctx, devices)) return { key, status: 'unknown' }
  const from = silenceFrom(state, ctx, devices)
  const silence = ctx.now - from
  if (silence < ctx.settings.presence.inactivityMin * MINUTE) return { key, status: 'false' }

  const tz = ctx.settings.timeZone
  const hours = formatHours(silence)
  const sinceObservation = state.lastActivityAt === null || state.lastActivityAt < from
  const zh = [`${hours} 小时无活动${sinceObservation ? `(自 ${formatLocalTime(from, tz)} 开始观察)` : ''}`]
  const en = [`No activity for ${hours} h${sinceObservation ? ` since observation began at ${formatLocalTime(from, tz)}` : ''}`]
  if (state.lastActivityAt !== null) {
    const last = lastActivityText(state.lastActivityAt, state.lastActivityRoom, tz)
    zh.push(last.zh)
    en.push(last.en)
  }
  return condition(key, 'inactivity', { zh: zh.join(';'), en: en.join('; ') }, {
    silenceMin: Math.floor(silence / MINUTE),
    silentSince: from,
    lastActivityAt: state.lastActivityAt,
    lastActivityRoom: state.lastActivityRoom,
  })
}

/** Silence counts from the latest activity, but never from before we could observe. */
function silenceFrom(state: PresenceState, ctx: EvalContext, devices: Device[]): number {
  return Math.max(state.lastActivityAt ?? -Infinity, observableFrom(ctx, devices))
}

// ── morning check ─────────────────────────────────────────────────────────────

function evaluateMorningCheck(state: PresenceState, ctx: EvalContext, devices: Device[]): Evaluation {
  const key = 'morning_check'
  if (ctx.now >= staleFrom(state, ctx, devices)) return { key, status: 'unknown' }
  const p = ctx.settings.presence
  const tz = ctx.settings.timeZone
  // The latest check decides until the next one: a morning without activity stays raised
  // past midnight until someone moves, and activity at 00:40 does not cover the next morning.
  const check = latestMorningCheck(ctx.now, tz, p.morningCheckAt, p.morningWindowFrom)
  const couldObserveMorning = observableFrom(ctx, devices) <= check.windowFrom
  const activeThisMorning = state.lastActivityAt !== null && state.lastActivityAt >= check.windowFrom
  if (!couldObserveMorning || activeThisMorning) return { key, status: 'false' }

  const at = formatLocalTime(check.checkAt, tz)
  const from = formatLocalTime(check.windowFrom, tz)
  return condition(
    key,
    'morning_check',
    { zh: `${at} 前无活动(自 ${from} 起)`, en: `No activity by ${at} (since ${from})` },
    { checkAt: check.checkAt, windowFrom: check.windowFrom, lastActivityAt: state.lastActivityAt },
  )
}

/** The latest morning check at or before `now`, and where its window of activity begins. */
function latestMorningCheck(now: number, tz: string, checkAt: string, windowFrom: string): { checkAt: number; windowFrom: number } {
  const today = startOfLocalDay(now, tz)
  const day = atLocalTime(today, checkAt) <= now ? today : startOfLocalDay(today - 1, tz)
  // A window start at or after the check time (odd, but configurable) belongs to the day before.
  const windowDay = minutesOf(windowFrom) < minutesOf(checkAt) ? day : startOfLocalDay(day - 1, tz)
  return { checkAt: atLocalTime(day, checkAt), windowFrom: atLocalTime(windowDay, windowFrom) }
}

function nextMorningCheck(now: number, tz: string, checkAt: string): number {
  const today = startOfLocalDay(now, tz)
  const check = atLocalTime(today, checkAt)
  if (check > now) return check
  // 30 h past midnight is inside tomorrow even on a 23 h or 25 h daylight-saving day.
  return atLocalTime(startOfLocalDay(today + 30 * HOUR, tz), checkAt)
}

// ── bathroom dwell ────────────────────────────────────────────────────────────

interface BathroomSensor {
  deviceId: string
  staleFrom: number
  /** Start of the occupancy we count, clipped to the start of observation; null when unoccupied. */
  dwellFrom: number | null
}

function evaluateBathroomDwell(state: PresenceState, ctx: EvalContext, devices: Device[]): Evaluation {
  const key = 'bathroom_dwell'
  const limit = ctx.settings.presence.bathroomDwellMin * MINUTE
  const sensors = bathroomSensors(state, ctx, devices)
  const fresh = sensors.filter((b) => ctx.now < b.staleFrom)
  const dwelling = fresh
    .filter((b): b is BathroomSensor & { dwellFrom: number } => b.dwellFrom !== null && ctx.now - b.dwellFrom > limit)
    .sort((a, b) => a.dwellFrom - b.dwellFrom)[0]
  if (dwelling) {
    const minutes = Math.floor((ctx.now - dwelling.dwellFrom) / MINUTE)
    const since = formatLocalTime(dwelling.dwellFrom, ctx.settings.timeZone)
    return condition(
      key,
      'bathroom_dwell',
      { zh: `卫生间持续有人 ${minutes} 分钟(自 ${since} 起)`, en: `Bathroom occupied for ${minutes} min without a break (since ${since})` },
      { deviceId: dwelling.deviceId, occupiedSince: dwelling.dwellFrom, dwellMin: minutes },
    )
  }
  // A silent bathroom sensor could be hiding a fall: we cannot say "false".
  if (fresh.length < sensors.length) return { key, status: 'unknown' }
  return { key, status: 'false' }
}

function bathroomSensors(state: PresenceState, ctx: EvalContext, devices: Device[]): BathroomSensor[] {
  const staleAfter = ctx.settings.presence.staleAfterMin * MINUTE
  return devices
    .filter(([id, d]) => (d.room ?? state.sensors[id]?.room) === 'bathroom')
    .map(([id, d]) => {
      const sensor = state.sensors[id]
      const watchedFrom = Math.max(ctx.observedFrom, d.registeredAt)
      return {
        deviceId: id,
        staleFrom: Math.max(sensor?.at ?? -Infinity, watchedFrom) + staleAfter + 1,
        dwellFrom: sensor?.occupiedSince != null ? Math.max(sensor.occupiedSince, ctx.observedFrom) : null,
      }
    })
}

// ── shared ────────────────────────────────────────────────────────────────────

type Device = [id: string, info: DeviceInfo]

// These run at every step of every household: loops, not arrays built to be reduced.

function presenceDevices(ctx: EvalContext): Device[] {
  const out: Device[] = []
  for (const id in ctx.devices) if (ctx.devices[id]!.kind === 'presence') out.push([id, ctx.devices[id]!])
  return out
}

/** Observation needs both a trustworthy period and a sensor: the first one registered. */
function observableFrom(ctx: EvalContext, devices: Device[]): number {
  let firstRegistered = Infinity
  for (const [, d] of devices) firstRegistered = Math.min(firstRegistered, d.registeredAt)
  return Math.max(ctx.observedFrom, firstRegistered)
}

/** From this instant no presence sensor has reported within staleAfterMin: the data is missing. */
function staleFrom(state: PresenceState, ctx: EvalContext, devices: Device[]): number {
  let lastReport = -Infinity
  for (const [id] of devices) lastReport = Math.max(lastReport, state.sensors[id]?.at ?? -Infinity)
  return Math.max(lastReport, observableFrom(ctx, devices)) + ctx.settings.presence.staleAfterMin * MINUTE + 1
}

function lastActivityText(at: number, room: string | null, tz: string): { zh: string; en: string } {
  const time = formatLocalTime(at, tz)
  if (room === null) return { zh: `最近一次活动 ${time}`, en: `last activity ${time}` }
  return { zh: `最近一次活动 ${time} ${ROOM_ZH[room] ?? room}`, en: `last activity ${time} in the ${ROOM_EN[room] ?? room}` }
}

/** Hours with at most one decimal: "12", "12.5". */
function formatHours(ms: number): string {
  return String(Math.round(ms / (HOUR / 10)) / 10)
}

function condition(key: string, kind: Condition['kind'], explanation: Condition['explanation'], data: Condition['data']): Evaluation {
  return { key, status: 'true', condition: { key, kind, explanation, data } }
}
