/**
 * Water detector: smart water meter readings → no_water (Changning), no_water_day (Jing'an),
 * high_water, leak (Longgang) and continuous_flow.
 *
 * A meter reports a cumulative register, so the usage between two readings is exact however
 * far apart they are; what is unknown is only the usage after a meter's latest reading. That
 * usage is spread evenly over the time between the two readings, into fixed slots (leakSlotMin,
 * aligned to the epoch) and into local calendar days. Slots and days keep only what some rule
 * can still look at, so a household's state stays a few kilobytes at most.
 *
 * Where each threshold falls (chosen once here, tested at the edge):
 * - usage is compared at 1 mL resolution, so float noise from spreading never flips a rule;
 * - no_water: used < noUsageBelowM3 (0.01 exactly is not under); high_water: used > highUsageAboveM3;
 *   continuous_flow: flowing > continuousFlowMin (60 min exactly is not more), where flowing is
 *   flowLpm > continuousFlowAboveLpm (1 l/min exactly is a drip, not a running tap);
 * - a rolling window's far edge may cut a slot: that slot's usage is taken as uniform within it.
 * - data older than staleAfterMin is missing, not zero: the rolling rules say 'unknown', never 'true'.
 */
import type { EvalContext } from './context.js'
import { MINUTE, soonest } from './context.js'
import { formatLocalTime, startOfLocalDay, utcOffsetMs } from './local-time.js'
import type { Condition, Evaluation, Explanation } from './model.js'
import type { DetectorSettings } from './settings.js'

type WaterSettings = DetectorSettings['water']

/** Usage in one time bucket (a slot or a local day): [bucket start, m³]. Buckets without usage are left out. */
export type UsageBucket = [start: number, m3: number]

export interface MeterState {
  /** Time and register of the meter's latest reading: a reading not after it is out of order. */
  at: number
  totalM3: number
  /** This meter's usage is counted from this reading on; before it, its usage is unknown. */
  countedFrom: number
  /** Start of the current uninterrupted flow (flowLpm > 0), or null when not flowing. */
  flowSince: number | null
  /** Latest reported flow (L/min); null while the meter has never reported flow. */
  flowLpm: number | null
}

export interface WaterState {
  /** One entry per meter heard from within the look-back; normally exactly one. */
  meters: Record<string, MeterState>
  /** Slot length the slots were bucketed with: settings may change under a running household. */
  slotMin: number
  /** Usage per slot, oldest first, none older than the longest window needs. */
  slots: UsageBucket[]
  /** Time zone the days were bucketed with; null before the first reading. */
  timeZone: string | null
  /** Day totals are complete from this instant on (set when the time zone changes); null: from the meters' start. */
  daysFrom: number | null
  /** Usage per local day (keyed by its local midnight): yesterday and today. */
  days: UsageBucket[]
  /** Register drops seen (meter replacement or rollover): re-baselined and counted as no usage. */
  meterResets: number
  lastMeterResetAt: number | null
}

export interface WaterReading {
  deviceId: string
  at: number
  totalM3: number
  flowLpm?: number | undefined
}

export function initialWaterState(): WaterState {
  return { meters: {}, slotMin: 30, slots: [], timeZone: null, daysFrom: null, days: [], meterResets: 0, lastMeterResetAt: null }
}

// ── readings ──────────────────────────────────────────────────────────────────

export function applyWaterReading(state: WaterState, reading: WaterReading, ctx: EvalContext): WaterState {
  if (!isPlausible(reading, ctx)) return state
  const s = withinLookBack(state, ctx)
  const previous = s.meters[reading.deviceId]
  // A duplicate (same time and register) or a late, out-of-order reading changes nothing.
  if (previous && reading.at <= previous.at) return state

  const next: WaterState = {
    ...s,
    meters: { ...s.meters, [reading.deviceId]: previous ? advance(previous, reading, ctx) : firstReading(reading, ctx) },
    timeZone: ctx.settings.timeZone,
  }
  if (!previous) return next
  if (reading.totalM3 < previous.totalM3) {
    // The register only grows, except on replacement or rollover: re-baseline, count no usage.
    return { ...next, meterResets: next.meterResets + 1, lastMeterResetAt: reading.at }
  }
  return withUsage(next, previous.at, reading.at, storedM3(reading.totalM3 - previous.totalM3), ctx)
}

