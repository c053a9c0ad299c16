/**
 * The households' monitors on their own thread (docs/operations.md §overload): time travel stops
 * at each household's check, so a finding opens at its own time; a thread that ends unasked is
 * replaced by a new one that starts from the saved states and goes on stepping.
 */
import type { Worker } from 'node:worker_threads'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppEvents } from '../../src/app.js'
import { deviceTopic } from '../../src/contract/index.js'
import { createDetectors } from '../../src/detectors/service.js'
import type { Incident } from '../../src/incidents/model.js'
import { virtualClock } from '../../src/shared/clock.js'
import { EventBus } from '../../src/shared/events.js'
import { startWorker } from '../../src/shared/worker.js'
import { detectorStatesIn } from '../../src/store/detector-states.js'
import { connectDevice, publish, startPlatform, waitFor } from '../helpers/platform.js'

const MIN = 60_000
const HOUR = 60 * MIN
const START = Date.UTC(2026, 2, 1, 2)

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

describe("detectors on their own thread", () => {
  it('open a finding at its own time when the clock travels hours in one move', async () => {
    const p = await startPlatform({ env: { ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(START), ANJU_SESSION_TTL_HOURS: '100' } })
    cleanups.push(() => p.close())
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
    const res = await p.api<{ devices: { id: string; secret: string; householdId: string }[] }>('POST', '/api/fleet', {
      communityId: c.id,
      households: [{ elderName: '张桂英', address: '3号楼 201室', devices: [{ id: 'wm-travel', kind: 'water', room: 'kitchen' }] }],
    })
    expect(res.status).toBe(201)
    const meter = res.body.devices[0]!
    const client = await connectDevice(p, meter)
    await publish(client, deviceTopic(meter.id, 'status'), { online: true, battery: 70 })
    await client.endAsync()
    const heardAt = p.app.clock.now()
    // Heard: a second passes so device health is written and the detectors have the status.
    await p.api('POST', '/api/clock/advance', { ms: 1000 })
    await p.app.detectors.committed()

    const { status } = await p.api('POST', '/api/clock/advance', { ms: 6 * HOUR })
    expect(status).toBe(200)
    const open = (await p.api<Incident[]>('GET', '/api/incidents?state=active')).body.filter((i) => i.householdId === meter.householdId)
    expect(open.map((i) => i.type)).toEqual(['device_offline'])
    // Silent past its allowance (a few heartbeats of 300 s): opened then, not when the move ended.
    expect(open[0]!.openedAt - heardAt).toBeGreaterThan(5 * MIN)
    expect(open[0]!.openedAt - heardAt).toBeLessThan(HOUR)
  })

  it('start a new thread from the saved states when theirs ends unasked, and go on stepping', async () => {
    const clock = virtualClock(Date.UTC(2026, 11, 4, 2))
    const p = await startPlatform({ clock })
    cleanups.push(() => p.close())
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
    const { body: h } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '3号楼 201室' })
    expect((await p.api('POST', '/api/devices', { id: 'wm-restart', householdId: h.id, kind: 'water', room: 'kitchen' })).status).toBe(201)

    const bus = new EventBus<AppEvents>(pino({ level: 'silent' }))
    const threads: Worker[] = []
    const detectors = createDetectors({
      states: detectorStatesIn(p.app.historyDb),
      registry: p.app.registry,
      incidents: p.app.incidents,
      bus,
      clock,
      log: pino({ level: 'silent' }),
      thread: 'worker',
      startThread: (module) => {
        const w = startWorker(module, null)
        threads.push(w)
        return w
      },
    })
    await detectors.start()
    cleanups.push(() => detectors.stop())
    const reading = (at: number, n: number) =>
      bus.emit('telemetry.received', { deviceId: 'wm-restart', householdId: h.id, at, receivedAt: at, reading: { id: `r-${n}`, kind: 'water', totalM3: 10 + n / 1000 } })

    const t = clock.now()
    reading(t, 1)
    await detectors.settle()
    expect((await detectors.monitor(h.id))!.water.meters['wm-restart']!.at).toBe(t)

    await threads[0]!.terminate()
    await waitFor(() => detectors.backlog().workerRestarts === 1 && threads.length === 2, 10_000, 'a new thread')
    // What was saved is what the new thread starts from.
    await waitFor(async () => (await detectors.monitor(h.id).catch(() => undefined))?.water.meters['wm-restart']?.at === t, 10_000, 'the saved state back')

    reading(t + 30_000, 2)
    await detectors.committed()
    expect((await detectors.monitor(h.id))!.water.meters['wm-restart']!.at).toBe(t + 30_000)
  })
})
