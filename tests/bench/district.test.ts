/** The benchmark's simulated district: wire format, determinism, the collapses, the variety, the answers. */
import { describe, expect, it } from 'vitest'
import { createDistrict, type SimHousehold, type WireMessage } from '../../bench/detection/district.js'
import { statusPayload, telemetryPayload } from '../../src/contract/index.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** 00:00 on 2 March 2026 in Shanghai. */
const FROM = Date.UTC(2026, 2, 1, 16)
const DAYS = 30

const district = createDistrict({ households: 200, days: DAYS, seed: 2026, from: FROM, collapseShare: 0.25 })
const collapsed = district.filter((h) => h.collapse !== null)

/** All messages of a home over the period, rendered once per home and kept for the file. */
const cache = new Map<number, WireMessage[][]>()
function allDays(h: SimHousehold): WireMessage[][] {
  let days = cache.get(h.index)
  if (!days) {
    days = Array.from({ length: DAYS }, (_, d) => h.messages(d))
    cache.set(h.index, days)
  }
  return days
}

const payloadOf = (m: WireMessage) => m.payload as Record<string, unknown> & { ts: number }

/**
 * Collects what breaks a rule over millions of messages, and asserts once (vitest's expect per
 * message would take minutes): the first few problems show in the failure.
 */
class Problems {
  readonly list: string[] = []
  count = 0
  check(ok: boolean, what: () => string): void {
    if (ok) return
    this.count++
    if (this.list.length < 5) this.list.push(what())
  }
  assertNone(): void {
    expect(this.list, `${this.count} problems`).toEqual([])
  }
}

describe('createDistrict: determinism', () => {
  it('gives the same messages, truth and answers for the same options, and others for another seed', () => {
    const o = { households: 12, days: 8, seed: 77, from: FROM, collapseShare: 0.25 }
    const a = createDistrict(o)
    const b = createDistrict(o)
    const c = createDistrict({ ...o, seed: 78 })
    for (let i = 0; i < o.households; i++) {
      const [ha, hb] = [a[i]!, b[i]!]
      expect(JSON.stringify(ha.messages(3))).toBe(JSON.stringify(hb.messages(3)))
      // In any order: a day rendered again, or after another, is the same.
      expect(JSON.stringify(ha.messages(3))).toBe(JSON.stringify(hb.messages(3)))
      expect(JSON.stringify([ha.persona, ha.devices, ha.collapse, ha.absences, ha.awayMode])).toBe(JSON.stringify([hb.persona, hb.devices, hb.collapse, hb.absences, hb.awayMode]))
      for (let t = FROM + DAY + 17 * MINUTE; t < FROM + 7 * DAY; t += 211 * MINUTE) {
        expect(ha.stateAt(t)).toBe(hb.stateAt(t))
        expect(ha.answerCheckin(t, 300)).toBe(hb.answerCheckin(t, 300))
        expect(ha.answerCheckin(t, 300)).toBe(ha.answerCheckin(t, 300))
        expect(ha.answerFamily(t)).toEqual(hb.answerFamily(t))
        expect(ha.answerFamily(t)).toEqual(ha.answerFamily(t))
      }
    }
    expect(JSON.stringify(a.map((h) => h.messages(2)))).not.toBe(JSON.stringify(c.map((h) => h.messages(2))))
  })

  it('renders nothing outside the period', () => {
    expect(district[0]!.messages(-1)).toEqual([])
    expect(district[0]!.messages(DAYS)).toEqual([])
  })
})

