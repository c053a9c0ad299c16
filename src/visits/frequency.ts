/**
 * How often a household is visited (探访关爱), from what the platform knows of its risk
 * (docs/operations.md §visits). Pure: the planner gathers the facts, this decides.
 *
 * Once a month by default (每月探访日). More often, one visit a month more for each of:
 * - a wellbeing incident in the last 60 days (inactivity, no water, a long bathroom stay …), and
 *   one more when there were three or more;
 * - devices often offline: two or more device-offline incidents in the last 60 days (a house
 *   whose sensors are silent is watched by nobody but the visitor);
 * - an elder aged 80 or more. Every household on the platform is an elder living alone (the
 *   platform's premise: no household field says otherwise), so age is the only test;
 * - declining activity: the last two weeks' water or motion well below the four weeks before
 *   (visits/activity.ts, which gives the reason with its figures).
 * Capped at four a month (weekly).
 */
import type { Explanation } from '../detectors/model.js'

export interface VisitRules {
  /** Visits a month for a household with no risk. */
  basePerMonth: number
  maxPerMonth: number
  /** How far back incidents count. */
  windowDays: number
  /** Wellbeing incidents in the window that add a visit; `wellbeingMany` or more add two. */
  wellbeingMany: number
  /** Device-offline incidents in the window that add a visit. */
  offlineOften: number
  /** From this age an elder living alone gets a visit more. */
  aloneAge: number
}

export const VISIT_RULES: VisitRules = { basePerMonth: 1, maxPerMonth: 4, windowDays: 60, wellbeingMany: 3, offlineOften: 2, aloneAge: 80 }

export interface RiskFacts {
  age: number | null
  /** Wellbeing incidents opened in the last `windowDays`. */
  wellbeingIncidents: number
  /** Device-offline incidents opened in the last `windowDays`. */
  offlineIncidents: number
  /** Why activity is taken to be declining (visits/activity.ts), or absent/null when it is not. */
  decliningActivity?: Explanation | null
}

export interface Frequency {
  perMonth: number
  /** Why more than the base, one entry per reason; empty for the monthly default. */
  reasons: Explanation[]
}

export function visitFrequency(facts: RiskFacts, rules: VisitRules = VISIT_RULES): Frequency {
  let perMonth = rules.basePerMonth
  const reasons: Explanation[] = []
  const days = rules.windowDays
  if (facts.wellbeingIncidents > 0) {
    perMonth += facts.wellbeingIncidents >= rules.wellbeingMany ? 2 : 1
    reasons.push({ zh: `近 ${days} 天有 ${facts.wellbeingIncidents} 次安康异常`, en: `${facts.wellbeingIncidents} wellbeing incident(s) in the last ${days} days` })
  }
  if (facts.offlineIncidents >= rules.offlineOften) {
    perMonth += 1
    reasons.push({ zh: `近 ${days} 天设备离线 ${facts.offlineIncidents} 次`, en: `devices offline ${facts.offlineIncidents} times in the last ${days} days` })
  }
  if (facts.age !== null && facts.age >= rules.aloneAge) {
    perMonth += 1
    reasons.push({ zh: `${facts.age} 岁独居`, en: `aged ${facts.age}, living alone` })
  }
  if (facts.decliningActivity) {
    perMonth += 1
    reasons.push(facts.decliningActivity)
  }
  return { perMonth: Math.min(rules.maxPerMonth, perMonth), reasons }
}

/** What a planned visit's `reason` says: the reasons joined, or the monthly default. */
export function planReason(f: Frequency): Explanation {
  if (f.reasons.length === 0) return { zh: '每月例行探访', en: 'monthly visit' }
  return {
    zh: `每月 ${f.perMonth} 次:${f.reasons.map((r) => r.zh).join(';')}`,
    en: `${f.perMonth} a month: ${f.reasons.map((r) => r.en).join('; ')}`,
  }
}
