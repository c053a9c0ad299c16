/**
 * The simulated household: a deterministic, contract-valid stream of an elder's days, quiet to
 * every detector in normal life and raising exactly its own condition in each scenario. The
 * detectors are the real pure monitor, driven the way the service drives it (devices registered
 * first, every message also a sign of life, ticks at the monitor's next check).
 */
import { describe, expect, it } from 'vitest'
import { alarmPayload, statusPayload, telemetryPayload } from '../../src/contract/index.js'
import type { Finding, MonitorInput } from '../../src/detectors/model.js'
import { newMonitor, step } from '../../src/detectors/monitor.js'
import { resolveSettings } from '../../src/detectors/settings.js'
import { deviceId, HOUSEHOLD_DEVICES, SCENARIOS, simulateHousehold, type HouseholdOptions, type SimEvent } from '../../firmware-sim/household.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
/** 00:00 on 2 March 2026 in Shanghai. */
const MIDNIGHT = Date.UTC(2026, 2, 1, 16)
/** 06:00 the same day: where the CLI's time-warped runs start. */
const DAWN = MIDNIGHT + 6 * HOUR
const KEY = '000042'
// The city's fixed rules (adaptive mode, the default, is specified in activity.test.ts).
const settings = resolveSettings({ mode: 'city' })
const id = (role: SimEvent['role']) => deviceId(role, KEY)

/** What ingest hands the detectors for one message: a sign of life, and the reading if any. */
function inputsOf(e: SimEvent): MonitorInput[] {
  const deviceId = id(e.role)
  const room = HOUSEHOLD_DEVICES.find((d) => d.role === e.role)!.room
  if (e.channel === 'status') {
    const s = statusPayload.parse(e.payload)
    return [{ type: 'seen', deviceId, at: e.at, online: s.online, battery: s.battery }]
  }
  if (e.channel === 'alarm') {
    const a = alarmPayload.parse(e.payload)
    return [{ type: 'seen', deviceId, at: e.at, battery: a.battery }]
  }
  const r = telemetryPayload.parse(e.payload)
  const seen: MonitorInput = { type: 'seen', deviceId, at: e.at }
  switch (r.kind) {
    case 'water':
      return [seen, { type: 'water', deviceId, at: e.at, totalM3: r.totalM3, flowLpm: r.flowLpm }]
    case 'presence':
      return [seen, { type: 'presence', deviceId, room, at: e.at, occupied: r.occupied, motion: r.motion }]
    case 'door':
      return [seen, { type: 'door', deviceId, room, at: e.at, open: r.open }]
    default:
      return [seen]
  }
}

/** Runs a household's events through one monitor from `from` to `to`, ticking when it asks. */
function monitor(events: SimEvent[], from: number, to: number): Finding[] {
  let state = newMonitor(`hh-${KEY}`, from)
  let next: number | null = null
  const findings: Finding[] = []
  const apply = (input: MonitorInput, at: number) => {
    const r = step(state, input, at, settings)
    state = r.state
    next = r.nextCheckAt
    findings.push(...r.findings)
  }
  const tickUntil = (t: number) => {
    while (next !== null && next <= t) apply({ type: 'tick' }, next)
  }
  for (const d of HOUSEHOLD_DEVICES) {
    apply({ type: 'device', deviceId: id(d.role), kind: d.kind, room: d.room, heartbeatS: d.heartbeatS, registeredAt: from }, from)
  }
  for (const e of events) {
    tickUntil(e.at)
    for (const input of inputsOf(e)) apply(input, e.at)
  }
  tickUntil(to)
  return findings
}

function raisedKeys(o: HouseholdOptions): string[] {
  const findings = monitor(simulateHousehold(o), o.from, o.to)
  return [...new Set(findings.filter((f) => f.change === 'raised').map((f) => f.condition.key))].sort()
}

const describeFindings = (findings: Finding[]) =>
  findings.map((f) => `${new Date(f.at + 8 * HOUR).toISOString().slice(5, 16)} ${f.change} ${f.condition.key}: ${f.condition.explanation.en}`)

