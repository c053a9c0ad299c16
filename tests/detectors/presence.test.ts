import { describe, expect, it } from 'vitest'
import type { DeviceInfo, EvalContext } from '../../src/detectors/context.js'
import type { Evaluation } from '../../src/detectors/model.js'
import {
  applyPresenceReading,
  evaluatePresence,
  initialPresenceState,
  nextPresenceCheck,
  type PresenceState,
} from '../../src/detectors/presence.js'
import { resolveSettings, type DetectorOverride } from '../../src/detectors/settings.js'

// Thresholds under test (see the header of presence.ts): inactivity at silence ≥ 12 h, the morning
// check at 10:00:00.000 itself, bathroom dwell at occupancy > 60 min, missing data at silence > 30 min.

const MIN = 60_000
/** Local Shanghai wall-clock time (UTC+8) on a day of March 2024. */
const sh = (day: number, hhmm: string, extraMs = 0) => {
  const [h, m] = hhmm.split(':').map(Number)
  return Date.UTC(2024, 2, day, h! - 8, m!) + extraMs
}
const T0 = sh(3, '20:00') // observation begins on Sunday evening

const HOME: Record<string, DeviceInfo> = {
  'pr-bed': { kind: 'presence', room: 'bedroom', heartbeatS: 300, registeredAt: T0 },
  'pr-bath': { kind: 'presence', room: 'bathroom', heartbeatS: 300, registeredAt: T0 },
  'pir-kit': { kind: 'presence', room: 'kitchen', heartbeatS: 300, registeredAt: T0 },
  // Not part of quiet(): scenario motion goes here, so it never collides with a heartbeat's instant.
  'pr-liv': { kind: 'presence', room: 'living_room', heartbeatS: 300, registeredAt: T0 },
  'door-1': { kind: 'door', room: 'entrance', heartbeatS: 3600, registeredAt: T0 },
}

interface Over {
  settings?: DetectorOverride
  observedFrom?: number
  devices?: Record<string, DeviceInfo>
}
const ctx = (now: number, over: Over = {}): EvalContext => ({
  now,
  settings: resolveSettings(over.settings),
  observedFrom: over.observedFrom ?? T0,
  devices: over.devices ?? HOME,
})

type Reading = Parameters<typeof applyPresenceReading>[1]
const moving = (deviceId: string, at: number): Reading => ({ deviceId, room: null, at, occupied: true, motion: true })
const still = (deviceId: string, at: number, occupied = false): Reading => ({ deviceId, room: null, at, occupied, motion: false })
const pir = (deviceId: string, at: number, occupied: boolean): Reading => ({ deviceId, room: null, at, occupied })

/** Readings every 10 minutes in (from, to], as the contract promises. */
function every10(from: number, to: number, make: (at: number) => Reading[]): Reading[] {
  const out: Reading[] = []
  for (let t = from + 10 * MIN; t <= to; t += 10 * MIN) out.push(...make(t))
  return out
}
/** The whole home reports "nobody moving" every 10 minutes. */
const quiet = (from: number, to: number) =>
  every10(from, to, (t) => [still('pr-bed', t), still('pr-bath', t), pir('pir-kit', t, false)])

/** The state after every reading up to `now`, in time order. */
function stateAt(readings: Reading[], now: number, over: Over = {}): PresenceState {
  return [...readings]
    .sort((a, b) => a.at - b.at)
    .filter((r) => r.at <= now)
    .reduce((s, r) => applyPresenceReading(s, r, ctx(r.at, over)), initialPresenceState())
}

const byKey = (evals: Evaluation[]) => Object.fromEntries(evals.map((e) => [e.key, e.status]))
/** Statuses at `now`, from the readings up to `stateAsOf` (default: now). */
const statuses = (readings: Reading[], now: number, over: Over = {}, stateAsOf = now) =>
  byKey(evaluatePresence(stateAt(readings, stateAsOf, over), ctx(now, over)))
function explanation(readings: Reading[], now: number, key: string, over: Over = {}) {
  const e = evaluatePresence(stateAt(readings, now, over), ctx(now, over)).find((x) => x.key === key)
  if (e?.status !== 'true') throw new Error(`${key} is ${e?.status}, not true`)
  return e.condition.explanation
}

