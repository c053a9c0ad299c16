/**
 * Scheduler cost: the detectors' due-time index (one min-heap, one clock timer) against one
 * Node.js timer per household, in one run on one machine.
 *
 *   node --expose-gc --import tsx bench/scheduler-cost.ts [--households 100000] [--reschedules 10] [--runs 5]
 *        (npx tsx bench/scheduler-cost.ts works too, without heap figures)
 *
 * Scheduler: N keys get random due times within a day (schedule), then each is moved
 * `reschedules` times, as arriving readings move a household's next check (reschedule), then the
 * virtual clock is advanced past them all and every key fires: once in a single advance, and once
 * advancing minute by minute as a running platform would, and once through a one-slot clock that
 * does nothing but hold the scheduler's single timer (the index's own cost, without the clock's).
 * Heap: what the index holds for N keys.
 * Baseline: N real setTimeout calls with the same delays (create), the same reschedules as
 * clearTimeout + setTimeout, then clearTimeout of all (clear); heap held by N live timers.
 * Each figure is the median of `runs` runs after one warm-up run.
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { createScheduler } from '../src/detectors/scheduler.js'
import { virtualClock, type Clock } from '../src/shared/clock.js'
import { mulberry32 } from '../firmware-sim/rng.js'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
const T0 = Date.UTC(2026, 2, 1, 16)

const { values } = parseArgs({
  options: {
    households: { type: 'string', default: '100000' },
    reschedules: { type: 'string', default: '10' },
    runs: { type: 'string', default: '5' },
  },
})
const N = Number(values.households)
const RESCHEDULES = Number(values.reschedules)
const RUNS = Number(values.runs)
if (!(N >= 1 && RESCHEDULES >= 0 && RUNS >= 1)) {
  process.stderr.write('usage: bench/scheduler-cost.ts [--households 100000] [--reschedules 10] [--runs 5]\n')
  process.exit(2)
}

/** Seeded, so every run (and every machine) schedules the same times. */
const random = mulberry32

const keys = Array.from({ length: N }, (_, i) => `hh-${String(i).padStart(6, '0')}`)
/** Due offsets from T0: the first schedule, then each reschedule round. */
const rounds = Array.from({ length: RESCHEDULES + 1 }, (_, r) => {
  const rnd = random(1000 + r)
  return Float64Array.from(keys, () => 1 + Math.floor(rnd() * DAY))
})

