/** Platform secrets made at first start and kept: the family-link key, the VAPID keys. */
import type { Db } from './database.js'

export function settingsRepository(db: Db) {
  return {
    /** Returns the stored value, or stores and returns `make()` when there is none. */
    async getOrCreate(key: string, make: () => string): Promise<string> {
      const existing = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst()
      if (existing) return existing.value
      await db.insertInto('settings').values({ key, value: make() }).onConflict((oc) => oc.column('key').doNothing()).execute()
      const stored = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow()
      return stored.value
    },
  }
}
