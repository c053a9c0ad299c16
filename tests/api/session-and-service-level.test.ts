/**
 * What the console needs for a shift-safe session and a live service level, on the virtual clock:
 * /api/me says when the session ends (and renews it past half its life), /api/session says it and
 * the platform's time without renewing, a background refresh never renews; an SOS unanswered past
 * 60 s is a miss in /api/incidents/service-level before anyone acknowledges it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { virtualClock } from '../../src/shared/clock.js'
import { connectDevice, createOperator, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const T0 = Date.UTC(2026, 0, 1, 2) // 10:00 in Asia/Shanghai: the local day does not turn during the test
const HOUR = 3_600_000
const clock = virtualClock(T0)
let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform({ clock })
})
afterAll(() => p.close())

type Level = { open: number; counted: number; missed: number; overdueNow: number; within60sShare: number | null; meetsBenchmark: boolean | null; acknowledgedToday: number }

describe('service level on the platform clock', () => {
  it('counts an SOS waiting past 60 s as a miss before anyone acknowledges it, and keeps it one after', async () => {
    const fx = await provision(p)
    const level = async () => (await p.api<Level>('GET', `/api/incidents/service-level?communityId=${fx.communityId}`)).body
    const button = await connectDevice(p, fx.device)
    await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'late-1', type: 'sos' })
    await button.endAsync()
    await waitFor(async () => (await level()).open === 1, 5000, 'the SOS')
    clock.advance(60_000)
    expect(await level()).toMatchObject({ counted: 0, missed: 0, within60sShare: null, meetsBenchmark: null })
    clock.advance(1000)
    expect(await level()).toMatchObject({ open: 1, counted: 1, missed: 1, overdueNow: 1, within60sShare: 0, meetsBenchmark: false })
    const [incident] = (await p.api<{ id: string }[]>('GET', `/api/incidents?communityId=${fx.communityId}`)).body
    expect((await p.api('POST', `/api/incidents/${incident!.id}/acknowledge`)).status).toBe(200)
    expect(await level()).toMatchObject({ open: 0, acknowledgedToday: 1, counted: 1, missed: 1, overdueNow: 0, within60sShare: 0, meetsBenchmark: false })
  })
})

// last: it moves the clock a day on, past the admin's own session
describe('the session, as the console reads it', () => {
  it('tells when it ends; /api/session and background refreshes never renew it, /api/me does past half its life', async () => {
    const fx = await provision(p)
    const start = clock.now()
    const token = await createOperator(p, 'op-shift', [fx.communityId])
    const me = await p.api<{ username: string; sessionExpiresAt: number }>('GET', '/api/me', undefined, token)
    expect(me.body).toMatchObject({ username: 'op-shift', sessionExpiresAt: start + 12 * HOUR })
    clock.advance(11 * HOUR)
    expect((await p.api('GET', '/api/session', undefined, token)).body).toEqual({ expiresAt: start + 12 * HOUR, now: start + 11 * HOUR })
    // the service strip's timed refresh: answered, not renewed
    const background = await fetch(`${p.httpUrl}/api/incidents/service-level`, { headers: { authorization: `Bearer ${token}`, 'x-anju-background': '1' } })
    expect(background.status).toBe(200)
    expect((await p.api<{ expiresAt: number }>('GET', '/api/session', undefined, token)).body.expiresAt).toBe(start + 12 * HOUR)
    // 继续值班
    expect((await p.api<{ sessionExpiresAt: number }>('GET', '/api/me', undefined, token)).body.sessionExpiresAt).toBe(start + 23 * HOUR)
    clock.advance(12 * HOUR)
    expect((await p.api('GET', '/api/session', undefined, token)).status).toBe(401)
    expect((await p.api('GET', '/api/session')).status).toBe(401)
  })
})
