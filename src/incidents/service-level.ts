/**
 * Today's service level, pure: incidents and "now" in, figures out (docs/operations.md §service
 * level). The 60 s target is the one the console shows on each emergency (SOS, fall, smoke, gas):
 * an alarm still unanswered past it is a miss as soon as it is late, not only once someone
 * acknowledges it, so the share drops while the queue waits. Only an operator's acknowledgement
 * (actor `user:…`) answers an alarm; a family member's answer does not.
 */
import type { Incident, IncidentType } from './model.js'

export const ACK_TARGET_S = 60
/** The UK telecare benchmark (TSA): 97.5 % of alarm calls answered within 60 s. */
export const BENCHMARK_SHARE = 0.975
const TIMED: ReadonlySet<IncidentType> = new Set(['sos', 'fall', 'smoke', 'gas'])

export interface ServiceLevel {
  /** Incidents of any kind waiting for an operator now. */
  open: number
  /** Incidents of any kind an operator acknowledged today. */
  acknowledgedToday: number
  /** Emergencies decided today: answered today, or still unanswered and already past the target. */
  counted: number
  /** Of those, answered late or not yet answered past the target. */
  missed: number
  /** Emergencies unanswered past the target right now. */
  overdueNow: number
  /** Time to answer, over `counted` (an unanswered one counts with its wait so far). */
  medianAckS: number | null
  p90AckS: number | null
  within60sShare: number | null
  benchmark: number
  /** null when nothing counted yet today. */
  meetsBenchmark: boolean | null
}

type Row = Pick<Incident, 'type' | 'state' | 'openedAt' | 'acknowledgedAt' | 'acknowledgedBy'>

const byOperator = (i: Row) => i.acknowledgedAt !== null && (i.acknowledgedBy ?? '').startsWith('user:')

/** `incidents`: today's and every still-active incident (older resolved ones are ignored). */
export function serviceLevel(incidents: readonly Row[], o: { now: number; dayStart: number }): ServiceLevel {
  const { now, dayStart } = o
  const waits: number[] = []
  let acknowledgedToday = 0
  let overdueNow = 0
  for (const i of incidents) {
    const answered = byOperator(i)
    if (answered && i.acknowledgedAt! >= dayStart) acknowledgedToday++
    if (!TIMED.has(i.type)) continue
    if (answered) {
      if (i.acknowledgedAt! >= dayStart) waits.push((i.acknowledgedAt! - i.openedAt) / 1000)
    } else if (i.state !== 'resolved') {
      const waited = (now - i.openedAt) / 1000
      if (waited > ACK_TARGET_S) {
        waits.push(waited)
        overdueNow++
      }
    }
  }
  const missed = waits.filter((w) => w > ACK_TARGET_S).length
  const share = waits.length ? (waits.length - missed) / waits.length : null
  return {
    open: incidents.filter((i) => i.state === 'open').length,
    acknowledgedToday,
    counted: waits.length,
    missed,
    overdueNow,
    medianAckS: quantile(waits, 0.5),
    p90AckS: quantile(waits, 0.9),
    within60sShare: share,
    benchmark: BENCHMARK_SHARE,
    meetsBenchmark: share === null ? null : share >= BENCHMARK_SHARE,
  }
}

/** Nearest-rank quantile, as the service level and the monthly report count it: null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
