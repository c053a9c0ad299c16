/**
 * Plain Chinese everywhere in zh-CN (issue 14): a real browser walks every screen — the login
 * with a wrong password, the queue with an SOS that climbed its ladder and was reminded dozens of
 * times, a fall and a wellbeing incident with several findings, the detail (trail, 检测说明,
 * profile, charts), the service tickets tab with a green-key request dispatched, the health and
 * households tabs, and the family page — and
 * fails on any English word, raw identifier, epoch, NaN, undefined or null in the visible text or
 * in an aria-label. Allowed: SOS, the EN language toggle, and device serial numbers where the
 * screen marks them as such (`translate="no"`, read off the hardware). The platform runs on a
 * virtual clock with real MQTT devices and real webhook receivers; screenshots go to test-artifacts/.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { MqttClient } from 'mqtt'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../../src/contract/index.js'
import { virtualClock, type VirtualClock } from '../../../src/shared/clock.js'
import { ADMIN_PASSWORD, connectDevice, publish, waitFor, type TestPlatform } from '../../helpers/platform.js'
import { shot, startHarness, type Harness, type Site } from './harness.js'

const T0 = Date.UTC(2026, 11, 7, 2, 0, 0) // 10:00 in Shanghai
const HOUR = 3_600_000
const MIN = 60_000
const SECRET = 'webhook-secret-0123456789'
/** A device serial number as the hardware label prints it. */
const SERIAL = /^[a-z]{2,4}-\d{4}$/

let h: Harness
let p: TestPlatform
let site: Site
let clock: VirtualClock
const cleanups: (() => unknown)[] = []
/** A condition on the page, waited for generously (the suite shares two busy cores). */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000 })

/** A webhook receiver answering `status` to everything. */
async function receiver(status: number): Promise<string> {
  const server: Server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(status).end()) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
}

/** Virtual time in steps, letting each step's ladder and deliveries finish. */
async function advance(ms: number, step = MIN): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done))
    await p.app.routing.settle()
    await p.app.outbox.idle()
  }
}

async function device(householdId: string, id: string, kind: string, room: string | null): Promise<MqttClient> {
  const created = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id, householdId, kind, room, heartbeatS: 86_400 })
  expect(created.status).toBe(201)
  const client = await connectDevice(p, created.body)
  cleanups.push(() => void client.end(true))
  return client
}

async function household(communityId: string, elderName: string, address: string): Promise<string> {
  const r = await p.api<{ id: string }>('POST', '/api/households', { communityId, elderName, address, age: 84, phone: '13800138000' })
  expect(r.status).toBe(201)
  return r.body.id
}

async function incidentOf(householdId: string, type?: string): Promise<string> {
  let id = ''
  await waitFor(async () => {
    const list = await p.api<{ id: string; householdId: string; type: string }[]>('GET', '/api/incidents?state=active')
    id = list.body.find((i) => i.householdId === householdId && (!type || i.type === type))?.id ?? ''
    return Boolean(id)
  }, 20_000, `the incident of ${householdId}`)
  return id
}

/** What a person sees or hears on the page that is not plain Chinese (empty when all is well). */
async function leaks(page: Page): Promise<string[]> {
  return page.evaluate(({ serial }) => {
    const bad = /[A-Za-z]{3,}|[A-Za-z0-9]+_[A-Za-z0-9]+|\b[A-Za-z]+-\d+|(?<!\d)(\d{13}|1[6-9]\d{8})(?!\d)|NaN/
    const serialRe = new RegExp(serial)
    const out: string[] = []
    const where = (el: Element | null) => {
      const owner = el?.closest('[data-testid]')
      return owner ? `[${owner.getAttribute('data-testid')}]` : `<${el?.tagName.toLowerCase()}>`
    }
    const allowed = (el: Element | null) => Boolean(el?.closest('[data-testid="lang-toggle"]'))
    const check = (text: string, el: Element | null, what: string) => {
      const s = text.replace(/\bSOS\b/g, '')
      if (bad.test(s)) out.push(`${what} ${where(el)}: ${text.trim().slice(0, 200)}`)
    }
    const visible = (el: Element) => {
      const style = getComputedStyle(el)
      return style.visibility !== 'hidden' && style.display !== 'none' && el.getClientRects().length > 0
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement
      const text = n.textContent ?? ''
      if (!el || !text.trim() || el.closest('script, style, .sr-only-skip') || allowed(el)) continue
      const sr = el.closest('.sr-only')
      if (!sr && !visible(el)) continue
      const marked = el.closest('[translate="no"]')
      if (marked) {
        if (!serialRe.test(text.trim())) out.push(`unmarked text marked as a serial ${where(el)}: ${text}`)
        continue
      }
      check(text, el, 'text')
    }
    for (const el of document.querySelectorAll('[aria-label], [placeholder]')) {
      if (allowed(el) || el.closest('[aria-hidden="true"]')) continue
      for (const attr of ['aria-label', 'placeholder']) {
        const v = el.getAttribute(attr)
        if (v) check(v, el, attr)
      }
    }
    check(document.title, null, 'title')
    return out
  }, { serial: SERIAL.source })
}

