/**
 * The import's sheets and columns in the street office's words (docs/operations.md §registry
 * import): one list that the template, the reader and the error messages share. The rules are the
 * registry routes' own zod rules (api/household-routes.ts, api/device-routes.ts); the room and
 * device words are the detectors' (detectors/names.ts), so a room reads the same everywhere.
 */
import { AUDIENCES, DEVICE_KINDS, ROOMS, type Audience, type DeviceKind } from '../store/registry.js'
import { KIND_ZH, ROOM_ZH } from '../detectors/names.js'
import { CHANNEL_NAMES, type ChannelName } from '../delivery/channels/channel.js'

export const SHEET_KEYS = ['households', 'contacts', 'devices'] as const
export type SheetKey = (typeof SHEET_KEYS)[number]

export interface Text { zh: string; en: string }

export interface ColumnSpec {
  /** The header as the template writes it. */
  header: string
  /** Other headers a street office's own sheet may use for it. */
  aliases?: readonly string[]
  required: boolean
  /** What the cell must hold: the 说明 sheet and every error about this column say it. */
  rule: Text
  example: string
}

export interface SheetSpec {
  key: SheetKey
  name: string
  en: string
  columns: Record<string, ColumnSpec>
}

/** What the 身份 column reads and writes. */
export const AUDIENCE_ZH: Record<Audience, string> = { family: '家属', neighbour: '邻居', building_lead: '楼组长', property: '物业', doctor: '社区医生' }
const CHANNEL_ZH: Record<ChannelName, string> = { sms: '短信', email: '邮件', webpush: '网页推送', webhook: 'webhook' }

const community = {
  communityId: { header: '社区编号', aliases: ['社区ID', 'communityId'], required: false, rule: { zh: '平台上的社区编号(与「社区」二选一)', en: "the platform's community id (or give 社区)" }, example: '' },
  communityName: { header: '社区', aliases: ['社区名称', '所属社区'], required: false, rule: { zh: '平台上已有的社区名称(与「社区编号」二选一)', en: 'the name of a community on the platform (or give 社区编号)' }, example: '幸福里社区' },
} satisfies Record<string, ColumnSpec>
/** In the contact and device sheets the community only tells apart two households of one number. */
const communityOptional = {
  communityId: { ...community.communityId, rule: { zh: '可不填;两个社区有相同户编号时必填', en: 'optional; needed when two communities use the same household number' } },
  communityName: { ...community.communityName, rule: { zh: '可不填;两个社区有相同户编号时必填', en: 'optional; needed when two communities use the same household number' } },
} satisfies Record<string, ColumnSpec>
const ref = { header: '户编号', aliases: ['户号', '编号', 'registry_ref'], required: true, rule: { zh: '街道登记的户编号,1–50 个字符,同一社区内不重复', en: "the street office's household number, 1 to 50 characters, unique within a community" }, example: '示例-0101' } satisfies ColumnSpec
const PHONE_RULE: Text = { zh: '电话号码:数字,可含空格、短横线和开头的 +,5–20 位', en: 'a phone number: digits, spaces, dashes, optional leading +, 5 to 20 characters' }

export const SHEETS: Record<SheetKey, SheetSpec> = {
  households: {
    key: 'households',
    name: '老人户',
    en: 'households',
    columns: {
      ref,
      ...community,
      elderName: { header: '老人姓名', aliases: ['姓名', '老人'], required: true, rule: { zh: '1–50 个字', en: '1 to 50 characters' }, example: '王桂英' },
      age: { header: '年龄', required: false, rule: { zh: '应为 0–130 的整数', en: 'a whole number from 0 to 130' }, example: '82' },
      address: { header: '住址', aliases: ['地址', '家庭住址'], required: true, rule: { zh: '1–200 个字', en: '1 to 200 characters' }, example: '幸福里 3号楼 2单元 101室' },
      phone: { header: '电话', aliases: ['联系电话', '手机', '老人电话'], required: false, rule: PHONE_RULE, example: '13800138000' },
      medicalNotes: { header: '病史备注', aliases: ['病史', '健康备注'], required: false, rule: { zh: '最多 2000 字', en: 'at most 2,000 characters' }, example: '高血压,服降压药;独居' },
      keySafe: { header: '钥匙盒', aliases: ['钥匙盒位置'], required: false, rule: { zh: '钥匙盒位置和密码,最多 500 字(只给值班员看)', en: 'where the key box is and its code, at most 500 characters (operators only)' }, example: '门口电表箱内,密码 2580' },
    },
  },
  contacts: {
    key: 'contacts',
    name: '联系人',
    en: 'contacts',
    columns: {
      ref: { ...ref, rule: { zh: '本文件「老人户」表或平台上已有的户编号', en: "a household number of this file's 老人户 sheet or already on the platform" } },
      ...communityOptional,
      name: { header: '姓名', aliases: ['联系人', '联系人姓名'], required: true, rule: { zh: '1–50 个字', en: '1 to 50 characters' }, example: '李明' },
      relation: { header: '关系', aliases: ['与老人关系'], required: true, rule: { zh: '1–20 个字,如 子女、邻居、楼组长、物业、社区医生', en: '1 to 20 characters, e.g. 子女, 邻居, 楼组长, 物业, 社区医生' }, example: '儿子' },
      phone: { header: '电话', aliases: ['联系电话', '手机'], required: true, rule: PHONE_RULE, example: '13900139000' },
      audience: { header: '身份', required: false, rule: { zh: `应为 ${Object.values(AUDIENCE_ZH).join('、')} 之一;不填时按「关系」判断`, en: `one of ${AUDIENCES.join(', ')}; from the relation when empty` }, example: '家属' },
      hours: { header: '可联系时段', aliases: ['联系时段'], required: false, rule: { zh: '如 08:00-21:00;不填表示随时可联系', en: 'e.g. 08:00-21:00; empty means any time' }, example: '08:00-21:00' },
      email: { header: '邮箱', aliases: ['电子邮箱'], required: false, rule: { zh: '电子邮箱地址', en: 'an email address' }, example: '' },
      channels: { header: '通知方式', required: false, rule: { zh: `${Object.values(CHANNEL_ZH).join('、')},可填多个,用顿号或逗号隔开;不填为短信`, en: `${CHANNEL_NAMES.join(', ')}; several separated by commas; SMS when empty` }, example: '短信' },
    },
  },
  devices: {
    key: 'devices',
    name: '设备',
    en: 'devices',
    columns: {
      ref: { ...ref, rule: { zh: '本文件「老人户」表或平台上已有的户编号', en: "a household number of this file's 老人户 sheet or already on the platform" } },
      ...communityOptional,
      id: { header: '设备编号', aliases: ['编号', '序列号', '设备序列号'], required: true, rule: { zh: '设备标签上的编号:1–64 个英文字母、数字、_ 或 -', en: "the label's device id: 1 to 64 of A-Z a-z 0-9 _ -" }, example: 'btn-0101' },
      kind: { header: '类型', aliases: ['设备类型'], required: true, rule: { zh: `应为 ${DEVICE_KINDS.map((k) => KIND_ZH[k]).join('、')} 之一`, en: `one of ${DEVICE_KINDS.join(', ')}` }, example: KIND_ZH.button! },
      room: { header: '房间', aliases: ['安装位置', '位置'], required: false, rule: { zh: `应为 ${ROOMS.map((r) => ROOM_ZH[r]).join('、')} 之一,或不填`, en: `one of ${ROOMS.join(', ')}, or empty` }, example: ROOM_ZH.bedroom! },
      heartbeatS: { header: '心跳秒数', aliases: ['心跳间隔', '心跳'], required: false, rule: { zh: '10–86400 的整数;不填时一键通 3600、其他 300', en: 'a whole number from 10 to 86400; empty: 3600 for a button, 300 otherwise' }, example: '3600' },
    },
  },
}


