import type { DetectorSettings } from './settings.js'

/** A registered device of the household, as the detectors need it. */
export interface DeviceInfo {
  kind: string
  room: string | null
  heartbeatS: number
  registeredAt: number
}

/** What every detector's evaluation may read besides its own state. */
export interface EvalContext {
  now: number
  settings: DetectorSettings
  /**
   * Start of trustworthy observation: when monitoring began, or when away mode ended.
   * A rule never looks back before it (an elder back from hospital is not "12 h inactive").
   */
  observedFrom: number
  devices: Readonly<Record<string, DeviceInfo>>
  /** When this platform process started: device silence during a platform outage is not counted. */
  runningSince?: number
}

export const MINUTE = 60_000

/**
 * The sooner of `next` and `t`, counting only instants after `now`; null for none. The next-check
 * functions run at every step: a running minimum, not an array of candidates. (Nor a closure per
 * call: under tsx, which keeps function names, each one costs an Object.defineProperty.)
 */
export function soonest(next: number | null, t: number | null, now: number): number | null {
  return t !== null && t > now && (next === null || t < next) ? t : next
}

/** The longest a PIR holds "occupied" after it last saw movement (vendors: 2 to 5 minutes). */
export const PIR_HOLD_MS = 5 * MINUTE

/** Drops what unregistered devices said, so a household that replaces devices keeps a small state. */
export function registeredOnly<T>(entries: Record<string, T>, ctx: EvalContext): Record<string, T> {
  // Nearly always all are registered: no copy to filter (this runs for every reading).
  for (const id in entries) if (!(id in ctx.devices)) return Object.fromEntries(Object.entries(entries).filter(([id]) => id in ctx.devices))
  return entries
}
