/**
 * A seeded household that lives like a person: an elder's day in the home (sleep, washing,
 * three meals, a nap, an outing, the evening wash, a toilet visit or two at night) rendered
 * into what the home's six devices would publish under contract v1. Pure: no I/O, no clock,
 * no Math.random; the same options give the same events, byte for byte.
 *
 * Two steps, kept apart so each reads on its own:
 *   1. plan: each local day becomes a list of stays (where the person is, moving or not) and
 *      water uses (start, end, L/min), plus the instants the entrance door opens; a scenario
 *      then edits that life (collapse, wander, a tap left open, a leak);
 *   2. render: each device turns the life into its messages (presence on change and every
 *      10 min, the meter on change and every 30 min, the door on open/close, status heartbeats).
 *
 * A normal life is built to raise no detector condition with the default settings; the margins
 * are noted where they matter (the longest dry spell, the longest still spell, a daily door).
 */
import type { AlarmPayload, AlarmType, StatusPayload, TelemetryPayload } from '../src/contract/index.js'
import { Rng } from './rng.js'

export const HOUSEHOLD_DEVICES = [
  { role: 'button', prefix: 'btn', kind: 'button', room: null, heartbeatS: 3600 },
  { role: 'water', prefix: 'wm', kind: 'water', room: 'kitchen', heartbeatS: 300 },
  { role: 'bedroom', prefix: 'prb', kind: 'presence', room: 'bedroom', heartbeatS: 300 },
  { role: 'bathroom', prefix: 'prt', kind: 'presence', room: 'bathroom', heartbeatS: 300 },
  { role: 'living', prefix: 'prl', kind: 'presence', room: 'living_room', heartbeatS: 300 },
  { role: 'door', prefix: 'dr', kind: 'door', room: 'entrance', heartbeatS: 300 },
] as const
export type DeviceRole = (typeof HOUSEHOLD_DEVICES)[number]['role']

export const SCENARIOS = ['sos', 'fall', 'cancel', 'collapse', 'tap-left-open', 'leak', 'wander', 'battery-drain', 'offline'] as const
export type Scenario = (typeof SCENARIOS)[number]

export interface SimEvent {
  at: number
  role: DeviceRole
  channel: 'alarm' | 'telemetry' | 'status'
  payload: Record<string, unknown>
  /** The device's line drops here and the broker publishes its Last Will (payload `{ online: false }`). */
  lastWill?: boolean
}

export interface HouseholdOptions {
  seed: number
  from: number
  to: number
  /** Default Asia/Shanghai. */
  timeZone?: string
  scenario?: Scenario
  /** When the scenario starts; default from + 1 h. */
  scenarioAt?: number
  /** Status heartbeats; default true. */
  heartbeats?: boolean
}

export function deviceId(role: DeviceRole, householdKey: string): string {
  return `${DEVICE_BY_ROLE[role].prefix}-${householdKey}`
}

/**
 * How each scenario plays out, for whoever checks a run:
 * - sos / fall / cancel: an alarm from the button at scenarioAt (cancel: sos, then cancel 30 s
 *   later); the detectors see nothing.
 * - collapse: still in the bedroom from scenarioAt, no water, no door → no_water and inactivity
 *   12 h after the last use / movement (and morning_check if the still spell covers 10:00).
 * - tap-left-open: 6 L/min for 90 min → continuous_flow after 60 min.
 * - leak: 0.05 L/min for 26 h → leak about 24–25 h in. The meter shows no instantaneous flow
 *   that small (its low-flow cutoff), so only the register and the leak rule see it.
 * - wander: at about 01:00 on the first night after scenarioAt the door opens and the person is
 *   gone → wandering 30 min later. Run at least 2 h past the exit; by about 09:00 no_water
 *   follows, by 10:00 morning_check and 12 h after the exit inactivity.
 * - battery-drain: the button's battery falls below 20 % about 3 h in (seen at its hourly status).
 * - offline: the meter's Last Will at scenarioAt, then silence → device_offline for the meter;
 *   its missing data is never read as no water.
 */
