/**
 * Bulk import of a street office's registry (docs/operations.md §registry import), on the real
 * platform with real files written by exceljs: the template, a 5,000-household workbook imported
 * and imported again, bad rows named by sheet, row and column in Chinese with nothing changed,
 * valid rows only, a dry run, CSV, an operator's scope, and the audit trail without secrets.
 */
import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { connectDevice, connectOperator, createOperator, provision, publish, startPlatform, type TestPlatform } from '../helpers/platform.js'
import { zipBomb } from '../helpers/zip-bomb.js'

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
type Cell = string | number | null
type Sheets = Record<string, Cell[][]>

const HH_HEAD = ['户编号', '社区', '老人姓名', '年龄', '住址', '电话', '病史备注', '钥匙盒']
const CT_HEAD = ['户编号', '姓名', '关系', '电话', '身份', '可联系时段']
const DV_HEAD = ['户编号', '设备编号', '类型', '房间', '心跳秒数']

async function workbook(sheets: Sheets): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  for (const [name, rows] of Object.entries(sheets)) {
    const ws = wb.addWorksheet(name)
    for (const r of rows) ws.addRow(r)
  }
  return Buffer.from(await wb.xlsx.writeBuffer())
}

interface Counts { created: number; updated: number; unchanged: number; invalid: number }
interface RowError { sheet: string | null; sheetName: string; row: number | null; column: string | null; value: string | null; zh: string; en: string }
interface Result {
  imported: boolean
  dryRun: boolean
  adopted: { row: number; ref: string; householdId: string; elderName: string; address: string }[]
  counts: Record<'households' | 'contacts' | 'devices', Counts>
  errors: RowError[]
  credentials: { ref: string; deviceId: string; secret: string; kind: string }[]
  credentialsFile: string | null
  error?: string
  message?: string
}

let p: TestPlatform
let communityId: string
const COMMUNITY = '导入测试社区'

async function upload(file: Buffer, query = '', opts: { token?: string; type?: string } = {}): Promise<{ status: number; body: Result }> {
  const res = await fetch(`${p.httpUrl}/api/import/households${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': opts.type ?? XLSX, authorization: `Bearer ${opts.token ?? p.adminToken}` },
    body: new Uint8Array(file),
  })
  return { status: res.status, body: (await res.json()) as Result }
}

const total = async (community: string, q?: string) =>
  (await p.api<{ total: number; items: { id: string; elderName: string; age: number | null; phone: string | null }[] }>('GET', `/api/households?communityId=${community}&limit=500${q ? `&q=${encodeURIComponent(q)}` : ''}`)).body

beforeAll(async () => {
  p = await startPlatform()
  const c = await p.api<{ id: string }>('POST', '/api/communities', { name: COMMUNITY, street: '测试街道' })
  communityId = c.body.id
})
afterAll(async () => {
  await p.close()
})

describe('the template', () => {
  it('downloads as .xlsx with the Chinese sheets, headers, one example row each and 说明; imported as it is, it changes nothing', async () => {
    const res = await fetch(`${p.httpUrl}/api/import/template.xlsx`, { headers: { authorization: `Bearer ${p.adminToken}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain(XLSX)
    const file = Buffer.from(await res.arrayBuffer())
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(file as never)
    expect(wb.worksheets.map((w) => w.name)).toEqual(['说明', '老人户', '联系人', '设备'])
    const headers = (name: string) => (wb.getWorksheet(name)!.getRow(1).values as unknown[]).slice(1).map((v) => String(v).replace('*', ''))
    expect(headers('老人户')).toEqual(expect.arrayContaining(['户编号', '社区编号', '社区', '老人姓名', '年龄', '住址', '电话', '病史备注', '钥匙盒']))
    expect(headers('联系人')).toEqual(expect.arrayContaining(['户编号', '姓名', '关系', '电话', '身份', '可联系时段']))
    expect(headers('设备')).toEqual(expect.arrayContaining(['户编号', '设备编号', '类型', '房间', '心跳秒数']))
    for (const name of ['老人户', '联系人', '设备']) expect(wb.getWorksheet(name)!.actualRowCount).toBe(2)
    expect(wb.getWorksheet('设备')!.getRow(2).getCell(headers('设备').indexOf('类型') + 1).text).toBe('一键通')

    const again = await upload(file)
    expect(again.status).toBe(200)
    expect(again.body.errors).toEqual([])
    expect(Object.values(again.body.counts).every((c) => c.created + c.updated + c.unchanged === 0)).toBe(true)
  })
})

