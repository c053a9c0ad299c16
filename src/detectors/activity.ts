/**
 * Signs of life and the quiet spells between them, pure. Every signal that only a living,
 * moving person makes counts: movement seen by a radar, a PIR turning occupied, water drawn
 * (the register grew), the entrance door, a key pressed on the button. A radar that says
 * "occupied" without movement does not (a still person, a ghost, or someone lying on the floor).
 *
 * A spell is the time since the latest sign. Where that sign was decides what the spell means
 * (docs/detection.md): after the door, the elder is out; after the bathroom, a bath or a fall;
 * elsewhere, at home. When a spell outlasts what this household's spells of that place and hour
 * reach (rhythm.ts), the detector does not alarm: it asks first — the 一键通 plays a check-in
 * prompt (contract v1.1 `checkin`), the family is asked through their link — and only a
 * question nobody answers becomes an incident, urgent when every sign says the elder is home.
 */
import { CHECKIN_CAP } from '../contract/payloads.js'
import type { EvalContext } from './context.js'
import { MINUTE, PIR_HOLD_MS } from './context.js'
import { formatLocalTime, localMinuteOfDay } from './local-time.js'
import { ROOM_EN, ROOM_ZH } from './names.js'
import type { Condition, Evaluation, Explanation } from './model.js'
import { inBedFromMinute, initialRhythm, learnSpell, thresholdFor, upByMinute, wakeBy, type Place, type Sees, type RhythmState, type Threshold } from './rhythm.js'
import type { DetectorSettings } from './settings.js'

export type FamilyAnswer = 'with_us' | 'phoned_safe' | 'not_with_us'

/** A question's id begins so: its notices in the outbox belong to no incident. */
export const QUESTION_ID_PREFIX = 'chk-'

/** A question the detector put, about one spell. */
export interface Check {
  id: string
  /** The spell it is about: the instant of the sign of life it began with. */
  spellFrom: number
  place: Place
  startedAt: number
  thresholdMin: number
  /** What the threshold rested on when the question was put (the explanation says so); absent in older states. */
  basis?: Pick<Threshold, 'source' | 'ownMin' | 'days'>
  stage: 'device' | 'family' | 'raised' | 'settled'
  /** Check-in commands sent to the button(s): their ids and when. */
  prompts: { id: string; at: number }[]
  familyAskedAt: number | null
  familyAnswer: { answer: FamilyAnswer; at: number } | null
  /** When the family, asked beside the button's later prompts, have had their time. */
  familyDeadline?: number
  /**
   * Raised as urgent (suspected_collapse): home for certain, or the family said she is not with
   * them, or a raise on weaker evidence (a visit task) that the spell has since outlasted twice over.
   */
  urgent: boolean
  /** When the current stage gives up waiting (device, family), asks again (settled) or turns urgent (raised). */
  deadline: number | null
}

export interface ActivityState {
  /** The latest sign of life, where it was, and what the spell after it means. */
  lastSignAt: number | null
  lastSignRoom: string | null
  place: Place
  /** The latest door event while no sign inside has followed it: what makes "out" out. */
  doorAt: number | null
  /** Each meter's latest register: water drawn between two readings is a sign of life. */
  registers: Record<string, { at: number; totalM3: number }>
  /** Capabilities each device declared (contract v1.1 `status.caps`). */
  caps: Record<string, string[]>
  /** Presence sensors that report `motion` (radars, which see a still person too); a PIR does not. Absent in older states. */
  radars?: Record<string, true>
  /** Whether the household has a family contact the platform can ask. */
  familyReachable: boolean
  rhythm: RhythmState
  check: Check | null
}

export interface CheckRequest {
  kind: 'device_checkin' | 'ask_family'
  householdId: string
  checkId: string
  /** device_checkin: the command id (the answer's `ref`), the devices, the wait. */
  commandId?: string
  deviceIds?: string[]
  timeoutS?: number
}

export function initialActivity(): ActivityState {
  return { lastSignAt: null, lastSignRoom: null, place: 'home', doorAt: null, registers: {}, caps: {}, familyReachable: false, rhythm: initialRhythm(), check: null }
}

// ── signs of life ─────────────────────────────────────────────────────────────