describe('messages: the wire', () => {
  it('every payload matches the contract schema, on devices of the home, with valid ids and integer ts', () => {
    const ids = new Set<string>()
    for (const h of district) {
      for (const d of h.devices) {
        expect(d.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/)
        expect(ids.has(d.id)).toBe(false)
        ids.add(d.id)
      }
    }
    const bad = new Problems()
    for (const h of district.slice(0, 25)) {
      const mine = new Set(h.devices.map((d) => d.id))
      for (const day of [0, 13, 29]) {
        for (const m of h.messages(day)) {
          const show = () => `${m.deviceId} ${m.channel} ${JSON.stringify(m.payload)}`
          bad.check(mine.has(m.deviceId) && m.channel !== 'alarm', show)
          const parsed = (m.channel === 'telemetry' ? telemetryPayload : statusPayload).safeParse(m.payload)
          bad.check(parsed.success, () => `${show()}: ${parsed.error?.message ?? ''}`)
          bad.check(Number.isInteger(payloadOf(m).ts) && Number.isInteger(m.at), show)
        }
      }
    }
    bad.assertNone()
  })

  it("day 0 starts with every device's status, as on connect: online, battery, and the button's caps", () => {
    for (const h of district.slice(0, 50)) {
      const first = new Map<string, WireMessage>()
      for (const m of h.messages(0)) if (!first.has(m.deviceId)) first.set(m.deviceId, m)
      for (const d of h.devices) {
        const m = first.get(d.id)!
        expect(m.channel).toBe('status')
        expect(m.at - FROM).toBeLessThan(MINUTE)
        expect(m.payload).toMatchObject({ online: true, battery: expect.any(Number) })
        if (d.caps.length > 0) expect(m.payload.caps).toEqual(d.caps)
        else expect(m.payload.caps).toBeUndefined()
      }
    }
  })

  it('each day is sorted by receive time and inside the day; a device is received in the order it sent', () => {
    const bad = new Problems()
    for (const h of district.slice(0, 25)) {
      const lastTs = new Map<string, number>()
      allDays(h).forEach((msgs, d) => {
        let prev = -Infinity
        for (const m of msgs) {
          const ts = payloadOf(m).ts
          const show = () => `${h.key} day ${d}: ${m.at} ${m.deviceId} ${JSON.stringify(m.payload)}`
          bad.check(m.at >= prev && m.at >= FROM + d * DAY && m.at < FROM + (d + 1) * DAY, show)
          bad.check(ts <= m.at && ts >= (lastTs.get(m.deviceId) ?? -Infinity), show)
          prev = m.at
          lastTs.set(m.deviceId, ts)
        }
      })
    }
    bad.assertNone()
  })

  it('telemetry ids are unique per device over the whole period', () => {
    const bad = new Problems()
    for (const h of district.slice(0, 25)) {
      const seen = new Set<string>()
      for (const msgs of allDays(h)) {
        for (const m of msgs) {
          if (m.channel !== 'telemetry') continue
          const key = `${m.deviceId}/${String(m.payload.id)}`
          bad.check(!seen.has(key), () => key)
          seen.add(key)
        }
      }
    }
    bad.assertNone()
  })

  it('presence sensors report at least every 10 min unless flaky; PIRs never send motion', () => {
    const bad = new Problems()
    for (const h of district.slice(0, 25)) {
      const flaky = String(h.persona.flakyDevices).split(' ')
      for (const d of h.devices.filter((x) => x.kind === 'presence')) {
        const ts = allDays(h)
          .flat()
          .filter((m) => m.deviceId === d.id && m.channel === 'telemetry')
        for (const m of ts) bad.check(d.model === 'mmwave' ? typeof m.payload.motion === 'boolean' : !('motion' in m.payload), () => `${d.id} ${JSON.stringify(m.payload)}`)
        if (flaky.includes(d.id)) continue
        for (let i = 1; i < ts.length; i++) bad.check(payloadOf(ts[i]!).ts - payloadOf(ts[i - 1]!).ts <= 10 * MINUTE, () => `${d.id} gap before ${payloadOf(ts[i]!).ts}`)
      }
    }
    bad.assertNone()
  })

  it('water registers only grow, in whole litres; batch meters deliver readings hours after their ts, without flow', () => {
    const bad = new Problems()
    let lagged = 0
    for (const h of district.slice(0, 25)) {
      const meter = h.devices.find((d) => d.kind === 'water')!
      let last = -Infinity
      for (const msgs of allDays(h)) {
        for (const m of msgs) {
          if (m.deviceId !== meter.id || m.channel !== 'telemetry') continue
          const show = () => `${meter.id} ${meter.model} ${m.at} ${JSON.stringify(m.payload)} after ${last}`
          const total = m.payload.totalM3 as number
          bad.check(total >= last && Math.abs(total * 1000 - Math.round(total * 1000)) < 1e-6, show)
          last = total
          const late = m.at - payloadOf(m).ts
          if (meter.model === 'meter-batch') {
            bad.check(m.payload.flowLpm === undefined, show)
            if (late > HOUR) lagged++
          } else bad.check(typeof m.payload.flowLpm === 'number' && late < 10_000, show)
        }
      }
    }
    bad.assertNone()
    expect(lagged).toBeGreaterThan(100)
  })

  it('the door opens and closes again 5–40 s later', () => {
    for (const h of district.slice(0, 25)) {
      const door = h.devices.find((d) => d.kind === 'door')
      if (!door || String(h.persona.flakyDevices).includes(door.id)) continue
      const events = allDays(h)
        .flat()
        .filter((m) => m.deviceId === door.id && m.channel === 'telemetry')
      for (let i = 0; i + 1 < events.length; i++) {
        if (events[i]!.payload.open !== true) continue
        expect(events[i + 1]!.payload.open).toBe(false)
        const dt = payloadOf(events[i + 1]!).ts - payloadOf(events[i]!).ts
        expect(dt).toBeGreaterThanOrEqual(5000)
        expect(dt).toBeLessThanOrEqual(40_000)
      }
    }
  })
})