describe('a district of 5,000 households', () => {
  const N = 5000
  const rows = (edit?: (i: number) => Partial<{ age: number }>) => ({
    老人户: [HH_HEAD, ...Array.from({ length: N }, (_, i) => [`H${String(i + 1).padStart(5, '0')}`, COMMUNITY, `规模老人${i + 1}`, edit?.(i).age ?? 70 + (i % 30), `幸福里 ${Math.floor(i / 30) + 1}号楼 ${(i % 30) + 101}室`, `139${String(i).padStart(8, '0')}`, null, null])],
    联系人: [CT_HEAD, ...Array.from({ length: N }, (_, i) => [`H${String(i + 1).padStart(5, '0')}`, `子女${i + 1}`, '女儿', `137${String(i).padStart(8, '0')}`, '家属', '08:00-21:00'])],
    设备: [DV_HEAD, ...Array.from({ length: N }, (_, i) => [`H${String(i + 1).padStart(5, '0')}`, `imp-btn-${i + 1}`, '一键通', null, null]), ...Array.from({ length: N }, (_, i) => [`H${String(i + 1).padStart(5, '0')}`, `imp-wm-${i + 1}`, '水表', '厨房', 300])],
  })
  let first: Result

  it('imports every row in one go and gives each new device its secret once', async () => {
    const r = await upload(await workbook(rows()), 'fileName=district.xlsx&credentials=xlsx')
    expect(r.status, JSON.stringify(r.body.errors?.slice(0, 3))).toBe(200)
    first = r.body
    expect(r.body.counts).toEqual({
      households: { created: N, updated: 0, unchanged: 0, invalid: 0 },
      contacts: { created: N, updated: 0, unchanged: 0, invalid: 0 },
      devices: { created: 2 * N, updated: 0, unchanged: 0, invalid: 0 },
    })
    expect(r.body.credentials).toHaveLength(2 * N)
    expect(new Set(r.body.credentials.map((c) => c.secret)).size).toBe(2 * N)
    // In the store, through the API.
    expect((await total(communityId)).total).toBe(N)
    const one = (await total(communityId, '规模老人4321')).items[0]!
    expect(one.age).toBe(70 + (4320 % 30))
    const devices = await p.api<{ id: string; kind: string; room: string | null; heartbeatS: number }[]>('GET', `/api/devices?householdId=${one.id}`)
    expect(devices.body.map((d) => [d.id, d.kind, d.room, d.heartbeatS]).sort()).toEqual([['imp-btn-4321', 'button', null, 3600], ['imp-wm-4321', 'water', 'kitchen', 300]])
    const contacts = await p.api<{ name: string; audience: string; availableFrom: string; availableTo: string }[]>('GET', `/api/households/${one.id}/contacts`)
    expect(contacts.body).toEqual([expect.objectContaining({ name: '子女4321', audience: 'family', availableFrom: '08:00', availableTo: '21:00' })])
    // The credentials workbook holds the same secrets.
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(Buffer.from(r.body.credentialsFile!, 'base64') as never)
    const sheet = wb.getWorksheet('设备密码')!
    const row = sheet.getRow(2)
    const cred = r.body.credentials.find((c) => c.deviceId === row.getCell(3).text)!
    expect(row.getCell(6).text).toBe(cred.secret)
  }, 120_000)

  it('a new device logs in with its secret', async () => {
    const cred = first.credentials.find((c) => c.deviceId === 'imp-btn-17')!
    const client = await connectDevice(p, { id: cred.deviceId, secret: cred.secret })
    client.end(true)
  })

  it('imported again, the same file changes nothing; with one row edited, it updates that one and keeps every secret', async () => {
    const same = await upload(await workbook(rows()))
    expect(same.status).toBe(200)
    expect(same.body.counts).toEqual({
      households: { created: 0, updated: 0, unchanged: N, invalid: 0 },
      contacts: { created: 0, updated: 0, unchanged: N, invalid: 0 },
      devices: { created: 0, updated: 0, unchanged: 2 * N, invalid: 0 },
    })
    expect(same.body.credentials).toEqual([])
    expect((await total(communityId)).total).toBe(N)

    const edited = await upload(await workbook(rows((i) => (i === 99 ? { age: 101 } : {}))))
    expect(edited.status).toBe(200)
    expect(edited.body.counts.households).toEqual({ created: 0, updated: 1, unchanged: N - 1, invalid: 0 })
    expect(edited.body.counts.devices).toEqual({ created: 0, updated: 0, unchanged: 2 * N, invalid: 0 })
    expect((await total(communityId, '规模老人100')).items.find((h) => h.elderName === '规模老人100')!.age).toBe(101)
    expect((await total(communityId)).total).toBe(N)
    // The old secret still works: a re-import never changes it.
    const cred = first.credentials.find((c) => c.deviceId === 'imp-wm-100')!
    const client = await connectDevice(p, { id: cred.deviceId, secret: cred.secret })
    client.end(true)
  }, 120_000)

  it('is on the audit trail with the file name and counts, and no secret', async () => {
    const trail = await p.api<{ action: string; actor: string; detail: Record<string, unknown> }[]>('GET', '/api/audit?limit=50')
    const imports = trail.body.filter((e) => e.action === 'registry.imported')
    const entry = imports.find((e) => e.detail.fileName === 'district.xlsx')!
    expect(entry.actor).toBe('user:admin')
    expect((entry.detail.counts as Record<'devices', Counts>).devices.created).toBe(2 * N)
    const all = JSON.stringify(imports)
    expect(all).not.toContain(firstSecret())
  })
  const firstSecret = () => first.credentials[0]!.secret
})

