/**
 * Door detector: entrance door contacts → door_idle (Putuo's 48 h visit task) and wandering
 * (the door opened at night and nobody is seen inside afterwards).
 *
 * Where each threshold falls (chosen once here, tested at the edge):
 * - door_idle raises when the door has not opened for ≥ idleMin (48 h exactly raises).
 * - wandering raises when ≥ wanderingAfterMin have passed since the night opening without
 *   activity inside; activity at the very instant of the opening does not count (it is the
 *   resident walking to the door).
 * - the night window is half-open, [nightFrom, nightTo): 23:00 is night, 05:00 is morning.
 *   It may cross midnight; nightFrom = nightTo means no night window at all.
 */
import type { DeviceInfo, EvalContext } from './context.js'
import { MINUTE, registeredOnly } from './context.js'
import type { Condition, Evaluation } from './model.js'
import type { PresenceState } from './presence.js'
import { formatLocalTime, localMinuteOfDay, minutesOf } from './local-time.js'

/** What one contact last said; one entry per registered door, so the state stays bounded. */
interface ContactState {
  /** Time of the contact's latest reading: a reading not after it is out of order. */
  at: number
  open: boolean
}

export interface DoorState {
  /** Latest opening of an entrance door. */
  lastOpenedAt: number | null
  /** Latest opening of an entrance door inside the night window: the only one wandering looks at. */
  lastNightOpenedAt: number | null
  contacts: Record<string, ContactState>
}

export function initialDoorState(): DoorState {
  return { lastOpenedAt: null, lastNightOpenedAt: null, contacts: {} }
}

/**
 * Whether a reading is the door moving (opened, or closed after opening), not the contact
 * repeating its state (as on reconnecting, docs/device-contract.md §5.3) nor a late reading.
 */
export function doorMoved(state: DoorState, reading: { deviceId: string; at: number; open: boolean }): boolean {
  const prev = state.contacts[reading.deviceId]
  if (prev && reading.at <= prev.at) return false
  return reading.open !== (prev?.open ?? false)
}

export function applyDoorReading(
  state: DoorState,
  reading: { deviceId: string; room: string | null; at: number; open: boolean },
  ctx: EvalContext,
): DoorState {
  const prev = state.contacts[reading.deviceId]
  if (prev && reading.at <= prev.at) return state

  // An open contact reporting "open" again is the same opening, not a new one.
  const opened = reading.open && doorMoved(state, reading) && isEntranceDoor(reading.deviceId, reading.room, ctx)
  const atNight = opened && inNightWindow(reading.at, ctx)
  return {
    lastOpenedAt: opened ? latest(state.lastOpenedAt, reading.at) : state.lastOpenedAt,
    lastNightOpenedAt: atNight ? latest(state.lastNightOpenedAt, reading.at) : state.lastNightOpenedAt,
    contacts: {
      ...registeredOnly(state.contacts, ctx),
      [reading.deviceId]: { at: reading.at, open: reading.open },
    },
  }
}

export function evaluateDoor(state: DoorState, presence: PresenceState, ctx: EvalContext): Evaluation[] {
  const doors = doorDevices(ctx)
  if (doors.length === 0) {
    return [
      { key: 'door_idle', status: 'false' },
      { key: 'wandering', status: 'false' },
    ]
  }
  return [evaluateDoorIdle(state, ctx, doors), evaluateWandering(state, presence, ctx)]
}

export function nextDoorCheck(state: DoorState, presence: PresenceState, ctx: EvalContext): number | null {
  const doors = doorDevices(ctx)
  if (doors.length === 0) return null
  const candidates = [idleFrom(state, ctx, doors) + ctx.settings.door.idleMin * MINUTE]
  const opening = unansweredNightOpening(state, presence, ctx)
  if (opening !== null) candidates.push(opening + ctx.settings.door.wanderingAfterMin * MINUTE)
  const future = candidates.filter((t) => t > ctx.now)
  return future.length > 0 ? Math.min(...future) : null
}

// ── door idle ─────────────────────────────────────────────────────────────────

