/**
 * The embedded telemetry sink: keeps readings for the charts and the family view. It listens on
 * the bus after ingest has accepted a message, buffers in memory and writes once a second in one
 * transaction, so it is never on an alarm's path. Old readings are pruned on the same clock.
 */
import type { Logger } from 'pino'
import type { DeviceSeen, IngestEvents, TelemetryReceived } from '../ingest/ingest.js'
import { repeatEvery, type Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { inFlight } from '../shared/in-flight.js'
import type { Db } from '../store/database.js'
import { nextTurn } from '../shared/next-turn.js'
import { pruneOldestFirst } from '../store/prune.js'
import { telemetryRepository, type Sample } from '../store/telemetry.js'
import { BATTERY_STEP_MS } from './history.js'

const OWNER = 'telemetry-sink'
const PRUNE_EVERY_MS = 3_600_000
/**
 * Rows per transaction. better-sqlite3 runs a statement on the event loop, and an alarm's commit
 * waits for the store's one connection: a second of a 10,000-device district (400 readings) in
 * one transaction stalled the loop for 20 ms (median); in slices of 100, with a turn of the loop
 * between, for 6 ms (bench/history-query.ts). Smaller slices gain nothing: each commit's fsync
 * then dominates.
 */
const ROWS_PER_TRANSACTION = 100
/** Pruning deletes this much time at a statement, for the same reason. */
const PRUNE_SLICE_MS = 5 * 60_000

export interface TelemetrySinkOptions {
  db: Db
  bus: EventBus<IngestEvents>
  clock: Clock
  log: Logger
  retentionMs: number
  flushEveryMs?: number
  /** Readings held while the store cannot take them; past this the oldest are dropped (and counted). */
  maxBuffered?: number
  /** Every reading kept is also handed here (InfluxDB, telemetry/influx.ts). */
  forward?: (sample: Sample) => void
}

export function createTelemetrySink(options: TelemetrySinkOptions) {
  const { db, bus, clock, log, retentionMs } = options
  const flushEveryMs = options.flushEveryMs ?? 1000
  const maxBuffered = options.maxBuffered ?? 200_000
  const repo = telemetryRepository(db)
  let buffer: Sample[] = []
  let dropped = 0
  let timers: { stop(): void }[] = []
  let flushing: Promise<void> = Promise.resolve()
  /** The last battery kept per device: a status every heartbeat would otherwise store the same number all day. */
  const lastBattery = new Map<string, { at: number; value: number }>()

  function keep(sample: Sample): void {
    options.forward?.(sample)
    buffer.push(sample)
    if (buffer.length > maxBuffered) {
      const excess = buffer.length - maxBuffered
      buffer.splice(0, excess)
      dropped += excess
    }
  }

  function onTelemetry(e: TelemetryReceived): void {
    const r = e.reading
    const base = { householdId: e.householdId, deviceId: e.deviceId, at: e.at }
    switch (r.kind) {
      case 'water':
        return keep({ ...base, kind: 'water', value: r.totalM3, value2: r.flowLpm ?? null })
      case 'presence':
        return keep({ ...base, kind: 'presence', value: r.occupied ? 1 : 0, value2: r.motion === undefined ? null : r.motion ? 1 : 0 })
      case 'door':
        return keep({ ...base, kind: 'door', value: r.open ? 1 : 0, value2: null })
      default:
        return // smoke and gas: an alarm is an incident; the all-clear has nothing to chart
    }
  }

  function onSeen(e: DeviceSeen): void {
    if (e.battery === undefined) return
    const prev = lastBattery.get(e.deviceId)
    if (prev && prev.value === e.battery && e.at - prev.at < BATTERY_STEP_MS) return
    lastBattery.set(e.deviceId, { at: e.at, value: e.battery })
    keep({ householdId: e.householdId, deviceId: e.deviceId, kind: 'battery', at: e.at, value: e.battery, value2: null })
  }

  async function writeBuffered(): Promise<void> {
    while (buffer.length > 0) {
      const slice = buffer.splice(0, ROWS_PER_TRANSACTION)
      try {
        await db.transaction().execute((trx) => telemetryRepository(trx).insert(slice))
      } catch (err) {
        // Put them back in front of what came since, and try again on the next tick.
        buffer = slice.concat(buffer)
        if (buffer.length > maxBuffered) {
          dropped += buffer.length - maxBuffered
          buffer.splice(0, buffer.length - maxBuffered)
        }
        log.warn({ err, buffered: buffer.length, dropped }, 'telemetry history not written; will retry')
        return
      }
      if (buffer.length > 0) await nextTurn()
    }
  }

  /** Writes what is buffered now; concurrent calls queue behind each other. */
  function flush(): Promise<void> {
    flushing = flushing.then(writeBuffered)
    return flushing
  }

  /** Prunes under way (tests wait for them after moving the clock). */
  const pruning = inFlight()
  /** Deletes what is older than the retention, oldest first, a slice of time per statement. */
  const prune = (): Promise<number> => pruning.track(pruneNow())
  async function pruneNow(): Promise<number> {
    try {
      const deleted = await pruneOldestFirst({ oldest: repo.oldest, deleteBefore: repo.prune, cutoff: clock.now() - retentionMs, sliceMs: PRUNE_SLICE_MS })
      if (deleted > 0) log.info({ deleted }, 'old telemetry pruned')
      return deleted
    } catch (err) {
      log.warn({ err }, 'telemetry prune failed')
      return 0
    }
  }

  return {
    start(): void {
      bus.on('telemetry.received', OWNER, onTelemetry)
      bus.on('device.seen', OWNER, onSeen)
      timers = [repeatEvery(clock, flushEveryMs, flush), repeatEvery(clock, PRUNE_EVERY_MS, prune)]
      void prune()
    },
    async stop(): Promise<void> {
      bus.removeOwner(OWNER)
      for (const t of timers) t.stop()
      timers = []
      await flush()
    },
    flush,
    prune,
    /** Resolves when every prune started so far and the buffered readings are done. */
    async settle(): Promise<void> {
      await pruning.settle()
      await flush()
    },
    /** Readings dropped because the store could not take them for too long. */
    stats: () => ({ buffered: buffer.length, dropped }),
  }
}

export type TelemetrySink = ReturnType<typeof createTelemetrySink>
