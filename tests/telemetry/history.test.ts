/** The pure shaping of readings into chart series: water per hour, presence spans, battery points, last water use. */
import { describe, expect, it } from 'vitest'
import type { Sample } from '../../src/store/telemetry.js'
import { batteryPoints, HOUR_MS, lastWaterUse, presenceSpans, PRESENCE_STALE_MS, waterPerHour } from '../../src/telemetry/history.js'

const T0 = Date.UTC(2026, 11, 1, 0, 0) // 08:00 in Shanghai, an hour boundary
const MIN = 60_000
const water = (deviceId: string, at: number, totalM3: number, flowLpm: number | null = null): Sample => ({ householdId: 'hh', deviceId, kind: 'water', at, value: totalM3, value2: flowLpm })
const presence = (deviceId: string, at: number, occupied: boolean, motion: boolean): Sample => ({ householdId: 'hh', deviceId, kind: 'presence', at, value: occupied ? 1 : 0, value2: motion ? 1 : 0 })
const battery = (deviceId: string, at: number, percent: number): Sample => ({ householdId: 'hh', deviceId, kind: 'battery', at, value: percent, value2: null })

describe('water per hour', () => {
  it('spreads the difference between two readings over the hours between them', () => {
    // 30 litres between 00:30 and 01:30: 15 in each hour.
    const hours = waterPerHour([water('wm', T0 + 30 * MIN, 100), water('wm', T0 + 90 * MIN, 100.03)], T0, T0 + 2 * HOUR_MS)
    expect(hours).toEqual([
      { at: T0, litres: 15 },
      { at: T0 + HOUR_MS, litres: 15 },
      { at: T0 + 2 * HOUR_MS, litres: null },
    ])
  })

  it('says null, not zero, for hours no reading covers, and zero for covered hours without use', () => {
    const hours = waterPerHour([water('wm', T0 + HOUR_MS, 5), water('wm', T0 + 2 * HOUR_MS, 5)], T0, T0 + 3 * HOUR_MS)
    expect(hours.map((h) => h.litres)).toEqual([null, 0, null, null])
  })

  it('counts a register that went back (meter replaced or rolled over) as no usage', () => {
    const hours = waterPerHour([water('wm', T0, 9999.99), water('wm', T0 + 30 * MIN, 0.01), water('wm', T0 + 50 * MIN, 0.02)], T0, T0)
    expect(hours).toEqual([{ at: T0, litres: 10 }])
  })

  it('adds the meters of one household together', () => {
    const hours = waterPerHour([water('a', T0, 1), water('a', T0 + 40 * MIN, 1.002), water('b', T0 + 10 * MIN, 7), water('b', T0 + 20 * MIN, 7.001)], T0, T0)
    expect(hours).toEqual([{ at: T0, litres: 3 }])
  })

  it('keeps only the part of a long interval that falls inside the window', () => {
    // 48 litres over 48 h, window is the last 2 h of it.
    const hours = waterPerHour([water('wm', T0 - 46 * HOUR_MS, 0), water('wm', T0 + 2 * HOUR_MS, 0.048)], T0, T0 + HOUR_MS + 1)
    expect(hours).toEqual([{ at: T0, litres: 1 }, { at: T0 + HOUR_MS, litres: 1 }])
  })

  it('gives one entry per hour of a 7-day window', () => {
    const to = T0 + 7 * 24 * HOUR_MS
    expect(waterPerHour([], T0, to)).toHaveLength(7 * 24 + 1)
  })
})

describe('presence spans', () => {
  it('holds each reading until the next, merging equal states, and clips to the window', () => {
    const spans = presenceSpans(
      [presence('pr', T0 - 5 * MIN, true, true), presence('pr', T0 + 5 * MIN, true, true), presence('pr', T0 + 10 * MIN, true, false), presence('pr', T0 + 15 * MIN, false, false)],
      T0,
      T0 + 30 * MIN,
    )
    expect(spans.get('pr')).toEqual([
      { from: T0, to: T0 + 10 * MIN, state: 'motion' },
      { from: T0 + 10 * MIN, to: T0 + 15 * MIN, state: 'occupied' },
      { from: T0 + 15 * MIN, to: T0 + 30 * MIN, state: 'empty' },
    ])
  })

  it('leaves a gap, not "empty", when the sensor falls silent for longer than two report intervals', () => {
    const spans = presenceSpans([presence('pr', T0, false, false), presence('pr', T0 + 2 * HOUR_MS, true, true)], T0, T0 + 3 * HOUR_MS)
    expect(spans.get('pr')).toEqual([
      { from: T0, to: T0 + PRESENCE_STALE_MS, state: 'empty' },
      { from: T0 + 2 * HOUR_MS, to: T0 + 2 * HOUR_MS + PRESENCE_STALE_MS, state: 'motion' },
    ])
  })

  it('keeps rooms apart', () => {
    const spans = presenceSpans([presence('bath', T0, true, false), presence('bed', T0, true, true)], T0, T0 + MIN)
    expect(spans.get('bath')).toEqual([{ from: T0, to: T0 + MIN, state: 'occupied' }])
    expect(spans.get('bed')).toEqual([{ from: T0, to: T0 + MIN, state: 'motion' }])
  })
})

describe('battery points', () => {
  it('keeps the last reading of each hour per device', () => {
    const points = batteryPoints([battery('btn', T0, 81), battery('btn', T0 + 10 * MIN, 80), battery('btn', T0 + HOUR_MS, 79), battery('wm', T0, 50)])
    expect(points.get('btn')).toEqual([[T0 + 10 * MIN, 80], [T0 + HOUR_MS, 79]])
    expect(points.get('wm')).toEqual([[T0, 50]])
  })
})

describe('last water use', () => {
  it('is the newest reading whose register grew, or that reports flow', () => {
    const newestFirst = [water('wm', T0 + 3 * HOUR_MS, 10.5), water('wm', T0 + 2 * HOUR_MS, 10.5), water('wm', T0 + HOUR_MS, 10.5), water('wm', T0, 10.4)].sort((a, b) => b.at - a.at)
    expect(lastWaterUse(newestFirst)).toBe(T0 + HOUR_MS)
    expect(lastWaterUse([water('wm', T0 + 4 * HOUR_MS, 10.5, 6), ...newestFirst])).toBe(T0 + 4 * HOUR_MS)
  })

  it('is null when nothing ran in what was kept, and a register that went back is not use', () => {
    expect(lastWaterUse([water('wm', T0 + HOUR_MS, 0.01), water('wm', T0, 9999)])).toBeNull()
    expect(lastWaterUse([])).toBeNull()
  })
})
