/**
 * The main thread's side of read-worker.ts: one worker per import, with its heap capped and a wall
 * bound, so a file that is too large or crafted to be (a zip bomb: a small .xlsx whose sheet
 * inflates to hundreds of MB) ends that worker alone, with nothing imported and the alarms
 * unharmed (docs/operations.md §registry import).
 */
import type { ResourceLimits } from 'node:worker_threads'
import { startWorker } from '../shared/worker.js'
import { FileTooLarge, type ReadOutcome } from './read.js'
import type { SheetKey } from './sheets.js'

const WORKER = new URL('./read-worker.ts', import.meta.url)

export interface ReadWorkerData {
  file: Uint8Array
  sheet?: SheetKey
  maxInflatedBytes: number
}

export interface ReadLimits {
  /**
   * The worker's heap. The largest file the import takes (20,000 rows in each of the three
   * sheets, 1.9 MB of .xlsx, 19 MB inflated) reads in 256 MB and not in 160 MB: 384 leaves room.
   */
  resourceLimits: ResourceLimits
  /** What an .xlsx's parts may inflate to, all together (read.ts inflatesWithin); refused before exceljs reads it. */
  maxInflatedBytes: number
  /**
   * A wall bound, not the platform clock: it guards against a worker that never answers, and
   * the platform's clock may be virtual (tests, replays) while a worker's work is real time.
   */
  timeoutMs: number
}

export const READ_LIMITS: ReadLimits = {
  resourceLimits: { maxOldGenerationSizeMb: 384, maxYoungGenerationSizeMb: 32 },
  maxInflatedBytes: 100 * 1024 * 1024,
  timeoutMs: 120_000,
}

export type FromReadWorker = { read: ReadOutcome } | { tooLarge: string }

export function readOffThread(file: Buffer, opts: { sheet?: SheetKey }, limits: ReadLimits = READ_LIMITS): Promise<ReadOutcome> {
  const data: ReadWorkerData = { file, maxInflatedBytes: limits.maxInflatedBytes, ...(opts.sheet ? { sheet: opts.sheet } : {}) }
  return new Promise<ReadOutcome>((resolve, reject) => {
    const worker = startWorker(WORKER, data, ['exceljs', 'kysely'], limits.resourceLimits)
    let settled = false
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const timer = setTimeout(() => {
      settle(() => reject(new FileTooLarge(`reading the file took more than ${limits.timeoutMs / 1000} s`)))
      void worker.terminate()
    }, limits.timeoutMs)
    worker.once('message', (m: FromReadWorker) => {
      settle(() => ('read' in m ? resolve(m.read) : reject(new FileTooLarge(m.tooLarge))))
      void worker.terminate()
    })
    worker.once('error', (err: Error & { code?: string }) => {
      // Out of memory is the file's doing; anything else is the platform's (a 500, logged), not the file's.
      settle(() => reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new FileTooLarge('reading the file needed more memory than an import may use') : err))
    })
    worker.once('exit', (code) => settle(() => reject(new Error(`the import's reader ended (${code}) without an answer`))))
  })
}
