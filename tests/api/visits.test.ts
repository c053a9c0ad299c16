/**
 * Visits (探访关爱, docs/operations.md §visits) on the real platform and its virtual clock: the
 * monthly plan (idempotent, and made again at the local month's start), a `visit` incident that
 * becomes a visit task and is closed by recording it, overdue visits and 未见到 twice, and the
 * visitor role that reaches its visit routes and nothing else.
 */
import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { provision, startPlatform, type TestPlatform } from '../helpers/platform.js'

type Json = Record<string, any>
const DAY = 86_400_000
// Tuesday 28 April 2026, 10:00 in Shanghai: three local days left in the month.
const START = Date.UTC(2026, 3, 28, 2)

let p: TestPlatform
let communityA: string
let communityB: string
let visitorToken: string
let operatorToken: string

async function household(communityId: string, o: { age?: number; address: string; name: string }): Promise<string> {
  const r = await p.api<{ id: string }>('POST', '/api/households', { communityId, elderName: o.name, address: o.address, age: o.age ?? null, phone: '13800001111' })
  expect(r.status).toBe(201)
  // Planning follows the household's announcement: wait for it, not for time.
  await p.app.visits.settle()
  return r.body.id
}

async function account(username: string, role: string, communityIds: string[]): Promise<string> {
  const created = await p.api('POST', '/api/users', { username, displayName: username, password: 'visitor-password', role, communityIds })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  return (await p.api<{ token: string }>('POST', '/api/login', { username, password: 'visitor-password' })).body.token
}

const visitsOf = async (communityId: string, q = '') => {
  const r = await p.api<{ month: string; items: Json[] }>('GET', `/api/visits?communityId=${communityId}${q}`)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body
}
const advance = (ms: number) => p.api('POST', '/api/clock/advance', { ms })

async function visitIncident(communityId: string, householdId: string): Promise<string> {
  const [change] = await p.app.incidents.recordFindings(communityId, [
    { change: 'raised', householdId, at: p.app.clock.now(), condition: { key: 'long_absence', kind: 'long_absence', explanation: { zh: '已 30 小时未回家', en: 'away for 30 h' }, data: {} } },
  ])
  await p.app.visits.settle()
  return change!.incident.id
}

beforeAll(async () => {
  // Logins last the month the test travels through.
  p = await startPlatform({ env: { ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(START), ANJU_SESSION_TTL_HOURS: String(24 * 60) } })
  communityA = (await p.api<{ id: string }>('POST', '/api/communities', { name: '探访社区甲', street: '测试街道' })).body.id
  communityB = (await p.api<{ id: string }>('POST', '/api/communities', { name: '探访社区乙', street: '测试街道' })).body.id
  visitorToken = await account('visitor-a', 'visitor', [communityA])
  operatorToken = await account('operator-a', 'operator', [communityA])
})
afterAll(async () => {
  await p?.close()
})

