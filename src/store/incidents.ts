/** Incident persistence: rows ↔ domain objects. Accepts a transaction or the database. */
import type { Selectable } from 'kysely'
import type { Explanation } from '../detectors/model.js'
import type { Category, FamilyResponse, Incident, IncidentEvent, IncidentState, IncidentType, Outcome } from '../incidents/model.js'
import type { Db } from './database.js'
import type { IncidentsTable } from './schema.js'

export interface IncidentFilter {
  state?: IncidentState | 'active'
  communityIds?: readonly string[]
  householdId?: string
  /** Only incidents not resolved before this instant (active ones, and those resolved since). */
  resolvedSince?: number
  limit?: number
}

export function incidentRepository(db: Db) {
  return {
    async get(id: string): Promise<Incident | undefined> {
      const row = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toIncident(row)
    },

    async active(householdId: string, category: Category): Promise<Incident | undefined> {
      const row = await db
        .selectFrom('incidents')
        .selectAll()
        .where('household_id', '=', householdId)
        .where('category', '=', category)
        .where('state', '<>', 'resolved')
        .executeTakeFirst()
      return row && toIncident(row)
    },

    async list(filter: IncidentFilter): Promise<Incident[]> {
      let q = db.selectFrom('incidents').selectAll()
      if (filter.state === 'active') q = q.where('state', '<>', 'resolved')
      else if (filter.state) q = q.where('state', '=', filter.state)
      if (filter.communityIds) {
        if (filter.communityIds.length === 0) return []
        q = q.where('community_id', 'in', filter.communityIds)
      }
      if (filter.householdId) q = q.where('household_id', '=', filter.householdId)
      const since = filter.resolvedSince
      if (since !== undefined) q = q.where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', since)]))
      const rows = await q
        .orderBy('priority', 'asc')
        .orderBy('opened_at', 'asc')
        .limit(filter.limit ?? 500)
        .execute()
      return rows.map(toIncident)
    },

    async insert(incident: Incident): Promise<void> {
      await db.insertInto('incidents').values(toRow(incident)).execute()
    },

    async update(incident: Incident): Promise<void> {
      const { id, ...rest } = toRow(incident)
      await db.updateTable('incidents').set(rest).where('id', '=', id).execute()
    },

    async appendEvents(events: readonly IncidentEvent[]): Promise<void> {
      if (events.length === 0) return
      const incidentId = events[0]!.incidentId
      const last = await db
        .selectFrom('incident_events')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('incident_id', '=', incidentId)
        .executeTakeFirst()
      const start = last?.seq == null ? 0 : Number(last.seq) + 1
      await db
        .insertInto('incident_events')
        .values(
          events.map((e, i) => ({
            incident_id: e.incidentId,
            seq: start + i,
            at: e.at,
            actor: e.actor,
            kind: e.kind,
            device_id: e.deviceId,
            detail: JSON.stringify(e.detail),
          })),
        )
        .execute()
    },

    async events(incidentId: string): Promise<IncidentEvent[]> {
      const rows = await db
        .selectFrom('incident_events')
        .selectAll()
        .where('incident_id', '=', incidentId)
        .orderBy('seq', 'asc')
        .execute()
      return rows.map((r) => ({
        incidentId: r.incident_id,
        at: Number(r.at),
        actor: r.actor,
        kind: r.kind as IncidentEvent['kind'],
        deviceId: r.device_id,
        detail: JSON.parse(r.detail) as Record<string, unknown>,
      }))
    },

    /** Active incidents a family member is on the way to (their arrival is awaited; routing/family-watch.ts). */
    async familyAwaited(): Promise<Incident[]> {
      const rows = await db.selectFrom('incidents').selectAll().where('state', '<>', 'resolved').where('family_response', 'is not', null).execute()
      return rows.map(toIncident).filter((i) => i.familyResponse?.state === 'en_route')
    },

    /** Every device that raised an alarm in this incident: they all get its commands. */
    async alarmDevices(incidentId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('incident_events')
        .select('device_id')
        .distinct()
        .where('incident_id', '=', incidentId)
        .where('kind', 'in', ['opened', 'alarm'])
        .where('device_id', 'is not', null)
        .execute()
      return rows.map((r) => r.device_id!).sort()
    },
  }
}

export type IncidentRepository = ReturnType<typeof incidentRepository>

function toIncident(r: Selectable<IncidentsTable>): Incident {
  return {
    id: r.id,
    householdId: r.household_id,
    communityId: r.community_id,
    deviceId: r.device_id,
    category: r.category as Category,
    type: r.type as IncidentType,
    priority: Number(r.priority),
    state: r.state as IncidentState,
    cancelledByResident: Number(r.cancelled_by_resident) === 1,
    openedAt: Number(r.opened_at),
    acknowledgedAt: r.acknowledged_at == null ? null : Number(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: r.resolved_at == null ? null : Number(r.resolved_at),
    resolvedBy: r.resolved_by,
    outcome: r.outcome as Outcome | null,
    note: r.note,
    updatedAt: Number(r.updated_at),
    conditions: JSON.parse(r.conditions) as string[],
    conditionCleared: Number(r.condition_cleared) === 1,
    explanation: r.explanation ? (JSON.parse(r.explanation) as Explanation) : null,
    familyResponse: r.family_response ? (JSON.parse(r.family_response) as FamilyResponse) : null,
  }
}

function toRow(i: Incident): IncidentsTable {
  return {
    id: i.id,
    household_id: i.householdId,
    community_id: i.communityId,
    device_id: i.deviceId,
    category: i.category,
    type: i.type,
    priority: i.priority,
    state: i.state,
    cancelled_by_resident: i.cancelledByResident ? 1 : 0,
    opened_at: i.openedAt,
    acknowledged_at: i.acknowledgedAt,
    acknowledged_by: i.acknowledgedBy,
    resolved_at: i.resolvedAt,
    resolved_by: i.resolvedBy,
    outcome: i.outcome,
    note: i.note,
    updated_at: i.updatedAt,
    conditions: JSON.stringify(i.conditions),
    condition_cleared: i.conditionCleared ? 1 : 0,
    explanation: i.explanation ? JSON.stringify(i.explanation) : null,
    family_response: i.familyResponse ? JSON.stringify(i.familyResponse) : null,
  }
}