export function simulateHousehold(o: HouseholdOptions): SimEvent[] {
  if (!(o.to > o.from)) return []
  const timeZone = o.timeZone ?? 'Asia/Shanghai'
  const scenarioAt = o.scenarioAt ?? o.from + HOUR
  const traits = householdTraits(o.seed)
  let life = planLife(o.seed, o.from, o.to, timeZone)
  if (o.scenario) life = applyScenario(life, o.scenario, scenarioAt, o.seed, o.to, timeZone)

  const out = new EventSink()
  const meterSilentFrom = o.scenario === 'offline' ? scenarioAt : Infinity
  renderPresence(out, life, o.from, o.to)
  renderWater(out, life, traits, o.from, Math.min(o.to, meterSilentFrom))
  renderDoor(out, life, o.from, o.to)
  if (o.heartbeats !== false) renderStatus(out, traits, o, scenarioAt, meterSilentFrom)
  if (o.scenario === 'offline' && scenarioAt >= o.from && scenarioAt < o.to) {
    // The Last Will is set at connect time, so it carries no ts and no id: contract §status.
    out.push(scenarioAt, 'water', 'status', { online: false }, true)
  }
  if (o.scenario === 'sos' || o.scenario === 'fall' || o.scenario === 'cancel') {
    const battery = (t: number) => buttonBattery(traits, o, scenarioAt, t)
    const press = (at: number, type: AlarmType) => {
      if (at >= o.from && at < o.to) out.push(at, 'button', 'alarm', { id: out.nextId('button', at), ts: at, type, battery: battery(at) } satisfies AlarmPayload)
    }
    press(scenarioAt, o.scenario === 'fall' ? 'fall' : 'sos')
    if (o.scenario === 'cancel') press(scenarioAt + 30 * SECOND, 'cancel')
  }
  return out.sorted()
}

// ── time ──────────────────────────────────────────────────────────────────────

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const offsets = new Map<string, number>()

/** Local time minus UTC at `at`; one Intl lookup per zone and hour (Shanghai: always +8 h). */
function utcOffsetMs(at: number, timeZone: string): number {
  const key = `${timeZone}|${Math.floor(at / HOUR)}`
  let offset = offsets.get(key)
  if (offset === undefined) {
    const parts: Record<string, number> = {}
    const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    for (const p of f.formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value)
    offset = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - Math.floor(at / SECOND) * SECOND
    if (offsets.size > 10_000) offsets.clear()
    offsets.set(key, offset)
  }
  return offset
}

/** The instant of local midnight that starts the day containing `at`. */
function localMidnight(at: number, timeZone: string): number {
  const offset = utcOffsetMs(at, timeZone)
  const local = at + offset
  return local - (((local % DAY) + DAY) % DAY) - offset
}

/** Local day number (days since 1970-01-01 local): the day's own seed, whatever the run's window. */
function localDayNumber(midnight: number, timeZone: string): number {
  return Math.round((midnight + utcOffsetMs(midnight, timeZone)) / DAY)
}

// ── randomness ────────────────────────────────────────────────────────────────

/** Combines numbers into one 32-bit seed, so each day and each device draws its own stream. */
function seedOf(...parts: number[]): number {
  let h = 0x811c9dc5
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x01000193)
    h = Math.imul(h ^ Math.floor(p / 4294967296), 0x01000193)
    h ^= h >>> 13
  }
  return h >>> 0
}

// ── the household and its devices ─────────────────────────────────────────────

type DeviceSpec = (typeof HOUSEHOLD_DEVICES)[number]
const DEVICE_BY_ROLE = Object.fromEntries(HOUSEHOLD_DEVICES.map((d) => [d.role, d])) as Record<DeviceRole, DeviceSpec>
const ROLE_ORDER = Object.fromEntries(HOUSEHOLD_DEVICES.map((d, i) => [d.role, i])) as Record<DeviceRole, number>
const FIRMWARE: Record<DeviceSpec['kind'], string> = { button: '2.4.1', water: '1.8.0', presence: '3.1.2', door: '1.2.5' }

