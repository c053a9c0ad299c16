/**
 * Which database a test platform runs on. `npm test` runs the store-backed suites twice: once on
 * the embedded SQLite file, once on the local PostgreSQL (vitest project "postgres", which sets
 * ANJU_TEST_DB=postgres), each platform in a schema of its own that is dropped afterwards.
 */
import { createHash, randomBytes } from 'node:crypto'
import pg from 'pg'
import { openPostgres, openSqlite, type Db } from '../../src/store/database.js'

export const TEST_PG_URL = process.env.ANJU_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const onPostgres = process.env.ANJU_TEST_DB === 'postgres'

export const SCHEMA_PREFIX = 'anju_t_'

/**
 * Schemas are named after the test run (the vitest process, whose global setup sets this before
 * its workers start), so two runs on one PostgreSQL — a developer's and a CI job's, or two
 * helpers' — never drop each other's schemas.
 */
const RUN = process.env.ANJU_TEST_RUN ?? String(process.ppid)
const runPrefix = (run: string) => `${SCHEMA_PREFIX}${run}_`

/**
 * A schema of its own for one platform. A test that restarts a platform on the same directory
 * gets the same schema again (named after the directory), as it would get the same SQLite file.
 */
export async function postgresForTest(dir?: string): Promise<{ db: Db; schema: string; drop(): Promise<void> }> {
  const suffix = dir ? createHash('sha256').update(dir).digest('hex').slice(0, 12) : randomBytes(6).toString('hex')
  const schema = `${runPrefix(RUN)}${suffix}`
  const db = await openPostgres({ url: TEST_PG_URL, schema })
  return { db, schema, drop: () => dropSchemas([schema]) }
}

/** `run`: every schema of this test run; `stale`: those of runs whose process is gone (a run killed before its teardown). */
export async function dropSchemas(schemas: readonly string[] | { run: string } | 'stale'): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL })
  await client.connect()
  try {
    const ours = async () => (await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE '${SCHEMA_PREFIX}%'`)).rows.map((r) => r.nspname)
    const names = Array.isArray(schemas)
      ? schemas
      : schemas === 'stale'
        ? (await ours()).filter((n) => !alive(n.slice(SCHEMA_PREFIX.length).split('_')[0]!))
        : (await ours()).filter((n) => n.startsWith(runPrefix((schemas as { run: string }).run)))
    for (const name of names) await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
  } finally {
    await client.end()
  }
}

const schemaOf = new WeakMap<Db, string>()

/** A fresh store for a test that uses the store without a platform: a SQLite file at `path`, or a PostgreSQL schema. */
export async function openTestStore(path: string): Promise<Db> {
  if (!onPostgres) return openSqlite({ path, synchronous: 'NORMAL', busyTimeoutMs: 1000 })
  const { db, schema } = await postgresForTest()
  schemaOf.set(db, schema)
  return db
}

export async function closeTestStore(db: Db): Promise<void> {
  await db.destroy()
  const schema = schemaOf.get(db)
  if (schema) await dropSchemas([schema])
}

/** Whether the test run (a process id) that made a schema is still running. */
function alive(run: string): boolean {
  const pid = Number(run)
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
