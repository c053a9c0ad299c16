/** The risk-driven visit frequency (visits/frequency.ts) and the month's due days (visits/month.ts). */
import { describe, expect, it } from 'vitest'
import { planReason, visitFrequency, VISIT_RULES } from '../../src/visits/frequency.js'
import { localMonth, monthBounds, shiftMonth } from '../../src/detectors/local-time.js'
import { dueDays, localDate, localDaysBetween, spreadOf } from '../../src/visits/month.js'

const none = { age: 70, wellbeingIncidents: 0, offlineIncidents: 0 }
const TZ = 'Asia/Shanghai'

describe('visit frequency', () => {
  it('is monthly for a household with no risk, with the monthly reason', () => {
    const f = visitFrequency(none)
    expect(f).toEqual({ perMonth: 1, reasons: [] })
    expect(planReason(f)).toEqual({ zh: '每月例行探访', en: 'monthly visit' })
    expect(visitFrequency({ ...none, age: null }).perMonth).toBe(1)
  })

  it('adds a visit for a recent wellbeing incident, two for three or more', () => {
    expect(visitFrequency({ ...none, wellbeingIncidents: 1 }).perMonth).toBe(2)
    expect(visitFrequency({ ...none, wellbeingIncidents: 2 }).perMonth).toBe(2)
    const many = visitFrequency({ ...none, wellbeingIncidents: 3 })
    expect(many.perMonth).toBe(3)
    expect(many.reasons).toEqual([{ zh: '近 60 天有 3 次安康异常', en: '3 wellbeing incident(s) in the last 60 days' }])
  })

  it('adds a visit when devices are often offline, not for a single outage', () => {
    expect(visitFrequency({ ...none, offlineIncidents: 1 }).perMonth).toBe(1)
    expect(visitFrequency({ ...none, offlineIncidents: 2 })).toEqual({ perMonth: 2, reasons: [{ zh: '近 60 天设备离线 2 次', en: 'devices offline 2 times in the last 60 days' }] })
  })

  it('adds a visit from age 80, living alone, not at 79', () => {
    expect(visitFrequency({ ...none, age: 79 }).perMonth).toBe(1)
    expect(visitFrequency({ ...none, age: 80 })).toEqual({ perMonth: 2, reasons: [{ zh: '80 岁独居', en: 'aged 80, living alone' }] })
  })

  it('adds the reasons up, capped at weekly, and says every reason', () => {
    const f = visitFrequency({ age: 91, wellbeingIncidents: 4, offlineIncidents: 5 })
    expect(f.perMonth).toBe(VISIT_RULES.maxPerMonth)
    expect(f.reasons).toHaveLength(3)
    expect(planReason(f).zh).toBe('每月 4 次:近 60 天有 4 次安康异常;近 60 天设备离线 5 次;91 岁独居')
    expect(visitFrequency({ age: 85, wellbeingIncidents: 1, offlineIncidents: 0 }).perMonth).toBe(3)
  })

  it('follows other rules when given', () => {
    expect(visitFrequency({ ...none, age: 75 }, { ...VISIT_RULES, aloneAge: 75, basePerMonth: 2 }).perMonth).toBe(3)
  })
})

describe('local months and due days', () => {
  // 2026-03-31 20:00 UTC is 2026-04-01 04:00 in Shanghai.
  const lateMarchUtc = Date.UTC(2026, 2, 31, 20)

  it('reads the local month, its bounds and neighbours', () => {
    expect(localMonth(lateMarchUtc, TZ)).toBe('2026-04')
    expect(localMonth(lateMarchUtc, 'UTC')).toBe('2026-03')
    expect(localDate(lateMarchUtc, TZ)).toBe('2026-04-01')
    expect(monthBounds('2026-04', TZ)).toEqual({ start: Date.UTC(2026, 2, 31, 16), end: Date.UTC(2026, 3, 30, 16) })
    expect(shiftMonth('2026-01', -1)).toBe('2025-12')
    expect(shiftMonth('2026-12', 1)).toBe('2027-01')
    expect(localDaysBetween(Date.UTC(2026, 3, 1, 15, 59), Date.UTC(2026, 3, 1, 16, 1), TZ)).toBe(1)
  })

  it('spreads visits over the month, one per equal part, each at a local midnight', () => {
    const { start, end } = monthBounds('2026-04', TZ)
    const due = dueDays({ from: start, end, count: 4, spread: 0, timeZone: TZ })
    expect(due.map((d) => Math.round((d - start) / 86_400_000))).toEqual([0, 7, 15, 22])
    const late = dueDays({ from: start, end, count: 2, spread: 0.999, timeZone: TZ })
    expect(late.map((d) => Math.round((d - start) / 86_400_000))).toEqual([14, 29])
    for (const d of [...due, ...late]) expect(d).toBeLessThan(end)
  })

  it('plans a household added mid-month over the days left, from today', () => {
    const { end } = monthBounds('2026-04', TZ)
    const midMonth = Date.UTC(2026, 3, 20, 3) // 20 April, 11:00 local
    const due = dueDays({ from: midMonth, end, count: 2, spread: 0, timeZone: TZ })
    expect(due[0]).toBe(Date.UTC(2026, 3, 19, 16)) // 20 April, local midnight
    expect(due[1]).toBeGreaterThan(due[0]!)
    expect(due[1]).toBeLessThan(end)
  })

  it('spreads households by a stable number in [0, 1)', () => {
    expect(spreadOf('hh-0001')).toBe(spreadOf('hh-0001'))
    const spreads = ['hh-0001', 'hh-0002', 'hh-0003', 'hh-0004'].map(spreadOf)
    for (const s of spreads) expect(s >= 0 && s < 1).toBe(true)
    expect(new Set(spreads).size).toBeGreaterThan(1)
  })
})
