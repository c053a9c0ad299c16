/**
 * A household's rhythm, learned online and pure: how long this elder's quiet spells last, by
 * where the spell began (a room of the home, the bathroom, or out of the door) and the local
 * hour it began at. A quiet spell is the time between two signs of life (activity.ts); its
 * length goes into a histogram of its context, old evidence fading with a half-life of about a
 * month, so a changed routine is followed within weeks.
 *
 * The threshold for a spell is where this household's own spells of that context almost never
 * reach (docs/detection.md §thresholds): the (1 − tail) quantile of the histogram, pooled with the
 * neighbouring hours, times a margin. A new household starts on the city-like defaults of
 * `priorThresholdMin` and moves to its own figures as its spells of each context accrue.
 *
 * Bounded: 5 places × 24 hours × 23 bins of counts at most, plus a wake-time histogram of 60
 * ten-minute slots (03:00–13:00): a few kilobytes of JSON whatever the age of the household.
 */
import { MINUTE } from './context.js'
import { localMinuteOfDay, startOfLocalDay } from './local-time.js'

/**
 * Where the sign that began a spell was: the bedroom (sleep, a nap), the bathroom (a bath, or a
 * fall), elsewhere at home, or out of the door. A spell that begins in the living room at 21:30
 * ends within minutes in a home whose bedroom a sensor sees; the same spell from the bedroom
 * lasts the night. `still`: elsewhere at home, with a radar seeing her there, present and not
 * moving, ever since (an armchair, the kitchen table): her spells in view end with her next small
 * movement, far sooner than her spells out of every sensor's sight (docs/detection.md §places).
 */
export const PLACES = ['home', 'bedroom', 'bathroom', 'out', 'still'] as const
export type Place = (typeof PLACES)[number]

/** Upper edges (minutes) of the spell-length bins; the last bin is open. */
export const BIN_EDGES_MIN = [10, 20, 30, 45, 60, 75, 90, 105, 120, 150, 180, 210, 240, 300, 360, 420, 480, 540, 600, 720, 900, 1200] as const
const BINS = BIN_EDGES_MIN.length + 1

/** Wake-up slots: ten minutes each from 03:00 to 13:00 local. */
const WAKE_FROM_MIN = 3 * 60
const WAKE_SLOT_MIN = 10
const WAKE_SLOTS = 60
/** Bedtime slots: half an hour each from 18:00 to 04:00 local. */
const BED_FROM_MIN = 18 * 60
const BED_SLOT_MIN = 30
const BED_SLOTS = 20
/** A bedtime is the start of an evening's first quiet spell this long: a night's first sleep, whatever toilet visits split it later. */
const BED_SPELL_MIN = 120
/**
 * ...that runs on into the night: ends at 23:00 or later, or lasts four hours. An evening still in
 * the armchair, which a PIR does not see, ends before; taken for her bedtime it began her night
 * hours early, and an evening collapse waited for the morning.
 */
const BED_ENDS_FROM_MIN = 23 * 60
const BED_LONG_SPELL_MIN = 240

export interface RhythmSettings {
  /** Share of this household's spells of a context allowed past the threshold (before the margin). */
  tail: number
  /** The threshold is the quantile times this. */
  margin: number
  /** How many spells as long as the default figure the defaults count as. */
  priorSpells: number
  /** Evidence half-life in days. */
  halfLifeDays: number
  /** Never ask sooner than this, whatever the household's figures. */
  minThresholdMin: number
  /** A night at home ends by the time this elder is up on this share of mornings, plus the margin. */
  wakeShare: number
  wakeMarginMin: number
  /** How many of her mornings (and evenings) the defaults' 10:00 wake-up (and 22:00 bedtime) weigh as. */
  priorMornings: number
  /** How many days of her own evidence it takes to trust her figures half way. */
  priorDays: number
  /** She may be in bed from her `bedShare` earliest bedtimes, less this. */
  bedShare: number
  bedMarginMin: number
}

export interface RhythmState {
  /** `${place}:${hour}` → counts per bin (faded); only contexts ever seen are kept. */
  spells: Record<string, number[]>
  /** Counts per wake-up slot (faded). */
  wake: number[]
  /** Counts per bedtime slot (faded), and the local day of the evening last counted; absent in older states. */
  bed?: number[]
  bedEvening?: number | null
  /** Local days with any sign of life: the weight of the household's own evidence. */
  days: number
  /** Local midnight of the latest day counted (and faded to). */
  dayStart: number | null
}

