/**
 * The AsyncAPI document (/docs/asyncapi.json) against what the server really emits: real
 * Socket.IO clients (an operator on `/`, a family link on `/family`) record every event while a
 * real MQTT button sends an SOS and a green-key service request, the ladder re-alerts, the operator acknowledges, the family
 * answers, and the session ends (virtual clock). Every event heard must be in the document, its
 * arguments valid against the document's schema (no undocumented field), and every documented
 * event must have been heard.
 */
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { deviceTopic } from '../../src/contract/index.js'
import { virtualClock } from '../../src/shared/clock.js'
import { connectDevice, createOperator, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const T0 = Date.UTC(2026, 10, 23, 2, 0, 0) // 10:00 in Shanghai
const HOUR = 3_600_000

interface Message { name: string; payload: Record<string, unknown> }
interface Doc {
  asyncapi: string
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>
  operations: Record<string, { action: string; channel: { $ref: string }; messages: { $ref: string }[] }>
  components: { messages: Record<string, Message> }
}
interface Heard { event: string; args: unknown[] }

const clock = virtualClock(T0)
let p: TestPlatform
let doc: Doc
const sockets: Socket[] = []
const heard: Record<'/' | '/family', Heard[]> = { '/': [], '/family': [] }

/** A real client that records every event with its arguments, from before it connects. */
async function listen(namespace: '/' | '/family', token: string): Promise<Socket> {
  const socket = io(`${p.httpUrl}${namespace === '/' ? '' : namespace}`, { auth: { token }, transports: ['websocket'], reconnection: false })
  sockets.push(socket)
  socket.onAny((event: string, ...args: unknown[]) => heard[namespace].push({ event, args }))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  return socket
}

/** Follows a `#/…` reference, and the reference it finds there, if any. */
function resolveRef(ref: string): unknown {
  const found = ref.replace(/^#\//, '').split('/').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc) as { $ref?: string } | undefined
  return found?.$ref ? resolveRef(found.$ref) : found
}

/** The document's messages on the channel at this address, by event name. */
function documented(address: string): Map<string, Message> {
  const channel = Object.values(doc.channels).find((c) => c.address === address)!
  return new Map(Object.values(channel.messages).map((m) => resolveRef(m.$ref) as Message).map((m) => [m.name, m]))
}

beforeAll(async () => {
  p = await startPlatform({ clock, env: { ANJU_SESSION_TTL_HOURS: '12' } })
  const res = await fetch(`${p.httpUrl}/docs/asyncapi.json`)
  expect(res.status).toBe(200)
  doc = (await res.json()) as Doc
})
afterAll(async () => {
  for (const s of sockets) s.close()
  await p.close()
})

describe('the AsyncAPI document', () => {
  it('is AsyncAPI 3.0 whose operations point at channels and messages that exist', () => {
    expect(doc.asyncapi).toBe('3.0.0')
    expect(Object.values(doc.channels).map((c) => c.address).sort()).toEqual(['/', '/family'])
    for (const [name, op] of Object.entries(doc.operations)) {
      expect(op.action, name).toBe('send')
      expect(resolveRef(op.channel.$ref), `${name} → ${op.channel.$ref}`).toBeTruthy()
      for (const m of op.messages) expect((resolveRef(m.$ref) as Message | undefined)?.payload, `${name} → ${m.$ref}`).toBeTruthy()
    }
  })

  it('describes every event the server emits, with arguments that match their schemas', async () => {
    const fx = await provision(p)
    const operatorToken = await createOperator(p, 'live-operator', [fx.communityId])
    const contact = await p.api<{ id: string }>('POST', `/api/households/${fx.householdId}/contacts`, { name: '李明', relation: '子女', phone: '13900000001' })
    const link = await p.api<{ token: string }>('POST', `/api/households/${fx.householdId}/contacts/${contact.body.id}/family-link`)
    expect(link.status).toBe(201)

    const operator = await listen('/', operatorToken)
    await listen('/family', link.body.token)
    const seen = (namespace: '/' | '/family', event: string, n = 1) => () => heard[namespace].filter((h) => h.event === event).length >= n
    await waitFor(seen('/', 'incidents:snapshot'), 5000, 'the snapshot')

    // A real button's SOS: the console hears the incident, the family page that it changed.
    const button = await connectDevice(p, fx.device)
    await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'docs-sos-1', type: 'sos' })
    // The green key: a service ticket, pushed as such (never an incident).
    await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'docs-svc-1', type: 'service' })
    await button.endAsync()
    await waitFor(seen('/', 'ticket:changed'), 5000, 'the service request on the console')
    await waitFor(seen('/', 'incident'), 5000, 'the SOS on the console')
    await waitFor(seen('/family', 'changed'), 5000, 'the SOS on the family page')
    const incidentId = (heard['/'].find((h) => h.event === 'incident')!.args[0] as { id: string }).id

    // Nobody takes it for a minute: the ladder re-alerts the consoles and its steps join the trail.
    for (let s = 0; s < 61; s++) {
      clock.advance(1000)
      await p.app.routing.settle()
      await p.app.outbox.idle()
    }
    await waitFor(seen('/', 'incident:alert'), 5000, 'the re-alert')
    await waitFor(seen('/', 'incident:events'), 5000, 'the ladder steps on the trail')

    // The operator takes the call, then the family answers from their link.
    expect((await p.api('POST', `/api/incidents/${incidentId}/acknowledge`, undefined, operatorToken)).status).toBe(200)
    await waitFor(seen('/', 'incident', 2), 5000, 'the acknowledgement on the console')
    const answer = await p.api('POST', `/api/incidents/${incidentId}/family-response`, { token: link.body.token, answer: 'on_my_way' }, '')
    expect(answer.status).toBe(200)
    // 我去看看 (family_en_route) changes the incident: the console's row says 家属前往中.
    await waitFor(() => heard['/'].some((h) => h.event === 'incident' && JSON.stringify(h.args).includes('"kind":"family_')), 5000, 'the family answer on the console')

    // The session ends 12 h later, unrenewed: the console is told before the socket closes.
    const closed = new Promise<void>((resolve) => operator.once('disconnect', () => resolve()))
    clock.advance(12 * HOUR)
    await p.app.realtime.settle()
    await closed
    expect(heard['/'].at(-1)?.event).toBe('session:ended')

    for (const namespace of ['/', '/family'] as const) {
      const messages = documented(namespace)
      for (const { event, args } of heard[namespace]) {
        const message = messages.get(event)
        expect(message, `${namespace} emitted "${event}", which the document does not list`).toBeDefined()
        const parsed = z.fromJSONSchema(message!.payload as never, { defaultTarget: 'draft-7' }).safeParse(args)
        expect(parsed.success, `${namespace} "${event}" ${JSON.stringify(args).slice(0, 300)}: ${parsed.error?.message}`).toBe(true)
      }
      // Every documented event was caused and heard: the document lists nothing that is never sent.
      expect([...new Set(heard[namespace].map((h) => h.event))].sort()).toEqual([...messages.keys()].sort())
    }
  })

  it('refuses a connection without a valid token on either channel', async () => {
    for (const namespace of ['', '/family']) {
      const socket = io(`${p.httpUrl}${namespace}`, { auth: { token: 'not-a-token' }, transports: ['websocket'], reconnection: false })
      sockets.push(socket)
      const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve))
      expect(error.message).toMatch(/unauthorized|not valid/)
    }
  })
})
