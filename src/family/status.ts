/**
 * What a family member is shown of their elder's home, decided purely from the registry's
 * devices and the incidents: which devices need attention, and who is handling an incident.
 * The family sees states and names only, never secrets, medical notes or key-safe codes.
 */
import type { DetectorSettings } from '../detectors/settings.js'
import type { Category, Incident } from '../incidents/model.js'
import type { Device } from '../store/registry.js'

export type DeviceProblem = 'offline' | 'never_seen' | 'low_battery'

/** Offline by Last Will or by a heartbeat overdue by more than the allowed intervals (contract §status), with the health detector's settings. */
export function deviceProblem(d: Device, now: number, health: Pick<DetectorSettings['health'], 'offlineAfterIntervals' | 'lowBatteryBelow'>): DeviceProblem | null {
  if (d.lastSeenAt === null) return 'never_seen'
  if (d.online === false || now - d.lastSeenAt > health.offlineAfterIntervals * d.heartbeatS * 1000) return 'offline'
  if (d.battery !== null && d.battery < health.lowBatteryBelow) return 'low_battery'
  return null
}

export type HandlerKind = 'operator' | 'family'

/** The actor who took the incident: `user:<username>` is an operator, `family:<name>` a family member; the system takes nothing. */
export function handlerOf(incident: Pick<Incident, 'acknowledgedBy' | 'resolvedBy'>): { kind: HandlerKind; id: string } | null {
  const actor = incident.acknowledgedBy ?? incident.resolvedBy
  if (!actor) return null
  const [kind, id] = actor.split(/:(.*)/s)
  if (kind === 'user' && id) return { kind: 'operator', id }
  if (kind === 'family' && id) return { kind: 'family', id }
  return null
}

/**
 * What the family is shown: what happened to the elder. Maintenance (batteries, offline devices)
 * and property (leaks) are the installers' and 物业's tasks; the family sees device problems as
 * device states instead.
 */
export const FAMILY_CATEGORIES: ReadonlySet<Category> = new Set(['emergency', 'wellbeing', 'visit', 'service'])
/** A family member's "I'm on my way" helps with these; a service request (meals, cleaning) is the community's. */
export const ANSWERABLE_CATEGORIES: ReadonlySet<Category> = new Set(['emergency', 'wellbeing', 'visit'])
