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
const pad = (n: number) => String(n).padStart(2, '0')
const axisText = { color: INK }

/** A translation, or the key's last part when the catalogue lacks it (unknown room or kind). */
const word = (t: T, key: string) => { const s = t(key); return s === key ? key.split('.').pop()! : s }

/** Date axes read 12月3日 (with 日) in Chinese and Dec 3 in English; hours as 08:00. */
const AXIS_LABELS: Record<'zh' | 'en', Record<string, string>> = {
  zh: { year: '{yyyy}年', month: '{M}月', day: '{M}月{d}日', hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}', millisecond: '{HH}:{mm}:{ss}', none: '{M}月{d}日 {HH}:{mm}' },
  en: { year: '{yyyy}', month: '{MMM}', day: '{MMM} {d}', hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}', millisecond: '{HH}:{mm}:{ss}', none: '{MMM} {d} {HH}:{mm}' },
}
const langOf = (lang: string) => (lang === 'en' ? 'en' : 'zh')

const timeAxis = (min: number, max: number, lang: string) => ({
  type: 'time', min, max, axisLabel: { ...axisText, hideOverlap: true, formatter: AXIS_LABELS[langOf(lang)] }, splitLine: { show: true, lineStyle: { color: '#e5e7eb' } },
})
/** `description` is what a screen reader hears (ECharts' aria label): words and units, never raw epochs. */
const base = (bottomLegend: boolean, description: string) => ({
  aria: { enabled: true, label: { enabled: true, description } },
  animation: false,
  grid: { left: 48, right: 16, top: bottomLegend ? 36 : 16, bottom: 28, containLabel: false },
})

/** A moment on a chart: 12月3日 08:00 (Dec 3, 08:00). */
export function chartTime(at: number, lang: string): string {
  const d = new Date(at)
  return langOf(lang) === 'en'
    ? `${d.toLocaleString('en', { month: 'short' })} ${d.getDate()}, ${pad(d.getHours())}:${pad(d.getMinutes())}`
    : `${d.getMonth() + 1}月${d.getDate()}日 ${pad(d.getHours())}:${pad(d.getMinutes())}`
}
/** A number as people write it: at most one decimal. */
const num = (n: number) => String(Math.round(n * 10) / 10)
/** A duration in hours, or minutes when under one. */
const span = (ms: number, t: T) => (ms >= 3_600_000 ? t('words.chart.hours', { n: num(ms / 3_600_000) }) : t('words.chart.minutes', { n: Math.round(ms / 60_000) }))

interface AxisPoint { value: [number, number | string]; marker: string; seriesName: string }
/** An axis tooltip: the time in words, then each series with its unit; a missing value is a dash. */
const axisTooltip = (lang: string, unit: (n: number) => string) => ({
  trigger: 'axis',
  formatter: (params: AxisPoint | AxisPoint[]) => {
    const list = Array.isArray(params) ? params : [params]
    if (!list.length) return ''
    const rows = list.map((p) => `${p.marker}${p.seriesName}:${typeof p.value[1] === 'number' ? unit(p.value[1]) : '—'}`)
    return [chartTime(list[0]!.value[0], lang), ...rows].join('<br>')
  },
})

/** Display names for a list where the same name may repeat: the second 卧室 is 卧室 2. */
function numbered(names: string[]): string[] {
  const total = new Map<string, number>()
  for (const n of names) total.set(n, (total.get(n) ?? 0) + 1)
  const seen = new Map<string, number>()
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1
    seen.set(n, k)
    return (total.get(n) ?? 0) > 1 ? `${n} ${k}` : n
  })
}

/** Litres per hour as bars (a silent hour is a gap, not zero), the alert windows shaded. */
export function waterChart(h: HouseholdHistory, t: T, lang = 'zh-CN'): ChartSpec {
  const hours = h.water.hourly
  const read = hours.filter((e): e is { at: number; litres: number } => e.litres != null)
  const points = read.length
  const top = read.reduce<{ at: number; litres: number } | null>((m, e) => (m === null || e.litres > m.litres ? e : m), null)
  const description = t('words.chart.water', {
    total: num(read.reduce((n, e) => n + e.litres, 0)), max: num(top?.litres ?? 0), at: top ? chartTime(top.at, lang) : '—', n: points,
  })
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
      ...base(false, description),
      tooltip: axisTooltip(lang, (n) => t('words.chart.litres', { n: num(n) })),
      xAxis: timeAxis(h.water.from, h.water.to, lang),
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
export function presenceChart(h: HouseholdHistory, t: T, lang = 'zh-CN'): ChartSpec {
  const rooms = h.presence.rooms
  // two sensors in one room read 卧室 1 and 卧室 2 (a serial number means nothing here)
  const labels = numbered(rooms.map((r) => (r.room ? word(t, `room.${r.room}`) : t('hist.unknownRoom'))))
  const points = rooms.reduce((n, r) => n + r.spans.length, 0)
  const { from, to } = h.presence
  const clipped = (s: { from: number; to: number }) => Math.max(0, Math.min(s.to, to) - Math.max(s.from, from))
  const description = t('words.chart.presence', {
    rooms: rooms.map((r, i) => t('words.chart.presenceRoom', {
      room: labels[i],
      ...Object.fromEntries(STATES.map((st) => [st, span(r.spans.filter((s) => s.state === st).reduce((n, s) => n + clipped(s), 0), t)])),
    })).join(';'),
  })
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
      ...base(true, description),
      grid: { left: 96, right: 16, top: 36, bottom: 28 },
      legend: { top: 0, textStyle: axisText },
      tooltip: {
        formatter: (p: { seriesName: string; value: number[]; marker: string }) =>
          `${p.marker}${labels[p.value[0]!] ?? ''} · ${p.seriesName}<br>${chartTime(p.value[1]!, lang)} – ${chartTime(p.value[2]!, lang)}(${span(p.value[2]! - p.value[1]!, t)})`,
      },
      xAxis: timeAxis(from, to, lang),
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

/** One line per device, named by kind and room (一键通 · 卧室), in percent. */
export function batteryChart(h: HouseholdHistory, t: T, lang = 'zh-CN'): ChartSpec {
  const devices = h.battery.devices
  const points = devices.reduce((n, d) => n + d.points.length, 0)
  const names = numbered(devices.map((d) => `${word(t, `kindOf.${d.kind}`)}${d.room ? ` · ${word(t, `room.${d.room}`)}` : ''}`))
  const percent = (n: number) => t('words.chart.percent', { n: num(n) })
  const description = t('words.chart.battery', {
    devices: devices.filter((d) => d.points.length).map((d) => t('words.chart.batteryDevice', {
      name: names[devices.indexOf(d)], last: num(d.points[d.points.length - 1]![1]), min: num(Math.min(...d.points.map((p) => p[1]))),
    })).join(';'),
  })
  return {
    points,
    height: 240,
    option: {
      ...base(true, description),
      legend: { top: 0, type: 'scroll', textStyle: axisText },
      tooltip: axisTooltip(lang, percent),
      xAxis: timeAxis(h.battery.from, h.battery.to, lang),
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { ...axisText, formatter: '{value}%' } },
      series: devices.map((d, i) => ({
        name: names[i],
        type: 'line',
        showSymbol: d.points.length < 40,
        data: d.points,
      })),
    },
  }
}

