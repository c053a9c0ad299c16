/** The monthly report's pure parts: the month window, quantiles, the acknowledgement rule, assembly. */
import { describe, expect, it } from 'vitest'
import { attachment } from '../../src/api/report-routes.js'
import { quantile } from '../../src/incidents/service-level.js'
import { ackFigures, assembleMonthlyReport, median, ordered, share, type ReportMeta } from '../../src/reports/figures.js'
import { localMonth, shiftMonth } from '../../src/detectors/local-time.js'
import { parseReportMonth } from '../../src/reports/month.js'
import { reportFileName, reportTitle } from '../../src/reports/xlsx.js'
import type { RawMonthlyFigures } from '../../src/store/reports.js'

const NOW = Date.UTC(2026, 11, 7, 8)

describe('the report month', () => {
  it('runs from local midnight on the 1st to local midnight on the 1st of the next (Asia/Shanghai)', () => {
    expect(parseReportMonth('2026-11', NOW)).toEqual({ ok: true, value: { month: '2026-11', start: Date.UTC(2026, 9, 31, 16), end: Date.UTC(2026, 10, 30, 16) } })
    expect(parseReportMonth('2025-12', NOW)).toMatchObject({ ok: true, value: { start: Date.UTC(2025, 10, 30, 16), end: Date.UTC(2025, 11, 31, 16) } })
    expect(parseReportMonth('2024-02', NOW)).toMatchObject({ ok: true, value: { end: Date.UTC(2024, 1, 29, 16) } })
    // in another zone the boundaries move with it
    expect(parseReportMonth('2026-07', NOW, 'Europe/Berlin')).toMatchObject({ ok: true, value: { start: Date.UTC(2026, 5, 30, 22), end: Date.UTC(2026, 6, 31, 22) } })
  })

  it('accepts the current month (figures so far) and refuses a malformed, impossible or future one', () => {
    expect(parseReportMonth('2026-12', NOW).ok).toBe(true)
    for (const bad of ['2026-13', '2026-00', '2026-1', '26-11', '2026/11', '', '1999-12']) expect(parseReportMonth(bad, NOW).ok, bad).toBe(false)
    const future = parseReportMonth('2027-01', NOW)
    expect(future).toMatchObject({ ok: false })
    expect(!future.ok && future.message).toContain('not begun')
    // 2027-01 begins at 2026-12-31T16:00Z
    expect(parseReportMonth('2027-01', Date.UTC(2026, 11, 31, 16)).ok).toBe(true)
  })

  it('names the local month of an instant, and the month before', () => {
    expect(localMonth(Date.UTC(2026, 10, 30, 15, 59), 'Asia/Shanghai')).toBe('2026-11')
    expect(localMonth(Date.UTC(2026, 10, 30, 16), 'Asia/Shanghai')).toBe('2026-12')
    expect(shiftMonth('2026-01', -1)).toBe('2025-12')
    expect(shiftMonth('2026-11', -1)).toBe('2026-10')
  })
})

describe('figures', () => {
  it('quantiles by nearest rank, as the console does', () => {
    expect(quantile([], 0.5)).toBeNull()
    expect(median([300, 20, 90, 45])).toBe(45)
    expect(quantile([300, 20, 90, 45], 0.9)).toBe(300)
    expect(quantile([7], 0.9)).toBe(7)
    expect(quantile(Array.from({ length: 10 }, (_, i) => i + 1), 0.9)).toBe(9)
    expect(share(1, 0)).toBeNull()
    expect(ordered(['b', 'a'], ['z', 'a', 'c', 'a'])).toEqual(['a', 'c', 'z'])
  })

  it('times only operator acknowledgements; an alarm unanswered past 60 s is a miss with its wait so far', () => {
    const opened = 1_000_000
    const f = ackFigures(
      [
        { type: 'sos', state: 'resolved', openedAt: opened, acknowledgedAt: opened + 20_000, acknowledgedBy: 'user:op' },
        { type: 'fall', state: 'resolved', openedAt: opened, acknowledgedAt: opened + 61_000, acknowledgedBy: 'user:op' },
        // a family member's answer answers nothing; resolved since, it does not count at all
        { type: 'sos', state: 'resolved', openedAt: opened, acknowledgedAt: opened + 5_000, acknowledgedBy: 'family:ct-1' },
        // still open 200 s after: a miss of 200 s
        { type: 'sos', state: 'open', openedAt: opened, acknowledgedAt: null, acknowledgedBy: null },
        // still open, but only 30 s: not decided yet
        { type: 'gas', state: 'open', openedAt: opened + 170_000, acknowledgedAt: null, acknowledgedBy: null },
      ],
      opened + 200_000,
    )
    expect(f).toEqual({ counted: 3, medianAckS: 61, p90AckS: 200, within60sShare: 1 / 3 })
    expect(ackFigures([], 0)).toEqual({ counted: 0, medianAckS: null, p90AckS: null, within60sShare: null })
  })
})

