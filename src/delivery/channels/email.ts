/**
 * E-mail over SMTP with nodemailer. One connection per message: notifications are rare and
 * bursty, and a pooled connection that the server has silently dropped would fail the first
 * message of the next burst, which is the one that matters.
 */
import { createHash } from 'node:crypto'
import nodemailer from 'nodemailer'
import SMTPTransport from 'nodemailer/lib/smtp-transport/index.js'
import type { Channel, Notification, SendResult } from './channel.js'
import { DEFAULT_TIMEOUT_MS } from './http-result.js'

export interface EmailOptions {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465 */
  smtpUrl: string
  /** e.g. "安居 Anju <alerts@anju.example.cn>" */
  from: string
  timeoutMs?: number
}

/** nodemailer's codes for failures before the server has judged the message: the network's fault. */
const NETWORK_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS'])

export function createEmailChannel(opts: EmailOptions): Channel {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  // Built as an SMTPTransport because createTransport({ url, ...more }) keeps only the url's options
  // and would drop the timeouts (nodemailer 7, lib/nodemailer.js).
  const transport = nodemailer.createTransport(
    new SMTPTransport({ url: opts.smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs }),
  )
  const domain = /@([^>\s]+)>?\s*$/.exec(opts.from)?.[1] ?? 'anju.local'

  async function send(n: Notification): Promise<SendResult> {
    if (!n.to.email) return { ok: false, retryable: false, error: 'recipient has no e-mail address' }
    try {
      const info = await transport.sendMail({
        from: opts.from,
        to: { name: n.to.name, address: n.to.email },
        subject: n.title,
        text: [n.text.zh, n.text.en, n.link].filter(Boolean).join('\n\n'),
        // The same Message-ID on every attempt lets mail clients fold a duplicate that the outbox
        // re-sent after a lost reply into one message.
        messageId: `<${createHash('sha256').update(n.key).digest('hex').slice(0, 32)}@${domain}>`,
        priority: n.priority <= 2 ? 'high' : 'normal',
        headers: { 'X-Anju-Incident': n.incidentId },
      })
      return { ok: true, providerId: info.messageId }
    } catch (err) {
      return smtpFailure(err)
    }
  }

  return { name: 'email', send }
}

/** SMTP says itself what may pass later: 4xx replies are transient, 5xx are final (RFC 5321 §4.2.1). */
function smtpFailure(err: unknown): SendResult {
  const e = err as { responseCode?: unknown; code?: unknown; message?: unknown }
  const message = typeof e.message === 'string' ? e.message : String(err)
  if (typeof e.responseCode === 'number') {
    return { ok: false, retryable: e.responseCode >= 400 && e.responseCode < 500, error: message }
  }
  return { ok: false, retryable: typeof e.code === 'string' && NETWORK_CODES.has(e.code), error: message }
}
