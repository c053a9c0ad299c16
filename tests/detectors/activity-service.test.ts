/**
 * Adaptive detection (the default mode) in the running platform, on a virtual clock: real MQTT
 * devices against the embedded broker, real HTTP, a real SMTP server for the family's e-mail.
 * A quiet spell past the household's threshold is asked about before anyone is alerted — the
 * button first (contract v1.1 `checkin`), then the family — and only a question nobody answers
 * becomes an incident: urgent when the elder is home for certain, a visit when she went out.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { io } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import { cmdTopic, deviceTopic, type CommandPayload } from '../../src/contract/index.js'
import { CHECKIN_PROMPT } from '../../src/routing/questions.js'
import { virtualClock, type VirtualClock } from '../../src/shared/clock.js'
import { outboxRepository } from '../../src/store/outbox.js'
import { connectDevice, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'
import { smtpServer, type Mail } from '../helpers/smtp.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0) // 08:00 in Shanghai
/** Every device reports every 20 virtual minutes: a radar's silence past 30 minutes would be missing data. */
const STEP = 20 * MIN
/** Without a button that can ask, the family is asked at the defaults' 4 h plus an hour (noCheckinFactor, at most an hour); she may be out, so they have three hours. */
const ASK_FAMILY_AFTER = 300 * MIN
const FAMILY_WAIT = 180 * MIN
/** A new household's outings may last twelve hours (the defaults); the family has three hours to answer. */
const OUT_AFTER = 12 * HOUR
// The virtual clock runs for days: the test's logins and the family's links must outlive it.
const ENV = { ANJU_SESSION_TTL_HOURS: '2000', ANJU_PUBLIC_URL: 'https://anju.example.org' }

const cleanups: (() => Promise<void> | void)[] = []
/** Platforms a test closed itself (a restart): not closed twice. */
const closed = new WeakSet<TestPlatform>()
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

type Json = Record<string, any>
interface Incident {
  id: string
  householdId: string
  type: string
  category: string
  priority: number
  state: string
  openedAt: number
  conditions: string[]
  explanation: { zh: string; en: string } | null
}

/** The family's mail server. */
const smtp = () => smtpServer(cleanups)

/** A 一键通 button's MQTT client, subscribed to its own `cmd` topic, keeping every command it receives. */
interface Button {
  id: string
  client: MqttClient
  caps: string[] | undefined
  commands: CommandPayload[]
  checkins(): CommandPayload[]
  /** Resolves with the n-th `checkin` command once it has arrived over MQTT. */
  checkin(n: number): Promise<CommandPayload>
  /** Resolves once every command sent to the button so far has arrived (MQTT keeps a connection's order). */
  drained(): Promise<void>
}

async function buttonClient(p: TestPlatform, device: { id: string; secret: string }, caps: string[] | undefined): Promise<Button> {
  const client = await connectDevice(p, device)
  const commands: CommandPayload[] = []
  client.on('message', (topic, payload) => {
    if (topic === cmdTopic(device.id)) commands.push(JSON.parse(payload.toString()) as CommandPayload)
  })
  /** Waits for the message itself, bounded so that a command that never comes fails clearly. */
  const arrived = (condition: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (condition()) return resolve()
      const check = () => {
        if (!condition()) return
        clearTimeout(timer)
        client.off('message', check)
        resolve()
      }
      const timer = setTimeout(() => {
        client.off('message', check)
        reject(new Error(`${what} never arrived on ${cmdTopic(device.id)} (received: ${JSON.stringify(commands)})`))
      }, 5000)
      client.on('message', check)
    })
  await client.subscribeAsync(cmdTopic(device.id), { qos: 1 })
  const checkins = () => commands.filter((c) => c.cmd === 'checkin')
  let pings = 0
  return {
    id: device.id,
    client,
    caps,
    commands,
    checkins,
    async checkin(n) {
      await arrived(() => checkins().length >= n, `check-in command #${n}`)
      return checkins()[n - 1]!
    },
    async drained() {
      const id = `barrier-${++pings}`
      await p.app.broker.sendCommand(device.id, { id, ts: p.app.clock.now(), cmd: 'ping' })
      await arrived(() => commands.some((c) => c.id === id), 'the barrier ping')
    },
  }
}