describe('collapses', () => {
  it('happen in the share of homes asked for, once, inside the period, at home and outside any announced stay', () => {
    expect(collapsed.length).toBe(50)
    for (const h of collapsed) {
      const { at, room } = h.collapse!
      expect(at).toBeGreaterThanOrEqual(FROM + DAY)
      expect(at).toBeLessThanOrEqual(FROM + (DAYS - 1) * DAY)
      expect(h.stateAt(at)).toBe('collapsed')
      expect(h.stateAt(at + 5 * DAY)).toBe('collapsed')
      expect(['out', 'collapsed']).not.toContain(h.stateAt(at - 1))
      expect(['bathroom', 'bedroom', 'living_room', 'kitchen', 'entrance']).toContain(room)
      for (const a of h.absences) expect(a.from < at && at < a.to).toBe(false)
      for (const a of h.absences) expect(a.from).toBeLessThan(at)
      for (const w of h.awayMode) expect(w.setAt <= at && at < w.until).toBe(false)
      expect(h.answerCheckin(at + HOUR, 600)).toBeNull()
      for (let t = at + 10 * MINUTE; t < at + 3 * DAY; t += 97 * MINUTE) expect([null, 'not_with_us']).toContain(h.answerFamily(t)?.answer ?? null)
    }
    const rooms = new Set(collapsed.map((h) => h.collapse!.room))
    expect(rooms.has('bathroom') && rooms.has('bedroom')).toBe(true)
    for (const h of district) if (!h.collapse) expect(h.stateAt(FROM + (DAYS - 1) * DAY)).not.toBe('collapsed')
  })

  it('after a collapse: no motion, no PIR occupancy, no door opening, and no more water once a running tap or machine has stopped', () => {
    const bad = new Problems()
    for (const h of collapsed) {
      const { at } = h.collapse!
      const pir = new Set(h.devices.filter((d) => d.model === 'pir').map((d) => d.id))
      let register: number | undefined
      for (let d = Math.floor((at - FROM) / DAY); d < DAYS; d++) {
        for (const m of h.messages(d)) {
          const ts = payloadOf(m).ts
          if (m.channel !== 'telemetry' || ts < at) continue
          const p = m.payload
          const show = () => `${h.key} collapsed ${at}: ${m.deviceId} ${JSON.stringify(p)}`
          if (p.kind === 'door') bad.check(p.open === false, show)
          if (p.kind === 'presence' && ts > at + MINUTE) bad.check(p.motion !== true, show)
          if (p.kind === 'presence' && pir.has(m.deviceId) && ts > at + 6 * MINUTE) bad.check(p.occupied === false, show)
          if (p.kind === 'water' && ts > at + 2 * HOUR) {
            register ??= p.totalM3 as number
            bad.check(p.totalM3 === register && (p.flowLpm === undefined || p.flowLpm === 0), show)
          }
        }
      }
    }
    bad.assertNone()
  })

  it('an mmWave radar in the room of the collapse goes on seeing someone there, still', () => {
    const bad = new Problems()
    let checked = 0
    for (const h of collapsed) {
      const { at, room } = h.collapse!
      const radar = h.devices.find((d) => d.kind === 'presence' && d.model === 'mmwave' && d.room === room)
      if (!radar) continue
      for (const d of [Math.floor((at - FROM) / DAY) + 1, DAYS - 1]) {
        if (d >= DAYS) continue
        for (const m of h.messages(d)) {
          if (m.deviceId !== radar.id || m.channel !== 'telemetry') continue
          bad.check(m.payload.occupied === true && m.payload.motion === false, () => `${radar.id} ${JSON.stringify(m.payload)}`)
          checked++
        }
      }
    }
    bad.assertNone()
    expect(checked).toBeGreaterThan(100)
  })
})

