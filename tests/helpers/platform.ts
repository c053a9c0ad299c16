/** Builds the real app on ephemeral ports with a temporary database, and real clients for it. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { io, type Socket } from 'socket.io-client'
import { createApp, type App, type AppOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
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

/** A real Socket.IO operator that records the snapshot and every push. */
export async function connectOperator(p: TestPlatform, token: string) {
  const socket: Socket = io(p.httpUrl, { auth: { token }, transports: ['websocket'], reconnection: false })
  const pushes: OperatorView[] = []
  const snapshots: OperatorView[][] = []
  socket.on('incident', (view: OperatorView) => pushes.push(view))
  socket.on('incidents:snapshot', (views: OperatorView[]) => snapshots.push(views))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  await waitFor(() => snapshots.length > 0)
  return {
    socket,
    pushes,
    snapshots,
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function publish(client: MqttClient, topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload)
  return new Promise((resolve, reject) => client.publish(topic, body, { qos }, (err) => (err ? reject(err) : resolve())))
}
