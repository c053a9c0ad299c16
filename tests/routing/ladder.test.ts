import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createFamilyLinks } from '../../src/routing/family-links.js'
import { ladderStep } from '../../src/routing/ladder.js'
import { resolveDeliveries } from '../../src/routing/recipients.js'
import { DEFAULT_LADDERS, ladderFor, resolveRouting } from '../../src/routing/settings.js'
import type { Contact } from '../../src/store/registry.js'

const T0 = Date.UTC(2026, 10, 23, 2, 0, 0) // 10:00 in Shanghai

describe('escalation ladder', () => {
  it('climbs the urgent ladder at 0 s, 60 s and 180 s, then reminds every 5 minutes', () => {
    const steps = [0, 1, 2, 3, 4].map((i) => ladderStep(DEFAULT_LADDERS.urgent, T0, i)!)
    expect(steps.map((s) => [s.label, (s.at - T0) / 1000])).toEqual([
      ['stage-0', 0],
      ['stage-1', 60],
      ['stage-2', 180],
      ['reminder-1', 480],
      ['reminder-2', 780],
    ])
    expect(steps[0]!.notify).toEqual(['operators', 'first_family', 'webhooks'])
    expect(steps[1]!.notify).toEqual(['operators', 'supervisors'])
    expect(steps[2]!.notify).toEqual(['family', 'property'])
  })

  it('ends a ladder without reminders after its last stage', () => {
    expect(ladderStep(DEFAULT_LADDERS.property, T0, 0)).toMatchObject({ label: 'stage-0', notify: ['property'] })
    expect(ladderStep(DEFAULT_LADDERS.property, T0, 1)).toBeNull()
  })

  it('puts emergencies and possible falls on the urgent ladder', () => {
    expect(ladderFor('emergency', 1)).toBe('urgent')
    expect(ladderFor('wellbeing', 2)).toBe('urgent')
    expect(ladderFor('wellbeing', 3)).toBe('wellbeing')
    expect(ladderFor('property', 4)).toBe('property')
    expect(ladderFor('maintenance', 4)).toBe('maintenance')
  })
})

const contact = (over: Partial<Contact>): Contact => ({
  id: 'c1',
  householdId: 'hh',
  name: '张明',
  relation: '子女',
  audience: 'family',
  phone: '13900000001',
  email: null,
  channels: ['sms'],
  position: 0,
  availableFrom: null,
  availableTo: null,
  pushSubscription: null,
  viewLinkVersion: 0,
  ...over,
})

describe('recipients', () => {
  const routing = resolveRouting({ supervisors: [{ id: 's1', name: '站长', phone: '13700000000' }], webhooks: [{ id: 'w1', name: '一网统管', url: 'https://city.example/hook', secret: 'x'.repeat(20) }] })

  it('reaches the first family contact in order, every channel they use', () => {
    const contacts = [contact({ id: 'c2', name: '张红', position: 1 }), contact({ id: 'c1', position: 0, email: 'ming@example.com', channels: ['sms', 'email'] })]
    const d = resolveDeliveries({ targets: ['first_family'], contacts, routing, priority: 1, now: T0 })
    expect(d.map((x) => [x.recipientId, x.channel])).toEqual([
      ['contact:c1', 'sms'],
      ['contact:c1', 'email'],
    ])
  })

  it('skips a first contact who may not be called now, for the next one', () => {
    const contacts = [contact({ id: 'c1', availableFrom: '18:00', availableTo: '22:00' }), contact({ id: 'c2', position: 1 })]
    const d = resolveDeliveries({ targets: ['first_family'], contacts, routing, priority: 2, now: T0 })
    expect(d.map((x) => x.recipientId)).toEqual(['contact:c2'])
  })

  it('holds a notice until the contact may be called, but never an SOS', () => {
    const contacts = [contact({ availableFrom: '18:00', availableTo: '22:00' })]
    const fall = resolveDeliveries({ targets: ['family'], contacts, routing, priority: 2, now: T0 })
    expect(fall[0]!.notBefore).toBe(T0 + 8 * 3_600_000) // 10:00 → 18:00
    const sos = resolveDeliveries({ targets: ['family'], contacts, routing, priority: 1, now: T0 })
    expect(sos[0]!.notBefore).toBe(T0)
  })

  it('keeps low-priority notices for quiet hours, and only those', () => {
    const night = Date.UTC(2026, 10, 23, 15, 0, 0) // 23:00 in Shanghai
    const low = resolveDeliveries({ targets: ['family'], contacts: [contact({})], routing, priority: 3, now: night })
    expect(low[0]!.notBefore).toBe(night + 8 * 3_600_000) // until 07:00
    const high = resolveDeliveries({ targets: ['family'], contacts: [contact({})], routing, priority: 2, now: night })
    expect(high[0]!.notBefore).toBe(night)
  })

  it('reaches supervisors and webhooks from the community settings, and never the consoles', () => {
    const d = resolveDeliveries({ targets: ['operators', 'supervisors', 'webhooks'], contacts: [], routing, priority: 1, now: T0 })
    expect(d.map((x) => [x.recipientId, x.channel])).toEqual([
      ['supervisor:s1', 'sms'],
      ['webhook:w1', 'webhook'],
    ])
  })

  it('leaves out a channel the person cannot receive', () => {
    const d = resolveDeliveries({ targets: ['family'], contacts: [contact({ channels: ['email', 'webpush'] })], routing, priority: 1, now: T0 })
    expect(d).toEqual([])
  })
})

