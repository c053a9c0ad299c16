/** Declining activity (visits/activity.ts) on made-up daily series, and its place in the visit frequency. */
import { describe, expect, it } from 'vitest'
import { ACTIVITY_RULES, activityDays, decliningActivity, median, type ActivityDay } from '../../src/visits/activity.js'
import { planReason, visitFrequency } from '../../src/visits/frequency.js'
import type { DeviceDay } from '../../src/store/activity.js'
import { demoHistory } from '../../src/demo/history.js'
import { activityWindow, decliningHouseholds, deviceDaysOf } from '../../src/visits/activity.js'

const TODAY = 20_000
/** 42 days before today: `earlier` litres/motion for the first 28, `recent` for the last 14 (null: no data that day). */
function series(o: { water?: [number | null, number | null]; motion?: [number | null, number | null]; days?: number }): ActivityDay[] {
  const out: ActivityDay[] = []
  for (let k = o.days ?? 42; k >= 1; k--) {
    const recent = k <= 14 ? 1 : 0
    out.push({ day: TODAY - k, waterLitres: o.water ? o.water[recent === 1 ? 1 : 0] : null, motion: o.motion ? o.motion[recent === 1 ? 1 : 0] : null })
  }
  return out
}

describe('declining activity', () => {
  it('declines when the last two weeks use well under the four weeks before, and says the figures', () => {
    const t = decliningActivity(series({ water: [95, 38] }), TODAY)
    expect(t.declining).toBe(true)
    expect(t.reason).toEqual({
      zh: '活动减少:近两周每天用水约 38 升,此前 4 周约 95 升',
      en: 'activity declining: water about 38 L a day in the last two weeks, 95 L in the 4 weeks before',
    })
  })

  it('is steady at 60 % of the earlier level, declining just under it', () => {
    expect(decliningActivity(series({ water: [100, 60] }), TODAY).declining).toBe(false)
    expect(decliningActivity(series({ water: [100, 59.9] }), TODAY).declining).toBe(true)
    const steady = decliningActivity(series({ water: [100, 95] }), TODAY)
    expect(steady).toMatchObject({ declining: false, reason: { zh: '活动未见减少:近两周每天用水约 95 升,此前 4 周约 100 升' } })
  })

  it('declines on one signal of two, naming only that one', () => {
    const t = decliningActivity(series({ water: [90, 88], motion: [120, 30] }), TODAY)
    expect(t.declining).toBe(true)
    expect(t.reason.zh).toBe('活动减少:近两周每天活动约 30 次,此前 4 周约 120 次')
    expect(t.signals.map((s) => [s.signal, s.declining])).toEqual([['water', false], ['motion', true]])
  })

  it('takes medians: a few extreme days move nothing', () => {
    const days = series({ water: [100, 95] })
    // Three days away (nothing drawn, the meter still reporting) and one leaky day in the recent two weeks.
    for (const k of [1, 2, 3]) days[days.length - k]!.waterLitres = 0
    days[days.length - 5]!.waterLitres = 1900
    expect(decliningActivity(days, TODAY).declining).toBe(false)
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNull()
  })

  it('leaves out days without data: an offline week is not a decline', () => {
    const days = series({ water: [100, 95] })
    // The meter offline for most of the last two weeks: 7 days left, the rest no data.
    for (let k = 1; k <= 7; k++) days[days.length - k]!.waterLitres = null
    expect(decliningActivity(days, TODAY)).toMatchObject({ declining: false, signals: [{ signal: 'water', recentDays: 7, earlierDays: 28 }] })
  })

  it('says so when there is no data or too little', () => {
    expect(decliningActivity([], TODAY)).toMatchObject({ declining: false, reason: { zh: '没有用水或活动读数,无法判断活动是否减少' } })
    // A week of readings (a household installed lately), however low.
    const week = decliningActivity(series({ water: [100, 10], days: 7 }), TODAY)
    expect(week.declining).toBe(false)
    expect(week.reason.zh).toBe('读数天数不足(用水近两周 7 天、此前 0 天),无法判断活动是否减少')
    // Nine earlier days is too few; ten count (a history kept 30 days gives about 15).
    expect(decliningActivity(series({ water: [100, 10], days: 23 }), TODAY).declining).toBe(false)
    const ten = decliningActivity(series({ water: [100, 10], days: 24 }), TODAY)
    expect(ten.declining).toBe(true)
    expect(ten.reason.zh).toBe('活动减少:近两周每天用水约 10 升,此前 10 天约 100 升')
  })

  it('counts no fall from a level too low to mean anything, and ignores today and older days', () => {
    expect(decliningActivity(series({ water: [15, 3] }), TODAY).declining).toBe(false)
    expect(decliningActivity(series({ motion: [8, 1] }), TODAY).declining).toBe(false)
    // Today (half over) and days before the six weeks are not read.
    const days = [...series({ water: [100, 95] }), { day: TODAY, waterLitres: 0, motion: null }, { day: TODAY - 43, waterLitres: 10_000, motion: null }]
    expect(decliningActivity(days, TODAY).signals[0]).toMatchObject({ recentDays: 14, earlierDays: 28, recent: 95, earlier: 100 })
  })
})