interface Home {
  p: TestPlatform
  clock: VirtualClock
  mail: { mails: Mail[] }
  householdId: string
  contactId: string | null
  radar: MqttClient
  door: MqttClient | null
  button: Button | null
}

/**
 * 张桂英's flat: a radar in the living room, optionally a door contact at the entrance, a button
 * (declaring `caps: ["checkin"]` or not) and her son as a family contact, added before the
 * devices are installed or after.
 */
async function setUp(
  opts: { button?: 'checkin' | 'plain'; door?: boolean; family?: 'before_devices' | 'after_devices'; dir?: string; clock?: VirtualClock; thread?: 'worker' } = {},
): Promise<Home> {
  const mail = await smtp()
  const clock = opts.clock ?? virtualClock(T0)
  const p = await startPlatform({ clock, env: { ...ENV, ANJU_SMTP_URL: mail.url }, ...(opts.dir ? { dir: opts.dir } : {}), ...(opts.thread ? { detectorsThread: opts.thread } : {}) })
  cleanups.push(() => (closed.has(p) ? undefined : p.close()))
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
  const { body: h } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '3号楼 201室' })
  const addSon = async () => {
    const r = await p.api<{ id: string }>('POST', `/api/households/${h.id}/contacts`, { name: '张明', relation: '子女', phone: '13900000001', email: 'ming@example.com', channels: ['email'] })
    expect(r.status).toBe(201)
    return r.body.id
  }
  let contactId = opts.family === 'before_devices' ? await addSon() : null
  const install = async (id: string, kind: string, room: string | null) => {
    const r = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id, householdId: h.id, kind, room, heartbeatS: 3600 })
    expect(r.status).toBe(201)
    return r.body
  }
  const radar = await connectDevice(p, await install('pr-living', 'presence', 'living_room'))
  cleanups.push(() => void radar.end(true))
  let door: MqttClient | null = null
  if (opts.door) {
    const d = await connectDevice(p, await install('dc-door', 'door', 'entrance'))
    cleanups.push(() => void d.end(true))
    door = d
  }
  let button: Button | null = null
  if (opts.button) {
    const b = await buttonClient(p, await install('btn-1', 'button', 'living_room'), opts.button === 'checkin' ? ['checkin'] : undefined)
    cleanups.push(() => void b.client.end(true))
    button = b
  }
  if (opts.family === 'after_devices') contactId = await addSon()
  const devices = 1 + (door ? 1 : 0) + (button ? 1 : 0)
  // The registry tells the detectors about new devices off the bus: wait until they know.
  await waitFor(async () => Object.keys((await p.app.detectors.monitor(h.id))?.devices ?? {}).length === devices, 5000, 'the detectors to know the devices')
  if (opts.family === 'before_devices') await waitFor(async () => (await p.app.detectors.monitor(h.id))?.activity?.familyReachable === true, 5000, 'the detectors to know the family')
  const home: Home = { p, clock, mail, householdId: h.id, contactId, radar, door, button }
  await report(home) // status on connect (with the button's caps), the radar's first reading
  return home
}

let seq = 0

/** Every device says it is alive; the radar sees nobody moving. */
async function report(h: Home): Promise<void> {
  const ts = h.clock.now()
  await publish(h.radar, deviceTopic('pr-living', 'telemetry'), { id: `p-${++seq}`, ts, kind: 'presence', occupied: false, motion: false })
  if (h.door) await publish(h.door, deviceTopic('dc-door', 'status'), { ts, online: true })
  if (h.button) await publish(h.button.client, deviceTopic(h.button.id, 'status'), { ts, online: true, battery: 90, ...(h.button.caps ? { caps: h.button.caps } : {}) })
  await settle(h.p)
}

