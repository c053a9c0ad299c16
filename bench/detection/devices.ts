/**
 * The devices of a home and what they publish, rendered from the elder's life (life.ts) one day
 * at a time.
 *
 * Every device reports on a fixed timer (its own phase) plus on change, as the contract allows
 * ("on change and at least every 10 min"); each day is rendered from a window that starts a few
 * hours earlier, and every random choice a device makes (a missed movement, a ghost occupancy,
 * a lost message, the network delay) is a hash of the device's seed and the instant concerned,
 * so any day can be rendered on its own and comes out the same whatever was rendered before.
 */
import type { Room, SimDevice, WireMessage } from './district.js'
import {
  DAY,
  HOUR,
  MINUTE,
  MOVING,
  SECOND,
  hash,
  segIndex,
  spotOf,
  stillMoves,
  unit,
  type Life,
  type Persona,
  type Spot,
  type WaterUse,
} from './life.js'
import { Rng } from '../../firmware-sim/rng.js'

export interface PresenceCfg {
  tech: 'mmwave' | 'pir'
  /** Rooms this sensor sees (a living-room sensor may see an open kitchen). */
  covers: Room[]
  /** Offset of its periodic report timer. */
  phase: number
  /** PIR: how long `occupied` stays true after the last movement. */
  holdMs: number
  /** PIR: the part of the room it does not see. */
  blind: Spot
  /** PIR: chance that a small movement (turning over, shifting in a chair) triggers it. */
  pirSense: number
  /** mmWave: chance of missing a small movement. */
  mmMiss: number
  /** mmWave: chance, per departure, of ghost occupancy; after a bath or shower (steam). */
  ghostP: number
  steamGhostP: number
}

export interface MeterCfg {
  model: 'meter-change' | 'meter-15' | 'meter-60' | 'meter-batch'
  /** Reading interval: 30 min (periodic report of a change meter), 15/60 min. */
  every: number
  phase: number
  /** The register at the start, whole litres. */
  register0L: number
  /** meter-batch: the successful uploads (a failed upload's readings go with the next one). */
  uploads: number[]
}

export interface DeviceRuntime {
  dev: SimDevice
  seed: number
  connectAt: number
  battery0: number
  /** Percent per day; 0 for mains power (battery reads 100). */
  drainPerDay: number
  rssi: number
  fw: string
  latencyMs: number
  /** One of the ~10 % of devices that lose messages and go silent now and then. */
  flaky: boolean
  /** Share of messages lost (flaky devices). */
  loss: number
  /** Spells without any message (flaky devices), each ended by a status on reconnect. */
  silences: { from: number; to: number }[]
  presence: PresenceCfg | null
  meter: MeterCfg | null
}

export interface DeviceSetup {
  devices: DeviceRuntime[]
  persona: Record<string, string | number | boolean>
}

const ROOM_TAG: Record<Room, string> = { bathroom: 'bath', bedroom: 'bed', living_room: 'liv', kitchen: 'kit', entrance: 'ent' }

