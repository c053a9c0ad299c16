import { describe, expect, it } from 'vitest'
import { MINUTE, type EvalContext } from '../../src/detectors/context.js'
import type { Condition, Evaluation } from '../../src/detectors/model.js'
import { resolveSettings, type DetectorOverride } from '../../src/detectors/settings.js'
import {
  applyWaterReading,
  evaluateWater,
  initialWaterState,
  nextWaterCheck,
  type WaterReading,
  type WaterState,
} from '../../src/detectors/water.js'

const H = 60 * MINUTE
/** 2024-11-21 00:00 in Asia/Shanghai (16:00 UTC the day before): monitoring starts here. */
const T0 = Date.UTC(2024, 10, 20, 16)
const KEYS = ['no_water', 'no_water_day', 'high_water', 'leak', 'continuous_flow'] as const
type Key = (typeof KEYS)[number]
type Status = Evaluation['status']

const ctx = (now: number, over?: DetectorOverride, observedFrom = T0): EvalContext => ({
  now,
  settings: resolveSettings(over),
  observedFrom,
  devices: {},
})

interface ReadOptions {
  flowLpm?: number
  meter?: string
}

/** A household on virtual time: feed readings in time order, then ask what holds at an instant. */
class Household {
  state: WaterState = initialWaterState()
  private readonly registers = new Map<string, number>()

  constructor(
    readonly over: DetectorOverride = {},
    readonly observedFrom = T0,
  ) {}

  ctx(now: number): EvalContext {
    return ctx(now, this.over, this.observedFrom)
  }

  /** A reading showing the register as given. */
  read(at: number, totalM3: number, o: ReadOptions = {}): this {
    const deviceId = o.meter ?? 'w-1'
    this.state = applyWaterReading(this.state, { deviceId, at, totalM3, flowLpm: o.flowLpm }, this.ctx(at))
    this.registers.set(deviceId, totalM3)
    return this
  }

  /** A reading after `m3` more has been used (a meter first seen shows 100 m³). */
  use(at: number, m3: number, o: ReadOptions = {}): this {
    const register = this.registers.get(o.meter ?? 'w-1') ?? 100
    return this.read(at, Math.round((register + m3) * 1e6) / 1e6, o)
  }

  /** Readings every `everyMin` from `from` to `to` inclusive, each after `m3` more has been used. */
  report(from: number, to: number, everyMin: number, m3 = 0, o: ReadOptions = {}): this {
    for (let t = from; t <= to; t += everyMin * MINUTE) this.use(t, m3, o)
    return this
  }

  statuses(now: number): Record<Key, Status> {
    return Object.fromEntries(evaluateWater(this.state, this.ctx(now)).map((e) => [e.key, e.status])) as Record<Key, Status>
  }

  status(now: number, key: Key): Status {
    return this.statuses(now)[key]
  }

  condition(now: number, key: Key): Condition {
    const e = evaluateWater(this.state, this.ctx(now)).find((x) => x.key === key)
    if (e?.status !== 'true') throw new Error(`${key} is ${e?.status} at T0+${(now - T0) / H} h`)
    return e.condition
  }

  next(now: number): number | null {
    return nextWaterCheck(this.state, this.ctx(now))
  }
}

describe('water detector: evaluations', () => {
  it('answers every water rule, every time, even before any reading', () => {
    const evaluations = evaluateWater(initialWaterState(), ctx(T0))
    expect(evaluations.map((e) => e.key)).toEqual([...KEYS])
    expect(evaluations.every((e) => e.status === 'unknown')).toBe(true)
    expect(nextWaterCheck(initialWaterState(), ctx(T0))).toBeNull()
  })
})