/** A sign of life at `at` in `room` (null: somewhere at home). Ends the spell before it, which the rhythm learns. */
export function applySign(state: ActivityState, at: number, room: string | null, door: boolean, ctx: EvalContext): ActivityState {
  if (state.lastSignAt !== null && at <= state.lastSignAt) return state
  if (at > ctx.now + 5 * MINUTE) return state // a device clock running ahead must not end every spell to come
  const place = placeOfSign(state, at, room, door, ctx)
  let rhythm = state.rhythm
  const spellFrom = state.lastSignAt
  // A spell is learned only when it was watched whole: not begun before observation (away mode, a
  // new household); a minute between a door's opening and closing is a passage, not an outing.
  if (spellFrom !== null && spellFrom >= ctx.observedFrom && !((state.place === 'out' || state.doorAt !== null) && at - spellFrom < PASSAGE_MS)) {
    const s = ctx.settings.rhythm
    const check = state.check?.spellFrom === spellFrom ? state.check : null
    // A spell our question cut short reached at least its length: learned longer, so the next one like it is asked later.
    const to = check && check.stage !== 'raised' ? spellFrom + (at - spellFrom) * s.answeredStretch : at
    rhythm = learnSpell(rhythm, state.place, spellFrom, to, ctx.settings.timeZone, s)
  }
  return {
    ...state,
    lastSignAt: at,
    lastSignRoom: door ? 'entrance' : room,
    place,
    doorAt: door ? at : null,
    rhythm,
    // The spell the question was about has ended: nothing to ask any more.
    check: null,
  }
}

/** A door's opening and closing within this are one passage through it. */
const PASSAGE_MS = 2 * MINUTE

/** Where a sign puts her (docs/detection.md §places). */
function placeOfSign(state: ActivityState, at: number, room: string | null, door: boolean, ctx: EvalContext): Place {
  if (door) {
    // The door's closing, moments after its opening, is the same passage, and means what it did.
    if (state.doorAt !== null && at - state.doorAt < PASSAGE_MS) return state.place
    // The door moving while she is out (no sign inside since the last passage) is her coming home:
    // a door contact cannot tell in from out; the spell before it can.
    return state.place === 'out' && state.doorAt !== null ? 'home' : 'out'
  }
  // Without a door contact, movement last seen in the entrance hall is the best sign of going out.
  if (room === 'entrance' && !hasDevice(ctx, 'door')) return 'out'
  return room === 'bathroom' ? 'bathroom' : room === 'bedroom' ? 'bedroom' : 'home'
}

/** Water drawn since the meter's previous reading is a sign of life; when within the interval is unknown, so its middle. */
export function applyRegister(state: ActivityState, r: { deviceId: string; at: number; totalM3: number; flowLpm?: number | undefined }, ctx: EvalContext): ActivityState {
  const prev = state.registers[r.deviceId]
  if (prev && r.at <= prev.at) return state
  const registers = { ...state.registers, [r.deviceId]: { at: r.at, totalM3: r.totalM3 } }
  const next = { ...state, registers }
  const flowing = r.flowLpm !== undefined && r.flowLpm > 0
  // A register that went back is a replaced meter, not water drawn; 1 L is a meter's resolution.
  const drew = prev !== undefined && r.totalM3 - prev.totalM3 >= 0.001
  if (!flowing && !drew) return next
  // Out of the door, water alone does not bring her home where a sensor would see her come in: a
  // washing machine or a refilling cistern runs on after she left.
  if (state.place === 'out' && state.doorAt !== null && hasDevice(ctx, 'presence')) return next
  const at = flowing || r.at - prev!.at <= 10 * MINUTE ? r.at : Math.round(prev!.at + (r.at - prev!.at) / 2)
  // Water drawn just after she was seen in the bathroom is the bath or the basin: the spell stays the bathroom's.
  const inBathroom = state.lastSignRoom === 'bathroom' && state.lastSignAt !== null && at - state.lastSignAt <= 15 * MINUTE
  return applySign(next, at, inBathroom ? 'bathroom' : null, false, ctx)
}

// ── what to do about the current spell ────────────────────────────────────────

