/**
 * Each simulator scenario against the real platform, in-process on its virtual clock (the
 * test mode a tester uses for time-warp), through MQTT and the REST API only: it raises the
 * expected incident for its household and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiClient, type ApiClient } from '../../firmware-sim/api-client.js'
import { SCENARIOS } from '../../firmware-sim/household.js'
import { badDevice, flakyNetwork } from '../../firmware-sim/misbehave.js'
import { virtualTime } from '../../firmware-sim/player.js'
import { householdIncidents, runHousehold } from '../../firmware-sim/run-household.js'
import { checkOutcome, RUN_HOURS } from '../../firmware-sim/scenarios.js'
import { ADMIN_PASSWORD, startPlatform, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
let api: ApiClient
beforeAll(async () => {
  p = await startPlatform({ env: { ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(Date.UTC(2026, 10, 23, 1, 0)) } })
  api = createApiClient({ baseUrl: p.httpUrl, username: 'admin', password: ADMIN_PASSWORD })
})
afterAll(() => p.close())

describe('simulator scenarios on virtual time', () => {
  it('a normal day raises nothing', async () => {
    const run = await runHousehold({ api, mqttUrl: p.mqttUrl, time: virtualTime(api), hours: 26, seed: 7, startAtDawn: true, stepMs: 60_000 })
    expect(run.stats.published).toBeGreaterThan(1000)
    expect(await householdIncidents(api, run.householdId)).toEqual([])
  }, 120_000)

  it.each(SCENARIOS)('%s raises its expected incident and nothing else', async (scenario) => {
    const run = await runHousehold({ api, mqttUrl: p.mqttUrl, time: virtualTime(api), hours: RUN_HOURS[scenario] + 1, seed: 11, scenario, startAtDawn: true, stepMs: 60_000 })
    const incidents = await householdIncidents(api, run.householdId)
    expect(checkOutcome(scenario, incidents)).toBe('')
  }, 120_000)

  it('flaky-network: retransmissions through dropped connections give one incident', async () => {
    const verdict = await flakyNetwork(api, p.mqttUrl)
    expect(verdict.summary).toMatch(/^PASS/)
  })

  it('bad-device: every malformed message and forbidden attempt is refused and counted', async () => {
    const verdict = await badDevice(api, p.mqttUrl)
    expect(verdict.summary).toMatch(/^PASS/)
  })
})