/** Draws the home's devices: which, where, which models, and how well each behaves. */
export function setupDevices(seed: number, key: string, from: number, days: number): DeviceSetup {
  const r = new Rng(hash(seed, 0xde71ce, 3))
  const devices: DeviceRuntime[] = []
  const end = from + (days + 1) * DAY
  const base = (dev: SimDevice, fw: string, mains: boolean): DeviceRuntime => {
    const flaky = r.chance(0.1)
    const silences: { from: number; to: number }[] = []
    if (flaky && dev.model !== 'meter-batch') {
      const perWeek = r.between(0.5, 3)
      let t = from + r.mins(60, 7 * 24 * 60 / perWeek)
      while (t < end) {
        const to = t + r.mins(60, 240)
        silences.push({ from: t, to })
        t = to + r.mins(120, 2 * 7 * 24 * 60 / perWeek)
      }
    }
    return {
      dev,
      seed: hash(seed, devices.length, 0x5eed),
      connectAt: from + r.mins(0, 1 / 3),
      battery0: mains ? 100 : r.between(35, 100),
      drainPerDay: mains ? 0 : r.between(0.01, 0.12),
      rssi: Math.round(r.between(-95, -55)),
      fw,
      latencyMs: Math.round(r.between(30, 250)),
      flaky,
      loss: flaky ? r.between(0.01, 0.05) : 0,
      silences,
      presence: null,
      meter: null,
    }
  }

  // The button: a speaker on three in four.
  const speaker = r.chance(0.75)
  devices.push(base({ id: `btn-${key}`, kind: 'button', room: null, heartbeatS: 3600, caps: speaker ? ['checkin', 'voice'] : [], model: 'button' }, speaker ? '3.0.2' : '2.4.1', false))

  // The water meter.
  const model = r.weighted({ 'meter-change': 0.4, 'meter-15': 0.2, 'meter-60': 0.2, 'meter-batch': 0.2 })
  const every = model === 'meter-change' ? 30 * MINUTE : model === 'meter-15' ? 15 * MINUTE : model === 'meter-60' ? 60 * MINUTE : r.chance(0.5) ? 15 * MINUTE : 60 * MINUTE
  // An NB-IoT battery meter wakes only to upload: the operator provisions a heartbeat to match.
  const meter = base({ id: `wm-${key}`, kind: 'water', room: 'kitchen', heartbeatS: model === 'meter-batch' ? 43200 : 1800, caps: [], model }, model === 'meter-batch' ? 'nb-1.3' : '1.8.0', false)
  const uploads: number[] = []
  let uploadEveryH = 0
  if (model === 'meter-batch') {
    uploadEveryH = r.between(4, 8)
    const failP = meter.flaky ? 0.15 : 0.02
    for (let t = meter.connectAt + r.mins(30, uploadEveryH * 60); t < end; t += r.mins(uploadEveryH * 60 - 20, uploadEveryH * 60 + 20)) {
      if (!r.chance(failP)) uploads.push(t)
    }
    meter.loss = 0
  }
  meter.meter = { model, every, phase: r.mins(0, every / MINUTE), register0L: Math.floor(r.between(50, 3000) * 1000), uploads }
  devices.push(meter)

  // Presence sensors: 1–4, mmWave or PIR or a mix.
  const n = Number(r.weighted({ '1': 0.15, '2': 0.35, '3': 0.35, '4': 0.15 }))
  const rooms: Room[] =
    n === 1
      ? [r.weighted({ living_room: 0.5, bedroom: 0.25, bathroom: 0.25 })]
      : n === 2
        ? r.pick([['living_room', 'bathroom'], ['living_room', 'bathroom'], ['bedroom', 'bathroom'], ['living_room', 'bedroom']] as Room[][])
        : n === 3
          ? ['bedroom', 'bathroom', 'living_room']
          : ['bedroom', 'bathroom', 'living_room', r.chance(0.6) ? 'kitchen' : 'entrance']
  const mix = r.weighted({ mmwave: 0.45, pir: 0.3, mixed: 0.25 })
  const openKitchen = r.chance(0.4)
  for (const room of rooms) {
    const tech = mix === 'mixed' ? (room === 'bathroom' || r.chance(0.3) ? 'mmwave' : 'pir') : mix
    const covers: Room[] = room === 'living_room' && openKitchen && !rooms.includes('kitchen') ? ['living_room', 'kitchen'] : [room]
    const d = base({ id: `pr-${key}-${ROOM_TAG[room]}`, kind: 'presence', room, heartbeatS: 1800, caps: [], model: tech }, tech === 'mmwave' ? '3.1.2' : '1.4.0', tech === 'mmwave')
    const ghostProne = tech === 'mmwave' && r.chance(room === 'bathroom' ? 0.6 : 0.3)
    const blindOptions: Spot[] = room === 'bedroom' ? ['bed'] : room === 'living_room' ? ['armchair'] : room === 'bathroom' ? ['tub'] : []
    d.presence = {
      tech,
      covers,
      phase: r.mins(1 / 60, 10),
      holdMs: r.mins(2, 5),
      blind: tech === 'pir' && blindOptions.length > 0 && r.chance(room === 'bathroom' ? 0.15 : 0.25) ? blindOptions[0]! : null,
      pirSense: r.between(0.4, 0.85),
      mmMiss: r.between(0.02, 0.12),
      ghostP: ghostProne ? r.between(0.02, 0.06) : 0,
      steamGhostP: ghostProne ? (room === 'bathroom' ? r.between(0.2, 0.5) : r.between(0.02, 0.06)) : 0,
    }
    devices.push(d)
  }

  // The door contact: in seven homes in ten.
  const hasDoor = r.chance(0.7)
  if (hasDoor) devices.push(base({ id: `dr-${key}`, kind: 'door', room: 'entrance', heartbeatS: 1800, caps: [], model: 'door' }, '1.2.5', false))

  const flaky = devices.filter((d) => d.flaky).map((d) => d.dev.id)
  return {
    devices,
    persona: {
      buttonSpeaker: speaker,
      meterModel: model,
      meterReadingMin: every / MINUTE,
      meterUploadEveryH: model === 'meter-batch' ? Math.round(uploadEveryH * 10) / 10 : 0,
      sensors: rooms.map((room, i) => `${ROOM_TAG[room]}:${devices[2 + i]!.presence!.tech}${devices[2 + i]!.presence!.blind ? `(blind:${devices[2 + i]!.presence!.blind})` : ''}`).join(' '),
      sensorMix: mix,
      openKitchen,
      hasDoor,
      flakyDevices: flaky.join(' '),
    },
  }
}

