/**
 * Hold-back (docs/operations.md §overload): while the detectors are far behind, a connection
 * that sends a reading is read no further, so the loop stays free for new connections and
 * alarms; it is read again once they catch up. Nothing is lost: the held reading's PUBACK comes
 * late, not never. The detectors are held behind through the app's seam; the broker, the
 * devices and the operator are real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, connectOperator, provision, publish, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

describe('holding back device connections while the detectors are behind', () => {
  let p: TestPlatform
  let meter: Fixture
  let button: Fixture
  let behind = 0
  beforeAll(async () => {
    p = await startPlatform({ detectorBacklog: () => behind })
    meter = await provision(p, { kind: 'water' })
    button = await provision(p, { communityId: meter.communityId })
  })
  afterAll(() => p.close())

  const scrape = async (name: string) => {
    const res = await fetch(`${p.httpUrl}/metrics`, { headers: { authorization: `Bearer ${p.adminToken}` } })
    const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `))
    return line === undefined ? undefined : Number(line.split(' ')[1])
  }

  it('takes the reading, reads that connection no further, lets a fresh SOS through, and reads on once they catch up', async () => {
    const operator = await connectOperator(p, p.adminToken)
    const device = await connectDevice(p, meter.device)
    const telemetry = deviceTopic(meter.device.id, 'telemetry')
    behind = 10_000
    // The reading that finds them behind is still taken (its PUBACK comes) …
    await publish(device, telemetry, { id: 'w-1', kind: 'water', totalM3: 12.5, flowLpm: 0 })
    expect(await scrape('anju_mqtt_connections_held')).toBe(1)
    // … the next one waits unread.
    let secondAcked = false
    const second = publish(device, telemetry, { id: 'w-2', kind: 'water', totalM3: 12.6, flowLpm: 0 }).then(() => {
      secondAcked = true
    })
    // A button connecting afresh is read, and its alarm never holds anything back: two SOS in a row reach the operator.
    const sos = await connectDevice(p, button.device)
    await publish(sos, deviceTopic(button.device.id, 'alarm'), { id: 'held-sos-1', type: 'sos' })
    await publish(sos, deviceTopic(button.device.id, 'alarm'), { id: 'held-sos-2', type: 'sos', ts: Date.now() })
    await waitFor(() => operator.pushes.some((v) => v.deviceId === button.device.id && v.type === 'sos'), 5000, 'the SOS pushed while the meter is held')
    expect(secondAcked).toBe(false)
    expect(p.app.stats.device(meter.device.id)).toMatchObject({ accepted: 1 })
    // Caught up: the meter is read again, its reading taken once.
    behind = 0
    await second
    await waitFor(() => p.app.stats.device(meter.device.id)?.accepted === 2, 5000, 'the held reading taken')
    expect(await scrape('anju_mqtt_connections_held')).toBe(0)
    expect(await scrape('anju_mqtt_holds')).toBe(1)
    await device.endAsync()
    await sos.endAsync()
    operator.close()
  })
})
