/**
 * The household history in the console and the family view, in a real browser (Debian's chromium
 * through playwright-core) against the real platform: real MQTT devices publish contract payloads,
 * the operator's detail draws the three charts from them, a family member follows an SOS from a
 * standing view link, answers it, and reads it in 关怀版; on a virtual clock, a quiet spell makes
 * the platform ask the family "is she with you today?" on that page, and their answers count;
 * axe-core finds no serious or critical violations. Screenshots go to test-artifacts/.
 */
import type { MqttClient } from 'mqtt'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../../src/contract/index.js'
import { virtualClock, type VirtualClock } from '../../../src/shared/clock.js'
import { connectDevice, createOperator, provision, publish, waitFor, type Fixture, type TestPlatform } from '../../helpers/platform.js'
import { axeViolations, shot, startHarness, type Harness } from './harness.js'

const PASSWORD = 'operator-password'
const HOUR = 3_600_000

let h: Harness
let p: TestPlatform
const cleanups: (() => unknown)[] = []

beforeAll(async () => {
  h = await startHarness()
  p = h.p
}, 120_000)

afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!()
  await h?.close()
})

async function newPage(viewport: { width: number; height: number }, options: { locale?: string; timezoneId?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await h.browser.newContext({ locale: 'zh-CN', viewport, ...options })
  cleanups.push(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  cleanups.push(() => expect(errors, 'page errors').toEqual([]))
  return { context, page }
}

async function openConsole(username: string): Promise<Page> {
  const { page } = await newPage({ width: 1280, height: 900 })
  await page.goto(h.site.url + '/')
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(PASSWORD)
  await page.getByTestId('login-submit').click()
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor()
  return page
}

/** A device of the household, created through the REST API and connected over MQTT. */
async function addDevice(householdId: string, id: string, kind: string, room: string | null): Promise<MqttClient> {
  const created = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id, householdId, kind, room })
  expect(created.status).toBe(201)
  const client = await connectDevice(p, created.body)
  cleanups.push(() => void client.end(true))
  return client
}

const telemetry = (c: MqttClient, id: string, body: Record<string, unknown>) => publish(c, deviceTopic(id, 'telemetry'), body)
const status = (c: MqttClient, id: string, body: Record<string, unknown>) => publish(c, deviceTopic(id, 'status'), body)

async function activeIncidentOf(deviceId: string): Promise<string> {
  let id = ''
  await waitFor(async () => {
    const list = await p.api<{ id: string; deviceId: string }[]>('GET', '/api/incidents?state=active')
    id = list.body.find((i) => i.deviceId === deviceId)?.id ?? ''
    return Boolean(id)
  }, 3000, `the incident of ${deviceId}`)
  return id
}

interface History {
  water: { hourly: { at: number; litres: number | null }[] }
  presence: { rooms: { deviceId: string; room: string | null; spans: unknown[] }[] }
  battery: { devices: { deviceId: string; points: unknown[] }[] }
  alerts: { incidentId: string; to: number | null }[]
}

const dataPoints = async (page: Page, testid: string) => Number(await page.getByTestId(testid).getAttribute('data-points'))