describe('presence: inactivity', () => {
  const evening = [moving('pr-bed', sh(3, '21:40')), ...quiet(T0, sh(4, '15:00'))]

  it('raises inactivity after 12 h without motion anywhere', () => {
    expect(statuses(evening, sh(4, '09:40', -1)).inactivity).toBe('false')
    expect(statuses(evening, sh(4, '09:40')).inactivity).toBe('true')
  })

  it('explains the silence with hours and the last activity, in Chinese and English', () => {
    expect(explanation(evening, sh(4, '10:10'), 'inactivity')).toEqual({
      zh: '12.5 小时无活动;最近一次活动 21:40 卧室',
      en: 'No activity for 12.5 h; last activity 21:40 in the bedroom',
    })
  })

  it('counts motion in any room as activity', () => {
    const readings = [...evening, moving('pr-liv', sh(4, '02:00'))]
    expect(statuses(readings, sh(4, '13:59')).inactivity).toBe('false')
    expect(statuses(readings, sh(4, '14:00')).inactivity).toBe('true')
    expect(explanation(readings, sh(4, '14:00'), 'inactivity').zh).toBe('12 小时无活动;最近一次活动 02:00 客厅')
  })

  it('reports unknown, never true, once no presence sensor has reported for more than 30 min', () => {
    const silentSensors = [moving('pr-bed', sh(3, '21:40')), ...quiet(T0, sh(4, '01:00'))]
    expect(statuses(silentSensors, sh(4, '01:30')).inactivity).toBe('false')
    expect(statuses(silentSensors, sh(4, '01:30', 1)).inactivity).toBe('unknown')
    expect(statuses(silentSensors, sh(4, '12:00')).inactivity).toBe('unknown')
  })

  it('needs only one sensor reporting to trust the silence', () => {
    const onlyKitchen = [moving('pr-bed', sh(3, '21:40')), ...every10(T0, sh(4, '12:00'), (t) => [pir('pir-kit', t, false)])]
    expect(statuses(onlyKitchen, sh(4, '09:40')).inactivity).toBe('true')
  })

  it('says false for every presence rule in a household without a presence sensor', () => {
    const doorOnly = { devices: { 'door-1': HOME['door-1']! } }
    const state = initialPresenceState()
    expect(evaluatePresence(state, ctx(sh(6, '12:00'), doorOnly))).toEqual([
      { key: 'inactivity', status: 'false' },
      { key: 'morning_check', status: 'false' },
      { key: 'bathroom_dwell', status: 'false' },
    ])
    expect(nextPresenceCheck(state, ctx(sh(6, '12:00'), doorOnly))).toBeNull()
  })

  it('counts the silence from the end of away mode, not from the last activity before it', () => {
    const back = { observedFrom: sh(5, '08:00') }
    const readings = [moving('pr-bed', sh(3, '21:40')), ...quiet(sh(5, '07:50'), sh(5, '21:00'))]
    expect(statuses(readings, sh(5, '20:00', -1), back).inactivity).toBe('false')
    expect(statuses(readings, sh(5, '20:00'), back).inactivity).toBe('true')
    expect(explanation(readings, sh(5, '20:00'), 'inactivity', back)).toEqual({
      zh: '12 小时无活动(自 08:00 开始观察);最近一次活动 21:40 卧室',
      en: 'No activity for 12 h since observation began at 08:00; last activity 21:40 in the bedroom',
    })
  })

  it('gives a sensor that has never reported 30 minutes from the start of observation before calling the data missing', () => {
    expect(statuses([], T0 + 30 * MIN).inactivity).toBe('false')
    expect(statuses([], T0 + 30 * MIN + 1).inactivity).toBe('unknown')
  })

  it('does not count the time before the first presence sensor was registered', () => {
    const late = { devices: { 'pr-bed': { ...HOME['pr-bed']!, registeredAt: sh(4, '06:00') } } }
    const readings = every10(sh(4, '06:00'), sh(4, '19:00'), (t) => [still('pr-bed', t)])
    expect(statuses(readings, sh(4, '18:00', -1), late).inactivity).toBe('false')
    expect(statuses(readings, sh(4, '18:00'), late).inactivity).toBe('true')
  })
})