const META: ReportMeta = {
  month: '2026-11',
  scope: { kind: 'community', name: '梅园社区', street: '安居街道', communities: [{ id: 'com-a', name: '梅园社区' }] },
  start: Date.UTC(2026, 9, 31, 16),
  end: Date.UTC(2026, 10, 30, 16),
  timeZone: 'Asia/Shanghai',
  generatedAt: Date.UTC(2026, 11, 2),
}
const RAW: RawMonthlyFigures = {
  households: 10,
  householdsWithDevice: 8,
  devices: [
    { kind: 'water', installed: 8, heardLast24h: 6, neverHeard: 1 },
    { kind: 'button', installed: 8, heardLast24h: 8, neverHeard: 0 },
  ],
  alarms: [{ type: 'sos', total: 3, cancelled: 1, tests: 1 }],
  alarmAcks: [
    { type: 'sos', state: 'resolved', openedAt: 0, acknowledgedAt: 30_000, acknowledgedBy: 'user:a' },
    { type: 'sos', state: 'resolved', openedAt: 0, acknowledgedAt: 90_000, acknowledgedBy: 'user:a' },
  ],
  incidentOutcomes: [
    { key: 'wellbeing', sub: 'settled_by_family', n: 2 },
    { key: 'emergency', sub: 'test', n: 1 },
    { key: 'emergency', sub: 'emergency_handled', n: 2 },
    { key: 'wellbeing', sub: 'active', n: 1 },
  ],
  wellbeing: [
    { key: 'no_water_day', sub: 'settled_by_family', n: 2 },
    { key: 'inactivity', sub: 'active', n: 1 },
  ],
  visits: [
    { key: 'plan', sub: 'seen', n: 7 },
    { key: 'plan', sub: 'not_seen', n: 1 },
    { key: 'plan', sub: 'planned', n: 2 },
    { key: 'operator', sub: 'cancelled', n: 1 },
  ],
  visitsOverdue: [{ key: 'plan', sub: '', n: 2 }],
  tickets: [
    { key: 'bath', sub: 'done', n: 1 },
    { key: 'meal', sub: 'done', n: 3 },
    { key: 'meal', sub: 'cancelled', n: 1 },
    { key: 'meal', sub: 'pending', n: 1 },
  ],
  ticketDurationsMs: [10 * 60_000, 50 * 60_000, 95 * 60_000, 30 * 60_000],
  ticketFeedback: [
    { key: 'satisfied', sub: '', n: 3 },
    { key: 'none', sub: '', n: 3 },
  ],
}

describe('the assembled report', () => {
  const r = assembleMonthlyReport(RAW, META)

  it('derives coverage, online rate, completion and visit shares', () => {
    expect(r.coverage).toEqual({ households: 10, elders: 10, householdsWithDevice: 8, householdsWithoutDevice: 2 })
    expect(r.devices).toMatchObject({ installed: 16, heardLast24h: 14, neverHeard: 1, onlineRate: 14 / 16, onlineAsOf: META.generatedAt })
    expect(r.alarms).toMatchObject({ total: 3, cancelledByResident: 1, tests: 1, ack: { counted: 2, medianAckS: 30, p90AckS: 90, within60sShare: 0.5 } })
    expect(r.alarms.byType.map((a) => a.type)).toEqual(['sos', 'fall', 'smoke', 'gas'])
    expect(r.outcomes).toEqual([
      { category: 'emergency', byOutcome: { test: 1, emergency_handled: 2 }, total: 3 },
      { category: 'wellbeing', byOutcome: { settled_by_family: 2, active: 1 }, total: 3 },
    ])
    expect(r.visits).toMatchObject({ due: 10, done: 8, seen: 7, notSeen: 1, pending: 2, cancelled: 1, overdueAtMonthEnd: 2, doneShare: 0.8 })
    // 4 done of 6, one cancelled: 4 / 5
    expect(r.tickets).toMatchObject({ total: 6, byState: { pending: 1, dispatched: 0, done: 4, cancelled: 1 }, completionRate: 0.8, medianCompleteMin: 30, feedback: { satisfied: 3, neutral: 0, unsatisfied: 0, none: 3 } })
    expect(r.tickets.byType.map((t) => t.type)).toEqual(['meal', 'bath'])
    expect(r.partial).toBe(false)
  })

  it('lays the same figures out as the seven tables, outcomes in a fixed order, totals last', () => {
    expect(r.sections.map((s) => s.title.zh)).toEqual(['概况', '设备', '报警', '事件结果', '关怀发现', '探访', '服务工单'])
    const outcomes = r.sections.find((s) => s.key === 'outcomes')!
    expect(outcomes.columns.map((c) => c.label.zh)).toEqual(['事件类别', '紧急情况已处理', '家属确认平安', '测试', '处理中', '合计'])
    expect(outcomes.rows).toEqual([
      ['紧急报警', 2, 0, 1, 0, 3],
      ['关怀发现', 0, 2, 0, 1, 3],
      ['合计', 2, 2, 1, 1, 6],
    ])
    const overview = r.sections.find((s) => s.key === 'overview')!
    const i = overview.rows.findIndex((row) => row[0] === '设备在线率')
    expect(overview.rows[i]).toEqual(['设备在线率', 14 / 16])
    expect(overview.rowFormats[i]).toBe('percent')
    for (const s of r.sections) {
      // every row has its English name on the page
      for (const l of s.rowLabels) expect(l.en, `${s.key}: ${l.zh}`).not.toBe(l.zh)
      expect(s.rowLabels.map((l) => l.zh)).toEqual(s.rows.map((row) => row[0]))
      expect(s.rowFormats).toSatisfy((f: unknown[]) => f.length === 0 || f.length === s.rows.length)
      for (const row of s.rows) expect(row.length, s.key).toBeLessThanOrEqual(s.columns.length)
    }
  })

  it('says when the month is not over, and names the file in Chinese with an ASCII fallback', () => {
    expect(assembleMonthlyReport(RAW, { ...META, generatedAt: META.end - 1 }).partial).toBe(true)
    expect(reportTitle(r)).toBe('梅园社区 2026年11月 安居月报')
    expect(reportFileName(r)).toBe('安居月报-梅园社区-2026-11.xlsx')
    expect(attachment('安居月报-梅园社区-2026-11.xlsx')).toBe(
      `attachment; filename="____-____-2026-11.xlsx"; filename*=UTF-8''${encodeURIComponent('安居月报-梅园社区-2026-11.xlsx')}`,
    )
  })
})
