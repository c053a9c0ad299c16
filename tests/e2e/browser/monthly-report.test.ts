/**
 * The 月报 view in a real browser, on a platform with a virtual clock: a November with two SOS
 * acknowledged by an operator after 20 s and 90 s; in December the view opens on November by
 * default, its tables show the figures, 下载电子表格 hands over the same workbook (read back with
 * exceljs), and the print layout keeps only the report, a page per section.
 */
import ExcelJS from 'exceljs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { virtualClock } from '../../../src/shared/clock.js'
import { provision, type Fixture, type TestPlatform } from '../../helpers/platform.js'
import { axeViolations, logIn, shot, startHarness, type Harness, type Site } from './harness.js'

const NOV_START = Date.UTC(2026, 9, 31, 16) // 1 November 00:00 in Shanghai
const HOUR = 3_600_000
const clock = virtualClock(NOV_START + 4 * 24 * HOUR)
let h: Harness
let p: TestPlatform
let site: Site
let browser: Browser
let page: Page
let fx: Fixture

async function sos(at: number, ackS: number): Promise<void> {
  clock.set(at)
  const res = await fetch(`${p.httpUrl}/ingest/v1/dev/${fx.device.id}/alarm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${fx.device.id}:${fx.device.secret}`).toString('base64')}` },
    body: JSON.stringify({ id: `sos-${at}`, type: 'sos' }),
  })
  expect(res.status).toBe(200)
  const login = await p.api<{ token: string }>('POST', '/api/login', { username: 'op-report', password: 'operator-password' })
  const token = login.body.token
  const [incident] = (await p.api<{ id: string }[]>('GET', `/api/incidents?state=open&communityId=${fx.communityId}`, undefined, token)).body
  clock.set(at + ackS * 1000)
  expect((await p.api('POST', `/api/incidents/${incident!.id}/acknowledge`, undefined, token)).status).toBe(200)
  expect((await p.api('POST', `/api/incidents/${incident!.id}/resolve`, { outcome: 'emergency_handled' }, token)).status).toBe(200)
}

beforeAll(async () => {
  h = await startHarness()
  browser = h.browser
  ;({ p, site } = await h.another({ clock }))
  const community = await p.api<{ id: string }>('POST', '/api/communities', { name: '月报社区', street: '月报街道' })
  fx = await provision(p, { communityId: community.body.id })
  expect((await p.api('POST', '/api/users', { username: 'op-report', displayName: '月报值班', password: 'operator-password', role: 'operator', communityIds: [fx.communityId] })).status).toBe(201)
  await sos(NOV_START + 5 * 24 * HOUR, 20)
  await sos(NOV_START + 12 * 24 * HOUR, 90)
  clock.set(NOV_START + 33 * 24 * HOUR) // 4 December, 00:00
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 }, acceptDownloads: true })
  page = await context.newPage()
  page.setDefaultTimeout(20_000)
  await logIn(page, site.url, 'op-report', 'operator-password')
}, 180_000)
afterAll(async () => {
  await h?.close()
})

describe('the 月报 view', () => {
  it('opens on last month, and its tables show the figures of the API', async () => {
    await page.getByTestId('tab-report').click()
    expect(await page.getByTestId('report-month').inputValue()).toBe('2026-11')
    expect((await page.getByTestId('report-month').locator('option').allTextContents()).slice(0, 3)).toEqual(['2026年12月', '2026年11月', '2026年10月'])
    expect(await page.getByTestId('report-scope').locator('option').allTextContents()).toEqual(['社区:月报社区', '街道:月报街道(全部负责社区)'])
    await page.getByTestId('report-show').click()
    await expect.poll(() => page.getByTestId('report-title').textContent()).toBe('月报社区 2026年11月 安居月报')
    const alarms = page.getByTestId('report-section-alarms')
    expect(await alarms.locator('thead th').allTextContents()).toEqual(['报警类型', '报警数', '测试报警', '居民取消', '计入接警用时的报警', '接警用时中位数(秒)', '接警用时 90 分位(秒)', '60 秒内接警占比'])
    const total = alarms.locator('tbody tr').last()
    expect((await total.locator('th, td').allTextContents()).map((s) => s.trim())).toEqual(['合计', '2', '0', '0', '2', '20', '90', '50.0%'])
    const sections = await page.locator('[data-testid^="report-section-"] h4').allTextContents()
    expect(sections).toEqual(['概况', '设备', '报警', '事件结果', '关怀发现', '探访', '服务工单'])
    const overview = page.getByTestId('report-section-overview')
    expect(await overview.locator('tr', { hasText: '覆盖住户' }).locator('td').textContent()).toBe('1')
    // plain Chinese, as tests/e2e/browser/zh-complete.test.ts asks of every screen
    const english = await page.getByTestId('monthly-report').evaluate((el) => (el as HTMLElement).innerText.replace(/\bSOS\b/g, '').match(/[A-Za-z]{3,}|NaN|undefined|null/g))
    expect(english).toBeNull()
    await shot(page, 'monthly-report')
    expect(await axeViolations(page)).toEqual([])
  })

  it('downloads the same figures as a workbook with a Chinese name', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-download').click()])
    expect(download.suggestedFilename()).toBe('安居月报-月报社区-2026-11.xlsx')
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.readFile((await download.path())!)
    const ws = wb.getWorksheet('报警')!
    let total: unknown[] = []
    ws.eachRow((r) => {
      const values = (r.values as unknown[]).slice(1)
      if (values[0] === '合计') total = values
    })
    expect(total).toEqual(['合计', 2, 0, 0, 2, 20, 90, 0.5])
  })

  it('prints only the report on A4, each section on a page of its own', async () => {
    await page.emulateMedia({ media: 'print' })
    const hidden = (selector: string) => page.locator(selector).first().evaluate((el) => getComputedStyle(el).display === 'none')
    expect(await hidden('header.top')).toBe(true)
    expect(await hidden('.tabs')).toBe(true)
    expect(await hidden('[data-testid="service-strip"]')).toBe(true)
    expect(await hidden('.report-controls')).toBe(true)
    const breaks = await page.locator('.report-section').evaluateAll((els) => els.map((el) => getComputedStyle(el).breakBefore))
    expect(breaks).toEqual(['avoid', 'page', 'page', 'page', 'page', 'page', 'page'])
    const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true })
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF')
    await page.emulateMedia({ media: 'screen' })
    expect(await hidden('header.top')).toBe(false)
  })

  it('speaks English when the console does, figures unchanged', async () => {
    await page.getByTestId('lang-toggle').click()
    const overview = page.getByTestId('report-section-overview')
    await expect.poll(() => overview.locator('h4').textContent()).toBe('Overview')
    expect(await overview.locator('tbody th').first().textContent()).toBe('Households covered')
    const total = page.getByTestId('report-section-alarms').locator('tbody tr').last()
    expect((await total.locator('th, td').allTextContents()).map((x) => x.trim())).toEqual(['Total', '2', '0', '0', '2', '20', '90', '50.0%'])
    await page.getByTestId('lang-toggle').click()
    await expect.poll(() => overview.locator('h4').textContent()).toBe('概况')
  })
})
