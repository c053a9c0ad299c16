/**
 * A lean MQTT 3.1.1 device connection: one raw TCP socket and mqtt-packet's encoder and parser.
 * mqtt.js is too heavy to hold 10,000 devices in one process (stores, reconnect machinery and
 * timers per client), and it does not set TCP_NODELAY, which costs back-to-back QoS 1 messages
 * about 40 ms each (DESIGN.md). This client does what a button does and nothing more:
 * connect, publish at QoS 0/1, subscribe to its `cmd` topic, acknowledge what it receives,
 * ping on keepalive, disconnect. No reconnect: the caller decides what a lost connection means.
 */
import { EventEmitter } from 'node:events'
import net from 'node:net'
import { generate, parser, type IPublishPacket, type Packet } from 'mqtt-packet'

export interface RawDeviceOptions {
  host: string
  port: number
  /** Client id and username (contract v1 §Connecting). */
  deviceId: string
  /** Password: the secret handed out at provisioning. */
  secret: string
  /** Seconds; 0 turns keepalive off. Default 60. */
  keepaliveS?: number
  /** Clean session; default true. A device that wants commands kept while offline passes false. */
  clean?: boolean
  /** Last Will, e.g. retained `{ "online": false }` on the status topic (contract §5.4). */
  will?: { topic: string; payload: Buffer | string | object; qos?: 0 | 1; retain?: boolean }
  /** How long the TCP connect plus CONNACK may take. Default 10,000 ms. */
  connectTimeoutMs?: number
}

export interface RawDeviceEvents {
  /** A PUBLISH from the broker; QoS 1 is acknowledged before this is emitted. */
  message: [topic: string, payload: Buffer, packet: IPublishPacket]
  /** The connection is gone: `error` is undefined after close(), set when it was lost or refused. */
  close: [error: Error | undefined]
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3. */
const CONNACK_REASONS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
}

/** SUBACK code for a refused subscription (MQTT 3.1.1 §3.9.3). */
export const SUBACK_FAILURE = 0x80

interface Pending {
  resolve: (value: number[]) => void
  reject: (err: Error) => void
}

export class RawDevice extends EventEmitter<RawDeviceEvents> {
  readonly deviceId: string
  private readonly socket: net.Socket
  /** Unacknowledged QoS 1 publishes and subscribes, by message id (one id space, §2.3.1). */
  private readonly inFlight = new Map<number, Pending>()
  private nextMessageId = 1
  private keepaliveTimer: NodeJS.Timeout | null = null
  private lastSentAt = Date.now()
  private pingSentAt: number | null = null
  private closedWith: Error | undefined | null = null // null while open

  private constructor(deviceId: string, socket: net.Socket) {
    super()
    this.deviceId = deviceId
    this.socket = socket
  }

  get connected(): boolean {
    return this.closedWith === null
  }

  /**
   * Publishes `payload` (an object is sent as JSON). QoS 0 resolves once written to the socket
   * buffer; QoS 1 resolves on the broker's PUBACK and rejects if the connection is lost first.
   */
  publish(topic: string, payload: Buffer | string | object, qos: 0 | 1 = 1, retain = false): Promise<void> {
    const body = toBuffer(payload)
    if (qos === 0) {
      return this.send({ cmd: 'publish', topic, payload: body, qos: 0, dup: false, retain }) ? Promise.resolve() : Promise.reject(this.notConnected())
    }
    return this.request((messageId) => ({ cmd: 'publish', topic, payload: body, qos: 1, dup: false, retain, messageId })).then(() => undefined)
  }

  /** Subscribes at QoS 1 (the contract's `cmd` QoS); resolves with the granted codes, 0x80 = refused. */
  subscribe(topic: string | string[], qos: 0 | 1 = 1): Promise<number[]> {
    const topics = Array.isArray(topic) ? topic : [topic]
    return this.request((messageId) => ({ cmd: 'subscribe', messageId, subscriptions: topics.map((t) => ({ topic: t, qos })) }))
  }

