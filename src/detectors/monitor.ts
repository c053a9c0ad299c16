/**
 * A household's monitor, pure: `step(state, input, now, settings) → { state, findings, nextCheckAt }`.
 * Each detector reduces its inputs and evaluates its conditions; the monitor applies away mode,
 * and turns changes of conditions into findings: raised when one becomes true, cleared when it
 * becomes false, nothing when it is unknown (missing data is never a finding of its own kind).
 */
import { applyOperatorSettled, applyFamilyAnswer, applyRegister, applySign, applyStillLost, evaluateActivity, initialActivity, progressCheck, type ActivityState, type ActivityView, type CheckRequest } from './activity.js'
import { MINUTE, PIR_HOLD_MS, soonest, type DeviceInfo, type EvalContext } from './context.js'
import { applyDoorReading, doorMoved, evaluateDoor, initialDoorState, nextDoorCheck, type DoorState } from './door.js'
import { applyDeviceSeen, evaluateHealth, forgetDevice, initialHealthState, nextHealthCheck, offlineAllowanceMs, type HealthState } from './health.js'
import { formatLocalTime } from './local-time.js'
import { ROOM_ZH } from './names.js'
import { SUPPRESSED_WHEN_AWAY, type Condition, type ConditionKind, type Evaluation, type Finding, type MonitorInput } from './model.js'
import { applyPresenceReading, evaluatePresence, initialPresenceState, nextPresenceCheck, type PresenceState } from './presence.js'
import type { DetectorSettings } from './settings.js'
import { applyMeterLost, applyWaterReading, evaluateWater, initialWaterState, nextWaterCheck, type WaterState } from './water.js'

export interface MonitorState {
  householdId: string
  monitoringSince: number
  awayUntil: number | null
  /** When the last away period ended: rules do not look back before it. */
  awayEndedAt: number | null
  devices: Record<string, DeviceInfo>
  water: WaterState
  presence: PresenceState
  door: DoorState
  health: HealthState
  /** Signs of life, the learned rhythm and the question about the current spell; absent in states saved before them. */
  activity?: ActivityState
  /** Conditions raised and not yet cleared. */
  active: Record<string, Condition>
  /**
   * When water, presence or door rules may next change on their own: kept so that a device's
   * heartbeat (four messages in five) re-evaluates device health only.
   */
  otherNextAt?: number | null
}

export interface StepResult {
  state: MonitorState
  findings: Finding[]
  /** Questions to put before anyone is alerted: check-ins on the button, the family. */
  requests: CheckRequest[]
  nextCheckAt: number | null
}

export function newMonitor(householdId: string, now: number): MonitorState {
  return {
    householdId,
    monitoringSince: now,
    awayUntil: null,
    awayEndedAt: null,
    devices: {},
    water: initialWaterState(),
    presence: initialPresenceState(),
    door: initialDoorState(),
    health: initialHealthState(),
    activity: initialActivity(),
    active: {},
  }
}

export function step(state: MonitorState, input: MonitorInput, now: number, settings: DetectorSettings, runningSince?: number): StepResult {
  const current = endAwayIfOver(state, now)
  if (input.type === 'seen' && input.online !== false && input.caps === undefined && current === state && canSkipOthers(state, now)) {
    return healthOnly(state, input, now, settings, runningSince)
  }
  const s = reduce(current, input, now, settings, runningSince)
  const ctx = context(s, now, settings, runningSince)
  const away = s.awayUntil !== null
  const view = activityView(s, ctx)
  // Away (hospital, with the family): nothing is asked; the question about a spell begun before is dropped.
  const progressed = away ? { state: { ...activityOf(s), check: null }, requests: [], nextAt: null } : progressCheck(activityOf(s), s.householdId, view, ctx)
  // In adaptive mode the rules the rhythm replaces are not evaluated at all: they are said 'false'.
  const replaced = settings.mode === 'adaptive' ? REPLACED_BY_RHYTHM : undefined
  const evaluations = [
    ...evaluateWater(s.water, ctx, replaced),
    ...evaluatePresence(s.presence, ctx, replaced),
    ...evaluateDoor(s.door, s.presence, ctx),
    // With nothing active, a 'false' changes nothing (diff): device health says only what holds.
    ...evaluateHealth(s.health, ctx, isEmpty(s.active)),
    ...evaluateActivity(progressed.state, view, ctx),
  ]
  const { active, findings } = diff(s, evaluations, away, now, settings.timeZone, anyKey)
  const otherNextAt = earliest([nextWaterCheck(s.water, ctx), nextPresenceCheck(s.presence, ctx), nextDoorCheck(s.door, s.presence, ctx), progressed.nextAt], now)
  const next = withParts(s, { activity: progressed.state, active, otherNextAt })
  return { state: next, findings, requests: progressed.requests, nextCheckAt: earliest([otherNextAt, nextHealthCheck(s.health, ctx), s.awayUntil], now) }
}