describe('family links', () => {
  const links = createFamilyLinks('k'.repeat(32))
  it('names one incident and one contact until it expires', () => {
    const token = links.token({ incidentId: 'inc_1', contactId: 'c1', expiresAt: T0 + 1000, version: 0 })
    expect(links.check(token, T0)).toEqual({ ok: true, claims: { kind: 'incident', incidentId: 'inc_1', contactId: 'c1', expiresAt: T0 + 1000, version: 0 } })
    expect(links.check(token, T0 + 1000)).toEqual({ ok: false, reason: 'expired' })
    // Carries the contact's link version, so a revocation ends it too.
    const later = links.token({ incidentId: 'inc_1', contactId: 'c1', expiresAt: T0 + 1000, version: 3 })
    expect(links.check(later, T0)).toMatchObject({ ok: true, claims: { version: 3 } })
  })

  it('reads a link sent before links carried a version as version 0', () => {
    const body = Buffer.from(JSON.stringify(['inc_1', 'c1', T0 + 1000])).toString('base64url')
    const legacy = `${body}.${createHmac('sha256', 'k'.repeat(32)).update(body).digest('base64url')}`
    expect(links.check(legacy, T0)).toEqual({ ok: true, claims: { kind: 'incident', incidentId: 'inc_1', contactId: 'c1', expiresAt: T0 + 1000, version: 0 } })
  })

  it('makes view links for one household and contact, which can never pass for an incident link', () => {
    const view = links.viewToken({ householdId: 'hh_1', contactId: 'c1', expiresAt: T0 + 1000, version: 0 })
    expect(links.check(view, T0)).toEqual({ ok: true, claims: { kind: 'household', householdId: 'hh_1', contactId: 'c1', expiresAt: T0 + 1000, version: 0 } })
    expect(links.check(view, T0 + 1000)).toEqual({ ok: false, reason: 'expired' })
    const incident = links.token({ incidentId: 'view', contactId: 'c1', expiresAt: T0 + 1000, version: 0 })
    expect(links.check(incident, T0)).toMatchObject({ ok: true, claims: { kind: 'incident', incidentId: 'view' } })
    // A body of the right length but the wrong marker, or empty fields, is malformed even when signed.
    const sign = (fields: unknown[]) => {
      const body = Buffer.from(JSON.stringify(fields)).toString('base64url')
      const mac = createHmac('sha256', 'k'.repeat(32)).update(body).digest('base64url')
      return `${body}.${mac}`
    }
    expect(links.check(sign(['other', 'hh_1', 'c1', T0 + 1000, 0]), T0)).toEqual({ ok: false, reason: 'malformed' })
    expect(links.check(sign(['view', '', 'c1', T0 + 1000, 0]), T0)).toEqual({ ok: false, reason: 'malformed' })
    expect(links.check(sign(['view', 'hh_1', 'c1', T0 + 1000, 0.5]), T0)).toEqual({ ok: false, reason: 'malformed' })
    expect(links.check(sign(['view', 'hh_1', 'c1', T0 + 1000]), T0)).toEqual({ ok: false, reason: 'malformed' })
    expect(links.check(sign(['inc_1', 'c1', String(T0 + 1000)]), T0)).toEqual({ ok: false, reason: 'malformed' })
  })

  it('refuses a token that was altered or signed with another key', () => {
    const token = links.token({ incidentId: 'inc_1', contactId: 'c1', expiresAt: T0 + 1000, version: 0 })
    const [body, mac] = token.split('.')
    const forged = Buffer.from(JSON.stringify(['inc_2', 'c1', T0 + 1000])).toString('base64url')
    expect(links.check(`${forged}.${mac}`, T0)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(createFamilyLinks('other-key').check(token, T0)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(links.check(`${body}`, T0)).toEqual({ ok: false, reason: 'malformed' })
    expect(links.check('', T0)).toEqual({ ok: false, reason: 'malformed' })
  })
})