describe('bad rows', () => {
  let other: Awaited<ReturnType<typeof provision>>
  const bad = () =>
    workbook({
      老人户: [
        HH_HEAD,
        ['B001', COMMUNITY, '好老人', 80, '坏行路 1号', null, null, null],
        ['B002', COMMUNITY, '错年龄', '七十', '坏行路 2号', null, null, null],
        ['B003', COMMUNITY, '无住址', 75, null, null, null, null],
        ['B004', '没有的社区', '错社区', 75, '坏行路 4号', null, null, null],
        ['B001', COMMUNITY, '重复户', 70, '坏行路 5号', null, null, null],
      ],
      联系人: [CT_HEAD, ['B001', '儿子', '儿子', '13900000001', null, null], ['B999', '无户', '女儿', '13900000002', null, null], ['B001', '坏时段', '女儿', '13900000003', null, '早上']],
      设备: [DV_HEAD, ['B001', 'bad-btn-1', '一键通', null, null], ['B001', 'bad-tv-1', '电视', null, null], ['B001', other.device.id, '一键通', null, null], ['B001', 'bad-pr-1', '人体感应', '阳台', null]],
    })

  beforeAll(async () => {
    other = await provision(p, { communityId })
  })

  it('are each named by sheet, row and column in Chinese, and nothing changes', async () => {
    const before = (await total(communityId)).total
    const r = await upload(await bad())
    expect(r.status).toBe(400)
    expect(r.body.error).toBe('VALIDATION')
    const at = (sheet: string, row: number) => r.body.errors.filter((e) => e.sheet === sheet && e.row === row)
    expect(at('households', 3)).toEqual([expect.objectContaining({ column: '年龄', value: '七十', zh: '老人户 第 3 行「年龄」: 应为 0–130 的整数,实为 "七十"' })])
    expect(at('households', 3)[0]!.en).toContain('households row 3 "年龄"')
    expect(at('households', 4)).toEqual([expect.objectContaining({ column: '住址', zh: '老人户 第 4 行「住址」: 必须填写' })])
    expect(at('households', 5)).toEqual([expect.objectContaining({ column: '社区', value: '没有的社区' })])
    expect(at('households', 6)).toEqual([expect.objectContaining({ column: '户编号', zh: expect.stringContaining('与第 2 行的户编号重复') })])
    expect(at('households', 2)).toEqual([])
    expect(at('contacts', 2)).toEqual([])
    expect(at('contacts', 3)).toEqual([expect.objectContaining({ column: '户编号', value: 'B999' })])
    expect(at('contacts', 4)).toEqual([expect.objectContaining({ column: '可联系时段', value: '早上' })])
    expect(at('devices', 3)).toEqual([expect.objectContaining({ column: '类型', value: '电视' })])
    expect(at('devices', 4)).toEqual([expect.objectContaining({ column: '设备编号', zh: expect.stringContaining('已登记在另一户') })])
    expect(at('devices', 5)).toEqual([expect.objectContaining({ column: '房间', value: '阳台' })])
    expect(r.body.errors.map((e) => e.zh)).toHaveLength(9)
    expect(r.body.counts.households.invalid).toBe(4)
    // Nothing changed: no household, and the other household's device stayed where it was.
    expect((await total(communityId)).total).toBe(before)
    expect((await p.api<{ householdId: string }>('GET', `/api/devices/${other.device.id}`)).body.householdId).toBe(other.householdId)
    expect((await p.api('GET', '/api/devices/bad-btn-1')).status).toBe(404)
  })

  it('a dry run says what would happen and writes nothing', async () => {
    const before = (await total(communityId)).total
    const r = await upload(await bad(), 'dryRun=true')
    expect(r.status).toBe(200)
    expect(r.body.dryRun).toBe(true)
    expect(r.body.imported).toBe(false)
    expect(r.body.counts.households).toEqual({ created: 1, updated: 0, unchanged: 0, invalid: 4 })
    expect(r.body.errors.map((e) => e.zh)).toHaveLength(9)
    expect((await total(communityId)).total).toBe(before)
  })

  it('with validRowsOnly, the valid rows are imported and the others reported', async () => {
    const before = (await total(communityId)).total
    const r = await upload(await bad(), 'validRowsOnly=true')
    expect(r.status).toBe(200)
    expect(r.body.imported).toBe(true)
    expect(r.body.counts.households).toEqual({ created: 1, updated: 0, unchanged: 0, invalid: 4 })
    expect(r.body.counts.contacts).toEqual({ created: 1, updated: 0, unchanged: 0, invalid: 2 })
    expect(r.body.counts.devices).toEqual({ created: 1, updated: 0, unchanged: 0, invalid: 3 })
    expect(r.body.errors.map((e) => e.zh)).toHaveLength(9)
    expect((await total(communityId)).total).toBe(before + 1)
    expect((await p.api<{ kind: string }>('GET', '/api/devices/bad-btn-1')).body.kind).toBe('button')
    expect((await p.api<{ householdId: string }>('GET', `/api/devices/${other.device.id}`)).body.householdId).toBe(other.householdId)
  })
})

