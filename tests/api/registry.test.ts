/** REST API: login, CRUD of communities, households and devices, validation and scoping. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, createOperator, startPlatform, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

type Json = Record<string, unknown>

describe('login', () => {
  it('returns a token for the right password and a clear 401 otherwise', async () => {
    const ok = await p.api<{ token: string; user: Json }>('POST', '/api/login', { username: 'admin', password: 'admin-test-password' })
    expect(ok.status).toBe(200)
    expect(ok.body.user).toMatchObject({ username: 'admin', role: 'admin' })
    const me = await p.api('GET', '/api/me', undefined, ok.body.token)
    expect(me.body).toMatchObject({ username: 'admin' })

    expect(await p.api('POST', '/api/login', { username: 'admin', password: 'wrong-password' })).toEqual({
      status: 401,
      body: { error: 'UNAUTHORIZED', message: 'wrong username or password' },
    })
    expect((await p.api('POST', '/api/login', { username: 'nobody', password: 'x' })).status).toBe(401)
    expect((await p.api('GET', '/api/incidents', undefined, 'not-a-token')).status).toBe(401)
  })

  it('ends a session on logout', async () => {
    const { body } = await p.api<{ token: string }>('POST', '/api/login', { username: 'admin', password: 'admin-test-password' })
    expect((await p.api('POST', '/api/logout', undefined, body.token)).status).toBe(204)
    expect((await p.api('GET', '/api/me', undefined, body.token)).status).toBe(401)
  })
})

describe('key-safe information', () => {
  it('is kept on the household for operators, kept by a PATCH that leaves it out, and refused when too long', async () => {
    const c = await p.api<Json>('POST', '/api/communities', { name: '钥匙社区', street: '新华路街道' })
    const h = await p.api<Json>('POST', '/api/households', { communityId: c.body.id, elderName: '刘秀兰', address: '7号楼 101室', keySafe: '门口电表箱内钥匙盒,密码 4821' })
    expect(h).toMatchObject({ status: 201, body: { keySafe: '门口电表箱内钥匙盒,密码 4821' } })
    const id = h.body.id as string
    const op = await createOperator(p, 'op-keysafe', [c.body.id as string])
    expect((await p.api<Json>('GET', `/api/households/${id}`, undefined, op)).body).toMatchObject({ keySafe: '门口电表箱内钥匙盒,密码 4821' })
    // Leaving it out of a PATCH keeps it; null clears it.
    expect((await p.api<Json>('PATCH', `/api/households/${id}`, { age: 91 })).body).toMatchObject({ keySafe: '门口电表箱内钥匙盒,密码 4821' })
    const tooLong = await p.api<Json>('PATCH', `/api/households/${id}`, { keySafe: 'x'.repeat(501) })
    expect(tooLong.status).toBe(400)
    expect(tooLong.body.message).toMatch(/keySafe/)
    expect((await p.api<Json>('GET', `/api/households/${id}`)).body).toMatchObject({ keySafe: '门口电表箱内钥匙盒,密码 4821' })
    expect((await p.api<Json>('PATCH', `/api/households/${id}`, { keySafe: null })).body).toMatchObject({ keySafe: null })
  })

  it('is never in the household list nor in the answer to away mode: only the profile carries it, and that reading is audited', async () => {
    const c = await p.api<Json>('POST', '/api/communities', { name: '名单社区', street: '新华路街道' })
    const h = await p.api<Json>('POST', '/api/households', { communityId: c.body.id, elderName: '周金凤', address: '5号楼 202室', keySafe: '楼道消防栓旁钥匙盒,密码 0605', medicalNotes: '心脏起搏器' })
    const id = h.body.id as string
    const op = await createOperator(p, 'op-list', [c.body.id as string])
    const list = await p.api<{ items: Json[] }>('GET', '/api/households', undefined, op)
    expect(list.status).toBe(200)
    expect(list.body.items).toEqual([expect.objectContaining({ id, elderName: '周金凤', hasKeySafe: true, hasMedicalNotes: true })])
    expect(JSON.stringify(list.body)).not.toMatch(/0605|起搏器|keySafe|medicalNotes/)
    const away = await p.api<Json>('PUT', `/api/households/${id}/away`, { until: Date.now() + 86_400_000 }, op)
    expect(away.status).toBe(200)
    expect(JSON.stringify(away.body)).not.toMatch(/0605|起搏器/)
    expect(away.body).toMatchObject({ id, hasKeySafe: true })
    // Nothing of it was read, so nothing is on the trail but the away mode.
    const trail = await p.api<{ action: string }[]>('GET', `/api/audit?householdId=${id}`)
    expect(trail.body.map((e) => e.action)).toEqual(['away.changed'])
  })
})

describe('communities, households and devices', () => {
  it('creates, reads, updates and deletes, refusing deletes that would orphan records', async () => {
    const c = await p.api<Json>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
    expect(c.status).toBe(201)
    const communityId = c.body.id as string
    expect((await p.api<Json>('PATCH', `/api/communities/${communityId}`, { name: '梅园新社区' })).body).toMatchObject({ name: '梅园新社区', street: '新华路街道' })

    const h = await p.api<Json>('POST', '/api/households', { communityId, elderName: '张桂英', age: 84, address: '3号楼 201室', phone: '13800000001' })
    expect(h.status).toBe(201)
    expect(h.body).toMatchObject({ elderName: '张桂英', medicalNotes: null })
    const householdId = h.body.id as string
    const patched = await p.api<Json>('PATCH', `/api/households/${householdId}`, { medicalNotes: '高血压' })
    expect(patched.body).toMatchObject({ medicalNotes: '高血压', age: 84, phone: '13800000001' })

    const contact = await p.api<Json>('POST', `/api/households/${householdId}/contacts`, { name: '张明', relation: '子女', phone: '13900000001' })
    expect(contact.status).toBe(201)
    expect((await p.api<Json[]>('GET', `/api/households/${householdId}/contacts`)).body).toHaveLength(1)

    const d = await p.api<Json>('POST', '/api/devices', { id: 'btn-crud-1', householdId, kind: 'button' })
    expect(d.status).toBe(201)
    expect(d.body).toMatchObject({ id: 'btn-crud-1', heartbeatS: 3600, secret: expect.any(String) })
    const sensor = await p.api<Json>('POST', '/api/devices', { id: 'pr-crud-1', householdId, kind: 'presence', room: 'bathroom' })
    expect(sensor.body).toMatchObject({ heartbeatS: 300, room: 'bathroom' })

    // the secret is shown once, never again
    const fetched = await p.api<Json>('GET', '/api/devices/btn-crud-1')
    expect(fetched.body).not.toHaveProperty('secret')
    expect(JSON.stringify((await p.api('GET', '/api/devices')).body)).not.toContain(d.body.secret as string)

    expect((await p.api<Json>('POST', '/api/devices', { id: 'btn-crud-1', householdId, kind: 'button' })).status).toBe(409)
    expect((await p.api('DELETE', `/api/households/${householdId}`)).status).toBe(409)
    expect((await p.api('DELETE', `/api/communities/${communityId}`)).status).toBe(409)

    expect((await p.api('DELETE', '/api/devices/btn-crud-1')).status).toBe(204)
    expect((await p.api('DELETE', '/api/devices/pr-crud-1')).status).toBe(204)
    expect((await p.api('GET', '/api/devices/btn-crud-1')).status).toBe(404)
    expect((await p.api('DELETE', `/api/households/${householdId}`)).status).toBe(204)
    expect((await p.api('DELETE', `/api/communities/${communityId}`)).status).toBe(204)
  })

  it('closes a connected device when it is moved to another household, so its next alarm goes to the right home', async () => {
    const { body: c } = await p.api<Json>('POST', '/api/communities', { name: '搬家社区', street: 's' })
    const { body: a } = await p.api<Json>('POST', '/api/households', { communityId: c.id, elderName: '甲', address: 'A' })
    const { body: b } = await p.api<Json>('POST', '/api/households', { communityId: c.id, elderName: '乙', address: 'B' })
    const { body: d } = await p.api<Json>('POST', '/api/devices', { id: 'btn-moving', householdId: a.id, kind: 'button' })
    const client = await connectDevice(p, { id: 'btn-moving', secret: d.secret as string })
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    expect((await p.api('PATCH', '/api/devices/btn-moving', { householdId: b.id })).status).toBe(200)
    await closed
    client.end(true)
  })

  it("closes a moved household's devices, so an SOS after they reconnect reaches the new community's operators", async () => {
    const { body: from } = await p.api<Json>('POST', '/api/communities', { name: '旧社区', street: 's' })
    const { body: to } = await p.api<Json>('POST', '/api/communities', { name: '新社区', street: 's' })
    const { body: h } = await p.api<Json>('POST', '/api/households', { communityId: from.id, elderName: '丙', address: 'C' })
    const { body: d } = await p.api<Json>('POST', '/api/devices', { id: 'btn-hh-moving', householdId: h.id, kind: 'button' })
    const device = { id: 'btn-hh-moving', secret: d.secret as string }
    const client = await connectDevice(p, device)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    expect((await p.api('PATCH', `/api/households/${h.id}`, { communityId: to.id })).status).toBe(200)
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the moved household\'s device stayed connected')), 5000))])
    client.end(true)
    const again = await connectDevice(p, device)
    await again.publishAsync(deviceTopic('btn-hh-moving', 'alarm'), JSON.stringify({ id: 'moved-1', type: 'sos' }), { qos: 1 })
    await again.endAsync()
    const newOps = await createOperator(p, 'op-new-community', [to.id as string])
    const oldOps = await createOperator(p, 'op-old-community', [from.id as string])
    expect((await p.api<Json[]>('GET', '/api/incidents?state=active', undefined, newOps)).body.map((i) => i.deviceId)).toContain('btn-hh-moving')
    expect((await p.api<Json[]>('GET', '/api/incidents?state=active', undefined, oldOps)).body).toEqual([])
    // Other changes to the household leave its devices connected.
    const stays = await connectDevice(p, device)
    let dropped = false
    stays.once('close', () => (dropped = true))
    expect((await p.api('PATCH', `/api/households/${h.id}`, { age: 90 })).status).toBe(200)
    // A close would have been sent before the PATCH answered: a PUBACK after it shows the connection held.
    await stays.publishAsync(deviceTopic('btn-hh-moving', 'status'), JSON.stringify({ online: true }), { qos: 1 })
    expect(dropped).toBe(false)
    await stays.endAsync()
  })

  it('rotates a device secret: the old one stops working', async () => {
    const { body: c } = await p.api<Json>('POST', '/api/communities', { name: '兰亭社区', street: '新华路街道' })
    const { body: h } = await p.api<Json>('POST', '/api/households', { communityId: c.id, elderName: '赵', address: '12号楼' })
    const { body: d } = await p.api<Json>('POST', '/api/devices', { id: 'btn-rot-1', householdId: h.id, kind: 'button' })
    const rotated = await p.api<Json>('POST', '/api/devices/btn-rot-1/rotate-secret')
    expect(rotated.body.secret).not.toBe(d.secret)
    await expect(connectDevice(p, { id: 'btn-rot-1', secret: d.secret as string })).rejects.toMatchObject({ code: 5 })
    const client = await connectDevice(p, { id: 'btn-rot-1', secret: rotated.body.secret as string })
    await client.endAsync()
  })

  it('answers bad input with 400 and a message naming the field, changing nothing', async () => {
    const before = (await p.api<Json[]>('GET', '/api/communities')).body.length
    const noName = await p.api<{ error: string; message: string }>('POST', '/api/communities', { street: 'x' })
    expect(noName.status).toBe(400)
    expect(noName.body.error).toBe('VALIDATION')
    expect(noName.body.message).toContain('name')

    const badId = await p.api<{ message: string }>('POST', '/api/devices', { id: 'btn/1', householdId: 'hh', kind: 'button' })
    expect(badId.status).toBe(400)
    expect(badId.body.message).toContain('device id')
    const badKind = await p.api('POST', '/api/devices', { id: 'btn-1', householdId: 'hh', kind: 'toaster' })
    expect(badKind.status).toBe(400)
    const noHousehold = await p.api<{ message: string }>('POST', '/api/devices', { id: 'btn-zz', householdId: 'hh-missing', kind: 'button' })
    expect(noHousehold).toMatchObject({ status: 400, body: { message: expect.stringContaining('hh-missing') } })
    const badJson = await fetch(p.httpUrl + '/api/communities', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${p.adminToken}` }, body: '{oops' })
    expect(badJson.status).toBe(400)
    const badOutcome = await p.api('POST', '/api/incidents/inc_x/resolve', { outcome: 'shrug' })
    expect(badOutcome.status).toBe(400)
    expect((await p.api<Json[]>('GET', '/api/communities')).body.length).toBe(before)
  })
})

describe('operators', () => {
  it('see only the communities they serve and may not change the registry', async () => {
    const { body: mine } = await p.api<Json>('POST', '/api/communities', { name: '我的社区', street: 's' })
    const { body: theirs } = await p.api<Json>('POST', '/api/communities', { name: '别人的社区', street: 's' })
    const { body: myHome } = await p.api<Json>('POST', '/api/households', { communityId: mine.id, elderName: '甲', address: 'a' })
    const { body: theirHome } = await p.api<Json>('POST', '/api/households', { communityId: theirs.id, elderName: '乙', address: 'b' })
    const token = await createOperator(p, 'op-scope', [mine.id as string])

    expect((await p.api<Json[]>('GET', '/api/communities', undefined, token)).body.map((c) => c.id)).toEqual([mine.id])
    expect((await p.api<{ items: Json[] }>('GET', '/api/households', undefined, token)).body.items.map((h) => h.id)).toEqual([myHome.id])
    expect((await p.api<{ items: Json[] }>('GET', `/api/households?communityId=${theirs.id as string}`, undefined, token)).body).toMatchObject({ items: [], total: 0 })
    expect((await p.api('GET', `/api/households/${theirHome.id as string}`, undefined, token)).status).toBe(404)
    expect((await p.api('GET', `/api/households/${myHome.id as string}`, undefined, token)).status).toBe(200)

    expect((await p.api('POST', '/api/communities', { name: 'x', street: 'y' }, token)).status).toBe(403)
    expect((await p.api('POST', '/api/devices', { id: 'btn-op', householdId: myHome.id, kind: 'button' }, token)).status).toBe(403)
    expect((await p.api('GET', '/api/users', undefined, token)).status).toBe(403)
  })

  it('never see the routing settings, which hold webhook secrets and staff phone numbers', async () => {
    const { body: c } = await p.api<Json>('POST', '/api/communities', {
      name: '带路由的社区',
      street: 's',
      routing: { webhooks: [{ id: 'w1', name: '120', url: 'https://dispatch.example/hook', secret: 'a-very-secret-hmac-key' }] },
    })
    const token = await createOperator(p, 'op-routing', [c.id as string])
    expect((await p.api<Json>('GET', `/api/communities/${c.id as string}`, undefined, token)).body.routing).toBeNull()
    expect(JSON.stringify((await p.api('GET', '/api/communities', undefined, token)).body)).not.toContain('a-very-secret-hmac-key')
    expect(JSON.stringify((await p.api<Json>('GET', `/api/communities/${c.id as string}`)).body)).toContain('a-very-secret-hmac-key') // the admin's
  })

  it('refuses an operator for a community that does not exist, or a taken username', async () => {
    const missing = await p.api<{ message: string }>('POST', '/api/users', { username: 'op-x', displayName: 'x', password: 'long-enough', communityIds: ['com-nope'] })
    expect(missing).toMatchObject({ status: 400, body: { message: expect.stringContaining('com-nope') } })
    expect((await p.api('POST', '/api/users', { username: 'admin', displayName: 'x', password: 'long-enough' })).status).toBe(409)
  })
})

describe('OpenAPI', () => {
  it('describes the API at /docs', async () => {
    const spec = await p.api<{ openapi: string; paths: Record<string, unknown> }>('GET', '/docs/json')
    expect(spec.status).toBe(200)
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/api/login', '/api/communities/', '/api/households/', '/api/devices/', '/api/incidents/', '/api/incidents/{id}/acknowledge', '/api/incidents/{id}/resolve']),
    )
    expect((await fetch(p.httpUrl + '/docs')).status).toBe(200)
  })
})
