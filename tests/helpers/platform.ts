/** Builds the real app on ephemeral ports with a temporary database, and real clients for it. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { io, type Socket } from 'socket.io-client'
import { createApp, type App, type AppOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { cmdTopic } from '../../src/contract/index.js'
import type { IncidentChange } from '../../src/incidents/service.js'
import { onPostgres, postgresForTest, TEST_PG_URL } from './database.js'

export const ADMIN_PASSWORD = 'admin-test-password'

export interface TestPlatform {
  app: App
  dir: string
  httpUrl: string
  mqttUrl: string
  /** The PostgreSQL schema this platform runs in, when the suite runs on PostgreSQL. */
  pgSchema: string | null
  /** The MQTT/TLS port when the test configured a certificate. */
  tlsPort: number | null
  adminToken: string
  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>
  close(): Promise<void>
}

export async function startPlatform(options: AppOptions & { dir?: string; env?: Record<string, string> } = {}): Promise<TestPlatform> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'anju-test-'))
  const config = loadConfig({
    ANJU_HTTP_HOST: '127.0.0.1',
    ANJU_HTTP_PORT: '0',
    ANJU_MQTT_HOST: '127.0.0.1',
    ANJU_MQTT_PORT: '0',
    ANJU_DB_PATH: join(dir, 'anju.db'),
    ANJU_DB_SYNC: 'NORMAL',
    ANJU_DEMO: 'false',
    ANJU_DEMO_FLEET_FILE: join(dir, 'fleet.json'),
    ANJU_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ANJU_LOG_LEVEL: 'silent',
    ...options.env,
  })
  // On PostgreSQL a restart on the same directory finds the same schema; the caller who chose the directory owns both.
  const pgStore = onPostgres && !options.db ? await postgresForTest(options.dir) : null
  const app = await createApp(config, {
    log: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    ...(pgStore ? { db: pgStore.db, history: { kind: 'postgres' as const, url: TEST_PG_URL, schema: pgStore.schema } } : {}),
    // A test that moves its own clock by hand steps the monitors on its thread (app.ts detectorsThread).
    ...(options.clock ? { detectorsThread: 'caller' as const } : {}),
    ...options,
  })
  const { httpPort, mqttPort, mqttTlsPort } = await app.start()
  const httpUrl = `http://127.0.0.1:${httpPort}`

  const api = async <T>(method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(httpUrl + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T }
  }
  const login = await api<{ token: string }>('POST', '/api/login', { username: 'admin', password: ADMIN_PASSWORD })
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status}`)

  return {
    app,
    dir,
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    pgSchema: pgStore?.schema ?? null,
    tlsPort: mqttTlsPort,
    adminToken: login.body.token,
    api: (method, path, body, token) => api(method, path, body, token ?? login.body.token),
    async close() {
      await app.close()
      if (!options.dir) await pgStore?.drop()
      if (!options.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface Fixture {
  communityId: string
  householdId: string
  device: { id: string; secret: string }
}

let counter = 0
/** A community, a household and a device in it, created through the REST API. */
export async function provision(p: TestPlatform, opts: { communityId?: string; kind?: string; deviceId?: string } = {}): Promise<Fixture> {
  counter++
  const communityId =
    opts.communityId ?? (await p.api<{ id: string }>('POST', '/api/communities', { name: `社区 ${counter}`, street: '测试街道' })).body.id
  const household = await p.api<{ id: string }>('POST', '/api/households', { communityId, elderName: `老人 ${counter}`, address: `测试路 ${counter} 号` })
  if (household.status !== 201) throw new Error(`household not created: ${JSON.stringify(household.body)}`)
  const deviceId = opts.deviceId ?? `btn-t${counter}-${Math.random().toString(36).slice(2, 8)}`
  const device = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: deviceId, householdId: household.body.id, kind: opts.kind ?? 'button' })
  if (device.status !== 201) throw new Error(`device not created: ${JSON.stringify(device.body)}`)
  return { communityId, householdId: household.body.id, device: { id: device.body.id, secret: device.body.secret } }
}

/** Connects a real mqtt.js device; rejects with the CONNACK error when refused. */
export function connectDevice(p: TestPlatform, device: { id: string; secret: string }, extra: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(p.mqttUrl, {
      clientId: device.id,
      username: device.id,
      password: device.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...extra,
    })
    client.once('connect', () => resolve(client))
    client.once('error', (err) => {
      client.end(true)
      reject(err)
    })
  })
}

export async function createOperator(p: TestPlatform, username: string, communityIds: string[]): Promise<string> {
  const password = 'operator-password'
  const created = await p.api('POST', '/api/users', { username, displayName: username, password, role: 'operator', communityIds })
  if (created.status !== 201) throw new Error(`operator not created: ${JSON.stringify(created.body)}`)
  const login = await p.api<{ token: string }>('POST', '/api/login', { username, password })
  return login.body.token
}

export interface OperatorView {
  id: string
  state: string
  deviceId: string
  communityId: string
  householdId: string
  cancelledByResident: boolean
  priority: number
  type: string
}

/** An event of the incident's trail as a push carries it. */
export interface PushedEvent {
  kind: string
  deviceId: string | null
  detail: Record<string, unknown>
}

/** A real Socket.IO operator that records the snapshot and every push (and the trail events each carried). */
export async function connectOperator(p: TestPlatform, token: string) {
  const socket: Socket = io(p.httpUrl, { auth: { token }, transports: ['websocket'], reconnection: false })
  const pushes: OperatorView[] = []
  /** `events[i]` are the trail events that came with `pushes[i]`. */
  const events: PushedEvent[][] = []
  const snapshots: OperatorView[][] = []
  socket.on('incident', (view: OperatorView, trail?: PushedEvent[]) => {
    pushes.push(view)
    events.push(trail ?? [])
  })
  socket.on('incidents:snapshot', (views: OperatorView[]) => snapshots.push(views))
  const snapshot = new Promise<void>((resolve) => socket.once('incidents:snapshot', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  await within(snapshot, 5000, 'the snapshot')
  /** Resolves with the index in `pushes` of the first push that matches, already here or still to come. */
  const pushed = (match: (view: OperatorView, trail: PushedEvent[]) => boolean, timeoutMs = 5000, what = 'the push'): Promise<number> => {
    const found = pushes.findIndex((v, i) => match(v, events[i]!))
    if (found >= 0) return Promise.resolve(found)
    let listener: (() => void) | undefined
    const arrived = new Promise<number>((resolve) => {
      // Registered after the recorder above, so the push is in `pushes` when this runs.
      listener = () => {
        const i = pushes.length - 1
        if (match(pushes[i]!, events[i]!)) resolve(i)
      }
      socket.on('incident', listener)
    })
    return within(arrived, timeoutMs, what).finally(() => socket.off('incident', listener))
  }
  return {
    socket,
    pushes,
    events,
    snapshots,
    pushed,
    /**
     * The push of the device alarm with this message id (it opened an incident or was added to
     * one). Pushes on one socket arrive in order: as a barrier, an alarm sent after some action
     * shows that whatever that action pushed to this operator has arrived.
     */
    alarmPushed: (messageId: string, timeoutMs = 5000) =>
      pushed((_v, trail) => trail.some((e) => (e.kind === 'opened' || e.kind === 'alarm') && e.detail.messageId === messageId), timeoutMs, `the push of alarm ${messageId}`),
    close: (): void => void socket.close(),
  }
}

/** Polls until the condition holds (real I/O takes real, if short, time). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * A fixed wait. Kept for callers elsewhere; a test should not use it to let work finish or to show
 * that nothing arrived (on a busy machine it checks nothing): wait for an event, or a barrier.
 */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Settles as the promise does, or rejects when it has not by the deadline (a deadline to fail by, never a wait). */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

let listeners = 0
/**
 * The next `incident.changed` on the app's bus that matches (call it before the action). The bus
 * calls its listeners in order, synchronously, and the app's own (operator pushes, the family
 * channel, device commands) were registered first: when this resolves they have all handled it.
 */
export function nextIncidentChange(p: TestPlatform, match: (change: IncidentChange) => boolean, timeoutMs = 5000, what = 'the incident change'): Promise<IncidentChange> {
  const owner = `test-listener-${++listeners}`
  const seen = new Promise<IncidentChange>((resolve) =>
    p.app.bus.on('incident.changed', owner, (change) => {
      if (match(change)) resolve(change)
    }),
  )
  return within(seen, timeoutMs, what).finally(() => p.app.bus.removeOwner(owner))
}

let barriers = 0
/**
 * A barrier on one device's connection: the platform sends the device a command now, and this
 * resolves when it has arrived. The broker delivers to a connection in order, so anything sent
 * to the device before has arrived by then. The client must be subscribed to its cmd topic.
 * Resolves with the barrier command's id (it is among the client's messages, too).
 */
export async function deviceBarrier(p: TestPlatform, client: MqttClient, deviceId: string, timeoutMs = 5000): Promise<string> {
  const id = `barrier-${++barriers}`
  let onMessage: ((topic: string, payload: Buffer) => void) | undefined
  const arrived = new Promise<void>((resolve) => {
    onMessage = (topic, payload) => {
      if (topic === cmdTopic(deviceId) && (JSON.parse(payload.toString()) as { id?: unknown }).id === id) resolve()
    }
    client.on('message', onMessage)
  })
  try {
    await p.app.broker.sendCommand(deviceId, { id, ts: p.app.clock.now(), cmd: 'ping' })
    await within(arrived, timeoutMs, `the barrier command to ${deviceId}`)
  } finally {
    client.off('message', onMessage!)
  }
  return id
}

export function publish(client: MqttClient, topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload)
  return new Promise((resolve, reject) => client.publish(topic, body, { qos }, (err) => (err ? reject(err) : resolve())))
}
