/** A whole simulated district against the real platform, and the platform's counters agreeing with it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { provisionDistrict, renderProgress, runDistrict, type DistrictStats, type FleetDevice } from '../../firmware-sim/district.js'
import { startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

interface IngestSnapshot {
  connectedDevices: number
  totals: { accepted: number; duplicate: number; dropped: number; refused: number }
}

let p: TestPlatform
let fleet: FleetDevice[]
const ingestStats = async () => (await p.api<IngestSnapshot>('GET', '/api/stats/ingest')).body

beforeAll(async () => {
  p = await startPlatform()
  // 400 households × (button, water meter, 2 presence sensors, door contact), 20 requests at a time.
  fleet = await provisionDistrict({ httpUrl: p.httpUrl, token: p.adminToken, households: 400, concurrency: 20, tag: '' })
}, 60_000)
afterAll(() => p?.close())

describe('runDistrict', () => {
  it('connects 2,000 devices at a steady rate, and the platform accepts every message it acknowledged', { timeout: 60_000 }, async () => {
    expect(fleet).toHaveLength(2000)
    expect(new Set(fleet.map((d) => d.id)).size).toBe(2000)

    let platformWhileConnected: Promise<IngestSnapshot> | undefined
    const seen: DistrictStats[] = []
    const result = await runDistrict({
      url: p.mqttUrl,
      devices: fleet,
      connectRate: 1000,
      durationS: 3,
      telemetryIntervalS: 2,
      progress: (s) => {
        seen.push(s)
        if (!platformWhileConnected && s.connectS !== null) platformWhileConnected = ingestStats()
      },
    })

    expect(result).toMatchObject({ target: 2000, connected: 2000, connectFailures: 0, refusals: 0, errors: 0, disconnects: 0, lastError: null })
    expect((await platformWhileConnected)?.connectedDevices).toBe(2000)
    // At 1000/s the ramp takes about 2 s: paced, not all at once.
    expect(result.connectS).toBeGreaterThan(1.5)
    expect(seen.some((s) => s.connected > 0 && s.connected < 2000)).toBe(true)
    // Every status on connect plus about (ramp + 3 s) / 2 s readings per device, all acknowledged.
    expect(result.pubacks).toBe(result.published)
    expect(result.pubacks).toBeGreaterThan(2000 + 2000 * 1.5)
    expect(result.messagesPerS).toBeGreaterThan(0)

    const platform = await ingestStats()
    expect(platform.totals).toEqual({ accepted: result.pubacks, duplicate: 0, dropped: 0, refused: 0 })
    // Closed with DISCONNECT: nobody is left connected.
    await waitFor(async () => (await ingestStats()).connectedDevices === 0, 5000, 'every device to disconnect')
  })

  it('counts a device with a wrong secret as a refusal and connects the others', async () => {
    const before = await ingestStats()
    const devices = fleet.slice(0, 20).map((d, i) => (i === 3 ? { ...d, secret: 'wrong-secret' } : d))
    const result = await runDistrict({ url: p.mqttUrl, devices, connectRate: 500, durationS: 0, telemetryIntervalS: 5 })

    expect(result).toMatchObject({ target: 20, connected: 19, refusals: 1, connectFailures: 0, errors: 0, disconnects: 0 })
    expect(result.lastError).toContain('CONNACK return code 5')
    // The status each device sends on connect, and a reading from any whose slot came up during the ramp.
    expect(result.pubacks).toBe(result.published)
    expect(result.pubacks).toBeGreaterThanOrEqual(19)
    const after = await ingestStats()
    expect(after.totals.refused - before.totals.refused).toBe(1)
    expect(after.totals.accepted - before.totals.accepted).toBe(result.pubacks)
  })

  it('counts a broker that is not there as connection failures, without throwing', async () => {
    const result = await runDistrict({ url: 'mqtt://127.0.0.1:1', devices: fleet.slice(0, 3), connectRate: 100, durationS: 0, telemetryIntervalS: 5 })
    expect(result).toMatchObject({ target: 3, connected: 0, connectFailures: 3, refusals: 0, published: 0 })
  })

  it('refuses a URL whose port went missing rather than falling back to 1883', async () => {
    await expect(runDistrict({ url: 'mqtt://127.0.0.1:', devices: fleet.slice(0, 1), connectRate: 10, durationS: 0, telemetryIntervalS: 1 })).rejects.toThrow('no port')
  })

  it('stops sending and closes every connection when aborted', async () => {
    const controller = new AbortController()
    const run = runDistrict({
      url: p.mqttUrl,
      devices: fleet.slice(0, 50),
      connectRate: 1000,
      durationS: 600,
      telemetryIntervalS: 1,
      signal: controller.signal,
      progress: (s) => {
        if (s.connectS !== null) controller.abort()
      },
    })
    const result = await run
    expect(result).toMatchObject({ connected: 50, errors: 0, disconnects: 0 })
    expect(result.elapsedS).toBeLessThan(10)
    expect(result.pubacks).toBe(result.published)
    await waitFor(async () => (await ingestStats()).connectedDevices === 0, 5000, 'every device to disconnect')
  })

  it('holds readings until every device is connected when asked (bench/throughput.ts)', async () => {
    const whileConnecting: DistrictStats[] = []
    const result = await runDistrict({
      url: p.mqttUrl,
      devices: fleet.slice(0, 100),
      connectRate: 100, // a 1 s ramp, five reading intervals long
      durationS: 1,
      telemetryIntervalS: 0.2,
      holdTelemetryUntilConnected: true,
      progress: (s) => {
        if (s.connectS === null) whileConnecting.push(s)
      },
    })
    expect(result).toMatchObject({ connected: 100, errors: 0, disconnects: 0 })
    // Only the status on connect during the ramp; readings after it.
    expect(whileConnecting.some((s) => s.connected > 0)).toBe(true)
    for (const s of whileConnecting) expect(s.published).toBeLessThanOrEqual(s.connected)
    // Readings went out once the ramp was over (how many depends on the machine's load).
    expect(result.published).toBeGreaterThan(100)
    expect(result.pubacks).toBe(result.published)
  })
})

describe('renderProgress', () => {
  it('draws one line: a bar of connections and the counters', () => {
    const s: DistrictStats = {
      target: 10_000,
      connected: 5000,
      connectFailures: 0,
      refusals: 0,
      published: 5000,
      pubacks: 4980,
      errors: 0,
      disconnects: 0,
      messagesPerS: 312,
      elapsedS: 12.34,
      connectS: null,
      commands: 0,
      lastError: null,
    }
    expect(renderProgress(s, 10)).toBe('[#####-----] 5000/10000 connected · 312 msg/s · 4980 PUBACK · 0 refused · 0 errors · 12.3 s')
    expect(renderProgress({ ...s, connectFailures: 2, disconnects: 1 }, 10)).toContain('2 failed · 1 lost')
    expect(renderProgress(s)).not.toContain('\n')
  })
})
