/**
 * Last seen, online, battery and firmware per device. Written in batches off the alarm path:
 * a status or telemetry message only updates memory, and a timer flushes once a second.
 */
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../shared/clock.js'
import type { RegistryRepository } from '../store/registry.js'

export interface HealthUpdate {
  lastSeenAt: number
  online?: boolean
  battery?: number
  fw?: string
}

export function createDeviceHealth(deps: { registry: RegistryRepository; clock: Clock; log: Logger; flushEveryMs?: number }) {
  const { registry, clock, log } = deps
  const flushEveryMs = deps.flushEveryMs ?? 1000
  let pending = new Map<string, HealthUpdate>()
  let timer: TimerHandle | null = null

  async function flush(): Promise<void> {
    const batch = pending
    pending = new Map()
    for (const [deviceId, update] of batch) {
      try {
        await registry.devices.recordHealth(deviceId, update)
      } catch (err) {
        log.warn({ err, deviceId }, 'device health not recorded')
      }
    }
  }

  function schedule(): void {
    timer = clock.setTimeout(() => {
      void flush().finally(() => {
        if (timer) schedule()
      })
    }, flushEveryMs)
  }

  return {
    record(deviceId: string, update: HealthUpdate): void {
      const prev = pending.get(deviceId)
      pending.set(deviceId, { ...prev, ...update })
    },
    flush,
    start(): void {
      schedule()
    },
    async stop(): Promise<void> {
      if (timer) clock.clearTimeout(timer)
      timer = null
      await flush()
    },
  }
}

export type DeviceHealth = ReturnType<typeof createDeviceHealth>
