/**
 * District replay: what the detectors cost for a whole district's day, against what decoding
 * the same messages costs alone, in one run on one machine.
 *
 *   node --expose-gc --import tsx bench/district-replay.ts [--households 5000] [--hours 24] [--seed 1]
 *        [--scenario-share 0.03]          (npx tsx bench/district-replay.ts works too, without heap figures)
 *
 * 1. generate: each household's day from firmware-sim's simulateHousehold (normal life; a few %
 *    with a scenario, so findings happen), kept as wire JSON strings plus time and device.
 * 2. merge: all households' streams into one time order (k-way merge over a heap of cursors).
 * 3. baseline: the merged stream through decode only — JSON.parse and the contract's zod schema,
 *    which is what ingest does to every message before anything else (median of 3 passes).
 * 4. replay: the same stream through decode and then the detectors, as the detector service runs
 *    them: one pure monitor per household, the reading for telemetry and a 'seen' input for
 *    status and alarm messages, and the real due-time scheduler on a virtual clock that is moved to each event's
 *    time, so scheduled checks fire in between.
 * Memory: each monitor state's JSON size, and the heap held by all monitor states (needs --expose-gc).
 */
import os from 'node:os'
import v8 from 'node:v8'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { alarmPayload, statusPayload, telemetryPayload } from '../src/contract/index.js'
import type { Finding, MonitorInput } from '../src/detectors/model.js'
import { newMonitor, step, type MonitorState } from '../src/detectors/monitor.js'
import { createScheduler } from '../src/detectors/scheduler.js'
import { resolveSettings } from '../src/detectors/settings.js'
import { virtualClock } from '../src/shared/clock.js'
import { deviceId, HOUSEHOLD_DEVICES, SCENARIOS, simulateHousehold, type Scenario, type SimEvent } from '../firmware-sim/household.js'

const HOUR = 3_600_000
/** 00:00 on 2 March 2026 in Shanghai: the day starts with everyone asleep. */
const FROM = Date.UTC(2026, 2, 1, 16)
const CHANNELS = ['alarm', 'telemetry', 'status'] as const

interface Options {
  households: number
  hours: number
  seed: number
  scenarioShare: number
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      households: { type: 'string', default: '5000' },
      hours: { type: 'string', default: '24' },
      seed: { type: 'string', default: '1' },
      'scenario-share': { type: 'string', default: '0.03' },
    },
  })
  const o = { households: Number(values.households), hours: Number(values.hours), seed: Number(values.seed), scenarioShare: Number(values['scenario-share']) }
  if (!(o.households >= 1 && o.hours > 0 && Number.isFinite(o.seed) && o.scenarioShare >= 0 && o.scenarioShare <= 1)) {
    process.stderr.write('usage: bench/district-replay.ts [--households 5000] [--hours 24] [--seed 1] [--scenario-share 0.03]\n')
    process.exit(2)
  }
  return o
}

// ── 1. generate ───────────────────────────────────────────────────────────────

/** One household's stream, compact: a day of 6 devices is ~2,000 messages, 5,000 homes ~10 M. */
interface Stream {
  key: string
  ats: Float64Array
  /** Device role index (bits 0–2) and channel index (bits 3–4). */
  meta: Uint8Array
  wire: string[]
  scenario: Scenario | null
}

/** Which households live a scenario, and when it starts: seeded, so runs compare. */
function scenarioOf(o: Options, i: number): { scenario: Scenario; scenarioAt: number } | null {
  const r = (n: number) => (Math.imul(o.seed * 7919 + i, 2654435761) ^ Math.imul(n, 40503)) >>> 0
  if ((r(1) % 1_000_000) / 1_000_000 >= o.scenarioShare) return null
  const scenario = SCENARIOS[r(2) % SCENARIOS.length]!
  const span = Math.max(1, o.hours - 3) * HOUR
  return { scenario, scenarioAt: FROM + HOUR + (r(3) % span) }
}

const ROLE_INDEX = new Map(HOUSEHOLD_DEVICES.map((d, i) => [d.role, i]))

function generate(o: Options): { streams: Stream[]; simulateMs: number; encodeMs: number } {
  const streams: Stream[] = []
  let simulateMs = 0
  let encodeMs = 0
  for (let i = 0; i < o.households; i++) {
    const s = scenarioOf(o, i)
    const t0 = performance.now()
    const events: SimEvent[] = simulateHousehold({ seed: o.seed * 1_000_003 + i, from: FROM, to: FROM + o.hours * HOUR, ...(s ?? {}) })
    const t1 = performance.now()
    const ats = new Float64Array(events.length)
    const meta = new Uint8Array(events.length)
    const wire: string[] = new Array<string>(events.length)
    events.forEach((e, k) => {
      ats[k] = e.at
      meta[k] = ROLE_INDEX.get(e.role)! | (CHANNELS.indexOf(e.channel) << 3)
      wire[k] = JSON.stringify(e.payload)
    })
    encodeMs += performance.now() - t1
    simulateMs += t1 - t0
    streams.push({ key: String(i).padStart(6, '0'), ats, meta, wire, scenario: s?.scenario ?? null })
  }
  return { streams, simulateMs, encodeMs }
}

