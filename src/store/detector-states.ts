/** The detectors' saved state, one JSON document per household (detectors/service.ts). */
import type { Db } from './database.js'

export interface SavedState {
  householdId: string
  state: string
}

export function detectorStateRepository(db: Db) {
  return {
    async load(): Promise<SavedState[]> {
      const rows = await db.selectFrom('household_monitors').select(['household_id', 'state']).execute()
      return rows.map((r) => ({ householdId: r.household_id, state: r.state }))
    },
    /** Upserts; callers run it in one transaction. */
    async save(states: readonly SavedState[], now: number): Promise<void> {
      for (const { householdId, state } of states) {
        await db
          .insertInto('household_monitors')
          .values({ household_id: householdId, state, updated_at: now })
          .onConflict((oc) => oc.column('household_id').doUpdateSet({ state, updated_at: now }))
          .execute()
      }
    },
  }
}

/** Load and save (in one transaction) on this store directly, on the calling thread: benchmarks and tests. */
export function detectorStatesIn(db: Db) {
  return {
    load: () => detectorStateRepository(db).load(),
    save: (states: SavedState[], now: number) => db.transaction().execute((trx) => detectorStateRepository(trx).save(states, now)),
  }
}
