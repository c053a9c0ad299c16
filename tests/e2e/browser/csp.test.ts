/**
 * The pages as the platform itself serves them, under its Content-Security-Policy (docs/security.md
 * §web): the console logs in and goes live over Socket.IO, an admin reads a household's audit
 * trail, the family view renders, and the browser reports no violation. (The other browser tests
 * go through a proxy site without the policy.)
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_PASSWORD, startPlatform, type TestPlatform } from '../../helpers/platform.js'
import { REPO } from './harness.js'

let p: TestPlatform
let browser: Browser
beforeAll(async () => {
  if (!existsSync(join(REPO, 'dashboards', 'dist', 'index.html'))) throw new Error('dashboards/dist is missing: npm test builds it (npm run build:dashboards)')
  p = await startPlatform()
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await p?.close()
})

/** A page that records every CSP violation and page error from its first script on. */
async function open(path: string): Promise<{ page: Page; problems: () => Promise<string[]> }> {
  const context = await browser.newContext({ locale: 'zh-CN' })
  await context.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] }
    w.cspViolations = []
    document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`))
  })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text())
  })
  await page.goto(p.httpUrl + path)
  return { page, problems: async () => [...errors, ...(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations))] }
}

describe('pages under the platform’s Content-Security-Policy', () => {
  it('the console logs in and goes live', async () => {
    const { page, problems } = await open('/')
    await page.getByTestId('login-username').fill('admin')
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD)
    await page.getByTestId('login-submit').click()
    await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor()
    expect(await problems()).toEqual([])
    await page.context().close()
  })

  it('an admin sees who read and changed a household, the reading she just made first', async () => {
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '幸福社区', street: '长寿路街道' })
    const { body: hh } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '钱秀英', address: '5号楼 101室', keySafe: '门口鞋柜,密码 1234' })
    await p.api('PUT', `/api/households/${hh.id}/away`, { until: Date.now() + 86_400_000 })
    const { page, problems } = await open('/')
    await page.getByTestId('login-username').fill('admin')
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD)
    await page.getByTestId('login-submit').click()
    await page.getByTestId('tab-households').click()
    await page.locator(`[data-testid="household-row"][data-household-id="${hh.id}"]`).getByTestId('household-open').click()
    const entries = page.getByTestId('audit').getByTestId('audit-entry')
    await expect.poll(() => entries.count()).toBe(2)
    expect(await entries.nth(0).textContent()).toContain('管理员 查看了档案(含钥匙盒与病史)')
    expect(await entries.nth(1).textContent()).toContain('管理员 设置了外出/住院模式')
    expect(await problems()).toEqual([])
    await page.context().close()
  })

  it('the family view renders (here: a link that does not work)', async () => {
    const { page, problems } = await open('/family.html?t=not-a-token')
    await page.getByTestId('family-invalid').waitFor()
    expect(await problems()).toEqual([])
    await page.context().close()
  })
})