describe('CSV', () => {
  it('takes one sheet, told by its headers or by ?sheet, and keeps a phone number as written', async () => {
    const households = ['户编号,社区,老人姓名,年龄,住址,电话', `C001,${COMMUNITY},沈阿婆,88,"新村 7号楼, 201室",021-5555 0101`, `C002,${COMMUNITY},钱老伯,91,新村 7号楼 202室,02155550102`].join('\r\n')
    const r = await upload(Buffer.from(`\uFEFF${households}`), '', { type: 'text/csv' })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.counts.households.created).toBe(2)
    const qian = (await total(communityId, '钱老伯')).items[0]!
    expect(qian.phone).toBe('02155550102')
    expect((await total(communityId, '沈阿婆')).items[0]!.age).toBe(88)

    const devices = ['户编号,设备编号,类型,房间', 'C001,csv-door-1,门磁,门厅', 'C002,csv-gas-1,燃气,厨房'].join('\n')
    const d = await upload(Buffer.from(devices), 'sheet=devices', { type: 'text/csv' })
    expect(d.status, JSON.stringify(d.body)).toBe(200)
    expect(d.body.counts.devices.created).toBe(2)
    expect((await p.api<{ kind: string; room: string }>('GET', '/api/devices/csv-gas-1')).body).toEqual(expect.objectContaining({ kind: 'gas', room: 'kitchen' }))

    // Saved by Excel on a Chinese Windows: GB18030, not UTF-8 (户编号,社区,老人姓名,年龄,住址 / G001,导入测试社区,郑阿婆,79,老街 3号).
    const gbk = Buffer.from('bba7b1e0bac52cc9e7c7f82cc0cfc8cbd0d5c3fb2cc4eac1e42cd7a1d6b70d0a473030312cb5bcc8ebb2e2cad4c9e7c7f82cd6a3b0a2c6c52c37392cc0cfbdd62033bac50d0a', 'hex')
    const g = await upload(gbk, 'sheet=households', { type: 'text/csv' })
    expect(g.status, JSON.stringify(g.body)).toBe(200)
    expect((await total(communityId, '郑阿婆')).items[0]!.age).toBe(79)

    const wrong = await upload(Buffer.from('名字,地方\n张三,上海'), '', { type: 'text/csv' })
    expect(wrong.status).toBe(400)
    expect(wrong.body.errors[0]!.zh).toContain('找不到表头')
  })

  it('an empty or non-file body is refused with a clear 400', async () => {
    const r = await p.api<{ error: string; message: string }>('POST', '/api/import/households', {})
    expect(r.status).toBe(400)
    expect(r.body.message).toContain('请上传')
  })
})

