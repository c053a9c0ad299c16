/**
 * Routing in the running platform on a virtual clock, with real local servers at the edge
 * (an SMTP server for e-mail, an HTTP receiver for the signed webhook).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { verifyWebhookSignature } from '../../src/delivery/channels/webhook.js'
import { outboxRepository } from '../../src/store/outbox.js'
import { virtualClock, type VirtualClock } from '../../src/shared/clock.js'
import { connectDevice, connectOperator, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'
import { smtpServer } from '../helpers/smtp.js'

const T0 = Date.UTC(2026, 10, 23, 2, 0, 0) // 10:00 in Shanghai
const SECRET = 'webhook-secret-0123456789'
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

const smtp = () => smtpServer(cleanups)

/** A street platform's webhook endpoint: answers from `answers` in turn, then 200. */
async function receiver(answers: number[] = []): Promise<{ url: string; received: { status: number; body: string }[] }> {
  const received: { status: number; body: string }[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const ok = verifyWebhookSignature(SECRET, String(req.headers['x-anju-timestamp']), body, String(req.headers['x-anju-signature']), { now: () => Number(req.headers['x-anju-timestamp']) })
      const status = !ok.ok ? 401 : (answers.shift() ?? 200)
      received.push({ status, body })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received }
}

async function setUp(opts: { dir?: string; clock?: VirtualClock; answers?: number[]; familyWindow?: { availableFrom: string; availableTo: string }; linkTtlHours?: string } = {}) {
  const mail = await smtp()
  const hook = await receiver(opts.answers)
  const clock = opts.clock ?? virtualClock(T0)
  const p = await startPlatform({ clock, ...(opts.dir ? { dir: opts.dir } : {}), env: { ANJU_SMTP_URL: mail.url, ANJU_SESSION_TTL_HOURS: '2000', ANJU_PUBLIC_URL: 'https://anju.example.org', ANJU_FAMILY_LINK_TTL_HOURS: opts.linkTtlHours ?? '24' } })
  cleanups.push(() => p.close())
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', {
    name: '梅园社区',
    street: '新华路街道',
    routing: {
      supervisors: [{ id: 's1', name: '站长', email: 'boss@anju.example.org', channels: ['email'] }],
      webhooks: [{ id: 'w1', name: '一网统管', url: hook.url, secret: SECRET }],
    },
  })
  const { body: h } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '3号楼 201室' })
  const contact = await p.api<{ id: string }>('POST', `/api/households/${h.id}/contacts`, {
    name: '张明',
    relation: '子女',
    phone: '13900000001',
    email: 'ming@example.com',
    channels: ['email'],
    ...(opts.familyWindow ?? {}),
  })
  expect(contact.status).toBe(201)
  const { body: d } = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: `btn-r${Math.random().toString(36).slice(2, 8)}`, householdId: h.id, kind: 'button' })
  const device = await connectDevice(p, d)
  cleanups.push(() => void device.end(true))
  return { p, clock, mail, hook, communityId: c.id, householdId: h.id, device, deviceId: d.id }
}

/** Moves virtual time in one-second steps, letting each step's routing and sending finish. */
async function advance(p: TestPlatform, clock: VirtualClock, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 1000) {
    clock.advance(Math.min(1000, ms - done))
    await p.app.routing.settle()
    await p.app.outbox.idle()
  }
}

async function press(env: Awaited<ReturnType<typeof setUp>>, type = 'sos'): Promise<string> {
  await publish(env.device, deviceTopic(env.deviceId, 'alarm'), { id: `a-${Math.random()}`, type })
  await env.p.app.routing.settle()
  await env.p.app.outbox.idle()
  const [incident] = (await env.p.api<{ id: string }[]>('GET', '/api/incidents?state=active')).body
  return incident!.id
}

async function steps(p: TestPlatform, id: string): Promise<string[]> {
  const { body } = await p.api<{ events: { kind: string; detail: { step?: string } }[] }>('GET', `/api/incidents/${id}`)
  return body.events.filter((e) => e.kind === 'escalated').map((e) => e.detail.step!)
}

