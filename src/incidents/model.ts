/** The incident as the domain sees it: what happened, to whom, and who is handling it. */

/** What can raise an incident through the alarm path: contract alarm types plus smoke/gas `alarm: true`. */
export type AlarmKind = 'sos' | 'fall' | 'service' | 'smoke' | 'gas'
export type Category = 'emergency' | 'service'
export type IncidentState = 'open' | 'acknowledged' | 'resolved'

export const OUTCOMES = ['emergency_handled', 'false_alarm', 'test', 'resolved_by_phone'] as const
export type Outcome = (typeof OUTCOMES)[number]

/** 1 is the most urgent. Smoke and gas are handled with SOS priority (contract §telemetry). */
export const PRIORITY: Record<AlarmKind, number> = { sos: 1, smoke: 1, gas: 1, fall: 2, service: 3 }
export const CATEGORY: Record<AlarmKind, Category> = {
  sos: 'emergency',
  smoke: 'emergency',
  gas: 'emergency',
  fall: 'emergency',
  service: 'service',
}

export interface Incident {
  id: string
  householdId: string
  communityId: string
  /** The device whose alarm opened the incident. */
  deviceId: string
  category: Category
  /** The most urgent alarm kind seen so far. */
  type: AlarmKind
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
}

export type EventKind = 'opened' | 'alarm' | 'cancelled_by_resident' | 'acknowledged' | 'resolved'

export interface IncidentEvent {
  incidentId: string
  at: number
  /** `device:{id}` or `user:{username}`. */
  actor: string
  kind: EventKind
  deviceId: string | null
  detail: Record<string, unknown>
}
