/** Contract v1 §Vendor platforms: the same payloads over HTTP, per-device auth, same validation and idempotency. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NOT_LOGGED_IN } from '../../src/ingest/stats.js'
import { connectOperator, provision, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
let meter: Fixture
let other: Fixture
beforeAll(async () => {
  p = await startPlatform()
  meter = await provision(p, { kind: 'button' })
  other = await provision(p)
})
afterAll(() => p.close())

const post = (deviceId: string, channel: string, body: string, creds: string) =>
  fetch(`${p.httpUrl}/ingest/v1/dev/${deviceId}/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(creds).toString('base64')}` },
    body,
  })

describe('HTTP ingest', () => {
  it('records an alarm once, whatever the retransmissions', async () => {
    const operator = await connectOperator(p, p.adminToken)
    const creds = `${meter.device.id}:${meter.device.secret}`
    const first = await post(meter.device.id, 'alarm', JSON.stringify({ id: 'h-1', type: 'sos' }), creds)
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ result: 'accepted' })
    const again = await post(meter.device.id, 'alarm', JSON.stringify({ id: 'h-1', type: 'sos' }), creds)
    expect(await again.json()).toEqual({ result: 'duplicate' })
    await waitFor(() => operator.pushes.length === 1)
    expect(operator.pushes[0]).toMatchObject({ deviceId: meter.device.id, type: 'sos' })
    operator.close()
  })

  it('records a green-key press over HTTP as a service ticket, once', async () => {
    const creds = `${other.device.id}:${other.device.secret}`
    const press = () => post(other.device.id, 'alarm', JSON.stringify({ id: 'h-svc-1', type: 'service' }), creds)
    expect(await (await press()).json()).toEqual({ result: 'accepted' })
    expect(await (await press()).json()).toEqual({ result: 'duplicate' })
    const queue = (await p.api<{ items: { householdId: string; presses: number; source: string }[] }>('GET', `/api/service-tickets?householdId=${other.householdId}`)).body
    expect(queue.items).toEqual([expect.objectContaining({ householdId: other.householdId, presses: 1, source: 'button' })])
    expect((await p.api<unknown[]>('GET', '/api/incidents')).body.filter((i) => (i as { householdId: string }).householdId === other.householdId)).toEqual([])
  })

  it('refuses wrong credentials and another device’s path, and counts it on the shared entry, never on the device the path names', async () => {
    const shared = p.app.stats.device(NOT_LOGGED_IN)?.refused ?? 0
    const victim = p.app.stats.device(other.device.id)?.refused ?? 0
    expect((await post(meter.device.id, 'alarm', '{"id":"x","type":"sos"}', `${meter.device.id}:wrong`)).status).toBe(401)
    expect((await post(other.device.id, 'alarm', '{"id":"x","type":"sos"}', `${meter.device.id}:${meter.device.secret}`)).status).toBe(401)
    expect((await post('nobody', 'alarm', '{"id":"x","type":"sos"}', 'nobody:x')).status).toBe(401)
    expect(p.app.stats.device(NOT_LOGGED_IN)).toMatchObject({ refused: shared + 3, lastReason: 'HTTP ingest: not authorized' })
    expect(p.app.stats.device(other.device.id)?.refused ?? 0).toBe(victim)
    expect((await p.api<unknown[]>('GET', '/api/incidents')).body.filter((i) => (i as { householdId: string }).householdId === other.householdId)).toEqual([])
  })

  it('answers bad payloads with the reason, counted like MQTT ones', async () => {
    const creds = `${meter.device.id}:${meter.device.secret}`
    const bad = await post(meter.device.id, 'telemetry', '{"id": "t-1", "kind": "water"', creds)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ message: 'payload is not valid JSON' })
    const big = await post(meter.device.id, 'telemetry', JSON.stringify({ id: 't-2', kind: 'water', totalM3: 1, pad: 'x'.repeat(5000) }), creds)
    expect(await big.json()).toMatchObject({ message: expect.stringContaining('exceeds 4096') })
    expect((await post(meter.device.id, 'cmd', '{}', creds)).status).toBe(400)
    expect(p.app.stats.device(meter.device.id)?.dropped).toBe(2)
  })
})