/** A sign of life: the radar sees her move in the living room. */
async function move(h: Home): Promise<void> {
  await publish(h.radar, deviceTopic('pr-living', 'telemetry'), { id: `p-${++seq}`, ts: h.clock.now(), kind: 'presence', occupied: true, motion: true })
  await settle(h.p)
}

async function settle(p: TestPlatform): Promise<void> {
  await p.app.detectors.settle()
  await p.app.questions.settle()
  await p.app.routing.settle()
  await p.app.outbox.idle()
}

/** Moves virtual time by `ms`, then lets the detectors, the questions, routing and the outbox finish. */
async function advance(h: Home, ms: number): Promise<void> {
  h.clock.advance(ms)
  await settle(h.p)
}

/** Quiet time: the devices report every 20 minutes, nobody moves, no water, no door. */
async function quiet(h: Home, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += STEP) {
    await advance(h, Math.min(STEP, ms - done))
    await report(h)
  }
}

const incidents = async (h: Home) => (await h.p.api<Incident[]>('GET', '/api/incidents')).body
const overview = (h: Home, token: string) => h.p.api<Json>('GET', `/api/family/overview?t=${encodeURIComponent(token)}`)
const household = async (h: Home) => (await h.p.api<Json>('GET', `/api/households/${h.householdId}`)).body
async function viewLink(h: Home): Promise<string> {
  const r = await h.p.api<{ token: string }>('POST', `/api/households/${h.householdId}/contacts/${h.contactId}/family-link`)
  expect(r.status).toBe(201)
  return r.body.token
}
const answer = (h: Home, questionId: string, body: Json) => h.p.api<Json>('POST', `/api/family/questions/${encodeURIComponent(questionId)}/answer`, body)

