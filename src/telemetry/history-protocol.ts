/** Messages between the history writer (main thread) and the history worker. */
import type { HistoryLocation } from '../store/history.js'
import type { SavedState } from '../store/detector-states.js'
import type { Sample } from '../store/telemetry.js'

export interface HistoryWorkerData {
  location: HistoryLocation
  /** The alarm store's SQLite file, whose readings of an older version move to the history store once. */
  alarmStorePath: string | null
  /** Readings the worker holds while the store refuses them; past this the oldest are dropped. */
  maxBuffered: number
  busyTimeoutMs: number
}

export type ToWorker =
  | { t: 'write'; id: number; samples: Sample[] }
  | { t: 'prune'; id: number; cutoff: number; sliceMs: number }
  | { t: 'states'; id: number; states: SavedState[]; now: number }
  | { t: 'close'; id: number }

export interface WorkerStats {
  /** Readings waiting in the worker for the store. */
  queued: number
  written: number
  dropped: number
}

export type FromWorker =
  | { t: 'ready'; moved: number }
  | { t: 'failed'; error: string }
  | { t: 'done'; id: number; value: number; error: string | null; stats: WorkerStats }
  | { t: 'log'; level: 'info' | 'warn' | 'error'; msg: string; detail: Record<string, unknown> }