// ── water ─────────────────────────────────────────────────────────────────────

/** The register and the instantaneous flow at any instant, from the draws. */
export class WaterIndex {
  private readonly from: Float64Array
  private readonly prefix: Float64Array
  private readonly maxDur: number
  constructor(private readonly uses: readonly WaterUse[]) {
    this.from = new Float64Array(uses.length)
    this.prefix = new Float64Array(uses.length + 1)
    let maxDur = 0
    for (let i = 0; i < uses.length; i++) {
      const u = uses[i]!
      this.from[i] = u.from
      this.prefix[i + 1] = this.prefix[i]! + (u.lpm * (u.to - u.from)) / MINUTE
      maxDur = Math.max(maxDur, u.to - u.from)
    }
    this.maxDur = maxDur
  }

  /** Index of the first use starting at or after t. */
  private firstFrom(t: number): number {
    let lo = 0
    let hi = this.from.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.from[mid]! < t) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  litresAt(t: number): number {
    const j = this.firstFrom(t)
    let total = this.prefix[j]!
    for (let k = j - 1; k >= 0; k--) {
      const u = this.uses[k]!
      if (u.from <= t - this.maxDur) break
      if (u.to > t) total -= (u.lpm * (u.to - t)) / MINUTE
    }
    return total
  }

  /** Litres per minute at t, as a meter shows it (0.1 L/min). */
  flowAt(t: number): number {
    const j = this.firstFrom(t + 1)
    let lpm = 0
    for (let k = j - 1; k >= 0; k--) {
      const u = this.uses[k]!
      if (u.from <= t - this.maxDur) break
      if (u.from <= t && t < u.to) lpm += u.lpm
    }
    return Math.round(lpm * 10) / 10
  }

  /** Starts and ends of draws in [lo, hi), sorted. */
  edges(lo: number, hi: number): number[] {
    const out: number[] = []
    for (let k = this.firstFrom(lo - this.maxDur); k < this.uses.length; k++) {
      const u = this.uses[k]!
      if (u.from >= hi) break
      if (u.from >= lo) out.push(u.from)
      if (u.to >= lo && u.to < hi) out.push(u.to)
    }
    return out.sort((a, b) => a - b)
  }
}

