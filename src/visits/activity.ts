/**
 * Declining activity (docs/operations.md §visits): whether a household's daily activity in the
 * last two weeks fell well below its level in the four weeks before. Pure: the planner reads the
 * days (store/activity.ts), this decides.
 *
 * Two signals, whichever the household has: water drawn per day (the meter register's rise over
 * the local day) and presence motion readings per day. Each is compared by medians (one day at
 * the daughter's, one leaky night, one replaced meter move a mean, not a median), over days the
 * device was heard for most of the day only: a day a device was offline is no data, never "no
 * activity" (that is the offline rule's business). Declining when, on at least one signal with
 * enough days on both sides, the recent median is under `ratio` of the earlier one.
 */
import type { Explanation } from '../detectors/model.js'
import { utcOffsetMs } from '../detectors/local-time.js'
import type { DeviceDay } from '../store/activity.js'
import type { Sample } from '../store/telemetry.js'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

export interface ActivityRules {
  /** Recent window: the last `recentDays` whole local days (today, half over, is left out). */
  recentDays: number
  /** Earlier window: the `earlierDays` days before the recent ones. */
  earlierDays: number
  /** Declining when recent median < ratio × earlier median. */
  ratio: number
  /** Days with data needed in each window for a signal to count. */
  minRecentDays: number
  minEarlierDays: number
  /** A water day counts when the meter's readings span this much of it (an interval meter reports every few hours). */
  waterSpanMs: number
  /** More than this in a day is a replaced or rolled-over meter, not use: no data. */
  waterMaxLitresPerDay: number
  /** A presence day counts when the sensor was heard in this many of its hours (it reports at least every 10 minutes). */
  presenceMinHours: number
  /** Below these earlier levels a fall is noise, not a decline. */
  waterMinLitres: number
  motionMin: number
}

export const ACTIVITY_RULES: ActivityRules = {
  recentDays: 14,
  earlierDays: 28,
  ratio: 0.6,
  minRecentDays: 7,
  minEarlierDays: 10,
  waterSpanMs: 16 * 3_600_000,
  waterMaxLitresPerDay: 2000,
  presenceMinHours: 18,
  waterMinLitres: 20,
  motionMin: 10,
}

/** One local day of a household: litres drawn and motion readings, null when no device was heard enough that day. */
export interface ActivityDay {
  day: number
  waterLitres: number | null
  motion: number | null
}

export interface SignalTrend {
  signal: 'water' | 'motion'
  recentDays: number
  earlierDays: number
  recent: number | null
  earlier: number | null
  declining: boolean
}

export interface ActivityTrend {
  declining: boolean
  /** What was seen: the figures when declining or steady, "too little data" otherwise. */
  reason: Explanation
  signals: SignalTrend[]
}

/**
 * The days read at `now`: the whole local days of both windows, today left out. `today` is the
 * local day number (whole days since the epoch at the zone's offset now), as store/activity.ts counts.
 */
export function activityWindow(now: number, timeZone: string, rules: ActivityRules = ACTIVITY_RULES): { today: number; from: number; to: number; offsetMs: number } {
  const offsetMs = utcOffsetMs(now, timeZone)
  const today = Math.floor((now + offsetMs) / DAY_MS)
  return { today, from: (today - rules.recentDays - rules.earlierDays) * DAY_MS - offsetMs, to: today * DAY_MS - offsetMs, offsetMs }
}

/**
 * What store/activity.ts's query answers, from readings in memory (the demo seed's, before they
 * reach the history store): the same per device and local day, water and presence in [from, to).
 */
export function deviceDaysOf(samples: readonly Sample[], from: number, to: number, offsetMs: number): DeviceDay[] {
  const out = new Map<string, DeviceDay & { hourSet: Set<number> }>()
  for (const s of samples) {
    if ((s.kind !== 'water' && s.kind !== 'presence') || s.at < from || s.at >= to) continue
    const day = Math.floor((s.at + offsetMs) / DAY_MS)
    const key = `${s.householdId}\u0000${s.deviceId}\u0000${s.kind}\u0000${day}`
    const d = out.get(key) ?? { householdId: s.householdId, deviceId: s.deviceId, kind: s.kind, day, readings: 0, hours: 0, firstAt: s.at, lastAt: s.at, low: s.value, high: s.value, motion: 0, hourSet: new Set<number>() }
    out.set(key, d)
    d.readings++
    d.hourSet.add(Math.floor((s.at + offsetMs) / HOUR_MS))
    d.hours = d.hourSet.size
    d.firstAt = Math.min(d.firstAt, s.at)
    d.lastAt = Math.max(d.lastAt, s.at)
    d.low = Math.min(d.low, s.value)
    d.high = Math.max(d.high, s.value)
    if (s.value2 === 1) d.motion++
  }
  return [...out.values()].map(({ hourSet: _, ...d }) => d)
}

