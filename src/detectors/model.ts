/**
 * What detectors see and say. A detector turns readings and the passage of time into
 * conditions — facts that are true now, with an explanation in Chinese and English — and
 * the engine turns changes of conditions into findings (raised / cleared).
 */

export const CONDITION_KINDS = [
  'no_water',
  'no_water_day',
  'high_water',
  'leak',
  'continuous_flow',
  'inactivity',
  'morning_check',
  'bathroom_dwell',
  'door_idle',
  'wandering',
  'device_offline',
  'device_not_installed',
  'low_battery',
  'suspected_collapse',
  'unusual_inactivity',
  'long_absence',
] as const
export type ConditionKind = (typeof CONDITION_KINDS)[number]

export interface Explanation {
  zh: string
  en: string
}

export interface Condition {
  /** Stable identity: the kind, or `kind:deviceId` for per-device conditions. */
  key: string
  kind: ConditionKind
  explanation: Explanation
  data: Record<string, number | string | boolean | null>
}

/** One detector's verdict on one condition. `unknown` (missing data) keeps the previous state. */
export type Evaluation =
  | { key: string; status: 'true'; condition: Condition }
  | { key: string; status: 'false' | 'unknown' }

export interface Finding {
  change: 'raised' | 'cleared'
  householdId: string
  condition: Condition
  at: number
}

export type Room = 'bathroom' | 'bedroom' | 'living_room' | 'kitchen' | 'entrance'

/** Inputs of a household's monitor, as ingest and the registry deliver them. */
export type MonitorInput =
  | { type: 'water'; deviceId: string; at: number; totalM3: number; flowLpm?: number | undefined }
  | { type: 'presence'; deviceId: string; room: string | null; at: number; occupied: boolean; motion?: boolean | undefined }
  | { type: 'door'; deviceId: string; room: string | null; at: number; open: boolean }
  | { type: 'seen'; deviceId: string; at: number; online?: boolean | undefined; battery?: number | undefined; caps?: string[] | undefined }
  /** Contract v1.1: a key pressed to answer a check-in. */
  | { type: 'checkin_ok'; deviceId: string; at: number; ref: string }
  | { type: 'family_answer'; checkId: string; answer: 'with_us' | 'phoned_safe' | 'not_with_us'; at: number }
  /** An operator closed the incident about the current spell: she is well (a false alarm, or by phone). */
  | { type: 'operator_settled'; at: number }
  /** Whether the household has a family contact the platform can ask. */
  | { type: 'family_reach'; reachable: boolean }
  | { type: 'device'; deviceId: string; kind: string; room: string | null; heartbeatS: number; registeredAt: number }
  | { type: 'device_removed'; deviceId: string }
  | { type: 'away'; until: number | null }
  | { type: 'tick' }

/**
 * Conditions an away household (hospital, visiting family) does not raise: every detector
 * finding, device health included (a meter unplugged while the elder is in hospital is not a
 * maintenance call; it is raised once they are back). Alarms (SOS, fall, smoke, gas) never pass
 * through here, so away mode cannot silence them.
 */
export const SUPPRESSED_WHEN_AWAY: ReadonlySet<ConditionKind> = new Set(CONDITION_KINDS)
