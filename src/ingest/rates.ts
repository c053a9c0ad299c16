/**
 * How fast one device may publish (docs/security.md §rates): a token bucket per device that
 * proved who it is, on the platform clock — a device's rate is a fact of its own timeline, so
 * on the virtual clock a simulated day is measured in simulated seconds. Only ingest asks, and
 * only for what may be dropped: an alarm is recorded whatever the rate (it still spends a token).
 */
export interface RateSettings {
  /** Messages a second, sustained. */
  perSecond: number
  /** Messages at once after a quiet spell (a meter uploading a day of buffered readings). */
  burst: number
}

export function createDeviceRates(settings: RateSettings, now: () => number) {
  const { perSecond, burst } = settings
  /** Only devices that logged in (or proved their secret over HTTP): bounded by the registry. */
  const buckets = new Map<string, { tokens: number; at: number }>()

  /** The device's bucket, filled for the time since it was last used. */
  function bucket(deviceId: string): { tokens: number; at: number } {
    const t = now()
    const b = buckets.get(deviceId)
    if (!b) {
      const fresh = { tokens: burst, at: t }
      buckets.set(deviceId, fresh)
      return fresh
    }
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, t - b.at) / 1000) * perSecond)
    b.at = t
    return b
  }

  return {
    /** Spends a token for this message; false (and nothing spent) when the device is over its rate. */
    take(deviceId: string): boolean {
      const b = bucket(deviceId)
      if (b.tokens < 1) return false
      b.tokens -= 1
      return true
    },
    /** Spends a token whatever is left: an alarm is never held back, but counts toward the rate. */
    spend(deviceId: string): void {
      const b = bucket(deviceId)
      // A storm of alarms holds its telemetry back for at most a burst's worth of time.
      b.tokens = Math.max(-burst, b.tokens - 1)
    },
    /** Seconds until the device may send again (HTTP Retry-After). */
    retryAfterS(deviceId: string): number {
      const b = buckets.get(deviceId)
      if (!b || b.tokens >= 1) return 0
      return Math.max(1, Math.ceil((1 - b.tokens) / perSecond))
    },
  }
}

export type DeviceRates = ReturnType<typeof createDeviceRates>
