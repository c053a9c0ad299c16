import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Notification } from '../../../src/delivery/channels/channel.js'
import { createEmailChannel } from '../../../src/delivery/channels/email.js'

interface Delivered {
  user: string | undefined
  mailFrom: string
  rcptTo: string[]
  raw: string
}

/** RCPT TO answers a test can choose: accept, or refuse with a permanent or a transient reply. */
type Recipients = 'accept' | 'unknown-user' | 'greylisted'

/** A local mail server speaking plain SMTP with AUTH, as a small office relay would. */
function startMailServer() {
  const state = { recipients: 'accept' as Recipients, delivered: [] as Delivered[] }
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'anju' && auth.password === 's3cret') return callback(null, { user: auth.username })
      callback(new Error('Invalid username or password'))
    },
    onRcptTo(_address, _session, callback) {
      if (state.recipients === 'accept') return callback()
      const [code, text] = state.recipients === 'unknown-user' ? [550, '5.1.1 No such user here'] : [451, '4.7.1 Greylisted, try again later']
      callback(Object.assign(new Error(text), { responseCode: code }))
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom
        state.delivered.push({
          user: typeof session.user === 'string' ? session.user : undefined,
          mailFrom: mailFrom ? mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('latin1'),
        })
        callback()
      })
    },
  })
  return { server, state }
}

/** Just enough RFC 5322 / 2045 / 2047 to read back what nodemailer wrote: unfolded headers, a text/plain body. */
function parseMessage(raw: string) {
  const split = raw.indexOf('\r\n\r\n')
  const headerText = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const headers = new Map<string, string>()
  for (const line of headerText.split('\r\n')) {
    const colon = line.indexOf(':')
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
  const decodeWords = (v: string) =>
    v
      .replace(/\?=\s+=\?/g, '?==?') // whitespace between adjacent encoded-words is not part of the text
      .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
        enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : qp(text.replace(/_/g, ' ')),
      )
  const qp = (s: string) => Buffer.from(s.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')
  const body = raw.slice(split + 4)
  const cte = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase()
  const text = cte === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : cte === 'quoted-printable' ? qp(body) : Buffer.from(body, 'latin1').toString('utf8')
  return { header: (name: string) => decodeWords(headers.get(name) ?? ''), text }
}

const notification: Notification = {
  key: 'inc_3:stage-1:contact-2:email',
  incidentId: 'inc_3',
  priority: 2,
  to: { name: '李明', email: 'liming@example.cn' },
  title: '疑似跌倒 · 张桂英',
  text: { zh: '张桂英 卫生间持续有人 45 分钟,可能跌倒,请尽快确认', en: 'Zhang Guiying: bathroom occupied for 45 min, possible fall; please check' },
  link: 'https://a.anju.cn/r/Qw7',
  data: {},
}

async function closedPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

describe('e-mail channel', () => {
  const { server, state } = startMailServer()
  let port = 0
  const channel = () => createEmailChannel({ smtpUrl: `smtp://anju:s3cret@127.0.0.1:${port}`, from: '安居 Anju <alerts@anju.example.cn>', timeoutMs: 2000 })

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  beforeEach(() => {
    state.recipients = 'accept'
    state.delivered.length = 0
  })

  it('delivers the Chinese text first, then English and the link, under the title as subject', async () => {
    const result = await channel().send(notification)

    expect(result).toMatchObject({ ok: true, providerId: expect.stringMatching(/^<[0-9a-f]{32}@anju\.example\.cn>$/) })
    const [mail] = state.delivered
    expect(mail).toMatchObject({ user: 'anju', mailFrom: 'alerts@anju.example.cn', rcptTo: ['liming@example.cn'] })
    const message = parseMessage(mail?.raw ?? '')
    expect(message.header('subject')).toBe('疑似跌倒 · 张桂英')
    expect(message.header('to')).toContain('<liming@example.cn>')
    expect(message.header('x-anju-incident')).toBe('inc_3')
    expect(message.text.indexOf(notification.text.zh)).toBeGreaterThanOrEqual(0)
    expect(message.text.indexOf(notification.text.zh)).toBeLessThan(message.text.indexOf(notification.text.en))
    expect(message.text).toContain('https://a.anju.cn/r/Qw7')
  })

  it('gives a re-sent notification the same Message-ID, so mail clients fold the duplicate', async () => {
    const first = await channel().send(notification)
    const again = await channel().send(notification)
    const other = await channel().send({ ...notification, key: 'inc_3:stage-2:contact-2:email' })
    expect(again).toEqual(first)
    expect(other).not.toEqual(first)
  })

  it('does not retry a recipient the server refuses for good (550)', async () => {
    state.recipients = 'unknown-user'
    const result = await channel().send(notification)
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/550/) })
  })

  it('retries a recipient the server defers (451)', async () => {
    state.recipients = 'greylisted'
    const result = await channel().send(notification)
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/451/) })
  })

  it('does not retry when the server refuses the credentials', async () => {
    const result = await createEmailChannel({ smtpUrl: `smtp://anju:wrong@127.0.0.1:${port}`, from: 'alerts@anju.example.cn' }).send(notification)
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/535/) })
  })

  it('retries when the server is down', async () => {
    const result = await createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, from: 'alerts@anju.example.cn' }).send(notification)
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/ECONNREFUSED/) })
  })

  it('retries when the server accepts the connection but never greets', async () => {
    const mute = net.createServer(() => {})
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve))
    const mutePort = (mute.address() as AddressInfo).port
    const started = Date.now()
    const result = await createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${mutePort}`, from: 'alerts@anju.example.cn', timeoutMs: 200 }).send(notification)
    await new Promise<void>((resolve) => mute.close(() => resolve()))
    expect(result).toMatchObject({ ok: false, retryable: true })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('does not retry a recipient without an e-mail address', async () => {
    expect(await channel().send({ ...notification, to: { name: '王芳', phone: '13800138000' } })).toMatchObject({ ok: false, retryable: false })
  })
})
