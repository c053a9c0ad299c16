/**
 * The monthly report's figures, straight from SQL (docs/operations.md §monthly report): counts
 * are aggregates grouped in the store; only the durations a median needs are read row by row, and
 * only their times. A month is `[start, end)` in epoch ms, local midnights (reports/month.ts).
 * Rows are counted in the month they began: an incident by `opened_at`, a ticket by
 * `requested_at`, a visit by `due_at`.
 */
import { sql } from 'kysely'
import type { Db } from './database.js'
import type { ServiceTicketsTable, VisitsTable } from './schema.js'

export interface ReportWindow {
  communityIds: readonly string[]
  start: number
  end: number
  /** The report's instant: the device figures are "heard in the 24 h before now". */
  now: number
}

export interface CountRow {
  key: string
  /** The second grouping column, '' where there is none. */
  sub: string
  n: number
}

export interface AckRow {
  type: string
  state: string
  openedAt: number
  acknowledgedAt: number | null
  acknowledgedBy: string | null
}

export interface RawMonthlyFigures {
  households: number
  householdsWithDevice: number
  devices: { kind: string; installed: number; heardLast24h: number; neverHeard: number }[]
  /** Emergencies opened in the month, by type: all, cancelled by the resident, closed as a test. */
  alarms: { type: string; total: number; cancelled: number; tests: number }[]
  /** Emergencies opened in the month not closed as a test, with what the answer needs. */
  alarmAcks: AckRow[]
  /** Incidents opened in the month: key = category, sub = outcome, or `active` while not closed. */
  incidentOutcomes: CountRow[]
  /** Wellbeing incidents opened in the month: key = type, sub = outcome or `active`. */
  wellbeing: CountRow[]
  /** Visits due in the month: key = source, sub = `planned` | `cancelled` | `seen` | `not_seen`. */
  visits: CountRow[]
  /** Visits due before the month's end and not done by then (planned still, or done after it), by source. */
  visitsOverdue: CountRow[]
  /** Tickets requested in the month: key = type, sub = state. */
  tickets: CountRow[]
  /** Done tickets requested in the month: requested → closed, ms. */
  ticketDurationsMs: number[]
  /** Tickets requested in the month: key = feedback (`none` when not given). */
  ticketFeedback: CountRow[]
}

const DAY_MS = 86_400_000
const n = (v: unknown) => Number(v ?? 0)