describe('an operator', () => {
  let token: string
  let otherCommunity: string
  let foreignDevice: string
  beforeAll(async () => {
    const fx = await provision(p)
    otherCommunity = fx.communityId
    foreignDevice = fx.device.id
    await p.api('PATCH', `/api/communities/${otherCommunity}`, { name: '别人的社区' })
    token = await createOperator(p, 'import-operator', [communityId])
  })

  it('imports into their own community only: rows for another are errors, and nothing is imported', async () => {
    const file = await workbook({
      老人户: [HH_HEAD, ['OP1', COMMUNITY, '本社区', 80, '本路 1号', null, null, null], ['OP2', '别人的社区', '外社区', 80, '外路 1号', null, null, null]],
      设备: [DV_HEAD, ['OP1', foreignDevice, '一键通', null, null]],
    })
    const r = await upload(file, '', { token })
    expect(r.status).toBe(400)
    expect(r.body.errors).toEqual([
      expect.objectContaining({ sheet: 'households', row: 3, column: '社区', zh: expect.stringContaining('不是您负责的社区') }),
      expect.objectContaining({ sheet: 'devices', row: 2, column: '设备编号', zh: expect.stringContaining('不在您负责的社区') }),
    ])
    expect((await total(otherCommunity)).total).toBe(1)

    const own = await upload(await workbook({ 老人户: [HH_HEAD, ['OP1', COMMUNITY, '本社区', 80, '本路 1号', null, null, null]] }), '', { token })
    expect(own.status).toBe(200)
    expect(own.body.counts.households.created).toBe(1)
  })
})

