/**
 * The console's chart shaping, pure: the history API's JSON → ECharts options and point counts.
 * Type-checked with the dashboards (dashboards/tsconfig.json, bundler resolution), not with the server.
 */
import { describe, expect, it } from 'vitest'
import { batteryChart, presenceChart, waterChart } from '../../dashboards/src/console/history-charts'
import type { HouseholdHistory } from '../../dashboards/src/shared/types'

const H = 3_600_000
const NOW = Date.UTC(2026, 11, 1, 12)
const t = (key: string) => ({ 'hist.litres': '用水(升)', 'room.bedroom': '卧室', 'type.no_water': '未用水', 'kindOf.button': '一键通', 'hist.motion': '有人活动', 'hist.occupied': '有人(静止)', 'hist.empty': '无人', 'hist.unknownRoom': '未标注房间' })[key] ?? key

function history(over: Partial<HouseholdHistory> = {}): HouseholdHistory {
  return {
    now: NOW,
    water: { from: NOW - 3 * H, to: NOW, hourly: [{ at: NOW - 3 * H, litres: null }, { at: NOW - 2 * H, litres: 12 }, { at: NOW - H, litres: 0 }, { at: NOW, litres: null }] },
    presence: { from: NOW - 2 * H, to: NOW, rooms: [] },
    battery: { from: NOW - 3 * H, to: NOW, devices: [] },
    alerts: [],
    ...over,
  }
}
type Series = { data: unknown[]; markArea?: { data: { xAxis: number; name?: string }[][] }; name: string }

describe('water chart', () => {
  it('plots covered hours only (a silent hour is a gap, zero is a bar) and shades alert windows clipped to the chart', () => {
    const spec = waterChart(history({ alerts: [{ incidentId: 'i1', type: 'no_water', category: 'wellbeing', from: NOW - 10 * H, to: null }] }), t)
    expect(spec.points).toBe(2)
    const [series] = (spec.option as { series: Series[] }).series
    expect(series!.data).toEqual([[NOW - 3 * H, '-'], [NOW - 2 * H, 12], [NOW - H, 0], [NOW, '-']])
    expect(series!.markArea!.data).toEqual([[{ name: '未用水', xAxis: NOW - 3 * H }, { xAxis: NOW }]])
  })

  it('leaves out alert windows that ended before the chart begins', () => {
    const spec = waterChart(history({ alerts: [{ incidentId: 'old', type: 'no_water', category: 'wellbeing', from: NOW - 9 * H, to: NOW - 8 * H }] }), t)
    expect((spec.option as { series: Series[] }).series[0]!.markArea).toBeUndefined()
  })
})

describe('presence chart', () => {
  it('has a row per sensor and a series per state, spans clipped to the window', () => {
    const spec = presenceChart(history({
      presence: {
        from: NOW - 2 * H, to: NOW,
        rooms: [
          { deviceId: 'pr-1', room: 'bedroom', spans: [{ from: NOW - 3 * H, to: NOW - H, state: 'motion' }, { from: NOW - H, to: NOW, state: 'empty' }] },
          { deviceId: 'pr-2', room: null, spans: [] },
        ],
      },
    }), t)
    expect(spec.points).toBe(2)
    const option = spec.option as { yAxis: { data: string[] }; series: Series[] }
    expect(option.yAxis.data).toEqual(['卧室', '未标注房间 pr-2'])
    expect(option.series.map((s) => s.name)).toEqual(['有人活动', '有人(静止)', '无人'])
    expect(option.series[0]!.data).toEqual([[0, NOW - 2 * H, NOW - H]])
    expect(option.series[2]!.data).toEqual([[0, NOW - H, NOW]])
  })
})

describe('battery chart', () => {
  it('draws a line per device named by kind and id, and counts every point', () => {
    const spec = batteryChart(history({ battery: { from: NOW - 3 * H, to: NOW, devices: [{ deviceId: 'btn-1', kind: 'button', room: null, points: [[NOW - 2 * H, 81], [NOW - H, 80]] }] } }), t)
    expect(spec.points).toBe(2)
    const series = (spec.option as { series: Series[] }).series
    expect(series.map((s) => [s.name, s.data])).toEqual([['一键通 (btn-1)', [[NOW - 2 * H, 81], [NOW - H, 80]]]])
    expect(batteryChart(history(), t).points).toBe(0)
  })
})
