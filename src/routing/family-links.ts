/**
 * Signed, expiring links a family member answers from ("我去看看") without logging in.
 * The token names one incident and one contact and is signed with the platform's link key,
 * so it cannot be used for another incident, by another person, or after it expires.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface LinkClaims {
  incidentId: string
  contactId: string
  expiresAt: number
}

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' }

export function createFamilyLinks(key: string) {
  const sign = (body: string) => createHmac('sha256', key).update(body).digest('base64url')
  return {
    token(claims: LinkClaims): string {
      const body = Buffer.from(JSON.stringify([claims.incidentId, claims.contactId, claims.expiresAt])).toString('base64url')
      return `${body}.${sign(body)}`
    },
    check(token: string, now: number): LinkCheck {
      const [body, mac, extra] = token.split('.')
      if (!body || !mac || extra !== undefined) return { ok: false, reason: 'malformed' }
      const expected = Buffer.from(sign(body))
      const given = Buffer.from(mac)
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad_signature' }
      let parsed: unknown
      try {
        parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
      } catch {
        return { ok: false, reason: 'malformed' }
      }
      if (!Array.isArray(parsed) || parsed.length !== 3) return { ok: false, reason: 'malformed' }
      const [incidentId, contactId, expiresAt] = parsed as [unknown, unknown, unknown]
      if (typeof incidentId !== 'string' || typeof contactId !== 'string' || typeof expiresAt !== 'number') return { ok: false, reason: 'malformed' }
      if (now >= expiresAt) return { ok: false, reason: 'expired' }
      return { ok: true, claims: { incidentId, contactId, expiresAt } }
    },
  }
}

export type FamilyLinks = ReturnType<typeof createFamilyLinks>
