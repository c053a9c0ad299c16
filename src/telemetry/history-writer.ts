/**
 * The main thread's side of the history worker (history-worker.ts): hands it batches of
 * readings and prune requests, and answers for what it holds. What the worker has not yet
 * confirmed is bounded here too: a worker that falls behind cannot grow this thread's memory
 * through its message queue; past the bound a batch is dropped and counted.
 */
import type { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { startWorker } from '../shared/worker.js'
import type { HistoryLocation } from '../store/history.js'
import type { SavedState } from '../store/detector-states.js'
import type { Sample } from '../store/telemetry.js'
import type { FromWorker, HistoryWorkerData, ToWorker, WorkerStats } from './history-protocol.js'

const WORKER = new URL('./history-worker.ts', import.meta.url)

export interface HistoryWriterOptions {
  location: HistoryLocation
  alarmStorePath: string | null
  log: Logger
  maxBuffered?: number
  busyTimeoutMs?: number
}

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never

export function createHistoryWriter(options: HistoryWriterOptions) {
  const { log } = options
  const maxBuffered = options.maxBuffered ?? 200_000
  const data: HistoryWorkerData = { location: options.location, alarmStorePath: options.alarmStorePath, maxBuffered, busyTimeoutMs: options.busyTimeoutMs ?? 5000 }
  let worker: Worker | null = null
  let starting: Promise<Worker> | null = null
  let closing = false
  let nextId = 1
  const pending = new Map<number, { resolve(m: Extract<FromWorker, { t: 'done' }>): void; reject(err: Error): void }>()
  /** Readings handed over and not yet written or dropped by the worker. */
  let posted = 0
  let confirmed: WorkerStats = { queued: 0, written: 0, dropped: 0 }
  /** Counted here: batches not handed over because the worker had too many unconfirmed. */
  let droppedHere = 0
  let base = { written: 0, dropped: 0 }

  const unconfirmed = () => posted - confirmed.written - confirmed.dropped

  function spawn(): Promise<Worker> {
    starting ??= new Promise<Worker>((resolve, reject) => {
      const w = startWorker(WORKER, data, ['kysely', 'better-sqlite3', ...(data.location.kind === 'postgres' ? ['pg'] : [])])
      w.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'ready':
            if (m.moved > 0) log.info({ moved: m.moved }, 'readings moved from the alarm store to the history store')
            worker = w
            return resolve(w)
          case 'failed':
            return reject(new Error(`history store could not be opened: ${m.error}`))
          case 'done': {
            confirmed = m.stats
            const p = pending.get(m.id)
            pending.delete(m.id)
            return p?.resolve(m)
          }
          case 'log':
            return log[m.level](m.detail, m.msg)
        }
      })
      w.once('error', (err) => {
        log.error({ err }, 'history worker crashed')
        reject(err)
      })
      w.once('exit', (code) => {
        worker = null
        starting = null
        // What it held is lost; what comes next starts a new one.
        base = { written: base.written + confirmed.written, dropped: base.dropped + confirmed.dropped + confirmed.queued }
        posted = 0
        confirmed = { queued: 0, written: 0, dropped: 0 }
        for (const p of pending.values()) p.reject(new Error(`history worker exited (${code})`))
        pending.clear()
        if (!closing) log.error({ code }, 'history worker exited; a new one starts with the next batch')
      })
    })
    return starting
  }

  async function request(message: Distribute<ToWorker>): Promise<Extract<FromWorker, { t: 'done' }>> {
    const w = worker ?? (await spawn())
    const id = nextId++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      w.postMessage({ ...message, id } as ToWorker)
    })
  }

  return {
    /** Starts the worker and opens the store (moving an older version's readings once). */
    start: async (): Promise<void> => void (await spawn()),

    /** Resolves when the worker has tried to write the batch (a refusal keeps it there for the next). */
    async write(samples: Sample[]): Promise<void> {
      if (samples.length === 0 && unconfirmed() === 0) return
      if (unconfirmed() + samples.length > maxBuffered) {
        droppedHere += samples.length
        log.warn({ dropped: samples.length, unconfirmed: unconfirmed() }, 'history worker behind; readings dropped')
        return
      }
      posted += samples.length
      await request({ t: 'write', samples }).catch((err: unknown) => log.warn({ err }, 'history batch lost'))
    },

    /** Deletes readings older than `cutoff`, a slice of time per statement; how many went. */
    async prune(cutoff: number, sliceMs: number): Promise<number> {
      const done = await request({ t: 'prune', cutoff, sliceMs })
      if (done.error) throw new Error(done.error)
      return done.value
    },

    /** Saves the detectors' state of these households, in one transaction; rejects when the store refused it. */
    async saveStates(states: SavedState[], now: number): Promise<void> {
      const done = await request({ t: 'states', states, now })
      if (done.error) throw new Error(done.error)
    },

    /** Writes what the worker holds, closes its store and ends it. */
    async close(): Promise<void> {
      closing = true
      if (!worker && !starting) return
      const w = worker ?? (await spawn().catch(() => null))
      if (!w) return
      await request({ t: 'close' }).catch(() => undefined)
      await w.terminate()
    },

    /** Readings not yet in the store, and those dropped since start. */
    stats(): { buffered: number; dropped: number; written: number } {
      return { buffered: unconfirmed(), dropped: base.dropped + confirmed.dropped + droppedHere, written: base.written + confirmed.written }
    },
  }
}

export type HistoryWriter = ReturnType<typeof createHistoryWriter>
