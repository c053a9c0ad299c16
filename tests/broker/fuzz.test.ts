/**
 * A standing adversarial suite (docs/security.md §broker, §counting), seeded (firmware-sim/fuzz.ts),
 * while a real button raises an SOS that must reach its operator:
 *  - before login, from raw sockets: random bytes, mutated CONNECTs and PUBLISHes, oversize
 *    headers, other protocol levels, half packets. Every connection is refused and counted
 *    exactly once on the shared entry, and nobody gets in.
 *  - after a proper login, from a provisioned device: invalid JSON and UTF-8, schema violations,
 *    payloads over 4 KiB, mutated packets, other devices' topics, QoS 2, oversize and malformed
 *    packets, subscriptions it may not hold. Every packet is dropped or refused and counted on
 *    that device, and none of it opens an incident or reaches an operator.
 * The process stays up and its memory bounded. Bounded in count for CI; bench/broker-fuzz.ts
 * runs 100,000 packets and watches memory over time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newTally, preLoginBytes, runLoggedInFuzz, sendPreLogin } from '../../firmware-sim/fuzz.js'
import { Rng } from '../../firmware-sim/rng.js'
import { deviceTopic } from '../../src/contract/index.js'
import { NOT_LOGGED_IN } from '../../src/ingest/stats.js'
import { connectDevice, connectOperator, provision, publish, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

const CONNECTIONS = 10_000
const AT_ONCE = 200
const SEED = 11
/** The per-device publish rate is tested elsewhere; here every packet must meet its own fate. */
const NO_RATE_LIMIT = { ANJU_DEVICE_RATE_PER_S: '100000', ANJU_DEVICE_RATE_BURST: '1000000' }

describe('fuzzed MQTT from raw sockets', () => {
  let p: TestPlatform
  let fx: Fixture
  beforeAll(async () => {
    p = await startPlatform({ env: { ANJU_MQTT_CONNECT_TIMEOUT_MS: '500', ANJU_MQTT_MAX_PENDING_PER_ADDRESS: '1000', ANJU_MQTT_MAX_PACKET_BYTES: '4096', ...NO_RATE_LIMIT } })
    fx = await provision(p)
  })
  afterAll(() => p.close())

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
    const { hostname, port } = new URL(p.mqttUrl)
    for (let start = 0; start < CONNECTIONS; start += AT_ONCE) {
      const batch = Array.from({ length: Math.min(AT_ONCE, CONNECTIONS - start) }, (_, k) => preLoginBytes(rng, start + k, fx.device.id))
      sent += batch.length
      // Half way through the storm, the real button presses SOS.
      if (start === Math.floor(CONNECTIONS / 2 / AT_ONCE) * AT_ONCE) {
        sosAt = operator.pushes.length
        void publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'during-fuzz', type: 'sos' })
      }
      const results = await Promise.all(batch.map((bytes) => sendPreLogin(hostname, Number(port), bytes)))
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

const LOGGED_IN_PACKETS = 3000
/** The default (docs/security.md §broker): payloads over 4 KiB fit in a packet and are the contract's to refuse. */
const MAX_PACKET_BYTES = 16_384

describe('fuzzed MQTT from a device that logged in', () => {
  let p: TestPlatform
  let fx: Fixture
  let attacker: Fixture
  let victim: Fixture
  beforeAll(async () => {
    p = await startPlatform({ env: NO_RATE_LIMIT })
    fx = await provision(p)
    // The attacker and the device whose name it borrows live in a community of their own.
    attacker = await provision(p, { deviceId: 'fuzz-attacker' })
    victim = await provision(p, { communityId: attacker.communityId, deviceId: 'fuzz-victim' })
  })
  afterAll(() => p.close())

  it(`${LOGGED_IN_PACKETS} hostile packets after a proper login: each dropped or refused and counted on the device, no incident, nothing to an operator, and an SOS gets through meanwhile`, async () => {
    const operator = await connectOperator(p, p.adminToken)
    const button = await connectDevice(p, fx.device)
    const { hostname, port } = new URL(p.mqttUrl)
    const tally = newTally()
    const fuzzing = runLoggedInFuzz(
      { host: hostname, port: Number(port), device: attacker.device, others: [victim.device.id, fx.device.id], rng: new Rng(SEED), packets: LOGGED_IN_PACKETS, maxPacketBytes: MAX_PACKET_BYTES },
      tally,
    )
    // Half way through, the real button presses SOS, and it reaches the operator while the fuzz goes on.
    await waitFor(() => tally.sent >= LOGGED_IN_PACKETS / 2, 30_000, 'half of the fuzz')
    const sentAtPress = tally.sent
    await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'during-logged-in-fuzz', type: 'sos' })
    await waitFor(() => operator.pushes.some((v) => v.deviceId === fx.device.id && v.type === 'sos'), 10_000, 'the SOS sent during the fuzz')
    await fuzzing

    expect(tally.problems).toEqual([])
    expect(tally.sent).toBe(LOGGED_IN_PACKETS)
    expect(sentAtPress).toBeLessThan(LOGGED_IN_PACKETS)
    // Each closing packet closed its connection; the device logged in again after each (the last may have been one).
    expect(tally.logins).toBeGreaterThan(1)
    expect(tally.logins - tally.closed).toBeLessThanOrEqual(1)
    // Every packet counted once on the device that sent it: dropped (the connection stayed) or refused.
    expect(tally.expected.dropped + tally.expected.refused).toBe(LOGGED_IN_PACKETS)
    const counted = () => {
      const c = p.app.stats.device(attacker.device.id)
      return (c?.dropped ?? 0) + (c?.refused ?? 0) + (c?.accepted ?? 0) + (c?.duplicate ?? 0)
    }
    await waitFor(() => counted() >= LOGGED_IN_PACKETS, 10_000, 'every packet to be counted')
    expect(p.app.stats.device(attacker.device.id)).toMatchObject({ accepted: 0, duplicate: 0, dropped: tally.expected.dropped, refused: tally.expected.refused })
    // Nothing charged to the devices whose names it borrowed, nor to the shared entry before login.
    expect(p.app.stats.device(victim.device.id)).toBeUndefined()
    expect(p.app.stats.device(fx.device.id)).toMatchObject({ accepted: 1, dropped: 0, refused: 0 })
    expect(p.app.stats.device(NOT_LOGGED_IN)).toBeUndefined()

    // No incident from the fuzz, and nothing of it reached the operator; the real SOS opened one.
    const fuzzed = await p.api<unknown[]>('GET', `/api/incidents?communityId=${attacker.communityId}`)
    expect(fuzzed.body).toEqual([])
    const real = await p.api<{ deviceId: string; type: string }[]>('GET', `/api/incidents?communityId=${fx.communityId}`)
    expect(real.body).toMatchObject([{ deviceId: fx.device.id, type: 'sos' }])
    expect(operator.pushes.filter((v) => v.communityId === attacker.communityId)).toEqual([])

    // The process is up: the API answers, and only the button is still connected.
    expect((await p.api('GET', '/api/stats/ingest')).status).toBe(200)
    await waitFor(() => p.app.broker.connections().open === 1, 10_000, 'only the button left connected')
    await button.endAsync()
    operator.close()
  }, 60_000)
})
