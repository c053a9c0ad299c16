import { createHmac } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Notification } from '../../../src/delivery/channels/channel.js'
import { createAliyunSms } from '../../../src/delivery/channels/sms-aliyun.js'

const KEY_ID = 'LTAI-test-key'
const SECRET = 'test-secret-不要用于生产'
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678)

/**
 * The provider's side, written from the spec rather than from the channel: every byte outside
 * RFC 3986's unreserved set is %XX-encoded, so `!'()*` and spaces must come out the same.
 */
function rfc3986(s: string): string {
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function expectedSignature(method: string, params: Map<string, string>, secret: string): string {
  const query = [...params.keys()]
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${rfc3986(k)}=${rfc3986(params.get(k) ?? '')}`)
    .join('&')
  return createHmac('sha1', `${secret}&`).update(`${method}&${rfc3986('/')}&${rfc3986(query)}`).digest('base64')
}

type Mode = 'verify' | 'unavailable' | 'throttled' | 'silent'

/** A local dysmsapi: checks the signature with the real secret and answers like Aliyun does. */
function startProvider() {
  const state = { mode: 'verify' as Mode, requests: [] as Map<string, string>[], nonces: new Set<string>() }
  const server = http.createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      const reply = (status: number, json: Record<string, string>) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
      }
      if (state.mode === 'silent') return // holds the connection open, never answers
      if (state.mode === 'unavailable') return res.writeHead(503).end('<html>Service Unavailable</html>')
      const params = new Map(new URLSearchParams(body))
      state.requests.push(params)
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
        return reply(400, { Code: 'MissingParameter', Message: 'expected a form POST' })
      }
      if (params.get('AccessKeyId') !== KEY_ID) return reply(404, { Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' })
      if (params.get('Signature') !== expectedSignature('POST', params, SECRET)) {
        return reply(400, { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation.', RequestId: 'req-sig' })
      }
      const nonce = params.get('SignatureNonce') ?? ''
      if (state.nonces.has(nonce)) return reply(400, { Code: 'SignatureNonceUsed', Message: 'nonce used' })
      state.nonces.add(nonce)
      if (state.mode === 'throttled') {
        return reply(200, { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发分钟级流控Permits:1', RequestId: 'req-limit' })
      }
      reply(200, { Code: 'OK', Message: 'OK', BizId: '900619746936498440^0', RequestId: 'req-ok' })
    })
  })
  return { server, state }
}

const notification: Notification = {
  key: 'inc_1:stage-1:contact-7:sms',
  incidentId: 'inc_1',
  priority: 1,
  to: { name: '李明', phone: '+86 138-0013-8000' },
  title: '紧急呼叫 SOS · 张桂英',
  text: { zh: '张桂英 按下了紧急呼叫按钮', en: 'Zhang Guiying pressed the SOS button' },
  link: 'https://a.anju.cn/r/Ab3*x',
  data: { type: 'sos', elderName: '张桂英', address: "康定路100弄3号(北) 502室 O'Neil!" },
}

describe('Aliyun SMS channel', () => {
  const { server, state } = startProvider()
  let endpoint = ''

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  beforeEach(() => {
    state.mode = 'verify'
    state.requests.length = 0
  })

  const channel = (overrides: { accessKeySecret?: string; endpoint?: string } = {}) =>
    createAliyunSms({
      endpoint,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      signName: '安居(测试)',
      templateCode: 'SMS_123456789',
      timeoutMs: 2000,
      now: () => NOW,
      ...overrides,
    })

  it('sends a signed SendSms whose template parameters come from the notification', async () => {
    const result = await channel().send(notification)

    expect(result).toEqual({ ok: true, providerId: '900619746936498440^0' })
    const params = state.requests[0]
    expect(params).toBeDefined()
    expect(Object.fromEntries(params ?? [])).toMatchObject({
      Action: 'SendSms',
      Version: '2017-05-25',
      Format: 'JSON',
      RegionId: 'cn-hangzhou',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      Timestamp: '2026-01-02T03:04:05Z',
      PhoneNumbers: '13800138000',
      SignName: '安居(测试)',
      TemplateCode: 'SMS_123456789',
      OutId: 'inc_1:stage-1:contact-7:sms',
    })
    expect(JSON.parse(params?.get('TemplateParam') ?? '')).toEqual({
      name: '张桂英',
      type: '紧急呼叫',
      address: "康定路100弄3号(北) 502室 O'Neil!",
      link: 'https://a.anju.cn/r/Ab3*x',
    })
  })

  it('signs every request with a fresh nonce', async () => {
    const sms = channel()
    expect(await sms.send(notification)).toMatchObject({ ok: true })
    expect(await sms.send(notification)).toMatchObject({ ok: true })
    expect(state.nonces.size).toBeGreaterThanOrEqual(2)
    expect(state.requests[0]?.get('SignatureNonce')).not.toBe(state.requests[1]?.get('SignatureNonce'))
  })

  it('does not retry when the provider refuses the signature (wrong secret)', async () => {
    const result = await channel({ accessKeySecret: 'wrong' }).send(notification)
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/SignatureDoesNotMatch/) })
  })

  it('retries when the provider throttles the number', async () => {
    state.mode = 'throttled'
    const result = await channel().send(notification)
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/isv.BUSINESS_LIMIT_CONTROL/) })
  })

  it('retries when the provider answers 503 with an HTML page', async () => {
    state.mode = 'unavailable'
    const result = await channel().send(notification)
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/HTTP 503/) })
  })

  it('gives up after timeoutMs and retries later when the provider does not answer', async () => {
    state.mode = 'silent'
    const started = Date.now()
    const result = await createAliyunSms({ endpoint, accessKeyId: KEY_ID, accessKeySecret: SECRET, signName: '安居', templateCode: 'SMS_1', timeoutMs: 200 }).send(notification)
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/timed out after 200 ms/) })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('retries when the provider cannot be reached', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))

    const result = await channel({ endpoint: `http://127.0.0.1:${port}/` }).send(notification)
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/ECONNREFUSED/) })
  })

  it('does not send, and does not retry, for a recipient without a phone number', async () => {
    const result = await channel().send({ ...notification, to: { name: '王芳', email: 'wf@example.cn' } })
    expect(result).toMatchObject({ ok: false, retryable: false })
    expect(state.requests).toHaveLength(0)
  })
})
