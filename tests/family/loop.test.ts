/**
 * Family answers as a closed loop (docs/operations.md §family), in the running platform on a
 * virtual clock: 我去看看 marks the incident 家属前往中 but leaves it — and its ladder — with the
 * operators; 已到达 closes the loop; no arrival in time alerts a real operator console again; a
 * wellbeing incident is settled by the family only where the community allows it; the day's
 * acknowledgement figures count operators only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { virtualClock, type VirtualClock } from '../../src/shared/clock.js'
import { connectDevice, connectOperator, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const T0 = Date.UTC(2026, 10, 23, 2, 0, 0) // 10:00 in Shanghai
const MIN = 60_000
/** Generous: the suite must pass while both cores are busy (a platform start on PostgreSQL takes seconds then). */
const TIMEOUT = 180_000
type Json = Record<string, any>

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

async function setUp(opts: { family?: Json; dir?: string; clock?: VirtualClock } = {}) {
  const clock = opts.clock ?? virtualClock(T0)
  const p = await startPlatform({ clock, ...(opts.dir ? { dir: opts.dir } : {}), env: { ANJU_SESSION_TTL_HOURS: '2000' } })
  cleanups.push(() => p.close())
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道', routing: opts.family ? { family: opts.family } : null })
  const { body: h } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '3号楼 201室' })
  const { body: contact } = await p.api<{ id: string }>('POST', `/api/households/${h.id}/contacts`, { name: '李明', relation: '子女', phone: '13900000001' })
  const { body: link } = await p.api<{ token: string }>('POST', `/api/households/${h.id}/contacts/${contact.id}/family-link`)
  const { body: d } = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: `btn-l${Math.random().toString(36).slice(2, 8)}`, householdId: h.id, kind: 'button' })
  return { p, clock, communityId: c.id, householdId: h.id, contactId: contact.id, token: link.token, device: d }
}
type Env = Awaited<ReturnType<typeof setUp>>

async function sos(env: Env): Promise<string> {
  const device = await connectDevice(env.p, env.device)
  cleanups.push(() => void device.end(true))
  await publish(device, deviceTopic(env.device.id, 'alarm'), { id: `a-${Math.random()}`, type: 'sos' })
  await env.p.app.routing.settle()
  const list = (await env.p.api<Json[]>('GET', `/api/incidents?state=active&communityId=${env.communityId}`)).body
  return list.find((i) => i.type === 'sos')!.id
}

/** A detector's finding (长时间无活动) opens a wellbeing incident, as the activity detector would. */
async function inactivity(env: Env): Promise<string> {
  const [change] = await env.p.app.incidents.recordFindings(env.communityId, [
    { change: 'raised', householdId: env.householdId, at: env.clock.now(), condition: { key: 'inactivity', kind: 'inactivity', explanation: { zh: '5 小时没有活动', en: 'no activity for 5 h' }, data: {} } },
  ])
  await env.p.app.routing.settle()
  return change!.incident.id
}

/** Moves the virtual clock a minute at a time, letting each minute's ladder steps and arrival checks finish. */
async function advance(env: Env, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += MIN) {
    env.clock.advance(Math.min(MIN, ms - done))
    await env.p.app.routing.settle()
    await env.p.app.familyWatch.settle()
    await env.p.app.outbox.idle()
  }
}

const answer = (env: Env, id: string, a: string, token = env.token) => env.p.api<Json>('POST', `/api/incidents/${id}/family-response`, { token, answer: a })
const incident = async (p: TestPlatform, id: string) => (await p.api<Json>('GET', `/api/incidents/${id}`)).body

/** A real operator console that also records `incident:alert`. */
async function operator(p: TestPlatform) {
  const op = await connectOperator(p, p.adminToken)
  cleanups.push(op.close)
  const alerts: { incidentId: string; step: string }[] = []
  op.socket.on('incident:alert', (a: { incidentId: string; step: string }) => alerts.push(a))
  return { ...op, alerts }
}

