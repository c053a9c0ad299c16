/**
 * Web Push (RFC 8030) to the family's browsers and installed PWA, with VAPID (RFC 8292) and the
 * aes128gcm payload encryption (RFC 8291) done by the `web-push` library. The push service
 * (FCM, Mozilla, Apple) stores the message for TTL seconds while the phone is offline.
 */
import { createHash } from 'node:crypto'
import type https from 'node:https'
import webpush from 'web-push'
import type { Channel, Notification, PushSubscriptionJson, SendResult } from './channel.js'
import { DEFAULT_TIMEOUT_MS, isRetryableStatus } from './http-result.js'

export interface VapidDetails {
  /** mailto: or https: contact the push service can reach the operator at. */
  subject: string
  /** base64url, as generateVapidKeys() returns them; the public key is also the browser's applicationServerKey. */
  publicKey: string
  privateKey: string
}

export interface WebPushOptions {
  vapid: VapidDetails
  /** Hosts (`host`, `host:port`, `*.suffix`) of the push services an endpoint may name (ANJU_PUSH_SERVICES). */
  services: readonly string[]
  timeoutMs?: number
  /** How long the push service keeps an undelivered message; an alarm older than this is stale. Default 1 h. */
  ttlSeconds?: number
  /** For keep-alive connections to the push services, or a private CA (tests). */
  agent?: https.Agent
}

export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys()
}

export function createWebPushChannel(opts: WebPushOptions): Channel {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const ttlSeconds = opts.ttlSeconds ?? 3600
  // A bad subject or key is a configuration error: refuse it at startup, not at the first alarm.
  webpush.getVapidHeaders('https://push.example', opts.vapid.subject, opts.vapid.publicKey, opts.vapid.privateKey, 'aes128gcm')

  async function send(n: Notification): Promise<SendResult> {
    const subscription = n.to.push
    const problem = subscription ? subscriptionProblem(subscription, opts.services) : 'recipient has no push subscription'
    if (!subscription || problem) return { ok: false, retryable: false, error: problem ?? 'invalid subscription' }

    const payload = JSON.stringify({ title: n.title, body: n.text.zh, link: n.link, incidentId: n.incidentId })
    try {
      const res = await webpush.sendNotification(subscription, payload, {
        vapidDetails: opts.vapid,
        TTL: ttlSeconds,
        // 'high' wakes a phone from power saving at once; the push services throttle it otherwise.
        urgency: n.priority <= 2 ? 'high' : 'normal',
        // A newer message with the same topic replaces an undelivered older one: a phone that was
        // offline gets the incident's latest state, not its whole history.
        topic: createHash('sha256').update(n.incidentId).digest('base64url').slice(0, 32),
        timeout: timeoutMs,
        agent: opts.agent,
      })
      // RFC 8030 §5: the Location header names the push message resource.
      const location = res.headers.location
      return location ? { ok: true, providerId: location } : { ok: true }
    } catch (err) {
      return pushFailure(err)
    }
  }

  return { name: 'webpush', send }
}

/**
 * Checked here because web-push rejects a malformed subscription with a plain Error, which would
 * be indistinguishable from a socket error; what is left after this check is the network's.
 */
function subscriptionProblem(sub: PushSubscriptionJson, services: readonly string[]): string | null {
  const endpoint = pushEndpointProblem(sub.endpoint, services)
  if (endpoint) return endpoint
  if (Buffer.from(sub.keys.p256dh, 'base64url').length !== 65) return 'p256dh is not a P-256 public key'
  if (Buffer.from(sub.keys.auth, 'base64url').length < 16) return 'auth secret is shorter than 16 bytes'
  return null
}

/**
 * Whether the platform may call this endpoint: https, on one of the push services (docs/security.md
 * §links). Anyone holding a family link can propose an endpoint; without this it could point the
 * platform at 127.0.0.1 or the private network. Checked when subscribing and again when sending
 * (a subscription stored before the check existed).
 */
export function pushEndpointProblem(endpoint: string, services: readonly string[]): string | null {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return 'push endpoint is not a URL'
  }
  if (url.protocol !== 'https:') return 'push endpoint is not https'
  if (url.username || url.password) return 'push endpoint carries credentials'
  const host = url.host.toLowerCase() // with its port, unless 443
  const known = services.some((s) => (s.startsWith('*.') ? !host.includes(':') && host.endsWith(s.slice(1)) : host === s))
  return known ? null : `push endpoint ${url.host} is not a known push service`
}

function pushFailure(err: unknown): SendResult {
  if (err instanceof webpush.WebPushError) {
    const { statusCode, body } = err
    // 404/410: the browser unsubscribed or the subscription expired; the contact must subscribe again.
    const gone = statusCode === 404 || statusCode === 410
    const detail = gone ? 'subscription gone' : body.slice(0, 200)
    return { ok: false, retryable: isRetryableStatus(statusCode), error: `HTTP ${statusCode}${detail ? `: ${detail}` : ''}` }
  }
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined
  const message = err instanceof Error ? err.message : String(err)
  return { ok: false, retryable: true, error: `network: ${code ?? message}` }
}
