/**
 * Last seen, online, battery and firmware per device. Written in batches off the alarm path:
 * a status or telemetry message only updates memory, and a timer flushes once a second.
 */
import type { Logger } from 'pino'
import { repeatEvery, type Clock } from '../shared/clock.js'
import { nextTurn } from '../shared/next-turn.js'
import type { Db } from '../store/database.js'
import { registryRepository, type HealthFields } from '../store/registry.js'

/** Devices per statement; the loop turns between statements, so an alarm waits for one at most. */
const BATCH = 500

export function createDeviceHealth(deps: { db: Db; clock: Clock; log: Logger; flushEveryMs?: number }) {
  const { db, clock, log } = deps
  const flushEveryMs = deps.flushEveryMs ?? 1000
  const devices = registryRepository(db).devices
  let pending = new Map<string, HealthFields>()
  let timer: { stop(): void } | null = null

  /** One flush at a time (shutdown's may meet the timer's), so a device's older figures never land last. */
  let flushing: Promise<void> = Promise.resolve()
  const flush = (): Promise<void> => (flushing = flushing.then(flushOnce))

  /** A statement per 500 devices: a second's worth at district scale is one fsync each, not one per device. */
  async function flushOnce(): Promise<void> {
    if (pending.size === 0) return
    const batch = [...pending]
    pending = new Map()
    for (let i = 0; i < batch.length; i += BATCH) {
      if (i > 0) await nextTurn()
      try {
        await devices.recordHealth(batch.slice(i, i + BATCH))
      } catch (err) {
        log.warn({ err, devices: Math.min(BATCH, batch.length - i) }, 'device health not recorded')
      }
    }
  }

  return {
    record(deviceId: string, update: HealthFields): void {
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
