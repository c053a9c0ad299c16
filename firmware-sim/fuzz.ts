/**
 * Hostile MQTT for the standing adversarial suite (tests/broker/fuzz.test.ts) and its long run
 * (bench/broker-fuzz.ts), seeded with Rng: one seed gives the same bytes, packet for packet.
 *
 * Two attackers (docs/security.md §counting):
 *  - before login, someone who never proves who they are: one connection's worth of bytes
 *    (random bytes, mutated and half CONNECTs, oversize headers, other protocol levels, wrong
 *    secrets). Each connection must be refused and counted once on the shared entry.
 *  - logged in, a provisioned device that authenticates with its own secret and then sends
 *    what the contract refuses: invalid JSON, invalid UTF-8, schema violations, payloads over
 *    4 KiB, mutated packets, other devices' topics, topics outside the contract, QoS 2,
 *    oversize headers, malformed packets, subscriptions it may not hold. Each packet comes with
 *    its fate, read with the broker's own parser and size limit, aedes' topic checks, the ACL
 *    and the contract's schemas: dropped (the connection stays), or refused (a subscription:
 *    the connection stays; anything else: it closes). Either way it is counted on the device.
 *    A packet the contract would accept is never generated, nor one whose fate aedes leaves
 *    uncounted (a client sending a server's packet, CONNACK or SUBACK, is closed silently).
 */
import net from 'node:net'
import type { Client } from 'aedes'
import mqttPacket, { type IPublishPacket, type ISubscribePacket, type Packet } from 'mqtt-packet'
import type { z } from 'zod'
import { decidePublish, maySubscribe } from '../src/broker/acl.js'
import { limitPacketSize } from '../src/broker/limits.js'
import { alarmPayload, cmdTopic, decodePayload, deviceTopic, MAX_PAYLOAD_BYTES, statusPayload, telemetryPayload, UPLINK_CHANNELS, type UplinkChannel } from '../src/contract/index.js'
import type { Rng } from './rng.js'

const gen = (packet: Record<string, unknown>) => mqttPacket.generate(packet as unknown as Packet)

// ---------------------------------------------------------------------------------------------
// Before login

