export interface User { id: string; username: string; displayName: string; role: string; communityIds: string[] }
export interface Community { id: string; name: string; street: string }
export interface HouseholdBrief { elderName: string; address: string; phone?: string | null }
export interface Incident {
  id: string; householdId: string; communityId: string; deviceId: string; category: string; type: string; priority: number
  state: 'open' | 'acknowledged' | 'resolved'; cancelledByResident: boolean; openedAt: number; acknowledgedAt: number | null
  acknowledgedBy: string | null; updatedAt: number; conditions: string[]; conditionCleared: boolean
  explanation: { zh: string; en: string } | null; household?: HouseholdBrief | null
}
export interface IncidentEvent { incidentId: string; at: number; actor: string; kind: string; deviceId: string | null; detail: Record<string, any> }
export interface Household {
  id: string; communityId: string; elderName: string; age: number | null; address: string; phone: string | null
  awayUntil: number | null
  /** Only in the profile (GET /api/households/{id}); the list says only whether they are on file. */
  medicalNotes?: string | null; keySafe?: string | null; hasKeySafe?: boolean; hasMedicalNotes?: boolean
}
export interface Contact { id: string; name: string; relation: string; phone: string; position: number; channels: string[]; availableFrom: string | null; availableTo: string | null }
export interface Device { id: string; kind: string; room: string | null; heartbeatS: number; lastSeenAt: number | null; online: boolean | null; battery: number | null; fw: string | null }
export interface ServiceLevel { open: number; acknowledgedToday: number; medianAckS: number | null; p90AckS: number | null; within60sShare: number | null }
export interface DeviceRow extends Device { householdId: string }

/** GET /api/households/{id}/history (docs/history-and-family-api.md). */
export type PresenceState = 'motion' | 'occupied' | 'empty'
export interface HouseholdHistory {
  now: number
  water: { from: number; to: number; hourly: { at: number; litres: number | null }[] }
  presence: { from: number; to: number; rooms: { deviceId: string; room: string | null; spans: { from: number; to: number; state: PresenceState }[] }[] }
  battery: { from: number; to: number; devices: { deviceId: string; kind: string; room: string | null; points: [number, number][] }[] }
  alerts: { incidentId: string; type: string; category: string; from: number; to: number | null }[]
}

/** GET /api/family/overview?t= (docs/history-and-family-api.md). */
export interface FamilyIncident {
  id: string; type: string; category: string; state: 'open' | 'acknowledged' | 'resolved'
  openedAt: number; acknowledgedAt: number | null; resolvedAt: number | null; outcome: string | null
  handledBy: string | null; handledByKind: 'operator' | 'family' | null; answerable: boolean
  /** Family members' answers, oldest first. */
  responses: { by: string; relation: string; answer: 'on_my_way' | 'called_fine'; at: number }[]
}
export interface DeviceProblem { deviceId: string; kind: string; room: string | null; problem: 'offline' | 'low_battery' | 'never_seen'; battery: number | null; lastSeenAt: number | null }
export interface FamilyOverview {
  elder: { name: string; address: string }
  contact: { name: string; relation: string }
  lastActivity: { at: number; room: string | null } | null
  lastWaterUse: { at: number } | null
  devices: { total: number; ok: number; problems: DeviceProblem[] }
  incidents: FamilyIncident[]
  linkIncidentId: string | null
  linkExpiresAt: number
  /** The platform asks the family before it alerts anyone ("is she with you?"); view links only. */
  question: FamilyQuestion | null
}
/** POST /api/family/questions/{id}/answer: `with_us` needs `until` (epoch ms, the day she comes home). */
export type QuestionAnswer = 'with_us' | 'phoned_safe' | 'not_with_us'
export interface FamilyQuestion { id: string; askedAt: number; text: { zh: string; en: string } }
export interface QuestionReply { questionId: string; answer: QuestionAnswer; awayUntil: number | null }

/** A page of a long list (docs/operations.md §scale): `total` counts every match over all pages. */
export interface Page<T> { items: T[]; total: number; limit: number; offset: number }
interface Tally { households: number; emergency: number; incident: number }
/** GET /api/households/district: households counted by street, community and building. */
export interface District extends Tally {
  streets: (Tally & { name: string; communities: (Tally & { id: string; name: string; buildings: (Tally & { name: string })[] })[] })[]
}
export type DeviceState = 'offline' | 'never_seen' | 'low_battery' | 'ok'
/** GET /api/devices/board: a page of devices with their state, problems first, and counts per state. */
export interface BoardRow extends DeviceRow { state: DeviceState; elderName: string; address: string; communityId: string }
export interface Board extends Page<BoardRow> { counts: Record<'all' | DeviceState, number> }
