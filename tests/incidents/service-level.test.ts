/**
 * Today's service level, pure (src/incidents/service-level.ts), on a virtual clock: an emergency
 * still unanswered past 60 s is a miss while it waits; only an operator's acknowledgement answers.
 */
import { describe, expect, it } from 'vitest'
import type { Incident } from '../../src/incidents/model.js'
import { serviceLevel } from '../../src/incidents/service-level.js'
import { virtualClock } from '../../src/shared/clock.js'

const DAY_START = Date.UTC(2026, 0, 1) - 8 * 3_600_000 // local midnight, Asia/Shanghai
const S = 1000
type Row = Pick<Incident, 'type' | 'state' | 'openedAt' | 'acknowledgedAt' | 'acknowledgedBy'>
const sos = (o: Partial<Row> = {}): Row => ({ type: 'sos', state: 'open', openedAt: DAY_START + 3_600_000, acknowledgedAt: null, acknowledgedBy: null, ...o })
const acked = (openedAt: number, waitS: number, o: Partial<Row> = {}): Row =>
  sos({ state: 'acknowledged', openedAt, acknowledgedAt: openedAt + waitS * S, acknowledgedBy: 'user:op-a', ...o })

describe('service level', () => {
  it('counts an unanswered emergency as a miss once it is past 60 s, before anyone acknowledges it', () => {
    const clock = virtualClock(DAY_START + 3_600_000)
    const opened = clock.now()
    const list = [acked(opened - 600 * S, 20), sos({ openedAt: opened })]
    const level = () => serviceLevel(list, { now: clock.now(), dayStart: DAY_START })

    clock.advance(60 * S) // exactly at the target: not late yet
    expect(level()).toMatchObject({ counted: 1, missed: 0, overdueNow: 0, within60sShare: 1, meetsBenchmark: true })
    clock.advance(1 * S)
    expect(level()).toMatchObject({ open: 1, counted: 2, missed: 1, overdueNow: 1, within60sShare: 0.5, meetsBenchmark: false, acknowledgedToday: 1 })
    // its wait so far counts in the percentiles
    expect(level().p90AckS).toBe(61)
    clock.advance(534 * S)
    expect(level().p90AckS).toBe(595)
  })

  it('keeps a late answer a miss after it is acknowledged, and a prompt one a hit', () => {
    const t = DAY_START + 7_200_000
    const level = serviceLevel([acked(t, 30), acked(t, 59), acked(t, 594)], { now: t + 3_600_000, dayStart: DAY_START })
    expect(level).toMatchObject({ counted: 3, missed: 1, overdueNow: 0, acknowledgedToday: 3, medianAckS: 59, p90AckS: 594, meetsBenchmark: false })
    expect(level.within60sShare).toBeCloseTo(2 / 3)
  })

  it("does not take a family member's answer for an operator's", () => {
    const t = DAY_START + 7_200_000
    const level = serviceLevel([sos({ state: 'acknowledged', openedAt: t, acknowledgedAt: t + 5 * S, acknowledgedBy: 'family:李明' })], { now: t + 120 * S, dayStart: DAY_START })
    expect(level).toMatchObject({ acknowledgedToday: 0, counted: 1, missed: 1, overdueNow: 1, within60sShare: 0 })
  })

  it('leaves care tasks out of the 60 s share, and yesterday’s answers out of today', () => {
    const t = DAY_START + 7_200_000
    const level = serviceLevel(
      [
        sos({ type: 'inactivity', openedAt: t - 3_600_000 }), // a care task waiting an hour: not an alarm call
        acked(DAY_START - 3_600_000, 300), // answered late yesterday
        acked(t, 10, { type: 'device_offline' }),
      ],
      { now: t, dayStart: DAY_START },
    )
    expect(level).toMatchObject({ open: 1, acknowledgedToday: 1, counted: 0, missed: 0, within60sShare: null, meetsBenchmark: null, medianAckS: null })
  })

  it('ignores a resolved emergency that was never acknowledged by an operator', () => {
    const t = DAY_START + 7_200_000
    expect(serviceLevel([sos({ state: 'resolved', openedAt: t })], { now: t + 600 * S, dayStart: DAY_START })).toMatchObject({ counted: 0, overdueNow: 0 })
  })
})
