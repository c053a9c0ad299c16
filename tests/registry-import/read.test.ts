/**
 * Reading a street office's own workbook (src/registry-import/read.ts): a title line above the
 * header, columns of its own, a sheet named Sheet1 recognised by its headers, rows numbered as the
 * spreadsheet numbers them; an old .xls and a file without our headers are refused with advice.
 */
import ExcelJS from 'exceljs'
import { describe, expect, it } from 'vitest'
import { readFile } from '../../src/registry-import/read.js'

describe('readFile', () => {
  it("finds the header under a title line, ignores the office's own columns, and keeps the spreadsheet's row numbers", async () => {
    const wb = new ExcelJS.Workbook()
    const ws = wb.addWorksheet('Sheet1')
    ws.addRow(['幸福里社区独居老人登记表(2026 年 12 月)'])
    ws.addRow(['序号', '户编号*', '所属社区', '姓名', '年龄(岁)', '家庭住址', '走访人'])
    ws.addRow([1, 'A1', '幸福里社区', '王阿婆', 80, '1号楼 101室', '小李'])
    ws.addRow([])
    ws.addRow([2, 'A2', '幸福里社区', '李老伯', 91, '1号楼 102室', '小李'])
    const { sheets, errors } = await readFile(Buffer.from(await wb.xlsx.writeBuffer()))
    expect(errors).toEqual([])
    expect(sheets).toHaveLength(1)
    expect(sheets[0]!.key).toBe('households')
    expect(sheets[0]!.headers).toEqual(expect.objectContaining({ ref: '户编号*', communityName: '所属社区', elderName: '姓名', age: '年龄(岁)', address: '家庭住址' }))
    expect(sheets[0]!.rows.map((r) => [r.row, r.cells.ref, r.cells.age])).toEqual([[3, 'A1', '80'], [5, 'A2', '91']])
  })

  it('says what is missing: a required column, or headers it knows at all; an old .xls is refused with advice', async () => {
    const wb = new ExcelJS.Workbook()
    wb.addWorksheet('设备').addRow(['户编号', '设备编号'])
    const missing = await readFile(Buffer.from(await wb.xlsx.writeBuffer()))
    expect(missing.errors.map((e) => e.zh)).toEqual(['设备「类型」: 缺少此列'])
    const xls = await readFile(Buffer.from('d0cf11e0a1b11ae1', 'hex'))
    expect(xls.errors[0]!.zh).toContain('另存为 .xlsx')
  })
})
