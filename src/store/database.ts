/**
 * Opens the store and brings its schema up to date: the embedded SQLite file by default, or
 * PostgreSQL when a deployment outgrows one machine. Both run the same queries and migrations
 * (times are epoch ms, flags 0/1, no SQL of one dialect only).
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { migrationProvider } from './migrations.js'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

export interface SqliteOptions {
  path: string
  synchronous: 'FULL' | 'NORMAL'
  busyTimeoutMs: number
  /** Brings the schema up to date; the alarm store's migrations unless told otherwise (store/history.ts). */
  migrate?: (db: Db) => Promise<void>
}

export async function openSqlite(options: SqliteOptions): Promise<Db> {
  if (options.path !== ':memory:') {
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 })
    // Names, addresses, phones, key-safe codes: readable by the platform's user only. SQLite
    // gives its -wal and -shm files the database file's permissions.
    closeSync(openSync(options.path, 'a', 0o600))
    chmodSync(options.path, 0o600)
  }
  const sqlite = new SQLite(options.path, { timeout: options.busyTimeoutMs })
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma(`synchronous = ${options.synchronous}`)
  sqlite.pragma('foreign_keys = ON')
  // 64 MiB of page cache (the default is 2 MiB): the history's indexes stay in memory, which
  // halves the charts' query time with a district's week of readings (bench/history-query.ts).
  sqlite.pragma('cache_size = -65536')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  await (options.migrate ?? migrate)(db)
  return db
}

/** Distinct statements kept prepared, at most (a VALUES list of each length is one of its own). */
const STATEMENTS_KEPT = 500

/**
 * kysely asks better-sqlite3 to prepare every query anew (8 % of the alarm loop in a profile of
 * bench/alarm-latency.ts): the same SQL is prepared once and kept, the least recently used
 * dropped past STATEMENTS_KEPT. Safe because kysely runs one query at a time on the connection
 * and each runs to the end (no statement of ours is iterated while another runs), and SQLite
 * prepares a kept statement again by itself after a schema change.
 */
function withStatementCache(sqlite: SQLite.Database): { prepare(sql: string): SQLite.Statement; close(): void } {
  const kept = new Map<string, SQLite.Statement>()
  return {
    prepare(sql) {
      let statement = kept.get(sql)
      if (statement) kept.delete(sql)
      else {
        statement = sqlite.prepare(sql)
        if (kept.size >= STATEMENTS_KEPT) kept.delete(kept.keys().next().value!)
      }
      kept.set(sql, statement)
      return statement
    },
    close: () => sqlite.close(),
  }
}

export interface PostgresOptions {
  url: string
  /** A schema to use instead of `public` (the tests give each platform its own); created if missing. */
  schema?: string
  /** As for SQLite; given the schema. */
  migrate?: (db: Db, schema?: string) => Promise<void>
}

/** PostgreSQL's int8 (our epoch-ms columns, COUNT) as a number: epoch milliseconds fit well within 2^53. */
const INT8 = 20
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

/**
 * One connection, as with SQLite: every transaction runs alone, so the read-then-write steps of
 * the domain (an event's position on its incident, a ladder's next step) need no locks. Enough
 * for a district; more connections need those steps reviewed for concurrent writers first.
 */
export async function openPostgres(options: PostgresOptions): Promise<Db> {
  if (options.schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) throw new Error(`not a schema name: ${options.schema}`)
  const pool = new pg.Pool({
    connectionString: options.url,
    max: 1,
    types,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  if (options.schema) await db.schema.createSchema(options.schema).ifNotExists().execute()
  await (options.migrate ?? migrate)(db, options.schema)
  return db
}

/** `schema`: where the migrator keeps its own tables (otherwise it may find another schema's and skip creating them). */
export async function migrate(db: Db, schema?: string): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) }).migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`)
  }
}