export interface ActivityView {
  /** Presence sensors that reported within their stale allowance, and whether one of them says occupied. */
  freshPresence: number
  occupiedNow: boolean
  /** A bathroom sensor says someone is in there now; a fresh radar there (whose "empty" means nobody is). */
  bathroomOccupied: boolean
  bathroomRadar: boolean
  /** Rooms a fresh radar watches: where she would be seen even lying still. */
  radarRooms: string[]
  /** Rooms where a fresh radar says occupied now, and since when without a break. */
  radarOccupiedSince: Record<string, number>
  presenceSensors: number
  /** Whether any meter is fresh (reported within the water stale allowance). */
  freshMeter: boolean
  /**
   * Since when a door contact has been heard without a break (null: none is now): "no door event
   * since the spell began" means "did not go out" only if it was listening all along.
   */
  doorWatchedSince: number | null
  /** When the entrance door last opened. */
  doorOpenedAt: number | null
  sees: Sees
}

/**
 * Moves the question about the current spell along: starts it when the spell passes the
 * household's threshold, prompts the button again, turns to the family, raises. Returns the
 * requests to carry out (commands, questions) and the instant it next needs to look.
 */
export function progressCheck(state: ActivityState, householdId: string, view: ActivityView, ctx: EvalContext): { state: ActivityState; requests: CheckRequest[]; nextAt: number | null } {
  const s = ctx.settings.rhythm
  if (ctx.settings.mode !== 'adaptive') return { state: state.check ? { ...state, check: null } : state, requests: [], nextAt: null }
  const spellFrom = Math.max(state.lastSignAt ?? -Infinity, ctx.observedFrom)
  const watching = view.freshPresence > 0 || (view.presenceSensors === 0 && view.freshMeter)
  // Before any sign of life has been seen there is nothing to say where she went: the generous defaults.
  const observed = state.lastSignAt !== null && state.lastSignAt >= ctx.observedFrom
  const up = upAndAbout(state, view, spellFrom, ctx)
  const checkinDevices: string[] = []
  for (const id in state.caps) if (state.caps[id]!.includes(CHECKIN_CAP) && id in ctx.devices) checkinDevices.push(id)
  const q: Asking = { state, view, ctx, householdId, checkinDevices, requests: [] }
  let judged = judge(q, observed ? placeNow(state, view, up, ctx.now) : 'home', spellFrom, observed, up)
  // By the time she would be asked, nobody seen where she would be seen: most likely out.
  if (observed && judged.place !== 'out' && ctx.now >= spellFrom + judged.thresholdMin * MINUTE && unseen(state, view, up)) judged = judge(q, 'out', spellFrom, observed, up)
  const { place, maybeAsleep, threshold, thresholdMin } = judged
  // A bedroom radar that sees someone still: most likely her in bed, a nap or a lie-in, whatever the
  // spell's place says. Asked as a sleeper is (more prompts, the family beside the later ones),
  // though not later (docs/detection.md §asking before alerting).
  const sleeper = maybeAsleep || (place !== 'out' && view.radarOccupiedSince.bedroom !== undefined && !(view.bathroomRadar && view.bathroomOccupied))
  const dueAt = spellFrom + thresholdMin * MINUTE
  let check = state.check && state.check.spellFrom === spellFrom ? state.check : null

  if (check && check.deadline !== null && ctx.now >= check.deadline) {
    if (check.stage === 'device') {
      // Home for certain (a door contact that never opened, or a radar that sees someone) and awake: no one to ask but the operator.
      const operatorNext = check.place !== 'out' && atHomeKnown(state, view, check.spellFrom) && !sleeper
      const familyNext = !operatorNext && state.familyReachable && check.familyAskedAt === null
      if (check.familyAnswer?.answer === 'not_with_us') check = raise(q, check)
      else if (check.prompts.length < s.checkinAttempts + (sleeper ? s.asleepExtraAttempts : 0) && checkinDevices.length > 0) {
        // The family is asked beside the later prompts: a sleeper's prompts and their wait run side by side.
        const asking = familyNext && check.prompts.length >= s.familyAfterPrompts
        const asked = asking ? askFamily(q, check) : check
        check = prompt(q, { ...asked, stage: 'device', ...(asking ? { familyDeadline: asked.deadline! } : {}) })
      } else if (familyNext) check = askFamily(q, check)
      else if (check.familyAskedAt !== null && check.familyAnswer === null && (check.familyDeadline ?? 0) > ctx.now) check = { ...check, stage: 'family', deadline: check.familyDeadline! }
      else check = raise(q, check)
    } else if (check.stage === 'family') {
      check = raise(q, check)
    } else if (check.stage === 'raised') {
      check = { ...check, urgent: true, deadline: null }
    } else if (check.stage === 'settled') {
      // The family or an operator vouched for her; a spell that goes on a full threshold longer is asked about afresh.
      check = null
    }
  }
  if (!check && ctx.now >= dueAt && watching) {
    const fresh: Check = {
      id: `${QUESTION_ID_PREFIX}${spellFrom.toString(36)}-${ctx.now.toString(36)}`,
      spellFrom,
      place,
      startedAt: ctx.now,
      thresholdMin,
      basis: { source: threshold.source, ownMin: threshold.ownMin, days: threshold.days },
      stage: 'device',
      prompts: [],
      familyAskedAt: null,
      familyAnswer: null,
      urgent: false,
      deadline: null,
    }
    // Out of the door: the family knows best; the button is still asked, in case "out" is wrong.
    if (place === 'out') check = askFamily(q, checkinDevices.length > 0 ? prompt(q, fresh) : fresh)
    else if (checkinDevices.length > 0) check = prompt(q, fresh)
    else if (state.familyReachable) check = askFamily(q, fresh)
    else check = raise(q, fresh)
  }
  const nextAt = check ? check.deadline : ctx.now < dueAt ? dueAt : null
  // The spell is learned under the place it was judged by (a night-time bathroom spell turned bedroom).
  const placed = observed && place !== state.place ? { ...state, place } : state
  return { state: check === state.check && placed === state ? state : { ...placed, check }, requests: q.requests, nextAt }
}

