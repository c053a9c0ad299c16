/** A visit to be made: planned for the month, or raised by a `visit` incident (docs/operations.md §visits). */
import { newId } from '../shared/ids.js'
import type { Visit } from '../store/visits.js'

export function plannedVisit(v: Pick<Visit, 'householdId' | 'communityId' | 'source' | 'planKey' | 'incidentId' | 'reason' | 'dueAt'>, now: number): Visit {
  return { id: newId('vis', now), ...v, state: 'planned', visitedAt: null, visitorId: null, result: null, note: null, createdAt: now, updatedAt: now }
}
