/**
 * Detectors in the running platform, on a virtual clock: real MQTT telemetry in, incidents out,
 * and a restart in the middle that neither forgets a silent elder nor fires twice.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { virtualClock, type VirtualClock } from '../../src/shared/clock.js'
import { connectDevice, publish, startPlatform, type TestPlatform } from '../helpers/platform.js'

const MIN = 60_000
const HOUR = 60 * MIN
const T0 = Date.UTC(2026, 10, 22, 22, 0, 0) // 06:00 in Shanghai
// The virtual clock runs for days; the test's logins must outlive it.
const LONG_SESSIONS = { ANJU_SESSION_TTL_HOURS: '2000' }

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

type Incident = { id: string; category: string; type: string; state: string; conditions: string[]; conditionCleared: boolean; priority: number; explanation: { zh: string; en: string } | null }

/** A community on the city's fixed rules (adaptive mode, the default, is in activity-service.test.ts). */
async function setUpHousehold(p: TestPlatform) {
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道', detectorSettings: { mode: 'city' } })
  const { body: h } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '3号楼 201室' })
  const meter = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: 'wm-svc', householdId: h.id, kind: 'water', room: 'kitchen', heartbeatS: 3600 })
  const radar = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: 'pr-svc', householdId: h.id, kind: 'presence', room: 'bedroom', heartbeatS: 3600 })
  return { householdId: h.id, meter: meter.body, radar: radar.body }
}

/** Devices report every 30 virtual minutes; the clock moves between reports. */
async function report(p: TestPlatform, clock: VirtualClock, devices: { meter: MqttClient; radar: MqttClient }, hours: number, life: { total: number; active: boolean }) {
  const d = p.app.detectors
  for (let t = 0; t < hours * 2; t++) {
    const ts = clock.now()
    if (life.active) life.total += 0.01
    await publish(devices.meter, deviceTopic('wm-svc', 'telemetry'), { id: `w-${ts}`, ts, kind: 'water', totalM3: Number(life.total.toFixed(3)), flowLpm: 0 })
    await publish(devices.radar, deviceTopic('pr-svc', 'telemetry'), { id: `p-${ts}`, ts, kind: 'presence', occupied: life.active, motion: life.active })
    clock.advance(30 * MIN)
    await d.settle()
  }
}

describe('detectors in the platform', () => {
  it('opens one wellbeing incident when an elder stops using water and moving, and marks it when life resumes', async () => {
    const clock = virtualClock(T0)
    const p = await startPlatform({ clock, env: LONG_SESSIONS })
    cleanups.push(() => p.close())
    const hh = await setUpHousehold(p)
    const meter = await connectDevice(p, hh.meter)
    const radar = await connectDevice(p, hh.radar)
    cleanups.push(() => void meter.end(true), () => void radar.end(true))
    const life = { total: 10, active: true }

    await report(p, clock, { meter, radar }, 2, life)
    life.active = false
    await report(p, clock, { meter, radar }, 13, life)

    const active = (await p.api<Incident[]>('GET', '/api/incidents?state=active')).body
    expect(active).toHaveLength(1)
    const incident = active[0]!
    expect(incident).toMatchObject({ category: 'wellbeing', state: 'open', conditionCleared: false })
    expect(incident.conditions).toEqual(expect.arrayContaining(['no_water', 'inactivity']))
    expect(incident.priority).toBe(2) // no water and no movement agree
    expect(incident.explanation?.zh).toBeTruthy()

    life.active = true
    await report(p, clock, { meter, radar }, 1, life)
    const after = (await p.api<Incident & { events: { kind: string }[] }>('GET', `/api/incidents/${incident.id}`)).body
    expect(after).toMatchObject({ state: 'open', conditionCleared: true, conditions: [] })
    expect(after.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['opened', 'finding', 'condition_cleared']))
  })

  it('flags an elder who goes silent across a restart on time, without firing twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anju-det-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const clock = virtualClock(T0)
    const first = await startPlatform({ clock, dir, env: LONG_SESSIONS })
    const hh = await setUpHousehold(first)
    let meter = await connectDevice(first, hh.meter)
    let radar = await connectDevice(first, hh.radar)
    const life = { total: 10, active: true }
    await report(first, clock, { meter, radar }, 2, life)
    life.active = false
    await report(first, clock, { meter, radar }, 6, life)
    meter.end(true)
    radar.end(true)
    await first.close()

    const second = await startPlatform({ clock, dir, env: LONG_SESSIONS })
    cleanups.push(() => second.close())
    meter = await connectDevice(second, hh.meter)
    radar = await connectDevice(second, hh.radar)
    cleanups.push(() => void meter.end(true), () => void radar.end(true))
    await report(second, clock, { meter, radar }, 5, life) // 11 h silent: not yet
    expect((await second.api<Incident[]>('GET', '/api/incidents?state=active')).body).toEqual([])
    await report(second, clock, { meter, radar }, 2, life) // past 12 h
    const active = (await second.api<Incident[]>('GET', '/api/incidents?state=active')).body
    expect(active).toHaveLength(1)
    expect(active[0]!.conditions).toEqual(expect.arrayContaining(['inactivity']))

    // a second restart with the condition still true does not open or repeat anything
    // detector events only: routing keeps adding its own (ladder steps) as time passes
    const detectorEvents = async () =>
      (await second.api<{ events: { kind: string }[] }>('GET', `/api/incidents/${active[0]!.id}`)).body.events.filter((e) => ['opened', 'finding', 'condition_cleared'].includes(e.kind)).length
    const eventsBefore = await detectorEvents()
    await second.app.detectors.stop()
    await second.app.detectors.start()
    await report(second, clock, { meter, radar }, 1, life)
    const again = (await second.api<Incident[]>('GET', '/api/incidents?state=active')).body
    expect(again.map((i) => i.id)).toEqual([active[0]!.id])
    expect(await detectorEvents()).toBe(eventsBefore)
  })

  it('keeps away mode across the API: an away household raises nothing', async () => {
    const clock = virtualClock(T0)
    const p = await startPlatform({ clock, env: LONG_SESSIONS })
    cleanups.push(() => p.close())
    const hh = await setUpHousehold(p)
    const meter = await connectDevice(p, hh.meter)
    const radar = await connectDevice(p, hh.radar)
    cleanups.push(() => void meter.end(true), () => void radar.end(true))
    const away = await p.api('PUT', `/api/households/${hh.householdId}/away`, { until: T0 + 7 * 24 * HOUR })
    expect(away.status).toBe(200)
    expect((await p.api('PUT', `/api/households/${hh.householdId}/away`, { until: T0 - 1 })).status).toBe(400)
    // Never open-ended: the year 9999 is refused, and changes nothing.
    const forever = await p.api<{ message: string }>('PUT', `/api/households/${hh.householdId}/away`, { until: Date.UTC(9999, 0, 1) })
    expect(forever.status).toBe(400)
    expect(forever.body.message).toContain('最长 90 天')
    expect((await p.api<{ awayUntil: number }>('GET', `/api/households/${hh.householdId}`)).body.awayUntil).toBe(T0 + 7 * 24 * HOUR)
    const life = { total: 10, active: false }
    await report(p, clock, { meter, radar }, 16, life)
    expect((await p.api<Incident[]>('GET', '/api/incidents?state=active')).body).toEqual([])
  })
})
