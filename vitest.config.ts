import { defineConfig } from 'vitest/config'

/**
 * Every suite runs on the embedded SQLite store; the suites that exercise the store through the
 * platform run a second time on the local PostgreSQL (project "postgres"), because both stores
 * must behave the same (DESIGN.md: run the store tests on both databases).
 */
const ON_BOTH_STORES = [
  'tests/api/**/*.test.ts',
  'tests/broker/device-auth.test.ts',
  'tests/delivery/outbox.test.ts',
  'tests/detectors/service.test.ts',
  'tests/detectors/activity-service.test.ts',
  'tests/e2e/sos-path.test.ts',
  'tests/family/**/*.test.ts',
  'tests/firmware-sim/scenarios.test.ts',
  'tests/incidents/service.test.ts',
  'tests/incidents/dedup-pruner.test.ts',
  'tests/ingest/bad-input.test.ts',
  'tests/ingest/idempotency.test.ts',
  'tests/routing/escalation.test.ts',
  'tests/store/**/*.test.ts',
  'tests/telemetry/history-api.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll waits for what the browser or the platform will do; on a machine busy with other
    // work that can take seconds (an import's worker starting), so its bound is that of a wait, not 1 s.
    expect: { poll: { timeout: 15_000 } },
    // Integration suites bind real sockets; files run in parallel, tests inside a file in order.
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['tests/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ON_BOTH_STORES,
          env: { ANJU_TEST_DB: 'postgres' },
          globalSetup: ['tests/helpers/postgres-setup.ts'],
        },
      },
    ],
  },
})