/**
 * A reading too old to matter to any window is dropped, and so is one stamped further in the
 * future than the stale allowance: a broken device clock would otherwise pin the meter (every
 * later reading out of order) and grow the slots without bound.
 */
function isPlausible(reading: WaterReading, ctx: EvalContext): boolean {
  const w = ctx.settings.water
  return (
    Number.isFinite(reading.totalM3) &&
    Number.isFinite(reading.at) &&
    reading.at >= ctx.now - lookBackMs(w) &&
    reading.at <= ctx.now + w.staleAfterMin * MINUTE
  )
}

/** Running as a tap runs: a drip or a slow leak under continuousFlowAboveLpm is not. */
function running(flowLpm: number, ctx: EvalContext): boolean {
  return flowLpm > ctx.settings.water.continuousFlowAboveLpm
}

/** Share of the lower sampled rate the register must show between two running samples for them to be one flow. */
const FLOW_CONFIRM_SHARE = 0.5

function firstReading(r: WaterReading, ctx: EvalContext): MeterState {
  const flowing = r.flowLpm !== undefined && running(r.flowLpm, ctx)
  return { at: r.at, totalM3: r.totalM3, countedFrom: r.at, flowSince: flowing ? r.at : null, flowLpm: r.flowLpm ?? null }
}

function advance(m: MeterState, r: WaterReading, ctx: EvalContext): MeterState {
  const moved = { ...m, at: r.at, totalM3: r.totalM3 }
  // A reading without flow says nothing about it; flow lasts from its first running reading to one that is not.
  if (r.flowLpm === undefined) return moved
  if (!running(r.flowLpm, ctx)) return { ...moved, flowSince: null, flowLpm: r.flowLpm }
  // Two running samples are one flow only if the register confirms it ran between them: an hourly
  // meter that samples a kettle, then laundry, has not seen an hour of running water.
  const flowedBetween = m.flowSince !== null && m.flowLpm !== null && r.totalM3 - m.totalM3 >= (FLOW_CONFIRM_SHARE * Math.min(m.flowLpm, r.flowLpm) * (r.at - m.at)) / MINUTE / 1000
  return { ...moved, flowSince: flowedBetween ? m.flowSince : r.at, flowLpm: r.flowLpm }
}

function withUsage(s: WaterState, from: number, to: number, m3: number, ctx: EvalContext): WaterState {
  if (m3 <= 0) return s
  const tz = ctx.settings.timeZone
  return {
    ...s,
    slots: spread(s.slots, from, to, m3, slotAt(slotMsOf(ctx)), lookBackStart(ctx)),
    days: spread(s.days, from, to, m3, dayAt(tz), firstDayKept(ctx)),
  }
}

/**
 * Spreads `m3` used between `from` and `to` evenly over the buckets it covers (hourly reports
 * still fill 30-minute slots). The part before `keepFrom` is dropped: no rule looks that far back.
 */
function spread(
  buckets: readonly UsageBucket[],
  from: number,
  to: number,
  m3: number,
  bucketAt: (t: number) => { start: number; end: number },
  keepFrom: number,
): UsageBucket[] {
  const totals = new Map<number, number>(buckets)
  const rate = m3 / (to - from)
  for (let t = Math.max(from, keepFrom); t < to; ) {
    const bucket = bucketAt(t)
    const end = Math.min(bucket.end, to)
    if (end <= t) break // a time zone whose day does not advance: never loop
    totals.set(bucket.start, (totals.get(bucket.start) ?? 0) + rate * (end - t))
    t = end
  }
  return [...totals]
    .map(([start, v]): UsageBucket => [start, storedM3(v)])
    .filter(([, v]) => v > 0)
    .sort((a, b) => a[0] - b[0])
}

// ── look-back: what is kept ───────────────────────────────────────────────────

/**
 * How far back any rule can look: the longest rolling window, or the leak window plus the stale
 * allowance it may lag behind now by, plus two slots for a window edge inside a slot.
 */
function lookBackMs(w: WaterSettings): number {
  const slot = w.leakSlotMin * MINUTE
  const leakSpan = Math.ceil((w.leakWindowMin * MINUTE) / slot) * slot
  return Math.max(w.noUsageWindowMin * MINUTE, w.highUsageWindowMin * MINUTE, leakSpan + w.staleAfterMin * MINUTE) + 2 * slot
}

