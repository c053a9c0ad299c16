/** A household's monitor on virtual time: findings from readings, away mode, and agreement of signals. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Finding, MonitorInput } from '../../src/detectors/model.js'
import { newMonitor, step, type MonitorState } from '../../src/detectors/monitor.js'
import { resolveSettings } from '../../src/detectors/settings.js'
import { conditionPriority } from '../../src/incidents/lifecycle.js'

const T0 = Date.UTC(2026, 10, 22, 16, 0, 0) // 00:00 on 23 Nov in Shanghai
const MIN = 60_000
const HOUR = 60 * MIN
// The city's fixed rules (adaptive mode, the default, is specified in activity.test.ts).
const settings = resolveSettings({ mode: 'city' })

const DEVICES: MonitorInput[] = [
  { type: 'device', deviceId: 'wm-1', kind: 'water', room: 'kitchen', heartbeatS: 3600, registeredAt: T0 },
  { type: 'device', deviceId: 'pr-bed', kind: 'presence', room: 'bedroom', heartbeatS: 3600, registeredAt: T0 },
  { type: 'device', deviceId: 'pr-bath', kind: 'presence', room: 'bathroom', heartbeatS: 3600, registeredAt: T0 },
  { type: 'device', deviceId: 'door-1', kind: 'door', room: 'entrance', heartbeatS: 86_400, registeredAt: T0 },
]

/** Drives one monitor like the service does: inputs at given times, ticks when it asks. */
class Home {
  state: MonitorState = newMonitor('hh-1', T0)
  findings: Finding[] = []
  next: number | null = null
  now = T0
  constructor() {
    for (const d of DEVICES) this.feed(d)
  }
  feed(input: MonitorInput, at = this.now): this {
    this.runUntil(at)
    this.apply(input, at)
    return this
  }
  private apply(input: MonitorInput, at: number): void {
    this.now = at
    const r = step(this.state, input, at, settings)
    this.state = r.state
    this.findings.push(...r.findings)
    this.next = r.nextCheckAt
  }
  runUntil(until: number): void {
    while (this.next !== null && this.next <= until) this.apply({ type: 'tick' }, this.next)
  }
  at(t: number): this {
    return this.feed({ type: 'tick' }, t)
  }
  raised = () => this.findings.filter((f) => f.change === 'raised').map((f) => f.condition.key)
  cleared = () => this.findings.filter((f) => f.change === 'cleared').map((f) => f.condition.key)
}

/** A lived-in day: sensors and the meter report every 10 minutes; water runs from 05:00 to 23:00. */
function liveNormally(home: Home, from: number, to: number, total = { m3: 100 }): void {
  for (let t = from; t < to; t += 10 * MIN) {
    const hour = Math.floor((t - T0) / HOUR) % 24 // T0 is local midnight
    if (hour >= 5 && hour < 23) total.m3 += 0.002
    home.feed({ type: 'water', deviceId: 'wm-1', at: t, totalM3: total.m3, flowLpm: 0 }, t)
    home.feed({ type: 'presence', deviceId: 'pr-bed', room: 'bedroom', at: t + 1000, occupied: true, motion: true }, t + 1000)
    home.feed({ type: 'presence', deviceId: 'pr-bath', room: 'bathroom', at: t + 2000, occupied: false, motion: false }, t + 2000)
    if ((t - from) % (6 * HOUR) === 0) home.feed({ type: 'door', deviceId: 'door-1', room: 'entrance', at: t + 3000, open: true }, t + 3000)
  }
}

/** Sensors keep reporting, but nothing moves and no water runs. */
function goSilent(home: Home, from: number, to: number, totalM3: number): void {
  for (let t = from; t < to; t += 10 * MIN) {
    home.feed({ type: 'water', deviceId: 'wm-1', at: t, totalM3, flowLpm: 0 }, t)
    home.feed({ type: 'presence', deviceId: 'pr-bed', room: 'bedroom', at: t + 1000, occupied: false, motion: false }, t + 1000)
    home.feed({ type: 'presence', deviceId: 'pr-bath', room: 'bathroom', at: t + 2000, occupied: false, motion: false }, t + 2000)
  }
}