interface DeviceTraits {
  battery: number
  /** Percent per hour. */
  drainPerHour: number
  rssi: number
}

interface Traits {
  registerM3: number
  devices: Record<DeviceRole, DeviceTraits>
}

function householdTraits(seed: number): Traits {
  const rng = new Rng(seedOf(seed, 0x7a17))
  const registerM3 = Math.round(rng.between(100, 2000) * 1000) / 1000
  const devices = {} as Record<DeviceRole, DeviceTraits>
  for (const d of HOUSEHOLD_DEVICES) {
    devices[d.role] = { battery: rng.between(60, 100), drainPerHour: rng.between(0.01, 0.05), rssi: Math.round(rng.between(-88, -55)) }
  }
  return { registerM3, devices }
}

// ── step 1: the plan ──────────────────────────────────────────────────────────

/** Where the person is. The living-room radar also covers the open kitchen, where meals are cooked. */
type Place = 'bedroom' | 'bathroom' | 'living_room' | 'out'

/** The person in one place from `from` to `to`; `moving` is what a radar calls motion. */
interface Stay {
  from: number
  to: number
  place: Place
  moving: boolean
  what: string
}

interface WaterUse {
  from: number
  to: number
  lpm: number
}

interface Life {
  stays: Stay[]
  uses: WaterUse[]
  doorOpenings: number[]
}

/** A water use within a stay: starts `at` minutes into it, lasts `minutes`, at `lpm`. */
type Tap = { at: number; minutes: number; lpm: number }

/** Writes one day as consecutive stays; the cursor only moves forward. */
class DayBuilder {
  readonly stays: Stay[] = []
  readonly uses: WaterUse[] = []
  readonly doorOpenings: number[] = []
  constructor(public t: number) {}

  stay(place: Place, ms: number, what: string, o: { moving?: boolean; taps?: Tap[] } = {}): this {
    if (ms <= 0) return this
    for (const tap of o.taps ?? []) {
      const from = this.t + Math.round(tap.at * MINUTE)
      this.uses.push({ from, to: Math.min(from + Math.round(tap.minutes * MINUTE), this.t + ms), lpm: tap.lpm })
    }
    this.stays.push({ from: this.t, to: this.t + ms, place, moving: o.moving ?? true, what })
    this.t += ms
    return this
  }

  stayUntil(place: Place, until: number, what: string, moving = true): this {
    return this.stay(place, until - this.t, what, { moving })
  }

  /** Out through the entrance door and back: it opens on the way out and on the way in. */
  goOut(ms: number, what: string): this {
    this.doorOpenings.push(this.t, this.t + ms)
    // Back in, the living-room radar sees the person half a minute after the door opens.
    return this.stay('out', ms + 30 * SECOND, what)
  }
}

/** Toilet flush: 6 L in 45 s. */
const flush = (at: number): Tap => ({ at, minutes: 0.75, lpm: 8 })

/**
 * One local day, 00:00 to 24:00. The margins that keep the detectors quiet:
 * - bed 21:30–22:30, up 06:30–07:30: at most 10 h without motion (inactivity needs 12 h);
 * - the evening wash (≥ 50 L) ends after 20:50 and the morning flush comes by 07:45: under 11 h
 *   without water (no_water needs 12 h under 10 L); 8 h of dry night slots (leak needs none);
 * - up by 07:30: activity inside 05:00–10:00 (morning_check);
 * - the longest water use is 10 min (continuous_flow: 60), the longest bathroom stay 30 min
 *   (bathroom_dwell: 60); the door opens every day (door_idle: 48 h), never at night (wandering).
 */