describe('户编号 on the household', () => {
  it('shows what the import set, can be set by hand, is unique per community (409, nothing changed) and finds the household', async () => {
    const imported = await upload(await workbook({ 老人户: [HH_HEAD, ['REF-1', COMMUNITY, '户号阿婆', 80, '户号路 1号', null, null, null]] }))
    expect(imported.status).toBe(200)
    const found = await total(communityId, 'REF-1')
    expect(found.items.map((h) => h.elderName)).toEqual(['户号阿婆'])
    const id = found.items[0]!.id
    expect((await p.api<{ registryRef: string | null }>('GET', `/api/households/${id}`)).body.registryRef).toBe('REF-1')

    const byHand = await p.api<{ id: string; registryRef: string | null }>('POST', '/api/households', { communityId, elderName: '手填阿公', address: '户号路 2号' })
    expect(byHand.status).toBe(201)
    expect(byHand.body.registryRef).toBeNull()
    const clash = await p.api<{ error: string; message: string }>('PATCH', `/api/households/${byHand.body.id}`, { registryRef: 'REF-1', age: 77 })
    expect(clash.status).toBe(409)
    expect(clash.body.message).toContain(id)
    expect((await p.api<{ registryRef: string | null; age: number | null }>('GET', `/api/households/${byHand.body.id}`)).body).toMatchObject({ registryRef: null, age: null })
    expect((await p.api('POST', '/api/households', { communityId, elderName: '重号', address: '户号路 3号', registryRef: 'REF-1' })).status).toBe(409)
    expect((await total(communityId, '重号')).total).toBe(0)

    const set = await p.api<{ registryRef: string | null }>('PATCH', `/api/households/${byHand.body.id}`, { registryRef: ' REF-2 ' })
    expect(set.status).toBe(200)
    expect(set.body.registryRef).toBe('REF-2')
    // Unique per community only: another community may use the same number.
    const other = await p.api<{ id: string }>('POST', '/api/communities', { name: '户号别的社区', street: '测试街道' })
    expect((await p.api('POST', '/api/households', { communityId: other.body.id, elderName: '同号', address: '别路 1号', registryRef: 'REF-1' })).status).toBe(201)
    // The household keeps its number when an edit leaves it out; null clears it.
    expect((await p.api<{ registryRef: string | null }>('PATCH', `/api/households/${byHand.body.id}`, { age: 78 })).body.registryRef).toBe('REF-2')
    expect((await p.api<{ registryRef: string | null }>('PATCH', `/api/households/${byHand.body.id}`, { registryRef: null })).body.registryRef).toBeNull()
    expect((await p.api('PATCH', `/api/households/${byHand.body.id}`, { registryRef: '' })).status).toBe(400)
  })
})

