/**
 * Rights are checked for as long as a socket lives (docs/security.md §accounts): an operator's
 * Socket.IO connection closes at its session's end, unless her work renewed it; a family page's
 * live channel closes when its link expires. On the virtual clock, waiting for the events.
 */
import { io, type Socket } from 'socket.io-client'
import { afterAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { virtualClock } from '../../src/shared/clock.js'
import { connectDevice, connectOperator, createOperator, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const T0 = Date.UTC(2026, 0, 1)
const HOUR = 3_600_000
const cleanups: (() => unknown)[] = []
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

async function platform() {
  const clock = virtualClock(T0)
  const p = await startPlatform({ clock })
  cleanups.push(() => p.close())
  const fx = await provision(p)
  const token = await createOperator(p, `op-${Math.random().toString(36).slice(2, 8)}`, [fx.communityId])
  const op = await connectOperator(p, token)
  cleanups.push(() => op.close())
  const ended = new Promise<number>((resolve) => op.socket.once('session:ended', () => resolve(clock.now())))
  const closed = new Promise<void>((resolve) => op.socket.once('disconnect', () => resolve()))
  return { clock, p, fx, token, op, ended, closed }
}

describe('operator sockets and their session', () => {
  it('closes the socket at the session’s end (12 h), saying why; the token is refused too', async () => {
    const { clock, p, token, op, ended, closed } = await platform()
    clock.advance(12 * HOUR - 1)
    await p.app.realtime.settle()
    expect(op.socket.connected).toBe(true)
    clock.advance(1)
    await p.app.realtime.settle()
    expect(await ended).toBe(T0 + 12 * HOUR)
    await closed
    expect((await p.api('GET', '/api/me', undefined, token)).status).toBe(401)
  })

  it('keeps an operator at work connected: a request past half the session renews it, and the socket follows', async () => {
    const { clock, p, fx, token, op, ended, closed } = await platform()
    clock.advance(7 * HOUR)
    expect((await p.api('GET', '/api/me', undefined, token)).status).toBe(200) // renewed to 19:00
    clock.advance(5 * HOUR + 1) // past the first end: read again, still valid
    await p.app.realtime.settle()
    expect(op.socket.connected).toBe(true)
    const button = await connectDevice(p, fx.device)
    await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'renewed-1', type: 'sos' })
    await button.endAsync()
    await waitFor(() => op.pushes.some((v) => v.deviceId === fx.device.id), 5000, 'the SOS on the renewed console')

    clock.advance(7 * HOUR - 1) // 19:00: nothing renewed it since
    await p.app.realtime.settle()
    expect(await ended).toBe(T0 + 19 * HOUR)
    await closed
  })
})

describe('family sockets and their link', () => {
  it('closes a family page’s live channel when its link expires', async () => {
    const clock = virtualClock(T0)
    const p = await startPlatform({ clock })
    cleanups.push(() => p.close())
    const fx = await provision(p)
    const c = await p.api<{ id: string }>('POST', `/api/households/${fx.householdId}/contacts`, { name: '李明', relation: '子女', phone: '13900000001' })
    const token = p.app.links.viewToken({ householdId: fx.householdId, contactId: c.body.id, expiresAt: T0 + 2 * HOUR, version: 0 })
    const socket: Socket = io(`${p.httpUrl}/family`, { auth: { token }, transports: ['websocket'], reconnection: false })
    cleanups.push(() => socket.close())
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('connect_error', reject)
    })
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)))
    clock.advance(2 * HOUR - 1)
    expect(socket.connected).toBe(true)
    clock.advance(1)
    expect(await closed).toBe('io server disconnect')
  })
})
