/** The decisions of telemetry idempotency and of the per-device rate, apart from any I/O (src/ingest/dedup.ts, rates.ts). */
import { describe, expect, it } from 'vitest'
import { createTelemetryDedup, type ReadingIds } from '../../src/ingest/dedup.js'
import { DEDUP_WINDOW_MS } from '../../src/incidents/service.js'
import { createDeviceRates } from '../../src/ingest/rates.js'
import { virtualClock } from '../../src/shared/clock.js'

/** The history store's answers, counted: what a restarted platform would find there. */
function storeWith(kept: Record<string, { id: string; at: number }[]> = {}) {
  const asked = { has: 0, newest: 0 }
  const ids: ReadingIds = {
    async hasMessage(deviceId, msgId, at, since) {
      asked.has++
      return (kept[deviceId] ?? []).some((r) => r.id === msgId && (at === null ? r.at >= since : r.at === at))
    },
    async newestOf(deviceId) {
      asked.newest++
      const rows = kept[deviceId] ?? []
      return rows.length === 0 ? null : Math.max(...rows.map((r) => r.at))
    },
  }
  return { ids, asked }
}

describe('telemetry dedup', () => {
  it('asks the store once for a device new since start, then takes newer readings from memory', async () => {
    const { ids, asked } = storeWith({ 'wm-1': [{ id: 'w-1', at: 1000 }] })
    let wall = 0
    const dedup = createTelemetryDedup(ids, { now: () => wall })
    expect(await dedup.check('wm-1', 'w-2', 2000)).toBe('new')
    expect(asked).toEqual({ has: 0, newest: 1 })
    // Newer than anything the device sent: new, answered at once.
    expect(dedup.check('wm-1', 'w-3', 3000)).toBe('new')
    expect(dedup.check('wm-1', 'w-3', 3000)).toBe('duplicate')
    expect(asked).toEqual({ has: 0, newest: 1 })
    // Long after, it is no longer in memory: its time says it may be sent again, so the store is asked.
    wall += 60_000
    expect(await dedup.check('wm-1', 'w-1', 1000)).toBe('duplicate')
    expect(asked.has).toBe(1)
  })

  it('takes an older reading with a new id (a batch out of order) and one without ts only after asking the store', async () => {
    const { ids, asked } = storeWith({ 'wm-1': [{ id: 'w-9', at: 9000 }] })
    const dedup = createTelemetryDedup(ids, { now: () => 0, platformNow: () => 10_000 })
    expect(await dedup.check('wm-1', 'w-5', 5000)).toBe('new')
    expect(await dedup.check('wm-1', 'w-none', null)).toBe('new')
    expect(await dedup.check('wm-1', 'w-9', null)).toBe('duplicate')
    expect(asked.has).toBe(3)
  })

  it('takes a reused id at another time as a new reading (a replaced unit, firmware whose counter starts again)', async () => {
    const { ids } = storeWith({ 'pr-1': [{ id: 'p-1', at: 1000 }] })
    let platform = 2000
    const dedup = createTelemetryDedup(ids, { now: () => 0, platformNow: () => platform })
    // The same id at its original time: sent again.
    expect(await dedup.check('pr-1', 'p-1', 1000)).toBe('duplicate')
    // The same id at another time, even older than the device's newest: another reading.
    expect(await dedup.check('pr-1', 'p-1', 500)).toBe('new')
    // In memory too.
    expect(dedup.check('pr-1', 'p-2', 3000)).toBe('new')
    expect(await dedup.check('pr-1', 'p-2', 2500)).toBe('new')
    // Without ts, an id counts as sent again only within a day of the reading kept.
    platform = 1000 + DEDUP_WINDOW_MS + 1
    expect(await dedup.check('pr-1', 'p-1', null)).toBe('new')
  })

  it('takes the reading when the store does not answer in time, and says so', async () => {
    const clock = virtualClock(0)
    const errors: unknown[] = []
    const ids: ReadingIds = { hasMessage: () => new Promise(() => undefined), newestOf: async () => 5000 }
    const dedup = createTelemetryDedup(ids, { now: () => 0, timers: clock, storeTimeoutMs: 2000, onStoreError: (err) => errors.push(err) })
    const answer = dedup.check('wm-1', 'w-1', 1000)
    // The store was asked and is silent: the next reading of the device waits behind it.
    const next = dedup.check('wm-1', 'w-2', 9000)
    await Promise.resolve()
    await Promise.resolve()
    clock.advance(2000)
    expect(await answer).toBe('new')
    expect(await next).toBe('new')
    expect(String(errors[0])).toMatch(/did not answer within 2000 ms/)
  })

  it("keeps a device's messages in order while one of them waits for the store", async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const ids: ReadingIds = {
      hasMessage: async () => false,
      newestOf: async (deviceId) => {
        if (deviceId === 'wm-1') await gate
        return null
      },
    }
    const dedup = createTelemetryDedup(ids, { now: () => 0 })
    const order: string[] = []
    const first = Promise.resolve(dedup.check('wm-1', 'a', 1000)).then((v) => order.push(`a:${v}`))
    // Newer, and answerable from memory, but it waits behind the first.
    const second = dedup.check('wm-1', 'b', 2000)
    expect(second).toBeInstanceOf(Promise)
    const secondDone = Promise.resolve(second).then((v) => order.push(`b:${v}`))
    // Another device is not held up.
    expect(await dedup.check('wm-2', 'c', 1000)).toBe('new')
    release()
    await Promise.all([first, secondDone])
    expect(order).toEqual(['a:new', 'b:new'])
  })

  it('takes the reading when the store cannot answer (twice is better than lost), and says so', async () => {
    const errors: unknown[] = []
    const ids: ReadingIds = { hasMessage: async () => Promise.reject(new Error('down')), newestOf: async () => Promise.reject(new Error('down')) }
    const dedup = createTelemetryDedup(ids, { now: () => 0, onStoreError: (err) => errors.push(err) })
    expect(await dedup.check('wm-1', 'a', 1000)).toBe('new')
    expect(errors).toHaveLength(1)
    // Still recognised from memory.
    expect(await dedup.check('wm-1', 'a', 1000)).toBe('duplicate')
  })

  it('holds at most maxUnwritten ids in memory', async () => {
    const { ids } = storeWith()
    const dedup = createTelemetryDedup(ids, { now: () => 0, maxUnwritten: 100 })
    await dedup.check('wm-1', 'w-0', 0)
    for (let i = 1; i <= 1000; i++) expect(dedup.check('wm-1', `w-${i}`, i)).toBe('new')
    // The first ids are forgotten in memory; the store (here empty, as if the sink had dropped them) decides.
    expect(await dedup.check('wm-1', 'w-1', 1)).toBe('new')
    expect(dedup.check('wm-1', 'w-1000', 1000)).toBe('duplicate')
  })

  it('forgets the oldest first, exactly at the bound, however many came before (past its compaction)', async () => {
    const { ids, asked } = storeWith()
    const dedup = createTelemetryDedup(ids, { now: () => 0, maxUnwritten: 100 })
    await dedup.check('wm-1', 'w-0', 0)
    for (let i = 1; i <= 5000; i++) expect(dedup.check('wm-1', `w-${i}`, i)).toBe('new')
    // The newest 100 (w-4901 … w-5000) are known from memory, the one before them only to the store.
    expect(dedup.check('wm-1', 'w-4901', 4901)).toBe('duplicate')
    expect(dedup.check('wm-1', 'w-5000', 5000)).toBe('duplicate')
    expect(asked.has).toBe(0)
    expect(await dedup.check('wm-1', 'w-4900', 4900)).toBe('new')
    expect(asked.has).toBe(1)
  })

  it("forgets by age: ten seconds after it was taken, an id is the store's to answer", async () => {
    const { ids, asked } = storeWith()
    let wall = 0
    const dedup = createTelemetryDedup(ids, { now: () => wall })
    await dedup.check('wm-1', 'w-0', 0)
    for (let i = 1; i <= 3000; i++) {
      wall = i * 10
      expect(dedup.check('wm-1', `w-${i}`, i)).toBe('new')
    }
    // wall is 30,000: what was taken at 20,000 or later is still in memory, what was taken before is not.
    expect(dedup.check('wm-1', 'w-2000', 2000)).toBe('duplicate')
    expect(asked.has).toBe(0)
    expect(await dedup.check('wm-1', 'w-1999', 1999)).toBe('new')
    expect(asked.has).toBe(1)
  })
})

describe('device rates', () => {
  it('lets a burst through, then the sustained rate, on the clock it is given', () => {
    let now = 0
    const rates = createDeviceRates({ perSecond: 2, burst: 5 }, () => now)
    const taken = () => Array.from({ length: 10 }, () => rates.take('pr-1')).filter(Boolean).length
    expect(taken()).toBe(5)
    expect(rates.retryAfterS('pr-1')).toBe(1)
    now += 1000
    expect(taken()).toBe(2)
    // Another device has its own bucket.
    expect(rates.take('pr-2')).toBe(true)
    now += 60_000
    expect(taken()).toBe(5)
  })

  it('counts an alarm toward the rate without ever refusing it, and recovers within a burst', () => {
    let now = 0
    const rates = createDeviceRates({ perSecond: 1, burst: 3 }, () => now)
    for (let i = 0; i < 100; i++) rates.spend('btn-1')
    expect(rates.take('btn-1')).toBe(false)
    now += 3000
    expect(rates.take('btn-1')).toBe(false)
    now += 4000
    expect(rates.take('btn-1')).toBe(true)
  })
})
