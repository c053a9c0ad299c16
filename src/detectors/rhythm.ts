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
 * Bounded: 4 places × 24 hours × 23 bins of counts at most, plus a wake-time histogram of 60
 * ten-minute slots (03:00–13:00): a few kilobytes of JSON whatever the age of the household.
 */
import { MINUTE } from './context.js'
import { localMinuteOfDay, startOfLocalDay } from './local-time.js'

/**
 * Where the sign that began a spell was: the bedroom (sleep, a nap), the bathroom (a bath, or a
 * fall), elsewhere at home, or out of the door. A spell that begins in the living room at 21:30
 * ends within minutes in a home whose bedroom a sensor sees; the same spell from the bedroom
 * lasts the night.
 */
export const PLACES = ['home', 'bedroom', 'bathroom', 'out'] as const
export type Place = (typeof PLACES)[number]

/** Upper edges (minutes) of the spell-length bins; the last bin is open. */
export const BIN_EDGES_MIN = [10, 20, 30, 45, 60, 75, 90, 105, 120, 150, 180, 210, 240, 300, 360, 420, 480, 540, 600, 720, 900, 1200] as const
const BINS = BIN_EDGES_MIN.length + 1

/** Wake-up slots: ten minutes each from 03:00 to 13:00 local. */
const WAKE_FROM_MIN = 3 * 60
const WAKE_SLOT_MIN = 10
const WAKE_SLOTS = 60

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
  /** How many mornings the defaults' 10:00 counts as. */
  priorMornings: number
}

export interface RhythmState {
  /** `${place}:${hour}` → counts per bin (faded); only contexts ever seen are kept. */
  spells: Record<string, number[]>
  /** Counts per wake-up slot (faded). */
  wake: number[]
  /** Local days with any sign of life: the weight of the household's own evidence. */
  days: number
  /** Local midnight of the latest day counted (and faded to). */
  dayStart: number | null
}

export function initialRhythm(): RhythmState {
  return { spells: {}, wake: new Array<number>(WAKE_SLOTS).fill(0), days: 0, dayStart: null }
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
  const key = contextKey(place, Math.floor(localMinuteOfDay(from, timeZone) / 60))
  const counts = faded.spells[key]?.slice() ?? new Array<number>(BINS).fill(0)
  const bin = binOf((to - from) / MINUTE)
  counts[bin] = round3(counts[bin]! + 1)
  let wake = faded.wake
  // A night's sleep ending: a long home spell that began in the evening or night and ends in the morning.
  const endMin = localMinuteOfDay(to, timeZone)
  const startHour = Math.floor(localMinuteOfDay(from, timeZone) / 60)
  if (place !== 'out' && to - from >= 3 * 60 * MINUTE && (startHour >= 19 || startHour < 5) && endMin >= WAKE_FROM_MIN && endMin < WAKE_FROM_MIN + WAKE_SLOTS * WAKE_SLOT_MIN) {
    wake = wake.slice()
    const slot = Math.floor((endMin - WAKE_FROM_MIN) / WAKE_SLOT_MIN)
    wake[slot] = round3(wake[slot]! + 1)
  }
  return { ...faded, spells: { ...faded.spells, [key]: counts }, wake }
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
  return { spells, wake: state.wake.map((c) => round3(c * factor)), days: round3(state.days * factor + 1), dayStart: day }
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
}

/** What the household's devices can see, where it changes the defaults. */
export interface Sees {
  /** A presence sensor in the bedroom: she is seen going to bed. */
  bedroom: boolean
}
const SEES_NOTHING: Sees = { bedroom: false }

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
 * The threshold for a spell that began at `from` in `place`: the (1 − tail) quantile of this
 * household's spells of that place over the hour it began and the hours around it (POOLING),
 * read at the bin's upper edge, times the margin. The defaults take part as `priorSpells` spells
 * as long as the default figure, so the household's own figure takes over only once it has seen
 * enough spells for that tail to be its own (about 50 at a 1 % tail and half a spell of prior):
 * a few evenings of short spells never make a night's figure short.
 */
