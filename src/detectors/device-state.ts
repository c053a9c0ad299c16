/**
 * A device's state, pure and in one place (docs/operations.md §device states): the health tab,
 * the incident detail and the family page all show what this function says, from the same
 * facts, with the clock injected. The health detector (health.ts) raises its maintenance and
 * installation findings from the same rules.
 *
 * - `not_reporting_yet`: installed (registered) but never heard, no reading in the history
 *   either (已安装,尚未上报). Past the installation grace period it is an installation task.
 * - `offline`: its Last Will said the connection broke (离线).
 * - `silent`: no message for more than `offlineAfterIntervals` heartbeat intervals (无信号).
 * - `low_battery`: heard in time, battery under `lowBatteryBelow` % (电量低).
 * - `online`: heard in time (在线).
 */
import type { DetectorSettings } from './settings.js'

export const DEVICE_STATES = ['not_reporting_yet', 'offline', 'silent', 'low_battery', 'online'] as const
export type DeviceState = (typeof DEVICE_STATES)[number]

/** What is known of a device. `lastSeenAt` is its last message or reading (history included). */
export interface DeviceFacts {
  heartbeatS: number
  lastSeenAt: number | null
  /** false only after a Last Will; null when nothing said either way. */
  online: boolean | null
  battery: number | null
  /** When it was registered: the installation grace period counts from here. */
  createdAt: number
}

export type HealthRules = Pick<DetectorSettings['health'], 'offlineAfterIntervals' | 'lowBatteryBelow' | 'installGraceH'>

export interface DeviceStatus {
  state: DeviceState
  /** Never heard past the installation grace period: an installer's task, not a breakdown. */
  installOverdue: boolean
  /** Battery under the threshold, whatever the state (a silent device may also be low). */
  lowBattery: boolean
}

const HOUR = 3_600_000

/** The silence after which a device counts as silent: `offlineAfterIntervals` heartbeats. */
export function silenceAllowanceMs(heartbeatS: number, rules: Pick<HealthRules, 'offlineAfterIntervals'>): number {
  return rules.offlineAfterIntervals * heartbeatS * 1000
}

export function installGraceMs(rules: Pick<HealthRules, 'installGraceH'>): number {
  return rules.installGraceH * HOUR
}

export function deviceStatus(d: DeviceFacts, now: number, rules: HealthRules): DeviceStatus {
  const lowBattery = d.battery !== null && d.battery < rules.lowBatteryBelow
  if (d.lastSeenAt === null) {
    return { state: 'not_reporting_yet', installOverdue: now - d.createdAt > installGraceMs(rules), lowBattery: false }
  }
  const state: DeviceState =
    d.online === false ? 'offline' : now - d.lastSeenAt > silenceAllowanceMs(d.heartbeatS, rules) ? 'silent' : lowBattery ? 'low_battery' : 'online'
  return { state, installOverdue: false, lowBattery }
}

/** Worst first, for boards: what needs someone soonest on top. */
export const STATE_RANK: Record<DeviceState, number> = { offline: 0, silent: 1, low_battery: 2, not_reporting_yet: 3, online: 4 }

