/**
 * The family's closed loop (docs/operations.md §family): a family member who said 我去看看 is
 * expected within the community's `routing.family.arriveWithinMin`. If nobody confirms arrival
 * (已到达) by then, the incident is marked 家属未按时到达 on its trail, raised to at least high
 * priority, and the consoles are alerted again (`incident:alert`, step `family_overdue`).
 * Due times live on the incident (its familyResponse), so a restart awaits the same arrivals.
 */
import type { Logger } from 'pino'
import { createScheduler } from '../detectors/scheduler.js'
import type { Incident } from '../incidents/model.js'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { inFlight } from '../shared/in-flight.js'
import type { RoutingEvents } from './service.js'

const OWNER = 'family-watch'
/** The `step` of the console alert for an overdue arrival. */
export const FAMILY_OVERDUE_STEP = 'family_overdue'

/** When the incident's family arrival is due, or null when nothing is awaited. Pure. */
export function arrivalDue(incident: Pick<Incident, 'state' | 'familyResponse'>): number | null {
  const f = incident.familyResponse
  return incident.state !== 'resolved' && f?.state === 'en_route' ? f.dueAt : null
}

export function createFamilyWatch(deps: { incidents: Incidents; bus: EventBus<IncidentEvents & RoutingEvents>; clock: Clock; log: Logger }) {
  const { incidents, bus, clock, log } = deps
  const working = inFlight()
  const scheduler = createScheduler(
    clock,
    (incidentId) => {
      // The transition itself checks the time and the state again: an arrival in between wins.
      void working.track(incidents.familyOverdue(incidentId).then(
        () => undefined,
        (err: unknown) => log.error({ err, incidentId }, 'family arrival check failed'),
      ))
    },
    (err, incidentId) => log.error({ err, incidentId }, 'family arrival check failed'),
  )

  bus.on('incident.changed', OWNER, ({ incident, events }) => {
    scheduler.schedule(incident.id, arrivalDue(incident))
    if (events.some((e) => e.kind === 'family_overdue')) {
      log.warn({ incidentId: incident.id, contact: incident.familyResponse?.contactName }, 'family did not confirm arrival in time; operators alerted again')
      bus.emit('incident.escalated', { incident, step: FAMILY_OVERDUE_STEP })
    }
  })

  return {
    async start(): Promise<void> {
      scheduler.start()
      // Arrivals awaited when the platform stopped: one already late is reported at once.
      for (const incident of await incidents.familyAwaited()) scheduler.schedule(incident.id, arrivalDue(incident))
    },
    async stop(): Promise<void> {
      bus.removeOwner(OWNER)
      scheduler.stop()
      await working.settle()
    },
    /** Resolves when every check started so far has finished (tests). */
    settle: working.settle,
    dueAt: (incidentId: string) => scheduler.dueAt(incidentId),
  }
}

export type FamilyWatch = ReturnType<typeof createFamilyWatch>
