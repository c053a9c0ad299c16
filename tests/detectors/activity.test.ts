/**
 * Adaptive detection, pure: a household's monitor on virtual time, fed as the detector service
 * feeds it. Each test is a life: what the elder did, what the devices saw, what the platform
 * asked and what it raised.
 */
import { describe, expect, it } from 'vitest'
import type { CheckRequest } from '../../src/detectors/activity.js'
import type { Finding, MonitorInput } from '../../src/detectors/model.js'
import { newMonitor, step, type MonitorState } from '../../src/detectors/monitor.js'
import { BIN_EDGES_MIN, inBedFromMinute, learnSpell, initialRhythm, tailPointMin, thresholdFor, priorThresholdMin, upByMinute } from '../../src/detectors/rhythm.js'
import { resolveSettings, type DetectorOverride } from '../../src/detectors/settings.js'

const MIN = 60_000
const H = 60 * MIN
const DAY = 24 * H
/** 00:00 on 2 March 2026 in Shanghai. */
const MIDNIGHT = Date.UTC(2026, 2, 1, 16)
const at = (day: number, hh: number, mm = 0) => MIDNIGHT + day * DAY + hh * H + mm * MIN

type Room = 'bedroom' | 'living_room' | 'bathroom'

type Sensor = 'mmwave' | 'pir'

interface Devices {
  door?: boolean
  button?: 'checkin' | 'plain'
  family?: boolean
  bathroom?: Sensor
  /** Radars by default; 'none': no sensor there. */
  bedroom?: Sensor | 'none'
  living?: Sensor | 'none'
  /** The living-room radar sees her there whenever she is home by day (an armchair in its view): it reports occupied. */
  armchair?: boolean
}

/** One home: a button, a meter, radars in the bedroom and living room (and the bathroom), maybe a door. */
class Home {
  state: MonitorState
  findings: Finding[] = []
  requests: (CheckRequest & { at: number })[] = []
  private next: number | null = null
  private now: number
  private register = 100
  private readonly settings
  /** Devices that send nothing (a flaky contact). */
  readonly silent = new Set<string>()

  constructor(
    readonly devices: Devices = {},
    over: DetectorOverride = {},
    start = MIDNIGHT,
  ) {
    this.settings = resolveSettings(over)
    this.now = start
    this.state = newMonitor('hh-1', start)
    const add = (deviceId: string, kind: string, room: string | null) => this.apply({ type: 'device', deviceId, kind, room, heartbeatS: 3600, registeredAt: start })
    add('btn', 'button', null)
    add('wm', 'water', 'kitchen')
    if (devices.bedroom !== 'none') add('pr-bed', 'presence', 'bedroom')
    if (devices.living !== 'none') add('pr-liv', 'presence', 'living_room')
    if (devices.bathroom) add('pr-bath', 'presence', 'bathroom')
    if (devices.door) add('dr', 'door', 'entrance')
    this.apply({ type: 'seen', deviceId: 'btn', at: start, caps: devices.button === 'checkin' ? ['checkin', 'voice'] : [] })
    if (devices.family) this.apply({ type: 'family_reach', reachable: true })
  }

  private apply(input: MonitorInput, t = this.now): void {
    const r = step(this.state, input, t, this.settings)
    this.state = r.state
    this.next = r.nextCheckAt
    this.findings.push(...r.findings)
    this.requests.push(...r.requests.map((q) => ({ ...q, at: t })))
  }

  /** Moves time on to `t`, the devices reporting as they do (radars every 10 min, the meter every 30) and the monitor's own checks. */
  until(t: number, o: { occupied?: string } = {}): this {
    let report = Math.ceil(this.now / (10 * MIN)) * 10 * MIN
    while (this.now < t) {
      const due = Math.min(t, report, this.next ?? Infinity)
      this.now = due
      if (this.next !== null && this.next <= due) this.apply({ type: 'tick' })
      if (due === report) {
        for (const id of this.presenceIds()) this.apply({ type: 'presence', deviceId: id, room: null, at: due, occupied: o.occupied === id || (id === 'pr-liv' && this.inArmchair(due)), ...this.motion(id, false) })
        if (report % (30 * MIN) === 0) {
          this.apply({ type: 'water', deviceId: 'wm', at: due, totalM3: this.register, flowLpm: 0 })
          for (const id of ['btn', ...(this.devices.door ? ['dr'] : [])]) if (!this.silent.has(id)) this.apply({ type: 'seen', deviceId: id, at: due, online: true })
        }
        report += 10 * MIN
      }
    }
    return this
  }

  /** Moves time on until the platform puts a question of this kind (or `limit`), and returns it. */
  untilAsked(kind: CheckRequest['kind'], limit: number): CheckRequest & { at: number } {
    const seen = this.requests.length
    while (this.now < limit) {
      this.until(Math.min(limit, this.now + MIN))
      const q = this.requests.slice(seen).find((r) => r.kind === kind)
      if (q) return q
    }
    throw new Error(`no ${kind} by ${new Date(limit).toISOString()}`)
  }

  move(t: number, room: 'bedroom' | 'living_room' | 'bathroom' = 'living_room'): this {
    this.until(t)
    const id = room === 'bedroom' ? 'pr-bed' : room === 'bathroom' ? 'pr-bath' : 'pr-liv'
    // A room without a sensor: nobody sees her there.
    if (this.presenceIds().includes(id)) this.apply({ type: 'presence', deviceId: id, room, at: t, occupied: true, ...this.motion(id, true) })
    return this
  }