// ── rendering ─────────────────────────────────────────────────────────────────

export interface HouseRender {
  seed: number
  persona: Persona
  life: Life
  water: WaterIndex
  devices: DeviceRuntime[]
  from: number
}

/** Telemetry from up to a minute before the day is rendered, for the per-connection order. */
const LEAD = 60 * SECOND
/** Presence sensors: the periodic report. */
const PRESENCE_EVERY = 10 * MINUTE

/** Every message RECEIVED in day d, sorted by `at`. */
export function renderDay(h: HouseRender, d: number): WireMessage[] {
  const dayStart = h.from + d * DAY
  const dayEnd = dayStart + DAY
  const out: WireMessage[] = []
  for (const dev of h.devices) {
    if (dev.meter?.model === 'meter-batch') renderBatchMeter(h, dev, dayStart, dayEnd, out)
    else {
      const msgs: WireMessage[] = []
      renderStatus(h, dev, dayStart - LEAD, dayEnd, msgs)
      if (dev.presence) renderPresence(h, dev, dev.presence, dayStart - LEAD, dayEnd, msgs)
      else if (dev.meter) renderMeter(h, dev, dev.meter, dayStart - LEAD, dayEnd, msgs)
      else if (dev.dev.kind === 'door') renderDoor(h, dev, dayStart - LEAD, dayEnd, msgs)
      deliver(dev, msgs, dayStart, dayEnd, out)
    }
  }
  return out.sort((a, b) => a.at - b.at)
}

/**
 * One MQTT connection delivers in order: each message arrives after its `ts` plus the network's
 * delay, and never before the one sent before it.
 */
function deliver(dev: DeviceRuntime, msgs: WireMessage[], dayStart: number, dayEnd: number, out: WireMessage[]): void {
  msgs.sort((a, b) => a.at - b.at)
  let prev = -Infinity
  for (const m of msgs) {
    const ts = m.at
    const jitter = unit(dev.seed, ts, 9)
    let at = ts + dev.latencyMs + Math.round(jitter * 200)
    if (jitter > 0.99) at += Math.round((jitter - 0.99) * 400_000)
    if (at <= prev) at = prev + 1
    prev = at
    m.at = at
    if (at >= dayStart && at < dayEnd) out.push(m)
  }
}

/** Whether the device sends at ts: connected, not in a silence, not lost. */
function sends(dev: DeviceRuntime, ts: number): boolean {
  if (ts < dev.connectAt) return false
  for (const s of dev.silences) if (ts >= s.from && ts < s.to) return false
  return dev.loss === 0 || unit(dev.seed, ts, 3) >= dev.loss
}

/** Instants at which the device (re)connects in [lo, hi): it says so at once. */
function connects(dev: DeviceRuntime, lo: number, hi: number): number[] {
  const out: number[] = []
  if (dev.connectAt >= lo && dev.connectAt < hi) out.push(dev.connectAt)
  for (const s of dev.silences) if (s.to >= lo && s.to < hi) out.push(s.to)
  return out
}

function battery(dev: DeviceRuntime, h: HouseRender, t: number): number {
  if (dev.drainPerDay === 0) return 100
  return Math.max(1, Math.round(dev.battery0 - (dev.drainPerDay * (t - h.from)) / DAY))
}

function statusPayload(dev: DeviceRuntime, h: HouseRender, ts: number, onConnect: boolean): Record<string, unknown> {
  const p: Record<string, unknown> = {
    ts,
    online: true,
    battery: battery(dev, h, ts),
    rssi: dev.rssi + Math.round((unit(dev.seed, ts, 6) - 0.5) * 6),
    fw: dev.fw,
  }
  // Contract v1.1: capabilities are published on connect; older buttons know nothing of them.
  if (onConnect && dev.dev.caps.length > 0) p.caps = dev.dev.caps
  return p
}

