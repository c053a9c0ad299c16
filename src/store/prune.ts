/**
 * Deletes what is older than `cutoff`, oldest first, one slice of time per statement with a turn
 * of the event loop between: a day's backlog in one DELETE would hold the store, and an arriving
 * alarm, for as long as it takes. Returns how many rows went.
 */
import { nextTurn } from '../shared/next-turn.js'

export async function pruneOldestFirst(p: { oldest(): Promise<number | null>; deleteBefore(at: number): Promise<number>; cutoff: number; sliceMs: number }): Promise<number> {
  let deleted = 0
  for (let oldest = await p.oldest(); oldest !== null && oldest < p.cutoff; oldest = await p.oldest()) {
    deleted += await p.deleteBefore(Math.min(p.cutoff, oldest + p.sliceMs))
    await nextTurn()
  }
  return deleted
}
