/**
 * Visits (探访关爱, docs/operations.md §visits): the monthly plan of every household, visit tasks
 * raised by `visit` incidents, and the recording of a visit by a visitor.
 *
 * Planning is idempotent (a household's `plan_key` `YYYY-MM#n` is unique): it runs at start, at
 * each local midnight (so a household added by any path, and a risk that rose, gets its visits
 * the same day) and when a household is added or changed. All on the platform clock and one
 * scheduler timer. Away households are planned all the same: the visit is owed, and the list
 * shows the away date so the visitor telephones first.
 */
import type { Logger } from 'pino'
import { canSeeCommunity, communityScope } from '../auth/auth.js'
import { createScheduler } from '../detectors/scheduler.js'
import { startOfLocalDay } from '../detectors/local-time.js'
import type { Explanation } from '../detectors/model.js'
import { VISIT_OUTCOME } from '../incidents/model.js'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import { resolveRouting } from '../routing/settings.js'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { newId } from '../shared/ids.js'
import { inFlight } from '../shared/in-flight.js'
import { nextTurn } from '../shared/next-turn.js'
import type { ActivityRepository } from '../store/activity.js'
import type { AuditRepository } from '../store/audit.js'
import type { Db } from '../store/database.js'
import type { Community, Household, RegistryEvents, RegistryRepository } from '../store/registry.js'
import type { User } from '../store/users.js'
import { visitRepository, type Visit, type VisitResult, type VisitRow, type VisitState } from '../store/visits.js'
import { ACTIVITY_RULES, activityWindow, decliningHouseholds, type ActivityRules } from './activity.js'
import { planReason, visitFrequency, VISIT_RULES, type VisitRules } from './frequency.js'
import { plannedVisit } from './visit.js'
import { localMonth, monthBounds } from '../detectors/local-time.js'
import { DAY_MS, dueDays, localDate, localDaysBetween, spreadOf } from './month.js'

const OWNER = 'visits'
const PLAN_KEY = 'plan'
/** How far back the 未见到-twice flag looks. */
const FLAG_LOOKBACK_MS = 120 * DAY_MS

export const RESULT_WORDS: Record<VisitResult, Explanation> = { seen: { zh: '见到本人', en: 'seen in person' }, not_seen: { zh: '未见到', en: 'not seen' } }

export interface VisitItem extends VisitRow {
  /** Whole local days past its due day; 0 when due today or later, or no longer planned. */
  daysOverdue: number
  /** The local day it is due, `YYYY-MM-DD` in its community's time zone. */
  dueDate: string
}

export interface CommunitySummary {
  communityId: string
  communityName: string
  month: string
  planned: number
  done: number
  seen: number
  notSeen: number
  overdue: number
  cancelled: number
}

export interface FlaggedHousehold {
  householdId: string
  communityId: string
  elderName: string
  address: string
  phone: string | null
  /** The two visits, newest first, both 未见到. */
  visits: { visitedAt: number; note: string | null; visitorName: string | null }[]
}

export type RecordOutcome = { ok: true; visit: VisitItem } | { ok: false; code: 'NOT_FOUND' | 'CONFLICT'; message: string }

