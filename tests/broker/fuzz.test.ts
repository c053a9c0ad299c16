/**
 * A standing adversarial suite (docs/security.md §broker): seeded fuzz of the MQTT port from raw
 * sockets — random bytes, mutated CONNECTs and PUBLISHes, oversize headers, other protocol
 * levels, half packets — while a real button raises an SOS that must reach its operator. The
 * process stays up, its memory bounded, every connection is refused and counted exactly once,
 * and nobody gets in. Bounded in count for CI; bench/broker-flood.ts measures the long run.
 */
import net from 'node:net'
import mqttPacket from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Rng } from '../../firmware-sim/rng.js'
import { deviceTopic } from '../../src/contract/index.js'
import { NOT_LOGGED_IN } from '../../src/ingest/stats.js'
import { connectDevice, connectOperator, provision, publish, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

const CONNECTIONS = 10_000
const AT_ONCE = 200
const SEED = 11

let p: TestPlatform
let fx: Fixture
beforeAll(async () => {
  p = await startPlatform({ env: { ANJU_MQTT_CONNECT_TIMEOUT_MS: '500', ANJU_MQTT_MAX_PENDING_PER_ADDRESS: '1000', ANJU_MQTT_MAX_PACKET_BYTES: '4096' } })
  fx = await provision(p)
})
afterAll(() => p.close())

const gen = (packet: Record<string, unknown>) => mqttPacket.generate(packet as unknown as mqttPacket.Packet)

/** One connection's worth of hostile bytes: one or more packets, some whole, some cut or mutated. */
function hostile(rng: Rng, i: number, deviceId: string): Buffer {
  const connect = (over: Record<string, unknown> = {}) =>
    gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: deviceId, username: deviceId, password: Buffer.from(`guess-${i}`), ...over })
  const publishTo = (topic: string, size: number, qos = 1) => gen({ cmd: 'publish', topic, payload: Buffer.alloc(size, 0x61), qos, messageId: 1, retain: false, dup: false })
  const mutate = (b: Buffer) => {
    const c = Buffer.from(b)
    for (let k = rng.int(1, 4); k > 0; k--) c[rng.int(0, c.length - 1)] = rng.int(0, 255)
    return c
  }
  switch (rng.weighted({ random: 3, mutatedConnect: 3, wrongSecret: 1, otherLevel: 1, publishFirst: 1, oversize: 1, half: 1, idOfAnother: 1 })) {
    case 'random':
      return Buffer.from(Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 255)))
    case 'mutatedConnect':
      return mutate(connect())
    case 'wrongSecret':
      return Buffer.concat([connect(), publishTo(deviceTopic(deviceId, 'alarm'), 40)])
    case 'otherLevel':
      return connect({ protocolVersion: rng.pick([3, 5]), protocolId: 'MQIsdp' })
    case 'publishFirst':
      return publishTo(deviceTopic(deviceId, 'alarm'), rng.int(0, 200))
    case 'oversize':
      return Buffer.concat([Buffer.from([rng.pick([0x10, 0x30, 0x32, 0x82]), 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(rng.int(0, 2000))])
    case 'half': {
      const whole = connect()
      return whole.subarray(0, rng.int(1, whole.length - 1))
    }
    default:
      return connect({ clientId: `btn-${i}`, username: `btn-${i}` })
  }
}

/** Sends the bytes and waits for the server to close the connection (it must, one way or another). */
function attack(bytes: Buffer): Promise<{ closedByServer: boolean; connackOk: boolean }> {
  const { hostname, port } = new URL(p.mqttUrl)
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname)
    let connackOk = false
    const parser = mqttPacket.parser()
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connack' && (packet as { returnCode?: number }).returnCode === 0) connackOk = true
    })
    parser.on('error', () => undefined)
    s.on('data', (d) => parser.parse(d))
    s.on('error', () => undefined)
    s.once('connect', () => s.write(bytes))
    // The server ends it: a refusal, a parser error, or the connect timeout.
    s.once('close', () => resolve({ closedByServer: true, connackOk }))
  })
}

describe('fuzzed MQTT from raw sockets', () => {
  it(`${CONNECTIONS} hostile connections: the process stays up, memory bounded, each refused and counted once, and an SOS gets through meanwhile`, async () => {
    const operator = await connectOperator(p, p.adminToken)
    const button = await connectDevice(p, fx.device)
    const rng = new Rng(SEED)
    const before = p.app.stats.device(NOT_LOGGED_IN)?.refused ?? 0
    const rssBefore = process.memoryUsage().rss
    let rssPeak = rssBefore
    let sent = 0
    let admitted = 0
    let sosAt = -1
    for (let start = 0; start < CONNECTIONS; start += AT_ONCE) {
      const batch = Array.from({ length: Math.min(AT_ONCE, CONNECTIONS - start) }, (_, k) => hostile(rng, start + k, fx.device.id))
      sent += batch.length
      // Half way through the storm, the real button presses SOS.
      if (start === Math.floor(CONNECTIONS / 2 / AT_ONCE) * AT_ONCE) {
        sosAt = operator.pushes.length
        void publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'during-fuzz', type: 'sos' })
      }
      const results = await Promise.all(batch.map(attack))
      admitted += results.filter((r) => r.connackOk).length
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
    }
    await waitFor(() => operator.pushes.some((v) => v.deviceId === fx.device.id && v.type === 'sos'), 10_000, 'the SOS sent during the storm')
    expect(sosAt).toBeGreaterThanOrEqual(0)
    expect(admitted).toBe(0)
    // Every hostile connection was refused, and counted once, on the shared entry before login.
    await waitFor(() => (p.app.stats.device(NOT_LOGGED_IN)?.refused ?? 0) - before >= sent, 10_000, 'every refusal to be counted')
    expect((p.app.stats.device(NOT_LOGGED_IN)?.refused ?? 0) - before).toBe(sent)
    expect(p.app.stats.device(fx.device.id)?.refused ?? 0).toBe(0)
    await waitFor(() => p.app.broker.connections().open === 1, 10_000, 'only the button left connected')
    // The test process holds the platform too: a loose bound, far below what buffering 256 MB headers would take.
    expect(rssPeak - rssBefore).toBeLessThan(200 * 1024 * 1024)
    await button.endAsync()
    operator.close()
  }, 240_000)
})
