/** What the family is shown, decided purely: device problems and incidents as the family reads them. */
import { describe, expect, it } from 'vitest'
import { familyCommand, familyIncidentRow } from '../../src/family/status.js'
import type { Incident, IncidentEvent } from '../../src/incidents/model.js'

const NOW = Date.UTC(2026, 11, 1, 12)
const incident = (over: Partial<Incident>): Incident => ({
  id: 'inc', householdId: 'hh', communityId: 'c', deviceId: 'd', category: 'emergency', type: 'sos', priority: 1, state: 'open', cancelledByResident: false,
  openedAt: NOW, acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null, outcome: null, note: null, updatedAt: NOW,
  conditions: [], conditionCleared: false, explanation: null, familyResponse: null, ...over,
})
const answered = (at: number, contact: string, answer: string): IncidentEvent => ({ incidentId: 'inc', at, actor: `family:${contact}`, kind: 'family_response', deviceId: null, detail: { answer, contact, relation: '子女' } })

describe('an incident as the family reads it', () => {
  it("names the operator who took it, or their login name when the display name is gone, and nobody before", () => {
    expect(familyIncidentRow(incident({}), [], null, true)).toMatchObject({ handledBy: null, handledByKind: null, answerable: true })
    const taken = incident({ state: 'acknowledged', acknowledgedBy: 'user:op-wang' })
    expect(familyIncidentRow(taken, [], '王敏 (梅园值班)', true)).toMatchObject({ handledBy: '王敏 (梅园值班)', handledByKind: 'operator' })
    expect(familyIncidentRow(taken, [], null, true)).toMatchObject({ handledBy: 'op-wang', handledByKind: 'operator' })
    expect(familyIncidentRow(incident({ state: 'acknowledged', acknowledgedBy: 'family:李明' }), [], null, true)).toMatchObject({ handledBy: '李明', handledByKind: 'family' })
    expect(familyIncidentRow(incident({ state: 'acknowledged', acknowledgedBy: 'system:routing' }), [], null, true)).toMatchObject({ handledBy: null, handledByKind: null })
  })

  it("lists the family's answers, oldest first, and ignores other trail entries and unknown answers", () => {
    const events: IncidentEvent[] = [
      { incidentId: 'inc', at: NOW, actor: 'system:routing', kind: 'escalated', deviceId: null, detail: { step: 'stage-0' } },
      answered(NOW + 1, '李明', 'on_my_way'),
      answered(NOW + 2, '李红', 'something_else'),
      answered(NOW + 3, '李红', 'called_fine'),
    ]
    expect(familyIncidentRow(incident({}), events, null, true).responses).toEqual([
      { by: '李明', relation: '子女', answer: 'on_my_way', at: NOW + 1 },
      { by: '李红', relation: '子女', answer: 'called_fine', at: NOW + 3 },
    ])
  })

  it('is answerable only when the link may answer it, it is not resolved, and it is an emergency, wellbeing or visit matter', () => {
    expect(familyIncidentRow(incident({}), [], null, false).answerable).toBe(false)
    expect(familyIncidentRow(incident({ state: 'resolved' }), [], null, true).answerable).toBe(false)
    expect(familyIncidentRow(incident({ category: 'service', type: 'service' }), [], null, true).answerable).toBe(false)
    expect(familyIncidentRow(incident({ category: 'wellbeing', type: 'no_water' }), [], null, true).answerable).toBe(true)
    expect(familyIncidentRow(incident({ category: 'visit', type: 'door_idle' }), [], null, true).answerable).toBe(true)
  })
})

describe('a family answer as a command (the closed loop, docs/operations.md §family)', () => {
  const who = { contactId: 'c-1', name: '李明', relation: '子女' }
  const off = { arriveWithinMin: 30, maySettleWellbeing: false }
  const on = { arriveWithinMin: 20, maySettleWellbeing: true }
  const sos = { category: 'emergency' as const }
  const wellbeing = { category: 'wellbeing' as const }

  it('on the way is due after the community\'s time; never settles anything', () => {
    expect(familyCommand(sos, 'on_my_way', who, off, NOW)).toMatchObject({ kind: 'family_en_route', dueAt: NOW + 30 * 60_000, detail: { answer: 'on_my_way', text: { zh: '我去看看' }, contact: '李明' } })
    expect(familyCommand(wellbeing, 'on_my_way', who, on, NOW)).toMatchObject({ kind: 'family_en_route', dueAt: NOW + 20 * 60_000 })
  })

  it('settles a wellbeing or visit matter on her being safe only where allowed, never an emergency', () => {
    expect(familyCommand(wellbeing, 'arrived_safe', who, on, NOW)).toMatchObject({ kind: 'family_arrived', safe: true, settle: true })
    expect(familyCommand({ category: 'visit' }, 'called_fine', who, on, NOW)).toMatchObject({ kind: 'family_called', settle: true })
    expect(familyCommand(wellbeing, 'arrived', who, on, NOW)).toMatchObject({ kind: 'family_arrived', safe: false, settle: false })
    expect(familyCommand(wellbeing, 'arrived_safe', who, off, NOW)).toMatchObject({ settle: false })
    expect(familyCommand(wellbeing, 'called_fine', who, off, NOW)).toMatchObject({ settle: false })
    expect(familyCommand(sos, 'arrived_safe', who, on, NOW)).toMatchObject({ settle: false })
    expect(familyCommand(sos, 'called_fine', who, on, NOW)).toMatchObject({ settle: false })
  })

  it('shows who is on the way, without their id, and their answers of every kind', () => {
    const f = { contactId: 'c-1', contactName: '李明', relation: '子女', state: 'en_route' as const, since: NOW, dueAt: NOW + 1800_000, arrivedAt: null }
    const events: IncidentEvent[] = [
      { ...answered(NOW, '李明', 'on_my_way'), kind: 'family_en_route' },
      { ...answered(NOW + 5, '李明', 'arrived'), kind: 'family_arrived' },
      { incidentId: 'inc', at: NOW + 6, actor: 'system:family-watch', kind: 'family_overdue', deviceId: null, detail: { contact: '李明' } },
    ]
    const row = familyIncidentRow(incident({ familyResponse: f }), events, null, true)
    expect(row.familyResponse).toEqual({ by: '李明', relation: '子女', state: 'en_route', since: NOW, dueAt: NOW + 1800_000, arrivedAt: null })
    expect(row.responses.map((r) => r.answer)).toEqual(['on_my_way', 'arrived'])
    expect(row.handledBy).toBeNull()
  })
})
