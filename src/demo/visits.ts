/**
 * The demo district's visits (探访关爱, docs/operations.md §visits), so the console's 探访 view
 * and the monthly report have content on first start: last month's plan and this month's so far,
 * most visits done (见到本人), a few 未见到 with a note, a few overdue; 孙玉珍 not seen on both of
 * last month's visits (flagged) and this month's visits to her overdue. And a visitor account per
 * community, like the operators.
 */
import { randomBytes } from 'node:crypto'
import { startOfLocalDay } from '../detectors/local-time.js'
import { newId } from '../shared/ids.js'
import { hashPassword } from '../shared/secrets.js'
import type { Db } from '../store/database.js'
import type { Sample } from '../store/telemetry.js'
import { userRepository } from '../store/users.js'
import { visitRepository, type Visit } from '../store/visits.js'
import { activityWindow, decliningHouseholds, deviceDaysOf } from '../visits/activity.js'
import { planReason, VISIT_RULES, visitFrequency } from '../visits/frequency.js'
import { localMonth, monthBounds, shiftMonth } from '../detectors/local-time.js'
import { dueDays, spreadOf } from '../visits/month.js'

const TZ = 'Asia/Shanghai'
const HOUR = 3_600_000
const VISITORS: Record<string, { username: string; displayName: string; community: string }> = {
  'com-meiyuan': { username: 'vis-meiyuan', displayName: '陈阿姨 (梅园老伙伴)', community: '梅园社区' },
  'com-lanting': { username: 'vis-lanting', displayName: '刘社工 (兰亭探访)', community: '兰亭社区' },
}
/** 未见到, with what the visitor wrote, by household and plan key. */
const NOT_SEEN: Record<string, string> = {
  'hh-0002#prev#1': '老人外出买菜,已电话确认平安',
  'hh-0005#prev#1': '敲门无人应,电话未接,已告知社区',
  'hh-0005#prev#2': '邻居说被女儿接走几天,未能联系上本人',
  'hh-0006#this#1': '家中无人,改日再访',
}
/** Left unrecorded this month, so the console has overdue visits to show. */
const OVERDUE = new Set(['hh-0004#this#1', 'hh-0003#this#1', 'hh-0005#this#1', 'hh-0005#this#2'])

/** `history`: the demo's readings, which the planner reads from the history store for declining activity. */
export async function seedDemoVisits(trx: Db, now: number, households: readonly { id: string; communityId: string; age: number }[], history: readonly Sample[]): Promise<{ username: string; password: string; community: string; role: 'visitor' }[]> {
  const accounts = []
  const visitorIds = new Map<string, string>()
  for (const [communityId, v] of Object.entries(VISITORS)) {
    const password = randomBytes(6).toString('base64url')
    const id = newId('usr', now)
    await userRepository(trx).insert({ id, username: v.username, displayName: v.displayName, role: 'visitor', communityIds: [communityId] }, await hashPassword(password), now)
    visitorIds.set(communityId, id)
    accounts.push({ username: v.username, password, community: v.community, role: 'visitor' as const })
  }

  const today = startOfLocalDay(now, TZ)
  const thisMonth = localMonth(now, TZ)
  const rows: Visit[] = []
  // This month's plan follows the same rule as the planner's (visits/service.ts), so planning at
  // start finds it made; last month's was made before last month's incidents happened.
  const risks = new Map<string, { wellbeing: number; offline: number }>()
  for (const communityId of new Set(households.map((h) => h.communityId))) {
    for (const [id, r] of await visitRepository(trx).riskCounts(communityId, now - VISIT_RULES.windowDays * 24 * HOUR)) risks.set(id, r)
  }
  // Declining activity as the planner reads it (visits/activity.ts), from the same readings: the
  // demo's week is too short to say, but a longer demo history stays in step with the planner.
  const w = activityWindow(now, TZ)
  const declining = decliningHouseholds(deviceDaysOf(history, w.from, w.to, w.offsetMs), w.today)
  for (const [which, month] of [['prev', shiftMonth(thisMonth, -1)], ['this', thisMonth]] as const) {
    const { start, end } = monthBounds(month, TZ)
    for (const h of households) {
      const risk = which === 'this' ? risks.get(h.id) : undefined
      const freq = visitFrequency({
        age: h.age,
        wellbeingIncidents: risk?.wellbeing ?? 0,
        offlineIncidents: risk?.offline ?? 0,
        decliningActivity: which === 'this' ? (declining.get(h.id) ?? null) : null,
      })
      dueDays({ from: start, end, count: freq.perMonth, spread: spreadOf(h.id), timeZone: TZ }).forEach((dueAt, i) => {
        const key = `${h.id}#${which}#${i + 1}`
        // Visits due before today were made (at 10:00 on the day, or 15:00 for a second try), unless left overdue.
        const done = dueAt < today && !OVERDUE.has(key)
        const note = NOT_SEEN[key]
        rows.push({
          id: newId('vis', now),
          householdId: h.id,
          communityId: h.communityId,
          source: 'plan',
          planKey: `${month}#${i + 1}`,
          incidentId: null,
          reason: planReason(freq),
          dueAt,
          state: done ? 'done' : 'planned',
          visitedAt: done ? dueAt + (note ? 15 : 10) * HOUR : null,
          visitorId: done ? visitorIds.get(h.communityId)! : null,
          result: done ? (note ? 'not_seen' : 'seen') : null,
          note: done ? (note ?? null) : null,
          createdAt: start,
          updatedAt: done ? dueAt + 10 * HOUR : start,
        })
      })
    }
  }
  await visitRepository(trx).insertPlanned(rows)
  return accounts
}
