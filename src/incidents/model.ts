/** The incident as the domain sees it: what happened, to whom, and who is handling it. */

import type { ConditionKind, Explanation } from '../detectors/model.js'

/** What can raise an incident through the alarm path: contract alarm types plus smoke/gas `alarm: true`. */
export type AlarmKind = 'sos' | 'fall' | 'service' | 'smoke' | 'gas'
/** One active incident per (household, category): a repeat signal updates it, never duplicates it. */
export type Category = 'emergency' | 'service' | 'wellbeing' | 'property' | 'visit' | 'maintenance' | 'installation'
export type IncidentType = AlarmKind | ConditionKind
export type IncidentState = 'open' | 'acknowledged' | 'resolved'

/** What an operator may choose when closing an incident. */
export const OUTCOMES = ['emergency_handled', 'false_alarm', 'test', 'resolved_by_phone'] as const
/** A wellbeing incident the family settled (已到达/已电话联系,老人平安), where the community allows it (docs/operations.md §family). */
export const FAMILY_OUTCOME = 'settled_by_family'
/** A `visit` incident closed by recording the visit it asked for (见到本人/未见到 in the note; docs/operations.md §visits). */
export const VISIT_OUTCOME = 'visited'
export const ALL_OUTCOMES = [...OUTCOMES, FAMILY_OUTCOME, VISIT_OUTCOME] as const
export type Outcome = (typeof ALL_OUTCOMES)[number]

/**
 * 1 critical, 2 high, 3 medium, 4 low. Smoke and gas are handled with SOS priority (contract
 * §telemetry); a long bathroom stay, running water and a night-time exit may be a fall.
 */
export const PRIORITY: Record<IncidentType, number> = {
  sos: 1,
  smoke: 1,
  gas: 1,
  suspected_collapse: 1,
  fall: 2,
  continuous_flow: 2,
  bathroom_dwell: 2,
  wandering: 2,
  no_water: 3,
  no_water_day: 3,
  high_water: 3,
  inactivity: 3,
  morning_check: 3,
  unusual_inactivity: 3,
  long_absence: 3,
  service: 4,
  leak: 4,
  door_idle: 4,
  device_offline: 4,
  device_not_installed: 4,
  low_battery: 4,
}

export const CATEGORY: Record<IncidentType, Category> = {
  sos: 'emergency',
  smoke: 'emergency',
  gas: 'emergency',
  fall: 'emergency',
  service: 'service',
  no_water: 'wellbeing',
  no_water_day: 'wellbeing',
  high_water: 'wellbeing',
  continuous_flow: 'wellbeing',
  inactivity: 'wellbeing',
  morning_check: 'wellbeing',
  bathroom_dwell: 'wellbeing',
  wandering: 'wellbeing',
  suspected_collapse: 'wellbeing',
  // Nobody could confirm she is well, and she may be out where no device sees her: a call or a visit.
  unusual_inactivity: 'visit',
  long_absence: 'visit',
  leak: 'property',
  door_idle: 'visit',
  device_offline: 'maintenance',
  // A device never heard since it was registered: the installer's task, kept apart from breakdowns.
  device_not_installed: 'installation',
  low_battery: 'maintenance',
}

/**
 * A family member's answer that they are going to the elder (我去看看), closed by their arrival
 * (已到达). It is not an acknowledgement: the operators keep the incident and its ladder until
 * they take it themselves; no arrival by `dueAt` marks it overdue and alerts them again.
 */
export interface FamilyResponse {
  contactId: string
  contactName: string
  relation: string
  state: 'en_route' | 'arrived' | 'overdue'
  /** When they said they were going (or arrived, if they never said so first). */
  since: number
  /** Arrival expected by then (the community's `routing.family.arriveWithinMin`); null once arrived. */
  dueAt: number | null
  arrivedAt: number | null
}

export interface Incident {
  id: string
  householdId: string
  communityId: string
  /** The device whose alarm opened the incident; '' when a household-level detector did. */
  deviceId: string
  category: Category
  /** The most urgent alarm or condition seen so far. */
  type: IncidentType
  priority: number
  state: IncidentState
  cancelledByResident: boolean
  openedAt: number
  acknowledgedAt: number | null
  acknowledgedBy: string | null
  resolvedAt: number | null
  resolvedBy: string | null
  outcome: Outcome | null
  note: string | null
  updatedAt: number
  /** Detector conditions that are true now (keys such as `no_water`, `device_offline:wm-1`). */
  conditions: string[]
  /** Every condition has cleared; the incident waits for an operator to confirm and close it. */
  conditionCleared: boolean
  /** The detectors' latest explanation, with the numbers. */
  explanation: Explanation | null
  /** A family member on the way, arrived, or overdue; null when no family member said they would go. */
  familyResponse: FamilyResponse | null
}

export type EventKind =
  | 'opened'
  | 'alarm'
  | 'cancelled_by_resident'
  | 'acknowledged'
  | 'resolved'
  | 'finding'
  | 'condition_cleared'
  /** A ladder step ran: who was to be notified, by which channel. */
  | 'escalated'
  /** One notice's delivery result. */
  | 'notification'
  /** A family member answered from their link without going (已电话联系,老人平安); before family_en_route existed, also 我去看看. */
  | 'family_response'
  /** A family member is on the way (我去看看): not an acknowledgement. */
  | 'family_en_route'
  /** A family member confirmed arrival (已到达), perhaps that she is safe. */
  | 'family_arrived'
  /** Nobody confirmed arrival in time: back to the operators (家属未按时到达). */
  | 'family_overdue'

export interface IncidentEvent {
  incidentId: string
  at: number
  /** `device:{id}` or `user:{username}`. */
  actor: string
  kind: EventKind
  deviceId: string | null
  detail: Record<string, unknown>
}