/** The fixed rules a household's learned rhythm replaces in adaptive mode (docs/detection.md). */
const REPLACED_BY_RHYTHM: ReadonlySet<string> = new Set(['no_water', 'no_water_day', 'inactivity', 'morning_check', 'bathroom_dwell'])

function activityOf(s: MonitorState): ActivityState {
  return s.activity ?? initialActivity()
}

/** What the devices can tell about the elder now: who is watching, whether a radar sees someone, whether there is a door. */
function activityView(s: MonitorState, ctx: EvalContext): ActivityView {
  let presenceSensors = 0
  let freshPresence = 0
  let occupiedNow = false
  let bathroomOccupied = false
  let bathroomRadar = false
  let doorWatchedSince: number | null = null
  let bedroom = false
  let bedroomRadar = false
  let bathroomSensor = false
  let bathroomRadarSees = false
  const radarRooms: string[] = []
  const radarOccupiedSince: Record<string, number> = {}
  const staleAfter = ctx.settings.presence.staleAfterMin * MINUTE
  const radars = s.activity?.radars ?? {}
  for (const id in s.devices) {
    const d = s.devices[id]!
    if (d.kind === 'door') {
      // A contact that is silent now, or was away since, may have missed her going out.
      const h = s.health.devices[id]
      if (h && h.online && h.lastSeenAt !== null && ctx.now - h.lastSeenAt <= offlineAllowanceMs(d, ctx.settings)) {
        const since = h.backAt ?? d.registeredAt
        doorWatchedSince = doorWatchedSince === null ? since : Math.min(doorWatchedSince, since)
      }
    }
    if (d.kind !== 'presence') continue
    presenceSensors++
    // Any sensor in the bedroom sees her go to bed: a PIR may not see the bed, but it sees the way in.
    // A radar sees her in bed too, and her coming back to it.
    if (d.room === 'bedroom') {
      bedroom = true
      if (radars[id]) bedroomRadar = true
    }
    if (d.room === 'bathroom') {
      bathroomSensor = true
      if (radars[id]) bathroomRadarSees = true
    }
    const sensor = s.presence.sensors[id]
    if (!sensor || ctx.now - sensor.at > staleAfter) continue
    freshPresence++
    const room = d.room ?? sensor.room
    if (radars[id] && room !== null) {
      radarRooms.push(room)
      if (sensor.occupied && sensor.occupiedSince !== null) radarOccupiedSince[room] = Math.min(radarOccupiedSince[room] ?? Infinity, sensor.occupiedSince)
    }
    if (sensor.occupied && room !== 'entrance') occupiedNow = true
    if (room === 'bathroom') {
      if (sensor.occupied) bathroomOccupied = true
      if (radars[id]) bathroomRadar = true
    }
  }
  let freshMeter = false
  for (const id in s.water.meters) if (ctx.now - s.water.meters[id]!.at <= ctx.settings.water.staleAfterMin * MINUTE) freshMeter = true
  return { presenceSensors, freshPresence, occupiedNow, bathroomOccupied, bathroomRadar, radarRooms, radarOccupiedSince, freshMeter, doorWatchedSince, doorOpenedAt: s.door.lastOpenedAt, sees: { bedroom, bedroomRadar, bathroom: bathroomSensor, bathroomRadar: bathroomRadarSees } }
}

const isHealthKey = (key: string) => key.startsWith('device_offline:') || key.startsWith('device_not_installed:') || key.startsWith('low_battery:')
const anyKey = () => true

/** A heartbeat changes only device health, unless another rule is already due. */
function canSkipOthers(s: MonitorState, now: number): boolean {
  return s.otherNextAt !== undefined && (s.otherNextAt === null || s.otherNextAt > now)
}

function healthOnly(state: MonitorState, input: Extract<MonitorInput, { type: 'seen' }>, now: number, settings: DetectorSettings, runningSince?: number): StepResult {
  const health = seenBy(state, input, settings)
  const s = withParts(state, { health })
  const ctx = context(s, now, settings, runningSince)
  const { active, findings } = diff(s, evaluateHealth(s.health, ctx, isEmpty(s.active)), s.awayUntil !== null, now, settings.timeZone, isHealthKey)
  const next = active === s.active ? s : withParts(s, { active })
  return { state: next, findings, requests: [], nextCheckAt: earliest([s.otherNextAt ?? null, nextHealthCheck(s.health, ctx), s.awayUntil], now) }
}

/** Every field of T, optional ones included (as possibly undefined): a literal of it misses none. */
type EveryField<T> = { [K in keyof Required<T>]: T[K] }