export function initialRhythm(): RhythmState {
  return { spells: {}, wake: new Array<number>(WAKE_SLOTS).fill(0), bed: new Array<number>(BED_SLOTS).fill(0), bedEvening: null, days: 0, dayStart: null }
}

const contextKey = (place: Place, hour: number) => `${place}:${hour}`

function binOf(minutes: number): number {
  for (let i = 0; i < BIN_EDGES_MIN.length; i++) if (minutes < BIN_EDGES_MIN[i]!) return i
  return BIN_EDGES_MIN.length
}

/**
 * A quiet spell that ended: `from` (the sign of life that began it, in `place`) to `to`.
 * `weight` < 1 or a stretched length are for spells cut short by a check-in (activity.ts).
 */
export function learnSpell(state: RhythmState, place: Place, from: number, to: number, timeZone: string, s: RhythmSettings): RhythmState {
  if (!(to > from)) return state
  const faded = fadeTo(state, to, timeZone, s)
  const startMin = localMinuteOfDay(from, timeZone)
  const startHour = Math.floor(startMin / 60)
  const key = contextKey(place, startHour)
  const counts = faded.spells[key]?.slice() ?? new Array<number>(BINS).fill(0)
  const bin = binOf((to - from) / MINUTE)
  counts[bin] = round3(counts[bin]! + 1)
  let wake = faded.wake
  // A night's sleep ending: a long home spell that began in the evening or night and ends in the morning.
  const endMin = localMinuteOfDay(to, timeZone)
  if (place !== 'out' && to - from >= 3 * 60 * MINUTE && (startHour >= 19 || startHour < 5) && endMin >= WAKE_FROM_MIN && endMin < WAKE_FROM_MIN + WAKE_SLOTS * WAKE_SLOT_MIN) {
    wake = wake.slice()
    const slot = Math.floor((endMin - WAKE_FROM_MIN) / WAKE_SLOT_MIN)
    wake[slot] = round3(wake[slot]! + 1)
  }
  let { bed, bedEvening } = faded
  const bedSlot = Math.floor((startMin - BED_FROM_MIN + 24 * 60) % (24 * 60) / BED_SLOT_MIN)
  const intoTheNight = endMin >= BED_ENDS_FROM_MIN || endMin < 12 * 60 || to - from >= BED_LONG_SPELL_MIN * MINUTE
  if (place !== 'out' && to - from >= BED_SPELL_MIN * MINUTE && intoTheNight && bedSlot < BED_SLOTS) {
    // The evening it belongs to: a spell begun at 00:30 is the night of the day before.
    const evening = startOfLocalDay(from - 6 * 60 * MINUTE, timeZone)
    if (evening !== bedEvening) {
      bed = (bed ?? new Array<number>(BED_SLOTS).fill(0)).slice()
      bed[bedSlot] = round3(bed[bedSlot]! + 1)
      bedEvening = evening
    }
  }
  return { ...faded, spells: { ...faded.spells, [key]: counts }, wake, bed, bedEvening }
}

/** Counts a day of evidence and fades old counts when a new local day begins. */
export function fadeTo(state: RhythmState, at: number, timeZone: string, s: RhythmSettings): RhythmState {
  const day = startOfLocalDay(at, timeZone)
  if (state.dayStart === null) return { ...state, dayStart: day, days: state.days + 1 }
  if (day <= state.dayStart) return state
  const elapsedDays = Math.round((day - state.dayStart) / (24 * 60 * MINUTE))
  const factor = Math.pow(0.5, elapsedDays / s.halfLifeDays)
  const spells: Record<string, number[]> = {}
  for (const [key, counts] of Object.entries(state.spells)) {
    const kept = counts.map((c) => round3(c * factor))
    // A context whose evidence has faded to almost nothing is forgotten (keeps the state small).
    if (kept.some((c) => c >= 0.05)) spells[key] = kept
  }
  return { ...state, spells, wake: state.wake.map((c) => round3(c * factor)), bed: state.bed?.map((c) => round3(c * factor)), days: round3(state.days * factor + 1), dayStart: day }
}