// ── 2. merge ──────────────────────────────────────────────────────────────────

/** All streams in one time order (ties: lower household first), as (household, index) pairs. */
function merge(streams: Stream[]): { household: Uint32Array; index: Uint32Array } {
  const total = streams.reduce((n, s) => n + s.ats.length, 0)
  const household = new Uint32Array(total)
  const index = new Uint32Array(total)
  const cursor = new Uint32Array(streams.length)
  const heap: number[] = []
  const key = (h: number) => streams[h]!.ats[cursor[h]!]!
  const less = (a: number, b: number) => key(a) < key(b) || (key(a) === key(b) && a < b)
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r
      if (m === i) return
      ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
      i = m
    }
  }
  streams.forEach((s, h) => {
    if (s.ats.length > 0) heap.push(h)
  })
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i)
  for (let n = 0; n < total; n++) {
    const h = heap[0]!
    household[n] = h
    index[n] = cursor[h]!
    cursor[h]!++
    if (cursor[h]! >= streams[h]!.ats.length) {
      // This household's stream is done: its slot goes to the last cursor.
      const last = heap.pop()!
      if (heap.length > 0) heap[0] = last
    }
    if (heap.length > 0) down(0)
  }
  for (let n = 1; n < total; n++) {
    if (streams[household[n]!]!.ats[index[n]!]! < streams[household[n - 1]!]!.ats[index[n - 1]!]!) throw new Error(`merge out of order at ${n}`)
  }
  return { household, index }
}

// ── decode: what ingest does first, to every message ──────────────────────────

type Decoded =
  | { channel: 'alarm'; value: ReturnType<typeof alarmPayload.parse> }
  | { channel: 'telemetry'; value: ReturnType<typeof telemetryPayload.parse> }
  | { channel: 'status'; value: ReturnType<typeof statusPayload.parse> }
  | null

function decode(meta: number, wire: string): Decoded {
  const json: unknown = JSON.parse(wire)
  switch (CHANNELS[meta >> 3]) {
    case 'alarm': {
      const r = alarmPayload.safeParse(json)
      return r.success ? { channel: 'alarm', value: r.data } : null
    }
    case 'telemetry': {
      const r = telemetryPayload.safeParse(json)
      return r.success ? { channel: 'telemetry', value: r.data } : null
    }
    default: {
      const r = statusPayload.safeParse(json)
      return r.success ? { channel: 'status', value: r.data } : null
    }
  }
}

/**
 * The detector service's inputs for one message (src/detectors/service.ts): a status or alarm
 * is a sign of life; a reading carries its own (the monitor records it with the reading).
 */
function inputsOf(d: NonNullable<Decoded>, id: string, room: string | null, at: number): MonitorInput[] {
  if (d.channel === 'status') return [{ type: 'seen', deviceId: id, at, online: d.value.online, battery: d.value.battery }]
  if (d.channel === 'alarm') return [{ type: 'seen', deviceId: id, at, battery: d.value.battery }]
  const r = d.value
  if (r.kind === 'water') return [{ type: 'water', deviceId: id, at, totalM3: r.totalM3, flowLpm: r.flowLpm }]
  if (r.kind === 'presence') return [{ type: 'presence', deviceId: id, room, at, occupied: r.occupied, motion: r.motion }]
  if (r.kind === 'door') return [{ type: 'door', deviceId: id, room, at, open: r.open }]
  return [{ type: 'seen', deviceId: id, at }]
}

function baseline(streams: Stream[], order: { household: Uint32Array; index: Uint32Array }): { ms: number; ok: number } {
  let ok = 0
  const t0 = performance.now()
  for (let n = 0; n < order.household.length; n++) {
    const s = streams[order.household[n]!]!
    const k = order.index[n]!
    if (decode(s.meta[k]!, s.wire[k]!) !== null) ok++
  }
  return { ms: performance.now() - t0, ok }
}

// ── 4. replay ─────────────────────────────────────────────────────────────────