describe('simulateHousehold: the stream', () => {
  const o: HouseholdOptions = { seed: 7, from: MIDNIGHT, to: MIDNIGHT + 2 * DAY }

  it('is the same stream for the same seed, and another for another seed', () => {
    expect(simulateHousehold(o)).toEqual(simulateHousehold({ ...o }))
    expect(simulateHousehold({ ...o, seed: 8 })).not.toEqual(simulateHousehold(o))
  })

  it('lives the same day whatever the window it is looked at through', () => {
    const dayTwo = (events: SimEvent[]) => events.filter((e) => e.channel === 'telemetry' && e.role === 'door' && e.at >= MIDNIGHT + DAY).map((e) => [e.at, e.payload.open])
    expect(dayTwo(simulateHousehold({ ...o, from: MIDNIGHT + DAY - 3 * HOUR }))).toEqual(dayTwo(simulateHousehold(o)))
  })

  it('publishes only payloads the contract accepts, in time order, with ids unique per device', () => {
    for (const scenario of [undefined, ...SCENARIOS]) {
      const events = simulateHousehold({ ...o, ...(scenario ? { scenario } : {}) })
      expect(events.length).toBeGreaterThan(1000)
      const ids = new Map<string, Set<string>>()
      let last = -Infinity
      for (const e of events) {
        expect(e.at).toBeGreaterThanOrEqual(last)
        last = e.at
        const schema = e.channel === 'alarm' ? alarmPayload : e.channel === 'telemetry' ? telemetryPayload : statusPayload
        const parsed = schema.safeParse(e.payload)
        expect(parsed.success, `${scenario} ${e.role} ${JSON.stringify(e.payload)}`).toBe(true)
        if (e.lastWill) {
          expect(e.payload).toEqual({ online: false })
          continue
        }
        expect(e.payload.ts).toBe(e.at)
        if (e.channel === 'status') continue
        const seen = ids.get(e.role) ?? new Set<string>()
        expect(seen.has(e.payload.id as string), `${e.role} reuses ${String(e.payload.id)}`).toBe(false)
        seen.add(e.payload.id as string)
        ids.set(e.role, seen)
      }
    }
  })

  it('reports like the contract asks: radars every 10 min, the meter every 30 min, status every heartbeat', () => {
    const events = simulateHousehold(o)
    const gaps = (role: SimEvent['role'], channel: SimEvent['channel']) => {
      const ats = events.filter((e) => e.role === role && e.channel === channel).map((e) => e.at)
      return Math.max(...ats.slice(1).map((t, i) => t - ats[i]!))
    }
    for (const role of ['bedroom', 'bathroom', 'living'] as const) expect(gaps(role, 'telemetry')).toBeLessThanOrEqual(10 * MIN)
    expect(gaps('water', 'telemetry')).toBeLessThanOrEqual(30 * MIN)
    for (const d of HOUSEHOLD_DEVICES) expect(gaps(d.role, 'status')).toBe(d.heartbeatS * 1000)
    const statuses = events.filter((e) => e.channel === 'status' && e.role === 'button')
    expect(statuses[0]).toMatchObject({ at: o.from, payload: { online: true, fw: expect.any(String) } })
  })

  it('keeps a meter register that only grows, with flow only while water runs, and a day of 0.1–0.5 m³', () => {
    const readings = simulateHousehold(o)
      .filter((e) => e.role === 'water' && e.channel === 'telemetry')
      .map((e) => telemetryPayload.parse(e.payload))
      .flatMap((r) => (r.kind === 'water' ? [r] : []))
    for (let i = 1; i < readings.length; i++) expect(readings[i]!.totalM3).toBeGreaterThanOrEqual(readings[i - 1]!.totalM3)
    const used = readings.at(-1)!.totalM3 - readings[0]!.totalM3
    expect(used / 2).toBeGreaterThan(0.1)
    expect(used / 2).toBeLessThan(0.5)
    expect(readings.some((r) => (r.flowLpm ?? 0) > 0)).toBe(true)
  })

  it('opens the entrance door every day and never at night', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const openings = simulateHousehold({ seed, from: MIDNIGHT, to: MIDNIGHT + 3 * DAY }).filter((e) => e.role === 'door' && e.payload.open === true)
      for (let day = 0; day < 3; day++) {
        const today = openings.filter((e) => e.at >= MIDNIGHT + day * DAY && e.at < MIDNIGHT + (day + 1) * DAY)
        expect(today.length, `seed ${seed} day ${day}`).toBeGreaterThanOrEqual(2)
        for (const e of today) expect((e.at - MIDNIGHT) % DAY).toBeGreaterThan(5 * HOUR)
      }
    }
  })

  it('sends no status without heartbeats', () => {
    expect(simulateHousehold({ ...o, heartbeats: false }).filter((e) => e.channel === 'status')).toEqual([])
  })
})

