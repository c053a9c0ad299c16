/**
 * Service requests (服务工单) as the domain sees them: pure states, transitions and trail events,
 * no I/O (docs/operations.md §service requests). The green 一键通 key and operators open them;
 * they are never incidents: no emergency queue, no service level, no statistics.
 */

/** 助餐、助浴、助医、维修、其他 */
export const TICKET_TYPES = ['meal', 'bath', 'medical', 'repair', 'other'] as const
export type TicketType = (typeof TICKET_TYPES)[number]

/** 待派单 → 已派单 → 已完成; 已取消 from either open state. */
export const TICKET_STATES = ['pending', 'dispatched', 'done', 'cancelled'] as const
export type TicketState = (typeof TICKET_STATES)[number]
export const OPEN_STATES: readonly TicketState[] = ['pending', 'dispatched']

/** The elder's word once the service was done. */
export const FEEDBACK = ['satisfied', 'neutral', 'unsatisfied'] as const
export type Feedback = (typeof FEEDBACK)[number]

export type TicketSource = 'button' | 'operator'

export interface ServiceTicket {
  id: string
  householdId: string
  communityId: string
  type: TicketType
  source: TicketSource
  /** The button that asked (the first, when several pressed); null when an operator entered it. */
  deviceId: string | null
  state: TicketState
  provider: string | null
  note: string | null
  presses: number
  requestedAt: number
  requestedBy: string
  dispatchedAt: number | null
  dispatchedBy: string | null
  closedAt: number | null
  closedBy: string | null
  feedback: Feedback | null
  feedbackNote: string | null
  updatedAt: number
}

export type TicketEventKind = 'requested' | 'pressed' | 'type_changed' | 'dispatched' | 'done' | 'cancelled' | 'feedback'

export interface TicketEvent {
  ticketId: string
  at: number
  /** `device:<id>`, `user:<username>` or `system:…`. */
  actor: string
  kind: TicketEventKind
  detail: Record<string, unknown>
}

export type TicketCommand =
  | { kind: 'press'; deviceId: string; messageId: string }
  | { kind: 'set_type'; type: TicketType }
  | { kind: 'dispatch'; provider: string; note: string | null }
  | { kind: 'complete'; note: string | null }
  | { kind: 'cancel'; reason: string }
  | { kind: 'feedback'; feedback: Feedback; note: string | null }

export interface TicketRefusal {
  code: 'CONFLICT'
  message: string
}

export type TicketTransition = { ok: true; ticket: ServiceTicket; events: TicketEvent[] } | { ok: false; error: TicketRefusal }

export const isOpen = (state: TicketState): boolean => state === 'pending' || state === 'dispatched'

/** What a state is called to an operator: refusals say it in Chinese, then in English ("中文 (English)", as the console reads them). */
const STATE_ZH: Record<TicketState, string> = { pending: '待派单', dispatched: '已派单', done: '已完成', cancelled: '已取消' }

/** A green-key press opens a ticket: its type is unknown (其他) until the operator asks and sets it. */
export function openFromButton(
  input: { id: string; householdId: string; communityId: string; deviceId: string; messageId: string },
  now: number,
): { ticket: ServiceTicket; events: TicketEvent[] } {
  const actor = `device:${input.deviceId}`
  const ticket: ServiceTicket = {
    ...base(input.id, input.householdId, input.communityId, now, actor),
    type: 'other',
    source: 'button',
    deviceId: input.deviceId,
  }
  return { ticket, events: [{ ticketId: input.id, at: now, actor, kind: 'requested', detail: { source: 'button', deviceId: input.deviceId, messageId: input.messageId } }] }
}

/** An operator enters a request (a phone call, a visit): its type is known. */
export function openByOperator(
  input: { id: string; householdId: string; communityId: string; type: TicketType; note: string | null },
  actor: string,
  now: number,
): { ticket: ServiceTicket; events: TicketEvent[] } {
  const ticket: ServiceTicket = {
    ...base(input.id, input.householdId, input.communityId, now, actor),
    type: input.type,
    source: 'operator',
    deviceId: null,
    note: input.note,
  }
  return { ticket, events: [{ ticketId: input.id, at: now, actor, kind: 'requested', detail: { source: 'operator', type: input.type, note: input.note } }] }
}

