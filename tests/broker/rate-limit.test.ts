/**
 * docs/security.md §rates: one device may publish ANJU_DEVICE_RATE_PER_S messages a second after
 * a burst of ANJU_DEVICE_RATE_BURST; its telemetry over that is acknowledged, dropped and counted
 * (MQTT) or answered 429 with Retry-After (HTTP); an alarm is recorded and pushed whatever the
 * rate. On the virtual clock, so the bucket fills only when the test moves time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, connectOperator, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const BURST = 5
let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform({ env: { ANJU_CLOCK: 'virtual', ANJU_DEVICE_RATE_PER_S: '2', ANJU_DEVICE_RATE_BURST: String(BURST) } })
})
afterAll(() => p.close())

const presence = (i: number) => ({ id: `p-${i}`, ts: Date.now(), kind: 'presence', occupied: true, motion: i % 2 === 0 })

describe('per-device publish rate', () => {
  it('drops and counts telemetry over the rate, never an alarm, and lets the device go on once time has passed', async () => {
    const fx = await provision(p)
    const operator = await connectOperator(p, p.adminToken)
    const device = await connectDevice(p, fx.device)
    const received: string[] = []
    p.app.bus.on('telemetry.received', 'rate-test', (e) => received.push(e.reading.id))

    // Twenty readings at one instant: the burst goes through, the rest is acknowledged and dropped.
    for (let i = 0; i < 20; i++) await publish(device, deviceTopic(fx.device.id, 'telemetry'), presence(i))
    expect(received).toHaveLength(BURST)
    expect(p.app.stats.device(fx.device.id)).toMatchObject({ accepted: BURST, dropped: 20 - BURST, lastReason: 'over the device publish rate' })

    // Over the rate, the SOS is still recorded and reaches the operator.
    await publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-over-rate', type: 'sos' })
    await waitFor(() => operator.pushes.some((v) => v.deviceId === fx.device.id && v.type === 'sos'), 5000, 'the SOS over the rate')

    // Three seconds of the platform's time later: about six more (the SOS spent one).
    expect((await p.api('POST', '/api/clock/advance', { ms: 3000 })).status).toBe(200)
    for (let i = 100; i < 110; i++) await publish(device, deviceTopic(fx.device.id, 'telemetry'), presence(i))
    expect(received.length - BURST).toBe(5)
    // The device stayed connected throughout.
    expect(device.connected).toBe(true)
    await device.endAsync()
    operator.close()
    p.app.bus.removeOwner('rate-test')
  })

  it('answers 429 with Retry-After over HTTP ingest, and still records an alarm', async () => {
    const fx = await provision(p, { kind: 'water' })
    const post = (channel: string, body: unknown) =>
      fetch(`${p.httpUrl}/ingest/v1/dev/${fx.device.id}/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${fx.device.id}:${fx.device.secret}`).toString('base64')}` },
        body: JSON.stringify(body),
      })
    const statuses: number[] = []
    for (let i = 0; i < BURST + 2; i++) statuses.push((await post('telemetry', { id: `w-${i}`, kind: 'water', totalM3: 1 + i / 1000 })).status)
    expect(statuses).toEqual([...Array(BURST).fill(200), 429, 429])
    const limited = await post('telemetry', { id: 'w-x', kind: 'water', totalM3: 2 })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await limited.json()).toMatchObject({ error: 'TOO_MANY_ATTEMPTS' })
    const smoke = await post('telemetry', { id: 's-1', kind: 'smoke', alarm: true })
    expect(smoke.status).toBe(200)
    expect(await smoke.json()).toEqual({ result: 'accepted' })
    const incidents = await p.api<{ householdId: string; type: string }[]>('GET', '/api/incidents?state=active')
    expect(incidents.body.filter((i) => i.householdId === fx.householdId)).toHaveLength(1)
  })
})
