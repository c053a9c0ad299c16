/** Contract v1 §Payloads: a bad message is dropped, counted per device, and harms nobody. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, connectOperator, provision, publish, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
let sender: Fixture
let bystander: Fixture
beforeAll(async () => {
  p = await startPlatform()
  sender = await provision(p)
  bystander = await provision(p)
})
afterAll(() => p.close())

describe('bad device input', () => {
  it('drops bad JSON, missing fields and a payload over 4 KiB, counts them, and keeps the connection', async () => {
    const operator = await connectOperator(p, p.adminToken)
    const device = await connectDevice(p, sender.device)
    const other = await connectDevice(p, bystander.device)
    let closed = false
    device.on('close', () => (closed = true))
    const alarm = deviceTopic(sender.device.id, 'alarm')

    const bad: [string | Buffer, string][] = [
      ['{"id": "a-1", "type": "sos"', 'payload is not valid JSON'],
      [JSON.stringify({ type: 'sos' }), 'id:'],
      [JSON.stringify({ id: 'a-2', type: 'panic' }), 'type:'],
      [JSON.stringify({ id: 'a-3', ts: 'yesterday', type: 'sos' }), 'ts:'],
      [Buffer.from([0xff, 0xfe, 0x00]), 'payload is not valid UTF-8'],
      // Valid JSON around an invalid UTF-8 sequence: not read as U+FFFD.
      [Buffer.concat([Buffer.from('{"id":"a-4","type":"sos","note":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'payload is not valid UTF-8'],
      [Buffer.alloc(8 * 1024, 0x61), 'exceeds 4096'], // a packet over ANJU_MQTT_MAX_PACKET_BYTES closes instead: tests/broker/limits.test.ts
    ]
    for (const [payload, reason] of bad) {
      await publish(device, alarm, payload) // each still gets its PUBACK: a retry would be just as bad
      expect(p.app.stats.device(sender.device.id)?.lastReason).toContain(reason)
    }
    await publish(device, deviceTopic(sender.device.id, 'telemetry'), { id: 't-1', kind: 'water', totalM3: 'lots' })
    await publish(device, deviceTopic(sender.device.id, 'status'), { online: 'yes' })

    // the other device is unaffected, and so is the sender once it behaves
    await publish(other, deviceTopic(bystander.device.id, 'alarm'), { id: 'ok-1', type: 'sos' })
    await publish(device, alarm, { id: 'ok-2', type: 'sos' })
    // ok-2 came after every bad message on the sender's connection: had one opened or changed an
    // incident, its push would have arrived before ok-2's
    await operator.alarmPushed('ok-1')
    await operator.alarmPushed('ok-2')
    expect(operator.pushes.map((v) => v.deviceId).sort()).toEqual([bystander.device.id, sender.device.id].sort())

    expect(closed).toBe(false)
    expect(p.app.stats.device(sender.device.id)).toMatchObject({ dropped: bad.length + 2, accepted: 1, refused: 0 })
    expect(p.app.stats.device(bystander.device.id)).toMatchObject({ dropped: 0, accepted: 1 })

    const stats = await p.api<{ totals: { dropped: number } }>('GET', '/api/stats/ingest')
    expect(stats.body.totals.dropped).toBe(bad.length + 2)
    await device.endAsync()
    await other.endAsync()
    operator.close()
  })

  it('records status and telemetry for the device without touching incidents', async () => {
    const device = await connectDevice(p, bystander.device)
    await publish(device, deviceTopic(bystander.device.id, 'status'), { ts: Date.now(), online: true, battery: 76, rssi: -71, fw: '2.4.1' })
    await publish(device, deviceTopic(bystander.device.id, 'telemetry'), { id: 'w-1', kind: 'water', totalM3: 12.5, flowLpm: 0 })
    await publish(device, deviceTopic(bystander.device.id, 'telemetry'), { id: 'w-1', kind: 'water', totalM3: 12.5, flowLpm: 0 })
    await waitFor(async () => (await p.app.registry.devices.get(bystander.device.id))?.battery === 76, 3000, 'the health flush')
    expect(await p.app.registry.devices.get(bystander.device.id)).toMatchObject({ online: true, battery: 76, fw: '2.4.1', lastSeenAt: expect.any(Number) })
    expect(p.app.stats.device(bystander.device.id)).toMatchObject({ duplicate: 1 })
    await device.endAsync()
  })

  it('treats a smoke alarm like an SOS and records the Last Will as offline', async () => {
    const operator = await connectOperator(p, p.adminToken)
    const smoke = await provision(p, { kind: 'smoke' })
    const device = await connectDevice(p, smoke.device, { will: { topic: deviceTopic(smoke.device.id, 'status'), payload: Buffer.from('{"online":false}'), qos: 1, retain: true } })
    await publish(device, deviceTopic(smoke.device.id, 'telemetry'), { id: 's-1', kind: 'smoke', alarm: true })
    await waitFor(() => operator.pushes.some((v) => v.deviceId === smoke.device.id))
    expect(operator.pushes.find((v) => v.deviceId === smoke.device.id)).toMatchObject({ type: 'smoke', priority: 1, state: 'open' })

    device.stream.destroy() // an ungraceful loss: the broker publishes the Last Will
    await waitFor(async () => (await p.app.registry.devices.get(smoke.device.id))?.online === false, 3000, 'the Last Will')
    operator.close()
    device.end(true)
  })
})