describe('variety across 200 homes', () => {
  it('people: wake-ups over more than 3 h, nights away, hospital stays announced, homes that nap and homes that do not', () => {
    const typicalWake: number[] = []
    for (const h of district) {
      const wakes: number[] = []
      for (const d of [2, 3, 4, 5, 6]) {
        const mid = FROM + d * DAY
        for (let t = mid + 3.5 * HOUR; t < mid + 14 * HOUR; t += 5 * MINUTE) {
          // Up for good: awake (or out) for the next half hour.
          if (h.stateAt(t) === 'asleep') continue
          if ([1, 2, 3, 4, 5, 6].every((k) => h.stateAt(t + k * 5 * MINUTE) !== 'asleep')) {
            wakes.push((t - mid) / HOUR)
            break
          }
        }
      }
      wakes.sort((a, b) => a - b)
      if (wakes.length >= 3) typicalWake.push(wakes[Math.floor(wakes.length / 2)]!)
    }
    expect(Math.max(...typicalWake) - Math.min(...typicalWake)).toBeGreaterThan(3)

    const kinds = new Map<string, number>()
    for (const h of district) {
      for (let i = 0; i < h.absences.length; i++) {
        const a = h.absences[i]!
        kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1)
        expect(a.to).toBeGreaterThan(a.from)
        expect(a.announced).toBe(a.kind === 'hospital')
        if (i > 0) expect(a.from).toBeGreaterThanOrEqual(h.absences[i - 1]!.to)
      }
    }
    expect(kinds.get('night_away') ?? 0).toBeGreaterThan(10)
    expect(kinds.get('day_trip') ?? 0).toBeGreaterThan(10)
    expect(kinds.get('errand') ?? 0).toBeGreaterThan(1000)
    expect(district.some((h) => h.absences.filter((a) => a.kind === 'night_away').length === 0)).toBe(true)

    const withStays = district.filter((h) => h.awayMode.length > 0)
    expect(withStays.length).toBeGreaterThan(0)
    for (const h of withStays) {
      for (const w of h.awayMode) {
        const stay = h.absences.find((a) => a.kind === 'hospital' && Math.abs(a.from - w.from) < MINUTE)!
        expect(stay).toBeDefined()
        expect(w.setAt).toBeLessThanOrEqual(stay.from)
        expect(stay.from - w.setAt).toBeLessThanOrEqual(DAY)
        expect(Math.abs(w.until - stay.to)).toBeLessThanOrEqual(DAY)
      }
    }
    const naps = new Set(district.map((h) => h.persona.nap))
    expect(naps).toEqual(new Set(['none', 'bed', 'armchair']))
    expect(new Set(district.map((h) => h.persona.bathing))).toEqual(new Set(['bath', 'shower']))
  })

  it('devices: all four meter models, both sensor kinds, 1–4 sensors, some homes without a door, some without a speaker', () => {
    const models = new Set(district.flatMap((h) => h.devices.map((d) => d.model)))
    for (const m of ['meter-change', 'meter-15', 'meter-60', 'meter-batch', 'mmwave', 'pir', 'door', 'button']) expect(models.has(m)).toBe(true)
    const sensors = new Set(district.map((h) => h.devices.filter((d) => d.kind === 'presence').length))
    expect(sensors).toEqual(new Set([1, 2, 3, 4]))
    const noDoor = district.filter((h) => !h.devices.some((d) => d.kind === 'door')).length
    expect(noDoor).toBeGreaterThan(20)
    expect(noDoor).toBeLessThan(100)
    const speakers = district.filter((h) => h.devices[0]!.caps.includes('checkin')).length
    expect(speakers).toBeGreaterThan(120)
    expect(speakers).toBeLessThan(185)
    for (const h of district) {
      expect(h.devices.filter((d) => d.kind === 'button')).toHaveLength(1)
      expect(h.devices.filter((d) => d.kind === 'water')).toHaveLength(1)
    }
    expect(district.filter((h) => h.persona.flakyDevices !== '').length).toBeGreaterThan(20)
  })

  it('flaky devices go silent for an hour or more and say so with a status when back', () => {
    let silences = 0
    for (const h of district.slice(0, 25).filter((x) => x.persona.flakyDevices !== '')) {
      for (const id of String(h.persona.flakyDevices).split(' ')) {
        const mine = allDays(h)
          .flat()
          .filter((m) => m.deviceId === id)
        for (let i = 1; i < mine.length; i++) {
          if (mine[i]!.at - mine[i - 1]!.at > 55 * MINUTE && !h.devices.find((d) => d.id === id)!.model.startsWith('meter-')) {
            silences++
            expect(mine[i]!.channel).toBe('status')
          }
        }
      }
    }
    expect(silences).toBeGreaterThan(0)
  })
})

