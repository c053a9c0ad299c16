/**
 * The monthly report (考核) on the real platform and its virtual clock: a November of real alarms
 * (HTTP ingest, as a vendor platform sends them) acknowledged by an operator 20 s, 30 s, 45 s, 90 s,
 * 100 s and 300 s after they came, a test alarm, a resident's cancel, an alarm at 23:59 on the last
 * local day and one at 00:00 the next; visits and tickets as their services store them; devices
 * heard and never heard. The JSON and the downloaded .xlsx (read back with exceljs) must agree with
 * the incidents the API lists and with the known values; operators see only their communities.
 */
import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MonthlyReport } from '../../src/reports/figures.js'
import { virtualClock } from '../../src/shared/clock.js'
import { incidentRepository } from '../../src/store/incidents.js'
import { reportRepository } from '../../src/store/reports.js'
import { ADMIN_PASSWORD, provision, startPlatform, type Fixture, type TestPlatform } from '../helpers/platform.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** November 2026 in Asia/Shanghai: 2026-10-31T16:00Z to 2026-11-30T16:00Z. */
const NOV_START = Date.UTC(2026, 9, 31, 16)
const NOV_END = Date.UTC(2026, 10, 30, 16)
/** Local day `d` of November at `hh:mm`. */
const nov = (d: number, hh = 10, mm = 0) => NOV_START + (d - 1) * DAY + hh * HOUR + mm * 60_000
const STREET = '报表街道'

const clock = virtualClock(nov(2))
let p: TestPlatform
let a: Fixture
let b: Fixture
let c: Fixture
let waterA: string
/** Visits the planner made for the month (visits/service.ts: each household planned when registered): pending, due in November. */
let plannedA = 0
let plannedB = 0
const tokens = new Map<string, string>()

/** A fresh login: the clock moves a month, past any session. */
async function login(username: string, password: string): Promise<string> {
  const res = await p.api<{ token: string }>('POST', '/api/login', { username, password })
  expect(res.status).toBe(200)
  return res.body.token
}
const admin = () => login('admin', ADMIN_PASSWORD)
const operator = (name: string) => login(name, 'operator-password')

