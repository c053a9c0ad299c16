/**
 * Alert routing at the edge: each new incident climbs its escalation ladder until someone
 * acknowledges it. A step writes its notices to the outbox and its audit event in one
 * transaction with the ladder's position, so a restart mid-ladder neither skips a step nor
 * repeats one. The alarm path never waits for any of this: it runs after the commit, off the bus.
 */
import type { Logger } from 'pino'
import type { ChannelName, Notification } from '../delivery/channels/channel.js'
import type { Outbox } from '../delivery/outbox.js'
import { createScheduler } from '../detectors/scheduler.js'
import type { Incident, IncidentEvent } from '../incidents/model.js'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import type { Db } from '../store/database.js'
import { incidentRepository } from '../store/incidents.js'
import { outboxRepository } from '../store/outbox.js'
import { registryRepository } from '../store/registry.js'
import type { FamilyLinks } from './family-links.js'
import { ladderStep, type LadderStep } from './ladder.js'
import { compose } from './messages.js'
import { resolveDeliveries } from './recipients.js'
import { ladderFor, resolveRouting, type LadderName } from './settings.js'

export interface RoutingEvents {
  /** A ladder step that re-alerts the consoles of the incident's community. */
  'incident.escalated': { incident: Incident; step: string }
}

const OWNER = 'routing'

