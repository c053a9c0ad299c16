/** Contract v1 §Connection against the real broker: credentials, topic ACL, refusals counted. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cmdTopic, deviceTopic } from '../../src/contract/index.js'
import { NOT_LOGGED_IN } from '../../src/ingest/stats.js'
import { connectDevice, connectOperator, deviceBarrier, provision, publish, startPlatform, waitFor, within, type Fixture, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
let alice: Fixture
let bob: Fixture
beforeAll(async () => {
  p = await startPlatform()
  alice = await provision(p)
  bob = await provision(p, { communityId: alice.communityId })
})
afterAll(() => p.close())

describe('device authentication', () => {
  it('accepts the device id as client id and username with its secret', async () => {
    const client = await connectDevice(p, alice.device)
    expect(client.connected).toBe(true)
    await client.endAsync()
  })

  it.each([
    ['a wrong secret', () => ({ clientId: alice.device.id, username: alice.device.id, password: 'wrong' })],
    ['an unknown device', () => ({ clientId: 'btn-unknown', username: 'btn-unknown', password: 'whatever' })],
    ['a client id that differs from the username', () => ({ clientId: bob.device.id, username: alice.device.id, password: alice.device.secret })],
    ['no password', () => ({ clientId: alice.device.id, username: alice.device.id })],
  ])('refuses %s with CONNACK "not authorized"', async (_what, creds) => {
    const err = await new Promise<Error & { code?: number }>((resolve) => {
      const c = mqtt.connect(p.mqttUrl, { ...creds(), protocolVersion: 4, reconnectPeriod: 0 })
      c.once('error', (e) => {
        c.end(true)
        resolve(e)
      })
      c.once('connect', () => resolve(new Error('connected')))
    })
    expect(err.code).toBe(5)
  })

  it('counts each refusal before login on one shared counter, never on the device it names', async () => {
    const before = p.app.stats.device(alice.device.id)?.refused ?? 0
    const shared = p.app.stats.device(NOT_LOGGED_IN)?.refused ?? 0
    await connectDevice(p, { id: alice.device.id, secret: 'nope' }).catch(() => undefined)
    expect(p.app.stats.device(NOT_LOGGED_IN)).toMatchObject({ refused: shared + 1, lastReason: 'wrong secret' })
    expect(p.app.stats.device(alice.device.id)?.refused ?? 0).toBe(before)
  })

  it('accepts MQTT over WebSocket at /mqtt on the HTTP port', async () => {
    const operator = await connectOperator(p, p.adminToken)
    const client = await new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = mqtt.connect(p.httpUrl.replace('http', 'ws') + '/mqtt', {
        clientId: alice.device.id,
        username: alice.device.id,
        password: alice.device.secret,
        protocolVersion: 4,
        reconnectPeriod: 0,
      })
      c.once('connect', () => resolve(c))
      c.once('error', reject)
    })
    // The green key over WebSocket: a service ticket, pushed to the console as one.
    const tickets: { deviceId: string | null }[] = []
    operator.socket.on('ticket:changed', (t: { deviceId: string | null }) => tickets.push(t))
    await publish(client, deviceTopic(alice.device.id, 'alarm'), { id: 'ws-1', type: 'service' })
    await waitFor(() => tickets.some((t) => t.deviceId === alice.device.id))
    await client.endAsync()
    operator.close()
  })
})

describe('MQTT over TLS', () => {
  it('serves devices on the TLS port when a certificate is configured', async () => {
    const fixtures = join(import.meta.dirname, '..', 'delivery', 'channels', 'fixtures')
    const secure = await startPlatform({
      env: {
        ANJU_MQTT_TLS_PORT: '0',
        ANJU_MQTT_TLS_CERT: join(fixtures, 'push-service.test-only.crt'),
        ANJU_MQTT_TLS_KEY: join(fixtures, 'push-service.test-only.key'),
      },
    })
    try {
      const fx = await provision(secure)
      const port = secure.tlsPort
      const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
        clientId: fx.device.id,
        username: fx.device.id,
        password: fx.device.secret,
        ca: readFileSync(join(fixtures, 'push-service.test-only.crt')),
        reconnectPeriod: 0,
      })
      await publish(client, deviceTopic(fx.device.id, 'alarm'), { id: 'tls-1', type: 'sos' })
      await client.endAsync()
      expect((await secure.app.incidents.list({ state: 'active' })).map((i) => i.deviceId)).toEqual([fx.device.id])
    } finally {
      await secure.close()
    }
  })
})

describe('topic ACL', () => {
  it('refuses a publish to another device’s topics, closes the connection and delivers nothing', async () => {
    const victim = await connectDevice(p, bob.device)
    const received: string[] = []
    victim.on('message', (_topic, payload) => received.push((JSON.parse(payload.toString()) as { id: string }).id))
    await victim.subscribeAsync(cmdTopic(bob.device.id), { qos: 1 })

    const attacker = await connectDevice(p, alice.device)
    const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()))
    const refusedBefore = p.app.stats.device(alice.device.id)?.refused ?? 0
    attacker.publish(cmdTopic(bob.device.id), JSON.stringify({ id: 'c-1', ts: Date.now(), cmd: 'ack' }), { qos: 1 })
    await closed
    expect(p.app.stats.device(alice.device.id)?.refused).toBe(refusedBefore + 1)

    // spoofing an alarm as bob opens nothing for bob's household
    const attacker2 = await connectDevice(p, alice.device)
    const closed2 = new Promise<void>((resolve) => attacker2.once('close', () => resolve()))
    attacker2.publish(deviceTopic(bob.device.id, 'alarm'), JSON.stringify({ id: 'spoof', type: 'sos' }), { qos: 1 })
    await closed2
    // A refused publish is turned away before anything is recorded or forwarded; a command the
    // platform sends bob now reaches him after anything forwarded to him before it.
    const barrier = await deviceBarrier(p, victim, bob.device.id)
    expect(received).toEqual([barrier])
    const bobIncidents = await p.app.incidents.list({ state: 'active' })
    expect(bobIncidents.filter((i) => i.householdId === bob.householdId)).toEqual([])
    attacker.end(true)
    attacker2.end(true)
    await victim.endAsync()
  })

  it('refuses a subscription to another device’s cmd topic or a wildcard', async () => {
    const client = await connectDevice(p, alice.device)
    const refusedBefore = p.app.stats.device(alice.device.id)?.refused ?? 0
    // mqtt.js turns a SUBACK failure code into an error, so read the SUBACK packet itself.
    const suback = new Promise<number[]>((resolve) =>
      client.on('packetreceive', (packet) => {
        if (packet.cmd === 'suback') resolve(packet.granted as number[])
      }),
    )
    client.subscribe({ [cmdTopic(bob.device.id)]: { qos: 1 }, '#': { qos: 0 }, [cmdTopic(alice.device.id)]: { qos: 1 } }, () => undefined)
    expect(await suback).toEqual([128, 128, 1])
    expect(p.app.stats.device(alice.device.id)?.refused).toBe(refusedBefore + 2)
    // and nothing published by the platform to bob reaches alice
    const received: [string, string][] = []
    const own = new Promise<void>((resolve) =>
      client.on('message', (topic, payload) => {
        const { id } = JSON.parse(payload.toString()) as { id: string }
        received.push([topic, id])
        if (id === 'c-y') resolve()
      }),
    )
    await p.app.broker.sendCommand(bob.device.id, { id: 'c-x', ts: Date.now(), cmd: 'ping' })
    // Sent after bob's: alice's own command arrives after anything of bob's forwarded to her.
    await p.app.broker.sendCommand(alice.device.id, { id: 'c-y', ts: Date.now(), cmd: 'ping' })
    await within(own, 5000, "alice's own command")
    expect(received).toEqual([[cmdTopic(alice.device.id), 'c-y']])
    await client.endAsync()
  })

  it('lets a second connection with the same client id take over the session', async () => {
    const first = await connectDevice(p, alice.device)
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()))
    const second = await connectDevice(p, alice.device)
    await firstClosed
    expect(second.connected).toBe(true)
    first.end(true)
    await second.endAsync()
  })
})
