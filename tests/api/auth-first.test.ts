/** Authentication and the admin check come before the body is read: no schema leaks to a caller who may not call. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOperator, startPlatform, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
let operator: string
beforeAll(async () => {
  p = await startPlatform()
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: 'x', street: 'y' })
  operator = await createOperator(p, 'op-first', [c.id])
})
afterAll(() => p.close())

const post = (path: string, body: string, token?: string) =>
  fetch(p.httpUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body })

describe('authentication before validation', () => {
  it.each(['/api/households', '/api/devices', '/api/users', '/api/fleet', '/api/communities'])('anonymous POST %s with a bad body: 401, nothing about the schema', async (path) => {
    const res = await post(path, JSON.stringify({ nonsense: true }))
    expect(res.status).toBe(401)
    const body = (await res.json()) as { error: string; message: string }
    expect(body.error).toBe('UNAUTHORIZED')
    expect(body.message).not.toMatch(/body|required|expected/i)
  })

  it('an anonymous body that is not even JSON is refused as unauthenticated first', async () => {
    const res = await post('/api/households', '{not json')
    expect(res.status).toBe(401)
  })

  it('an operator posting a bad body to an admin route: 403, not the schema', async () => {
    const res = await post('/api/households', JSON.stringify({ nonsense: true }), operator)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: string }).error).toBe('FORBIDDEN')
  })

  it('an admin still gets the schema’s message', async () => {
    const res = await post('/api/households', JSON.stringify({ nonsense: true }), p.adminToken)
    expect(res.status).toBe(400)
  })
})
