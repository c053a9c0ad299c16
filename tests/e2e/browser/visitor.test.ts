/**
 * The visitor's page (visitor.html, docs/operations.md §visits) on a phone (390×844, touch): log
 * in, today's visits in walking order (the visit the platform asked for first, then building 2,
 * 3, 10), each with its phone to tap; a visit recorded in two taps leaves the list, and a 未见到
 * with a note closes the visit incident with that note. The platform runs on a virtual clock set
 * to the month's last day, so every plan made that day is due today.
 */
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestPlatform } from '../../helpers/platform.js'
import { ADMIN_PASSWORD } from '../../helpers/platform.js'
import { axeViolations, logIn, shot, startHarness, type Harness, type Site } from './harness.js'

// 30 April 2026, 10:00 in Shanghai.
const T0 = Date.UTC(2026, 3, 30, 2)
type Json = Record<string, any>

let h: Harness
let p: TestPlatform
let site: Site
let context: BrowserContext
let page: Page
let incidentId: string
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000 })

async function household(communityId: string, elderName: string, address: string): Promise<string> {
  const r = await p.api<{ id: string }>('POST', '/api/households', { communityId, elderName, address, age: 75, phone: '13800138000' })
  expect(r.status).toBe(201)
  await p.app.visits.settle()
  return r.body.id
}

beforeAll(async () => {
  h = await startHarness()
  ;({ p, site } = await h.another({ env: { ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(T0), ANJU_SESSION_TTL_HOURS: '240' } }))
  const community = (await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })).body.id
  const other = (await p.api<{ id: string }>('POST', '/api/communities', { name: '兰亭社区', street: '新华路街道' })).body.id
  await household(community, '王桂兰', '梅园新村 10号楼 101室')
  await household(community, '陈德福', '梅园新村 2号楼 502室')
  await household(community, '张桂英', '梅园新村 3号楼 201室')
  const asked = await household(community, '刘秀兰', '梅园新村 7号楼 101室')
  await household(other, '赵志明', '兰亭小区 1号楼 303室')
  const [change] = await p.app.incidents.recordFindings(community, [
    { change: 'raised', householdId: asked, at: p.app.clock.now(), condition: { key: 'long_absence', kind: 'long_absence', explanation: { zh: '已 30 小时未回家', en: 'away for 30 h' }, data: {} } },
  ])
  incidentId = change!.incident.id
  await p.app.visits.settle()
  // Her plan is done for the month: only the visit the incident asked for is left for her.
  const planned = (await p.api<{ items: Json[] }>('GET', `/api/visits?communityId=${community}&state=planned`)).body.items
  await p.api('POST', `/api/visits/${planned.find((v) => v.householdId === asked && v.source === 'plan')!.id}/record`, { result: 'seen' })
  expect((await p.api('POST', '/api/users', { username: 'vis-meiyuan', displayName: '陈阿姨', password: 'visitor-password', role: 'visitor', communityIds: [community] })).status).toBe(201)
  context = await h.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' })
  page = await context.newPage()
})
afterAll(async () => {
  await context?.close()
  await h?.close()
})

const names = () => page.getByTestId('visit-name').allTextContents()
const row = (name: string) => page.getByTestId('visit-row').filter({ has: page.getByTestId('visit-name').getByText(name, { exact: true }) })

describe('the visitor page on a phone', () => {
  it("logs in and lists today's visits in walking order, the requested visit first", async () => {
    await page.goto(`${site.url}/visitor.html`)
    await page.locator('input[name="username"]').fill('vis-meiyuan')
    await page.locator('input[name="password"]').fill('visitor-password')
    await page.getByRole('button', { name: '登录' }).tap()
    await poll(names).toEqual(['刘秀兰', '陈德福', '张桂英', '王桂兰'])
    const first = row('刘秀兰')
    await first.getByText('系统提示上门').waitFor({ state: 'visible' })
    await first.getByText('已 30 小时未回家').waitFor({ state: 'visible' })
    expect(await first.getByRole('link', { name: '拨打 13800138000' }).getAttribute('href')).toBe('tel:13800138000')
    await row('陈德福').getByText('梅园新村 2号楼 502室').waitFor({ state: 'visible' })
    // Large touch targets: the result buttons and the phone link.
    for (const target of [row('陈德福').getByTestId('visit-seen'), row('陈德福').getByTestId('visit-not-seen'), row('陈德福').getByRole('link')]) {
      const box = (await target.boundingBox())!
      expect(box.height).toBeGreaterThanOrEqual(56)
      expect(box.width).toBeGreaterThanOrEqual(140)
    }
    // Fits the phone: nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'visitor-list')
  })

  it('records 见到本人 in two taps, and the row leaves the list', async () => {
    await row('陈德福').getByTestId('visit-seen').tap()
    await row('陈德福').getByTestId('visit-confirm').tap()
    await poll(names).toEqual(['刘秀兰', '张桂英', '王桂兰'])
    await poll(() => page.getByTestId('visit-done').textContent()).toBe('已记录:陈德福 · 见到本人')
    const done = (await p.api<{ items: Json[] }>('GET', '/api/visits?state=done')).body.items.find((v) => v.elderName === '陈德福')
    expect(done).toMatchObject({ result: 'seen', note: null, visitorName: '陈阿姨' })
  })

  it('records 未见到 with a note for the requested visit, which closes its incident', async () => {
    await row('刘秀兰').getByTestId('visit-not-seen').tap()
    await row('刘秀兰').getByTestId('visit-note').fill('敲门无人应,邻居说去女儿家了')
    await shot(page, 'visitor-note')
    await row('刘秀兰').getByTestId('visit-confirm').tap()
    await poll(names).toEqual(['张桂英', '王桂兰'])
    await poll(async () => (await p.api<Json>('GET', `/api/incidents/${incidentId}`)).body).toMatchObject({ state: 'resolved', outcome: 'visited', note: '未见到:敲门无人应,邻居说去女儿家了', resolvedBy: 'user:vis-meiyuan' })
  })

  it('keeps the list after a reload, and shows it is done when it is', async () => {
    await page.reload()
    await poll(names).toEqual(['张桂英', '王桂兰'])
    for (const name of ['张桂英', '王桂兰']) {
      await row(name).getByTestId('visit-seen').tap()
      await row(name).getByTestId('visit-confirm').tap()
      await poll(() => row(name).count()).toBe(0)
    }
    await page.getByTestId('visits-empty').waitFor({ state: 'visible' })
    await shot(page, 'visitor-done')
  })
})

