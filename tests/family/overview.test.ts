/**
 * The family view's API: a view link made by the community shows one elder's status at a
 * glance and their incidents with who is handling them, and answers; it never shows another
 * household, and dies when it expires, is altered, or its contact is removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, createOperator, provision, publish, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'

const MIN = 60_000
type Json = Record<string, any>

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform({ env: { ANJU_PUBLIC_URL: 'https://anju.example.org/' } })
})
afterAll(() => p.close())

async function contactOf(householdId: string, name = '李明') {
  const c = await p.api<{ id: string }>('POST', `/api/households/${householdId}/contacts`, { name, relation: '子女', phone: '13900000001' })
  expect(c.status).toBe(201)
  return c.body.id
}
async function viewLink(householdId: string, contactId: string, token?: string) {
  return p.api<{ url: string; token: string; expiresAt: number; error?: string }>('POST', `/api/households/${householdId}/contacts/${contactId}/family-link`, undefined, token)
}
const overview = (t: string) => p.api<Json>('GET', `/api/family/overview?t=${encodeURIComponent(t)}`)
async function sos(fx: Fixture, id: string): Promise<string> {
  const d = await connectDevice(p, fx.device)
  await publish(d, deviceTopic(fx.device.id, 'alarm'), { id, type: 'sos' })
  await d.endAsync()
  let incidentId = ''
  await waitFor(async () => {
    const list = (await p.api<Json[]>('GET', `/api/incidents?state=active&communityId=${fx.communityId}`)).body
    incidentId = list.find((i) => i.householdId === fx.householdId)?.id ?? ''
    return incidentId !== ''
  })
  return incidentId
}

describe('family view links', () => {
  it('are made by an admin or an operator of the community, for a contact of that household', async () => {
    const fx = await provision(p)
    const other = await provision(p)
    const contactId = await contactOf(fx.householdId)
    const made = await viewLink(fx.householdId, contactId)
    expect(made.status).toBe(201)
    expect(made.body.url).toBe(`https://anju.example.org/family.html?t=${encodeURIComponent(made.body.token)}`)
    expect(made.body.expiresAt).toBeGreaterThan(Date.now() + 89 * 24 * 3_600_000)

    const own = await createOperator(p, 'op-fam-own', [fx.communityId])
    const stranger = await createOperator(p, 'op-fam-stranger', [other.communityId])
    expect((await viewLink(fx.householdId, contactId, own)).status).toBe(201)
    expect((await viewLink(fx.householdId, contactId, stranger)).status).toBe(404)
    // A contact of another household is not this household's.
    const otherContact = await contactOf(other.householdId)
    expect((await viewLink(fx.householdId, otherContact)).status).toBe(404)
    expect((await fetch(`${p.httpUrl}/api/households/${fx.householdId}/contacts/${contactId}/family-link`, { method: 'POST' })).status).toBe(401)
  })
})

describe('family overview', () => {
  it("shows the elder's last activity, last water use and devices, and who is handling an SOS", async () => {
    const fx = await provision(p, { deviceId: 'btn-fam-1' })
    const contactId = await contactOf(fx.householdId, '张小红')
    const mk = async (id: string, kind: string, room: string | null) => (await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id, householdId: fx.householdId, kind, room })).body
    const meter = await connectDevice(p, await mk('wm-fam-1', 'water', 'kitchen'))
    const radar = await connectDevice(p, await mk('pr-fam-1', 'presence', 'bathroom'))
    await mk('dr-fam-1', 'door', 'entrance') // installed, never heard from
    const button = await connectDevice(p, fx.device)
    const now = Date.now()
    await publish(meter, deviceTopic('wm-fam-1', 'telemetry'), { id: 'w1', ts: now - 90 * MIN, kind: 'water', totalM3: 3.2 })
    await publish(meter, deviceTopic('wm-fam-1', 'telemetry'), { id: 'w2', ts: now - 60 * MIN, kind: 'water', totalM3: 3.25 })
    await publish(meter, deviceTopic('wm-fam-1', 'telemetry'), { id: 'w3', ts: now - 30 * MIN, kind: 'water', totalM3: 3.25 })
    await publish(radar, deviceTopic('pr-fam-1', 'telemetry'), { id: 'p1', ts: now - 20 * MIN, kind: 'presence', occupied: true, motion: true })
    await publish(radar, deviceTopic('pr-fam-1', 'telemetry'), { id: 'p2', ts: now - 10 * MIN, kind: 'presence', occupied: false, motion: false })
    await publish(button, deviceTopic(fx.device.id, 'status'), { online: true, battery: 12 })
    await Promise.all([meter.endAsync(), radar.endAsync(), button.endAsync()])
    await p.app.telemetrySink.flush()
    await waitFor(async () => (await p.api<Json[]>('GET', `/api/devices?householdId=${fx.householdId}`)).body.some((d) => d.battery === 12))

    const { token } = (await viewLink(fx.householdId, contactId)).body
    const first = await overview(token)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({
      elder: { name: expect.stringMatching(/^老人/), address: expect.any(String) },
      contact: { name: '张小红', relation: '子女' },
      lastActivity: { at: now - 20 * MIN, room: 'bathroom' },
      lastWaterUse: { at: now - 60 * MIN },
      // The low battery opened a maintenance task: the installers', shown to the family as a device state.
      incidents: [],
      linkIncidentId: null,
    })
    expect(first.body.devices.total).toBe(4)
    expect(first.body.devices.ok).toBe(2)
    expect(first.body.devices.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ deviceId: 'btn-fam-1', problem: 'low_battery', battery: 12 }),
        expect.objectContaining({ deviceId: 'dr-fam-1', problem: 'not_reporting_yet', room: 'entrance' }),
      ]),
    )
    // Operators' secrets stay with the operators.
    expect(JSON.stringify(first.body)).not.toMatch(/medical|keySafe|secret/)

    const incidentId = await sos(fx, 'fam-sos-1')
    const open = (await overview(token)).body.incidents
    expect(open).toEqual([expect.objectContaining({ id: incidentId, type: 'sos', state: 'open', handledBy: null, handledByKind: null, answerable: true })])

    const operator = await createOperator(p, 'op-fam-handler', [fx.communityId])
    expect((await p.api('POST', `/api/incidents/${incidentId}/acknowledge`, undefined, operator)).status).toBe(200)
    expect((await overview(token)).body.incidents[0]).toMatchObject({ state: 'acknowledged', handledBy: 'op-fam-handler', handledByKind: 'operator', answerable: true })

    const answer = await p.api<Json>('POST', `/api/incidents/${incidentId}/family-response`, { token, answer: 'on_my_way' })
    expect(answer).toMatchObject({ status: 200, body: { state: 'acknowledged', answer: 'on_my_way', familyState: 'en_route' } })
    const trail = (await p.api<{ events: Json[] }>('GET', `/api/incidents/${incidentId}`)).body.events
    expect(trail.at(-1)).toMatchObject({ kind: 'family_en_route', actor: 'family:张小红' })
    // The operator still handles it; the family sees their own answer beside it, and that they are on the way.
    expect((await overview(token)).body.incidents[0]).toMatchObject({
      handledBy: 'op-fam-handler',
      responses: [{ by: '张小红', relation: '子女', answer: 'on_my_way', at: expect.any(Number) }],
      familyResponse: { by: '张小红', relation: '子女', state: 'en_route', arrivedAt: null },
    })

    expect((await p.api('POST', `/api/incidents/${incidentId}/resolve`, { outcome: 'emergency_handled' }, operator)).status).toBe(200)
    expect((await overview(token)).body.incidents[0]).toMatchObject({ state: 'resolved', outcome: 'emergency_handled', answerable: false })
    const late = await p.api<Json>('POST', `/api/incidents/${incidentId}/family-response`, { token, answer: 'called_fine' })
    expect(late).toMatchObject({ status: 409, body: { error: 'CONFLICT' } })
  })

  it('shows a family member their own elder only', async () => {
    const a = await provision(p)
    const b = await provision(p)
    const { token } = (await viewLink(a.householdId, await contactOf(a.householdId))).body
    await contactOf(b.householdId)
    const bIncident = await sos(b, 'fam-b-sos')
    const view = (await overview(token)).body
    const bName = (await p.api<Json>('GET', `/api/households/${b.householdId}`)).body.elderName
    expect(view.elder.name).not.toBe(bName)
    expect(view.incidents.map((i: Json) => i.id)).not.toContain(bIncident)
    // Answering another household's incident with this link is refused and changes nothing.
    const refused = await p.api<Json>('POST', `/api/incidents/${bIncident}/family-response`, { token, answer: 'on_my_way' })
    expect(refused).toMatchObject({ status: 403, body: { error: 'FORBIDDEN' } })
    expect((await p.api<Json>('GET', `/api/incidents/${bIncident}`)).body).toMatchObject({ state: 'open' })
  })

  it('refuses an altered, expired or revoked link with a reason', async () => {
    const fx = await provision(p)
    const other = await provision(p)
    const contactId = await contactOf(fx.householdId)
    const { token } = (await viewLink(fx.householdId, contactId)).body
    const [, mac] = token.split('.')
    // Same signature, body pointing at another household: the signature no longer matches.
    const forged = Buffer.from(JSON.stringify(['view', other.householdId, contactId, Date.now() + 3_600_000, 0])).toString('base64url')
    expect(await overview(`${forged}.${mac}`)).toMatchObject({ status: 403, body: { error: 'FORBIDDEN', message: expect.stringContaining('链接无效') } })
    const expired = p.app.links.viewToken({ householdId: fx.householdId, contactId, expiresAt: Date.now() - 1, version: 0 })
    expect(await overview(expired)).toMatchObject({ status: 403, body: { message: expect.stringContaining('链接已过期') } })
    // A validly signed link naming a contact of another household is refused too.
    const otherContact = await contactOf(other.householdId)
    expect((await overview(p.app.links.viewToken({ householdId: fx.householdId, contactId: otherContact, expiresAt: Date.now() + 60_000, version: 0 }))).status).toBe(403)
    expect((await overview('short')).status).toBe(400)

    expect((await overview(token)).status).toBe(200)
    // Revoking the contact's links (a lost phone) kills this one; the next link made works.
    const stranger = await createOperator(p, 'op-fam-revoke-stranger', [other.communityId])
    expect((await p.api('DELETE', `/api/households/${fx.householdId}/contacts/${contactId}/family-links`, undefined, stranger)).status).toBe(404)
    expect((await overview(token)).status).toBe(200)
    expect((await p.api('DELETE', `/api/households/${fx.householdId}/contacts/${contactId}/family-links`)).status).toBe(204)
    expect(await overview(token)).toMatchObject({ status: 403, body: { message: expect.stringContaining('链接无效') } })
    const fresh = (await viewLink(fx.householdId, contactId)).body.token
    expect((await overview(fresh)).status).toBe(200)
    expect((await p.api('DELETE', `/api/households/${fx.householdId}/contacts/${contactId}`)).status).toBe(204)
    expect(await overview(fresh)).toMatchObject({ status: 403, body: { message: expect.stringContaining('链接无效') } })
    expect(await overview(token)).toMatchObject({ status: 403, body: { message: expect.stringContaining('链接无效') } })
  })

  it('opens from an incident link too, which answers only its own incident', async () => {
    const fx = await provision(p)
    const contactId = await contactOf(fx.householdId)
    const first = await sos(fx, 'fam-inc-1')
    const link = p.app.links.token({ incidentId: first, contactId, expiresAt: Date.now() + 3_600_000, version: 0 })
    const view = (await overview(link)).body
    expect(view.linkIncidentId).toBe(first)
    expect(view.incidents).toEqual([expect.objectContaining({ id: first, answerable: true })])
    // Once it is closed, a new SOS in the same home is visible, but not answerable with the first one's link.
    expect((await p.api('POST', `/api/incidents/${first}/acknowledge`)).status).toBe(200)
    expect((await p.api('POST', `/api/incidents/${first}/resolve`, { outcome: 'false_alarm' })).status).toBe(200)
    const second = await sos(fx, 'fam-inc-2')
    const both = (await overview(link)).body.incidents
    expect(both.map((i: Json) => [i.id, i.state, i.answerable])).toEqual([[second, 'open', false], [first, 'resolved', false]])
    expect((await p.api('POST', `/api/incidents/${second}/family-response`, { token: link, answer: 'on_my_way' })).status).toBe(403)
  })

  it('one revocation ends every link the contact holds — the incident links of notices too — and their Web Push subscription', async () => {
    const fx = await provision(p)
    const contactId = await contactOf(fx.householdId)
    const incidentId = await sos(fx, 'fam-revoke-1')
    const incidentLink = p.app.links.token({ incidentId, contactId, expiresAt: Date.now() + 3_600_000, version: 0 })
    const { token: view } = (await viewLink(fx.householdId, contactId)).body
    const subscription = { endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys: { p256dh: 'p'.repeat(20), auth: 'a'.repeat(10) } }
    expect((await p.api('POST', '/api/family/push-subscription', { token: view, subscription })).status).toBe(204)
    expect((await p.app.registry.contacts.get(contactId))?.pushSubscription).toMatchObject({ endpoint: subscription.endpoint })
    expect((await overview(incidentLink)).status).toBe(200)

    expect((await p.api('DELETE', `/api/households/${fx.householdId}/contacts/${contactId}/family-links`)).status).toBe(204)
    expect(await overview(incidentLink)).toMatchObject({ status: 403, body: { message: expect.stringContaining('链接无效') } })
    // It can no longer answer the SOS.
    expect((await p.api('POST', `/api/incidents/${incidentId}/family-response`, { token: incidentLink, answer: 'on_my_way' })).status).toBe(403)
    expect((await p.api<Json>('GET', `/api/incidents/${incidentId}`)).body.state).toBe('open')
    expect((await p.app.registry.contacts.get(contactId))?.pushSubscription).toBeNull()
    // The links made after the revocation work.
    const fresh = p.app.links.token({ incidentId, contactId, expiresAt: Date.now() + 3_600_000, version: (await p.app.registry.contacts.get(contactId))!.viewLinkVersion })
    expect((await overview(fresh)).status).toBe(200)
  })

  it('takes a push subscription only on a known push service, never an address of ours or the private network', async () => {
    const fx = await provision(p)
    const contactId = await contactOf(fx.householdId)
    const { token } = (await viewLink(fx.householdId, contactId)).body
    const keys = { p256dh: 'p'.repeat(20), auth: 'a'.repeat(10) }
    for (const endpoint of ['https://127.0.0.1:8080/api/incidents', 'https://10.1.2.3/push', 'https://169.254.169.254/latest/meta-data', 'https://localhost/x']) {
      const res = await p.api<Json>('POST', '/api/family/push-subscription', { token, subscription: { endpoint, keys } })
      expect(res.status).toBe(400)
      expect(res.body.message).toContain('is not a known push service')
    }
    expect((await p.app.registry.contacts.get(contactId))?.pushSubscription).toBeNull()
    expect((await p.api('POST', '/api/family/push-subscription', { token, subscription: { endpoint: 'https://web.push.apple.com/QGx', keys } })).status).toBe(204)
  })
})
