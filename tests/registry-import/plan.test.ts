/**
 * The import's decisions without I/O (src/registry-import/plan.ts): how a row's words become the
 * registry's values, how households are found for contacts and devices, and what counts as
 * unchanged, so a re-import updates and never duplicates.
 */
import { describe, expect, it } from 'vitest'
import { plan, type Snapshot } from '../../src/registry-import/plan.js'
import type { RawSheet } from '../../src/registry-import/read.js'
import { SHEETS, type SheetKey } from '../../src/registry-import/sheets.js'

let n = 0
const ids = { newId: (prefix: string) => `${prefix}_${++n}` }

/** A sheet from rows of cells by template header; row numbers start at 2 (under the header). */
function sheet(key: SheetKey, rows: Record<string, string>[]): RawSheet {
  const byHeader = new Map(Object.entries(SHEETS[key].columns).map(([k, c]) => [c.header, k]))
  const headers = Object.fromEntries(Object.entries(SHEETS[key].columns).map(([k, c]) => [k, c.header]))
  return {
    key,
    headers,
    rows: rows.map((r, i) => ({
      row: i + 2,
      cells: Object.fromEntries([...byHeader.values()].map((k) => [k, ''])) as Record<string, string>,
    })).map((row, i) => {
      for (const [h, v] of Object.entries(rows[i]!)) row.cells[byHeader.get(h)!] = v
      return row
    }),
  }
}

const EMPTY: Snapshot = { communities: [{ id: 'c1', name: '东区' }, { id: 'c2', name: '西区' }], households: [], contacts: [], devices: [] }
const stored = (over: Partial<Snapshot['households'][number]> = {}) => ({
  id: 'hh_a', communityId: 'c1', ref: 'A1', elderName: '王阿婆', age: 80, address: '东路 1号', phone: null, medicalNotes: null, keySafe: null, ...over,
})

