/**
 * Who a family link lets in: the household and contact it names, checked against the store, so
 * an altered, expired or revoked link (its contact removed, or its view links revoked) opens nothing. Used by the family
 * routes and the family's live channel alike.
 */
import type { Incident } from '../incidents/model.js'
import type { Incidents } from '../incidents/service.js'
import type { CheckedClaims, FamilyLinks } from '../routing/family-links.js'
import type { Contact, Household, RegistryRepository } from '../store/registry.js'

export interface FamilyAccess {
  claims: CheckedClaims
  contact: Contact
  household: Household
  /** The incident an incident link was made for; null for a view link. */
  linkIncident: Incident | null
}

export type FamilyAccessResult = { ok: true; access: FamilyAccess } | { ok: false; reason: 'expired' | 'invalid' }

export async function familyAccess(
  deps: { links: FamilyLinks; registry: RegistryRepository; incidents: Pick<Incidents, 'get'> },
  token: string,
  now: number,
): Promise<FamilyAccessResult> {
  const check = deps.links.check(token, now)
  if (!check.ok) return { ok: false, reason: check.reason === 'expired' ? 'expired' : 'invalid' }
  const { claims } = check
  const contact = await deps.registry.contacts.get(claims.contactId)
  const linkIncident = claims.kind === 'incident' ? ((await deps.incidents.get(claims.incidentId)) ?? null) : null
  const householdId = claims.kind === 'incident' ? linkIncident?.householdId : claims.householdId
  if (!contact || !householdId || contact.householdId !== householdId) return { ok: false, reason: 'invalid' }
  // One revocation ends every link the contact holds, view and incident links alike.
  if (claims.version !== contact.viewLinkVersion) return { ok: false, reason: 'invalid' }
  const household = await deps.registry.households.get(householdId)
  if (!household) return { ok: false, reason: 'invalid' }
  return { ok: true, access: { claims, contact, household, linkIncident } }
}