function planDay(midnight: number, rng: Rng): Life {
  // Times of day count from local midnight: right for Shanghai (no daylight saving); on a
  // zone's daylight-saving day the hours after the change come out an hour early or late.
  const clock = (h: number, m = 0) => midnight + (h * 60 + m) * MINUTE
  const wake = clock(6, 30) + rng.minutes(0, 60)
  const bed = clock(21, 30) + rng.minutes(0, 60)
  const lunch = clock(11, 30) + rng.minutes(0, 30)
  const dinner = clock(17, 30) + rng.minutes(0, 30)
  const longOuting = rng.chance(0.8) // shopping, a walk, the community centre; else just the rubbish
  const outingInMorning = rng.chance(0.5)
  const outingMs = (latestBack: number, start: number) =>
    longOuting ? Math.min(rng.minutes(60, 180), latestBack - start) : rng.minutes(5, 15)
  const b = new DayBuilder(midnight)

  // Night: asleep, with 0–2 trips to the toilet between 01:00 and 04:00.
  for (const visit of nightVisits(rng, clock)) {
    b.stayUntil('bedroom', visit, 'asleep', false)
    b.stay('bedroom', MINUTE, 'gets up at night')
    const toilet = rng.minutes(3, 8)
    b.stay('bathroom', toilet, 'toilet at night', { taps: [flush(toilet / MINUTE - 1)] })
    b.stay('bedroom', MINUTE, 'back to bed')
  }
  b.stayUntil('bedroom', wake, 'asleep', false)

  // Morning.
  b.stay('bedroom', rng.minutes(4, 10), 'gets up')
  b.stay('bathroom', rng.minutes(15, 25), 'morning wash', { taps: [flush(1), { at: 4, minutes: rng.between(3, 6), lpm: 5 }] })
  const breakfast = rng.minutes(25, 40)
  b.stay('living_room', breakfast, 'breakfast', { taps: [{ at: 2, minutes: 1.5, lpm: 5 }, { at: breakfast / MINUTE - 6, minutes: 3, lpm: 5 }] })
  if (outingInMorning) {
    const start = b.t + rng.minutes(10, 40)
    b.stayUntil('living_room', start, 'at home')
    b.goOut(outingMs(lunch - 15 * MINUTE, start), longOuting ? 'outing' : 'takes out the rubbish')
  }

  // Midday: lunch, then a nap with little motion.
  b.stayUntil('living_room', lunch, 'at home')
  const lunchMs = rng.minutes(40, 60)
  b.stay('living_room', lunchMs, 'cooks and eats lunch', {
    taps: [{ at: 5, minutes: 3, lpm: 6 }, { at: 15, minutes: 2, lpm: 4 }, { at: lunchMs / MINUTE - 8, minutes: 4, lpm: 6 }],
  })
  b.stayUntil('living_room', Math.max(b.t + 5 * MINUTE, clock(13) + rng.minutes(0, 20)), 'at home')
  b.stay('bedroom', rng.minutes(60, 90), 'naps', { moving: false })
  b.stay('bedroom', 2 * MINUTE, 'gets up from the nap')
  b.stay('bathroom', rng.minutes(3, 6), 'toilet', { taps: [flush(1)] })

  // Afternoon.
  if (!outingInMorning) {
    const start = Math.max(b.t + 10 * MINUTE, clock(14, 45)) + rng.minutes(0, 45)
    b.stayUntil('living_room', start, 'at home')
    b.goOut(outingMs(dinner - 15 * MINUTE, start), longOuting ? 'outing' : 'takes out the rubbish')
  }
  b.stayUntil('living_room', dinner, 'at home')
  const dinnerMs = rng.minutes(45, 60)
  b.stay('living_room', dinnerMs, 'cooks and eats dinner', {
    taps: [{ at: 5, minutes: 3, lpm: 6 }, { at: 20, minutes: 2, lpm: 4 }, { at: dinnerMs / MINUTE - 10, minutes: 5, lpm: 6 }],
  })

  // Evening: television, the evening wash (a shower), bed.
  b.stayUntil('living_room', bed - rng.minutes(25, 40), 'watches television')
  b.stay('bathroom', rng.minutes(20, 30), 'evening wash', { taps: [flush(2), { at: 5, minutes: rng.between(6, 10), lpm: 8 }] })
  b.stayUntil('living_room', bed, 'at home')
  b.stay('bedroom', rng.minutes(3, 8), 'goes to bed')
  b.stayUntil('bedroom', clock(24), 'asleep', false)
  return b
}

