/**
 * How the detectors' service (service.ts) reaches the engine (engine.ts):
 *  - `workerLink`: the engine on its own thread (worker.ts), as the platform runs it. The alarm
 *    loop only hands over each turn's commands in one message and applies what comes back
 *    (docs/operations.md §overload); stepping and serialising the households are the worker's.
 *  - `inThreadLink`: the engine called in place, each command's outcome before `send` returns:
 *    for tests and the detection benchmark that move a virtual clock by hand, where a check a
 *    step schedules must fire within the same move.
 */
import type { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { startWorker } from '../shared/worker.js'
import { changedStates, createEngine, type EngineCommand, type Outcome, type SavedState } from './engine.js'
import type { MonitorState } from './monitor.js'

export type ToEngine =
  | { t: 'run'; seq: number; commands: EngineCommand[] }
  | { t: 'flush'; seq: number }
  | { t: 'unsaved'; ids: string[] }
  | { t: 'monitor'; seq: number; householdId: string }

export type FromEngine =
  | { t: 'ready' }
  | { t: 'ran'; seq: number; outcomes: Outcome[]; errors: { householdId: string | null; message: string }[] }
  | { t: 'states'; seq: number; states: SavedState[] }
  | { t: 'flushed'; seq: number }
  | { t: 'monitor'; seq: number; state: MonitorState | undefined }

export interface LinkHandlers {
  outcomes(outcomes: Outcome[]): void
  error(householdId: string | null, message: string): void
  /** The engine's thread ended unasked: what it held since the last flush is gone. */
  lost(reason: string): void
}

export interface EngineLink {
  /** Hands a command over; outcomes come to `handlers.outcomes`, in order. */
  send(command: EngineCommand): void
  /** Device inputs handed over and not yet stepped (asked for each reading: cheap). */
  queued(): number
  /** How long the oldest of them has waited (ms). */
  oldestWaitMs(): number
  /** Resolves once every command sent so far has come back. */
  idle(): Promise<void>
  /** Saves the states changed so far, a slice at a time, each before the next; rejects if the store refused any. */
  flush(save: (states: SavedState[]) => Promise<void>): Promise<void>
  monitor(householdId: string): Promise<MonitorState | undefined>
  close(): Promise<void>
}

export function inThreadLink(handlers: LinkHandlers): EngineLink {
  const engine = createEngine()
  return {
    send(command) {
      const { outcomes, errors } = engine.run([command])
      for (const e of errors) handlers.error(e.householdId, e.message)
      if (outcomes.length > 0) handlers.outcomes(outcomes)
    },
    queued: () => 0,
    oldestWaitMs: () => 0,
    idle: () => Promise.resolve(),
    async flush(save) {
      let failure: unknown = null
      for await (const states of changedStates(engine)) {
        try {
          await save(states)
        } catch (err) {
          engine.unsaved(states.map((s) => s.householdId))
          failure ??= err
        }
      }
      if (failure) throw failure
    },
    monitor: (householdId) => Promise.resolve(engine.monitor(householdId)),
    close: () => Promise.resolve(),
  }
}

const WORKER = new URL('./worker.ts', import.meta.url)

/** Starts the engine's thread (with `start`: a test's, to end it unasked); resolves once it listens. */
export async function workerLink(handlers: LinkHandlers, log: Logger, start: (module: URL) => Worker = (module) => startWorker(module, null)): Promise<EngineLink> {
  const worker = start(WORKER)
  let closing = false
  let ended: string | null = null
  let seq = 0
  /** Commands of this turn, handed over together at its end. */
  let batch: EngineCommand[] = []
  let batchInputs = 0
  let batchSince = 0
  /** Batches handed over and not yet back: their sequence, inputs and when they were handed over. */
  const inFlight: { seq: number; inputs: number; at: number }[] = []
  let inputsInFlight = 0
  const idleWaiters: { seq: number; resolve(): void; reject(err: Error): void }[] = []
  const replies = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>()
  const flushes = new Map<number, { saving: Promise<void>; failure: unknown; save(states: SavedState[]): Promise<void> }>()

  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: FromEngine) => (m.t === 'ready' ? resolve() : reject(new Error(`detectors' worker said ${m.t} first`))))
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`detectors' worker exited (code ${code}) before it was ready`)))
  })

  function post(message: ToEngine): void {
    if (ended) throw new Error(`detectors' worker ended: ${ended}`)
    worker.postMessage(message)
  }

  function handOver(): void {
    if (batch.length === 0 || ended) return
    const s = ++seq
    inFlight.push({ seq: s, inputs: batchInputs, at: batchSince })
    inputsInFlight += batchInputs
    post({ t: 'run', seq: s, commands: batch })
    batch = []
    batchInputs = 0
  }

  function end(reason: string): void {
    if (ended) return
    ended = reason
    const err = new Error(`detectors' worker ended: ${reason}`)
    for (const w of idleWaiters.splice(0)) w.reject(err)
    for (const r of replies.values()) r.reject(err)
    replies.clear()
    for (const f of flushes.values()) f.failure ??= err
    if (!closing) handlers.lost(reason)
  }

  worker.on('message', (m: FromEngine) => {
    switch (m.t) {
      case 'ran': {
        const done = inFlight.shift()
        if (done) inputsInFlight -= done.inputs
        for (const e of m.errors) handlers.error(e.householdId, e.message)
        if (m.outcomes.length > 0) handlers.outcomes(m.outcomes)
        while (idleWaiters.length > 0 && idleWaiters[0]!.seq <= m.seq) idleWaiters.shift()!.resolve()
        return
      }
      case 'states': {
        const f = flushes.get(m.seq)
        if (!f) return
        // One slice at a time, in order: a household's state is in one slice of a flush only.
        f.saving = f.saving.then(() =>
          f.save(m.states).catch((err: unknown) => {
            f.failure ??= err
            if (!ended) post({ t: 'unsaved', ids: m.states.map((s) => s.householdId) })
          }),
        )
        return
      }
      case 'flushed':
      case 'monitor': {
        const r = replies.get(m.seq)
        replies.delete(m.seq)
        return r?.resolve(m.t === 'monitor' ? m.state : undefined)
      }
    }
  })
  worker.on('error', (err) => log.error({ err }, "detectors' worker failed"))
  worker.on('exit', (code) => end(`exit code ${code}`))

  function request(message: Extract<ToEngine, { t: 'flush' | 'monitor' }>): Promise<unknown> {
    handOver()
    return new Promise((resolve, reject) => {
      replies.set(message.seq, { resolve, reject })
      post(message)
    })
  }

  return {
    send(command) {
      if (ended) return
      if (batch.length === 0) {
        batchSince = performance.now()
        setImmediate(handOver)
      }
      batch.push(command)
      if (command.t === 'input') batchInputs++
    },

    queued: () => inputsInFlight + batchInputs,
    oldestWaitMs: () => (inFlight.length > 0 ? performance.now() - inFlight[0]!.at : batch.length > 0 ? performance.now() - batchSince : 0),

    idle() {
      handOver()
      if (inFlight.length === 0) return Promise.resolve()
      const last = inFlight[inFlight.length - 1]!.seq
      return new Promise<void>((resolve, reject) => idleWaiters.push({ seq: last, resolve, reject }))
    },

    async flush(save) {
      const s = ++seq
      const f = { saving: Promise.resolve(), failure: null as unknown, save }
      flushes.set(s, f)
      try {
        await request({ t: 'flush', seq: s })
        await f.saving
      } finally {
        flushes.delete(s)
      }
      if (f.failure) throw f.failure
    },

    monitor: (householdId) => request({ t: 'monitor', seq: ++seq, householdId }) as Promise<MonitorState | undefined>,

    async close() {
      closing = true
      handOver()
      await worker.terminate()
    },
  }
}
