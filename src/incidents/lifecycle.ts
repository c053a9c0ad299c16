/**
 * The incident state machine, pure: (incident, command, actor, now) → { incident, events } or a
 * typed refusal. open → acknowledged → resolved; alarms and a resident's cancel attach to an
 * incident that is not yet resolved.
 */
import { CONDITION_KINDS, type Condition, type ConditionKind } from '../detectors/model.js'
import { CATEGORY, PRIORITY, type AlarmKind, type Incident, type IncidentEvent, type IncidentType, type Outcome } from './model.js'

export type Command =
  | { kind: 'acknowledge' }
  | { kind: 'resolve'; outcome: Outcome; note: string | null }
  | { kind: 'alarm'; alarm: AlarmKind; deviceId: string; messageId: string; skewMs?: number | null }
  | { kind: 'cancel'; deviceId: string; messageId: string }
  | { kind: 'finding'; condition: Condition }
  | { kind: 'condition_cleared'; key: string }

export type RefusalCode = 'ALREADY_ACKNOWLEDGED' | 'ALREADY_RESOLVED' | 'NOT_ACKNOWLEDGED'

export interface Refusal {
  code: RefusalCode
  message: string
}

export type TransitionResult = { ok: true; incident: Incident; events: IncidentEvent[] } | { ok: false; error: Refusal }

export interface OpenInput {
  id: string
  householdId: string
  communityId: string
  deviceId: string
  messageId: string
  alarm: AlarmKind
  /** Device clock minus platform clock, when the device sent a time (contract: the skew is recorded). */
  skewMs?: number | null
}

/** A just-opened incident: nobody has acknowledged, resolved or cleared anything yet. */
function freshIncident(
  at: { id: string; householdId: string; communityId: string },
  what: Pick<Incident, 'deviceId' | 'type' | 'priority' | 'conditions' | 'explanation'>,
  now: number,
): Incident {
  return {
    id: at.id,
    householdId: at.householdId,
    communityId: at.communityId,
    ...what,
    category: CATEGORY[what.type],
    state: 'open',
    cancelledByResident: false,
    openedAt: now,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    outcome: null,
    note: null,
    updatedAt: now,
    conditionCleared: false,
  }
}

export function openIncident(input: OpenInput, now: number): { incident: Incident; events: IncidentEvent[] } {
  const incident = freshIncident(input, { deviceId: input.deviceId, type: input.alarm, priority: PRIORITY[input.alarm], conditions: [], explanation: null }, now)
  const event: IncidentEvent = {
    incidentId: input.id,
    at: now,
    actor: `device:${input.deviceId}`,
    kind: 'opened',
    deviceId: input.deviceId,
    detail: { alarm: input.alarm, messageId: input.messageId, ...(input.skewMs == null ? {} : { skewMs: input.skewMs }) },
  }
  return { incident, events: [event] }
}

export interface FindingInput {
  id: string
  householdId: string
  communityId: string
  condition: Condition
}

export function openFromFinding(input: FindingInput, now: number): { incident: Incident; events: IncidentEvent[] } {
  const { condition } = input
  const deviceId = typeof condition.data.deviceId === 'string' ? condition.data.deviceId : ''
  const incident = freshIncident(input, { deviceId, type: condition.kind, priority: conditionPriority([condition.key]), conditions: [condition.key], explanation: condition.explanation }, now)
  const event: IncidentEvent = {
    incidentId: input.id,
    at: now,
    actor: 'system:detectors',
    kind: 'opened',
    deviceId: null,
    detail: { condition: condition.key, explanation: condition.explanation, data: condition.data },
  }
  return { incident, events: [event] }
}

const kindOf = (key: string) => key.split(':')[0] as ConditionKind

/** Severity rises when signals agree: no water and no movement together are high priority. */
export function conditionPriority(keys: readonly string[]): number {
  const kinds = keys.map(kindOf)
  let priority = Math.min(...kinds.map((k) => PRIORITY[k] ?? 4))
  const noWater = kinds.some((k) => k === 'no_water' || k === 'no_water_day')
  const noMovement = kinds.some((k) => k === 'inactivity' || k === 'morning_check')
  if (noWater && noMovement) priority = Math.min(priority, 2)
  return priority
}

