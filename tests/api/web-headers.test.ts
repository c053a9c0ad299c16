/** Pages carry tokens in their URL: every response says no referrer, no framing, no sniffing, only our own scripts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPlatform, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

describe('web hygiene headers', () => {
  it.each(['/', '/family.html', '/docs', '/docs/static/index.html', '/api/me', '/healthz'])('%s', async (path) => {
    const res = await fetch(p.httpUrl + path, { redirect: 'manual' })
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("object-src 'none'")
    expect(csp).not.toContain('unsafe-eval')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    await res.arrayBuffer()
  })
})

describe('the family pages’ rate limit', () => {
  it('answers an address over its requests per minute with 429 and when to retry; the operators’ API is not limited by it', async () => {
    const limited = await startPlatform({ env: { ANJU_FAMILY_REQUESTS_PER_MIN: '10' } })
    try {
      for (let i = 0; i < 10; i++) expect((await fetch(`${limited.httpUrl}/api/push/key`)).status).toBe(200)
      const over = await fetch(`${limited.httpUrl}/api/family/overview?t=x`)
      expect(over.status).toBe(429)
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(await over.json()).toMatchObject({ error: 'TOO_MANY_ATTEMPTS', message: expect.stringContaining('请求过于频繁') })
      for (let i = 0; i < 12; i++) expect((await limited.api('GET', '/api/incidents?state=active')).status).toBe(200)
    } finally {
      await limited.close()
    }
  })
})