export function thresholdFor(state: RhythmState, place: Place, from: number, timeZone: string, s: RhythmSettings, sees: Sees = SEES_NOTHING): Threshold {
  const startMin = localMinuteOfDay(from, timeZone)
  const hour = Math.floor(startMin / 60)
  const prior = priorThresholdMin(place, startMin, sees)
  const pooled = new Array<number>(BINS).fill(0)
  for (const [dh, w] of POOLING[place]) {
    const counts = state.spells[contextKey(place, (hour + dh + 24) % 24)]
    if (counts) for (let i = 0; i < BINS; i++) pooled[i]! += counts[i]! * w
  }
  const own = pooled.reduce((a, b) => a + b, 0)
  const ownBin = own > 0 ? quantileBin(pooled, s.tail) : null
  pooled[binOf(prior / s.margin)]! += s.priorSpells
  const bin = quantileBin(pooled, s.tail)
  const byGap = bin === binOf(prior / s.margin) && ownBin !== bin ? prior : edgeOf(bin) * s.margin
  const wake = byWake(state, place, startMin, s, sees)
  const minutes = Math.max(s.minThresholdMin, Math.round(Math.min(byGap, wake ?? Infinity)))
  return {
    minutes,
    source: ownBin === bin || (wake !== null && wake < byGap) ? 'household' : ownBin === null ? 'defaults' : 'blend',
    ownMin: ownBin === null ? null : Math.round(edgeOf(ownBin) * s.margin),
    evidence: round3(own),
    days: round3(state.days),
  }
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

const edgeOf = (bin: number) => (bin < BIN_EDGES_MIN.length ? BIN_EDGES_MIN[bin]! : 24 * 60)

/**
 * A night at home ends when this elder gets up: by the time she is up on `wakeShare` of her
 * mornings, plus a margin — sharper than the length of her nights, since bedtimes and night
 * visits to the toilet vary more than mornings. The defaults' 10:00 counts as `priorMornings`
 * mornings. Null by day, out, or in the bathroom.
 */
function byWake(state: RhythmState, place: Place, startMin: number, s: RhythmSettings, sees: Sees): number | null {
  if (!(place === 'bedroom' || (place === 'home' && !sees.bedroom)) || (startMin >= 5 * 60 && startMin < 19 * 60)) return null
  const wake = state.wake.slice()
  const priorSlot = Math.min(WAKE_SLOTS - 1, Math.max(0, Math.floor((10 * 60 - s.wakeMarginMin - WAKE_FROM_MIN) / WAKE_SLOT_MIN)))
  wake[priorSlot]! += s.priorMornings
  const total = wake.reduce((a, b) => a + b, 0)
  let seen = 0
  let slot = 0
  for (; slot < WAKE_SLOTS; slot++) {
    seen += wake[slot]!
    if (seen >= s.wakeShare * total - 1e-9) break
  }
  const upBy = WAKE_FROM_MIN + (slot + 1) * WAKE_SLOT_MIN + s.wakeMarginMin
  return (upBy - startMin + 24 * 60) % (24 * 60)
}

/**
 * The defaults, before a household has evidence: generous, city-like figures. At home by day
 * four hours (the 12-hour rule's spirit at a third of its delay, since a check-in comes first);
 * a spell that begins in the evening or night lasts until 10:00 (the morning check), unless a
 * bedroom sensor would have seen her go to bed and the spell began elsewhere; the
 * bathroom 90 minutes (a long bath); out of the door twelve hours (a long day trip).
 */
export function priorThresholdMin(place: Place, startMinuteOfDay: number, sees: Sees = SEES_NOTHING): number {
  if (place === 'bathroom') return 90
  if (place === 'out') return 12 * 60
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