describe('presence: what counts as activity', () => {
  const kitchenOnly = { devices: { 'pir-kit': HOME['pir-kit']! } }
  const apply = (s: PresenceState, r: Reading, over: Over = kitchenOnly) => applyPresenceReading(s, r, ctx(r.at, over))

  it('counts a PIR (no motion field) switching to occupied, including its first occupied report', () => {
    let s = apply(initialPresenceState(), pir('pir-kit', sh(4, '07:00'), true))
    expect(s.lastActivityAt).toBe(sh(4, '07:00'))
    expect(s.lastActivityRoom).toBe('kitchen')
    s = apply(s, pir('pir-kit', sh(4, '07:10'), true)) // still occupied: a report, not a movement
    expect(s.lastActivityAt).toBe(sh(4, '07:00'))
    s = apply(s, pir('pir-kit', sh(4, '07:20'), false))
    s = apply(s, pir('pir-kit', sh(4, '07:30'), true))
    expect(s.lastActivityAt).toBe(sh(4, '07:30'))
  })

  it('does not count a radar that reports occupied but motion: false', () => {
    const s = apply(initialPresenceState(), still('pr-bed', sh(4, '07:00'), true), {})
    expect(s.lastActivityAt).toBeNull()
  })

  it('takes the room from the device registration, else from the reading', () => {
    const s1 = apply(initialPresenceState(), { ...moving('pir-kit', sh(4, '07:00')), room: 'bedroom' })
    expect(s1.lastActivityRoom).toBe('kitchen')
    const s2 = apply(initialPresenceState(), { ...moving('pr-x', sh(4, '07:00')), room: 'living_room' }, {})
    expect(s2.lastActivityRoom).toBe('living_room')
  })

  it('ignores a reading that is not newer than that sensor’s latest', () => {
    const s = apply(initialPresenceState(), still('pr-bed', sh(4, '07:00')), {})
    expect(apply(s, moving('pr-bed', sh(4, '06:59')), {})).toBe(s)
    expect(apply(s, moving('pr-bed', sh(4, '07:00')), {})).toBe(s)
  })

  it('never moves the latest activity backwards when another sensor reports late', () => {
    let s = apply(initialPresenceState(), moving('pr-bed', sh(4, '07:00')), {})
    s = apply(s, moving('pr-bath', sh(4, '06:50')), {})
    expect(s.lastActivityAt).toBe(sh(4, '07:00'))
    expect(s.lastActivityRoom).toBe('bedroom')
  })

  it('never mutates the state it is given, and keeps a JSON-serialisable state', () => {
    const s = deepFreeze(apply(initialPresenceState(), still('pr-bath', sh(4, '07:00'), true), {}))
    const next = apply(s, moving('pr-bath', sh(4, '07:10')), {})
    expect(next).not.toBe(s)
    expect(JSON.parse(JSON.stringify(next))).toEqual(next)
  })

  it('forgets sensors that are no longer registered', () => {
    let s = apply(initialPresenceState(), still('pr-old', sh(4, '07:00')), {})
    s = apply(s, still('pr-bed', sh(4, '07:10')), {})
    expect(Object.keys(s.sensors)).toEqual(['pr-bed'])
  })
})