describe('no_water (Changning: under 0.01 m³ in a rolling 12 h)', () => {
  it('raises no_water when less than 0.01 m³ is used in 12 h', () => {
    const h = new Household().report(T0, T0 + 6 * H, 30).use(T0 + 6.5 * H, 0.003).report(T0 + 7 * H, T0 + 12 * H, 30)
    const c = h.condition(T0 + 12 * H, 'no_water')
    expect(c.key).toBe('no_water')
    expect(c.kind).toBe('no_water')
    expect(c.explanation).toEqual({
      zh: '12 小时用水 0.003 m³,低于 0.01 m³ 阈值',
      en: '0.003 m³ used in 12 h, below the 0.01 m³ threshold',
    })
    expect(c.data).toMatchObject({ usedM3: 0.003, thresholdM3: 0.01, windowMin: 720 })
  })

  it('does not raise no_water when exactly 0.01 m³ is used in 12 h', () => {
    const h = new Household().report(T0, T0 + 6 * H, 30).use(T0 + 6.5 * H, 0.01).report(T0 + 7 * H, T0 + 12 * H, 30)
    expect(h.status(T0 + 12 * H, 'no_water')).toBe('false')
  })

  it('says nothing is true before 12 h of observation, however dry', () => {
    const h = new Household()
    for (let t = T0; t < T0 + 12 * H; t += 30 * MINUTE) {
      h.use(t, 0)
      expect(h.status(t, 'no_water')).toBe('unknown')
    }
    h.use(T0 + 12 * H, 0)
    expect(h.status(T0 + 12 * H, 'no_water')).toBe('true')
  })

  it('counts 12 h from the end of away mode, not from the first reading', () => {
    const h = new Household({}, T0 + 2 * H).report(T0, T0 + 14 * H, 30)
    expect(h.status(T0 + 13 * H, 'no_water')).toBe('unknown')
    expect(h.status(T0 + 14 * H, 'no_water')).toBe('true')
  })

  it('clears (false) as soon as usage is seen, even before the window is fully observed', () => {
    const h = new Household().report(T0, T0 + 2 * H, 30, 0.01)
    expect(h.status(T0 + 2 * H, 'no_water')).toBe('false')
  })

  it('treats a reporting gap with the register unchanged across it as real no usage', () => {
    const h = new Household().read(T0, 100).read(T0 + 12 * H, 100)
    expect(h.status(T0 + 12 * H, 'no_water')).toBe('true')
  })

  it('says unknown, never true, when the meter falls silent', () => {
    const h = new Household().report(T0, T0 + 3 * H, 30)
    for (let t = T0 + 3 * H; t <= T0 + 40 * H; t += 10 * MINUTE) expect(h.status(t, 'no_water')).not.toBe('true')
    expect(h.status(T0 + 20 * H, 'no_water')).toBe('unknown')
  })

  it('holds with data 120 min old and turns unknown just after', () => {
    const h = new Household().report(T0, T0 + 12 * H, 30)
    expect(h.status(T0 + 14 * H, 'no_water')).toBe('true')
    expect(h.status(T0 + 14 * H + 1, 'no_water')).toBe('unknown')
    expect(h.next(T0 + 12 * H)).toBe(T0 + 14 * H + 1)
  })

  it('spreads usage between two readings evenly over the time between them', () => {
    // 0.02 m³ over two hours: 0.01 m³ in each hour. At T0+13 h the window still holds one full hour of it.
    const h = new Household().read(T0, 100).read(T0 + 2 * H, 100.02).report(T0 + 3 * H, T0 + 13 * H, 60)
    expect(h.status(T0 + 13 * H, 'no_water')).toBe('false')
    // Half an hour on, a reading shows no more use: the window [1.5 h, 13.5 h] holds half of that hour.
    h.use(T0 + 13.5 * H, 0)
    expect(h.condition(T0 + 13.5 * H, 'no_water').explanation.en).toBe('0.005 m³ used in 12 h, below the 0.01 m³ threshold')
  })

  it('never counts time the meter has not reported yet as no use (contract v1.1: interval-only meters)', () => {
    // An hourly meter: at 13:58 the window would hold no use if the silent 58 minutes counted as zero.
    const h = new Household().read(T0, 100).read(T0 + 2 * H, 100.02).report(T0 + 3 * H, T0 + 13 * H, 60)
    for (let t = T0 + 13 * H; t < T0 + 14 * H; t += 5 * MINUTE) expect(h.status(t, 'no_water')).toBe('false')
    // The next report shows a flush drawn meanwhile: still false, as it always was.
    h.use(T0 + 14 * H, 0.01)
    expect(h.status(T0 + 14 * H, 'no_water')).toBe('false')
    // A report that shows nothing drawn decides it; an explanation read later says which reading it rests on.
    const dry = new Household().read(T0, 100).read(T0 + 2 * H, 100.02).report(T0 + 3 * H, T0 + 14 * H, 60)
    expect(dry.condition(T0 + 14 * H + 20 * MINUTE, 'no_water').explanation.zh).toMatch(/^12 小时用水 0 m³,低于 0.01 m³ 阈值\(截至 \d\d:\d\d 的水表读数\)$/)
    expect(dry.condition(T0 + 14 * H + 20 * MINUTE, 'no_water').data).toMatchObject({ to: T0 + 14 * H })
  })

  it('never shows a figure that reads as the threshold itself', () => {
    const h = new Household().read(T0, 100).read(T0 + 2 * H, 100.02).report(T0 + 3 * H, T0 + 13 * H, 60).use(T0 + 13 * H + 72_000, 0)
    // 0.0098 m³ left in the window: rounded to 0.01 it would read "0.01 m³, below the 0.01 m³ threshold".
    expect(h.condition(T0 + 13 * H + 72_000, 'no_water').explanation.zh).toBe('12 小时用水 0.009 m³,低于 0.01 m³ 阈值')
  })

  it('clears when water runs again', () => {
    const h = new Household().report(T0, T0 + 12 * H, 30)
    expect(h.status(T0 + 12 * H, 'no_water')).toBe('true')
    h.use(T0 + 12.5 * H, 0.02)
    expect(h.status(T0 + 12.5 * H, 'no_water')).toBe('false')
  })
})