describe('我去看看', () => {
  it('marks the SOS 家属前往中 without acknowledging it: it stays open, its ladder climbs, and 已到达 is recorded', async () => {
    const env = await setUp({ family: { maySettleWellbeing: true } })
    const op = await operator(env.p)
    const id = await sos(env)

    const going = await answer(env, id, 'on_my_way')
    expect(going).toMatchObject({ status: 200, body: { state: 'open', familyState: 'en_route' } })
    await op.pushed((v, trail) => v.id === id && trail.some((e) => e.kind === 'family_en_route'), 5000, '家属前往中 on the console')
    const after = await incident(env.p, id)
    expect(after).toMatchObject({
      state: 'open',
      acknowledgedAt: null,
      acknowledgedBy: null,
      familyResponse: { contactName: '李明', relation: '子女', state: 'en_route', since: T0, dueAt: T0 + 30 * MIN, arrivedAt: null },
    })
    expect(after.events.at(-1)).toMatchObject({ kind: 'family_en_route', actor: 'family:李明', detail: { answer: 'on_my_way', text: { zh: '我去看看' } } })
    await env.p.app.routing.settle()
    expect(await env.p.app.routing.nextStep(id)).toMatchObject({ stopped: false })

    // The supervisor tier still comes at 60 s: the family going is no reason for the operators to wait.
    await advance(env, 2 * MIN)
    const climbed = await incident(env.p, id)
    expect(climbed.events.filter((e: Json) => e.kind === 'escalated').map((e: Json) => e.detail.step)).toEqual(['stage-0', 'stage-1'])
    expect(climbed.state).toBe('open')

    // 已到达,老人平安 on an SOS: recorded, and it stays with the operators whatever the policy.
    env.clock.advance(5 * MIN)
    const there = await answer(env, id, 'arrived_safe')
    expect(there).toMatchObject({ status: 200, body: { state: 'open', familyState: 'arrived' } })
    await op.pushed((v, trail) => v.id === id && trail.some((e) => e.kind === 'family_arrived'), 5000, '家属已到达 on the console')
    const arrived = await incident(env.p, id)
    expect(arrived).toMatchObject({ state: 'open', acknowledgedAt: null, familyResponse: { state: 'arrived', since: T0, arrivedAt: T0 + 7 * MIN, dueAt: null } })
    expect(arrived.events.at(-1)).toMatchObject({ kind: 'family_arrived', detail: { safe: true } })
    // The family view shows it too.
    const view = (await env.p.api<Json>('GET', `/api/family/overview?t=${encodeURIComponent(env.token)}`)).body
    expect(view.incidents[0]).toMatchObject({ id, state: 'open', handledBy: null, familyResponse: { by: '李明', state: 'arrived', arrivedAt: T0 + 7 * MIN } })

    // No alert for an arrival that came: past the 30 minutes, nothing is overdue.
    await advance(env, 25 * MIN)
    expect((await incident(env.p, id)).events.some((e: Json) => e.kind === 'family_overdue')).toBe(false)
    expect(op.alerts.filter((a) => a.step === 'family_overdue')).toEqual([])

    // The operator takes it and closes it, as before.
    expect((await env.p.api('POST', `/api/incidents/${id}/acknowledge`)).status).toBe(200)
    expect((await env.p.api('POST', `/api/incidents/${id}/resolve`, { outcome: 'emergency_handled' })).status).toBe(200)
    expect(await answer(env, id, 'arrived')).toMatchObject({ status: 409, body: { message: expect.stringContaining('已经处理完毕') } })
  }, TIMEOUT)

  it('with no arrival in 30 minutes, marks 家属未按时到达 and alerts the operator console again', async () => {
    const env = await setUp()
    const op = await operator(env.p)
    const id = await sos(env)
    expect((await answer(env, id, 'on_my_way')).status).toBe(200)

    await advance(env, 29 * MIN)
    expect((await incident(env.p, id)).familyResponse.state).toBe('en_route')
    expect(op.alerts.filter((a) => a.step === 'family_overdue')).toEqual([])

    await advance(env, 1 * MIN)
    await waitFor(() => op.alerts.some((a) => a.incidentId === id && a.step === 'family_overdue'), 5000, 'the re-alert on the console')
    const late = await incident(env.p, id)
    expect(late).toMatchObject({ state: 'open', priority: 1, familyResponse: { state: 'overdue', dueAt: T0 + 30 * MIN } })
    expect(late.events.find((e: Json) => e.kind === 'family_overdue')).toMatchObject({ actor: 'system:family-watch', at: T0 + 30 * MIN, detail: { contact: '李明', text: { zh: '家属 李明 30 分钟内未确认到达' } } })
    // Once: it does not repeat every minute.
    await advance(env, 5 * MIN)
    expect((await incident(env.p, id)).events.filter((e: Json) => e.kind === 'family_overdue')).toHaveLength(1)

    // A late arrival still closes the loop.
    expect(await answer(env, id, 'arrived')).toMatchObject({ status: 200, body: { familyState: 'arrived' } })
  }, TIMEOUT)

  it('takes the time from the community (validated), re-alerts an acknowledged incident too, and survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anju-loop-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const clock = virtualClock(T0)
    const env = await setUp({ dir, clock })
    // Bad settings are refused and change nothing.
    for (const bad of [0, 4, 241, 12.5, '30']) {
      const refused = await env.p.api<Json>('PATCH', `/api/communities/${env.communityId}`, { routing: { family: { arriveWithinMin: bad } } })
      expect(refused.status, String(bad)).toBe(400)
    }
    expect((await env.p.api<Json>('GET', `/api/communities/${env.communityId}`)).body.routing).toBeNull()
    expect((await env.p.api('PATCH', `/api/communities/${env.communityId}`, { routing: { family: { arriveWithinMin: 10 } } })).status).toBe(200)

    const id = await inactivity(env)
    expect((await env.p.api('POST', `/api/incidents/${id}/acknowledge`)).status).toBe(200)
    expect(await answer(env, id, 'on_my_way')).toMatchObject({ status: 200, body: { state: 'acknowledged', familyState: 'en_route' } })
    expect((await incident(env.p, id)).familyResponse.dueAt).toBe(T0 + 10 * MIN)

    // Down across the due time: the next start finds the arrival overdue and says so at once.
    await env.p.close() // (its cleanup closes it again, harmlessly)
    clock.advance(15 * MIN)
    const second = await startPlatform({ clock, dir, env: { ANJU_SESSION_TTL_HOURS: '2000' } })
    cleanups.push(() => second.close())
    const op = await operator(second)
    clock.advance(0) // the virtual clock runs the timers already due
    await second.app.familyWatch.settle()
    await waitFor(() => op.alerts.some((a) => a.incidentId === id && a.step === 'family_overdue'), 10_000, 'the re-alert after the restart')
    const late = await incident(second, id)
    // A wellbeing incident is raised to high priority, so it sounds; the operator who took it still has it.
    expect(late).toMatchObject({ state: 'acknowledged', priority: 2, familyResponse: { state: 'overdue' } })
    expect(late.events.find((e: Json) => e.kind === 'family_overdue').detail.text.zh).toBe('家属 李明 10 分钟内未确认到达')
  }, TIMEOUT)
})

