/**
 * Pure shaping of stored readings into what the charts and the family view show.
 * No I/O: the routes read the samples and call these.
 */
import type { Sample } from '../store/telemetry.js'

export const HOUR_MS = 3_600_000
/** Contract §telemetry: a presence sensor reports on change and at least every 10 minutes; past two intervals its last state is unknown. */
export const PRESENCE_STALE_MS = 20 * 60_000
/** Battery points kept on a chart: one an hour is more than a battery changes. */
export const BATTERY_STEP_MS = HOUR_MS

export interface HourlyWater {
  /** Start of the hour (epoch ms). */
  at: number
  /** Litres used in the hour by all meters together; null when no reading covers the hour. */
  litres: number | null
}

/**
 * Litres per hour from cumulative registers. The difference between two readings of a meter is
 * spread evenly over the time between them; a register that went back (replacement or rollover,
 * contract §telemetry) counts as no usage. Hours are whole hours of epoch time, which are local
 * hours in whole-hour zones such as Asia/Shanghai.
 */
export function waterPerHour(samples: readonly Sample[], from: number, to: number): HourlyWater[] {
  const first = Math.floor(from / HOUR_MS) * HOUR_MS
  const last = Math.floor(to / HOUR_MS) * HOUR_MS
  const litres: (number | null)[] = new Array((last - first) / HOUR_MS + 1).fill(null)
  for (const readings of byDevice(samples).values()) {
    for (let i = 1; i < readings.length; i++) {
      const a = readings[i - 1]!
      const b = readings[i]!
      const span = b.at - a.at
      if (span <= 0) continue
      const used = Math.max(0, b.value - a.value) * 1000
      const start = Math.max(Math.floor(a.at / HOUR_MS) * HOUR_MS, first)
      const end = Math.min(Math.floor(b.at / HOUR_MS) * HOUR_MS, last)
      for (let h = start; h <= end; h += HOUR_MS) {
        const overlap = Math.min(b.at, h + HOUR_MS) - Math.max(a.at, h)
        if (overlap <= 0) continue
        const slot = (h - first) / HOUR_MS
        litres[slot] = (litres[slot] ?? 0) + (used * overlap) / span
      }
    }
  }
  return litres.map((l, i) => ({ at: first + i * HOUR_MS, litres: l === null ? null : Math.round(l * 100) / 100 }))
}

export type PresenceState = 'motion' | 'occupied' | 'empty'
export interface PresenceSpan {
  from: number
  to: number
  state: PresenceState
}

/**
 * Per sensor, who was there over time: each reading holds until the next one, or for at most
 * PRESENCE_STALE_MS when the sensor went quiet (that time has no span: no data, not "empty").
 * Pass readings from `from - PRESENCE_STALE_MS` so the state at the window's start is known.
 */
export function presenceSpans(samples: readonly Sample[], from: number, to: number): Map<string, PresenceSpan[]> {
  const out = new Map<string, PresenceSpan[]>()
  for (const [deviceId, readings] of byDevice(samples)) {
    const spans: PresenceSpan[] = []
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!
      const next = readings[i + 1]
      const state: PresenceState = r.value2 === 1 ? 'motion' : r.value === 1 ? 'occupied' : 'empty'
      const start = Math.max(r.at, from)
      const end = Math.min(next ? Math.min(next.at, r.at + PRESENCE_STALE_MS) : r.at + PRESENCE_STALE_MS, to)
      if (end <= start) continue
      const prev = spans[spans.length - 1]
      if (prev && prev.state === state && prev.to === start) prev.to = end
      else spans.push({ from: start, to: end, state })
    }
    out.set(deviceId, spans)
  }
  return out
}

/** Battery per device as [at, percent] points, at most one per BATTERY_STEP_MS (the last of each step). */
export function batteryPoints(samples: readonly Sample[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>()
  for (const [deviceId, readings] of byDevice(samples)) {
    const points: [number, number][] = []
    for (const r of readings) {
      const prev = points[points.length - 1]
      if (prev && Math.floor(prev[0] / BATTERY_STEP_MS) === Math.floor(r.at / BATTERY_STEP_MS)) points[points.length - 1] = [r.at, r.value]
      else points.push([r.at, r.value])
    }
    out.set(deviceId, points)
  }
  return out
}

/** When water last ran: the newest reading whose register grew since the one before, or that reports flow. Readings newest first. */
export function lastWaterUse(newestFirst: readonly Sample[]): number | null {
  const byMeter = byDevice([...newestFirst].reverse())
  let last: number | null = null
  for (const readings of byMeter.values()) {
    for (let i = readings.length - 1; i >= 0; i--) {
      const r = readings[i]!
      const before = readings[i - 1]
      const flowing = (r.value2 ?? 0) > 0
      if (flowing || (before && r.value > before.value)) {
        if (last === null || r.at > last) last = r.at
        break
      }
    }
  }
  return last
}

function byDevice(samples: readonly Sample[]): Map<string, Sample[]> {
  const m = new Map<string, Sample[]>()
  for (const s of samples) {
    const list = m.get(s.deviceId)
    if (list) list.push(s)
    else m.set(s.deviceId, [s])
  }
  for (const list of m.values()) list.sort((a, b) => a.at - b.at)
  return m
}