describe('no_water_day (Jing’an: a local calendar day under 0.01 m³)', () => {
  it('raises no_water_day for a dry Shanghai day once a reading at midnight closes it', () => {
    const h = new Household().report(T0, T0 + 9 * H, 60).use(T0 + 10 * H, 0.002).report(T0 + 11 * H, T0 + 24 * H, 60)
    const c = h.condition(T0 + 24 * H, 'no_water_day')
    expect(c.explanation).toEqual({
      zh: '11月21日全天用水 0.002 m³,低于 0.01 m³ 阈值',
      en: '0.002 m³ used on 21 Nov, below the 0.01 m³ threshold',
    })
    expect(c.data).toMatchObject({ date: '2024-11-21', usedM3: 0.002, from: T0, to: T0 + 24 * H })
  })

  it('turns at the Asia/Shanghai midnight, 16:00 UTC', () => {
    const h = new Household().report(T0, T0 + 24 * H, 60)
    // 15:59:59.999 UTC on 21 Nov is still 21 Nov in Shanghai: the completed day is 20 Nov, not observed.
    expect(h.status(T0 + 24 * H - 1, 'no_water_day')).toBe('unknown')
    expect(h.status(T0 + 24 * H, 'no_water_day')).toBe('true')
    expect(h.next(T0 + 24 * H - 1)).toBe(T0 + 24 * H)
  })

  it('waits for a reading at or after the midnight that ends the day', () => {
    const h = new Household().report(T0, T0 + 23 * H, 60)
    expect(h.status(T0 + 24 * H + 10 * MINUTE, 'no_water_day')).toBe('unknown')
    h.use(T0 + 24 * H + 20 * MINUTE, 0)
    expect(h.status(T0 + 24 * H + 20 * MINUTE, 'no_water_day')).toBe('true')
  })

  it('needs a reading at or before the day starts', () => {
    const h = new Household().report(T0 + H, T0 + 24 * H, 60)
    expect(h.status(T0 + 24 * H, 'no_water_day')).toBe('unknown')
  })

  it('counts usage at 23:30 local (15:30 UTC) in that day', () => {
    const h = new Household().report(T0, T0 + 23.5 * H, 30).use(T0 + 24 * H, 0.05)
    expect(h.status(T0 + 24 * H, 'no_water_day')).toBe('false')
  })

  it('counts usage at 00:30 local (16:30 UTC) in the next day, where it clears the dry day', () => {
    const h = new Household().report(T0, T0 + 24 * H, 30)
    expect(h.status(T0 + 24 * H, 'no_water_day')).toBe('true')
    h.use(T0 + 24.5 * H, 0.05)
    expect(h.status(T0 + 24.5 * H, 'no_water_day')).toBe('false')
  })

  it('stays raised until 0.01 m³ has run again, and rises again on the next dry day', () => {
    const h = new Household().report(T0, T0 + 24 * H, 60)
    expect(h.status(T0 + 24 * H, 'no_water_day')).toBe('true')
    h.report(T0 + 25 * H, T0 + 29 * H, 60).use(T0 + 30 * H, 0.005)
    expect(h.status(T0 + 30 * H, 'no_water_day')).toBe('true')
    h.report(T0 + 31 * H, T0 + 35 * H, 60).use(T0 + 36 * H, 0.005)
    expect(h.status(T0 + 36 * H, 'no_water_day')).toBe('false')
    h.report(T0 + 37 * H, T0 + 48 * H, 60)
    expect(h.status(T0 + 48 * H, 'no_water_day')).toBe('false') // 22 Nov used 0.01 m³: not under
    h.report(T0 + 49 * H, T0 + 72 * H, 60)
    expect(h.condition(T0 + 72 * H, 'no_water_day').explanation.zh).toBe('11月23日全天用水 0 m³,低于 0.01 m³ 阈值')
  })

  it('follows the household time zone', () => {
    const h = new Household({ timeZone: 'UTC' }).report(T0, T0 + 32 * H, 60)
    // In UTC the day that ended at T0+24 h (16:00 UTC) is not over yet; 20 Nov UTC began before observation.
    expect(h.status(T0 + 24 * H, 'no_water_day')).toBe('unknown')
    expect(h.condition(T0 + 32 * H, 'no_water_day').data).toMatchObject({ date: '2024-11-21', from: Date.UTC(2024, 10, 21) })
  })

  it('says false when the day rule is switched off', () => {
    const h = new Household({ water: { noUsageDayEnabled: false } }).report(T0, T0 + 24 * H, 60)
    expect(h.status(T0 + 24 * H, 'no_water_day')).toBe('false')
  })
})

