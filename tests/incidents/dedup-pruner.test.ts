/** Alarm message ids are forgotten once past the retransmission window, never within it. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDedupPruner } from '../../src/incidents/dedup-pruner.js'
import { createIncidents, DEDUP_WINDOW_MS, type IncidentEvents, type Incidents } from '../../src/incidents/service.js'
import { virtualClock, type VirtualClock } from '../../src/shared/clock.js'
import { EventBus } from '../../src/shared/events.js'
import type { Db } from '../../src/store/database.js'
import { closeTestStore, openTestStore } from '../helpers/database.js'
import { registryRepository } from '../../src/store/registry.js'

const T0 = Date.UTC(2026, 10, 23, 2, 0, 0)
const HOUR = 3_600_000
let dir: string
let db: Db
let clock: VirtualClock
let incidents: Incidents
const log = pino({ level: 'silent' })

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anju-dedup-'))
  db = await openTestStore(join(dir, 'a.db'))
  const reg = registryRepository(db)
  await reg.communities.insert({ id: 'com-1', name: '梅园社区', street: '新华路街道', detectorSettings: null, routing: null, createdAt: T0 })
  await reg.households.insert({ id: 'hh-1', communityId: 'com-1', elderName: '张', age: 80, address: 'x', phone: null, medicalNotes: null, keySafe: null, awayUntil: null, detectorSettings: null, createdAt: T0, updatedAt: T0 })
  clock = virtualClock(T0)
  incidents = createIncidents({ db, clock, bus: new EventBus<IncidentEvents>(log), log })
})
afterEach(async () => {
  await closeTestStore(db)
  rmSync(dir, { recursive: true, force: true })
})

const press = (messageId: string) => incidents.raiseAlarm({ deviceId: 'btn-1', householdId: 'hh-1', communityId: 'com-1', messageId, alarm: 'service', receivedAt: clock.now() })
const ids = async () => (await db.selectFrom('device_messages').select('message_id').orderBy('message_id').execute()).map((r) => r.message_id)

describe('alarm message id pruning', () => {
  it('forgets ids past the window on its hourly timer, keeps the rest, and a retransmission inside the window is still a duplicate', async () => {
    const pruner = createDedupPruner({ db, clock, log })
    // Two days of presses, one every 30 minutes.
    for (let i = 0; i < 96; i++) {
      await press(`m-${String(i).padStart(2, '0')}`)
      clock.advance(HOUR / 2)
    }
    expect(await ids()).toHaveLength(96)
    const deleted = await pruner.prune()
    // Everything received more than 24 h ago goes: the first 48 presses.
    expect(deleted).toBe(48)
    expect((await ids())[0]).toBe('m-48')
    expect(await press('m-95')).toEqual({ result: 'duplicate' })

    pruner.start()
    await pruner.settle()
    for (let h = 0; h < 12; h++) {
      clock.advance(HOUR)
      await pruner.settle()
      // One turn of the event loop: the hourly timer is armed again once the prune has finished.
      await new Promise((r) => setImmediate(r))
    }
    pruner.stop()
    const left = await ids()
    const oldest = await db.selectFrom('device_messages').select((eb) => eb.fn.min('received_at').as('t')).executeTakeFirst()
    expect(Number(oldest!.t)).toBeGreaterThanOrEqual(clock.now() - DEDUP_WINDOW_MS - HOUR)
    expect(left.length).toBeLessThan(48)
  })
})
