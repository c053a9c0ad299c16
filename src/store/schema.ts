/**
 * Table types for the query builder. Times are epoch milliseconds and flags are 0/1 integers,
 * because SQLite and PostgreSQL disagree on booleans and dates (see DESIGN.md).
 */
export interface CommunitiesTable {
  id: string
  name: string
  street: string
  /** JSON detector override, or null for the defaults. */
  detector_settings: string | null
  /** JSON routing settings (supervisors, property, maintenance, webhooks, ladders), or null for defaults. */
  routing: string | null
  created_at: number
}

export interface HouseholdsTable {
  id: string
  community_id: string
  elder_name: string
  age: number | null
  address: string
  /** The address with its numbers zero-padded, so 2号楼 sorts before 10号楼 (addressKey). */
  address_key: string | null
  phone: string | null
  medical_notes: string | null
  /** Where the key box is and its code; for operators only. */
  key_safe: string | null
  /** Away mode (hospital, visiting family) until this instant; null when at home. */
  away_until: number | null
  /** JSON detector override, or null for the community's settings. */
  detector_settings: string | null
  /** The street office's own number for the household (bulk import's key); unique per community. Migration 0009. */
  registry_ref: string | null
  created_at: number
  updated_at: number
}

export interface DevicesTable {
  id: string
  household_id: string
  kind: string
  room: string | null
  secret_hash: string
  heartbeat_s: number
  last_seen_at: number | null
  online: number | null
  battery: number | null
  fw: string | null
  created_at: number
}

export interface ContactsTable {
  id: string
  household_id: string
  name: string
  relation: string
  phone: string
  position: number
  created_at: number
  /** Who this contact is to the routing rules: family, neighbour, building_lead, property, doctor. */
  audience: string
  email: string | null
  /** JSON array of channel names. */
  channels: string
  /** Local `HH:MM` window when the contact may be called; null = any time. */
  available_from: string | null
  available_to: string | null
  /** JSON Web Push subscription of the contact's browser, or null. */
  push_subscription: string | null
  /** Family view links carry it; raising it revokes every link given out before. */
  view_link_version: number
}

export interface UsersTable {
  id: string
  username: string
  display_name: string
  password_hash: string
  role: string
  created_at: number
}

export interface UserCommunitiesTable {
  user_id: string
  community_id: string
}

export interface SessionsTable {
  token_hash: string
  user_id: string
  expires_at: number
}

export interface IncidentsTable {
  id: string
  household_id: string
  community_id: string
  device_id: string
  category: string
  type: string
  priority: number
  state: string
  cancelled_by_resident: number
  opened_at: number
  acknowledged_at: number | null
  acknowledged_by: string | null
  resolved_at: number | null
  resolved_by: string | null
  outcome: string | null
  note: string | null
  updated_at: number
  /** JSON array of condition keys. */
  conditions: string
  condition_cleared: number
  /** JSON `{ zh, en }` or null. */
  explanation: string | null
  /** JSON FamilyResponse (incidents/model.ts) or null; added by migration 0007. */
  family_response: string | null
}

export interface IncidentEventsTable {
  incident_id: string
  /** Position of the event within its incident, 0-based. */
  seq: number
  at: number
  actor: string
  kind: string
  device_id: string | null
  detail: string
}

export interface DeviceMessagesTable {
  device_id: string
  message_id: string
  received_at: number
}

export interface HouseholdMonitorsTable {
  household_id: string
  /** The detectors' state, JSON. */
  state: string
  updated_at: number
}

export interface IncidentLaddersTable {
  incident_id: string
  /** Name of the ladder the incident climbs (urgent, wellbeing, …). */
  ladder: string
  started_at: number
  /** Index of the next step to run (stages first, then reminders). */
  next_step: number
  next_at: number | null
  stopped_at: number | null
}

export interface OutboxTable {
  /** Idempotency key: incident, step, recipient, channel. */
  key: string
  incident_id: string
  channel: string
  audience: string
  recipient_id: string
  priority: number
  /** JSON Notification. */
  notification: string
  /** pending | sent | failed | cancelled */
  state: string
  attempts: number
  next_attempt_at: number
  last_error: string | null
  created_at: number
  sent_at: number | null
}

/**
 * History for the charts and the family view, off the alarm path. One row per reading:
 * water: value = register m³, value2 = flow l/min; presence: value = occupied, value2 = motion;
 * door: value = open; battery: value = percent.
 */
export interface TelemetrySamplesTable {
  household_id: string
  device_id: string
  kind: string
  at: number
  value: number
  value2: number | null
  /** The device's message id (history store migration 0003); null for a battery level from a status. */
  msg_id: string | null
}

export interface SettingsTable {
  key: string
  value: string
}

export interface AuditLogTable {
  id: string
  at: number
  /** `user:<username>` or `family:<contact id>`. */
  actor: string
  action: string
  household_id: string | null
  community_id: string | null
  /** JSON: what was read or changed (field names, from and to), never the secret values themselves. */
  detail: string
}

/** A service request (docs/operations.md §service requests). Migration 0009. */
export interface ServiceTicketsTable {
  id: string
  household_id: string
  community_id: string
  /** meal | bath | medical | repair | other (助餐、助浴、助医、维修、其他) */
  type: string
  /** button (the green 一键通 key) | operator */
  source: string
  /** The button that asked, for its confirmation; null when an operator entered it. */
  device_id: string | null
  /** pending (待派单) | dispatched (已派单) | done (已完成) | cancelled (已取消) */
  state: string
  provider: string | null
  note: string | null
  /** Presses of the green key while this ticket was open (a repeat press joins it). */
  presses: number
  requested_at: number
  /** `device:<id>` or `user:<username>`. */
  requested_by: string
  dispatched_at: number | null
  dispatched_by: string | null
  closed_at: number | null
  closed_by: string | null
  /** The elder's word once done: satisfied | neutral | unsatisfied. */
  feedback: string | null
  feedback_note: string | null
  updated_at: number
}

export interface ServiceTicketEventsTable {
  ticket_id: string
  seq: number
  at: number
  actor: string
  kind: string
  /** JSON. */
  detail: string
}

/** A visit to a household (探访关爱), planned or raised by a `visit` incident. Migration 0009. */
export interface VisitsTable {
  id: string
  household_id: string
  community_id: string
  /** plan (the monthly plan) | incident (a `visit` incident from the detectors) | operator */
  source: string
  /** For planned visits, `YYYY-MM#n` (the n-th visit of that month), so planning twice changes nothing. */
  plan_key: string | null
  incident_id: string | null
  /** Why this household is visited more often, or what the incident saw; JSON `{ zh, en }` or null. */
  reason: string | null
  due_at: number
  /** planned | done | cancelled */
  state: string
  visited_at: number | null
  visitor_id: string | null
  /** seen (见到本人) | not_seen (未见到) */
  result: string | null
  note: string | null
  created_at: number
  updated_at: number
}

export interface Database {
  audit_log: AuditLogTable
  communities: CommunitiesTable
  households: HouseholdsTable
  devices: DevicesTable
  contacts: ContactsTable
  users: UsersTable
  user_communities: UserCommunitiesTable
  sessions: SessionsTable
  incidents: IncidentsTable
  incident_events: IncidentEventsTable
  device_messages: DeviceMessagesTable
  household_monitors: HouseholdMonitorsTable
  incident_ladders: IncidentLaddersTable
  outbox: OutboxTable
  settings: SettingsTable
  telemetry_samples: TelemetrySamplesTable
  service_tickets: ServiceTicketsTable
  service_ticket_events: ServiceTicketEventsTable
  visits: VisitsTable
}
