/**
 * Triage in a real browser, on the platform's virtual clock (docs/operations.md §triage): the
 * queue puts an unanswered fall 534 s past its target above an acknowledged SOS and says 已超时
 * 08:54; the service strip turns 未达标 while the fall waits, before anyone acknowledges it; the
 * banner holds one entry per unanswered incident, names a care alert honestly and clears when the
 * incident is handled; the queue pages through hundreds; a session warns before its end, and when
 * it ends anyway the console turns red and sounds instead of going quiet. Screenshots in
 * test-artifacts/triage-*.png.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../../src/contract/index.js'
import { virtualClock } from '../../../src/shared/clock.js'
import { connectDevice, createOperator, provision, publish, waitFor, type Fixture, type TestPlatform } from '../../helpers/platform.js'
import { axeViolations, logIn, shot as harnessShot, startHarness, type Harness } from './harness.js'

const PASSWORD = 'operator-password'
const T0 = Date.UTC(2026, 0, 5, 1) // 09:00 in Asia/Shanghai: the local day does not turn before the session test
const HOUR = 3_600_000
// The console reads the platform's time every 10 s (/api/session) and the service level as often.
const SYNC = { timeout: 45_000 }
// Busy machine: every other wait is generous too (expect.poll's default is one second).
const WAIT = { timeout: 20_000 }

let h: Harness
let p: TestPlatform
let site: Harness['site']
let browser: Browser
const clock = virtualClock(T0)
const cleanups: (() => unknown)[] = []

beforeAll(async () => {
  h = await startHarness()
  browser = h.browser
  ;({ p, site } = await h.another({ clock }))
}, 120_000)

afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!()
  await h?.close()
}, 120_000)

const shot = (page: Page, name: string) => harnessShot(page, `triage-${name}`)

/** Each test closes its page when done (`done`): the machine is shared, and an open console ticks every second. */
const pages: { page: Page; errors: string[]; username: string }[] = []
async function done(): Promise<void> {
  for (const { page, errors, username } of pages.splice(0)) {
    await page.context().close()
    expect(errors, `page errors of ${username}`).toEqual([])
  }
}

async function openConsole(username: string): Promise<Page> {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } })
  cleanups.push(() => context.close().catch(() => {}))
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  pages.push({ page, errors, username })
  return logIn(page, site.url, username, PASSWORD)
}

async function press(fx: Fixture, id: string, type: 'sos' | 'fall'): Promise<string> {
  const button = await connectDevice(p, fx.device)
  await publish(button, deviceTopic(fx.device.id, 'alarm'), { id, type })
  await button.endAsync()
  let incidentId = ''
  await waitFor(async () => {
    const list = (await p.api<{ id: string; householdId: string }[]>('GET', '/api/incidents?state=active')).body
    incidentId = list.find((i) => i.householdId === fx.householdId)?.id ?? ''
    return Boolean(incidentId)
  }, 5000, `the ${type}`)
  return incidentId
}

const entry = (page: Page, id: string) => page.locator(`[data-testid="banner-entry"][data-incident-id="${id}"]`)
const rowOf = (page: Page, id: string) => page.locator(`[data-testid="incident-row"][data-incident-id="${id}"]`)

