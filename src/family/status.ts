/**
 * What a family member is shown of their elder's home, decided purely from the registry's
 * devices and the incidents: which devices need attention, and who is handling an incident.
 * The family sees states and names only, never secrets, medical notes or key-safe codes.
 */
import type { DetectorSettings } from '../detectors/settings.js'
import type { Category, Incident, IncidentEvent } from '../incidents/model.js'
import type { Device } from '../store/registry.js'

export type DeviceProblem = 'offline' | 'never_seen' | 'low_battery'

/** Offline by Last Will or by a heartbeat overdue by more than the allowed intervals (contract §status), with the health detector's settings. */
export function deviceProblem(d: Pick<Device, 'lastSeenAt' | 'online' | 'heartbeatS' | 'battery'>, now: number, health: Pick<DetectorSettings['health'], 'offlineAfterIntervals' | 'lowBatteryBelow'>): DeviceProblem | null {
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

export const FAMILY_ANSWERS = ['on_my_way', 'called_fine'] as const
export type FamilyAnswer = (typeof FAMILY_ANSWERS)[number]

export interface FamilyIncidentRow {
  id: string
  type: string
  category: string
  state: Incident['state']
  openedAt: number
  acknowledgedAt: number | null
  resolvedAt: number | null
  outcome: string | null
  handledBy: string | null
  handledByKind: HandlerKind | null
  answerable: boolean
  responses: { by: string; relation: string; answer: FamilyAnswer; at: number }[]
}

/**
 * One incident as the family reads it. `operatorName` is the display name of the operator who
 * took it (null if unknown: then the login name is shown, never "nobody"); `mayAnswer` is
 * whether this link may answer it at all (an incident link only its own incident).
 */
export function familyIncidentRow(i: Incident, events: readonly IncidentEvent[], operatorName: string | null, mayAnswer: boolean): FamilyIncidentRow {
  const handler = handlerOf(i)
  const handledBy = handler ? (handler.kind === 'operator' ? (operatorName ?? handler.id) : handler.id) : null
  const responses = events.flatMap((e) => {
    const d = e.detail as { answer?: unknown; contact?: unknown; relation?: unknown }
    if (e.kind !== 'family_response' || !FAMILY_ANSWERS.includes(d.answer as FamilyAnswer)) return []
    return [{ by: String(d.contact ?? ''), relation: String(d.relation ?? ''), answer: d.answer as FamilyAnswer, at: e.at }]
  })
  return {
    id: i.id,
    type: i.type,
    category: i.category,
    state: i.state,
    openedAt: i.openedAt,
    acknowledgedAt: i.acknowledgedAt,
    resolvedAt: i.resolvedAt,
    outcome: i.outcome,
    handledBy,
    handledByKind: handler && handledBy ? handler.kind : null,
    answerable: mayAnswer && i.state !== 'resolved' && ANSWERABLE_CATEGORIES.has(i.category),
    responses,
  }
}