/** One connection's worth of hostile bytes: one or more packets, some whole, some cut or mutated. */
export function preLoginBytes(rng: Rng, i: number, deviceId: string): Buffer {
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

export interface PreLoginResult {
  /** The server closed it (a refusal, a parser error, the connect timeout), not us. */
  closedByServer: boolean
  /** A CONNACK 0 came back: somebody got in who should not have. */
  connackOk: boolean
}

/**
 * Connects, sends the bytes and waits for the server to close the connection (it must, one way
 * or another). With `giveUpMs` we close it ourselves after that long (a socket that ends before
 * logging in is counted all the same), so a long run does not wait out every connect timeout.
 */
export function sendPreLogin(host: string, port: number, bytes: Buffer, opts: { giveUpMs?: number } = {}): Promise<PreLoginResult> {
  return new Promise((resolve) => {
    const s = net.connect(port, host)
    let connackOk = false
    let ours = false
    const parser = mqttPacket.parser()
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connack' && (packet as { returnCode?: number }).returnCode === 0) connackOk = true
    })
    parser.on('error', () => undefined)
    s.on('data', (d) => parser.parse(d))
    s.on('error', () => undefined)
    s.once('connect', () => s.write(bytes))
    const timer =
      opts.giveUpMs === undefined
        ? null
        : setTimeout(() => {
            ours = true
            s.destroy()
          }, opts.giveUpMs)
    s.once('close', () => {
      if (timer) clearTimeout(timer)
      resolve({ closedByServer: !ours, connackOk })
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Logged in: what the platform must do with a packet

export interface Fate {
  /** The device's counter (GET /api/stats/ingest) this packet moves by exactly one. */
  counter: 'dropped' | 'refused'
  /** The server closes the connection after it. */
  closes: boolean
  /** What the server answers when the connection stays: PUBACK (QoS 1), SUBACK, or nothing (QoS 0). */
  ack: 'puback' | 'suback' | null
  /** Why, in a few words. */
  why: string
}

export interface LoggedInContext {
  /** The device that logged in. */
  deviceId: string
  /** Other devices' ids whose topics it reaches for (real ones make the spoof worth trying). */
  others: readonly string[]
  /** The broker's ANJU_MQTT_MAX_PACKET_BYTES. */
  maxPacketBytes: number
}

/** aedes' default maxTopicLevels (lib/handlers/publish.js refuses deeper topics). */
const MAX_TOPIC_LEVELS = 100
const SCHEMAS: Record<UplinkChannel, z.ZodType<unknown>> = { alarm: alarmPayload, telemetry: telemetryPayload, status: statusPayload }

const refusedClose = (why: string): Fate => ({ counter: 'refused', closes: true, ack: null, why })

/**
 * The fate of `bytes` sent by a logged-in device as one packet, or null when the platform would
 * accept it, aedes would leave it uncounted, or the bytes are not exactly one packet (a cut
 * packet, two packets). Follows the broker's path: mqtt-packet's parser with the platform's
 * size limit (src/broker/limits.ts), aedes' own checks, then src/broker/broker.ts's hooks.
 */
export function fateOf(bytes: Buffer, ctx: LoggedInContext): Fate | null {
  const parser = mqttPacket.parser()
  let oversize = false
  limitPacketSize({ _parser: parser } as unknown as Client, ctx.maxPacketBytes, () => (oversize = true))
  const packets: Packet[] = []
  let error: Error | null = null
  parser.on('packet', (p: Packet) => packets.push(p))
  parser.on('error', (e: Error) => (error ??= e))
  const left = parser.parse(bytes)
  if (error) return packets.length === 0 ? refusedClose(oversize ? 'packet over the size limit' : 'malformed MQTT packet') : null
  if (packets.length !== 1 || left !== 0) return null
  const packet = packets[0]!
  switch (packet.cmd) {
    case 'publish':
      return publishFate(packet, ctx)
    case 'subscribe':
      return subscribeFate(packet, ctx)
    case 'connect':
      // [MQTT-3.1.0-2] a second CONNECT: aedes closes with an error, counted on the device.
      return refusedClose('second CONNECT')
    default:
      return null
  }
}

function publishFate(p: IPublishPacket, ctx: LoggedInContext): Fate | null {
  const topic = p.topic
  // aedes first (lib/handlers/publish.js): its error closes the connection, counted as malformed.
  if (topic.length === 0 || topic.includes('#') || topic.includes('+') || topic.split('/').length > MAX_TOPIC_LEVELS) return refusedClose('topic aedes refuses')
  // Then the platform's authorizePublish, in its order.
  if (topic.startsWith('$SYS/')) return refusedClose('$SYS is reserved')
  if (p.qos > 1) return refusedClose('QoS 2')
  const decision = decidePublish(ctx.deviceId, topic)
  if (!decision.allowed) return refusedClose(decision.reason)
  const payload = typeof p.payload === 'string' ? Buffer.from(p.payload, 'utf8') : p.payload
  const decoded = decodePayload(SCHEMAS[decision.channel], payload)
  if (decoded.ok) return null // the contract accepts it: not ours to send
  return { counter: 'dropped', closes: false, ack: p.qos === 1 ? 'puback' : null, why: decoded.reason }
}

function subscribeFate(p: ISubscribePacket, ctx: LoggedInContext): Fate | null {
  if (p.subscriptions.length !== 1) return null
  const filter = p.subscriptions[0]!.topic
  // aedes validates the filter before asking the platform; an invalid one closes the connection.
  if (filterError(filter)) return refusedClose('topic filter aedes refuses')
  if (maySubscribe(ctx.deviceId, filter)) return null
  return { counter: 'refused', closes: false, ack: 'suback', why: 'subscription not allowed' }
}

/** aedes' validateTopic for SUBSCRIBE (lib/utils.js, aedes 1.2), which its package does not export. */
function filterError(topic: string): boolean {
  if (topic.length === 0 || topic.split('/').length > MAX_TOPIC_LEVELS) return true
  const end = topic.length - 1
  const endMinus = end - 1
  const slashInPreEnd = endMinus > 0 && topic.charCodeAt(endMinus) !== 47
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i)
    if (c === 35 && (i !== end || slashInPreEnd)) return true
    if (c === 43) {
      const pastChar = i < end - 1 && topic.charCodeAt(i + 1) !== 47
      const preChar = i > 1 && topic.charCodeAt(i - 1) !== 47
      if (pastChar || preChar) return true
    }
  }
  return false
}

// ---------------------------------------------------------------------------------------------
// Logged in: the packets

/** What a logged-in fuzzer sends, and how often (relative weights). */
export const LOGGED_IN_KINDS = {
  invalidJson: 4,
  invalidUtf8: 3,
  schema: 4,
  mutatedPayload: 4,
  tooLarge: 2,
  mutatedPacket: 1.5,
  foreignSubscribe: 1,
  otherDevice: 0.5,
  notContract: 0.5,
  qos2: 0.4,
  oversize: 0.4,
  malformed: 0.4,
} as const
export type LoggedInKind = keyof typeof LOGGED_IN_KINDS

export interface HostilePacket extends Fate {
  kind: LoggedInKind
  bytes: Buffer
}

/** Any device time will do (the platform replaces a skewed one); no wall clock, so a seed repeats. */
const BASE_TS = 1_700_000_000_000

function messageId(rng: Rng): string {
  return `fz-${rng.int(0, 2 ** 31).toString(36)}`
}

/** A payload the contract accepts on `channel`: the raw material that is then broken. */
function validPayload(rng: Rng, channel: UplinkChannel): Record<string, unknown> {
  const ts = BASE_TS + rng.int(0, 1e9)
  switch (channel) {
    case 'alarm':
      return { id: messageId(rng), ts, type: rng.pick(['sos', 'fall', 'service', 'cancel']), ...(rng.chance(0.5) ? { battery: rng.int(0, 100) } : {}) }
    case 'telemetry':
      switch (rng.pick(['water', 'presence', 'door', 'hazard'] as const)) {
        case 'water':
          return { id: messageId(rng), ts, kind: 'water', totalM3: rng.int(0, 99_999) / 1000, flowLpm: rng.int(0, 300) / 10 }
        case 'presence':
          return { id: messageId(rng), ts, kind: 'presence', occupied: rng.chance(0.5), motion: rng.chance(0.5) }
        case 'door':
          return { id: messageId(rng), ts, kind: 'door', open: rng.chance(0.5) }
        case 'hazard':
          return { id: messageId(rng), ts, kind: rng.pick(['smoke', 'gas']), alarm: rng.chance(0.5) }
      }
      break
    case 'status':
      return { ts, online: rng.chance(0.8), battery: rng.int(0, 100), fw: `1.${rng.int(0, 9)}.${rng.int(0, 9)}`, ...(rng.chance(0.5) ? { caps: ['checkin'] } : {}) }
  }
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8')

function mutateBytes(rng: Rng, b: Buffer, max: number): Buffer {
  const c = Buffer.from(b)
  if (c.length === 0) return c
  for (let k = rng.int(1, max); k > 0; k--) c[rng.int(0, c.length - 1)] = rng.int(0, 255)
  return c
}

function publishPacket(topic: string, payload: Buffer, qos: 0 | 1 | 2, rng: Rng, over: Record<string, unknown> = {}): Buffer {
  return gen({ cmd: 'publish', topic, payload, qos, retain: rng.chance(0.1), dup: false, ...(qos > 0 ? { messageId: rng.int(1, 65535) } : {}), ...over })
}

/** Not JSON, in the ways devices get it wrong. */
function notJson(rng: Rng, channel: UplinkChannel): Buffer {
  const valid = JSON.stringify(validPayload(rng, channel))
  switch (rng.int(0, 7)) {
    case 0:
      return Buffer.from(valid.slice(0, rng.int(0, valid.length - 1)))
    case 1:
      return Buffer.from(Array.from({ length: rng.int(1, 200) }, () => String.fromCharCode(rng.int(0x20, 0x7e))).join(''))
    case 2:
      return Buffer.from(valid.replaceAll('"', "'"))
    case 3:
      return Buffer.from(valid.replace(/}$/, ',}'))
    case 4:
      return Buffer.from(valid.replace(/}$/, ',"battery":NaN}'))
    case 5:
      return Buffer.from(`// ${channel}\n${valid}`)
    case 6:
      return Buffer.from(`${valid}${valid}`)
    default:
      return Buffer.alloc(0)
  }
}

/** Bytes that are not UTF-8 (overlong, surrogate, cut, out of range, stray), inside otherwise valid JSON. */
const BAD_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe4, 0xb8], [0xf5, 0x80, 0x80, 0x80], [0x80], [0xfe, 0xfe], [0xe5, 0xae]]
function notUtf8(rng: Rng, channel: UplinkChannel): Buffer {
  const payload = validPayload(rng, channel)
  const mark = 'QZXMARKQZX'
  const key = channel === 'status' ? 'fw' : 'id'
  payload[key] = `${String(payload[key]).slice(0, 20)}${mark}`
  const [head = '', tail = ''] = JSON.stringify(payload).split(mark)
  return Buffer.concat([Buffer.from(head), Buffer.from(rng.pick(BAD_UTF8)), Buffer.from(tail)])
}

