/**
 * A week of plausible readings for the demo district, so a newcomer's console draws its charts
 * at once: water at the hours people wash and cook, a bedroom sensor that sees sleep and the
 * day, batteries that slowly drain. Deterministic, no randomness: the same week every time.
 */
import type { Sample } from '../store/telemetry.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
/** The demo district is in Shanghai (UTC+8, no daylight saving). */
const SHANGHAI_OFFSET = 8 * HOUR

/** Litres per half hour by local hour: washing in the morning, cooking at noon and evening. */
const LITRES_BY_HOUR = [0, 0, 0, 0, 0, 0, 6, 14, 10, 3, 2, 8, 10, 2, 1, 2, 3, 9, 12, 6, 4, 8, 2, 0]

/** 0 ≤ x < 1 from an integer, the same every run. */
const wobble = (i: number) => {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453
  return x - Math.floor(x)
}
const localHour = (at: number) => Math.floor(((at + SHANGHAI_OFFSET) % DAY) / HOUR)

export function demoHistory(h: { householdId: string; n: number; meter: string; sensor: string; button: string }, now: number): Sample[] {
  const samples: Sample[] = []
  const start = Math.floor((now - 7 * DAY) / (30 * MIN)) * 30 * MIN
  const base = { householdId: h.householdId }

  let total = 100 + h.n * 37.5
  for (let at = start, i = 0; at < now; at += 30 * MIN, i++) {
    const litres = LITRES_BY_HOUR[localHour(at)]! * (0.5 + wobble(i + h.n * 1000))
    total += litres / 1000
    samples.push({ ...base, deviceId: h.meter, kind: 'water', at, value: Math.round(total * 1000) / 1000, value2: 0 })
  }

  for (let at = start, i = 0; at < now; at += 10 * MIN, i++) {
    const hour = localHour(at)
    const w = wobble(i * 7 + h.n)
    // Asleep 22:00–06:00 (there, mostly still); by day in the bedroom now and then.
    const night = hour >= 22 || hour < 6
    const occupied = night ? true : w < 0.35
    const motion = night ? w < 0.08 : occupied && w < 0.3
    samples.push({ ...base, deviceId: h.sensor, kind: 'presence', at, value: occupied ? 1 : 0, value2: motion ? 1 : 0 })
  }

  const levels: [string, number][] = [[h.button, 88 - h.n * 3], [h.meter, 72 - h.n], [h.sensor, 60 - h.n * 2]]
  for (const [deviceId, from] of levels) {
    for (let at = start, i = 0; at < now; at += 6 * HOUR, i++) {
      samples.push({ ...base, deviceId, kind: 'battery', at, value: Math.round(from - i * 0.15), value2: null })
    }
  }
  return samples
}
