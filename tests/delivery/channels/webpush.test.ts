import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Notification, PushSubscriptionJson } from '../../../src/delivery/channels/channel.js'
import { createWebPushChannel, generateVapidKeys, pushEndpointProblem } from '../../../src/delivery/channels/webpush.js'

// web-push always speaks https (it calls https.request whatever the endpoint's scheme), so the
// local push service runs TLS with a test-only certificate for 127.0.0.1, trusted through `agent`.
const tls = {
  key: readFileSync(new URL('./fixtures/push-service.test-only.key', import.meta.url)),
  cert: readFileSync(new URL('./fixtures/push-service.test-only.crt', import.meta.url)),
}

interface Received {
  method: string | undefined
  path: string | undefined
  headers: IncomingHttpHeaders
  body: Buffer
}

/** A local push service: records what it is sent and answers with the status a test chooses. */
function startPushService() {
  const state = { status: 201, silent: false, received: [] as Received[] }
  const server = https.createServer(tls, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      state.received.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks) })
      if (state.silent) return
      res.writeHead(state.status, state.status === 201 ? { location: `/message/${state.received.length}` } : {}).end()
    })
  })
  return { server, state }
}

/** The browser's side of a subscription: a P-256 key pair and a 16-byte auth secret. */
function browserSubscription(endpoint: string) {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  const auth = randomBytes(16)
  const json: PushSubscriptionJson = { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } }
  return { ecdh, auth, json }
}

/** RFC 8291 §3.4 and RFC 8188 §2, one record: what a browser does with the body it receives. */
function decryptAes128gcm(body: Buffer, ecdh: ReturnType<typeof createECDH>, auth: Buffer): string {
  const salt = body.subarray(0, 16)
  const idlen = body.readUInt8(20)
  const serverPublicKey = body.subarray(21, 21 + idlen)
  const record = body.subarray(21 + idlen)
  const derive = (ikm: Buffer, s: Buffer, info: Buffer, length: number) => Buffer.from(hkdfSync('sha256', ikm, s, info, length))

  const shared = ecdh.computeSecret(serverPublicKey)
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), serverPublicKey])
  const ikm = derive(shared, auth, keyInfo, 32)
  const cek = derive(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16)
  const nonce = derive(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12)

  const decipher = createDecipheriv('aes-128-gcm', cek, nonce)
  decipher.setAuthTag(record.subarray(record.length - 16))
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()])
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = padded.length - 1
  while (end > 0 && padded[end] === 0) end--
  expect(padded[end]).toBe(2)
  return padded.subarray(0, end).toString('utf8')
}

/** VAPID (RFC 8292): `vapid t=<ES256 JWT>, k=<public key>`; checks the signature with the public key. */
function verifyVapid(authorization: string | undefined, vapidPublicKey: string) {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '')
  expect(match, `authorization header: ${authorization}`).not.toBeNull()
  const [token = '', k = ''] = match?.slice(1) ?? []
  expect(k).toBe(vapidPublicKey)
  const [header = '', payload = '', signature = ''] = token.split('.')
  const raw = Buffer.from(k, 'base64url')
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  })
  const valid = verify('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))
  expect(valid).toBe(true)
  expect(JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))).toMatchObject({ alg: 'ES256' })
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud: string; exp: number; sub: string }
}

const base: Omit<Notification, 'to'> = {
  key: 'inc_5:stage-1:contact-1:webpush',
  incidentId: 'inc_5',
  priority: 1,
  title: '紧急呼叫 SOS · 张桂英',
  text: { zh: '张桂英 按下了紧急呼叫按钮', en: 'Zhang Guiying pressed the SOS button' },
  link: 'https://a.anju.cn/r/Zx1',
  data: {},
}