const WRONG_VALUES: readonly unknown[] = [null, '', 'x', -1, 1.5, 101, 1e300, true, false, [], {}, 'a'.repeat(80), ['checkin'], -BASE_TS]
/** Valid JSON the schema refuses: a field gone, of the wrong type or out of range, an unknown kind, no object at all. */
function breakSchema(rng: Rng, channel: UplinkChannel): unknown {
  const payload = validPayload(rng, channel)
  const keys = Object.keys(payload)
  switch (rng.int(0, 6)) {
    case 0:
      delete payload[rng.pick(keys)]
      return payload
    case 1:
      payload[rng.pick(keys)] = rng.pick(WRONG_VALUES)
      return payload
    case 2:
      if (channel === 'alarm') payload.type = rng.pick(['panic', 'SOS', 'fire', 'checkin_ok', ''])
      else if (channel === 'telemetry') payload.kind = rng.pick(['fire', 'Water', 'temperature', ''])
      else payload.online = rng.pick(['true', 1, 'yes'])
      return payload
    case 3:
      if (channel === 'status') payload.caps = Array.from({ length: rng.int(17, 40) }, (_, k) => `cap${k}`)
      else payload.id = 'x'.repeat(rng.int(65, 300))
      return payload
    case 4:
      payload.battery = rng.pick([-0.5, 100.5, 250, '50'])
      return payload
    case 5:
      return rng.pick([[], [payload], null, 42, 'sos', true])
    default:
      payload.ts = rng.pick([-1, 1.5, '2024-01-01', BASE_TS + 0.25])
      return payload
  }
}