describe('escalation', () => {
  it('does not escalate when the SOS is acknowledged at 59 s', async () => {
    const env = await setUp()
    const id = await press(env)
    await advance(env.p, env.clock, 59_000)
    await env.p.api('POST', `/api/incidents/${id}/acknowledge`)
    await advance(env.p, env.clock, 10 * 60_000)
    expect(await steps(env.p, id)).toEqual(['stage-0', 'stopped'])
  })

  it('records a notice for a channel this deployment has not set up as skipped, not as a failure', async () => {
    const env = await setUp()
    // the family contact also wants SMS, which this platform has no provider for
    const { body: c } = await env.p.api<{ id: string }>('POST', `/api/households/${env.householdId}/contacts`, { name: '张红', relation: '子女', phone: '13900000002', channels: ['sms'], position: 5 })
    expect(c.id).toBeTruthy()
    const id = await press(env)
    await advance(env.p, env.clock, 181_000)
    const { body } = await env.p.api<{ events: { kind: string; detail: { step?: string; skipped?: { to: string; channel: string }[] } }[] }>('GET', `/api/incidents/${id}`)
    const stage2 = body.events.find((e) => e.kind === 'escalated' && e.detail.step === 'stage-2')!
    expect(stage2.detail.skipped).toEqual([{ to: '张红', channel: 'sms', reason: 'channel not configured' }])
    const notices = (await env.p.api<{ channel: string }[]>('GET', `/api/incidents/${id}/notifications`)).body
    expect(notices.some((n) => n.channel === 'sms')).toBe(false)
  })

  it('escalates once to the supervisor tier when acknowledged at 61 s', async () => {
    const env = await setUp()
    const id = await press(env)
    await advance(env.p, env.clock, 61_000)
    await env.p.api('POST', `/api/incidents/${id}/acknowledge`)
    await advance(env.p, env.clock, 10 * 60_000)
    expect(await steps(env.p, id)).toEqual(['stage-0', 'stage-1', 'stopped'])
    expect(env.mail.mails.map((m) => m.to).sort()).toEqual(['boss@anju.example.org', 'ming@example.com'])
  })

  it('keeps reminding while nobody acknowledges, and re-alerts the consoles', async () => {
    const env = await setUp()
    const operator = await connectOperator(env.p, env.p.adminToken)
    cleanups.push(operator.close)
    const alerts: string[] = []
    operator.socket.on('incident:alert', (a: { step: string }) => alerts.push(a.step))
    const id = await press(env)
    await advance(env.p, env.clock, 20 * 60_000)
    expect(await steps(env.p, id)).toEqual(['stage-0', 'stage-1', 'stage-2', 'reminder-1', 'reminder-2', 'reminder-3'])
    await waitFor(() => alerts.length >= 4, 5000, 'the consoles re-alerted')
    expect(alerts).toEqual(['stage-1', 'reminder-1', 'reminder-2', 'reminder-3'])
    // the first family contact heard at once, and again with each reminder
    expect(env.mail.mails.filter((m) => m.to === 'ming@example.com').length).toBe(5)
  })

  it('starts the ladder over when a new SOS comes after an acknowledgement', async () => {
    const env = await setUp()
    const id = await press(env)
    await advance(env.p, env.clock, 30_000)
    await env.p.api('POST', `/api/incidents/${id}/acknowledge`)
    await advance(env.p, env.clock, 30_000)
    await press(env) // a second press: she needs help again
    expect((await env.p.api<{ state: string }>('GET', `/api/incidents/${id}`)).body.state).toBe('open')
    await advance(env.p, env.clock, 61_000)
    expect(await steps(env.p, id)).toEqual(['stage-0', 'stopped', 'stage-0', 'stage-1'])
  })

  it('moves a slow incident to the urgent ladder when it becomes urgent', async () => {
    const env = await setUp()
    const finding = (kind: 'no_water' | 'bathroom_dwell') => ({
      change: 'raised' as const,
      householdId: env.householdId,
      at: env.clock.now(),
      condition: { key: kind, kind, explanation: { zh: kind, en: kind }, data: {} },
    })
    await env.p.app.incidents.recordFindings(env.communityId, [finding('no_water')])
    await env.p.app.routing.settle()
    const [incident] = (await env.p.api<{ id: string; priority: number }[]>('GET', '/api/incidents?state=active')).body
    expect(incident!.priority).toBe(3)
    await advance(env.p, env.clock, 60_000)
    // a long bathroom stay joins: a possible fall
    await env.p.app.incidents.recordFindings(env.communityId, [finding('bathroom_dwell')])
    await env.p.app.routing.settle()
    await advance(env.p, env.clock, 61_000)
    const { body } = await env.p.api<{ priority: number; events: { kind: string; detail: { ladder?: string; step?: string } }[] }>('GET', `/api/incidents/${incident!.id}`)
    expect(body.priority).toBe(2)
    expect(body.events.filter((e) => e.kind === 'escalated').map((e) => `${e.detail.ladder}/${e.detail.step}`)).toEqual(['wellbeing/stage-0', 'urgent/stage-0', 'urgent/stage-1'])
  })

  it('carries on after a restart mid-ladder without skipping or repeating a step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anju-route-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const clock = virtualClock(T0)
    const first = await setUp({ dir, clock })
    const id = await press(first)
    await advance(first.p, clock, 70_000)
    expect(await steps(first.p, id)).toEqual(['stage-0', 'stage-1'])
    first.device.end(true)
    await first.p.close()
    cleanups.pop() // closed already

    clock.advance(130_000) // the platform is down across the 180 s step
    const second = await startPlatform({ clock, dir, env: { ANJU_SMTP_URL: first.mail.url, ANJU_SESSION_TTL_HOURS: '2000' } })
    cleanups.push(() => second.close())
    await second.app.routing.settle()
    await second.app.outbox.idle()
    expect(await steps(second, id)).toEqual(['stage-0', 'stage-1', 'stage-2'])
    await advance(second, clock, 2000)
    expect(await steps(second, id)).toEqual(['stage-0', 'stage-1', 'stage-2'])
  })
})