describe('daily activity from device days', () => {
  const HOUR = 3_600_000
  const dd = (o: Partial<DeviceDay>): DeviceDay => ({ householdId: 'h1', deviceId: 'm1', kind: 'water', day: TODAY - 1, readings: 24, hours: 24, firstAt: 0, lastAt: 23 * HOUR, low: 100, high: 100.09, motion: 0, ...o })

  it('sums meters and presence sensors per household and day, in litres and motion readings', () => {
    const days = activityDays([
      dd({}),
      dd({ deviceId: 'm2', low: 5, high: 5.01 }),
      dd({ deviceId: 's1', kind: 'presence', hours: 24, motion: 40 }),
      dd({ deviceId: 's2', kind: 'presence', hours: 20, motion: 10 }),
      dd({ householdId: 'h2', day: TODAY - 2 }),
    ])
    expect(days.get('h1')).toEqual([{ day: TODAY - 1, waterLitres: expect.closeTo(100, 6), motion: 50 }])
    expect(days.get('h2')).toEqual([{ day: TODAY - 2, waterLitres: expect.closeTo(90, 6), motion: null }])
  })

  it('leaves out a day a device was heard for only part of, and a replaced meter', () => {
    const days = activityDays([
      dd({ lastAt: 10 * HOUR }),
      dd({ day: TODAY - 2, low: 0, high: 1234.5 }),
      dd({ day: TODAY - 3, lastAt: 18 * HOUR, readings: 4, hours: 4 }),
      dd({ deviceId: 's1', kind: 'presence', hours: 17, motion: 40 }),
    ])
    expect(days.get('h1')).toEqual([
      { day: TODAY - 3, waterLitres: expect.closeTo(90, 6), motion: null },
      { day: TODAY - 2, waterLitres: null, motion: null },
      { day: TODAY - 1, waterLitres: null, motion: null },
    ])
    expect(ACTIVITY_RULES.waterSpanMs).toBe(16 * HOUR)
  })
})

describe('declining activity in the visit frequency', () => {
  it('adds one visit with its reason, within the cap', () => {
    const reason = decliningActivity(series({ water: [95, 38] }), TODAY).reason
    const f = visitFrequency({ age: 70, wellbeingIncidents: 0, offlineIncidents: 0, decliningActivity: reason })
    expect(f).toEqual({ perMonth: 2, reasons: [reason] })
    expect(planReason(f).zh).toBe('每月 2 次:活动减少:近两周每天用水约 38 升,此前 4 周约 95 升')
    expect(visitFrequency({ age: 70, wellbeingIncidents: 0, offlineIncidents: 0, decliningActivity: null }).perMonth).toBe(1)
    expect(visitFrequency({ age: 90, wellbeingIncidents: 5, offlineIncidents: 0, decliningActivity: reason }).perMonth).toBe(4)
  })
})

describe("the demo's readings", () => {
  it('count as days of water and motion, and a week is too short to say whether activity declined', () => {
    const now = Date.UTC(2026, 2, 20, 2)
    const samples = demoHistory({ householdId: 'hh-0001', n: 1, meter: 'wm-0001', sensor: 'pr-0001', button: 'btn-0001' }, now)
    const w = activityWindow(now, 'Asia/Shanghai')
    const rows = deviceDaysOf(samples, w.from, w.to, w.offsetMs)
    const days = activityDays(rows).get('hh-0001')!
    // Seven days back from 10:00: the first one partial, six whole days of each signal.
    expect(days.filter((d) => d.waterLitres !== null)).toHaveLength(6)
    expect(days.filter((d) => d.motion !== null)).toHaveLength(6)
    expect(decliningActivity(days, w.today).reason.zh).toBe('读数天数不足(用水近两周 6 天、此前 0 天;活动近两周 6 天、此前 0 天),无法判断活动是否减少')
    expect(decliningHouseholds(rows, w.today).size).toBe(0)
  })
})