const otherId = (rng: Rng, ctx: LoggedInContext) => (ctx.others.length > 0 && rng.chance(0.7) ? rng.pick(ctx.others) : `btn-${rng.int(0, 99_999)}`)

/** MQTT 3.1.1 §2.2.3 remaining length (also the oversize headers of bench/broker-flood.ts). */
export function remainingLength(n: number): Buffer {
  const bytes: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    bytes.push(b)
  } while (n > 0)
  return Buffer.from(bytes)
}

/** One candidate of `kind`; `fateOf` decides whether it goes out. */
function candidate(rng: Rng, kind: LoggedInKind, ctx: LoggedInContext): Buffer {
  const me = ctx.deviceId
  const channel = rng.pick(UPLINK_CHANNELS)
  const own = deviceTopic(me, channel)
  const qos01 = (): 0 | 1 => (rng.chance(0.6) ? 1 : 0)
  switch (kind) {
    case 'invalidJson':
      return publishPacket(own, notJson(rng, channel), qos01(), rng)
    case 'invalidUtf8':
      return publishPacket(own, notUtf8(rng, channel), qos01(), rng)
    case 'schema':
      return publishPacket(own, json(breakSchema(rng, channel)), qos01(), rng)
    case 'mutatedPayload':
      return publishPacket(own, mutateBytes(rng, json(validPayload(rng, channel)), 4), qos01(), rng)
    case 'tooLarge': {
      // A payload the contract would take but for its size: a real alarm padded past 4 KiB.
      const payload = validPayload(rng, channel)
      const size = rng.int(MAX_PAYLOAD_BYTES + 1, Math.max(MAX_PAYLOAD_BYTES + 1, Math.min(ctx.maxPacketBytes - 64, 4 * MAX_PAYLOAD_BYTES)))
      const bare = JSON.stringify({ ...payload, pad: '' }).length
      return publishPacket(own, json({ ...payload, pad: 'p'.repeat(Math.max(0, size - bare)) }), qos01(), rng)
    }
    case 'mutatedPacket':
      return mutateBytes(rng, publishPacket(own, json(validPayload(rng, channel)), qos01(), rng), 3)
    case 'foreignSubscribe': {
      const filter = rng.pick([cmdTopic(otherId(rng, ctx)), '#', 'anju/v1/dev/+/cmd', deviceTopic(me, 'alarm'), `anju/v1/dev/${me}/+`, '$SYS/#', '+/+/+/+/cmd', `${cmdTopic(me)}/#`, 'a/#/b', ''])
      return gen({ cmd: 'subscribe', messageId: rng.int(1, 65535), subscriptions: [{ topic: filter, qos: rng.int(0, 2) }] })
    }
    case 'otherDevice':
      // A spoofed alarm (or reading, or status, or command) in another device's name.
      return publishPacket(deviceTopic(otherId(rng, ctx), rng.pick(['alarm', 'telemetry', 'status', 'cmd'])), json(validPayload(rng, 'alarm')), qos01(), rng)
    case 'notContract': {
      const topic = rng.pick([
        cmdTopic(me),
        `${own}/x`,
        `anju/v1/dev/${me}`,
        `anju/v2/dev/${me}/alarm`,
        `/anju/v1/dev/${me}/alarm`,
        `ANJU/V1/DEV/${me}/ALARM`,
        '$SYS/broker/clients/total',
        `anju/v1/dev/${me}/#`,
        'anju/v1/dev/+/alarm',
        `anju/v1/dev/${me}/报警`,
        'a/'.repeat(MAX_TOPIC_LEVELS + 5),
      ])
      return publishPacket(topic, json(validPayload(rng, 'alarm')), qos01(), rng)
    }
    case 'qos2':
      // A real SOS, but at QoS 2, which the contract does not have.
      return publishPacket(deviceTopic(me, 'alarm'), json({ ...validPayload(rng, 'alarm'), type: 'sos' }), 2, rng)
    case 'oversize': {
      const declared = rng.int(ctx.maxPacketBytes + 1, 268_435_455)
      return Buffer.concat([Buffer.from([rng.pick([0x10, 0x30, 0x32, 0x34, 0x82])]), remainingLength(declared), Buffer.alloc(rng.int(0, 2000), 0x61)])
    }
    case 'malformed':
      switch (rng.int(0, 5)) {
        case 0: // reserved packet type 0
          return Buffer.concat([Buffer.from([0x00]), remainingLength(4), Buffer.alloc(4)])
        case 1: // PUBLISH with both QoS bits set
          return Buffer.from([0x36, 0x02, 0x00, 0x00])
        case 2: // SUBSCRIBE with the wrong fixed-header flags
          return Buffer.from([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x23, 0x00])
        case 3: { // PUBLISH whose topic length runs past the packet
          const body = Buffer.concat([Buffer.from([0x40, 0x00]), Buffer.from('anju/v1')])
          return Buffer.concat([Buffer.from([0x30]), remainingLength(body.length), body])
        }
        case 4: // a second CONNECT
          return gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: me, username: me, password: Buffer.from('again') })
        default: // SUBSCRIBE with no subscription in it
          return Buffer.from([0x82, 0x02, 0x00, 0x01])
      }
  }
}

