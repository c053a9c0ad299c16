/** The incident service on a real SQLite store with a virtual clock: correlation and audit. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createIncidents, type IncidentChange, type IncidentEvents, type Incidents } from '../../src/incidents/service.js'
import { virtualClock, type VirtualClock } from '../../src/shared/clock.js'
import { EventBus } from '../../src/shared/events.js'
import type { Db } from '../../src/store/database.js'
import { closeTestStore, openTestStore } from '../helpers/database.js'
import { incidentRepository } from '../../src/store/incidents.js'
import { registryRepository } from '../../src/store/registry.js'

let dir: string
let db: Db
let clock: VirtualClock
let incidents: Incidents
let changes: IncidentChange[]
const T0 = Date.UTC(2026, 10, 23, 2, 0, 0)

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anju-svc-'))
  db = await openTestStore(join(dir, 'a.db'))
  const reg = registryRepository(db)
  await reg.communities.insert({ id: 'com-1', name: '梅园社区', street: '新华路街道', detectorSettings: null, routing: null, createdAt: T0 })
  for (const hh of ['hh-1', 'hh-2']) {
    await reg.households.insert({ id: hh, communityId: 'com-1', elderName: '张', age: 80, address: 'x', phone: null, medicalNotes: null, keySafe: null, awayUntil: null, detectorSettings: null, createdAt: T0, updatedAt: T0 })
  }
  clock = virtualClock(T0)
  const log = pino({ level: 'silent' })
  const bus = new EventBus<IncidentEvents>(log)
  changes = []
  bus.on('incident.changed', 'test', (c) => changes.push(c))
  incidents = createIncidents({ db, clock, bus, log })
})
afterEach(async () => {
  await closeTestStore(db)
  rmSync(dir, { recursive: true, force: true })
})

const alarm = (messageId: string, type: 'sos' | 'fall' | 'service' | 'cancel' | 'smoke', householdId = 'hh-1', deviceId = 'btn-1') =>
  incidents.raiseAlarm({ deviceId, householdId, communityId: 'com-1', messageId, alarm: type, receivedAt: clock.now() })

describe('incident service', () => {
  it('keeps one active emergency per household; a press from another device of the home attaches', async () => {
    const first = await alarm('m1', 'fall')
    clock.advance(5000)
    const second = await alarm('m1', 'sos', 'hh-1', 'pendant-1')
    expect(first.result).toBe('opened')
    expect(second).toMatchObject({ result: 'attached', incident: { priority: 1, type: 'sos' } })
    expect(await incidents.alarmDevices((second as { incident: { id: string } }).incident.id)).toEqual(['btn-1', 'pendant-1'])
    const other = await alarm('m2', 'sos', 'hh-2')
    expect(other.result).toBe('opened')
    expect(await incidents.list({ state: 'active' })).toHaveLength(2)
  })

  it('opens a service ticket for the green key, never an incident, beside an emergency', async () => {
    await alarm('m1', 'sos')
    const service = await alarm('m2', 'service')
    expect(service).toMatchObject({ result: 'ticket_opened', ticket: { state: 'pending', type: 'other', source: 'button', requestedBy: 'device:btn-1', presses: 1 } })
    const again = await alarm('m3', 'service', 'hh-1', 'btn-2')
    expect(again).toMatchObject({ result: 'ticket_joined', ticket: { presses: 2 } })
    expect(await alarm('m3', 'service', 'hh-1', 'btn-2')).toEqual({ result: 'duplicate' })
    const active = await incidents.list({ state: 'active' })
    expect(active.map((i) => i.category)).toEqual(['emergency'])
    expect(changes.map((c) => c.incident.type)).toEqual(['sos'])
    // A cancel is for the SOS, never the service request.
    expect(await alarm('m4', 'cancel')).toMatchObject({ result: 'cancelled', incident: { type: 'sos' } })
    const tickets = await db.selectFrom('service_tickets').select(['presses', 'state']).execute()
    expect(tickets).toEqual([{ presses: 2, state: 'pending' }])
  })

  it('marks a resident cancel on the open emergency and leaves it for an operator to close', async () => {
    const opened = await alarm('m1', 'sos')
    clock.advance(10_000)
    const cancelled = await alarm('m2', 'cancel')
    expect(cancelled).toMatchObject({ result: 'cancelled', incident: { state: 'open', cancelledByResident: true } })
    const id = (opened as { incident: { id: string } }).incident.id
    const events = await incidents.events(id)
    expect(events.map((e) => [e.kind, e.at])).toEqual([
      ['opened', T0],
      ['cancelled_by_resident', T0 + 10_000],
    ])
  })

  it('does not let a cancel mark a smoke or gas alarm as pressed by mistake', async () => {
    await alarm('m1', 'smoke', 'hh-1', 'smk-1')
    expect(await alarm('m2', 'cancel')).toEqual({ result: 'cancel_without_incident' })
    expect((await incidents.list({ state: 'active' }))[0]).toMatchObject({ type: 'smoke', cancelledByResident: false })
  })

  it('records a cancel with nothing open without inventing an incident', async () => {
    expect(await alarm('m1', 'cancel')).toEqual({ result: 'cancel_without_incident' })
    expect(await incidents.list({})).toEqual([])
  })

  it('opens a fresh incident after the previous one is resolved', async () => {
    const first = await alarm('m1', 'sos')
    const id = (first as { incident: { id: string } }).incident.id
    clock.advance(30_000)
    expect((await incidents.acknowledge(id, 'user:wang')).ok).toBe(true)
    clock.advance(60_000)
    expect(await incidents.resolve(id, 'user:wang', 'test', '演练')).toMatchObject({ ok: true, incident: { state: 'resolved', resolvedAt: T0 + 90_000 } })
    const second = await alarm('m2', 'sos')
    expect(second.result).toBe('opened')
    expect((second as { incident: { id: string } }).incident.id).not.toBe(id)
  })

  it('records how far the device clock is off', async () => {
    const opened = await incidents.raiseAlarm({ deviceId: 'btn-1', householdId: 'hh-1', communityId: 'com-1', messageId: 'm-ts', alarm: 'sos', receivedAt: clock.now(), deviceTs: clock.now() - 90_000 })
    const id = (opened as { incident: { id: string } }).incident.id
    expect((await incidents.events(id))[0]!.detail).toMatchObject({ skewMs: -90_000 })
  })

  it('takes a message id reused after the retransmission window as a new alarm', async () => {
    const first = await alarm('a-1', 'sos')
    const id = (first as { incident: { id: string } }).incident.id
    await incidents.acknowledge(id, 'user:wang')
    await incidents.resolve(id, 'user:wang', 'test', null)
    clock.advance(3_600_000)
    expect(await alarm('a-1', 'sos')).toEqual({ result: 'duplicate' })
    clock.advance(24 * 3_600_000) // the button's counter restarted after a battery change
    expect(await alarm('a-1', 'sos')).toMatchObject({ result: 'opened' })
  })

  it('announces each committed change once, and nothing for duplicates or refusals', async () => {
    const opened = await alarm('m1', 'sos')
    await alarm('m1', 'sos')
    const id = (opened as { incident: { id: string } }).incident.id
    await incidents.acknowledge(id, 'user:a')
    expect(await incidents.acknowledge(id, 'user:b')).toMatchObject({ ok: false, error: { code: 'ALREADY_ACKNOWLEDGED' } })
    expect(await incidents.acknowledge('inc_missing', 'user:b')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    expect(changes.map((c) => c.events.map((e) => e.kind))).toEqual([['opened'], ['acknowledged']])
  })

  it('keeps the audit trail in order with actor and time', async () => {
    const opened = await alarm('m1', 'smoke', 'hh-1', 'smk-1')
    const id = (opened as { incident: { id: string } }).incident.id
    clock.advance(1000)
    await alarm('m2', 'sos')
    clock.advance(1000)
    await incidents.acknowledge(id, 'user:wang')
    clock.advance(1000)
    await incidents.resolve(id, 'user:wang', 'emergency_handled', '消防已到场')
    const trail = await incidents.events(id)
    expect(trail.map((e) => [e.kind, e.actor, e.at - T0])).toEqual([
      ['opened', 'device:smk-1', 0],
      ['alarm', 'device:btn-1', 1000],
      ['acknowledged', 'user:wang', 2000],
      ['resolved', 'user:wang', 3000],
    ])
    expect(trail[3]!.detail).toEqual({ outcome: 'emergency_handled', note: '消防已到场' })
  })

  it("records several households' findings in one call: each its own incident, each household's in order", async () => {
    const finding = (householdId: string, change: 'raised' | 'cleared', key: string) =>
      ({ change, householdId, at: clock.now(), condition: { key, kind: 'device_offline' as const, explanation: { zh: '设备离线', en: 'offline' }, data: {} } })
    const recorded = await incidents.recordFindingsOf([
      { communityId: 'com-1', findings: [finding('hh-1', 'raised', 'device_offline:wm-1')] },
      { communityId: 'com-1', findings: [finding('hh-2', 'raised', 'device_offline:wm-2'), finding('hh-2', 'raised', 'device_offline:pr-2')] },
      { communityId: 'com-1', findings: [finding('hh-1', 'cleared', 'device_offline:wm-1')] },
    ])
    expect(recorded.map((c) => [c.incident.householdId, c.events.map((e) => e.kind)])).toEqual([
      ['hh-1', ['opened']],
      ['hh-2', ['opened']],
      ['hh-2', ['finding']],
      ['hh-1', ['condition_cleared']],
    ])
    const repo = incidentRepository(db)
    const one = (await repo.active('hh-1', 'maintenance'))!
    const two = (await repo.active('hh-2', 'maintenance'))!
    expect(one.id).not.toBe(two.id)
    expect([...two.conditions].sort()).toEqual(['device_offline:pr-2', 'device_offline:wm-2'])
    expect(changes).toHaveLength(4)
  })
})
