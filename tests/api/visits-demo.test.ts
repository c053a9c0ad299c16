/**
 * The demo district's visits (src/demo/visits.ts): last month and this month so far, so the 探访
 * view and the monthly report have content on first start; its visitor accounts; and planning at
 * start finds the demo's plan already made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPlatform, type TestPlatform } from '../helpers/platform.js'

type Json = Record<string, any>
// 20 March 2026, 10:00 in Shanghai.
const START = Date.UTC(2026, 2, 20, 2)
let p: TestPlatform

beforeAll(async () => {
  p = await startPlatform({ env: { ANJU_DEMO: 'true', ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(START) } })
})
afterAll(async () => {
  await p?.close()
})

describe('the demo visits', () => {
  it('has a done last month with a few not seen, and 孙玉珍 flagged for not being seen twice', async () => {
    const s = (await p.api<Json>('GET', '/api/visits/summary?month=2026-02')).body
    const byName = Object.fromEntries(s.communities.map((c: Json) => [c.communityName, c]))
    // Ages 84, 79, 91 in 梅园: two, one and two visits; 76, 88, 82 in 兰亭: one, two and two.
    expect(byName['梅园社区']).toMatchObject({ planned: 5, done: 5, notSeen: 1, overdue: 0 })
    expect(byName['兰亭社区']).toMatchObject({ planned: 5, done: 5, notSeen: 2, overdue: 0 })
    expect(s.flagged.map((f: Json) => f.elderName)).toEqual(['孙玉珍'])
  })

  it('has this month so far: most done, a few overdue, the rest still to come; start planned nothing more', async () => {
    const s = (await p.api<Json>('GET', '/api/visits/summary')).body
    expect(s.month).toBe('2026-03')
    const total = s.communities.reduce((n: number, c: Json) => n + c.planned, 0)
    // By age 5 + 5, and one more each for the two households whose wellbeing findings last month
    // (demo/report-month.ts) the rule counts (visits/frequency.ts).
    expect(total).toBe(12)
    const done = s.communities.reduce((n: number, c: Json) => n + c.done, 0)
    const overdue = s.communities.reduce((n: number, c: Json) => n + c.overdue, 0)
    expect(done).toBeGreaterThan(0)
    expect(overdue).toBeGreaterThan(0)
    expect(done + overdue).toBeLessThan(total)
    const late = (await p.api<Json>('GET', '/api/visits?overdue=true')).body.items
    expect(late.length).toBe(overdue)
    expect(await p.app.visits.planAll()).toBe(0)
  })

  it('has a visitor account per community', async () => {
    const users = (await p.api<Json[]>('GET', '/api/users')).body
    expect(users.filter((u) => u.role === 'visitor').map((u) => [u.username, u.communityIds])).toEqual([
      ['vis-lanting', ['com-lanting']],
      ['vis-meiyuan', ['com-meiyuan']],
    ])
  })
})