describe('presence: morning check', () => {
  // Motion at 22:30, a 02:00 bathroom visit, then a quiet night and morning.
  const night = [
    moving('pr-bed', sh(3, '22:30')),
    moving('pr-bath', sh(4, '02:00')),
    still('pr-bath', sh(4, '02:05'), false),
    ...quiet(T0, sh(5, '12:00')).filter((r) => !(r.deviceId === 'pr-bath' && r.at === sh(4, '02:00'))),
  ]

  it('raises at 10:00 when nobody has moved since 05:00, and not a millisecond before', () => {
    expect(statuses(night, sh(4, '10:00', -1)).morning_check).toBe('false')
    expect(statuses(night, sh(4, '10:00')).morning_check).toBe('true')
    expect(explanation(night, sh(4, '10:00'), 'morning_check')).toEqual({
      zh: '10:00 前无活动(自 05:00 起)',
      en: 'No activity by 10:00 (since 05:00)',
    })
  })

  it('is not satisfied by a 02:00 bathroom visit', () => {
    expect(stateAt(night, sh(4, '10:00')).lastActivityAt).toBe(sh(4, '02:00'))
    expect(statuses(night, sh(4, '10:00')).morning_check).toBe('true')
  })

  it('counts activity from 05:00 exactly, not from a moment before', () => {
    expect(statuses([...night, moving('pr-liv', sh(4, '05:00'))], sh(4, '10:00')).morning_check).toBe('false')
    expect(statuses([...night, moving('pr-liv', sh(4, '05:00', -1))], sh(4, '10:00')).morning_check).toBe('true')
  })

  it('clears as soon as activity is seen after the check', () => {
    const late = [...night, moving('pr-liv', sh(4, '10:30'))]
    expect(statuses(late, sh(4, '10:30', -1)).morning_check).toBe('true')
    expect(statuses(late, sh(4, '10:30')).morning_check).toBe('false')
  })

  it('stays raised past local midnight (16:00 UTC) until activity, then waits for the next morning', () => {
    expect(sh(5, '00:00')).toBe(Date.UTC(2024, 2, 4, 16, 0))
    const readings = [...night, moving('pr-liv', sh(5, '00:40'))]
    expect(statuses(readings, sh(5, '00:30')).morning_check).toBe('true')
    expect(statuses(readings, sh(5, '00:40')).morning_check).toBe('false')
    expect(statuses(readings, sh(5, '10:00', -1)).morning_check).toBe('false')
    // 00:40 is before 05:00: it does not cover Tuesday's morning.
    expect(statuses(readings, sh(5, '10:00')).morning_check).toBe('true')
  })

  it('does not raise for a morning whose 05:00 came before observation began', () => {
    const back = { observedFrom: sh(4, '06:00') }
    const readings = quiet(sh(4, '06:00'), sh(5, '12:00'))
    expect(statuses(readings, sh(4, '10:00'), back).morning_check).toBe('false')
    expect(statuses(readings, sh(5, '10:00'), back).morning_check).toBe('true')
  })

  it('follows a household’s own check time', () => {
    const early = { settings: { presence: { morningCheckAt: '09:00' } } }
    expect(statuses(night, sh(4, '09:00', -1), early).morning_check).toBe('false')
    expect(statuses(night, sh(4, '09:00'), early).morning_check).toBe('true')
    expect(explanation(night, sh(4, '09:00'), 'morning_check', early).zh).toBe('09:00 前无活动(自 05:00 起)')
  })

  it('reports unknown when the sensors have gone silent', () => {
    const silent = night.filter((r) => r.at <= sh(4, '08:00'))
    expect(statuses(silent, sh(4, '10:00')).morning_check).toBe('unknown')
  })
})

describe('presence: bathroom dwell', () => {
  // Into the bathroom at 08:00; the radar keeps reporting occupied every 10 min; out at 09:20.
  const bath = [
    moving('pr-bath', sh(4, '08:00')),
    ...every10(sh(4, '08:00'), sh(4, '09:10'), (t) => [still('pr-bath', t, true), still('pr-bed', t)]),
    still('pr-bath', sh(4, '09:20'), false),
  ]

  it('raises after more than 60 min of unbroken occupancy, not at 60 min exactly', () => {
    expect(statuses(bath, sh(4, '09:00')).bathroom_dwell).toBe('false')
    expect(statuses(bath, sh(4, '09:00', 1)).bathroom_dwell).toBe('true')
    expect(explanation(bath, sh(4, '09:15'), 'bathroom_dwell')).toEqual({
      zh: '卫生间持续有人 75 分钟(自 08:00 起)',
      en: 'Bathroom occupied for 75 min without a break (since 08:00)',
    })
  })

  it('ends when the bathroom sensor reports nobody', () => {
    expect(statuses(bath, sh(4, '09:20', -1)).bathroom_dwell).toBe('true')
    expect(statuses(bath, sh(4, '09:20')).bathroom_dwell).toBe('false')
  })

  it('starts counting afresh after the bathroom was empty', () => {
    const twice = [
      still('pr-bath', sh(4, '07:00'), true),
      still('pr-bath', sh(4, '07:50'), false),
      still('pr-bath', sh(4, '08:00'), true),
      ...every10(sh(4, '08:00'), sh(4, '09:30'), (t) => [still('pr-bath', t, true)]),
    ]
    expect(statuses(twice, sh(4, '09:00')).bathroom_dwell).toBe('false')
    expect(statuses(twice, sh(4, '09:00', 1)).bathroom_dwell).toBe('true')
  })

  it('reports unknown when the bathroom sensor is silent, even while others report', () => {
    const silentBath = [still('pr-bath', sh(4, '08:00'), false), ...every10(sh(4, '08:00'), sh(4, '10:00'), (t) => [still('pr-bed', t)])]
    expect(statuses(silentBath, sh(4, '08:30')).bathroom_dwell).toBe('false')
    expect(statuses(silentBath, sh(4, '08:30', 1)).bathroom_dwell).toBe('unknown')
    // The bedroom still reports, so the home's silence since 20:00 is judged, not missing.
    expect(statuses(silentBath, sh(4, '08:30', 1)).inactivity).toBe('true')
  })

  it('counts the occupancy only from the start of observation', () => {
    const back = { observedFrom: sh(4, '08:30') }
    const readings = [still('pr-bath', sh(4, '07:00'), true), ...every10(sh(4, '07:00'), sh(4, '10:00'), (t) => [still('pr-bath', t, true)])]
    expect(statuses(readings, sh(4, '09:30'), back).bathroom_dwell).toBe('false')
    expect(statuses(readings, sh(4, '09:30', 1), back).bathroom_dwell).toBe('true')
  })

  it('answers every rule exactly once, in a fixed order', () => {
    expect(evaluatePresence(stateAt(bath, sh(4, '09:15')), ctx(sh(4, '09:15'))).map((e) => e.key)).toEqual([
      'inactivity',
      'morning_check',
      'bathroom_dwell',
    ])
  })
})