describe('household history in the console', () => {
  it('draws water per hour, presence per room and battery per device from real MQTT devices, and shows the key safe', async () => {
    const a = await provision(p)
    const patched = await p.api('PATCH', `/api/households/${a.householdId}`, { keySafe: '门口电表箱内,密码 2580' })
    expect(patched.status).toBe(200)
    const button = await connectDevice(p, a.device)
    cleanups.push(() => void button.end(true))
    const wm = `wm-h-${a.householdId.slice(-6)}`
    const pr = `pr-h-${a.householdId.slice(-6)}`
    const meter = await addDevice(a.householdId, wm, 'water', 'kitchen')
    const sensor = await addDevice(a.householdId, pr, 'presence', 'bedroom')

    // the last 20 hours, oldest first (a device clock may be up to 24 h behind): a meter reading an
    // hour, the total climbing by day and still at night; the bedroom sensor every 15 minutes
    const now = Date.now()
    let total = 12.5
    for (let i = 20; i >= 0; i--) {
      const ts = now - i * HOUR + 60_000
      const hour = new Date(ts).getHours()
      total += hour >= 7 && hour <= 21 ? 0.008 + (i % 3) * 0.006 : 0
      await telemetry(meter, wm, { id: `w-${i}`, ts, kind: 'water', totalM3: Number(total.toFixed(3)), flowLpm: i % 2 ? 1.5 : 0 })
    }
    for (let q = 48; q >= 1; q--) {
      const phase = q % 8
      await telemetry(sensor, pr, { id: `p-${q}`, ts: now - q * 15 * 60_000, kind: 'presence', occupied: phase < 6, motion: phase < 3 })
    }
    for (let i = 12; i >= 0; i--) {
      const ts = now - i * HOUR + 30_000
      await status(button, a.device.id, { ts, online: true, battery: 95 - Math.floor((12 - i) / 4) })
      await status(meter, wm, { ts, online: true, battery: 64 - Math.floor((12 - i) / 3) })
    }

    // the platform has recorded it (the history is written asynchronously)
    let history: History | undefined
    await waitFor(async () => {
      const r = await p.api<History>('GET', `/api/households/${a.householdId}/history`)
      history = r.body
      return r.status === 200
        && r.body.water.hourly.some((x) => (x.litres ?? 0) > 0)
        && r.body.presence.rooms.some((x) => x.spans.length > 0)
        && r.body.battery.devices.some((x) => x.points.length > 0)
    }, 5000, 'the history')
    expect(history!.presence.rooms.map((r) => [r.deviceId, r.room])).toEqual([[pr, 'bedroom']])

    // the SOS: the operator opens it and sees the history drawn
    await publish(button, deviceTopic(a.device.id, 'alarm'), { id: 'sos-h', ts: Date.now(), type: 'sos', battery: 92 })
    const incidentId = await activeIncidentOf(a.device.id)
    await createOperator(p, 'op-hist', [a.communityId])
    const page = await openConsole('op-hist')
    await page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`).getByTestId('details-button').click()
    await expect.poll(() => page.getByTestId('key-safe').textContent()).toBe('门口电表箱内,密码 2580')
    await page.getByTestId('chart-water').waitFor()
    await expect.poll(() => dataPoints(page, 'chart-water')).toBeGreaterThan(0)
    await expect.poll(() => dataPoints(page, 'chart-presence')).toBeGreaterThan(0)
    await expect.poll(() => dataPoints(page, 'chart-battery')).toBeGreaterThan(0)
    expect(await dataPoints(page, 'chart-water')).toBe(history!.water.hourly.filter((x) => x.litres != null).length)
    expect(await dataPoints(page, 'chart-battery')).toBe(history!.battery.devices.reduce((n, d) => n + d.points.length, 0))
    // each chart has drawn its canvas, with an ECharts aria description
    for (const id of ['chart-water', 'chart-presence', 'chart-battery']) {
      const canvas = page.getByTestId(id).locator('.chart-canvas')
      await expect.poll(() => canvas.locator('canvas').count()).toBe(1)
      expect(await canvas.getAttribute('aria-label')).toBeTruthy()
    }
    // the SOS is an alert window on the water chart (from its opening to now)
    const alerts = (await p.api<History>('GET', `/api/households/${a.householdId}/history`)).body.alerts
    expect(alerts).toContainEqual(expect.objectContaining({ incidentId, to: null }))
    await page.getByTestId('history').scrollIntoViewIfNeeded()
    await shot(page, 'console-history')
    expect(await axeViolations(page)).toEqual([])

    // a household without readings says so instead of drawing empty charts
    const bare = await provision(p, { communityId: a.communityId })
    const bareButton = await connectDevice(p, bare.device)
    cleanups.push(() => void bareButton.end(true))
    await publish(bareButton, deviceTopic(bare.device.id, 'alarm'), { id: 'sos-bare', type: 'sos' })
    const bareIncident = await activeIncidentOf(bare.device.id)
    await page.locator(`[data-testid="incident-row"][data-incident-id="${bareIncident}"]`).getByTestId('details-button').click()
    await page.getByTestId('chart-water-empty').waitFor()
    expect(await page.getByTestId('chart-water-empty').textContent()).toBe('暂无数据')
    expect(await dataPoints(page, 'chart-water')).toBe(0)
    expect(await page.getByTestId('key-safe').count()).toBe(0)
  }, 60_000)

  it("opens a household's profile and history from the households view, with no incident", async () => {
    const a = await provision(p)
    expect((await p.api('PATCH', `/api/households/${a.householdId}`, { keySafe: '钥匙在物业' })).status).toBe(200)
    const wm = `wm-v-${a.householdId.slice(-6)}`
    const meter = await addDevice(a.householdId, wm, 'water', 'kitchen')
    const now = Date.now()
    await telemetry(meter, wm, { id: 'v-1', ts: now - 3 * HOUR, kind: 'water', totalM3: 5 })
    await telemetry(meter, wm, { id: 'v-2', ts: now - 2 * HOUR, kind: 'water', totalM3: 5.02 })
    await waitFor(async () => (await p.api<History>('GET', `/api/households/${a.householdId}/history`)).body.water.hourly.some((x) => (x.litres ?? 0) > 0), 5000, 'the history')
    await createOperator(p, 'op-hh-view', [a.communityId])
    const page = await openConsole('op-hh-view')
    await page.getByTestId('tab-households').click()
    await page.locator(`[data-testid="household-row"][data-household-id="${a.householdId}"]`).getByTestId('household-open').click()
    const panel = page.getByTestId('household-detail')
    await expect.poll(() => panel.getByTestId('key-safe').textContent()).toBe('钥匙在物业')
    await expect.poll(() => dataPoints(page, 'chart-water')).toBeGreaterThan(0)
    expect(await page.getByTestId('queue').locator('[data-testid="incident-row"]').count()).toBe(0)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'console-household-detail')
    await panel.getByTestId('household-detail-close').click()
    expect(await page.getByTestId('household-detail').count()).toBe(0)
  }, 60_000)

  it("makes a family member's view link from the incident detail, and the link opens that elder on a phone", async () => {
    const a = await provision(p)
    const elder = (await p.api<{ elderName: string }>('GET', `/api/households/${a.householdId}`)).body.elderName
    expect((await p.api('POST', `/api/households/${a.householdId}/contacts`, { name: '王芳', relation: '子女', phone: '13800138009' })).status).toBe(201)
    const button = await connectDevice(p, a.device)
    cleanups.push(() => void button.end(true))
    await publish(button, deviceTopic(a.device.id, 'alarm'), { id: 'sos-link', type: 'sos' })
    const incidentId = await activeIncidentOf(a.device.id)
    await createOperator(p, 'op-link', [a.communityId])
    const page = await openConsole('op-link')
    await page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`).getByTestId('details-button').click()
    await page.getByTestId('contact').filter({ hasText: '王芳' }).getByTestId('make-family-link').click()
    const url = await page.getByTestId('family-link-url').inputValue()
    expect(url).toMatch(/\/family\.html\?t=/)
    expect(await axeViolations(page)).toEqual([])

    // The link names the platform's public address; the test site serves the same page.
    const { page: phone } = await newPage({ width: 390, height: 844 })
    await phone.goto(h.site.url + new URL(url).pathname + new URL(url).search)
    await expect.poll(() => phone.getByTestId('family-elder').textContent()).toBe(elder)
    await expect.poll(() => phone.locator(`[data-testid="family-incident"][data-incident-id="${incidentId}"]`).count()).toBe(1)

    // The phone is lost: the operator revokes the links, and the open page says the link is no longer valid at once.
    await page.getByTestId('contact').filter({ hasText: '王芳' }).getByTestId('revoke-family-links').click()
    await page.getByTestId('family-links-revoked').waitFor()
    await phone.getByTestId('family-invalid').waitFor({ timeout: 3000 })
    expect(await page.getByTestId('family-link-url').count()).toBe(0)
  }, 60_000)
})