interface ReplayResult {
  ms: number
  steps: number
  /** Monitor step count and time by input type. */
  byInput: Record<string, { n: number; ms: number }>
  ticks: number
  stepMs: number
  tickMs: number
  scheduleMs: number
  findings: Finding[]
  alarms: Record<string, number>
  monitors: MonitorState[]
  normalWithFindings: number
}

function replay(o: Options, streams: Stream[], order: { household: Uint32Array; index: Uint32Array }): ReplayResult {
  const settings = resolveSettings()
  const to = FROM + o.hours * HOUR
  const clock = virtualClock(FROM)
  const monitors: MonitorState[] = streams.map((s) => newMonitor(`hh-${s.key}`, FROM))
  const ids = streams.map((s) => HOUSEHOLD_DEVICES.map((d) => deviceId(d.role, s.key)))
  const rooms = HOUSEHOLD_DEVICES.map((d) => d.room)
  const findings: Finding[] = []
  const alarms: Record<string, number> = {}
  const withFindings = new Set<number>()
  const byInput: Record<string, { n: number; ms: number }> = {}
  let steps = 0
  let ticks = 0
  let stepMs = 0
  let tickMs = 0
  let scheduleMs = 0

  const feed = (h: number, input: MonitorInput, now: number): number | null => {
    const r = step(monitors[h]!, input, now, settings, FROM)
    monitors[h] = r.state
    if (r.findings.length > 0) {
      findings.push(...r.findings)
      withFindings.add(h)
    }
    return r.nextCheckAt
  }
  const scheduler = createScheduler(clock, (key, now) => {
    const h = Number(key)
    const t0 = performance.now()
    const next = feed(h, { type: 'tick' }, now)
    const t1 = performance.now()
    scheduler.schedule(key, next)
    scheduleMs += performance.now() - t1
    tickMs += t1 - t0
    ticks++
  })
  scheduler.start()
  for (let h = 0; h < streams.length; h++) {
    for (const d of HOUSEHOLD_DEVICES) {
      feed(h, { type: 'device', deviceId: ids[h]![ROLE_INDEX.get(d.role)!]!, kind: d.kind, room: d.room, heartbeatS: d.heartbeatS, registeredAt: FROM }, FROM)
    }
    scheduler.schedule(String(h), feed(h, { type: 'tick' }, FROM))
  }

  const started = performance.now()
  for (let n = 0; n < order.household.length; n++) {
    const h = order.household[n]!
    const k = order.index[n]!
    const s = streams[h]!
    const at = s.ats[k]!
    if (at > clock.now()) clock.set(at) // scheduled checks due before this message fire first
    const meta = s.meta[k]!
    const decoded = decode(meta, s.wire[k]!)
    if (decoded === null) continue
    if (decoded.channel === 'alarm') alarms[decoded.value.type] = (alarms[decoded.value.type] ?? 0) + 1
    const role = meta & 7
    let next: number | null = null
    const inputs = inputsOf(decoded, ids[h]![role]!, rooms[role]!, at)
    const t0 = performance.now()
    let ti = t0
    for (const input of inputs) {
      next = feed(h, input, at)
      const tj = performance.now()
      const b = (byInput[input.type] ??= { n: 0, ms: 0 })
      b.n++
      b.ms += tj - ti
      ti = tj
      steps++
    }
    const t1 = performance.now()
    scheduler.schedule(String(h), next)
    scheduleMs += performance.now() - t1
    stepMs += t1 - t0
  }
  clock.set(to)
  const ms = performance.now() - started
  scheduler.stop()
  const normalWithFindings = [...withFindings].filter((h) => streams[h]!.scenario === null).length
  return { ms, steps, byInput, ticks, stepMs, tickMs, scheduleMs, findings, alarms, monitors, normalWithFindings }
}

// ── report ────────────────────────────────────────────────────────────────────

const gc = (globalThis as { gc?: () => void }).gc

