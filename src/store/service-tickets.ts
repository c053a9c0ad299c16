/** Service tickets and their trail (migration 0009): rows ↔ domain objects. Accepts a transaction or the database. */
import { sql, type Selectable } from 'kysely'
import { STATE_RANK, type Feedback, type ServiceTicket, type TicketEvent, type TicketEventKind, type TicketSource, type TicketState, type TicketType } from '../service-requests/model.js'
import type { Db } from './database.js'
import type { ServiceTicketsTable } from './schema.js'

export interface TicketFilter {
  communityIds?: readonly string[]
  states?: readonly TicketState[]
  householdId?: string
}

/** A ticket with whom it is for, as the queue shows it. */
export interface TicketRow extends ServiceTicket {
  household: { elderName: string; address: string; phone: string | null } | null
}

export function serviceTicketRepository(db: Db) {
  const filtered = (f: TicketFilter) => {
    let q = db.selectFrom('service_tickets')
    if (f.communityIds) q = q.where('service_tickets.community_id', 'in', f.communityIds.length ? f.communityIds : [''])
    if (f.states) q = q.where('service_tickets.state', 'in', f.states.length ? f.states : [''])
    if (f.householdId) q = q.where('service_tickets.household_id', '=', f.householdId)
    return q
  }
  const rank = sql<number>`case service_tickets.state when 'pending' then ${sql.lit(STATE_RANK.pending)} when 'dispatched' then ${sql.lit(STATE_RANK.dispatched)} when 'done' then ${sql.lit(STATE_RANK.done)} else ${sql.lit(STATE_RANK.cancelled)} end`
  // Open tickets oldest first, closed ones latest closed first (service-requests/model.ts queueOrder).
  const age = sql<number>`case when service_tickets.state in ('pending', 'dispatched') then service_tickets.requested_at else -coalesce(service_tickets.closed_at, 0) end`

  return {
    async get(id: string): Promise<ServiceTicket | undefined> {
      const row = await db.selectFrom('service_tickets').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toTicket(row)
    },

    /** The household's open (pending or dispatched) ticket, which a green-key press joins. */
    async openFor(householdId: string): Promise<ServiceTicket | undefined> {
      const row = await db
        .selectFrom('service_tickets')
        .selectAll()
        .where('household_id', '=', householdId)
        .where('state', 'in', ['pending', 'dispatched'])
        .orderBy('requested_at', 'asc')
        .executeTakeFirst()
      return row && toTicket(row)
    },

    /** One page of the queue, in its order, with the household's name and address. */
    async page(f: TicketFilter & { limit: number; offset: number }): Promise<{ items: TicketRow[]; total: number }> {
      const total = await filtered(f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      const rows = await filtered(f)
        .leftJoin('households', 'households.id', 'service_tickets.household_id')
        .selectAll('service_tickets')
        .select(['households.elder_name', 'households.address', 'households.phone'])
        .orderBy(rank)
        .orderBy(age)
        .orderBy('service_tickets.id')
        .limit(f.limit)
        .offset(f.offset)
        .execute()
      return {
        items: rows.map((r) => ({ ...toTicket(r), household: r.elder_name === null ? null : { elderName: r.elder_name, address: r.address ?? '', phone: r.phone ?? null } })),
        total: Number(total.n),
      }
    },

    /** Tickets in each state over the filter (its states aside). */
    async counts(f: Omit<TicketFilter, 'states'>): Promise<Record<TicketState, number>> {
      const rows = await filtered(f).select(['service_tickets.state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('service_tickets.state').execute()
      const out: Record<TicketState, number> = { pending: 0, dispatched: 0, done: 0, cancelled: 0 }
      for (const r of rows) if (r.state in out) out[r.state as TicketState] = Number(r.n)
      return out
    },

    async insert(t: ServiceTicket): Promise<void> {
      await db.insertInto('service_tickets').values(toRow(t)).execute()
    },

    async update(t: ServiceTicket): Promise<void> {
      const { id, ...rest } = toRow(t)
      await db.updateTable('service_tickets').set(rest).where('id', '=', id).execute()
    },

    /** Appends in order after the ticket's last event (call inside the transaction that changed it). */
    async appendEvents(events: readonly TicketEvent[]): Promise<void> {
      if (events.length === 0) return
      const next = new Map<string, number>()
      for (const e of events) {
        let seq = next.get(e.ticketId)
        if (seq === undefined) {
          const last = await db.selectFrom('service_ticket_events').select((eb) => eb.fn.max('seq').as('m')).where('ticket_id', '=', e.ticketId).executeTakeFirst()
          seq = last?.m === null || last?.m === undefined ? 0 : Number(last.m) + 1
        }
        next.set(e.ticketId, seq + 1)
        await db
          .insertInto('service_ticket_events')
          .values({ ticket_id: e.ticketId, seq, at: e.at, actor: e.actor, kind: e.kind, detail: JSON.stringify(e.detail) })
          .execute()
      }
    },

    async events(ticketId: string): Promise<TicketEvent[]> {
      const rows = await db.selectFrom('service_ticket_events').selectAll().where('ticket_id', '=', ticketId).orderBy('seq').execute()
      return rows.map((r) => ({ ticketId: r.ticket_id, at: Number(r.at), actor: r.actor, kind: r.kind as TicketEventKind, detail: JSON.parse(r.detail) as Record<string, unknown> }))
    },

    /** Every button that pressed for this ticket: each hears its confirmation (contract §6). */
    async devices(ticketId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('service_ticket_events')
        .select('actor')
        .distinct()
        .where('ticket_id', '=', ticketId)
        .where('kind', 'in', ['requested', 'pressed'])
        .where('actor', 'like', 'device:%')
        .execute()
      return rows.map((r) => r.actor.slice('device:'.length)).sort()
    },
  }
}

export type ServiceTicketRepository = ReturnType<typeof serviceTicketRepository>

const num = (v: number | null): number | null => (v === null ? null : Number(v))

function toTicket(r: Selectable<ServiceTicketsTable>): ServiceTicket {
  return {
    id: r.id,
    householdId: r.household_id,
    communityId: r.community_id,
    type: r.type as TicketType,
    source: r.source as TicketSource,
    deviceId: r.device_id,
    state: r.state as TicketState,
    provider: r.provider,
    note: r.note,
    presses: Number(r.presses),
    requestedAt: Number(r.requested_at),
    requestedBy: r.requested_by,
    dispatchedAt: num(r.dispatched_at),
    dispatchedBy: r.dispatched_by,
    closedAt: num(r.closed_at),
    closedBy: r.closed_by,
    feedback: r.feedback as Feedback | null,
    feedbackNote: r.feedback_note,
    updatedAt: Number(r.updated_at),
  }
}

function toRow(t: ServiceTicket): ServiceTicketsTable {
  return {
    id: t.id,
    household_id: t.householdId,
    community_id: t.communityId,
    type: t.type,
    source: t.source,
    device_id: t.deviceId,
    state: t.state,
    provider: t.provider,
    note: t.note,
    presses: t.presses,
    requested_at: t.requestedAt,
    requested_by: t.requestedBy,
    dispatched_at: t.dispatchedAt,
    dispatched_by: t.dispatchedBy,
    closed_at: t.closedAt,
    closed_by: t.closedBy,
    feedback: t.feedback,
    feedback_note: t.feedbackNote,
    updated_at: t.updatedAt,
  }
}
