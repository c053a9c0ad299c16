/** The monthly report (考核): the store's figures for a month and a set of communities, assembled (docs/operations.md §monthly report). */
import type { Clock } from '../shared/clock.js'
import type { Db } from '../store/database.js'
import { reportRepository } from '../store/reports.js'
import { assembleMonthlyReport, type MonthlyReport, type ReportMeta } from './figures.js'
import { REPORT_TIME_ZONE, parseReportMonth, type MonthCheck } from './month.js'

export interface Reports {
  /** The month, checked against the platform's clock (a month not yet begun is refused). */
  month(text: string): MonthCheck
  /** The communities on a street, among those given (all when undefined). */
  communitiesOnStreet(street: string, among?: readonly string[]): Promise<{ id: string; name: string }[]>
  monthly(scope: ReportMeta['scope'], month: { month: string; start: number; end: number }): Promise<MonthlyReport>
}

export function createReports(deps: { db: Db; clock: Clock; timeZone?: string }): Reports {
  const repo = reportRepository(deps.db)
  const timeZone = deps.timeZone ?? REPORT_TIME_ZONE
  return {
    month: (text) => parseReportMonth(text, deps.clock.now(), timeZone),
    communitiesOnStreet: (street, among) => repo.communitiesOnStreet(street, among),
    async monthly(scope, month) {
      const now = deps.clock.now()
      const raw = await repo.monthly({ communityIds: scope.communities.map((c) => c.id), start: month.start, end: month.end, now })
      return assembleMonthlyReport(raw, { month: month.month, scope, start: month.start, end: month.end, timeZone, generatedAt: now })
    },
  }
}
