/**
 * The import's reader on a worker thread (src/registry-import/read-off-thread.ts): the same rows as
 * in-thread; a zip bomb refused by what it really inflates to, even when it declares small sizes;
 * a sheet that fits that bound but not the worker's heap ends the worker alone; and a reader that
 * does not answer in time is given up.
 */
import ExcelJS from 'exceljs'
import { describe, expect, it } from 'vitest'
import { READ_LIMITS, readOffThread } from '../../src/registry-import/read-off-thread.js'
import { FileTooLarge, inflatesWithin, readFile } from '../../src/registry-import/read.js'
import { zipBomb } from '../helpers/zip-bomb.js'

const MiB = 1024 * 1024

async function small(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('老人户')
  ws.addRow(['户编号', '社区', '老人姓名', '住址'])
  ws.addRow(['A1', '幸福里社区', '王阿婆', '1号楼 101室'])
  ws.addRow(['A2', '幸福里社区', '李老伯', '1号楼 102室'])
  return Buffer.from(await wb.xlsx.writeBuffer())
}

describe('readOffThread', () => {
  it('reads a workbook as readFile does in-thread, and a CSV told its sheet', async () => {
    const file = await small()
    const off = await readOffThread(file, {})
    expect(off).toEqual(await readFile(file))
    expect(off.sheets[0]!.rows.map((r) => r.cells.elderName)).toEqual(['王阿婆', '李老伯'])
    const csv = Buffer.from('户编号,姓名,关系,电话\nA1,李明,儿子,013900000001\n')
    expect((await readOffThread(csv, { sheet: 'contacts' })).sheets[0]!.rows[0]!.cells.phone).toBe('013900000001')
  })

  it('refuses a zip bomb by what it inflates to, also when it declares small sizes', async () => {
    for (const lie of [false, true]) {
      const bomb = await zipBomb(8, { lie })
      expect(bomb.length).toBeLessThan(MiB / 4)
      expect(await inflatesWithin(bomb, 4 * MiB)).toBe(false)
      expect(await inflatesWithin(bomb, 16 * MiB)).toBe(true)
      const refused = readOffThread(bomb, {}, { ...READ_LIMITS, maxInflatedBytes: 4 * MiB })
      await expect(refused).rejects.toThrow(FileTooLarge)
      await expect(refused).rejects.toThrow(/inflates to more than 4 MB/)
    }
    expect(await inflatesWithin(await small(), 1 * MiB)).toBe(true)
    expect(await inflatesWithin(Buffer.from('户编号,姓名\n'), 1 * MiB)).toBeUndefined()
  })

  it("ends the worker, not the process, when a sheet within the inflate bound does not fit the worker's heap", async () => {
    const bomb = await zipBomb(40)
    const refused = readOffThread(bomb, {}, { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 }, maxInflatedBytes: 64 * MiB, timeoutMs: 120_000 })
    await expect(refused).rejects.toThrow(/more memory than an import may use/)
    // The same thread reads the next file as before.
    expect((await readOffThread(await small(), {})).sheets[0]!.rows).toHaveLength(2)
  })

  it('gives up a reader that does not answer within its time bound', async () => {
    await expect(readOffThread(await small(), {}, { ...READ_LIMITS, timeoutMs: 1 })).rejects.toThrow(/took more than/)
  })
})
