/**
 * The history store: readings for the charts, and the detectors' saved state, apart from the
 * alarm store (docs/operations.md §history). Embedded, it is a SQLite file of its own, written only by the history worker
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
  '0002_household_monitors': {
    async up(db: Kysely<unknown>) {
      // The detectors' state: saved once a second for thousands of households, it is written
      // here, off the alarm loop and apart from the alarm store's lock. On PostgreSQL, the alarm
      // store's migration 0002 made it already.
      await db.schema
        .createTable('household_monitors')
        .ifNotExists()
        .addColumn('household_id', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
    },
  },
  '0003_reading_ids': {
    async up(db: Kysely<unknown>) {
      // A reading's message id, kept as long as the reading: a device that sends it again (the
      // same id at the same time) is recognised (docs/device-contract.md §4 `id`), and the store
      // never holds it twice; a reused id at a new time (a replaced unit) is a new reading. NULL
      // (a battery level from a status, a reading kept before ids were) never conflicts.
      await db.schema.alterTable('telemetry_samples').addColumn('msg_id', 'text').execute()
      await db.schema.createIndex('telemetry_by_message').unique().on('telemetry_samples').columns(['device_id', 'msg_id', 'at']).execute()
      // The newest reading of a device: whether a message could be one sent again at all.
      await db.schema.createIndex('telemetry_by_device').on('telemetry_samples').columns(['device_id', 'at']).execute()
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

/** What an older version kept in the alarm store and now lives here. */
const MOVED_TABLES = {
  telemetry_samples: 'household_id, device_id, kind, at, value, value2',
  household_monitors: 'household_id, state, updated_at',
} as const

/**
 * What a version before the history store had its own file kept in the alarm store (readings,
 * the detectors' state) moves here once, a table at a time: copied while this store's table is
 * still empty, then deleted there. A move cut short after the copy only deletes on the next start.
 */
export async function moveHistoryFromAlarmStore(history: Db, alarmStorePath: string): Promise<number> {
  await sql`ATTACH DATABASE ${alarmStorePath} AS alarm_store`.execute(history)
  let moved = 0
  try {
    for (const [table, columns] of Object.entries(MOVED_TABLES)) {
      const has = await sql<{ n: number }>`SELECT count(*) AS n FROM alarm_store.sqlite_master WHERE type = 'table' AND name = ${table}`.execute(history)
      if (Number(has.rows[0]?.n ?? 0) === 0) continue
      const left = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.raw(`alarm_store.${table}`)}`.execute(history)
      const n = Number(left.rows[0]?.n ?? 0)
      if (n === 0) continue
      const mine = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.raw(`main.${table}`)}`.execute(history)
      if (Number(mine.rows[0]?.n ?? 0) === 0) {
        await sql`INSERT INTO ${sql.raw(`main.${table}`)} (${sql.raw(columns)}) SELECT ${sql.raw(columns)} FROM ${sql.raw(`alarm_store.${table}`)}`.execute(history)
      }
      await sql`DELETE FROM ${sql.raw(`alarm_store.${table}`)}`.execute(history)
      moved += n
    }
    return moved
  } finally {
    await sql`DETACH DATABASE alarm_store`.execute(history)
  }
}