describe("simulateHousehold through the city's fixed rules", () => {
  it('raises nothing in three days of normal life (20 households)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const from = MIDNIGHT + (seed % 4) * 7 * HOUR + seed * 61_000 // starts at all hours of the day
      const to = from + 3 * DAY
      const findings = monitor(simulateHousehold({ seed, from, to }), from, to)
      expect(describeFindings(findings), `seed ${seed}`).toEqual([])
    }
  }, 120_000)

  it('raises nothing for an SOS, a fall or a cancelled SOS: alarms go straight to incidents', () => {
    for (const scenario of ['sos', 'fall', 'cancel'] as const) {
      const o = { seed: 3, from: DAWN, to: DAWN + 3 * HOUR, scenario }
      const alarms = simulateHousehold(o).filter((e) => e.channel === 'alarm')
      expect(alarms.map((e) => [e.at - o.from, e.payload.type])).toEqual(
        scenario === 'cancel' ? [[HOUR, 'sos'], [HOUR + 30_000, 'cancel']] : [[HOUR, scenario]],
      )
      expect(raisedKeys(o)).toEqual([])
    }
  })

  it('collapse: no water and no movement for 12 h', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      // Collapsed at noon after a day and a half of normal life, watched until 02:00.
      const at = MIDNIGHT + DAY + 12 * HOUR
      expect(raisedKeys({ seed, from: MIDNIGHT, to: at + 14 * HOUR, scenario: 'collapse', scenarioAt: at }), `seed ${seed}`).toEqual(['inactivity', 'no_water'])
    }
  })

  it('collapse before getting up: the morning check too', () => {
    const at = MIDNIGHT + DAY + 6 * HOUR
    expect(raisedKeys({ seed: 9, from: MIDNIGHT, to: at + 14 * HOUR, scenario: 'collapse', scenarioAt: at })).toEqual(['inactivity', 'morning_check', 'no_water'])
  })

  it('tap-left-open: continuous flow, and nothing else', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(raisedKeys({ seed, from: DAWN, to: DAWN + 4 * HOUR, scenario: 'tap-left-open' }), `seed ${seed}`).toEqual(['continuous_flow'])
      const at = MIDNIGHT + DAY + 9 * HOUR
      expect(raisedKeys({ seed, from: MIDNIGHT, to: at + 3 * HOUR, scenario: 'tap-left-open', scenarioAt: at }), `seed ${seed}`).toEqual(['continuous_flow'])
    }
  })

  it('leak: water in every 30-minute slot for 24 h, and nothing else', () => {
    for (const seed of [1, 2, 3]) {
      expect(raisedKeys({ seed, from: DAWN, to: DAWN + 28 * HOUR, scenario: 'leak' }), `seed ${seed}`).toEqual(['leak'])
    }
  })

  it('wander: the door opens at night and nobody is seen inside afterwards', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const o: HouseholdOptions = { seed, from: DAWN, to: DAWN + 21 * HOUR, scenario: 'wander' }
      const exit = simulateHousehold(o).find((e) => e.role === 'door' && e.payload.open === true && (e.at - MIDNIGHT) % DAY < 5 * HOUR)
      expect(exit, `seed ${seed}`).toBeDefined()
      expect(o.to - exit!.at).toBeGreaterThanOrEqual(105 * MIN) // at least 1 h 45 min past the exit
      expect(raisedKeys(o), `seed ${seed}`).toEqual(['wandering'])
    }
  })

  it('battery-drain: low battery on the button only', () => {
    for (const seed of [1, 2, 3]) {
      expect(raisedKeys({ seed, from: DAWN, to: DAWN + 8 * HOUR, scenario: 'battery-drain' }), `seed ${seed}`).toEqual([`low_battery:${id('button')}`])
    }
  })

  it('offline: the meter is offline, and its silence is not read as no water', () => {
    for (const seed of [1, 2, 3]) {
      const o: HouseholdOptions = { seed, from: DAWN, to: DAWN + 16 * HOUR, scenario: 'offline' }
      const will = simulateHousehold(o).filter((e) => e.lastWill)
      expect(will).toEqual([{ at: DAWN + HOUR, role: 'water', channel: 'status', payload: { online: false }, lastWill: true }])
      expect(simulateHousehold(o).filter((e) => e.role === 'water' && e.at > DAWN + HOUR)).toEqual([])
      expect(raisedKeys(o), `seed ${seed}`).toEqual([`device_offline:${id('water')}`])
    }
  })

  it('offline while water runs: the silence is not read as a tap left open', () => {
    const normal = simulateHousehold({ seed: 1, from: DAWN, to: DAWN + DAY })
    const water = normal.filter((e) => e.role === 'water' && e.channel === 'telemetry')
    const shower = water.find((e, i) => (e.payload.flowLpm as number) > 0 && water[i + 1]!.at - e.at > 3 * MIN)!
    const at = shower.at + MIN
    expect(raisedKeys({ seed: 1, from: DAWN, to: at + 3 * HOUR, scenario: 'offline', scenarioAt: at })).toEqual([`device_offline:${id('water')}`])
  })
})