export function createVisits(deps: {
  db: Db
  registry: RegistryRepository
  incidents: Incidents
  audit: AuditRepository
  bus: EventBus<IncidentEvents & RegistryEvents>
  clock: Clock
  log: Logger
  rules?: VisitRules
  /** Daily readings from the history store, for declining activity; without it, activity is not a risk. */
  activity?: ActivityRepository
  activityRules?: ActivityRules
}) {
  const { registry, incidents, audit, bus, clock, log } = deps
  const rules = deps.rules ?? VISIT_RULES
  const activityRules = deps.activityRules ?? ACTIVITY_RULES
  const repo = visitRepository(deps.db)
  const working = inFlight()
  const timeZones = new Set<string>(['Asia/Shanghai'])
  const tzOf = (c: Community | undefined) => resolveRouting(c?.routing).timeZone

  const scheduler = createScheduler(
    clock,
    () => void working.track(planAll().catch((err: unknown) => log.error({ err }, 'visit planning failed')).finally(scheduleNext)),
    (err) => log.error({ err }, 'visit planning failed'),
  )

  /** Next local midnight in any community's zone: a new day, and on the 1st a new month. */
  function scheduleNext(): void {
    const now = clock.now()
    const next = Math.min(...[...timeZones].map((tz) => startOfLocalDay(now, tz) + DAY_MS))
    scheduler.schedule(PLAN_KEY, next)
  }

  /** Plans the current local month of these households of one community; returns visits added. */
  async function planHouseholds(community: Community, households: readonly Household[]): Promise<number> {
    if (households.length === 0) return 0
    const now = clock.now()
    const tz = tzOf(community)
    timeZones.add(tz)
    const month = localMonth(now, tz)
    const { start, end } = monthBounds(month, tz)
    const risks = await repo.riskCounts(community.id, now - rules.windowDays * DAY_MS)
    const declining = await decliningOf(households, now, tz, month)
    const rows: Visit[] = []
    for (const h of households) {
      const risk = risks.get(h.id) ?? { wellbeing: 0, offline: 0 }
      const freq = visitFrequency({ age: h.age, wellbeingIncidents: risk.wellbeing, offlineIncidents: risk.offline, decliningActivity: awayNow(h, now) ? null : (declining.get(h.id) ?? null) }, rules)
      const reason = planReason(freq)
      // From the month's start, or from today for a plan made mid-month (a household added late).
      const due = dueDays({ from: Math.max(start, now), end, count: freq.perMonth, spread: spreadOf(h.id), timeZone: tz })
      due.forEach((dueAt, i) =>
        rows.push(plannedVisit({ householdId: h.id, communityId: community.id, source: 'plan', planKey: `${month}#${i + 1}`, incidentId: null, reason, dueAt }, now)),
      )
    }
    const added = await repo.insertPlanned(rows)
    if (added > 0) log.info({ communityId: community.id, month, added }, 'visits planned')
    return added
  }

  /**
   * The households whose activity declined (visits/activity.ts), with the reason: one history
   * query for all of them, over the last whole local days. A history store that does not answer
   * leaves activity out of this planning (the next midnight's adds the visit).
   */
  async function decliningOf(households: readonly Household[], now: number, tz: string, month: string): Promise<Map<string, Explanation>> {
    const out = new Map<string, Explanation>()
    if (!deps.activity) return out
    // Judged once a month per household: the history read blocks the alarm thread on the embedded
    // store, and the nightly re-planning (for risks that arose since) need not repeat it.
    const unjudged = households.filter((h) => judged.get(h.id)?.month !== month)
    if (unjudged.length > 0) {
      const w = activityWindow(now, tz, activityRules)
      try {
        const found = decliningHouseholds(await deps.activity.deviceDays(unjudged.map((h) => h.id), w.from, w.to, w.offsetMs), w.today, activityRules)
        for (const h of unjudged) judged.set(h.id, { month, declining: found.get(h.id) ?? null })
      } catch (err) {
        log.warn({ err }, 'history store did not answer: visits planned without declining activity')
      }
    }
    for (const h of households) {
      const j = judged.get(h.id)
      if (j?.month === month && j.declining) out.set(h.id, j.declining)
    }
    return out
  }

  /** A household in away mode (hospital, with family) draws less for a reason already known: not a risk. */
  const awayNow = (h: Household, now: number) => h.awayUntil !== null && h.awayUntil > now

  /** Declining activity as judged this month, by household. */
  const judged = new Map<string, { month: string; declining: Explanation | null }>()

  async function planAll(): Promise<number> {
    let added = 0
    for (const c of await registry.communities.list()) added += await planHouseholds(c, await registry.households.list([c.id]))
    return added
  }

  /**
   * Households added or changed since the last turn, planned together: a bulk import announces
   * thousands, and each community's risks and history are then read once, not once a household.
   */
  const changed = new Set<string>()
  async function planChanged(): Promise<void> {
    await nextTurn()
    const ids = [...changed]
    changed.clear()
    const byCommunity = new Map<string, Household[]>()
    for (const id of ids) {
      const h = await registry.households.get(id)
      if (h) byCommunity.set(h.communityId, [...(byCommunity.get(h.communityId) ?? []), h])
    }
    for (const [communityId, households] of byCommunity) {
      const c = await registry.communities.get(communityId)
      if (c) await planHouseholds(c, households)
    }
  }

  /** A `visit` incident opened: a visit task, due now, saying what the detectors saw. */
  async function taskForIncident(incident: { id: string; householdId: string; communityId: string; explanation: Explanation | null; type: string }): Promise<void> {
    if (await repo.forIncident(incident.id)) return
    const now = clock.now()
    await repo.insert(
      plannedVisit(
        {
          householdId: incident.householdId,
          communityId: incident.communityId,
          source: 'incident',
          planKey: null,
          incidentId: incident.id,
          reason: incident.explanation ?? { zh: '系统提示需上门看看', en: `the platform asks for a visit (${incident.type})` },
          dueAt: now,
        },
        now,
      ),
    )
    log.info({ incidentId: incident.id, householdId: incident.householdId }, 'visit task raised by incident')
  }

  bus.on('incident.changed', OWNER, ({ incident, events }) => {
    if (incident.category !== 'visit') return
    if (events.some((e) => e.kind === 'opened') && incident.state !== 'resolved') {
      void working.track(taskForIncident(incident).catch((err: unknown) => log.error({ err, incidentId: incident.id }, 'visit task not created')))
    }
    if (events.some((e) => e.kind === 'resolved')) {
      // Closed by an operator (or the family) first: the task goes. After a recorded visit it is done already.
      void working.track(
        repo
          .cancelForIncident(incident.id, clock.now())
          .then((n) => n > 0 && log.info({ incidentId: incident.id }, 'visit task cancelled: incident closed'))
          .catch((err: unknown) => log.error({ err, incidentId: incident.id }, 'visit task not cancelled')),
      )
    }
  })
  bus.on('household.changed', OWNER, ({ householdId }) => {
    if (changed.size === 0) void working.track(planChanged().catch((err: unknown) => log.error({ err }, 'visit planning failed')))
    changed.add(householdId)
  })

  async function zones(communityIds: Iterable<string>): Promise<Map<string, Community>> {
    const ids = [...new Set(communityIds)]
    return new Map((await registry.communities.list(ids)).map((c) => [c.id, c]))
  }

  function withOverdue(rows: readonly VisitRow[], communities: Map<string, Community>, now: number): VisitItem[] {
    return rows.map((r) => {
      const tz = tzOf(communities.get(r.communityId))
      return { ...r, dueDate: localDate(r.dueAt, tz), daysOverdue: r.state === 'planned' ? Math.max(0, localDaysBetween(r.dueAt, now, tz)) : 0 }
    })
  }

  return {
    planAll,

    /**
     * A visitor's list for today: incident tasks first, then the visits due today or overdue, in
     * walking order (address order, so one building after the next; store/registry.ts addressKey).
     */
    async today(user: User): Promise<VisitItem[]> {
      const now = clock.now()
      // Two days ahead, then each row against its own community's local day.
      const rows = await repo.due(communityScope(user), now + 2 * DAY_MS)
      const communities = await zones(rows.map((r) => r.communityId))
      const todays = rows.filter((r) => r.dueAt < startOfLocalDay(now, tzOf(communities.get(r.communityId))) + DAY_MS)
      const byWalk = (a: VisitRow, b: VisitRow) =>
        Number(b.source === 'incident') - Number(a.source === 'incident') || (a.addressKey < b.addressKey ? -1 : a.addressKey > b.addressKey ? 1 : 0) || a.dueAt - b.dueAt
      return withOverdue(todays.sort(byWalk), communities, now)
    },

    /** Visits due in a local month, in scope; `overdue`: planned and past their due day. */
    async list(user: User, q: { communityId?: string; month?: string; state?: VisitState; overdue?: boolean }): Promise<{ month: string; items: VisitItem[] }> {
      const now = clock.now()
      const scope = q.communityId ? [q.communityId] : communityScope(user)
      const tz = tzOf(q.communityId ? await registry.communities.get(q.communityId) : undefined)
      const month = q.month ?? localMonth(now, tz)
      const { start, end } = monthBounds(month, tz)
      const state = q.overdue ? 'planned' : q.state
      const rows = await repo.list({ ...(scope ? { communityIds: scope } : {}), dueFrom: start, dueTo: end, ...(state ? { state } : {}) })
      const items = withOverdue(rows, await zones(rows.map((r) => r.communityId)), now)
      return { month, items: q.overdue ? items.filter((i) => i.daysOverdue > 0).sort((a, b) => b.daysOverdue - a.daysOverdue || (a.addressKey < b.addressKey ? -1 : 1)) : items }
    },

    /** Planned vs done per community for a month, and households seen as 未见到 twice in a row. */
    async summary(user: User, q: { month?: string }): Promise<{ month: string; communities: CommunitySummary[]; flagged: FlaggedHousehold[] }> {
      const now = clock.now()
      const scope = communityScope(user)
      const communities = await registry.communities.list(scope)
      const month = q.month ?? localMonth(now, tzOf(communities[0]))
      const out: CommunitySummary[] = []
      for (const c of communities) {
        const tz = tzOf(c)
        const { start, end } = monthBounds(month, tz)
        const s: CommunitySummary = { communityId: c.id, communityName: c.name, month, planned: 0, done: 0, seen: 0, notSeen: 0, overdue: 0, cancelled: 0 }
        for (const row of await repo.counts([c.id], start, end, startOfLocalDay(now, tz))) {
          if (row.state !== 'cancelled') s.planned += row.n
          if (row.state === 'done') s.done += row.n
          if (row.state === 'cancelled') s.cancelled += row.n
          if (row.overdue) s.overdue += row.n
        }
        const recorded = await repo.list({ communityIds: [c.id], dueFrom: start, dueTo: end, state: 'done' })
        s.seen = recorded.filter((r) => r.result === 'seen').length
        s.notSeen = recorded.filter((r) => r.result === 'not_seen').length
        out.push(s)
      }
      const flagged: FlaggedHousehold[] = []
      const recent = await repo.recordedSince(scope, now - FLAG_LOOKBACK_MS)
      const byHousehold = new Map<string, VisitRow[]>()
      for (const r of recent) byHousehold.set(r.householdId, [...(byHousehold.get(r.householdId) ?? []), r])
      for (const [householdId, visits] of byHousehold) {
        const [last, before] = visits
        if (last?.result === 'not_seen' && before?.result === 'not_seen') {
          flagged.push({
            householdId,
            communityId: last.communityId,
            elderName: last.elderName,
            address: last.address,
            phone: last.phone,
            visits: [last, before].map((v) => ({ visitedAt: v.visitedAt!, note: v.note, visitorName: v.visitorName })),
          })
        }
      }
      return { month, communities: out, flagged: flagged.sort((a, b) => (a.address < b.address ? -1 : 1)) }
    },

    /**
     * Records a visit: 见到本人 or 未见到, with a note. A visit task of a `visit` incident closes
     * that incident too (outcome `visited`, the result and note as its note), by the visitor.
     */
    async record(user: User, id: string, r: { result: VisitResult; note: string | null }): Promise<RecordOutcome> {
      const visit = await repo.get(id)
      if (!visit || !canSeeCommunity(user, visit.communityId)) return { ok: false, code: 'NOT_FOUND', message: `visit ${id} does not exist` }
      const now = clock.now()
      if (visit.state !== 'planned' || !(await repo.record(id, { at: now, visitorId: user.id, ...r }))) {
        return { ok: false, code: 'CONFLICT', message: `visit ${id} is already ${visit.state === 'cancelled' ? 'cancelled' : 'recorded'} (探访已${visit.state === 'cancelled' ? '取消' : '记录'})` }
      }
      await audit.append({
        id: newId('aud', now),
        at: now,
        actor: `user:${user.username}`,
        action: 'visit.recorded',
        householdId: visit.householdId,
        communityId: visit.communityId,
        detail: { visitId: id, result: r.result, note: r.note, incidentId: visit.incidentId },
      })
      if (visit.incidentId) await closeIncident(visit.incidentId, user, r)
      const row = (await repo.getRow(id))!
      return { ok: true, visit: withOverdue([row], await zones([visit.communityId]), now)[0]! }
    },

    /** Resolves when planning and incident tasks started so far have finished (tests, shutdown). */
    settle: () => working.settle(),

    async start(): Promise<void> {
      for (const c of await registry.communities.list()) timeZones.add(tzOf(c))
      scheduler.start()
      // In the background (settle() waits for it): a district's planning reads its history, and a
      // start must not hold the alarms' notices behind it.
      void working.track(
        (async () => {
          await planAll()
          // A visit incident opened while the platform was stopping or stopped still gets its task.
          for (const i of await incidents.list({ state: 'active' })) if (i.category === 'visit') await taskForIncident(i)
        })().catch((err: unknown) => log.error({ err }, 'visit planning at start failed')),
      )
      scheduleNext()
    },

    async stop(): Promise<void> {
      bus.removeOwner(OWNER)
      scheduler.stop()
      await working.settle()
    },
  }

  async function closeIncident(incidentId: string, user: User, r: { result: VisitResult; note: string | null }): Promise<void> {
    const actor = `user:${user.username}`
    const incident = await incidents.get(incidentId)
    if (!incident || incident.state === 'resolved') return
    const note = `${RESULT_WORDS[r.result].zh}${r.note ? `:${r.note}` : ''}`
    if (incident.state === 'open') {
      const acked = await incidents.acknowledge(incidentId, actor)
      if (!acked.ok) return void log.warn({ incidentId, error: acked.error }, 'visit recorded; incident not acknowledged')
    }
    const resolved = await incidents.resolve(incidentId, actor, VISIT_OUTCOME, note)
    if (!resolved.ok) log.warn({ incidentId, error: resolved.error }, 'visit recorded; incident not closed')
  }
}

export type Visits = ReturnType<typeof createVisits>
