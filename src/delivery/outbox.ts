/**
 * The outbox worker: sends what is due, each notice on its own (a slow or dead channel holds
 * up only its own notices), retries with exponential backoff and jitter, and holds back a
 * flood to one person — except an SOS, which is never held back or dropped.
 */
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../shared/clock.js'
import type { Db } from '../store/database.js'
import { outboxRepository, type OutboxRow } from '../store/outbox.js'
import type { Channel, ChannelName, SendResult } from './channels/channel.js'

export interface DeliveryOutcome {
  row: OutboxRow
  result: 'sent' | 'retrying' | 'failed' | 'deferred'
  error?: string
  attempts: number
}

export interface OutboxOptions {
  db: Db
  channels: Partial<Record<ChannelName, Channel>>
  clock: Clock
  log: Logger
  onOutcome: (o: DeliveryOutcome) => void
  /** The shortest wait between two looks for due notices. */
  pollMs?: number
  maxAttempts?: number
  baseBackoffMs?: number
  maxBackoffMs?: number
  rateLimit?: (row: OutboxRow) => { perRecipient: number; windowMs: number }
  random?: () => number
}

/** With nothing due, look again this often anyway (a notice queued by another process, say). */
const IDLE_POLL_MS = 30_000

export function createOutbox(o: OutboxOptions) {
  const repo = outboxRepository(o.db)
  const pollMs = o.pollMs ?? 250
  const maxAttempts = o.maxAttempts ?? 10
  const base = o.baseBackoffMs ?? 2000
  const cap = o.maxBackoffMs ?? 5 * 60_000
  const random = o.random ?? Math.random
  const inFlight = new Set<string>()
  /** Send times per recipient, for the rate limit. */
  const recent = new Map<string, number[]>()
  let timer: TimerHandle | null = null
  let timerAt = Infinity
  let running = false
  let polling: Promise<void> = Promise.resolve()

  /** Full jitter between half and all of the exponential step, so retries do not march in step. */
  const backoff = (attempts: number) => {
    const step = Math.min(cap, base * 2 ** (attempts - 1))
    return Math.round(step / 2 + (random() * step) / 2)
  }

  function overLimit(row: OutboxRow, now: number): number | null {
    if (row.priority <= 1 || !o.rateLimit) return null
    const { perRecipient, windowMs } = o.rateLimit(row)
    const times = (recent.get(row.recipientId) ?? []).filter((t) => t > now - windowMs)
    recent.set(row.recipientId, times)
    return times.length >= perRecipient ? times[0]! + windowMs : null
  }

  async function deliver(row: OutboxRow): Promise<void> {
    // Claimed first: a notice cancelled by an acknowledgement a moment ago is not sent.
    if (!(await repo.claim(row.key))) return
    const now = o.clock.now()
    const channel = o.channels[row.channel]
    const attempts = row.attempts + 1
    if (!channel) {
      await repo.markFailed(row.key, attempts, `channel ${row.channel} is not configured`)
      return o.onOutcome({ row, result: 'failed', error: `channel ${row.channel} is not configured`, attempts })
    }
    const heldUntil = overLimit(row, now)
    if (heldUntil !== null) {
      await repo.defer(row.key, heldUntil, 'rate limited')
      return o.onOutcome({ row, result: 'deferred', error: 'rate limited', attempts: row.attempts })
    }
    let result: SendResult
    try {
      result = await channel.send(row.notification)
    } catch (err) {
      result = { ok: false, retryable: true, error: err instanceof Error ? err.message : String(err) }
    }
    const at = o.clock.now()
    if (result.ok) {
      recent.set(row.recipientId, [...(recent.get(row.recipientId) ?? []), at])
      await repo.markSent(row.key, at, attempts)
      return o.onOutcome({ row, result: 'sent', attempts })
    }
    if (result.retryable && attempts < maxAttempts) {
      await repo.markRetry(row.key, attempts, at + backoff(attempts), result.error)
      return o.onOutcome({ row, result: 'retrying', error: result.error, attempts })
    }
    await repo.markFailed(row.key, attempts, result.error)
    o.onOutcome({ row, result: 'failed', error: result.error, attempts })
  }

  async function poll(): Promise<void> {
    const due = await repo.due(o.clock.now(), 200)
    for (const row of due) {
      if (inFlight.has(row.key)) continue
      inFlight.add(row.key)
      deliver(row)
        .catch((err: unknown) => o.log.error({ err, key: row.key }, 'outbox delivery failed'))
        .finally(() => {
          inFlight.delete(row.key)
          wake().catch((err: unknown) => o.log.error({ err }, 'outbox timer not set'))
        })
    }
  }

  /**
   * One timer, set for the earliest notice due (or a slow safety poll): no polling loop that
   * spins while nothing is due, which also keeps a time-warped day cheap.
   */
  async function wake(): Promise<void> {
    if (!running) return
    const next = await repo.nextDueAt()
    const now = o.clock.now()
    const at = Math.max(now + pollMs, Math.min(next ?? Infinity, now + IDLE_POLL_MS))
    if (timer && timerAt <= at && timerAt > now) return
    if (timer) o.clock.clearTimeout(timer)
    timerAt = at
    timer = o.clock.setTimeout(() => {
      timer = null
      void kick()
    }, at - now)
  }

  function kick(): Promise<void> {
    if (!running) return polling
    polling = polling
      .then(poll)
      .then(wake)
      .catch((err: unknown) => o.log.error({ err }, 'outbox poll failed'))
    return polling
  }

  return {
    /** Looks for due notices now (after new ones were queued). */
    kick,
    async start(): Promise<void> {
      await repo.releaseSending()
      running = true
      void kick()
    },
    /** Resolves when nothing is being sent (tests, shutdown). */
    async idle(): Promise<void> {
      await polling
      while (inFlight.size > 0) await new Promise((r) => setImmediate(r))
    },
    async stop(): Promise<void> {
      running = false
      if (timer) o.clock.clearTimeout(timer)
      timer = null
      await this.idle()
    },
  }
}

export type Outbox = ReturnType<typeof createOutbox>
