/** The embedded database holds names, addresses, phones and key-safe codes: its files are the platform user's alone. */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { openSqlite } from '../../src/store/database.js'

const dir = mkdtempSync(join(tmpdir(), 'anju-mode-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const mode = (path: string) => statSync(path).mode & 0o777

describe('SQLite file permissions', () => {
  it('creates the database, its WAL and shared-memory files readable by the owner only, whatever the umask', async () => {
    const old = process.umask(0o022)
    try {
      const path = join(dir, 'data', 'anju.db')
      const db = await openSqlite({ path, synchronous: 'NORMAL', busyTimeoutMs: 0 })
      await sql`create table t (x integer)`.execute(db)
      await sql`insert into t values (1)`.execute(db)
      expect(mode(path)).toBe(0o600)
      expect(mode(`${path}-wal`)).toBe(0o600)
      expect(mode(`${path}-shm`)).toBe(0o600)
      expect(mode(join(dir, 'data'))).toBe(0o700)
      await db.destroy()
    } finally {
      process.umask(old)
    }
  })

  it('tightens a database file that an earlier version left world-readable', async () => {
    const path = join(dir, 'old.db')
    writeFileSync(path, '')
    chmodSync(path, 0o644)
    const db = await openSqlite({ path, synchronous: 'NORMAL', busyTimeoutMs: 0 })
    expect(mode(path)).toBe(0o600)
    await db.destroy()
  })
})