/** A word of a cell, the template's word or an accepted variant, to the registry's value (undefined: not a word we know). */
function lookup<T extends string>(words: Record<string, T>): (text: string) => T | undefined {
  const normal = new Map(Object.entries(words).map(([w, v]) => [w.toLowerCase(), v]))
  return (text) => normal.get(text.trim().toLowerCase().replace(/\s+/g, ''))
}

export const kindOf = lookup<DeviceKind>({
  ...Object.fromEntries(DEVICE_KINDS.map((k) => [k, k])),
  ...Object.fromEntries(DEVICE_KINDS.map((k) => [KIND_ZH[k]!, k])),
  // What a street office's own sheet may say; the console calls the gas alarm 燃气探测.
  一键呼叫: 'button', 紧急按钮: 'button', 呼叫按钮: 'button', 智能水表: 'water', 人体感应器: 'presence', 人体传感器: 'presence',
  门磁感应器: 'door', 门磁传感器: 'door', 烟感报警器: 'smoke', 烟雾报警器: 'smoke', 燃气: 'gas', 燃气探测: 'gas', 燃气探测器: 'gas',
})
export const roomOf = lookup<(typeof ROOMS)[number]>({
  ...Object.fromEntries(ROOMS.map((r) => [r, r])),
  ...Object.fromEntries(ROOMS.map((r) => [ROOM_ZH[r]!, r])),
  入户门: 'entrance', 玄关: 'entrance', 门口: 'entrance', 厕所: 'bathroom', 浴室: 'bathroom', 洗手间: 'bathroom', 卧房: 'bedroom', 主卧: 'bedroom', 厅: 'living_room',
})
export const audienceOf = lookup<Audience>({
  ...Object.fromEntries(AUDIENCES.map((a) => [a, a])),
  ...Object.fromEntries(Object.entries(AUDIENCE_ZH).map(([a, w]) => [w, a as Audience])),
  子女: 'family', 亲属: 'family', 楼长: 'building_lead', 医生: 'doctor', 家庭医生: 'doctor',
})
export const channelOf = lookup<ChannelName>({
  ...Object.fromEntries(CHANNEL_NAMES.map((c) => [c, c])),
  ...Object.fromEntries(Object.entries(CHANNEL_ZH).map(([c, w]) => [w, c as ChannelName])),
  电子邮件: 'email', 邮箱: 'email', 推送: 'webpush',
})

/** A sheet's name (Chinese or English) to its key. */
export function sheetOf(name: string): SheetKey | undefined {
  const n = name.trim().toLowerCase()
  return SHEET_KEYS.find((k) => SHEETS[k].name === n || SHEETS[k].en === n || (k === 'households' && (n === '老人' || n === '住户')))
}

/** A header cell's text without marks a template adds (`*`, a hint in brackets) and spaces. */
export function normalHeader(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/[(（][^)）]*[)）]/g, '').replace(/[*＊\s]/g, '').toLowerCase()
}

/** Column key for each header this sheet accepts. */
export function headerIndex(sheet: SheetKey): Map<string, string> {
  const m = new Map<string, string>()
  for (const [key, c] of Object.entries(SHEETS[sheet].columns)) for (const h of [c.header, ...(c.aliases ?? [])]) m.set(normalHeader(h), key)
  return m
}

/** Rows whose 户编号 starts with this are the template's examples: never imported. */
export const EXAMPLE_PREFIX = '示例'

/** The most data rows a sheet may have (a district is 5,000 households; a file four times that is a mistake). */
export const MAX_ROWS = 20_000