describe('a wellbeing incident settled by the family', () => {
  it('stays with the operators when the community does not allow it (the default)', async () => {
    const env = await setUp()
    const id = await inactivity(env)
    expect(await answer(env, id, 'on_my_way')).toMatchObject({ status: 200, body: { state: 'open' } })
    expect(await answer(env, id, 'arrived_safe')).toMatchObject({ status: 200, body: { state: 'open', familyState: 'arrived' } })
    expect(await answer(env, id, 'called_fine')).toMatchObject({ status: 200, body: { state: 'open' } })
    const still = await incident(env.p, id)
    expect(still).toMatchObject({ state: 'open', outcome: null, resolvedBy: null })
    expect(await env.p.app.routing.nextStep(id)).toMatchObject({ stopped: false })
  }, TIMEOUT)

  it('is closed by 已到达,老人平安 or 已电话联系,老人平安 where the community allows it, with a family outcome and no acknowledgement', async () => {
    const env = await setUp({ family: { maySettleWellbeing: true } })
    const op = await operator(env.p)
    const first = await inactivity(env)
    expect(await answer(env, first, 'on_my_way')).toMatchObject({ status: 200, body: { state: 'open' } })
    env.clock.advance(12 * MIN)
    // 已到达 alone says nothing about her: it stays open.
    expect(await answer(env, first, 'arrived')).toMatchObject({ status: 200, body: { state: 'open', familyState: 'arrived' } })
    expect(await answer(env, first, 'arrived_safe')).toMatchObject({ status: 200, body: { state: 'resolved', familyState: 'arrived' } })
    await op.pushed((v) => v.id === first && v.state === 'resolved', 5000, 'the settled incident on the console')
    const settled = await incident(env.p, first)
    expect(settled).toMatchObject({ state: 'resolved', outcome: 'settled_by_family', resolvedBy: 'family:李明', acknowledgedAt: null, acknowledgedBy: null })
    const own = settled.events.filter((e: Json) => e.kind !== 'escalated' && e.kind !== 'notification')
    expect(own.slice(-2).map((e: Json) => [e.kind, e.actor])).toEqual([['family_arrived', 'family:李明'], ['resolved', 'family:李明']])
    await env.p.app.routing.settle()
    expect(await env.p.app.routing.nextStep(first)).toMatchObject({ stopped: true })

    const second = await inactivity(env)
    expect(await answer(env, second, 'called_fine')).toMatchObject({ status: 200, body: { state: 'resolved', familyState: null } })
    expect(await incident(env.p, second)).toMatchObject({ outcome: 'settled_by_family', resolvedBy: 'family:李明' })
    const view = (await env.p.api<Json>('GET', `/api/family/overview?t=${encodeURIComponent(env.token)}`)).body
    expect(view.incidents.find((i: Json) => i.id === second)).toMatchObject({ state: 'resolved', handledBy: '李明', handledByKind: 'family', answerable: false })
  }, TIMEOUT)
})