function lookBackStart(ctx: EvalContext): number {
  return ctx.now - lookBackMs(ctx.settings.water)
}

/** The day rule reads the most recently completed day, and clears on usage today: keep those two. */
function firstDayKept(ctx: EvalContext): number {
  const tz = ctx.settings.timeZone
  return startOfLocalDay(startOfLocalDay(ctx.now, tz) - 1, tz)
}

/**
 * The state as the current time and settings see it: meters silent for longer than any window
 * forgotten (a replaced meter's old id stops holding the household in 'unknown'), buckets past
 * the look-back dropped, slots re-bucketed if the slot length changed, and day totals restarted
 * if the time zone changed. Used by every entry point, so they all agree.
 */
function withinLookBack(state: WaterState, ctx: EvalContext): WaterState {
  const w = ctx.settings.water
  const slotMs = slotMsOf(ctx)
  const keepFrom = lookBackStart(ctx)
  const tz = ctx.settings.timeZone
  const zoneChanged = state.timeZone !== null && state.timeZone !== tz
  const firstDay = firstDayKept(ctx)
  // Most calls have nothing to drop or redo: the state as it is, not a copy (this runs for every
  // reading of every household, twice).
  if (state.slotMin === w.leakSlotMin && !zoneChanged && allKept(state, keepFrom, slotMs, firstDay)) return state
  const slots = state.slotMin === w.leakSlotMin ? state.slots : reslot(state.slots, state.slotMin * MINUTE, slotMs)
  return {
    ...state,
    meters: Object.fromEntries(Object.entries(state.meters).filter(([, m]) => m.at >= keepFrom)),
    slotMin: w.leakSlotMin,
    slots: slots.filter(([start]) => start + slotMs > keepFrom),
    timeZone: state.timeZone === null ? null : tz,
    daysFrom: zoneChanged ? ctx.now : state.daysFrom,
    days: zoneChanged ? [] : state.days.filter(([start]) => start >= firstDay),
  }
}

/** Whether withinLookBack would keep every meter, slot and day (its filters, without the copies). */
function allKept(state: WaterState, keepFrom: number, slotMs: number, firstDay: number): boolean {
  for (const id in state.meters) if (!(state.meters[id]!.at >= keepFrom)) return false
  for (const slot of state.slots) if (!(slot[0] + slotMs > keepFrom)) return false
  for (const day of state.days) if (!(day[0] >= firstDay)) return false
  return true
}

function reslot(slots: readonly UsageBucket[], fromMs: number, toMs: number): UsageBucket[] {
  let out: UsageBucket[] = []
  for (const [start, m3] of slots) out = spread(out, start, start + fromMs, m3, slotAt(toMs), start)
  return out
}

// ── evaluation ────────────────────────────────────────────────────────────────

/**
 * The meter's Last Will: whatever it last said about flow is no longer known. A meter that
 * drops its line mid-shower is a device-offline finding, never a "tap left open".
 */
export function applyMeterLost(state: WaterState, deviceId: string): WaterState {
  const m = state.meters[deviceId]
  if (!m || (m.flowSince === null && m.flowLpm === null)) return state
  return { ...state, meters: { ...state.meters, [deviceId]: { ...m, flowSince: null, flowLpm: null } } }
}

/** `replaced`: rules the caller replaces (adaptive mode), said 'false' without being evaluated. */
export function evaluateWater(state: WaterState, ctx: EvalContext, replaced?: ReadonlySet<string>): Evaluation[] {
  const s = withinLookBack(state, ctx)
  const cov = coverage(s, ctx)
  return [
    replaced?.has('no_water') ? { key: 'no_water', status: 'false' } : noWater(s, cov, ctx),
    replaced?.has('no_water_day') ? { key: 'no_water_day', status: 'false' } : noWaterDay(s, cov, ctx),
    replaced?.has('high_water') ? { key: 'high_water', status: 'false' } : highWater(s, cov, ctx),
    replaced?.has('leak') ? { key: 'leak', status: 'false' } : leak(s, cov, ctx),
    replaced?.has('continuous_flow') ? { key: 'continuous_flow', status: 'false' } : continuousFlow(s, cov, ctx),
  ]
}

