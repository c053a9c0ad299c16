/**
 * Device truth in a real browser (docs/operations.md §device states): the health tab, the
 * incident detail's device list and the family page show the same state for the same devices,
 * the server's: a sensor with readings (online, and the last activity), a meter installed but
 * never heard (已安装,尚未上报, not "offline"), a door contact whose Last Will said it dropped
 * (离线). Real MQTT devices, real Chromium; screenshots in test-artifacts/.
 */
import type { MqttClient } from 'mqtt'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../../src/contract/index.js'
import { connectDevice, createOperator, provision, publish, waitFor, type TestPlatform } from '../../helpers/platform.js'
import { shot, startHarness, type Harness } from './harness.js'

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

async function newPage(viewport: { width: number; height: number }): Promise<Page> {
  const context = await h.browser.newContext({ locale: 'zh-CN', viewport })
  cleanups.push(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  cleanups.push(() => expect(errors, 'page errors').toEqual([]))
  return page
}

async function addDevice(householdId: string, id: string, kind: string, room: string | null): Promise<{ id: string; secret: string }> {
  const created = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id, householdId, kind, room })
  expect(created.status).toBe(201)
  return created.body
}

async function connected(device: { id: string; secret: string }): Promise<MqttClient> {
  const client = await connectDevice(p, device)
  cleanups.push(() => void client.end(true))
  return client
}

const WORDS: Record<string, string> = { online: '在线', offline: '离线', silent: '无信号', low_battery: '电量低', not_reporting_yet: '已安装,尚未上报' }

describe('device truth', () => {
  it('shows the same state for the same devices on the health tab, in the incident detail and on the family page', async () => {
    const home = await provision(p)
    const tag = home.householdId.slice(-6)
    const sensor = await addDevice(home.householdId, `pr-t-${tag}`, 'presence', 'bedroom')
    const meter = await addDevice(home.householdId, `wm-t-${tag}`, 'water', 'kitchen')
    const door = await addDevice(home.householdId, `dr-t-${tag}`, 'door', 'entrance')

    // The sensor sees her in the bedroom; the meter is never heard; the door contact drops.
    const now = Date.now()
    const sensorClient = await connected(sensor)
    await publish(sensorClient, deviceTopic(sensor.id, 'telemetry'), { id: 'p-1', ts: now - 5 * 60_000, kind: 'presence', occupied: true, motion: true })
    const doorClient = await connected(door)
    await publish(doorClient, deviceTopic(door.id, 'status'), { online: true, battery: 70 })
    await publish(doorClient, deviceTopic(door.id, 'status'), { online: false })
    // An SOS, for the incident detail.
    const button = await connected(home.device)
    await publish(button, deviceTopic(home.device.id, 'alarm'), { id: 'sos-truth', type: 'sos', battery: 90 })

    const expected: Record<string, string> = { [home.device.id]: 'online', [sensor.id]: 'online', [meter.id]: 'not_reporting_yet', [door.id]: 'offline' }
    // The server's verdict first (device health is written once a second).
    let incidentId = ''
    await waitFor(async () => {
      const devices = (await p.api<{ id: string; state: string }[]>('GET', `/api/devices?householdId=${home.householdId}`)).body
      incidentId = (await p.api<{ id: string; householdId: string }[]>('GET', '/api/incidents?state=active')).body.find((i) => i.householdId === home.householdId)?.id ?? ''
      return Boolean(incidentId) && devices.every((d) => d.state === expected[d.id])
    }, 15_000, 'the devices reported and the SOS recorded')

    const contact = await p.api<{ id: string }>('POST', `/api/households/${home.householdId}/contacts`, { name: '李明', relation: '子女', phone: '13800138001', position: 0 })
    const link = await p.api<{ url: string; token: string }>('POST', `/api/households/${home.householdId}/contacts/${contact.body.id}/family-link`)
    expect(link.status).toBeLessThan(300)

    await createOperator(p, 'op-truth', [home.communityId])
    const page = await newPage({ width: 1280, height: 900 })
    await page.goto(h.site.url + '/')
    await page.getByTestId('login-username').fill('op-truth')
    await page.getByTestId('login-password').fill('operator-password')
    await page.getByTestId('login-submit').click()
    await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor()

    // 1. The health tab.
    await page.getByTestId('tab-health').click()
    const board: Record<string, string> = {}
    for (const id of Object.keys(expected)) {
      const row = page.locator(`[data-testid="health-row"][data-device-id="${id}"]`)
      await row.waitFor()
      board[id] = (await row.getAttribute('data-state'))!
      expect(await row.getByTestId('device-state').textContent()).toBe(WORDS[expected[id]!])
    }
    expect(board).toEqual(expected)
    // Worst first: the dropped door above the installation, the installation above the healthy.
    const order = await page.locator('[data-testid="health-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device-id')))
    expect(order.indexOf(door.id)).toBeLessThan(order.indexOf(meter.id))
    expect(order.indexOf(meter.id)).toBeLessThan(order.indexOf(sensor.id))
    await shot(page, 'device-truth-health-tab')

    // 2. The incident detail's device list.
    await page.getByTestId('tab-queue').click()
    await page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`).getByTestId('details-button').click()
    const detail: Record<string, string> = {}
    for (const id of Object.keys(expected)) {
      const item = page.locator(`[data-testid="devices"] [data-testid="device"][data-device-id="${id}"]`)
      await item.waitFor()
      detail[id] = (await item.getAttribute('data-state'))!
      expect(await item.getByTestId('device-state').textContent()).toBe(WORDS[expected[id]!])
    }
    expect(detail).toEqual(expected)
    expect(await page.getByTestId('devices').textContent()).not.toContain('未知')
    await page.getByTestId('devices').scrollIntoViewIfNeeded()
    await shot(page, 'device-truth-incident-detail')

    // 3. The family page: the sensor with the last activity is not "never reported"; the others say what the console says.
    const phone = await newPage({ width: 390, height: 844 })
    await phone.goto(`${h.site.url}/family.html?t=${encodeURIComponent(link.body.token)}`)
    await expect.poll(() => phone.getByTestId('last-activity').getAttribute('data-room')).toBe('bedroom')
    const problems = phone.getByTestId('device-problem')
    await expect.poll(() => problems.count()).toBe(2)
    const family = Object.fromEntries(await problems.evaluateAll((items) => items.map((li) => [li.textContent ?? '', li.getAttribute('data-problem')])))
    const states = Object.values(family).sort()
    expect(states).toEqual(['not_reporting_yet', 'offline'])
    const texts = Object.keys(family).join('\n')
    expect(texts).toContain('已安装,尚未上报')
    expect(texts).toContain('离线')
    expect(texts).not.toContain('从未上报')
    expect(texts).not.toContain('人体感应')
    expect(await phone.getByTestId('devices-state').textContent()).toContain('2 台设备需要检查(共 4 台)')
    await shot(phone, 'device-truth-family')
  }, 180_000)
})
