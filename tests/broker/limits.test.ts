/**
 * Broker limits before login (docs/security.md §broker), from raw sockets as an attacker would
 * send them, against the real broker: oversize packets refused from their header, sockets that
 * never log in closed, one address capped, the contract's protocol level and QoS.
 */
import net from 'node:net'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConnectionLimits } from '../../src/broker/limits.js'
import { deviceTopic } from '../../src/contract/index.js'
import { NOT_LOGGED_IN as SHARED } from '../../src/ingest/stats.js'
import { connectDevice, provision, publish, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

function rawSocket(p: TestPlatform): Promise<net.Socket> {
  const { hostname, port } = new URL(p.mqttUrl)
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), hostname, () => resolve(s))
    s.once('error', reject)
  })
}
const closed = (s: net.Socket | mqtt.MqttClient) => new Promise<void>((resolve) => s.once('close', () => resolve()))
const refusedBeforeLogin = (p: TestPlatform) => p.app.stats.device(SHARED)?.refused ?? 0
/** An SOS from this device opens an emergency for its household. */
async function sosGetsThrough(p: TestPlatform, fx: Fixture, id: string) {
  const client = await connectDevice(p, fx.device)
  await publish(client, deviceTopic(fx.device.id, 'alarm'), { id, type: 'sos' })
  await client.endAsync()
  const open = await p.app.incidents.list({ state: 'active' })
  expect(open.some((i) => i.householdId === fx.householdId && i.type === 'sos')).toBe(true)
}

describe('packet size, connect timeout, protocol level and QoS', () => {
  let p: TestPlatform
  let fx: Fixture
  beforeAll(async () => {
    p = await startPlatform({ env: { ANJU_MQTT_MAX_PACKET_BYTES: '2048', ANJU_MQTT_CONNECT_TIMEOUT_MS: '500' } })
    fx = await provision(p)
  })
  afterAll(() => p.close())

  /** Publishes an alarm over the 2,048-byte limit and waits for the server to close the connection. */
  async function oversizeAlarm(client: mqtt.MqttClient, id: string): Promise<{ acked: boolean }> {
    const gone = closed(client)
    let acked = false
    client.publish(deviceTopic(fx.device.id, 'alarm'), JSON.stringify({ id, type: 'service', note: 'x'.repeat(3000) }), { qos: 1 }, (err) => {
      if (!err) acked = true
    })
    await gone
    client.end(true)
    return { acked }
  }

  it('closes a connection whose CONNECT declares 256 MB as soon as the header arrives, without waiting for the body', async () => {
    const before = refusedBeforeLogin(p)
    const s = await rawSocket(p)
    const gone = closed(s)
    // CONNECT, remaining length 268,435,455 (the largest MQTT allows), then a little of its body.
    s.write(Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(100)]))
    await gone
    expect(p.app.stats.device(SHARED)).toMatchObject({ refused: before + 1, lastReason: 'packet over the size limit' })
    await sosGetsThrough(p, fx, 'after-oversize-connect')
  })

  it('closes a logged-in device that sends an oversize PUBLISH, without a PUBACK and without recording it, and charges the device', async () => {
    const before = p.app.stats.device(fx.device.id)?.refused ?? 0
    expect(await oversizeAlarm(await connectDevice(p, fx.device), 'huge')).toEqual({ acked: false })
    expect(p.app.stats.device(fx.device.id)?.refused).toBe(before + 1)
    expect(p.app.stats.device(fx.device.id)?.lastReason).toMatch(/^publish packet of \d+ bytes over the limit$/)
    // A green-key press opens a service ticket: none was recorded.
    expect((await p.app.serviceTickets.page({ limit: 1, offset: 0 })).total).toBe(0)
  })

  it('closes an oversize packet over MQTT-over-WebSocket too', async () => {
    const client = await new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = mqtt.connect(p.httpUrl.replace('http', 'ws') + '/mqtt', { clientId: fx.device.id, username: fx.device.id, password: fx.device.secret, protocolVersion: 4, reconnectPeriod: 0 })
      c.once('connect', () => resolve(c))
      c.once('error', reject)
    })
    expect(await oversizeAlarm(client, 'huge-ws')).toEqual({ acked: false })
  })

  it('counts a packet the parser refuses, before login on the shared entry and after it on the device', async () => {
    const before = refusedBeforeLogin(p)
    const s = await rawSocket(p)
    const gone = closed(s)
    s.write(Buffer.from([0x12, 0x00])) // CONNECT with reserved flag bits set [MQTT-2.2.2-2]
    await gone
    expect(p.app.stats.device(SHARED)).toMatchObject({ refused: before + 1, lastReason: 'malformed MQTT packet' })

    const device = await connectDevice(p, fx.device)
    const deviceBefore = p.app.stats.device(fx.device.id)?.refused ?? 0
    const deviceGone = closed(device)
    ;(device as unknown as { stream: net.Socket }).stream.write(Buffer.from([0x62, 0x00])) // PUBREL with wrong flags
    await deviceGone
    device.end(true)
    expect(p.app.stats.device(fx.device.id)).toMatchObject({ refused: deviceBefore + 1, lastReason: 'malformed MQTT packet' })
  })

  it('closes a connection that sends no CONNECT within the connect timeout', async () => {
    const before = refusedBeforeLogin(p)
    const s = await rawSocket(p)
    let received = 0
    s.on('data', (d) => (received += d.length))
    await closed(s)
    expect(received).toBe(0)
    expect(p.app.stats.device(SHARED)).toMatchObject({ refused: before + 1, lastReason: 'no CONNECT in time' })
    await waitFor(() => p.app.broker.connections().open === 0, 5000, 'the server to let the socket go')
  })

  it('refuses MQTT 3.1 with CONNACK 1 (unacceptable protocol version), counted before login', async () => {
    const before = refusedBeforeLogin(p)
    const err = await new Promise<Error & { code?: number }>((resolve) => {
      const c = mqtt.connect(p.mqttUrl, { clientId: fx.device.id, username: fx.device.id, password: fx.device.secret, protocolVersion: 3, protocolId: 'MQIsdp', reconnectPeriod: 0 })
      c.once('error', (e) => {
        c.end(true)
        resolve(e)
      })
      c.once('connect', () => resolve(new Error('connected')))
    })
    expect(err.code).toBe(1)
    expect(p.app.stats.device(SHARED)).toMatchObject({ refused: before + 1, lastReason: 'MQTT protocol level is not 3.1.1' })
  })

  it('refuses a QoS 2 publish: the connection closes and nothing is recorded', async () => {
    const client = await connectDevice(p, fx.device)
    const gone = closed(client)
    client.publish(deviceTopic(fx.device.id, 'alarm'), JSON.stringify({ id: 'qos2', type: 'service' }), { qos: 2 })
    await gone
    client.end(true)
    expect(p.app.stats.device(fx.device.id)?.lastReason).toBe('QoS 2 is not part of the contract')
    // A green-key press opens a service ticket: none was recorded.
    expect((await p.app.serviceTickets.page({ limit: 1, offset: 0 })).total).toBe(0)
  })
})