/** What one call of progressCheck works with: module functions, not closures made per reading (they cost on every step). */
interface Asking {
  state: ActivityState
  view: ActivityView
  ctx: EvalContext
  householdId: string
  checkinDevices: string[]
  requests: CheckRequest[]
}

function judge(q: Asking, place: Place, spellFrom: number, observed: boolean, up: boolean): { place: Place; maybeAsleep: boolean; threshold: Threshold; thresholdMin: number } {
  const { state, view, ctx } = q
  const s = ctx.settings.rhythm
  const canAsk = q.checkinDevices.length > 0
  // Last seen in the bedroom, or in her night and not yet up: she may simply be asleep. A sleeper
  // misses a prompt more often, so she is asked more times, and the family before the operator.
  // Where no sensor watches the bedroom, a spell begun in the evening that reaches her night may be her going to bed.
  // A bathroom radar that sees her there, not moving, says she is not in bed, whatever the hour.
  const inBathroomSeen = place === 'bathroom' && view.bathroomRadar && view.bathroomOccupied
  const maybeAsleep = !inBathroomSeen && (place === 'bedroom' || (place !== 'out' && (!up || (place !== 'still' && !view.sees.bedroom && inHerNight(ctx.now, state, ctx)))))
  // A question costs more where it is less likely to be answered (a sleeper, a button that cannot
  // ask): asked at a rarer point of her spells (docs/detection.md §thresholds).
  const mayBeOut = place === 'out' || !atHomeKnown(state, view, spellFrom)
  const tail = s.tail * (maybeAsleep ? s.asleepTailFactor : 1) * (canAsk ? 1 : s.noCheckinTailFactor) * (mayBeOut ? s.mayBeOutTailFactor : 1)
  // No button to ask a sleeper: the first question would wake her family; it waits until she is due up.
  // With one, a late morning costs her a prompt, not her family's sleep: a shorter margin past her wake-up.
  const threshold = thresholdOf(state.rhythm, place, spellFrom, ctx, tail, canAsk ? s.checkinWakeMarginMin : s.wakeMarginMin, observed ? view.sees : undefined, maybeAsleep && !canAsk)
  // With no button to ask, the first question reaches a person: asked later still (by at most an hour).
  const thresholdMin = canAsk ? threshold.minutes : Math.round(threshold.minutes + Math.min(60, threshold.minutes * (s.noCheckinFactor - 1)))
  return { place, maybeAsleep, threshold, thresholdMin }
}

/**
 * thresholdFor, remembered for the rhythm it was read from: every reading of a spell asks the
 * same question of the same rhythm until the rhythm learns (a new object) or the question changes.
 */
const lastThreshold = new WeakMap<RhythmState, ThresholdAsked>()

