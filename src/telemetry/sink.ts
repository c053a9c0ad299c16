/**
 * The telemetry sink: keeps readings for the charts and the family view. It listens on the bus
 * after ingest has accepted a message, collects in memory and hands the history worker one
 * batch a second (history-writer.ts), which writes it to the history store on its own thread:
 * neither the writes nor their locks are on an alarm's path. Old readings are pruned on the
 * same clock.
 */
import type { Logger } from 'pino'
import type { DeviceSeen, IngestEvents, TelemetryReceived } from '../ingest/ingest.js'
import { repeatEvery, type Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { inFlight } from '../shared/in-flight.js'
import { nextTurn } from '../shared/next-turn.js'
import type { Sample } from '../store/telemetry.js'
import { BATTERY_STEP_MS } from './history.js'
import type { HistoryWriter } from './history-writer.js'

const OWNER = 'telemetry-sink'
const PRUNE_EVERY_MS = 3_600_000
/** Pruning deletes this much time at a statement, so a day's backlog does not hold the store in one DELETE. */
const PRUNE_SLICE_MS = 5 * 60_000

export interface TelemetrySinkOptions {
  writer: HistoryWriter
  bus: EventBus<IngestEvents>
  clock: Clock
  log: Logger
  retentionMs: number
  flushEveryMs?: number
  /** Readings collected between two batches; past this new ones are dropped (and counted). The worker bounds what it holds itself. */
  maxBuffered?: number
  /** Every reading kept is also handed here (InfluxDB, telemetry/influx.ts). */
  forward?: (sample: Sample) => void
}

/** Readings handed to the history worker in one message at most. */
const HANDOVER_SLICE = 2_000

export function createTelemetrySink(options: TelemetrySinkOptions) {
  const { writer, bus, clock, log, retentionMs } = options
  const flushEveryMs = options.flushEveryMs ?? 1000
  const maxBuffered = options.maxBuffered ?? 200_000
  let buffer: Sample[] = []
  let dropped = 0
  let timers: { stop(): void }[] = []
  let flushing: Promise<void> = Promise.resolve()
  /** The last battery kept per device: a status every heartbeat would otherwise store the same number all day. */
  const lastBattery = new Map<string, { at: number; value: number }>()

  function keep(sample: Sample): void {
    options.forward?.(sample)
    // O(1) either way: a full buffer under a flood must not cost more per reading than an empty one.
    if (buffer.length >= maxBuffered) {
      dropped++
      return
    }
    buffer.push(sample)
  }

  function onTelemetry(e: TelemetryReceived): void {
    const r = e.reading
    const base = { householdId: e.householdId, deviceId: e.deviceId, at: e.at, msgId: r.id }
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

  /**
   * Hands over what is collected now, a slice per turn: copying a flood's second (80,000 readings)
   * to the worker in one message held the alarm loop over half a second (bench/README.md,
   * overload). Resolves when the worker has written it (or kept it to retry).
   */
  function flush(): Promise<void> {
    const batch = buffer
    buffer = []
    flushing = flushing.then(async () => {
      if (batch.length <= HANDOVER_SLICE) return writer.write(batch)
      const writes: Promise<void>[] = []
      for (let i = 0; i < batch.length; i += HANDOVER_SLICE) {
        if (i > 0) await nextTurn()
        writes.push(writer.write(batch.slice(i, i + HANDOVER_SLICE)))
      }
      await Promise.all(writes)
    })
    return flushing
  }

  /** Prunes under way (tests wait for them after moving the clock). */
  const pruning = inFlight()
  /** Deletes what is older than the retention, oldest first, a slice of time per statement. */
  const prune = (): Promise<number> => pruning.track(pruneNow())
  async function pruneNow(): Promise<number> {
    try {
      const deleted = await writer.prune(clock.now() - retentionMs, PRUNE_SLICE_MS)
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
    /** Readings not yet in the store, and those dropped because it could not take them for too long. */
    stats: () => {
      const w = writer.stats()
      return { buffered: buffer.length + w.buffered, dropped: dropped + w.dropped }
    },
  }
}

export type TelemetrySink = ReturnType<typeof createTelemetrySink>
