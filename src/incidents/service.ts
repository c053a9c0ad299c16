/**
 * The incident service: reads the store, calls the pure lifecycle, commits, then announces.
 * `raiseAlarm` is the alarm path's only store write: dedup + incident + events in one
 * transaction, so a PUBACK sent after it resolves means the alarm is durable. The green key
 * (`service`) writes a service ticket instead, in the same transaction (service-requests/).
 */
import type { Logger } from 'pino'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { newId } from '../shared/ids.js'
import type { Db } from '../store/database.js'
import { incidentRepository, type IncidentFilter } from '../store/incidents.js'
import { eventTime } from '../contract/index.js'
import type { Finding } from '../detectors/model.js'
import { openFromFinding, openIncident, transition, type Command, type FamilyCommand, type Refusal } from './lifecycle.js'
import { CATEGORY, type AlarmKind, type Incident, type IncidentEvent, type Outcome } from './model.js'
import { pressInTransaction, type TicketChange, type TicketEvents } from '../service-requests/service.js'
import type { ServiceTicket } from '../service-requests/model.js'

export interface IncidentChange {
  incident: Incident
  events: IncidentEvent[]
}

/** The alarm path also announces the service tickets the green key opens (service-requests/). */
export interface IncidentEvents extends TicketEvents {
  'incident.changed': IncidentChange
}

export interface AlarmInput {
  deviceId: string
  householdId: string
  communityId: string
  messageId: string
  alarm: AlarmKind | 'cancel'
  /** Platform receive time (contract: device `ts` is recorded, platform time orders the lifecycle). */
  receivedAt: number
  /** The device's own `ts`, if it sent one. */
  deviceTs?: number
}

export type AlarmOutcome =
  | { result: 'opened' | 'attached' | 'cancelled'; incident: Incident }
  /** The green key (`service`): a service ticket, never an incident (docs/operations.md §service requests). */
  | { result: 'ticket_opened' | 'ticket_joined'; ticket: ServiceTicket }
  | { result: 'duplicate' }
  | { result: 'cancel_without_incident' }

export type ActionResult = { ok: true; incident: Incident } | { ok: false; error: Refusal | { code: 'NOT_FOUND'; message: string } }

/** How long a message id means "the same message": well past any reconnect-and-retransmit. */
export const DEDUP_WINDOW_MS = 24 * 3_600_000

export interface IncidentsDeps {
  db: Db
  clock: Clock
  bus: EventBus<IncidentEvents>
  log: Logger
}