describe('plan', () => {
  it('skips the template example rows and reads the words of a street office: 身份 from 关系, hours, channels, call order', () => {
    const p = plan([
      sheet('households', [
        { 户编号: '示例-0101', 社区: '东区', 老人姓名: '示例', 住址: '示例路' },
        { 户编号: 'A1', 社区: '东区', 老人姓名: '王阿婆', 年龄: '80', 住址: '东路 1号' },
      ]),
      sheet('contacts', [
        { 户编号: 'A1', 姓名: '李邻', 关系: '邻居', 电话: '139 0000 0001', 可联系时段: '8:00~21:00', 通知方式: '短信、邮件', 邮箱: 'li@example.com' },
        { 户编号: 'A1', 姓名: '王子', 关系: '儿子', 电话: '13900000002' },
      ]),
    ], EMPTY, ids)
    expect(p.errors).toEqual([])
    expect(p.counts.households.created).toBe(1)
    expect(p.contacts.create).toEqual([
      expect.objectContaining({ name: '李邻', audience: 'neighbour', availableFrom: '08:00', availableTo: '21:00', channels: ['sms', 'email'], position: 0 }),
      expect.objectContaining({ name: '王子', audience: 'family', channels: ['sms'], position: 1 }),
    ])
  })

  it('an unchanged row is unchanged; a changed one is an update of the same household, keyed by community + 户编号', () => {
    const same = plan([sheet('households', [{ 户编号: 'A1', 社区编号: 'c1', 老人姓名: '王阿婆', 年龄: '80', 住址: '东路 1号' }])], { ...EMPTY, households: [stored()] }, ids)
    expect(same.counts.households).toEqual({ created: 0, updated: 0, unchanged: 1, invalid: 0 })
    expect(same.touched.size).toBe(0)
    const older = plan([sheet('households', [{ 户编号: 'A1', 社区: '东区', 老人姓名: '王阿婆', 年龄: '81', 住址: '东路 1号' }])], { ...EMPTY, households: [stored()] }, ids)
    expect(older.households.update).toEqual([expect.objectContaining({ id: 'hh_a', age: 81 })])
    // The same 户编号 in another community is another household.
    const west = plan([sheet('households', [{ 户编号: 'A1', 社区: '西区', 老人姓名: '赵老伯', 住址: '西路 1号' }])], { ...EMPTY, households: [stored()] }, ids)
    expect(west.counts.households.created).toBe(1)
  })

  it('a 户编号 two communities use needs 社区 on a contact or device row', () => {
    const snapshot = { ...EMPTY, households: [stored(), stored({ id: 'hh_b', communityId: 'c2', address: '西路 1号' })] }
    const vague = plan([sheet('devices', [{ 户编号: 'A1', 设备编号: 'btn-1', 类型: '一键通' }])], snapshot, ids)
    expect(vague.errors).toEqual([expect.objectContaining({ sheet: 'devices', row: 2, column: '户编号', zh: expect.stringContaining('请填写「社区」') })])
    const clear = plan([sheet('devices', [{ 户编号: 'A1', 社区: '西区', 设备编号: 'btn-1', 类型: '一键通', 心跳秒数: '' }])], snapshot, ids)
    expect(clear.devices.create).toEqual([expect.objectContaining({ householdId: 'hh_b', kind: 'button', heartbeatS: 3600, room: null })])
  })

  it("an existing device: its room follows the file, an empty 心跳秒数 keeps its heartbeat, its kind cannot change, another household's device is never moved", () => {
    const device = { id: 'wm-1', householdId: 'hh_a', kind: 'water' as const, room: 'kitchen', heartbeatS: 120, communityId: 'c1', label: '厨房水表 · 东路 1号' }
    const snapshot = { ...EMPTY, households: [stored(), stored({ id: 'hh_c', ref: 'A2', address: '东路 2号' })], devices: [device] }
    const moved = plan([sheet('devices', [{ 户编号: 'A1', 设备编号: 'wm-1', 类型: '水表', 房间: '卫生间' }])], snapshot, ids)
    expect(moved.devices.update).toEqual([{ id: 'wm-1', householdId: 'hh_a', kind: 'water', room: 'bathroom', heartbeatS: 120 }])
    const kind = plan([sheet('devices', [{ 户编号: 'A1', 设备编号: 'wm-1', 类型: '门磁' }])], snapshot, ids)
    expect(kind.errors).toEqual([expect.objectContaining({ column: '类型', zh: expect.stringContaining('已登记为「水表」') })])
    const other = plan([sheet('devices', [{ 户编号: 'A2', 设备编号: 'wm-1', 类型: '水表', 房间: '厨房' }])], snapshot, ids)
    expect(other.errors).toEqual([expect.objectContaining({ column: '设备编号', zh: expect.stringContaining('已登记在另一户(厨房水表 · 东路 1号)') })])
    expect(other.devices.update).toEqual([])
  })

  it('a contact is found by household + phone, spaces and dashes aside; the same phone twice for a household is an error', () => {
    const contact = { id: 'ct_1', householdId: 'hh_a', name: '王子', relation: '儿子', audience: 'family' as const, phone: '139-0000-0002', email: null, channels: ['sms' as const], position: 0, availableFrom: null, availableTo: null }
    const p = plan([sheet('contacts', [{ 户编号: 'A1', 姓名: '王子', 关系: '儿子', 电话: '13900000002' }, { 户编号: 'A1', 姓名: '王子2', 关系: '儿子', 电话: '139 0000 0002' }])], { ...EMPTY, households: [stored()], contacts: [contact] }, ids)
    expect(p.contacts.update).toEqual([expect.objectContaining({ id: 'ct_1', phone: '13900000002' })])
    expect(p.contacts.create).toEqual([])
    expect(p.errors).toEqual([expect.objectContaining({ row: 3, column: '电话', zh: expect.stringContaining('与第 2 行重复') })])
  })
})