export function transition(incident: Incident, command: Command, actor: string, now: number): TransitionResult {
  if (incident.state === 'resolved') {
    return refuse('ALREADY_RESOLVED', `incident ${incident.id} is already resolved`)
  }
  const event = (kind: IncidentEvent['kind'], deviceId: string | null, detail: Record<string, unknown>): IncidentEvent => ({
    incidentId: incident.id,
    at: now,
    actor,
    kind,
    deviceId,
    detail,
  })

  switch (command.kind) {
    case 'acknowledge':
      if (incident.state === 'acknowledged') {
        return refuse('ALREADY_ACKNOWLEDGED', `incident ${incident.id} was already acknowledged by ${incident.acknowledgedBy}`)
      }
      return {
        ok: true,
        incident: { ...incident, state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor, updatedAt: now },
        events: [event('acknowledged', null, {})],
      }

    case 'resolve':
      if (incident.state !== 'acknowledged') {
        return refuse('NOT_ACKNOWLEDGED', `incident ${incident.id} must be acknowledged before it is resolved`)
      }
      return {
        ok: true,
        incident: {
          ...incident,
          state: 'resolved',
          resolvedAt: now,
          resolvedBy: actor,
          outcome: command.outcome,
          note: command.note,
          updatedAt: now,
        },
        events: [event('resolved', null, { outcome: command.outcome, note: command.note })],
      }

    case 'alarm': {
      // A repeat press keeps the incident; a more urgent alarm raises its priority. A new
      // emergency on an acknowledged incident opens it again: whoever took the first call may
      // be gone, so the consoles sound and escalation starts over.
      const moreUrgent = PRIORITY[command.alarm] < incident.priority
      const reopen = incident.state === 'acknowledged' && CATEGORY[command.alarm] === 'emergency'
      return {
        ok: true,
        incident: {
          ...incident,
          type: moreUrgent ? command.alarm : incident.type,
          priority: Math.min(incident.priority, PRIORITY[command.alarm]),
          ...(reopen ? { state: 'open' as const, acknowledgedAt: null, acknowledgedBy: null, cancelledByResident: false } : {}),
          updatedAt: now,
        },
        events: [
          event('alarm', command.deviceId, {
            alarm: command.alarm,
            messageId: command.messageId,
            ...(command.skewMs == null ? {} : { skewMs: command.skewMs }),
            ...(reopen ? { reopened: true } : {}),
          }),
        ],
      }
    }

    case 'cancel':
      // Contract: a resident's cancel marks the incident; an operator still confirms and closes it.
      return {
        ok: true,
        incident: { ...incident, cancelledByResident: true, updatedAt: now },
        events: [event('cancelled_by_resident', command.deviceId, { messageId: command.messageId })],
      }

    case 'finding': {
      const { condition } = command
      // A condition already on the incident (a detector restarting, say) changes nothing.
      if (incident.conditions.includes(condition.key)) return { ok: true, incident, events: [] }
      const conditions = [...incident.conditions, condition.key]
      const priority = Math.min(incident.priority, conditionPriority(conditions))
      const type: IncidentType = PRIORITY[condition.kind] < PRIORITY[incident.type] ? condition.kind : incident.type
      return {
        ok: true,
        // A detector's incident names the device its latest explanation is about: the row and its text agree.
        incident: { ...incident, deviceId: findingDevice(incident, condition), conditions, priority, type, conditionCleared: false, explanation: condition.explanation, updatedAt: now },
        events: [event('finding', null, { condition: condition.key, explanation: condition.explanation, data: condition.data })],
      }
    }

    case 'condition_cleared': {
      if (!incident.conditions.includes(command.key)) return { ok: true, incident, events: [] }
      const conditions = incident.conditions.filter((k) => k !== command.key)
      // Never closed silently: with every condition gone it waits for an operator to confirm.
      return {
        ok: true,
        incident: { ...incident, conditions, conditionCleared: conditions.length === 0, updatedAt: now },
        events: [event('condition_cleared', null, { condition: command.key, allCleared: conditions.length === 0 })],
      }
    }
  }
}

function findingDevice(incident: Incident, condition: Condition): string {
  const alarmOpened = !(CONDITION_KINDS as readonly string[]).includes(incident.type)
  return !alarmOpened && typeof condition.data.deviceId === 'string' ? condition.data.deviceId : incident.deviceId
}

function refuse(code: RefusalCode, message: string): TransitionResult {
  return { ok: false, error: { code, message } }
}