/** Where usage is known: from every meter's first counted reading to the oldest of their latest readings. */
interface Coverage {
  from: number
  until: number
  /** The latest readings are recent enough that silence after them may be read as no usage. */
  fresh: boolean
}

function coverage(s: WaterState, ctx: EvalContext): Coverage | null {
  let meters = 0
  let from = -Infinity
  let until = Infinity
  for (const id in s.meters) {
    const m = s.meters[id]!
    meters++
    from = Math.max(from, m.countedFrom)
    until = Math.min(until, m.at)
  }
  if (meters === 0) return null
  return {
    from,
    until,
    fresh: ctx.now - until <= ctx.settings.water.staleAfterMin * MINUTE,
  }
}

function noWater(s: WaterState, cov: Coverage | null, ctx: EvalContext): Evaluation {
  const key = 'no_water'
  const w = ctx.settings.water
  if (!cov || !cov.fresh) return { key, status: 'unknown' }
  // The window ends at the meters' latest report, not now: what a meter has not yet reported is
  // unknown, never zero use (contract: meters may report only every 15 to 60 minutes or longer).
  const windowEnd = Math.min(ctx.now, cov.until)
  const windowStart = windowEnd - w.noUsageWindowMin * MINUTE
  const used = usedInWindow(s, ctx, w.noUsageWindowMin, windowEnd)
  // Any usage we know of settles it, even before the window is fully observed.
  if (used >= w.noUsageBelowM3) return { key, status: 'false' }
  if (!observed(windowStart, cov, ctx)) return { key, status: 'unknown' }
  const span = duration(w.noUsageWindowMin)
  const reset = resetNote(s, windowStart)
  // Said only when the latest reading is not from now: "12 h" then ends at that reading.
  const asOf = ctx.now - windowEnd >= MINUTE ? formatLocalTime(windowEnd, ctx.settings.timeZone) : null
  return condition(
    'no_water',
    {
      zh: `${span.zh}用水 ${m3(used, 'down')} m³,低于 ${m3(w.noUsageBelowM3)} m³ 阈值${asOf ? `(截至 ${asOf} 的水表读数)` : ''}${reset.zh}`,
      en: `${m3(used, 'down')} m³ used in ${span.en}, below the ${m3(w.noUsageBelowM3)} m³ threshold${asOf ? ` (meter readings up to ${asOf})` : ''}${reset.en}`,
    },
    { usedM3: used, thresholdM3: w.noUsageBelowM3, windowMin: w.noUsageWindowMin, from: windowStart, to: windowEnd, meterResets: s.meterResets },
  )
}

function highWater(s: WaterState, cov: Coverage | null, ctx: EvalContext): Evaluation {
  const key = 'high_water'
  const w = ctx.settings.water
  if (!cov || !cov.fresh) return { key, status: 'unknown' }
  const windowStart = ctx.now - w.highUsageWindowMin * MINUTE
  const used = usedInWindow(s, ctx, w.highUsageWindowMin)
  if (used <= w.highUsageAboveM3) return { key, status: observed(windowStart, cov, ctx) ? 'false' : 'unknown' }
  const span = duration(w.highUsageWindowMin)
  return condition(
    'high_water',
    {
      zh: `${span.zh}用水 ${m3(used, 'up')} m³,超过 ${m3(w.highUsageAboveM3)} m³ 阈值`,
      en: `${m3(used, 'up')} m³ used in ${span.en}, above the ${m3(w.highUsageAboveM3)} m³ threshold`,
    },
    { usedM3: used, thresholdM3: w.highUsageAboveM3, windowMin: w.highUsageWindowMin, from: windowStart, meterResets: s.meterResets },
  )
}

/**
 * Leak: usage in every slot of the window. The window ends at the last slot boundary the data
 * reaches (the slot after it is still being filled), so it lags now by at most the stale allowance.
 */
