/** Every UI string, Chinese first. vue-i18n syntax: `{n}` placeholders. */
export const OUTCOMES = ['emergency_handled', 'false_alarm', 'test', 'resolved_by_phone'] as const

const zh = {
  title: '安居 · 值班台', familyTitle: '安居 · 家属', username: '用户名', password: '密码', login: '登录', logout: '退出',
  langToggle: 'EN', langToggleLabel: 'Switch to English',
  conn: { connecting: '连接中…', connected: '已连接', reconnecting: '重新连接中…', offline: '实时通道不可用' },
  queue: '待处理事件', empty: '暂无待处理事件', communities: '服务社区',
  type: {
    sos: '紧急呼叫 SOS', fall: '跌倒', service: '服务请求', smoke: '烟雾报警', gas: '燃气报警',
    no_water: '12 小时未用水', no_water_day: '全天未用水', high_water: '用水异常偏高', leak: '疑似漏水(物业)',
    continuous_flow: '持续用水', inactivity: '长时间无活动', morning_check: '早间无活动', bathroom_dwell: '卫生间停留过久',
    door_idle: '多日未出门(上门探访)', wandering: '夜间外出未归', device_offline: '设备离线', low_battery: '设备电量低',
  },
  state: { open: '待接警', acknowledged: '已接警', resolved: '已处理' },
  kind: {
    opened: '事件创建', alarm: '报警', cancelled_by_resident: '居民取消', acknowledged: '已接警', resolved: '处理完成',
    finding: '检测发现', condition_cleared: '情况恢复', escalated: '通知升级', notification: '通知结果', family_response: '家属回复',
  },
  actor: { device: '设备', user: '值班员', family: '家属', system: '系统' },
  outcome: { emergency_handled: '紧急情况已处理', false_alarm: '误报', test: '测试', resolved_by_phone: '电话确认已解决' },
  priority: '优先级 {n}',
  kindOf: { button: '一键通', water: '水表', presence: '人体感应', door: '门磁', smoke: '烟感', gas: '燃气探测' },
  room: { bathroom: '卫生间', bedroom: '卧室', living_room: '客厅', kitchen: '厨房', entrance: '入户门' },
  conditionCleared: '情况已恢复,待确认', cancelled: '居民已取消', unknownHousehold: '未知住户',
  phone: '电话', device: '设备', age: '已持续',
  target: '目标 60 秒内响应 · 剩余 {n} 秒', overdue: '已超出 60 秒响应目标 {n} 秒',
  ack: '接警', resolve: '处理完成', outcomeLabel: '处理结果', chooseOutcome: '请选择…', note: '备注(可选)',
  pickOutcome: '请先选择处理结果',
  details: '详情', detailsOf: '{name} 的详情', loading: '加载中…', noEvents: '暂无记录',
  trail: '事件记录', why: '检测说明', profile: '老人档案', contacts: '紧急联系人', devices: '设备状态',
  elderAge: '{n} 岁', address: '住址', medicalNotes: '健康备注', away: '外出至 {t}',
  copy: '复制', copied: '已复制', copyPhone: '复制 {name} 的电话 {phone}', call: '拨打',
  online: '在线', offline: '离线', unknown: '未知', battery: '电量 {n}%', lastSeen: '最近上报 {t}', never: '从未上报',
  noContacts: '未登记联系人', noDevices: '未登记设备', selectHint: '点击事件的“详情”查看老人档案与事件记录',
  newEmergency: '新紧急事件', dismiss: '关闭', audioBlocked: '提示音未启用:请点击页面任意处',
  mute: '静音 5 分钟', unmute: '取消静音', muted: '已静音 · 剩余 {t}',
  chartTitle: '待处理事件(按类型)', close: '关闭',
  networkError: '网络错误,请稍后重试',
  refresh: '刷新',
  tabs: { label: '视图', queue: '事件队列', health: '设备健康', households: '住户' },
  svc: {
    title: '今日服务水平', open: '待接警', median: '接警用时中位数', p90: '接警用时 90 分位', within60: '60 秒内接警占比',
    benchmark: '基准 97.5 %', meets: '达标', below: '未达标', ackedToday: '今日已接警', seconds: '{n} 秒', failed: '服务水平暂不可用',
  },
  health: {
    title: '设备健康', summary: '{n} 台需关注 / 共 {total} 台', caption: '设备按严重程度排序:离线、从未上报、电量低、正常',
    status: '状态', elder: '老人', batteryCol: '电量', lastSeenCol: '最近上报', ago: '{t} 前',
    offline: '离线', never: '从未上报', low: '电量低', ok: '正常', silent: '(超过两个心跳周期未上报)',
  },
  hh: {
    title: '住户', search: '搜索', searchHint: '姓名或地址', count: '显示 {n} / {total} 户', list: '住户列表', none: '没有匹配的住户',
    district: '辖区视图', street: '街道', community: '社区', noStreet: '未登记街道',
    buildingSummary: '{n} 户 · 紧急 {red} · 其他事件 {amber}',
    emergency: '紧急事件', incident: '其他事件', calm: '无事件',
  },
  err: {
    UNAUTHORIZED: '用户名或密码错误', ALREADY_ACKNOWLEDGED: '该事件已被其他值班员接警',
    NOT_ACKNOWLEDGED: '该事件尚未接警', NOT_FOUND: '事件不存在', NETWORK: '网络错误,请稍后重试',
  },
  family: {
    invalid: '链接无效或已过期,请直接致电社区值班室。', onMyWay: '我去看看', calledFine: '已电话联系,老人平安',
    sent: '已告知值班员,谢谢', tell: '请告诉值班员您的安排', closed: '此事件已处理完毕',
  },
}

