/**
 * The operator console in a real browser (Debian's chromium through playwright-core): a real
 * MQTT button presses SOS, the operator sees it within a second, acknowledges it (the device
 * hears `cmd: ack`) and resolves it; an operator of another community never sees it; axe-core
 * finds no serious or critical accessibility violations. Screenshots go to test-artifacts/.
 */
import type { MqttClient } from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cmdTopic, deviceTopic } from '../../../src/contract/index.js'
import { virtualClock } from '../../../src/shared/clock.js'
import { connectDevice, connectOperator, createOperator, provision, publish, waitFor, type Fixture, type TestPlatform } from '../../helpers/platform.js'
import { axeViolations, logIn, shot as harnessShot, startHarness, type Harness } from './harness.js'

const PASSWORD = 'operator-password'

let h: Harness
let p: TestPlatform
let site: Harness['site']
let browser: Browser
const cleanups: (() => unknown)[] = []

// Built into a directory of its own: the entry-point test serves dashboards/dist at the same time.
beforeAll(async () => {
  h = await startHarness()
  ;({ p, site, browser } = h)
}, 120_000)

afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!()
  await h?.close()
})

/** With `clock`, the page runs on Playwright's clock: time flows as usual until the test moves it itself. */
async function openConsole(username: string, options: { clock?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } })
  cleanups.push(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  if (options.clock) await page.clock.install()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  cleanups.push(() => expect(errors, `page errors of ${username}`).toEqual([]))
  return logIn(page, site.url, username, PASSWORD)
}

const shot = (page: Page, name: string) => harnessShot(page, `console-${name}`)

