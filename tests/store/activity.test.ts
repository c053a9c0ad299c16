/** The history store's daily activity aggregate (store/activity.ts), on SQLite and PostgreSQL alike. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { activityRepository, type DeviceDay } from '../../src/store/activity.js'
import { telemetryRepository, type Sample } from '../../src/store/telemetry.js'
import { deviceDaysOf } from '../../src/visits/activity.js'
import { startPlatform, type TestPlatform } from '../helpers/platform.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const SHANGHAI = 8 * HOUR
// 10 May 2026, 00:00 in Shanghai; its local day number.
const D0 = Date.UTC(2026, 4, 9, 16)
const DAY0 = Math.floor((D0 + SHANGHAI) / DAY)

let p: TestPlatform
const samples: Sample[] = []
beforeAll(async () => {
  p = await startPlatform()
  // h1: a presence sensor every 10 minutes for two local days, moving every third reading; a meter hourly on the first day.
  for (let at = D0; at < D0 + 2 * DAY; at += 10 * MIN) {
    const i = (at - D0) / (10 * MIN)
    samples.push({ householdId: 'h1', deviceId: 's1', kind: 'presence', at, value: 1, value2: i % 3 === 0 ? 1 : 0 })
  }
  for (let at = D0 + 30 * MIN, total = 50; at < D0 + DAY; at += HOUR, total += 0.004) {
    samples.push({ householdId: 'h1', deviceId: 'm1', kind: 'water', at, value: total, value2: 0 })
  }
  // h2: a meter heard for five hours; a door and a battery, which are not activity; h3: not asked for.
  for (let h = 0; h < 5; h++) samples.push({ householdId: 'h2', deviceId: 'm2', kind: 'water', at: D0 + h * HOUR, value: 10 + h * 0.01, value2: null })
  samples.push({ householdId: 'h2', deviceId: 'd2', kind: 'door', at: D0 + HOUR, value: 1, value2: null })
  samples.push({ householdId: 'h2', deviceId: 'm2', kind: 'battery', at: D0 + HOUR, value: 80, value2: null })
  samples.push({ householdId: 'h3', deviceId: 'm3', kind: 'water', at: D0 + HOUR, value: 1, value2: null })
  // Outside the window asked for: the minute before it, and its end.
  samples.push({ householdId: 'h1', deviceId: 's1', kind: 'presence', at: D0 - MIN, value: 1, value2: 1 })
  await telemetryRepository(p.app.historyDb).insert(samples)
})
afterAll(() => p?.close())

describe('daily activity per device', () => {
  it('counts readings, hours and motion, and the register range, per device and local day, for the households asked, in the window', async () => {
    const rows = await activityRepository(p.app.historyDb).deviceDays(['h1', 'h2'], D0, D0 + 2 * DAY, SHANGHAI)
    const key = (r: { householdId: string; deviceId: string; day: number }) => `${r.householdId}/${r.deviceId}/${r.day - DAY0}`
    const by = Object.fromEntries(rows.map((r) => [key(r), r]))
    expect(Object.keys(by).sort()).toEqual(['h1/m1/0', 'h1/s1/0', 'h1/s1/1', 'h2/m2/0'])
    expect(by['h1/s1/0']).toMatchObject({ kind: 'presence', readings: 144, hours: 24, motion: 48, firstAt: D0, lastAt: D0 + DAY - 10 * MIN })
    expect(by['h1/s1/1']).toMatchObject({ readings: 144, motion: 48 })
    expect(by['h1/m1/0']).toMatchObject({ kind: 'water', readings: 24, hours: 24, firstAt: D0 + 30 * MIN, lastAt: D0 + 23 * HOUR + 30 * MIN })
    expect((by['h1/m1/0']!.high - by['h1/m1/0']!.low) * 1000).toBeCloseTo(92, 6)
    expect(by['h2/m2/0']).toMatchObject({ readings: 5, hours: 5, low: 10, high: 10.04, motion: 0 })
  })

  it('answers as the same sums over readings in memory do (the demo seed plans with those)', async () => {
    const order = (rows: DeviceDay[]) => [...rows].sort((a, b) => (`${a.householdId}/${a.deviceId}/${a.day}` < `${b.householdId}/${b.deviceId}/${b.day}` ? -1 : 1))
    for (const [from, to, offset] of [[D0, D0 + 2 * DAY, SHANGHAI], [D0 - HOUR, D0 + DAY, 0]] as const) {
      const stored = await activityRepository(p.app.historyDb).deviceDays(['h1', 'h2', 'h3'], from, to, offset)
      const inMemory = deviceDaysOf(samples, from, to, offset)
      expect(stored.length).toBeGreaterThan(2)
      expect(order(stored)).toEqual(order(inMemory).map((d) => ({ ...d, low: expect.closeTo(d.low, 9), high: expect.closeTo(d.high, 9) })))
    }
  })

  it('cuts days at the given offset: the same readings are other days in UTC', async () => {
    const rows = await activityRepository(p.app.historyDb).deviceDays(['h1'], D0, D0 + DAY, 0)
    const s1 = rows.filter((r) => r.deviceId === 's1').map((r) => [r.day - DAY0, r.readings])
    // 00:00–08:00 Shanghai is the UTC day before (16:00–24:00 UTC).
    expect(s1).toEqual(expect.arrayContaining([[-1, 48], [0, 96]]))
    expect(await activityRepository(p.app.historyDb).deviceDays([], D0, D0 + DAY, 0)).toEqual([])
  })
})
