/**
 * A device that talks while its household's monitor is still loading (registered a moment ago):
 * the detectors step its message once the monitor is there, instead of dropping it. Without
 * this, a meter heard once right after installation counted as never heard: an installation
 * task instead of an offline device (seen on PostgreSQL, where the reload takes longer).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { virtualClock } from '../../src/shared/clock.js'
import { startPlatform } from '../helpers/platform.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

describe('detectors and a household still loading', () => {
  it.each(['worker', 'caller'] as const)('keep the first message of a device whose household monitor is not loaded yet (monitors on the %s thread)', async (thread) => {
    const clock = virtualClock(Date.UTC(2026, 10, 22, 2, 0, 0))
    const p = await startPlatform({ clock, detectorsThread: thread })
    cleanups.push(() => p.close())
    const { registry, bus, detectors } = p.app
    const now = clock.now()
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
    // Written behind the detectors' back, so no reload has started yet.
    await registry.households.insert({
      id: 'hh-early', communityId: c.id, elderName: '张桂英', age: 82, address: '3号楼 201室', phone: null, medicalNotes: null,
      keySafe: null, awayUntil: null, detectorSettings: null, createdAt: now, updatedAt: now,
    })
    await registry.devices.insert(
      { id: 'wm-early', householdId: 'hh-early', kind: 'water', room: 'kitchen', heartbeatS: 300, lastSeenAt: null, online: null, battery: null, fw: null, createdAt: now },
      'not-a-real-hash',
    )
    expect(await detectors.monitor('hh-early')).toBeUndefined()

    // The reload starts, and the meter's status arrives in the same turn, before the reload can end.
    bus.emit('household.changed', { householdId: 'hh-early' })
    bus.emit('device.seen', { deviceId: 'wm-early', householdId: 'hh-early', channel: 'status', at: now, online: true, battery: 90 })
    expect(await detectors.monitor('hh-early')).toBeUndefined()

    await expect.poll(async () => (await detectors.monitor('hh-early'))?.health.devices['wm-early']?.lastSeenAt ?? null).toBe(now)
    expect((await detectors.monitor('hh-early'))!.health.devices['wm-early']).toMatchObject({ online: true, battery: 90 })
  })
})
