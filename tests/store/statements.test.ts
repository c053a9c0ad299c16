/**
 * The embedded store keeps its statements prepared (store/database.ts withStatementCache): the
 * same query again, a query that failed, and a query after the schema changed under it all
 * answer as freshly prepared ones would.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { openSqlite } from '../../src/store/database.js'

const dir = mkdtempSync(join(tmpdir(), 'anju-stmt-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('statements kept prepared', () => {
  it('answer again, after a failure, and after the schema changed, as fresh ones would', async () => {
    const db = await openSqlite({ path: join(dir, 'a.db'), synchronous: 'NORMAL', busyTimeoutMs: 0 })
    try {
      await sql`create table kept (id integer primary key, name text not null)`.execute(db)
      const insert = (id: number, name: string | null) => sql`insert into kept (id, name) values (${id}, ${name})`.execute(db)
      const all = async () => (await sql<Record<string, unknown>>`select * from kept order by id`.execute(db)).rows
      await insert(1, '张桂英')
      expect(await all()).toEqual([{ id: 1, name: '张桂英' }])
      // The same statement refused (a duplicate key, a null name), then used again.
      await expect(insert(1, '李')).rejects.toThrow(/UNIQUE/)
      await expect(insert(2, null)).rejects.toThrow(/NOT NULL/)
      await insert(2, '李秀兰')
      expect(await all()).toEqual([{ id: 1, name: '张桂英' }, { id: 2, name: '李秀兰' }])
      // A column added after `select *` was first prepared: the kept statement sees it.
      await sql`alter table kept add column room text`.execute(db)
      await sql`update kept set room = ${'kitchen'} where id = ${2}`.execute(db)
      expect(await all()).toEqual([{ id: 1, name: '张桂英', room: null }, { id: 2, name: '李秀兰', room: 'kitchen' }])
      // More distinct statements than are kept: the oldest go, every one still answers.
      for (let n = 1; n <= 600; n++) expect((await sql<{ n: number }>`select ${n} + ${sql.raw(String(n))} as n`.execute(db)).rows[0]!.n).toBe(2 * n)
      expect(await all()).toHaveLength(2)
    } finally {
      await db.destroy()
    }
  })
})