/**
 * Which hours a spell's figure draws on (offset, weight). At home the hour matters most (a nap
 * after lunch, a night's sleep); bathroom spells are few an hour, so they pool three hours either
 * way (a bath is taken at about the same time of day); outings look two hours either way.
 */
const POOLING: Record<Place, readonly (readonly [number, number])[]> = {
  home: [[-1, 0.5], [0, 1], [1, 0.5]],
  bedroom: [[-1, 0.5], [0, 1], [1, 0.5]],
  bathroom: [[-3, 0.25], [-2, 0.5], [-1, 1], [0, 1], [1, 1], [2, 0.5], [3, 0.25]],
  out: [[-2, 0.25], [-1, 0.5], [0, 1], [1, 0.5], [2, 0.25]],
  still: [[-1, 0.5], [0, 1], [1, 0.5]],
}

/**
 * How many times `priorSpells` the defaults weigh, by place. Outings vary most from day to day (a
 * day trip once a month among daily errands), and a short figure for them gains little: a collapse
 * after the door is rare, an outing taken for one is a visit for nothing.
 */
const PRIOR_WEIGHT: Record<Place, number> = { home: 1, bedroom: 1, bathroom: 1, out: 5, still: 1 }

/** What the household's devices can see, where it changes the defaults. */
export interface Sees {
  /** A presence sensor in the bedroom: she is seen going to bed. */
  bedroom: boolean
  /** A radar there: she is seen in bed, and coming back to it. */
  bedroomRadar: boolean
  /** A presence sensor in the bathroom: she is seen going in. */
  bathroom: boolean
  /** A radar there: she is seen still there, lying on the floor too, and seen gone. Absent: none. */
  bathroomRadar?: boolean
}
const SEES_NOTHING: Sees = { bedroom: false, bedroomRadar: false, bathroom: false }

export interface Threshold {
  /** How long a spell of this context may last before we ask. */
  minutes: number
  /** Where the figure comes from: the defaults, the household's own spells, or both. */
  source: 'defaults' | 'household' | 'blend'
  /** The household's own quantile (minutes), when it had spells of this context. */
  ownMin: number | null
  /** Spells of this context the household's figure rests on (faded counts). */
  evidence: number
  /** Days of evidence (faded). */
  days: number
}

/**
 * The threshold for a spell that began at `from` in `place`: where this household's spells of
 * that place, over the hour it began and the hours around it (POOLING), almost never reach (its
 * 1 − tail point, tailPointMin) times the margin. The defaults weigh as `priorSpells` of her own
 * spells and `priorDays` of her days: the figure moves from the defaults to hers, geometrically,
 * as both accrue, so a few days of an hour's spells already speak, and a first evening of short
 * spells never makes a night's figure short.
 */
export function thresholdFor(state: RhythmState, place: Place, from: number, timeZone: string, s: RhythmSettings, sees: Sees = SEES_NOTHING, o: { nightByWake?: boolean } = {}): Threshold {
  const startMin = localMinuteOfDay(from, timeZone)
  const hour = Math.floor(startMin / 60)
  const prior = priorThresholdMin(place, startMin, sees)
  const pooled = new Array<number>(BINS).fill(0)
  for (const [dh, w] of POOLING[place]) {
    const counts = state.spells[contextKey(place, (hour + dh + 24) % 24)]
    if (counts) for (let i = 0; i < BINS; i++) pooled[i]! += counts[i]! * w
  }
  const own = pooled.reduce((a, b) => a + b, 0)
  const ownMin = own > 0 ? tailPointMin(pooled, s.tail) * s.margin : null
  // Spells of one day are much alike: her own figure is trusted with her spells and her days.
  const trust = (own / (own + s.priorSpells * PRIOR_WEIGHT[place])) * (state.days / (state.days + s.priorDays))
  const byGap = ownMin === null ? prior : Math.exp((1 - trust) * Math.log(prior) + trust * Math.log(ownMin))
  // Where asking would wake a person (`nightByWake`), any spell of her night at home is due by her wake-up.
  const wake = byWake(state, place, startMin, s, sees, o.nightByWake === true)
  // Asleep where no sensor watches the bedroom, the quiet says nothing until she is due up (nor,
  // where asking would wake a person, does it matter: `nightByWake`).
  const unwatchedNight = wake !== null && (o.nightByWake || (place === 'bedroom' && !sees.bedroom))
  const minutes = Math.max(s.minThresholdMin, Math.round(Math.min(unwatchedNight ? Infinity : byGap, wake ?? Infinity)))
  return {
    minutes,
    source: trust >= 0.75 || (wake !== null && (wake < byGap || unwatchedNight) && state.wake.some((c) => c > 0)) ? 'household' : ownMin === null ? 'defaults' : 'blend',
    ownMin: ownMin === null ? null : Math.round(ownMin),
    evidence: round3(own),
    days: round3(state.days),
  }
}

