/**
 * The people of the benchmark district: who each elder is (a persona drawn once) and how they
 * live, day after day, over the whole period (one continuous timeline per home).
 *
 * The life is planned as where the elder is and what they do (a list of consecutive segments:
 * room, activity), plus the water they draw, the times the entrance door opens, the visitors
 * who come and every time they are out. Devices are not mentioned here: devices.ts turns this
 * life into what each device would publish. Nothing here knows about any detection rule.
 *
 * Randomness: a household's persona and calendar come from its own mulberry32 stream, each day
 * from a stream of its own (so the same day comes out the same whatever else changes), and the
 * small movements of a still person (turning over, shifting in a chair) from a hash of the
 * segment's start, so a renderer can regenerate them for any window without storing them.
 */
import { Rng } from '../../firmware-sim/rng.js'
import type { Absence, Room } from './district.js'

export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR
/** The end of a segment that never ends (a collapse): the largest valid Date. */
export const FOREVER = 8.64e15

// ── randomness ────────────────────────────────────────────────────────────────

function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A 32-bit hash of a seed, a time (any non-negative integer below 2^53) and a small salt. */
export function hash(seed: number, t: number, salt: number): number {
  let h = fmix((seed ^ 0x9e3779b9) >>> 0)
  h = fmix(h ^ (t >>> 0))
  h = fmix(h ^ ((t / 4294967296) >>> 0) ^ 0x68e31da4)
  return fmix(h ^ (salt >>> 0) ^ 0x1b873593)
}

/** The same as a number in [0, 1). */
export function unit(seed: number, t: number, salt: number): number {
  return hash(seed, t, salt) / 4294967296
}

// ── the persona ───────────────────────────────────────────────────────────────

export interface Persona {
  chronotype: 'early' | 'ordinary' | 'late'
  /** Usual wake time, local hours. */
  wakeH: number
  /** Day-to-day spread of the wake time (about two standard deviations), minutes. */
  wakeSpreadMin: number
  /** Chance of a much later morning (unwell, a bad night). */
  lateMorningP: number
  bedH: number
  bedSpreadMin: number
  nightToilets: 'rare' | 'one' | 'several'
  /** Chance per night of getting up to sit in the living room (0 for most). */
  nightSitP: number
  nap: 'none' | 'bed' | 'armchair'
  napP: number
  napMin: number
  /** Length of a spell of sitting still (TV, reading), minutes. */
  sitMin: readonly [number, number]
  moveMin: readonly [number, number]
  /** Scales the gaps between the small movements of a still person (higher: stiller). */
  stillness: number
  bathing: 'bath' | 'shower'
  bathsPerWeek: number
  /** Chance of a shower on a day without a bath. */
  showerP: number
  washTime: 'evening' | 'morning' | 'afternoon'
  laundryPerWeek: number
  lunchH: number
  dinnerH: number
  marketP: number
  marketH: number
  canteenP: number
  walkP: number
  errandP: number
  clinicPerMonth: number
  dayTripsPerMonth: number
  nightsAwayPerMonth: number
  hospital: boolean
  badDaysPerMonth: number
  visitorsPerWeek: number
  carer: boolean
  deliveriesPerWeek: number
  housebound: boolean
  hardOfHearing: boolean
  familyNever: boolean
  familyDayP: number
  familyNightP: number
}

export function drawPersona(r: Rng): Persona {
  const chronotype = r.weighted({ early: 0.25, ordinary: 0.5, late: 0.25 })
  const wakeH = chronotype === 'early' ? r.between(4.75, 6) : chronotype === 'ordinary' ? r.between(6.5, 7.5) : r.between(8, 9.75)
  const bedH = chronotype === 'early' ? r.between(20.5, 22.5) : chronotype === 'ordinary' ? r.between(21, 23) : r.between(21.5, 23.5)
  const housebound = r.chance(0.1)
  const out = housebound ? 0.15 : 1
  const sedentary = r.weighted({ low: 0.3, mid: 0.4, high: 0.3 })
  const nap = r.weighted({ none: 0.3, bed: 0.35, armchair: 0.35 })
  const bathing = r.chance(0.25) ? 'bath' : 'shower'
  const familyNever = r.chance(0.2)
  const familyDayP = r.between(0.6, 0.95)
  const market = chronotype === 'early' ? 0.6 : chronotype === 'ordinary' ? 0.35 : 0.1
  return {
    chronotype,
    wakeH,
    wakeSpreadMin: r.between(15, 60),
    lateMorningP: r.between(0.02, 0.07),
    bedH,
    bedSpreadMin: r.between(15, 45),
    nightToilets: r.weighted({ rare: 0.3, one: 0.4, several: 0.3 }),
    nightSitP: r.chance(0.08) ? r.between(0.2, 0.6) : 0,
    nap,
    napP: nap === 'none' ? 0 : r.chance(0.65) ? r.between(0.75, 1) : r.between(0.2, 0.5),
    napMin: r.between(40, 120),
    sitMin: sedentary === 'low' ? [10, 45] : sedentary === 'mid' ? [20, 100] : [60, 180],
    moveMin: sedentary === 'low' ? [5, 30] : sedentary === 'mid' ? [3, 20] : [2, 12],
    stillness: r.between(0.7, 1.5),
    bathing,
    bathsPerWeek: bathing === 'bath' ? r.between(1, 3) : 0,
    showerP: bathing === 'bath' ? r.between(0.1, 0.35) : r.between(0.35, 1),
    washTime: r.weighted({ evening: 0.65, morning: 0.25, afternoon: 0.1 }),
    laundryPerWeek: r.between(1, 4),
    lunchH: r.between(11, 12.25),
    dinnerH: r.between(17, 18.5),
    marketP: r.chance(market) ? r.between(0.3, 0.9) * out : 0,
    marketH: r.between(5.5, 7),
    canteenP: r.chance(0.2) ? r.between(0.5, 1) * out : 0,
    walkP: r.between(0, 0.9) * out,
    errandP: r.between(0.15, 0.6) * out,
    clinicPerMonth: r.between(0.5, 4) * (housebound ? 0.5 : 1),
    dayTripsPerMonth: r.chance(0.4) || housebound ? 0 : r.between(1, 3),
    nightsAwayPerMonth: r.chance(0.5) ? 0 : r.between(1, 3),
    hospital: r.chance(0.04),
    badDaysPerMonth: r.between(0, 3),
    visitorsPerWeek: r.chance(0.3) ? 0 : r.between(0.5, 4),
    carer: r.chance(0.2),
    deliveriesPerWeek: r.between(0, 3),
    housebound,
    hardOfHearing: r.chance(0.12),
    familyNever,
    familyDayP,
    familyNightP: familyDayP * r.between(0.2, 0.6),
  }
}