function nightVisits(rng: Rng, clock: (h: number, m?: number) => number): number[] {
  const r = rng.unit()
  if (r < 0.35) return []
  if (r < 0.8) return [clock(1) + rng.minutes(0, 170)]
  // Two visits: the first by 02:20, the second at least 40 min later and by 03:50.
  const first = clock(1) + rng.minutes(0, 80)
  return [first, first + rng.minutes(40, (clock(3, 50) - first) / MINUTE)]
}

/** Every local day that overlaps [from, to), each from its own seed: a day is the same whatever the window. */
function planLife(seed: number, from: number, to: number, timeZone: string): Life {
  const life: Life = { stays: [], uses: [], doorOpenings: [] }
  for (let midnight = localMidnight(from, timeZone); midnight < to; midnight = localMidnight(midnight + 30 * HOUR, timeZone)) {
    const day = planDay(midnight, new Rng(seedOf(seed, localDayNumber(midnight, timeZone))))
    // A day that is not 24 h long (daylight saving elsewhere) is stitched to the next one.
    const next = localMidnight(midnight + 30 * HOUR, timeZone)
    const last = day.stays[day.stays.length - 1]
    if (last) last.to = next
    life.stays.push(...day.stays.filter((s) => s.from < next))
    life.uses.push(...day.uses)
    life.doorOpenings.push(...day.doorOpenings)
  }
  return life
}

// ── scenarios that change the life ────────────────────────────────────────────

/** The life up to `at`: stays and water uses cut there, door openings before it kept. */
function cutAt(life: Life, at: number): Life {
  return {
    stays: life.stays.filter((s) => s.from < at).map((s) => (s.to > at ? { ...s, to: at } : s)),
    uses: life.uses.filter((u) => u.from < at).map((u) => (u.to > at ? { ...u, to: at } : u)),
    doorOpenings: life.doorOpenings.filter((t) => t < at),
  }
}

function applyScenario(life: Life, scenario: Scenario, at: number, seed: number, to: number, timeZone: string): Life {
  const end = Math.max(to, at) + DAY
  switch (scenario) {
    case 'collapse': {
      // Lying in the bedroom: the radar sees someone there, but no motion; nothing else happens.
      const cut = cutAt(life, at)
      return { ...cut, stays: [...cut.stays, { from: at, to: end, place: 'bedroom', moving: false, what: 'lies still' }] }
    }
    case 'tap-left-open':
      return { ...life, uses: [...life.uses, { from: at, to: at + 90 * MINUTE, lpm: 6 }] }
    case 'leak':
      return { ...life, uses: [...life.uses, { from: at, to: at + 26 * HOUR, lpm: LEAK_LPM }] }
    case 'wander': {
      // The first 01:00 at or after `at` (give or take a quarter of an hour): up, to the door, gone.
      let exit = localMidnight(at, timeZone) + HOUR
      if (exit < at) exit = localMidnight(exit + 30 * HOUR, timeZone) + HOUR
      exit += new Rng(seedOf(seed, 0x3a4d)).minutes(-10, 15)
      const cut = cutAt(life, exit - 3 * MINUTE)
      const b = new DayBuilder(exit - 3 * MINUTE)
      b.stay('bedroom', MINUTE, 'gets up').stay('living_room', 2 * MINUTE, 'walks to the door')
      b.doorOpenings.push(exit)
      b.stay('out', end - exit, 'wandered off')
      return { stays: [...cut.stays, ...b.stays], uses: cut.uses, doorOpenings: [...cut.doorOpenings, ...b.doorOpenings] }
    }
    case 'sos':
    case 'fall':
    case 'cancel':
    case 'battery-drain':
    case 'offline':
      return life // devices' matters, rendered below
  }
}

