/**
 * A report month: `YYYY-MM`, from local midnight on the 1st to local midnight on the 1st of the
 * next (Asia/Shanghai unless told), as epoch ms `[start, end)`. Pure.
 */
import { startOfLocalDay } from '../detectors/local-time.js'

export const REPORT_TIME_ZONE = 'Asia/Shanghai'
export const MONTH_PATTERN = /^(\d{4})-(\d{2})$/

export interface ReportMonth {
  /** `YYYY-MM` */
  month: string
  start: number
  end: number
}

export type MonthCheck = { ok: true; value: ReportMonth } | { ok: false; message: string }

/** Local midnight starting the day that holds local noon of that calendar date. */
function localMidnight(year: number, month0: number, timeZone: string): number {
  // Noon UTC is the same calendar day in every zone from UTC-11 to UTC+11; start the search there.
  const guess = Date.UTC(year, month0, 1, 12)
  return startOfLocalDay(guess, timeZone)
}

/**
 * The month, or why not: malformed, impossible (`2026-13`), or not yet begun at `now` (a future
 * month has no figures; the current month reports what happened so far).
 */
export function parseReportMonth(text: string, now: number, timeZone = REPORT_TIME_ZONE): MonthCheck {
  const m = MONTH_PATTERN.exec(text)
  if (!m) return { ok: false, message: `month must be YYYY-MM, e.g. 2026-11 (月份格式应为 YYYY-MM): got "${text}"` }
  const year = Number(m[1])
  const month = Number(m[2])
  if (month < 1 || month > 12) return { ok: false, message: `month ${text}: there is no month ${month} (月份应为 01–12)` }
  if (year < 2000) return { ok: false, message: `month ${text}: before the platform existed (年份不早于 2000)` }
  const start = localMidnight(year, month - 1, timeZone)
  const end = localMidnight(month === 12 ? year + 1 : year, month === 12 ? 0 : month, timeZone)
  if (start > now) return { ok: false, message: `month ${text} has not begun yet (该月份尚未开始)` }
  return { ok: true, value: { month: text, start, end } }
}

/** The `YYYY-MM` holding that instant, in local time. */
export function monthOf(at: number, timeZone = REPORT_TIME_ZONE): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(new Date(at))
  const get = (t: string) => parts.find((p) => p.type === t)!.value
  return `${get('year')}-${get('month')}`
}

/** The month before `YYYY-MM`. */
export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number]
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`
}