describe('operator console in a browser', () => {
  let a: Fixture
  let device: MqttClient
  const commands: { topic: string; body: Record<string, unknown> }[] = []

  it('passes axe on the login page', async () => {
    const context = await browser.newContext({ locale: 'zh-CN' })
    cleanups.push(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    await page.goto(site.url + '/')
    await page.getByTestId('login-username').waitFor()
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN')
    expect(await page.getByTestId('login-submit').textContent()).toBe('登录')
    await shot(page, 'login')
    expect(await axeViolations(page)).toEqual([])
  })

  it('shows an SOS from a real MQTT button within a second, only to operators of its community, and handles it', async () => {
    a = await provision(p)
    const b = await provision(p)
    await p.api('POST', `/api/households/${a.householdId}/contacts`, { name: '李明', relation: '子女', phone: '13800138000', position: 0 })
    await createOperator(p, 'op-a', [a.communityId])
    await createOperator(p, 'op-b', [b.communityId])
    const pageA = await openConsole('op-a')
    const pageB = await openConsole('op-b')
    // an admin's socket sees every push as it goes out (one emit reaches the community's room and the admins)
    const watcher = await connectOperator(p, p.adminToken)
    cleanups.push(watcher.close)
    expect(await pageA.getByTestId('incident-row').count()).toBe(0)

    device = await connectDevice(p, a.device)
    cleanups.push(() => void device.end(true))
    device.on('message', (topic, payload) => commands.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }))
    await device.subscribeAsync(cmdTopic(a.device.id), { qos: 1 })

    const pressedAt = Date.now()
    await publish(device, deviceTopic(a.device.id, 'alarm'), { id: 'sos-1', ts: pressedAt, type: 'sos', battery: 90 })
    const row = pageA.getByTestId('incident-row')
    await row.first().waitFor({ timeout: 1000 })
    const elapsed = Date.now() - pressedAt
    expect(elapsed).toBeLessThan(1000)
    expect(await row.count()).toBe(1)
    await expect.poll(() => row.getAttribute('data-state')).toBe('open')
    const incidentId = (await row.getAttribute('data-incident-id'))!
    expect(await row.textContent()).toContain('紧急呼叫 SOS')
    await expect.poll(() => pageA.getByTestId('target').textContent()).toMatch(/目标 60 秒内响应 · 剩余 \d+ 秒/)
    await expect.poll(() => pageA.getByTestId('age').textContent(), { timeout: 3000 }).toMatch(/已持续 00:0[1-9]/)

    // the detail: event trail and the elder's profile with contacts and device health
    await pageA.getByTestId('details-button').click()
    await pageA.getByTestId('event-trail').waitFor()
    await expect.poll(() => pageA.getByTestId('event-trail').textContent()).toContain('事件创建')
    await expect.poll(() => pageA.getByTestId('contact').first().textContent()).toContain('13800138000')
    await expect.poll(() => pageA.getByTestId('device').first().textContent()).toContain(a.device.id)
    await shot(pageA, 'sos-open')
    expect(await axeViolations(pageA)).toEqual([])

    // the other community's operator never sees it: an alarm of her own community, pushed to her
    // console after this one, arrives after anything misrouted to her (one socket, in order)
    const devB = await connectDevice(p, b.device)
    cleanups.push(() => void devB.end(true))
    await publish(devB, deviceTopic(b.device.id, 'alarm'), { id: 'sos-b', type: 'sos' })
    const rowB = pageB.getByTestId('incident-row')
    await rowB.first().waitFor()
    const incidentB = (await rowB.first().getAttribute('data-incident-id'))!
    expect(await rowB.count()).toBe(1)
    expect(await pageB.content()).not.toContain(incidentId)
    await shot(pageB, 'other-community')

    // the service strip: one open incident, nothing acknowledged yet today
    await expect.poll(() => pageA.getByTestId('svc-open').textContent()).toBe('1')
    expect(await pageA.getByTestId('svc-share').textContent()).toBe('—')

    // acknowledge in one click: the button hears `cmd: ack`
    await pageA.getByTestId('ack-button').click()
    await waitFor(() => commands.some((c) => c.body.cmd === 'ack'), 2000, 'cmd ack')
    expect(commands.find((c) => c.body.cmd === 'ack')).toEqual({ topic: cmdTopic(a.device.id), body: expect.objectContaining({ cmd: 'ack', incidentId }) })
    await expect.poll(() => row.getAttribute('data-state')).toBe('acknowledged')
    await expect.poll(() => pageA.getByTestId('event-trail').textContent()).toContain('值班员 op-a')
    // ... and the service strip shows the acknowledged share against the 97.5 % benchmark
    await expect.poll(() => pageA.getByTestId('svc-share').textContent()).toBe('100.0 %')
    expect(await pageA.getByTestId('svc-share').getAttribute('data-meets')).toBe('true')
    expect(await pageA.getByTestId('svc-verdict').textContent()).toContain('达标')
    expect(await pageA.getByTestId('svc-open').textContent()).toBe('0')
    expect(await pageA.getByTestId('svc-median').textContent()).toMatch(/^\d+ 秒$/)
    expect(await pageA.getByTestId('service-strip').textContent()).toContain('基准 97.5 %')
    await shot(pageA, 'sos-acknowledged')
    expect(await axeViolations(pageA)).toEqual([])

    // resolve with an outcome and a note: the queue empties
    await pageA.getByTestId('resolve-outcome').selectOption('emergency_handled')
    await pageA.getByTestId('resolve-note').fill('已上门,老人无恙')
    await pageA.getByTestId('resolve-button').click()
    await pageA.getByTestId('empty-queue').waitFor()
    expect(await pageA.getByTestId('incident-row').count()).toBe(0)
    await waitFor(() => commands.some((c) => c.body.cmd === 'resolved'), 2000, 'cmd resolved')
    const detail = await p.api<{ outcome: string; note: string; state: string }>('GET', `/api/incidents/${incidentId}`)
    expect(detail.body).toMatchObject({ state: 'resolved', outcome: 'emergency_handled', note: '已上门,老人无恙' })
    await shot(pageA, 'resolved')
    // nor its acknowledgement or closing: once they went out, her own incident's closing comes after them
    await watcher.pushed((v) => v.id === incidentId && v.state === 'resolved', 5000, 'the push of the closing')
    expect((await p.api('POST', `/api/incidents/${incidentB}/acknowledge`)).status).toBe(200)
    expect((await p.api('POST', `/api/incidents/${incidentB}/resolve`, { outcome: 'test' })).status).toBe(200)
    await pageB.getByTestId('empty-queue').waitFor()
    expect(await pageB.getByTestId('incident-row').count()).toBe(0)
    expect(await pageB.content()).not.toContain(incidentId)
  }, 60_000)

  it('switches to English and keeps the queue sorted by priority, then age', async () => {
    const page = await openConsole('op-a', { clock: true })
    // An older, less urgent incident first: a device gone offline (a green-key press is a service
    // ticket now, in its own tab, never in this queue).
    const quiet = await provision(p, { communityId: a.communityId })
    await p.app.incidents.recordFindings(a.communityId, [
      { change: 'raised', householdId: quiet.householdId, at: p.app.clock.now(), condition: { key: 'device_offline', kind: 'device_offline', explanation: { zh: '设备离线', en: 'device offline' }, data: {} } },
    ] as Parameters<typeof p.app.incidents.recordFindings>[1])
    await page.getByTestId('incident-row').first().waitFor()
    await publish(device, deviceTopic(a.device.id, 'alarm'), { id: 'fall-1', type: 'fall' })
    await expect.poll(() => page.getByTestId('incident-row').count()).toBe(2)
    const firstText = await page.getByTestId('incident-row').first().textContent()
    expect(firstText).toContain('跌倒') // the fall is more urgent than the older offline device

    // the tone repeats while the fall is open (every other second), until this operator mutes it
    // (for 5 minutes); the page's clock is moved by the test, so each second is one tick
    const beeps = () => page.evaluate(() => (window as unknown as { __anjuBeeps?: number }).__anjuBeeps ?? 0)
    const before = await beeps()
    await page.clock.runFor(4000)
    expect(await beeps()).toBeGreaterThanOrEqual(before + 2)
    await page.getByTestId('mute-button').click()
    await page.getByTestId('unmute-button').waitFor()
    const muted = await beeps()
    await page.clock.runFor(6000)
    expect(await beeps()).toBe(muted)
    expect(await page.getByTestId('unmute-button').textContent()).toMatch(/0[45]:\d\d/)
    const until = Number(await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('anju.mute.'))?.[1]))
    const pageNow = await page.evaluate(() => Date.now())
    expect(until - pageNow).toBeGreaterThan(4 * 60_000)
    expect(until - pageNow).toBeLessThanOrEqual(5 * 60_000 - 6000)
    await page.getByTestId('lang-toggle').click()
    await expect.poll(() => page.getByTestId('incident-row').first().textContent()).toContain('Fall')
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en')
    await shot(page, 'english')
    expect(await axeViolations(page)).toEqual([])
  }, 60_000)

  it('lets a family member answer from their link (family.html?t=…)', async () => {
    const fx = await provision(p, { communityId: a.communityId })
    const contact = await p.api<{ id: string }>('POST', `/api/households/${fx.householdId}/contacts`, { name: '王芳', relation: '子女', phone: '13900139000', position: 0 })
    const dev = await connectDevice(p, fx.device)
    cleanups.push(() => void dev.end(true))
    await publish(dev, deviceTopic(fx.device.id, 'alarm'), { id: 'fam-1', type: 'sos' })
    let incidentId = ''
    await waitFor(async () => {
      const list = await p.api<{ id: string; deviceId: string }[]>('GET', '/api/incidents?state=active')
      incidentId = list.body.find((i) => i.deviceId === fx.device.id)?.id ?? ''
      return Boolean(incidentId)
    }, 2000, 'the incident')
    const token = p.app.links.token({ incidentId, contactId: contact.body.id, expiresAt: Date.now() + 3_600_000, version: 0 })

    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 } })
    cleanups.push(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    await page.goto(`${site.url}/family.html?t=${encodeURIComponent(token)}`)
    await page.getByTestId('answer-on-my-way').waitFor()
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('answer-on-my-way').click()
    await expect.poll(() => page.getByTestId('family-status').textContent()).toBe('已告知值班员您正在前往,谢谢。到达后请点“已到达”。')
    await page.getByTestId('answer-arrived').waitFor()
    await shot(page, 'family-answered')
    // on the way is not an acknowledgement: the SOS stays with the operators (docs/operations.md §family)
    const detail = await p.api<{ state: string; events: { kind: string; actor: string }[] }>('GET', `/api/incidents/${incidentId}`)
    expect(detail.body.state).toBe('open')
    expect(detail.body.events.map((e) => [e.kind, e.actor])).toContainEqual(['family_en_route', 'family:王芳'])

    await page.goto(`${site.url}/family.html?t=not-a-token`)
    await page.getByTestId('family-invalid').waitFor()
    await shot(page, 'family-invalid')
  }, 60_000)
  it('lists a device that reported {online:false} on its status topic as offline, worst first, on the health board', async () => {
    const silent = await provision(p, { communityId: a.communityId })
    const weak = await provision(p, { communityId: a.communityId })
    const elder = (await p.api<{ elderName: string }>('GET', `/api/households/${silent.householdId}`)).body.elderName
    const d1 = await connectDevice(p, silent.device)
    const d2 = await connectDevice(p, weak.device)
    cleanups.push(() => void d1.end(true), () => void d2.end(true))
    await publish(d2, deviceTopic(weak.device.id, 'status'), { online: true, battery: 12 })
    // what the broker publishes as the Last Will when the device drops off
    await publish(d1, deviceTopic(silent.device.id, 'status'), { online: false })
    await waitFor(async () => {
      const list = (await p.api<{ id: string; online: boolean | null; battery: number | null }[]>('GET', '/api/devices')).body
      return list.find((d) => d.id === silent.device.id)?.online === false && list.find((d) => d.id === weak.device.id)?.battery === 12
    }, 3000, 'the status reports')

    const page = await openConsole('op-a')
    await page.getByTestId('tab-health').click()
    await page.getByTestId('health-board').waitFor()
    const row = page.locator(`[data-testid="health-row"][data-device-id="${silent.device.id}"]`)
    await expect.poll(() => row.getAttribute('data-state')).toBe('offline')
    expect(await row.textContent()).toContain('离线')
    expect(await row.textContent()).toContain(elder)
    const weakRow = page.locator(`[data-testid="health-row"][data-device-id="${weak.device.id}"]`)
    expect(await weakRow.getAttribute('data-state')).toBe('low_battery')
    expect(await weakRow.textContent()).toContain('12%')
    // worst first: every offline row comes before the first low-battery or healthy one
    const statuses = await page.getByTestId('health-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')))
    const rank: Record<string, number> = { offline: 0, silent: 1, low_battery: 2, not_reporting_yet: 3, online: 4 }
    const ranks = statuses.map((x) => rank[x ?? ''] ?? 9)
    expect(ranks).toEqual([...ranks].sort((x, y) => x - y))
    // the header counts come from the server, over every device of the community
    expect(Number(await page.getByTestId('health-filter-offline').getAttribute('data-count'))).toBeGreaterThanOrEqual(1)
    await page.getByTestId('health-filter-low_battery').click()
    await expect.poll(() => page.getByTestId('health-row').evaluateAll((rows) => [...new Set(rows.map((r) => r.getAttribute('data-state')))])).toEqual(['low_battery'])
    expect(await weakRow.isVisible()).toBe(true)
    await page.getByTestId('health-filter-all').click()
    await expect.poll(() => row.getAttribute('data-state')).toBe('offline')
    expect(await page.getByTestId('service-strip').isVisible()).toBe(true)
    await shot(page, 'health-board')
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('lang-toggle').click()
    await expect.poll(() => row.textContent()).toContain('Offline')
    await shot(page, 'health-board-en')
    expect(await axeViolations(page)).toEqual([])
  }, 60_000)

  it('lists households with search and a district tree coloured by incident state', async () => {
    const tower = await p.api<{ id: string }>('POST', '/api/households', { communityId: a.communityId, elderName: '赵桂兰', address: '3号楼 2单元 501' })
    expect(tower.status).toBe(201)
    const active = (await p.api<{ householdId: string; type: string; state: string }[]>('GET', '/api/incidents?state=active')).body

    const page = await openConsole('op-a')
    await page.getByTestId('tab-households').click()
    await page.getByTestId('households').waitFor()
    const rows = page.getByTestId('household-row')
    await expect.poll(() => rows.count()).toBeGreaterThan(2)
    const total = await rows.count()

    // colours: an open emergency is red, another active incident amber, none green (rows), counted per building (tree)
    const emergencyHome = active.find((i) => ['sos', 'fall', 'smoke', 'gas'].includes(i.type))!.householdId
    expect(await page.locator(`[data-testid="household-row"][data-household-id="${emergencyHome}"]`).getAttribute('data-state')).toBe('emergency')
    const amberHome = active.find((i) => !['sos', 'fall', 'smoke', 'gas'].includes(i.type) && !active.some((j) => j.householdId === i.householdId && ['sos', 'fall', 'smoke', 'gas'].includes(j.type)))
    if (amberHome) expect(await page.locator(`[data-testid="household-row"][data-household-id="${amberHome.householdId}"]`).getAttribute('data-state')).toBe('incident')
    expect(await page.locator(`[data-testid="household-row"][data-household-id="${tower.body.id}"]`).getAttribute('data-state')).toBe('calm')
    const tree = page.getByTestId('district-tree')
    const community = tree.locator(`[data-testid="district-community"][data-community-id="${a.communityId}"]`)
    const emergencies = await community.getByTestId('district-building').evaluateAll((bs) => bs.reduce((n, b) => n + Number(b.getAttribute('data-emergency')), 0))
    expect(emergencies).toBeGreaterThanOrEqual(1)
    // street → community → building (parsed from the address), with its count of homes
    const building = community.locator('[data-testid="district-building"][data-building="3号楼"]')
    expect(Number(await building.getAttribute('data-households'))).toBeGreaterThanOrEqual(1)
    expect(await building.textContent()).toContain('3号楼')
    expect(await tree.textContent()).toContain('测试街道')
    await shot(page, 'households')
    expect(await axeViolations(page)).toEqual([])

    // search by name, then by address
    await page.getByTestId('household-search').fill('赵桂')
    await expect.poll(() => rows.count()).toBe(1)
    expect(await rows.first().textContent()).toContain('赵桂兰')
    expect(await page.getByTestId('household-count').textContent()).toBe('显示 1–1 / 共 1 户')
    await page.getByTestId('household-search').fill('2单元')
    await expect.poll(() => rows.count()).toBe(1)
    await page.getByTestId('household-search').fill('没有这个人')
    await page.getByTestId('household-empty').waitFor()
    expect(await page.getByTestId('household-count').textContent()).toBe('共 0 户')
    await page.getByTestId('household-search').fill('')
    await expect.poll(() => rows.count()).toBe(total)
    await page.getByTestId('lang-toggle').click()
    await expect.poll(() => page.getByTestId('tab-households').textContent()).toBe('Households')
    await shot(page, 'households-en')
    expect(await axeViolations(page)).toEqual([])
  }, 60_000)

  it('tells a night operator her login has ended, instead of leaving her on a console that no longer hears alarms', async () => {
    const clock = virtualClock(Date.UTC(2026, 0, 1, 12))
    const { p: vp, site: vsite } = await h.another({ clock })
    const fx = await provision(vp)
    await createOperator(vp, 'op-night', [fx.communityId])
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } })
    cleanups.push(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    await page.goto(vsite.url + '/')
    await page.getByTestId('login-username').fill('op-night')
    await page.getByTestId('login-password').fill(PASSWORD)
    await page.getByTestId('login-submit').click()
    await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor()
    clock.advance(12 * 3_600_000) // the session's end, with nothing done on the console since half-way
    await vp.app.realtime.settle()
    await page.getByTestId('login-error').filter({ hasText: '登录已过期,请重新登录。' }).waitFor()
    await shot(page, 'session-ended')
  })
})
