/**
 * Declining activity in the visit plan (docs/operations.md §visits), on the real platform and its
 * virtual clock: six weeks of hourly water-meter readings sent through HTTP ingest as an NB-IoT
 * meter sends them (a day's readings at once, each with its own `ts`), for a household whose
 * water use falls by two thirds in the last two weeks and one whose use stays the same. The next
 * month's plan, made at the local month's start, gives the first one visit more, saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPlatform, type TestPlatform } from '../helpers/platform.js'

type Json = Record<string, any>
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
// Friday 20 March 2026, 10:00 in Shanghai (UTC+8).
const START = Date.UTC(2026, 2, 20, 2)
// 1 April and 1 May, 00:00 in Shanghai.
const APRIL = Date.UTC(2026, 2, 31, 16)
const MAY = Date.UTC(2026, 3, 30, 16)
// The declining household draws a third from 17 April on: the last two weeks before May.
const DECLINE_FROM = Date.UTC(2026, 3, 16, 16)

let p: TestPlatform
let communityId: string
const meters: { householdId: string; id: string; secret: string; litres: (at: number) => number; totalM3: number }[] = []

async function household(name: string, address: string, litres: (at: number) => number): Promise<string> {
  const h = await p.api<{ id: string }>('POST', '/api/households', { communityId, elderName: name, address, age: 72, phone: '13800002222' })
  expect(h.status).toBe(201)
  // An NB-IoT meter that uploads once a day: heard daily, never offline.
  const d = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: `wm-${h.body.id}`, householdId: h.body.id, kind: 'water', heartbeatS: 86_400 })
  expect(d.status, JSON.stringify(d.body)).toBe(201)
  meters.push({ householdId: h.body.id, id: d.body.id, secret: d.body.secret, litres, totalM3: 321.5 })
  return h.body.id
}

/** Litres a day drawn between 06:00 and 22:00 local, evenly by the hour. */
const byHour = (perDay: (at: number) => number) => (hourStart: number) => {
  const localHour = new Date(hourStart + 8 * HOUR).getUTCHours()
  return localHour >= 6 && localHour < 22 ? perDay(hourStart) / 16 : 0
}

/** The next reading's time: every hour at :30. */
let next = Math.ceil((START - 30 * MIN) / HOUR) * HOUR + 30 * MIN
let sent = 0

/** Sends each meter's readings up to `until` (the hour before each counted in its register), as one upload. */
async function upload(until: number): Promise<void> {
  for (; next <= until; next += HOUR) {
    const at = next
    await Promise.all(
      meters.map(async (m) => {
        // The register to the litre, as a meter shows it; the drawn water counted exactly.
        m.totalM3 += m.litres(at - HOUR) / 1000
        const res = await fetch(`${p.httpUrl}/ingest/v1/dev/${m.id}/telemetry`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${m.id}:${m.secret}`).toString('base64')}` },
          body: JSON.stringify({ id: `w-${at}`, ts: at, kind: 'water', totalM3: Math.round(m.totalM3 * 1000) / 1000, flowLpm: 0 }),
        })
        expect(await res.json()).toEqual({ result: 'accepted' })
        sent++
      }),
    )
  }
  // Written to the history store before the clock moves on.
  await p.app.telemetrySink.settle()
}

/** Moves the clock to `to` a day at a time, uploading each day's readings after it, as the meters do. */
async function liveUntil(to: number): Promise<void> {
  while (p.app.clock.now() < to) {
    const step = Math.min(DAY, to - p.app.clock.now())
    expect((await p.api('POST', '/api/clock/advance', { ms: step })).status).toBe(200)
    await upload(p.app.clock.now())
  }
}

const planOf = async (householdId: string, month: string) => {
  const r = await p.api<{ items: Json[] }>('GET', `/api/visits?communityId=${communityId}&month=${month}`)
  expect(r.status).toBe(200)
  return r.body.items.filter((v) => v.householdId === householdId && v.source === 'plan')
}

let steady: string
let declining: string
/** Declines as much, because she went into hospital: away mode says why, so no visit more. */
let away: string

beforeAll(async () => {
  p = await startPlatform({ env: { ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(START), ANJU_SESSION_TTL_HOURS: String(24 * 60) } })
  communityId = (await p.api<{ id: string }>('POST', '/api/communities', { name: '活动社区', street: '测试街道' })).body.id
  steady = await household('钱平', '松林路 1号楼 101室', byHour(() => 100))
  declining = await household('孙减', '松林路 1号楼 201室', byHour((at) => (at >= DECLINE_FROM ? 30 : 90)))
  away = await household('李住院', '松林路 1号楼 301室', byHour((at) => (at >= DECLINE_FROM ? 30 : 90)))
  await upload(p.app.clock.now())
}, 60_000)
afterAll(async () => {
  await p?.close()
})

describe('declining activity in the visit plan', () => {
  it('plans April once each: twelve days of readings say nothing yet', async () => {
    await liveUntil(APRIL + MIN)
    expect(await planOf(steady, '2026-04')).toHaveLength(1)
    expect(await planOf(declining, '2026-04')).toHaveLength(1)
  }, 60_000)

  it("gives the household whose water use fell by two thirds one visit more in May, with the figures, and the steady one none", async () => {
    // The last day's upload reaches the store before midnight; May is planned at 00:00.
    await liveUntil(MAY - MIN)
    expect(await planOf(declining, '2026-05')).toEqual([])
    expect((await p.api('PUT', `/api/households/${away}/away`, { until: MAY + 10 * 24 * 60 * MIN })).status).toBe(200)
    await liveUntil(MAY + MIN)
    expect(sent).toBeGreaterThan(3 * 40 * 24)

    const fell = await planOf(declining, '2026-05')
    expect(fell.map((v) => v.planKey).sort()).toEqual(['2026-05#1', '2026-05#2'])
    // Readings are kept 30 days (ANJU_TELEMETRY_RETENTION_DAYS): the earlier level rests on the days left before the two weeks
    // (1 April on, and the day before when the hourly prune has not reached it yet).
    expect(fell[0]!.reason.zh).toMatch(/^每月 2 次:活动减少:近两周每天用水约 30 升,此前 1[4-7] 天约 90 升$/)
    expect(fell[0]!.reason.en).toMatch(/^2 a month: activity declining: water about 30 L a day in the last two weeks, 90 L in the 1[4-7] days before$/)

    const same = await planOf(steady, '2026-05')
    expect(same.map((v) => [v.planKey, v.reason.zh])).toEqual([['2026-05#1', '每月例行探访']])
    expect((await planOf(away, '2026-05')).map((v) => [v.planKey, v.reason.zh])).toEqual([['2026-05#1', '每月例行探访']])
    // No other risk explains the extra visit: neither household has an incident.
    const incidents = (await p.api<Json[]>('GET', '/api/incidents')).body.filter((i) => [steady, declining].includes(i.householdId))
    expect(incidents).toEqual([])
  }, 120_000)
})
