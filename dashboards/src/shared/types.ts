/**
 * What the API and the live channels send, as the dashboards read it. The views are the server's
 * zod schemas (src/api/views.ts: the same ones the routes serialize with and /docs and
 * /docs/asyncapi.json are generated from), imported as types only: nothing of the server is
 * bundled, and a field added to a view is here at once. Types below without a view are still
 * copied by hand.
 */
import type { z } from 'zod'
import type { liveTicketView, ticketEventView } from '../../../src/api/ticket-views.js'
import type { communityView, contactView, deviceView, householdSummary, householdView, incidentEventView, liveIncidentView, userView } from '../../../src/api/views.js'

export type User = z.infer<typeof userView>
export type Community = z.infer<typeof communityView>
type LiveIncident = z.infer<typeof liveIncidentView>
export type HouseholdBrief = NonNullable<LiveIncident['household']>
/** From the REST API without `household`; live (Socket.IO) with it. */
export type Incident = Omit<LiveIncident, 'household'> & { household?: LiveIncident['household'] }
/** A family member who said 我去看看: not an acknowledgement (docs/history-and-family-api.md). */
export type FamilyResponse = NonNullable<Incident['familyResponse']>
export type FamilyState = FamilyResponse['state']
/** `detail` differs by `kind` (docs/realtime.md); the views read it loosely. */
export type IncidentEvent = Omit<z.infer<typeof incidentEventView>, 'detail'> & { detail: Record<string, any> }
type HouseholdProfile = z.infer<typeof householdView>
/** A household from the list (GET /api/households: `hasKeySafe`, `hasMedicalNotes`) or its profile (GET /api/households/{id}: `keySafe`, `medicalNotes`). */
export type Household = Omit<HouseholdProfile, 'keySafe' | 'medicalNotes'> &
  Partial<Pick<HouseholdProfile, 'keySafe' | 'medicalNotes'>> &
  Partial<Pick<z.infer<typeof householdSummary>, 'hasKeySafe' | 'hasMedicalNotes'>>
export type Contact = z.infer<typeof contactView>
export type Device = z.infer<typeof deviceView>
export interface ServiceLevel {
  open: number; acknowledgedToday: number; medianAckS: number | null; p90AckS: number | null; within60sShare: number | null
  /** Emergencies decided today, those late (answered after 60 s or still waiting past it), those waiting past it now. */
  counted: number; missed: number; overdueNow: number; benchmark: number; meetsBenchmark: boolean | null
}
export type DeviceRow = Device
/** The server's verdict on a device (src/detectors/device-state.ts): shown as it is, never recomputed here. */
export type DeviceState = Device['state']

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
  responses: { by: string; relation: string; answer: FamilyAnswer; at: number }[]
  /** A family member on the way, arrived, or overdue. */
  familyResponse: { by: string; relation: string; state: FamilyState; since: number; dueAt: number | null; arrivedAt: number | null } | null
}
export type FamilyAnswer = 'on_my_way' | 'arrived' | 'arrived_safe' | 'called_fine'
export interface DeviceProblem { deviceId: string; kind: string; room: string | null; problem: Exclude<DeviceState, 'online'>; battery: number | null; lastSeenAt: number | null }
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
/** GET /api/devices/board: a page of devices with their state, problems first, and counts per state. */
export interface BoardRow extends DeviceRow { elderName: string; address: string; communityId: string }
export interface Board extends Page<BoardRow> { counts: Record<'all' | DeviceState, number> }

/** A service ticket (服务工单): the queue (GET /api/service-tickets) and the live `ticket:changed`. */
export type ServiceTicket = z.infer<typeof liveTicketView>
export type TicketEvent = z.infer<typeof ticketEventView>
export interface TicketPage { items: ServiceTicket[]; total: number; limit: number; offset: number; counts: Record<ServiceTicket['state'], number> }