describe('family view', () => {
  let home: Fixture
  let elderName = ''
  let viewToken = ''
  let viewUrl = ''
  let contactId = ''

  it('follows an SOS from a standing view link: status at a glance, who handles it, the answer, 关怀版', async () => {
    home = await provision(p)
    elderName = (await p.api<{ elderName: string }>('GET', `/api/households/${home.householdId}`)).body.elderName
    const contact = await p.api<{ id: string }>('POST', `/api/households/${home.householdId}/contacts`, { name: '李明', relation: '子女', phone: '13800138001', position: 0 })
    const link = await p.api<{ url: string; token: string; expiresAt: number }>('POST', `/api/households/${home.householdId}/contacts/${contact.body.id}/family-link`)
    expect(link.status).toBeLessThan(300)
    expect(link.body.url).toContain('/family.html?t=')
    expect(link.body.expiresAt).toBeGreaterThan(Date.now() + 30 * 24 * HOUR)
    viewToken = link.body.token
    contactId = contact.body.id
    viewUrl = `${h.site.url}/family.html?t=${encodeURIComponent(viewToken)}`

    // the elder's morning: moving in the living room, a little water, and a meter whose battery runs low
    const button = await connectDevice(p, home.device)
    cleanups.push(() => void button.end(true))
    const wm = `wm-f-${home.householdId.slice(-6)}`
    const pr = `pr-f-${home.householdId.slice(-6)}`
    const meter = await addDevice(home.householdId, wm, 'water', null)
    const sensor = await addDevice(home.householdId, pr, 'presence', 'living_room')
    const now = Date.now()
    await status(button, home.device.id, { ts: now, online: true, battery: 90 })
    await status(sensor, pr, { ts: now, online: true, battery: 80 })
    await status(meter, wm, { ts: now, online: true, battery: 12 })
    await telemetry(meter, wm, { id: 'fw-1', ts: now - 40 * 60_000, kind: 'water', totalM3: 3.1, flowLpm: 0 })
    await telemetry(meter, wm, { id: 'fw-2', ts: now - 20 * 60_000, kind: 'water', totalM3: 3.14, flowLpm: 4 })
    await telemetry(sensor, pr, { id: 'fp-1', ts: now - 10 * 60_000, kind: 'presence', occupied: true, motion: true })
    await waitFor(async () => {
      const o = await p.api<{ lastActivity: unknown; lastWaterUse: unknown; devices: { problems: unknown[] } }>('GET', `/api/family/overview?t=${encodeURIComponent(viewToken)}`)
      const low = (await p.api<{ householdId: string }[]>('GET', '/api/incidents?state=active')).body.some((i) => i.householdId === home.householdId)
      return o.status === 200 && Boolean(o.body.lastActivity && o.body.lastWaterUse) && o.body.devices.problems.length > 0 && low
    }, 5000, 'the overview and the low-battery incident')

    const { page } = await newPage({ width: 390, height: 844 })
    await page.goto(viewUrl)
    await expect.poll(() => page.getByTestId('family-elder').textContent()).toBe(elderName)
    expect(await page.getByTestId('last-activity').textContent()).toContain('客厅')
    expect(await page.getByTestId('last-activity').getAttribute('data-room')).toBe('living_room')
    expect(await page.getByTestId('last-water').textContent()).not.toBe('暂无用水记录')
    expect(await page.getByTestId('devices-state').getAttribute('data-ok')).toBe('false')
    expect(await page.getByTestId('device-problem').first().textContent()).toContain('水表:电量低')
    // the low battery is a maintenance task for the installers: the family sees the device problem, not the task
    const active = (await p.api<{ id: string; householdId: string; type: string }[]>('GET', '/api/incidents?state=active')).body.filter((i) => i.householdId === home.householdId)
    expect(active.map((i) => i.type)).toEqual(['low_battery'])
    expect(await page.getByTestId('family-no-incidents').textContent()).toBe('最近 7 天没有事件')
    expect(await page.getByTestId('family-incident').count()).toBe(0)
    expect(await axeViolations(page)).toEqual([])

    // an SOS from the real button appears at once, pushed over the family's live channel (not the
    // 15 s poll): nobody on it yet
    const pressed = Date.now()
    await publish(button, deviceTopic(home.device.id, 'alarm'), { id: 'sos-f', ts: Date.now(), type: 'sos', battery: 90 })
    const incidentId = await activeIncidentOf(home.device.id)
    const card = page.locator(`[data-testid="family-incident"][data-incident-id="${incidentId}"]`)
    await card.waitFor({ timeout: 3000 })
    expect(Date.now() - pressed).toBeLessThan(3000)
    expect(await card.getByTestId('incident-state').textContent()).toBe('等待值班员接警')
    expect(await card.getByTestId('incident-handler').textContent()).toContain('还没有人接手')
    expect(await card.locator('h3').textContent()).toContain('紧急呼叫 SOS')

    // the operator acknowledges (through the API): the family sees who handles it
    const opToken = await createOperator(p, 'op-fam', [home.communityId])
    expect((await p.api('POST', `/api/incidents/${incidentId}/acknowledge`, {}, opToken)).status).toBe(200)
    await expect.poll(() => card.getAttribute('data-handled-by-kind'), { timeout: 3000 }).toBe('operator')
    expect(await card.getByTestId('incident-handler').textContent()).toContain('op-fam')
    expect(await card.getByTestId('incident-state').textContent()).toBe('已有人在处理')
    await shot(page, 'family-view')
    expect(await axeViolations(page)).toEqual([])

    // 我去看看 on the acknowledged SOS: the operators hear it; the operator who took it still handles it
    await card.getByTestId('answer-on-my-way').click()
    await expect.poll(() => card.getByTestId('family-status').textContent()).toBe('已告知值班员您正在前往,谢谢。到达后请点“已到达”。')
    const detail = await p.api<{ events: { kind: string; actor: string }[] }>('GET', `/api/incidents/${incidentId}`)
    expect(detail.body.events.map((e) => [e.kind, e.actor])).toContainEqual(['family_en_route', 'family:李明'])
    // the answer stands on the card beside the operator who handles it
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
    await expect.poll(() => card.getByTestId('incident-responses').textContent()).toContain('李明')
    expect(await card.getByTestId('incident-responses').textContent()).toContain('我去看看')

    // the operator closes it: the family reads the outcome, and can no longer answer it
    expect((await p.api('POST', `/api/incidents/${incidentId}/resolve`, { outcome: 'emergency_handled' }, opToken)).status).toBe(200)
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
    await expect.poll(() => card.getAttribute('data-state')).toBe('resolved')
    expect(await card.getByTestId('incident-state').textContent()).toBe('已处理完毕')
    expect(await card.getByTestId('incident-outcome').textContent()).toBe('结果:紧急情况已处理')
    expect(await card.getByTestId('answer-on-my-way').count()).toBe(0)

    // a fall nobody has taken yet: 我去看看 says the family member is on the way, but the fall stays
    // with the operators (not an acknowledgement); the card now offers 已到达
    await publish(button, deviceTopic(home.device.id, 'alarm'), { id: 'fall-f', ts: Date.now(), type: 'fall', battery: 90 })
    const fallId = await activeIncidentOf(home.device.id)
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
    const fall = page.locator(`[data-testid="family-incident"][data-incident-id="${fallId}"]`)
    await fall.waitFor()
    expect(await fall.getAttribute('data-handled-by-kind')).toBe('')
    await fall.getByTestId('answer-on-my-way').click()
    await expect.poll(() => fall.getAttribute('data-family-state')).toBe('en_route')
    expect(await fall.getByTestId('family-going').textContent()).toContain('李明 正在前往')
    expect(await fall.getAttribute('data-handled-by-kind')).toBe('')
    expect(await fall.getByTestId('incident-handler').textContent()).toContain('还没有人接手')
    expect(await fall.getByTestId('answer-called-fine').count()).toBe(0)
    expect(await fall.getByTestId('answer-arrived').isEnabled()).toBe(true)
    expect((await p.api<{ state: string }>('GET', `/api/incidents/${fallId}`)).body.state).toBe('open')

    // 关怀版: much larger type, pressed state announced, remembered across visits
    const toggle = page.getByTestId('care-toggle')
    expect(await toggle.getAttribute('aria-pressed')).toBe('false')
    const fontSize = () => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize))
    const bodyText = () => page.getByTestId('last-activity').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
    const before = await fontSize()
    const textBefore = await bodyText()
    await toggle.click()
    expect(await toggle.getAttribute('aria-pressed')).toBe('true')
    expect(await fontSize()).toBeGreaterThanOrEqual(before * 1.4)
    expect(await bodyText()).toBeGreaterThanOrEqual(textBefore * 1.4)
    expect(await fall.getByTestId('incident-state').textContent()).toBe('还没有人处理') // (on the way is not handling it)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'family-view-care')
    await page.reload()
    await page.getByTestId('family-elder').waitFor()
    expect(await page.getByTestId('care-toggle').getAttribute('aria-pressed')).toBe('true')
    expect(await fontSize()).toBeGreaterThanOrEqual(before * 1.4)
    await page.getByTestId('care-toggle').click()
    expect(await fontSize()).toBe(before)

    // in English too
    await page.getByTestId('lang-toggle').click()
    await expect.poll(() => page.getByTestId('last-activity').textContent()).toContain('Living room')
    expect(await fall.getByTestId('incident-state').textContent()).toBe('Waiting for the duty operator')
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en')
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('lang-toggle').click()

    // headings in order (h1, then h2s, then h3s under them), every button named
    const levels = await page.locator('h1, h2, h3, h4').evaluateAll((hs) => hs.map((x) => Number(x.tagName[1])))
    expect(levels[0]).toBe(1)
    levels.forEach((l, i) => { if (i) expect(l - levels[i - 1]!).toBeLessThanOrEqual(1) })
  }, 90_000)

  it('shows a household link only its own elder; a tampered or foreign token is refused', async () => {
    const other = await provision(p)
    const otherElder = (await p.api<{ elderName: string }>('GET', `/api/households/${other.householdId}`)).body.elderName
    const otherContact = await p.api<{ id: string }>('POST', `/api/households/${other.householdId}/contacts`, { name: '王芳', relation: '子女', phone: '13900139001', position: 0 })
    const otherButton = await connectDevice(p, other.device)
    cleanups.push(() => void otherButton.end(true))
    await publish(otherButton, deviceTopic(other.device.id, 'alarm'), { id: 'sos-o', type: 'sos' })
    const otherIncident = await activeIncidentOf(other.device.id)

    const { page } = await newPage({ width: 390, height: 844 })
    await page.goto(viewUrl)
    await expect.poll(() => page.getByTestId('family-elder').textContent()).toBe(elderName)
    const html = await page.content()
    expect(html).not.toContain(otherElder)
    expect(html).not.toContain(otherIncident)

    // A's link cannot answer B's incident; a contact of B gets no link to A's household
    const foreign = await p.api('POST', `/api/incidents/${otherIncident}/family-response`, { token: viewToken, answer: 'on_my_way' })
    expect(foreign.status).toBe(403)
    const crossed = await p.api('POST', `/api/households/${home.householdId}/contacts/${otherContact.body.id}/family-link`)
    expect(crossed.status).toBeGreaterThanOrEqual(400)

    // B's own link shows B
    const otherLink = await p.api<{ token: string }>('POST', `/api/households/${other.householdId}/contacts/${otherContact.body.id}/family-link`)
    await page.goto(`${h.site.url}/family.html?t=${encodeURIComponent(otherLink.body.token)}`)
    await expect.poll(() => page.getByTestId('family-elder').textContent()).toBe(otherElder)
    expect(await page.content()).not.toContain(elderName)

    // a tampered token (one character of the signature changed)
    const last = viewToken.at(-1) === 'A' ? 'B' : 'A'
    await page.goto(`${h.site.url}/family.html?t=${encodeURIComponent(viewToken.slice(0, -1) + last)}`)
    await page.getByTestId('family-invalid').waitFor()
    expect(await page.getByTestId('family-invalid').textContent()).toContain('链接无效或已过期')
    expect(await page.content()).not.toContain(elderName)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'family-view-invalid')
    // an expired view link, and none at all
    const expired = p.app.links.viewToken({ householdId: home.householdId, contactId, expiresAt: Date.now() - 1000, version: 0 })
    await page.goto(`${h.site.url}/family.html?t=${encodeURIComponent(expired)}`)
    await page.getByTestId('family-invalid').waitFor()
    expect(await page.content()).not.toContain(elderName)
    await page.goto(`${h.site.url}/family.html`)
    await page.getByTestId('family-invalid').waitFor()
  }, 60_000)
})