describe('adopting households entered by hand', () => {
  const byHand = (over: Partial<Snapshot['households'][number]> = {}) => {
    const { ref: _ref, ...h } = stored({ id: 'hh_hand', ref: '', ...over })
    return h
  }

  it('a new 户编号 with the same community, elder and address (numbers written alike) adopts the household: updated, never created', () => {
    const p = plan([
      sheet('households', [{ 户编号: 'A9', 社区: '东区', 老人姓名: '王阿婆', 年龄: '80', 住址: ' 东路 01号' }]),
      sheet('contacts', [{ 户编号: 'A9', 姓名: '王子', 关系: '儿子', 电话: '13900000002' }]),
    ], {
      ...EMPTY,
      unnumbered: [byHand(), byHand({ id: 'hh_other', communityId: 'c2' }), byHand({ id: 'hh_elsewhere', address: '东路 2号' })],
      contacts: [{ id: 'ct_1', householdId: 'hh_hand', name: '王子', relation: '儿子', audience: 'family', phone: '13900000002', email: null, channels: ['sms'], position: 0, availableFrom: null, availableTo: null }],
    }, ids)
    expect(p.errors).toEqual([])
    expect(p.counts.households).toEqual({ created: 0, updated: 1, unchanged: 0, invalid: 0 })
    expect(p.households.update).toEqual([expect.objectContaining({ id: 'hh_hand', ref: 'A9', address: '东路 01号' })])
    expect(p.adopted).toEqual([{ row: 2, ref: 'A9', householdId: 'hh_hand', elderName: '王阿婆', address: '东路 1号' }])
    // Her contact is the one she has, not a second one.
    expect(p.counts.contacts).toEqual({ created: 0, updated: 0, unchanged: 1, invalid: 0 })
  })

  it('a 户编号 already on the platform is never an adoption; another name or address is a new household', () => {
    const known = plan([sheet('households', [{ 户编号: 'A1', 社区: '东区', 老人姓名: '王阿婆', 年龄: '80', 住址: '东路 1号' }])], { ...EMPTY, households: [stored()], unnumbered: [byHand()] }, ids)
    expect(known.adopted).toEqual([])
    expect(known.counts.households.unchanged).toBe(1)
    const other = plan([sheet('households', [{ 户编号: 'A9', 社区: '东区', 老人姓名: '王阿公', 住址: '东路 1号' }])], { ...EMPTY, unnumbered: [byHand()] }, ids)
    expect(other.adopted).toEqual([])
    expect(other.counts.households.created).toBe(1)
  })

  it('two such households, or two rows matching one, are an error on the row naming the ids', () => {
    const two = plan([sheet('households', [{ 户编号: 'A9', 社区: '东区', 老人姓名: '王阿婆', 住址: '东路 1号' }])], { ...EMPTY, unnumbered: [byHand(), byHand({ id: 'hh_twin' })] }, ids)
    expect(two.counts.households).toEqual({ created: 0, updated: 0, unchanged: 0, invalid: 1 })
    expect(two.errors).toEqual([expect.objectContaining({ sheet: 'households', row: 2, column: '户编号', zh: expect.stringContaining('hh_hand、hh_twin') })])
    expect(two.adopted).toEqual([])

    const rows = plan([sheet('households', [
      { 户编号: 'A9', 社区: '东区', 老人姓名: '王阿婆', 住址: '东路 1号' },
      { 户编号: 'A10', 社区: '东区', 老人姓名: '王阿婆', 住址: '东路 1号' },
    ])], { ...EMPTY, unnumbered: [byHand()] }, ids)
    expect(rows.adopted.map((a) => a.row)).toEqual([2])
    expect(rows.errors).toEqual([expect.objectContaining({ row: 3, zh: expect.stringContaining('与第 2 行对上了同一户现有住户(hh_hand)') })])
  })
})