function renderStatus(h: HouseRender, dev: DeviceRuntime, lo: number, hi: number, out: WireMessage[]): void {
  const id = dev.dev.id
  const every = dev.dev.heartbeatS * SECOND
  const reconnects = connects(dev, lo, hi)
  for (const t of reconnects) out.push({ at: t, deviceId: id, channel: 'status', payload: statusPayload(dev, h, t, true) })
  const k0 = Math.max(1, Math.ceil((lo - dev.connectAt) / every))
  for (let t = dev.connectAt + k0 * every; t < hi; t += every) {
    if (sends(dev, t)) out.push({ at: t, deviceId: id, channel: 'status', payload: statusPayload(dev, h, t, false) })
  }
}

/**
 * Report instants of an on-change device with a periodic timer: the changes, the timer, and one
 * report just after each (re)connect; then whether the device sends each.
 */
function reportTimes(dev: DeviceRuntime, changes: readonly number[], phase: number, every: number, lo: number, hi: number): number[] {
  const grid: number[] = []
  for (let t = phase + Math.ceil((lo - phase) / every) * every; t < hi; t += every) grid.push(t)
  for (const c of connects(dev, lo - SECOND, hi - SECOND)) grid.push(c + SECOND)
  grid.sort((a, b) => a - b)
  const times: number[] = []
  let i = 0
  let j = 0
  while (i < changes.length || j < grid.length) {
    const a = changes[i] ?? Infinity
    const b = grid[j] ?? Infinity
    const t = Math.min(a, b)
    if (a === t) i++
    if (b === t) j++
    if (t < lo || t >= hi || times[times.length - 1] === t) continue
    if (sends(dev, t)) times.push(t)
  }
  return times
}

/** Sorts flat [from, to] pairs by start and merges those that overlap or touch. */
function merge(pairs: number[]): number[] {
  const n = pairs.length / 2
  if (n === 0) return pairs
  const idx = new Array<number>(n)
  for (let i = 0; i < n; i++) idx[i] = i
  idx.sort((a, b) => pairs[2 * a]! - pairs[2 * b]!)
  const out: number[] = []
  for (const i of idx) {
    const a = pairs[2 * i]!
    const b = pairs[2 * i + 1]!
    if (b <= a) continue
    const last = out.length - 1
    if (last > 0 && a <= out[last]!) out[last] = Math.max(out[last]!, b)
    else out.push(a, b)
  }
  return out
}

/**
 * The sensor's state over time as change points: bit 0 occupied, bit 1 motion. Before the first
 * point the state is 0. `occ` and `mot` are merged interval lists.
 */
function changesOf(occ: readonly number[], mot: readonly number[] | null): { t: number[]; s: number[] } {
  const t: number[] = []
  const s: number[] = []
  let i = 0
  let j = 0
  let o = false
  let m = false
  const motion = mot ?? []
  while (i < occ.length || j < motion.length) {
    const x = Math.min(occ[i] ?? Infinity, motion[j] ?? Infinity)
    while (i < occ.length && occ[i] === x) o = i++ % 2 === 0
    while (j < motion.length && motion[j] === x) m = j++ % 2 === 0
    const state = (o || m ? 1 : 0) | (m ? 2 : 0)
    if (state !== (s.length === 0 ? 0 : s[s.length - 1])) {
      t.push(x)
      s.push(state)
    }
  }
  return { t, s }
}

/** Window before the day from which a sensor's state is rebuilt (longer than any ghost). */
const PRESENCE_LOOKBACK = 3 * HOUR
const WALK_MARK = 8 * SECOND