// ── step 2: what the devices publish ──────────────────────────────────────────

const PRESENCE_EVERY = 10 * MINUTE
const METER_EVERY = 30 * MINUTE
const DOOR_CLOSES_AFTER = 20 * SECOND
const LEAK_LPM = 0.05
/**
 * The meter's low-flow cutoff: below it the instantaneous flow reads 0 (it is noise to the
 * meter) while the register still counts. A dripping pipe therefore shows only in the register,
 * which is what the leak rule reads; continuous_flow is for a tap left running.
 */
const FLOW_CUTOFF_LPM = 0.5
/** The register's resolution: 0.1 L, i.e. 10,000 steps per m³. */
const REGISTER_STEPS_PER_M3 = 10_000

class EventSink {
  private readonly events: { e: SimEvent; order: number }[] = []
  private readonly counters = new Map<DeviceRole, number>()

  /** `${prefix}-${at}-${n}`: unique among this device's messages (contract §Payloads `id`). */
  nextId(role: DeviceRole, at: number): string {
    const n = (this.counters.get(role) ?? 0) + 1
    this.counters.set(role, n)
    return `${DEVICE_BY_ROLE[role].prefix}-${at}-${n}`
  }

  push(at: number, role: DeviceRole, channel: SimEvent['channel'], payload: Record<string, unknown>, lastWill = false): void {
    this.events.push({ e: { at, role, channel, payload, ...(lastWill ? { lastWill: true } : {}) }, order: this.events.length })
  }

  /** By time; at the same instant in device order, then in the order produced. */
  sorted(): SimEvent[] {
    return this.events
      .sort((a, b) => a.e.at - b.e.at || ROLE_ORDER[a.e.role] - ROLE_ORDER[b.e.role] || a.order - b.order)
      .map(({ e }) => e)
  }
}

/**
 * Report instants of a sensor that reports on change and at least every `every`: the periodic
 * timer restarts at each report, so a change never lands on the same millisecond as a report.
 */
function reportTimes(changes: number[], from: number, to: number, every: number): number[] {
  const times: number[] = []
  let last = from
  times.push(from)
  for (const c of [...changes, to]) {
    for (let t = last + every; t < c && t < to; t += every) times.push((last = t))
    if (c > last && c < to) times.push((last = c))
  }
  return times
}

const ROOM_OF: Record<'bedroom' | 'bathroom' | 'living', Place> = { bedroom: 'bedroom', bathroom: 'bathroom', living: 'living_room' }

/** Each radar: `{ occupied, motion }` for its room, on change and every 10 min. */
function renderPresence(out: EventSink, life: Life, from: number, to: number): void {
  for (const role of ['bedroom', 'bathroom', 'living'] as const) {
    const place = ROOM_OF[role]
    const seen = (s: Stay) => ({ occupied: s.place === place, motion: s.place === place && s.moving })
    const stays = life.stays.filter((s) => s.to > from && s.from < to)
    const changes: number[] = []
    for (let i = 1; i < stays.length; i++) {
      const a = seen(stays[i - 1]!)
      const b = seen(stays[i]!)
      if (a.occupied !== b.occupied || a.motion !== b.motion) changes.push(stays[i]!.from)
    }
    let k = 0
    for (const at of reportTimes(changes.filter((c) => c > from), from, to, PRESENCE_EVERY)) {
      while (k < stays.length - 1 && stays[k]!.to <= at) k++
      const stay = stays[k]
      const state = stay && stay.from <= at ? seen(stay) : { occupied: false, motion: false }
      out.push(at, role, 'telemetry', { id: out.nextId(role, at), ts: at, kind: 'presence', ...state } satisfies TelemetryPayload)
    }
  }
}