async function ingestAlarm(fx: Fixture, id: string, type: string): Promise<void> {
  const res = await fetch(`${p.httpUrl}/ingest/v1/dev/${fx.device.id}/alarm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${fx.device.id}:${fx.device.secret}`).toString('base64')}` },
    body: JSON.stringify({ id, type }),
  })
  expect(res.status, await res.clone().text()).toBe(200)
}

/** An alarm at `at`, acknowledged by `who` after `ackS` seconds and closed with `outcome`. */
async function alarm(fx: Fixture, o: { at: number; type: 'sos' | 'fall'; ackS: number; who: string; outcome: string; cancel?: boolean }): Promise<void> {
  clock.set(o.at)
  await ingestAlarm(fx, `m-${o.at}`, o.type)
  if (o.cancel) {
    clock.advance(5_000)
    await ingestAlarm(fx, `c-${o.at}`, 'cancel')
  }
  const token = await operator(o.who)
  const [incident] = (await p.api<{ id: string; openedAt: number }[]>('GET', `/api/incidents?state=open&communityId=${fx.communityId}`, undefined, token)).body
  expect(incident?.openedAt).toBe(o.at)
  clock.set(o.at + o.ackS * 1000)
  expect((await p.api('POST', `/api/incidents/${incident!.id}/acknowledge`, undefined, token)).status).toBe(200)
  expect((await p.api('POST', `/api/incidents/${incident!.id}/resolve`, { outcome: o.outcome }, token)).status).toBe(200)
}

beforeAll(async () => {
  p = await startPlatform({ clock })
  const community = async (name: string, street: string) => (await p.api<{ id: string }>('POST', '/api/communities', { name, street })).body.id
  a = await provision(p, { communityId: await community('梅园社区', STREET) })
  b = await provision(p, { communityId: await community('兰亭社区', STREET) })
  c = await provision(p, { communityId: await community('竹林社区', '别的街道') })
  // A household without a device, and a water meter never heard, in community A.
  expect((await p.api('POST', '/api/households', { communityId: a.communityId, elderName: '无设备老人', address: '梅园 2 号' })).status).toBe(201)
  waterA = `wm-rep-${Date.now().toString(36)}`
  expect((await p.api('POST', '/api/devices', { id: waterA, householdId: a.householdId, kind: 'water', room: 'kitchen' })).status).toBe(201)
  for (const [name, ids] of [['op-a', [a.communityId]], ['op-b', [b.communityId]], ['op-c', [c.communityId]]] as const) {
    const created = await p.api('POST', '/api/users', { username: name, displayName: name, password: 'operator-password', role: 'operator', communityIds: ids })
    expect(created.status).toBe(201)
  }

  // ---- November's alarms: waits 20, 45, 90, 300 (cancelled by the resident), 30 (23:59 on the 30th) in A, 100 in B; a test ----
  await alarm(a, { at: nov(2, 10), type: 'sos', ackS: 20, who: 'op-a', outcome: 'emergency_handled' })
  await alarm(b, { at: nov(3, 9), type: 'sos', ackS: 100, who: 'op-b', outcome: 'resolved_by_phone' })
  await alarm(a, { at: nov(5, 14), type: 'fall', ackS: 45, who: 'op-a', outcome: 'false_alarm' })
  await alarm(a, { at: nov(10, 8), type: 'sos', ackS: 90, who: 'op-a', outcome: 'resolved_by_phone' })
  await alarm(a, { at: nov(15, 21), type: 'sos', ackS: 300, who: 'op-a', outcome: 'false_alarm', cancel: true })
  await alarm(a, { at: nov(20, 11), type: 'sos', ackS: 500, who: 'op-a', outcome: 'test' })
  await alarm(c, { at: nov(21, 11), type: 'sos', ackS: 10, who: 'op-c', outcome: 'emergency_handled' })
  await alarm(a, { at: nov(30, 23, 59), type: 'sos', ackS: 30, who: 'op-a', outcome: 'emergency_handled' })
  // 00:00 on 1 December, local: December's
  await alarm(a, { at: NOV_END, type: 'sos', ackS: 5, who: 'op-a', outcome: 'emergency_handled' })

  // ---- what other services store: an old green-button incident, a wellbeing finding, visits, tickets ----
  const incidents = incidentRepository(p.app.db)
  const base = { householdId: a.householdId, communityId: a.communityId, deviceId: '', cancelledByResident: false, acknowledgedAt: nov(12, 9, 1), acknowledgedBy: 'user:op-a', resolvedAt: nov(12, 10), resolvedBy: 'user:op-a', note: null, conditions: [], conditionCleared: false, explanation: null, familyResponse: null, state: 'resolved' as const }
  await incidents.insert({ ...base, id: 'inc-old-service', deviceId: a.device.id, category: 'service', type: 'service', priority: 4, openedAt: nov(12, 9), updatedAt: nov(12, 10), outcome: 'resolved_by_phone' })
  await incidents.insert({ ...base, id: 'inc-wellbeing', category: 'wellbeing', type: 'no_water_day', priority: 3, openedAt: nov(13, 9), acknowledgedAt: nov(13, 9, 2), updatedAt: nov(13, 10), resolvedAt: nov(13, 10), outcome: 'settled_by_family', resolvedBy: 'family:ct-1' })

  const store = reportRepository(p.app.db)
  let v = 0
  const visit = (o: { due: number; state: string; result?: string; visitedAt?: number; source?: string; community?: string }) =>
    store.insertVisit({
      id: `vis-${++v}`, household_id: a.householdId, community_id: o.community ?? a.communityId, source: o.source ?? 'plan', plan_key: null, incident_id: null, reason: null,
      due_at: o.due, state: o.state, visited_at: o.visitedAt ?? null, visitor_id: o.visitedAt ? 'u-visitor' : null, result: o.result ?? null, note: null, created_at: o.due - 20 * DAY, updated_at: o.due,
    })
  await visit({ due: nov(10), state: 'done', result: 'seen', visitedAt: nov(10, 15) })
  await visit({ due: nov(12), state: 'done', result: 'not_seen', visitedAt: nov(12, 16) })
  await visit({ due: nov(20), state: 'planned' }) // overdue at the month's end
  await visit({ due: nov(25), state: 'done', result: 'seen', visitedAt: NOV_END + 2 * HOUR }) // done, but only in December: overdue at the end
  await visit({ due: nov(28), state: 'cancelled' })
  await visit({ due: NOV_START - 11 * DAY, state: 'planned' }) // October's, still overdue at November's end
  await visit({ due: nov(14), state: 'done', result: 'seen', visitedAt: nov(14, 10), source: 'incident' })
  await visit({ due: NOV_END + 4 * DAY, state: 'planned' }) // December's
  await visit({ due: nov(10), state: 'planned', community: c.communityId }) // another street's

  let t = 0
  const ticket = (o: { type: string; at: number; state: string; doneMin?: number; feedback?: string }) =>
    store.insertTicket({
      id: `tk-${++t}`, household_id: a.householdId, community_id: a.communityId, type: o.type, source: 'operator', device_id: null, state: o.state, provider: null, note: null, presses: 0,
      requested_at: o.at, requested_by: 'user:op-a', dispatched_at: o.state === 'pending' ? null : o.at + 10 * 60_000, dispatched_by: null,
      closed_at: o.doneMin !== undefined ? o.at + o.doneMin * 60_000 : o.state === 'cancelled' ? o.at + HOUR : null, closed_by: null, feedback: o.feedback ?? null, feedback_note: null, updated_at: o.at,
    })
  await ticket({ type: 'meal', at: nov(3), state: 'done', doneMin: 60, feedback: 'satisfied' })
  await ticket({ type: 'meal', at: nov(4), state: 'done', doneMin: 120, feedback: 'neutral' })
  await ticket({ type: 'bath', at: nov(6), state: 'dispatched' })
  await ticket({ type: 'medical', at: nov(7), state: 'pending' })
  await ticket({ type: 'repair', at: nov(8), state: 'cancelled' })
  await ticket({ type: 'other', at: nov(9), state: 'done', doneMin: 30, feedback: 'unsatisfied' })
  await ticket({ type: 'meal', at: NOV_START - HOUR, state: 'done', doneMin: 5 }) // 23:00 on 31 October
  await ticket({ type: 'meal', at: NOV_END + DAY, state: 'pending' }) // December's

  // ---- December: a household and a device added after November are not November's ----
  clock.set(NOV_END + 3 * HOUR)
  const token = await admin()
  const late = await p.api<{ id: string }>('POST', '/api/households', { communityId: a.communityId, elderName: '十二月老人', address: '梅园 9 号' }, token)
  expect(late.status).toBe(201)
  expect((await p.api('POST', '/api/devices', { id: `btn-late-${Date.now().toString(36)}`, householdId: late.body.id, kind: 'button' }, token)).status).toBe(201)
  tokens.set('admin', token)
  tokens.set('op-a', await operator('op-a'))
  const planner = async (fx: Fixture) => {
    const items = (await p.api<{ items: { id: string; source: string; state: string; dueAt: number }[] }>('GET', `/api/visits?month=2026-11&communityId=${fx.communityId}`, undefined, token)).body.items
    const made = items.filter((x) => !/^vis-\d+$/.test(x.id))
    for (const x of made) expect(x).toMatchObject({ source: 'plan', state: 'planned' })
    for (const x of made) expect(x.dueAt >= NOV_START && x.dueAt < NOV_END).toBe(true)
    return made.length
  }
  plannedA = await planner(a)
  plannedB = await planner(b)
  // One a month for each household of A (two) and of B (one): elders under 80 with no findings.
  expect([plannedA, plannedB]).toEqual([2, 1])
}, 60_000)
afterAll(() => p.close())

const get = <T = MonthlyReport>(path: string, who = 'admin') => p.api<T>('GET', path, undefined, tokens.get(who))
const row = (r: MonthlyReport, key: string, first: string) => r.sections.find((s) => s.key === key)!.rows.find((cells) => cells[0] === first)!

describe('the monthly report of a community', () => {
  it('gives the known November figures, and they agree with the incidents the API lists', async () => {
    const res = await get(`/api/reports/monthly?month=2026-11&communityId=${a.communityId}`)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const r = res.body
    expect(r.period).toEqual({ start: NOV_START, end: NOV_END, timeZone: 'Asia/Shanghai' })
    expect(r.partial).toBe(false)
    expect(r.coverage).toEqual({ households: 2, elders: 2, householdsWithDevice: 1, householdsWithoutDevice: 1 })
    // the button was heard at 00:00 on 1 December (3 h before the report); the water meter never
    expect(r.devices).toMatchObject({ installed: 2, heardLast24h: 1, neverHeard: 1, onlineRate: 0.5 })

    // waits 20, 30, 45, 90, 300: median 45, p90 300 (nearest rank), 3 of 5 within 60 s; the test is left out
    expect(r.alarms).toMatchObject({ total: 6, tests: 1, cancelledByResident: 1, ack: { counted: 5, medianAckS: 45, p90AckS: 300, within60sShare: 0.6 } })
    expect(r.alarms.byType.map((x) => [x.type, x.total])).toEqual([['sos', 5], ['fall', 1], ['smoke', 0], ['gas', 0]])
    expect(r.alarms.byType.find((x) => x.type === 'gas')).toMatchObject({ counted: 0, medianAckS: null, within60sShare: null })
    expect(r.alarms.byType.find((x) => x.type === 'sos')).toMatchObject({ counted: 4, medianAckS: 30, p90AckS: 300, within60sShare: 0.5 })

    // against the store, through the API: November's emergencies of A and their answers
    const listed = (await get<{ category: string; type: string; openedAt: number; acknowledgedAt: number | null; outcome: string | null }[]>(`/api/incidents?communityId=${a.communityId}&limit=1000`)).body
    const november = listed.filter((i) => i.openedAt >= NOV_START && i.openedAt < NOV_END)
    const emergencies = november.filter((i) => i.category === 'emergency')
    expect(emergencies).toHaveLength(r.alarms.total)
    const waits = emergencies.filter((i) => i.outcome !== 'test').map((i) => (i.acknowledgedAt! - i.openedAt) / 1000).sort((x, y) => x - y)
    expect(waits).toEqual([20, 30, 45, 90, 300])
    expect(r.alarms.ack.medianAckS).toBe(waits[2])
    const byCategory = new Map<string, number>()
    for (const i of november) byCategory.set(i.category, (byCategory.get(i.category) ?? 0) + 1)
    expect(Object.fromEntries(r.outcomes.map((o) => [o.category, o.total]))).toEqual(Object.fromEntries(byCategory))
    // the old green-button incident is no alarm, but its outcome is counted under its own category
    expect(r.outcomes.find((o) => o.category === 'service')?.total).toBe(1)
    expect(r.outcomes.find((o) => o.category === 'emergency')?.byOutcome).toEqual({ emergency_handled: 2, false_alarm: 2, resolved_by_phone: 1, test: 1 })
    expect(r.wellbeing).toEqual({ total: 1, byType: [{ type: 'no_water_day', byOutcome: { settled_by_family: 1 }, total: 1 }] })

    // The test's own five, and the planner's still pending (overdue at the month's end).
    const n = plannedA
    expect(r.visits).toMatchObject({ due: 5 + n, done: 4, seen: 3, notSeen: 1, pending: 1 + n, cancelled: 1, overdueAtMonthEnd: 3 + n, doneShare: 4 / (5 + n) })
    expect(r.visits.bySource).toEqual([
      { source: 'plan', due: 4 + n, seen: 2, notSeen: 1, pending: 1 + n, cancelled: 1, overdueAtMonthEnd: 3 + n },
      { source: 'incident', due: 1, seen: 1, notSeen: 0, pending: 0, cancelled: 0, overdueAtMonthEnd: 0 },
    ])
    expect(r.tickets).toMatchObject({
      total: 6,
      byState: { pending: 1, dispatched: 1, done: 3, cancelled: 1 },
      completionRate: 0.6,
      medianCompleteMin: 60,
      feedback: { satisfied: 1, neutral: 1, unsatisfied: 1, none: 3 },
    })
    expect(r.tickets.byType.map((x) => [x.type, x.total])).toEqual([['meal', 2], ['bath', 1], ['medical', 1], ['repair', 1], ['other', 1]])
    expect(row(r, 'overview', '覆盖住户')).toEqual(['覆盖住户', 2])
  })

  it('counts by local month: 23:59 on the last day is November, 00:00 the next day December', async () => {
    const dec = (await get(`/api/reports/monthly?month=2026-12&communityId=${a.communityId}`)).body
    expect(dec.partial).toBe(true)
    expect(dec.alarms).toMatchObject({ total: 1, ack: { counted: 1, medianAckS: 5, within60sShare: 1 } })
    expect(dec.coverage.households).toBe(3)
    const oct = (await get(`/api/reports/monthly?month=2026-10&communityId=${a.communityId}`)).body
    expect(oct.alarms.total).toBe(0)
    expect(oct.tickets).toMatchObject({ total: 1, medianCompleteMin: 5 })
    // A was created in November: no households yet at October's end
    expect(oct.coverage.households).toBe(0)
  })
})

describe('the street report and who may see it', () => {
  it('covers every community of the street for an admin, and only their own for an operator', async () => {
    const street = encodeURIComponent(STREET)
    const all = (await get(`/api/reports/monthly?month=2026-11&street=${street}`)).body
    expect(all.scope).toMatchObject({ kind: 'street', name: STREET })
    expect(all.scope.communities.map((x) => x.name).sort()).toEqual(['兰亭社区', '梅园社区'].sort())
    // 20, 30, 45, 90, 100, 300: median 45 (3rd), p90 300, 3 of 6 within 60 s; 竹林 is on another street
    expect(all.alarms.ack).toEqual({ counted: 6, medianAckS: 45, p90AckS: 300, within60sShare: 0.5 })
    expect(all.visits.due).toBe(5 + plannedA + plannedB)

    const own = await get(`/api/reports/monthly?month=2026-11&street=${street}`, 'op-a')
    expect(own.status).toBe(200)
    expect(own.body.scope.communities).toEqual([{ id: a.communityId, name: '梅园社区' }])
    expect(own.body.alarms.ack.counted).toBe(5)
  })

  it('answers 404 for a community or a street the operator does not serve, 401 without a login', async () => {
    expect((await get(`/api/reports/monthly?month=2026-11&communityId=${b.communityId}`, 'op-a')).status).toBe(404)
    expect((await get(`/api/reports/monthly.xlsx?month=2026-11&communityId=${b.communityId}`, 'op-a')).status).toBe(404)
    expect((await get(`/api/reports/monthly?month=2026-11&street=${encodeURIComponent('别的街道')}`, 'op-a')).status).toBe(404)
    expect((await get(`/api/reports/monthly?month=2026-11&communityId=no-such-community`)).status).toBe(404)
    expect((await fetch(`${p.httpUrl}/api/reports/monthly?month=2026-11&communityId=${a.communityId}`)).status).toBe(401)
  })

  it('refuses a bad month, a month not yet begun, and a query with neither or both scopes (400)', async () => {
    for (const month of ['2026-13', '2026-00', 'november', '2026-1', '2027-01']) {
      const res = await get<{ error: string; message: string }>(`/api/reports/monthly?month=${month}&communityId=${a.communityId}`)
      expect(res.status, month).toBe(400)
      expect(res.body.error).toBe('VALIDATION')
      expect(res.body.message).toContain('month')
    }
    expect((await get(`/api/reports/monthly?month=2026-11`)).status).toBe(400)
    expect((await get(`/api/reports/monthly?month=2026-11&communityId=${a.communityId}&street=x`)).status).toBe(400)
  })
})

/** A row's cells with empty ones as null and none trailing (exceljs leaves empty cells out). */
const trimmed = (cells: readonly unknown[]) => {
  const out = Array.from(cells, (x) => x ?? null)
  while (out.length && out[out.length - 1] === null) out.pop()
  return out
}

describe('the .xlsx download', () => {
  it('is a workbook with one sheet per section, Chinese headers and the same figures as numbers', async () => {
    const res = await fetch(`${p.httpUrl}/api/reports/monthly.xlsx?month=2026-11&communityId=${a.communityId}`, { headers: { authorization: `Bearer ${tokens.get('admin')}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('spreadsheetml')
    const disposition = res.headers.get('content-disposition')!
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent('安居月报-梅园社区-2026-11.xlsx')}`)
    expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]+"/)

    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as never)
    expect(wb.worksheets.map((s) => s.name)).toEqual(['概况', '设备', '报警', '事件结果', '关怀发现', '探访', '服务工单'])
    const json = (await get(`/api/reports/monthly?month=2026-11&communityId=${a.communityId}`)).body

    /** The sheet's rows under its header, as values. */
    const table = (name: string) => {
      const ws = wb.getWorksheet(name)!
      const rows: unknown[][] = []
      ws.eachRow((r) => rows.push((r.values as unknown[]).slice(1)))
      return rows
    }
    const alarms = table('报警')
    expect(String(alarms[0]![0])).toContain('梅园社区 2026年11月')
    expect(alarms[2]).toEqual(['报警类型', '报警数', '测试报警', '居民取消', '计入接警用时的报警', '接警用时中位数(秒)', '接警用时 90 分位(秒)', '60 秒内接警占比'])
    const total = alarms.find((r) => r[0] === '合计')!
    expect(total).toEqual(['合计', 6, 1, 1, 5, 45, 300, 0.6])
    expect(wb.getWorksheet('报警')!.getRow(alarms.indexOf(total) + 1).getCell(8).numFmt).toBe('0.0%')

    // every section's table is the JSON's, cell for cell, numbers as numbers
    for (const s of json.sections) {
      const rows = table(s.title.zh)
      expect(rows[2], s.key).toEqual(s.columns.map((c) => c.label.zh))
      const body = rows.slice(3, 3 + s.rows.length).map(trimmed)
      expect(body, s.key).toEqual(s.rows.map(trimmed))
    }
    const overview = table('概况')
    expect(overview.find((r) => r[0] === '覆盖住户')).toEqual(['覆盖住户', 2])
    expect(overview.find((r) => r[0] === '设备在线率')).toEqual(['设备在线率', 0.5])
    const tickets = table('服务工单')
    expect(tickets.find((r) => r[0] === '合计')).toEqual(['合计', 1, 1, 3, 1, 6])
    expect(tickets.find((r) => r[0] === '完成用时中位数(分钟)')).toEqual(['完成用时中位数(分钟)', 60])
    const visits = table('探访')
    expect(visits.find((r) => r[0] === '合计')).toEqual(['合计', 5 + plannedA, 3, 1, 1 + plannedA, 1, 3 + plannedA])
  })
})

describe('the demo district', () => {
  it('has last month to report on at first start: the district registered, a dozen alarms acknowledged, two findings', async () => {
    const start = Date.UTC(2026, 2, 1, 2) // 1 March, 10:00 in Shanghai: last month is February
    const demo = await startPlatform({ env: { ANJU_DEMO: 'true', ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(start) } })
    try {
      const res = await demo.api<MonthlyReport>('GET', `/api/reports/monthly?month=2026-02&street=${encodeURIComponent('新华路街道')}`)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      const r = res.body
      expect(r.coverage).toMatchObject({ households: 6, householdsWithDevice: 6 })
      expect(r.devices.installed).toBe(18)
      // 19 22 24 27 31 35 41 48 56 75 150 s (the test press left out): median 35, p90 75, 9 of 11 within 60 s
      expect(r.alarms).toMatchObject({ total: 12, tests: 1, cancelledByResident: 2, ack: { counted: 11, medianAckS: 35, p90AckS: 75, within60sShare: 9 / 11 } })
      expect(r.wellbeing.total).toBe(2)
      // the trail of each is there for the console, acknowledged by the community's operator
      const listed = (await demo.api<{ id: string; category: string; acknowledgedBy: string | null; openedAt: number }[]>('GET', '/api/incidents?state=resolved&limit=1000')).body
      const alarms = listed.filter((i) => i.category === 'emergency' && i.openedAt >= r.period.start && i.openedAt < r.period.end)
      expect(alarms).toHaveLength(12)
      expect(new Set(alarms.map((i) => i.acknowledgedBy))).toEqual(new Set(['user:op-meiyuan', 'user:op-lanting']))
      const trail = (await demo.api<{ events: { kind: string }[] }>('GET', `/api/incidents/${alarms[0]!.id}`)).body.events.map((e) => e.kind)
      expect(trail[0]).toBe('opened')
      expect(trail.slice(-2)).toEqual(['acknowledged', 'resolved'])
    } finally {
      await demo.close()
    }
  })
})