  /** Radars report `motion`; a PIR does not (its occupancy is its movement). */
  private motion(id: string, moving: boolean): { motion?: boolean } {
    const kind = id === 'pr-bath' ? this.devices.bathroom : id === 'pr-bed' ? this.devices.bedroom : this.devices.living
    return kind === 'pir' ? {} : { motion: moving }
  }

  draw(t: number, litres: number): this {
    this.until(t)
    this.register = Math.round((this.register + litres / 1000) * 1000) / 1000
    this.apply({ type: 'water', deviceId: 'wm', at: t, totalM3: this.register, flowLpm: 0 })
    return this
  }

  door(t: number): this {
    this.until(t)
    this.apply({ type: 'door', deviceId: 'dr', room: 'entrance', at: t, open: true })
    this.apply({ type: 'door', deviceId: 'dr', room: 'entrance', at: t + 20_000, open: false }, t + 20_000)
    this.now = t + 20_000
    return this
  }

  /** The contact reports its state without the door moving (as on reconnecting). */
  doorReports(t: number, open: boolean): this {
    this.until(t)
    this.apply({ type: 'door', deviceId: 'dr', room: 'entrance', at: t, open })
    return this
  }

  press(t: number, ref: string): this {
    this.until(t)
    this.apply({ type: 'checkin_ok', deviceId: 'btn', at: t, ref })
    return this
  }

  familyAnswers(t: number, answer: 'with_us' | 'phoned_safe' | 'not_with_us'): this {
    this.until(t)
    const q = this.requests.filter((r) => r.kind === 'ask_family').at(-1)!
    this.apply({ type: 'family_answer', checkId: q.checkId, answer, at: t })
    return this
  }

  /**
   * An ordinary day: up at `wake`, a movement or a tap about every 20 minutes, in bed at 22:00 —
   * with its own moments (`extra`: a sign in a room, then nothing else for `holdMin`, with water
   * drawn 5 minutes in), outings through the door, and a life that stops at `stopAt`.
   */
  day(d: number, o: { wake?: number; stopAt?: number; extra?: { h: number; room: Room; holdMin: number; litres?: number }[]; out?: [number, number][] } = {}): this {
    const wake = at(d, 0) + (o.wake ?? 6.5) * H
    const stop = o.stopAt === undefined ? Infinity : at(d, 0) + o.stopAt * H
    const holds: [number, number][] = [...(o.extra ?? []).map((e) => [at(d, 0) + e.h * H, at(d, 0) + e.h * H + e.holdMin * MIN] as [number, number]), ...(o.out ?? []).map(([a, b]) => [at(d, 0) + a * H, at(d, 0) + b * H] as [number, number])]
    const events: [number, () => void][] = [[wake, () => this.move(wake, 'bedroom')]]
    for (let t = wake + 20 * MIN; t < at(d, 22); t += 20 * MIN) {
      if (holds.some(([a, b]) => t >= a - 5 * MIN && t <= b + 5 * MIN)) continue
      const when = t
      events.push([when, () => (Math.round(when / MIN) % 3 === 0 ? this.draw(when, 3) : this.move(when, 'living_room'))])
    }
    for (const e of o.extra ?? []) {
      const t = at(d, 0) + e.h * H
      events.push([t, () => this.move(t, e.room)])
      if (e.litres) events.push([t + 5 * MIN, () => this.draw(t + 5 * MIN, e.litres!)])
      events.push([t + e.holdMin * MIN, () => this.move(t + e.holdMin * MIN, 'living_room')])
    }
    for (const [a, b] of o.out ?? []) {
      events.push([at(d, 0) + a * H, () => this.door(at(d, 0) + a * H)])
      events.push([at(d, 0) + b * H, () => this.door(at(d, 0) + b * H).move(at(d, 0) + b * H + MIN)])
    }
    events.push([at(d, 22), () => this.move(at(d, 22), 'bedroom')])
    for (const [t, run] of events.sort((x, y) => x[0] - y[0])) if (t <= stop) run()
    return this
  }

  /** Out of the door marks the end of the armchair: `armchairUntil` stops it (she left its view). */
  armchairUntil = Infinity
  private inArmchair(t: number): boolean {
    const h = (((t - MIDNIGHT) % DAY) + DAY) % DAY / H
    return this.devices.armchair === true && t < this.armchairUntil && h >= 7 && h < 22
  }

  raised(): string[] {
    return this.findings.filter((f) => f.change === 'raised').map((f) => f.condition.key)
  }

  private presenceIds(): string[] {
    return [...(this.devices.bedroom !== 'none' ? ['pr-bed'] : []), ...(this.devices.living !== 'none' ? ['pr-liv'] : []), ...(this.devices.bathroom ? ['pr-bath'] : [])]
  }
}