const hhmm = (h: number) => {
  const m = Math.round(h * 60)
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}
const r2 = (x: number) => Math.round(x * 100) / 100

/** The persona as the human-readable record a household carries. */
export function describePersona(p: Persona): Record<string, string | number | boolean> {
  return {
    chronotype: p.chronotype,
    wake: hhmm(p.wakeH),
    wakeSpreadMin: Math.round(p.wakeSpreadMin),
    bedtime: hhmm(p.bedH),
    nightToilets: p.nightToilets,
    nightSitter: p.nightSitP > 0,
    nap: p.nap,
    napPerDay: r2(p.napP),
    napMin: Math.round(p.napMin),
    sitSpellMin: `${p.sitMin[0]}-${p.sitMin[1]}`,
    bathing: p.bathing,
    bathsPerWeek: r2(p.bathsPerWeek),
    showerPerDay: r2(p.showerP),
    washTime: p.washTime,
    laundryPerWeek: r2(p.laundryPerWeek),
    marketMornings: r2(p.marketP),
    canteenLunches: r2(p.canteenP),
    walks: r2(p.walkP),
    housebound: p.housebound,
    clinicPerMonth: r2(p.clinicPerMonth),
    dayTripsPerMonth: r2(p.dayTripsPerMonth),
    nightsAwayPerMonth: r2(p.nightsAwayPerMonth),
    hospitalStay: p.hospital,
    badDaysPerMonth: r2(p.badDaysPerMonth),
    visitorsPerWeek: r2(p.visitorsPerWeek),
    carer: p.carer,
    hardOfHearing: p.hardOfHearing,
    familyAnswers: p.familyNever ? 'never' : `day ${r2(p.familyDayP)}, night ${r2(p.familyNightP)}`,
  }
}

// ── the life ──────────────────────────────────────────────────────────────────

/**
 * What the elder is doing. Moving: `move`, `toilet`, `shower`. Still (with small movements now
 * and then): `asleep`, `nap`, `rest` (in bed, unwell, awake), `sit`, `bath` (lying in the tub).
 * Never moving: `collapsed`. `out`: not in the home.
 */
export type Act = 'asleep' | 'nap' | 'rest' | 'sit' | 'move' | 'toilet' | 'shower' | 'bath' | 'out' | 'collapsed'

export interface Seg {
  from: number
  to: number
  /** null: out of the home. */
  room: Room | null
  act: Act
}

/**
 * A draw of water: from a tap (a person turns it off), a cistern refilling after a flush, or a
 * machine (the washing machine's fills, `cycle` = when it was started) that goes on by itself.
 */
export interface WaterUse {
  from: number
  to: number
  lpm: number
  src: 'tap' | 'cistern' | 'machine'
  cycle: number
}

export type DoorWhy = 'exit' | 'return' | 'visitor_in' | 'visitor_out' | 'delivery'
export interface DoorEvent {
  at: number
  why: DoorWhy
}

/** Someone else in the home (neighbour, carer, family), in the living room with the elder. */
export interface Visit {
  from: number
  to: number
}

export interface Life {
  segs: Seg[]
  uses: WaterUse[]
  doors: DoorEvent[]
  visits: Visit[]
  absences: Absence[]
  /** Announced stays (hospital): the real leave and return. */
  stays: { leave: number; back: number }[]
}

/** Where in its room a still person is: PIR blind spots are one of these. */
export type Spot = 'bed' | 'armchair' | 'table' | 'tub' | null

export function spotOf(room: Room | null, act: Act): Spot {
  if (act === 'bath' || act === 'shower') return 'tub'
  if (act === 'move' || act === 'toilet' || act === 'out') return null
  if (room === 'bedroom') return 'bed'
  if (room === 'living_room') return 'armchair'
  if (room === 'kitchen') return 'table'
  return null
}

export const MOVING: ReadonlySet<Act> = new Set<Act>(['move', 'toilet', 'shower'])

