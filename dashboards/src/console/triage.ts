/**
 * The queue's order and colours, pure (no Vue, no clock of its own): what needs a human now comes
 * first (docs/operations.md §triage). Unit-tested in tests/dashboards/triage.test.ts.
 */
import type { Incident } from '../shared/types'

/** Alarms an operator must answer within the 60 s target; the rest are care and maintenance tasks. */
export const EMERGENCY_TYPES: ReadonlySet<string> = new Set(['sos', 'fall', 'smoke', 'gas'])
export const TARGET_MS = 60_000
/** Past this an unanswered alarm is "long overdue" (its own colour): ten times the target. */
export const LONG_OVERDUE_MS = 10 * TARGET_MS

type Sortable = Pick<Incident, 'id' | 'state' | 'priority' | 'openedAt'>

const STATE_RANK: Record<string, number> = { open: 0, acknowledged: 1, resolved: 2 }

/**
 * Unacknowledged before acknowledged (an acknowledged SOS already has a human), then by priority,
 * then oldest first — with one 60 s target for every open alarm, the oldest is also the furthest
 * past it. The id breaks ties so the order never flickers between renders.
 */
export function compareTriage(a: Sortable, b: Sortable): number {
  return (STATE_RANK[a.state] ?? 9) - (STATE_RANK[b.state] ?? 9)
    || a.priority - b.priority
    || a.openedAt - b.openedAt
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

export const triageOrder = <T extends Sortable>(list: Iterable<T>): T[] => [...list].sort(compareTriage)

export const isEmergency = (i: Pick<Incident, 'type'>) => EMERGENCY_TYPES.has(i.type)

/** An open emergency runs against the 60 s target; acknowledged ones and other kinds do not. */
export const isTimed = (i: Pick<Incident, 'type' | 'state'>) => i.state === 'open' && isEmergency(i)

export type AgeBand = 'within' | 'overdue' | 'long'

/** The row's colour for a timed incident at `now`; null when no target runs. */
export function ageBand(i: Pick<Incident, 'type' | 'state' | 'openedAt'>, now: number): AgeBand | null {
  if (!isTimed(i)) return null
  const age = now - i.openedAt
  return age <= TARGET_MS ? 'within' : age <= LONG_OVERDUE_MS ? 'overdue' : 'long'
}

/** Milliseconds left of the target (negative: past it). */
export const targetLeftMs = (i: Pick<Incident, 'openedAt'>, now: number) => TARGET_MS - (now - i.openedAt)

/** The banner's honest word for an incident: an emergency call, or a care alert that needs a look. */
export const bannerKind = (i: Pick<Incident, 'type'>): 'emergency' | 'care' => (isEmergency(i) ? 'emergency' : 'care')

export type QueueFilter = 'all' | 'open' | 'acknowledged'
export const matchesFilter = (i: Pick<Incident, 'state'>, f: QueueFilter) => f === 'all' || i.state === f