describe('the family is asked "is she with you today?"', () => {
  // On a virtual clock (as tests/detectors/activity-service.test.ts): the platform's time moves only when the test moves it.
  const MIN = 60_000
  /** Monday 23 November 2026, 08:00 in Shanghai. */
  const T0 = Date.UTC(2026, 10, 23, 0, 0, 0)
  /** The devices report every 20 virtual minutes. */
  const STEP = 20 * MIN
  /** No button that can ask (no `caps`): the family is asked after the day's 4 quiet hours plus an hour. */
  const ASK_AFTER = 300 * MIN
  /** A time of day in China (UTC+8), epoch ms. */
  const china = (month: number, day: number, hour: number) => Date.UTC(2026, month - 1, day, hour - 8)

  interface AskedHome { householdId: string; token: string; radarId: string; radar: MqttClient; buttonId: string; button: MqttClient }
  interface Virtual { p: TestPlatform; site: { url: string }; clock: VirtualClock }
  let seq = 0

  async function virtualPlatform(): Promise<Virtual> {
    const clock = virtualClock(T0)
    const { p: vp, site } = await h.another({ clock, env: { ANJU_SESSION_TTL_HOURS: '2000' } })
    return { p: vp, site, clock }
  }

  const settle = async (vp: TestPlatform) => {
    await vp.app.detectors.settle()
    await vp.app.questions.settle()
    await vp.app.routing.settle()
    await vp.app.outbox.idle()
  }

  /** A flat with a radar in the living room, a 一键通 that cannot ask (it declares no caps) and a son; a view link for each family contact. */
  async function askedHome(v: Virtual, elderName: string, family: { name: string; phone: string }[]): Promise<AskedHome & { tokens: string[] }> {
    const vp = v.p
    const { body: c } = await vp.api<{ id: string }>('POST', '/api/communities', { name: `${elderName}的社区`, street: '新华路街道' })
    const { body: hh } = await vp.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName, address: '3号楼 201室' })
    const tokens: string[] = []
    for (const f of family) {
      const contact = await vp.api<{ id: string }>('POST', `/api/households/${hh.id}/contacts`, { name: f.name, relation: '子女', phone: f.phone })
      expect(contact.status).toBe(201)
      const link = await vp.api<{ token: string }>('POST', `/api/households/${hh.id}/contacts/${contact.body.id}/family-link`)
      expect(link.status).toBe(201)
      tokens.push(link.body.token)
    }
    const install = async (id: string, kind: string) => {
      const r = await vp.api<{ id: string; secret: string }>('POST', '/api/devices', { id, householdId: hh.id, kind, room: 'living_room', heartbeatS: 3600 })
      expect(r.status).toBe(201)
      const client = await connectDevice(vp, r.body)
      cleanups.push(() => void client.end(true))
      return client
    }
    const suffix = hh.id.slice(-6)
    const radarId = `pr-q-${suffix}`
    const buttonId = `btn-q-${suffix}`
    const radar = await install(radarId, 'presence')
    const button = await install(buttonId, 'button')
    await waitFor(async () => Object.keys((await vp.app.detectors.monitor(hh.id))?.devices ?? {}).length === 2, 5000, 'the detectors to know the devices')
    await waitFor(async () => (await vp.app.detectors.monitor(hh.id))?.activity?.familyReachable === true, 5000, 'the detectors to know the family')
    return { householdId: hh.id, token: tokens[0]!, tokens, radarId, radar, buttonId, button }
  }

  /** Every device says it is alive (the button without caps); the radar sees nobody moving. */
  async function report(v: Virtual, homes: AskedHome[]) {
    for (const home of homes) {
      const ts = v.clock.now()
      await telemetry(home.radar, home.radarId, { id: `q-${++seq}`, ts, kind: 'presence', occupied: false, motion: false })
      await status(home.button, home.buttonId, { ts, online: true, battery: 90 })
    }
    await settle(v.p)
  }
  /** A sign of life: she moves in the living room. */
  async function move(v: Virtual, homes: AskedHome[]) {
    for (const home of homes) await telemetry(home.radar, home.radarId, { id: `q-${++seq}`, ts: v.clock.now(), kind: 'presence', occupied: true, motion: true })
    await settle(v.p)
  }
  /** Quiet virtual time: reports every 20 minutes, nobody moves. */
  async function quiet(v: Virtual, homes: AskedHome[], ms: number) {
    for (let done = 0; done < ms; done += STEP) {
      v.clock.advance(Math.min(STEP, ms - done))
      await settle(v.p)
      await report(v, homes)
    }
  }
  const householdOf = async (v: Virtual, id: string) => (await v.p.api<{ awayUntil: number | null }>('GET', `/api/households/${id}`)).body
  const activeIncidents = async (v: Virtual, householdId: string) =>
    (await v.p.api<{ householdId: string; type: string; explanation: { zh: string } | null }[]>('GET', '/api/incidents?state=active')).body.filter((i) => i.householdId === householdId)
  const openFamilyPage = async (v: Virtual, token: string, options: { locale?: string; timezoneId?: string } = {}) => {
    const { page } = await newPage({ width: 390, height: 844 }, { timezoneId: 'Asia/Shanghai', ...options })
    await page.goto(`${v.site.url}/family.html?t=${encodeURIComponent(token)}`)
    return page
  }

  it('asks on the view link, above the status; 在我这里 with the day she comes home puts the household away until 18:00 that day', async () => {
    const v = await virtualPlatform()
    const home = await askedHome(v, '张桂英', [{ name: '张明', phone: '13900000001' }])
    await move(v, [home]) // 08:00: seen moving, then nothing
    await quiet(v, [home], ASK_AFTER + 8 * MIN) // 13:08
    const question = v.p.app.detectors.question(home.householdId)
    expect(question).toMatchObject({ askedAt: T0 + ASK_AFTER })
    expect(await activeIncidents(v, home.householdId)).toEqual([])

    const page = await openFamilyPage(v, home.token)
    const ask = page.getByTestId('family-question')
    await ask.waitFor()
    expect(await ask.getAttribute('data-question-id')).toBe(question!.id)
    expect(await page.locator('#ask-lead').textContent()).toBe('平台有一段时间没有看到张桂英在家活动。')
    expect(await page.getByTestId('question-heading').textContent()).toBe('张桂英今天在您那里吗?')
    expect(await ask.textContent()).toContain('13:00 询问')
    // the page keeps the platform's time: she was last seen at 08:00, five hours ago
    expect(await page.getByTestId('last-activity').textContent()).toContain('08:00')
    expect(await page.getByTestId('last-activity').textContent()).toContain('5小时前')
    // at the top: before the status, all three answers on the first screen of a phone
    expect(await ask.evaluate((el) => Boolean(el.compareDocumentPosition(document.querySelector('[data-testid="family-overview"]')!) & Node.DOCUMENT_POSITION_FOLLOWING))).toBe(true)
    expect(await ask.getByRole('group', { name: '请选择您的回答' }).count()).toBe(1)
    const answers = ask.getByRole('group').getByRole('button')
    expect(await answers.allTextContents()).toEqual(['在我这里', '已电话联系,老人很好', '不在我这里,联系不上'])
    const lastAnswer = await page.getByTestId('answer-not-with-us').boundingBox()
    expect(lastAnswer!.y + lastAnswer!.height).toBeLessThanOrEqual(844)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'family-question')

    // 关怀版: much larger, still all there and accessible
    const headingSize = () => page.getByTestId('question-heading').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
    const buttonSize = () => page.getByTestId('answer-with-us').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
    const [heading, button] = [await headingSize(), await buttonSize()]
    await page.getByTestId('care-toggle').click()
    expect(await headingSize()).toBeGreaterThanOrEqual(heading * 1.4)
    expect(await buttonSize()).toBeGreaterThanOrEqual(button * 1.4)
    expect(await page.locator('#ask-lead').textContent()).toBe('平台好一阵子没看到张桂英在家走动。')
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'family-question-care')
    await page.getByTestId('care-toggle').click()

    // in English
    await page.getByTestId('lang-toggle').click()
    await expect.poll(() => page.getByTestId('question-heading').textContent()).toBe('Is 张桂英 with you today?')
    expect(await answers.allTextContents()).toEqual(['With me', 'I phoned: all is well', "Not with me, and I can't reach them"])
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('lang-toggle').click()

    // by keyboard: the first stop after the page's own tools is the first answer, and the answers follow in order
    await page.getByTestId('lang-toggle').focus()
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))
    const stops: (string | null | undefined)[] = []
    for (let i = 0; i < 3; i++) { await page.keyboard.press('Tab'); stops.push(await focused()) }
    expect(stops).toEqual(['answer-with-us', 'answer-phoned-safe', 'answer-not-with-us'])

    // 在我这里 (Enter): which day does she come home? Tomorrow unless chosen; 30 days at most (18:00 on 23 December would be past 30 days from 13:08)
    await page.getByTestId('answer-with-us').focus()
    await page.keyboard.press('Enter')
    const day = page.getByLabel('张桂英哪天回家?')
    await day.waitFor()
    expect(await day.evaluate((el) => el === document.activeElement)).toBe(true)
    expect(await day.getAttribute('type')).toBe('date')
    expect(await day.inputValue()).toBe('2026-11-24')
    expect([await day.getAttribute('min'), await day.getAttribute('max')]).toEqual(['2026-11-24', '2026-12-22'])
    const confirm = page.getByTestId('question-confirm')
    expect(await confirm.textContent()).toBe('确认,11月24日回家')
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('care-toggle').click()
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'family-question-date-care')
    await page.getByTestId('care-toggle').click()

    // a day past the limit is refused on the page, in words
    await day.fill('2026-12-23')
    await confirm.click()
    expect(await page.getByTestId('question-error').textContent()).toBe('请选择 11月24日 到 12月22日 之间的日期。')
    expect(v.p.app.detectors.question(home.householdId)).toMatchObject({ id: question!.id })
    // the platform's 400 for a day it will not take (its clock and the phone's disagree) is put in words, never a code
    await page.route('**/api/family/questions/*/answer', (route) => route.fulfill({
      status: 400, contentType: 'application/json',
      body: JSON.stringify({ error: 'VALIDATION', message: 'until: 请选择老人回家的日期(今天之后,30 天以内) / the day she comes home, within 30 days' }),
    }), { times: 1 })
    await day.fill('2026-11-25')
    await confirm.click()
    await expect.poll(() => page.getByTestId('question-error').textContent()).toBe('请选择 11月24日 到 12月22日 之间的日期。')
    expect(await ask.textContent()).not.toMatch(/VALIDATION|400|until:/)

    await day.fill('2026-11-26')
    expect(await confirm.textContent()).toBe('确认,11月26日回家')
    await confirm.click()
    const done = page.getByTestId('question-done')
    await done.waitFor()
    expect(await done.getAttribute('data-outcome')).toBe('with_us')
    expect(await page.getByTestId('question-done-title').textContent()).toBe('已收到,谢谢。')
    expect(await page.getByTestId('question-done-detail').textContent()).toBe('已记下:11月26日 18:00 前不在家,这期间不会因为家里没有动静而报警(一键呼救、烟雾和燃气报警仍然有效)。')
    expect(await page.getByTestId('question-done-text').evaluate((el) => el === document.activeElement)).toBe(true)
    // the question is gone on the next read of the overview; the confirmation stays
    await expect.poll(() => page.getByTestId('family-question').count()).toBe(0)
    expect(await done.count()).toBe(1)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'family-question-answered')

    // away until 18:00 (UTC+8) on 26 November, by the platform's own account
    expect((await householdOf(v, home.householdId)).awayUntil).toBe(china(11, 26, 18))
    expect(v.p.app.detectors.question(home.householdId)).toBeNull()
    const view = await v.p.api<{ question: unknown }>('GET', `/api/family/overview?t=${encodeURIComponent(home.token)}`)
    expect(view.body.question).toBeNull()
    await waitFor(async () => (await v.p.app.detectors.monitor(home.householdId))?.awayUntil === china(11, 26, 18), 5000, 'the detectors to know she is away')
    // 关怀版 words for the same confirmation
    await page.getByTestId('care-toggle').click()
    expect(await page.getByTestId('question-done-detail').textContent()).toBe('已记下:11月26日前不在家,期间不会报警(一键呼救仍然有效)。')
    await page.getByTestId('care-toggle').click()
  }, 60_000)

  it('takes 已电话联系 from one phone, tells a second phone the question is settled, and 不在我这里 alerts the community', async () => {
    const v = await virtualPlatform()
    const safe = await askedHome(v, '王秀兰', [{ name: '王强', phone: '13900000002' }, { name: '王丽', phone: '13900000003' }])
    const missing = await askedHome(v, '李淑珍', [{ name: '李军', phone: '13900000004' }])
    await move(v, [safe, missing])
    await quiet(v, [safe, missing], ASK_AFTER + 8 * MIN)
    expect(v.p.app.detectors.question(safe.householdId)).not.toBeNull()
    expect(v.p.app.detectors.question(missing.householdId)).not.toBeNull()

    // the son and the daughter both have the page open; the daughter's phone is in English, in Europe
    const son = await openFamilyPage(v, safe.tokens[0]!)
    const daughter = await openFamilyPage(v, safe.tokens[1]!, { timezoneId: 'Europe/Berlin' })
    await daughter.getByTestId('family-question').waitFor()
    await daughter.getByTestId('lang-toggle').click()
    await expect.poll(() => daughter.getByTestId('question-heading').textContent()).toBe('Is 王秀兰 with you today?')

    await son.getByRole('button', { name: '已电话联系,老人很好' }).click()
    await son.getByTestId('question-done').waitFor()
    expect(await son.getByTestId('question-done').getAttribute('data-outcome')).toBe('phoned_safe')
    expect(await son.getByTestId('question-done-title').textContent()).toBe('已收到,谢谢您。')
    expect(await son.getByTestId('question-done-detail').textContent()).toBe('如果之后还是很久没有看到老人活动,我们会再问您。')
    await expect.poll(() => son.getByTestId('family-question').count()).toBe(0)
    expect(v.p.app.detectors.question(safe.householdId)).toBeNull()
    expect((await householdOf(v, safe.householdId)).awayUntil).toBeNull()
    expect(await activeIncidents(v, safe.householdId)).toEqual([])
    expect(await axeViolations(son)).toEqual([])

    // the daughter's page still shows the question (a question is not pushed live; the page polls): her answer comes too late, and she is told so in words
    await daughter.getByTestId('answer-with-us').click()
    expect(await daughter.getByTestId('question-confirm').textContent()).toBe('Confirm: home on November 24')
    await daughter.getByTestId('question-confirm').click()
    await daughter.getByTestId('question-done').waitFor()
    expect(await daughter.getByTestId('question-done').getAttribute('data-outcome')).toBe('gone')
    expect(await daughter.getByTestId('question-done-detail').textContent()).toBe('This question no longer needs an answer (perhaps someone else in the family answered it).')
    expect(await daughter.getByTestId('question-done-text').textContent()).not.toMatch(/409|CONFLICT/)
    expect(await daughter.getByTestId('family-question').count()).toBe(0)
    expect((await householdOf(v, safe.householdId)).awayUntil).toBeNull()
    expect(await axeViolations(daughter)).toEqual([])

    // 不在我这里,联系不上: the operators are alerted at once
    const worried = await openFamilyPage(v, missing.token)
    await worried.getByTestId('answer-not-with-us').click()
    await worried.getByTestId('question-done').waitFor()
    expect(await worried.getByTestId('question-done-title').textContent()).toBe('已收到。')
    expect(await worried.getByTestId('question-done-detail').textContent()).toBe('已通知社区工作人员尽快上门查看。')
    await settle(v.p)
    await waitFor(async () => (await activeIncidents(v, missing.householdId)).length > 0, 5000, 'the incident for the family\'s "not with us"')
    const [raised] = await activeIncidents(v, missing.householdId)
    expect(raised!.explanation?.zh).toContain('家属答复老人不在身边')
    expect(await activeIncidents(v, safe.householdId)).toEqual([])
  }, 60_000)
})
