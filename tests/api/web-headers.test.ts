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
