/**
 * The incident state machine, pure: (incident, command, actor, now) → { incident, events } or a
 * typed refusal. open → acknowledged → resolved; alarms and a resident's cancel attach to an
 * incident that is not yet resolved.
 */
import { CONDITION_KINDS, type Condition, type ConditionKind } from '../detectors/model.js'
import { CATEGORY, FAMILY_OUTCOME, PRIORITY, type AlarmKind, type Incident, type IncidentEvent, type IncidentType, type Outcome } from './model.js'

/** The family member answering, as their link names them. */
export interface FamilyMember {
  contactId: string
  name: string
  relation: string
}

export type Command =
  | { kind: 'acknowledge' }
  | { kind: 'resolve'; outcome: Outcome; note: string | null }
  | { kind: 'alarm'; alarm: AlarmKind; deviceId: string; messageId: string; skewMs?: number | null }
  | { kind: 'cancel'; deviceId: string; messageId: string }
  | { kind: 'finding'; condition: Condition }
  | { kind: 'condition_cleared'; key: string }
  /** 我去看看: on the way, expected by `dueAt`. The incident stays with the operators. */
  | { kind: 'family_en_route'; who: FamilyMember; dueAt: number; detail: Record<string, unknown> }
  /** 已到达 (`safe`: and she is well); `settle` closes the incident (the community's policy, decided by the caller). */
  | { kind: 'family_arrived'; who: FamilyMember; safe: boolean; settle: boolean; detail: Record<string, unknown> }
  /** 已电话联系,老人平安: a note on the trail, or the incident's end where `settle`. */
  | { kind: 'family_called'; who: FamilyMember; settle: boolean; detail: Record<string, unknown> }
  /** The time to arrive has passed with no arrival: the operators are alerted again. */
  | { kind: 'family_overdue' }

/** The commands a family member's answer becomes (family/status.ts familyCommand). */
export type FamilyCommand = Extract<Command, { kind: 'family_en_route' | 'family_arrived' | 'family_called' }>

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
    familyResponse: null,
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

    case 'family_en_route': {
      const { who } = command
      const familyResponse = { contactId: who.contactId, contactName: who.name, relation: who.relation, state: 'en_route' as const, since: now, dueAt: command.dueAt, arrivedAt: null }
      return {
        ok: true,
        incident: { ...incident, familyResponse, updatedAt: now },
        events: [event('family_en_route', null, { ...command.detail, dueAt: command.dueAt })],
      }
    }

    case 'family_arrived': {
      const { who } = command
      const since = incident.familyResponse?.contactId === who.contactId ? incident.familyResponse.since : now
      const familyResponse = { contactId: who.contactId, contactName: who.name, relation: who.relation, state: 'arrived' as const, since, dueAt: null, arrivedAt: now }
      const arrived = { ...incident, familyResponse, updatedAt: now }
      const events = [event('family_arrived', null, { ...command.detail, safe: command.safe })]
      if (!command.settle) return { ok: true, incident: arrived, events }
      return { ok: true, incident: settled(arrived, actor, now), events: [...events, event('resolved', null, { outcome: FAMILY_OUTCOME, note: null })] }
    }

    case 'family_called': {
      const events = [event('family_response', null, command.detail)]
      if (!command.settle) return { ok: true, incident, events }
      return { ok: true, incident: settled(incident, actor, now), events: [...events, event('resolved', null, { outcome: FAMILY_OUTCOME, note: null })] }
    }

    case 'family_overdue': {
      const f = incident.familyResponse
      // Arrived meanwhile, or on the way again with a later time: nothing is late.
      if (!f || f.state !== 'en_route' || f.dueAt === null || f.dueAt > now) return { ok: true, incident, events: [] }
      const minutes = Math.round((f.dueAt - f.since) / 60_000)
      return {
        ok: true,
        // At least high priority: an open incident sounds on the consoles again (docs/operations.md §family).
        incident: { ...incident, familyResponse: { ...f, state: 'overdue' }, priority: Math.min(incident.priority, 2), updatedAt: now },
        events: [
          event('family_overdue', null, {
            contact: f.contactName,
            relation: f.relation,
            since: f.since,
            dueAt: f.dueAt,
            text: { zh: `家属 ${f.contactName} ${minutes} 分钟内未确认到达`, en: `${f.contactName} (family) has not confirmed arrival within ${minutes} min` },
          }),
        ],
      }
    }
  }
}

/** Closed by the family's word (only where the caller's policy allows): resolvedBy is the family member, acknowledgedAt stays the operators'. */
function settled(incident: Incident, actor: string, now: number): Incident {
  return { ...incident, state: 'resolved', resolvedAt: now, resolvedBy: actor, outcome: FAMILY_OUTCOME, note: null, updatedAt: now }
}

function findingDevice(incident: Incident, condition: Condition): string {
  const alarmOpened = !(CONDITION_KINDS as readonly string[]).includes(incident.type)
  return !alarmOpened && typeof condition.data.deviceId === 'string' ? condition.data.deviceId : incident.deviceId
}

function refuse(code: RefusalCode, message: string): TransitionResult {
  return { ok: false, error: { code, message } }
}
