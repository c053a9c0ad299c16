/**
 * The simulated district the detection benchmark feeds through the platform: elders who live
 * alone, each with a persona drawn once and days that differ (life.ts), in homes with a varying
 * mix of devices that behave like real ones, flaws included (devices.ts).
 *
 * Some elders collapse once, at home; the rest live on. What the platform receives is
 * `messages(day)` (contract v1/v1.1 payloads, with the time each arrives), and the truth to score
 * against is `collapse`, `absences`, `stateAt`; `awayMode` is what the community operator enters;
 * `answerCheckin` / `answerFamily` are how the elder and the family answer the platform's
 * questions. Pure and seeded: the same options give the same district, byte for byte; messages
 * are generated per day on request and never held.
 *
 * On the wire: telemetry ids are the kind's letter and the ts in base 36 (unique per device);
 * `caps` is in the status a button publishes on (re)connect, and only buttons with a speaker have
 * it (older firmware predates v1.1); an NB-IoT batch meter sends its status with each upload, so
 * it is provisioned with a 12 h heartbeat. Each device's messages arrive in the order it sent
 * them, a few hundred ms after their ts (a batch meter's readings hours later).
 */
import { setupDevices, renderDay, WaterIndex, type HouseRender } from './devices.js'
import { Rng } from '../../firmware-sim/rng.js'
import { DAY, FOREVER, HOUR, MINUTE, applyCollapse, describePersona, drawPersona, hash, planLife, segIndex, unit, type Act } from './life.js'

export type Room = 'bathroom' | 'bedroom' | 'living_room' | 'kitchen' | 'entrance'

export interface DistrictOptions {
  households: number
  days: number
  seed: number
  /** Epoch ms of a local midnight (Asia/Shanghai, UTC+8, no DST) where the period starts. */
  from: number
  /** Share of homes whose elder collapses once (rounded to a whole number of homes). */
  collapseShare: number
}

export interface SimDevice {
  id: string
  kind: 'button' | 'water' | 'presence' | 'door'
  /** null for the button; the meter is registered in the kitchen. */
  room: Room | null
  /** Status heartbeat interval as provisioned: button 3600, sensors 1800, an NB-IoT batch meter 43200. */
  heartbeatS: number
  caps: string[]
  model: string
}

export interface WireMessage {
  /** When the platform receives it. */
  at: number
  deviceId: string
  channel: 'alarm' | 'telemetry' | 'status'
  payload: Record<string, unknown>
}

export interface Absence {
  from: number
  to: number
  kind: 'errand' | 'day_trip' | 'night_away' | 'hospital'
  announced: boolean
}

export type ElderState = 'awake' | 'asleep' | 'bath' | 'out' | 'collapsed'

export interface AwayMode {
  /** When the operator enters it. */
  setAt: number
  /** The planned start of the stay (addition: the real departure, to the minute). */
  from: number
  /** The planned return: up to a day before or after the real one. */
  until: number
}

export type FamilyAnswer = { at: number; answer: 'with_us'; until: number } | { at: number; answer: 'not_with_us' | 'phoned_safe' }

export interface SimHousehold {
  index: number
  key: string
  persona: Record<string, string | number | boolean>
  devices: SimDevice[]
  collapse: { at: number; room: Room } | null
  absences: Absence[]
  awayMode: AwayMode[]
  messages(day: number): WireMessage[]
  stateAt(t: number): ElderState
  answerCheckin(sentAt: number, timeoutS: number): number | null
  answerFamily(askedAt: number): FamilyAnswer | null
}

export function createDistrict(o: DistrictOptions): SimHousehold[] {
  if (!(Number.isInteger(o.households) && o.households >= 1 && o.households <= 100_000)) throw new Error('households: 1 to 100000')
  if (!(Number.isInteger(o.days) && o.days >= 1)) throw new Error('days: a whole number ≥ 1')
  if (!(o.collapseShare >= 0 && o.collapseShare <= 1)) throw new Error('collapseShare: 0 to 1')
  if (!Number.isInteger(o.from)) throw new Error('from: epoch ms')
  const seed = o.seed >>> 0
  // Which homes: exactly round(share × homes), chosen by the seed.
  const order = Array.from({ length: o.households }, (_, i) => i)
  const r = new Rng(hash(seed, 0xc011, 1))
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r.unit() * (i + 1))
    const x = order[i]!
    order[i] = order[j]!
    order[j] = x
  }
  const collapsing = new Set(order.slice(0, Math.round(o.collapseShare * o.households)))
  return Array.from({ length: o.households }, (_, i) => household(o, seed, i, collapsing.has(i)))
}