describe('web push channel', () => {
  const { server, state } = startPushService()
  const vapid = { subject: 'mailto:ops@anju.example.cn', ...generateVapidKeys() }
  const agent = new https.Agent({ ca: tls.cert })
  let origin = ''
  let browser: ReturnType<typeof browserSubscription>
  const channel = (timeoutMs = 2000) => createWebPushChannel({ vapid, agent, timeoutMs, services: [new URL(origin).host] })
  const toBrowser = (n: Partial<Notification> = {}): Notification => ({ ...base, to: { name: '李明', push: browser.json }, ...n })

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = browserSubscription(`${origin}/push/abc`)
  })
  afterAll(async () => {
    agent.destroy()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  beforeEach(() => {
    state.status = 201
    state.silent = false
    state.received.length = 0
  })

  it('never calls an endpoint outside the push services it was given (a stored subscription to 127.0.0.1, say)', async () => {
    const strict = createWebPushChannel({ vapid, agent, services: ['fcm.googleapis.com'] })
    const result = await strict.send(toBrowser())
    expect(result).toEqual({ ok: false, retryable: false, error: `push endpoint ${new URL(origin).host} is not a known push service` })
    expect(state.received).toEqual([])
  })

  it('posts an encrypted, VAPID-signed message that only the subscribed browser can read', async () => {
    const started = Math.floor(Date.now() / 1000)
    const result = await channel().send(toBrowser())

    expect(result).toEqual({ ok: true, providerId: '/message/1' })
    const [req] = state.received
    expect(req).toMatchObject({ method: 'POST', path: '/push/abc' })
    expect(req?.headers).toMatchObject({ 'content-encoding': 'aes128gcm', ttl: '3600', urgency: 'high' })
    expect(req?.headers.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/)

    const claims = verifyVapid(req?.headers.authorization, vapid.publicKey)
    expect(claims.aud).toBe(origin)
    expect(claims.sub).toBe('mailto:ops@anju.example.cn')
    expect(claims.exp).toBeGreaterThan(started)
    expect(claims.exp).toBeLessThanOrEqual(started + 24 * 3600)

    expect(JSON.parse(decryptAes128gcm(req?.body ?? Buffer.alloc(0), browser.ecdh, browser.auth))).toEqual({
      title: '紧急呼叫 SOS · 张桂英',
      body: '张桂英 按下了紧急呼叫按钮',
      link: 'https://a.anju.cn/r/Zx1',
      incidentId: 'inc_5',
    })
  })

  it('sends lower priorities as normal urgency, under the same topic for the same incident', async () => {
    expect(await channel().send(toBrowser())).toMatchObject({ ok: true })
    expect(await channel().send(toBrowser({ priority: 3, key: 'inc_5:stage-2:contact-1:webpush' }))).toMatchObject({ ok: true })
    const [first, second] = state.received
    expect(second?.headers.urgency).toBe('normal')
    expect(second?.headers.topic).toBe(first?.headers.topic)
  })

  it('does not retry a subscription the push service says is gone (410, 404)', async () => {
    for (const status of [410, 404]) {
      state.status = status
      expect(await channel().send(toBrowser())).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(`HTTP ${status}`) })
    }
  })

  it('retries when the push service fails or throttles (500, 429)', async () => {
    for (const status of [500, 429]) {
      state.status = status
      expect(await channel().send(toBrowser())).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(`HTTP ${status}`) })
    }
  })

  it('retries when the push service does not answer within timeoutMs', async () => {
    state.silent = true
    const result = await channel(200).send(toBrowser())
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/timeout/i) })
  })

  it('retries when the push service cannot be reached', async () => {
    const closed = https.createServer(tls)
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const down = browserSubscription(`https://127.0.0.1:${port}/push/abc`)
    const result = await createWebPushChannel({ vapid, agent, services: [`127.0.0.1:${port}`] }).send(toBrowser({ to: { name: '李明', push: down.json } }))
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/ECONNREFUSED/) })
  })

  it('does not send, and does not retry, a malformed subscription or a recipient without one', async () => {
    const broken = { ...browser.json, keys: { ...browser.json.keys, p256dh: 'AAAA' } }
    expect(await channel().send(toBrowser({ to: { name: '李明', push: broken } }))).toMatchObject({ ok: false, retryable: false })
    expect(await channel().send(toBrowser({ to: { name: '李明' } }))).toMatchObject({ ok: false, retryable: false })
    expect(state.received).toHaveLength(0)
  })

  it('refuses a VAPID configuration the push services would reject, at startup', () => {
    expect(() => createWebPushChannel({ vapid: { ...vapid, subject: 'ops@anju.example.cn' }, services: [] })).toThrow(/subject/)
  })
})

describe('pushEndpointProblem', () => {
  const services = ['fcm.googleapis.com', '*.push.apple.com', '*.notify.windows.com']
  it.each([
    ['https://fcm.googleapis.com/fcm/send/abc', null],
    ['https://FCM.googleapis.com/fcm/send/abc', null],
    ['https://api.push.apple.com/3/device/x', null],
    ['https://wns2-par02p.notify.windows.com/w/?token=x', null],
    ['https://fcm.googleapis.com:8443/x', 'push endpoint fcm.googleapis.com:8443 is not a known push service'],
    ['https://127.0.0.1/push', 'push endpoint 127.0.0.1 is not a known push service'],
    ['https://10.0.0.8/push', 'push endpoint 10.0.0.8 is not a known push service'],
    ['https://[::1]/push', 'push endpoint [::1] is not a known push service'],
    ['https://localhost/push', 'push endpoint localhost is not a known push service'],
    ['https://push.apple.com.evil.example/x', 'push endpoint push.apple.com.evil.example is not a known push service'],
    ['https://evilpush.apple.com/x', 'push endpoint evilpush.apple.com is not a known push service'],
    ['https://user:pw@fcm.googleapis.com/x', 'push endpoint carries credentials'],
    ['http://fcm.googleapis.com/x', 'push endpoint is not https'],
    ['not a url', 'push endpoint is not a URL'],
  ])('%s', (endpoint, problem) => {
    expect(pushEndpointProblem(endpoint, services)).toBe(problem)
  })
})