describe('high_water (more than 2 m³ in a rolling 24 h)', () => {
  it('raises high_water when more than 2 m³ is used in 24 h', () => {
    const h = new Household().report(T0, T0 + 24 * H, 60, 0.1)
    expect(h.condition(T0 + 24 * H, 'high_water').explanation).toEqual({
      zh: '24 小时用水 2.4 m³,超过 2 m³ 阈值',
      en: '2.4 m³ used in 24 h, above the 2 m³ threshold',
    })
  })

  it('does not raise high_water at exactly 2 m³', () => {
    const h = new Household().report(T0, T0 + 20 * H, 60, 0.1).report(T0 + 21 * H, T0 + 24 * H, 60)
    expect(h.status(T0 + 24 * H, 'high_water')).toBe('false')
  })

  it('raises as soon as more than 2 m³ is seen, even before 24 h of observation', () => {
    const h = new Household().read(T0, 100).use(T0 + H, 1)
    expect(h.status(T0 + H, 'high_water')).toBe('unknown')
    h.use(T0 + 2 * H, 1.5)
    expect(h.status(T0 + 2 * H, 'high_water')).toBe('true')
  })

  it('clears when the heavy use slides out of the window, at the instant nextWaterCheck names', () => {
    const h = new Household().read(T0, 100).use(T0 + H, 1).use(T0 + 2 * H, 1.5).report(T0 + 3 * H, T0 + 24 * H, 60)
    expect(h.status(T0 + 24 * H, 'high_water')).toBe('true')
    // The first hour's 1 m³ is spread over that hour: by T0+24.5 h only 2 m³ is left in the window.
    const flip = h.next(T0 + 24 * H)!
    expect(flip).toBeGreaterThan(T0 + 24.5 * H - 5000)
    expect(flip).toBeLessThanOrEqual(T0 + 24.5 * H)
    expect(h.status(flip - 1, 'high_water')).toBe('true')
    expect(h.status(flip, 'high_water')).toBe('false')
  })
})

