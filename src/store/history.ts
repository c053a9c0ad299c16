/**
 * The history store: readings for the charts, apart from the alarm store (docs/operations.md
 * §history). Embedded, it is a SQLite file of its own, written only by the history worker
 * (telemetry/history-worker.ts), so an alarm's commit never waits for a history write's lock
 * and the alarm store keeps `synchronous=FULL` while history, which can lose its last second
 * in a power cut, uses NORMAL. On PostgreSQL it is the same table in the same schema, written
 * through a connection of its own.
 */
import { Migrator, sql, type Kysely, type Migration } from 'kysely'
import { openPostgres, openSqlite, type Db } from './database.js'

export type HistoryLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema?: string }

/** Beside the alarm store: ./data/anju.db → ./data/anju-history.db. */
export function historyPathBeside(alarmStorePath: string): string {
  return alarmStorePath.replace(/(\.[^./\\]*)?$/, '-history$1')
}

const migrations: Record<string, Migration> = {
  '0001_telemetry_samples': {
    async up(db: Kysely<unknown>) {
      // On PostgreSQL the alarm store's migration 0004 made it already, in the same schema.
      await db.schema
        .createTable('telemetry_samples')
        .ifNotExists()
        .addColumn('household_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('value2', 'double precision')
        .execute()
      await db.schema.createIndex('telemetry_by_household').ifNotExists().on('telemetry_samples').columns(['household_id', 'kind', 'at']).execute()
      await db.schema.createIndex('telemetry_by_age').ifNotExists().on('telemetry_samples').column('at').execute()
    },
  },
}

/** Its own migration table: on PostgreSQL it shares a schema with the alarm store's. */
async function migrateHistory(db: Db, schema?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'history_migration',
    migrationLockTableName: 'history_migration_lock',
    ...(schema ? { migrationTableSchema: schema } : {}),
  })
  const { error, results } = await migrator.migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error || failed) throw new Error(`history migration ${failed?.migrationName ?? ''} failed: ${String(error)}`)
}

/**
 * Opens the history store. `writer`: the one connection that writes (the worker), which also
 * brings the schema up to date; the API's reads open it after the worker is ready.
 */
export function openHistoryStore(location: HistoryLocation, options: { writer: boolean; busyTimeoutMs?: number }): Promise<Db> {
  const noMigration = async () => undefined
  if (location.kind === 'postgres') {
    return openPostgres({ url: location.url, ...(location.schema ? { schema: location.schema } : {}), migrate: options.writer ? migrateHistory : noMigration })
  }
  return openSqlite({ path: location.path, synchronous: 'NORMAL', busyTimeoutMs: options.busyTimeoutMs ?? 5000, migrate: options.writer ? migrateHistory : noMigration })
}

/**
 * Readings kept in the alarm store by a version before the history store had its own file move
 * here once, in one transaction per file: copied while the history store is still empty, then
 * deleted there. A move cut short after the copy only deletes on the next start.
 */
export async function moveHistoryFromAlarmStore(history: Db, alarmStorePath: string): Promise<number> {
  await sql`ATTACH DATABASE ${alarmStorePath} AS alarm_store`.execute(history)
  try {
    const has = await sql<{ n: number }>`SELECT count(*) AS n FROM alarm_store.sqlite_master WHERE type = 'table' AND name = 'telemetry_samples'`.execute(history)
    if (Number(has.rows[0]?.n ?? 0) === 0) return 0
    const left = await sql<{ n: number }>`SELECT count(*) AS n FROM alarm_store.telemetry_samples`.execute(history)
    const n = Number(left.rows[0]?.n ?? 0)
    if (n === 0) return 0
    const mine = await sql<{ n: number }>`SELECT count(*) AS n FROM telemetry_samples`.execute(history)
    if (Number(mine.rows[0]?.n ?? 0) === 0) {
      await sql`INSERT INTO main.telemetry_samples (household_id, device_id, kind, at, value, value2) SELECT household_id, device_id, kind, at, value, value2 FROM alarm_store.telemetry_samples`.execute(history)
    }
    await sql`DELETE FROM alarm_store.telemetry_samples`.execute(history)
    return n
  } finally {
    await sql`DETACH DATABASE alarm_store`.execute(history)
  }
}