describe("the console's 探访 tab", () => {
  it("shows the month's planned vs done, and the visit overdue since April in plain Chinese", async () => {
    // To 2 May, 10:00: May is planned, and 赵志明's April visit (兰亭, never recorded) is two days overdue.
    expect((await p.api('POST', '/api/clock/advance', { ms: 2 * 86_400_000 })).status).toBe(200)
    const desk = await h.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' })
    try {
      const console_ = await logIn(await desk.newPage(), site.url, 'admin', ADMIN_PASSWORD)
      await console_.getByTestId('tab-visits').click()
      const board = console_.getByTestId('visits-board')
      await board.getByTestId('visits-overdue-row').first().waitFor()
      // Community, planned, done, share done, seen, not seen, overdue: May has only begun.
      const rows = await board.getByTestId('visits-summary').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent?.trim())))
      expect(rows).toEqual([['兰亭社区', '1', '0', '0%', '0', '0', '0'], ['梅园社区', '4', '0', '0%', '0', '0', '0']])
      const late = await board.getByTestId('visits-overdue-row').allTextContents()
      expect(late).toHaveLength(1)
      expect(late[0]).toContain('赵志明')
      expect(late[0]).toContain('兰亭小区 1号楼 303室')
      expect(late[0]).toContain('4/30')
      expect(late[0]).toContain('2 天')
      expect(await board.getByText('没有连续两次未见到的住户').count()).toBe(1)
      // An earlier month: its figures, as the API counts them; the overdue list stays today's.
      await board.getByTestId('visits-month').selectOption('2026-04')
      await expect.poll(() => board.locator('#visits-heading').innerText()).toContain('2026-04')
      const april = (await p.api<{ communities: { communityName: string; planned: number; done: number }[] }>('GET', '/api/visits/summary?month=2026-04')).body
      const aprilRows = await board.getByTestId('visits-summary').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent?.trim())))
      expect(aprilRows.map((r) => [r[0], r[1], r[2]])).toEqual(april.communities.map((c) => [c.communityName, String(c.planned), String(c.done)]))
      expect(april.communities.reduce((n, c) => n + c.planned, 0)).toBeGreaterThan(0)
      expect(await board.getByTestId('visits-overdue-row').allTextContents()).toEqual(late)
      await board.getByTestId('visits-month').selectOption('2026-05')
      await expect.poll(() => board.locator('#visits-heading').innerText()).toContain('2026-05')
      // zh-CN first: no English word in the panel.
      expect(await board.innerText()).not.toMatch(/[A-Za-z]{2,}/)
      expect(await axeViolations(console_)).toEqual([])
      await shot(console_, 'console-visits')
    } finally {
      await desk.close()
    }
  })
})

describe('a visitor at the console', () => {
  it('is taken to the visit page, logged in', async () => {
    const phone = await h.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })
    try {
      const page2 = await phone.newPage()
      await page2.goto(`${site.url}/`)
      await page2.getByTestId('login-username').fill('vis-meiyuan')
      await page2.getByTestId('login-password').fill('visitor-password')
      await page2.getByTestId('login-submit').click()
      await page2.waitForURL(/\/visitor\.html$/)
      await page2.getByRole('heading', { name: /今日探访/ }).waitFor()
      expect(await page2.getByText('陈阿姨').count()).toBe(1)
    } finally {
      await phone.close()
    }
  })
})