interface ThresholdAsked {
  place: Place
  spellFrom: number
  tail: number
  wakeMarginMin: number
  nightByWake: boolean
  sees: Sees | undefined
  settings: DetectorSettings['rhythm']
  timeZone: string
  threshold: Threshold
}

function thresholdOf(rhythm: RhythmState, place: Place, spellFrom: number, ctx: EvalContext, tail: number, wakeMarginMin: number, sees: Sees | undefined, nightByWake: boolean): Threshold {
  const settings = ctx.settings.rhythm
  const timeZone = ctx.settings.timeZone
  const l = lastThreshold.get(rhythm)
  if (l && l.place === place && l.spellFrom === spellFrom && l.tail === tail && l.wakeMarginMin === wakeMarginMin && l.nightByWake === nightByWake && l.settings === settings && l.timeZone === timeZone && sameSees(l.sees, sees)) return l.threshold
  const threshold = thresholdFor(rhythm, place, spellFrom, timeZone, { ...settings, tail, wakeMarginMin }, sees, { nightByWake })
  lastThreshold.set(rhythm, { place, spellFrom, tail, wakeMarginMin, nightByWake, sees, settings, timeZone, threshold })
  return threshold
}

function sameSees(a: Sees | undefined, b: Sees | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.bedroom === b.bedroom && a.bedroomRadar === b.bedroomRadar && a.bathroom === b.bathroom && a.bathroomRadar === b.bathroomRadar
}

function prompt(q: Asking, c: Check): Check {
  const s = q.ctx.settings.rhythm
  const id = `ci-${c.startedAt.toString(36)}-${c.prompts.length + 1}`
  q.requests.push({ kind: 'device_checkin', householdId: q.householdId, checkId: c.id, commandId: id, deviceIds: q.checkinDevices, timeoutS: s.checkinTimeoutS })
  return { ...c, stage: 'device', prompts: [...c.prompts, { id, at: q.ctx.now }], deadline: q.ctx.now + s.checkinTimeoutS * 1000 }
}

/**
 * Home for certain: urgent now. Otherwise a visit task (she may be out, where no device sees
 * her), urgent if the spell goes on for a full threshold more.
 */
function raise(q: Asking, c: Check): Check {
  const urgent = c.place !== 'out' && atHomeKnown(q.state, q.view, c.spellFrom)
  // Out of a door that opened: a visit task, never an emergency. Seen by no device: urgent if it goes on a threshold more.
  return { ...c, stage: 'raised', urgent, deadline: urgent || (c.place === 'out' && q.state.doorAt !== null) ? null : q.ctx.now + c.thresholdMin * MINUTE }
}

function askFamily(q: Asking, c: Check): Check {
  const s = q.ctx.settings.rhythm
  q.requests.push({ kind: 'ask_family', householdId: q.householdId, checkId: c.id })
  const wait = (c.place === 'out' || !atHomeKnown(q.state, q.view, c.spellFrom) ? s.mayBeOutFamilyWaitMin : s.familyWaitMin) * MINUTE
  return { ...c, stage: 'family', familyAskedAt: q.ctx.now, deadline: q.ctx.now + wait }
}

/**
 * What the spell means now (docs/detection.md §places): where its sign was, unless what the
 * devices see since says otherwise. At night, where no sensor watches the bedroom, a spell is
 * most likely her in bed: the bedroom's night, not a bath's figures nor the living room's (where
 * one does, going back to bed is a sign of its own; only a radar sees her in bed after water
 * drawn, whose time an interval meter tells roughly). By day, a bathroom radar that sees nobody
 * says she left it. A radar that sees someone still keeps her where she is.
 */
function placeNow(state: ActivityState, view: ActivityView, up: boolean, now: number): Place {
  // `still` is a judgement, not where the sign was: it lasts only while the radar still sees her.
  const p = state.place === 'still' ? 'home' : state.place
  if (p === 'home' && stillInView(state, view)) return 'still'
  if (p === 'out' && stayingInView(view, state.doorAt, now)) return 'still'
  if (p === 'out' || p === 'bedroom' || view.occupiedNow) return p
  const room = state.lastSignRoom
  if (!up) return !view.sees.bedroom || (room === null && !view.sees.bedroomRadar) ? 'bedroom' : p
  return p === 'bathroom' && view.bathroomRadar ? 'home' : p
}