type Messages = typeof zh

const en: Messages = {
  title: 'Anju · Duty Console', familyTitle: 'Anju · Family', username: 'Username', password: 'Password', login: 'Log in', logout: 'Log out',
  langToggle: '中文', langToggleLabel: '切换到中文',
  conn: { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', offline: 'Live channel unavailable' },
  queue: 'Active incidents', empty: 'No active incidents', communities: 'Communities',
  type: {
    sos: 'SOS call', fall: 'Fall', service: 'Service request', smoke: 'Smoke alarm', gas: 'Gas alarm',
    no_water: 'No water for 12 h', no_water_day: 'No water all day', high_water: 'High water use', leak: 'Possible leak (property)',
    continuous_flow: 'Water running', inactivity: 'No activity', morning_check: 'No activity this morning', bathroom_dwell: 'Long bathroom stay',
    door_idle: 'Not out for days (visit)', wandering: 'Left at night', device_offline: 'Device offline', low_battery: 'Low battery',
  },
  state: { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' },
  kind: {
    opened: 'Opened', alarm: 'Alarm', cancelled_by_resident: 'Cancelled by resident', acknowledged: 'Acknowledged', resolved: 'Resolved',
    finding: 'Finding', condition_cleared: 'Condition cleared', escalated: 'Escalated', notification: 'Notice', family_response: 'Family answer',
  },
  actor: { device: 'Device', user: 'Operator', family: 'Family', system: 'System' },
  outcome: { emergency_handled: 'Emergency handled', false_alarm: 'False alarm', test: 'Test', resolved_by_phone: 'Resolved by phone' },
  priority: 'Priority {n}',
  kindOf: { button: 'Emergency button', water: 'Water meter', presence: 'Presence sensor', door: 'Door sensor', smoke: 'Smoke detector', gas: 'Gas detector' },
  room: { bathroom: 'Bathroom', bedroom: 'Bedroom', living_room: 'Living room', kitchen: 'Kitchen', entrance: 'Entrance' },
  conditionCleared: 'Condition cleared, please confirm', cancelled: 'Cancelled by resident', unknownHousehold: 'Unknown household',
  phone: 'Phone', device: 'Device', age: 'Age',
  target: 'Target: respond within 60 s · {n} s left', overdue: '60 s response target exceeded by {n} s',
  ack: 'Acknowledge', resolve: 'Resolve', outcomeLabel: 'Outcome', chooseOutcome: 'Choose…', note: 'Note (optional)',
  pickOutcome: 'Choose an outcome first',
  details: 'Details', detailsOf: 'Details of {name}', loading: 'Loading…', noEvents: 'No events',
  trail: 'Event trail', why: 'Why', profile: 'Elder profile', contacts: 'Emergency contacts', devices: 'Devices',
  elderAge: 'age {n}', address: 'Address', medicalNotes: 'Medical notes', away: 'Away until {t}',
  copy: 'Copy', copied: 'Copied', copyPhone: 'Copy the phone number of {name}, {phone}', call: 'Call',
  online: 'Online', offline: 'Offline', unknown: 'Unknown', battery: 'Battery {n}%', lastSeen: 'Last seen {t}', never: 'Never seen',
  noContacts: 'No contacts registered', noDevices: 'No devices registered', selectHint: "Press an incident's Details to see the elder's profile and the trail",
  newEmergency: 'New emergency', dismiss: 'Dismiss', audioBlocked: 'Alert sound off: click anywhere on the page',
  mute: 'Mute 5 min', unmute: 'Unmute', muted: 'Muted · {t} left',
  chartTitle: 'Active incidents by type', close: 'Close',
  networkError: 'Network error, please try again',
  refresh: 'Refresh',
  tabs: { label: 'Views', queue: 'Incident queue', health: 'Device health', households: 'Households' },
  svc: {
    title: "Today's service level", open: 'Open', median: 'Median time to acknowledge', p90: '90th percentile to acknowledge', within60: 'Acknowledged within 60 s',
    benchmark: 'benchmark 97.5 %', meets: 'met', below: 'below', ackedToday: 'Acknowledged today', seconds: '{n} s', failed: 'Service level unavailable',
  },
  health: {
    title: 'Device health', summary: '{n} need attention of {total}', caption: 'Devices worst first: offline, never seen, low battery, healthy',
    status: 'Status', elder: 'Elder', batteryCol: 'Battery', lastSeenCol: 'Last seen', ago: '{t} ago',
    offline: 'Offline', never: 'Never seen', low: 'Low battery', ok: 'OK', silent: '(silent for over two heartbeats)',
  },
  hh: {
    title: 'Households', search: 'Search', searchHint: 'Name or address', count: '{n} of {total} households', list: 'Household list', none: 'No matching households',
    district: 'District view', street: 'Street', community: 'Community', noStreet: 'No street',
    buildingSummary: '{n} households · {red} emergency · {amber} other',
    emergency: 'Emergency', incident: 'Other incident', calm: 'No incident',
  },
  err: {
    UNAUTHORIZED: 'Wrong username or password', ALREADY_ACKNOWLEDGED: 'Another operator has acknowledged this incident',
    NOT_ACKNOWLEDGED: 'This incident is not acknowledged yet', NOT_FOUND: 'No such incident', NETWORK: 'Network error, please try again',
  },
  family: {
    invalid: 'This link is not valid or has expired. Please call the community duty room.', onMyWay: "I'm on my way", calledFine: "I called, she's fine",
    sent: 'The operator has your answer, thank you', tell: 'Tell the operator what you will do', closed: 'This incident is closed',
  },
}

export const messages = { 'zh-CN': zh, en }
