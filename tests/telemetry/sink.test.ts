/**
 * The telemetry sink and its history worker on a history store of their own: it survives a
 * store that refuses writes for a while (SQLite's write lock held by another connection), and
 * prunes by its clock.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventBus } from '../../src/shared/events.js'
import { virtualClock } from '../../src/shared/clock.js'
import type { Db } from '../../src/store/database.js'
import { detectorStatesIn } from '../../src/store/detector-states.js'
import { openHistoryStore } from '../../src/store/history.js'
import { telemetryRepository } from '../../src/store/telemetry.js'
import { createHistoryWriter, type HistoryWriter } from '../../src/telemetry/history-writer.js'
import { createTelemetrySink } from '../../src/telemetry/sink.js'
import type { IngestEvents } from '../../src/ingest/ingest.js'

const MIN = 60_000
const HOUR = 3_600_000

describe('telemetry sink', () => {
  let dir: string
  let path: string
  let writer: HistoryWriter
  /** The API's side: reads only. */
  let db: Db
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anju-sink-'))
    path = join(dir, 'anju-history.db')
    // No waiting for a lock: the first refusal is the one the test is about.
    writer = createHistoryWriter({ location: { kind: 'sqlite', path }, alarmStorePath: null, log: pino({ level: 'silent' }), busyTimeoutMs: 0 })
    await writer.start()
    db = await openHistoryStore({ kind: 'sqlite', path }, { writer: false })
  })
  afterAll(async () => {
    await writer.close()
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
    const sink = createTelemetrySink({ writer, bus, clock, log, retentionMs: 30 * 24 * HOUR })
    sink.start()
    const t = clock.now()
    bus.emit('telemetry.received', reading('a', t, 1))
    // Another connection holds the write lock: the flush fails and the reading stays buffered.
    const { default: SQLite } = await import('better-sqlite3')
    const other = new SQLite(path)
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

  it("hands a flood's second to the worker a slice per turn, and writes every reading", async () => {
    const log = pino({ level: 'silent' })
    const bus = new EventBus<IngestEvents>(log)
    const clock = virtualClock(Date.UTC(2026, 11, 2))
    // The real writer, watched: how many readings each message to the worker carried.
    const handed: number[] = []
    const watched: HistoryWriter = { ...writer, write: (samples) => (handed.push(samples.length), writer.write(samples)) }
    const sink = createTelemetrySink({ writer: watched, bus, clock, log, retentionMs: 30 * 24 * HOUR })
    sink.start()
    const t = clock.now()
    const n = 5_000
    for (let i = 0; i < n; i++) bus.emit('telemetry.received', { ...reading(`f${i}`, t + i * 1000, i / 1000), deviceId: 'wm-flood', householdId: 'hh-flood' })
    const flushed = sink.flush()
    // Whatever else waits for the loop (an alarm's I/O) runs after the first slice, before the rest.
    let handedBefore = -1
    setImmediate(() => (handedBefore = handed.length))
    await flushed
    expect(handed).toEqual([2000, 2000, 1000])
    expect(handedBefore).toBe(1)
    const rows = await telemetryRepository(db).range('hh-flood', ['water'], t, t + n * 1000)
    expect(rows).toHaveLength(n)
    expect(rows.map((r) => r.value)).toEqual(Array.from({ length: n }, (_, i) => i / 1000))
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
    const sink = createTelemetrySink({ writer, bus: new EventBus<IngestEvents>(log), clock, log, retentionMs: 30 * 24 * HOUR })
    expect(await sink.prune()).toBe(1)
    expect((await repo.range('hh-2', ['water'], 0, clock.now())).map((r) => r.value)).toEqual([2])
    // A day later, on the hourly timer, the other one goes too.
    sink.start()
    for (let h = 0; h < 25; h++) {
      clock.advance(HOUR)
      await sink.settle()
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
    const sink = createTelemetrySink({ writer, bus: new EventBus<IngestEvents>(log), clock, log, retentionMs: 30 * 24 * HOUR })
    expect(await sink.prune()).toBe(180)
    expect((await repo.range('hh-3', ['water'], 0, clock.now())).map((r) => r.value)).toEqual([-1])
  })
})

describe('history store upgrade', () => {
  it('moves the readings and detector states an older version kept in the alarm store, once', async () => {
    const { openSqlite } = await import('../../src/store/database.js')
    const dir = mkdtempSync(join(tmpdir(), 'anju-move-'))
    const alarmStorePath = join(dir, 'anju.db')
    const path = join(dir, 'anju-history.db')
    const alarmStore = await openSqlite({ path: alarmStorePath, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
    // As an older version wrote them: the alarm store's table has no message ids.
    const rows = [1, 2, 3].map((i) => ({ householdId: 'hh-old', deviceId: 'wm-old', kind: 'water' as const, at: Date.UTC(2026, 10, i), value: i, value2: null }))
    const asWritten = rows.map((r) => ({ household_id: r.householdId, device_id: r.deviceId, kind: r.kind, at: r.at, value: r.value, value2: r.value2 }))
    await alarmStore.insertInto('telemetry_samples').columns(['household_id', 'device_id', 'kind', 'at', 'value', 'value2']).values(asWritten).execute()
    await alarmStore.insertInto('communities').values({ id: 'com-old', name: '老社区', street: '老街道', detector_settings: null, routing: null, created_at: 1 }).execute()
    await alarmStore.insertInto('households').values({ id: 'hh-old', community_id: 'com-old', elder_name: '张桂英', age: 80, address: '1号', phone: null, medical_notes: null, key_safe: null, away_until: null, detector_settings: null, created_at: 1, updated_at: 1 }).execute()
    await detectorStatesIn(alarmStore).save([{ householdId: 'hh-old', state: '{"householdId":"hh-old"}' }], 5)
    const log = pino({ level: 'silent' })
    try {
      for (let start = 0; start < 2; start++) {
        const writer = createHistoryWriter({ location: { kind: 'sqlite', path }, alarmStorePath, log })
        await writer.start()
        await writer.close()
      }
      const history = await openHistoryStore({ kind: 'sqlite', path }, { writer: false })
      expect(await telemetryRepository(history).range('hh-old', ['water'], 0, Date.now())).toEqual(rows)
      expect(await detectorStatesIn(history).load()).toEqual([{ householdId: 'hh-old', state: '{"householdId":"hh-old"}' }])
      await history.destroy()
      expect(await telemetryRepository(alarmStore).range('hh-old', ['water'], 0, Date.now())).toEqual([])
      expect(await detectorStatesIn(alarmStore).load()).toEqual([])
    } finally {
      await alarmStore.destroy()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