describe('triage in the operator console', () => {
  let community = ''

  it('puts an unanswered overdue fall above an acknowledged SOS, says 已超时 in minutes, and turns the strip 未达标 before anyone acknowledges it', async () => {
    const a = await provision(p)
    community = a.communityId
    const b = await provision(p, { communityId: community })
    await createOperator(p, 'op-t', [community])
    const page = await openConsole('op-t')

    const sos = await press(a, 'sos-t1', 'sos')
    await entry(page, sos).waitFor()
    expect(await entry(page, sos).getAttribute('data-kind')).toBe('emergency')
    expect(await entry(page, sos).textContent()).toContain('紧急呼叫')
    // another operator (the admin) answers it at once: its banner entry goes, by the push
    expect((await p.api('POST', `/api/incidents/${sos}/acknowledge`)).status).toBe(200)
    await expect.poll(() => rowOf(page, sos).getAttribute('data-state'), WAIT).toBe('acknowledged')
    await expect.poll(() => entry(page, sos).count(), WAIT).toBe(0)

    const fall = await press(b, 'fall-t1', 'fall')
    await entry(page, fall).waitFor()
    clock.advance(594_000) // 534 s past the 60 s target, nobody has answered

    const rows = page.getByTestId('incident-row')
    await expect.poll(() => rows.count(), WAIT).toBe(2)
    expect(await rows.first().getAttribute('data-incident-id')).toBe(fall)
    expect(await rows.nth(1).getAttribute('data-incident-id')).toBe(sos)
    // the row reads the platform's clock: minutes and seconds past the target, and its age
    await expect.poll(() => rowOf(page, fall).getByTestId('target').textContent(), SYNC).toMatch(/^\s*已超时 (08:5\d|09:\d\d)\s*$/)
    expect(await rowOf(page, fall).getAttribute('data-band')).toBe('overdue')
    expect(await rowOf(page, fall).getByTestId('age').textContent()).toMatch(/已持续 (09:5\d|1\d:\d\d)/)
    expect(await rowOf(page, sos).getAttribute('data-band')).toBe('none')
    // the strip: the SOS answered in time, the fall a miss while it waits
    await expect.poll(() => page.getByTestId('svc-verdict').textContent(), SYNC).toContain('未达标')
    expect(await page.getByTestId('svc-share').textContent()).toBe('50.0 %')
    expect(await page.getByTestId('svc-share').getAttribute('data-meets')).toBe('false')
    expect(await page.getByTestId('svc-missed').textContent()).toContain('超时 1 起')
    expect(await page.getByTestId('svc-missed').textContent()).toContain('其中 1 起仍未接警')
    await shot(page, 'order-overdue')
    expect(await axeViolations(page)).toEqual([])

    // long overdue past ten minutes
    clock.advance(60_000)
    await expect.poll(() => rowOf(page, fall).getAttribute('data-band'), SYNC).toBe('long')
    await expect.poll(() => rowOf(page, fall).getByTestId('target').textContent(), WAIT).toContain('严重超时')

    // answered here: both are acknowledged now (priority first: the SOS), and the banner empties
    await rowOf(page, fall).getByTestId('ack-button').click()
    await expect.poll(() => rowOf(page, fall).getAttribute('data-state'), WAIT).toBe('acknowledged')
    await expect.poll(() => page.getByTestId('banner').count(), WAIT).toBe(0)
    expect(await rows.first().getAttribute('data-incident-id')).toBe(sos)
    // still a miss after the acknowledgement
    await expect.poll(() => page.getByTestId('svc-verdict').textContent(), SYNC).toContain('未达标')
    for (const id of [sos, fall]) expect((await p.api('POST', `/api/incidents/${id}/resolve`, { outcome: 'test' })).status).toBe(200)
    await page.getByTestId('empty-queue').waitFor()
    await done()
  }, 120_000)

  it('names a care alert honestly in the banner, selects its incident on a click, and clears it when handled', async () => {
    const c = await provision(p, { communityId: community })
    const d = await provision(p, { communityId: community })
    const page = await openConsole('op-t')
    const sos = await press(d, 'sos-t2', 'sos')
    await p.app.incidents.recordFindings(community, [{
      change: 'raised', householdId: c.householdId, at: clock.now(),
      condition: { key: 'continuous_flow', kind: 'continuous_flow', explanation: { zh: '水已连续流 45 分钟', en: 'water running for 45 min' }, data: {} },
    }])
    const care = (await p.api<{ id: string; householdId: string }[]>('GET', '/api/incidents?state=active')).body.find((i) => i.householdId === c.householdId)!.id
    await entry(page, care).waitFor()
    await entry(page, sos).waitFor()
    expect(await entry(page, care).getAttribute('data-kind')).toBe('care')
    const careText = (await entry(page, care).textContent())!
    expect(careText).toContain('需关注')
    expect(careText).toContain('持续用水')
    expect(careText).not.toContain('紧急')
    expect(await page.getByTestId('banner').textContent()).not.toContain('新紧急事件')
    await shot(page, 'banner-care')

    await entry(page, care).click()
    await expect.poll(() => rowOf(page, care).getAttribute('class'), WAIT).toContain('selected')
    await page.getByTestId('event-trail').waitFor()

    // handled by someone else: each entry leaves on its own incident's push
    expect((await p.api('POST', `/api/incidents/${sos}/acknowledge`)).status).toBe(200)
    await expect.poll(() => entry(page, sos).count(), WAIT).toBe(0)
    expect(await entry(page, care).count()).toBe(1)
    expect((await p.api('POST', `/api/incidents/${care}/acknowledge`)).status).toBe(200)
    expect((await p.api('POST', `/api/incidents/${care}/resolve`, { outcome: 'resolved_by_phone' })).status).toBe(200)
    await expect.poll(() => page.getByTestId('banner').count(), WAIT).toBe(0)
    expect((await p.api('POST', `/api/incidents/${sos}/resolve`, { outcome: 'test' })).status).toBe(200)
    await page.getByTestId('empty-queue').waitFor()
    await done()
  }, 120_000)

  it('keeps a queue of hundreds usable: a page of 100, 显示更多, and a filter by state', async () => {
    const N = 160
    const households: string[] = []
    for (let i = 0; i < N; i++) {
      const hh = await p.api<{ id: string }>('POST', '/api/households', { communityId: community, elderName: `住户 ${i}`, address: `测试路 ${i} 号` })
      households.push(hh.body.id)
    }
    await p.app.incidents.recordFindings(community, households.map((householdId) => ({
      change: 'raised' as const, householdId, at: clock.now(),
      condition: { key: 'inactivity', kind: 'inactivity' as const, explanation: { zh: '长时间无活动', en: 'no activity' }, data: {} },
    })))
    const list = (await p.api<{ id: string }[]>('GET', '/api/incidents?state=active&limit=1000')).body
    expect(list.length).toBe(N)
    for (const i of list.slice(0, 30)) expect((await p.api('POST', `/api/incidents/${i.id}/acknowledge`)).status).toBe(200)

    const page = await openConsole('op-t')
    const rows = page.getByTestId('incident-row')
    await expect.poll(() => page.getByTestId('count').textContent(), WAIT).toBe(`(${N})`)
    expect(await rows.count()).toBe(100)
    expect(await page.getByTestId('queue-shown').textContent()).toBe(`显示 100 / 共 ${N} 条`)
    // unanswered first, all the way down the page
    expect(await rows.first().getAttribute('data-state')).toBe('open')
    await page.getByTestId('queue-more').click()
    await expect.poll(() => rows.count(), SYNC).toBe(N)
    expect(await page.getByTestId('queue-more').count()).toBe(0)
    const states = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))
    expect(states.indexOf('acknowledged')).toBe(N - 30)

    await page.getByTestId('queue-filter-acknowledged').click()
    await expect.poll(() => rows.count(), WAIT).toBe(30)
    expect(await page.getByTestId('queue-filter-acknowledged').textContent()).toBe('已接警 30')
    await page.getByTestId('queue-filter-open').click()
    await expect.poll(() => rows.count(), WAIT).toBe(100)
    expect(await page.getByTestId('queue-shown').textContent()).toBe(`显示 100 / 共 ${N - 30} 条`)
    await shot(page, 'queue-paged')
    expect(await axeViolations(page)).toEqual([])
    for (const i of list) {
      if (list.indexOf(i) >= 30) await p.api('POST', `/api/incidents/${i.id}/acknowledge`)
      await p.api('POST', `/api/incidents/${i.id}/resolve`, { outcome: 'test' })
    }
    await page.getByTestId('empty-queue').waitFor({ timeout: 60_000 })
    await done()
  }, 240_000)

  // last: it moves the platform's clock a day on
  it('warns before the session ends (继续值班 renews it), and when it ends anyway turns red and sounds, with the login form under the bar', async () => {
    await createOperator(p, 'op-night', [community])
    const page = await openConsole('op-night')
    const loginAt = clock.now()
    expect(await page.getByTestId('session-warning').count()).toBe(0)

    clock.advance(12 * HOUR - 9 * 60_000) // nine minutes left, nothing done on the console
    await page.getByTestId('session-warning').waitFor(SYNC)
    const warning = (await page.getByTestId('session-warning').textContent())!
    expect(warning).toContain('登录即将过期')
    expect(warning).toMatch(/剩余 0\d:\d\d/)
    expect(warning).toContain('过期后将收不到告警')
    await shot(page, 'session-warning')
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('session-continue').click()
    await page.getByTestId('session-warning').waitFor({ state: 'detached' })

    // the renewed session runs twelve hours from the click; nothing renews it again. At its
    // first end the socket finds it renewed and waits for the new one, which the next step passes.
    clock.advance(12 * HOUR + 60_000)
    await p.app.realtime.settle()
    clock.advance(1)
    await p.app.realtime.settle()
    expect(clock.now()).toBeGreaterThan(loginAt + 24 * HOUR - 10 * 60_000)
    const bar = page.getByTestId('session-expired')
    await bar.waitFor(SYNC)
    expect(await bar.textContent()).toContain('登录已过期,告警已暂停')
    await page.getByTestId('login-username').waitFor()
    expect(await page.getByTestId('login-error').textContent()).toBe('登录已过期,请重新登录。')
    // its own tone keeps sounding, not the alarm's
    const expiredBeeps = () => page.evaluate(() => (window as unknown as { __anjuExpiredBeeps?: number }).__anjuExpiredBeeps ?? 0)
    const first = await expiredBeeps()
    await expect.poll(expiredBeeps, { timeout: 10_000 }).toBeGreaterThan(first + 1)
    await shot(page, 'session-expired')
    expect(await axeViolations(page)).toEqual([])

    // logging in again ends it
    await page.getByTestId('login-username').fill('op-night')
    await page.getByTestId('login-password').fill(PASSWORD)
    await page.getByTestId('login-submit').click()
    await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor()
    expect(await bar.count()).toBe(0)
    expect(await page.evaluate(() => document.body.classList.contains('expired'))).toBe(false)
    await done()
  }, 180_000)
})