/** Gaps between the small movements of a still person (minutes), their chance and length (s). */
const STILL_MOVES: Partial<Record<Act, { gap: readonly [number, number]; p: number; len: readonly [number, number] }>> = {
  asleep: { gap: [20, 90], p: 0.75, len: [5, 30] },
  nap: { gap: [10, 45], p: 0.7, len: [4, 20] },
  rest: { gap: [5, 30], p: 0.85, len: [5, 30] },
  sit: { gap: [3, 20], p: 0.9, len: [3, 20] },
  bath: { gap: [4, 15], p: 0.8, len: [3, 15] },
}

/**
 * The small movements of a still segment that overlap [lo, hi), as flat [from, to] pairs pushed
 * onto `out`, each with its index (for a per-sensor detection draw) pushed onto `ids`. The same
 * segment always gives the same movements, whatever the window.
 */
export function stillMoves(seed: number, stillness: number, s: Seg, lo: number, hi: number, out: number[], ids: number[]): void {
  const m = STILL_MOVES[s.act]
  if (!m || s.to <= lo || s.from >= hi) return
  let t = s.from
  for (let k = 0; k < 10_000; k++) {
    const h1 = unit(seed, s.from, 2 * k + 1)
    const h2 = unit(seed, s.from, 2 * k + 2)
    t += Math.round((m.gap[0] + (m.gap[1] - m.gap[0]) * h1) * stillness * MINUTE)
    if (t >= s.to || t >= hi) return
    if (h2 < m.p) {
      const len = Math.round((m.len[0] + (m.len[1] - m.len[0]) * (h2 / m.p)) * SECOND)
      const end = Math.min(t + len, s.to)
      if (end > lo) {
        out.push(t, end)
        ids.push(k)
      }
    }
  }
}

/** Writes the timeline: consecutive segments, the cursor only moves forward. */
class Builder {
  readonly segs: Seg[] = []
  readonly uses: WaterUse[] = []
  readonly doors: DoorEvent[] = []
  readonly visits: Visit[] = []
  readonly absences: Absence[] = []
  readonly stays: { leave: number; back: number }[] = []
  constructor(public t: number) {}

  get room(): Room {
    const last = this.segs[this.segs.length - 1]
    return last?.room ?? 'living_room'
  }

  stay(room: Room | null, act: Act, ms: number): this {
    ms = Math.round(ms)
    if (ms <= 0) return this
    const last = this.segs[this.segs.length - 1]
    if (last && last.room === room && last.act === act && last.to === this.t) last.to += ms
    else this.segs.push({ from: this.t, to: this.t + ms, room, act })
    this.t += ms
    return this
  }

  until(room: Room | null, act: Act, at: number): this {
    return this.stay(room, act, at - this.t)
  }

  /** `litres` at `lpm` from `at`. */
  draw(at: number, litres: number, lpm: number, src: WaterUse['src'] = 'tap', cycle = 0): void {
    const from = Math.round(at)
    const ms = Math.max(3 * SECOND, Math.round((litres / lpm) * MINUTE))
    this.uses.push({ from, to: from + ms, lpm: (litres * MINUTE) / ms, src, cycle })
  }

  door(at: number, why: DoorWhy): void {
    this.doors.push({ at: Math.round(at), why })
  }
}

interface Block {
  at: number
  /** Skipped when the day has run more than this late for it. */
  slack: number
  name: string
  run: () => void
}

interface CalendarEvent {
  kind: 'day_trip' | 'night_away' | 'hospital'
  leave: number
  back: number
  /** Family come to fetch the elder, and bring them back. */
  family: boolean
}

interface DayDraw {
  wake: number
  bed: number
  bad: boolean
}

export interface PlanOptions {
  seed: number
  from: number
  days: number
}

/**
 * The whole life of one elder from the morning before the period to the morning after it.
 * Returns the timeline and the announced stays (for the operator's away mode).
 */
export function planLife(p: Persona, o: PlanOptions): Life {
  return new Planner(p, o).run()
}

class Planner {
  private readonly draws: DayDraw[] = []
  private readonly calendar = new Map<number, CalendarEvent>()
  private b: Builder
  private leftUntil: number | null = null
  /** The day being planned (its pending toilet visits). */
  private ctx: DayCtx | null = null

  constructor(
    private readonly p: Persona,
    private readonly o: PlanOptions,
  ) {
    const r = new Rng(hash(o.seed, 0xca1e, 1))
    this.makeCalendar(r)
    // Day draws from day −1 to day `days + 1` (the morning after the period).
    for (let d = -1; d <= o.days + 1; d++) this.draws[d + 1] = this.drawDay(d)
    this.b = new Builder(this.draw(-1).wake)
  }

  private draw(d: number): DayDraw {
    return this.draws[d + 1]!
  }

  private midnight(d: number): number {
    return this.o.from + d * DAY
  }

