/**
 * The demo district's devices stay alive while the demo runs: each sends its status heartbeat
 * (contract §status) through ingest, as an HTTP-connected device would, on the platform's clock
 * (so time-warp moves them too). Without this a fresh demo would turn silent within ten minutes
 * and fill the queue with offline incidents for devices that exist only as a demo
 * (docs/operations.md §device states). The simulator's presses still go through the broker.
 */
import type { Logger } from 'pino'
import type { Ingest } from '../ingest/ingest.js'
import type { Clock, TimerHandle } from '../shared/clock.js'
import { inFlight } from '../shared/in-flight.js'
import type { DeviceIdentity, RegistryRepository } from '../store/registry.js'
import { DEMO_COMMUNITY_IDS } from './seed.js'

/** How often the keeper looks; each device beats once per its heartbeat interval. */
const TICK_MS = 60_000
/**
 * Time-warp moves the clock at most this far before the beats sent meanwhile reach the detectors
 * (app.ts timeTravel): well inside the shortest silence allowance (two 300 s heartbeats), so a
 * long advance never finds the demo silent.
 */
export const DEMO_WARP_STEP_MS = 4 * 60_000

export function createDemoKeeper(deps: { registry: RegistryRepository; ingest: Ingest; clock: Clock; log: Logger }) {
  const { registry, ingest, clock, log } = deps
  const lastBeat = new Map<string, number>()
  let devices: { identity: DeviceIdentity; heartbeatS: number; battery: number | null }[] = []
  let timer: TimerHandle | null = null
  const beats = inFlight()

  /** The demo's devices, read again each tick for the next one (a device removed stops beating). */
  async function refresh(): Promise<void> {
    const listed = await registry.devices.list({ communityIds: DEMO_COMMUNITY_IDS })
    const next: typeof devices = []
    for (const d of listed) {
      const identity = await registry.devices.identity(d.id)
      if (identity) next.push({ identity, heartbeatS: d.heartbeatS, battery: d.battery })
    }
    devices = next
  }

  /**
   * Synchronous on purpose: the next tick is armed and each beat handed to ingest (which stamps
   * it with the clock at once) before anything awaits, so on the virtual clock a long advance
   * beats at every interval on the way, not once at its end.
   */
  function tick(): void {
    timer = clock.setTimeout(tick, TICK_MS)
    const now = clock.now()
    for (const d of devices) {
      const last = lastBeat.get(d.identity.id)
      if (last !== undefined && now - last < d.heartbeatS * 1000) continue
      lastBeat.set(d.identity.id, now)
      const status = { online: true, ...(d.battery === null ? {} : { battery: d.battery }) }
      void beats.track(ingest.handle(d.identity, 'status', new TextEncoder().encode(JSON.stringify(status)))).catch((err: unknown) => log.warn({ err }, 'demo heartbeat not sent'))
    }
    void refresh().catch((err: unknown) => log.warn({ err }, 'demo devices not read'))
  }

  return {
    async start(): Promise<void> {
      await refresh()
      tick()
    },
    /** Resolves once the beats sent so far have been taken by ingest. */
    settle: () => beats.settle(),
    stop(): void {
      if (timer) clock.clearTimeout(timer)
      timer = null
    },
  }
}
