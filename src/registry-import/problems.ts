/** What is wrong with a row, where, in Chinese first (docs/operations.md §registry import). */
import { SHEETS, type SheetKey } from './sheets.js'

export interface RowError {
  /** The sheet's key, and its name as the file shows it. */
  sheet: SheetKey | null
  sheetName: string
  /** The row number as the spreadsheet shows it; null for the file or a whole column. */
  row: number | null
  /** The column's header; null when the whole row is meant. */
  column: string | null
  /** What the cell holds, when the cell is wrong. */
  value: string | null
  /** e.g. 老人户 第 12 行「年龄」: 应为 0–130 的整数,实为 "七十" */
  zh: string
  en: string
}

/** Cells are quoted up to this length in a message. */
const QUOTE_MAX = 40
const quote = (v: string) => `"${v.length > QUOTE_MAX ? `${v.slice(0, QUOTE_MAX)}…` : v}"`

export function rowError(sheet: SheetKey | null, row: number | null, column: string | null, what: { zh: string; en: string }, value?: string): RowError {
  const sheetName = sheet ? SHEETS[sheet].name : '文件'
  const sheetEn = sheet ? SHEETS[sheet].en : 'file'
  const shown = value !== undefined && value !== ''
  const whereZh = `${sheetName}${row === null ? '' : ` 第 ${row} 行`}${column === null ? '' : `「${column}」`}`
  const whereEn = `${sheetEn}${row === null ? '' : ` row ${row}`}${column === null ? '' : ` "${column}"`}`
  return {
    sheet,
    sheetName,
    row,
    column,
    value: value ?? null,
    zh: `${whereZh}: ${what.zh}${shown ? `,实为 ${quote(value)}` : ''}`,
    en: `${whereEn}: ${what.en}${shown ? `, got ${quote(value)}` : ''}`,
  }
}

/** Errors in the order a person fixes them: by sheet as the template orders them, then row, then column. */
export function sortErrors(errors: RowError[]): RowError[] {
  const order = (s: SheetKey | null) => (s === null ? -1 : ['households', 'contacts', 'devices'].indexOf(s))
  return [...errors].sort((a, b) => order(a.sheet) - order(b.sheet) || (a.row ?? 0) - (b.row ?? 0))
}