  private makeCalendar(r: Rng): void {
    const { days } = this.o
    const p = this.p
    const busy = new Set<number>()
    const book = (first: number, last: number) => {
      for (let d = first - 1; d <= last + 1; d++) busy.add(d)
    }
    const free = (first: number, last: number) => {
      for (let d = first; d <= last; d++) if (busy.has(d)) return false
      return true
    }
    if (p.hospital && days >= 4) {
      const start = r.int(1, Math.max(1, days - 3))
      const nights = r.int(2, 10)
      const leave = this.midnight(start) + r.mins(8 * 60, 15 * 60)
      const back = this.midnight(start + nights) + r.mins(9 * 60, 17 * 60)
      this.calendar.set(start, { kind: 'hospital', leave, back, family: true })
      book(start, start + nights)
    }
    for (let d = 0; d < days; d++) {
      if (p.nightsAwayPerMonth > 0 && r.chance(p.nightsAwayPerMonth / 30)) {
        const nights = r.chance(0.75) ? 1 : 2
        if (!free(d, d + nights)) continue
        const leave = this.midnight(d) + r.mins(14 * 60, 20 * 60)
        const back = this.midnight(d + nights) + r.mins(9 * 60, 18 * 60)
        this.calendar.set(d, { kind: 'night_away', leave, back, family: r.chance(0.5) })
        book(d, d + nights)
      }
    }
    for (let d = 0; d < days; d++) {
      if (p.dayTripsPerMonth > 0 && r.chance(p.dayTripsPerMonth / 30) && !busy.has(d)) {
        const leave = this.midnight(d) + r.mins(7 * 60, 10 * 60)
        this.calendar.set(d, { kind: 'day_trip', leave, back: leave + r.mins(6 * 60, 11 * 60), family: false })
        busy.add(d)
      }
    }
  }

  private drawDay(d: number): DayDraw {
    const p = this.p
    const r = new Rng(hash(this.o.seed, d + 1000, 1))
    const mid = this.midnight(d)
    const bad = d >= 0 && !this.calendar.has(d) && !this.calendar.has(d - 1) && r.chance(p.badDaysPerMonth / 30)
    let wake = p.wakeH * HOUR + (r.normal() * p.wakeSpreadMin * MINUTE) / 2
    if (r.chance(p.lateMorningP) || (bad && r.chance(0.6))) wake += r.mins(90, 240)
    let bed = p.bedH * HOUR + (r.normal() * p.bedSpreadMin * MINUTE) / 2
    if (r.chance(0.05)) bed += r.mins(30, 90)
    if (bad) bed -= r.mins(0, 60)
    wake = Math.max(4 * HOUR, wake)
    bed = Math.max(wake + 10 * HOUR, Math.min(bed, 24.5 * HOUR))
    return { wake: mid + Math.round(wake / SECOND) * SECOND, bed: mid + Math.round(bed / SECOND) * SECOND, bad }
  }

  run(): Life {
    let returnAt: number | null = null
    for (let d = -1; d <= this.o.days; d++) {
      if (returnAt !== null) {
        if (returnAt >= this.midnight(d + 1)) continue
        returnAt = null
        this.planDay(d, true)
      } else this.planDay(d, false)
      if (this.leftUntil !== null) {
        returnAt = this.leftUntil
        this.leftUntil = null
      }
    }
    const b = this.b
    b.uses.sort((x, y) => x.from - y.from)
    b.doors.sort((x, y) => x.at - y.at)
    return { segs: b.segs, uses: b.uses, doors: b.doors, visits: b.visits, absences: b.absences, stays: b.stays }
  }

  // ── one day ─────────────────────────────────────────────────────────────────

