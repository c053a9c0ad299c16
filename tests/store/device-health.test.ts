/** Device health reaches the registry in batches (ingest/device-health.ts), on both stores. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pino from 'pino'
import { createDeviceHealth } from '../../src/ingest/device-health.js'
import { systemClock } from '../../src/shared/clock.js'
import { registryRepository } from '../../src/store/registry.js'
import { provision, startPlatform, type TestPlatform } from '../helpers/platform.js'

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

describe('device health in the registry', () => {
  it('writes what each update says and keeps the fields it leaves out', async () => {
    const a = await provision(p)
    const b = await provision(p, { communityId: a.communityId })
    const devices = registryRepository(p.app.db).devices
    await devices.recordHealth([
      [a.device.id, { lastSeenAt: 1_800_000_000_000, online: true, battery: 76.4, fw: '1.2.0' }],
      [b.device.id, { lastSeenAt: 1_800_000_000_500, online: false }],
      ['no-such-device', { lastSeenAt: 1_800_000_000_000, battery: 10 }],
    ])
    expect(await devices.get(a.device.id)).toMatchObject({ lastSeenAt: 1_800_000_000_000, online: true, battery: 76, fw: '1.2.0' })
    expect(await devices.get(b.device.id)).toMatchObject({ lastSeenAt: 1_800_000_000_500, online: false, battery: null, fw: null })

    await devices.recordHealth([[a.device.id, { lastSeenAt: 1_800_000_060_000 }]])
    expect(await devices.get(a.device.id)).toMatchObject({ lastSeenAt: 1_800_000_060_000, online: true, battery: 76, fw: '1.2.0' })
    expect(await devices.get('no-such-device')).toBeUndefined()
  })

  it('flushes more devices than one statement holds, each with its own figures', async () => {
    const fx = await provision(p)
    const devices = registryRepository(p.app.db).devices
    const ids = Array.from({ length: 1_203 }, (_, i) => `wm-health-${i}`)
    await devices.insertMany(
      ids.map((id) => ({
        device: { id, householdId: fx.householdId, kind: 'water', room: null, heartbeatS: 3600, lastSeenAt: null, online: null, battery: null, fw: null, createdAt: 1_800_000_000_000 },
        secretHash: 'sha256:unused',
      })),
    )
    const health = createDeviceHealth({ db: p.app.db, clock: systemClock(), log: pino({ level: 'silent' }) })
    ids.forEach((id, i) => health.record(id, { lastSeenAt: 1_800_000_000_000 + i, battery: i % 100 }))
    health.record(ids[7]!, { lastSeenAt: 1_800_000_999_999, online: true })
    await health.flush()
    for (const i of [0, 7, 499, 500, 1_000, 1_202]) {
      expect(await devices.get(ids[i]!)).toMatchObject({ lastSeenAt: i === 7 ? 1_800_000_999_999 : 1_800_000_000_000 + i, battery: i % 100, online: i === 7 ? true : null })
    }
  })
})
