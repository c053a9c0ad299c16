/**
 * Alarms first under overload (docs/operations.md §overload), scaled to CI: meters that have
 * written far more readings than the platform can take in the time of the test keep it busy,
 * and a button that was never connected connects and sends an SOS. The SOS must overtake the
 * backlog: the platform handles only a few turns' worth of readings between the button's
 * connect and the operator's push, not every connection's buffer in every turn.
 * Counted in readings, not milliseconds, so a slow or busy machine does not change the verdict.
 */
import net from 'node:net'
import { generate, parser as mqttParser } from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, connectOperator, createOperator, provision, publish, startPlatform, waitFor, within, type TestPlatform } from '../helpers/platform.js'

const METERS = 30
const READINGS_EACH = 6_000
/** Readings handled between the button's connect and the push, at most; without the budget it is tens of thousands. */
const MOST_AHEAD_OF_THE_SOS = 8_000

let p: TestPlatform
beforeAll(async () => {
  // The meters' own rate is lifted: their readings go the whole way (detectors, history), as a district's do.
  p = await startPlatform({ env: { ANJU_DEVICE_RATE_PER_S: '100000', ANJU_DEVICE_RATE_BURST: '1000000' } })
})
afterAll(() => p.close())

/** A meter on a raw socket, connected; `flood` writes its readings all at once. PUBACKs are read and dropped. */
async function meter(device: { id: string; secret: string }, n: number): Promise<{ socket: net.Socket; flood(): void }> {
  const socket = net.connect(Number(new URL(p.mqttUrl).port), '127.0.0.1')
  const packets = mqttParser()
  const connack = new Promise<void>((resolve, reject) => {
    packets.on('packet', (packet) => {
      if (packet.cmd !== 'connack') return
      if (packet.returnCode === 0) resolve()
      else reject(new Error(`CONNACK ${packet.returnCode}`))
    })
  })
  socket.on('data', (chunk) => {
    // Only the CONNACK matters; the PUBACKs after it are read so the platform's writes never stall.
    if (packets.listenerCount('packet') > 0) packets.parse(chunk)
  })
  socket.on('error', () => undefined)
  socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: device.id, username: device.id, password: Buffer.from(device.secret), clean: true, keepalive: 0 }))
  await within(connack, 10_000, `the CONNACK of ${device.id}`)
  packets.removeAllListeners('packet')
  const topic = deviceTopic(device.id, 'telemetry')
  const readings: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const payload = Buffer.from(JSON.stringify({ id: `${device.id}-${i}`, kind: 'water', totalM3: 10 + i / 1000 }))
    readings.push(generate({ cmd: 'publish', topic, payload, qos: 1, messageId: (i % 65_535) + 1, dup: false, retain: false }))
  }
  return { socket, flood: () => socket.write(Buffer.concat(readings)) }
}

const handled = () => {
  const t = p.app.stats.totals()
  return t.accepted + t.duplicate + t.dropped
}

describe('an SOS under a telemetry flood', () => {
  it('overtakes the readings already waiting: connected, recorded and pushed after a few turns of them', async () => {
    const meters = await Promise.all(Array.from({ length: METERS }, () => provision(p, { kind: 'water' })))
    const button = await provision(p)
    const operator = await connectOperator(p, await createOperator(p, 'op-overload', [button.communityId]))
    const sockets: net.Socket[] = []
    try {
      const before = handled()
      const connected = await Promise.all(meters.map((m) => meter(m.device, READINGS_EACH)))
      sockets.push(...connected.map((m) => m.socket))
      for (const m of connected) m.flood()
      // The flood is under way: readings are being handled, and most still wait.
      await waitFor(() => handled() - before >= 2_000, 30_000, 'the flood under way')

      const atConnect = handled()
      const device = await connectDevice(p, button.device)
      const messageId = 'sos-under-flood'
      await publish(device, deviceTopic(button.device.id, 'alarm'), { id: messageId, type: 'sos', ts: Date.now() })
      const push = await operator.alarmPushed(messageId, 60_000)
      const ahead = handled() - atConnect
      // Held back, not dropped: every meter is still connected, and the button.
      expect(p.app.broker.aedes.connectedClients).toBe(METERS + 1)
      device.end(true)

      expect(operator.pushes[push]).toMatchObject({ deviceId: button.device.id, type: 'sos', state: 'open' })
      // The flood had not been worked through when the SOS was pushed...
      expect(handled() - before).toBeLessThan(METERS * READINGS_EACH)
      // ...and the SOS waited for a few turns' worth of it, not for every connection's buffer.
      expect(ahead).toBeLessThanOrEqual(MOST_AHEAD_OF_THE_SOS)
    } finally {
      for (const s of sockets) s.destroy()
      operator.close()
    }
  })
})