describe('delivery', () => {
  it('delivers a notice exactly once when its channel is down, then up', async () => {
    const env = await setUp({ answers: [503, 503] })
    const id = await press(env)
    await advance(env.p, env.clock, 60_000)
    const delivered = env.hook.received.filter((r) => r.status === 200)
    expect(env.hook.received.map((r) => r.status)).toEqual([503, 503, 200])
    expect(delivered).toHaveLength(1)
    expect(JSON.parse(delivered[0]!.body)).toMatchObject({ incidentId: id, data: { type: 'sos', elderName: '张桂英' } })
    const notices = (await env.p.api<{ channel: string; state: string; attempts: number }[]>('GET', `/api/incidents/${id}/notifications`)).body
    expect(notices.find((n) => n.channel === 'webhook')).toMatchObject({ state: 'sent', attempts: 3 })
    const { body } = await env.p.api<{ events: { kind: string; detail: { result?: string; channel?: string } }[] }>('GET', `/api/incidents/${id}`)
    expect(body.events.filter((e) => e.kind === 'notification' && e.detail.channel === 'webhook').map((e) => e.detail.result)).toEqual(['retrying', 'retrying', 'sent'])
  })

  it("stops the family notices still waiting when an operator acknowledges", async () => {
    // The daughter may be called from 18:00; a fall's notice to her waits until then.
    const env = await setUp({ familyWindow: { availableFrom: '18:00', availableTo: '22:00' } })
    const id = await press(env, 'fall')
    let notices = (await env.p.api<{ audience: string; state: string }[]>('GET', `/api/incidents/${id}/notifications`)).body
    expect(notices.filter((n) => n.audience === 'first_family').map((n) => n.state)).toEqual(['pending'])
    await env.p.api('POST', `/api/incidents/${id}/acknowledge`)
    await env.p.app.routing.settle()
    notices = (await env.p.api<{ audience: string; state: string }[]>('GET', `/api/incidents/${id}/notifications`)).body
    expect(notices.filter((n) => n.audience === 'first_family').map((n) => n.state)).toEqual(['cancelled'])
    env.clock.advance(9 * 3_600_000)
    await env.p.app.outbox.idle()
    expect(env.mail.mails.filter((m) => m.to === 'ming@example.com')).toEqual([])
  })
})

