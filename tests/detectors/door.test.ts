import { describe, expect, it } from 'vitest'
import type { DeviceInfo, EvalContext } from '../../src/detectors/context.js'
import type { Evaluation } from '../../src/detectors/model.js'
import { applyDoorReading, evaluateDoor, initialDoorState, nextDoorCheck, type DoorState } from '../../src/detectors/door.js'
import { applyPresenceReading, initialPresenceState, type PresenceState } from '../../src/detectors/presence.js'
import { resolveSettings, type DetectorOverride } from '../../src/detectors/settings.js'

// Thresholds under test (see the header of door.ts): door idle at ≥ 48 h, wandering at ≥ 30 min
// after the opening, night window [23:00, 05:00) crossing midnight.

const MIN = 60_000
/** Local Shanghai wall-clock time (UTC+8) on a day of March 2024. */
const sh = (day: number, hhmm: string, extraMs = 0) => {
  const [h, m] = hhmm.split(':').map(Number)
  return Date.UTC(2024, 2, day, h! - 8, m!) + extraMs
}
const T0 = sh(3, '20:00')

const HOME: Record<string, DeviceInfo> = {
  'door-1': { kind: 'door', room: 'entrance', heartbeatS: 3600, registeredAt: T0 },
  'door-balcony': { kind: 'door', room: 'living_room', heartbeatS: 3600, registeredAt: T0 },
  'pr-bed': { kind: 'presence', room: 'bedroom', heartbeatS: 300, registeredAt: T0 },
  'pr-hall': { kind: 'presence', room: 'entrance', heartbeatS: 300, registeredAt: T0 },
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

type Input =
  | ({ type: 'door' } & Parameters<typeof applyDoorReading>[1])
  | ({ type: 'presence' } & Parameters<typeof applyPresenceReading>[1])
const open = (at: number, deviceId = 'door-1'): Input => ({ type: 'door', deviceId, room: null, at, open: true })
const close = (at: number, deviceId = 'door-1'): Input => ({ type: 'door', deviceId, room: null, at, open: false })
const moving = (at: number, deviceId = 'pr-bed'): Input => ({ type: 'presence', deviceId, room: null, at, occupied: true, motion: true })

/** Both states after every input up to `now`, in time order. */
function statesAt(inputs: Input[], now: number, over: Over = {}): { door: DoorState; presence: PresenceState } {
  let door = initialDoorState()
  let presence = initialPresenceState()
  for (const i of [...inputs].sort((a, b) => a.at - b.at).filter((x) => x.at <= now)) {
    if (i.type === 'door') door = applyDoorReading(door, i, ctx(i.at, over))
    else presence = applyPresenceReading(presence, i, ctx(i.at, over))
  }
  return { door, presence }
}
const byKey = (evals: Evaluation[]) => Object.fromEntries(evals.map((e) => [e.key, e.status]))
function statuses(inputs: Input[], now: number, over: Over = {}) {
  const s = statesAt(inputs, now, over)
  return byKey(evaluateDoor(s.door, s.presence, ctx(now, over)))
}
function explanation(inputs: Input[], now: number, key: string, over: Over = {}) {
  const s = statesAt(inputs, now, over)
  const e = evaluateDoor(s.door, s.presence, ctx(now, over)).find((x) => x.key === key)
  if (e?.status !== 'true') throw new Error(`${key} is ${e?.status}, not true`)
  return e.condition.explanation
}

describe('door: idle entrance door', () => {
  const visit = [open(sh(4, '08:00')), close(sh(4, '08:01'))]

  it('raises a visit task when the entrance door has not opened for 48 h', () => {
    expect(statuses(visit, sh(6, '08:00', -1)).door_idle).toBe('false')
    expect(statuses(visit, sh(6, '08:00')).door_idle).toBe('true')
    expect(explanation(visit, sh(6, '10:00'), 'door_idle')).toEqual({
      zh: '入户门已 50 小时未打开;上次打开 08:00',
      en: 'Entrance door not opened for 50 h; last opened at 08:00',
    })
  })

  it('counts from the start of observation when the door has not opened since', () => {
    const back = { observedFrom: sh(5, '09:00') }
    expect(statuses(visit, sh(7, '09:00', -1), back).door_idle).toBe('false')
    expect(statuses(visit, sh(7, '09:00'), back).door_idle).toBe('true')
    expect(explanation(visit, sh(7, '09:00'), 'door_idle', back).zh).toBe('入户门已 48 小时未打开(自 09:00 开始观察)')
  })

  it('does not count a door other than the one marked entrance', () => {
    const balconyOnly = [...visit, open(sh(5, '12:00'), 'door-balcony')]
    expect(statuses(balconyOnly, sh(6, '08:00')).door_idle).toBe('true')
  })

  it('treats any door as the entrance when none is marked', () => {
    const unmarked = { devices: { ...HOME, 'door-1': { ...HOME['door-1']!, room: null } } }
    const balcony = [...visit, open(sh(5, '12:00'), 'door-balcony')]
    expect(statuses(balcony, sh(6, '08:00'), unmarked).door_idle).toBe('false')
    expect(statuses(balcony, sh(7, '12:00'), unmarked).door_idle).toBe('true')
  })

  it('does not take a contact repeating "open", or a closing, for a new opening', () => {
    const leftOpen = [open(sh(4, '08:00')), open(sh(4, '20:00')), close(sh(5, '09:00'))]
    expect(statuses(leftOpen, sh(6, '08:00')).door_idle).toBe('true')
  })

  it('ignores a reading that is not newer than that contact’s latest', () => {
    const { door } = statesAt([close(sh(4, '09:00'))], sh(4, '09:00'))
    expect(applyDoorReading(door, { deviceId: 'door-1', room: null, at: sh(4, '08:59'), open: true }, ctx(sh(4, '10:00')))).toBe(door)
    expect(applyDoorReading(door, { deviceId: 'door-1', room: null, at: sh(4, '09:00'), open: true }, ctx(sh(4, '10:00')))).toBe(door)
  })

  it('never mutates the state it is given, and keeps a JSON-serialisable state', () => {
    const state = Object.freeze({ ...initialDoorState(), contacts: Object.freeze({}) })
    const next = applyDoorReading(state, { deviceId: 'door-1', room: null, at: sh(4, '23:30'), open: true }, ctx(sh(4, '23:30')))
    expect(next.lastOpenedAt).toBe(sh(4, '23:30'))
    expect(next.lastNightOpenedAt).toBe(sh(4, '23:30'))
    expect(JSON.parse(JSON.stringify(next))).toEqual(next)
  })

  it('says false for both rules in a household without a door contact', () => {
    const noDoor = { devices: { 'pr-bed': HOME['pr-bed']! } }
    const s = statesAt([moving(sh(4, '22:00'))], sh(9, '00:00'), noDoor)
    expect(evaluateDoor(s.door, s.presence, ctx(sh(9, '00:00'), noDoor))).toEqual([
      { key: 'door_idle', status: 'false' },
      { key: 'wandering', status: 'false' },
    ])
    expect(nextDoorCheck(s.door, s.presence, ctx(sh(9, '00:00'), noDoor))).toBeNull()
  })
})

describe('door: night wandering', () => {
  const walkOut = [moving(sh(4, '23:25')), open(sh(4, '23:30')), close(sh(4, '23:31'))]

  it('raises when the door opened at 23:30 and nobody is seen inside by 00:00', () => {
    expect(statuses(walkOut, sh(5, '00:00', -1)).wandering).toBe('false')
    expect(statuses(walkOut, sh(5, '00:00')).wandering).toBe('true')
    expect(explanation(walkOut, sh(5, '00:10'), 'wandering')).toEqual({
      zh: '夜间 23:30 入户门打开,此后 40 分钟室内无活动',
      en: 'Entrance door opened at 23:30 at night; no activity inside for 40 min since',
    })
  })

  it('ignores an opening at 22:59, before the night window', () => {
    expect(statuses([open(sh(4, '22:59'))], sh(5, '03:00')).wandering).toBe('false')
  })

  it('takes 23:00 and 04:59 as night and 05:00 as morning', () => {
    expect(statuses([open(sh(4, '23:00'))], sh(4, '23:30')).wandering).toBe('true')
    expect(statuses([open(sh(5, '04:59'))], sh(5, '05:29')).wandering).toBe('true')
    expect(statuses([open(sh(5, '05:00'))], sh(5, '08:00')).wandering).toBe('false')
  })

  it('clears when activity is seen inside after the opening', () => {
    const back = [...walkOut, moving(sh(5, '00:20'))]
    expect(statuses(back, sh(5, '00:20', -1)).wandering).toBe('true')
    expect(statuses(back, sh(5, '00:20')).wandering).toBe('false')
    expect(statuses(back, sh(5, '04:00')).wandering).toBe('false')
  })

  it('does not take movement in the entrance, as the resident walks out, for a return', () => {
    const leaving = [...walkOut, moving(sh(4, '23:31'), 'pr-hall'), moving(sh(4, '23:32'), 'pr-hall')]
    expect(statuses(leaving, sh(5, '00:00')).wandering).toBe('true')
    // Back in the bedroom: answered.
    expect(statuses([...leaving, moving(sh(5, '00:05'))], sh(5, '00:10')).wandering).toBe('false')
  })

  it('takes entrance movement as a return where the entrance is the only sensor', () => {
    const hallOnly = { devices: { 'door-1': HOME['door-1']!, 'pr-hall': HOME['pr-hall']! } }
    const back = [open(sh(4, '23:30')), moving(sh(4, '23:50'), 'pr-hall')]
    expect(statuses(back, sh(5, '00:30'), hallOnly).wandering).toBe('false')
    expect(statuses([open(sh(4, '23:30'))], sh(5, '00:30'), hallOnly).wandering).toBe('true')
  })

  it('reads a presence state saved before inside activity was tracked as before', () => {
    const s = statesAt([open(sh(4, '23:30'))], sh(4, '23:30'))
    const { lastInsideActivityAt: _dropped, ...saved } = applyPresenceReading(s.presence, { deviceId: 'pr-hall', room: null, at: sh(4, '23:45'), occupied: true, motion: true }, ctx(sh(4, '23:45')))
    expect(byKey(evaluateDoor(s.door, saved, ctx(sh(5, '00:30')))).wandering).toBe('false')
  })

  it('does not take activity at the very instant of the opening as a return', () => {
    const sameInstant = [open(sh(4, '23:30')), moving(sh(4, '23:30'), 'pr-hall')]
    expect(statuses(sameInstant, sh(5, '00:00')).wandering).toBe('true')
  })

  it('looks only at the latest night opening', () => {
    const outAndBack = [open(sh(4, '23:30')), close(sh(4, '23:31')), moving(sh(4, '23:40')), open(sh(5, '01:00'))]
    expect(statuses(outAndBack, sh(5, '01:00')).wandering).toBe('false')
    expect(statuses(outAndBack, sh(5, '01:30', -1)).wandering).toBe('false')
    expect(statuses(outAndBack, sh(5, '01:30')).wandering).toBe('true')
  })

  it('cannot tell without a presence sensor, so says false', () => {
    const doorsOnly = { devices: { 'door-1': HOME['door-1']! } }
    expect(statuses([open(sh(4, '23:30'))], sh(5, '02:00'), doorsOnly).wandering).toBe('false')
  })

  it('ignores a night opening before observation began', () => {
    expect(statuses([open(sh(4, '23:30'))], sh(5, '02:00'), { observedFrom: sh(5, '00:00') }).wandering).toBe('false')
  })

  it('does not count the balcony door when an entrance is marked', () => {
    expect(statuses([open(sh(4, '23:30'), 'door-balcony')], sh(5, '02:00')).wandering).toBe('false')
  })

  it('follows a household’s own night window', () => {
    const early = { settings: { door: { nightFrom: '22:00', nightTo: '06:00' } } }
    expect(statuses([open(sh(4, '22:30'))], sh(4, '23:00'), early).wandering).toBe('true')
    expect(statuses([open(sh(5, '05:30'))], sh(5, '06:00'), early).wandering).toBe('true')
  })
})

describe('door: next check', () => {
  function expectFlipAt(inputs: Input[], now: number, expected: number, over: Over = {}) {
    const { door, presence } = statesAt(inputs, now, over)
    const next = nextDoorCheck(door, presence, ctx(now, over))
    expect(next).toBe(expected)
    const at = (t: number) => byKey(evaluateDoor(door, presence, ctx(t, over)))
    expect(at(expected - 1)).toEqual(at(now))
    expect(at(expected)).not.toEqual(at(now))
  }

  it('wakes exactly when the door has been idle 48 h', () => {
    expectFlipAt([open(sh(4, '08:00'))], sh(5, '12:00'), sh(6, '08:00'))
  })

  it('wakes exactly 30 min after a night opening nobody answered', () => {
    expectFlipAt([open(sh(4, '23:30'))], sh(4, '23:40'), sh(5, '00:00'))
  })

  it('does not wake for an opening already answered by activity', () => {
    const { door, presence } = statesAt([open(sh(4, '23:30')), moving(sh(4, '23:35'))], sh(4, '23:40'))
    expect(nextDoorCheck(door, presence, ctx(sh(4, '23:40')))).toBe(sh(6, '23:30'))
  })

  it('is never later than a change, all through three eventful days', () => {
    const days = [
      open(sh(3, '23:10')),
      moving(sh(3, '23:50')),
      open(sh(4, '02:00')),
      close(sh(4, '02:01')),
      open(sh(5, '03:00'), 'door-balcony'),
      moving(sh(5, '07:00')),
    ]
    for (let now = T0; now < sh(7, '12:00'); now += 11 * MIN + 17) {
      const { door, presence } = statesAt(days, now)
      const next = nextDoorCheck(door, presence, ctx(now))
      const before = byKey(evaluateDoor(door, presence, ctx(now)))
      const horizon = next ?? now + 7 * 24 * 60 * MIN
      expect(horizon).toBeGreaterThan(now)
      for (const t of [now + 1, Math.floor((now + horizon) / 2), horizon - 1]) {
        expect(byKey(evaluateDoor(door, presence, ctx(t))), `from ${now} to ${t}`).toEqual(before)
      }
    }
  })
})