describe('household monitor', () => {
  it('raises nothing for a household living normally', () => {
    const home = new Home()
    liveNormally(home, T0, T0 + 30 * HOUR)
    expect(home.raised()).toEqual([])
  })

  it('raises no water and inactivity once each when an elder goes silent, and they agree', () => {
    const home = new Home()
    const total = { m3: 100 }
    liveNormally(home, T0, T0 + 14 * HOUR, total)
    goSilent(home, T0 + 14 * HOUR, T0 + 28 * HOUR, total.m3)
    const raised = home.raised()
    expect(raised).toContain('no_water')
    expect(raised).toContain('inactivity')
    expect(raised.filter((k) => k === 'no_water')).toHaveLength(1)
    expect(conditionPriority(['no_water', 'inactivity'])).toBe(2)
    expect(conditionPriority(['no_water'])).toBe(3)
    const noWater = home.findings.find((f) => f.condition.key === 'no_water')!
    expect(noWater.condition.explanation.zh).toMatch(/m³/)
    expect(noWater.condition.explanation.zh).toContain('最近一次活动')
    expect(noWater.condition.explanation.en).toContain('last activity')
  })

  it('clears conditions when life resumes', () => {
    const home = new Home()
    const total = { m3: 100 }
    liveNormally(home, T0, T0 + 14 * HOUR, total)
    goSilent(home, T0 + 14 * HOUR, T0 + 28 * HOUR, total.m3)
    liveNormally(home, T0 + 28 * HOUR, T0 + 30 * HOUR, total)
    expect(home.cleared()).toEqual(expect.arrayContaining(['no_water', 'inactivity']))
  })

  it('raises a device offline when a sensor falls silent, and clears it when it reports again', () => {
    const home = new Home()
    liveNormally(home, T0, T0 + 2 * HOUR)
    home.at(T0 + 5 * HOUR)
    expect(home.raised()).toEqual(['device_offline:wm-1', 'device_offline:pr-bed', 'device_offline:pr-bath']) // the door reports daily
    home.feed({ type: 'seen', deviceId: 'wm-1', at: T0 + 5 * HOUR + MIN }, T0 + 5 * HOUR + MIN)
    expect(home.cleared()).toContain('device_offline:wm-1')
    // the silent meter is a health matter, never a no-water alarm
    expect(home.raised()).not.toContain('no_water')
  })

  it('suppresses detector findings while away, and starts observing afresh when the elder is back', () => {
    const home = new Home()
    const total = { m3: 100 }
    liveNormally(home, T0, T0 + 2 * HOUR, total)
    const back = T0 + 5 * 24 * HOUR
    home.feed({ type: 'away', until: back }, T0 + 2 * HOUR)
    home.at(back - 1)
    expect(home.raised()).toEqual([])
    // back home: the 12 h rules count from the return, not from the last activity days ago
    liveNormally(home, back, back + HOUR, total)
    expect(home.raised()).toEqual([])
    goSilent(home, back + HOUR, back + 14 * HOUR, total.m3)
    expect(home.raised()).toContain('inactivity')
  })

  it('ends away mode early when the family says the elder is back', () => {
    const home = new Home()
    liveNormally(home, T0, T0 + HOUR)
    home.feed({ type: 'away', until: T0 + 10 * 24 * HOUR }, T0 + HOUR)
    home.feed({ type: 'away', until: null }, T0 + 48 * HOUR)
    expect(home.state.awayUntil).toBeNull()
    expect(home.state.awayEndedAt).toBe(T0 + 48 * HOUR)
  })

  it('never raises anything while away, whatever the telemetry (property)', () => {
    const reading = fc.oneof(
      fc.record({ type: fc.constant('water' as const), deviceId: fc.constant('wm-1'), dt: fc.integer({ min: 0, max: 6 * HOUR }), totalM3: fc.double({ min: 0, max: 10_000, noNaN: true }), flowLpm: fc.option(fc.double({ min: 0, max: 30, noNaN: true }), { nil: undefined }) }),
      fc.record({ type: fc.constant('presence' as const), deviceId: fc.constantFrom('pr-bed', 'pr-bath'), dt: fc.integer({ min: 0, max: 6 * HOUR }), occupied: fc.boolean(), motion: fc.option(fc.boolean(), { nil: undefined }) }),
      fc.record({ type: fc.constant('door' as const), deviceId: fc.constant('door-1'), dt: fc.integer({ min: 0, max: 6 * HOUR }), open: fc.boolean() }),
      fc.record({ type: fc.constant('seen' as const), deviceId: fc.constantFrom('wm-1', 'pr-bed', 'door-1'), dt: fc.integer({ min: 0, max: 6 * HOUR }), battery: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }), online: fc.option(fc.boolean(), { nil: undefined }) }),
    )
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 80 }), (readings) => {
        const home = new Home()
        home.feed({ type: 'away', until: T0 + 365 * 24 * HOUR }, T0)
        let t = T0
        for (const r of readings) {
          t += r.dt
          const room = r.deviceId === 'pr-bath' ? 'bathroom' : r.deviceId === 'pr-bed' ? 'bedroom' : r.deviceId === 'door-1' ? 'entrance' : 'kitchen'
          if (r.type === 'water') home.feed({ type: 'water', deviceId: r.deviceId, at: t, totalM3: r.totalM3, flowLpm: r.flowLpm }, t)
          else if (r.type === 'presence') home.feed({ type: 'presence', deviceId: r.deviceId, room, at: t, occupied: r.occupied, motion: r.motion }, t)
          else if (r.type === 'door') home.feed({ type: 'door', deviceId: r.deviceId, room, at: t, open: r.open }, t)
          else home.feed({ type: 'seen', deviceId: r.deviceId, at: t, battery: r.battery, online: r.online }, t)
        }
        home.at(t + 3 * 24 * HOUR)
        expect(home.findings).toEqual([])
      }),
      { numRuns: 200 },
    )
  })
})