describe('the learned rhythm (rhythm.ts)', () => {
  const s = resolveSettings().rhythm
  const tz = 'Asia/Shanghai'

  it('starts on the defaults and moves to the household’s own figure as her spells and days accrue', () => {
    let r = initialRhythm()
    const from = at(0, 14)
    expect(thresholdFor(r, 'home', from, tz, s)).toMatchObject({ minutes: priorThresholdMin('home', 14 * 60), source: 'defaults' })
    // Spells of under an hour around 14:00, eight a day.
    const spells = (days: number) => {
      r = initialRhythm()
      for (let d = 0; d < days; d++) for (let k = 0; k < 8; k++) r = learnSpell(r, 'home', at(d, 13 + k / 4), at(d, 13 + k / 4) + 50 * MIN, tz, s)
      return thresholdFor(r, 'home', at(days, 14), tz, s)
    }
    const day = spells(1)
    const week = spells(7)
    const month = spells(40)
    // One day already pulls the figure toward hers, but the defaults still weigh most.
    expect(day.source).toBe('blend')
    expect(day.minutes).toBeLessThan(240)
    expect(day.minutes).toBeGreaterThan(180)
    // Her own figure: past her longest spell (an hour), the one-in-two-hundred point of such spells, times the margin.
    expect(month.ownMin).toBeGreaterThan(60 * s.margin)
    expect(month.ownMin).toBeLessThan(90 * s.margin)
    expect(week.minutes).toBeLessThan(day.minutes)
    // A month of evidence: her figure, far under the default 4 h.
    expect(month.source).toBe('household')
    expect(month.minutes).toBeLessThan(month.ownMin! * 1.15)
  })

  it('reads a rare spell length from few spells as the exponential tail of her longest, never below the longest', () => {
    const bin = (min: number) => BIN_EDGES_MIN.findIndex((e) => min < e)
    const counts = new Array<number>(BIN_EDGES_MIN.length + 1).fill(0)
    counts[bin(50)] = 27
    counts[bin(100)] = 3 // three spells of 90–105 minutes among thirty
    const rare = tailPointMin(counts, 0.005)
    expect(rare).toBeGreaterThan(105)
    expect(rare).toBeLessThan(180)
    // Rarer is further out.
    expect(tailPointMin(counts, 0.0005)).toBeGreaterThan(rare)
    // With spells enough for the share to be one of them, the histogram says it: the bin's upper edge.
    const many = new Array<number>(BIN_EDGES_MIN.length + 1).fill(0)
    many[bin(50)] = 300
    expect(tailPointMin(many, 0.005)).toBe(60)
    // One spell: its bin's upper edge.
    const one = new Array<number>(BIN_EDGES_MIN.length + 1).fill(0)
    one[bin(200)] = 1
    expect(tailPointMin(one, 0.005)).toBe(210)
  })

  it('learns her bedtime from the first long spell of each evening, and says from when she may be in bed', () => {
    let r = initialRhythm()
    // Before any evening: from 21:30 (the defaults' 22:00, less the margin).
    expect(inBedFromMinute(r, s)).toBe(21 * 60 + 30)
    for (let d = 0; d < 20; d++) {
      // In bed at 20:40, up for the toilet at 01:00 (the second spell of the night is no bedtime), up at 06:00.
      r = learnSpell(r, 'bedroom', at(d, 20, 40), at(d + 1, 1), tz, s)
      r = learnSpell(r, 'bathroom', at(d + 1, 1), at(d + 1, 1, 5), tz, s)
      r = learnSpell(r, 'bedroom', at(d + 1, 1, 5), at(d + 1, 6), tz, s)
    }
    // 20:40 (its half hour from 20:30) less the margin, the defaults weighing as one evening of twenty-one.
    expect(inBedFromMinute(r, s)).toBeGreaterThanOrEqual(20 * 60)
    expect(inBedFromMinute(r, s)).toBeLessThan(20 * 60 + 10)
    // Up by 06:10 (the ten minutes from 06:00) on her mornings, the defaults' 09:10 weighing as one of them.
    expect(upByMinute(r, s)).toBeGreaterThanOrEqual(6 * 60 + 10)
    expect(upByMinute(r, s)).toBeLessThan(6 * 60 + 25)
  })

  it('does not take an evening still in the armchair for her bedtime: a bedtime runs on into the night', () => {
    let r = initialRhythm()
    for (let d = 0; d < 20; d++) {
      // Two and a half hours in front of the television, unseen by a PIR; then in bed at 22:50 until the toilet at 02:00.
      r = learnSpell(r, 'home', at(d, 19), at(d, 21, 30), tz, s)
      r = learnSpell(r, 'home', at(d, 21, 30), at(d, 22, 50), tz, s)
      r = learnSpell(r, 'bedroom', at(d, 22, 50), at(d + 1, 2), tz, s)
      r = learnSpell(r, 'bedroom', at(d + 1, 2, 5), at(d + 1, 6), tz, s)
    }
    // Her night begins at the defaults' 21:30 at the earliest (never later), not at 18:30.
    expect(inBedFromMinute(r, s)).toBe(21 * 60 + 30)
    // An early sleeper whose first toilet visit is at 22:40 still has her night from 20:30 on: a spell of four hours or more counts wherever it ends.
    let early = initialRhythm()
    for (let d = 0; d < 20; d++) {
      early = learnSpell(early, 'bedroom', at(d, 18, 30), at(d, 22, 40), tz, s)
      early = learnSpell(early, 'bedroom', at(d, 22, 45), at(d + 1, 5), tz, s)
    }
    expect(inBedFromMinute(early, s)).toBeLessThan(18 * 60 + 30)
  })

  it('forgets slowly: evidence halves in the half-life, and a faded context is dropped', () => {
    let r = learnSpell(initialRhythm(), 'bathroom', at(0, 8), at(0, 8, 20), tz, s)
    expect(Object.values(r.spells)[0]!.reduce((a, b) => a + b)).toBe(1)
    r = learnSpell(r, 'home', at(30, 8), at(30, 8, 5), tz, s)
    expect(r.spells['bathroom:8']!.reduce((a, b) => a + b)).toBeCloseTo(0.5, 2)
    r = learnSpell(r, 'home', at(200, 8), at(200, 8, 5), tz, s)
    expect(r.spells['bathroom:8']).toBeUndefined()
  })

  it('keeps a small state however long it runs', () => {
    let r = initialRhythm()
    for (let d = 0; d < 400; d++) for (let h = 0; h < 24; h++) for (const place of ['home', 'bathroom', 'out'] as const) r = learnSpell(r, place, at(d, h), at(d, h) + ((d * 7 + h) % 50) * 7 * MIN, tz, s)
    expect(JSON.stringify(r).length).toBeLessThan(12_000)
  })
})

