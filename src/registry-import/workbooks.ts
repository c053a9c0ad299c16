/**
 * The workbooks the import hands out, written by exceljs: the template a street office fills in
 * (老人户, 联系人, 设备, each with its example row, and 说明), and the new devices' secrets.
 */
import ExcelJS from 'exceljs'
import { DEVICE_KINDS, ROOMS, AUDIENCES } from '../store/registry.js'
import { KIND_ZH, ROOM_ZH } from '../detectors/names.js'
import { AUDIENCE_ZH, EXAMPLE_PREFIX, SHEETS, SHEET_KEYS } from './sheets.js'

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** Rows the template's drop-down lists cover (a district's 5,000 households and more). */
const LIST_ROWS = 20_000

const colName = (n: number) => String.fromCharCode(64 + n)

export async function templateWorkbook(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  wb.creator = 'Anju 安居'
  const readme = wb.addWorksheet('说明')
  readme.columns = [{ width: 12 }, { width: 16 }, { width: 8 }, { width: 90 }]
  const lines: string[] = [
    '安居平台 · 住户批量导入模板',
    '',
    '1. 在「老人户」「联系人」「设备」三张表里各填一行一条。第 2 行是示例(户编号以「示例」开头),这样的行不会导入,可以删掉或照着改写。',
    '2. 带 * 的列必须填写。「老人户」表的「社区」填平台上已有的社区名称(或填「社区编号」)。',
    '3. 联系人和设备用「户编号」对应到老人户:可以是本文件「老人户」表里的,也可以是平台上已登记的。同一户的联系人按表中先后顺序呼叫。',
    '4. 重复导入同一份表格不会重复登记:老人户按「社区 + 户编号」更新,联系人按「户 + 电话」更新,设备按「设备编号」更新。',
    '5. 导入不会删除任何数据:表里没有的住户、联系人和设备保持原样。已登记在另一户的设备不会被移动,会报错。',
    '6. 任何一行有错时,默认整份表格都不导入,并列出每个错误所在的表、行和列;也可以选择「只导入无误的行」。',
    '7. 新设备的密码只在导入完成时显示一次,请下载「设备密码」表格交给安装人员,妥善保管。再次导入不会改变已有设备的密码。',
    '8. 也可以导入 CSV 文件:一个 CSV 只放一张表,第一行是列名。',
    '',
  ]
  for (const l of lines) readme.addRow([l])
  readme.getRow(1).font = { bold: true, size: 14 }
  const head = readme.addRow(['表', '列', '必填', '填写要求'])
  head.font = { bold: true }
  for (const k of SHEET_KEYS) {
    for (const c of Object.values(SHEETS[k].columns)) readme.addRow([SHEETS[k].name, c.header, c.required ? '是' : '', c.rule.zh])
  }
  readme.addRow([])
  readme.addRow(['设备类型', DEVICE_KINDS.map((k) => KIND_ZH[k]).join('、')])
  readme.addRow(['房间', ROOMS.map((r) => ROOM_ZH[r]).join('、')])
  readme.addRow(['身份', AUDIENCES.map((a) => AUDIENCE_ZH[a]).join('、')])

  for (const k of SHEET_KEYS) {
    const spec = SHEETS[k]
    const columns = Object.entries(spec.columns)
    const ws = wb.addWorksheet(spec.name, { views: [{ state: 'frozen', ySplit: 1 }] })
    ws.columns = columns.map(([, c]) => ({ header: c.required ? `${c.header}*` : c.header, width: Math.max(12, c.example.length * 2 + 4), style: { numFmt: '@' } }))
    const header = ws.getRow(1)
    header.font = { bold: true }
    columns.forEach(([, c], i) => {
      const cell = header.getCell(i + 1)
      if (c.required) cell.font = { bold: true, color: { argb: 'FFC00000' } }
      cell.note = c.rule.zh
    })
    const example = ws.addRow(columns.map(([key, c]) => (key === 'ref' ? `${EXAMPLE_PREFIX}-0101` : c.example)))
    example.font = { italic: true, color: { argb: 'FF808080' } }
    const lists: Record<string, string[]> = {
      kind: DEVICE_KINDS.map((x) => KIND_ZH[x]!),
      room: ROOMS.map((x) => ROOM_ZH[x]!),
      audience: AUDIENCES.map((x) => AUDIENCE_ZH[x]),
    }
    columns.forEach(([key], i) => {
      const words = lists[key]
      if (!words) return
      const col = colName(i + 1)
      // exceljs keeps one validation for the whole range (its typings omit the collection).
      ;(ws as unknown as { dataValidations: { add(range: string, v: ExcelJS.DataValidation): void } }).dataValidations.add(`${col}2:${col}${LIST_ROWS}`, {
        type: 'list', allowBlank: true, formulae: [`"${words.join(',')}"`], showErrorMessage: false,
      })
    })
  }
  return Buffer.from(await wb.xlsx.writeBuffer())
}

export interface Credential { ref: string; communityName: string; deviceId: string; kind: string; room: string | null; secret: string }

/** The new devices' secrets, for the installer: the only copy the platform gives out. */
export async function credentialsWorkbook(rows: readonly Credential[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('设备密码')
  ws.columns = [
    { header: '户编号', width: 14 }, { header: '社区', width: 16 }, { header: '设备编号', width: 18 }, { header: '类型', width: 12 }, { header: '房间', width: 10 }, { header: '设备密码', width: 50 },
  ]
  ws.getRow(1).font = { bold: true }
  for (const r of rows) ws.addRow([r.ref, r.communityName, r.deviceId, KIND_ZH[r.kind] ?? r.kind, r.room ? (ROOM_ZH[r.room] ?? r.room) : '', r.secret])
  ws.addRow([])
  ws.addRow(['设备用「设备编号」和「设备密码」登录平台;密码只在这次导入时给出,请妥善保管。'])
  return Buffer.from(await wb.xlsx.writeBuffer())
}