describe('leak (Longgang: water in every 30-minute slot for 24 h)', () => {
  it('raises leak with half-hourly reports that all show usage', () => {
    const h = new Household().report(T0, T0 + 24 * H, 30, 0.002)
    expect(h.condition(T0 + 24 * H, 'leak').explanation).toEqual({
      zh: '24 小时内每 30 分钟均有用水(共 0.096 m³,最少的一段 2.0 升),疑似漏水',
      en: 'Water used in every 30-minute slot for 24 h (0.096 m³ in all, at least 2.0 L per slot): a possible leak',
    })
  })

  it('raises leak with hourly reports: each hour’s usage fills both of its half-hours', () => {
    const h = new Household().report(T0, T0 + 24 * H, 60, 0.004)
    expect(h.status(T0 + 24 * H, 'leak')).toBe('true')
  })

  it('does not raise leak when one half-hour was dry, until that slot leaves the window', () => {
    const h = new Household().report(T0, T0 + 10 * H, 30, 0.002).use(T0 + 10.5 * H, 0).report(T0 + 11 * H, T0 + 24 * H, 30, 0.002)
    expect(h.status(T0 + 24 * H, 'leak')).toBe('false')
    h.report(T0 + 24.5 * H, T0 + 34 * H, 30, 0.002)
    expect(h.status(T0 + 34 * H, 'leak')).toBe('false')
    h.use(T0 + 34.5 * H, 0.002)
    expect(h.status(T0 + 34.5 * H, 'leak')).toBe('true')
  })

  it('does not raise leak when one hourly report shows no usage', () => {
    const h = new Household().report(T0, T0 + 10 * H, 60, 0.004).use(T0 + 11 * H, 0).report(T0 + 12 * H, T0 + 24 * H, 60, 0.004)
    expect(h.status(T0 + 24 * H, 'leak')).toBe('false')
  })

  it('says unknown before 24 h are observed and when the data is stale', () => {
    const h = new Household().report(T0, T0 + 23.5 * H, 30, 0.002)
    expect(h.status(T0 + 23.5 * H, 'leak')).toBe('unknown')
    h.use(T0 + 24 * H, 0.002)
    expect(h.status(T0 + 26 * H, 'leak')).toBe('true')
    expect(h.status(T0 + 26 * H + 1, 'leak')).toBe('unknown')
  })

  it('says false as soon as an observed half-hour is dry', () => {
    const h = new Household().report(T0, T0 + 2 * H, 30)
    expect(h.status(T0 + 2 * H, 'leak')).toBe('false')
  })
})

