/** The service ticket's pure model: states, allowed transitions, the trail, the buttons' confirmation, the queue's order. */
import { describe, expect, it } from 'vitest'
import {
  deviceCommandFor,
  openByOperator,
  openFromButton,
  queueOrder,
  transition,
  type ServiceTicket,
  type TicketCommand,
  type TicketTransition,
} from '../../src/service-requests/model.js'

const T0 = Date.UTC(2026, 11, 1, 2, 0, 0)
const pressed = () => openFromButton({ id: 'svc_1', householdId: 'hh-1', communityId: 'com-1', deviceId: 'btn-1', messageId: 'm-1' }, T0).ticket
const must = (r: TicketTransition) => {
  if (!r.ok) throw new Error(r.error.message)
  return r
}
const refused = (t: ServiceTicket, c: TicketCommand) => {
  const r = transition(t, c, 'user:op', T0 + 1)
  expect(r.ok).toBe(false)
  return r.ok ? '' : r.error.message
}

describe('service ticket model', () => {
  it('opens a green-key request as pending, type other, asked by the device, with its first press on the trail', () => {
    const { ticket, events } = openFromButton({ id: 'svc_1', householdId: 'hh-1', communityId: 'com-1', deviceId: 'btn-1', messageId: 'm-1' }, T0)
    expect(ticket).toMatchObject({ state: 'pending', type: 'other', source: 'button', deviceId: 'btn-1', requestedBy: 'device:btn-1', presses: 1, requestedAt: T0 })
    expect(events).toEqual([{ ticketId: 'svc_1', at: T0, actor: 'device:btn-1', kind: 'requested', detail: { source: 'button', deviceId: 'btn-1', messageId: 'm-1' } }])
  })

  it('opens an operator-entered request with its type and note, and no device', () => {
    const { ticket } = openByOperator({ id: 'svc_2', householdId: 'hh-1', communityId: 'com-1', type: 'meal', note: '午餐送餐' }, 'user:op', T0)
    expect(ticket).toMatchObject({ state: 'pending', type: 'meal', source: 'operator', deviceId: null, requestedBy: 'user:op', note: '午餐送餐' })
  })

  it('goes pending → dispatched → done, then takes the feedback once', () => {
    let t = must(transition(pressed(), { kind: 'press', deviceId: 'btn-2', messageId: 'm-2' }, 'device:btn-2', T0 + 1)).ticket
    expect(t.presses).toBe(2)
    t = must(transition(t, { kind: 'set_type', type: 'bath' }, 'user:op', T0 + 2)).ticket
    const dispatched = must(transition(t, { kind: 'dispatch', provider: '助浴队', note: null }, 'user:op', T0 + 3))
    expect(dispatched.ticket).toMatchObject({ state: 'dispatched', provider: '助浴队', dispatchedAt: T0 + 3, dispatchedBy: 'user:op', type: 'bath' })
    const completed = must(transition(dispatched.ticket, { kind: 'complete', note: '已洗浴' }, 'user:op', T0 + 4))
    expect(completed.ticket).toMatchObject({ state: 'done', closedAt: T0 + 4, closedBy: 'user:op' })
    const fb = must(transition(completed.ticket, { kind: 'feedback', feedback: 'satisfied', note: '很好' }, 'user:op', T0 + 5))
    expect(fb.ticket).toMatchObject({ feedback: 'satisfied', feedbackNote: '很好', state: 'done' })
    expect(fb.events.map((e) => e.kind)).toEqual(['feedback'])
    expect(refused(fb.ticket, { kind: 'feedback', feedback: 'neutral', note: null })).toMatch(/已记录/)
  })

  it('refuses what the state does not allow, saying what the ticket is', () => {
    const t = pressed()
    expect(refused(t, { kind: 'complete', note: null })).toMatch(/待派单.*only a dispatched ticket/)
    expect(refused(t, { kind: 'feedback', feedback: 'satisfied', note: null })).toMatch(/once the ticket is done/)
    const dispatched = must(transition(t, { kind: 'dispatch', provider: '长者食堂', note: null }, 'user:op', T0)).ticket
    expect(refused(dispatched, { kind: 'dispatch', provider: '另一家', note: null })).toMatch(/已派单.*only a pending ticket/)
    const cancelled = must(transition(dispatched, { kind: 'cancel', reason: '家属已代办' }, 'user:op', T0)).ticket
    expect(cancelled).toMatchObject({ state: 'cancelled', closedBy: 'user:op' })
    for (const c of [
      { kind: 'cancel', reason: 'x' },
      { kind: 'dispatch', provider: 'x', note: null },
      { kind: 'complete', note: null },
      { kind: 'set_type', type: 'meal' },
      { kind: 'press', deviceId: 'btn-1', messageId: 'm-9' },
    ] as TicketCommand[]) {
      expect(refused(cancelled, c)).toMatch(/已取消/)
    }
  })

  it('changes nothing when the type is set to what it is', () => {
    const r = must(transition(pressed(), { kind: 'set_type', type: 'other' }, 'user:op', T0))
    expect(r.events).toEqual([])
  })

  it('tells the buttons ack when dispatched and resolved when done or cancelled, nothing else', () => {
    const ev = (kind: Parameters<typeof deviceCommandFor>[0]['kind']) => deviceCommandFor({ ticketId: 'svc_1', at: T0, actor: 'user:op', kind, detail: {} })
    expect(ev('dispatched')).toBe('ack')
    expect(ev('done')).toBe('resolved')
    expect(ev('cancelled')).toBe('resolved')
    for (const k of ['requested', 'pressed', 'type_changed', 'feedback'] as const) expect(ev(k)).toBeNull()
  })

  it('orders the queue: pending first, then dispatched, oldest first; closed after, latest closed first', () => {
    const at = (id: string, state: ServiceTicket['state'], requestedAt: number, closedAt: number | null = null): ServiceTicket => ({ ...pressed(), id, state, requestedAt, closedAt })
    const list = [at('d-old', 'done', 1, 10), at('disp', 'dispatched', 2), at('p-new', 'pending', 5), at('c', 'cancelled', 1, 30), at('p-old', 'pending', 3), at('d-new', 'done', 1, 20)]
    expect(list.sort(queueOrder).map((t) => t.id)).toEqual(['p-old', 'p-new', 'disp', 'd-new', 'd-old', 'c'])
  })
})
