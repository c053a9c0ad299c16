/**
 * A district of 5,000 households with three devices each, seeded through the store, in a real
 * browser: the households view and the device health board hold one page of rows (not 5,000),
 * search finds an elder, the pager reaches the last page from the keyboard (docs/operations.md §scale).
 * No timing assertions: the machine is shared; the DOM's row counts and contents are what count.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOperator, type TestPlatform } from '../../helpers/platform.js'
import { seedDistrict, type SeededDistrict } from '../../helpers/seed.js'
import { axeViolations, shot as harnessShot, startHarness, type Harness } from './harness.js'

const N = 5000
const PAGE = 50
const PASSWORD = 'operator-password'

let h: Harness
let p: TestPlatform
let browser: Browser
let seeded: SeededDistrict
let page: Page

beforeAll(async () => {
  h = await startHarness()
  ;({ p, browser } = h)
  seeded = await seedDistrict(p.app.db, { households: N, now: p.app.clock.now(), prefix: 'ui', offlineEvery: 50 })
  await createOperator(p, 'op-scale', [seeded.communityId])
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } })
  page = await context.newPage()
  page.setDefaultTimeout(20_000)
  await page.goto(h.site.url + '/')
  await page.getByTestId('login-username').fill('op-scale')
  await page.getByTestId('login-password').fill(PASSWORD)
  await page.getByTestId('login-submit').click()
  await page.getByTestId('queue').waitFor({ state: 'attached' })
}, 180_000)

afterAll(async () => {
  await h?.close()
})

const shot = (name: string) => harnessShot(page, `scale-${name}`)
const rows = () => page.getByTestId('household-row')
const count = () => page.getByTestId('household-count').textContent()
const rowNames = () => rows().locator('strong').allTextContents()

describe('5,000 households in the console', () => {
  it('shows one page of 50 households with the count 显示 1–50 / 共 5000 户, and the district tree counts buildings, not homes', async () => {
    await page.getByTestId('tab-households').click()
    await expect.poll(count, { timeout: 30_000 }).toBe(`显示 1–${PAGE} / 共 ${N} 户`)
    expect(await rows().count()).toBe(PAGE)
    // Not 5,000 anything in the page: the list is one page, the tree one line per building.
    expect(await page.locator('li').count()).toBeLessThan(PAGE + Math.ceil(N / 30) + 50)
    const buildings = page.getByTestId('district-building')
    expect(await buildings.count()).toBe(Math.ceil(N / 30))
    expect(await buildings.first().getAttribute('data-building')).toBe('1号楼')
    expect(await buildings.first().getAttribute('data-households')).toBe('30')
    expect(await page.getByTestId('household-pager').getByTestId('page-number').textContent()).toBe(`第 1 / ${N / PAGE} 页`)
    await shot('households')
    expect(await axeViolations(page)).toEqual([])
  })

  it('pages with the keyboard to the next and the last page, and back to the first', async () => {
    const pager = page.getByTestId('household-pager')
    const first = await rowNames()
    await pager.getByTestId('page-next').focus()
    await page.keyboard.press('Enter')
    await expect.poll(count).toBe(`显示 51–100 / 共 ${N} 户`)
    const second = await rowNames()
    expect(second).toHaveLength(PAGE)
    expect(second.filter((n) => first.includes(n))).toEqual([])

    await pager.getByTestId('page-last').focus()
    await page.keyboard.press('Enter')
    await expect.poll(count).toBe(`显示 ${N - PAGE + 1}–${N} / 共 ${N} 户`)
    expect(await rows().count()).toBe(PAGE)
    expect(await pager.getByTestId('page-number').textContent()).toBe(`第 ${N / PAGE} / ${N / PAGE} 页`)
    expect(await pager.getByTestId('page-next').isDisabled()).toBe(true)
    expect(await pager.getByTestId('page-last').isDisabled()).toBe(true)
    // Ordered by address, numbers as numbers (2号楼 before 10号楼): the last page is the last 50 homes, ending in 167号楼.
    expect(await rowNames()).toEqual(seeded.households.slice(-PAGE).map((x) => x.elderName))
    expect(await rows().last().textContent()).toContain(`幸福里 ${Math.ceil(N / 30)}号楼`)
    await shot('households-last-page')

    await pager.getByTestId('page-first').click()
    await expect.poll(count).toBe(`显示 1–${PAGE} / 共 ${N} 户`)
    expect(await pager.getByTestId('page-prev').isDisabled()).toBe(true)
  })

  it('finds a given elder among 5,000 by name, and by phone', async () => {
    const target = seeded.households[3777]!
    const search = page.getByTestId('household-search')
    await search.fill(target.elderName)
    await expect.poll(count).toBe('显示 1–1 / 共 1 户')
    expect(await rows().count()).toBe(1)
    const row = rows().first()
    expect(await row.getAttribute('data-household-id')).toBe(target.id)
    expect(await row.textContent()).toContain(target.address)
    expect(await page.getByTestId('household-pager').count()).toBe(0)
    await shot('households-search')

    await search.fill(target.phone)
    await expect.poll(() => rows().first().getAttribute('data-household-id')).toBe(target.id)
    expect(await rows().count()).toBe(1)

    await search.fill('没有这个人')
    await page.getByTestId('household-empty').waitFor()
    expect(await count()).toBe('共 0 户')
    await search.fill('')
    await expect.poll(count).toBe(`显示 1–${PAGE} / 共 ${N} 户`)
  })

  it('pages the device health board, problems first, and filters it by state with counts in the header', async () => {
    await page.getByTestId('tab-health').click()
    const board = page.getByTestId('health-board')
    await board.waitFor()
    const devices = 3 * N
    const offline = N / 50
    await expect.poll(() => page.getByTestId('health-count').textContent(), { timeout: 30_000 }).toBe(`显示 1–${PAGE} / 共 ${devices} 台`)
    expect(await page.getByTestId('health-row').count()).toBe(PAGE)
    expect(await page.getByTestId('health-summary').textContent()).toBe(`${devices} 台需关注 / 共 ${devices} 台`)
    expect(await page.getByTestId('health-filter-offline').textContent()).toBe(`离线(${offline})`)
    expect(await page.getByTestId('health-filter-not_reporting_yet').getAttribute('data-count')).toBe(String(devices - offline))
    // problems first: the 100 offline buttons fill the first two pages, the never-reported devices follow
    const statuses = () => page.getByTestId('health-row').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-state')))
    expect(await statuses()).toEqual(Array(PAGE).fill('offline'))
    await shot('health-board')

    const pager = page.getByTestId('health-pager')
    await pager.getByTestId('page-last').focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => page.getByTestId('health-count').textContent()).toBe(`显示 ${devices - PAGE + 1}–${devices} / 共 ${devices} 台`)
    expect(await statuses()).toEqual(Array(PAGE).fill('not_reporting_yet'))

    await page.getByTestId('health-filter-offline').click()
    await expect.poll(() => page.getByTestId('health-count').textContent()).toBe(`显示 1–${PAGE} / 共 ${offline} 台`)
    expect(await statuses()).toEqual(Array(PAGE).fill('offline'))
    expect(await page.getByTestId('health-filter-offline').getAttribute('aria-pressed')).toBe('true')
    expect(await page.getByTestId('health-pager').getByTestId('page-number').textContent()).toBe('第 1 / 2 页')

    const target = seeded.households[49]! // the 50th home: its button is offline
    await page.getByTestId('health-search').fill(target.elderName)
    await expect.poll(() => page.getByTestId('health-row').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-device-id')))).toEqual(['btn-ui-00050'])
    expect(await page.getByTestId('health-row').first().textContent()).toContain(target.elderName)
    await shot('health-board-offline')
    expect(await axeViolations(page)).toEqual([])
  })
})
