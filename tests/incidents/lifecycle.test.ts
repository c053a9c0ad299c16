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
