/**
 * A street office's file to rows of text, by exceljs (never a parser of our own): an .xlsx
 * workbook with the template's sheets, or a CSV of one sheet. Cells are read as the spreadsheet
 * shows them (`cell.text`); a CSV's cells stay text, so a phone number keeps its leading 0.
 */
import { Readable } from 'node:stream'
import yauzl from 'yauzl'
import ExcelJS from 'exceljs'
import { rowError, type RowError } from './problems.js'
import { MAX_ROWS, SHEETS, SHEET_KEYS, headerIndex, normalHeader, sheetOf, type SheetKey } from './sheets.js'

export interface RawRow {
  /** As the spreadsheet numbers it. */
  row: number
  /** Cell text by column key (sheets.ts), trimmed; absent columns are ''. */
  cells: Record<string, string>
}

export interface RawSheet {
  key: SheetKey
  rows: RawRow[]
  /** The header each column key had in the file. */
  headers: Record<string, string>
}

export type FileFormat = 'xlsx' | 'csv'

export interface ReadOutcome {
  sheets: RawSheet[]
  /** About the file or a whole sheet (no such sheet, a column missing). */
  errors: RowError[]
}

/** The format by the file's first bytes: an .xlsx is a zip; an old .xls is refused with advice. */
export function formatOf(file: Buffer): FileFormat | 'xls' {
  if (file.length >= 4 && file.readUInt32BE(0) === 0x504b0304) return 'xlsx'
  if (file.length >= 4 && file.readUInt32BE(0) === 0xd0cf11e0) return 'xls'
  return 'csv'
}

/** A CSV saved by Excel on a Chinese Windows is GB18030, not UTF-8. */
function decodeCsv(file: Buffer): string {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file)
  } catch {
    text = new TextDecoder('gb18030').decode(file)
  }
  return text.replace(/^\uFEFF/, '')
}

/**
 * Whether an .xlsx (a zip) inflates to at most `max` bytes, all its parts together. Each part is
 * really inflated (yauzl, streamed and stopped once past what is left of `max`), not taken at its
 * declared size: a zip bomb may declare small sizes, and the library exceljs uses would gather all
 * it inflates in memory outside any heap limit before it noticed. Undefined when there is no zip
 * structure to read (exceljs then says the file is broken).
 */
export function inflatesWithin(file: Buffer, max: number): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    // Sizes are counted here, as inflated, whatever the zip declares.
    yauzl.fromBuffer(file, { lazyEntries: true, validateEntrySizes: false }, (err, zip) => {
      if (err || !zip) return resolve(undefined)
      let left = max
      let settled = false
      const settle = (v: boolean | undefined) => {
        if (settled) return
        settled = true
        zip.close()
        resolve(v)
      }
      zip.on('error', () => settle(undefined))
      zip.on('end', () => settle(true))
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return settle(undefined)
          stream.on('data', (chunk: Buffer) => {
            left -= chunk.length
            if (left < 0) {
              stream.destroy()
              settle(false)
            }
          })
          stream.on('error', () => settle(left < 0 ? false : undefined))
          stream.on('end', () => zip.readEntry())
        })
      })
      zip.readEntry()
    })
  })
}

/** Refused before reading: what the file would take to read is more than an import may use. */
export class FileTooLarge extends Error {
  override readonly name = 'FileTooLarge'
}

/**
 * Reads the file. `sheet`: what a CSV holds, when its headers should not decide. `maxInflatedBytes`:
 * an .xlsx inflating to more is refused (FileTooLarge) before exceljs reads any of it.
 */
