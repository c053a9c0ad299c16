/**
 * Global setup of the "postgres" project: the local PostgreSQL must answer (a clear failure, not
 * a pile of timeouts, when it does not), and the test schemas of this run are dropped at the end
 * (and those of runs killed before their end), never those of another run still going.
 */
import pg from 'pg'
import { dropSchemas, TEST_PG_URL } from './database.js'

export default async function setup(): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${TEST_PG_URL} (set ANJU_TEST_PG_URL, or start it: pg_ctlcluster 15 main start): ${String(err)}`)
  } finally {
    await client.end().catch(() => undefined)
  }
  // Workers name their schemas after this run; another run's schemas are left alone unless it is gone.
  const run = String(process.pid)
  process.env.ANJU_TEST_RUN = run
  await dropSchemas('stale')
  return () => dropSchemas({ run })
}