/**
 * A radar outside the bedroom and the bathroom has seen someone there without a break since the
 * spell began with her movement there (or with water drawn, or the button, while it already saw
 * her): she is in its view, still.
 */
function stillInView(state: ActivityState, view: ActivityView): boolean {
  if (state.lastSignAt === null) return false
  const room = state.lastSignRoom
  for (const [r, since] of Object.entries(view.radarOccupiedSince)) {
    if (r === 'bedroom' || r === 'bathroom' || r === 'entrance') continue
    if ((room === r || room === null) && since <= state.lastSignAt) return true
  }
  return false
}

/** Longer than a radar's ghost lasts after someone left its sight (docs/detection.md §places). */
const GHOST_MAX_MS = 2 * 60 * MINUTE

/**
 * Out of the door, yet a radar (outside the entrance) has seen someone present without a break for
 * longer than any ghost lasts, and the door closed longer ago than that: she did not go out (the
 * door let in a delivery), or came back in without the radar seeing her move. She is there, still.
 */
function stayingInView(view: ActivityView, doorAt: number | null, now: number): boolean {
  if (doorAt === null || now - doorAt < GHOST_MAX_MS) return false
  for (const [r, since] of Object.entries(view.radarOccupiedSince)) if (r !== 'entrance' && now - since >= GHOST_MAX_MS) return true
  return false
}

/**
 * The radar that saw her still let go without seeing her move: a ghost fading after she left its
 * sight, or she slipped out of it. The still spell ended there; her rhythm learns its length (a
 * radar's ghosts belong among her still spells, or they would be asked about), and the spell goes
 * on as one at home out of sight.
 */
export function applyStillLost(state: ActivityState, at: number, room: string | null, ctx: EvalContext): ActivityState {
  if (state.place !== 'still' || (state.lastSignRoom !== null && room !== state.lastSignRoom) || state.lastSignAt === null || state.lastSignAt < ctx.observedFrom || at <= state.lastSignAt) return state
  return { ...state, place: 'home', rhythm: learnSpell(state.rhythm, 'still', state.lastSignAt, at, ctx.settings.timeZone, ctx.settings.rhythm) }
}

/**
 * No door contact to say she stayed in; she was up, and left a room where a radar saw her; nobody
 * is seen now; and she would have been seen going to bed or to the bathroom: she went where no
 * device watches her, most likely out of the door. (After water drawn she may be in the kitchen.)
 */
function unseen(state: ActivityState, view: ActivityView, up: boolean): boolean {
  const room = state.lastSignRoom
  return up && !view.occupiedNow && room !== null && view.radarRooms.includes(room) && view.doorWatchedSince === null && view.sees.bedroom && view.sees.bathroom
}

/**
 * Whether the spell began with her up and about: outside her night, or in its morning part seen
 * by a sensor outside the bedroom (in the bathroom, only where a radar would have seen her back
 * in bed; water drawn may be a night's flush).
 */
function upAndAbout(state: ActivityState, view: ActivityView, spellFrom: number, ctx: EvalContext): boolean {
  if (!inHerNight(spellFrom, state, ctx)) return true
  const m = localMinuteOfDay(spellFrom, ctx.settings.timeZone)
  const room = state.lastSignRoom
  return m >= 5 * 60 && m < 12 * 60 && room !== null && room !== 'bedroom' && (room !== 'bathroom' || view.sees.bedroomRadar)
}

/**
 * An operator closed the incident about this spell as a false alarm or by phone: she is well.
 * Settled like a family's answer: asked about again only after another full threshold.
 */
export function applyOperatorSettled(state: ActivityState, at: number): ActivityState {
  const check = state.check
  if (!check || check.stage !== 'raised') return state
  return { ...state, check: { ...check, stage: 'settled', urgent: false, deadline: at + check.thresholdMin * MINUTE } }
}

/** The family's answer to the question about the current spell. */
export function applyFamilyAnswer(state: ActivityState, checkId: string, answer: FamilyAnswer, at: number, ctx: EvalContext): ActivityState {
  const check = state.check
  // A late answer still counts: a raised question the family settles clears its incident (an operator confirms).
  if (!check || check.id !== checkId || check.stage === 'settled' || check.familyAskedAt === null) return state
  const answered = { ...check, familyAnswer: { answer, at } }
  // "Not with us" says where she is not: no answer to wait for any more, but no more certain she is home.
  if (answer === 'not_with_us') return { ...state, check: check.stage === 'raised' ? answered : { ...answered, deadline: at } }
  // Safe by phone, or with the family (who set away mode): settled; asked again after another full threshold.
  return { ...state, check: { ...answered, stage: 'settled', deadline: at + check.thresholdMin * MINUTE } }
}