describe('connections from one address', () => {
  let p: TestPlatform
  let fx: Fixture
  beforeAll(async () => {
    p = await startPlatform({ env: { ANJU_MQTT_MAX_PENDING_PER_ADDRESS: '4', ANJU_MQTT_MAX_CONNECTIONS_PER_ADDRESS: '6', ANJU_MQTT_CONNECT_TIMEOUT_MS: '60000' } })
    fx = await provision(p)
  })
  afterAll(() => p.close())

  it('closes a fifth socket that has not logged in at once; devices already in still raise an SOS', async () => {
    const device = await connectDevice(p, fx.device)
    const idle = await Promise.all([0, 1, 2, 3].map(() => rawSocket(p)))
    await waitFor(() => p.app.broker.connections().open === 5, 5000, 'the server to hold five connections')
    const before = refusedBeforeLogin(p)
    const fifth = await rawSocket(p)
    await closed(fifth)
    expect(p.app.stats.device(SHARED)).toMatchObject({ refused: before + 1, lastReason: 'too many connections not yet logged in from one address' })
    // The device that was already in is not touched.
    await publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'during-flood', type: 'sos' })
    const open = await p.app.incidents.list({ state: 'active' })
    expect(open.some((i) => i.householdId === fx.householdId && i.type === 'sos')).toBe(true)
    await device.endAsync()
    for (const s of idle) s.destroy()
    await waitFor(() => p.app.broker.connections().open === 0, 5000, 'the server to let them go')
    expect(p.app.broker.connections().addresses).toBe(0)
  })
})

describe('createConnectionLimits', () => {
  it('caps everyone, one address, and one address’s not-yet-logged-in, and frees each slot once', () => {
    const limits = createConnectionLimits({ maxConnections: 4, maxPerAddress: 3, maxPendingPerAddress: 2 })
    const a1 = limits.admit('a')
    const a2 = limits.admit('a')
    expect(limits.admit('a')).toEqual({ admitted: false, reason: 'too many connections not yet logged in from one address' })
    if (!a1.admitted || !a2.admitted) throw new Error('admitted')
    a1.connected()
    a1.connected()
    const a3 = limits.admit('a')
    expect(a3.admitted).toBe(true)
    expect(limits.admit('a')).toEqual({ admitted: false, reason: 'too many connections from one address' })
    const b1 = limits.admit('b')
    expect(b1.admitted).toBe(true)
    expect(limits.admit('c')).toEqual({ admitted: false, reason: 'too many connections' })
    a2.closed()
    a2.closed()
    expect(limits.snapshot()).toEqual({ open: 3, addresses: 2 })
    if (!a3.admitted || !b1.admitted) throw new Error('admitted')
    a1.closed()
    a3.closed()
    b1.closed()
    expect(limits.snapshot()).toEqual({ open: 0, addresses: 0 })
  })
})
