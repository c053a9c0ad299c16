/**
 * Signed, expiring links a family member opens without logging in. Two kinds:
 * - an incident link, sent in a notice: one incident, one contact, 24 h ("我去看看");
 * - a view link, handed to a family member by the community: their elder's status, one
 *   household, one contact, for months.
 * Each is signed with the platform's link key, so it cannot be turned into another incident,
 * another household, another person, or used after it expires.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface LinkClaims {
  incidentId: string
  contactId: string
  expiresAt: number
  /** The contact's link version when the link was made: a newer one revokes it (as a view link's). */
  version: number
}

export interface ViewClaims {
  householdId: string
  contactId: string
  expiresAt: number
  /** The contact's link version when the link was made: a newer one revokes it. */
  version: number
}

export type CheckedClaims = ({ kind: 'incident' } & LinkClaims) | ({ kind: 'household' } & ViewClaims)

export type LinkCheck = { ok: true; claims: CheckedClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' }

/** Marks a view link's body; an incident link's body has four fields (three before links carried a version), a view link's five. */
const VIEW = 'view'

export function createFamilyLinks(key: string) {
  const sign = (body: string) => createHmac('sha256', key).update(body).digest('base64url')
  const seal = (fields: unknown[]) => {
    const body = Buffer.from(JSON.stringify(fields)).toString('base64url')
    return `${body}.${sign(body)}`
  }
  return {
    /** An incident link (notices). */
    token(claims: LinkClaims): string {
      return seal([claims.incidentId, claims.contactId, claims.expiresAt, claims.version])
    },
    /** A view link (the family view of one household). */
    viewToken(claims: ViewClaims): string {
      return seal([VIEW, claims.householdId, claims.contactId, claims.expiresAt, claims.version])
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
      const claims = claimsOf(parsed)
      if (!claims) return { ok: false, reason: 'malformed' }
      if (now >= claims.expiresAt) return { ok: false, reason: 'expired' }
      return { ok: true, claims }
    },
  }
}

function claimsOf(parsed: unknown): CheckedClaims | null {
  if (!Array.isArray(parsed)) return null
  const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0
  if (parsed.length === 3 || parsed.length === 4) {
    // A 24 h link sent before links carried a version is version 0: any revocation since ends it.
    const [incidentId, contactId, expiresAt, version = 0] = parsed as unknown[]
    if (!isText(incidentId) || !isText(contactId) || typeof expiresAt !== 'number' || !Number.isInteger(version)) return null
    return { kind: 'incident', incidentId, contactId, expiresAt, version: version as number }
  }
  if (parsed.length === 5 && parsed[0] === VIEW) {
    const [, householdId, contactId, expiresAt, version] = parsed as unknown[]
    if (!isText(householdId) || !isText(contactId) || typeof expiresAt !== 'number' || !Number.isInteger(version)) return null
    return { kind: 'household', householdId, contactId, expiresAt, version: version as number }
  }
  return null
}

export type FamilyLinks = ReturnType<typeof createFamilyLinks>