function hasDevice(ctx: EvalContext, kind: 'door' | 'presence'): boolean {
  for (const id in ctx.devices) if (ctx.devices[id]!.kind === kind) return true
  return false
}

/**
 * From her earliest usual bedtime (about 21:30 before it is known) until she is usually up (on
 * 97 % of her mornings; about 09:00 before they are known).
 */
function inHerNight(at: number, state: ActivityState, ctx: EvalContext): boolean {
  const m = localMinuteOfDay(at, ctx.settings.timeZone)
  const from = inBedFromMinute(state.rhythm, ctx.settings.rhythm)
  const until = Math.max(5 * 60, upByMinute(state.rhythm, ctx.settings.rhythm))
  return m < until || (from >= 12 * 60 && m >= from)
}

/**
 * How long before a reading's time the movement it reports may have been: a PIR's hold, or a
 * sensor's report of a change lost and told at its next periodic report.
 */
const SIGN_UNCERTAINTY_MS = PIR_HOLD_MS

/**
 * A radar sees someone not moving, or a door contact listening all along has not opened since the
 * spell began — nor just before it: a sensor turning on moments after the door may have been her
 * walk to the door, reported late (docs/detection.md §asking before alerting).
 */
function atHomeKnown(state: ActivityState, view: ActivityView, spellFrom: number): boolean {
  if (view.occupiedNow) return true
  const doorJustBefore = view.doorOpenedAt !== null && view.doorOpenedAt > spellFrom - SIGN_UNCERTAINTY_MS
  return view.doorWatchedSince !== null && view.doorWatchedSince <= spellFrom && state.place !== 'out' && !doorJustBefore
}

// ── conditions ────────────────────────────────────────────────────────────────

/**
 * `suspected_collapse` (urgent): a raised question about a spell at home, with the elder home for
 * certain or the family saying she is not with them. `unusual_inactivity`: raised, but she may be
 * out. `long_absence` (a visit task): out of the door past her usual outings, nobody vouching.
 */
export function evaluateActivity(state: ActivityState, view: ActivityView, ctx: EvalContext): Evaluation[] {
  const keys = ['suspected_collapse', 'unusual_inactivity', 'long_absence'] as const
  const check = state.check
  const raised = ctx.settings.mode === 'adaptive' && check !== null && check.stage === 'raised'
  if (!raised) return keys.map((key) => ({ key, status: 'false' as const }))
  const observed = state.lastSignAt !== null && state.lastSignAt >= ctx.observedFrom
  const threshold = check.basis ?? thresholdFor(state.rhythm, check.place, check.spellFrom, ctx.settings.timeZone, ctx.settings.rhythm, observed ? view.sees : undefined)
  // A weak raise that turned urgent keeps its visit task beside the urgent incident.
  const visit = check.place === 'out' ? 'long_absence' : 'unusual_inactivity'
  const kinds = new Set<string>(check.urgent ? ['suspected_collapse', ...(check.deadline === null && !atHomeKnown(state, view, check.spellFrom) && check.familyAnswer === null ? [visit] : [])] : [visit])
  const condition = (kind: (typeof keys)[number]): Condition => ({
    key: kind,
    kind,
    explanation: explain(state, check, threshold, view, ctx),
    data: {
      spellFrom: check.spellFrom,
      place: check.place,
      thresholdMin: check.thresholdMin,
      ownThresholdMin: threshold.ownMin,
      source: threshold.source,
      evidenceDays: threshold.days,
      prompts: check.prompts.length,
      firstPromptAt: check.prompts[0]?.at ?? null,
      familyAskedAt: check.familyAskedAt,
      familyAnswer: check.familyAnswer?.answer ?? null,
      lastActivityRoom: state.lastSignRoom,
      occupiedNow: view.occupiedNow,
    },
  })
  return keys.map((key) => (kinds.has(key) ? { key, status: 'true' as const, condition: condition(key) } : { key, status: 'false' as const }))
}


