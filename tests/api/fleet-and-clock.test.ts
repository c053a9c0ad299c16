/** Bulk provisioning and the test-mode clock, through the REST API. */
import { afterEach, describe, expect, it } from 'vitest'
import { connectDevice, startPlatform, type TestPlatform } from '../helpers/platform.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})
async function platform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const p = await startPlatform({ env })
  cleanups.push(() => p.close())
  return p
}

describe('POST /api/fleet', () => {
  it('creates households with devices and returns each secret once', async () => {
    const p = await platform()
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
    const res = await p.api<{ devices: { id: string; secret: string; householdId: string; kind: string }[]; householdIds: string[] }>('POST', '/api/fleet', {
      communityId: c.id,
      households: [
        { elderName: '甲', address: '1号', devices: [{ id: 'btn-f1', kind: 'button' }, { id: 'wm-f1', kind: 'water', room: 'kitchen' }] },
        { elderName: '乙', address: '2号', devices: [{ id: 'btn-f2', kind: 'button' }] },
      ],
    })
    expect(res.status).toBe(201)
    expect(res.body.householdIds).toHaveLength(2)
    expect(res.body.devices.map((d) => d.id)).toEqual(['btn-f1', 'wm-f1', 'btn-f2'])
    const client = await connectDevice(p, res.body.devices[1]!)
    await client.endAsync()
    expect((await p.api<unknown[]>('GET', `/api/devices?householdId=${res.body.devices[0]!.householdId}`)).body).toHaveLength(2)
  })

  it('refuses the whole batch when one device id is taken or repeated', async () => {
    const p = await platform()
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: 'x', street: 'y' })
    const first = await p.api('POST', '/api/fleet', { communityId: c.id, households: [{ elderName: '甲', address: '1', devices: [{ id: 'btn-x', kind: 'button' }] }] })
    expect(first.status).toBe(201)
    const taken = await p.api('POST', '/api/fleet', {
      communityId: c.id,
      households: [{ elderName: '乙', address: '2', devices: [{ id: 'btn-new', kind: 'button' }] }, { elderName: '丙', address: '3', devices: [{ id: 'btn-x', kind: 'button' }] }],
    })
    expect(taken.status).toBe(409)
    const repeated = await p.api('POST', '/api/fleet', { communityId: c.id, households: [{ elderName: '丁', address: '4', devices: [{ id: 'btn-y', kind: 'button' }, { id: 'btn-y', kind: 'button' }] }] })
    expect(repeated.status).toBe(400)
    expect((await p.api<{ total: number }>('GET', '/api/households')).body.total).toBe(1)
  })
})

describe('test-mode clock', () => {
  it('does not exist on the system clock', async () => {
    const p = await platform()
    expect((await p.api('GET', '/api/clock')).status).toBe(404)
    expect((await p.api('POST', '/api/clock/advance', { ms: 1000 })).status).toBe(404)
  })

  it('advances only when an admin says so', async () => {
    const start = Date.UTC(2026, 0, 1)
    const p = await platform({ ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(start), ANJU_SESSION_TTL_HOURS: '2000' })
    expect((await p.api<{ now: number }>('GET', '/api/clock')).body.now).toBe(start)
    const advanced = await p.api<{ now: number; iso: string }>('POST', '/api/clock/advance', { ms: 12 * 3_600_000 })
    expect(advanced.body).toEqual({ now: start + 12 * 3_600_000, iso: '2026-01-01T12:00:00.000Z' })
    // Pages read "now" from the Date header: on the virtual clock it is the platform's time.
    expect((await fetch(`${p.httpUrl}/api/clock`)).headers.get('date')).toBe('Thu, 01 Jan 2026 12:00:00 GMT')
    expect((await p.api('POST', '/api/clock/advance', { ms: -5 })).status).toBe(400)
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: 'x', street: 'y' })
    await p.api('POST', '/api/users', { username: 'op-clock', displayName: 'x', password: 'operator-password', communityIds: [c.id] })
    const { body: login } = await p.api<{ token: string }>('POST', '/api/login', { username: 'op-clock', password: 'operator-password' })
    expect((await p.api('POST', '/api/clock/advance', { ms: 1000 }, login.token)).status).toBe(403)
  })
})
