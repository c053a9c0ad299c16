/**
 * The console's chart shaping, pure: the history API's JSON → ECharts options and point counts.
 * Type-checked with the dashboards (dashboards/tsconfig.json, bundler resolution), not with the server.
 */
import { describe, expect, it } from 'vitest'
import { batteryChart, presenceChart, waterChart } from '../../dashboards/src/console/history-charts'
import type { HouseholdHistory } from '../../dashboards/src/shared/types'
import { messages } from '../../dashboards/src/shared/messages'
import { createI18n } from 'vue-i18n'

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
    expect(option.yAxis.data).toEqual(['卧室', '未标注房间'])
    expect(option.series.map((s) => s.name)).toEqual(['有人活动', '有人(静止)', '无人'])
    expect(option.series[0]!.data).toEqual([[0, NOW - 2 * H, NOW - H]])
    expect(option.series[2]!.data).toEqual([[0, NOW - H, NOW]])
  })
})

describe('battery chart', () => {
  it('draws a line per device named by kind and room (never its serial), and counts every point', () => {
    const spec = batteryChart(history({ battery: { from: NOW - 3 * H, to: NOW, devices: [{ deviceId: 'btn-1', kind: 'button', room: null, points: [[NOW - 2 * H, 81], [NOW - H, 80]] }] } }), t)
    expect(spec.points).toBe(2)
    const series = (spec.option as { series: Series[] }).series
    expect(series.map((s) => [s.name, s.data])).toEqual([['一键通', [[NOW - 2 * H, 81], [NOW - H, 80]]]])
    expect(batteryChart(history(), t).points).toBe(0)
  })
})

describe('words on the charts (zh-CN, with the real catalogue)', () => {
  const i18n = createI18n({ legacy: false, locale: 'zh-CN', messages, missingWarn: false, fallbackWarn: false })
  const zh = i18n.global.t as unknown as (key: string, vars?: Record<string, unknown>) => string
  const full = history({
    presence: { from: NOW - 2 * H, to: NOW, rooms: [
      { deviceId: 'pr-1', room: 'bedroom', spans: [{ from: NOW - 2 * H, to: NOW - H, state: 'motion' }, { from: NOW - H, to: NOW, state: 'empty' }] },
      { deviceId: 'pr-2', room: 'bedroom', spans: [{ from: NOW - 2 * H, to: NOW, state: 'occupied' }] },
    ] },
    battery: { from: NOW - 3 * H, to: NOW, devices: [{ deviceId: 'btn-1', kind: 'button', room: null, points: [[NOW - 2 * H, 81], [NOW - H, 80]] }] },
  })
  const aria = (spec: { option: Record<string, unknown> }) => (spec.option as { aria: { label: { description: string } } }).aria.label.description

  it('describes each chart for a screen reader in words with units: no epochs, no NaN, no serials', () => {
    const water = aria(waterChart(full, zh))
    expect(water).toMatch(/^近 7 天每小时用水量,单位升:共 12 升,最高 12 升\(\d+月\d+日 \d\d:00\),2 个小时有读数$/)
    const presence = aria(presenceChart(full, zh))
    expect(presence).toBe('近 48 小时各房间活动:卧室 1 有人活动 1 小时,有人静止 0 分钟,无人 1 小时;卧室 2 有人活动 0 分钟,有人静止 2 小时,无人 0 分钟')
    expect(aria(batteryChart(full, zh))).toBe('设备电量,单位百分比:一键通 最近 80%(最低 80%)')
    for (const text of [water, presence]) expect(text).not.toMatch(/NaN|undefined|\d{10,}|pr-\d/)
  })

  it('writes dates with 日 on the time axis and units in the tooltips', () => {
    const spec = waterChart(full, zh)
    const option = spec.option as { xAxis: { axisLabel: { formatter: Record<string, string> } }; tooltip: { formatter: (p: unknown) => string } }
    expect(option.xAxis.axisLabel.formatter.day).toBe('{M}月{d}日')
    const tip = option.tooltip.formatter([{ value: [NOW - 2 * H, 12], marker: '', seriesName: '用水(升)' }])
    expect(tip).toMatch(/^\d+月\d+日 \d\d:00<br>用水\(升\):12 升$/)
    expect(option.tooltip.formatter([{ value: [NOW, '-'], marker: '', seriesName: '用水(升)' }])).toContain(':—')
    const battery = batteryChart(full, zh).option as { tooltip: { formatter: (p: unknown) => string } }
    expect(battery.tooltip.formatter([{ value: [NOW - H, 80], marker: '', seriesName: '一键通' }])).toMatch(/一键通:80%$/)
  })
})