/**
 * `s` with the parts a step replaces. Written out field by field rather than spread: a spread of
 * these states takes the engine's slow path (each spread site makes shapes of its own, with most
 * fields out of line), and this runs for every message of every household (a heartbeat's step
 * costs about a fifth less). A field added to MonitorState must be added here (the type says so).
 */
function withParts(s: MonitorState, parts: Partial<Pick<MonitorState, 'water' | 'presence' | 'door' | 'health' | 'activity' | 'active' | 'otherNextAt'>>): MonitorState {
  const next: EveryField<MonitorState> = {
    householdId: s.householdId,
    monitoringSince: s.monitoringSince,
    awayUntil: s.awayUntil,
    awayEndedAt: s.awayEndedAt,
    devices: s.devices,
    water: parts.water ?? s.water,
    presence: parts.presence ?? s.presence,
    door: parts.door ?? s.door,
    health: parts.health ?? s.health,
    activity: parts.activity ?? s.activity,
    active: parts.active ?? s.active,
    // null is a value here (nothing due): only a part not given keeps the old one.
    otherNextAt: parts.otherNextAt === undefined ? s.otherNextAt : parts.otherNextAt,
  }
  return next
}

function earliest(times: (number | null)[], now: number): number | null {
  let min: number | null = null
  for (const t of times) min = soonest(min, t, now)
  return min
}

function context(s: MonitorState, now: number, settings: DetectorSettings, runningSince?: number): EvalContext {
  return {
    now,
    settings,
    observedFrom: Math.max(s.monitoringSince, s.awayEndedAt ?? 0),
    devices: s.devices,
    ...(runningSince === undefined ? {} : { runningSince }),
  }
}

function endAwayIfOver(s: MonitorState, now: number): MonitorState {
  return s.awayUntil !== null && now >= s.awayUntil ? { ...s, awayEndedAt: s.awayUntil, awayUntil: null } : s
}

/** A message from a device: device health notes it, and whether it comes after a silence. */
function seenBy(s: MonitorState, input: Parameters<typeof applyDeviceSeen>[1], settings: DetectorSettings): HealthState {
  const info = s.devices[input.deviceId]
  return applyDeviceSeen(s.health, input, info ? offlineAllowanceMs(info, settings) : Infinity)
}

function reduce(s: MonitorState, input: MonitorInput, now: number, settings: DetectorSettings, runningSince?: number): MonitorState {
  const ctx = context(s, now, settings, runningSince)
  switch (input.type) {
    case 'water':
      return withParts(s, { water: applyWaterReading(s.water, input, ctx), activity: applyRegister(activityOf(s), input, ctx), health: seenBy(s, input, settings) })
    case 'presence': {
      const room = s.devices[input.deviceId]?.room ?? input.room
      // Movement is a sign of life. A PIR (no `motion`) is occupied only while it sees movement:
      // switching on is movement now; a repeat of "occupied" only says there was movement within
      // its hold time, and switching off that there was movement a hold time before, so both count
      // from that far back (a PIR still holding after she left by the door must not bring her back
      // in; one that held through her visit to the toilet shows her back in bed when it lets go).
      const pir = input.motion === undefined
      const wasOccupied = s.presence.sensors[input.deviceId]?.occupied === true
      const sign = pir ? (input.occupied ? (wasOccupied ? input.at - PIR_HOLD_MS : input.at) : wasOccupied ? input.at - PIR_HOLD_MS : null) : input.motion ? input.at : null
      // A radar letting go without movement ends a spell she was seen still in.
      const lost = input.motion === false && !input.occupied && wasOccupied
      let activity = sign !== null ? applySign(activityOf(s), sign, room, false, ctx) : lost ? applyStillLost(activityOf(s), input.at, room, ctx) : s.activity
      if (input.motion !== undefined && !activityOf(s).radars?.[input.deviceId]) activity = { ...activityOf({ ...s, activity }), radars: { ...activityOf(s).radars, [input.deviceId]: true } }
      return withParts(s, { presence: applyPresenceReading(s.presence, input, ctx), activity, health: seenBy(s, input, settings) })
    }
    case 'door': {
      // The door moving is a sign of her; a contact repeating its state is not.
      const activity = doorMoved(s.door, input) ? applySign(activityOf(s), input.at, 'entrance', true, ctx) : s.activity
      return withParts(s, { door: applyDoorReading(s.door, input, ctx), activity, health: seenBy(s, input, settings) })
    }
    case 'seen': {
      const activity = input.caps === undefined ? s.activity : { ...activityOf(s), caps: { ...activityOf(s).caps, [input.deviceId]: input.caps } }
      return {
        ...s,
        health: seenBy(s, input, settings),
        water: input.online === false ? applyMeterLost(s.water, input.deviceId) : s.water,
        activity,
      }
    }
    case 'checkin_ok':
      // A key pressed is a sign of life wherever the button hangs: at home.
      return { ...s, activity: applySign(activityOf(s), input.at, null, false, ctx), health: seenBy(s, input, settings) }
    case 'operator_settled':
      return { ...s, activity: applyOperatorSettled(activityOf(s), input.at) }
    case 'family_answer':
      return { ...s, activity: applyFamilyAnswer(activityOf(s), input.checkId, input.answer, input.at, ctx) }
    case 'family_reach':
      return activityOf(s).familyReachable === input.reachable ? s : { ...s, activity: { ...activityOf(s), familyReachable: input.reachable } }
    case 'device':
      return { ...s, devices: { ...s.devices, [input.deviceId]: { kind: input.kind, room: input.room, heartbeatS: input.heartbeatS, registeredAt: input.registeredAt } } }
    case 'device_removed': {
      const { [input.deviceId]: _gone, ...devices } = s.devices
      const activity = activityOf(s)
      const { [input.deviceId]: _caps, ...caps } = activity.caps
      const { [input.deviceId]: _register, ...registers } = activity.registers
      return { ...s, devices, health: forgetDevice(s.health, input.deviceId), activity: { ...activity, caps, registers } }
    }
    case 'away':
      if (input.until !== null && input.until > now) return { ...s, awayUntil: input.until }
      // Back home (or an end already past): observation starts afresh from now.
      return s.awayUntil !== null ? { ...s, awayUntil: null, awayEndedAt: now } : s
    case 'tick':
      return s
  }
}

