/**
 * The monthly report, assembled from the store's aggregates (store/reports.ts), pure: the figures
 * as JSON and the same figures as tables, one per section, which the console page and the .xlsx
 * writer both lay out (docs/operations.md §monthly report).
 */
import { ACK_TARGET_S, quantile, serviceLevel } from '../incidents/service-level.js'
import type { IncidentType } from '../incidents/model.js'
import type { CountRow, RawMonthlyFigures } from '../store/reports.js'
import { CATEGORY, DEVICE_KIND, INCIDENT_TYPE, OUTCOME, TICKET_TYPE, TOTAL, VISIT_SOURCE, englishOf, label, type Label } from './labels.js'

export const median = (values: readonly number[]) => quantile(values, 0.5)

/** part / whole, or null when there is no whole. */
export const share = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null)

export interface AckFigures {
  /** Alarms whose answer counts: answered by an operator, or unanswered past 60 s. */
  counted: number
  medianAckS: number | null
  p90AckS: number | null
  within60sShare: number | null
}

/**
 * Time to acknowledge, by the console's own rule (incidents/service-level.ts): only an operator's
 * acknowledgement answers an alarm; one still unanswered past 60 s at `now` counts as a miss with
 * its wait so far.
 */
export function ackFigures(rows: RawMonthlyFigures['alarmAcks'], now: number): AckFigures {
  const level = serviceLevel(
    rows.map((r) => ({ type: r.type as IncidentType, state: r.state as 'open' | 'acknowledged' | 'resolved', openedAt: r.openedAt, acknowledgedAt: r.acknowledgedAt, acknowledgedBy: r.acknowledgedBy })),
    // Every answer of these alarms counts, whenever it came: they were chosen by the month they opened in.
    { now, dayStart: Number.MIN_SAFE_INTEGER },
  )
  return { counted: level.counted, medianAckS: level.medianAckS, p90AckS: level.p90AckS, within60sShare: level.within60sShare }
}

export type CellFormat = 'int' | 'percent' | 'seconds' | 'minutes' | 'text'
export interface Column {
  key: string
  label: Label
  format: CellFormat
}
export type Cell = string | number | null
export interface Section {
  /** overview, devices, alarms, outcomes, wellbeing, visits, tickets */
  key: string
  title: Label
  columns: Column[]
  rows: Cell[][]
  /** Each row's name (its first cell) in both languages, for the page. */
  rowLabels: Label[]
  /** A row's own format for its figures (after the first cell), where it differs from the columns'. */
  rowFormats: (CellFormat | null)[]
  /** What the figures mean, printed under the table. */
  notes: Label[]
}

export interface ReportMeta {
  month: string
  /** What the report covers: a community's name, or a street's. */
  scope: { kind: 'community' | 'street'; name: string; street: string; communities: { id: string; name: string }[] }
  start: number
  end: number
  timeZone: string
  generatedAt: number
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)
const col = (key: string, zh: string, en: string, format: CellFormat = 'int'): Column => ({ key, label: { zh, en }, format })
const round = (x: number | null, digits = 1) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits)

