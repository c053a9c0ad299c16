/**
 * A delivery channel: one way of reaching a person or a system. The outbox calls `send` and
 * decides about retries from the result; a channel never retries by itself and never throws
 * for a delivery failure (it returns one), so a dead channel cannot stop the others.
 */

export const CHANNEL_NAMES = ['sms', 'email', 'webpush', 'webhook'] as const
export type ChannelName = (typeof CHANNEL_NAMES)[number]

/** A browser's Web Push subscription, as `PushSubscription.toJSON()` gives it. */
export interface PushSubscriptionJson {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

export interface Recipient {
  name: string
  phone?: string
  email?: string
  push?: PushSubscriptionJson
  /** Webhook target (street platform 一网统管, 120 dispatch). */
  url?: string
  /** Webhook HMAC secret. */
  secret?: string
}

export interface Notification {
  /** Idempotency key: (incident, stage, contact, channel). Providers that take one get it. */
  key: string
  incidentId: string
  priority: number
  to: Recipient
  /** Short title, e.g. "紧急呼叫 SOS · 张桂英". */
  title: string
  /** The message in Chinese (what is sent by SMS and shown first) and English. */
  text: { zh: string; en: string }
  /** A signed link the family can answer from ("我去看看"), when there is one. */
  link?: string
  /** Machine-readable facts for webhooks: incident id, type, household, address … */
  data: Record<string, unknown>
}

export type SendResult =
  | { ok: true; providerId?: string }
  | { ok: false; retryable: boolean; error: string }

export interface Channel {
  readonly name: ChannelName
  send(n: Notification): Promise<SendResult>
}
