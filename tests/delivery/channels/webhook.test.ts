import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Notification } from '../../../src/delivery/channels/channel.js'
import { createWebhookChannel, signWebhook, verifyWebhookSignature, type WebhookPayload } from '../../../src/delivery/channels/webhook.js'

const SECRET = 'street-platform-shared-secret'
const NOW = 1_767_322_800_000

interface Received {
  headers: http.IncomingHttpHeaders
  payload: WebhookPayload
}

/** A receiver as a street platform would write one: verify the raw body, then parse it. */
function startReceiver() {
  const state = { answer: 200, received: [] as Received[], refusals: [] as string[], receiverNow: NOW }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const header = (name: string) => {
        const v = req.headers[name]
        return typeof v === 'string' ? v : undefined
      }
      const check = verifyWebhookSignature(SECRET, header('x-anju-timestamp'), raw, header('x-anju-signature'), { now: () => state.receiverNow })
      if (!check.ok) {
        state.refusals.push(check.reason)
        return res.writeHead(401).end(check.reason)
      }
      state.received.push({ headers: req.headers, payload: JSON.parse(raw.toString('utf8')) as WebhookPayload })
      res.writeHead(state.answer).end()
    })
  })
  return { server, state }
}

const notification: Notification = {
  key: 'inc_9:stage-2:street:webhook',
  incidentId: 'inc_9',
  priority: 1,
  to: { name: '静安寺街道 一网统管', url: '', secret: SECRET },
  title: '紧急呼叫 SOS · 张桂英',
  text: { zh: '张桂英 按下了紧急呼叫按钮', en: 'Zhang Guiying pressed the SOS button' },
  link: 'https://a.anju.cn/i/inc_9',
  data: { type: 'sos', householdId: 'hh_1', address: '康定路100弄3号502室' },
}

describe('webhook channel', () => {
  const { server, state } = startReceiver()
  let url = ''
  const to = () => ({ ...notification, to: { ...notification.to, url } })

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/anju/incidents`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  beforeEach(() => {
    state.answer = 200
    state.received.length = 0
    state.refusals.length = 0
    state.receiverNow = NOW
  })

  it('posts the notification as signed JSON that the receiver verifies', async () => {
    const result = await createWebhookChannel({ now: () => NOW }).send(to())

    expect(result).toEqual({ ok: true })
    expect(state.refusals).toEqual([])
    const [got] = state.received
    expect(got?.headers['content-type']).toBe('application/json')
    expect(got?.headers['x-anju-timestamp']).toBe(String(NOW))
    expect(got?.headers['x-anju-idempotency-key']).toBe('inc_9:stage-2:street:webhook')
    expect(got?.payload).toEqual({
      id: 'inc_9:stage-2:street:webhook',
      incidentId: 'inc_9',
      priority: 1,
      title: '紧急呼叫 SOS · 张桂英',
      text: notification.text,
      link: 'https://a.anju.cn/i/inc_9',
      data: notification.data,
      sentAt: NOW,
    })
  })

  it('is refused by the receiver when its clock says the request is older than five minutes', async () => {
    state.receiverNow = NOW + 5 * 60_000 + 1
    const result = await createWebhookChannel({ now: () => NOW }).send(to())
    expect(state.refusals).toEqual(['stale'])
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/HTTP 401/) })
  })

  it('lets a receiver detect a tampered body, a wrong secret and a missing header', () => {
    const body = JSON.stringify({ id: 'x', priority: 1 })
    const ts = String(NOW)
    const signature = signWebhook(SECRET, ts, body)
    const opts = { now: () => NOW }
    expect(verifyWebhookSignature(SECRET, ts, body, signature, opts)).toEqual({ ok: true })
    expect(verifyWebhookSignature(SECRET, ts, body.replace('1', '4'), signature, opts)).toEqual({ ok: false, reason: 'mismatch' })
    expect(verifyWebhookSignature(SECRET, String(NOW + 1), body, signature, opts)).toEqual({ ok: false, reason: 'mismatch' })
    expect(verifyWebhookSignature('other', ts, body, signature, opts)).toEqual({ ok: false, reason: 'mismatch' })
    expect(verifyWebhookSignature(SECRET, ts, body, undefined, opts)).toEqual({ ok: false, reason: 'missing' })
    expect(verifyWebhookSignature(SECRET, ts, body, signature, { now: () => NOW - 6 * 60_000 })).toEqual({ ok: false, reason: 'stale' })
  })

  it('retries on 5xx and 429 and gives up on any other 4xx', async () => {
    const channel = createWebhookChannel({ now: () => NOW })
    for (const [status, retryable] of [[500, true], [503, true], [429, true], [400, false], [404, false], [410, false]] as const) {
      state.answer = status
      expect(await channel.send(to()), `HTTP ${status}`).toMatchObject({ ok: false, retryable, error: expect.stringMatching(`HTTP ${status}`) })
    }
  })

  it('retries when the receiver cannot be reached or does not answer in time', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const down = await createWebhookChannel().send({ ...notification, to: { ...notification.to, url: `http://127.0.0.1:${port}/` } })
    expect(down).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/ECONNREFUSED/) })

    const silent = http.createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`
    const slow = await createWebhookChannel({ timeoutMs: 150 }).send({ ...notification, to: { ...notification.to, url: silentUrl } })
    silent.closeAllConnections()
    await new Promise<void>((resolve) => silent.close(() => resolve()))
    expect(slow).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/timed out/) })
  })

  it('does not follow a redirect, which would drop or re-send the signed body elsewhere', async () => {
    const redirecting = http.createServer((_req, res) => res.writeHead(307, { location: url }).end())
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve))
    const from = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/old`
    const result = await createWebhookChannel().send({ ...notification, to: { ...notification.to, url: from } })
    redirecting.closeAllConnections()
    await new Promise<void>((resolve) => redirecting.close(() => resolve()))
    expect(result).toMatchObject({ ok: false, retryable: false })
    expect(state.received).toHaveLength(0)
  })

  it('does not retry a recipient without a url or secret', async () => {
    const channel = createWebhookChannel()
    expect(await channel.send({ ...notification, to: { name: 'x', secret: SECRET } })).toMatchObject({ ok: false, retryable: false })
    expect(await channel.send({ ...notification, to: { name: 'x', url } })).toMatchObject({ ok: false, retryable: false })
  })
})