  /**
   * From the wake-up (or the return home) of day d to the wake-up of day d + 1, or to leaving
   * for a stay away (then `leftUntil` is the return).
   */
  private planDay(d: number, arriving: boolean): void {
    const p = this.p
    const b = this.b
    const r = new Rng(hash(this.o.seed, d + 1000, 2))
    const mid = this.midnight(d)
    const clock = (h: number) => mid + Math.round(h * HOUR)
    const today = this.draw(d)
    const cal = d >= 0 ? this.calendar.get(d) : undefined
    const start = b.t
    const bedAt = Math.max(today.bed, start + 2 * HOUR)

    // Toilet visits during the day: 3–5, besides the morning and the evening wash (and the night).
    const toilets: number[] = []
    const span = bedAt - 45 * MINUTE - (start + HOUR)
    if (span > 0) for (let i = r.int(3, 5); i > 0; i--) toilets.push(start + HOUR + Math.round(r.unit() * span))
    toilets.sort((x, y) => x - y)
    const ctx: DayCtx = { r, toilets, due: false, lastSit: false }
    this.ctx = ctx

    if (!arriving) this.morning(r, p.washTime === 'morning' ? this.washToday(r) : null)
    else {
      b.stay('living_room', 'move', r.mins(5, 15))
      this.toilet(r)
    }
    if (today.bad && !arriving) {
      this.badDay(r, ctx, clock, bedAt)
      this.night(d, r)
      return
    }

    const blocks: Block[] = []
    const add = (at: number, slack: number, name: string, run: () => void) => blocks.push({ at: Math.round(at), slack, name, run })
    const W = start

    // Breakfast, and an early market for some.
    const market = r.chance(p.marketP)
    const marketAt = Math.max(clock(p.marketH + r.between(-0.25, 0.25)), W + r.mins(15, 35))
    const breakfastAt = W + r.mins(10, 30)
    if (market && marketAt < clock(9.5)) {
      add(marketAt, 30, 'market', () => this.goOut(r, r.mins(60, 150), 'errand'))
      add(marketAt < breakfastAt + HOUR ? marketAt + 1 : breakfastAt, 180, 'breakfast', () => this.meal(r, 'breakfast'))
    } else add(breakfastAt, 180, 'breakfast', () => this.meal(r, 'breakfast'))

    if (r.chance(p.clinicPerMonth / 30)) add(Math.max(clock(r.between(7.5, 9.5)), breakfastAt + 40 * MINUTE), 60, 'clinic', () => this.goOut(r, r.mins(90, 240), 'errand'))
    if (r.chance(0.5)) add(clock(r.between(8.5, 10.5)), 120, 'chores', () => this.chores(r))
    if (r.chance(p.laundryPerWeek / 7)) {
      add(clock(r.chance(0.7) ? r.between(8.5, 10.5) : r.between(15, 16.5)), 120, 'laundry', () => {
        this.laundry(r)
        add(b.t + r.mins(50, 80), 90, 'hangs the washing', () => b.stay('living_room', 'move', r.mins(8, 15)))
        blocks.sort((x, y) => x.at - y.at)
      })
    }

    // Lunch: the canteen, or cooked at home; then a nap for some.
    let lunchAt = Math.max(clock(p.lunchH + r.between(-0.3, 0.3)), W + 3 * HOUR)
    if (r.chance(p.canteenP)) {
      const leave = clock(11 + r.between(0, 0.75))
      const back = clock(12 + r.unit())
      add(leave, 45, 'canteen', () => this.goOut(r, Math.max(back - b.t, 40 * MINUTE), 'errand'))
      lunchAt = back
    } else add(lunchAt, 120, 'lunch', () => this.meal(r, 'lunch'))
    if (r.chance(p.napP)) {
      const napMs = Math.max(30, p.napMin * r.between(0.75, 1.25)) * MINUTE
      add(lunchAt + r.mins(50, 100), 90, 'nap', () => this.nap(r, napMs))
    }

    // Afternoon.
    if (r.chance(p.walkP)) add(clock(r.between(14.5, 16.5)), 60, 'walk', () => this.goOut(r, r.mins(30, 90), 'errand'))
    if (r.chance(p.errandP)) add(clock(r.between(9, 17)), 60, 'errand', () => this.goOut(r, r.mins(10, 40), 'errand'))
    if (r.chance(0.6)) add(clock(r.between(15, 16.5)), 60, 'tea', () => this.kitchen(r, r.mins(3, 6), () => this.kettle(r)))
    add(Math.max(clock(p.dinnerH + r.between(-0.3, 0.3)), lunchAt + 4 * HOUR), 150, 'dinner', () => this.meal(r, 'dinner'))

    // The bath or shower of the day, if it is not in the morning.
    const wash = p.washTime === 'morning' ? null : this.washToday(r)
    if (wash) {
      const at = p.washTime === 'afternoon' ? clock(r.between(15.5, 17)) : bedAt - (wash === 'bath' ? r.mins(100, 160) : r.mins(40, 120))
      add(at, 150, wash, () => (wash === 'bath' ? this.bath(r) : this.shower(r)))
    }

    // Others at the door.
    if (r.chance(Math.min(0.9, p.visitorsPerWeek / 7))) add(clock(r.between(9.5, 17.5)), 60, 'visitor', () => this.visitor(r))
    if (r.chance(p.deliveriesPerWeek / 7)) add(clock(r.between(9, 19)), 30, 'delivery', () => this.delivery(r))

    // The calendar: a day trip, or leaving for a night (or several) away.
    let keep = (blk: Block) => blk.at < bedAt - 5 * MINUTE
    if (cal?.kind === 'day_trip') {
      keep = (blk) => blk.at < bedAt - 5 * MINUTE && (blk.at < cal.leave - 30 * MINUTE || blk.at >= cal.back)
      add(cal.leave, 90, 'day trip', () => this.goOut(r, Math.max(cal.back - b.t, 2 * HOUR), 'day_trip'))
    } else if (cal) {
      keep = (blk) => blk.at < cal.leave - 20 * MINUTE
      add(cal.leave, Infinity, cal.kind, () => this.leaveFor(r, cal))
    }
    if (arriving) {
      const back = b.t
      const k0 = keep
      keep = (blk) => k0(blk) && blk.at >= back
    }
    const day = blocks.filter((blk) => keep(blk) || blk.name === 'day trip' || blk.name === cal?.kind)
    blocks.length = 0
    blocks.push(...day)
    if (!cal || cal.kind === 'day_trip') add(bedAt, Infinity, 'bed', () => this.night(d, r))
    blocks.sort((x, y) => x.at - y.at)

    while (blocks.length > 0) {
      const blk = blocks.shift()!
      if (b.t > blk.at + blk.slack) continue
      this.fill(blk.at, ctx)
      blk.run()
      if (this.leftUntil !== null) return
    }
  }

  private washToday(r: Rng): 'bath' | 'shower' | null {
    const p = this.p
    if (p.bathing === 'bath' && r.chance(p.bathsPerWeek / 7)) return 'bath'
    return r.chance(p.showerP) ? 'shower' : null
  }