describe('continuous_flow (flow for more than 60 min)', () => {
  const flowing = () => new Household().read(T0, 100, { flowLpm: 0 }).use(T0 + H, 0.01, { flowLpm: 6 }).use(T0 + 1.5 * H, 0.18, { flowLpm: 6 })

  it('raises continuous_flow after more than 60 minutes of uninterrupted flow', () => {
    const h = flowing()
    expect(h.condition(T0 + 2.25 * H, 'continuous_flow').explanation).toEqual({
      zh: '持续用水 75 分钟(6.0 升/分钟)',
      en: 'Water flowing for 75 min (6.0 L/min)',
    })
  })

  it('does not raise at exactly 60 minutes, and nextWaterCheck wakes 1 ms later', () => {
    const h = flowing()
    expect(h.status(T0 + 2 * H, 'continuous_flow')).toBe('false')
    expect(h.next(T0 + 1.5 * H)).toBe(T0 + 2 * H + 1)
    expect(h.status(T0 + 2 * H + 1, 'continuous_flow')).toBe('true')
  })

  it('keeps flowing through a reading without flowLpm, and stops at a zero', () => {
    const h = new Household().read(T0, 100, { flowLpm: 0 }).use(T0 + H, 0.01, { flowLpm: 6 }).use(T0 + 1.5 * H, 0.18)
    expect(h.status(T0 + 2 * H + 1, 'continuous_flow')).toBe('true')
    h.use(T0 + 2.5 * H, 0.1, { flowLpm: 0 })
    expect(h.status(T0 + 2.5 * H, 'continuous_flow')).toBe('false')
  })

  it('counts flow only one report interval past the last reading, and says unknown when the data is stale', () => {
    const h = new Household().read(T0, 100, { flowLpm: 0 }).use(T0 + 0.5 * H, 0.01, { flowLpm: 6 }).use(T0 + H, 0.18, { flowLpm: 6 })
    // flow since 00:30, confirmed at 01:00 and trusted until 02:00: 90 min
    expect(h.status(T0 + 3 * H, 'continuous_flow')).toBe('true')
    expect(h.condition(T0 + 3 * H, 'continuous_flow').data.minutes).toBe(90)
    expect(h.status(T0 + 3 * H + 1, 'continuous_flow')).toBe('unknown')
    // a single flowing reading followed by silence never becomes a tap left open
    const silent = new Household().read(T0, 100, { flowLpm: 0 }).use(T0 + H, 0.01, { flowLpm: 6 })
    expect(silent.status(T0 + 2 * H + 1, 'continuous_flow')).toBe('false')
  })

  it('leaves a drip or a slow leak (1 l/min or less) to the leak rule, and a tap turned down to a drip stops the flow', () => {
    const drip = new Household().read(T0, 100, { flowLpm: 0 }).use(T0 + H, 0.01, { flowLpm: 1 }).use(T0 + 1.5 * H, 0.03, { flowLpm: 0.4 })
    expect(drip.status(T0 + 2.5 * H, 'continuous_flow')).toBe('false')
    const turnedDown = flowing().use(T0 + 1.75 * H, 0.05, { flowLpm: 0.5 })
    expect(turnedDown.status(T0 + 2.25 * H, 'continuous_flow')).toBe('false')
    // A community that wants even a trickle flagged lowers the line.
    const strict = new Household({ water: { continuousFlowAboveLpm: 0 } }).read(T0, 100, { flowLpm: 0 }).use(T0 + H, 0.01, { flowLpm: 0.4 }).use(T0 + 1.5 * H, 0.03, { flowLpm: 0.4 })
    expect(strict.status(T0 + 2 * H + 1, 'continuous_flow')).toBe('true')
  })

  it('says unknown for a meter that never reports flow', () => {
    const h = new Household().report(T0, T0 + 2 * H, 30, 0.01)
    expect(h.status(T0 + 2 * H, 'continuous_flow')).toBe('unknown')
  })

  it('counts flow that began before observation from when observation began', () => {
    const h = new Household({}, T0 + H).read(T0, 100, { flowLpm: 5 }).use(T0 + 1.5 * H, 0.4, { flowLpm: 5 })
    expect(h.status(T0 + 2 * H, 'continuous_flow')).toBe('false')
    expect(h.status(T0 + 2 * H + 1, 'continuous_flow')).toBe('true')
  })
})