  /** Sends DISCONNECT (so no Last Will is published) and resolves once the socket is closed. */
  close(): Promise<void> {
    if (!this.connected) return Promise.resolve()
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve())
      this.send({ cmd: 'disconnect' })
      this.shutdown(undefined)
      this.socket.end()
    })
  }

  /** Drops the connection without DISCONNECT, as a power cut would: the broker publishes the Will. */
  destroy(): void {
    if (!this.connected) return
    this.shutdown(new Error(`${this.deviceId}: connection destroyed`))
    this.socket.destroy()
  }

  /** Opens the TCP connection, sends CONNECT and resolves on CONNACK 0; rejects on any other code. */
  static connect(options: RawDeviceOptions): Promise<RawDevice> {
    const { host, port, deviceId, secret } = options
    const keepaliveS = options.keepaliveS ?? 60
    const timeoutMs = options.connectTimeoutMs ?? 10_000

    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port })
      // Nagle would hold a QoS 1 PUBLISH until the previous segment is acknowledged (DESIGN.md).
      socket.setNoDelay(true)
      const device = new RawDevice(deviceId, socket)
      const packets = parser({ protocolVersion: 4 })
      let session = false

      const timer = setTimeout(() => refuse(new Error(`${deviceId}: no CONNACK from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs)
      function refuse(err: Error): void {
        clearTimeout(timer)
        socket.destroy()
        reject(err)
      }

      packets.on('packet', (packet: Packet) => {
        if (session) return device.handlePacket(packet)
        if (packet.cmd !== 'connack') return refuse(new Error(`${deviceId}: expected CONNACK, got ${packet.cmd.toUpperCase()}`))
        const code = packet.returnCode ?? 0
        if (code !== 0) {
          return refuse(new Error(`${deviceId}: connection refused by ${host}:${port}, CONNACK return code ${code} (${CONNACK_REASONS[code] ?? 'unknown'})`))
        }
        clearTimeout(timer)
        session = true
        device.startKeepalive(keepaliveS)
        resolve(device)
      })
      packets.on('error', (err: Error) => {
        const error = new Error(`${deviceId}: malformed packet from broker: ${err.message}`)
        if (session) device.fail(error)
        else refuse(error)
      })

      socket.on('data', (chunk: Buffer) => packets.parse(chunk))
      socket.on('error', (err: Error) => {
        if (session) device.fail(new Error(`${deviceId}: ${err.message}`))
        else refuse(new Error(`${deviceId}: cannot connect to ${host}:${port}: ${err.message}`))
      })
      socket.on('close', () => {
        if (session) device.fail(new Error(`${deviceId}: connection closed by broker`))
        else refuse(new Error(`${deviceId}: ${host}:${port} closed the connection before CONNACK`))
      })

      socket.on('connect', () => {
        const will = options.will
        socket.write(
          generate({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 4,
            clientId: deviceId,
            username: deviceId,
            password: Buffer.from(secret, 'utf8'),
            clean: options.clean ?? true,
            keepalive: keepaliveS,
            ...(will ? { will: { topic: will.topic, payload: toBuffer(will.payload), qos: will.qos ?? 1, retain: will.retain ?? false } } : {}),
          }),
        )
      })
    })
  }

  /** Routes a parsed packet once the session is up. */
  private handlePacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'puback':
        this.settle(packet.messageId, [])
        return
      case 'suback':
        this.settle(packet.messageId, packet.granted.map((g) => (typeof g === 'number' ? g : SUBACK_FAILURE)))
        return
      case 'pingresp':
        this.pingSentAt = null
        return
      case 'publish': {
        if (packet.qos === 2) {
          // We never subscribe above QoS 1, so a QoS 2 delivery is a broker fault.
          this.fail(new Error(`${this.deviceId}: unexpected QoS 2 publish on ${packet.topic}`))
          return
        }
        // [MQTT-4.3.2-2] acknowledge before handing on: the broker should not retransmit while
        // a listener is busy, and a throwing listener must not leave the message unacknowledged.
        if (packet.qos === 1) this.send({ cmd: 'puback', messageId: packet.messageId })
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
        this.emit('message', packet.topic, payload, packet)
        return
      }
      default:
        // connack after connect, unsuback, or a server-side packet a client never gets.
        return
    }
  }

  /** Starts the keepalive once CONNACK has arrived. */
  private startKeepalive(keepaliveS: number): void {
    if (keepaliveS <= 0) return
    const keepaliveMs = keepaliveS * 1000
    // Check twice per period: ping when half a period passed silently, give up when a PINGRESP
    // is a whole period late (the broker itself allows 1.5 periods, [MQTT-3.1.2-24]).
    this.keepaliveTimer = setInterval(() => {
      const now = Date.now()
      if (this.pingSentAt !== null && now - this.pingSentAt >= keepaliveMs) {
        this.fail(new Error(`${this.deviceId}: no PINGRESP within ${keepaliveS} s`))
      } else if (this.pingSentAt === null && now - this.lastSentAt >= keepaliveMs / 2) {
        this.pingSentAt = now
        this.send({ cmd: 'pingreq' })
      }
    }, keepaliveMs / 2)
    this.keepaliveTimer.unref()
  }

  /** The connection was lost, refused mid-session or broke the protocol. */
  private fail(error: Error | undefined): void {
    if (!this.connected) return
    this.shutdown(error)
    this.socket.destroy()
  }

  private shutdown(error: Error | undefined): void {
    this.closedWith = error
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer)
    this.keepaliveTimer = null
    const reason = error ?? new Error(`${this.deviceId}: connection closed`)
    for (const pending of this.inFlight.values()) pending.reject(reason)
    this.inFlight.clear()
    this.emit('close', error)
  }

  private send(packet: Packet): boolean {
    if (!this.connected || this.socket.destroyed) return false
    this.socket.write(generate(packet))
    this.lastSentAt = Date.now()
    return true
  }

  private request(build: (messageId: number) => Packet): Promise<number[]> {
    if (!this.connected) return Promise.reject(this.notConnected())
    const messageId = this.allocateMessageId()
    if (messageId === null) return Promise.reject(new Error(`${this.deviceId}: 65535 messages already in flight`))
    return new Promise<number[]>((resolve, reject) => {
      this.inFlight.set(messageId, { resolve, reject })
      this.send(build(messageId))
    })
  }

  /** Message ids run 1..65535 and wrap, skipping ids still awaiting their acknowledgement. */
  private allocateMessageId(): number | null {
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.nextMessageId
      this.nextMessageId = id === 65535 ? 1 : id + 1
      if (!this.inFlight.has(id)) return id
    }
    return null
  }

  private settle(messageId: number | undefined, value: number[]): void {
    if (messageId === undefined) return
    const pending = this.inFlight.get(messageId)
    if (!pending) return // a late or duplicate acknowledgement
    this.inFlight.delete(messageId)
    pending.resolve(value)
  }

  private notConnected(): Error {
    return this.closedWith ?? new Error(`${this.deviceId}: not connected`)
  }
}

/** Opens the TCP connection, sends CONNECT and resolves on CONNACK 0; rejects with the return code otherwise. */
export function connectRawDevice(options: RawDeviceOptions): Promise<RawDevice> {
  return RawDevice.connect(options)
}

function toBuffer(payload: Buffer | string | object): Buffer {
  if (Buffer.isBuffer(payload)) return payload
  return Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8')
}
