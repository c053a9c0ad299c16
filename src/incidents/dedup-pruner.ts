/**
 * Forgets alarm message ids once they are past the retransmission window (DEDUP_WINDOW_MS):
 * after that a reused id is a new alarm anyway, so the row only grows the table every alarm
 * commit writes to. Runs hourly on the injected clock, a slice of time per statement so no
 * delete holds the store (and an arriving alarm) for long.
 */
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../shared/clock.js'
import type { Db } from '../store/database.js'
import { DEDUP_WINDOW_MS } from './service.js'

const EVERY_MS = 3_600_000
const SLICE_MS = 10 * 60_000

export function createDedupPruner(deps: { db: Db; clock: Clock; log: Logger }) {
  const { db, clock, log } = deps
  let timer: TimerHandle | null = null

  async function prune(): Promise<number> {
    const cutoff = clock.now() - DEDUP_WINDOW_MS
    let deleted = 0
    try {
      for (;;) {
        const row = await db.selectFrom('device_messages').select((eb) => eb.fn.min('received_at').as('oldest')).executeTakeFirst()
        const oldest = row?.oldest == null ? null : Number(row.oldest)
        if (oldest === null || oldest >= cutoff) break
        const r = await db.deleteFrom('device_messages').where('received_at', '<', Math.min(cutoff, oldest + SLICE_MS)).executeTakeFirst()
        deleted += Number(r.numDeletedRows)
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      if (deleted > 0) log.info({ deleted }, 'alarm message ids past the retransmission window forgotten')
    } catch (err) {
      log.warn({ err, deleted }, 'alarm message ids not pruned')
    }
    return deleted
  }

  function schedule(): void {
    timer = clock.setTimeout(() => void prune().finally(() => { if (timer) schedule() }), EVERY_MS)
  }

  return {
    prune,
    start(): void {
      schedule()
      void prune()
    },
    stop(): void {
      if (timer) clock.clearTimeout(timer)
      timer = null
    },
  }
}