  /** Free time until `until`: spells of sitting still and of moving about, toilet visits as due. */
  private fill(until: number, ctx: DayCtx): void {
    const b = this.b
    const p = this.p
    const r = ctx.r
    while (ctx.toilets.length > 0 && ctx.toilets[0]! <= b.t) {
      ctx.toilets.shift()
      ctx.due = true
    }
    while (until - b.t >= 30 * SECOND) {
      if (ctx.due && until - b.t >= 4 * MINUTE) {
        this.toilet(r)
        ctx.due = false
        continue
      }
      const next = ctx.toilets[0] ?? Infinity
      const limit = Math.min(until, next)
      if (limit - b.t < 30 * SECOND) {
        b.stay(b.room, 'move', limit - b.t)
      } else if (!ctx.lastSit && limit - b.t >= 5 * MINUTE) {
        const room: Room = r.chance(0.85) ? 'living_room' : 'bedroom'
        b.stay(room, 'sit', Math.min(r.mins(p.sitMin[0], p.sitMin[1]), limit - b.t))
        ctx.lastSit = true
      } else {
        const room = r.weighted({ living_room: 0.45, kitchen: 0.3, bedroom: 0.2, bathroom: 0.05 })
        const ms = Math.min(r.mins(p.moveMin[0], p.moveMin[1]), limit - b.t)
        const t0 = b.t
        b.stay(room, 'move', ms)
        if (room === 'kitchen' && ms > MINUTE && r.chance(0.15)) b.draw(t0 + 20 * SECOND, r.between(1, 2), r.between(5, 7))
        else if ((room === 'kitchen' || room === 'bathroom') && ms > 40 * SECOND && r.chance(0.25)) b.draw(t0 + 10 * SECOND, r.between(0.5, 1), r.between(4, 6))
        ctx.lastSit = false
      }
      while (ctx.toilets.length > 0 && ctx.toilets[0]! <= b.t) {
        ctx.toilets.shift()
        ctx.due = true
      }
    }
    if (until > b.t) b.stay(b.room, 'move', until - b.t)
  }

  // ── routines ────────────────────────────────────────────────────────────────

  /** The cistern refills: 6 L in 40–70 s. */
  private flush(at: number, r: Rng): void {
    this.b.draw(at, 6, 6 / r.between(0.65, 1.15), 'cistern')
  }

  private handWash(at: number, r: Rng): void {
    this.b.draw(at, r.between(0.5, 1), r.between(4, 6))
  }

  private kettle(r: Rng): void {
    this.b.draw(this.b.t + r.mins(0.2, 1), r.between(1, 2), r.between(5, 7))
  }

  private toilet(r: Rng, ms = r.mins(2, 6)): void {
    const b = this.b
    b.stay('bathroom', 'toilet', ms)
    this.flush(b.t - Math.min(ms - 10 * SECOND, r.mins(0.5, 1)), r)
    if (r.chance(0.75)) this.handWash(b.t - 15 * SECOND, r)
  }

  private morning(r: Rng, wash: 'bath' | 'shower' | null): void {
    const b = this.b
    b.stay('bedroom', 'move', r.mins(3, 10))
    const t0 = b.t
    const ms = r.mins(8, 20)
    b.stay('bathroom', 'move', ms)
    this.flush(t0 + r.mins(1, 2), r)
    b.draw(t0 + r.mins(3, 5), r.between(2, 4), r.between(4, 6))
    if (wash === 'shower') this.shower(r)
    else if (wash === 'bath') this.bath(r)
  }

  private kitchen(r: Rng, ms: number, taps: () => void): void {
    taps()
    this.b.stay('kitchen', 'move', ms)
  }

  private meal(r: Rng, which: 'breakfast' | 'lunch' | 'dinner'): void {
    const b = this.b
    const cook = which === 'breakfast' ? r.mins(8, 20) : r.mins(20, 45)
    const t0 = b.t
    if (which === 'breakfast') {
      b.draw(t0 + r.mins(0.5, 2), r.between(1, 2), r.between(5, 7))
      b.draw(t0 + cook - r.mins(2, 5), r.between(1, 3), r.between(4, 6))
    } else {
      b.draw(t0 + r.mins(1, 4), r.between(3, 8), r.between(4, 6))
      b.draw(t0 + r.mins(6, 10), r.between(2, 4), r.between(6, 8))
      b.draw(t0 + cook - r.mins(3, 6), r.between(1, 3), r.between(4, 6))
    }
    b.stay('kitchen', 'move', cook)
    b.stay(r.chance(0.4) ? 'kitchen' : 'living_room', 'sit', which === 'breakfast' ? r.mins(10, 25) : r.mins(15, 30))
    const dishes = which === 'breakfast' ? r.between(3, 6) : r.between(8, 20)
    const lpm = r.between(3, 5)
    const t1 = b.t + r.mins(0.5, 1.5)
    b.draw(t1, dishes, lpm)
    b.stay('kitchen', 'move', Math.max(r.mins(4, 10), t1 + (dishes / lpm) * MINUTE + 30 * SECOND - b.t))
  }

  private chores(r: Rng): void {
    const b = this.b
    if (r.chance(0.4)) b.draw(b.t + r.mins(0.5, 2), r.between(5, 10), r.between(6, 8))
    for (let i = r.int(2, 3); i > 0; i--) b.stay(r.pick(['kitchen', 'living_room', 'bedroom'] as const), 'move', r.mins(6, 15))
  }

  private laundry(r: Rng): void {
    const b = this.b
    b.stay('bathroom', 'move', r.mins(3, 6))
    const start = b.t
    const fills = r.int(3, 4)
    const each = r.between(40, 60) / fills
    const offsets = [0, r.between(12, 18), r.between(28, 38), r.between(45, 60)]
    for (let i = 0; i < fills; i++) b.draw(start + offsets[i]! * MINUTE, each, r.between(8, 12), 'machine', start)
  }

  private nap(r: Rng, ms: number): void {
    const b = this.b
    if (r.chance(0.5)) this.toilet(r)
    const room: Room = this.p.nap === 'armchair' ? 'living_room' : 'bedroom'
    b.stay(room, 'move', r.mins(0.5, 2))
    b.stay(room, 'nap', ms)
    b.stay(room, 'move', r.mins(2, 5))
  }