const STATE_OF: Record<Act, ElderState> = {
  asleep: 'asleep',
  nap: 'asleep',
  rest: 'awake',
  sit: 'awake',
  move: 'awake',
  toilet: 'awake',
  shower: 'bath',
  bath: 'bath',
  out: 'out',
  collapsed: 'collapsed',
}

function household(o: DistrictOptions, districtSeed: number, index: number, collapses: boolean): SimHousehold {
  const seed = hash(districtSeed, index, 0x4a5b)
  const key = String(index).padStart(4, '0')
  const end = o.from + o.days * DAY
  const p = drawPersona(new Rng(hash(seed, 1, 1)))
  const life = planLife(p, { seed, from: o.from, days: o.days })
  const setup = setupDevices(seed, key, o.from, o.days)

  // Announced stays: the operator enters them up to a day ahead; the planned return is ± a day.
  const ar = new Rng(hash(seed, 2, 2))
  let awayMode: AwayMode[] = life.stays.map((s) => ({
    setAt: Math.max(o.from, s.leave - ar.mins(0, 24 * 60)),
    from: Math.floor(s.leave / MINUTE) * MINUTE,
    until: Math.max(s.leave + 12 * HOUR, s.back + ar.mins(-24 * 60, 24 * 60)),
  }))

  let collapse: { at: number; room: Room } | null = null
  if (collapses) {
    const cr = new Rng(hash(seed, 3, 3))
    let lo = o.from + DAY
    let hi = end - DAY
    if (hi <= lo) {
      lo = o.from
      hi = end
    }
    const baths = life.segs.filter((s) => s.room === 'bathroom' && s.from >= lo && s.from < hi)
    for (let attempt = 0; attempt < 200 && collapse === null; attempt++) {
      let t: number
      const seg = cr.chance(0.4) && baths.length > 0 ? cr.pick(baths) : null
      if (seg) t = seg.from + Math.floor(cr.unit() * (seg.to - seg.from))
      else t = lo + Math.floor(cr.unit() * (hi - lo))
      const at = nextAtHome(t, cr)
      if (at !== null && at < hi) {
        const room = applyCollapse(life, at, cr.chance(0.7))
        collapse = { at, room }
        // Stays planned after the collapse never get entered.
        awayMode = awayMode.filter((w) => w.setAt < at)
      }
    }
  }

  /** The first instant from t on at home, not inside an announced stay, and alone. */
  function nextAtHome(t: number, cr: Rng): number | null {
    for (let k = 0; k < 50; k++) {
      let moved = false
      for (let i = 0; i < awayMode.length; i++) {
        const a = awayMode[i]!
        const stayEnd = Math.max(a.until, life.stays[i]!.back)
        if (t >= a.setAt && t < stayEnd) {
          t = stayEnd
          moved = true
        }
      }
      const seg = life.segs[segIndex(life.segs, t)]
      if (!seg) return null
      if (seg.room === null) {
        // Back home: in through the door, and a few steps on.
        t = seg.to + cr.mins(0.05, 2)
        moved = true
      }
      for (const v of life.visits) {
        if (t >= v.from && t < v.to) {
          t = v.to + cr.mins(1, 10)
          moved = true
        }
      }
      if (!moved) return t
    }
    return null
  }

  const render: HouseRender = { seed, persona: p, life, water: new WaterIndex(life.uses), devices: setup.devices, from: o.from }
  const absences = life.absences.filter((a) => a.to > o.from && a.from < end).sort((a, b) => a.from - b.from)
  const firstSeg = life.segs[0]!

  function stateAt(t: number): ElderState {
    if (collapse && t >= collapse.at) return 'collapsed'
    if (t < firstSeg.from) return 'asleep'
    const i = Math.min(segIndex(life.segs, t), life.segs.length - 1)
    return STATE_OF[life.segs[i]!.act]
  }

  /** When the elder's state (as ElderState) next changes after t, or FOREVER. */
  function nextChange(t: number): number {
    const segs = life.segs
    let i = segIndex(segs, t)
    const s = stateAt(t)
    for (; i < segs.length; i++) {
      const seg = segs[i]!
      if (seg.to > t && STATE_OF[seg.act] !== s) return Math.max(seg.from, t + 1)
    }
    return FOREVER
  }

  const speaker = setup.devices[0]!.dev.caps.includes('checkin')

  function answerCheckin(sentAt: number, timeoutS: number): number | null {
    if (!speaker || !(timeoutS > 0)) return null
    const deadline = sentAt + timeoutS * 1000
    let t = sentAt
    for (let k = 0; k < 20 && t < deadline; k++) {
      const s = stateAt(t)
      if (s === 'collapsed') return null
      if (s !== 'out') {
        // The prompt repeats each minute: the elder hears the next one from t on.
        const prompt = sentAt + Math.ceil((t - sentAt) / MINUTE) * MINUTE
        if (prompt >= deadline) return null
        const u1 = unit(seed, sentAt, 0xc4ec0 + 2 * k)
        const u2 = unit(seed, sentAt, 0xc4ec1 + 2 * k)
        const hoh = p.hardOfHearing
        const [pr, lo, hi] = s === 'awake' ? [hoh ? 0.75 : 0.95, 10, 120] : s === 'asleep' ? [hoh ? 0.35 : 0.55, 60, 240] : [hoh ? 0.5 : 0.7, 30, 180]
        if (u1 < pr) {
          const press = prompt + Math.round((lo + (hi - lo) * u2) * 1000)
          const then = stateAt(press)
          if (press < deadline && then !== 'out' && then !== 'collapsed') return press
          if (press >= deadline) return null
        }
      }
      t = nextChange(t)
    }
    return null
  }

  function answerFamily(askedAt: number): FamilyAnswer | null {
    if (p.familyNever) return null
    const u = (salt: number) => unit(seed, askedAt, 0xfa170 + salt)
    const local = (((askedAt - o.from) % DAY) + DAY) % DAY
    const night = local >= 22 * HOUR || local < 7 * HOUR
    let at: number
    if (u(1) < (night ? p.familyNightP : p.familyDayP)) at = askedAt + Math.round((5 + 85 * u(2)) * MINUTE)
    else if (night && u(3) < 0.5) {
      // Seen in the morning.
      const seven = askedAt - local + 7 * HOUR + (local >= 22 * HOUR ? DAY : 0)
      at = seven + Math.round(90 * u(4) * MINUTE)
    } else return null
    const state = stateAt(at)
    if (state === 'collapsed') return u(5) < 0.5 ? null : { at, answer: 'not_with_us' }
    const away = absences.find((a) => a.from <= at && at < a.to)
    if (away && (away.kind === 'night_away' || away.kind === 'hospital')) {
      // Back by the evening of the day they return, they say.
      const dayOf = away.to - ((((away.to - o.from) % DAY) + DAY) % DAY)
      const until = away.to <= dayOf + 18 * HOUR ? dayOf + 18 * HOUR : dayOf + DAY + 18 * HOUR
      return { at, answer: 'with_us', until }
    }
    if (away) return { at, answer: u(6) < 0.7 ? 'phoned_safe' : 'not_with_us' }
    return { at, answer: 'phoned_safe' }
  }

  return {
    index,
    key,
    persona: { ...describePersona(p), ...setup.persona, collapses: collapse !== null },
    devices: setup.devices.map((d) => d.dev),
    collapse,
    absences,
    awayMode,
    messages: (day: number) => (Number.isInteger(day) && day >= 0 && day < o.days ? renderDay(render, day) : []),
    stateAt,
    answerCheckin,
    answerFamily,
  }
}
