import { describe, expect, it } from 'vitest'
import { openIncident, transition, type Command } from '../../src/incidents/lifecycle.js'
import type { Incident } from '../../src/incidents/model.js'

const T0 = 1_800_000_000_000
const open = (alarm: 'sos' | 'fall' | 'service' | 'smoke' | 'gas' = 'sos') =>
  openIncident({ id: 'inc_1', householdId: 'hh-1', communityId: 'com-1', deviceId: 'btn-1', messageId: 'm-1', alarm }, T0)

const must = (incident: Incident, command: Command, actor = 'user:op', now = T0 + 1000) => {
  const r = transition(incident, command, actor, now)
  if (!r.ok) throw new Error(r.error.message)
  return r
}

describe('incident lifecycle', () => {
  it('opens with priority and category by alarm type', () => {
    expect(open('sos').incident).toMatchObject({ state: 'open', category: 'emergency', priority: 1, type: 'sos' })
    expect(open('smoke').incident).toMatchObject({ category: 'emergency', priority: 1 })
    expect(open('gas').incident).toMatchObject({ category: 'emergency', priority: 1 })
    expect(open('fall').incident).toMatchObject({ category: 'emergency', priority: 2 })
    expect(open('service').incident).toMatchObject({ category: 'service', priority: 4 })
    expect(open().events).toEqual([
      { incidentId: 'inc_1', at: T0, actor: 'device:btn-1', kind: 'opened', deviceId: 'btn-1', detail: { alarm: 'sos', messageId: 'm-1' } },
    ])
  })

  it('goes open → acknowledged → resolved, recording who and when', () => {
    const acked = must(open().incident, { kind: 'acknowledge' }, 'user:wang', T0 + 30_000)
    expect(acked.incident).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'user:wang', acknowledgedAt: T0 + 30_000 })
    expect(acked.events).toEqual([{ incidentId: 'inc_1', at: T0 + 30_000, actor: 'user:wang', kind: 'acknowledged', deviceId: null, detail: {} }])

    const resolved = must(acked.incident, { kind: 'resolve', outcome: 'false_alarm', note: '老人误按' }, 'user:li', T0 + 90_000)
    expect(resolved.incident).toMatchObject({
      state: 'resolved',
      resolvedBy: 'user:li',
      resolvedAt: T0 + 90_000,
      outcome: 'false_alarm',
      note: '老人误按',
      acknowledgedBy: 'user:wang',
    })
    expect(resolved.events[0]).toMatchObject({ kind: 'resolved', actor: 'user:li', detail: { outcome: 'false_alarm', note: '老人误按' } })
  })

  it('refuses illegal transitions with a clear code', () => {
    const opened = open().incident
    expect(transition(opened, { kind: 'resolve', outcome: 'test', note: null }, 'user:x', T0)).toMatchObject({ ok: false, error: { code: 'NOT_ACKNOWLEDGED' } })
    const acked = must(opened, { kind: 'acknowledge' }, 'user:wang')
    const again = transition(acked.incident, { kind: 'acknowledge' }, 'user:li', T0)
    expect(again).toMatchObject({ ok: false, error: { code: 'ALREADY_ACKNOWLEDGED' } })
    expect(!again.ok && again.error.message).toContain('user:wang')
    const resolved = must(acked.incident, { kind: 'resolve', outcome: 'test', note: null }).incident
    for (const command of [
      { kind: 'acknowledge' },
      { kind: 'resolve', outcome: 'test', note: null },
      { kind: 'alarm', alarm: 'sos', deviceId: 'btn-1', messageId: 'm-2' },
      { kind: 'cancel', deviceId: 'btn-1', messageId: 'm-3' },
    ] as Command[]) {
      expect(transition(resolved, command, 'user:x', T0)).toMatchObject({ ok: false, error: { code: 'ALREADY_RESOLVED' } })
    }
  })

  it('attaches a repeat alarm and raises priority only when the new alarm is more urgent', () => {
    const fall = open('fall').incident
    const sos = must(fall, { kind: 'alarm', alarm: 'sos', deviceId: 'btn-2', messageId: 'm-2' }, 'device:btn-2')
    expect(sos.incident).toMatchObject({ priority: 1, type: 'sos', state: 'open', id: 'inc_1' })
    expect(sos.events[0]).toMatchObject({ kind: 'alarm', deviceId: 'btn-2', actor: 'device:btn-2' })
    const fallAgain = must(sos.incident, { kind: 'alarm', alarm: 'fall', deviceId: 'btn-1', messageId: 'm-3' }, 'device:btn-1')
    expect(fallAgain.incident).toMatchObject({ priority: 1, type: 'sos' })
  })

  it('opens an acknowledged incident again when a new emergency alarm arrives', () => {
    const acked = must(must(open('sos').incident, { kind: 'cancel', deviceId: 'btn-1', messageId: 'm-2' }).incident, { kind: 'acknowledge' }, 'user:wang')
    const again = must(acked.incident, { kind: 'alarm', alarm: 'fall', deviceId: 'btn-1', messageId: 'm-3' }, 'device:btn-1')
    expect(again.incident).toMatchObject({ state: 'open', acknowledgedBy: null, acknowledgedAt: null, cancelledByResident: false })
    expect(again.events[0]!.detail).toMatchObject({ reopened: true })
    // a service request does not reopen an emergency
    const service = must(acked.incident, { kind: 'alarm', alarm: 'service', deviceId: 'btn-1', messageId: 'm-4' }, 'device:btn-1')
    expect(service.incident.state).toBe('acknowledged')
  })

  it('marks a resident cancel without closing the incident', () => {
    const cancelled = must(open().incident, { kind: 'cancel', deviceId: 'btn-1', messageId: 'm-9' }, 'device:btn-1')
    expect(cancelled.incident).toMatchObject({ state: 'open', cancelledByResident: true })
    expect(cancelled.events[0]).toMatchObject({ kind: 'cancelled_by_resident', actor: 'device:btn-1' })
    // an operator still confirms
    const acked = must(cancelled.incident, { kind: 'acknowledge' })
    expect(acked.incident.cancelledByResident).toBe(true)
  })

  it('never mutates the incident it is given', () => {
    const opened = open().incident
    const copy = structuredClone(opened)
    must(opened, { kind: 'acknowledge' })
    expect(opened).toEqual(copy)
  })
})

