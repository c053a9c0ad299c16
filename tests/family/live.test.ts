/**
 * The family's live channel with a real Socket.IO client: a valid link hears its own household's
 * incidents change (only their ids), never another household's or a maintenance task; a bad,
 * expired or revoked link is refused at the handshake.
 */
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, nextIncidentChange, provision, publish, startPlatform, waitFor, within, type Fixture, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
const sockets: Socket[] = []
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(async () => {
  for (const s of sockets) s.close()
  await p.close()
})

async function linkFor(fx: Fixture): Promise<{ token: string; contactId: string }> {
  const c = await p.api<{ id: string }>('POST', `/api/households/${fx.householdId}/contacts`, { name: '李明', relation: '子女', phone: '13900000001' })
  const link = await p.api<{ token: string }>('POST', `/api/households/${fx.householdId}/contacts/${c.body.id}/family-link`)
  return { token: link.body.token, contactId: c.body.id }
}

function connect(token: string): Promise<{ socket: Socket; changes: string[]; heard: (incidentId: string) => Promise<void> }> {
  const socket = io(`${p.httpUrl}/family`, { auth: { token }, transports: ['websocket'], reconnection: false })
  sockets.push(socket)
  const changes: string[] = []
  const waiting = new Map<string, () => void>()
  socket.on('changed', (c: { incidentId: string }) => {
    changes.push(c.incidentId)
    waiting.get(c.incidentId)?.()
  })
  /** Resolves when this page has heard that the incident changed. */
  const heard = (incidentId: string): Promise<void> =>
    changes.includes(incidentId)
      ? Promise.resolve()
      : within(new Promise<void>((resolve) => waiting.set(incidentId, resolve)), 5000, `the change of ${incidentId}`).finally(() => waiting.delete(incidentId))
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, changes, heard }))
    socket.once('connect_error', reject)
  })
}

async function press(fx: Fixture, id: string, type = 'sos'): Promise<void> {
  const d = await connectDevice(p, fx.device)
  await publish(d, deviceTopic(fx.device.id, 'alarm'), { id, type })
  await d.endAsync()
}

describe('family live channel', () => {
  it("tells a family member at once when their elder's incident changes, and nothing of other homes", async () => {
    const own = await provision(p)
    const other = await provision(p)
    const { token } = await linkFor(own)
    const { changes, heard } = await connect(token)

    const started = Date.now()
    await press(own, 'live-1')
    await waitFor(() => changes.length === 1, 2000, 'the change')
    expect(Date.now() - started).toBeLessThan(1000)
    const [incidentId] = changes
    const incident = await p.api<{ householdId: string; state: string }>('GET', `/api/incidents/${incidentId}`)
    expect(incident.body).toMatchObject({ householdId: own.householdId, state: 'open' })

    await p.api('POST', `/api/incidents/${incidentId}/acknowledge`)
    await waitFor(() => changes.length === 2, 2000, 'the acknowledgement')
    // A family answer from another relative is news too.
    await p.api('POST', `/api/incidents/${incidentId}/family-response`, { token, answer: 'on_my_way' })
    await waitFor(() => changes.length === 3, 2000, 'the family answer')

    await press(other, 'live-other')
    // A low battery opens a maintenance task: the family sees it as a device state, not an incident.
    const maintenance = nextIncidentChange(p, (c) => c.incident.householdId === own.householdId && c.incident.category === 'maintenance', 5000, 'the low-battery task')
    const d = await connectDevice(p, own.device)
    await publish(d, deviceTopic(own.device.id, 'status'), { online: true, battery: 5 })
    await d.endAsync()
    await maintenance
    // Ladder steps are not shown to the family, so they are not announced: the first steps of the
    // three incidents are on their trails (and on the bus) now.
    await p.app.routing.settle()

    // A green-key press is a service ticket (docs/operations.md §service requests), not an
    // incident: the family channel does not hear it.
    await press(own, 'live-green', 'service')
    // The barrier: the operator closes the SOS, news to her family; the family channel delivers
    // in order, so anything announced above has arrived before it.
    expect((await p.api('POST', `/api/incidents/${incidentId}/resolve`, { outcome: 'test' })).status).toBe(200)
    await waitFor(() => changes.length >= 4, 5000, 'the closing on the family page')
    expect(changes).toEqual([incidentId, incidentId, incidentId, incidentId])
  })

  it('refuses a bad, expired or revoked link at the handshake', async () => {
    const fx = await provision(p)
    const { token, contactId } = await linkFor(fx)
    await expect(connect('not-a-link-at-all')).rejects.toThrow(/not valid/)
    await expect(connect(p.app.links.viewToken({ householdId: fx.householdId, contactId, expiresAt: Date.now() - 1, version: 0 }))).rejects.toThrow(/expired/)
    await expect(connect('')).rejects.toThrow(/unauthorized/)
    // Revoking the links closes a page that is open now, and refuses it when it comes back.
    const { socket } = await connect(token)
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)))
    expect((await p.api('DELETE', `/api/households/${fx.householdId}/contacts/${contactId}/family-links`)).status).toBe(204)
    expect(await closed).toBe('io server disconnect')
    await expect(connect(token)).rejects.toThrow(/not valid/)
    // So does removing the contact, for a link made since.
    const fresh = (await p.api<{ token: string }>('POST', `/api/households/${fx.householdId}/contacts/${contactId}/family-link`)).body.token
    const again = await connect(fresh)
    const gone = new Promise<string>((resolve) => again.socket.once('disconnect', (reason) => resolve(reason)))
    expect((await p.api('DELETE', `/api/households/${fx.householdId}/contacts/${contactId}`)).status).toBe(204)
    expect(await gone).toBe('io server disconnect')
    await expect(connect(fresh)).rejects.toThrow(/not valid/)
  })
})
