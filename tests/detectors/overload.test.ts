/**
 * Alarms first (docs/operations.md §overload): the households' monitors run on their own thread.
 * The alarm loop hands each turn's inputs over in one message; past a bound of inputs not yet
 * stepped, readings are shed and counted; what was handed over is stepped before the clock moves
 * on. Changed states are saved a slice at a time, newest last.
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
let communityId: string
beforeAll(async () => {
  p = await startPlatform({ clock })
  const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
  communityId = c.id
  const { body: h } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '3号楼 201室' })
  householdId = h.id
  expect((await p.api('POST', '/api/devices', { id: 'wm-overload', householdId, kind: 'water', room: 'kitchen' })).status).toBe(201)
})
afterAll(() => p.close())

/** A burst of meter readings in one turn of the event loop, one a second from `from` on. */
function burst(bus: EventBus<AppEvents>, n: number, from: number, tag: string): number {
  for (let i = 0; i < n; i++) {
    const at = from + i * 1000
    bus.emit('telemetry.received', { deviceId: 'wm-overload', householdId, at, receivedAt: at, reading: { id: `w-${tag}-${i}`, kind: 'water', totalM3: 10 + i / 1000 } })
  }
  return from + (n - 1) * 1000
}

function detectorsOnAWorker(bus: EventBus<AppEvents>, extra: { maxQueued?: number; states?: ReturnType<typeof detectorStatesIn> } = {}) {
  const log = pino({ level: 'silent' })
  return createDetectors({ states: extra.states ?? detectorStatesIn(p.app.historyDb), registry: p.app.registry, incidents: p.app.incidents, bus, clock, log, thread: 'worker', ...(extra.maxQueued ? { maxQueued: extra.maxQueued } : {}) })
}

describe('detectors on their own thread under a flood', () => {
  it('take a burst off the alarm loop, step it in order on the worker, and before the clock moves', async () => {
    const bus = new EventBus<AppEvents>(pino({ level: 'silent' }))
    const detectors = detectorsOnAWorker(bus)
    await detectors.start()
    try {
      const last = burst(bus, 2000, clock.now(), 'a')
      // Handed over, none stepped on this thread.
      expect(detectors.backlog().queued).toBe(2000)
      await detectors.committed()
      expect(detectors.backlog()).toMatchObject({ queued: 0, shed: 0 })
      expect((await detectors.monitor(householdId))!.water.meters['wm-overload']!.at).toBe(last)
    } finally {
      await detectors.stop()
    }
  })

  it('shed readings past the bound and count them', async () => {
    const bus = new EventBus<AppEvents>(pino({ level: 'silent' }))
    const detectors = detectorsOnAWorker(bus, { maxQueued: 100 })
    await detectors.start()
    try {
      const before = (await detectors.monitor(householdId))!.water.meters['wm-overload']!.at
      burst(bus, 3000, before + 1000, 'b')
      expect(detectors.backlog()).toMatchObject({ queued: 100, shed: 2900 })
      await detectors.settle()
      expect(detectors.backlog()).toMatchObject({ queued: 0, shed: 2900 })
      // The first hundred were stepped, the rest never reached the monitor.
      expect((await detectors.monitor(householdId))!.water.meters['wm-overload']!.at).toBe(before + 100 * 1000)
    } finally {
      await detectors.stop()
    }
  })

  it('save changed states a slice at a time, and never an older state after a newer one', async () => {
    const bus = new EventBus<AppEvents>(pino({ level: 'silent' }))
    const ids: string[] = []
    const meters = ['wm-slice-1', 'wm-slice-2', 'wm-slice-3']
    for (const meter of meters) {
      const { body: other } = await p.api<{ id: string }>('POST', '/api/households', { communityId, elderName: `李${meter}`, address: meter })
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
    const detectors = detectorsOnAWorker(bus, { states })
    await detectors.start()
    try {
      await detectors.settle()
      const reading = (i: number, at: number) =>
        bus.emit('telemetry.received', { deviceId: meters[i]!, householdId: ids[i]!, at, receivedAt: at, reading: { id: `s-${i}-${at}`, kind: 'water', totalM3: 20 + at / 1e12 } })
      const t = clock.now()
      for (let i = 0; i < 3; i++) reading(i, t)
      await detectors.committed()
      saves.length = 0
      let release!: () => void
      hold = new Promise<void>((resolve) => (release = resolve))
      const first = detectors.settle()
      await waitFor(() => saves.length === 1, 5000, 'the first slice saving')
      // The first household changes while its older state is being saved.
      reading(0, t + 60_000)
      const second = detectors.settle()
      release()
      hold = null
      await Promise.all([first, second])
      expect(saves.flat().sort()).toEqual([...ids, ids[0]!].sort())
      expect(saves.at(-1)).toEqual([ids[0]])
      const kept = new Map((await store.load()).map((s) => [s.householdId, JSON.parse(s.state) as { water: { meters: Record<string, { at: number }> } }]))
      expect(kept.get(ids[0]!)!.water.meters['wm-slice-1']!.at).toBe(t + 60_000)
      expect(kept.get(ids[2]!)!.water.meters['wm-slice-3']!.at).toBe(t)
    } finally {
      await detectors.stop()
    }
  })
})
