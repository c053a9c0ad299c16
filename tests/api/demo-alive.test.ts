/**
 * The demo district stays alive while the demo runs (src/demo/keeper.ts): its devices are heard
 * at once (their week of history counts as heard), keep beating on the platform's clock, and
 * raise no offline or installation incidents; a restart keeps it so.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Incident } from '../../src/incidents/model.js'
import { startPlatform, type TestPlatform } from '../helpers/platform.js'

const START = Date.UTC(2026, 2, 1, 2)
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

interface DeviceOut { id: string; state: string; lastSeenAt: number | null; battery: number | null }

describe('the demo district', () => {
  it('shows its devices as heard, keeps them alive on the platform clock, and raises no device incidents', async () => {
    const p: TestPlatform = await startPlatform({ env: { ANJU_DEMO: 'true', ANJU_CLOCK: 'virtual', ANJU_CLOCK_START: String(START), ANJU_SESSION_TTL_HOURS: '2000' } })
    cleanups.push(() => p.close())
    const first = (await p.api<DeviceOut[]>('GET', '/api/devices')).body
    expect(first).toHaveLength(18)
    // Heard (their week of readings), none "never reported".
    expect(first.filter((d) => d.lastSeenAt === null)).toEqual([])
    expect(first.every((d) => d.battery !== null)).toBe(true)

    // Two hours on, in 4-minute steps as time-warp moves (the keeper beats between them): still all
    // heard in time, and nothing for the maintenance or installation queue.
    for (let i = 0; i < 30; i++) await p.api('POST', '/api/clock/advance', { ms: 4 * 60_000 })
    // Device health is written once a second of the platform's clock: one more second writes the last beats.
    await p.api('POST', '/api/clock/advance', { ms: 2000 })
    const later = (await p.api<DeviceOut[]>('GET', '/api/devices')).body
    expect(later.filter((d) => d.state !== 'online' && d.state !== 'low_battery')).toEqual([])
    const incidents = (await p.api<Incident[]>('GET', '/api/incidents?state=active')).body
    expect(incidents.filter((i) => i.category === 'maintenance' || i.category === 'installation')).toEqual([])

    // A simulated night passed in one call (the scenarios skip quiet hours so): the clock moves in
    // steps the beats keep up with, so the demo is never found silent.
    await p.api('POST', '/api/clock/advance', { ms: 6 * 3_600_000 })
    await p.api('POST', '/api/clock/advance', { ms: 2000 })
    const morning = (await p.api<DeviceOut[]>('GET', '/api/devices')).body
    expect(morning.filter((d) => d.state !== 'online' && d.state !== 'low_battery')).toEqual([])
    const after = (await p.api<Incident[]>('GET', '/api/incidents?state=active')).body
    expect(after.filter((i) => i.category === 'maintenance' || i.category === 'installation')).toEqual([])
  }, 180_000)
})
