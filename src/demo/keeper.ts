/**
 * The demo district's devices stay alive while the demo runs: each sends its status heartbeat
 * (contract §status) through ingest, as an HTTP-connected device would, on the platform's clock
 * (so time-warp moves them too). Without this a fresh demo would turn silent within ten minutes
 * and fill the queue with offline incidents for devices that exist only as a demo
 * (docs/operations.md §device states). The simulator's presses still go through the broker.
 */
import type { Logger } from 'pino'
import type { Ingest } from '../ingest/ingest.js'
import { repeatEvery, type Clock } from '../shared/clock.js'
import type { RegistryRepository } from '../store/registry.js'
import { DEMO_COMMUNITY_IDS } from './seed.js'

/** How often the keeper looks; each device beats once per its heartbeat interval. */
const TICK_MS = 60_000

export function createDemoKeeper(deps: { registry: RegistryRepository; ingest: Ingest; clock: Clock; log: Logger }) {
  const { registry, ingest, clock, log } = deps
  const lastBeat = new Map<string, number>()
  let timer: { stop(): void } | null = null

  async function beat(): Promise<void> {
    const now = clock.now()
    const devices = await registry.devices.list({ communityIds: DEMO_COMMUNITY_IDS })
    for (const d of devices) {
      const last = lastBeat.get(d.id)
      if (last !== undefined && now - last < d.heartbeatS * 1000) continue
      const identity = await registry.devices.identity(d.id)
      if (!identity) continue
      lastBeat.set(d.id, now)
      const status = { online: true, ...(d.battery === null ? {} : { battery: d.battery }) }
      await ingest.handle(identity, 'status', new TextEncoder().encode(JSON.stringify(status)))
    }
  }

  const logged = () => beat().catch((err: unknown) => log.warn({ err }, 'demo heartbeats not sent'))

  return {
    async start(): Promise<void> {
      await logged()
      timer = repeatEvery(clock, TICK_MS, logged)
    },
    stop(): void {
      timer?.stop()
      timer = null
    },
  }
}