describe('the monthly plan', () => {
  it('plans a household when it is added, by its risk, once however often planning runs', async () => {
    const young = await household(communityA, { name: '王一', address: '花园路 10号楼 101室', age: 70 })
    const old = await household(communityA, { name: '王二', address: '花园路 2号楼 301室', age: 86 })
    const plan = (await visitsOf(communityA)).items.filter((v) => v.source === 'plan')
    expect(plan.filter((v) => v.householdId === young).map((v) => v.planKey)).toEqual(['2026-04#1'])
    const oldPlan = plan.filter((v) => v.householdId === old)
    expect(oldPlan.map((v) => v.planKey).sort()).toEqual(['2026-04#1', '2026-04#2'])
    expect(oldPlan[0]!.reason).toEqual({ zh: '每月 2 次:86 岁独居', en: '2 a month: aged 86, living alone' })
    expect(plan.find((v) => v.householdId === young)!.reason.zh).toBe('每月例行探访')
    // Added on the 28th: due in the days left, from today on.
    for (const v of plan) {
      expect(v.dueAt).toBeGreaterThanOrEqual(Date.UTC(2026, 3, 27, 16))
      expect(v.dueAt).toBeLessThan(Date.UTC(2026, 3, 30, 16))
      expect(v.state).toBe('planned')
    }

    expect(await p.app.visits.planAll()).toBe(0)
    expect(await p.app.visits.planAll()).toBe(0)
    p.app.bus.emit('household.changed', { householdId: old })
    await p.app.visits.settle()
    expect((await visitsOf(communityA)).items).toHaveLength(plan.length)
  })

  it('plans more visits for a household with recent wellbeing incidents', async () => {
    const h = await household(communityB, { name: '赵三', address: '河边路 1号楼 101室', age: 70 })
    await p.app.incidents.recordFindings(communityB, [
      { change: 'raised', householdId: h, at: p.app.clock.now(), condition: { key: 'no_water_day', kind: 'no_water_day', explanation: { zh: '一天没有用水', en: 'no water for a day' }, data: {} } },
    ])
    // The month's plan for it was made when it was added; the count rises with the next planning.
    expect((await visitsOf(communityB)).items.filter((v) => v.householdId === h)).toHaveLength(1)
    expect(await p.app.visits.planAll()).toBe(1)
    const mine = (await visitsOf(communityB)).items.filter((v) => v.householdId === h && v.source === 'plan')
    expect(mine.map((v) => v.planKey).sort()).toEqual(['2026-04#1', '2026-04#2'])
    expect(mine.find((v) => v.planKey === '2026-04#2')!.reason.zh).toBe('每月 2 次:近 60 天有 1 次安康异常')
  })

  it("plans the next month at the local month's start, on the platform clock", async () => {
    const before = (await visitsOf(communityA, '&month=2026-05')).items
    expect(before).toEqual([])
    // To 1 May 00:00 Shanghai (30 April 16:00 UTC), one minute short, then past it.
    const toMidnight = Date.UTC(2026, 3, 30, 16) - p.app.clock.now()
    expect((await advance(toMidnight - 60_000)).status).toBe(200)
    expect((await visitsOf(communityA, '&month=2026-05')).items).toEqual([])
    expect((await advance(2 * 60_000)).status).toBe(200)
    const may = (await visitsOf(communityA, '&month=2026-05')).items
    expect(may.map((v) => v.planKey).sort()).toEqual(['2026-05#1', '2026-05#1', '2026-05#2'])
    const { start, end } = { start: Date.UTC(2026, 3, 30, 16), end: Date.UTC(2026, 4, 31, 16) }
    for (const v of may) expect(v.dueAt >= start && v.dueAt < end).toBe(true)
    // The 86-year-old's two visits fall in different halves of the month.
    const twice = may.filter((v) => v.elderName === '王二').map((v) => v.dueAt).sort()
    expect(twice[1]! - twice[0]!).toBeGreaterThanOrEqual(10 * DAY)
  })
})

describe('overdue visits and 未见到 twice', () => {
  it("lists April's unrecorded visits as overdue to the community's operator, and counts planned vs done", async () => {
    const april = (await visitsOf(communityA, '&month=2026-04')).items
    expect(april.length).toBe(3)
    // One of them recorded: the rest are overdue.
    const first = april[0]!
    const rec = await p.api<Json>('POST', `/api/visits/${first.id}/record`, { result: 'seen', note: null }, operatorToken)
    expect(rec.status).toBe(200)
    expect(rec.body).toMatchObject({ state: 'done', result: 'seen', visitorName: 'operator-a', daysOverdue: 0 })

    const overdue = (await p.api<{ items: Json[] }>('GET', `/api/visits?communityId=${communityA}&month=2026-04&overdue=true`, undefined, operatorToken)).body.items
    expect(overdue.map((v) => v.id).sort()).toEqual(april.slice(1).map((v) => v.id).sort())
    for (const v of overdue) {
      expect(v.daysOverdue).toBeGreaterThanOrEqual(1)
      expect(v).toMatchObject({ state: 'planned', address: expect.any(String), elderName: expect.any(String) })
    }
    const summary = (await p.api<Json>('GET', '/api/visits/summary?month=2026-04', undefined, operatorToken)).body
    expect(summary.communities).toEqual([expect.objectContaining({ communityId: communityA, planned: 3, done: 1, seen: 1, notSeen: 0, overdue: 2 })])
  })

  it('flags a household seen as 未见到 on its last two visits', async () => {
    const h = await household(communityA, { name: '钱四', address: '花园路 5号楼 201室', age: 81 })
    const mine = (await visitsOf(communityA, '&month=2026-05')).items.filter((v) => v.householdId === h)
    expect(mine).toHaveLength(2)
    const flaggedNow = async () => (await p.api<Json>('GET', '/api/visits/summary', undefined, operatorToken)).body.flagged as Json[]
    await p.api('POST', `/api/visits/${mine[0]!.id}/record`, { result: 'not_seen', note: '敲门无人应' }, visitorToken)
    expect((await flaggedNow()).map((f) => f.householdId)).not.toContain(h)
    await advance(DAY)
    await p.api('POST', `/api/visits/${mine[1]!.id}/record`, { result: 'not_seen', note: '邻居说去女儿家了' }, visitorToken)
    const flagged = (await flaggedNow()).find((f) => f.householdId === h)
    expect(flagged).toMatchObject({ elderName: '钱四', address: '花园路 5号楼 201室' })
    expect(flagged!.visits.map((v: Json) => v.note)).toEqual(['邻居说去女儿家了', '敲门无人应'])
  })

  it('refuses a bad query and a bad record with a clear 400 that changes nothing', async () => {
    expect((await p.api<Json>('GET', `/api/visits?month=2026-13`)).status).toBe(400)
    const [v] = (await visitsOf(communityA, '&state=planned')).items
    const bad = await p.api<Json>('POST', `/api/visits/${v!.id}/record`, { result: 'maybe' }, visitorToken)
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/result/)
    expect((await p.api<Json>('GET', `/api/visits?communityId=${communityA}&state=planned`)).body.items.map((x: Json) => x.id)).toContain(v!.id)
  })
})

