/**
 * Device truth through the platform (docs/operations.md §device states): the API's state for each
 * device, one maintenance incident per household naming the right device, a never-heard device
 * as an installation task (not offline), a restart that recovers nobody, and a simulated district
 * removed in one call. Real MQTT devices, the virtual clock, both stores.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import type { Incident, IncidentEvent } from '../../src/incidents/model.js'
import { connectDevice, publish, startPlatform, type TestPlatform } from '../helpers/platform.js'

const MIN = 60_000
const HOUR = 60 * MIN
const START = Date.UTC(2026, 2, 1, 2)

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

function virtualEnv(start: number): Record<string, string> {
  return { ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(start), ANJU_SESSION_TTL_HOURS: '2000' }
}

interface DeviceOut { id: string; state: string; installOverdue: boolean; lowBattery: boolean; lastSeenAt: number | null }

async function home(p: TestPlatform, tag: string) {
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: `社区 ${tag}`, street: '模拟街道' })
  const res = await p.api<{ devices: { id: string; secret: string; householdId: string }[] }>('POST', '/api/fleet', {
    communityId: c.id,
    households: [
      {
        elderName: '张桂英',
        address: '梅园新村 3号楼 201室',
        devices: [
          { id: `btn-${tag}`, kind: 'button' },
          { id: `wm-${tag}`, kind: 'water', room: 'kitchen' },
          { id: `pr-${tag}`, kind: 'presence', room: 'bedroom' },
        ],
      },
    ],
  })
  expect(res.status).toBe(201)
  const [btn, wm, pr] = res.body.devices
  return { communityId: c.id, householdId: btn!.householdId, btn: btn!, wm: wm!, pr: pr! }
}

const states = async (p: TestPlatform, householdId: string) =>
  Object.fromEntries((await p.api<DeviceOut[]>('GET', `/api/devices?householdId=${householdId}`)).body.map((d) => [d.id, d.state]))

const incidentsOf = async (p: TestPlatform, householdId: string) =>
  (await p.api<Incident[]>('GET', '/api/incidents?state=active')).body.filter((i) => i.householdId === householdId)

describe('device truth', () => {
  it('says the same as the detectors: one maintenance incident per household, never-heard devices an installation task, and a restart recovers nobody', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anju-truth-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    let p = await startPlatform({ dir, env: virtualEnv(START) })
    let closed = false
    cleanups.push(async () => {
      if (!closed) await p.close()
    })
    const h = await home(p, 't1')

    // The meter and the sensor report once; the button never connects.
    for (const d of [h.wm, h.pr]) {
      const client = await connectDevice(p, d)
      await publish(client, deviceTopic(d.id, 'status'), { online: true, battery: 70 })
      await client.endAsync()
    }
    // Device health is written once a (virtual) second: a second passes between looks.
    const look = async () => {
      await p.api('POST', '/api/clock/advance', { ms: 1000 })
      return states(p, h.householdId)
    }
    await expect.poll(look, { timeout: 20_000 }).toEqual({ [h.btn.id]: 'not_reporting_yet', [h.wm.id]: 'online', [h.pr.id]: 'online' })

    // Two heartbeats (10 min) later both are silent: ONE maintenance incident naming them, none for the button.
    await p.api('POST', '/api/clock/advance', { ms: 11 * MIN })
    expect(await states(p, h.householdId)).toEqual({ [h.btn.id]: 'not_reporting_yet', [h.wm.id]: 'silent', [h.pr.id]: 'silent' })
    let open = await incidentsOf(p, h.householdId)
    expect(open).toHaveLength(1)
    const maintenance = open[0]!
    expect(maintenance).toMatchObject({ category: 'maintenance', type: 'device_offline' })
    expect([...maintenance.conditions].sort()).toEqual([`device_offline:${h.pr.id}`, `device_offline:${h.wm.id}`])
    // The row's device is the one its text is about.
    expect(maintenance.explanation!.zh).toContain(maintenance.deviceId)
    expect([h.wm.id, h.pr.id]).toContain(maintenance.deviceId)

    // A day after it was registered the button is an unfinished installation, in its own incident.
    await p.api('POST', '/api/clock/advance', { ms: 24 * HOUR })
    open = await incidentsOf(p, h.householdId)
    expect(open.map((i) => i.category).sort()).toEqual(['installation', 'maintenance'])
    const install = open.find((i) => i.category === 'installation')!
    expect(install).toMatchObject({ type: 'device_not_installed', deviceId: h.btn.id, priority: 4, conditions: [`device_not_installed:${h.btn.id}`] })
    expect(install.explanation!.zh).toContain('安装未完成')
    const btn = (await p.api<DeviceOut>('GET', `/api/devices/${h.btn.id}`)).body
    expect(btn).toMatchObject({ state: 'not_reporting_yet', installOverdue: true })

    // A restart: nothing recovers by itself, before or after the devices' deadlines pass again.
    const at = p.app.clock.now()
    await p.close()
    closed = true
    p = await startPlatform({ dir, env: virtualEnv(at) })
    closed = false
    await p.api('POST', '/api/clock/advance', { ms: 5 * MIN })
    await p.api('POST', '/api/clock/advance', { ms: 10 * MIN })
    open = await incidentsOf(p, h.householdId)
    expect(open).toHaveLength(2)
    for (const i of open) {
      expect(i.conditionCleared).toBe(false)
      const { events } = (await p.api<{ events: IncidentEvent[] }>('GET', `/api/incidents/${i.id}`)).body
      expect(events.filter((e) => e.kind === 'condition_cleared')).toEqual([])
    }
    expect(open.find((i) => i.category === 'maintenance')!.conditions).toHaveLength(2)
  }, 180_000)

  it('removes a simulated district with everything in it in one call, and refuses without purge', async () => {
    const p = await startPlatform({ env: virtualEnv(START) })
    cleanups.push(() => p.close())
    const h = await home(p, 't2')
    const client = await connectDevice(p, h.wm)
    await publish(client, deviceTopic(h.wm.id, 'status'), { online: true })
    await client.endAsync()
    // Device health is written once a (virtual) second: the meter is heard before the day passes.
    await expect
      .poll(async () => {
        await p.api('POST', '/api/clock/advance', { ms: 1000 })
        return (await states(p, h.householdId))[h.wm.id]
      }, { timeout: 20_000 })
      .toBe('online')
    await p.api('POST', '/api/clock/advance', { ms: 25 * HOUR })
    expect((await incidentsOf(p, h.householdId)).length).toBeGreaterThan(0)
    // Its service tickets and visit plan go with it (they refer to the household).
    expect((await p.api('POST', '/api/service-tickets', { householdId: h.householdId, type: 'meal' })).status).toBe(201)
    expect((await p.api<{ total: number }>('GET', `/api/service-tickets?householdId=${h.householdId}`)).body.total).toBe(1)
    expect((await p.api<{ items: unknown[] }>('GET', `/api/visits?communityId=${h.communityId}`)).body.items.length).toBeGreaterThan(0)

    expect((await p.api('DELETE', `/api/communities/${h.communityId}`)).status).toBe(409)
    expect((await p.api('DELETE', `/api/communities/nope?purge=true`)).status).toBe(404)
    const removed = await p.api<{ households: number; devices: number; incidents: number }>('DELETE', `/api/communities/${h.communityId}?purge=true`)
    expect(removed.status).toBe(200)
    expect(removed.body).toMatchObject({ households: 1, devices: 3, incidents: 2 })
    expect((await p.api<unknown[]>('GET', '/api/incidents?state=active')).body).toEqual([])
    expect((await p.api<{ items: unknown[]; total: number }>('GET', '/api/households')).body).toMatchObject({ items: [], total: 0 })
    expect((await p.api('GET', `/api/devices/${h.wm.id}`)).status).toBe(404)
    expect((await p.api<{ total: number }>('GET', '/api/service-tickets')).body.total).toBe(0)
    expect((await p.api<{ items: unknown[] }>('GET', '/api/visits')).body.items).toEqual([])
    // Its devices can no longer connect.
    await expect(connectDevice(p, h.wm)).rejects.toThrow()
  }, 120_000)
})