describe('presence: next check', () => {
  /** The state is frozen at `now` (no input); at `next - 1` nothing has changed, at `next` something has. */
  function expectFlipAt(readings: Reading[], now: number, expected: number, over: Over = {}) {
    const state = stateAt(readings, now, over)
    const next = nextPresenceCheck(state, ctx(now, over))
    expect(next).toBe(expected)
    const at = (t: number) => byKey(evaluatePresence(state, ctx(t, over)))
    expect(at(expected - 1)).toEqual(at(now))
    expect(at(expected)).not.toEqual(at(now))
  }
  const base = [moving('pr-liv', sh(3, '22:30')), ...quiet(T0, sh(5, '12:00'))]

  it('wakes exactly when 12 h of silence are reached', () => {
    const readings = [moving('pr-liv', sh(4, '00:00')), ...quiet(T0, sh(5, '12:00'))]
    expectFlipAt(readings, sh(4, '11:55'), sh(4, '12:00'))
  })

  it('wakes exactly at the morning check', () => {
    expectFlipAt(base, sh(4, '09:55'), sh(4, '10:00'))
  })

  it('wakes exactly when the bathroom dwell passes 60 min', () => {
    const bath = [still('pr-bath', sh(4, '11:00'), true), ...every10(sh(4, '11:00'), sh(4, '13:00'), (t) => [still('pr-bath', t, true)])]
    expectFlipAt([moving('pr-bed', sh(4, '10:30')), ...bath], sh(4, '11:55'), sh(4, '12:00', 1))
  })

  it('wakes exactly when the data becomes missing', () => {
    const stopped = [moving('pr-liv', sh(4, '08:00')), ...quiet(T0, sh(4, '11:00'))]
    expectFlipAt(stopped, sh(4, '11:20'), sh(4, '11:30', 1))
  })

  it('is never later than a change, all through two eventful days', () => {
    const inBath = (r: Reading) => r.deviceId === 'pr-bath' && r.at >= sh(4, '12:00') && r.at < sh(4, '14:00')
    const days = [
      ...base.filter((r) => !inBath(r)),
      moving('pr-liv', sh(4, '02:00')),
      moving('pr-liv', sh(4, '11:00')),
      still('pr-bath', sh(4, '12:00'), true),
      ...every10(sh(4, '12:00'), sh(4, '13:50'), (t) => [still('pr-bath', t, true)]),
    ].filter((r) => r.at < sh(5, '03:00') || r.at > sh(5, '04:00')) // an hour of silence
    for (let now = T0; now < sh(5, '12:00'); now += 7 * MIN + 13) {
      const state = stateAt(days, now)
      const next = nextPresenceCheck(state, ctx(now))
      expect(next).not.toBeNull()
      expect(next!).toBeGreaterThan(now)
      const before = byKey(evaluatePresence(state, ctx(now)))
      for (const t of [now + 1, Math.floor((now + next!) / 2), next! - 1]) {
        expect(byKey(evaluatePresence(state, ctx(t))), `from ${now} to ${t}`).toEqual(before)
      }
    }
  })
})

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}