export function reportRepository(db: Db) {
  return {
    /** The ids and names of the communities on a street, among those given (all when undefined). */
    async communitiesOnStreet(street: string, among?: readonly string[]): Promise<{ id: string; name: string }[]> {
      if (among && among.length === 0) return []
      let q = db.selectFrom('communities').select(['id', 'name']).where('street', '=', street).orderBy('name')
      if (among) q = q.where('id', 'in', among)
      return q.execute()
    },

    async monthly(w: ReportWindow): Promise<RawMonthlyFigures> {
      const ids = w.communityIds
      if (ids.length === 0) throw new Error('a report covers at least one community')
      const { start, end } = w

      const households = await db
        .selectFrom('households')
        .select((eb) => [
          eb.fn.countAll().as('n'),
          eb.fn
            .count('households.id')
            .filterWhere((e) => e.exists(e.selectFrom('devices').select('devices.id').whereRef('devices.household_id', '=', 'households.id').where('devices.created_at', '<', end)))
            .as('withDevice'),
        ])
        .where('community_id', 'in', ids)
        .where('created_at', '<', end)
        .executeTakeFirstOrThrow()

      const devices = await db
        .selectFrom('devices')
        .innerJoin('households', 'households.id', 'devices.household_id')
        .select((eb) => [
          'devices.kind as kind',
          eb.fn.countAll().as('installed'),
          eb.fn.count('devices.id').filterWhere('devices.last_seen_at', '>=', w.now - DAY_MS).as('heard'),
          eb.fn.count('devices.id').filterWhere('devices.last_seen_at', 'is', null).as('never'),
        ])
        .where('households.community_id', 'in', ids)
        .where('devices.created_at', '<', end)
        .groupBy('devices.kind')
        .orderBy('devices.kind')
        .execute()

      const alarms = await db
        .selectFrom('incidents')
        .select((eb) => [
          'type',
          eb.fn.countAll().as('total'),
          eb.fn.count('id').filterWhere('cancelled_by_resident', '=', 1).as('cancelled'),
          eb.fn.count('id').filterWhere('outcome', '=', 'test').as('tests'),
        ])
        .where('community_id', 'in', ids)
        .where('category', '=', 'emergency')
        .where('opened_at', '>=', start)
        .where('opened_at', '<', end)
        .groupBy('type')
        .orderBy('type')
        .execute()

      const alarmAcks = await db
        .selectFrom('incidents')
        .select(['type', 'state', 'opened_at', 'acknowledged_at', 'acknowledged_by'])
        .where('community_id', 'in', ids)
        .where('category', '=', 'emergency')
        .where('opened_at', '>=', start)
        .where('opened_at', '<', end)
        .where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', '<>', 'test')]))
        .execute()

      // An incident not yet closed has no outcome: it counts as `active`.
      const outcomeOrActive = sql<string>`coalesce(outcome, 'active')`
      const incidentOutcomes = await db
        .selectFrom('incidents')
        .select((eb) => ['category as key', outcomeOrActive.as('sub'), eb.fn.countAll().as('n')])
        .where('community_id', 'in', ids)
        .where('opened_at', '>=', start)
        .where('opened_at', '<', end)
        .groupBy(['category', outcomeOrActive])
        .execute()

      const wellbeing = await db
        .selectFrom('incidents')
        .select((eb) => ['type as key', outcomeOrActive.as('sub'), eb.fn.countAll().as('n')])
        .where('community_id', 'in', ids)
        .where('category', '=', 'wellbeing')
        .where('opened_at', '>=', start)
        .where('opened_at', '<', end)
        .groupBy(['type', outcomeOrActive])
        .execute()

      // A done visit is `seen` or `not_seen`; a planned or cancelled one is its state.
      const visitOutcome = sql<string>`case when state = 'done' then coalesce(result, 'not_seen') else state end`
      const visits = await db
        .selectFrom('visits')
        .select((eb) => ['source as key', visitOutcome.as('sub'), eb.fn.countAll().as('n')])
        .where('community_id', 'in', ids)
        .where('due_at', '>=', start)
        .where('due_at', '<', end)
        .groupBy(['source', visitOutcome])
        .execute()

      const visitsOverdue = await db
        .selectFrom('visits')
        .select((eb) => ['source as key', eb.fn.countAll().as('n')])
        .where('community_id', 'in', ids)
        .where('due_at', '<', end)
        .where((eb) => eb.or([eb('state', '=', 'planned'), eb.and([eb('state', '=', 'done'), eb('visited_at', '>=', end)])]))
        .groupBy('source')
        .execute()

      const tickets = await db
        .selectFrom('service_tickets')
        .select((eb) => ['type as key', 'state as sub', eb.fn.countAll().as('n')])
        .where('community_id', 'in', ids)
        .where('requested_at', '>=', start)
        .where('requested_at', '<', end)
        .groupBy(['type', 'state'])
        .execute()

      const durations = await db
        .selectFrom('service_tickets')
        .select(['requested_at', 'closed_at'])
        .where('community_id', 'in', ids)
        .where('state', '=', 'done')
        .where('closed_at', 'is not', null)
        .where('requested_at', '>=', start)
        .where('requested_at', '<', end)
        .execute()

      const feedbackOrNone = sql<string>`coalesce(feedback, 'none')`
      const ticketFeedback = await db
        .selectFrom('service_tickets')
        .select((eb) => [feedbackOrNone.as('key'), eb.fn.countAll().as('n')])
        .where('community_id', 'in', ids)
        .where('requested_at', '>=', start)
        .where('requested_at', '<', end)
        .groupBy(feedbackOrNone)
        .execute()

      const rows = (rs: { key: string; sub?: string; n: unknown }[]): CountRow[] => rs.map((r) => ({ key: r.key, sub: r.sub ?? '', n: n(r.n) }))
      return {
        households: n(households.n),
        householdsWithDevice: n(households.withDevice),
        devices: devices.map((d) => ({ kind: d.kind, installed: n(d.installed), heardLast24h: n(d.heard), neverHeard: n(d.never) })),
        alarms: alarms.map((a) => ({ type: a.type, total: n(a.total), cancelled: n(a.cancelled), tests: n(a.tests) })),
        alarmAcks: alarmAcks.map((a) => ({
          type: a.type,
          state: a.state,
          openedAt: n(a.opened_at),
          acknowledgedAt: a.acknowledged_at == null ? null : n(a.acknowledged_at),
          acknowledgedBy: a.acknowledged_by,
        })),
        incidentOutcomes: rows(incidentOutcomes),
        wellbeing: rows(wellbeing),
        visits: rows(visits),
        visitsOverdue: rows(visitsOverdue),
        tickets: rows(tickets),
        ticketDurationsMs: durations.map((d) => n(d.closed_at) - n(d.requested_at)),
        ticketFeedback: rows(ticketFeedback),
      }
    },

    /**
     * The demo district (demo/report-month.ts): its households and devices registered by `at` at
     * the latest, so last month's report counts them. Nothing else calls this.
     */
    async registeredBy(communityIds: readonly string[], at: number): Promise<void> {
      if (communityIds.length === 0) return
      await db.updateTable('households').set({ created_at: at }).where('community_id', 'in', communityIds).where('created_at', '>', at).execute()
      await db
        .updateTable('devices')
        .set({ created_at: at })
        .where('created_at', '>', at)
        .where('household_id', 'in', (eb) => eb.selectFrom('households').select('id').where('community_id', 'in', communityIds))
        .execute()
    },

    /** For tests and the demo: rows of the other helpers' tables as they would be written. */
    async insertVisit(v: VisitsTable): Promise<void> {
      await db.insertInto('visits').values(v).execute()
    },
    async insertTicket(t: ServiceTicketsTable): Promise<void> {
      await db.insertInto('service_tickets').values(t).execute()
    },
  }
}

export type ReportRepository = ReturnType<typeof reportRepository>