describe('households entered by hand before the first import', () => {
  it('are adopted, not added again: the dry run says 已匹配现有住户, the import gives them the 户编号 and keeps their contact and device', async () => {
    const c = (await p.api<{ id: string }>('POST', '/api/communities', { name: '手填社区', street: '测试街道' })).body.id
    const hand = await p.api<{ id: string }>('POST', '/api/households', { communityId: c, elderName: '赵阿婆', address: '手填路 3号楼 101室' })
    await p.api('POST', `/api/households/${hand.body.id}/contacts`, { name: '赵子', relation: '儿子', phone: '13911112222' })
    const button = await p.api<{ id: string }>('POST', '/api/devices', { id: 'btn-hand-1', householdId: hand.body.id, kind: 'button' })
    expect(button.status).toBe(201)
    const file = await workbook({
      老人户: [HH_HEAD, ['SH-1', '手填社区', '赵阿婆', 83, '手填路 03号楼 101室', null, null, null], ['SH-2', '手填社区', '钱老伯', 80, '手填路 3号楼 102室', null, null, null]],
      联系人: [CT_HEAD, ['SH-1', '赵子', '儿子', '13911112222', '家属', null]],
      设备: [DV_HEAD, ['SH-1', 'btn-hand-1', '一键通', null, null]],
    })

    const dry = await upload(file, 'dryRun=true')
    expect(dry.status).toBe(200)
    expect(dry.body.adopted).toEqual([{ row: 2, ref: 'SH-1', householdId: hand.body.id, elderName: '赵阿婆', address: '手填路 3号楼 101室' }])
    expect(dry.body.counts.households).toEqual({ created: 1, updated: 1, unchanged: 0, invalid: 0 })
    expect((await p.api<{ registryRef: string | null }>('GET', `/api/households/${hand.body.id}`)).body.registryRef).toBeNull()

    const done = await upload(file)
    expect(done.status).toBe(200)
    expect(done.body.adopted.map((a) => a.householdId)).toEqual([hand.body.id])
    expect(done.body.counts.contacts).toEqual({ created: 0, updated: 0, unchanged: 1, invalid: 0 })
    expect(done.body.counts.devices).toEqual({ created: 0, updated: 0, unchanged: 1, invalid: 0 })
    const zhao = (await total(c, '赵阿婆')).items
    expect(zhao.map((h) => h.id)).toEqual([hand.body.id])
    expect((await p.api<{ registryRef: string | null; age: number | null }>('GET', `/api/households/${hand.body.id}`)).body).toMatchObject({ registryRef: 'SH-1', age: 83 })
    expect((await p.api<unknown[]>('GET', `/api/households/${hand.body.id}/contacts`)).body).toHaveLength(1)
    // Imported again: found by its 户编号 now, nothing to adopt.
    const again = await upload(file)
    expect(again.body.adopted).toEqual([])
    expect(again.body.counts.households).toEqual({ created: 0, updated: 0, unchanged: 2, invalid: 0 })
  })

  it('two hand-entered households with the same elder and address: an error on the row naming both, nothing imported', async () => {
    const c = (await p.api<{ id: string }>('POST', '/api/communities', { name: '双户社区', street: '测试街道' })).body.id
    const a = await p.api<{ id: string }>('POST', '/api/households', { communityId: c, elderName: '孙阿婆', address: '双路 1号' })
    const b = await p.api<{ id: string }>('POST', '/api/households', { communityId: c, elderName: '孙阿婆', address: '双路 1号' })
    const r = await upload(await workbook({ 老人户: [HH_HEAD, ['SS-1', '双户社区', '孙阿婆', 90, '双路 1号', null, null, null]] }))
    expect(r.status).toBe(400)
    expect(r.body.errors).toEqual([expect.objectContaining({ sheet: 'households', row: 2, column: '户编号', zh: expect.stringMatching(new RegExp(`${a.body.id}.*${b.body.id}|${b.body.id}.*${a.body.id}`)) })])
    expect((await total(c)).total).toBe(2)
    for (const id of [a.body.id, b.body.id]) expect((await p.api<{ registryRef: string | null }>('GET', `/api/households/${id}`)).body.registryRef).toBeNull()
  })
})

describe('a file too large to read', () => {
  it('a zip bomb is refused with a clear error and nothing imported, while an SOS still reaches the operator', { timeout: 120_000 }, async () => {
    const fx = await provision(p)
    const operator = await connectOperator(p, await createOperator(p, 'bomb-operator', [fx.communityId]))
    const button = await connectDevice(p, fx.device)
    const before = (await total(communityId)).total
    // 95 MiB of sheet XML in under 1 MiB: within the inflate bound, so exceljs starts on it and
    // the reader's capped heap is what ends it (read-off-thread.ts).
    const bomb = await zipBomb(95)
    expect(bomb.length).toBeLessThan(1024 * 1024)
    let answered = false
    const importing = upload(bomb).finally(() => {
      answered = true
    })
    await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'bomb-sos-1', type: 'sos' })
    await operator.alarmPushed('bomb-sos-1', 10_000)
    expect((await fetch(`${p.httpUrl}/healthz`)).status).toBe(200)
    // Both while the file was still being read: the alarm did not wait for the import.
    expect(answered).toBe(false)

    const r = await importing
    expect(r.status).toBe(400)
    expect(r.body.message).toContain('文件过大或已损坏')
    expect(r.body.message).toContain('nothing was imported')
    expect((await total(communityId)).total).toBe(before)
    // The process is unharmed: the next file is read and imported.
    const next = await upload(await workbook({ 老人户: [HH_HEAD, ['BOMB-AFTER', COMMUNITY, '炸弹之后', 80, '后路 1号', null, null, null]] }))
    expect(next.status).toBe(200)
    expect(next.body.counts.households.created).toBe(1)
    await button.endAsync()
    operator.close()
  })
})
