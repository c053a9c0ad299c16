/**
 * Per-device counters of what was accepted, dropped and refused. Kept in memory: they answer
 * "is this device misbehaving right now", and the logs keep each reason.
 */
export type Counter = 'accepted' | 'duplicate' | 'dropped' | 'refused'

/** The one entry that refusals before login are counted on (docs/security.md §counting). */
export const NOT_LOGGED_IN = '(not logged in)'

export interface DeviceCounters {
  accepted: number
  duplicate: number
  dropped: number
  refused: number
  lastReason: string | null
}

export function createIngestStats() {
  const perDevice = new Map<string, DeviceCounters>()
  const totals: Record<Counter, number> = { accepted: 0, duplicate: 0, dropped: 0, refused: 0 }

  return {
    count(deviceId: string, counter: Counter, reason?: string): void {
      totals[counter]++
      let c = perDevice.get(deviceId)
      if (!c) {
        c = { accepted: 0, duplicate: 0, dropped: 0, refused: 0, lastReason: null }
        perDevice.set(deviceId, c)
      }
      c[counter]++
      if (reason) c.lastReason = reason
    },
    device(deviceId: string): DeviceCounters | undefined {
      const c = perDevice.get(deviceId)
      return c && { ...c }
    },
    /** Counts over every device (metrics). */
    totals: (): Record<Counter, number> => ({ ...totals }),
    snapshot() {
      return { totals: { ...totals }, devices: Object.fromEntries([...perDevice].map(([id, c]) => [id, { ...c }])) }
    },
  }
}

export type IngestStats = ReturnType<typeof createIngestStats>
