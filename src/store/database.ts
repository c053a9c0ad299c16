/** Opens the embedded SQLite store and brings its schema up to date. */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect } from 'kysely'
import { migrationProvider } from './migrations.js'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

export interface SqliteOptions {
  path: string
  synchronous: 'FULL' | 'NORMAL'
  busyTimeoutMs: number
}

export async function openSqlite(options: SqliteOptions): Promise<Db> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
  const sqlite = new SQLite(options.path, { timeout: options.busyTimeoutMs })
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma(`synchronous = ${options.synchronous}`)
  sqlite.pragma('foreign_keys = ON')
  // 64 MiB of page cache (the default is 2 MiB): the history's indexes stay in memory, which
  // halves the charts' query time with a district's week of readings (bench/history-query.ts).
  sqlite.pragma('cache_size = -65536')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
  await migrate(db)
  return db
}

export async function migrate(db: Db): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`)
  }
}
