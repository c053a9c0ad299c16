/**
 * What each scenario must make the platform raise — and nothing else. The CLI checks a run
 * against this table, and so do the tests.
 */
import type { Scenario } from './household.js'

export interface Expectation {
  /** The incident's category and type as the platform reports them. */
  category: string
  type: string
  /** Detector conditions that must be on it (keys, `*` matching any device id). */
  conditions?: string[]
  cancelledByResident?: boolean
}

export const EXPECTED: Record<Scenario, Expectation> = {
  sos: { category: 'emergency', type: 'sos' },
  fall: { category: 'emergency', type: 'fall' },
  cancel: { category: 'emergency', type: 'sos', cancelledByResident: true },
  // Adaptive detection (the default): a spell at home past the defaults, the family asked, no answer; the door never opened, so home for certain.
  collapse: { category: 'wellbeing', type: 'suspected_collapse', conditions: ['suspected_collapse'] },
  'tap-left-open': { category: 'wellbeing', type: 'continuous_flow', conditions: ['continuous_flow'] },
  leak: { category: 'property', type: 'leak', conditions: ['leak'] },
  wander: { category: 'wellbeing', type: 'wandering', conditions: ['wandering'] },
  'battery-drain': { category: 'maintenance', type: 'low_battery', conditions: ['low_battery:btn-*'] },
  offline: { category: 'maintenance', type: 'device_offline', conditions: ['device_offline:wm-*'] },
}

/** How long after the scenario starts a run must go on for its incident to be due. */
export const RUN_HOURS: Record<Scenario, number> = {
  sos: 1,
  fall: 1,
  cancel: 1,
  collapse: 14,
  'tap-left-open': 3,
  leak: 27,
  wander: 20,
  'battery-drain': 8,
  offline: 2,
}

export interface IncidentSummary {
  category: string
  type: string
  /** Conditions true now. */
  conditions: string[]
  /** Every condition raised on the incident, including those that have since cleared. */
  raised: string[]
  cancelledByResident: boolean
}

/** Compares what the platform raised for one household with the expectation; '' when it matches. */
export function checkOutcome(scenario: Scenario, incidents: IncidentSummary[]): string {
  const want = EXPECTED[scenario]
  if (incidents.length !== 1) {
    return `expected exactly one incident (${want.category}/${want.type}), got ${incidents.length}: ${incidents.map((i) => `${i.category}/${i.type}[${i.raised.join(',')}]`).join('; ') || 'none'}`
  }
  const got = incidents[0]!
  if (got.category !== want.category) return `expected category ${want.category}, got ${got.category}`
  if (!want.conditions && got.type !== want.type) return `expected type ${want.type}, got ${got.type}`
  for (const pattern of want.conditions ?? []) {
    const re = new RegExp(`^${pattern.replace('*', '.*')}$`)
    if (!got.raised.some((c) => re.test(c))) return `expected condition ${pattern}, got [${got.raised.join(', ')}]`
  }
  if (want.cancelledByResident !== undefined && got.cancelledByResident !== want.cancelledByResident) return 'expected the incident to be marked cancelled by the resident'
  return ''
}