function heapUsedAfterGc(): number | null {
  if (!gc) return null
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const mb = (bytes: number) => `${fmt(bytes / 1048576, 1)} MB`

function main(): void {
  const o = options()
  const cpus = os.cpus()
  console.log(`district replay: ${fmt(o.households)} households × ${o.hours} h, seed ${o.seed}, ${fmt(o.scenarioShare * 100, 1)} % with a scenario`)
  console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, node ${process.version}, heap limit ${mb(v8.getHeapStatistics().heap_size_limit)}`)

  const g = generate(o)
  const events = g.streams.reduce((n, s) => n + s.ats.length, 0)
  const scenarios: Record<string, number> = {}
  for (const s of g.streams) if (s.scenario) scenarios[s.scenario] = (scenarios[s.scenario] ?? 0) + 1
  console.log(`\ngenerate: ${fmt(events)} events (${fmt(events / o.households)} per household) in ${fmt((g.simulateMs + g.encodeMs) / 1000, 1)} s`)
  console.log(`  simulateHousehold ${fmt(g.simulateMs / 1000, 1)} s (${fmt(events / (g.simulateMs / 1000))} events/s), JSON encode ${fmt(g.encodeMs / 1000, 1)} s`)
  console.log(`  scenarios: ${Object.entries(scenarios).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`)

  const m0 = performance.now()
  const order = merge(g.streams)
  console.log(`merge: ${fmt(events)} events into time order in ${fmt((performance.now() - m0) / 1000, 2)} s`)

  const passes = [0, 1, 2].map(() => baseline(g.streams, order))
  const baseMs = median(passes.map((p) => p.ms))
  if (passes[0]!.ok !== events) console.log(`  !! ${events - passes[0]!.ok} events failed to decode`)
  console.log(`\nbaseline (decode only: JSON.parse + contract zod schema), median of 3: ${fmt(baseMs / 1000, 2)} s, ${fmt(events / (baseMs / 1000))} events/s, ${fmt((baseMs * 1e6) / events)} ns/event`)

  const heapBefore = heapUsedAfterGc()
  const r = replay(o, g.streams, order)
  const heapAfter = heapUsedAfterGc()
  console.log(`\nreplay (decode + detectors + scheduler on a virtual clock): ${fmt(r.ms / 1000, 1)} s wall, ${fmt(events / (r.ms / 1000))} events/s`)
  console.log(`  monitor steps: ${fmt(r.steps)} for messages (${fmt((r.stepMs * 1000) / r.steps, 1)} µs each, ${fmt(r.stepMs / 1000, 1)} s), ${fmt(r.ticks)} scheduled ticks (${fmt(r.ticks ? (r.tickMs * 1000) / r.ticks : 0, 1)} µs each, ${fmt(r.tickMs / 1000, 1)} s)`)
  console.log(`  by input: ${Object.entries(r.byInput).map(([k, v]) => `${k} ${fmt(v.n)} × ${fmt((v.ms * 1000) / v.n, 1)} µs`).join(', ')}`)
  console.log(`  scheduler.schedule: ${fmt(r.scheduleMs / 1000, 2)} s in all; decode + clock + loop: ${fmt((r.ms - r.stepMs - r.tickMs - r.scheduleMs) / 1000, 1)} s`)
  console.log(`  detectors cost ${fmt((r.ms - baseMs) / baseMs, 1)}× the decode alone (replay ${fmt(r.ms / baseMs, 1)}× the decode-only pass)`)

  const byKind: Record<string, { raised: number; cleared: number }> = {}
  for (const f of r.findings) {
    const k = (byKind[f.condition.kind] ??= { raised: 0, cleared: 0 })
    k[f.change]++
  }
  console.log(`\nfindings: ${fmt(r.findings.length)} (${Object.entries(byKind).map(([k, v]) => `${k} ${v.raised} raised/${v.cleared} cleared`).join(', ') || 'none'})`)
  console.log(`  alarms seen: ${Object.entries(r.alarms).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; households without a scenario that raised anything: ${r.normalWithFindings}`)
  // What each scenario's households raised (a scenario that starts late in the run may raise nothing yet).
  const perScenario = new Map<string, Map<string, number>>()
  for (const f of r.findings) {
    if (f.change !== 'raised') continue
    const scenario = g.streams[Number(f.householdId.slice(3))]!.scenario ?? 'none'
    const kinds = perScenario.get(scenario) ?? new Map<string, number>()
    kinds.set(f.condition.kind, (kinds.get(f.condition.kind) ?? 0) + 1)
    perScenario.set(scenario, kinds)
  }
  for (const [scenario, kinds] of perScenario) {
    console.log(`  ${scenario} (${scenarios[scenario] ?? 0} households): ${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ')}`)
  }

  const sizes = r.monitors.map((m) => JSON.stringify(m).length)
  console.log(`\ndetector memory per household: state JSON ${fmt(sizes.reduce((a, b) => a + b, 0) / sizes.length)} B average, ${fmt(Math.max(...sizes))} B max`)
  if (heapBefore !== null && heapAfter !== null) {
    console.log(`  heap held by all monitor states (+ scheduler): ${mb(heapAfter - heapBefore)} for ${fmt(o.households)} households, ${fmt((heapAfter - heapBefore) / o.households)} B each`)
  } else {
    console.log('  heap figures unavailable: global.gc is not exposed (run with node --expose-gc --import tsx bench/district-replay.ts)')
  }
  // Keep the states alive until measured.
  if (r.monitors.length === 0) console.log('')
}

main()
