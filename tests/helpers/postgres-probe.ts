/** Whether a PostgreSQL answers at a URL, and with that URL's database (test setup and the postgres project). */
import pg from 'pg'

export type PostgresState = 'ready' | 'no-database' | 'down'

export async function probePostgres(url: string): Promise<{ state: PostgresState; error?: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return { state: 'ready' }
  } catch (err) {
    // 3D000: the server answers, the database does not exist (yet).
    return { state: (err as { code?: string }).code === '3D000' ? 'no-database' : 'down', error: (err as Error).message }
  } finally {
    await client.end().catch(() => undefined)
  }
}