async function expectPlainChinese(page: Page, screen: string): Promise<void> {
  await shot(page, `zh-${screen}`)
  expect(await leaks(page), `untranslated words or raw ids on ${screen}`).toEqual([])
}

beforeAll(async () => {
  h = await startHarness()
  clock = virtualClock(T0)
  ;({ p, site } = await h.another({ clock, env: { ANJU_SESSION_TTL_HOURS: '2000' } }))
}, 120_000)

afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!()
  await h?.close()
})

describe('zh-CN is plain Chinese on every screen', () => {
  it('walks login, queue, detail, health, households and the family page without one English word or raw id', async () => {
    // a community whose ladders reach two street systems (one answers, one refuses) and remind every minute
    const [ok, refusing] = [await receiver(200), await receiver(400)]
    const community = await p.api<{ id: string }>('POST', '/api/communities', {
      name: '梅园社区', street: '新华路街道',
      routing: {
        webhooks: [{ id: 'street', name: '一网统管', url: ok, secret: SECRET }, { id: 'dispatch', name: '120 调度', url: refusing, secret: SECRET }],
        ladders: { urgent: { steps: [{ afterS: 0, notify: ['operators', 'first_family', 'webhooks'] }, { afterS: 60, notify: ['operators', 'supervisors'] }, { afterS: 180, notify: ['family', 'property'] }], reminderEveryS: 60, reminderNotify: ['operators', 'first_family'] } },
      },
    })
    expect(community.status).toBe(201)
    const cid = community.body.id
    const zhang = await household(cid, '张桂英', '梅园新村 3号楼 201室')
    const chen = await household(cid, '陈德福', '梅园新村 3号楼 502室')
    const liu = await household(cid, '刘秀兰', '梅园新村 7号楼 101室')
    const zhao = await household(cid, '赵志明', '梅园新村 9号楼 303室')
    const contact = await p.api<{ id: string }>('POST', `/api/households/${zhang}/contacts`, { name: '李明', relation: '儿子', phone: '13900000001', channels: ['sms'] })
    expect(contact.status).toBe(201)
    expect((await p.api('PATCH', `/api/households/${zhang}`, { keySafe: '门口电表箱内钥匙盒,密码 4821', medicalNotes: '高血压' })).status).toBe(200)

    // 张桂英's home: a button, a water meter and a bedroom sensor, with 20 hours of readings for the charts
    const button = await device(zhang, 'btn-0101', 'button', null)
    const meter = await device(zhang, 'wm-0101', 'water', 'kitchen')
    const sensor = await device(zhang, 'pr-0101', 'presence', 'bedroom')
    const now = clock.now()
    let total = 12.5
    for (let i = 20; i >= 0; i--) {
      total += i % 3 === 0 ? 0 : 0.012
      await publish(meter, deviceTopic('wm-0101', 'telemetry'), { id: `w-${i}`, ts: now - i * HOUR + MIN, kind: 'water', totalM3: Number(total.toFixed(3)), flowLpm: 0 })
    }
    for (let q = 48; q >= 1; q--) {
      await publish(sensor, deviceTopic('pr-0101', 'telemetry'), { id: `p-${q}`, ts: now - q * 15 * MIN, kind: 'presence', occupied: q % 8 < 6, motion: q % 8 < 3 })
    }
    for (let i = 12; i >= 0; i--) {
      await publish(button, deviceTopic('btn-0101', 'status'), { ts: now - i * HOUR + 30_000, online: true, battery: 95 - Math.floor((12 - i) / 4) })
      await publish(meter, deviceTopic('wm-0101', 'status'), { ts: now - i * HOUR + 30_000, online: true, battery: 64 - Math.floor((12 - i) / 3) })
    }
    await waitFor(async () => {
      await p.app.telemetrySink.flush() // the sink writes on the (virtual) clock's second
      const r = await p.api<{ water: { hourly: { litres: number | null }[] }; battery: { devices: { points: unknown[] }[] } }>('GET', `/api/households/${zhang}/history`)
      return r.body.water.hourly.some((x) => (x.litres ?? 0) > 0) && r.body.battery.devices.some((d) => d.points.length > 0)
    }, 20_000, 'the history')

    // the SOS nobody answers: its ladder climbs, then reminds every minute for 37 minutes
    await publish(button, deviceTopic('btn-0101', 'alarm'), { id: 'sos-1', ts: clock.now(), type: 'sos', battery: 90 })
    const sos = await incidentOf(zhang, 'sos')
    await advance(37 * MIN)

    // a fall (acknowledged by the administrator), a service call (a service ticket, not an incident), and a wellbeing incident with three findings, one cleared
    const fallButton = await device(chen, 'btn-0102', 'button', null)
    await publish(fallButton, deviceTopic('btn-0102', 'alarm'), { id: 'fall-1', ts: clock.now(), type: 'fall' })
    const fall = await incidentOf(chen, 'fall')
    expect((await p.api('POST', `/api/incidents/${fall}/acknowledge`)).status).toBe(200)
    const serviceButton = await device(liu, 'btn-0103', 'button', null)
    await publish(serviceButton, deviceTopic('btn-0103', 'alarm'), { id: 'svc-1', ts: clock.now(), type: 'service' })
    // QoS 1: recorded once the publish resolves. Dispatched, so the tab shows a provider and the button was told.
    const ticket = (await p.api<{ items: { id: string; householdId: string }[] }>('GET', '/api/service-tickets')).body.items.find((x) => x.householdId === liu)!
    expect((await p.api('POST', `/api/service-tickets/${ticket.id}/dispatch`, { provider: '梅园长者食堂' })).status).toBe(200)
    const finding = (kind: string, zh: string, change: 'raised' | 'cleared' = 'raised') =>
      ({ change, householdId: zhao, at: clock.now(), condition: { key: kind, kind, explanation: { zh, en: kind }, data: {} } }) as Parameters<typeof p.app.incidents.recordFindings>[1][number]
    await p.app.incidents.recordFindings(cid, [finding('no_water', '12 小时用水 0.001 m³,低于 0.005 m³ 阈值')])
    await advance(5 * MIN)
    await p.app.incidents.recordFindings(cid, [finding('inactivity', '平时此时段安静不超过约 5 小时,今天自 06:10 客厅起已 6 小时无活动')])
    await advance(5 * MIN)
    await p.app.incidents.recordFindings(cid, [finding('bathroom_dwell', '卫生间持续有人 75 分钟(自 10:40 起)')])
    await p.app.incidents.recordFindings(cid, [finding('bathroom_dwell', '', 'cleared')])
    const wellbeing = await incidentOf(zhao)
    await p.app.routing.settle()
    await p.app.outbox.idle()
    // the clock stands still from here on: the SOS's reminders so far
    const sosEvents = (await p.api<{ events: { kind: string; detail: { step?: string } }[] }>('GET', `/api/incidents/${sos}`)).body.events
    const reminders = sosEvents.filter((e) => e.kind === 'escalated' && /^reminder-/.test(e.detail.step ?? '')).length
    expect(reminders).toBeGreaterThanOrEqual(34)

    // the login page: a wrong password says so in Chinese, and only in Chinese
    const context = await h.browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1366, height: 1000 } })
    cleanups.push(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(20_000)
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.goto(site.url + '/')
    await page.getByTestId('login-username').fill('admin')
    await page.getByTestId('login-password').fill('not-the-password')
    await page.getByTestId('login-submit').click()
    await poll(() => page.getByTestId('login-error').textContent()).toBe('用户名或密码错误')
    await expectPlainChinese(page, 'login-wrong-password')
    // the check itself sees what issue 14 saw: a step label, a result, an epoch, NaN, a code, an unmarked serial
    const planted = ['通知升级 — 系统 — stage-0 (0)', '已停止 stopped', '近 7 天 1796621357458', '最高 NaN 升', 'no_water', '设备 btn-0001']
    await page.evaluate((lines) => {
      const box = document.createElement('div')
      box.id = 'planted'
      for (const l of lines) box.append(Object.assign(document.createElement('p'), { textContent: l }))
      box.append(Object.assign(document.createElement('p'), { textContent: '图表' }))
      box.lastElementChild!.setAttribute('aria-label', '用水 reminder-34')
      document.body.append(box)
    }, planted)
    expect(await leaks(page)).toHaveLength(planted.length + 1)
    await page.evaluate(() => document.getElementById('planted')!.remove())

    // the queue: three incidents (the service call is a ticket, in its own tab)
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD)
    await page.getByTestId('login-submit').click()
    await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor()
    await poll(() => page.getByTestId('incident-row').count()).toBe(3)
    expect(await page.getByTestId('user-name').textContent()).toBe('管理员')
    await page.getByTestId('queue-chart').locator('canvas').waitFor()
    await poll(() => page.getByTestId('queue-chart').locator('.chart-canvas').getAttribute('aria-label')).toMatch(/^待处理事件按类型:.*紧急呼叫 SOS 待接警 1 起/)
    await expectPlainChinese(page, 'queue')

    // the SOS in detail: the trail in words, reminders folded into one line, the profile, three charts
    const row = (id: string) => page.locator(`[data-testid="incident-row"][data-incident-id="${id}"]`)
    await row(sos).getByTestId('details-button').click()
    const trail = page.getByTestId('event-trail')
    await poll(() => trail.textContent()).toContain(`已提醒值班台、李明(未开通短信,未发送) ${reminders} 次`)
    expect(await trail.locator('li[data-kind="escalated"]').count()).toBeLessThan(8)
    const text = (await trail.textContent())!
    expect(text).toContain('第 1 级通知:值班台、对接系统 一网统管(系统对接)、对接系统 120 调度(系统对接)、李明(未开通短信,未发送)')
    expect(text).toContain('对接系统 一网统管(系统对接):已发送')
    expect(text).toMatch(/对接系统 120 调度\(系统对接\):发送失败/)
    expect(text).toContain('第 2 级通知:值班台、未登记值班主管')
    await poll(() => page.getByTestId('key-safe').textContent()).toBe('门口电表箱内钥匙盒,密码 4821')
    for (const id of ['chart-water', 'chart-presence', 'chart-battery']) await page.getByTestId(id).locator('canvas').waitFor()
    await poll(() => page.getByTestId('chart-water').locator('.chart-canvas').getAttribute('aria-label')).toMatch(/^近 7 天每小时用水量,单位升:共 [\d.]+ 升,最高 [\d.]+ 升\(\d+月\d+日 \d\d:00\)/)
    expect(await page.getByTestId('chart-battery').locator('.chart-canvas').getAttribute('aria-label')).toMatch(/^设备电量,单位百分比:一键通 最近 \d+%/)
    await page.getByTestId('audit-entry').first().waitFor()
    await expectPlainChinese(page, 'detail-sos')

    // the acknowledged fall: who acknowledged, and that the notices stopped
    await row(fall).getByTestId('details-button').click()
    await poll(() => trail.textContent()).toContain('已停止通知:值班员 管理员已接警')
    await expectPlainChinese(page, 'detail-fall')

    // the wellbeing incident: every finding with its evidence, in order, the cleared one marked
    await row(wellbeing).getByTestId('details-button').click()
    const findings = page.getByTestId('detail-explanation').getByTestId('finding')
    await poll(() => findings.count()).toBe(3)
    expect(await findings.allTextContents()).toEqual([
      expect.stringMatching(/12 小时未用水:12 小时用水 0\.001 m³,低于 0\.005 m³ 阈值$/),
      expect.stringMatching(/长时间无活动:平时此时段安静不超过约 5 小时/),
      expect.stringMatching(/卫生间停留过久\(已恢复\):卫生间持续有人 75 分钟/),
    ])
    await poll(() => trail.textContent()).toContain('卫生间停留过久已恢复正常')
    await expectPlainChinese(page, 'detail-findings')

    // the service tickets tab: 刘秀兰's green-key request, dispatched
    await page.getByTestId('tab-tickets').click()
    await poll(() => page.getByTestId('ticket-row').count()).toBe(1)
    expect(await page.getByTestId('ticket-row').textContent()).toContain('梅园长者食堂')
    await expectPlainChinese(page, 'tickets')

    // the health tab: devices by kind and room, serial numbers marked as such
    await page.getByTestId('tab-health').click()
    await poll(() => page.getByTestId('health-row').count()).toBe(5)
    expect(await page.getByTestId('health-row').filter({ hasText: 'btn-0101' }).textContent()).toMatch(/\(\d+分钟前\)/)
    await expectPlainChinese(page, 'health')

    // the households tab, with a household open
    await page.getByTestId('tab-households').click()
    await poll(() => page.getByTestId('household-row').count()).toBe(4)
    await page.getByTestId('household-row').filter({ hasText: '张桂英' }).getByTestId('household-open').click()
    await page.getByTestId('household-detail').getByTestId('chart-water').locator('canvas').waitFor()
    await expectPlainChinese(page, 'households')

    // the family page, from a view link, in both its views
    const link = await p.api<{ token: string }>('POST', `/api/households/${zhang}/contacts/${contact.body.id}/family-link`)
    expect(link.status).toBe(201)
    const family = await context.newPage()
    family.on('pageerror', (e) => errors.push(String(e)))
    await family.goto(`${site.url}/family.html?t=${encodeURIComponent(link.body.token)}`)
    await family.getByTestId('family-incident').first().waitFor()
    await expectPlainChinese(family, 'family')
    await family.getByTestId('care-toggle').click()
    await expectPlainChinese(family, 'family-care')
    expect(errors).toEqual([])
  }, 300_000)
})
