/**
 * Last seen, online, battery and firmware per device. Written in batches off the alarm path:
 * a status or telemetry message only updates memory, and a timer flushes once a second.
 */
import type { Logger } from 'pino'
import { repeatEvery, type Clock } from '../shared/clock.js'
import type { Db } from '../store/database.js'
import { registryRepository } from '../store/registry.js'

export interface HealthUpdate {
  lastSeenAt: number
  online?: boolean
  battery?: number
  fw?: string
}

export function createDeviceHealth(deps: { db: Db; clock: Clock; log: Logger; flushEveryMs?: number }) {
  const { db, clock, log } = deps
  const flushEveryMs = deps.flushEveryMs ?? 1000
  let pending = new Map<string, HealthUpdate>()
  let timer: { stop(): void } | null = null

  /** One transaction for the whole batch: one fsync a second, not one per device (it blocks the loop). */
  async function flush(): Promise<void> {
    if (pending.size === 0) return
    const batch = pending
    pending = new Map()
    try {
      await db.transaction().execute(async (trx) => {
        const devices = registryRepository(trx).devices
        for (const [deviceId, update] of batch) await devices.recordHealth(deviceId, update)
      })
    } catch (err) {
      log.warn({ err, devices: batch.size }, 'device health not recorded')
    }
  }

  return {
    record(deviceId: string, update: HealthUpdate): void {
      const prev = pending.get(deviceId)
      pending.set(deviceId, { ...prev, ...update })
    },
    flush,
    start(): void {
      timer = repeatEvery(clock, flushEveryMs, flush)
    },
    async stop(): Promise<void> {
      timer?.stop()
      timer = null
      await flush()
    },
  }
}

export type DeviceHealth = ReturnType<typeof createDeviceHealth>
