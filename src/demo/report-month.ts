/**
 * Last month in the demo district, so the 月报 has alarms to report on first start (docs/operations.md
 * §monthly report): the district was registered before last month began, and last month its
 * residents pressed their buttons a dozen times, each alarm acknowledged by the community's duty
 * operator (18 s to 150 s later) and closed with an outcome; two wellbeing findings the family or a
 * phone call settled. Built with the incident state machine, as the live path builds them.
 */
import type { Condition } from '../detectors/model.js'
import { openFromFinding, openIncident, transition, type Command } from '../incidents/lifecycle.js'
import type { AlarmKind, Incident, IncidentEvent, Outcome } from '../incidents/model.js'
import { localMonth, shiftMonth } from '../detectors/local-time.js'
import { parseReportMonth, REPORT_TIME_ZONE } from '../reports/month.js'
import { newId } from '../shared/ids.js'
import type { Db } from '../store/database.js'
import { incidentRepository } from '../store/incidents.js'
import { reportRepository } from '../store/reports.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const COMMUNITY: Record<string, { id: string; operator: string }> = {
  '0001': { id: 'com-meiyuan', operator: 'op-meiyuan' },
  '0002': { id: 'com-meiyuan', operator: 'op-meiyuan' },
  '0003': { id: 'com-meiyuan', operator: 'op-meiyuan' },
  '0004': { id: 'com-lanting', operator: 'op-lanting' },
  '0005': { id: 'com-lanting', operator: 'op-lanting' },
  '0006': { id: 'com-lanting', operator: 'op-lanting' },
}

/** Day of last month, local hour, household, alarm, seconds to acknowledge, outcome. */
const ALARMS: { day: number; hour: number; n: string; alarm: AlarmKind; ackS: number; outcome: Outcome; cancelled?: boolean }[] = [
  { day: 2, hour: 9.2, n: '0001', alarm: 'sos', ackS: 18, outcome: 'test' }, // the installer's test press
  { day: 3, hour: 8.5, n: '0002', alarm: 'sos', ackS: 22, outcome: 'resolved_by_phone' },
  { day: 5, hour: 20.7, n: '0004', alarm: 'fall', ackS: 41, outcome: 'emergency_handled' },
  { day: 8, hour: 7.9, n: '0003', alarm: 'sos', ackS: 27, outcome: 'emergency_handled' },
  { day: 11, hour: 15.1, n: '0005', alarm: 'sos', ackS: 35, outcome: 'false_alarm', cancelled: true },
  { day: 13, hour: 11.4, n: '0006', alarm: 'sos', ackS: 48, outcome: 'resolved_by_phone' },
  { day: 16, hour: 2.3, n: '0001', alarm: 'fall', ackS: 75, outcome: 'emergency_handled' },
  { day: 18, hour: 18.6, n: '0004', alarm: 'sos', ackS: 19, outcome: 'false_alarm' },
  { day: 21, hour: 10.2, n: '0002', alarm: 'sos', ackS: 150, outcome: 'resolved_by_phone' },
  { day: 23, hour: 16.8, n: '0005', alarm: 'sos', ackS: 31, outcome: 'emergency_handled' },
  { day: 26, hour: 9.9, n: '0003', alarm: 'sos', ackS: 24, outcome: 'false_alarm', cancelled: true },
  { day: 27, hour: 21.4, n: '0006', alarm: 'fall', ackS: 56, outcome: 'emergency_handled' },
]

const FINDINGS: { day: number; hour: number; n: string; condition: Condition; ackS: number; outcome: Outcome }[] = [
  {
    day: 9, hour: 20, n: '0003', ackS: 240, outcome: 'settled_by_family',
    condition: { key: 'no_water_day', kind: 'no_water_day', explanation: { zh: '今天全天未用水(水表 0 升)', en: 'No water used all day (0 l)' }, data: {} },
  },
  {
    day: 19, hour: 11, n: '0005', ackS: 180, outcome: 'resolved_by_phone',
    condition: { key: 'morning_check', kind: 'morning_check', explanation: { zh: '到 10:00 仍未见活动', en: 'No activity by 10:00' }, data: {} },
  },
]

export async function seedReportMonth(db: Db, now: number): Promise<void> {
  const month = parseReportMonth(shiftMonth(localMonth(now, REPORT_TIME_ZONE), -1), now)
  if (!month.ok) return
  const { start } = month.value
  const communityIds = [...new Set(Object.values(COMMUNITY).map((c) => c.id))]
  await reportRepository(db).registeredBy(communityIds, start - DAY)
  const incidents = incidentRepository(db)

  const store = async (incident: Incident, events: IncidentEvent[]) => {
    await incidents.insert(incident)
    await incidents.appendEvents(events)
  }
  const step = (incident: Incident, events: IncidentEvent[], command: Command, actor: string, at: number) => {
    const r = transition(incident, command, actor, at)
    if (!r.ok) throw new Error(`demo report month: ${r.error.message}`)
    return { incident: r.incident, events: [...events, ...r.events] }
  }

  for (const a of ALARMS) {
    const at = start + (a.day - 1) * DAY + Math.round(a.hour * HOUR)
    const c = COMMUNITY[a.n]!
    const deviceId = `btn-${a.n}`
    let s = openIncident({ id: newId('inc', at), householdId: `hh-${a.n}`, communityId: c.id, deviceId, messageId: `demo-${a.day}-${a.n}`, alarm: a.alarm }, at)
    if (a.cancelled) s = step(s.incident, s.events, { kind: 'cancel', deviceId, messageId: `demo-cancel-${a.day}-${a.n}` }, `device:${deviceId}`, at + 8_000)
    s = step(s.incident, s.events, { kind: 'acknowledge' }, `user:${c.operator}`, at + a.ackS * 1000)
    s = step(s.incident, s.events, { kind: 'resolve', outcome: a.outcome, note: null }, `user:${c.operator}`, at + a.ackS * 1000 + 6 * 60_000)
    await store(s.incident, s.events)
  }
  for (const f of FINDINGS) {
    const at = start + (f.day - 1) * DAY + f.hour * HOUR
    const c = COMMUNITY[f.n]!
    let s = openFromFinding({ id: newId('inc', at), householdId: `hh-${f.n}`, communityId: c.id, condition: f.condition }, at)
    s = step(s.incident, s.events, { kind: 'acknowledge' }, `user:${c.operator}`, at + f.ackS * 1000)
    s = step(s.incident, s.events, { kind: 'resolve', outcome: f.outcome, note: null }, `user:${c.operator}`, at + f.ackS * 1000 + 20 * 60_000)
    await store(s.incident, s.events)
  }
}
