/**
 * A report month: `YYYY-MM`, from local midnight on the 1st to local midnight on the 1st of the
 * next (Asia/Shanghai unless told), as epoch ms `[start, end)`. Pure.
 */
import { monthBounds } from '../detectors/local-time.js'

export const REPORT_TIME_ZONE = 'Asia/Shanghai'
export const MONTH_PATTERN = /^(\d{4})-(\d{2})$/

export interface ReportMonth {
  /** `YYYY-MM` */
  month: string
  start: number
  end: number
}

export type MonthCheck = { ok: true; value: ReportMonth } | { ok: false; message: string }

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
  const { start, end } = monthBounds(text, timeZone)
  if (start > now) return { ok: false, message: `month ${text} has not begun yet (该月份尚未开始)` }
  return { ok: true, value: { month: text, start, end } }
}
