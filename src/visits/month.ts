/**
 * Local calendar months and days for the visit plan (docs/operations.md §visits): a plan is made
 * per household and local month (`YYYY-MM`), its visits due on local days spread over the month.
 */
import { startOfLocalDay, utcOffsetMs } from '../detectors/local-time.js'

export const DAY_MS = 86_400_000

/** `YYYY-MM-DD` of the local day containing `at`. */
export function localDate(at: number, timeZone: string): string {
  return new Date(at + utcOffsetMs(at, timeZone)).toISOString().slice(0, 10)
}

/** Whole local days from the day of `from` to the day of `to` (0 on the same day). */
export function localDaysBetween(from: number, to: number, timeZone: string): number {
  return Math.round((startOfLocalDay(to, timeZone) - startOfLocalDay(from, timeZone)) / DAY_MS)
}

/**
 * When each of `count` visits is due: the days from `from` (the month's start, or today for a
 * plan made mid-month) to the month's end are cut into `count` equal parts, and visit n is due on
 * a day of part n chosen by `spread` (0..1, fixed per household), so a community's visits fall
 * over the whole month rather than all on its first day. Due at the start of that local day.
 */
export function dueDays(o: { from: number; end: number; count: number; spread: number; timeZone: string }): number[] {
  const first = startOfLocalDay(o.from, o.timeZone)
  const days = Math.max(1, Math.round((o.end - first) / DAY_MS))
  const out: number[] = []
  for (let n = 0; n < o.count; n++) {
    const partStart = (n * days) / o.count
    const partLen = days / o.count
    const day = Math.min(days - 1, Math.floor(partStart + o.spread * partLen))
    // Whole days from local midnight: re-read the local day so a zone's offset change stays on midnight.
    out.push(startOfLocalDay(first + day * DAY_MS + DAY_MS / 2, o.timeZone))
  }
  return out
}

/** A stable number in [0, 1) from a household id: where in each part of the month its visits fall. */
export function spreadOf(householdId: string): number {
  let h = 2166136261
  for (let i = 0; i < householdId.length; i++) h = Math.imul(h ^ householdId.charCodeAt(i), 16777619)
  return ((h >>> 0) % 10_000) / 10_000
}