describe('answers', () => {
  it('check-in: no answer when out or collapsed or without a speaker; mostly answered when awake at home, within the timeout', () => {
    const tally = { awake: [0, 0], asleep: [0, 0] }
    for (const h of district) {
      const speaker = h.devices[0]!.caps.includes('checkin')
      for (let t = FROM + DAY + 13 * MINUTE; t < FROM + (DAYS - 1) * DAY; t += 401 * MINUTE) {
        const state = h.stateAt(t)
        const answer = h.answerCheckin(t, 300)
        if (answer !== null) {
          expect(answer).toBeGreaterThan(t)
          expect(answer).toBeLessThanOrEqual(t + 300_000)
          expect(['out', 'collapsed']).not.toContain(h.stateAt(answer))
        }
        if (!speaker || state === 'collapsed') expect(answer).toBeNull()
        if (state === 'out' && h.stateAt(t + 300_000) === 'out') expect(answer).toBeNull()
        if (speaker && (state === 'awake' || state === 'asleep')) {
          tally[state][0]!++
          if (answer !== null) tally[state][1]!++
        }
        // A shorter wait is never answered later than the longer one.
        const short = h.answerCheckin(t, 30)
        if (short !== null) expect(short).toBe(answer)
      }
    }
    const rate = (x: number[]) => x[1]! / x[0]!
    expect(rate(tally.awake)).toBeGreaterThan(0.85)
    expect(rate(tally.asleep)).toBeGreaterThan(0.3)
    expect(rate(tally.asleep)).toBeLessThan(rate(tally.awake))
  })

  it('family: "with us" during a night away, until the evening after the return; never for an elder at home', () => {
    let withUs = 0
    for (const h of district) {
      for (const a of h.absences.filter((x) => x.kind === 'night_away')) {
        for (let t = a.from + 30 * MINUTE; t < a.to - 2 * HOUR; t += 3 * HOUR) {
          const f = h.answerFamily(t)
          if (f === null) continue
          expect(f.at).toBeGreaterThan(t)
          if (f.at >= a.to) continue
          expect(f.answer).toBe('with_us')
          if (f.answer === 'with_us') {
            withUs++
            expect(f.until).toBeGreaterThanOrEqual(a.to)
            expect(f.until - a.to).toBeLessThanOrEqual(DAY)
            expect(((f.until - FROM) % DAY) / HOUR).toBe(18)
          }
        }
      }
      for (let t = FROM + 2 * DAY + 7 * MINUTE; t < FROM + 5 * DAY; t += 173 * MINUTE) {
        const f = h.answerFamily(t)
        if (f && h.stateAt(f.at) !== 'out' && h.stateAt(f.at) !== 'collapsed') expect(f.answer).toBe('phoned_safe')
      }
    }
    expect(withUs).toBeGreaterThan(10)
    const never = district.filter((h) => h.persona.familyAnswers === 'never')
    expect(never.length).toBeGreaterThan(15)
    for (const h of never.slice(0, 5)) expect(h.answerFamily(FROM + 3 * DAY + 10 * HOUR)).toBeNull()
  })
})