describe('meter facts', () => {
  it('takes a falling register as a replacement: no negative usage, no false high usage, no spurious no_water', () => {
    const h = new Household().read(T0, 9999.9).report(T0 + H, T0 + 5 * H, 60, 0.01)
    h.read(T0 + 6 * H, 0.02) // new meter (or rollover) at 0.02 m³
    h.report(T0 + 7 * H, T0 + 30 * H, 60, 0.01)
    for (let t = T0 + 6 * H; t <= T0 + 30 * H; t += H) {
      expect(h.status(t, 'high_water')).not.toBe('true')
      expect(h.status(t, 'no_water')).not.toBe('true')
    }
    expect(h.status(T0 + 30 * H, 'high_water')).toBe('false')
    expect(h.status(T0 + 30 * H, 'no_water')).toBe('false')
    expect(h.state.meterResets).toBe(1)
    expect(h.state.lastMeterResetAt).toBe(T0 + 6 * H)
  })

  it('explains a register that went back inside a dry window', () => {
    const h = new Household().report(T0, T0 + 6 * H, 30).read(T0 + 6.5 * H, 3).report(T0 + 7 * H, T0 + 12 * H, 30)
    const c = h.condition(T0 + 12 * H, 'no_water')
    expect(c.explanation.zh).toBe('12 小时用水 0 m³,低于 0.01 m³ 阈值(期间水表读数回退,按换表处理,未计入用水)')
    expect(c.data.meterResets).toBe(1)
  })

  it('ignores a duplicate reading', () => {
    const h = new Household().report(T0, T0 + 3 * H, 30, 0.01)
    const before = h.state
    h.read(T0 + 3 * H, h.state.meters['w-1']!.totalM3)
    expect(h.state).toBe(before)
  })

  it('ignores an out-of-order reading, whatever its register says', () => {
    const h = new Household().report(T0, T0 + 3 * H, 30, 0.01)
    const before = structuredClone(h.state)
    h.read(T0 + 2 * H, 50, { flowLpm: 9 })
    h.read(T0 + 3 * H, 500)
    expect(h.state).toEqual(before)
    expect(h.statuses(T0 + 3 * H)).toEqual(new Household().report(T0, T0 + 3 * H, 30, 0.01).statuses(T0 + 3 * H))
  })

  it('never mutates the state it is given', () => {
    const h = new Household().report(T0, T0 + 3 * H, 30, 0.01, { flowLpm: 2 })
    const frozen = deepFreeze(structuredClone(h.state))
    const copy = structuredClone(frozen)
    const next = applyWaterReading(frozen, { deviceId: 'w-1', at: T0 + 4 * H, totalM3: 200, flowLpm: 0 }, ctx(T0 + 30 * H))
    applyWaterReading(frozen, { deviceId: 'w-1', at: T0 + 4 * H, totalM3: 1, flowLpm: 3 }, ctx(T0 + 4 * H, { water: { leakSlotMin: 15 }, timeZone: 'UTC' }))
    evaluateWater(frozen, ctx(T0 + 5 * H, { water: { leakSlotMin: 15 }, timeZone: 'UTC' }))
    nextWaterCheck(frozen, ctx(T0 + 5 * H, { water: { leakSlotMin: 15 }, timeZone: 'UTC' }))
    expect(frozen).toEqual(copy)
    expect(next).not.toBe(frozen)
  })

  it('sums the usage of two meters, each with its own register', () => {
    const both = new Household()
      .report(T0, T0 + 12 * H, 60, 0.0005, { meter: 'kitchen' })
      .report(T0, T0 + 12 * H, 60, 0.0005, { meter: 'bathroom' })
    // 0.006 m³ on each meter: under the threshold alone, 0.012 m³ together.
    expect(both.status(T0 + 12 * H, 'no_water')).toBe('false')
    const one = new Household()
      .report(T0, T0 + 12 * H, 60, 0.0005, { meter: 'kitchen' })
      .report(T0, T0 + 12 * H, 60, 0, { meter: 'bathroom' })
    expect(one.condition(T0 + 12 * H, 'no_water').data.usedM3).toBe(0.006)
  })

  it('lets a meter silent for longer than any window stop holding the household in unknown', () => {
    const h = new Household().report(T0, T0 + 2 * H, 60, 0, { meter: 'old' }).report(T0, T0 + 20 * H, 60, 0, { meter: 'new' })
    expect(h.status(T0 + 20 * H, 'no_water')).toBe('unknown') // the old meter is stale: its usage is missing
    h.report(T0 + 21 * H, T0 + 30 * H, 60, 0, { meter: 'new' })
    expect(h.status(T0 + 30 * H, 'no_water')).toBe('true')
    expect(Object.keys(h.state.meters)).toEqual(['new'])
  })

  it('keeps a small, bounded state over a month of 15-minute readings', () => {
    const random = prng(7)
    const h = new Household()
    let largest = 0
    for (let t = T0; t < T0 + 30 * 24 * H; t += 15 * MINUTE) {
      h.use(t, random() < 0.7 ? 0.001 + random() * 0.02 : 0, { flowLpm: random() < 0.5 ? random() * 8 : 0 })
      largest = Math.max(largest, JSON.stringify(h.state).length)
    }
    expect(h.state.slots.length).toBeLessThanOrEqual(56)
    expect(h.state.days.length).toBeLessThanOrEqual(2)
    expect(largest).toBeLessThan(2500)
    expect(JSON.parse(JSON.stringify(h.state))).toEqual(h.state)
  })

  it('re-buckets its slots when the slot length setting changes', () => {
    const h = new Household().report(T0, T0 + 24 * H, 30, 0.002)
    const fine = { water: { leakSlotMin: 15 } }
    expect(evaluateWater(h.state, ctx(T0 + 24 * H, fine)).find((e) => e.key === 'leak')?.status).toBe('true')
    expect(evaluateWater(h.state, ctx(T0 + 24 * H, fine)).find((e) => e.key === 'no_water')?.status).toBe('false')
  })
})