/** The safe fallback when a kind keeps producing what the platform would accept: cut JSON. */
function fallback(rng: Rng, ctx: LoggedInContext): Buffer {
  const payload = JSON.stringify(validPayload(rng, 'alarm'))
  return publishPacket(deviceTopic(ctx.deviceId, 'alarm'), Buffer.from(payload.slice(0, -1)), 1, rng)
}

/**
 * One hostile packet from a logged-in device, with its fate. Candidates the platform would accept
 * (a mutation that left a valid alarm), or whose fate is not one count, are drawn again.
 */
export function loggedInPacket(rng: Rng, ctx: LoggedInContext): HostilePacket {
  const kind = rng.weighted(LOGGED_IN_KINDS)
  for (let tries = 0; tries < 32; tries++) {
    const bytes = candidate(rng, kind, ctx)
    const fate = fateOf(bytes, ctx)
    if (fate) return { kind, bytes, ...fate }
  }
  const bytes = fallback(rng, ctx)
  return { kind, bytes, ...fateOf(bytes, ctx)! }
}

// ---------------------------------------------------------------------------------------------
// Logged in: the driver

export interface LoggedInTally {
  /** Hostile packets written to the socket. */
  sent: number
  /** What the device's counters must have grown by. */
  expected: { dropped: number; refused: number }
  byKind: Partial<Record<LoggedInKind, number>>
  /** Successful logins (CONNACK 0) with the device's own secret. */
  logins: number
  /** Connections the server closed after a packet that closes them, as it must. */
  closed: number
  /** What went against the expectation: a close after a packet that should have left it open, a closer that did not close. */
  problems: string[]
}