/**
 * The length (minutes) a share `tail` of these spells goes past. With spells enough for that
 * share to be one of them, read off the histogram at the bin's upper edge. With fewer, her
 * longest spells' tail is extended as an exponential (the mean excess of the k longest over the
 * k-th, k a tenth of them and at least three: a peaks-over-threshold estimate), and never put
 * below the longest spell she had: twenty spells already say something about one in two hundred.
 */
export function tailPointMin(counts: readonly number[], tail: number): number {
  const total = counts.reduce((a, b) => a + b, 0)
  if (tail * total >= 1) return edgeOf(quantileBin(counts, tail))
  // The longest spell of about the last month (a faded count under a half is older).
  let top = counts.length - 1
  while (top > 0 && !(counts[top]! >= 0.5)) top--
  const longest = edgeOf(top)
  const k = Math.max(3, total / 10)
  if (total < k) return longest
  // u: the highest bin edge with at least k spells beyond it (0 when that takes them all).
  let above = 0
  let first = counts.length - 1
  for (; first > 0 && above + counts[first]! < k; first--) above += counts[first]!
  above += counts[first]!
  const u = first === 0 ? 0 : edgeOf(first - 1)
  let excess = 0
  for (let i = first; i < counts.length; i++) excess += counts[i]! * (midOf(i) - u)
  const q = u + (excess / above) * Math.log(above / (total * tail))
  return Math.max(longest, q)
}

function quantileBin(counts: readonly number[], tail: number): number {
  const total = counts.reduce((a, b) => a + b, 0)
  let above = total
  for (let bin = 0; bin < counts.length; bin++) {
    above -= counts[bin]!
    if (above <= tail * total + 1e-9) return bin
  }
  return counts.length - 1
}

/** The middle of a bin (minutes); the open last bin's is taken five hours past its start. */
const midOf = (bin: number) => (bin === 0 ? BIN_EDGES_MIN[0] / 2 : bin < BIN_EDGES_MIN.length ? (BIN_EDGES_MIN[bin - 1]! + BIN_EDGES_MIN[bin]!) / 2 : BIN_EDGES_MIN[bin - 1]! + 300)
const edgeOf = (bin: number) => (bin < BIN_EDGES_MIN.length ? BIN_EDGES_MIN[bin]! : 24 * 60)

/**
 * A night at home ends when this elder gets up: by the time she is up on `wakeShare` of her
 * mornings, plus a margin — sharper than the length of her nights, since bedtimes and night
 * visits to the toilet vary more than mornings. Null by day and out; null in the bathroom, and at
 * home where a bedroom sensor would have seen her go to bed, unless `anywhereHome` (where asking
 * would wake a person, any spell of her night waits for her wake-up).
 */
function byWake(state: RhythmState, place: Place, startMin: number, s: RhythmSettings, sees: Sees, anywhereHome = false): number | null {
  if (!(place === 'bedroom' || (place === 'home' && !sees.bedroom) || (anywhereHome && place !== 'out')) || (startMin >= 5 * 60 && startMin < 19 * 60)) return null
  return (upByMinute(state, s) + s.wakeMarginMin - startMin + 24 * 60) % (24 * 60)
}

/**
 * The local time of day (minutes) by which she is up on `wakeShare` of her mornings, moved from
 * the defaults' 10:00 (less the margin) as her mornings accrue: the defaults weigh as
 * `priorMornings` of them. 09:10 for a household not yet seen getting up.
 */
export function upByMinute(state: RhythmState, s: Pick<RhythmSettings, 'wakeShare' | 'wakeMarginMin' | 'priorMornings'>): number {
  const prior = Math.max(WAKE_FROM_MIN, 10 * 60 - s.wakeMarginMin) + WAKE_SLOT_MIN
  return blendMinute(prior, shareMinute(state.wake, s.wakeShare, WAKE_FROM_MIN, WAKE_SLOT_MIN, 1), state.wake, s.priorMornings)
}