describe('a visit incident becomes a visit task', () => {
  it('is on the visitor list first; recording it closes the incident in the visitor\'s name', async () => {
    const h = await household(communityA, { name: '孙五', address: '花园路 9号楼 502室', age: 75 })
    const incidentId = await visitIncident(communityA, h)
    const today = (await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body
    expect(today[0]).toMatchObject({ source: 'incident', incidentId, householdId: h, elderName: '孙五', reason: { zh: '已 30 小时未回家', en: 'away for 30 h' }, state: 'planned' })

    const rec = await p.api<Json>('POST', `/api/visits/${today[0]!.id}/record`, { result: 'seen', note: '在家,身体好' }, visitorToken)
    expect(rec.status).toBe(200)
    const incident = (await p.api<Json>('GET', `/api/incidents/${incidentId}`)).body
    expect(incident).toMatchObject({ state: 'resolved', outcome: 'visited', note: '见到本人:在家,身体好', resolvedBy: 'user:visitor-a', acknowledgedBy: 'user:visitor-a' })
    expect((await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body.map((v) => v.id)).not.toContain(today[0]!.id)
    // Once only.
    expect((await p.api<Json>('POST', `/api/visits/${today[0]!.id}/record`, { result: 'not_seen' }, visitorToken)).status).toBe(409)
    const audit = (await p.api<{ items: Json[] }>('GET', `/api/audit?householdId=${h}`)).body
    expect(JSON.stringify(audit)).toContain('visit.recorded')
  })

  it('is cancelled when an operator closes the incident first', async () => {
    const h = await household(communityA, { name: '周六', address: '花园路 1号楼 101室', age: 75 })
    const incidentId = await visitIncident(communityA, h)
    const task = (await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body.find((v) => v.incidentId === incidentId)
    expect(task).toBeDefined()
    expect((await p.api('POST', `/api/incidents/${incidentId}/acknowledge`, undefined, operatorToken)).status).toBe(200)
    expect((await p.api('POST', `/api/incidents/${incidentId}/resolve`, { outcome: 'resolved_by_phone', note: '电话联系上了' }, operatorToken)).status).toBe(200)
    await p.app.visits.settle()
    expect((await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body.map((v) => v.id)).not.toContain(task!.id)
    const cancelled = (await visitsOf(communityA, '&state=cancelled')).items
    expect(cancelled.map((v) => v.id)).toContain(task!.id)
    expect((await p.api('POST', `/api/visits/${task!.id}/record`, { result: 'seen' }, visitorToken)).status).toBe(409)
  })
})

describe('the visitor role', () => {
  it('is refused the operator routes with 403, and reaches its own', async () => {
    for (const path of ['/api/incidents', '/api/households', '/api/visits', '/api/visits/summary', `/api/communities/${communityA}`, '/api/users', '/api/devices']) {
      const r = await p.api<Json>('GET', path, undefined, visitorToken)
      expect(r.status, path).toBe(403)
      expect(r.body).toMatchObject({ error: 'FORBIDDEN', message: expect.stringContaining('探访员') })
    }
    expect((await p.api<Json>('GET', '/api/me', undefined, visitorToken)).body).toMatchObject({ username: 'visitor-a', role: 'visitor' })
    expect((await p.api('GET', '/api/visits/today', undefined, visitorToken)).status).toBe(200)
  })

  it("never sees another community's visits: not listed, and 404 to record", async () => {
    const other = (await visitsOf(communityB, '&state=planned')).items
    expect(other.length).toBeGreaterThan(0)
    // Overdue ones included: communityB has April visits past due.
    const mine = (await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.every((v) => v.communityId === communityA)).toBe(true)
    const r = await p.api<Json>('POST', `/api/visits/${other[0]!.id}/record`, { result: 'seen' }, visitorToken)
    expect(r.status).toBe(404)
    expect((await visitsOf(communityB, '&state=planned')).items.map((v) => v.id)).toContain(other[0]!.id)
    // The operator of A neither.
    expect((await p.api('GET', `/api/visits?communityId=${communityB}`, undefined, operatorToken)).status).toBe(404)
  })

  it('walks the list in address order: building 2 before building 10', async () => {
    const list = (await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body
    const planned = list.filter((v) => v.source === 'plan').map((v) => v.address)
    const numbers = planned.map((a) => Number(/(\d+)号楼/.exec(a)![1]))
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
  })

  it('has no live incident channel', async () => {
    const socket = io(p.httpUrl, { auth: { token: visitorToken }, transports: ['websocket'], reconnection: false })
    const error = await new Promise<Error>((resolve, reject) => {
      socket.once('connect_error', resolve)
      socket.once('connect', () => reject(new Error('a visitor connected to the incident channel')))
    })
    socket.close()
    expect(error.message).toMatch(/visitor/)
  })

  it('gets only declared answers from every operation of the API document (403 wherever it is not let in)', async () => {
    const doc = (await (await fetch(`${p.httpUrl}/docs/json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown; security?: unknown[] }>> }
    const open: string[] = []
    for (const [path, byMethod] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(byMethod)) {
        if (path === '/api/logout') continue
        const res = await fetch(p.httpUrl + path.replace(/\{\w+\}/g, 'no-such-id'), {
          method: method.toUpperCase(),
          headers: { authorization: `Bearer ${visitorToken}`, ...(op.requestBody ? { 'content-type': 'application/json' } : {}) },
          ...(op.requestBody ? { body: '{}' } : {}),
        })
        expect(Object.keys(op.responses), `${method} ${path} answered ${res.status} to a visitor`).toContain(String(res.status))
        // Public routes (a family link's token, the login) do not read a login at all.
        if (res.status !== 403 && op.security?.length !== 0) open.push(`${method.toUpperCase()} ${path}`)
      }
    }
    // What a visitor's login reaches: its visits, its session; the public and link-token routes do not read it.
    expect(open).toEqual(expect.arrayContaining(['GET /api/visits/today', 'POST /api/visits/{id}/record', 'GET /api/me']))
    expect(open.filter((o) => /\/api\/(incidents|households|devices|communities|users|fleet|audit|stats|clock)/.test(o))).toEqual([])
  })

  it('can be created only with communities that exist', async () => {
    const r = await p.api<Json>('POST', '/api/users', { username: 'visitor-x', displayName: 'x', password: 'visitor-password', role: 'visitor', communityIds: ['no-such'] })
    expect(r.status).toBe(400)
  })
})

describe('after a stop', () => {
  it('gives a visit incident opened while visits were stopped its task at start', async () => {
    const h = await household(communityA, { name: '吴七', address: '花园路 3号楼 402室', age: 70 })
    await p.app.visits.stop()
    const incidentId = await visitIncident(communityA, h)
    expect((await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body.map((v) => v.incidentId)).not.toContain(incidentId)
    // Start plans in the background (a restart must not hold the alarms' notices behind it).
    await p.app.visits.start()
    await p.app.visits.settle()
    const task = (await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body.find((v) => v.incidentId === incidentId)
    expect(task).toMatchObject({ source: 'incident', elderName: '吴七' })
    await p.app.visits.start()
    await p.app.visits.settle()
    expect((await p.api<Json[]>('GET', '/api/visits/today', undefined, visitorToken)).body.filter((v) => v.incidentId === incidentId)).toHaveLength(1)
  })
})