describe('adaptive detection asks before it alerts', () => {
  it('asks the button before anyone, and raises nothing when the elder presses a key', async () => {
    const h = await setUp({ button: 'checkin' })
    const button = h.button!
    await move(h) // 08:00: the quiet spell begins

    await quiet(h, 4 * HOUR - STEP) // 11:40
    await button.drained()
    expect(button.checkins()).toEqual([])

    await quiet(h, STEP) // 12:00: four quiet hours, a new household's threshold by day
    const ask = await button.checkin(1)
    expect(ask).toEqual({ id: expect.any(String), ts: T0 + 4 * HOUR, cmd: 'checkin', prompt: CHECKIN_PROMPT, timeoutS: 300 })
    expect(h.p.app.detectors.question(h.householdId)).toBeNull() // the family is not asked while the button is

    await advance(h, 2 * MIN)
    const pressedAt = h.clock.now()
    await publish(button.client, deviceTopic(button.id, 'alarm'), { id: 'a-ok-1', ts: pressedAt, type: 'checkin_ok', ref: ask.id }, 1)
    await settle(h.p)
    const activity = (await h.p.app.detectors.monitor(h.householdId))!.activity!
    expect(activity.lastSignAt).toBe(pressedAt) // the press is a sign of life: a new spell starts from it
    expect(activity.check).toBeNull()

    // Well past both prompts' time: no second prompt for the answered spell, nothing raised.
    await quiet(h, 4 * HOUR - STEP)
    await button.drained()
    expect(button.checkins()).toHaveLength(1)
    expect(await incidents(h)).toEqual([])

    // The next spell is asked about four hours after the press, not after the first sign.
    await quiet(h, STEP)
    const again = await button.checkin(2)
    expect(again.ts).toBe(pressedAt + 4 * HOUR)
    expect(again.id).not.toBe(ask.id)
    expect(await incidents(h)).toEqual([])
  })

  it('raises a suspected collapse on the urgent ladder when three check-ins go unanswered and the door never opened', async () => {
    const h = await setUp({ button: 'checkin', door: true })
    const button = h.button!
    await move(h) // last seen up and about in the living room at 08:00, not in bed
    await quiet(h, 4 * HOUR)
    const first = await button.checkin(1)
    expect(first.ts).toBe(T0 + 4 * HOUR)

    await advance(h, 5 * MIN) // the first prompt times out (300 s): asked again
    const second = await button.checkin(2)
    expect(second).toMatchObject({ cmd: 'checkin', ts: T0 + 4 * HOUR + 5 * MIN, timeoutS: 300 })
    expect(second.id).not.toBe(first.id)
    expect(await incidents(h)).toEqual([])

    await advance(h, 5 * MIN)
    expect(await button.checkin(3)).toMatchObject({ cmd: 'checkin', ts: T0 + 4 * HOUR + 10 * MIN })
    expect(await incidents(h)).toEqual([])

    await advance(h, 5 * MIN) // the third one too: she is home (the door never opened) and does not answer
    const raised = await incidents(h)
    expect(raised).toHaveLength(1)
    const incident = raised[0]!
    expect(incident).toMatchObject({
      householdId: h.householdId,
      type: 'suspected_collapse',
      category: 'wellbeing',
      priority: 1,
      state: 'open',
      openedAt: T0 + 4 * HOUR + 15 * MIN,
      conditions: ['suspected_collapse'],
    })
    expect(incident.explanation!.zh).toContain('12:00、12:05、12:10 设备问询 3 次未应答')
    expect(incident.explanation!.zh).toContain('08:00')
    expect(incident.explanation!.en).toContain('check-in on the button at 12:00, 12:05, 12:10 not answered')

    // The urgent ladder: its first step ran at once, the supervisors' follows a minute later (wellbeing's would wait 30).
    const { body } = await h.p.api<{ events: { kind: string; detail: Json }[] }>('GET', `/api/incidents/${incident.id}`)
    expect(body.events.filter((e) => e.kind === 'escalated').map((e) => e.detail.ladder)).toEqual(['urgent'])
    expect(await h.p.app.routing.nextStep(incident.id)).toEqual({ step: 1, at: incident.openedAt + 60_000, stopped: false })
    await button.drained()
    expect(button.checkins()).toHaveLength(3)
  })

  it('asks the family when the button cannot ask, and opens a visit task (she may be out) when nobody answers in three hours', async () => {
    const h = await setUp({ button: 'plain', family: 'before_devices' })
    const button = h.button!
    const token = await viewLink(h)
    await move(h)
    await quiet(h, ASK_FAMILY_AFTER + 8 * MIN)

    const question = h.p.app.detectors.question(h.householdId)
    expect(question).toMatchObject({ householdId: h.householdId, askedAt: T0 + ASK_FAMILY_AFTER, place: 'home' })
    const view = await overview(h, token)
    expect(view.status).toBe(200)
    expect(view.body.question).toEqual({ id: question!.id, askedAt: T0 + ASK_FAMILY_AFTER, text: { zh: '张桂英今天在您那里吗?', en: 'Is 张桂英 with you today?' } })
    // Asked through the outbox, by e-mail to the first family contact, with a view link that shows the question.
    const notices = await outboxRepository(h.p.app.db).forIncident(question!.id)
    expect(notices).toEqual([expect.objectContaining({ channel: 'email', audience: 'first_family', recipientId: `contact:${h.contactId}`, state: 'sent' })])
    expect(h.mail.mails.map((m) => m.to)).toEqual(['ming@example.com'])
    const emailed = new URL(notices[0]!.notification.link!).searchParams.get('t')!
    expect((await overview(h, emailed)).body.question).toMatchObject({ id: question!.id })

    await quiet(h, FAMILY_WAIT - 9 * MIN)
    expect(await incidents(h)).toEqual([])
    await quiet(h, 1 * MIN) // three hours, no answer
    const raised = await incidents(h)
    // No door contact and no radar that sees her: she may be out. A call or a visit, not an alarm.
    expect(raised).toEqual([
      expect.objectContaining({ type: 'unusual_inactivity', category: 'visit', priority: 3, state: 'open', openedAt: T0 + ASK_FAMILY_AFTER + FAMILY_WAIT }),
    ])
    expect(raised[0]!.explanation!.zh).toContain('设备不支持语音问询')
    expect(raised[0]!.explanation!.zh).toContain('13:00 已询问家属,未答复')
    expect(raised[0]!.explanation!.en).toContain('family asked at 13:00: no answer')
    // The family may still answer: the question stays on their page.
    expect((await overview(h, token)).body.question).toMatchObject({ id: question!.id })

    // The contract: a device that did not declare `caps: ["checkin"]` is never sent one.
    await button.drained()
    expect(button.checkins()).toEqual([])
  })

  it('takes one of two answers that arrive together, and the monitors on their own thread act on that one', async () => {
    const h = await setUp({ button: 'plain', family: 'before_devices', thread: 'worker' })
    const token = await viewLink(h)
    await move(h)
    await quiet(h, ASK_FAMILY_AFTER + 8 * MIN)
    const q = (await overview(h, token)).body.question as { id: string } | null
    expect(q).not.toBeNull()

    // The son and his wife answer from the same link at the same moment, differently.
    const [safe, notWithUs] = await Promise.all([answer(h, q!.id, { token, answer: 'phoned_safe' }), answer(h, q!.id, { token, answer: 'not_with_us' })])
    expect([safe.status, notWithUs.status].sort()).toEqual([200, 409])
    const taken = safe.status === 200 ? 'phoned_safe' : 'not_with_us'
    expect((safe.status === 200 ? notWithUs : safe).body).toMatchObject({ error: 'CONFLICT', message: expect.stringContaining('no longer waiting') })
    await settle(h.p)
    const check = (await h.p.app.detectors.monitor(h.householdId))!.activity!.check!
    expect(check.familyAnswer?.answer).toBe(taken)
    // 已电话联系 settles the question; 不在我这里 raises it at once (she may be out: a visit task).
    expect((await incidents(h)).map((i) => i.type)).toEqual(taken === 'phoned_safe' ? [] : ['unusual_inactivity'])
    expect(h.p.app.detectors.question(h.householdId)).toBeNull()
  })

  it("puts the question on the family's open page at once, over their live channel", async () => {
    const h = await setUp({ button: 'plain', family: 'before_devices' })
    const token = await viewLink(h)
    const socket = io(`${h.p.httpUrl}/family`, { auth: { token }, transports: ['websocket'], reconnection: false })
    cleanups.push(() => void socket.close())
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('connect_error', reject)
    })
    const pushed = new Promise<{ questionId?: string }>((resolve) => socket.once('changed', resolve))
    await move(h)
    await quiet(h, ASK_FAMILY_AFTER + 8 * MIN)
    const question = h.p.app.detectors.question(h.householdId)
    expect(await pushed).toEqual({ questionId: question!.id })
  })

  it('asks the family of a contact added after the devices were installed', async () => {
    // The community adds the son as a contact once the flat is fitted: from then on he is the one asked, not the operators.
    const h = await setUp({ button: 'plain', family: 'after_devices' })
    await move(h)
    await quiet(h, ASK_FAMILY_AFTER + 8 * MIN)
    expect(h.p.app.detectors.question(h.householdId)).toMatchObject({ askedAt: T0 + ASK_FAMILY_AFTER })
    expect(await incidents(h)).toEqual([])
  })

  it("takes the family's answer 'she is with us' from a view link: away until then, nothing raised; refuses a bad date, a settled question and an incident link", async () => {
    const h = await setUp({ button: 'plain', family: 'before_devices' })
    const button = h.button!
    const token = await viewLink(h)

    // An SOS (a false alarm, closed) gives the son an incident link by e-mail.
    await publish(button.client, deviceTopic(button.id, 'alarm'), { id: 'a-sos-0', ts: h.clock.now(), type: 'sos' }, 1)
    await settle(h.p)
    const [sos] = await incidents(h)
    const notice = (await outboxRepository(h.p.app.db).forIncident(sos!.id)).find((n) => n.audience === 'first_family')!
    const incidentLink = new URL(notice.notification.link!).searchParams.get('t')!
    expect((await h.p.api('POST', `/api/incidents/${sos!.id}/acknowledge`)).status).toBe(200)
    expect((await h.p.api('POST', `/api/incidents/${sos!.id}/resolve`, { outcome: 'false_alarm' })).status).toBe(200)
    await settle(h.p)

    await move(h)
    await quiet(h, ASK_FAMILY_AFTER + 8 * MIN)
    const q = (await overview(h, token)).body.question as { id: string } | null
    expect(q).not.toBeNull()
    const now = h.clock.now()

    const pending = async () => {
      expect((await household(h)).awayUntil).toBeNull()
      expect((await overview(h, token)).body.question).toMatchObject({ id: q!.id })
    }
    const past = await answer(h, q!.id, { token, answer: 'with_us', until: now - HOUR })
    expect(past).toMatchObject({ status: 400, body: { error: 'VALIDATION', message: expect.stringContaining('within 30 days') } })
    await pending()
    const tooFar = await answer(h, q!.id, { token, answer: 'with_us', until: now + 40 * DAY })
    expect(tooFar).toMatchObject({ status: 400, body: { error: 'VALIDATION', message: expect.stringContaining('within 30 days') } })
    await pending()
    const byIncidentLink = await answer(h, q!.id, { token: incidentLink, answer: 'with_us', until: now + 3 * DAY })
    expect(byIncidentLink).toMatchObject({ status: 403, body: { error: 'FORBIDDEN', message: 'this link cannot answer questions' } })
    await pending()

    const until = now + 3 * DAY
    const ok = await answer(h, q!.id, { token, answer: 'with_us', until })
    expect(ok).toEqual({ status: 200, body: { questionId: q!.id, answer: 'with_us', awayUntil: until } })
    expect((await household(h)).awayUntil).toBe(until)
    await waitFor(async () => (await h.p.app.detectors.monitor(h.householdId))?.awayUntil === until, 5000, 'the detectors to know she is away')

    const again = await answer(h, q!.id, { token, answer: 'phoned_safe' })
    expect(again).toMatchObject({ status: 409, body: { error: 'CONFLICT', message: expect.stringContaining('no longer waiting') } })
    expect((await household(h)).awayUntil).toBe(until)

    // A day and a half without a sign of life while she stays with her son: nothing raised, nothing asked.
    await quiet(h, 36 * HOUR)
    expect((await incidents(h)).map((i) => i.id)).toEqual([sos!.id])
    expect(h.p.app.detectors.question(h.householdId)).toBeNull()
    expect((await overview(h, token)).body.question).toBeNull()
  })

  it('after she goes out of the door, asks the family past the out threshold and opens a visit (long_absence), never an emergency', async () => {
    const h = await setUp({ button: 'checkin', door: true, family: 'before_devices' })
    const button = h.button!
    const token = await viewLink(h)
    await move(h)
    await quiet(h, HOUR) // 09:00
    await publish(h.door!, deviceTopic('dc-door', 'telemetry'), { id: 'd-open', ts: h.clock.now(), kind: 'door', open: true })
    await advance(h, MIN)
    const leftAt = h.clock.now()
    await publish(h.door!, deviceTopic('dc-door', 'telemetry'), { id: 'd-close', ts: leftAt, kind: 'door', open: false })
    await settle(h.p)

    await quiet(h, OUT_AFTER - STEP) // nobody inside since: she is out, and a new household's outings may last twelve hours
    await button.drained()
    expect(button.checkins()).toEqual([])
    expect(h.p.app.detectors.question(h.householdId)).toBeNull()

    await quiet(h, STEP) // 21:01
    expect((await overview(h, token)).body.question).toMatchObject({ askedAt: leftAt + OUT_AFTER })
    expect(h.p.app.detectors.question(h.householdId)).toMatchObject({ place: 'out' })
    // The button is asked too, once, in case "out" is wrong.
    expect(await button.checkin(1)).toMatchObject({ ts: leftAt + OUT_AFTER })

    await quiet(h, FAMILY_WAIT - MIN)
    expect(await incidents(h)).toEqual([])
    await quiet(h, MIN) // the family had three hours to answer for an outing
    const raised = await incidents(h)
    expect(raised).toEqual([expect.objectContaining({ type: 'long_absence', category: 'visit', priority: 3, state: 'open', openedAt: leftAt + OUT_AFTER + FAMILY_WAIT })])
    expect(raised[0]!.explanation!.en).toContain('Went out at 09:01, not back by 00:01')
    expect(raised.filter((i) => i.category === 'wellbeing' || i.category === 'emergency')).toEqual([])
    const { body } = await h.p.api<{ events: { kind: string; detail: Json }[] }>('GET', `/api/incidents/${raised[0]!.id}`)
    expect(body.events.filter((e) => e.kind === 'escalated').map((e) => e.detail.ladder)).toEqual(['visit'])
    await button.drained()
    expect(button.checkins()).toHaveLength(1)
  })

  it('never holds an SOS back: pressed while a check-in is pending, it opens an emergency at once', async () => {
    const h = await setUp({ button: 'checkin' })
    const button = h.button!
    await move(h)
    await quiet(h, 4 * HOUR)
    const ask = await button.checkin(1)
    await advance(h, MIN)

    // The long press: the PUBACK comes once the incident is recorded, before any clock moves or anything settles.
    const pressedAt = h.clock.now()
    await publish(button.client, deviceTopic(button.id, 'alarm'), { id: 'a-sos-1', ts: pressedAt, type: 'sos' }, 1)
    const active = (await h.p.api<Incident[]>('GET', '/api/incidents?state=active')).body
    expect(active).toEqual([expect.objectContaining({ householdId: h.householdId, type: 'sos', category: 'emergency', priority: 1, state: 'open', openedAt: pressedAt })])

    // Contract v1.1: an SOS during a check-in is an SOS, not an answer; the check-in goes on.
    await settle(h.p)
    const check = (await h.p.app.detectors.monitor(h.householdId))!.activity!.check
    expect(check).toMatchObject({ stage: 'device', prompts: [{ id: ask.id, at: T0 + 4 * HOUR }] })
  })
})

