/**
 * Telemetry history end to end: real MQTT devices publish contract payloads, the sink keeps
 * them off the alarm path, and the history API shapes them for the console's charts, scoped to
 * the operator's communities. The sink survives a store that refuses writes for a while.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { EventBus } from '../../src/shared/events.js'
import { virtualClock } from '../../src/shared/clock.js'
import { openSqlite, type Db } from '../../src/store/database.js'
import { telemetryRepository } from '../../src/store/telemetry.js'
import { createTelemetrySink } from '../../src/telemetry/sink.js'
import type { IngestEvents } from '../../src/ingest/ingest.js'
import { connectDevice, createOperator, provision, publish, startPlatform, type TestPlatform } from '../helpers/platform.js'

const MIN = 60_000
const HOUR = 3_600_000

interface History {
  now: number
  water: { from: number; to: number; hourly: { at: number; litres: number | null }[] }
  presence: { rooms: { deviceId: string; room: string | null; spans: { from: number; to: number; state: string }[] }[] }
  battery: { devices: { deviceId: string; kind: string; room: string | null; points: [number, number][] }[] }
  alerts: { incidentId: string; type: string; category: string; from: number; to: number | null }[]
}

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

async function addDevice(householdId: string, id: string, kind: string, room: string | null) {
  const created = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id, householdId, kind, room })
  expect(created.status).toBe(201)
  return connectDevice(p, created.body)
}

describe('household history', () => {
  it('charts what real devices reported: water per hour, presence per room, battery, and the SOS as an alert window', async () => {
    const fx = await provision(p, { deviceId: 'btn-hist-1' })
    const meter = await addDevice(fx.householdId, 'wm-hist-1', 'water', 'kitchen')
    const bedroom = await addDevice(fx.householdId, 'pr-hist-bed', 'presence', 'bedroom')
    const button = await connectDevice(p, fx.device)
    const now = Date.now()
    const hourStart = Math.floor(now / HOUR) * HOUR
    // Two readings 40 minutes apart inside the previous hour: 20 litres.
    const a = hourStart - 50 * MIN
    await publish(meter, deviceTopic('wm-hist-1', 'telemetry'), { id: 'w-1', ts: a, kind: 'water', totalM3: 12.3, flowLpm: 0 })
    await publish(meter, deviceTopic('wm-hist-1', 'telemetry'), { id: 'w-2', ts: a + 40 * MIN, kind: 'water', totalM3: 12.32, flowLpm: 0 })
    await publish(bedroom, deviceTopic('pr-hist-bed', 'telemetry'), { id: 'p-1', ts: now - 30 * MIN, kind: 'presence', occupied: true, motion: true })
    await publish(bedroom, deviceTopic('pr-hist-bed', 'telemetry'), { id: 'p-2', ts: now - 25 * MIN, kind: 'presence', occupied: false, motion: false })
    await publish(button, deviceTopic(fx.device.id, 'status'), { ts: now - 10 * MIN, online: true, battery: 81 })
    await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'sos-1', type: 'sos' })
    await Promise.all([meter.endAsync(), bedroom.endAsync(), button.endAsync()])
    await p.app.telemetrySink.flush()

    const { status, body } = await p.api<History>('GET', `/api/households/${fx.householdId}/history`)
    expect(status).toBe(200)
    expect(body.water.hourly).toHaveLength(7 * 24 + 1)
    const previousHour = body.water.hourly.find((h) => h.at === hourStart - HOUR)
    expect(previousHour?.litres).toBeCloseTo(20, 5)
    expect(body.water.hourly.find((h) => h.at === hourStart - 5 * HOUR)?.litres).toBeNull()

    const room = body.presence.rooms.find((r) => r.deviceId === 'pr-hist-bed')
    expect(room).toMatchObject({ room: 'bedroom' })
    expect(room!.spans.map((s) => s.state)).toEqual(['motion', 'empty'])
    expect(room!.spans[0]).toMatchObject({ from: now - 30 * MIN, to: now - 25 * MIN })

    const btn = body.battery.devices.find((d) => d.deviceId === fx.device.id)
    expect(btn).toMatchObject({ kind: 'button' })
    expect(btn!.points.map(([, v]) => v)).toEqual([81])

    expect(body.alerts).toEqual([expect.objectContaining({ type: 'sos', category: 'emergency', to: null })])
  })

  it('shows a household only to operators of its community, and refuses a bad window with a reason', async () => {
    const fx = await provision(p)
    const other = await provision(p)
    const own = await createOperator(p, 'op-hist-own', [fx.communityId])
    const stranger = await createOperator(p, 'op-hist-stranger', [other.communityId])
    expect((await p.api('GET', `/api/households/${fx.householdId}/history`, undefined, own)).status).toBe(200)
    expect((await p.api('GET', `/api/households/${fx.householdId}/history`, undefined, stranger)).status).toBe(404)
    expect((await p.api('GET', `/api/households/hh_missing/history`)).status).toBe(404)
    const bad = await p.api<{ error: string; message: string }>('GET', `/api/households/${fx.householdId}/history?waterDays=400`)
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/waterDays/)
    const anonymous = await fetch(`${p.httpUrl}/api/households/${fx.householdId}/history`)
    expect(anonymous.status).toBe(401)
  })

  it('keeps a battery level once an hour while it does not change, not at every heartbeat', async () => {
    const fx = await provision(p, { deviceId: 'btn-hist-beat' })
    const button = await connectDevice(p, fx.device)
    const now = Date.now()
    for (let i = 0; i < 5; i++) await publish(button, deviceTopic(fx.device.id, 'status'), { ts: now - 50 * MIN + i * MIN, online: true, battery: 64 })
    await publish(button, deviceTopic(fx.device.id, 'status'), { ts: now - 40 * MIN, online: true, battery: 63 })
    await button.endAsync()
    await p.app.telemetrySink.flush()
    const { body } = await p.api<History>('GET', `/api/households/${fx.householdId}/history`)
    const points = body.battery.devices.find((d) => d.deviceId === fx.device.id)!.points
    // A status is dated by its arrival (the platform's clock): the five 64s were kept once.
    const rows = await telemetryRepository(p.app.db).range(fx.householdId, ['battery'], now - HOUR, Date.now())
    expect(rows.map((r) => r.value)).toEqual([64, 63])
    expect(points.at(-1)![1]).toBe(63)
  })
})

describe('telemetry sink', () => {
  let dir: string
  let db: Db
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anju-sink-'))
    db = await openSqlite({ path: join(dir, 'anju.db'), synchronous: 'NORMAL', busyTimeoutMs: 0 })
  })
  afterAll(async () => {
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  const reading = (id: string, at: number, totalM3: number) => ({
    deviceId: 'wm-1', householdId: 'hh-1', at, receivedAt: at, reading: { id, kind: 'water' as const, totalM3 },
  })

  it('keeps readings it could not write and writes them once the store takes them again, in order', async () => {
    const log = pino({ level: 'silent' })
    const bus = new EventBus<IngestEvents>(log)
    const clock = virtualClock(Date.UTC(2026, 11, 1))
    const sink = createTelemetrySink({ db, bus, clock, log, retentionMs: 30 * 24 * HOUR })
    sink.start()
    const t = clock.now()
    bus.emit('telemetry.received', reading('a', t, 1))
    // Another connection holds the write lock: the flush fails and the reading stays buffered.
    const { default: SQLite } = await import('better-sqlite3')
    const other = new SQLite(join(dir, 'anju.db'))
    other.exec('BEGIN IMMEDIATE')
    await sink.flush()
    expect(sink.stats()).toEqual({ buffered: 1, dropped: 0 })
    bus.emit('telemetry.received', reading('b', t + MIN, 1.001))
    other.exec('COMMIT')
    other.close()
    await sink.flush()
    expect(sink.stats()).toEqual({ buffered: 0, dropped: 0 })
    const rows = await telemetryRepository(db).range('hh-1', ['water'], t, t + MIN)
    expect(rows.map((r) => r.value)).toEqual([1, 1.001])
    await sink.stop()
  })

  it('prunes readings older than the retention on its clock', async () => {
    const log = pino({ level: 'silent' })
    const clock = virtualClock(Date.UTC(2026, 11, 1))
    const repo = telemetryRepository(db)
    await repo.insert([
      { householdId: 'hh-2', deviceId: 'wm-2', kind: 'water', at: clock.now() - 31 * 24 * HOUR, value: 1, value2: null },
      { householdId: 'hh-2', deviceId: 'wm-2', kind: 'water', at: clock.now() - 29 * 24 * HOUR, value: 2, value2: null },
    ])
    const sink = createTelemetrySink({ db, bus: new EventBus<IngestEvents>(log), clock, log, retentionMs: 30 * 24 * HOUR })
    expect(await sink.prune()).toBe(1)
    expect((await repo.range('hh-2', ['water'], 0, clock.now())).map((r) => r.value)).toEqual([2])
    // A day later, on the hourly timer, the other one goes too.
    sink.start()
    for (let h = 0; h < 25; h++) {
      clock.advance(HOUR)
      await new Promise((r) => setTimeout(r, 5))
    }
    await sink.stop()
    expect(await repo.range('hh-2', ['water'], 0, clock.now())).toEqual([])
  })

  it('prunes a long backlog slice by slice, down to the cutoff and no further', async () => {
    const log = pino({ level: 'silent' })
    const clock = virtualClock(Date.UTC(2026, 11, 5))
    const repo = telemetryRepository(db)
    const cutoff = clock.now() - 30 * 24 * HOUR
    // Every minute for three hours before the cutoff, and one just after it.
    const old = Array.from({ length: 180 }, (_, i) => ({ householdId: 'hh-3', deviceId: 'wm-3', kind: 'water' as const, at: cutoff - (i + 1) * MIN, value: i, value2: null }))
    await repo.insert([...old, { householdId: 'hh-3', deviceId: 'wm-3', kind: 'water', at: cutoff + 1, value: -1, value2: null }])
    const sink = createTelemetrySink({ db, bus: new EventBus<IngestEvents>(log), clock, log, retentionMs: 30 * 24 * HOUR })
    expect(await sink.prune()).toBe(180)
    expect((await repo.range('hh-3', ['water'], 0, clock.now())).map((r) => r.value)).toEqual([-1])
  })
})
