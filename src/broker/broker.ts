/**
 * The embedded MQTT broker: aedes with contract v1 authentication and ACL.
 * Ingest runs inside authorizePublish because aedes writes a QoS 1 PUBACK only after that hook
 * calls back (lib/handlers/publish.js): an alarm is committed before its PUBACK, and when the
 * commit fails the error closes the connection without one, so the device retransmits.
 */
import net from 'node:net'
import type { Duplex } from 'node:stream'
import tls from 'node:tls'
import { Aedes, type AuthenticateError, type Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import type { Logger } from 'pino'
import { cmdTopic, isDeviceId, parseDeviceTopic, type CommandPayload } from '../contract/index.js'
import type { Ingest } from '../ingest/ingest.js'
import { NOT_LOGGED_IN, type IngestStats } from '../ingest/stats.js'
import { logPacer } from '../shared/recent.js'
import { verifyDeviceSecret } from '../shared/secrets.js'
import type { DeviceIdentity, RegistryRepository } from '../store/registry.js'
import { decidePublish, maySubscribe } from './acl.js'
import { createConnectionLimits, limitPacketSize, onServerOnlyPacket, PacketTooLarge, type ConnectionLimitSettings } from './limits.js'
import type { ReadBudget } from './read-budget.js'

export interface BrokerDeps {
  registry: RegistryRepository
  ingest: Ingest
  stats: IngestStats
  log: Logger
  drainTimeoutMs: number
  /** docs/security.md §broker */
  limits: ConnectionLimitSettings & { maxPacketBytes: number; connectTimeoutMs: number }
  /** docs/operations.md §overload: what the loop reads per turn before busy connections wait. */
  reads: ReadBudget
}

const UNACCEPTABLE_PROTOCOL = 1
const NOT_AUTHORIZED = 5
/** Contract v1 (docs/device-contract.md §Connection): MQTT 3.1.1 only. */
const MQTT_3_1_1 = 4
/** Log lines carry at most this much of a client's own words (a topic, a client id). */
const QUOTE_MAX = 200

/**
 * Connections the kernel may hold for the broker to accept (Linux clamps it to
 * net.core.somaxconn). Node's default of 511 overflowed in a district's reconnect storm: a
 * device past it waits for TCP's retransmissions, seconds each (docs/operations.md §overload).
 */
const LISTEN_BACKLOG = 65_535
/** aedes' error for a packet it could not write because the connection had closed. */
const CONNECTION_CLOSED = 'connection closed'

const quote = (s: string) => (s.length > QUOTE_MAX ? `${s.slice(0, QUOTE_MAX)}…(${s.length} chars)` : s)

export async function createBroker({ registry, ingest, stats, log, drainTimeoutMs, limits, reads }: BrokerDeps) {
  const identities = new WeakMap<Client, DeviceIdentity>()
  /** Messages being recorded right now; shutdown lets them finish so their PUBACK goes out. */
  const inFlight = new Set<Promise<void>>()
  const connections = createConnectionLimits(limits)
  const wrongSecretLog = logPacer()
  const refusalLog = logPacer()
  /**
   * Errors the hooks below hand to aedes (a refusal, already counted; a commit that failed, not
   * the client's doing). aedes reports them again as client errors; only the others are counted there.
   */
  const ours = new WeakSet<Error>()
  const own = <E extends Error>(err: E): E => {
    ours.add(err)
    return err
  }
  /**
   * Connections a refusal is closing: what fails because of that close (a PUBACK still due,
   * aedes' "connection closed") is the refusal's doing, already counted.
   */
  const closing = new WeakSet<Client>()
  const refuseAndClose = (client: Client | null, deviceId: string, reason: string): Error => {
    refuse(deviceId, reason)
    if (client) closing.add(client)
    return own(new Error(reason))
  }

  /** Charged to a device that proved who it is. */
  const refuse = (deviceId: string, reason: string) => {
    stats.count(deviceId, 'refused', reason)
    // Every refusal is counted; the log has a line a minute per device.
    const held = refusalLog.due(deviceId)
    if (held !== null) log.warn({ deviceId, reason, ...(held > 0 ? { heldBack: held } : {}) }, 'device refused')
  }
  /**
   * Before login nobody has proved who they are: refusals share one counter (by reason), so a
   * scanner cycling ids can neither grow memory nor inflate a real device's figures. Each
   * connection is counted once, whatever else fails after.
   */
  const refused = new WeakSet<Client>()
  const refuseAnonymous = (reason: string, detail: Record<string, unknown> = {}, client?: Client) => {
    if (client) {
      if (refused.has(client)) return
      refused.add(client)
    }
    stats.count(NOT_LOGGED_IN, 'refused', reason)
    log.debug({ ...detail, reason }, 'connection refused before login')
  }

  /** Charged to the device if this connection logged in as one, to the shared entry if not. */
  const refuseConnection = (client: Client, reason: string, detail: Record<string, unknown> = {}) => {
    const identity = identities.get(client)
    if (identity) refuse(identity.id, reason)
    else refuseAnonymous(reason, detail, client)
  }

  const aedes = await Aedes.createBroker({
    maxClientsIdLength: 64,
    drainTimeout: drainTimeoutMs,
    connectTimeout: limits.connectTimeoutMs,

    preConnect(client, packet, done) {
      if (packet.protocolVersion === MQTT_3_1_1) return done(null, true)
      refuseAnonymous('MQTT protocol level is not 3.1.1', { protocolVersion: packet.protocolVersion }, client)
      // [MQTT-3.1.2-2]: CONNACK 0x01, then close.
      const conn = (client as unknown as { conn: Duplex }).conn
      conn.end(mqttPacket.generate({ cmd: 'connack', returnCode: UNACCEPTABLE_PROTOCOL, sessionPresent: false }))
      done(own(new Error('unacceptable protocol version')), false)
    },

    authenticate(client, username, password, done) {
      const fail = (reason: string) => {
        refuseAnonymous(reason, { clientId: quote(client.id) }, client)
        const err = own(new Error('not authorized') as AuthenticateError)
        err.returnCode = NOT_AUTHORIZED
        done(err, false)
      }
      if (!isDeviceId(client.id)) return fail('client id is not a valid device id')
      if (username !== client.id) return fail('username differs from client id')
      if (!password) return fail('no password')
      registry.devices.identity(client.id).then(
        (identity) => {
          if (!identity) return fail('unknown device')
          if (!verifyDeviceSecret(password.toString('utf8'), identity.secretHash)) {
            // The log names the device (its installer needs to know), once a minute at most (a
            // guesser would fill the log); the counters do not name it (anyone can try).
            if (wrongSecretLog.due(client.id) !== null) log.warn({ deviceId: client.id }, 'device refused: wrong secret')
            return fail('wrong secret')
          }
          if (connected(aedes, client.id)) log.info({ deviceId: client.id }, 'device session taken over by a new connection')
          identities.set(client, identity)
          done(null, true)
        },
        (err: unknown) => {
          log.error({ err, deviceId: client.id }, 'device lookup failed')
          const e = own(new Error('server unavailable') as AuthenticateError)
          e.returnCode = 3
          done(e, false)
        },
      )
    },

    authorizePublish(client, packet, done) {
      // client is null for the persisted Last Will of a device whose broker is gone.
      const deviceId = client ? client.id : parseDeviceTopic(packet.topic)?.deviceId
      if (!deviceId) return done(own(new Error('not a device topic')))
      if (packet.topic.startsWith('$SYS/')) return done(refuseAndClose(client, deviceId, '$SYS is reserved'))
      // Contract v1: QoS 0 or 1 (a QoS 2 exchange would hold state for a device that never completes it).
      if (packet.qos > 1) return done(refuseAndClose(client, deviceId, 'QoS 2 is not part of the contract'))
      const decision = decidePublish(deviceId, packet.topic)
      if (!decision.allowed) return done(refuseAndClose(client, deviceId, decision.reason))
      const known = client ? identities.get(client) : undefined
      const identity = known ? Promise.resolve(known) : registry.devices.identity(deviceId)
      const work = identity
        .then(async (device) => {
          if (!device) throw new Error(`device ${deviceId} is no longer registered`)
          await ingest.handle(device, decision.channel, packet.payload as Buffer)
        })
        .then(
          () => {
            // Nothing is kept in the broker: no client may subscribe to a device's uplink, the
            // platform has read it already, and aedes scans every retained message on every
            // SUBSCRIBE (at 10,000 retained statuses a reconnect storm took minutes).
            packet.retain = false
            done(null)
          },
          (err: unknown) => {
            log.error({ err, deviceId, topic: quote(packet.topic) }, 'device message not recorded; withholding PUBACK')
            done(own(err instanceof Error ? err : new Error(String(err))))
          },
        )
        .finally(() => inFlight.delete(work))
      inFlight.add(work)
    },

    authorizeSubscribe(client, subscription, done) {
      if (maySubscribe(client.id, subscription.topic)) return done(null, { ...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1 })
      refuse(client.id, `subscription to ${quote(subscription.topic)} is not allowed`)
      done(null, null)
    },
  })

  /** Its registration changed (moved, deleted, new secret): it must connect again to be re-read. */
  function disconnect(deviceId: string): void {
    const client = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[deviceId]
    if (client) {
      log.info({ deviceId }, 'device registration changed; closing its connection')
      client.close()
    }
  }

  // aedes names an error before CONNECT a connection error, after it a client error.
  const onError = (client: Client, err: Error) => {
    log.debug({ deviceId: client.id && quote(client.id), err: quote(err.message) }, 'mqtt client error')
    // A socket's own failure (ECONNRESET, EPIPE) has a code, and a write to a connection already
    // closed (a PUBACK due after the device went, or after the platform closed it) is aedes'
    // "connection closed" (lib/write.js); the rest are the client's doing: a packet the parser
    // refused, no CONNECT in time. Every one is counted.
    if ((err as NodeJS.ErrnoException).code || err.message === CONNECTION_CLOSED || err instanceof PacketTooLarge || ours.has(err) || closing.has(client)) return
    refuseConnection(client, err.message === 'connect did not arrive in time' ? 'no CONNECT in time' : 'malformed MQTT packet')
  }
  aedes.on('clientError', onError)
  aedes.on('connectionError', onError)

  /**
   * Every transport's connection comes in here (TCP, TLS, WebSocket): counted against the limits
   * before aedes reads a byte, its packets bounded as their headers arrive.
   */
  function handle(stream: Duplex, address: string | undefined, req?: unknown): void {
    const admission = connections.admit(address ?? 'unknown')
    if (!admission.admitted) {
      refuseAnonymous(admission.reason, { address })
      stream.destroy()
      return
    }
    const gate = reads.gate(stream)
    const client = aedes.handle(gate.stream, req as never)
    let loggedIn = false
    client.once('connected' as never, () => {
      loggedIn = true
      admission.connected()
      gate.admitted()
    })
    // Every connection is accounted for: one that ends before logging in, for whatever reason
    // (a first packet that is not CONNECT, which aedes drops without an error), is a refusal.
    stream.once('close', () => {
      admission.closed()
      if (!loggedIn) refuseAnonymous('closed before logging in', { address }, client)
    })
    limitPacketSize(client, limits.maxPacketBytes, (cmd, length) => {
      // A device's own counter says how large; the shared one keeps a few fixed reasons.
      const identity = identities.get(client)
      if (identity) refuseAndClose(client, identity.id, `${cmd} packet of ${length} bytes over the limit`)
      else refuseAnonymous('packet over the size limit', { address, cmd, length }, client)
    })
    // aedes closes a connection that sends a server's packet without saying so: counted here.
    onServerOnlyPacket(client, (cmd) => {
      const identity = identities.get(client)
      if (identity) refuseAndClose(client, identity.id, `${cmd}: only a server sends it`)
      else refuseAnonymous('a server-only packet', { address, cmd }, client)
    })
  }

  const servers: (net.Server | tls.Server)[] = []

  return {
    aedes,
    disconnect,
    handle,
    /** Open connections and the addresses they come from. */
    connections: () => connections.snapshot(),

    /** Starts the TCP listener; resolves with the bound port. */
    listenTcp(host: string, port: number): Promise<number> {
      // No Nagle: a QoS 1 PUBACK otherwise waits ~40 ms for delayed ACKs (DESIGN.md).
      const server = net.createServer({ noDelay: true }, (socket) => handle(socket, socket.remoteAddress))
      servers.push(server)
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
          server.off('error', reject)
          resolve((server.address() as net.AddressInfo).port)
        })
      })
    },

    /** Starts the TLS listener (contract: 8883 when certificates are configured); resolves with the bound port. */
    listenTls(host: string, port: number, credentials: { cert: Buffer; key: Buffer }): Promise<number> {
      const server = tls.createServer({ ...credentials, handshakeTimeout: limits.connectTimeoutMs }, (socket) => {
        socket.setNoDelay(true)
        handle(socket, socket.remoteAddress)
      })
      servers.push(server)
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
          server.off('error', reject)
          resolve((server.address() as net.AddressInfo).port)
        })
      })
    },

    /** Sends a command to a device's `cmd` topic (QoS 1, kept for a persistent session). */
    sendCommand(deviceId: string, command: CommandPayload): Promise<void> {
      return new Promise((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic: cmdTopic(deviceId), payload: Buffer.from(JSON.stringify(command)), qos: 1, retain: false, dup: false },
          (err?: Error | null) => (err ? reject(err) : resolve()),
        )
      })
    },

    /** Stops accepting connections, lets in-flight messages commit, then closes every device connection. */
    async close(): Promise<void> {
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
      await Promise.allSettled([...inFlight])
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await Promise.all(closed)
    },
  }
}

/** aedes keeps connected clients by id but does not declare it in its types. */
function connected(aedes: Aedes, clientId: string): boolean {
  return Boolean((aedes as unknown as { clients: Record<string, unknown> }).clients[clientId])
}

export type Broker = Awaited<ReturnType<typeof createBroker>>