describe('adaptive detection: asking before alerting', () => {
  it('learns when this elder gets up, asks the button soon after, and says so in her terms', () => {
    const home = new Home({ button: 'checkin', door: true })
    for (let d = 0; d < 21; d++) home.day(d, { wake: 6.25 + (d % 3) * 0.25, out: [[9, 10.5]] })
    expect(home.raised()).toEqual([])
    const before = home.requests.length
    // Day 21: no one gets up.
    home.until(at(21, 10))
    const asked = home.requests.slice(before).filter((r) => r.kind === 'device_checkin')
    expect(asked.length).toBeGreaterThan(0)
    // Asked well before the city's 10:00 morning check, and not before her usual time.
    expect(asked[0]!.at).toBeGreaterThan(at(21, 6, 30))
    expect(asked[0]!.at).toBeLessThan(at(21, 9, 30))
    // Up by 06:45 on every morning: a button can ask her half an hour past that (`checkinWakeMarginMin`), not the hour a family question waits.
    expect(asked[0]!.at).toBeLessThan(at(21, 7, 35))
    home.until(asked[0]!.at + (resolveSettings().rhythm.checkinAttempts + resolveSettings().rhythm.asleepExtraAttempts) * 5 * MIN + MIN)
    const raised = home.findings.find((f) => f.change === 'raised')!
    expect(raised.condition.key).toBe('suspected_collapse')
    expect(raised.condition.explanation.zh).toMatch(/^平时 \d\d:\d\d 前起床\(近 \d+ 天 95%\),今天 \d\d:\d\d 仍无活动/)
    // Last seen in the bedroom, she may be asleep: asked six times (three more than an elder up and about).
    const s = resolveSettings().rhythm
    expect(raised.condition.explanation.zh).toContain(`设备问询 ${s.checkinAttempts + s.asleepExtraAttempts} 次未应答`)
    expect(raised.condition.explanation.en).toContain('not answered')
  })

  it('raises nothing when the elder answers the check-in, and learns that spell as a long one', () => {
    const home = new Home({ button: 'checkin', door: true }, {}, at(0, 12))
    // A new household: a long afternoon nap, past the defaults.
    home.move(at(0, 12, 30))
    const prompt = home.untilAsked('device_checkin', at(0, 17))
    expect(prompt.at).toBe(at(0, 16, 30)) // 4 h: the defaults, for a new household
    home.press(prompt.at + 40_000, prompt.commandId!)
    home.until(at(0, 20))
    expect(home.raised()).toEqual([])
    expect(home.requests.filter((r) => r.kind === 'device_checkin')).toHaveLength(1)
    // Cut short by the question, the nap counts as half as long again: 6 h.
    expect(home.state.activity!.rhythm.spells['home:12']![BIN_EDGES_MIN.indexOf(360) + 1]).toBe(1)
  })

  it('tells a long bath from a fall by this household’s own baths', () => {
    // She bathes for 75 minutes every evening: a 75-minute bath is hers, not an alarm.
    const bather = new Home({ button: 'checkin', door: true, bathroom: 'mmwave' })
    for (let d = 0; d < 20; d++) bather.day(d, { extra: [{ h: 20, room: 'bathroom', holdMin: 70 + (d % 3) * 5, litres: 120 }], out: [[9, 10]] })
    bather.day(20, { stopAt: 20.1, extra: [{ h: 20, room: 'bathroom', holdMin: 80, litres: 120 }], out: [[9, 10]] })
    bather.until(at(20, 21, 20), { occupied: 'pr-bath' })
    expect(bather.requests.filter((r) => r.at >= at(20, 20))).toEqual([])
    // Another elder's bathroom visits end within minutes: under an hour of silence there is already
    // worth asking (her own figures, after the PIR's defaults, which are those of a spell at home:
    // a PIR does not see her leave the bathroom).
    const brief = new Home({ button: 'checkin', door: true, bathroom: 'pir' })
    const visits = [7, 8, 8.5, 9.5, 11, 14, 17, 20]
    for (let d = 0; d < 45; d++) brief.day(d, { extra: visits.map((h) => ({ h, room: 'bathroom' as const, holdMin: 6 })), out: [[12, 13]] })
    brief.day(45, { stopAt: 8, extra: [{ h: 8, room: 'bathroom', holdMin: 6 }] })
    brief.until(at(45, 10))
    const asked = brief.requests.find((r) => r.at >= at(45, 8))!
    expect(asked.at - at(45, 8)).toBeLessThanOrEqual(60 * MIN)
    expect(brief.raised()).toEqual(['suspected_collapse'])
  })

  it('counts a radar that stays occupied after someone left (ghost) as no sign of life and no spell of its own', () => {
    const home = new Home({ button: 'checkin', door: true, bathroom: 'mmwave' })
    home.day(0, { out: [[9, 10]] })
    home.move(at(1, 8), 'bathroom').move(at(1, 8, 10), 'living_room')
    // The bathroom radar keeps saying occupied for an hour and a half; she is in the living room.
    for (let t = at(1, 8, 30); t < at(1, 10); t += 20 * MIN) home.move(t, 'living_room')
    home.until(at(1, 10), { occupied: 'pr-bath' })
    expect(home.requests).toEqual([])
  })

  it('judges a spell a radar sees her still in by her spells in its view, not by her spells out of every sensor’s sight', () => {
    // She sits in the armchair all day, in the living-room radar's view; a move or a tap every 20 minutes.
    const still = new Home({ button: 'checkin', door: true, armchair: true })
    for (let d = 0; d < 14; d++) still.day(d, { out: [[9, 10]] })
    still.day(14, { stopAt: 14, out: [[9, 10]] })
    still.until(at(14, 20))
    const asked = still.requests.filter((r) => r.at >= at(14, 14))
    // Her still spells in view end within 40 minutes: asked within two hours (the tail of her spells
    // with the margin, still blended with the defaults), not after the four of a spell at home out of
    // sight; and the radar that sees her makes it urgent after the prompts.
    expect(asked[0]!.kind).toBe('device_checkin')
    expect(asked[0]!.at - at(14, 14)).toBeLessThanOrEqual(2 * H)
    expect(still.raised()).toEqual(['suspected_collapse'])
    expect(Object.keys(still.state.activity!.rhythm.spells).some((k) => k.startsWith('still:'))).toBe(true)

    // The same elder out of the radar's sight (the radar sees nobody): the spell is one at home, asked later.
    const unseen = new Home({ button: 'checkin', door: true, armchair: true })
    for (let d = 0; d < 14; d++) unseen.day(d, { out: [[9, 10]] })
    unseen.day(14, { stopAt: 14, out: [[9, 10]] })
    unseen.armchairUntil = at(14, 14)
    unseen.until(at(14, 20))
    const later = unseen.requests.filter((r) => r.at >= at(14, 14))
    expect(later[0]!.at).toBeGreaterThan(asked[0]!.at + H)
  })

  it('learns a radar letting go without movement as the end of a still spell (a ghost after she left is one of them)', () => {
    const home = new Home({ button: 'checkin', armchair: true })
    home.day(0)
    home.move(at(1, 8))
    home.until(at(1, 8, 40))
    expect(home.state.activity!.place).toBe('still')
    // The radar lets go at 08:50 without having seen her move: the still spell ended there, 50 minutes long.
    home.armchairUntil = at(1, 8, 45)
    home.until(at(1, 9))
    expect(home.state.activity!.place).toBe('home')
    const counts = home.state.activity!.rhythm.spells['still:8']!
    expect(counts[BIN_EDGES_MIN.indexOf(60)]).toBe(1)
  })

  it('asks the family beside a sleeper’s later prompts, so that her prompts and their wait run side by side', () => {
    const home = new Home({ button: 'checkin', door: true, family: true, bedroom: 'mmwave' })
    for (let d = 0; d < 14; d++) home.day(d, { out: [[9, 10]] })
    home.day(14, { stopAt: 22 })
    home.until(at(15, 14))
    const s = resolveSettings().rhythm
    const prompts = home.requests.filter((r) => r.kind === 'device_checkin')
    const family = home.requests.filter((r) => r.kind === 'ask_family')
    expect(prompts).toHaveLength(s.checkinAttempts + s.asleepExtraAttempts)
    expect(family).toHaveLength(1)
    // After the second unanswered prompt, not after the sixth.
    expect(family[0]!.at).toBe(prompts[s.familyAfterPrompts]!.at)
    const raised = home.findings.find((f) => f.change === 'raised')!
    expect(raised.condition.key).toBe('suspected_collapse')
    expect(raised.at).toBe(family[0]!.at + s.familyWaitMin * MIN)
  })

  it('takes an evening spell in a home whose bedroom no sensor watches as maybe her going to bed once her night begins', () => {
    // Last seen in the bathroom at 20:40 (a PIR: it does not see her leave), no sensor in the bedroom, no button that can ask.
    const home = new Home({ door: true, family: true, bathroom: 'pir', bedroom: 'none' })
    home.day(0)
    home.day(1, { stopAt: 20 })
    home.move(at(1, 20, 40), 'bathroom')
    home.until(at(2, 6, 30))
    // A new household: nothing asked in the night; the family is asked only once she is due up.
    expect(home.requests.filter((r) => r.at < at(2, 6))).toEqual([])
  })

  it('does not take a door contact repeating its state (on reconnecting) for her going out', () => {
    const home = new Home({ button: 'checkin', door: true })
    home.day(0, { out: [[9, 10]] })
    home.move(at(1, 10))
    home.doorReports(at(1, 11), false)
    expect(home.state.activity).toMatchObject({ lastSignAt: at(1, 10), place: 'home' })
    // The door really opening still is.
    home.door(at(1, 12))
    expect(home.state.activity).toMatchObject({ lastSignAt: at(1, 12, 0) + 20_000, place: 'out' })
  })

  it('wakes no family at night where no button can ask: a night spell begun anywhere at home waits for her usual wake-up', () => {
    const home = new Home({ door: true, family: true, bathroom: 'mmwave', bedroom: 'pir' })
    for (let d = 0; d < 14; d++) home.day(d, { out: [[9, 10]] })
    home.day(14)
    // 02:00 in the bathroom, then nothing the sensors see (the bedroom PIR missed her going back to
    // bed): by the bathroom's figures alone the family would be woken within two hours.
    home.move(at(15, 2), 'bathroom')
    home.until(at(15, 12))
    const asked = home.requests.filter((r) => r.at > at(15, 2))
    expect(asked[0]!.kind).toBe('ask_family')
    // Up at 06:30 every day: asked once she is due up, not in the night.
    expect(asked[0]!.at).toBeGreaterThan(at(15, 6, 30))
  })

  it('does not take her for asleep at night where a bathroom radar sees her lying there: the family is asked within hours, then urgent', () => {
    const home = new Home({ door: true, family: true, bathroom: 'mmwave', bedroom: 'pir' })
    for (let d = 0; d < 14; d++) home.day(d, { out: [[9, 10]] })
    home.day(14)
    // 23:00 in the bathroom, and the radar there sees someone present, not moving, from then on.
    home.move(at(14, 23), 'bathroom')
    home.until(at(15, 6), { occupied: 'pr-bath' })
    const asked = home.requests.filter((r) => r.at > at(14, 23))
    expect(asked[0]!.kind).toBe('ask_family')
    // The bathroom's defaults (90 minutes with a radar there), later by at most an hour with no button: not her wake-up at 06:30.
    expect(asked[0]!.at).toBeLessThanOrEqual(at(15, 1, 30))
    const raised = home.findings.find((f) => f.change === 'raised')!
    expect(raised.condition.key).toBe('suspected_collapse')
    expect(raised.at).toBeLessThan(at(15, 3))
  })

  it('takes a radar that has seen someone for hours after the door closed as her at home, not out', () => {
    const home = new Home({ button: 'checkin', door: true, family: true })
    for (let d = 0; d < 3; d++) home.day(d, { out: [[9, 10]] })
    home.day(3, { stopAt: 14 })
    // The door opens and closes at 14:00 (a delivery); no movement is seen after it, but the
    // living-room radar sees someone there, not moving, from 14:10 on.
    home.door(at(3, 14))
    home.until(at(3, 20), { occupied: 'pr-liv' })
    const asked = home.requests.filter((r) => r.at > at(3, 14))
    // Asked as a spell she is seen still in (three hours before she has her own), not as an outing (twelve).
    expect(asked[0]!.kind).toBe('device_checkin')
    expect(asked[0]!.at).toBeLessThanOrEqual(at(3, 17, 1))
    expect(home.raised()).toEqual(['suspected_collapse'])
  })

  it('does not count a sensor turning on moments after the door as proof she stayed in: a visit task first, not an emergency', () => {
    const home = new Home({ button: 'checkin', door: true, family: true, living: 'pir' })
    for (let d = 0; d < 14; d++) home.day(d, { out: [[9, 10]] })
    home.day(14, { stopAt: 16 })
    // She leaves at 16:05; the living-room PIR's "occupied" from her walk to the door is reported
    // 38 s after the door opened (its change lost, told at the next report); then nothing.
    home.door(at(14, 16, 5)).move(at(14, 16, 5) + 38_000, 'living_room')
    home.until(at(14, 22))
    // Before: the door "listening all along and not opened since" made it urgent after the prompts.
    expect(home.raised()[0]).toBe('unusual_inactivity')
    expect(home.requests.some((r) => r.kind === 'ask_family')).toBe(true)
  })

  it('still reads the door then a radar ghost that fades within the hour as her out', () => {
    const home = new Home({ button: 'checkin', door: true, family: true })
    for (let d = 0; d < 3; d++) home.day(d, { out: [[9, 10]] })
    home.day(3, { stopAt: 14 })
    home.door(at(3, 14))
    // The living-room radar holds "occupied" for 50 minutes after she left, then lets go.
    home.until(at(3, 14, 50), { occupied: 'pr-liv' })
    home.until(at(3, 20))
    expect(home.requests.filter((r) => r.at > at(3, 14))).toEqual([])
    expect(home.state.activity!.place).toBe('out')
  })

  it('asks as it asks a sleeper when a bedroom radar sees her still, whatever the spell began with: three missed prompts during a nap are no emergency yet', () => {
    const run = (bedroomRadarSeesHer: boolean) => {
      const home = new Home({ button: 'checkin', door: true, family: true })
      for (let d = 0; d < 3; d++) home.day(d)
      home.day(3, { stopAt: 12.9 })
      // To bed after lunch; the kettle's water, reported after, is the spell's last sign (somewhere at home).
      home.move(at(3, 13), 'bedroom').draw(at(3, 13, 5), 2)
      home.until(at(3, 20), bedroomRadarSeesHer ? { occupied: 'pr-bed' } : {})
      return home
    }
    const napping = run(true)
    const asked = napping.requests.filter((r) => r.at > at(3, 13))
    expect(asked.filter((r) => r.kind === 'device_checkin')).toHaveLength(6)
    // The family is asked beside the later prompts, before any operator.
    const family = asked.findIndex((r) => r.kind === 'ask_family')
    expect(family).toBeGreaterThan(0)
    expect(family).toBeLessThan(asked.length - 1)
    // Nobody answered anything: in the end an emergency, she is home for certain (beside the door's routine visit: unused for days).
    expect(napping.raised()).toEqual(['door_idle', 'suspected_collapse'])

    // Nobody in the radar's view: home for certain (the door never opened), awake by day; three prompts, then the operator.
    const elsewhere = run(false)
    expect(elsewhere.requests.filter((r) => r.at > at(3, 13)).map((r) => r.kind)).toEqual(['device_checkin', 'device_checkin', 'device_checkin'])
    expect(elsewhere.raised()).toEqual(['door_idle', 'suspected_collapse'])
  })

  it('reads the door while she is out as her coming home: a fall just inside is asked about as a spell at home, not after her outings', () => {
    const home = new Home({ button: 'checkin', door: true, family: true, living: 'none' })
    for (let d = 0; d < 3; d++) home.day(d, { out: [[9, 10]] })
    home.day(3, { stopAt: 8.9 })
    home.door(at(3, 9))
    home.until(at(3, 11))
    expect(home.state.activity!.place).toBe('out')
    // Back through the door, then nothing: she fell in the living room, which no sensor sees.
    home.door(at(3, 11))
    expect(home.state.activity!.place).toBe('home')
    const asked = home.untilAsked('device_checkin', at(4, 0))
    // Her spells at home by day (about four hours while the defaults still weigh), not the twelve of an outing.
    expect(asked.at).toBeLessThan(at(3, 16))
    expect(home.state.activity!.check!.place).toBe('home')

    // Out again without a sign in between: the next passage is her leaving.
    const again = new Home({ button: 'checkin', door: true, family: true, living: 'none' })
    for (let d = 0; d < 3; d++) again.day(d, { out: [[9, 10]] })
    again.day(3, { stopAt: 8.9 })
    again.door(at(3, 9)).until(at(3, 11)).door(at(3, 11)).until(at(3, 11, 10)).door(at(3, 11, 10))
    expect(again.state.activity!.place).toBe('out')
    again.until(at(3, 16))
    expect(again.requests.filter((r) => r.at > at(3, 9))).toEqual([])
  })

  it('reads the door then silence as out: the family is asked, and at worst a visit task, never an emergency', () => {
    const home = new Home({ button: 'checkin', door: true, family: true })
    home.day(0, { out: [[9, 10]] })
    home.move(at(1, 7)).door(at(1, 9))
    home.until(at(2, 9))
    const first = home.requests.filter((r) => r.at > at(1, 9))
    expect(first.map((r) => r.kind)).toEqual(['device_checkin', 'ask_family'])
    // About twelve hours since the door closed: the defaults, barely moved by one short outing seen
    // (outings vary most from day to day: her own figure needs many of them).
    expect(first[0]!.at).toBeGreaterThan(at(1, 20))
    expect(first[0]!.at).toBeLessThanOrEqual(at(1, 21) + 20_000)
    expect(home.raised()).toEqual(['long_absence'])
    expect(home.raised()).not.toContain('suspected_collapse')
  })

  it('settles an absence the family vouches for, and raises at once when she is not with them', () => {
    const safe = new Home({ door: true, family: true })
    safe.day(0, { out: [[9, 10]] })
    safe.move(at(1, 7)).door(at(1, 9))
    const asked = safe.untilAsked('ask_family', at(2, 0))
    safe.familyAnswers(asked.at + 10 * MIN, 'phoned_safe')
    safe.until(asked.at + 5 * H)
    expect(safe.raised()).toEqual([])

    const missing = new Home({ door: true, family: true })
    const speaker = new Home({ door: true, family: true, button: 'checkin' })
    for (const h of [missing, speaker]) {
      h.day(0, { out: [[9, 10]] })
      h.day(1, { stopAt: 14, out: [[9, 10]] })
    }
    // No speaker: the family first, and later than a button would have been asked (a question to a person costs more).
    const q = missing.untilAsked('ask_family', at(2, 6))
    expect(q.at).toBeGreaterThan(speaker.untilAsked('device_checkin', at(2, 6)).at + 30 * MIN)
    expect(missing.requests.map((r) => r.kind)).toEqual(['ask_family'])
    missing.familyAnswers(q.at + 10 * MIN, 'not_with_us')
    expect(missing.raised()).toEqual(['suspected_collapse'])
  })

  it('without a speaker and without a family to ask, tells the operator at the threshold', () => {
    const home = new Home({ door: false })
    home.day(0)
    home.day(1, { stopAt: 9 })
    home.until(at(1, 14, 20))
    expect(home.requests).toEqual([])
    // No door contact and no radar seeing anyone: she may be out, so not urgent.
    expect(home.raised()).toEqual(['unusual_inactivity'])
  })

  it('asks nothing and raises nothing while the household is away', () => {
    const home = new Home({ button: 'checkin', door: true, family: true })
    home.day(0)
    home.day(1, { stopAt: 8 })
    const r = step(home.state, { type: 'away', until: at(3, 12) }, at(1, 8, 1), resolveSettings())
    home.state = r.state
    home.until(at(3, 11))
    expect(home.requests).toEqual([])
    expect(home.raised()).toEqual([])
  })

  it('in city mode asks nothing and keeps the fixed rules', () => {
    const home = new Home({ button: 'checkin', door: true, family: true }, { mode: 'city' })
    home.day(0)
    home.day(1, { stopAt: 8 })
    home.until(at(1, 21))
    expect(home.requests).toEqual([])
    expect(home.raised()).toEqual(expect.arrayContaining(['inactivity', 'no_water']))
  })

  it('sees her back in bed when a bedroom PIR that held through her visit to the toilet lets go: the night goes on, no bathroom alarm', () => {
    const home = new Home({ button: 'checkin', door: true, bathroom: 'mmwave', bedroom: 'pir' })
    for (let d = 0; d < 10; d++) home.day(d, { out: [[9, 10]] })
    home.day(10, { out: [[9, 10]] })
    const before = home.requests.length
    // 02:00 up from bed (the PIR switches on), 02:06 in the bathroom, back in bed while the PIR still holds.
    home.move(at(11, 2), 'bedroom').move(at(11, 2, 6), 'bathroom')
    home.until(at(11, 2, 11), { occupied: 'pr-bed' })
    // The PIR lets go at 02:20: it saw her, in the bedroom, after the bathroom.
    home.until(at(11, 3))
    expect(home.state.activity).toMatchObject({ lastSignRoom: 'bedroom', place: 'bedroom' })
    home.until(at(11, 6, 30)).move(at(11, 6, 30), 'bedroom')
    expect(home.requests.slice(before)).toEqual([])
    expect(home.raised()).toEqual([])
  })

  it('does not count a door contact that was silent as proof she stayed in: she may be out, a visit task', () => {
    const raisedWith = (silentDoor: boolean) => {
      const home = new Home({ button: 'checkin', door: true, family: true })
      home.day(0, { out: [[9, 10]] })
      // Day 1: the contact falls silent at 08:00; at 09:00 she leaves unseen.
      home.day(1, { stopAt: 8.9 })
      if (silentDoor) home.silent.add('dr')
      home.until(at(2, 6))
      return home.raised().filter((k) => !k.startsWith('device_offline'))
    }
    // Heard all along: home for certain, urgent at once. Silent: first a visit task (urgent only a threshold later).
    expect(raisedWith(false)[0]).toBe('suspected_collapse')
    expect(raisedWith(true)[0]).toBe('unusual_inactivity')
  })

  it('reads nobody seen, in a home without a door contact whose rooms radars watch, as out: a visit task at worst, from the outings figure', () => {
    const home = new Home({ button: 'checkin', family: true, bathroom: 'mmwave' })
    home.day(0)
    home.day(1, { stopAt: 9 })
    home.until(at(2, 3))
    const asked = home.requests.filter((r) => r.at > at(1, 9))
    // Outings may last twelve hours (the defaults): asked in the evening, the family first.
    expect(asked[0]!.at).toBeGreaterThan(at(1, 20))
    expect(asked.map((r) => r.kind)).toContain('ask_family')
    expect(home.raised()).toEqual(['long_absence'])
    const finding = home.findings.find((f) => f.change === 'raised')!
    expect(finding.condition.explanation.zh).toContain('家中未见到人(没有门磁,可能已外出)')
  })

  it('waits for her usual wake-up when no sensor watches the bedroom: her night is not a living-room spell', () => {
    const home = new Home({ button: 'checkin', door: true, bathroom: 'mmwave', bedroom: 'none' })
    for (let d = 0; d < 14; d++) home.day(d, { out: [[9, 10]] })
    home.day(14, { stopAt: 22 })
    const before = home.requests.length
    home.until(at(15, 10))
    const asked = home.requests.slice(before).filter((r) => r.kind === 'device_checkin')
    // Up at 06:30 every day: nothing asked in the night, asked soon after she should be up.
    expect(asked[0]!.at).toBeGreaterThan(at(15, 6, 30))
    expect(asked[0]!.at).toBeLessThan(at(15, 8, 30))
  })

  it('keeps its model through a restart: the saved state thresholds like the live one', () => {
    const home = new Home({ button: 'checkin', door: true })
    for (let d = 0; d < 10; d++) home.day(d, { out: [[9, 10]] })
    const saved = JSON.parse(JSON.stringify(home.state)) as MonitorState
    const s = resolveSettings().rhythm
    expect(thresholdFor(saved.activity!.rhythm, 'home', at(10, 14), 'Asia/Shanghai', s)).toEqual(thresholdFor(home.state.activity!.rhythm, 'home', at(10, 14), 'Asia/Shanghai', s))
    expect(Object.keys(saved.activity!.rhythm.spells).length).toBeGreaterThan(10)
  })
})
