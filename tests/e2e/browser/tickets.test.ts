/**
 * The 服务工单 tab in a real browser (docs/operations.md §service requests): a real button's green
 * key appears live in the tab and never in the incident queue; the operator sets its type,
 * dispatches it to a provider (the button hears `ack`), completes it (`resolved`) and records the
 * elder's feedback; a request entered for a household comes first while pending. Screenshots in
 * test-artifacts/tickets-*.png.
 */
import type { MqttClient } from 'mqtt'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cmdTopic, deviceTopic } from '../../../src/contract/index.js'
import { connectDevice, createOperator, provision, publish, waitFor, type Fixture, type TestPlatform } from '../../helpers/platform.js'
import { axeViolations, logIn, shot, startHarness, type Harness } from './harness.js'

const WAIT = { timeout: 20_000 }
let h: Harness
let p: TestPlatform
let a: Fixture
let button: MqttClient
const commands: { cmd: string; incidentId?: string }[] = []

beforeAll(async () => {
  h = await startHarness()
  p = h.p
  a = await provision(p)
  await createOperator(p, 'op-tickets', [a.communityId])
  button = await connectDevice(p, a.device)
  await button.subscribeAsync(cmdTopic(a.device.id), { qos: 1 })
  button.on('message', (_t, payload) => commands.push(JSON.parse(payload.toString()) as { cmd: string; incidentId?: string }))
}, 120_000)

afterAll(async () => {
  await button?.endAsync()
  await h?.close()
}, 120_000)

describe('the service tickets tab', () => {
  it('runs a green-key request from press to feedback, apart from the incident queue', async () => {
    const context = await h.browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } })
    const page: Page = await context.newPage()
    page.setDefaultTimeout(20_000)
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(String(e)))
    await logIn(page, h.site.url, 'op-tickets', 'operator-password')
    await page.getByTestId('tab-tickets').click()
    await page.getByTestId('tickets-empty').waitFor()

    // The green key, pressed on a real button: the tab hears it live.
    await publish(button, deviceTopic(a.device.id, 'alarm'), { id: 'green-1', type: 'service', battery: 88 })
    const row = page.getByTestId('ticket-row').first()
    await expect.poll(() => row.getAttribute('data-state'), WAIT).toBe('pending')
    const ticketId = (await row.getAttribute('data-ticket-id'))!
    expect(await row.textContent()).toContain('按键呼叫')
    expect(await page.getByTestId('ticket-filter-pending').getAttribute('data-count')).toBe('1')

    // It is not an emergency: the incident queue stays empty.
    await page.getByTestId('tab-queue').click()
    await page.getByTestId('empty-queue').waitFor()
    await page.getByTestId('tab-tickets').click()

    // What is it for: 助餐. Dispatching needs a provider.
    await row.getByTestId('ticket-type').selectOption('meal')
    await expect.poll(async () => (await p.api<{ type: string }>('GET', `/api/service-tickets/${ticketId}`)).body.type, WAIT).toBe('meal')
    await row.getByTestId('ticket-dispatch').click()
    await expect.poll(() => row.getByTestId('ticket-error').textContent(), WAIT).toBe('请填写服务方')
    await row.getByTestId('ticket-provider-input').fill('梅园长者食堂')
    await shot(page, 'tickets-pending')
    await row.getByTestId('ticket-dispatch').click()
    await expect.poll(() => row.getAttribute('data-state'), WAIT).toBe('dispatched')
    expect(await row.getByTestId('ticket-provider').textContent()).toBe('梅园长者食堂')
    await waitFor(() => commands.some((c) => c.cmd === 'ack' && c.incidentId === ticketId), 10_000, 'ack on the button')

    await row.getByTestId('ticket-complete').click()
    await expect.poll(() => row.getAttribute('data-state'), WAIT).toBe('done')
    await waitFor(() => commands.some((c) => c.cmd === 'resolved' && c.incidentId === ticketId), 10_000, 'resolved on the button')
    expect(commands.map((c) => c.cmd)).toEqual(['ack', 'resolved'])

    await row.getByTestId('ticket-feedback').selectOption('satisfied')
    await row.getByTestId('ticket-feedback-note').fill('饭菜可口')
    await row.getByTestId('ticket-feedback-submit').click()
    await expect.poll(() => row.getByTestId('ticket-feedback-given').textContent(), WAIT).toBe('评价:满意 · 饭菜可口')

    // A request entered by the operator for a household: pending, so it comes first.
    const elder = (await p.api<{ elderName: string }>('GET', `/api/households/${a.householdId}`)).body.elderName
    await page.getByTestId('ticket-new-search').fill(elder)
    await expect.poll(() => page.getByTestId('ticket-new-household').inputValue(), WAIT).toBe(a.householdId)
    await page.getByTestId('ticket-new-type').selectOption('bath')
    await page.getByTestId('ticket-new-note').fill('周三上午助浴')
    await page.getByTestId('ticket-new-submit').click()
    await expect.poll(() => page.getByTestId('ticket-row').count(), WAIT).toBe(2)
    const first = page.getByTestId('ticket-row').first()
    expect(await first.getAttribute('data-state')).toBe('pending')
    expect(await first.textContent()).toContain('值班员登记')
    expect(await first.getByTestId('ticket-type').inputValue()).toBe('bath')
    expect(await page.getByTestId('ticket-row').nth(1).getAttribute('data-ticket-id')).toBe(ticketId)
    await shot(page, 'tickets-queue')
    expect(await axeViolations(page)).toEqual([])
    await context.close()
    expect(errors).toEqual([])
  }, 90_000)
})
