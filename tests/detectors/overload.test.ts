/**
 * Alarms first (docs/operations.md §overload): past a budget per turn of the event loop, device
 * inputs wait for the detectors in order, and past a bound readings are shed and counted; what
 * waits is seen before the clock moves on. Changed states are saved a slice per turn, newest last.
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

  it('save changed states a slice per turn, and never an older state after a newer one', async () => {
    const log = pino({ level: 'silent' })
    const bus = new EventBus<AppEvents>(log)
    const { body: home } = await p.api<{ communityId: string }>('GET', `/api/households/${householdId}`)
    const ids: string[] = []
    const meters = ['wm-slice-1', 'wm-slice-2', 'wm-slice-3']
    for (const meter of meters) {
      const { body: other } = await p.api<{ id: string }>('POST', '/api/households', { communityId: home.communityId, elderName: `李${meter}`, address: meter })
      expect((await p.api('POST', '/api/devices', { id: meter, householdId: other.id, kind: 'water', room: 'kitchen' })).status).toBe(201)
      ids.push(other.id)
    }
    const store = detectorStatesIn(p.app.historyDb)
    const saves: string[][] = []
    let hold: Promise<void> | null = null
    const states = {
      load: store.load,
      async save(saved: { householdId: string; state: string }[], now: number) {
        saves.push(saved.map((s) => s.householdId))
        if (hold) await hold
        await store.save(saved, now)
      },
    }
    let budget = 5
    const detectors = createDetectors({ states, registry: p.app.registry, incidents: p.app.incidents, bus, clock, log, budgetMsPerTurn: () => budget })
    await detectors.start()
    try {
      await detectors.settle()
      const reading = (i: number, at: number) =>
        bus.emit('telemetry.received', { deviceId: meters[i]!, householdId: ids[i]!, at, receivedAt: at, reading: { id: `s-${i}-${at}`, kind: 'water', totalM3: 20 + at / 1e12 } })
      const t = clock.now()
      for (let i = 0; i < 3; i++) reading(i, t)
      detectors.drain()
      saves.length = 0
      // No serialising budget: every slice is one household, each saved on its own turn.
      budget = 0
      let release!: () => void
      hold = new Promise<void>((resolve) => (release = resolve))
      const first = detectors.settle()
      await waitFor(() => saves.length === 1, 5000, 'the first slice saving')
      // The first household changes while its older state is being saved.
      reading(0, t + 60_000)
      detectors.drain()
      const second = detectors.settle()
      release()
      hold = null
      await Promise.all([first, second])
      expect(saves).toEqual([[ids[0]], [ids[1]], [ids[2]], [ids[0]]])
      const kept = new Map((await store.load()).map((s) => [s.householdId, JSON.parse(s.state) as { water: { meters: Record<string, { at: number }> } }]))
      expect(kept.get(ids[0]!)!.water.meters['wm-slice-1']!.at).toBe(t + 60_000)
      expect(kept.get(ids[2]!)!.water.meters['wm-slice-3']!.at).toBe(t)
    } finally {
      await detectors.stop()
    }
  })
})
