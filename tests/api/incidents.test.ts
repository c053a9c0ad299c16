/** REST API for incidents: filters, lifecycle errors as HTTP codes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

type View = { id: string; state: string; communityId: string }

describe('incidents API', () => {
  it('lists by state and community, and maps illegal transitions to 409 with a reason', async () => {
    const a = await provision(p)
    const b = await provision(p)
    for (const fx of [a, b]) {
      const d = await connectDevice(p, fx.device)
      await publish(d, deviceTopic(fx.device.id, 'alarm'), { id: 'x-1', type: 'sos' })
      await d.endAsync()
    }
    await waitFor(async () => (await p.api<View[]>('GET', '/api/incidents?state=open')).body.length === 2)
    const [ia] = (await p.api<View[]>('GET', `/api/incidents?communityId=${a.communityId}`)).body
    expect(ia).toMatchObject({ communityId: a.communityId, state: 'open' })

    const early = await p.api<{ error: string; message: string }>('POST', `/api/incidents/${ia!.id}/resolve`, { outcome: 'test' })
    expect(early).toMatchObject({ status: 409, body: { error: 'NOT_ACKNOWLEDGED' } })
    expect((await p.api('POST', `/api/incidents/${ia!.id}/acknowledge`)).status).toBe(200)
    expect((await p.api('POST', `/api/incidents/${ia!.id}/acknowledge`)).body).toMatchObject({ error: 'ALREADY_ACKNOWLEDGED' })
    expect((await p.api('POST', `/api/incidents/${ia!.id}/resolve`, { outcome: 'test', note: '演练' })).status).toBe(200)
    expect((await p.api('POST', `/api/incidents/${ia!.id}/resolve`, { outcome: 'test' })).body).toMatchObject({ error: 'ALREADY_RESOLVED' })

    // the trail names people: the admin who acknowledged and resolved it, by display name
    const detail = await p.api<{ events: { actor: string }[]; names: Record<string, string> }>('GET', `/api/incidents/${ia!.id}`)
    expect(detail.body.events.map((e) => e.actor)).toContain('user:admin')
    expect(detail.body.names).toEqual({ 'user:admin': '管理员' })

    expect((await p.api<View[]>('GET', '/api/incidents?state=resolved')).body.map((i) => i.id)).toEqual([ia!.id])
    expect((await p.api<View[]>('GET', '/api/incidents?state=active')).body.map((i) => i.communityId)).toEqual([b.communityId])
    expect((await p.api('GET', '/api/incidents/inc_missing')).status).toBe(404)
    expect((await p.api('GET', '/api/incidents?state=bogus')).status).toBe(400)
  })
})

describe('service level', () => {
  it("reports today's time to acknowledge and the share within 60 s", async () => {
    const fx = await provision(p)
    const d = await connectDevice(p, fx.device)
    await publish(d, deviceTopic(fx.device.id, 'alarm'), { id: 's-1', type: 'sos' })
    await d.endAsync()
    const before = (await p.api<{ open: number }>('GET', `/api/incidents/service-level?communityId=${fx.communityId}`)).body
    expect(before).toMatchObject({ open: 1, acknowledgedToday: 0, medianAckS: null, within60sShare: null })
    const [incident] = (await p.api<View[]>('GET', `/api/incidents?communityId=${fx.communityId}`)).body
    await p.api('POST', `/api/incidents/${incident!.id}/acknowledge`)
    const after = (await p.api<{ open: number; acknowledgedToday: number; medianAckS: number; within60sShare: number }>('GET', `/api/incidents/service-level?communityId=${fx.communityId}`)).body
    expect(after).toMatchObject({ open: 0, acknowledgedToday: 1, within60sShare: 1 })
    expect(after.medianAckS).toBeLessThan(60)
  })
})
