/**
 * The history worker: the only writer of the history store (store/history.ts): readings, and
 * the detectors' state the sink-side hands it once a second. On a thread of its own, so neither a write's statements, its fsync nor a checkpoint ever run on the event
 * loop that carries the alarms. It takes readings in batches from the sink, writes them in
 * large transactions, keeps what the store refuses (bounded, oldest dropped and counted) and
 * tries again with the next batch, and prunes when told. It has no clock: the sink's is the
 * platform's, and every timer stays there.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { Db } from '../store/database.js'
import { detectorStateRepository } from '../store/detector-states.js'
import { moveHistoryFromAlarmStore, openHistoryStore } from '../store/history.js'
import { pruneOldestFirst } from '../store/prune.js'
import { telemetryRepository, type Sample } from '../store/telemetry.js'
import type { FromWorker, HistoryWorkerData, ToWorker } from './history-protocol.js'

/** Rows per transaction: off the alarm loop a large one costs nothing but is one commit instead of many. */
const ROWS_PER_TRANSACTION = 5000

const data = (workerData as { data: HistoryWorkerData }).data
const port = parentPort!
const send = (m: FromWorker) => port.postMessage(m)
const log = (level: 'info' | 'warn' | 'error', msg: string, detail: Record<string, unknown> = {}) => send({ t: 'log', level, msg, detail })

const queue: Sample[][] = []
let queued = 0
let written = 0
let dropped = 0
let failures = 0

function enqueue(samples: Sample[]): void {
  if (samples.length > 0) {
    queue.push(samples)
    queued += samples.length
  }
  while (queued > data.maxBuffered) {
    const head = queue[0]!
    const excess = queued - data.maxBuffered
    if (head.length <= excess) {
      queue.shift()
      queued -= head.length
      dropped += head.length
    } else {
      queue[0] = head.slice(excess)
      queued -= excess
      dropped += excess
    }
  }
}

/** Writes what is queued, oldest first; the error of a transaction the store refused, else null. */
async function drain(db: Db): Promise<string | null> {
  while (queued > 0) {
    let batches = 0
    let rows = 0
    while (batches < queue.length && (rows === 0 || rows + queue[batches]!.length <= ROWS_PER_TRANSACTION)) rows += queue[batches++]!.length
    const take = queue.slice(0, batches).flat()
    try {
      await db.transaction().execute((trx) => telemetryRepository(trx).insert(take))
    } catch (err) {
      failures++
      // The first failure and then one in ten: a store refusing for hours would otherwise fill the log.
      if (failures === 1 || failures % 10 === 0) log('warn', 'telemetry history not written; will retry with the next batch', { err: String(err), queued, dropped, failures })
      return String(err)
    }
    if (failures > 0) log('info', 'telemetry history written again', { failures, queued })
    failures = 0
    queue.splice(0, batches)
    queued -= take.length
    written += take.length
  }
  return null
}

async function main(): Promise<void> {
  let db: Db
  let moved = 0
  try {
    db = await openHistoryStore(data.location, { writer: true, busyTimeoutMs: data.busyTimeoutMs })
    if (data.location.kind === 'sqlite' && data.alarmStorePath) moved = await moveHistoryFromAlarmStore(db, data.alarmStorePath)
  } catch (err) {
    send({ t: 'failed', error: err instanceof Error ? err.message : String(err) })
    return
  }
  const repo = telemetryRepository(db)
  const stats = () => ({ queued, written, dropped })
  let work: Promise<void> = Promise.resolve()

  async function handle(m: ToWorker): Promise<void> {
    switch (m.t) {
      case 'write': {
        enqueue(m.samples)
        const error = await drain(db)
        return send({ t: 'done', id: m.id, value: 0, error, stats: stats() })
      }
      case 'prune': {
        try {
          const deleted = await pruneOldestFirst({ oldest: repo.oldest, deleteBefore: repo.prune, cutoff: m.cutoff, sliceMs: m.sliceMs })
          return send({ t: 'done', id: m.id, value: deleted, error: null, stats: stats() })
        } catch (err) {
          return send({ t: 'done', id: m.id, value: 0, error: String(err), stats: stats() })
        }
      }
      case 'states': {
        try {
          await db.transaction().execute((trx) => detectorStateRepository(trx).save(m.states, m.now))
          return send({ t: 'done', id: m.id, value: m.states.length, error: null, stats: stats() })
        } catch (err) {
          return send({ t: 'done', id: m.id, value: 0, error: String(err), stats: stats() })
        }
      }
      case 'close': {
        const error = await drain(db)
        await db.destroy()
        send({ t: 'done', id: m.id, value: 0, error, stats: stats() })
        port.close()
        return
      }
    }
  }

  // One message at a time, in order: a batch is written before the next is taken.
  port.on('message', (m: ToWorker) => {
    work = work.then(() => handle(m)).catch((err: unknown) => log('error', 'history worker failed on a message', { err: String(err) }))
  })
  send({ t: 'ready', moved })
}

void main()
