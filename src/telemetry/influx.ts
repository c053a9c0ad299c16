/**
 * Readings to InfluxDB (v2 write API, line protocol) through @influxdata/influxdb-client, when
 * configured (docs/operations.md §influxdb). Off the alarm path: samples are queued in memory and
 * written in batches on the platform clock; a failed batch goes back to the front of the queue
 * and is tried again with a growing delay; past `maxBuffered` lines the oldest are dropped and
 * counted. A line is the same measurement, tags and timestamp each time it is sent, so a batch
 * sent twice (the server took it, the answer was lost) overwrites itself rather than doubling.
 * The console's charts keep reading the platform's own history store.
 */
import { InfluxDB, Point, type WriteApi } from '@influxdata/influxdb-client'
import type { Logger } from 'pino'
import { repeatEvery, type Clock } from '../shared/clock.js'
import type { Sample } from '../store/telemetry.js'

export interface InfluxSettings {
  url: string
  token: string
  org: string
  bucket: string
}

/** Lines per write request: a second of a 10,000-device district (~400) fits one. */
const BATCH_LINES = 1000
const RETRY_MIN_MS = 1000
const RETRY_MAX_MS = 60_000
const REQUEST_TIMEOUT_MS = 10_000

interface Queued {
  line: string
  at: number
}

/** One reading as line protocol: measurement = kind, tags household and device, time in ms. */
export function sampleLine(s: Sample): string {
  const p = new Point(s.kind).tag('household', s.householdId).tag('device', s.deviceId).timestamp(s.at)
  switch (s.kind) {
    case 'water':
      p.floatField('total_m3', s.value)
      if (s.value2 !== null) p.floatField('flow_lpm', s.value2)
      break
    case 'presence':
      p.intField('occupied', s.value)
      if (s.value2 !== null) p.intField('motion', s.value2)
      break
    case 'door':
      p.intField('open', s.value)
      break
    case 'battery':
      p.floatField('percent', s.value)
      break
  }
  return p.toLineProtocol()!
}

export function createInfluxWriter(options: { settings: InfluxSettings; clock: Clock; log: Logger; flushEveryMs?: number; maxBuffered?: number }) {
  const { settings, clock, log } = options
  const flushEveryMs = options.flushEveryMs ?? 1000
  const maxBuffered = options.maxBuffered ?? 500_000
  let queue: Queued[] = []
  let written = 0
  let dropped = 0
  let failures = 0
  let retryAt = 0
  let timer: { stop(): void } | null = null
  let writing: Promise<void> = Promise.resolve()
  /** Writes are one at a time (the `writing` chain), so one slot is enough. */
  let lastError: Error | null = null

  const writeApi: WriteApi = new InfluxDB({ url: settings.url, token: settings.token, timeout: REQUEST_TIMEOUT_MS }).getWriteApi(settings.org, settings.bucket, 'ms', {
    // Batches and retries are ours, on the platform clock: the library only sends.
    batchSize: BATCH_LINES + 1,
    flushInterval: 0,
    maxRetries: 0,
    maxBufferLines: BATCH_LINES + 1,
    // Returning a promise tells the library not to retry; flush() then resolves and we look here.
    writeFailed: (err: Error) => {
      lastError = err
      return Promise.resolve()
    },
  })

  function bound(): void {
    if (queue.length <= maxBuffered) return
    const excess = queue.length - maxBuffered
    queue.splice(0, excess)
    dropped += excess
  }

  async function send(): Promise<void> {
    while (queue.length > 0 && clock.now() >= retryAt) {
      const batch = queue.splice(0, BATCH_LINES)
      try {
        await sendBatch(batch.map((q) => q.line))
      } catch (err) {
        if (refusedAsBad(err)) {
          // The server will never take these lines (a field's type conflicts, say): retrying would stop every later reading.
          dropped += batch.length
          log.error({ err: String(err), lines: batch.length }, 'InfluxDB refused readings as invalid; dropped')
          continue
        }
        queue = batch.concat(queue)
        bound()
        failures++
        const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 16))
        retryAt = clock.now() + delay
        // The first failure and then one in ten: an outage of hours would otherwise fill the log.
        if (failures === 1 || failures % 10 === 0) log.warn({ err: String(err), buffered: queue.length, dropped, retryInMs: delay }, 'InfluxDB write failed; readings kept for a retry')
        return
      }
      if (failures > 0) log.info({ failures, buffered: queue.length }, 'InfluxDB writes resumed')
      failures = 0
      retryAt = 0
      written += batch.length
    }
  }

  /** Resolves when the server took the lines; rejects with its error. */
  async function sendBatch(lines: string[]): Promise<void> {
    lastError = null
    writeApi.writeRecords(lines)
    await writeApi.flush()
    if (lastError) throw lastError
  }

  function flush(): Promise<void> {
    writing = writing.then(send)
    return writing
  }

  return {
    write(sample: Sample): void {
      queue.push({ line: sampleLine(sample), at: sample.at })
      bound()
    },
    start(): void {
      timer = repeatEvery(clock, flushEveryMs, flush)
    },
    /** Sends what is queued now (unless a retry is not due yet). */
    flush,
    async stop(): Promise<void> {
      timer?.stop()
      timer = null
      retryAt = 0
      await flush()
      await writeApi.close().catch(() => undefined)
    },
    /** For metrics: lines queued, written and dropped since start, and how old the oldest queued reading is. */
    stats(): { buffered: number; written: number; dropped: number; lagMs: number } {
      return { buffered: queue.length, written, dropped, lagMs: queue.length > 0 ? Math.max(0, clock.now() - queue[0]!.at) : 0 }
    },
  }
}

/** 400 and 422: the lines themselves are wrong; anything else (down, 401, 5xx) may pass later. */
function refusedAsBad(err: unknown): boolean {
  const status = (err as { statusCode?: unknown }).statusCode
  return status === 400 || status === 422
}

export type InfluxWriter = ReturnType<typeof createInfluxWriter>