export const newTally = (): LoggedInTally => ({ sent: 0, expected: { dropped: 0, refused: 0 }, byKind: {}, logins: 0, closed: 0, problems: [] })

export interface LoggedInFuzzOptions {
  host: string
  port: number
  device: { id: string; secret: string }
  /** Other devices' ids whose topics it reaches for. */
  others: readonly string[]
  rng: Rng
  packets: number
  /** The broker's ANJU_MQTT_MAX_PACKET_BYTES. */
  maxPacketBytes: number
  /** Acknowledgements (PUBACK, SUBACK) awaited at once; default 32. */
  window?: number
  /** How long a CONNACK, an acknowledgement or a closing may take; default 10 s. */
  timeoutMs?: number
  /** Awaited before each packet (a rate, a pause). */
  pace?: () => Promise<void> | void
  /** Stops after the packet being sent. */
  signal?: AbortSignal
}

/** A raw MQTT connection that logged in: it writes bytes and counts acknowledgements. */
class Session {
  private readonly parser = mqttPacket.parser()
  private waiters: (() => void)[] = []
  /** PUBACKs and SUBACKs still due. */
  due = 0
  isClosed = false
  /** A packet the server sent that a device should not get (not an acknowledgement). */
  odd: string | null = null

  private constructor(readonly socket: net.Socket) {
    this.parser.on('packet', (p: Packet) => {
      if (p.cmd === 'puback' || p.cmd === 'suback') this.due = Math.max(0, this.due - 1)
      else if (p.cmd !== 'pingresp') this.odd ??= p.cmd
      this.wake()
    })
    this.parser.on('error', (e: Error) => (this.odd ??= `unparsable: ${e.message}`))
    socket.on('data', (d: Buffer) => this.parser.parse(d))
    socket.on('drain', () => this.wake())
    socket.once('close', () => {
      this.isClosed = true
      this.wake()
    })
  }