export function createRouting(deps: {
  db: Db
  incidents: Incidents
  outbox: Outbox
  links: FamilyLinks
  bus: EventBus<IncidentEvents & RoutingEvents>
  clock: Clock
  log: Logger
  /** Where family links point, e.g. https://anju.example.org */
  publicUrl: string
  linkTtlMs: number
  /** Channels this deployment has set up; a notice for another one is recorded as skipped, not queued to fail. */
  channels: ReadonlySet<ChannelName>
}) {
  const { db, incidents, outbox, links, bus, clock, log } = deps
  const scheduler = createScheduler(clock, (incidentId) => void run(incidentId))
  /** One step at a time per incident. */
  const chains = new Map<string, Promise<void>>()

  function run(incidentId: string): Promise<void> {
    const next = (chains.get(incidentId) ?? Promise.resolve())
      .then(() => runStep(incidentId))
      .catch((err: unknown) => log.error({ err, incidentId }, 'escalation step failed'))
    chains.set(incidentId, next)
    void next.finally(() => {
      if (chains.get(incidentId) === next) chains.delete(incidentId)
    })
    return next
  }

  async function begin(incident: Incident): Promise<void> {
    const ladder = ladderFor(incident.category, incident.priority)
    await db
      .insertInto('incident_ladders')
      .values({ incident_id: incident.id, ladder, started_at: incident.openedAt, next_step: 0, next_at: incident.openedAt, stopped_at: null })
      .onConflict((oc) => oc.column('incident_id').doNothing())
      .execute()
    await run(incident.id)
  }

  /**
   * Starts the incident's ladder over, from now: a new emergency on an acknowledged incident,
   * or a finding that makes a slow incident urgent (a long bathroom stay joins "no water").
   */
  async function restart(incident: Incident, ladder: LadderName, why: string): Promise<void> {
    const now = clock.now()
    await db
      .insertInto('incident_ladders')
      .values({ incident_id: incident.id, ladder, started_at: now, next_step: 0, next_at: now, stopped_at: null })
      .onConflict((oc) => oc.column('incident_id').doUpdateSet({ ladder, started_at: now, next_step: 0, next_at: now, stopped_at: null }))
      .execute()
    log.info({ incidentId: incident.id, ladder, why }, 'escalation started over')
    await run(incident.id)
  }

  async function onChange(incident: Incident, events: readonly IncidentEvent[]): Promise<void> {
    const kinds = new Set(events.map((e) => e.kind))
    if (kinds.has('opened')) return begin(incident)
    if (kinds.has('resolved')) return halt(incident, 'resolved')
    if (kinds.has('acknowledged')) return halt(incident, `acknowledged by ${incident.acknowledgedBy}`)
    if (incident.state !== 'open') return
    if (events.some((e) => e.kind === 'alarm' && e.detail.reopened === true)) return restart(incident, ladderFor(incident.category, incident.priority), 'a new alarm after acknowledgement')
    if (kinds.has('alarm') || kinds.has('finding')) {
      const wanted = ladderFor(incident.category, incident.priority)
      const row = await db.selectFrom('incident_ladders').select(['ladder', 'stopped_at']).where('incident_id', '=', incident.id).executeTakeFirst()
      if (wanted === 'urgent' && row?.ladder !== 'urgent') return restart(incident, wanted, 'the incident became urgent')
    }
  }

  async function halt(incident: Incident, why: string): Promise<void> {
    scheduler.schedule(incident.id, null)
    const r = await db.updateTable('incident_ladders').set({ stopped_at: clock.now(), next_at: null }).where('incident_id', '=', incident.id).where('stopped_at', 'is', null).executeTakeFirst()
    if (Number(r.numUpdatedRows) === 0) return
    const cancelled = await outboxRepository(db).cancelPending(incident.id)
    await incidents.note(incident.id, 'escalated', 'system:routing', { step: 'stopped', reason: why, cancelledNotices: cancelled })
  }

  async function runStep(incidentId: string): Promise<void> {
    const now = clock.now()
    const result = await db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('incident_ladders').selectAll().where('incident_id', '=', incidentId).executeTakeFirst()
      if (!row || row.stopped_at !== null) return null
      const incident = await incidentRepository(trx).get(incidentId)
      if (!incident || incident.state !== 'open') return null
      const registry = registryRepository(trx)
      const household = await registry.households.get(incident.householdId)
      const community = await registry.communities.get(incident.communityId)
      const routing = resolveRouting(community?.routing)
      const ladder = routing.ladders[row.ladder as LadderName]
      const step = ladderStep(ladder, Number(row.started_at), Number(row.next_step))
      if (!step) {
        await trx.updateTable('incident_ladders').set({ next_at: null }).where('incident_id', '=', incidentId).execute()
        return null
      }
      if (step.at > now) return { incident, step: null, nextAt: step.at, event: null }

      const contacts = await registry.contacts.list(incident.householdId)
      const reachable = resolveDeliveries({ targets: step.notify, contacts, routing, priority: incident.priority, now })
      const deliveries = reachable.filter((d) => deps.channels.has(d.channel))
      const skipped = reachable.filter((d) => !deps.channels.has(d.channel)).map((d) => ({ to: d.to.name, channel: d.channel, reason: 'channel not configured' }))
      const queue = outboxRepository(trx)
      let queued = 0
      for (const d of deliveries) {
        const contactId = d.recipientId.startsWith('contact:') ? d.recipientId.slice('contact:'.length) : null
        const contact = contactId ? contacts.find((c) => c.id === contactId) : undefined
        const link = contact ? familyLink(incidentId, contact.id, contact.viewLinkVersion, now) : undefined
        const message = compose(incident, household, link)
        const notification: Notification = {
          key: `${incidentId}:${row.started_at}:${step.label}:${d.recipientId}:${d.channel}`,
          incidentId,
          priority: incident.priority,
          to: d.to,
          title: message.title,
          text: message.text,
          ...(link ? { link } : {}),
          data: {
            incidentId,
            type: incident.type,
            category: incident.category,
            priority: incident.priority,
            householdId: incident.householdId,
            communityId: incident.communityId,
            elderName: household?.elderName ?? null,
            address: household?.address ?? null,
            openedAt: incident.openedAt,
            step: step.label,
          },
        }
        const fresh = await queue.enqueue({
          key: notification.key,
          incidentId,
          channel: d.channel,
          audience: d.audience,
          recipientId: d.recipientId,
          priority: incident.priority,
          notification,
          nextAttemptAt: d.notBefore,
          createdAt: now,
        })
        if (fresh) queued++
      }
      const following = ladderStep(ladder, Number(row.started_at), step.index + 1)
      await trx
        .updateTable('incident_ladders')
        .set({ next_step: step.index + 1, next_at: following?.at ?? null })
        .where('incident_id', '=', incidentId)
        .execute()
      const event: IncidentEvent = {
        incidentId,
        at: now,
        actor: 'system:routing',
        kind: 'escalated',
        deviceId: null,
        detail: {
          step: step.label,
          notify: step.notify,
          ladder: row.ladder,
          // Names and channels only: a phone number never goes into the audit trail in full.
          notices: deliveries.map((d) => ({ to: d.to.name, audience: d.audience, channel: d.channel, notBefore: d.notBefore > now ? d.notBefore : null })),
          queued,
          ...(skipped.length ? { skipped } : {}),
        },
      }
      await incidentRepository(trx).appendEvents([event])
      return { incident, step, nextAt: following?.at ?? null, event }
    })
    if (!result) return
    if (result.step && result.event) {
      bus.emit('incident.changed', { incident: result.incident, events: [result.event] })
      if (result.step.notify.includes('operators') && result.step.index > 0) bus.emit('incident.escalated', { incident: result.incident, step: result.step.label })
      void outbox.kick()
    }
    scheduler.schedule(incidentId, result.nextAt)
  }

  function familyLink(incidentId: string, contactId: string, version: number, now: number): string {
    const token = links.token({ incidentId, contactId, expiresAt: now + deps.linkTtlMs, version })
    return `${deps.publicUrl.replace(/\/$/, '')}/family/respond?t=${encodeURIComponent(token)}`
  }

  // Listening from construction on: an alarm recorded before start() still gets its ladder.
  const reacting = new Set<Promise<void>>()
  bus.on('incident.changed', OWNER, ({ incident, events }) => {
    // After the current I/O turn: the alarm's PUBACK and push go out before routing touches the store.
    const work = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => onChange(incident, events))
      .catch((err: unknown) => log.error({ err, incidentId: incident.id }, 'routing failed'))
    reacting.add(work)
    void work.finally(() => reacting.delete(work))
  })

  return {
    async start(): Promise<void> {
      scheduler.start()
      // Ladders that were climbing when the platform stopped carry on where they were.
      const open = await db.selectFrom('incident_ladders').select(['incident_id', 'next_at']).where('stopped_at', 'is', null).where('next_at', 'is not', null).execute()
      for (const l of open) {
        if (Number(l.next_at) <= clock.now()) void run(l.incident_id)
        else scheduler.schedule(l.incident_id, Number(l.next_at))
      }
      // An incident committed just before a crash may have no ladder yet: give it one.
      const unladdered = await db
        .selectFrom('incidents')
        .leftJoin('incident_ladders', 'incident_ladders.incident_id', 'incidents.id')
        .select('incidents.id')
        .where('incidents.state', '=', 'open')
        .where('incident_ladders.incident_id', 'is', null)
        .execute()
      for (const { id } of unladdered) {
        const incident = await incidents.get(id)
        if (incident) await begin(incident)
      }
    },

    async stop(): Promise<void> {
      bus.removeOwner(OWNER)
      scheduler.stop()
      await Promise.allSettled([...chains.values(), ...reacting])
    },

    /** Resolves when no step is running (tests). */
    async settle(): Promise<void> {
      while (chains.size > 0 || reacting.size > 0) await Promise.allSettled([...chains.values(), ...reacting])
    },

    /** The step an incident will climb next, for tests and the console. */
    async nextStep(incidentId: string): Promise<{ step: number; at: number | null; stopped: boolean } | null> {
      const row = await db.selectFrom('incident_ladders').selectAll().where('incident_id', '=', incidentId).executeTakeFirst()
      return row ? { step: Number(row.next_step), at: row.next_at == null ? null : Number(row.next_at), stopped: row.stopped_at !== null } : null
    },
  }
}

export type Routing = ReturnType<typeof createRouting>
export type { LadderStep }