  private shower(r: Rng): void {
    const b = this.b
    if (r.chance(0.3)) this.toilet(r)
    b.stay('bathroom', 'move', r.mins(2, 4))
    const ms = r.mins(8, 20)
    const run = ms * r.between(0.75, 0.9)
    const litres = r.between(40, 80)
    b.draw(b.t + r.mins(0.2, 1), litres, Math.min(14, (litres * MINUTE) / run))
    b.stay('bathroom', 'shower', ms)
    b.stay('bathroom', 'move', r.mins(3, 6))
  }

  /** 45–100 min in all: the tub fills (80–150 L), then lying still; now and then a top-up. */
  private bath(r: Rng): void {
    const b = this.b
    const total = r.mins(45, 100)
    const t0 = b.t
    b.stay('bathroom', 'move', r.mins(1, 3))
    const litres = r.between(80, 150)
    const lpm = r.between(10, 14)
    const fillMs = (litres / lpm) * MINUTE
    b.draw(b.t, litres, lpm)
    if (r.chance(0.4)) {
      // Leaves while it fills.
      b.stay('living_room', 'sit', fillMs - r.mins(1, 3))
      b.stay('bathroom', 'move', r.mins(2, 4))
    } else b.stay('bathroom', 'move', fillMs + r.mins(1, 3))
    const after = r.mins(5, 10)
    const lying = Math.max(15 * MINUTE, total - (b.t - t0) - after)
    if (r.chance(0.3)) b.draw(b.t + lying * r.between(0.4, 0.7), r.between(10, 20), 10)
    b.stay('bathroom', 'bath', lying)
    b.stay('bathroom', 'move', after)
  }

  private visitor(r: Rng): void {
    const b = this.b
    const arrive = b.t + r.mins(0.3, 1)
    b.stay('entrance', 'move', r.mins(1, 2))
    b.door(arrive, 'visitor_in')
    const dur = r.mins(30, 90)
    const end = b.t + dur
    if (this.p.carer) {
      b.draw(b.t + r.mins(5, 15), r.between(5, 10), r.between(6, 8))
      b.draw(b.t + dur - r.mins(5, 15), r.between(8, 15), r.between(3, 5))
    }
    if (r.chance(0.5)) {
      b.stay('kitchen', 'move', r.mins(3, 6))
      this.b.draw(b.t - r.mins(2, 3), r.between(1, 2), r.between(5, 7))
    }
    b.until('living_room', 'sit', end)
    b.stay('entrance', 'move', r.mins(0.5, 1.5))
    b.door(b.t - r.mins(0.1, 0.4), 'visitor_out')
    b.visits.push({ from: arrive, to: b.t })
  }

  private delivery(r: Rng): void {
    const b = this.b
    const t0 = b.t
    b.stay('entrance', 'move', r.mins(1, 3))
    b.door(t0 + r.mins(0.3, 0.8), 'delivery')
  }

  /** Out through the entrance door and back after `ms`. */
  private goOut(r: Rng, ms: number, kind: Absence['kind']): void {
    const b = this.b
    b.stay('entrance', 'move', r.mins(0.5, 2))
    const exit = b.t
    b.door(exit, 'exit')
    b.stay(null, 'out', ms)
    this.comeBack(r, exit, kind, false)
  }

  private comeBack(r: Rng, exit: number, kind: Absence['kind'], announced: boolean): void {
    const b = this.b
    b.door(b.t, 'return')
    b.absences.push({ from: exit, to: b.t, kind, announced })
    // Toilet visits that fell due while out happened elsewhere.
    const ctx = this.ctx
    if (ctx) while (ctx.toilets.length > 0 && ctx.toilets[0]! <= b.t) ctx.toilets.shift()
    b.stay('entrance', 'move', r.mins(0.5, 1.5))
    if (kind === 'errand') b.stay(r.chance(0.5) ? 'kitchen' : 'living_room', 'move', r.mins(2, 8))
  }

  /** Leaves for a stay away; the family may come to fetch them (and bring them back). */
  private leaveFor(r: Rng, cal: CalendarEvent): void {
    const b = this.b
    let visit: number | null = null
    if (cal.family) {
      visit = b.t + r.mins(0.3, 1)
      b.stay('entrance', 'move', r.mins(1, 2))
      b.door(visit, 'visitor_in')
      b.stay('bedroom', 'move', r.mins(5, 15))
      b.stay('living_room', 'move', r.mins(5, 20))
    } else b.stay('bedroom', 'move', r.mins(5, 15))
    b.stay('entrance', 'move', r.mins(0.5, 2))
    const exit = b.t
    b.door(exit, 'exit')
    if (visit !== null) b.visits.push({ from: visit, to: exit })
    const back = Math.max(cal.back, exit + HOUR)
    b.until(null, 'out', back)
    const announced = cal.kind === 'hospital'
    if (announced) b.stays.push({ leave: exit, back })
    b.door(back, 'return')
    b.absences.push({ from: exit, to: back, kind: cal.kind, announced })
    b.stay('entrance', 'move', r.mins(0.5, 1.5))
    if (cal.family) {
      const until = b.t + r.mins(30, 120)
      b.stay('bedroom', 'move', r.mins(5, 10))
      b.until('living_room', 'sit', until)
      b.stay('entrance', 'move', r.mins(0.5, 1.5))
      b.door(b.t - r.mins(0.1, 0.4), 'visitor_out')
      b.visits.push({ from: back, to: b.t })
    }
    this.leftUntil = back
  }