/**
 * The local time of day (minutes) from which she may be in bed: the time she has gone to bed by
 * on `bedShare` of her evenings, less `bedMarginMin`, moved from the defaults' 22:00 as her
 * evenings accrue (the defaults weigh as `priorMornings` of them), and never later than the
 * defaults' (21:30): a sleeper taken for one awake is asked at the wrong time, the other way
 * round only a little later.
 */
export function inBedFromMinute(state: RhythmState, s: Pick<RhythmSettings, 'priorMornings' | 'bedShare' | 'bedMarginMin'>): number {
  const bed = state.bed ?? []
  // Evening minutes run on past midnight (24:30 is 00:30) so that the blend does not wrap.
  const own = shareMinute(bed, s.bedShare, BED_FROM_MIN, BED_SLOT_MIN, 0)
  return Math.min(22 * 60, blendMinute(22 * 60, own, bed, s.priorMornings)) - s.bedMarginMin
}

/** The time (minutes from the slots' start of day) by which `share` of the counts are in: a slot's start (`edge` 0) or end (1). */
function shareMinute(counts: readonly number[], share: number, from: number, slotMin: number, edge: 0 | 1): number | null {
  let total = 0
  for (const c of counts) total += c
  if (!(total > 0)) return null
  let seen = 0
  for (let slot = 0; slot < counts.length; slot++) {
    seen += counts[slot]!
    if (seen >= share * total - 1e-9 && seen > 0) return from + (slot + edge) * slotMin
  }
  return from + counts.length * slotMin
}

/** `prior` moved towards `own` as the counts behind it accrue: half way at `priorWeight` of them. */
function blendMinute(prior: number, own: number | null, counts: readonly number[], priorWeight: number): number {
  if (own === null) return prior
  let n = 0
  for (const c of counts) n += c
  return Math.round(prior + (own - prior) * (n / (n + priorWeight)))
}

/**
 * The defaults, before a household has evidence: generous, city-like figures. At home by day
 * four hours (the 12-hour rule's spirit at a third of its delay, since a check-in comes first);
 * a spell that begins in the evening or night lasts until 10:00 (the morning check), unless a
 * bedroom sensor would have seen her go to bed and the spell began elsewhere; the bathroom 90
 * minutes (a long bath) where a radar watches it, else as at home; out of the door twelve hours (a
 * long day trip); seen still by a radar three hours.
 */
export function priorThresholdMin(place: Place, startMinuteOfDay: number, sees: Sees = SEES_NOTHING): number {
  // A bathroom radar tells a long bath from her having left; a PIR does not (she may have gone on
  // to a room no sensor sees, or to bed): a spell after it is one at home.
  if (place === 'bathroom' && sees.bathroomRadar) return 90
  if (place === 'out') return 12 * 60
  // Seen present and still: a nap in the armchair, or a radar's ghost after she left (docs/detection.md §places).
  if (place === 'still') return 3 * 60
  const h = startMinuteOfDay / 60
  // Where a sensor watches the bedroom, going to bed is seen: a night spell begun elsewhere is no night's sleep.
  if ((h >= 20 || h < 6) && (place === 'bedroom' || !sees.bedroom)) {
    const untilTen = (10 * 60 - startMinuteOfDay + 24 * 60) % (24 * 60)
    return Math.max(4 * 60, untilTen)
  }
  return 4 * 60
}

/** The local time of day (minutes) by which this elder has got up on `share` of mornings; null with under five mornings. */
export function wakeBy(state: RhythmState, share: number): { minuteOfDay: number; mornings: number } | null {
  const total = state.wake.reduce((a, b) => a + b, 0)
  if (total < 5) return null
  let seen = 0
  for (let i = 0; i < WAKE_SLOTS; i++) {
    seen += state.wake[i]!
    if (seen >= share * total) return { minuteOfDay: WAKE_FROM_MIN + (i + 1) * WAKE_SLOT_MIN, mornings: Math.round(total) }
  }
  return { minuteOfDay: WAKE_FROM_MIN + WAKE_SLOTS * WAKE_SLOT_MIN, mornings: Math.round(total) }
}


function round3(v: number): number {
  return Math.round(v * 1000) / 1000
}
