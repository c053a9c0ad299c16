/**
 * The family's closed loop in real browsers (docs/operations.md §family), on a virtual clock: a
 * family member presses 我去看看 on their phone; the operator's queue row says 家属前往中 and still
 * offers 接警 (it is not an acknowledgement); 30 minutes later with no arrival the console alerts
 * again (banner, 家属未按时到达 on the row and in the trail); the family presses 已到达 and the row
 * says so. The community's ladder has no reminders here, so the only alert after the first is the
 * family's overdue arrival. Screenshots go to test-artifacts/.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../../src/contract/index.js'
import { virtualClock } from '../../../src/shared/clock.js'
import { connectDevice, createOperator, publish, waitFor, type TestPlatform } from '../../helpers/platform.js'
import { axeViolations, shot, startHarness, type Harness } from './harness.js'

const T0 = Date.UTC(2026, 10, 23, 2, 0, 0) // 10:00 in Shanghai
const MIN = 60_000

let h: Harness
let browser: Browser
const cleanups: (() => unknown)[] = []

beforeAll(async () => {
  h = await startHarness()
  ;({ browser } = h)
}, 120_000)

afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!()
  await h?.close()
})

async function newPage(url: string, viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport })
  cleanups.push(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  cleanups.push(() => expect(errors, `page errors on ${url}`).toEqual([]))
  await page.goto(url)
  return page
}

describe('family closed loop in the browser', () => {
  it('我去看看 shows 家属前往中 on the console row, which still offers 接警; no arrival in 30 min alerts the console again; 已到达 shows on the row', async () => {
    const clock = virtualClock(T0)
    const { p, site } = await h.another({ clock, env: { ANJU_SESSION_TTL_HOURS: '2000' } })
    const advance = async (vp: TestPlatform, ms: number) => {
      for (let done = 0; done < ms; done += MIN) {
        clock.advance(Math.min(MIN, ms - done))
        await vp.app.routing.settle()
        await vp.app.familyWatch.settle()
        await vp.app.outbox.idle()
      }
    }

    // A community whose urgent ladder alerts once and never reminds: any later alert is the family's.
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', {
      name: '梅园社区',
      street: '新华路街道',
      routing: { ladders: { urgent: { steps: [{ afterS: 0, notify: ['operators', 'first_family'] }], reminderEveryS: null, reminderNotify: [] } } },
    })
    const { body: hh } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '梅园新村 3号楼 201室' })
    const { body: contact } = await p.api<{ id: string }>('POST', `/api/households/${hh.id}/contacts`, { name: '李明', relation: '子女', phone: '13900000001' })
    const { body: link } = await p.api<{ token: string }>('POST', `/api/households/${hh.id}/contacts/${contact.id}/family-link`)
    const { body: d } = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: 'btn-loop-1', householdId: hh.id, kind: 'button', heartbeatS: 86_400 })
    await createOperator(p, 'op-loop', [c.id])

    const console_ = await newPage(`${site.url}/`, { width: 1280, height: 900 })
    await console_.getByTestId('login-username').fill('op-loop')
    await console_.getByTestId('login-password').fill('operator-password')
    await console_.getByTestId('login-submit').click()
    await console_.locator('[data-testid="connection-status"][data-state="connected"]').waitFor()

    const button = await connectDevice(p, d)
    cleanups.push(() => void button.end(true))
    await publish(button, deviceTopic(d.id, 'alarm'), { id: 'loop-sos', type: 'sos' })
    const row = console_.getByTestId('incident-row')
    await row.first().waitFor()
    await p.app.routing.settle()
    // The first alert's banner, put away: the next one must come from the family loop.
    await console_.getByTestId('banner').waitFor()
    await console_.getByTestId('banner-dismiss').click()
    await console_.getByTestId('banner').waitFor({ state: 'detached' })

    // The son, on his phone: 我去看看.
    const family = await newPage(`${site.url}/family.html?t=${encodeURIComponent(link.token)}`, { width: 390, height: 844 })
    const card = family.getByTestId('family-incident').first()
    await card.getByTestId('answer-on-my-way').click()
    await expect.poll(() => card.getAttribute('data-family-state')).toBe('en_route')
    expect(await card.getByTestId('family-going').textContent()).toMatch(/^李明 正在前往,请在 .*10:30 前到达后点“已到达”$/)
    expect(await card.getByTestId('family-status').textContent()).toBe('已告知值班员您正在前往,谢谢。到达后请点“已到达”。')
    expect(await card.getByTestId('answer-arrived').isEnabled()).toBe(true)
    await shot(family, 'family-loop-family-en-route')
    expect(await axeViolations(family)).toEqual([])

    // The console: 家属前往中 on the row, which is still open and still offers 接警.
    const badge = row.first().getByTestId('family-badge')
    await expect.poll(() => badge.textContent()).toBe('家属前往中 · 李明')
    expect(await row.first().getAttribute('data-state')).toBe('open')
    expect(await row.first().getByTestId('ack-button').textContent()).toBe('接警')
    expect(await row.first().getByTestId('state').textContent()).toBe('待接警')
    await shot(console_, 'family-loop-console-en-route')
    expect(await axeViolations(console_)).toEqual([])

    // 30 minutes pass without an arrival: the console alerts again.
    await advance(p, 29 * MIN)
    expect(await badge.getAttribute('data-family-state')).toBe('en_route')
    await advance(p, 1 * MIN)
    await console_.getByTestId('banner').waitFor()
    expect(await console_.getByTestId('banner').textContent()).toContain('张桂英')
    await expect.poll(() => badge.getAttribute('data-family-state')).toBe('overdue')
    expect(await badge.textContent()).toBe('家属未按时到达 · 李明')
    expect(await row.first().getByTestId('ack-button').count()).toBe(1)
    await row.first().getByTestId('details-button').click()
    await expect.poll(() => console_.getByTestId('event-trail').textContent()).toContain('家属未按时到达 — 系统 — 家属 李明 30 分钟内未确认到达')
    expect(await console_.getByTestId('event-trail').textContent()).toContain('家属前往中 — 家属 李明 — 我去看看')
    await shot(console_, 'family-loop-console-overdue')

    // The family page says so, and 已到达 still closes the loop.
    await expect.poll(() => card.getAttribute('data-family-state'), { timeout: 20_000 }).toBe('overdue')
    expect(await card.getByTestId('family-going').textContent()).toMatch(/没有在 .*10:30 前确认到达/)
    await shot(family, 'family-loop-family-overdue')
    await card.getByTestId('answer-arrived').click()
    await expect.poll(() => card.getAttribute('data-family-state')).toBe('arrived')
    expect(await card.getByTestId('family-going').textContent()).toMatch(/^李明 已于 .*10:30 到达$/)
    expect(await card.getByTestId('family-status').textContent()).toBe('已告知值班员您已到达,谢谢')

    await expect.poll(() => badge.getAttribute('data-family-state')).toBe('arrived')
    expect(await badge.textContent()).toBe('家属已到达 · 李明')
    expect(await row.first().getAttribute('data-state')).toBe('open')
    await expect.poll(() => console_.getByTestId('event-trail').textContent()).toContain('家属已到达 — 家属 李明 — 已到达')
    await shot(console_, 'family-loop-console-arrived')

    // Nothing here acknowledged it: the operator does, as before.
    await row.first().getByTestId('ack-button').click()
    await expect.poll(() => row.first().getAttribute('data-state')).toBe('acknowledged')
    await waitFor(async () => (await p.api<{ acknowledgedBy: string }>('GET', `/api/incidents/${await row.first().getAttribute('data-incident-id')}`)).body.acknowledgedBy === 'user:op-loop', 5000, 'the operator acknowledgement')
  }, 180_000)
})
