/**
 * Decides an import, without I/O: every row checked against the registry's own rules, households
 * found by community + 户编号 (or, with none, adopted: a household entered by hand with no 户编号,
 * the same elder and the same address), contacts by household + phone, devices by id; what would be
 * created, updated or left as it is, and every error by sheet, row and column
 * (docs/operations.md §registry import). The service reads the file and the store, then writes
 * what this decides.
 */
import type { z } from 'zod'
import { contactBody, householdFields, hhmm, audienceOf as audienceOfRelation } from '../api/household-routes.js'
import { deviceBody, defaultHeartbeatS } from '../api/device-routes.js'
import type { ChannelName } from '../delivery/channels/channel.js'
import { KIND_ZH, ROOM_ZH } from '../detectors/names.js'
import { addressKey, type Audience } from '../store/registry.js'
import type { ImportContact, ImportDevice, ImportHousehold } from '../store/registry-import.js'
import { rowError, sortErrors, type RowError } from './problems.js'
import type { RawRow, RawSheet } from './read.js'
import { EXAMPLE_PREFIX, SHEETS, audienceOf, channelOf, kindOf, roomOf, type SheetKey } from './sheets.js'

export interface ScopeCommunity { id: string; name: string }

export type HouseholdFields = Omit<ImportHousehold, 'id' | 'communityId' | 'ref'>
export type HouseholdWrite = ImportHousehold
export type ContactFields = Omit<ImportContact, 'id' | 'householdId'>
export type ContactWrite = ImportContact
export type DeviceWrite = ImportDevice

/** What the store holds that the file names. */
export interface Snapshot {
  /** The communities this user may import into (an operator's own; every one for an admin). */
  communities: ScopeCommunity[]
  /** Households in those communities with a 户编号 the file names. */
  households: HouseholdWrite[]
  /** Households in those communities with no 户编号 (entered by hand) whose elder has a name the file has. */
  unnumbered?: Omit<HouseholdWrite, 'ref'>[]
  /** The contacts of those households, both kinds. */
  contacts: ContactWrite[]
  /** Devices with an id the file names, wherever they are; `label` null when in a community out of scope. */
  devices: (DeviceWrite & { communityId: string; label: string | null })[]
}

export interface SheetCounts { created: number; updated: number; unchanged: number; invalid: number }

/** A household entered by hand that a row adopts: it takes the row's 户编号 (已匹配现有住户). */
export interface Adoption { row: number; ref: string; householdId: string; elderName: string; address: string }

export interface Plan {
  households: { create: HouseholdWrite[]; update: HouseholdWrite[] }
  contacts: { create: ContactWrite[]; update: ContactWrite[] }
  devices: { create: (DeviceWrite & { communityId: string; ref: string })[]; update: DeviceWrite[] }
  counts: Record<SheetKey, SheetCounts>
  errors: RowError[]
  /** Households entered by hand that the file's rows adopt (counted as updated). */
  adopted: Adoption[]
  /** Households whose record, contacts or devices the plan creates or changes (the detectors re-read them). */
  touched: Set<string>
  /** Communities the file writes into. */
  communities: Set<string>
}

const REQUIRED = { zh: '必须填写', en: 'required' }

type Issue = { column: string | null; what: { zh: string; en: string }; value?: string }

const key = (communityId: string, ref: string) => `${communityId}\u0000${ref}`
const phoneKey = (phone: string) => phone.replace(/[\s-]/g, '')
const orNull = (s: string) => (s === '' ? null : s)

const H = (sheet: SheetKey, k: string) => SHEETS[sheet].columns[k]!.header

function whole(text: string): number | undefined {
  return /^[+-]?\d+(\.0+)?$/.test(text) ? Number.parseInt(text, 10) : undefined
}

