/**
 * The outbox on a real store and a virtual clock. The channels here stand in for the providers
 * at the edge of the world (the real channels are tested against local servers in ./channels).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Channel, Notification, SendResult } from '../../src/delivery/channels/channel.js'
import { createOutbox, type DeliveryOutcome } from '../../src/delivery/outbox.js'
import { virtualClock, type VirtualClock } from '../../src/shared/clock.js'
import type { Db } from '../../src/store/database.js'
import { closeTestStore, openTestStore } from '../helpers/database.js'
import { within } from '../helpers/platform.js'
import { outboxRepository } from '../../src/store/outbox.js'

let dir: string
let db: Db
let clock: VirtualClock
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anju-outbox-'))
  db = await openTestStore(join(dir, 'a.db'))
  clock = virtualClock(Date.UTC(2026, 10, 23, 2))
})
afterEach(async () => {
  await closeTestStore(db)
  rmSync(dir, { recursive: true, force: true })
})

function provider(name: Channel['name'], answer: () => SendResult | Promise<SendResult>) {
  const sent: string[] = []
  const channel: Channel = {
    name,
    async send(n: Notification) {
      const r = await answer()
      if (r.ok) sent.push(n.key)
      return r
    },
  }
  return { channel, sent }
}

const notice = (key: string, recipientId: string, priority: number, channel: Channel['name'] = 'sms') => ({
  key,
  incidentId: 'inc_1',
  channel,
  audience: 'family',
  recipientId,
  priority,
  notification: { key, incidentId: 'inc_1', priority, to: { name: '张明', phone: '139' }, title: 't', text: { zh: 'z', en: 'e' }, data: {} },
  nextAttemptAt: clock.now(),
  createdAt: clock.now(),
})

describe('outbox', () => {
  it('holds back a flood to one person but never an SOS', async () => {
    const sms = provider('sms', () => ({ ok: true }))
    const outcomes: DeliveryOutcome[] = []
    const outbox = createOutbox({ db, channels: { sms: sms.channel }, clock, log: pino({ level: 'silent' }), onOutcome: (o) => outcomes.push(o), rateLimit: () => ({ perRecipient: 2, windowMs: 600_000 }) })
    const repo = outboxRepository(db)
    for (let i = 0; i < 4; i++) await repo.enqueue(notice(`low-${i}`, 'contact:c1', 3))
    for (let i = 0; i < 3; i++) await repo.enqueue(notice(`sos-${i}`, 'contact:c1', 1))
    await outbox.start()
    await outbox.idle()
    await outbox.kick()
    await outbox.idle()
    // every SOS went out; of the low-priority ones, only as many as the limit leaves room for
    expect(sms.sent.filter((k) => k.startsWith('sos-'))).toHaveLength(3)
    expect(outcomes.filter((o) => o.result === 'deferred').length).toBeGreaterThan(0)
    const lowBefore = sms.sent.filter((k) => k.startsWith('low-')).length
    expect(lowBefore).toBeLessThanOrEqual(2)
    clock.advance(600_001)
    await outbox.kick()
    await outbox.idle()
    await outbox.kick()
    await outbox.idle()
    // the next window lets the held ones through, still no more than the limit at a time
    const lowAfter = sms.sent.filter((k) => k.startsWith('low-')).length
    expect(lowAfter).toBeGreaterThan(lowBefore)
    expect(lowAfter - lowBefore).toBeLessThanOrEqual(2)
    await outbox.stop()
  })

  it('keeps sending on the other channels while one is dead', async () => {
    // The webhook hangs until the test lets it time out.
    let hanging!: () => void
    let timeOut!: () => void
    const called = new Promise<void>((resolve) => (hanging = resolve))
    const dead = provider('webhook', () => {
      hanging()
      return new Promise<SendResult>((resolve) => (timeOut = () => resolve({ ok: false, retryable: true, error: 'timeout' })))
    })
    const email = provider('email', () => ({ ok: true }))
    const outcomes: DeliveryOutcome[] = []
    let mailed!: () => void
    const mailOutcome = new Promise<void>((resolve) => (mailed = resolve))
    const onOutcome = (o: DeliveryOutcome) => {
      outcomes.push(o)
      if (o.row.key === 'mail-1') mailed()
    }
    const outbox = createOutbox({ db, channels: { webhook: dead.channel, email: email.channel }, clock, log: pino({ level: 'silent' }), onOutcome })
    const repo = outboxRepository(db)
    await repo.enqueue(notice('hook-1', 'webhook:w1', 1, 'webhook'))
    await repo.enqueue(notice('mail-1', 'contact:c1', 1, 'email'))
    await outbox.start()
    // the e-mail goes out, and is recorded, while the webhook is still hanging (an outbox that
    // waited for the webhook would never get here)
    await within(Promise.all([called, mailOutcome]), 5000, 'the e-mail to go out while the webhook hangs')
    expect(email.sent).toEqual(['mail-1'])
    expect(outcomes.map((o) => [o.row.key, o.result])).toEqual([['mail-1', 'sent']])
    expect(await repo.get('mail-1')).toMatchObject({ state: 'sent', attempts: 1 })
    expect(await repo.get('hook-1')).toMatchObject({ state: 'sending' })
    timeOut()
    await outbox.stop()
    expect(outcomes.map((o) => [o.row.key, o.result])).toEqual([['mail-1', 'sent'], ['hook-1', 'retrying']])
    expect((await repo.get('hook-1'))).toMatchObject({ state: 'pending', attempts: 1, lastError: 'timeout' })
  })

  it('does not send a notice cancelled before its turn', async () => {
    const sms = provider('sms', () => ({ ok: true }))
    const outbox = createOutbox({ db, channels: { sms: sms.channel }, clock, log: pino({ level: 'silent' }), onOutcome: () => undefined })
    const repo = outboxRepository(db)
    await repo.enqueue(notice('n-1', 'contact:c1', 2))
    expect(await repo.cancelPending('inc_1')).toBe(1)
    await outbox.start()
    await outbox.idle()
    expect(sms.sent).toEqual([])
    expect(await repo.get('n-1')).toMatchObject({ state: 'cancelled' })
    await outbox.stop()
  })
})