/** In the elder's own terms: what is usual for this household, what was seen, what was asked. */
function explain(state: ActivityState, check: Check, threshold: Pick<Threshold, 'source' | 'ownMin' | 'days'>, view: ActivityView, ctx: EvalContext): Explanation {
  const tz = ctx.settings.timeZone
  const t = (at: number) => formatLocalTime(at, tz)
  const hours = (ms: number) => String(Math.round(ms / (6 * MINUTE)) / 10)
  const usualH = hours(check.thresholdMin * MINUTE)
  const zh: string[] = []
  const en: string[] = []
  const startHour = Math.floor(localMinuteOfDay(check.spellFrom, tz) / 60)
  const wake = check.place !== 'out' && (startHour >= 19 || startHour < 5) ? wakeBy(state.rhythm, 0.95) : null
  const basis = threshold.source === 'defaults' ? { zh: '(新用户,按默认值)', en: ' (new household: defaults)' } : { zh: `(近 ${Math.round(threshold.days)} 天)`, en: ` (last ${Math.round(threshold.days)} days)` }
  if (wake) {
    const by = `${String(Math.floor(wake.minuteOfDay / 60)).padStart(2, '0')}:${String(wake.minuteOfDay % 60).padStart(2, '0')}`
    zh.push(`平时 ${by} 前起床(近 ${wake.mornings} 天 95%),今天 ${t(ctx.now)} 仍无活动`)
    en.push(`Usually up by ${by} (95% of the last ${wake.mornings} mornings); no activity yet at ${t(ctx.now)}`)
  } else if (check.place === 'out' && state.doorAt !== null) {
    zh.push(`${t(check.spellFrom)} 出门,至 ${t(ctx.now)} 未归;平时此时段外出不超过约 ${usualH} 小时${basis.zh}`)
    en.push(`Went out at ${t(check.spellFrom)}, not back by ${t(ctx.now)}; outings at this time usually end within about ${usualH} h${basis.en}`)
  } else if (check.place === 'out') {
    zh.push(`${t(check.spellFrom)} 起家中未见到人(没有门磁,可能已外出),至 ${t(ctx.now)} 仍未见;平时此时段外出不超过约 ${usualH} 小时${basis.zh}`)
    en.push(`Nobody seen at home since ${t(check.spellFrom)} (no door contact: she may be out), still nobody at ${t(ctx.now)}; outings at this time usually end within about ${usualH} h${basis.en}`)
  } else {
    const where = state.lastSignRoom ? ` ${ROOM_ZH[state.lastSignRoom] ?? state.lastSignRoom}` : ''
    const whereEn = state.lastSignRoom ? ` in the ${ROOM_EN[state.lastSignRoom] ?? state.lastSignRoom}` : ''
    zh.push(`平时此时段安静不超过约 ${usualH} 小时${basis.zh},今天自 ${t(check.spellFrom)}${where}起已 ${hours(ctx.now - check.spellFrom)} 小时无活动`)
    en.push(`Quiet spells at this time usually end within about ${usualH} h${basis.en}; no activity since ${t(check.spellFrom)}${whereEn}, ${hours(ctx.now - check.spellFrom)} h ago`)
  }
  if (view.occupiedNow) {
    zh.push('雷达显示有人但无动作')
    en.push('a radar sees someone who is not moving')
  }
  if (check.prompts.length > 0) {
    zh.push(`${check.prompts.map((p) => t(p.at)).join('、')} 设备问询${check.prompts.length > 1 ? ` ${check.prompts.length} 次` : ''}未应答`)
    en.push(`check-in on the button at ${check.prompts.map((p) => t(p.at)).join(', ')} not answered`)
  } else if (check.place !== 'out') {
    zh.push('设备不支持语音问询')
    en.push('the button cannot ask (no check-in)')
  }
  if (check.familyAskedAt !== null) {
    const a = check.familyAnswer?.answer
    zh.push(`${t(check.familyAskedAt)} 已询问家属,${a === 'not_with_us' ? '家属答复老人不在身边' : '未答复'}`)
    en.push(`family asked at ${t(check.familyAskedAt)}: ${a === 'not_with_us' ? 'the elder is not with them' : 'no answer'}`)
  }
  return { zh: zh.join(';'), en: en.join('; ') }
}
