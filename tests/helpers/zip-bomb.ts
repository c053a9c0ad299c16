/**
 * A zip bomb that looks like an import file: the template's 老人户 sheet whose XML is `mib` MiB of
 * repeated rows, deflated (a few hundred times smaller). `lie`: the zip declares each part's
 * inflated size as its compressed size, as a crafted file may.
 */
import ExcelJS from 'exceljs'
import JSZip from 'jszip'

export async function zipBomb(mib: number, opts: { lie?: boolean } = {}): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  wb.addWorksheet('老人户').addRow(['户编号', '社区', '老人姓名', '住址'])
  const zip = await JSZip.loadAsync(Buffer.from(await wb.xlsx.writeBuffer()))
  const sheet = Object.keys(zip.files).find((n) => /worksheets\/sheet\d+\.xml$/.test(n))!
  const head = '<row r="1"><c t="inlineStr"><is><t>户编号</t></is></c><c t="inlineStr"><is><t>社区</t></is></c><c t="inlineStr"><is><t>老人姓名</t></is></c><c t="inlineStr"><is><t>住址</t></is></c></row>'
  const row = '<row><c t="inlineStr"><is><t>A1</t></is></c><c t="inlineStr"><is><t>wang</t></is></c><c t="inlineStr"><is><t>xfl</t></is></c></row>'
  const body = row.repeat(Math.ceil((mib * 1024 * 1024) / row.length))
  zip.file(sheet, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${head}${body}</sheetData></worksheet>`)
  const file = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 1 } })
  if (opts.lie) {
    // Central directory entries (uncompressed size at +24, compressed at +20) and local headers (+22, +18).
    for (let p = 0; p + 46 <= file.length; p++) {
      if (file.readUInt32LE(p) === 0x02014b50) file.writeUInt32LE(file.readUInt32LE(p + 20), p + 24)
      else if (file.readUInt32LE(p) === 0x04034b50) file.writeUInt32LE(file.readUInt32LE(p + 18), p + 22)
    }
  }
  return file
}