function leak(s: WaterState, cov: Coverage | null, ctx: EvalContext): Evaluation {
  const key = 'leak'
  const w = ctx.settings.water
  if (!cov || !cov.fresh) return { key, status: 'unknown' }
  const slotMs = slotMsOf(ctx)
  const end = Math.floor(cov.until / slotMs) * slotMs
  const count = Math.ceil((w.leakWindowMin * MINUTE) / slotMs)
  const start = end - count * slotMs
  const knownFrom = Math.max(ctx.observedFrom, cov.from)
  let least = Infinity
  // The stored slots are oldest first: walked beside the window's, not looked up in a map built each time.
  let i = 0
  for (let slot = start; slot < end; slot += slotMs) {
    while (i < s.slots.length && s.slots[i]![0] < slot) i++
    const used = toMl(i < s.slots.length && s.slots[i]![0] === slot ? s.slots[i]![1] : 0)
    if (used === 0 && slot >= knownFrom) return { key, status: 'false' } // one observed dry slot: no leak
    least = Math.min(least, used)
  }
  if (start < knownFrom) return { key, status: 'unknown' }
  const total = toMl(usageSince(s.slots, start, slotMs) - usageSince(s.slots, end, slotMs))
  const span = duration(w.leakWindowMin)
  // A slow leak is litres per slot: in m³ at three decimals its least slot would read "0".
  const leastL = (least * 1000).toFixed(1)
  return condition(
    'leak',
    {
      zh: `${span.zh}内每 ${w.leakSlotMin} 分钟均有用水(共 ${m3(total)} m³,最少的一段 ${leastL} 升),疑似漏水`,
      en: `Water used in every ${w.leakSlotMin}-minute slot for ${span.en} (${m3(total)} m³ in all, at least ${leastL} L per slot): a possible leak`,
    },
    { slots: count, slotMin: w.leakSlotMin, windowMin: w.leakWindowMin, usedM3: total, leastSlotM3: least, from: start, to: end },
  )
}

function continuousFlow(s: WaterState, cov: Coverage | null, ctx: EvalContext): Evaluation {
  const key = 'continuous_flow'
  const w = ctx.settings.water
  if (!cov || !cov.fresh) return { key, status: 'unknown' }
  let reporting = false
  let longest: { deviceId: string; since: number; until: number; lpm: number } | null = null
  for (const deviceId in s.meters) {
    const m = s.meters[deviceId]!
    if (m.flowLpm === null) continue
    reporting = true
    if (m.flowSince === null) continue
    const since = flowStart(m.flowSince, ctx)
    const until = flowKnownUntil(m, ctx)
    if (!longest || until - since > longest.until - longest.since) longest = { deviceId, since, until, lpm: m.flowLpm ?? 0 }
  }
  // A meter that never reports flow cannot tell us it is not flowing.
  if (!reporting) return { key, status: 'unknown' }
  if (!longest || longest.until - longest.since <= w.continuousFlowMin * MINUTE) return { key, status: 'false' }
  const minutes = Math.floor((longest.until - longest.since) / MINUTE)
  const lpm = longest.lpm.toFixed(1)
  return condition(
    'continuous_flow',
    { zh: `持续用水 ${minutes} 分钟(${lpm} 升/分钟)`, en: `Water flowing for ${minutes} min (${lpm} L/min)` },
    { minutes, flowLpm: longest.lpm, since: longest.since, thresholdMin: w.continuousFlowMin, deviceId: longest.deviceId },
  )
}

/**
 * A flowing reading is trusted for one report interval (flowTrustMin): a live meter reports
 * again by then, so flow counts on; a silent meter's flow is missing data, not a tap left open.
 */
function flowKnownUntil(m: { at: number }, ctx: EvalContext): number {
  return Math.min(ctx.now, m.at + ctx.settings.water.flowTrustMin * MINUTE)
}

/** Flow that began before observation (e.g. during away mode) counts from when observation began. */
function flowStart(flowSince: number, ctx: EvalContext): number {
  return Math.max(flowSince, ctx.observedFrom)
}

/**
 * The most recently completed local day, under the threshold → true until water runs again
 * (usage after that day reaching the threshold clears it); the next dry day raises it again.
 * Readings must bracket the day: one at or before its start, one at or after its end.
 */