  /** Unwell: in bed most of the day, up for the toilet and a little to eat or drink. */
  private badDay(r: Rng, ctx: DayCtx, clock: (h: number) => number, bedAt: number): void {
    const b = this.b
    this.kitchen(r, r.mins(3, 8), () => this.kettle(r))
    let ate = 0
    while (b.t < bedAt - 20 * MINUTE) {
      b.stay('bedroom', 'move', r.mins(0.5, 1.5))
      b.stay('bedroom', 'rest', Math.min(r.mins(60, 180), bedAt - b.t))
      if (b.t >= bedAt - 10 * MINUTE) break
      b.stay('bedroom', 'move', r.mins(0.5, 1.5))
      this.toilet(r)
      if ((ate === 0 && b.t > clock(11.5)) || (ate === 1 && b.t > clock(17.5))) {
        ate++
        if (r.chance(0.75)) {
          const t0 = b.t
          b.draw(t0 + r.mins(1, 3), r.between(1, 4), r.between(4, 6))
          b.stay('kitchen', 'move', r.mins(6, 15))
          if (r.chance(0.5)) b.stay('living_room', 'sit', r.mins(15, 60))
        }
      }
    }
    ctx.toilets.length = 0
  }

  /** The evening wash, bed, and the night up to the next day's wake-up. */
  private night(d: number, r: Rng): void {
    const b = this.b
    const p = this.p
    const t0 = b.t
    b.stay('bathroom', 'move', r.mins(5, 12))
    this.flush(t0 + r.mins(1, 2), r)
    b.draw(t0 + r.mins(3, 4.5), r.between(2, 4), r.between(4, 6))
    b.stay('bedroom', 'move', r.mins(3, 8))
    const sleep = b.t
    const wake = Math.max(this.draw(d + 1).wake, sleep + 3 * HOUR)
    const n = Number(r.weighted(NIGHT_TOILETS[p.nightToilets]))
    const events: { at: number; sit: boolean }[] = []
    const lo = sleep + 45 * MINUTE
    const hi = wake - 25 * MINUTE
    for (let i = 0; i < n && hi > lo; i++) events.push({ at: lo + Math.round(r.unit() * (hi - lo)), sit: false })
    if (p.nightSitP > 0 && r.chance(p.nightSitP)) {
      const a = Math.max(sleep + HOUR, this.midnight(d + 1) + 30 * MINUTE)
      const z = Math.min(wake - 90 * MINUTE, this.midnight(d + 1) + 3.5 * HOUR)
      if (z > a) events.push({ at: a + Math.round(r.unit() * (z - a)), sit: true })
    }
    events.sort((x, y) => x.at - y.at)
    for (const e of events) {
      if (e.at < b.t + 15 * MINUTE || e.at > wake - 20 * MINUTE) continue
      b.until('bedroom', 'asleep', e.at)
      b.stay('bedroom', 'move', r.mins(0.5, 1.5))
      if (e.sit) {
        const t1 = b.t
        b.stay('living_room', 'move', r.mins(1, 3))
        if (r.chance(0.4)) b.draw(t1 + 30 * SECOND, r.between(0.5, 1.5), r.between(5, 7))
        b.stay('living_room', 'sit', r.mins(20, 90))
      }
      this.toilet(r, r.mins(3, 8))
      b.stay('bedroom', 'move', r.mins(0.5, 1.5))
    }
    b.until('bedroom', 'asleep', Math.max(wake, b.t + 30 * MINUTE))
  }
}

/** Toilet visits in a night, by persona. */
const NIGHT_TOILETS: Record<Persona['nightToilets'], Record<'0' | '1' | '2' | '3', number>> = {
  rare: { '0': 0.8, '1': 0.2, '2': 0, '3': 0 },
  one: { '0': 0.25, '1': 0.55, '2': 0.2, '3': 0 },
  several: { '0': 0, '1': 0.2, '2': 0.45, '3': 0.35 },
}

interface DayCtx {
  r: Rng
  toilets: number[]
  due: boolean
  lastSit: boolean
}

// ── the collapse ──────────────────────────────────────────────────────────────

/** Index of the segment containing t (the first whose end is after t), or segs.length. */
export function segIndex(segs: readonly Seg[], t: number): number {
  let lo = 0
  let hi = segs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (segs[mid]!.to <= t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The life from `at` on: the elder lies where they fell and nothing they would do happens. A tap
 * running at that instant stops in 70 % of cases (`stopsTap`), else runs to its planned end; a
 * machine goes on; a flush already pressed refills.
 */
export function applyCollapse(life: Life, at: number, stopsTap: boolean): Room {
  const i = segIndex(life.segs, at)
  const seg = life.segs[i]!
  const room = seg.room!
  const segs = life.segs.slice(0, i + 1)
  if (seg.from < at) seg.to = at
  else segs.pop()
  segs.push({ from: at, to: FOREVER, room, act: 'collapsed' })
  life.segs = segs
  life.uses = life.uses
    .filter((u) => u.from < at || (u.src === 'machine' && u.cycle < at))
    .map((u) => (u.src === 'tap' && u.from < at && u.to > at && stopsTap ? { ...u, to: at } : u))
  life.doors = life.doors.filter((e) => e.at < at)
  life.visits = life.visits.filter((v) => v.from < at)
  life.absences = life.absences.filter((a) => a.from < at)
  life.stays = life.stays.filter((s) => s.leave < at)
  return room
}