/** `08:00-21:00`, `8:00~21:00`, `08:00至21:00` to HH:MM both ends. */
function hoursOf(text: string): { from: string; to: string } | undefined {
  const m = /^(\d{1,2}[:：]\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2}[:：]\d{2})$/.exec(text)
  if (!m) return undefined
  const norm = (t: string) => t.replace('：', ':').padStart(5, '0')
  const from = norm(m[1]!)
  const to = norm(m[2]!)
  return hhmm.safeParse(from).success && hhmm.safeParse(to).success ? { from, to } : undefined
}

export interface PlanOptions {
  /** Ids for new households and contacts. */
  newId(prefix: 'hh' | 'ct'): string
}

export function plan(sheets: RawSheet[], snapshot: Snapshot, opts: PlanOptions): Plan {
  const fileHeaders: Partial<Record<SheetKey, Record<string, string>>> = Object.fromEntries(sheets.map((s) => [s.key, s.headers]))
  /** The file's header for a column (what the person sees), else the template's. */
  const headerOf = (sheet: SheetKey, templateHeader: string): string => {
    const k = Object.entries(SHEETS[sheet].columns).find(([, c]) => c.header === templateHeader)?.[0]
    return (k && fileHeaders[sheet]?.[k]) || templateHeader
  }
  /** The registry route's zod rule for a field, with the column's words when it fails. */
  const check = <S extends z.ZodType>(schema: S, value: unknown, sheet: SheetKey, column: string, issues: Issue[], raw: string): z.infer<S> | undefined => {
    const r = schema.safeParse(value)
    if (r.success) return r.data
    const c = Object.values(SHEETS[sheet].columns).find((c) => c.header === column)!
    issues.push({ column: headerOf(sheet, column), what: c.required && raw === '' ? REQUIRED : c.rule, value: raw })
    return undefined
  }
  const errors: RowError[] = []
  const badRows: Record<SheetKey, Set<number>> = { households: new Set(), contacts: new Set(), devices: new Set() }
  const report = (sheet: SheetKey, row: number, issues: Issue[]) => {
    for (const i of issues) errors.push(rowError(sheet, row, i.column, i.what, i.value))
    if (issues.length) badRows[sheet].add(row)
  }
  const rowsOf = (k: SheetKey): RawRow[] => (sheets.find((s) => s.key === k)?.rows ?? []).filter((r) => !r.cells.ref?.startsWith(EXAMPLE_PREFIX))

  const communityById = new Map(snapshot.communities.map((c) => [c.id, c]))
  /** The community a row names, if any: by id, or by a name only one community has. */
  const communityOf = (sheet: SheetKey, cells: Record<string, string>, issues: Issue[]): string | null | undefined => {
    const id = cells.communityId ?? ''
    const name = cells.communityName ?? ''
    if (!id && !name) return null
    if (id) {
      if (!communityById.has(id)) {
        issues.push({ column: headerOf(sheet, H(sheet, 'communityId')), what: { zh: '没有这个社区,或它不是您负责的社区', en: 'no such community, or not one you serve' }, value: id })
        return undefined
      }
      if (name && communityById.get(id)!.name !== name) {
        issues.push({ column: headerOf(sheet, H(sheet, 'communityName')), what: { zh: `与社区编号不符(该编号是「${communityById.get(id)!.name}」)`, en: `does not match the community id (that is ${communityById.get(id)!.name})` }, value: name })
        return undefined
      }
      return id
    }
    const named = snapshot.communities.filter((c) => c.name === name)
    if (named.length === 1) return named[0]!.id
    issues.push({
      column: headerOf(sheet, H(sheet, 'communityName')),
      what: named.length === 0 ? { zh: '没有这个社区,或它不是您负责的社区', en: 'no such community, or not one you serve' } : { zh: '有多个同名社区,请填写「社区编号」', en: 'several communities have this name: give 社区编号' },
      value: name,
    })
    return undefined
  }
  const refOf = (sheet: SheetKey, cells: Record<string, string>, issues: Issue[]): string | undefined => {
    const ref = cells.ref ?? ''
    if (ref.length >= 1 && ref.length <= 50) return ref
    issues.push({ column: headerOf(sheet, H(sheet, 'ref')), what: ref === '' ? REQUIRED : SHEETS[sheet].columns.ref!.rule, value: ref })
    return undefined
  }

  // ---- 老人户 ----
  const existingHousehold = new Map(snapshot.households.map((h) => [key(h.communityId, h.ref), h]))
  /** Households with no 户编号 by community + elder + address (addressKey: 3号楼 and 03号楼 alike). */
  const unnumbered = new Map<string, Omit<HouseholdWrite, 'ref'>[]>()
  const sameHome = (communityId: string, elderName: string, address: string) => key(communityId, `${elderName.trim()}\u0000${addressKey(address)}`)
  for (const h of snapshot.unnumbered ?? []) {
    const k = sameHome(h.communityId, h.elderName, h.address)
    unnumbered.set(k, [...(unnumbered.get(k) ?? []), h])
  }
  /** Adopted households by id: the row that adopted each. */
  const adoptedBy = new Map<string, number>()
  const adopted: Adoption[] = []
  /** The file's households by community + 户编号: the row, and the household when the row is valid. */
  const fileHouseholds = new Map<string, { row: number; household: HouseholdWrite | null }>()
  const householdsPlan: Plan['households'] = { create: [], update: [] }
  let householdsUnchanged = 0
  const touched = new Set<string>()
  const communities = new Set<string>()
  for (const r of rowsOf('households')) {
    const c = r.cells
    const issues: Issue[] = []
    const ref = refOf('households', c, issues)
    const communityId = communityOf('households', c, issues)
    if (communityId === null) issues.push({ column: '社区', what: { zh: '请填写「社区」或「社区编号」', en: 'give 社区 or 社区编号' } })
    const s = 'households' as const
    const elderName = check(householdFields.elderName, c.elderName, s, '老人姓名', issues, c.elderName!)
    const ageText = c.age ?? ''
    const ageNumber = ageText === '' ? null : whole(ageText)
    const age = ageNumber === undefined ? (issues.push({ column: headerOf(s, '年龄'), what: SHEETS.households.columns.age!.rule, value: ageText }), undefined) : check(householdFields.age, ageNumber, s, '年龄', issues, ageText)
    const address = check(householdFields.address, c.address, s, '住址', issues, c.address!)
    const phone = check(householdFields.phone, orNull(c.phone ?? ''), s, '电话', issues, c.phone ?? '')
    // Medical notes and key-safe codes are not quoted back.
    const medicalNotes = check(householdFields.medicalNotes, orNull(c.medicalNotes ?? ''), s, '病史备注', issues, '')
    const keySafe = check(householdFields.keySafe, orNull(c.keySafe ?? ''), s, '钥匙盒', issues, '')
    let k: string | undefined
    if (ref !== undefined && communityId) {
      k = key(communityId, ref)
      const first = fileHouseholds.get(k)
      if (first) issues.push({ column: headerOf(s, '户编号'), what: { zh: `与第 ${first.row} 行的户编号重复(同一社区)`, en: `the same household number as row ${first.row} (same community)` }, value: ref })
    }
    // No household has this 户编号: one entered by hand before the first import may be hers.
    let adopt: Omit<HouseholdWrite, 'ref'> | undefined
    if (k && communityId && elderName && address && !existingHousehold.has(k)) {
      const same = unnumbered.get(sameHome(communityId, elderName, address)) ?? []
      if (same.length > 1) {
        issues.push({ column: headerOf(s, '户编号'), what: { zh: `平台上有 ${same.length} 户同名同址、还没有户编号的住户(${same.map((h) => h.id).join('、')}),无法确定是哪一户;请先在平台上给其中一户填上户编号`, en: `${same.length} households without a household number have this elder and address (${same.map((h) => h.id).join(', ')}); give one of them its number on the platform first` }, value: ref })
      } else if (same.length === 1) {
        const taken = adoptedBy.get(same[0]!.id)
        if (taken !== undefined) issues.push({ column: headerOf(s, '户编号'), what: { zh: `与第 ${taken} 行对上了同一户现有住户(${same[0]!.id}),同一位老人不能有两个户编号`, en: `row ${taken} matched the same existing household (${same[0]!.id}); one elder cannot have two household numbers` }, value: ref })
        else adopt = same[0]
      }
    }
    if (issues.length || !k || ref === undefined || !communityId) {
      report(s, r.row, issues)
      if (k && !fileHouseholds.has(k)) fileHouseholds.set(k, { row: r.row, household: null })
      continue
    }
    const fields: HouseholdFields = { elderName: elderName!, age: age ?? null, address: address!, phone: phone ?? null, medicalNotes: medicalNotes ?? null, keySafe: keySafe ?? null }
    const existing = existingHousehold.get(k)
    const household: HouseholdWrite = { id: existing?.id ?? adopt?.id ?? opts.newId('hh'), communityId, ref, ...fields }
    fileHouseholds.set(k, { row: r.row, household })
    communities.add(communityId)
    if (adopt) {
      // Taking the 户编号 is a change even when every other field is the same.
      adoptedBy.set(adopt.id, r.row)
      adopted.push({ row: r.row, ref, householdId: adopt.id, elderName: adopt.elderName, address: adopt.address })
      householdsPlan.update.push(household)
      touched.add(household.id)
      continue
    }
    if (!existing) householdsPlan.create.push(household)
    else if (sameHousehold(existing, fields)) householdsUnchanged++
    else householdsPlan.update.push(household)
    if (!existing || !sameHousehold(existing, fields)) touched.add(household.id)
  }

  /** Community + 户编号 keys by 户编号, of the file's households and the store's. */
  const keysByRef = new Map<string, Set<string>>()
  for (const k of [...fileHouseholds.keys(), ...existingHousehold.keys()]) {
    const r = k.slice(k.indexOf('\u0000') + 1)
    keysByRef.set(r, (keysByRef.get(r) ?? new Set()).add(k))
  }
  /** The household a contact or device row belongs to: in the file or already in the store. */
  const householdOf = (sheet: SheetKey, cells: Record<string, string>, issues: Issue[]): HouseholdWrite | undefined => {
    const ref = refOf(sheet, cells, issues)
    const communityId = communityOf(sheet, cells, issues)
    if (ref === undefined || communityId === undefined) return undefined
    const candidates = new Set<string>()
    for (const k of keysByRef.get(ref) ?? []) if (communityId === null || k.startsWith(`${communityId}\u0000`)) candidates.add(k)
    const column = headerOf(sheet, H(sheet, 'ref'))
    if (candidates.size === 0) {
      issues.push({ column, what: { zh: '「老人户」表和平台上都没有这个户编号', en: 'no such household number in the 老人户 sheet or on the platform' }, value: ref })
      return undefined
    }
    if (candidates.size > 1) {
      issues.push({ column, what: { zh: '多个社区都有这个户编号,请填写「社区」', en: 'several communities have this household number: give 社区' }, value: ref })
      return undefined
    }
    const k = [...candidates][0]!
    const inFile = fileHouseholds.get(k)
    if (inFile && !inFile.household) {
      issues.push({ column, what: { zh: `所属老人户(「老人户」表第 ${inFile.row} 行)有错误,未导入`, en: `its household (老人户 row ${inFile.row}) has errors and is not imported` }, value: ref })
      return undefined
    }
    return inFile?.household ?? existingHousehold.get(k)
  }

  // ---- 联系人 ----
  const existingContacts = new Map<string, ContactWrite>()
  for (const ct of snapshot.contacts) existingContacts.set(key(ct.householdId, phoneKey(ct.phone)), ct)
  const fileContacts = new Map<string, number>()
  const positions = new Map<string, number>()
  const contactsPlan: Plan['contacts'] = { create: [], update: [] }
  let contactsUnchanged = 0
  for (const r of rowsOf('contacts')) {
    const c = r.cells
    const s = 'contacts' as const
    const issues: Issue[] = []
    const household = householdOf(s, c, issues)
    const name = check(contactBody.shape.name, c.name, s, '姓名', issues, c.name!)
    const relation = check(contactBody.shape.relation, c.relation, s, '关系', issues, c.relation!)
    const phone = check(contactBody.shape.phone, c.phone, s, '电话', issues, c.phone!)
    let audience: Audience | undefined = c.audience ? audienceOf(c.audience) : relation ? audienceOfRelation(relation) : undefined
    if (c.audience && !audience) issues.push({ column: headerOf(s, '身份'), what: SHEETS.contacts.columns.audience!.rule, value: c.audience })
    let hours: { from: string; to: string } | null | undefined = null
    if (c.hours) {
      hours = hoursOf(c.hours)
      if (!hours) issues.push({ column: headerOf(s, '可联系时段'), what: SHEETS.contacts.columns.hours!.rule, value: c.hours })
    }
    const email = c.email ? check(contactBody.shape.email, c.email, s, '邮箱', issues, c.email) : null
    const words = (c.channels ?? '').split(/[、,，;；/\s]+/).filter(Boolean)
    const channels = [...new Set(words.map((w) => channelOf(w)))]
    if (channels.includes(undefined)) issues.push({ column: headerOf(s, '通知方式'), what: SHEETS.contacts.columns.channels!.rule, value: c.channels })
    if (household && phone) {
      const k = key(household.id, phoneKey(phone))
      const first = fileContacts.get(k)
      if (first !== undefined) issues.push({ column: headerOf(s, '电话'), what: { zh: `同一户的联系人电话与第 ${first} 行重复`, en: `the same phone as row ${first} for this household` }, value: phone })
      else fileContacts.set(k, r.row)
    }
    if (issues.length || !household || !name || !relation || !phone || !audience || hours === undefined || email === undefined) {
      report(s, r.row, issues)
      continue
    }
    const position = positions.get(household.id) ?? 0
    positions.set(household.id, position + 1)
    const fields: ContactFields = {
      name, relation, audience, phone, email, channels: channels.length ? (channels as ChannelName[]) : ['sms'], position,
      availableFrom: hours?.from ?? null, availableTo: hours?.to ?? null,
    }
    const existing = existingContacts.get(key(household.id, phoneKey(phone)))
    communities.add(household.communityId)
    if (!existing) contactsPlan.create.push({ id: opts.newId('ct'), householdId: household.id, ...fields })
    else if (sameContact(existing, fields)) { contactsUnchanged++; continue }
    else contactsPlan.update.push({ ...existing, ...fields })
    touched.add(household.id)
  }

  // ---- 设备 ----
  const existingDevices = new Map(snapshot.devices.map((d) => [d.id, d]))
  const fileDevices = new Map<string, number>()
  const devicesPlan: Plan['devices'] = { create: [], update: [] }
  let devicesUnchanged = 0
  for (const r of rowsOf('devices')) {
    const c = r.cells
    const s = 'devices' as const
    const issues: Issue[] = []
    const household = householdOf(s, c, issues)
    const id = check(deviceBody.shape.id, c.id, s, '设备编号', issues, c.id!)
    const kind = kindOf(c.kind ?? '')
    if (!kind) issues.push({ column: headerOf(s, '类型'), what: c.kind ? SHEETS.devices.columns.kind!.rule : REQUIRED, value: c.kind ?? '' })
    const room = c.room ? roomOf(c.room) : null
    if (room === undefined) issues.push({ column: headerOf(s, '房间'), what: SHEETS.devices.columns.room!.rule, value: c.room })
    const beatText = c.heartbeatS ?? ''
    const beatNumber = beatText === '' ? null : whole(beatText)
    const heartbeatS = beatNumber === null ? null : check(deviceBody.shape.heartbeatS, beatNumber ?? Number.NaN, s, '心跳秒数', issues, beatText)
    if (id) {
      const first = fileDevices.get(id)
      if (first !== undefined) issues.push({ column: headerOf(s, '设备编号'), what: { zh: `与第 ${first} 行的设备编号重复`, en: `the same device id as row ${first}` }, value: id })
      else fileDevices.set(id, r.row)
    }
    const existing = id ? existingDevices.get(id) : undefined
    if (existing && household && existing.householdId !== household.id) {
      issues.push({
        column: headerOf(s, '设备编号'),
        what: existing.label === null
          ? { zh: '此设备编号已被占用(不在您负责的社区),不能导入', en: 'this device id is taken (in a community you do not serve)' }
          : { zh: `此设备已登记在另一户(${existing.label}),导入不会移动设备;请先在平台上改动`, en: `this device belongs to another household (${existing.label}); an import never moves a device: change it on the platform first` },
        value: id!,
      })
    } else if (existing && kind && existing.kind !== kind) {
      issues.push({ column: headerOf(s, '类型'), what: { zh: `此设备已登记为「${KIND_ZH[existing.kind]}」,类型不能通过导入更改`, en: `this device is registered as ${existing.kind}; an import cannot change its kind` }, value: c.kind ?? '' })
    }
    if (issues.length || !household || !id || !kind || room === undefined || heartbeatS === undefined) {
      report(s, r.row, issues)
      continue
    }
    communities.add(household.communityId)
    if (!existing) {
      devicesPlan.create.push({ id, householdId: household.id, kind, room, heartbeatS: heartbeatS ?? defaultHeartbeatS(kind), communityId: household.communityId, ref: household.ref })
      touched.add(household.id)
      continue
    }
    // An empty 心跳秒数 keeps what the device has (it may have been set on the platform).
    const next: DeviceWrite = { id, householdId: existing.householdId, kind, room, heartbeatS: heartbeatS ?? existing.heartbeatS }
    if (next.room === existing.room && next.heartbeatS === existing.heartbeatS) devicesUnchanged++
    else {
      devicesPlan.update.push(next)
      touched.add(household.id)
    }
  }

  const invalid = (k: SheetKey) => badRows[k].size
  return {
    households: householdsPlan,
    contacts: contactsPlan,
    devices: devicesPlan,
    counts: {
      households: { created: householdsPlan.create.length, updated: householdsPlan.update.length, unchanged: householdsUnchanged, invalid: invalid('households') },
      contacts: { created: contactsPlan.create.length, updated: contactsPlan.update.length, unchanged: contactsUnchanged, invalid: invalid('contacts') },
      devices: { created: devicesPlan.create.length, updated: devicesPlan.update.length, unchanged: devicesUnchanged, invalid: invalid('devices') },
    },
    errors: sortErrors(errors),
    adopted,
    touched,
    communities,
  }
}

const sameHousehold = (a: HouseholdFields, b: HouseholdFields) =>
  a.elderName === b.elderName && a.age === b.age && a.address === b.address && a.phone === b.phone && a.medicalNotes === b.medicalNotes && a.keySafe === b.keySafe

const sameContact = (a: ContactFields, b: ContactFields) =>
  a.name === b.name && a.relation === b.relation && a.audience === b.audience && a.phone === b.phone && a.email === b.email &&
  a.channels.join() === b.channels.join() && a.position === b.position && a.availableFrom === b.availableFrom && a.availableTo === b.availableTo

/** A device's label for a message: 卧室人体感应 in 幸福里 3号楼 101室 (户编号 XFL-0101). */
export function deviceLabel(kind: string, room: string | null, address: string, ref: string | null): string {
  return `${room ? (ROOM_ZH[room] ?? '') : ''}${KIND_ZH[kind] ?? ''} · ${address}${ref ? `(户编号 ${ref})` : ''}`
}