function noWaterDay(s: WaterState, cov: Coverage | null, ctx: EvalContext): Evaluation {
  const key = 'no_water_day'
  const w = ctx.settings.water
  if (!w.noUsageDayEnabled) return { key, status: 'false' }
  const tz = ctx.settings.timeZone
  const dayEnd = startOfLocalDay(ctx.now, tz)
  const dayStart = startOfLocalDay(dayEnd - 1, tz)
  const usedSince = toMl(s.days.filter(([start]) => start >= dayEnd).reduce((sum, [, v]) => sum + v, 0))
  if (usedSince >= w.noUsageBelowM3) return { key, status: 'false' }
  const used = toMl(s.days.find(([start]) => start === dayStart)?.[1] ?? 0)
  if (used >= w.noUsageBelowM3) return { key, status: 'false' }
  const complete =
    cov !== null &&
    dayStart >= ctx.observedFrom &&
    dayStart >= (s.daysFrom ?? -Infinity) &&
    cov.from <= dayStart &&
    cov.until >= dayEnd
  if (!complete) return { key, status: 'unknown' }
  const date = localDate(dayStart, tz)
  const reset = resetNote(s, dayStart)
  return condition(
    'no_water_day',
    {
      zh: `${date.zh}全天用水 ${m3(used, 'down')} m³,低于 ${m3(w.noUsageBelowM3)} m³ 阈值${reset.zh}`,
      en: `${m3(used, 'down')} m³ used on ${date.en}, below the ${m3(w.noUsageBelowM3)} m³ threshold${reset.en}`,
    },
    { date: date.iso, usedM3: used, thresholdM3: w.noUsageBelowM3, from: dayStart, to: dayEnd, meterResets: s.meterResets },
  )
}

// ── next check ────────────────────────────────────────────────────────────────

/**
 * The earliest instant after now at which an evaluation can change without a new reading: data
 * turning stale, a silent meter being forgotten, a rolling window becoming fully observed or
 * sliding past usage, flow outlasting its limit, local midnight. Instants are epoch ms (integers).
 */
export function nextWaterCheck(state: WaterState, ctx: EvalContext): number | null {
  const s = withinLookBack(state, ctx)
  const cov = coverage(s, ctx)
  if (!cov) return null
  const w = ctx.settings.water
  const now = ctx.now
  let next = soonest(null, justAfter(cov.until + w.staleAfterMin * MINUTE), now)
  for (const id in s.meters) next = soonest(next, justAfter(s.meters[id]!.at + lookBackMs(w)), now)
  for (const min of [w.noUsageWindowMin, w.highUsageWindowMin]) next = soonest(next, Math.ceil(Math.max(ctx.observedFrom, cov.from) + min * MINUTE), now)
  next = soonest(next, whenWindowUsage(s, ctx, w.highUsageWindowMin, (used) => used <= w.highUsageAboveM3), now)
  for (const id in s.meters) {
    const m = s.meters[id]!
    if (m.flowSince === null) continue
    const flips = justAfter(flowStart(m.flowSince, ctx) + w.continuousFlowMin * MINUTE)
    if (flips <= m.at + w.flowTrustMin * MINUTE) next = soonest(next, flips, now)
  }
  if (w.noUsageDayEnabled) next = soonest(next, nextLocalMidnight(now, ctx.settings.timeZone), now)
  return next
}

/** First integer ms after `t`: where a strict "more than" begins to hold. */
function justAfter(t: number): number {
  return Math.floor(t) + 1
}

/**
 * The first instant after now at which the usage in a rolling window satisfies `holds`, for a
 * test that only becomes true as usage falls (and window usage only falls while no reading
 * arrives); null if it never does. Binary search reuses the evaluation's own arithmetic, so the
 * instant is exact, never late.
 */
function whenWindowUsage(s: WaterState, ctx: EvalContext, windowMin: number, holds: (used: number) => boolean): number | null {
  let lo = Math.floor(ctx.now)
  if (holds(usedInWindow(s, ctx, windowMin, lo))) return null
  // Once the window starts after the last slot (and after observation began), it is empty for good.
  const lastSlotEnd = Math.max(...s.slots.map(([start]) => start + slotMsOf(ctx)), ctx.observedFrom, lo)
  let hi = Math.ceil(lastSlotEnd + windowMin * MINUTE) + 1
  if (!holds(usedInWindow(s, ctx, windowMin, hi))) return null
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (holds(usedInWindow(s, ctx, windowMin, mid))) hi = mid
    else lo = mid
  }
  return hi
}

// ── usage arithmetic ──────────────────────────────────────────────────────────