function evaluateDoorIdle(state: DoorState, ctx: EvalContext, doors: Device[]): Evaluation {
  const key = 'door_idle'
  const from = idleFrom(state, ctx, doors)
  const idle = ctx.now - from
  if (idle < ctx.settings.door.idleMin * MINUTE) return { key, status: 'false' }

  const tz = ctx.settings.timeZone
  const hours = Math.floor(idle / (60 * MINUTE))
  const since = formatLocalTime(from, tz)
  const openedBefore = state.lastOpenedAt !== null && state.lastOpenedAt >= from
  const explanation = openedBefore
    ? { zh: `入户门已 ${hours} 小时未打开;上次打开 ${since}`, en: `Entrance door not opened for ${hours} h; last opened at ${since}` }
    : { zh: `入户门已 ${hours} 小时未打开(自 ${since} 开始观察)`, en: `Entrance door not opened for ${hours} h since observation began at ${since}` }
  return condition(key, 'door_idle', explanation, { idleHours: hours, idleSince: from, lastOpenedAt: state.lastOpenedAt })
}

/** The door's silence counts from its latest opening, but never from before we could observe. */
function idleFrom(state: DoorState, ctx: EvalContext, doors: Device[]): number {
  let firstRegistered = Infinity
  for (const [, d] of doors) firstRegistered = Math.min(firstRegistered, d.registeredAt)
  return Math.max(state.lastOpenedAt ?? -Infinity, ctx.observedFrom, firstRegistered)
}

// ── wandering ─────────────────────────────────────────────────────────────────

function evaluateWandering(state: DoorState, presence: PresenceState, ctx: EvalContext): Evaluation {
  const key = 'wandering'
  const opening = unansweredNightOpening(state, presence, ctx)
  if (opening === null) return { key, status: 'false' }
  if (ctx.now - opening < ctx.settings.door.wanderingAfterMin * MINUTE) return { key, status: 'false' }

  const minutes = Math.floor((ctx.now - opening) / MINUTE)

  const at = formatLocalTime(opening, ctx.settings.timeZone)
  return condition(
    key,
    'wandering',
    {
      zh: `夜间 ${at} 入户门打开,此后 ${minutes} 分钟室内无活动`,
      en: `Entrance door opened at ${at} at night; no activity inside for ${minutes} min since`,
    },
    { openedAt: opening, minutesSince: minutes, lastActivityAt: presence.lastActivityAt, lastInsideActivityAt: presence.lastInsideActivityAt ?? null },
  )
}

/**
 * The latest night opening that no activity inside has followed yet, or null. Without a
 * presence sensor we cannot tell a walk-out from a late visitor, so there is nothing to answer.
 * Movement in the entrance is the resident walking out as much as coming back, so it answers
 * only in a home whose sensors are all in the entrance.
 */
function unansweredNightOpening(state: DoorState, presence: PresenceState, ctx: EvalContext): number | null {
  const opening = state.lastNightOpenedAt
  if (opening === null || opening < ctx.observedFrom) return null
  const sensors = Object.values(ctx.devices).filter((d) => d.kind === 'presence')
  if (sensors.length === 0) return null
  const seesInside = sensors.some((d) => d.room !== 'entrance') && presence.lastInsideActivityAt !== undefined
  const back = seesInside ? (presence.lastInsideActivityAt ?? null) : presence.lastActivityAt
  if (back !== null && back > opening) return null
  return opening
}

function inNightWindow(at: number, ctx: EvalContext): boolean {
  const minute = localMinuteOfDay(at, ctx.settings.timeZone)
  const from = minutesOf(ctx.settings.door.nightFrom)
  const to = minutesOf(ctx.settings.door.nightTo)
  return from < to ? minute >= from && minute < to : from > to && (minute >= from || minute < to)
}

// ── shared ────────────────────────────────────────────────────────────────────

type Device = [id: string, info: DeviceInfo]

/** Runs at every step of every household: a loop, not entries of every device filtered. */
function doorDevices(ctx: EvalContext): Device[] {
  const out: Device[] = []
  for (const id in ctx.devices) if (ctx.devices[id]!.kind === 'door') out.push([id, ctx.devices[id]!])
  return out
}

/** The door marked 'entrance'; a household that marked none has only entrance doors (a flat's one door). */
function isEntranceDoor(deviceId: string, room: string | null, ctx: EvalContext): boolean {
  if ((ctx.devices[deviceId]?.room ?? room) === 'entrance') return true
  return !doorDevices(ctx).some(([, d]) => d.room === 'entrance')
}

function latest(a: number | null, b: number): number {
  return a === null ? b : Math.max(a, b)
}

function condition(key: string, kind: Condition['kind'], explanation: Condition['explanation'], data: Condition['data']): Evaluation {
  return { key, status: 'true', condition: { key, kind, explanation, data } }
}