const LAST_ACTIVITY_KINDS: ReadonlySet<ConditionKind> = new Set(['no_water', 'no_water_day', 'high_water', 'continuous_flow'])

/**
 * `inScope`: which active keys these evaluations speak for (an unevaluated one has cleared).
 * Runs on every reading of every household: the active set is copied only when it changes, and
 * keys are split only in away mode (most homes have nothing active, most of the time).
 */
function diff(s: MonitorState, evaluations: Evaluation[], away: boolean, now: number, timeZone: string, inScope: (key: string) => boolean) {
  // The copy, made at the first change (no closures here: this is the hottest loop of the detectors).
  let changed: Record<string, Condition> | null = null
  const findings: Finding[] = []
  // Nothing active: no key to look up. (A key built afresh, as `device_offline:…` is each step,
  // costs a string hash per lookup: most of this loop's time in a home with nothing to report.)
  const noneActive = isEmpty(s.active)
  for (const e of evaluations) {
    // Away mode holds suppressed conditions where they are: nothing new is raised, nothing cleared.
    if (away && SUPPRESSED_WHEN_AWAY.has(conditionKind(e.key))) continue
    const was = changed ? changed[e.key] : noneActive ? undefined : s.active[e.key]
    if (e.status === 'true') {
      const condition = withLastActivity(e.condition, s.presence, timeZone)
      if (!was) findings.push({ change: 'raised', householdId: s.householdId, condition, at: now })
      changed ??= { ...s.active }
      changed[e.key] = condition
    } else if (e.status === 'false' && was) {
      findings.push({ change: 'cleared', householdId: s.householdId, condition: was, at: now })
      changed ??= { ...s.active }
      delete changed[e.key]
    }
  }
  // A condition nobody evaluates any more (its device was removed) has cleared.
  let evaluated: Set<string> | undefined
  for (const key in s.active) {
    if (!inScope(key) || (changed && !(key in changed))) continue
    evaluated ??= new Set(evaluations.map((e) => e.key))
    if (!evaluated.has(key)) {
      findings.push({ change: 'cleared', householdId: s.householdId, condition: s.active[key]!, at: now })
      changed ??= { ...s.active }
      delete changed[key]
    }
  }
  return { active: changed ?? s.active, findings }
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false
  return true
}

/** `no_water`, `low_battery:btn-1` → the condition's kind. */
function conditionKind(key: string): ConditionKind {
  const colon = key.indexOf(':')
  return (colon < 0 ? key : key.slice(0, colon)) as ConditionKind
}

/** Water findings say when the elder was last seen moving: "…;最近一次活动 21:40 卧室". */
function withLastActivity(c: Condition, presence: PresenceState, timeZone: string): Condition {
  if (!LAST_ACTIVITY_KINDS.has(c.kind) || presence.lastActivityAt === null) return c
  const time = formatLocalTime(presence.lastActivityAt, timeZone)
  const room = presence.lastActivityRoom
  return {
    ...c,
    explanation: {
      zh: `${c.explanation.zh};最近一次活动 ${time}${room ? ' ' + (ROOM_ZH[room] ?? room) : ''}`,
      en: `${c.explanation.en}; last activity ${time}${room ? ' in the ' + room.replace('_', ' ') : ''}`,
    },
    data: { ...c.data, lastActivityAt: presence.lastActivityAt },
  }
}