const gc = (globalThis as { gc?: () => void }).gc
function heapUsed(): number | null {
  if (!gc) return null
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

interface SchedulerRun {
  scheduleNs: number
  rescheduleNs: number
  fireOnceNs: number
  fireByMinuteNs: number
  fireBareNs: number
  heapBytes: number | null
  /** Rescheduling leaves stale heap entries until a compaction: the index at its fattest. */
  heapAfterReschedulesBytes: number | null
}

/**
 * The least a clock can do for the scheduler, which holds one timer at a time: one slot. Firing
 * through it measures the index alone, without virtualClock's own bookkeeping.
 */
function oneSlotClock(start: number): Clock & { set(to: number): void } {
  let now = start
  let next = 1
  let slot: { id: number; at: number; fn: () => void } | null = null
  return {
    now: () => now,
    setTimeout(fn, ms) {
      slot = { id: next++, at: now + Math.max(0, ms), fn }
      return { id: slot.id }
    },
    clearTimeout(handle) {
      if (slot?.id === handle.id) slot = null
    },
    set(to) {
      while (slot && slot.at <= to) {
        const due: { at: number; fn: () => void } = slot
        slot = null
        now = Math.max(now, due.at)
        due.fn()
      }
      now = to
    },
  }
}

type FireMode = 'once' | 'by-minute' | 'bare'

function schedulerRun(): SchedulerRun {
  const fire = (mode: FireMode) => {
    const clock = mode === 'bare' ? oneSlotClock(T0) : virtualClock(T0)
    let fired = 0
    const s = createScheduler(clock, () => fired++)
    s.start()
    const before = heapUsed()
    let t = performance.now()
    for (let i = 0; i < N; i++) s.schedule(keys[i]!, T0 + rounds[0]![i]!)
    const scheduleNs = ((performance.now() - t) * 1e6) / N
    const scheduled = heapUsed()
    t = performance.now()
    for (let r = 1; r <= RESCHEDULES; r++) {
      const due = rounds[r]!
      for (let i = 0; i < N; i++) s.schedule(keys[i]!, T0 + due[i]!)
    }
    const rescheduleNs = RESCHEDULES > 0 ? ((performance.now() - t) * 1e6) / (N * RESCHEDULES) : 0
    const after = heapUsed()
    t = performance.now()
    if (mode === 'by-minute') for (let at = T0 + MINUTE; at <= T0 + DAY + MINUTE; at += MINUTE) clock.set(at)
    else clock.set(T0 + DAY + 1)
    const fireNs = ((performance.now() - t) * 1e6) / N
    if (fired !== N || s.size() !== 0) throw new Error(`fired ${fired} of ${N}, ${s.size()} left`)
    s.stop()
    const delta = (x: number | null) => (before !== null && x !== null ? x - before : null)
    return { scheduleNs, rescheduleNs, fireNs, heapBytes: delta(scheduled), heapAfterReschedulesBytes: delta(after) }
  }
  const once = fire('once')
  const byMinute = fire('by-minute')
  const bare = fire('bare')
  return {
    scheduleNs: once.scheduleNs,
    rescheduleNs: once.rescheduleNs,
    fireOnceNs: once.fireNs,
    fireByMinuteNs: byMinute.fireNs,
    fireBareNs: bare.fireNs,
    heapBytes: once.heapBytes,
    heapAfterReschedulesBytes: once.heapAfterReschedulesBytes,
  }
}

interface TimerRun {
  createNs: number
  rescheduleNs: number
  clearNs: number
  heapBytes: number | null
}

function timerRun(): TimerRun {
  const noop = () => {}
  const handles: NodeJS.Timeout[] = new Array<NodeJS.Timeout>(N)
  const before = heapUsed()
  let t = performance.now()
  for (let i = 0; i < N; i++) handles[i] = setTimeout(noop, rounds[0]![i]!)
  const createNs = ((performance.now() - t) * 1e6) / N
  const after = heapUsed()
  t = performance.now()
  for (let r = 1; r <= RESCHEDULES; r++) {
    const due = rounds[r]!
    for (let i = 0; i < N; i++) {
      clearTimeout(handles[i])
      handles[i] = setTimeout(noop, due[i]!)
    }
  }
  const rescheduleNs = RESCHEDULES > 0 ? ((performance.now() - t) * 1e6) / (N * RESCHEDULES) : 0
  t = performance.now()
  for (let i = 0; i < N; i++) clearTimeout(handles[i])
  const clearNs = ((performance.now() - t) * 1e6) / N
  return { createNs, rescheduleNs, clearNs, heapBytes: before !== null && after !== null ? after - before : null }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const medianOf = <T>(runs: T[], pick: (r: T) => number | null): number | null => {
  const xs = runs.map(pick).filter((x): x is number => x !== null)
  return xs.length ? median(xs) : null
}
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const ns = (n: number | null) => (n === null ? 'n/a' : `${fmt(n, 0)} ns`)
const mb = (n: number | null) => (n === null ? 'n/a (run node with --expose-gc)' : `${fmt(n / 1048576, 1)} MB (${fmt(n / N)} B per key)`)

const cpus = os.cpus()
console.log(`scheduler cost: ${fmt(N)} keys, each rescheduled ${RESCHEDULES}×, median of ${RUNS} runs (after 1 warm-up)`)
console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, node ${process.version}`)

schedulerRun()
timerRun()
const sched: SchedulerRun[] = []
const timers: TimerRun[] = []
for (let r = 0; r < RUNS; r++) {
  sched.push(schedulerRun())
  timers.push(timerRun())
}

const s = {
  schedule: medianOf(sched, (r) => r.scheduleNs)!,
  reschedule: medianOf(sched, (r) => r.rescheduleNs)!,
  fireOnce: medianOf(sched, (r) => r.fireOnceNs)!,
  fireByMinute: medianOf(sched, (r) => r.fireByMinuteNs)!,
  fireBare: medianOf(sched, (r) => r.fireBareNs)!,
  heap: medianOf(sched, (r) => r.heapBytes),
  heapAfterReschedules: medianOf(sched, (r) => r.heapAfterReschedulesBytes),
}
const b = {
  create: medianOf(timers, (r) => r.createNs)!,
  reschedule: medianOf(timers, (r) => r.rescheduleNs)!,
  clear: medianOf(timers, (r) => r.clearNs)!,
  heap: medianOf(timers, (r) => r.heapBytes),
}

console.log('\ndue-time index (createScheduler on a virtualClock):')
console.log(`  schedule (first due time)      ${ns(s.schedule)}/op`)
console.log(`  reschedule (move a due time)   ${ns(s.reschedule)}/op`)
console.log(`  fire, one advance past all     ${ns(s.fireOnce)}/key`)
console.log(`  fire, advancing minute by min. ${ns(s.fireByMinute)}/key (1,441 clock advances)`)
console.log(`  fire, one-slot clock           ${ns(s.fireBare)}/key (the index alone; the rest above is virtualClock's bookkeeping)`)
console.log(`  heap for ${fmt(N)} keys            ${mb(s.heap)}`)
console.log(`  … after the reschedules        ${mb(s.heapAfterReschedules)} (stale heap entries awaiting compaction)`)
console.log('\nbaseline: one Node.js timer per key (setTimeout / clearTimeout):')
console.log(`  create (setTimeout)            ${ns(b.create)}/op`)
console.log(`  reschedule (clear + create)    ${ns(b.reschedule)}/op`)
console.log(`  clear (clearTimeout)           ${ns(b.clear)}/op`)
console.log(`  create + clear                 ${ns(b.create + b.clear)}/pair`)
console.log(`  heap for ${fmt(N)} live timers     ${mb(b.heap)}`)
console.log('\nratios (index ÷ timers; < 1 means the index is cheaper):')
console.log(`  schedule ÷ setTimeout                      ${fmt(s.schedule / b.create, 2)}`)
console.log(`  reschedule ÷ (clearTimeout + setTimeout)   ${fmt(s.reschedule / b.reschedule, 2)}`)
console.log(`  (schedule + fire) ÷ (create + clear)       ${fmt((s.schedule + s.fireByMinute) / (b.create + b.clear), 2)}`)
if (s.heap !== null && b.heap !== null) console.log(`  heap ÷ heap                                ${fmt(s.heap / b.heap, 2)}`)
