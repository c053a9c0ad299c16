/**
 * Forgets alarm message ids once they are past the retransmission window (DEDUP_WINDOW_MS):
 * after that a reused id is a new alarm anyway, so the row only grows the table every alarm
 * commit writes to. Runs hourly on the injected clock, a slice of time per statement so no
 * delete holds the store (and an arriving alarm) for long.
 */
import type { Logger } from 'pino'
import { repeatEvery, type Clock } from '../shared/clock.js'
import type { Db } from '../store/database.js'
import { pruneOldestFirst } from '../store/prune.js'
import { DEDUP_WINDOW_MS } from './service.js'

const EVERY_MS = 3_600_000
const SLICE_MS = 10 * 60_000

export function createDedupPruner(deps: { db: Db; clock: Clock; log: Logger }) {
  const { db, clock, log } = deps
  let timer: { stop(): void } | null = null
  let running: Promise<number> | null = null

  /** One prune at a time; `settle()` waits for the one under way. */
  function run(): Promise<number> {
    const current = prune().finally(() => {
      if (running === current) running = null
    })
    running = current
    return current
  }

  async function prune(): Promise<number> {
    try {
      const deleted = await pruneOldestFirst({
        async oldest() {
          const row = await db.selectFrom('device_messages').select((eb) => eb.fn.min('received_at').as('oldest')).executeTakeFirst()
          return row?.oldest == null ? null : Number(row.oldest)
        },
        async deleteBefore(at) {
          return Number((await db.deleteFrom('device_messages').where('received_at', '<', at).executeTakeFirst()).numDeletedRows)
        },
        cutoff: clock.now() - DEDUP_WINDOW_MS,
        sliceMs: SLICE_MS,
      })
      if (deleted > 0) log.info({ deleted }, 'alarm message ids past the retransmission window forgotten')
      return deleted
    } catch (err) {
      log.warn({ err }, 'alarm message ids not pruned')
      return 0
    }
  }

  return {
    prune,
    start(): void {
      timer = repeatEvery(clock, EVERY_MS, run)
      void run()
    },
    /** Resolves when no prune is under way (tests move the clock, then settle). */
    async settle(): Promise<void> {
      while (running) await running
    },
    stop(): void {
      timer?.stop()
      timer = null
    },
  }
}
