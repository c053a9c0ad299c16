/** Visits (探访关爱): planned per household and month, or raised by a `visit` incident (docs/operations.md §visits). */
import type { Selectable } from 'kysely'
import type { Explanation } from '../detectors/model.js'
import type { Db } from './database.js'
import type { VisitsTable } from './schema.js'

export type VisitSource = 'plan' | 'incident' | 'operator'
export type VisitState = 'planned' | 'done' | 'cancelled'
export type VisitResult = 'seen' | 'not_seen'

export interface Visit {
  id: string
  householdId: string
  communityId: string
  source: VisitSource
  planKey: string | null
  incidentId: string | null
  reason: Explanation | null
  dueAt: number
  state: VisitState
  visitedAt: number | null
  visitorId: string | null
  result: VisitResult | null
  note: string | null
  createdAt: number
  updatedAt: number
}

/** A visit with what a visitor needs to find the household. */
export interface VisitRow extends Visit {
  elderName: string
  address: string
  addressKey: string
  phone: string | null
  awayUntil: number | null
  visitorName: string | null
}

export interface VisitFilter {
  communityIds?: readonly string[]
  /** Due in [dueFrom, dueTo). */
  dueFrom?: number
  dueTo?: number
  state?: VisitState
  limit?: number
}

export function visitRepository(db: Db) {
  const joined = () =>
    db
      .selectFrom('visits')
      .innerJoin('households', 'households.id', 'visits.household_id')
      .leftJoin('users', 'users.id', 'visits.visitor_id')
      .selectAll('visits')
      .select(['households.elder_name', 'households.address', 'households.address_key', 'households.phone', 'households.away_until', 'users.display_name'])

  return {
    async get(id: string): Promise<Visit | undefined> {
      const row = await db.selectFrom('visits').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toVisit(row)
    },

    async getRow(id: string): Promise<VisitRow | undefined> {
      const row = await joined().where('visits.id', '=', id).executeTakeFirst()
      return row && toRow2(row)
    },

    /** Inserts the planned visits not planned yet (a household's `plan_key` is unique); returns how many were new. */
    async insertPlanned(visits: readonly Visit[]): Promise<number> {
      let inserted = 0
      // In slices: a district's month stays under the databases' parameter limits.
      for (let i = 0; i < visits.length; i += 200) {
        const r = await db
          .insertInto('visits')
          .values(visits.slice(i, i + 200).map(toRow))
          .onConflict((oc) => oc.columns(['household_id', 'plan_key']).doNothing())
          .executeTakeFirst()
        inserted += Number(r.numInsertedOrUpdatedRows ?? 0n)
      }
      return inserted
    },

    async insert(visit: Visit): Promise<void> {
      await db.insertInto('visits').values(toRow(visit)).execute()
    },

    async forIncident(incidentId: string): Promise<Visit | undefined> {
      const row = await db.selectFrom('visits').selectAll().where('incident_id', '=', incidentId).executeTakeFirst()
      return row && toVisit(row)
    },

    /** Records a planned visit; false when it was no longer planned (recorded or cancelled meanwhile). */
    async record(id: string, r: { at: number; visitorId: string; result: VisitResult; note: string | null }): Promise<boolean> {
      const u = await db
        .updateTable('visits')
        .set({ state: 'done', visited_at: r.at, visitor_id: r.visitorId, result: r.result, note: r.note, updated_at: r.at })
        .where('id', '=', id)
        .where('state', '=', 'planned')
        .executeTakeFirst()
      return Number(u.numUpdatedRows) > 0
    },

    /** The incident was closed by someone else: its visit task is no longer needed. */
    async cancelForIncident(incidentId: string, at: number): Promise<number> {
      const u = await db.updateTable('visits').set({ state: 'cancelled', updated_at: at }).where('incident_id', '=', incidentId).where('state', '=', 'planned').executeTakeFirst()
      return Number(u.numUpdatedRows)
    },

    /** Planned visits due before `until` (today's and overdue ones), with their households. */
    async due(communityIds: readonly string[] | undefined, until: number): Promise<VisitRow[]> {
      if (communityIds?.length === 0) return []
      let q = joined().where('visits.state', '=', 'planned').where('visits.due_at', '<', until)
      if (communityIds) q = q.where('visits.community_id', 'in', communityIds)
      return (await q.orderBy('households.address_key').orderBy('visits.due_at').execute()).map(toRow2)
    },

    async list(f: VisitFilter): Promise<VisitRow[]> {
      if (f.communityIds?.length === 0) return []
      let q = joined()
      if (f.communityIds) q = q.where('visits.community_id', 'in', f.communityIds)
      if (f.dueFrom !== undefined) q = q.where('visits.due_at', '>=', f.dueFrom)
      if (f.dueTo !== undefined) q = q.where('visits.due_at', '<', f.dueTo)
      if (f.state) q = q.where('visits.state', '=', f.state)
      q = q.orderBy('visits.due_at').orderBy('households.address_key').orderBy('visits.id')
      if (f.limit) q = q.limit(f.limit)
      return (await q.execute()).map(toRow2)
    },

    /** Visits due in [from, to) by community and state. */
    async counts(communityIds: readonly string[] | undefined, from: number, to: number, overdueBefore: number): Promise<{ communityId: string; state: VisitState; overdue: boolean; n: number }[]> {
      if (communityIds?.length === 0) return []
      let q = db
        .selectFrom('visits')
        .select(['community_id', 'state', (eb) => eb.case().when('due_at', '<', overdueBefore).then(1).else(0).end().as('late'), (eb) => eb.fn.countAll().as('n')])
        .where('due_at', '>=', from)
        .where('due_at', '<', to)
      if (communityIds) q = q.where('community_id', 'in', communityIds)
      const rows = await q.groupBy(['community_id', 'state', 'late']).execute()
      return rows.map((r) => ({ communityId: r.community_id, state: r.state as VisitState, overdue: Number(r.late) === 1 && r.state === 'planned', n: Number(r.n) }))
    },

    /** The recorded visits since `since`, newest first per household: for 未见到 twice in a row. */
    async recordedSince(communityIds: readonly string[] | undefined, since: number): Promise<VisitRow[]> {
      if (communityIds?.length === 0) return []
      let q = joined().where('visits.state', '=', 'done').where('visits.visited_at', '>=', since)
      if (communityIds) q = q.where('visits.community_id', 'in', communityIds)
      return (await q.orderBy('visits.household_id').orderBy('visits.visited_at', 'desc').execute()).map(toRow2)
    },

    /**
     * Incidents opened since `since` per household of a community, by what they say of its risk:
     * wellbeing incidents, and device-offline incidents (visits/frequency.ts).
     */
    async riskCounts(communityId: string, since: number): Promise<Map<string, { wellbeing: number; offline: number }>> {
      const rows = await db
        .selectFrom('incidents')
        .select(['household_id', 'category', 'type', (eb) => eb.fn.countAll().as('n')])
        .where('community_id', '=', communityId)
        .where('opened_at', '>=', since)
        .where((eb) => eb.or([eb('category', '=', 'wellbeing'), eb('type', '=', 'device_offline')]))
        .groupBy(['household_id', 'category', 'type'])
        .execute()
      const out = new Map<string, { wellbeing: number; offline: number }>()
      for (const r of rows) {
        const c = out.get(r.household_id) ?? { wellbeing: 0, offline: 0 }
        if (r.category === 'wellbeing') c.wellbeing += Number(r.n)
        else c.offline += Number(r.n)
        out.set(r.household_id, c)
      }
      return out
    },
  }
}