describe('the learned rhythm', () => {
  it('survives a restart: the monitor has the same model after the platform starts again on the same store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anju-rhythm-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const start = Date.UTC(2026, 10, 22, 22, 0, 0) // 06:00 in Shanghai
    const clock = virtualClock(start)
    const h = await setUp({ dir, clock })
    // Three days: moving about every 20 minutes from 06:00 to 22:00, asleep from 22:00 to 06:00.
    for (let i = 0; i < (3 * DAY) / STEP; i++) {
      const hour = (6 + Math.floor((clock.now() - start) / HOUR)) % 24
      if (hour >= 6 && hour < 22) await move(h)
      else await report(h)
      await advance(h, STEP)
    }
    const learned = structuredClone((await h.p.app.detectors.monitor(h.householdId))!.activity!.rhythm)
    expect(Object.keys(learned.spells).length).toBeGreaterThan(10) // home:6 … home:21
    expect(learned.wake.reduce((a, b) => a + b, 0)).toBeGreaterThan(1.9) // two mornings so far (faded a little)
    expect(learned.days).toBeGreaterThan(2)
    expect(await incidents(h)).toEqual([])

    h.radar.end(true)
    await h.p.close()
    closed.add(h.p)
    const again = await startPlatform({ clock, dir, env: ENV })
    cleanups.push(() => again.close())
    expect((await again.app.detectors.monitor(h.householdId))!.activity!.rhythm).toEqual(learned)
  })
})