describe('nextWaterCheck', () => {
  it('wakes at the next local midnight when nothing sooner can change', () => {
    const h = new Household().report(T0, T0 + 16 * H, 60, 0.02)
    expect(h.next(T0 + 16 * H)).toBe(T0 + 18 * H + 1) // stale first
    const quiet = new Household({ water: { staleAfterMin: 24 * 60 } }).report(T0, T0 + 23 * H, 60, 0.02)
    expect(quiet.next(T0 + 23 * H)).toBe(T0 + 24 * H)
  })

  for (const [name, over] of [
    ['default settings', {}],
    ['short windows', { water: { noUsageWindowMin: 180, highUsageWindowMin: 120, highUsageAboveM3: 0.1, leakWindowMin: 120, leakSlotMin: 15, continuousFlowMin: 20, staleAfterMin: 45 } }],
  ] as const) {
    it(`is never later than the moment an evaluation flips (${name})`, () => {
      const readings = messyMonth(11, 4)
      const h = new Household(over)
      let i = 0
      let flipsFoundExactly = 0
      for (let now = T0; now < T0 + 4 * 24 * H; now += 7 * MINUTE) {
        while (i < readings.length && readings[i]!.at <= now) {
          const r = readings[i++]!
          h.read(r.at, r.totalM3, r.flowLpm === undefined ? {} : { flowLpm: r.flowLpm })
        }
        const nextReading = readings[i]?.at ?? Infinity
        const next = h.next(now)
        const at = h.statuses(now)
        expect(next === null || next > now).toBe(true)
        const until = Math.min(next ?? Infinity, nextReading, T0 + 5 * 24 * H)
        for (const t of [now + 1, Math.floor((now + until) / 2), until - 1]) {
          if (t > now && t < until) expect(h.statuses(t), `at T0+${(t - T0) / MINUTE} min`).toEqual(at)
        }
        if (next !== null && next < nextReading && JSON.stringify(h.statuses(next)) !== JSON.stringify(at)) flipsFoundExactly++
      }
      expect(flipsFoundExactly).toBeGreaterThan(5)
    })
  }
})

/** Four days of a meter's life: quiet nights, busy mornings, gaps, a silence, flow, a replacement. */
function messyMonth(seed: number, days: number): WaterReading[] {
  const random = prng(seed)
  const out: WaterReading[] = []
  let total = 321.5
  for (let t = T0; t < T0 + days * 24 * H; t += 15 * MINUTE) {
    const hour = (t - T0) / H
    if (hour > 30 && hour < 34) continue // silent: stale data
    if (random() < 0.2) continue // a missed report: a gap the register bridges
    if (Math.abs(hour - 60) < 0.01) total = 0.5 // meter replaced
    const busy = hour % 24 > 6 && hour % 24 < 10
    const used = busy ? random() * 0.3 : random() < 0.15 ? random() * 0.01 : 0
    total = Math.round((total + used) * 1e6) / 1e6
    const flow = random() < 0.3 ? undefined : used > 0.05 || (hour > 40 && hour < 42) ? 4 + random() * 4 : 0
    out.push({ deviceId: 'w-1', at: t, totalM3: total, flowLpm: flow })
  }
  return out
}

function prng(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648
    return s / 2_147_483_648
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
