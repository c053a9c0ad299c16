/**
 * The report as an .xlsx workbook (exceljs): one sheet per section, a title row naming the
 * community or street and the month, Chinese headers, figures as numbers with a number format
 * (so a street office can sum them), notes under each table.
 */
import ExcelJS from 'exceljs'
import { utcOffsetMs } from '../detectors/local-time.js'
import type { CellFormat, MonthlyReport, Section } from './figures.js'

const NUM_FMT: Record<CellFormat, string | undefined> = { int: '0', percent: '0.0%', seconds: '0.0', minutes: '0.0', text: undefined }

/** 梅园社区 2026年11月 安居月报 */
export function reportTitle(r: Pick<MonthlyReport, 'scope' | 'month'>): string {
  const [y, m] = r.month.split('-')
  return `${r.scope.name} ${y}年${Number(m)}月 安居月报`
}

/** The download's name, e.g. `安居月报-梅园社区-2026-11.xlsx`. */
export function reportFileName(r: Pick<MonthlyReport, 'scope' | 'month'>): string {
  return `安居月报-${r.scope.name.replace(/[\\/:*?"<>|\s]+/g, '_')}-${r.month}.xlsx`
}

/** Wide enough for its longest text: a CJK character takes two widths. */
function width(text: string): number {
  let w = 0
  for (const ch of text) w += /[\u2e80-\uffff]/.test(ch) ? 2 : 1
  return w
}

function addSection(wb: ExcelJS.Workbook, r: MonthlyReport, s: Section): void {
  const ws = wb.addWorksheet(s.title.zh, { pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 } })
  const span = Math.max(2, s.columns.length)
  const title = ws.addRow([`${reportTitle(r)} · ${s.title.zh}`])
  title.font = { bold: true, size: 14 }
  ws.mergeCells(1, 1, 1, span)
  const scope = r.scope.kind === 'street' ? `${r.scope.street}(${r.scope.communities.map((c) => c.name).join('、')})` : `${r.scope.street} ${r.scope.name}`
  ws.addRow([`范围:${scope};统计月份:${r.month}(北京时间);生成时间:${new Date(r.generatedAt + utcOffsetMs(r.generatedAt, r.period.timeZone)).toISOString().slice(0, 16).replace('T', ' ')}${r.partial ? '(本月未结束)' : ''}`])
  ws.mergeCells(2, 1, 2, span)
  const header = ws.addRow(s.columns.map((c) => c.label.zh))
  header.font = { bold: true }
  header.eachCell((cell) => {
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF4' } }
    cell.border = { bottom: { style: 'thin' } }
  })
  s.rows.forEach((cells, i) => {
    const row = ws.addRow(cells.map((c) => (c === null ? null : c)))
    const rowFormat = s.rowFormats[i] ?? null
    cells.forEach((value, j) => {
      if (typeof value !== 'number') return
      const format = j > 0 && rowFormat ? rowFormat : s.columns[j]?.format ?? 'int'
      const fmt = NUM_FMT[format]
      if (fmt) row.getCell(j + 1).numFmt = fmt
    })
    if (cells[0] === '合计') row.font = { bold: true }
  })
  ws.addRow([])
  for (const note of s.notes) {
    const row = ws.addRow([`注:${note.zh}`])
    ws.mergeCells(row.number, 1, row.number, span)
    row.getCell(1).alignment = { wrapText: true, vertical: 'top' }
    row.height = 15 * Math.max(1, Math.ceil(width(note.zh) / (span * 14)))
  }
  s.columns.forEach((c, j) => {
    const texts = [c.label.zh, ...s.rows.map((cells) => (cells[j] == null ? '' : String(cells[j])))]
    ws.getColumn(j + 1).width = Math.min(40, Math.max(10, ...texts.map(width)) + 2)
  })
  ws.views = [{ state: 'frozen', ySplit: 3 }]
}

export async function reportWorkbook(r: MonthlyReport): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  wb.creator = 'Anju 安居'
  wb.created = new Date(r.generatedAt)
  for (const s of r.sections) addSection(wb, r, s)
  return Buffer.from(await wb.xlsx.writeBuffer())
}
