/**
 * The demo district's month of service tickets (src/demo/tickets.ts): on first start the queue has
 * a month across every type, most done with the elder's feedback, some dispatched, a few waiting;
 * each ticket's trail starts with its request; none of it is an incident.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPlatform, type TestPlatform } from '../helpers/platform.js'

const START = Date.UTC(2026, 2, 1, 6) // 14:00 in Shanghai
const DAY = 86_400_000

interface Ticket { id: string; type: string; state: string; source: string; requestedAt: number; closedAt: number | null; feedback: string | null; provider: string | null; communityId: string }
interface Page { items: Ticket[]; total: number; counts: Record<'pending' | 'dispatched' | 'done' | 'cancelled', number> }

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform({ env: { ANJU_DEMO: 'true', ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(START) } })
})
afterAll(() => p.close())

describe('the demo month of service tickets', () => {
  it('has a month across every type, mostly done with feedback, some dispatched, a few pending', async () => {
    const page = (await p.api<Page>('GET', '/api/service-tickets?limit=500')).body
    const all = page.items
    expect(page.total).toBe(all.length)
    expect(all.length).toBeGreaterThanOrEqual(40)
    expect(new Set(all.map((t) => t.type))).toEqual(new Set(['meal', 'bath', 'medical', 'repair', 'other']))
    expect(new Set(all.map((t) => t.source))).toEqual(new Set(['button', 'operator']))
    expect(new Set(all.map((t) => t.communityId))).toEqual(new Set(['com-meiyuan', 'com-lanting']))
    // A month, nothing in the future.
    expect(Math.min(...all.map((t) => t.requestedAt))).toBeGreaterThanOrEqual(START - 31 * DAY)
    expect(Math.max(...all.map((t) => Math.max(t.requestedAt, t.closedAt ?? 0)))).toBeLessThanOrEqual(START)

    const { pending, dispatched, done, cancelled } = page.counts
    expect(done).toBeGreaterThan(all.length / 2)
    expect(dispatched).toBeGreaterThanOrEqual(1)
    expect(pending).toBeGreaterThanOrEqual(1)
    expect(pending + dispatched).toBeLessThan(all.length / 5)
    expect(cancelled).toBeGreaterThanOrEqual(0)
    const withFeedback = all.filter((t) => t.state === 'done' && t.feedback !== null).length
    expect(withFeedback).toBeGreaterThan(done / 2)
    expect(all.filter((t) => t.state !== 'pending').every((t) => t.provider !== null)).toBe(true)

    // The queue's order: pending first, then dispatched.
    expect(all.slice(0, pending).every((t) => t.state === 'pending')).toBe(true)
    expect(all.slice(pending, pending + dispatched).every((t) => t.state === 'dispatched')).toBe(true)

    const sample = all.find((t) => t.state === 'done' && t.feedback !== null && t.source === 'button')!
    const trail = (await p.api<{ events: { kind: string }[] }>('GET', `/api/service-tickets/${sample.id}`)).body.events.map((e) => e.kind)
    expect(trail).toEqual(['requested', 'type_changed', 'dispatched', 'done', 'feedback'])

    // None of it is an incident.
    expect((await p.api<unknown[]>('GET', '/api/incidents')).body.filter((i) => (i as { category: string }).category === 'service')).toEqual([])
  })
})