describe('family answers', () => {
  it('我去看看 from their link is live for the operator but acknowledges nothing: the SOS stays open and its ladder climbs; a link cannot act on another incident or after it expires', async () => {
    const env = await setUp({ linkTtlHours: '0.01' }) // 36 s
    const operator = await connectOperator(env.p, env.p.adminToken)
    cleanups.push(operator.close)
    const id = await press(env)
    expect(env.mail.mails.find((m) => m.to === 'ming@example.com')!.raw).toContain('https://anju.example.org/family/respond?t=')
    const notice = (await outboxRepository(env.p.app.db).forIncident(id)).find((n) => n.audience === 'first_family')!
    const token = new URL(notice.notification.link!).searchParams.get('t')!

    // another incident (a second household's SOS) cannot be answered with it
    const { body: h2 } = await env.p.api<{ id: string }>('POST', '/api/households', { communityId: env.communityId, elderName: '陈德福', address: '5号楼' })
    const { body: d2 } = await env.p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: 'btn-other-r', householdId: h2.id, kind: 'button' })
    const other = await connectDevice(env.p, d2)
    cleanups.push(() => void other.end(true))
    await publish(other, deviceTopic(d2.id, 'alarm'), { id: 'o-1', type: 'sos' })
    const otherId = (await env.p.api<{ id: string; householdId: string }[]>('GET', '/api/incidents?state=active')).body.find((i) => i.householdId === h2.id)!.id
    const wrong = await env.p.api('POST', `/api/incidents/${otherId}/family-response`, { token, answer: 'on_my_way' })
    expect(wrong).toMatchObject({ status: 403, body: { message: expect.stringContaining('不能回复这件事') } })

    const about = await fetch(`${env.p.httpUrl}/api/family/incident?t=${encodeURIComponent(token)}`)
    expect(await about.json()).toEqual({ incidentId: id, elder: '张桂英', address: '3号楼 201室', state: 'open' })
    expect((await fetch(`${env.p.httpUrl}/api/family/incident?t=${encodeURIComponent(token)}x`)).status).toBe(403)
    expect((await fetch(`${env.p.httpUrl}/family/respond?t=${encodeURIComponent(token)}`)).status).toBe(200) // the family view (or its plain fallback)

    const ok = await env.p.api('POST', `/api/incidents/${id}/family-response`, { token, answer: 'on_my_way' })
    expect(ok).toMatchObject({ status: 200, body: { state: 'open', answer: 'on_my_way', familyState: 'en_route' } })
    await operator.pushed((v) => v.id === id && (v as { familyResponse?: { state: string } }).familyResponse?.state === 'en_route', 5000, '家属前往中 on the console')
    const { body } = await env.p.api<{ state: string; acknowledgedBy: string | null; events: { kind: string; actor: string }[] }>('GET', `/api/incidents/${id}`)
    expect(body).toMatchObject({ state: 'open', acknowledgedBy: null })
    expect(body.events.some((e) => e.kind === 'family_en_route' && e.actor === 'family:张明')).toBe(true)
    await env.p.app.routing.settle()
    // The operator ladder was not stopped: the supervisor tier still comes at 60 s.
    expect(await env.p.app.routing.nextStep(id)).toMatchObject({ stopped: false })
    await advance(env.p, env.clock, 61_000)
    expect(await steps(env.p, id)).toContain('stage-1')

    // (61 s later the 36 s link has expired: a clear error, and nothing changes)
    const familyEvents = (events: { kind: string }[]) => events.filter((e) => e.kind.startsWith('family_')).length
    const before = familyEvents((await env.p.api<{ events: { kind: string }[] }>('GET', `/api/incidents/${id}`)).body.events)
    const expired = await env.p.api('POST', `/api/incidents/${id}/family-response`, { token, answer: 'arrived' })
    expect(expired).toMatchObject({ status: 403, body: { message: expect.stringContaining('链接已过期') } })
    const after = (await env.p.api<{ familyResponse: { state: string }; events: { kind: string }[] }>('GET', `/api/incidents/${id}`)).body
    expect(after.familyResponse.state).toBe('en_route')
    expect(familyEvents(after.events)).toBe(before)
  })
})