describe('family answers (docs/operations.md §family)', () => {
  const who = { contactId: 'c-1', name: '李明', relation: '子女' }
  const detail = { answer: 'on_my_way' }
  const going = () => must(open('fall').incident, { kind: 'family_en_route', who, dueAt: T0 + 1800_000, detail }, 'family:李明', T0)

  it('on the way is not an acknowledgement: the incident stays open for the operators', () => {
    const r = going()
    expect(r.incident).toMatchObject({ state: 'open', acknowledgedAt: null, acknowledgedBy: null, familyResponse: { contactName: '李明', state: 'en_route', since: T0, dueAt: T0 + 1800_000, arrivedAt: null } })
    expect(r.events).toEqual([{ incidentId: 'inc_1', at: T0, actor: 'family:李明', kind: 'family_en_route', deviceId: null, detail: { answer: 'on_my_way', dueAt: T0 + 1800_000 } }])
  })

  it('is overdue only once the time has passed without an arrival, and raises the priority to at least 2', () => {
    const early = must(going().incident, { kind: 'family_overdue' }, 'system:family-watch', T0 + 1799_999)
    expect(early.events).toEqual([])
    const late = must(going().incident, { kind: 'family_overdue' }, 'system:family-watch', T0 + 1800_000)
    expect(late.incident).toMatchObject({ state: 'open', priority: 2, familyResponse: { state: 'overdue' } })
    expect(late.events[0]).toMatchObject({ kind: 'family_overdue', detail: { text: { zh: '家属 李明 30 分钟内未确认到达' } } })
    expect(must(late.incident, { kind: 'family_overdue' }, 'system:family-watch', T0 + 3600_000).events).toEqual([])
    const arrived = must(going().incident, { kind: 'family_arrived', who, safe: false, settle: false, detail: {} }, 'family:李明', T0 + 600_000)
    expect(arrived.incident.familyResponse).toMatchObject({ state: 'arrived', since: T0, arrivedAt: T0 + 600_000, dueAt: null })
    expect(must(arrived.incident, { kind: 'family_overdue' }, 'system:family-watch', T0 + 3600_000).events).toEqual([])
  })

  it('settles only when told to (the policy is decided outside), as the family, without an acknowledgement', () => {
    const settled = must(going().incident, { kind: 'family_arrived', who, safe: true, settle: true, detail: {} }, 'family:李明', T0 + 600_000)
    expect(settled.incident).toMatchObject({ state: 'resolved', outcome: 'settled_by_family', resolvedBy: 'family:李明', acknowledgedAt: null })
    expect(settled.events.map((e) => e.kind)).toEqual(['family_arrived', 'resolved'])
    const noted = must(open().incident, { kind: 'family_called', who, settle: false, detail: { answer: 'called_fine' } }, 'family:李明')
    expect(noted.incident).toMatchObject({ state: 'open', familyResponse: null })
    expect(noted.events.map((e) => e.kind)).toEqual(['family_response'])
    const resolved = must(must(open().incident, { kind: 'acknowledge' }).incident, { kind: 'resolve', outcome: 'false_alarm', note: null })
    expect(transition(resolved.incident, { kind: 'family_en_route', who, dueAt: T0, detail }, 'family:李明', T0)).toMatchObject({ ok: false, error: { code: 'ALREADY_RESOLVED' } })
  })
})