function renderPresence(h: HouseRender, dev: DeviceRuntime, cfg: PresenceCfg, lo: number, hi: number, out: WireMessage[]): void {
  const ws = lo - PRESENCE_LOOKBACK
  const we = hi + MINUTE
  const occ: number[] = []
  const mot: number[] = []
  const still: number[] = []
  const ids: number[] = []
  const mm = cfg.tech === 'mmwave'
  const segs = h.life.segs
  let stayStart = -1
  let steam = false
  for (let i = segIndex(segs, ws); i < segs.length; i++) {
    const s = segs[i]!
    if (s.from >= we) break
    const inRoom = s.room !== null && cfg.covers.includes(s.room)
    if (inRoom) {
      if (stayStart < 0) {
        stayStart = Math.max(s.from, ws)
        steam = false
        if (s.from >= ws) mot.push(s.from, s.from + WALK_MARK)
      }
      if (s.act === 'shower' || s.act === 'bath') steam = true
      const seen = mm || spotOf(s.room, s.act) !== cfg.blind
      if (!seen) continue
      if (MOVING.has(s.act)) mot.push(Math.max(s.from, ws), Math.min(s.to, we))
      else if (s.act !== 'collapsed') {
        still.length = 0
        ids.length = 0
        stillMoves(h.seed, h.persona.stillness, s, ws, we, still, ids)
        for (let k = 0; k < ids.length; k++) {
          const a = still[2 * k]!
          const p = mm ? 1 - cfg.mmMiss : cfg.pirSense
          if (unit(dev.seed, a, 5) < p) mot.push(a, still[2 * k + 1]!)
        }
      }
    } else if (stayStart >= 0) {
      const end = s.from
      occ.push(stayStart, end)
      mot.push(end - WALK_MARK, end)
      const pg = steam ? cfg.steamGhostP : cfg.ghostP
      if (mm && pg > 0 && unit(dev.seed, end, 7) < pg) occ.push(end, end + Math.round((10 + 80 * unit(dev.seed, end, 8)) * MINUTE))
      stayStart = -1
    }
  }
  if (stayStart >= 0) occ.push(stayStart, we)

  // Visitors sit in the living room with the elder, and move more.
  if (cfg.covers.includes('living_room')) {
    for (const v of h.life.visits) {
      if (v.to <= ws || v.from >= we) continue
      occ.push(v.from, v.to)
      mot.push(v.from, v.from + 30 * SECOND, v.to - 30 * SECOND, v.to)
      for (let k = 1, t = v.from; k < 200; k++) {
        t += Math.round((1 + 5 * unit(h.seed, v.from, 100 + k)) * MINUTE)
        if (t >= v.to) break
        if (mm || unit(dev.seed, t, 5) < cfg.pirSense + 0.2) mot.push(t, Math.min(v.to, t + Math.round((20 + 40 * unit(h.seed, t, 101)) * SECOND)))
      }
    }
  }

  let states: { t: number[]; s: number[] }
  if (mm) states = changesOf(merge(occ), merge(mot))
  else {
    // PIR: occupied from a movement until the hold time has passed without another.
    const held: number[] = []
    for (let k = 0; k < mot.length; k += 2) held.push(mot[k]!, mot[k + 1]! + cfg.holdMs)
    states = changesOf(merge(held), null)
  }
  const changeTimes = states.t
  const times = reportTimes(dev, changeTimes, cfg.phase, PRESENCE_EVERY, lo, hi)
  const id = dev.dev.id
  let c = -1
  for (const t of times) {
    while (c + 1 < changeTimes.length && changeTimes[c + 1]! <= t) c++
    const s = c < 0 ? 0 : states.s[c]!
    const payload: Record<string, unknown> = mm
      ? { id: `p${t.toString(36)}`, ts: t, kind: 'presence', occupied: (s & 1) === 1, motion: (s & 2) === 2 }
      : { id: `p${t.toString(36)}`, ts: t, kind: 'presence', occupied: (s & 1) === 1 }
    out.push({ at: t, deviceId: id, channel: 'telemetry', payload })
  }
}

