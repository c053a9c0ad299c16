/**
 * Alarms first (docs/operations.md §overload): past a budget per turn of the event loop, device
 * inputs wait for the detectors in order, and past a bound readings are shed and counted; what
 * waits is seen before the clock moves on.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDetectors } from '../../src/detectors/service.js'
import { detectorStatesIn } from '../../src/store/detector-states.js'
import { virtualClock } from '../../src/shared/clock.js'
import { EventBus } from '../../src/shared/events.js'
import type { AppEvents } from '../../src/app.js'
import { startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const clock = virtualClock(Date.UTC(2026, 11, 4, 2))
let p: TestPlatform
let householdId: string
beforeAll(async () => {
  p = await startPlatform({ clock })
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
  const { body: h } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '3号楼 201室' })
  householdId = h.id
  expect((await p.api('POST', '/api/devices', { id: 'wm-overload', householdId, kind: 'water', room: 'kitchen' })).status).toBe(201)
})
afterAll(() => p.close())

/** A burst of meter readings in one turn of the event loop, one a second from now on. */
function burst(bus: EventBus<AppEvents>, n: number, from: number): number {
  for (let i = 0; i < n; i++) {
    const at = from + i * 1000
    bus.emit('telemetry.received', { deviceId: 'wm-overload', householdId, at, receivedAt: at, reading: { id: `w-${from}-${i}`, kind: 'water', totalM3: 10 + i / 1000 } })
  }
  return from + (n - 1) * 1000
}

describe('detectors under a flood', () => {
  it('step a burst a budget at a time on later turns, in order, and before the clock moves', async () => {
    const log = pino({ level: 'silent' })
    const bus = new EventBus<AppEvents>(log)
    const detectors = createDetectors({ states: detectorStatesIn(p.app.historyDb), registry: p.app.registry, incidents: p.app.incidents, bus, clock, log, budgetMsPerTurn: () => 1 })
    await detectors.start()
    try {
      const last = burst(bus, 2000, clock.now())
      // Far more than a millisecond's work: most of it waits, none is lost.
      expect(detectors.backlog().queued).toBeGreaterThan(1000)
      await waitFor(() => detectors.backlog().queued === 0, 20_000, 'the queue drained on later turns')
      expect(detectors.backlog().shed).toBe(0)
      expect(detectors.monitor(householdId)!.water.meters['wm-overload']!.at).toBe(last)

      // Waiting readings are stepped before the virtual clock moves past them.
      const next = burst(bus, 2000, last + 1000)
      expect(detectors.backlog().queued).toBeGreaterThan(0)
      await detectors.committed()
      expect(detectors.backlog().queued).toBe(0)
      expect(detectors.monitor(householdId)!.water.meters['wm-overload']!.at).toBe(next)
    } finally {
      await detectors.stop()
    }
  })

  it('shed readings past the bound and count them', async () => {
    const log = pino({ level: 'silent' })
    const bus = new EventBus<AppEvents>(log)
    const detectors = createDetectors({ states: detectorStatesIn(p.app.historyDb), registry: p.app.registry, incidents: p.app.incidents, bus, clock, log, budgetMsPerTurn: () => 1, maxQueued: 100 })
    await detectors.start()
    try {
      burst(bus, 3000, clock.now() + 86_400_000)
      const { queued, shed } = detectors.backlog()
      expect(queued).toBe(100)
      expect(shed).toBeGreaterThan(2000)
      await detectors.settle()
      expect(detectors.backlog()).toMatchObject({ queued: 0, shed })
    } finally {
      await detectors.stop()
    }
  })
})
