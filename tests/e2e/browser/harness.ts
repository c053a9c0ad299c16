/**
 * What a browser test file needs: the dashboards built into a directory of its own (files run in
 * parallel; two builds into one dist would empty each other's), a platform, the site that proxies
 * to it, Debian's chromium through playwright-core, axe-core, and screenshots in test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { build } from 'vite'
import { startPlatform, type TestPlatform } from '../../helpers/platform.js'
import { serveDashboards } from './serve.js'

export const REPO = fileURLToPath(new URL('../../../', import.meta.url))
export const ARTIFACTS = join(REPO, 'test-artifacts')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface Site { url: string; close(): Promise<void> }
export interface Harness {
  p: TestPlatform
  site: Site
  browser: Browser
  /** Another platform (on a virtual clock, say) and its site, from the same build; closed with the harness. */
  another(options: Parameters<typeof startPlatform>[0]): Promise<{ p: TestPlatform; site: Site }>
  close(): Promise<void>
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`)
  const dist = mkdtempSync(join(tmpdir(), 'anju-dist-'))
  await build({ configFile: join(REPO, 'dashboards', 'vite.config.ts'), logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } })
  mkdirSync(ARTIFACTS, { recursive: true })
  const p = await startPlatform()
  const site = await serveDashboards(dist, p.httpUrl, { now: () => p.app.clock.now() })
  const others: { p: TestPlatform; site: Site }[] = []
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  return {
    p, site, browser,
    async another(options) {
      const other = await startPlatform(options)
      const otherSite = await serveDashboards(dist, other.httpUrl, { now: () => other.app.clock.now() })
      others.push({ p: other, site: otherSite })
      return { p: other, site: otherSite }
    },
    async close() {
      await browser.close()
      for (const o of others) {
        await o.site.close()
        await o.p.close()
      }
      await site.close()
      await p.close()
      rmSync(dist, { recursive: true, force: true })
    },
  }
}

export interface Violation { id: string; impact: string; help: string; nodes: string[] }

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE })
  const result = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document)
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }))
  })
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

export const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

/** Logs in on the console at `url` and waits until the queue is live (its Socket.IO connected). */
export async function logIn(page: Page, url: string, username: string, password: string): Promise<Page> {
  await page.goto(url + '/')
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  await page.getByTestId('login-submit').click()
  await page.getByTestId('queue').waitFor({ state: 'attached' })
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor()
  return page
}
