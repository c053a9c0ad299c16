/**
 * The service-ticket service: reads the store, calls the pure model, commits, then announces
 * `ticket.changed` (operator consoles, the buttons' confirmation). The green key's press is
 * recorded by the alarm path (incidents/service.ts) through `pressInTransaction`, inside the
 * transaction that records the message id, so a PUBACK means the request is durable.
 */
import type { Logger } from 'pino'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { newId } from '../shared/ids.js'
import type { Db } from '../store/database.js'
import { serviceTicketRepository, type TicketFilter } from '../store/service-tickets.js'
import { openByOperator, openFromButton, transition, type ServiceTicket, type TicketCommand, type TicketEvent, type TicketRefusal, type TicketType } from './model.js'

export interface TicketChange {
  ticket: ServiceTicket
  events: TicketEvent[]
}

export interface TicketEvents {
  'ticket.changed': TicketChange
}

export type TicketResult = { ok: true; ticket: ServiceTicket } | { ok: false; error: TicketRefusal | { code: 'NOT_FOUND'; message: string } }

export const TICKET_ID_PREFIX = 'svc'

/**
 * A green-key press, inside the caller's transaction (the one that recorded its message id):
 * joins the household's open ticket, or opens one.
 */
export async function pressInTransaction(
  trx: Db,
  input: { householdId: string; communityId: string; deviceId: string; messageId: string },
  now: number,
): Promise<{ result: 'ticket_opened' | 'ticket_joined' } & TicketChange> {
  const tx = serviceTicketRepository(trx)
  const open = await tx.openFor(input.householdId)
  if (open) {
    const next = transition(open, { kind: 'press', deviceId: input.deviceId, messageId: input.messageId }, `device:${input.deviceId}`, now)
    // An open ticket always takes a press; anything else is a bug.
    if (!next.ok) throw new Error(`unexpected refusal: ${next.error.message}`)
    await tx.update(next.ticket)
    await tx.appendEvents(next.events)
    return { result: 'ticket_joined', ticket: next.ticket, events: next.events }
  }
  const opened = openFromButton({ id: newId(TICKET_ID_PREFIX, now), ...input }, now)
  await tx.insert(opened.ticket)
  await tx.appendEvents(opened.events)
  return { result: 'ticket_opened', ...opened }
}

export function createServiceTickets({ db, clock, bus, log }: { db: Db; clock: Clock; bus: EventBus<TicketEvents>; log: Logger }) {
  const repo = serviceTicketRepository(db)

  function announce(change: TicketChange): void {
    if (change.events.length === 0) return
    log.info({ ticketId: change.ticket.id, state: change.ticket.state, events: change.events.map((e) => e.kind) }, 'service ticket changed')
    bus.emit('ticket.changed', change)
  }

  async function act(id: string, command: TicketCommand, actor: string): Promise<TicketResult> {
    const result = await db.transaction().execute(async (trx) => {
      const tx = serviceTicketRepository(trx)
      const ticket = await tx.get(id)
      if (!ticket) return { ok: false, error: { code: 'NOT_FOUND', message: `service ticket ${id} does not exist` } } as const
      const next = transition(ticket, command, actor, clock.now())
      if (!next.ok || next.events.length === 0) return next
      await tx.update(next.ticket)
      await tx.appendEvents(next.events)
      return next
    })
    if (!result.ok) return result
    announce(result)
    return { ok: true, ticket: result.ticket }
  }

  return {
    /** After the alarm path committed a press (incidents/service.ts raiseAlarm). */
    announce,

    async create(input: { householdId: string; communityId: string; type: TicketType; note: string | null }, actor: string): Promise<ServiceTicket> {
      const now = clock.now()
      const opened = openByOperator({ id: newId(TICKET_ID_PREFIX, now), ...input }, actor, now)
      await db.transaction().execute(async (trx) => {
        const tx = serviceTicketRepository(trx)
        await tx.insert(opened.ticket)
        await tx.appendEvents(opened.events)
      })
      announce(opened)
      return opened.ticket
    },
    setType: (id: string, type: TicketType, actor: string) => act(id, { kind: 'set_type', type }, actor),
    dispatch: (id: string, provider: string, note: string | null, actor: string) => act(id, { kind: 'dispatch', provider, note }, actor),
    complete: (id: string, note: string | null, actor: string) => act(id, { kind: 'complete', note }, actor),
    cancel: (id: string, reason: string, actor: string) => act(id, { kind: 'cancel', reason }, actor),
    feedback: (id: string, feedback: 'satisfied' | 'neutral' | 'unsatisfied', note: string | null, actor: string) => act(id, { kind: 'feedback', feedback, note }, actor),

    get: (id: string) => repo.get(id),
    events: (id: string) => repo.events(id),
    devices: (id: string) => repo.devices(id),
    page: (f: TicketFilter & { limit: number; offset: number }) => repo.page(f),
    counts: (f: Omit<TicketFilter, 'states'>) => repo.counts(f),
  }
}

export type ServiceTickets = ReturnType<typeof createServiceTickets>