export async function readFile(file: Buffer, opts: { sheet?: SheetKey; maxInflatedBytes?: number } = {}): Promise<ReadOutcome> {
  const format = formatOf(file)
  const errors: RowError[] = []
  if (format === 'xls') return { sheets: [], errors: [rowError(null, null, null, { zh: '这是旧版 .xls 文件,请在 Excel 中另存为 .xlsx 或 CSV 再导入', en: 'an old .xls file: save it as .xlsx or CSV in Excel, then import' })] }
  if (format === 'xlsx' && opts.maxInflatedBytes !== undefined) {
    if ((await inflatesWithin(file, opts.maxInflatedBytes)) === false) throw new FileTooLarge(`the .xlsx inflates to more than ${Math.round(opts.maxInflatedBytes / 1024 / 1024)} MB`)
  }
  const wb = new ExcelJS.Workbook()
  const worksheets: ExcelJS.Worksheet[] = []
  try {
    if (format === 'xlsx') {
      await wb.xlsx.load(file as unknown as ExcelJS.Buffer)
      worksheets.push(...wb.worksheets)
    } else {
      const ws = await wb.csv.read(Readable.from([decodeCsv(file)]), { map: (v: unknown) => v } as never)
      worksheets.push(ws)
    }
  } catch (err) {
    return { sheets: [], errors: [rowError(null, null, null, { zh: `文件无法读取(${format === 'xlsx' ? '不是有效的 .xlsx' : '不是有效的 CSV'})`, en: `the file cannot be read: ${(err as Error).message}` })] }
  }

  const sheets: RawSheet[] = []
  for (const ws of worksheets) {
    const named = format === 'xlsx' ? sheetOf(ws.name) : undefined
    if (format === 'xlsx' && !named && ['说明', '填写说明', 'readme'].includes(ws.name.trim().toLowerCase())) continue
    const found = findHeader(ws, named ?? opts.sheet)
    if (!found) {
      // A sheet the template does not have, with no header we know: not ours (a street office's notes).
      if (named || format === 'csv') errors.push(rowError(named ?? opts.sheet ?? null, null, null, { zh: '找不到表头:第一行应是模板的列名(户编号、…)', en: "no header row: the first row should hold the template's column names (户编号, …)" }))
      continue
    }
    const { key, headerRow, columns } = found
    if (sheets.some((s) => s.key === key)) {
      errors.push(rowError(key, null, null, { zh: `文件里有两张「${SHEETS[key].name}」表,只能有一张`, en: `two ${SHEETS[key].en} sheets in the file; keep one` }))
      continue
    }
    const headers: Record<string, string> = {}
    for (const [, { key: k, header }] of columns) headers[k] = header
    let missing = false
    for (const [k, c] of Object.entries(SHEETS[key].columns)) {
      if (c.required && !(k in headers)) {
        errors.push(rowError(key, null, c.header, { zh: '缺少此列', en: 'this column is missing' }))
        missing = true
      }
    }
    if (key === 'households' && !('communityId' in headers) && !('communityName' in headers)) {
      errors.push(rowError(key, null, '社区', { zh: '缺少「社区」或「社区编号」列', en: 'neither 社区 nor 社区编号 is there' }))
      missing = true
    }
    if (missing) continue
    const rows: RawRow[] = []
    let tooMany = false
    // Only the rows the file has (a sheet styled down to row 1,048,576 has no more rows than it holds).
    ws.eachRow({ includeEmpty: false }, (row, r) => {
      if (r <= headerRow || tooMany) return
      const cells: Record<string, string> = {}
      let empty = true
      for (const k of Object.keys(SHEETS[key].columns)) cells[k] = ''
      for (const [col, { key: k }] of columns) {
        const text = row.getCell(col).text.trim()
        cells[k] = text
        if (text) empty = false
      }
      if (empty) return
      if (rows.length === MAX_ROWS) {
        tooMany = true
        errors.push(rowError(key, null, null, { zh: `超过 ${MAX_ROWS} 行,请分成几个文件导入`, en: `more than ${MAX_ROWS} rows: import it in several files` }))
        return
      }
      rows.push({ row: r, cells })
    })
    sheets.push({ key, rows, headers })
  }
  if (sheets.length === 0 && errors.length === 0) {
    errors.push(rowError(null, null, null, { zh: '文件里没有「老人户」「联系人」或「设备」表', en: 'the file has no 老人户, 联系人 or 设备 sheet' }))
  }
  return { sheets, errors }
}

/** Rows searched for the header: a title line or two above it is common in a street office's sheet. */
const HEADER_SEARCH_ROWS = 5
/** The headers that tell the sheets apart when neither a name nor the caller does. */
const DISTINCT: Record<SheetKey, readonly string[]> = { households: ['address', 'elderName'], contacts: ['relation'], devices: ['id', 'kind'] }

function findHeader(ws: ExcelJS.Worksheet, known: SheetKey | undefined): { key: SheetKey; headerRow: number; columns: Map<number, { key: string; header: string }> } | undefined {
  for (let r = 1; r <= Math.min(HEADER_SEARCH_ROWS, ws.rowCount); r++) {
    const texts: [number, string][] = []
    ws.getRow(r).eachCell({ includeEmpty: false }, (cell, col) => {
      const t = cell.text.trim()
      if (t) texts.push([col, t])
    })
    let best: { key: SheetKey; columns: Map<number, { key: string; header: string }> } | undefined
    for (const key of known ? [known] : SHEET_KEYS) {
      const index = headerIndex(key)
      const columns = new Map<number, { key: string; header: string }>()
      for (const [col, text] of texts) {
        const k = index.get(normalHeader(text))
        if (k && ![...columns.values()].some((c) => c.key === k)) columns.set(col, { key: k, header: text })
      }
      const keys = new Set([...columns.values()].map((c) => c.key))
      if (!keys.has('ref')) continue
      if (!known && !DISTINCT[key].some((k) => keys.has(k))) continue
      if (!best || columns.size > best.columns.size) best = { key, columns }
    }
    if (best) return { ...best, headerRow: r }
  }
  return undefined
}
