/**
 * docs/security.md §counting, after login: each thing a device does wrong is counted once, on
 * that device — a refusal that closes its connection is not counted again when the close makes a
 * pending acknowledgement fail, and a packet only a server may send is counted, not closed silently.
 */
import net from 'node:net'
import mqttPacket from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { provision, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

const gen = (packet: Record<string, unknown>) => mqttPacket.generate(packet as unknown as mqttPacket.Packet)

/** A raw socket logged in as the device; resolves once CONNACK 0 arrived. */
function loggedIn(fx: Fixture): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const { hostname, port } = new URL(p.mqttUrl)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    const parser = mqttPacket.parser()
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connack') (packet as { returnCode?: number }).returnCode === 0 ? resolve({ socket, closed }) : reject(new Error('not let in'))
    })
    socket.on('data', (d) => parser.parse(d))
    socket.on('error', () => undefined)
    socket.once('connect', () =>
      socket.write(gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: fx.device.id, username: fx.device.id, password: Buffer.from(fx.device.secret) })),
    )
  })
}

describe('accounting after login', () => {
  it('counts a QoS 2 publish once, even when it closes the connection before an earlier PUBACK went out', async () => {
    const fx = await provision(p)
    const { socket, closed } = await loggedIn(fx)
    const before = p.app.stats.device(fx.device.id) ?? { dropped: 0, refused: 0 }
    // One write: a malformed alarm (dropped, PUBACK due), then a QoS 2 publish (refused, closes).
    socket.write(
      Buffer.concat([
        gen({ cmd: 'publish', topic: deviceTopic(fx.device.id, 'alarm'), payload: Buffer.from('not json'), qos: 1, messageId: 1, retain: false, dup: false }),
        gen({ cmd: 'publish', topic: deviceTopic(fx.device.id, 'telemetry'), payload: Buffer.from('{}'), qos: 2, messageId: 2, retain: false, dup: false }),
      ]),
    )
    await closed
    await waitFor(() => (p.app.stats.device(fx.device.id)?.refused ?? 0) > before.refused, 5000, 'the refusal')
    // Whatever else the close sets off arrives before a fresh login's CONNACK on the same broker.
    const again = await loggedIn(fx)
    again.socket.destroy()
    expect(p.app.stats.device(fx.device.id)).toMatchObject({ dropped: before.dropped + 1, refused: before.refused + 1 })
  })

  it('does not count a PUBACK that fails because the platform closed the connection meanwhile', async () => {
    const fx = await provision(p, { kind: 'water' })
    const { socket, closed } = await loggedIn(fx)
    const before = p.app.stats.device(fx.device.id) ?? { accepted: 0, refused: 0 }
    // The device's registration changes while its reading is being recorded: the broker closes
    // its connection (to be re-read), and the reading's PUBACK, due after, finds it gone.
    const owner = 'test-close-mid-publish'
    p.app.bus.on('telemetry.received', owner, (e) => {
      if (e.deviceId === fx.device.id) p.app.broker.disconnect(fx.device.id)
    })
    const failed = new Promise<Error>((resolve) => {
      const listener = (client: { id: string }, err: Error) => {
        if (client.id !== fx.device.id) return
        p.app.broker.aedes.off('clientError', listener)
        resolve(err)
      }
      p.app.broker.aedes.on('clientError', listener)
    })
    try {
      socket.write(gen({ cmd: 'publish', topic: deviceTopic(fx.device.id, 'telemetry'), payload: Buffer.from(JSON.stringify({ id: 'w-1', kind: 'water', totalM3: 1.5 })), qos: 1, messageId: 1, retain: false, dup: false }))
      await closed
      expect((await failed).message).toBe('connection closed')
      // The broker's own listener ran before this one: what it counted is counted now.
      expect(p.app.stats.device(fx.device.id)).toMatchObject({ accepted: before.accepted + 1, refused: before.refused })
    } finally {
      p.app.bus.removeOwner(owner)
    }
  })

  it.each(['pingresp', 'connack', 'suback', 'unsuback'])('counts a %s from a device (a server’s packet) as a refusal', async (cmd) => {
    const fx = await provision(p)
    const { socket, closed } = await loggedIn(fx)
    const before = p.app.stats.device(fx.device.id)?.refused ?? 0
    const packet = cmd === 'connack' ? { cmd, returnCode: 0, sessionPresent: false } : cmd === 'suback' ? { cmd, messageId: 1, granted: [0] } : cmd === 'unsuback' ? { cmd, messageId: 1 } : { cmd }
    socket.write(gen(packet))
    await closed
    await waitFor(() => (p.app.stats.device(fx.device.id)?.refused ?? 0) === before + 1, 5000, `the ${cmd} counted`)
    expect(p.app.stats.device(fx.device.id)?.lastReason).toMatch(/only a server sends/)
  })
})
