/** What a notice says, in Chinese first: who, where, what happened, and how to answer. */
import type { Incident } from '../incidents/model.js'
import type { Household } from '../store/registry.js'

const TYPE_ZH: Record<string, string> = {
  sos: '紧急呼叫',
  fall: '跌倒报警',
  smoke: '烟雾报警',
  gas: '燃气报警',
  service: '服务请求',
  no_water: '长时间未用水',
  no_water_day: '全天未用水',
  high_water: '用水异常',
  leak: '疑似漏水',
  continuous_flow: '持续用水',
  inactivity: '长时间无活动',
  morning_check: '早间无活动',
  bathroom_dwell: '卫生间停留过久',
  suspected_collapse: '疑似倒地或失能(问询未应答)',
  unusual_inactivity: '异常长时间无活动',
  long_absence: '外出未归(请探访)',
  door_idle: '多日未出门',
  wandering: '夜间外出未归',
  device_offline: '设备离线',
  device_not_installed: '安装未完成',
  low_battery: '设备电量低',
}

const TYPE_EN: Record<string, string> = {
  sos: 'SOS call',
  fall: 'fall',
  smoke: 'smoke alarm',
  gas: 'gas alarm',
  service: 'service request',
  no_water: 'no water use',
  no_water_day: 'no water all day',
  high_water: 'unusual water use',
  leak: 'possible leak',
  continuous_flow: 'water running',
  inactivity: 'no activity',
  morning_check: 'no activity this morning',
  bathroom_dwell: 'long bathroom stay',
  suspected_collapse: 'possible collapse (check-in not answered)',
  unusual_inactivity: 'unusually long inactivity',
  long_absence: 'out and not back (visit)',
  door_idle: 'not out for days',
  wandering: 'left home at night',
  device_offline: 'device offline',
  device_not_installed: 'installation not finished',
  low_battery: 'low battery',
}

export function compose(incident: Incident, household: Household | undefined, link: string | undefined) {
  const who = household ? `${household.elderName}(${household.address})` : incident.householdId
  const whoEn = household ? `${household.elderName} (${household.address})` : incident.householdId
  const why = incident.explanation
  const zh = `【安居】${TYPE_ZH[incident.type] ?? incident.type}:${who}${why ? `。${why.zh}` : ''}${link ? `。回复请点:${link}` : ''}`
  const en = `[Anju] ${TYPE_EN[incident.type] ?? incident.type}: ${whoEn}${why ? `. ${why.en}` : ''}${link ? `. Answer here: ${link}` : ''}`
  return { title: `${TYPE_ZH[incident.type] ?? incident.type} · ${household?.elderName ?? ''}`, text: { zh, en } }
}
