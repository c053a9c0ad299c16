/**
 * The console's 导入 view in a real browser (docs/operations.md §registry import): an operator
 * downloads the template, uploads a workbook with bad rows and sees each error by sheet, row and
 * column in Chinese with nothing imported; ticks 只导入无误的行, imports, and is offered the new
 * devices' secrets once, and finds the household's 户编号 in its profile. Screenshots go to test-artifacts/.
 */
import { readFileSync } from 'node:fs'
import ExcelJS from 'exceljs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOperator, type TestPlatform } from '../../helpers/platform.js'
import { axeViolations, logIn, shot, startHarness, type Harness } from './harness.js'

const COMMUNITY = '导入界面社区'
let h: Harness
let p: TestPlatform
let page: Page
let communityId: string

async function workbook(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  const hh = wb.addWorksheet('老人户')
  hh.addRow(['户编号', '社区', '老人姓名', '年龄', '住址', '电话'])
  hh.addRow(['U001', COMMUNITY, '周阿婆', 86, '界面路 1号', '13800000001'])
  hh.addRow(['U002', COMMUNITY, '吴老伯', '七十', '界面路 2号', null])
  const dv = wb.addWorksheet('设备')
  dv.addRow(['户编号', '设备编号', '类型', '房间'])
  dv.addRow(['U001', 'ui-btn-1', '一键通', null])
  dv.addRow(['U001', 'ui-tv-1', '电视', '客厅'])
  return Buffer.from(await wb.xlsx.writeBuffer())
}

beforeAll(async () => {
  h = await startHarness()
  p = h.p
  communityId = (await p.api<{ id: string }>('POST', '/api/communities', { name: COMMUNITY, street: '测试街道' })).body.id
  await createOperator(p, 'op-import', [communityId])
  const context = await h.browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 }, acceptDownloads: true })
  page = await context.newPage()
  page.setDefaultTimeout(20_000)
  await logIn(page, h.site.url, 'op-import', 'operator-password')
}, 180_000)

afterAll(async () => {
  await h?.close()
})

describe('the 导入 view', () => {
  it('downloads the template as a workbook with the sheets 老人户, 联系人, 设备', async () => {
    await page.getByTestId('tab-import').click()
    await page.getByTestId('import-view').waitFor()
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('import-template').click()])
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(readFileSync((await download.path())!) as never)
    expect(wb.worksheets.map((w) => w.name)).toEqual(['说明', '老人户', '联系人', '设备'])
  })

  it('an uploaded file with bad rows shows each error by sheet, row and column, and imports nothing', async () => {
    await page.getByTestId('import-file').setInputFiles({ name: '登记表.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: await workbook() })
    const errors = page.getByTestId('import-error')
    await expect.poll(() => errors.count()).toBe(2)
    expect(await errors.nth(0).getAttribute('data-sheet')).toBe('households')
    expect(await errors.nth(0).getAttribute('data-row')).toBe('3')
    expect(await errors.nth(0).getAttribute('data-column')).toBe('年龄')
    expect(await errors.nth(0).textContent()).toContain('老人户 第 3 行「年龄」: 应为 0–130 的整数,实为 "七十"')
    expect(await errors.nth(1).getAttribute('data-sheet')).toBe('devices')
    expect(await errors.nth(1).getAttribute('data-row')).toBe('3')
    expect(await errors.nth(1).getAttribute('data-column')).toBe('类型')
    expect(await page.getByTestId('import-error-count').textContent()).toBe('发现 2 处错误')
    const households = page.locator('[data-testid="import-count-row"][data-sheet="households"]')
    expect(await households.locator('[data-col="created"]').textContent()).toBe('1')
    expect(await households.locator('[data-col="invalid"]').textContent()).toBe('1')
    // With errors, importing needs the explicit choice.
    expect(await page.getByTestId('import-submit').isDisabled()).toBe(true)
    await shot(page, 'import-errors')
    expect(await axeViolations(page)).toEqual([])
    expect((await p.api<{ total: number }>('GET', `/api/households?communityId=${communityId}`)).body.total).toBe(0)
  })

  it('with 只导入无误的行, the valid rows are imported and the new device secrets are offered once', async () => {
    await page.getByTestId('import-valid-only').check()
    await page.getByTestId('import-submit').click()
    await page.getByTestId('import-done').waitFor()
    expect(await page.getByTestId('import-counts').getAttribute('data-state')).toBe('imported')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('import-secrets').click()])
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(readFileSync((await download.path())!) as never)
    const sheet = wb.getWorksheet('设备密码')!
    expect(sheet.getRow(2).getCell(3).text).toBe('ui-btn-1')
    expect(sheet.getRow(2).getCell(6).text).toMatch(/^[A-Za-z0-9_-]{40,}$/)
    await shot(page, 'import-done')
    const list = await p.api<{ total: number; items: { id: string; elderName: string }[] }>('GET', `/api/households?communityId=${communityId}`)
    expect(list.body.items.map((x) => x.elderName)).toEqual(['周阿婆'])
  })

  it("shows the imported household's 户编号 in its profile", async () => {
    const [imported] = (await p.api<{ items: { id: string }[] }>('GET', `/api/households?communityId=${communityId}`)).body.items
    await page.getByTestId('tab-households').click()
    await page.locator(`[data-testid="household-row"][data-household-id="${imported!.id}"]`).getByTestId('household-open').click()
    await expect.poll(() => page.getByTestId('household-detail').getByTestId('registry-ref').textContent()).toBe('U001')
  })
})