function base(id: string, householdId: string, communityId: string, now: number, actor: string) {
  return {
    id,
    householdId,
    communityId,
    state: 'pending' as const,
    provider: null,
    note: null,
    presses: 1,
    requestedAt: now,
    requestedBy: actor,
    dispatchedAt: null,
    dispatchedBy: null,
    closedAt: null,
    closedBy: null,
    feedback: null,
    feedbackNote: null,
    updatedAt: now,
  }
}

/** The one place a ticket changes. A refusal says what the ticket is and what the action needs. */
export function transition(t: ServiceTicket, command: TicketCommand, actor: string, now: number): TicketTransition {
  const refuse = (zh: string, en: string): TicketTransition => ({
    ok: false,
    error: { code: 'CONFLICT', message: `工单当前为${STATE_ZH[t.state]},${zh} (the ticket is ${t.state}; ${en})` },
  })
  const done = (changes: Partial<ServiceTicket>, kind: TicketEventKind, detail: Record<string, unknown>): TicketTransition => ({
    ok: true,
    ticket: { ...t, ...changes, updatedAt: now },
    events: [{ ticketId: t.id, at: now, actor, kind, detail }],
  })
  switch (command.kind) {
    case 'press':
      // A repeat press while the request is open joins it (one request per household at a time).
      if (!isOpen(t.state)) return refuse('再次按键将新建工单', 'a press opens a new request')
      return done({ presses: t.presses + 1 }, 'pressed', { deviceId: command.deviceId, messageId: command.messageId })
    case 'set_type':
      if (!isOpen(t.state)) return refuse('已结束的工单不能改类型', 'a closed ticket keeps its type')
      if (command.type === t.type) return { ok: true, ticket: t, events: [] }
      return done({ type: command.type }, 'type_changed', { from: t.type, to: command.type })
    case 'dispatch':
      if (t.state !== 'pending') return refuse('只有待派单的工单可以派单', 'only a pending ticket can be dispatched')
      return done({ state: 'dispatched', provider: command.provider, dispatchedAt: now, dispatchedBy: actor, ...(command.note ? { note: command.note } : {}) }, 'dispatched', {
        provider: command.provider,
        note: command.note,
      })
    case 'complete':
      if (t.state !== 'dispatched') return refuse('只有已派单的工单可以完成', 'only a dispatched ticket can be completed')
      return done({ state: 'done', closedAt: now, closedBy: actor }, 'done', { note: command.note })
    case 'cancel':
      if (!isOpen(t.state)) return refuse('不能再取消', 'only a pending or dispatched ticket can be cancelled')
      return done({ state: 'cancelled', closedAt: now, closedBy: actor }, 'cancelled', { reason: command.reason })
    case 'feedback':
      if (t.state !== 'done') return refuse('服务完成后才能记录评价', 'feedback is recorded once the ticket is done')
      if (t.feedback !== null) return refuse('评价已记录,不能重复记录', 'feedback was already recorded')
      return done({ feedback: command.feedback, feedbackNote: command.note }, 'feedback', { feedback: command.feedback, note: command.note })
  }
}

/**
 * What the buttons that asked hear (contract §6): `ack` once a provider is on the way ("a staff
 * member has taken the call"), `resolved` once it is closed, done or cancelled.
 */
export function deviceCommandFor(event: TicketEvent): 'ack' | 'resolved' | null {
  if (event.kind === 'dispatched') return 'ack'
  if (event.kind === 'done' || event.kind === 'cancelled') return 'resolved'
  return null
}

const RANK: Record<TicketState, number> = { pending: 0, dispatched: 1, done: 2, cancelled: 3 }

/** The queue's order: 待派单 first, then 已派单, each oldest first; closed ones after, latest closed first. */
export function queueOrder(a: ServiceTicket, b: ServiceTicket): number {
  return RANK[a.state] - RANK[b.state] || (isOpen(a.state) ? a.requestedAt - b.requestedAt : (b.closedAt ?? 0) - (a.closedAt ?? 0)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** The ranks as the store orders by them (store/service-tickets.ts), so SQL and this agree. */
export const STATE_RANK = RANK
