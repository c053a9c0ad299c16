/** Failed logins lock the account and the address (docs/security.md §accounts), on the platform's clock. */
import { afterAll, describe, expect, it } from 'vitest'
import { createLoginThrottle } from '../../src/auth/throttle.js'
import { ADMIN_PASSWORD, startPlatform, type TestPlatform } from '../helpers/platform.js'

const started: TestPlatform[] = []
afterAll(() => Promise.all(started.map((p) => p.close())))
async function platform() {
  const p = await startPlatform({ env: { ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(Date.UTC(2026, 0, 1)), ANJU_SESSION_TTL_HOURS: '2000' } })
  started.push(p)
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: 'x', street: 'y' })
  await p.api('POST', '/api/users', { username: 'op-night', displayName: '夜班', password: 'operator-password', role: 'operator', communityIds: [c.id] })
  return p
}
const login = (p: TestPlatform, username: string, password: string) =>
  fetch(`${p.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })

describe('login throttling', () => {
  it('locks an account after ten wrong passwords, even to the right one, with a clear message, until the lock ends', async () => {
    const p = await platform()
    for (let i = 0; i < 10; i++) expect((await login(p, 'op-night', `guess-${i}`)).status).toBe(401)
    const locked = await login(p, 'op-night', 'operator-password')
    expect(locked.status).toBe(429)
    expect(locked.headers.get('retry-after')).toBe('900')
    expect(await locked.json()).toMatchObject({ error: 'TOO_MANY_ATTEMPTS', message: expect.stringContaining('登录失败次数过多,请 15 分钟后再试') })
    // Another account from the same address is not locked by it.
    expect((await login(p, 'admin', ADMIN_PASSWORD)).status).toBe(200)

    await p.api('POST', '/api/clock/advance', { ms: 14 * 60_000 })
    expect((await login(p, 'op-night', 'operator-password')).status).toBe(429)
    await p.api('POST', '/api/clock/advance', { ms: 60_000 })
    expect((await login(p, 'op-night', 'operator-password')).status).toBe(200)
  })

  it('locks an address that guesses thirty times across usernames', async () => {
    const p = await platform()
    for (let i = 0; i < 30; i++) expect((await login(p, `user-${i}`, 'password')).status).toBe(401)
    const locked = await login(p, 'admin', ADMIN_PASSWORD)
    expect(locked.status).toBe(429)
    expect((await locked.json()).message).toContain('from this address')
  })
})

describe('createLoginThrottle', () => {
  it('counts failures within the window only, forgets an account on success, and keeps its tables bounded', () => {
    let now = 0
    const t = createLoginThrottle({ now: () => now }, { windowMs: 1000, maxPerAccount: 3, maxPerAddress: 100, lockMs: 5000, maxTracked: 2 })
    t.failed('Op', 'a')
    t.failed('op', 'a')
    now = 1500 // both out of the window
    expect(t.failed('op', 'a')).toEqual({ account: false, address: false })
    t.failed('op', 'a')
    expect(t.failed(' OP ', 'a').account).toBe(true)
    expect(t.gate('op', 'b')).toEqual({ allowed: false, until: 6500, by: 'account' })
    now = 6500
    expect(t.gate('op', 'b')).toEqual({ allowed: true })
    t.failed('x', 'a')
    t.succeeded('x')
    t.failed('x', 'a')
    expect(t.failed('x', 'a').account).toBe(false) // two since the success, not three
    // Two entries kept per table: two more usernames push 'x' (and its two failures) out.
    t.failed('y', 'a')
    t.failed('z', 'a')
    t.failed('x', 'a')
    expect(t.failed('x', 'a').account).toBe(false)
    expect(t.failed('x', 'a').account).toBe(true)
  })
})