describe('statistics', () => {
  it("count operator acknowledgements only: a family answer is not one", async () => {
    const env = await setUp({ family: { maySettleWellbeing: true } })
    const id = await sos(env)
    const wellbeing = await inactivity(env)
    env.clock.advance(20_000)
    expect((await answer(env, id, 'on_my_way')).status).toBe(200)
    expect((await answer(env, wellbeing, 'called_fine')).body.state).toBe('resolved')
    const level = async () => (await env.p.api<Json>('GET', `/api/incidents/service-level?communityId=${env.communityId}`)).body
    expect(await level()).toMatchObject({ open: 1, acknowledgedToday: 0, medianAckS: null, within60sShare: null })
    env.clock.advance(20_000)
    expect((await env.p.api('POST', `/api/incidents/${id}/acknowledge`)).status).toBe(200)
    expect(await level()).toMatchObject({ open: 0, acknowledgedToday: 1, medianAckS: 40, within60sShare: 1 })
  }, TIMEOUT)
})

describe('family links that do not work', () => {
  it('get a clear Chinese error and change nothing', async () => {
    const env = await setUp()
    const id = await sos(env)
    const expired = env.p.app.links.viewToken({ householdId: env.householdId, contactId: env.contactId, expiresAt: env.clock.now() - 1, version: 0 })
    expect(await answer(env, id, 'on_my_way', expired)).toMatchObject({ status: 403, body: { message: expect.stringMatching(/^链接已过期/) } })
    const [body, mac] = env.token.split('.')
    expect(await answer(env, id, 'on_my_way', `${body}.${mac!.slice(1)}x`)).toMatchObject({ status: 403, body: { message: expect.stringMatching(/^链接无效/) } })
    expect(await answer(env, id, 'on_the_moon')).toMatchObject({ status: 400 })
    const after = await incident(env.p, id)
    expect(after).toMatchObject({ state: 'open', familyResponse: null })
    expect(after.events.some((e: Json) => e.kind.startsWith('family_'))).toBe(false)
  }, TIMEOUT)
})
