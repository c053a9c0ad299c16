/**
 * The service queue end to end: a real MQTT button presses the green key (a ticket, never an
 * incident; a repeat press joins it; a retransmission counts once), operators dispatch and
 * complete it and the button hears `ack` and `resolved` over MQTT; operator-entered requests,
 * refused transitions, community scope, the audit trail and the `ticket:changed` push.
 */
import type { MqttClient } from 'mqtt'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cmdTopic, deviceTopic } from '../../src/contract/index.js'
import { openIncident } from '../../src/incidents/lifecycle.js'
import { incidentRepository } from '../../src/store/incidents.js'
import { connectDevice, createOperator, provision, publish, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

interface Ticket {
  id: string
  householdId: string
  communityId: string
  type: string
  source: string
  state: string
  provider: string | null
  presses: number
  requestedBy: string
  deviceId: string | null
  feedback: string | null
  household?: { elderName: string } | null
}
interface Page {
  items: Ticket[]
  total: number
  limit: number
  offset: number
  counts: Record<string, number>
}
interface Command {
  cmd: string
  incidentId?: string
}

let p: TestPlatform
let a: Fixture
let b: Fixture
let opA: string
let opB: string
let button: MqttClient
const commands: Command[] = []
const sockets: Socket[] = []
/** What each operator's console heard on `ticket:changed`: the ticket and its new trail kinds. */
const heard: Record<'a' | 'b', { ticket: Ticket; kinds: string[] }[]> = { a: [], b: [] }

async function listen(token: string, into: { ticket: Ticket; kinds: string[] }[]): Promise<void> {
  const socket = io(p.httpUrl, { auth: { token }, transports: ['websocket'], reconnection: false })
  sockets.push(socket)
  socket.on('ticket:changed', (ticket: Ticket, events: { kind: string }[]) => into.push({ ticket, kinds: events.map((e) => e.kind) }))
  await new Promise<void>((resolve, reject) => {
    socket.once('incidents:snapshot', () => resolve())
    socket.once('connect_error', reject)
  })
}

const press = (id: string) => publish(button, deviceTopic(a.device.id, 'alarm'), { id, ts: p.app.clock.now(), type: 'service', battery: 90 })
const queue = async (token: string, query = '') => (await p.api<Page>('GET', `/api/service-tickets${query}`, undefined, token)).body

beforeAll(async () => {
  p = await startPlatform()
  a = await provision(p)
  b = await provision(p)
  opA = await createOperator(p, 'op-tickets-a', [a.communityId])
  opB = await createOperator(p, 'op-tickets-b', [b.communityId])
  await listen(opA, heard.a)
  await listen(opB, heard.b)
  button = await connectDevice(p, a.device)
  await button.subscribeAsync(cmdTopic(a.device.id), { qos: 1 })
  button.on('message', (_topic, payload) => commands.push(JSON.parse(payload.toString()) as Command))
})
afterAll(async () => {
  for (const s of sockets) s.close()
  await button?.endAsync()
  await p.close()
})

describe('the green key', () => {
  let ticketId: string

  it('opens a service ticket, not an incident; a repeat press joins it and a retransmission counts once', async () => {
    // QoS 1: the PUBACK comes once the press is durably recorded, so each await is the effect.
    await press('g-1')
    const first = await queue(opA)
    expect(first.items).toHaveLength(1)
    const t = first.items[0]!
    ticketId = t.id
    expect(t.id).toMatch(/^svc_/)
    expect(t).toMatchObject({ householdId: a.householdId, state: 'pending', type: 'other', source: 'button', deviceId: a.device.id, requestedBy: `device:${a.device.id}`, presses: 1 })
    expect(t.household?.elderName).toMatch(/^老人/)

    await press('g-2')
    await press('g-2') // the same message again (a reconnect's retransmission)
    const joined = await queue(opA)
    expect(joined.items.map((x) => [x.id, x.presses])).toEqual([[ticketId, 2]])
    expect(joined.counts).toEqual({ pending: 1, dispatched: 0, done: 0, cancelled: 0 })

    // Kept apart from emergencies: no incident, nothing in the service level or the statistics.
    expect((await p.api<unknown[]>('GET', `/api/incidents?communityId=${a.communityId}`, undefined, opA)).body).toEqual([])
    expect((await p.api<{ open: number }>('GET', `/api/incidents/service-level?communityId=${a.communityId}`, undefined, opA)).body.open).toBe(0)

    const detail = await p.api<{ events: { kind: string; actor: string; detail: { messageId?: string } }[] }>('GET', `/api/service-tickets/${ticketId}`, undefined, opA)
    expect(detail.body.events.map((e) => [e.kind, e.detail.messageId])).toEqual([
      ['requested', 'g-1'],
      ['pressed', 'g-2'],
    ])
    await waitFor(() => heard.a.filter((h) => h.ticket.id === ticketId).length === 2, 5000, 'both presses on the console')
    expect(heard.a.map((h) => h.kinds)).toEqual([['requested'], ['pressed']])
  })

  it('tells the button ack when a provider is dispatched and resolved when it is done', async () => {
    expect((await p.api<Ticket>('PATCH', `/api/service-tickets/${ticketId}`, { type: 'meal' }, opA)).body).toMatchObject({ type: 'meal' })
    const noProvider = await p.api<{ error: string }>('POST', `/api/service-tickets/${ticketId}/dispatch`, { provider: '  ' }, opA)
    expect(noProvider.status).toBe(400)
    expect((await queue(opA)).items[0]).toMatchObject({ state: 'pending', provider: null })

    const dispatched = await p.api<Ticket>('POST', `/api/service-tickets/${ticketId}/dispatch`, { provider: '梅园长者食堂' }, opA)
    expect(dispatched).toMatchObject({ status: 200, body: { state: 'dispatched', provider: '梅园长者食堂' } })
    await waitFor(() => commands.some((c) => c.cmd === 'ack'), 5000, 'the ack on the button')
    expect(commands).toEqual([expect.objectContaining({ cmd: 'ack', incidentId: ticketId })])

    // A press while dispatched still joins the same request.
    await press('g-3')
    expect((await queue(opA, '?state=dispatched')).items.map((x) => [x.id, x.presses])).toEqual([[ticketId, 3]])

    const done = await p.api<Ticket>('POST', `/api/service-tickets/${ticketId}/complete`, {}, opA)
    expect(done).toMatchObject({ status: 200, body: { state: 'done' } })
    await waitFor(() => commands.some((c) => c.cmd === 'resolved'), 5000, 'resolved on the button')
    expect(commands.map((c) => [c.cmd, c.incidentId])).toEqual([
      ['ack', ticketId],
      ['resolved', ticketId],
    ])
  })

  it('takes the elder’s feedback once, only when done, and refuses what the state does not allow with 409', async () => {
    const again = await p.api<{ error: string; message: string }>('POST', `/api/service-tickets/${ticketId}/complete`, {}, opA)
    expect(again).toMatchObject({ status: 409, body: { error: 'CONFLICT' } })
    expect(again.body.message).toMatch(/已完成/)
    expect((await p.api('POST', `/api/service-tickets/${ticketId}/cancel`, { reason: '不需要了' }, opA)).status).toBe(409)
    expect((await p.api('POST', `/api/service-tickets/${ticketId}/dispatch`, { provider: 'x' }, opA)).status).toBe(409)
    expect((await p.api('POST', `/api/service-tickets/${ticketId}/feedback`, { feedback: 'great' }, opA)).status).toBe(400)
    const fb = await p.api<Ticket>('POST', `/api/service-tickets/${ticketId}/feedback`, { feedback: 'satisfied', note: '饭菜可口' }, opA)
    expect(fb).toMatchObject({ status: 200, body: { feedback: 'satisfied' } })
    expect((await p.api<{ message: string }>('POST', `/api/service-tickets/${ticketId}/feedback`, { feedback: 'neutral' }, opA)).status).toBe(409)

    // A press after it is done opens a new request.
    await press('g-4')
    const open = await queue(opA, '?state=open')
    expect(open.items).toHaveLength(1)
    expect(open.items[0]!.id).not.toBe(ticketId)
    expect((await queue(opA)).counts).toEqual({ pending: 1, dispatched: 0, done: 1, cancelled: 0 })
    // That one is cancelled: the button hears resolved for it.
    const newId = open.items[0]!.id
    expect((await p.api<Ticket>('POST', `/api/service-tickets/${newId}/cancel`, { reason: '按错了' }, opA)).body.state).toBe('cancelled')
    await waitFor(() => commands.some((c) => c.incidentId === newId), 5000, 'resolved for the cancelled request')
    expect(commands.filter((c) => c.incidentId === newId).map((c) => c.cmd)).toEqual(['resolved'])
    expect((await p.api('POST', `/api/service-tickets/${newId}/feedback`, { feedback: 'satisfied' }, opA)).status).toBe(409)
  })

  it('records every change on the audit trail', async () => {
    const entries = (await p.api<{ action: string; actor: string; detail: { ticketId?: string; action?: string } }[]>('GET', `/api/audit?householdId=${a.householdId}`)).body
    const mine = entries.filter((e) => e.detail.ticketId === ticketId).map((e) => e.detail.action).reverse()
    expect(mine).toEqual(['type', 'dispatch', 'complete', 'feedback'])
    expect(entries.every((e) => !e.action.startsWith('service_ticket') || e.actor === 'user:op-tickets-a')).toBe(true)
  })
})

describe('operator-entered requests and scope', () => {
  it('opens a ticket for a household the operator serves; other communities see nothing and get 404', async () => {
    const created = await p.api<Ticket>('POST', '/api/service-tickets', { householdId: a.householdId, type: 'bath', note: '周三上午' }, opA)
    expect(created).toMatchObject({ status: 201, body: { source: 'operator', type: 'bath', state: 'pending', deviceId: null, requestedBy: 'user:op-tickets-a' } })
    const id = created.body.id
    expect((await p.api('POST', '/api/service-tickets', { householdId: a.householdId, type: 'spa' }, opA)).status).toBe(400)
    expect((await p.api('POST', '/api/service-tickets', { householdId: 'hh_missing', type: 'meal' }, opA)).status).toBe(404)

    // Operator B: another community's ticket and household do not exist for them.
    expect((await p.api('GET', `/api/service-tickets/${id}`, undefined, opB)).status).toBe(404)
    expect((await p.api('POST', `/api/service-tickets/${id}/dispatch`, { provider: 'x' }, opB)).status).toBe(404)
    expect((await p.api('POST', '/api/service-tickets', { householdId: a.householdId, type: 'meal' }, opB)).status).toBe(404)
    expect((await queue(opB, `?communityId=${a.communityId}`)).total).toBe(0)
    expect((await queue(opB)).total).toBe(0)
    // B's own request, pushed to B: a barrier after every push of A's tickets, none of which B heard.
    const own = await p.api<Ticket>('POST', '/api/service-tickets', { householdId: b.householdId, type: 'repair', note: '水龙头漏水' }, opB)
    expect(own.status).toBe(201)
    await waitFor(() => heard.b.some((h) => h.ticket.id === own.body.id), 5000, "B's own ticket on B's console")
    expect(heard.b.map((h) => h.ticket.communityId)).toEqual([b.communityId])
    expect((await queue(opB)).items.map((t) => t.id)).toEqual([own.body.id])
    // The admin sees both communities; the queue pages.
    const all = await queue(p.adminToken, '?limit=1')
    expect(all).toMatchObject({ limit: 1, offset: 0, total: 4 })
    expect(all.items).toHaveLength(1)
    // Pending first, oldest first.
    expect(all.items[0]!.id).toBe(id)
  })

  it('closes a service incident opened before the upgrade as before', async () => {
    const now = p.app.clock.now()
    const old = openIncident({ id: 'inc_pre_upgrade', householdId: a.householdId, communityId: a.communityId, deviceId: a.device.id, messageId: 'old-1', alarm: 'service', skewMs: null }, now)
    await incidentRepository(p.app.db).insert(old.incident)
    await incidentRepository(p.app.db).appendEvents(old.events)
    expect((await p.api('POST', '/api/incidents/inc_pre_upgrade/acknowledge', undefined, opA)).status).toBe(200)
    expect((await p.api<{ state: string }>('POST', '/api/incidents/inc_pre_upgrade/resolve', { outcome: 'resolved_by_phone' }, opA)).body.state).toBe('resolved')
    await waitFor(() => commands.some((c) => c.incidentId === 'inc_pre_upgrade' && c.cmd === 'resolved'), 5000, 'the old incident closed on the button')
  })
})