export type VisitRepository = ReturnType<typeof visitRepository>

function toRow(v: Visit): Selectable<VisitsTable> {
  return {
    id: v.id,
    household_id: v.householdId,
    community_id: v.communityId,
    source: v.source,
    plan_key: v.planKey,
    incident_id: v.incidentId,
    reason: v.reason ? JSON.stringify(v.reason) : null,
    due_at: v.dueAt,
    state: v.state,
    visited_at: v.visitedAt,
    visitor_id: v.visitorId,
    result: v.result,
    note: v.note,
    created_at: v.createdAt,
    updated_at: v.updatedAt,
  }
}

function toVisit(r: Selectable<VisitsTable>): Visit {
  return {
    id: r.id,
    householdId: r.household_id,
    communityId: r.community_id,
    source: r.source as VisitSource,
    planKey: r.plan_key,
    incidentId: r.incident_id,
    reason: r.reason ? (JSON.parse(r.reason) as Explanation) : null,
    dueAt: Number(r.due_at),
    state: r.state as VisitState,
    visitedAt: r.visited_at == null ? null : Number(r.visited_at),
    visitorId: r.visitor_id,
    result: r.result as VisitResult | null,
    note: r.note,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  }
}

function toRow2(r: Selectable<VisitsTable> & { elder_name: string; address: string; address_key: string | null; phone: string | null; away_until: number | null; display_name: string | null }): VisitRow {
  return {
    ...toVisit(r),
    elderName: r.elder_name,
    address: r.address,
    addressKey: r.address_key ?? r.address,
    phone: r.phone,
    awayUntil: r.away_until == null ? null : Number(r.away_until),
    visitorName: r.display_name,
  }
}