/** Usage known in the rolling window ending at `end` (now), never looking back before observation began. */
function usedInWindow(s: WaterState, ctx: EvalContext, windowMin: number, end = ctx.now): number {
  const from = Math.max(end - windowMin * MINUTE, ctx.observedFrom)
  return toMl(usageSince(s.slots, from, slotMsOf(ctx)))
}

/** Usage from `from` on; a slot cut by `from` counts in proportion (uniform within the slot). */
function usageSince(slots: readonly UsageBucket[], from: number, slotMs: number): number {
  let sum = 0
  for (const [start, used] of slots) {
    const end = start + slotMs
    if (end > from) sum += (used * (end - Math.max(start, from))) / slotMs
  }
  return sum
}

/** A rolling window is observed when it starts at or after observation began and after every meter's first reading. */
function observed(windowStart: number, cov: Coverage, ctx: EvalContext): boolean {
  return windowStart >= ctx.observedFrom && windowStart >= cov.from
}

function slotMsOf(ctx: EvalContext): number {
  return ctx.settings.water.leakSlotMin * MINUTE
}

function slotAt(slotMs: number) {
  return (t: number) => {
    const start = Math.floor(t / slotMs) * slotMs
    return { start, end: start + slotMs }
  }
}

function dayAt(timeZone: string) {
  return (t: number) => {
    const start = startOfLocalDay(t, timeZone)
    return { start, end: nextLocalMidnight(start, timeZone) }
  }
}

/** Days are 23 to 25 h long where daylight saving exists: 26 h past a midnight is always in the next day. */
function nextLocalMidnight(t: number, timeZone: string): number {
  return startOfLocalDay(startOfLocalDay(t, timeZone) + 26 * 60 * MINUTE, timeZone)
}

/** Compared at 1 mL: far below any meter's resolution, far above the float noise of spreading. */
function toMl(m3: number): number {
  return Math.round(m3 * 1e6) / 1e6
}

/** Stored at 1 µL: keeps the register's decimals exact (100.01 − 100 is 0.01) and the JSON short. */
function storedM3(m3: number): number {
  return Math.round(m3 * 1e9) / 1e9
}

// ── explanations ──────────────────────────────────────────────────────────────

type WaterKind = 'no_water' | 'no_water_day' | 'high_water' | 'leak' | 'continuous_flow'

function condition(kind: WaterKind, explanation: Explanation, data: Condition['data']): Evaluation {
  return { key: kind, status: 'true', condition: { key: kind, kind, explanation, data } }
}

/**
 * m³ for people: three decimals, no trailing zeros (0.003, 0.01, 2). A figure reported as under
 * a threshold is rounded down and one over it up, so 0.0098 reads "0.009", never "0.01 below 0.01".
 */
function m3(v: number, toward: 'down' | 'nearest' | 'up' = 'nearest'): string {
  const round = toward === 'down' ? Math.floor : toward === 'up' ? Math.ceil : Math.round
  // The nudge keeps float products such as 0.007 × 1000 = 7.000000000000001 on their integer.
  const nudge = toward === 'down' ? 1e-9 : toward === 'up' ? -1e-9 : 0
  return String(round(v * 1000 + nudge) / 1000)
}

function duration(minutes: number): Explanation {
  return minutes % 60 === 0 ? { zh: `${minutes / 60} 小时`, en: `${minutes / 60} h` } : { zh: `${minutes} 分钟`, en: `${minutes} min` }
}

/** A register that went back inside the period explains a figure that may look low. */
function resetNote(s: WaterState, from: number): Explanation {
  if (s.lastMeterResetAt === null || s.lastMeterResetAt < from) return { zh: '', en: '' }
  return {
    zh: '(期间水表读数回退,按换表处理,未计入用水)',
    en: ' (the meter register went back in this period: taken as a meter replacement, not counted as usage)',
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function localDate(dayStart: number, timeZone: string): Explanation & { iso: string } {
  // Noon is safely inside the day whatever the offset does at midnight.
  const noon = dayStart + 12 * 60 * MINUTE
  const d = new Date(noon + utcOffsetMs(noon, timeZone))
  const month = d.getUTCMonth() + 1
  const day = d.getUTCDate()
  return {
    zh: `${month}月${day}日`,
    en: `${day} ${MONTHS[month - 1]}`,
    iso: `${d.getUTCFullYear()}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
  }
}