export function createIncidents({ db, clock, bus, log }: IncidentsDeps) {
  const repo = incidentRepository(db)

  async function raiseAlarm(input: AlarmInput): Promise<AlarmOutcome> {
    const outcome = await db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('device_messages')
        .values({ device_id: input.deviceId, message_id: input.messageId, received_at: input.receivedAt })
        // A message id seen within the retransmission window is the same message; an id reused
        // later (a counter reset after a battery change) is a new alarm, never a silent drop.
        .onConflict((oc) =>
          oc
            .columns(['device_id', 'message_id'])
            .doUpdateSet({ received_at: input.receivedAt })
            .where('device_messages.received_at', '<', input.receivedAt - DEDUP_WINDOW_MS),
        )
        .executeTakeFirst()
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
        log.warn({ deviceId: input.deviceId, messageId: input.messageId }, 'alarm retransmission ignored (same message id)')
        return { result: 'duplicate' } as const
      }

      const tx = incidentRepository(trx)
      const now = clock.now()
      const actor = `device:${input.deviceId}`
      const skewMs = input.deviceTs === undefined ? null : eventTime(input.deviceTs, input.receivedAt).skewMs
      if (input.alarm === 'cancel') {
        const active = await tx.active(input.householdId, 'emergency')
        // Contract: a cancel is for the last sos/fall ("pressed by mistake"), never a smoke or gas alarm.
        if (!active || (active.type !== 'sos' && active.type !== 'fall')) return { result: 'cancel_without_incident' } as const
        return { result: 'cancelled' as const, ...(await apply(tx, active, { kind: 'cancel', deviceId: input.deviceId, messageId: input.messageId }, actor, now)) }
      }

      if (input.alarm === 'service') {
        // Same transaction as the message id: a PUBACK means the request is durable, and a
        // retransmission counts once.
        return pressInTransaction(trx, { householdId: input.householdId, communityId: input.communityId, deviceId: input.deviceId, messageId: input.messageId }, now)
      }
      const active = await tx.active(input.householdId, 'emergency')
      if (active) {
        const command: Command = { kind: 'alarm', alarm: input.alarm, deviceId: input.deviceId, messageId: input.messageId, skewMs }
        return { result: 'attached' as const, ...(await apply(tx, active, command, actor, now)) }
      }
      const opened = openIncident(
        { id: newId('inc', now), householdId: input.householdId, communityId: input.communityId, deviceId: input.deviceId, messageId: input.messageId, alarm: input.alarm, skewMs },
        now,
      )
      await tx.insert(opened.incident)
      await tx.appendEvents(opened.events)
      return { result: 'opened' as const, ...opened }
    })

    if ('incident' in outcome) {
      log.info({ incidentId: outcome.incident.id, deviceId: input.deviceId, householdId: input.householdId, result: outcome.result }, 'alarm recorded')
      bus.emit('incident.changed', { incident: outcome.incident, events: outcome.events })
      return { result: outcome.result, incident: outcome.incident }
    }
    if ('ticket' in outcome) {
      log.info({ ticketId: outcome.ticket.id, deviceId: input.deviceId, householdId: input.householdId, result: outcome.result }, 'service request recorded')
      const change: TicketChange = { ticket: outcome.ticket, events: outcome.events }
      bus.emit('ticket.changed', change)
      return { result: outcome.result, ticket: outcome.ticket }
    }
    return outcome
  }

  /**
   * Detector findings into incidents, one transaction for them all (one commit, one fsync, however
   * many households): a raised condition opens the household's incident of its category or joins
   * the active one; a cleared condition is marked on it.
   */
  async function recordFindingsOf(groups: readonly { communityId: string; findings: readonly Finding[] }[]): Promise<IncidentChange[]> {
    if (groups.every((g) => g.findings.length === 0)) return []
    const changes = await db.transaction().execute(async (trx) => {
      const tx = incidentRepository(trx)
      const out: IncidentChange[] = []
      for (const { communityId, findings } of groups) for (const f of findings) {
        const now = clock.now()
        const category = CATEGORY[f.condition.kind]
        const active = await tx.active(f.householdId, category)
        if (f.change === 'cleared') {
          if (!active) continue
          const r = await apply(tx, active, { kind: 'condition_cleared', key: f.condition.key }, 'system:detectors', now)
          if (r.events.length) out.push(r)
        } else if (active) {
          const r = await apply(tx, active, { kind: 'finding', condition: f.condition }, 'system:detectors', now)
          if (r.events.length) out.push(r)
        } else {
          const opened = openFromFinding({ id: newId('inc', now), householdId: f.householdId, communityId, condition: f.condition }, now)
          await tx.insert(opened.incident)
          await tx.appendEvents(opened.events)
          out.push(opened)
        }
      }
      return out
    })
    for (const change of changes) {
      // Debug, not info: a district run records thousands, and the incident's trail keeps each one.
      log.debug({ incidentId: change.incident.id, householdId: change.incident.householdId, events: change.events.map((e) => e.kind) }, 'finding recorded')
      bus.emit('incident.changed', change)
    }
    return changes
  }

  /** One household's (or one community's) findings. */
  const recordFindings = (communityId: string, findings: readonly Finding[]) => recordFindingsOf([{ communityId, findings }])

  async function act(id: string, command: Command, actor: string): Promise<ActionResult> {
    const result = await db.transaction().execute(async (trx) => {
      const tx = incidentRepository(trx)
      const incident = await tx.get(id)
      if (!incident) return { ok: false, error: { code: 'NOT_FOUND', message: `incident ${id} does not exist` } } as const
      const next = transition(incident, command, actor, clock.now())
      if (!next.ok || next.events.length === 0) return next
      await tx.update(next.incident)
      await tx.appendEvents(next.events)
      return next
    })
    if (!result.ok) return result
    if (result.events.length === 0) return { ok: true, incident: result.incident }
    log.info({ incidentId: id, actor, state: result.incident.state }, 'incident updated')
    bus.emit('incident.changed', { incident: result.incident, events: result.events })
    return { ok: true, incident: result.incident }
  }

  /** Adds an event to the audit trail without changing the incident, and announces it. */
  async function note(id: string, kind: IncidentEvent['kind'], actor: string, detail: Record<string, unknown>): Promise<void> {
    // In a transaction: the event's position is read and written atomically (delivery results arrive together).
    const written = await db.transaction().execute(async (trx) => {
      const tx = incidentRepository(trx)
      const incident = await tx.get(id)
      if (!incident) return null
      const event: IncidentEvent = { incidentId: id, at: clock.now(), actor, kind, deviceId: null, detail }
      await tx.appendEvents([event])
      return { incident, events: [event] }
    })
    if (written) bus.emit('incident.changed', written)
  }

  return {
    raiseAlarm,
    recordFindings,
    recordFindingsOf,
    note,
    acknowledge: (id: string, actor: string) => act(id, { kind: 'acknowledge' }, actor),
    resolve: (id: string, actor: string, outcome: Outcome, note: string | null) => act(id, { kind: 'resolve', outcome, note }, actor),
    /** A family member's answer from their link (family/status.ts familyCommand): never an acknowledgement. */
    familyAnswer: (id: string, command: FamilyCommand, actor: string) => act(id, command, actor),
    /** Their time to arrive has passed (routing/family-watch.ts); nothing happens if they arrived meanwhile. */
    familyOverdue: (id: string) => act(id, { kind: 'family_overdue' }, 'system:family-watch'),
    familyAwaited: () => repo.familyAwaited(),
    get: (id: string) => repo.get(id),
    list: (filter: IncidentFilter) => repo.list(filter),
    events: (id: string) => repo.events(id),
    alarmDevices: (id: string) => repo.alarmDevices(id),
  }
}

export type Incidents = ReturnType<typeof createIncidents>

async function apply(tx: ReturnType<typeof incidentRepository>, incident: Incident, command: Command, actor: string, now: number) {
  const next = transition(incident, command, actor, now)
  // Alarms, cancels and findings only meet active incidents, which accept them; anything else is a bug.
  if (!next.ok) throw new Error(`unexpected refusal: ${next.error.message}`)
  if (next.events.length === 0) return { incident: next.incident, events: next.events }
  await tx.update(next.incident)
  await tx.appendEvents(next.events)
  return { incident: next.incident, events: next.events }
}