function register(h: HouseRender, cfg: MeterCfg, t: number): number {
  // 1 L resolution, rounded down like the meter's register.
  return Math.floor(cfg.register0L + h.water.litresAt(t) + 1e-6) / 1000
}

function renderMeter(h: HouseRender, dev: DeviceRuntime, cfg: MeterCfg, lo: number, hi: number, out: WireMessage[]): void {
  const changes: number[] = []
  if (cfg.model === 'meter-change') {
    let shown = h.water.flowAt(lo)
    for (const t of h.water.edges(lo, hi)) {
      const flow = h.water.flowAt(t)
      if (flow !== shown) changes.push(t)
      shown = flow
    }
  }
  const id = dev.dev.id
  for (const t of reportTimes(dev, changes, cfg.phase, cfg.every, lo, hi)) {
    out.push({ at: t, deviceId: id, channel: 'telemetry', payload: { id: `w${t.toString(36)}`, ts: t, kind: 'water', totalM3: register(h, cfg, t), flowLpm: h.water.flowAt(t) } })
  }
}

/** NB-IoT: readings on the interval, uploaded every 4–8 h with their own `ts`, no flow. */
function renderBatchMeter(h: HouseRender, dev: DeviceRuntime, dayStart: number, dayEnd: number, out: WireMessage[]): void {
  const cfg = dev.meter!
  const id = dev.dev.id
  if (dev.connectAt >= dayStart && dev.connectAt < dayEnd) out.push({ at: dev.connectAt + dev.latencyMs, deviceId: id, channel: 'status', payload: statusPayload(dev, h, dev.connectAt, true) })
  const ups = cfg.uploads
  for (let u = 0; u < ups.length; u++) {
    const up = ups[u]!
    if (up < dayStart - 10 * MINUTE) continue
    if (up >= dayEnd) break
    const prev = u === 0 ? dev.connectAt - 1 : ups[u - 1]!
    const batch: WireMessage[] = []
    // Readings taken after the previous successful upload, up to this one.
    for (let t = cfg.phase + (Math.floor((prev - cfg.phase) / cfg.every) + 1) * cfg.every; t <= up; t += cfg.every) {
      batch.push({ at: 0, deviceId: id, channel: 'telemetry', payload: { id: `w${t.toString(36)}`, ts: t, kind: 'water', totalM3: register(h, cfg, t) } })
    }
    batch.push({ at: 0, deviceId: id, channel: 'status', payload: statusPayload(dev, h, up, false) })
    const arrive = up + 500 + Math.round(unit(dev.seed, up, 9) * 3000)
    batch.forEach((m, i) => {
      m.at = arrive + i * 20
      if (m.at >= dayStart && m.at < dayEnd) out.push(m)
    })
  }
}

function renderDoor(h: HouseRender, dev: DeviceRuntime, lo: number, hi: number, out: WireMessage[]): void {
  const id = dev.dev.id
  const events: { t: number; open: boolean }[] = []
  for (const e of h.life.doors) {
    if (e.at >= hi) break
    const close = e.at + Math.round((5 + 35 * unit(dev.seed, e.at, 4)) * SECOND)
    if (close < lo) continue
    events.push({ t: e.at, open: true }, { t: close, open: false })
  }
  const push = (t: number, open: boolean) => out.push({ at: t, deviceId: id, channel: 'telemetry', payload: { id: `d${t.toString(36)}`, ts: t, kind: 'door', open } })
  for (const e of events) if (e.t >= lo && sends(dev, e.t)) push(e.t, e.open)
  // On (re)connect the contact reports its state.
  for (const c of connects(dev, lo - SECOND, hi - SECOND)) {
    const t = c + SECOND
    if (!sends(dev, t) || events.some((e) => e.t === t)) continue
    let open = false
    for (const e of events) if (e.t <= t) open = e.open
    push(t, open)
  }
}
