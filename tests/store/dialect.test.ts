/** Each project runs on the store it names: a "postgres" run that quietly used SQLite would prove nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import { onPostgres } from '../helpers/database.js'
import { provision, startPlatform, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

describe('the store under test', () => {
  it(`is ${onPostgres ? 'PostgreSQL' : 'SQLite'}, and round-trips epoch milliseconds, flags and JSON as numbers and text`, async () => {
    const version = onPostgres
      ? (await sql<{ v: string }>`select version() as v`.execute(p.app.db)).rows[0]!.v
      : (await sql<{ v: string }>`select 'SQLite ' || sqlite_version() as v`.execute(p.app.db)).rows[0]!.v
    expect(version).toMatch(onPostgres ? /^PostgreSQL/ : /^SQLite/)
    if (onPostgres) expect(p.pgSchema).toMatch(/^anju_t_/)

    const fx = await provision(p)
    const row = await p.app.db.selectFrom('households').select(['created_at', 'away_until']).where('id', '=', fx.householdId).executeTakeFirstOrThrow()
    expect(typeof row.created_at).toBe('number')
    expect(row.created_at).toBeGreaterThan(Date.UTC(2020, 0, 1))
    const count = await p.app.db.selectFrom('devices').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
    expect(Number(count.n)).toBeGreaterThanOrEqual(1)
  })
})