/** Pivots `(key, sub, n)` rows: key → sub → n. */
function pivot(rows: readonly CountRow[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>()
  for (const r of rows) {
    const inner = out.get(r.key) ?? new Map<string, number>()
    inner.set(r.sub, (inner.get(r.sub) ?? 0) + r.n)
    out.set(r.key, inner)
  }
  return out
}
/** The known keys first in their order, then any others alphabetically. */
export function ordered(known: readonly string[], seen: Iterable<string>): string[] {
  const all = new Set(seen)
  return [...known.filter((k) => all.has(k)), ...[...all].filter((k) => !known.includes(k)).sort()]
}

export const ALARM_TYPES = ['sos', 'fall', 'smoke', 'gas'] as const
export const OUTCOME_ORDER = ['emergency_handled', 'resolved_by_phone', 'settled_by_family', 'false_alarm', 'test', 'active'] as const
export const CATEGORY_ORDER = ['emergency', 'wellbeing', 'visit', 'property', 'maintenance', 'installation', 'service'] as const
export const TICKET_TYPES = ['meal', 'bath', 'medical', 'repair', 'other'] as const
export const TICKET_STATES = ['pending', 'dispatched', 'done', 'cancelled'] as const
export const VISIT_SOURCES = ['plan', 'incident', 'operator'] as const
export const FEEDBACK = ['satisfied', 'neutral', 'unsatisfied', 'none'] as const

export interface MonthlyReport {
  month: string
  scope: ReportMeta['scope']
  period: { start: number; end: number; timeZone: string }
  generatedAt: number
  /** The month is not over: its figures are so far. */
  partial: boolean
  coverage: { households: number; elders: number; householdsWithDevice: number; householdsWithoutDevice: number }
  devices: { installed: number; heardLast24h: number; neverHeard: number; onlineRate: number | null; onlineAsOf: number; byKind: { kind: string; installed: number; heardLast24h: number; neverHeard: number; onlineRate: number | null }[] }
  alarms: { total: number; cancelledByResident: number; tests: number; ack: AckFigures; byType: ({ type: string; total: number; cancelledByResident: number; tests: number } & AckFigures)[] }
  /** Incidents opened in the month by category and how they ended (`active`: not closed yet). */
  outcomes: { category: string; byOutcome: Record<string, number>; total: number }[]
  wellbeing: { total: number; byType: { type: string; byOutcome: Record<string, number>; total: number }[] }
  visits: { due: number; done: number; seen: number; notSeen: number; pending: number; cancelled: number; overdueAtMonthEnd: number; doneShare: number | null; bySource: { source: string; due: number; seen: number; notSeen: number; pending: number; cancelled: number; overdueAtMonthEnd: number }[] }
  tickets: { total: number; byState: Record<string, number>; completionRate: number | null; medianCompleteMin: number | null; feedback: Record<string, number>; byType: { type: string; byState: Record<string, number>; total: number }[] }
  sections: Section[]
}

export function assembleMonthlyReport(raw: RawMonthlyFigures, meta: ReportMeta): MonthlyReport {
  const now = meta.generatedAt
  // ---- coverage: the registry keeps one elder per household (households.elder_name) ----
  const coverage = { households: raw.households, elders: raw.households, householdsWithDevice: raw.householdsWithDevice, householdsWithoutDevice: raw.households - raw.householdsWithDevice }

  // ---- devices ----
  const byKind = raw.devices.map((d) => ({ ...d, onlineRate: share(d.heardLast24h, d.installed) }))
  const installed = sum(byKind.map((d) => d.installed))
  const heard = sum(byKind.map((d) => d.heardLast24h))
  const devices = { installed, heardLast24h: heard, neverHeard: sum(byKind.map((d) => d.neverHeard)), onlineRate: share(heard, installed), onlineAsOf: now, byKind }

  // ---- alarms: emergencies only (a green-button service request is no alarm) ----
  // The four emergencies always have their row (a street office sums them month by month), any other type after them.
  const types = ordered(ALARM_TYPES, new Set([...ALARM_TYPES, ...raw.alarms.map((a) => a.type), ...raw.alarmAcks.map((a) => a.type)]))
  const alarmByType = types.map((type) => {
    const a = raw.alarms.find((x) => x.type === type) ?? { total: 0, cancelled: 0, tests: 0 }
    return { type, total: a.total, cancelledByResident: a.cancelled, tests: a.tests, ...ackFigures(raw.alarmAcks.filter((r) => r.type === type), now) }
  })
  const alarms = {
    total: sum(alarmByType.map((a) => a.total)),
    cancelledByResident: sum(alarmByType.map((a) => a.cancelledByResident)),
    tests: sum(alarmByType.map((a) => a.tests)),
    ack: ackFigures(raw.alarmAcks, now),
    byType: alarmByType,
  }

  // ---- incidents by outcome ----
  const outcomePivot = pivot(raw.incidentOutcomes)
  const outcomes = ordered(CATEGORY_ORDER, outcomePivot.keys()).map((category) => {
    const byOutcome = Object.fromEntries(outcomePivot.get(category)!)
    return { category, byOutcome, total: sum(Object.values(byOutcome)) }
  })
  const outcomeKeys = ordered(OUTCOME_ORDER, new Set(raw.incidentOutcomes.map((r) => r.sub)))

  // ---- wellbeing findings ----
  const wellPivot = pivot(raw.wellbeing)
  const wellbeingRows = [...wellPivot.keys()].sort().map((type) => {
    const byOutcome = Object.fromEntries(wellPivot.get(type)!)
    return { type, byOutcome, total: sum(Object.values(byOutcome)) }
  })
  const wellOutcomeKeys = ordered(OUTCOME_ORDER, new Set(raw.wellbeing.map((r) => r.sub)))
  const wellbeing = { total: sum(wellbeingRows.map((r) => r.total)), byType: wellbeingRows }

  // ---- visits ----
  const visitPivot = pivot(raw.visits)
  const overdue = new Map(raw.visitsOverdue.map((r) => [r.key, r.n]))
  const bySource = ordered(VISIT_SOURCES, new Set([...visitPivot.keys(), ...overdue.keys()])).map((source) => {
    const v = visitPivot.get(source) ?? new Map<string, number>()
    const seen = v.get('seen') ?? 0
    const notSeen = v.get('not_seen') ?? 0
    const pending = v.get('planned') ?? 0
    return { source, due: seen + notSeen + pending, seen, notSeen, pending, cancelled: v.get('cancelled') ?? 0, overdueAtMonthEnd: overdue.get(source) ?? 0 }
  })
  const vs = (k: 'due' | 'seen' | 'notSeen' | 'pending' | 'cancelled' | 'overdueAtMonthEnd') => sum(bySource.map((s) => s[k]))
  const visits = { due: vs('due'), done: vs('seen') + vs('notSeen'), seen: vs('seen'), notSeen: vs('notSeen'), pending: vs('pending'), cancelled: vs('cancelled'), overdueAtMonthEnd: vs('overdueAtMonthEnd'), doneShare: share(vs('seen') + vs('notSeen'), vs('due')), bySource }

  // ---- service tickets ----
  const ticketPivot = pivot(raw.tickets)
  const ticketRows = ordered(TICKET_TYPES, ticketPivot.keys()).map((type) => {
    const byState = Object.fromEntries(TICKET_STATES.map((s) => [s, ticketPivot.get(type)!.get(s) ?? 0]))
    return { type, byState, total: sum([...ticketPivot.get(type)!.values()]) }
  })
  const ticketState = Object.fromEntries(TICKET_STATES.map((s) => [s, sum(ticketRows.map((r) => r.byState[s]!))]))
  const ticketTotal = sum(ticketRows.map((r) => r.total))
  const feedback = Object.fromEntries(FEEDBACK.map((f) => [f, raw.ticketFeedback.find((r) => r.key === f)?.n ?? 0]))
  const medianMs = median(raw.ticketDurationsMs)
  const tickets = {
    total: ticketTotal,
    byState: ticketState,
    // A cancelled request was not the provider's to complete.
    completionRate: share(ticketState.done!, ticketTotal - ticketState.cancelled!),
    medianCompleteMin: medianMs === null ? null : round(medianMs / 60_000),
    feedback,
    byType: ticketRows,
  }

  const partial = now < meta.end
  const report: Omit<MonthlyReport, 'sections'> = {
    month: meta.month,
    scope: meta.scope,
    period: { start: meta.start, end: meta.end, timeZone: meta.timeZone },
    generatedAt: now,
    partial,
    coverage,
    devices,
    alarms,
    outcomes,
    wellbeing,
    visits,
    tickets,
  }
  return { ...report, sections: sections(report, outcomeKeys, wellOutcomeKeys) }
}

const ackCols = [
  col('counted', '计入接警用时的报警', 'Alarms timed'),
  col('medianAckS', '接警用时中位数(秒)', 'Median time to acknowledge (s)', 'seconds'),
  col('p90AckS', '接警用时 90 分位(秒)', '90th percentile (s)', 'seconds'),
  col('within60sShare', `${ACK_TARGET_S} 秒内接警占比`, `Share within ${ACK_TARGET_S} s`, 'percent'),
]
/** Rows whose last element may be a format for the row's figures: `['在线率', 0.9, 'percent']`. */
type FormattedRow = Cell[] | [string, Cell, CellFormat]
const FORMATS = new Set<unknown>(['int', 'percent', 'seconds', 'minutes', 'text'])
function withFormats(rows: FormattedRow[]): { rows: Cell[][]; rowFormats: (CellFormat | null)[] } {
  const isFormatted = (r: FormattedRow): r is [string, Cell, CellFormat] => r.length === 3 && FORMATS.has(r[2])
  return {
    rows: rows.map((r) => (isFormatted(r) ? [r[0], r[1]] : r)),
    rowFormats: rows.map((r) => (isFormatted(r) ? r[2] : null)),
  }
}

const ackCells = (a: AckFigures): Cell[] => [a.counted, round(a.medianAckS), round(a.p90AckS), a.within60sShare]

function sections(r: Omit<MonthlyReport, 'sections'>, outcomeKeys: string[], wellOutcomeKeys: string[]): Section[] {
  type Draft = Omit<Section, 'rowLabels'>
  const t = TOTAL.zh
  const overview: Draft = {
    key: 'overview',
    title: { zh: '概况', en: 'Overview' },
    columns: [col('item', '项目', 'Item', 'text'), col('value', '数值', 'Value')],
    ...withFormats([
      ['覆盖住户', r.coverage.households],
      ['服务老人', r.coverage.elders],
      ['已装设备住户', r.coverage.householdsWithDevice],
      ['未装设备住户', r.coverage.householdsWithoutDevice],
      ['已安装设备', r.devices.installed],
      ['设备在线率', r.devices.onlineRate, 'percent'],
      ['紧急报警(含测试)', r.alarms.total],
      ['其中测试报警', r.alarms.tests],
      ['其中居民取消', r.alarms.cancelledByResident],
      ['接警用时中位数(秒)', round(r.alarms.ack.medianAckS), 'seconds'],
      ['接警用时 90 分位(秒)', round(r.alarms.ack.p90AckS), 'seconds'],
      [`${ACK_TARGET_S} 秒内接警占比`, r.alarms.ack.within60sShare, 'percent'],
      ['事件总数', sum(r.outcomes.map((o) => o.total))],
      ['关怀发现', r.wellbeing.total],
      ['应探访', r.visits.due],
      ['已探访', r.visits.done],
      ['探访完成率', r.visits.doneShare, 'percent'],
      ['月末逾期未探访', r.visits.overdueAtMonthEnd],
      ['服务工单', r.tickets.total],
      ['工单完成率', r.tickets.completionRate, 'percent'],
      ['工单完成用时中位数(分钟)', r.tickets.medianCompleteMin, 'minutes'],
    ]),
    notes: [
      { zh: '老人数按住户登记计:每户登记一位老人。住户与设备按月末已登记者计(已删除的不再计入)。', en: 'Elders: the registry records one elder per household. Households and devices registered by the end of the month (deleted ones are gone).' },
      { zh: `事件、报警按发生时间计入当月,工单按提出时间,探访按应探访日期;月份按北京时间零点划分。${r.partial ? '本月尚未结束,数字截至生成时。' : ''}`, en: `Incidents and alarms count in the month they opened, tickets when requested, visits when due; months start at local midnight (Asia/Shanghai).${r.partial ? ' The month is not over: figures so far.' : ''}` },
    ],
  }
  const devices: Draft = {
    key: 'devices',
    rowFormats: [],
    title: { zh: '设备', en: 'Devices' },
    columns: [col('kind', '设备类型', 'Kind', 'text'), col('installed', '已安装', 'Installed'), col('heardLast24h', '近 24 小时有上报', 'Heard in last 24 h'), col('neverHeard', '从未上报', 'Never heard'), col('onlineRate', '在线率', 'Online rate', 'percent')],
    rows: [
      ...r.devices.byKind.map((d) => [label(DEVICE_KIND, d.kind).zh, d.installed, d.heardLast24h, d.neverHeard, d.onlineRate]),
      [t, r.devices.installed, r.devices.heardLast24h, r.devices.neverHeard, r.devices.onlineRate],
    ],
    notes: [
      {
        zh: '在线率 = 月末前已安装的设备中,报表生成前 24 小时内有上报的比例。平台只保存每台设备最近一次上报时间,所以这是生成报表时的在线情况,不是月末当时的。',
        en: 'Online rate = of the devices installed by the end of the month, the share heard in the 24 h before the report was made. The platform keeps only each device\'s latest contact, so this is the rate when the report was made, not at the month\'s end.',
      },
    ],
  }
  const alarms: Draft = {
    key: 'alarms',
    rowFormats: [],
    title: { zh: '报警', en: 'Alarms' },
    columns: [col('type', '报警类型', 'Type', 'text'), col('total', '报警数', 'Alarms'), col('tests', '测试报警', 'Tests'), col('cancelled', '居民取消', 'Cancelled by resident'), ...ackCols],
    rows: [...r.alarms.byType.map((a) => [label(INCIDENT_TYPE, a.type).zh, a.total, a.tests, a.cancelledByResident, ...ackCells(a)]), [t, r.alarms.total, r.alarms.tests, r.alarms.cancelledByResident, ...ackCells(r.alarms.ack)]],
    notes: [
      {
        zh: `接警用时 = 报警到值班员接警;只有值班员接警才算(家属回复不算),超过 ${ACK_TARGET_S} 秒仍无人接警的按至今等待时间计入、记为未达标,与值班台“今日服务水平”同一规则。测试报警不计入用时。绿色服务键的服务请求不属报警。`,
        en: `Time to acknowledge: from the alarm to an operator's acknowledgement (a family answer does not count); one still unanswered past ${ACK_TARGET_S} s counts with its wait so far, as a miss — the console's service-level rule. Tests are left out of the times. Green-button service requests are not alarms.`,
      },
    ],
  }
  const outcomeCols = outcomeKeys.map((k) => col(k, label(OUTCOME, k).zh, label(OUTCOME, k).en))
  const outcomes: Draft = {
    key: 'outcomes',
    rowFormats: [],
    title: { zh: '事件结果', en: 'Incident outcomes' },
    columns: [col('category', '事件类别', 'Category', 'text'), ...outcomeCols, col('total', '合计', 'Total')],
    rows: [
      ...r.outcomes.map((o) => [label(CATEGORY, o.category).zh, ...outcomeKeys.map((k) => o.byOutcome[k] ?? 0), o.total]),
      [t, ...outcomeKeys.map((k) => sum(r.outcomes.map((o) => o.byOutcome[k] ?? 0))), sum(r.outcomes.map((o) => o.total))],
    ],
    notes: [{ zh: '“处理中”为生成报表时尚未处理完成的事件。', en: '“Still open”: not closed when the report was made.' }],
  }
  const wellCols = wellOutcomeKeys.map((k) => col(k, label(OUTCOME, k).zh, label(OUTCOME, k).en))
  const wellbeing: Draft = {
    key: 'wellbeing',
    rowFormats: [],
    title: { zh: '关怀发现', en: 'Wellbeing findings' },
    columns: [col('type', '发现类型', 'Finding', 'text'), ...wellCols, col('total', '合计', 'Total')],
    rows: [
      ...r.wellbeing.byType.map((w) => [label(INCIDENT_TYPE, w.type).zh, ...wellOutcomeKeys.map((k) => w.byOutcome[k] ?? 0), w.total]),
      [t, ...wellOutcomeKeys.map((k) => sum(r.wellbeing.byType.map((w) => w.byOutcome[k] ?? 0))), r.wellbeing.total],
    ],
    notes: [{ zh: '关怀发现:用水、活动等检测规则发现的异常,按结束方式统计。', en: 'Findings of the water and activity rules, by how they ended.' }],
  }
  const v = r.visits
  const visits: Draft = {
    key: 'visits',
    rowFormats: [],
    title: { zh: '探访', en: 'Visits' },
    columns: [
      col('source', '探访来源', 'Source', 'text'),
      col('due', '应探访', 'Due'),
      col('seen', '已探访·见到本人', 'Done · seen'),
      col('notSeen', '已探访·未见到', 'Done · not seen'),
      col('pending', '未探访', 'Not done'),
      col('cancelled', '已取消', 'Cancelled'),
      col('overdue', '月末逾期', 'Overdue at month end'),
    ],
    rows: [...v.bySource.map((s) => [label(VISIT_SOURCE, s.source).zh, s.due, s.seen, s.notSeen, s.pending, s.cancelled, s.overdueAtMonthEnd]), [t, v.due, v.seen, v.notSeen, v.pending, v.cancelled, v.overdueAtMonthEnd]],
    notes: [
      {
        zh: '应探访:应探访日期在本月、未取消的探访。月末逾期:应探访日期在月末之前、到月末仍未探访的(含更早月份的)。',
        en: 'Due: visits due this month, not cancelled. Overdue at month end: due before the month ended and not done by then (earlier months included).',
      },
    ],
  }
  const tk = r.tickets
  const tickets: Draft = {
    key: 'tickets',
    title: { zh: '服务工单', en: 'Service tickets' },
    columns: [col('type', '服务类型', 'Type', 'text'), col('pending', '待派单', 'Pending'), col('dispatched', '已派单', 'Dispatched'), col('done', '已完成', 'Done'), col('cancelled', '已取消', 'Cancelled'), col('total', '合计', 'Total')],
    ...withFormats([
      ...tk.byType.map((x): FormattedRow => [label(TICKET_TYPE, x.type).zh, ...TICKET_STATES.map((st) => x.byState[st] ?? 0), x.total]),
      [t, ...TICKET_STATES.map((st) => tk.byState[st] ?? 0), tk.total],
      ['完成率', tk.completionRate, 'percent'],
      ['完成用时中位数(分钟)', tk.medianCompleteMin, 'minutes'],
      ['评价·满意', tk.feedback.satisfied ?? 0],
      ['评价·一般', tk.feedback.neutral ?? 0],
      ['评价·不满意', tk.feedback.unsatisfied ?? 0],
      ['未评价', tk.feedback.none ?? 0],
    ]),
    notes: [
      { zh: '完成率 = 已完成 ÷(合计 − 已取消)。完成用时:从提出到完成。', en: 'Completion rate = done ÷ (total − cancelled). Time to complete: from request to done.' },
    ],
  }
  return [overview, devices, alarms, outcomes, wellbeing, visits, tickets].map((s) => ({ ...s, rowLabels: s.rows.map((r) => ({ zh: String(r[0] ?? ''), en: englishOf(String(r[0] ?? '')) })) }))
}
