/**
 * The day the elder comes home, for the family's answer "she is with us": a calendar date in
 * China (UTC+8 all year, no summer time), sent as 18:00 of that day. The platform takes a day
 * after today and at most 30 days ahead (POST /api/family/questions/{id}/answer, `until`).
 * Dates are 'YYYY-MM-DD', as <input type="date"> reads and writes them, whatever the phone's own
 * time zone.
 */
const CHINA_OFFSET_MS = 8 * 3_600_000
const DAY_MS = 24 * 3_600_000
/** The hour of the chosen day at which the household is watched again. */
export const HOME_HOUR = 18
/** The platform's limit for away mode set by the family. */
const AWAY_MAX_MS = 30 * DAY_MS
export const CHINA_TZ = 'Asia/Shanghai'

/** The date in China at an instant. */
export function chinaDate(at: number): string {
  return new Date(at + CHINA_OFFSET_MS).toISOString().slice(0, 10)
}

/** 18:00 in China on a date, epoch ms; NaN for anything that is not a date. */
export function homeTime(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  if (!m) return NaN
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const at = Date.UTC(y, mo - 1, d, HOME_HOUR) - CHINA_OFFSET_MS
  // 2026-02-30 is not a date (Date.UTC would roll it into March)
  return chinaDate(at) === date ? at : NaN
}

const addDays = (date: string, n: number) => chinaDate(homeTime(date) + n * DAY_MS)

/** The days the family may choose at `now`: tomorrow up to 30 days ahead (18:00 that day still within 30 days). */
export function homeDayRange(now: number): { min: string; max: string } {
  const today = chinaDate(now)
  const thirty = addDays(today, 30)
  return { min: addDays(today, 1), max: homeTime(thirty) <= now + AWAY_MAX_MS ? thirty : addDays(today, 29) }
}

export const inRange = (date: string, range: { min: string; max: string }) =>
  !Number.isNaN(homeTime(date)) && date >= range.min && date <= range.max