/** The meter: `{ totalM3, flowLpm }` when its reading of the flow changes and every 30 min. */
function renderWater(out: EventSink, life: Life, traits: Traits, from: number, to: number): void {
  if (!(to > from)) return
  const uses = life.uses.filter((u) => u.to > from && u.from < to)
  const flowAt = (t: number) => {
    let lpm = 0
    for (const u of uses) if (u.from <= t && t < u.to) lpm += u.lpm
    return lpm < FLOW_CUTOFF_LPM ? 0 : Math.round(lpm * 10) / 10
  }
  const litresBy = (t: number) => {
    let litres = 0
    for (const u of uses) litres += (u.lpm * Math.max(0, Math.min(u.to, t) - Math.max(u.from, from))) / MINUTE
    return litres
  }
  const edges = [...new Set(uses.flatMap((u) => [u.from, u.to]))].filter((t) => t > from && t < to).sort((a, b) => a - b)
  const changes: number[] = []
  let shown = flowAt(from)
  for (const t of edges) {
    const flow = flowAt(t)
    if (flow !== shown) changes.push(t)
    shown = flow
  }
  for (const at of reportTimes(changes, from, to, METER_EVERY)) {
    // The register only grows: 0.1 L steps, rounded down like a meter's display.
    const totalM3 = Math.floor((traits.registerM3 + litresBy(at) / 1000) * REGISTER_STEPS_PER_M3 + 1e-6) / REGISTER_STEPS_PER_M3
    out.push(at, 'water', 'telemetry', { id: out.nextId('water', at), ts: at, kind: 'water', totalM3, flowLpm: flowAt(at) } satisfies TelemetryPayload)
  }
}

/** The entrance contact: open, and closed again 20 s later (the door closer). */
function renderDoor(out: EventSink, life: Life, from: number, to: number): void {
  for (const opened of life.doorOpenings) {
    for (const [at, open] of [[opened, true], [opened + DOOR_CLOSES_AFTER, false]] as const) {
      if (at >= from && at < to) out.push(at, 'door', 'telemetry', { id: out.nextId('door', at), ts: at, kind: 'door', open } satisfies TelemetryPayload)
    }
  }
}

/** Battery in whole percent: a slow seeded drain; the button's drains fast in `battery-drain`. */
function batteryAt(traits: Traits, role: DeviceRole, o: HouseholdOptions, scenarioAt: number, t: number): number {
  if (role === 'button') return buttonBattery(traits, o, scenarioAt, t)
  const d = traits.devices[role]
  return Math.max(1, Math.round(d.battery - (d.drainPerHour * (t - o.from)) / HOUR))
}

function buttonBattery(traits: Traits, o: HouseholdOptions, scenarioAt: number, t: number): number {
  const d = traits.devices.button
  const slow = (at: number) => d.battery - (d.drainPerHour * (at - o.from)) / HOUR
  if (o.scenario !== 'battery-drain' || t < scenarioAt) return Math.max(1, Math.round(slow(t)))
  // A failing cell: from its level at scenarioAt to 15 % in 3 h, then on down to 5 %.
  const start = slow(scenarioAt)
  return Math.max(5, Math.round(start - ((start - 15) * (t - scenarioAt)) / (3 * HOUR)))
}

/** `{ ts, online, battery, rssi, fw }` at `from` and every heartbeat interval (contract §status). */
function renderStatus(out: EventSink, traits: Traits, o: HouseholdOptions, scenarioAt: number, meterSilentFrom: number): void {
  for (const d of HOUSEHOLD_DEVICES) {
    const rng = new Rng(seedOf(o.seed, 0x5717, ROLE_ORDER[d.role]))
    const until = d.role === 'water' ? Math.min(o.to, meterSilentFrom) : o.to
    for (let at = o.from; at < until; at += d.heartbeatS * SECOND) {
      const rssi = traits.devices[d.role].rssi + Math.round(rng.between(-3, 3))
      out.push(at, d.role, 'status', { ts: at, online: true, battery: batteryAt(traits, d.role, o, scenarioAt, at), rssi, fw: FIRMWARE[d.kind] } satisfies StatusPayload)
    }
  }
}
