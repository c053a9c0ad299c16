/**
 * Signed JSON webhooks to systems that act on incidents (the street's 一网统管 platform, 120
 * dispatch). The receiver checks `x-anju-signature` = sha256=HMAC-SHA256(secret, timestamp + "." +
 * body) and the timestamp's age, so a captured request cannot be altered or replayed later, and
 * dedups on `x-anju-idempotency-key` because the outbox may deliver the same notification twice.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Channel, Notification, SendResult } from './channel.js'
import { DEFAULT_TIMEOUT_MS, bodySnippet, fetchFailure, httpFailure } from './http-result.js'

export interface WebhookOptions {
  timeoutMs?: number
  now?: () => number
}

export interface WebhookPayload {
  id: string
  incidentId: string
  priority: number
  title: string
  text: { zh: string; en: string }
  link?: string
  data: Record<string, unknown>
  sentAt: number
}

export function createWebhookChannel(opts: WebhookOptions = {}): Channel {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const now = opts.now ?? Date.now

  async function send(n: Notification): Promise<SendResult> {
    const { url, secret } = n.to
    if (!url || !secret) return { ok: false, retryable: false, error: 'recipient has no webhook url or secret' }

    const timestamp = String(now())
    const payload: WebhookPayload = {
      id: n.key,
      incidentId: n.incidentId,
      priority: n.priority,
      title: n.title,
      text: n.text,
      link: n.link,
      data: n.data,
      sentAt: Number(timestamp),
    }
    const body = JSON.stringify(payload)

    let res: Response
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-anju-timestamp': timestamp,
          'x-anju-signature': signWebhook(secret, timestamp, body),
          'x-anju-idempotency-key': n.key,
        },
        body,
        // A redirected POST is either turned into a GET or re-sent with our signature to another
        // host; neither is delivery. The configured url is wrong and a person must correct it.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      return fetchFailure(err, timeoutMs)
    }

    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel()
      return { ok: true }
    }
    return httpFailure(res.status, await bodySnippet(res))
  }

  return { name: 'webhook', send }
}

export function signWebhook(secret: string, timestamp: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`
}

export type WebhookVerification = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' }

/**
 * For receivers: checks a request against the shared secret. `body` must be the raw bytes as
 * received (re-serialising parsed JSON changes them). A timestamp outside ±toleranceMs is refused
 * even with a good signature, which bounds how long a captured request can be replayed.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | undefined,
  body: string | Buffer,
  signatureHeader: string | undefined,
  { now = Date.now, toleranceMs = 5 * 60_000 }: { now?: () => number; toleranceMs?: number } = {},
): WebhookVerification {
  if (!timestamp || !signatureHeader || !/^\d+$/.test(timestamp)) return { ok: false, reason: 'missing' }
  if (Math.abs(now() - Number(timestamp)) > toleranceMs) return { ok: false, reason: 'stale' }
  const expected = Buffer.from(signWebhook(secret, timestamp, body))
  const given = Buffer.from(signatureHeader)
  // Constant time, so the signature cannot be guessed byte by byte from response times.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'mismatch' }
  return { ok: true }
}
