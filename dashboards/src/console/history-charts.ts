/**
 * Pure: GET /api/households/{id}/history → Apache ECharts options for the three history charts,
 * each with the number of points/spans it plots (the charts' `data-points`, and "no data yet" at 0).
 */
import type { HouseholdHistory, PresenceState } from '../shared/types'

type T = (key: string, vars?: Record<string, unknown>) => string
export interface ChartSpec { option: Record<string, unknown>; points: number; height: number }

export const STATE_COLOURS: Record<PresenceState, string> = { motion: '#15803d', occupied: '#1d4ed8', empty: '#9ca3af' }
const STATES: PresenceState[] = ['motion', 'occupied', 'empty']
const INK = '#1f2937'
const axisText = { color: INK }

/** A translation, or the key's last part when the catalogue lacks it (unknown room or kind). */
const word = (t: T, key: string) => { const s = t(key); return s === key ? key.split('.').pop()! : s }

const timeAxis = (min: number, max: number) => ({
  type: 'time', min, max, axisLabel: { ...axisText, hideOverlap: true }, splitLine: { show: true, lineStyle: { color: '#e5e7eb' } },
})
const base = (bottomLegend: boolean) => ({
  aria: { enabled: true },
  animation: false,
  grid: { left: 48, right: 16, top: bottomLegend ? 36 : 16, bottom: 28, containLabel: false },
})

/** Litres per hour as bars (a silent hour is a gap, not zero), the alert windows shaded. */
export function waterChart(h: HouseholdHistory, t: T): ChartSpec {
  const hours = h.water.hourly
  const points = hours.filter((e) => e.litres != null).length
  const areas = h.alerts
    .filter((a) => (a.to ?? h.now) >= h.water.from && a.from <= h.water.to)
    .map((a) => [
      { name: word(t, `type.${a.type}`), xAxis: Math.max(a.from, h.water.from) },
      { xAxis: Math.min(a.to ?? h.now, h.water.to) },
    ])
  return {
    points,
    height: 220,
    option: {
      ...base(false),
      tooltip: { trigger: 'axis' },
      xAxis: timeAxis(h.water.from, h.water.to),
      yAxis: { type: 'value', name: t('hist.litres'), nameTextStyle: axisText, axisLabel: axisText },
      series: [{
        name: t('hist.litres'),
        type: 'bar',
        barMaxWidth: 8,
        itemStyle: { color: '#0369a1' },
        data: hours.map((e) => [e.at, e.litres ?? '-']),
        markArea: areas.length
          ? { silent: true, itemStyle: { color: 'rgba(185, 28, 28, 0.15)' }, label: { color: '#7f1d1d', fontSize: 11, position: 'insideTopRight' }, data: areas }
          : undefined,
      }],
    },
  }
}

/** One row per presence sensor, its spans coloured by state (one custom series per state, for the legend). */
export function presenceChart(h: HouseholdHistory, t: T): ChartSpec {
  const rooms = h.presence.rooms
  const seen = new Map<string, number>()
  for (const r of rooms) seen.set(r.room ?? '', (seen.get(r.room ?? '') ?? 0) + 1)
  const labels = rooms.map((r) => {
    const name = r.room ? word(t, `room.${r.room}`) : t('hist.unknownRoom')
    return (seen.get(r.room ?? '') ?? 0) > 1 || !r.room ? `${name} ${r.deviceId}` : name
  })
  const points = rooms.reduce((n, r) => n + r.spans.length, 0)
  const { from, to } = h.presence
  const series = STATES.map((st) => ({
    name: t(`hist.${st}`),
    type: 'custom',
    itemStyle: { color: STATE_COLOURS[st] },
    encode: { x: [1, 2], y: 0 },
    data: rooms.flatMap((r, row) => r.spans.filter((s) => s.state === st).map((s) => [row, Math.max(s.from, from), Math.min(s.to, to)])),
    renderItem: renderSpan,
  }))
  return {
    points,
    height: 70 + Math.max(1, rooms.length) * 34,
    option: {
      ...base(true),
      grid: { left: 96, right: 16, top: 36, bottom: 28 },
      legend: { top: 0, textStyle: axisText },
      tooltip: {
        formatter: (p: { seriesName: string; value: number[]; marker: string }) =>
          `${p.marker}${labels[p.value[0]!] ?? ''} · ${p.seriesName}<br>${clock(p.value[1]!)} – ${clock(p.value[2]!)}`,
      },
      xAxis: timeAxis(from, to),
      yAxis: { type: 'category', data: labels, inverse: true, axisLabel: axisText },
      series,
    },
  }
}

interface RenderApi { value(i: number): number; coord(v: number[]): number[]; size(v: number[]): number[]; style(): Record<string, unknown> }
interface RenderParams { coordSys: { x: number; y: number; width: number; height: number } }

/** A span as a rectangle on its room's row, clipped to the plot. */
function renderSpan(params: RenderParams, api: RenderApi) {
  const row = api.value(0)
  const [x0 = 0, y = 0] = api.coord([api.value(1), row])
  const [x1 = 0] = api.coord([api.value(2), row])
  const band = (api.size([0, 1])[1] ?? 20) * 0.6
  const box = params.coordSys
  const left = Math.max(x0, box.x)
  const right = Math.min(x1, box.x + box.width)
  if (right < left) return null
  return { type: 'rect', shape: { x: left, y: y - band / 2, width: Math.max(right - left, 1.5), height: band }, style: api.style() }
}

/** One line per device. */
export function batteryChart(h: HouseholdHistory, t: T): ChartSpec {
  const devices = h.battery.devices
  const points = devices.reduce((n, d) => n + d.points.length, 0)
  return {
    points,
    height: 240,
    option: {
      ...base(true),
      legend: { top: 0, type: 'scroll', textStyle: axisText },
      tooltip: { trigger: 'axis' },
      xAxis: timeAxis(h.battery.from, h.battery.to),
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { ...axisText, formatter: '{value}%' } },
      series: devices.map((d) => ({
        name: `${word(t, `kindOf.${d.kind}`)}${d.room ? ` · ${word(t, `room.${d.room}`)}` : ''} (${d.deviceId})`,
        type: 'line',
        showSymbol: d.points.length < 40,
        data: d.points,
      })),
    },
  }
}

const pad = (n: number) => String(n).padStart(2, '0')
function clock(at: number): string {
  const d = new Date(at)
  return `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}