  static login(host: string, port: number, device: { id: string; secret: string }, timeoutMs: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port })
      socket.setNoDelay(true)
      socket.on('error', () => undefined)
      const first = mqttPacket.parser()
      const timer = setTimeout(() => fail(`no CONNACK within ${timeoutMs} ms`), timeoutMs)
      const fail = (why: string) => {
        clearTimeout(timer)
        socket.destroy()
        reject(new Error(`${device.id}: login failed: ${why}`))
      }
      const onData = (d: Buffer) => first.parse(d)
      const onClose = () => fail('closed before CONNACK')
      socket.on('data', onData)
      socket.once('close', onClose)
      first.once('packet', (p: Packet) => {
        if (p.cmd !== 'connack' || p.returnCode !== 0) return fail(`got ${p.cmd} ${'returnCode' in p ? String(p.returnCode) : ''}`)
        clearTimeout(timer)
        socket.off('data', onData)
        socket.off('close', onClose)
        resolve(new Session(socket))
      })
      socket.once('connect', () =>
        socket.write(gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: device.id, username: device.id, password: Buffer.from(device.secret, 'utf8'), clean: true, keepalive: 0 })),
      )
    })
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Resolves once `ready()` holds or the connection is closed; rejects after `timeoutMs`. */
  async until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (!ready() && !this.isClosed) {
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  /** Writes, waiting for the socket to drain when it asks to. */
  async write(bytes: Buffer, timeoutMs: number): Promise<void> {
    if (this.isClosed) return
    if (!this.socket.write(bytes)) await this.until(() => this.socket.writableLength === 0, timeoutMs, 'the socket to drain')
  }

  /** DISCONNECT (not counted: a device may leave), then wait for the close. */
  async leave(timeoutMs: number): Promise<void> {
    if (this.isClosed) return
    this.socket.end(gen({ cmd: 'disconnect' }))
    await this.until(() => false, timeoutMs, 'the connection to close after DISCONNECT').catch(() => this.socket.destroy())
  }
}

/**
 * A provisioned device logs in with its own secret and sends `packets` hostile packets, logging in
 * again each time the server closes it. Resolves with what the device's counters must show.
 * Before a packet that closes the connection it waits for every acknowledgement still due: a
 * PUBACK that aedes can no longer write, because the next packet got the connection closed, is
 * charged to the device once more today (as `malformed MQTT packet`), which would blur what each
 * packet cost. Such a pair in one write is a known miscount of the platform, not a fuzz result.
 */
export async function runLoggedInFuzz(opts: LoggedInFuzzOptions, tally: LoggedInTally = newTally()): Promise<LoggedInTally> {
  const ctx: LoggedInContext = { deviceId: opts.device.id, others: opts.others, maxPacketBytes: opts.maxPacketBytes }
  const window = opts.window ?? 32
  const timeoutMs = opts.timeoutMs ?? 10_000
  let session: Session | null = null
  let last: LoggedInKind | null = null
  try {
    for (let n = 0; n < opts.packets && !opts.signal?.aborted; n++) {
      const p = loggedInPacket(opts.rng, ctx)
      await opts.pace?.()
      for (;;) {
        if (!session || session.isClosed) {
          if (session && last) tally.problems.push(`the server closed the connection after a ${last} packet that should have left it open`)
          session = await Session.login(opts.host, opts.port, opts.device, timeoutMs)
          tally.logins++
          last = null
        }
        const s: Session = session
        if (p.closes) await s.until(() => s.due === 0, timeoutMs, 'acknowledgements before a closing packet')
        else if (p.ack) await s.until(() => s.due < window, timeoutMs, 'acknowledgements')
        if (!s.isClosed) break
      }
      const s: Session = session
      if (p.ack) s.due++
      await s.write(p.bytes, timeoutMs)
      tally.sent++
      tally.expected[p.counter]++
      tally.byKind[p.kind] = (tally.byKind[p.kind] ?? 0) + 1
      last = p.kind
      if (p.closes) {
        try {
          await s.until(() => false, timeoutMs, `the server to close the connection after a ${p.kind} packet (${p.why})`)
          tally.closed++
        } catch (err) {
          tally.problems.push(err instanceof Error ? err.message : String(err))
          s.socket.destroy()
        }
        last = null
      }
      if (s.odd) {
        tally.problems.push(`the server sent ${s.odd}`)
        s.odd = null
      }
    }
    if (session && !session.isClosed) {
      const s: Session = session
      await s.until(() => s.due === 0, timeoutMs, 'the last acknowledgements')
      if (s.isClosed && last) tally.problems.push(`the server closed the connection after a ${last} packet that should have left it open`)
    }
  } finally {
    await session?.leave(timeoutMs)
  }
  return tally
}
