/** The report's words, Chinese first (the street office's language), English beside. */
export interface Label {
  zh: string
  en: string
}
const l = (zh: string, en: string): Label => ({ zh, en })

export const INCIDENT_TYPE: Record<string, Label> = {
  sos: l('紧急呼叫 SOS', 'SOS'),
  fall: l('跌倒', 'Fall'),
  smoke: l('烟雾报警', 'Smoke'),
  gas: l('燃气报警', 'Gas'),
  service: l('服务请求(旧)', 'Service request (old)'),
  no_water: l('12 小时未用水', 'No water for 12 h'),
  no_water_day: l('全天未用水', 'No water all day'),
  high_water: l('用水异常偏高', 'Unusually high water use'),
  continuous_flow: l('持续用水', 'Water running'),
  inactivity: l('长时间无活动', 'No activity'),
  morning_check: l('早间无活动', 'No activity this morning'),
  bathroom_dwell: l('卫生间停留过久', 'Long bathroom stay'),
  suspected_collapse: l('疑似倒地(问询未应答)', 'Suspected collapse'),
  wandering: l('夜间外出未归', 'Out at night'),
}

export const CATEGORY: Record<string, Label> = {
  emergency: l('紧急报警', 'Emergency'),
  wellbeing: l('关怀发现', 'Wellbeing'),
  visit: l('上门探访', 'Visit'),
  property: l('物业(漏水)', 'Property'),
  maintenance: l('设备维护', 'Maintenance'),
  installation: l('安装未完成', 'Installation'),
  service: l('服务请求(旧)', 'Service request (old)'),
}

/** How an incident ended; `active` while it is not closed. */
export const OUTCOME: Record<string, Label> = {
  emergency_handled: l('紧急情况已处理', 'Emergency handled'),
  resolved_by_phone: l('电话确认已解决', 'Resolved by phone'),
  settled_by_family: l('家属确认平安', 'Family confirmed safe'),
  false_alarm: l('误报', 'False alarm'),
  test: l('测试', 'Test'),
  active: l('处理中', 'Still open'),
}

export const DEVICE_KIND: Record<string, Label> = {
  button: l('一键通', 'Emergency button'),
  water: l('水表', 'Water meter'),
  presence: l('人体感应', 'Presence sensor'),
  door: l('门磁', 'Door sensor'),
  smoke: l('烟感', 'Smoke detector'),
  gas: l('燃气探测', 'Gas detector'),
}

export const VISIT_SOURCE: Record<string, Label> = {
  plan: l('每月计划探访', 'Monthly plan'),
  incident: l('检测发现后探访', 'After a finding'),
  operator: l('值班员安排', 'By an operator'),
}

export const TICKET_TYPE: Record<string, Label> = {
  meal: l('助餐', 'Meals'),
  bath: l('助浴', 'Bathing'),
  medical: l('助医', 'Medical help'),
  repair: l('维修', 'Repair'),
  other: l('其他', 'Other'),
}

export const TOTAL = l('合计', 'Total')

/** Any key without a word of its own shows as itself. */
export function label(words: Record<string, Label>, key: string): Label {
  return words[key] ?? { zh: key, en: key }
}

/** The report's fixed row names (概况, 服务工单), in English. */
export const ROW: Record<string, string> = {
  覆盖住户: 'Households covered',
  服务老人: 'Elders served',
  已装设备住户: 'Households with a device',
  未装设备住户: 'Households without a device',
  已安装设备: 'Devices installed',
  设备在线率: 'Device online rate',
  '紧急报警(含测试)': 'Emergency alarms (tests included)',
  其中测试报警: 'of which tests',
  其中居民取消: 'of which cancelled by the resident',
  '接警用时中位数(秒)': 'Median time to acknowledge (s)',
  '接警用时 90 分位(秒)': '90th percentile time to acknowledge (s)',
  '60 秒内接警占比': 'Share acknowledged within 60 s',
  事件总数: 'Incidents',
  关怀发现: 'Wellbeing findings',
  应探访: 'Visits due',
  已探访: 'Visits done',
  探访完成率: 'Visits done, share',
  月末逾期未探访: 'Visits overdue at month end',
  服务工单: 'Service tickets',
  工单完成率: 'Ticket completion rate',
  '工单完成用时中位数(分钟)': 'Median time to complete a ticket (min)',
  完成率: 'Completion rate',
  '完成用时中位数(分钟)': 'Median time to complete (min)',
  '评价·满意': 'Feedback: satisfied',
  '评价·一般': 'Feedback: neutral',
  '评价·不满意': 'Feedback: unsatisfied',
  未评价: 'No feedback',
}

let english: Map<string, string> | null = null
/** A row name's English: the fixed rows, then every word list above. */
export function englishOf(zh: string): string {
  if (!english) {
    english = new Map(Object.entries(ROW))
    for (const words of [INCIDENT_TYPE, CATEGORY, OUTCOME, DEVICE_KIND, VISIT_SOURCE, TICKET_TYPE]) for (const w of Object.values(words)) if (!english.has(w.zh)) english.set(w.zh, w.en)
    english.set(TOTAL.zh, TOTAL.en)
  }
  return english.get(zh) ?? zh
}