/** The households whose activity declined, with the reason, from their device days in `activityWindow`. */
export function decliningHouseholds(rows: readonly DeviceDay[], today: number, rules: ActivityRules = ACTIVITY_RULES): Map<string, Explanation> {
  const out = new Map<string, Explanation>()
  for (const [householdId, days] of activityDays(rows, rules)) {
    const trend = decliningActivity(days, today, rules)
    if (trend.declining) out.set(householdId, trend.reason)
  }
  return out
}

/** Per household, its local days from device days: devices of a kind summed, days no device was heard enough left out. */
export function activityDays(rows: readonly DeviceDay[], rules: ActivityRules = ACTIVITY_RULES): Map<string, ActivityDay[]> {
  const byHousehold = new Map<string, Map<number, ActivityDay>>()
  for (const r of rows) {
    const days = byHousehold.get(r.householdId) ?? new Map<number, ActivityDay>()
    byHousehold.set(r.householdId, days)
    const d = days.get(r.day) ?? { day: r.day, waterLitres: null, motion: null }
    days.set(r.day, d)
    if (r.kind === 'water') {
      const litres = (r.high - r.low) * 1000
      if (r.lastAt - r.firstAt >= rules.waterSpanMs && litres >= 0 && litres <= rules.waterMaxLitresPerDay) d.waterLitres = (d.waterLitres ?? 0) + litres
    } else if (r.hours >= rules.presenceMinHours) {
      d.motion = (d.motion ?? 0) + r.motion
    }
  }
  return new Map([...byHousehold].map(([id, days]) => [id, [...days.values()].sort((a, b) => a.day - b.day)]))
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Whether activity declined, from the household's days; `today` is today's local day number. */
export function decliningActivity(days: readonly ActivityDay[], today: number, rules: ActivityRules = ACTIVITY_RULES): ActivityTrend {
  const recentFrom = today - rules.recentDays
  const earlierFrom = recentFrom - rules.earlierDays
  const signals: SignalTrend[] = []
  for (const signal of ['water', 'motion'] as const) {
    const pick = (d: ActivityDay) => (signal === 'water' ? d.waterLitres : d.motion)
    const recent: number[] = []
    const earlier: number[] = []
    for (const d of days) {
      const v = pick(d)
      if (v === null) continue
      if (d.day >= recentFrom && d.day < today) recent.push(v)
      else if (d.day >= earlierFrom && d.day < recentFrom) earlier.push(v)
    }
    if (recent.length === 0 && earlier.length === 0) continue
    const r = median(recent)
    const e = median(earlier)
    const enough = recent.length >= rules.minRecentDays && earlier.length >= rules.minEarlierDays
    const floor = signal === 'water' ? rules.waterMinLitres : rules.motionMin
    signals.push({ signal, recentDays: recent.length, earlierDays: earlier.length, recent: r, earlier: e, declining: enough && e! >= floor && r! < rules.ratio * e! })
  }
  const counted = signals.filter((s) => s.recentDays >= rules.minRecentDays && s.earlierDays >= rules.minEarlierDays)
  const declined = counted.filter((s) => s.declining)
  if (declined.length > 0) return { declining: true, reason: declining(join(declined.map(words))), signals }
  if (counted.length > 0) return { declining: false, reason: join(counted.map((s) => steady(words(s)))), signals }
  if (signals.length === 0) return { declining: false, reason: { zh: '没有用水或活动读数,无法判断活动是否减少', en: 'no water or motion readings: cannot tell whether activity declined' }, signals }
  const have = signals.map((s) => `${s.signal === 'water' ? '用水' : '活动'}近两周 ${s.recentDays} 天、此前 ${s.earlierDays} 天`).join(';')
  const haveEn = signals.map((s) => `${s.signal}: ${s.recentDays} recent and ${s.earlierDays} earlier days`).join('; ')
  return {
    declining: false,
    reason: { zh: `读数天数不足(${have}),无法判断活动是否减少`, en: `too few days of readings (${haveEn}): cannot tell whether activity declined` },
    signals,
  }
}

function words(s: SignalTrend): Explanation {
  const r = Math.round(s.recent!)
  const e = Math.round(s.earlier!)
  const before = s.earlierDays >= 21 ? { zh: '此前 4 周', en: 'the 4 weeks before' } : { zh: `此前 ${s.earlierDays} 天`, en: `the ${s.earlierDays} days before` }
  return s.signal === 'water'
    ? { zh: `近两周每天用水约 ${r} 升,${before.zh}约 ${e} 升`, en: `water about ${r} L a day in the last two weeks, ${e} L in ${before.en}` }
    : { zh: `近两周每天活动约 ${r} 次,${before.zh}约 ${e} 次`, en: `motion about ${r} times a day in the last two weeks, ${e} in ${before.en}` }
}

const declining = (x: Explanation): Explanation => ({ zh: `活动减少:${x.zh}`, en: `activity declining: ${x.en}` })
const steady = (x: Explanation): Explanation => ({ zh: `活动未见减少:${x.zh}`, en: `activity not declining: ${x.en}` })
const join = (xs: Explanation[]): Explanation => ({ zh: xs.map((x) => x.zh).join(';'), en: xs.map((x) => x.en).join('; ') })
