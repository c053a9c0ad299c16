/**
 * Bulk import of the registry from a street office's spreadsheet (docs/operations.md §registry
 * import): the template, and the import itself (the raw .xlsx or CSV as the request body).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { SHEET_KEYS } from '../registry-import/sheets.js'
import { FileTooLarge, ImportConflict, type ImportOutcome } from '../registry-import/service.js'
import { nextTurn } from '../shared/next-turn.js'
import { XLSX_TYPE, credentialsWorkbook, templateWorkbook } from '../registry-import/workbooks.js'
import { audit } from './audit-routes.js'
import type { ApiContext } from './context.js'
import { ApiError, apiErrorBody, errorResponses } from './errors.js'
import { currentUser, requireUser } from './guards.js'

/** A district's 5,000 households with contacts and devices is about 1.5 MB as .xlsx; CSV less. */
const IMPORT_BODY_LIMIT = 10 * 1024 * 1024
const ANNOUNCE_SLICE = 20
const FILE_TYPES = [XLSX_TYPE, 'text/csv', 'application/csv', 'application/vnd.ms-excel', 'application/octet-stream']

const counts = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  invalid: z.number().int().describe('rows with errors (not imported)'),
})
const rowError = z.object({
  sheet: z.enum(SHEET_KEYS).nullable().describe('null: the file as a whole'),
  sheetName: z.string().describe('老人户, 联系人, 设备 or 文件'),
  row: z.number().int().nullable().describe('the row number as the spreadsheet shows it; null for the sheet or file'),
  column: z.string().nullable().describe("the column's header as the file has it"),
  value: z.string().nullable().describe('what the cell holds (never a key-safe code or medical notes)'),
  zh: z.string().describe('e.g. 老人户 第 12 行「年龄」: 应为 0–130 的整数,实为 "七十"'),
  en: z.string(),
})
const report = {
  counts: z.object({ households: counts, contacts: counts, devices: counts }).describe('per sheet: what the import created, updated, left unchanged, and rows with errors (in a refused import or a dry run: what it would do)'),
  errors: z.array(rowError),
}
const importResult = z.object({
  dryRun: z.boolean(),
  validRowsOnly: z.boolean(),
  imported: z.boolean().describe('false for a dry run'),
  fileName: z.string().nullable(),
  ...report,
  adopted: z
    .array(z.object({ row: z.number().int().describe('the 老人户 row'), ref: z.string().describe('户编号 it takes'), householdId: z.string(), elderName: z.string(), address: z.string().describe('as the platform has it') }))
    .describe('已匹配现有住户: households entered by hand (no 户编号) that a row matched by community, elder name and address, and adopted (given the row\'s 户编号, counted as updated); in a dry run, those it would'),
  credentials: z
    .array(z.object({ ref: z.string().describe('户编号'), communityName: z.string(), deviceId: z.string(), kind: z.string(), room: z.string().nullable(), secret: z.string() }))
    .describe('each new device with its secret: given out only in this answer'),
  credentialsFile: z.string().nullable().describe('with credentials=xlsx: the same secrets as an .xlsx workbook, base64'),
})

export const importRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  /**
   * The detectors re-read every household that changed, a few at a time: on SQLite a re-read runs
   * without yielding, and 5,000 at once would hold the event loop (and an alarm) for seconds.
   */
  const announceHouseholds = async (ids: readonly string[]) => {
    for (let i = 0; i < ids.length; i++) {
      ctx.announce.householdChanged(ids[i]!)
      if (i % ANNOUNCE_SLICE === ANNOUNCE_SLICE - 1) await nextTurn()
    }
  }

  app.addHook('onRequest', requireUser(ctx.auth))
  // The file is the body, as it is: exceljs reads it (registry-import/read.ts).
  app.addContentTypeParser(FILE_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  const tags = ['import']

  app.get(
    '/template.xlsx',
    {
      schema: {
        tags,
        summary: 'The import template: sheets 老人户, 联系人, 设备 with Chinese headers and an example row each, and 说明',
        description: 'An .xlsx workbook (not JSON). Rows whose 户编号 starts with 示例 are examples and are never imported.\n\n下载住户批量导入模板(含示例行和填写说明)。',
        response: { 200: z.unknown().describe('the .xlsx workbook (binary, not JSON)') },
      },
    },
    async (_request, reply) => {
      const file = await templateWorkbook()
      return reply
        .type(XLSX_TYPE)
        .header('content-disposition', `attachment; filename="anju-import-template.xlsx"; filename*=UTF-8''${encodeURIComponent('住户导入模板.xlsx')}`)
        .send(file)
    },
  )

  app.post(
    '/households',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Import households, elders, contacts and devices from the street office’s .xlsx or CSV (the raw file as the body)',
        description: [
          'Send the file itself as the body with `Content-Type` `' + XLSX_TYPE + '` or `text/csv` (at most 10 MB). A CSV carries one sheet: `sheet` says which, or its headers tell.',
          'Every row is checked first; errors name the sheet, the row as the spreadsheet shows it and the column, in Chinese and English. By default one error refuses the whole file (400 with `errors`, nothing changed); `validRowsOnly=true` imports the valid rows and reports the rest; `dryRun=true` only says what would be created, updated or left unchanged.',
          'Re-importing updates, never duplicates: households by community + 户编号, contacts by household + phone, devices by id. A row whose 户编号 is new adopts a household entered by hand before (no 户编号, same community, same elder name, same address up to how numbers are written): it takes the 户编号 and is counted as updated, listed in `adopted` (已匹配现有住户); two such households are an error on that row, naming both. Nothing is deleted. A device id registered to another household is an error, never a move. New devices get a secret, shown only in this answer (`credentials=xlsx` adds it as a workbook); an existing device keeps its secret.',
          'The file is read on a worker thread of its own, with a capped heap (384 MB), at most 100 MB inflated and a time bound: a file too large or damaged to read within them (a zip bomb) is a 400 `文件过大或已损坏…`, nothing imported.',
          'Admins import into any community; an operator only into their own (rows for others are errors). The import is on the audit trail (who, file name, counts).',
          '',
          '批量导入老人户、联系人和设备:先逐行检查,有错默认整份不导入;可试导入(dryRun)或只导入无误的行;重复导入只更新不重复;新设备密码只显示一次。',
        ].join('\n\n'),
        querystring: z.object({
          dryRun: z.enum(['true', 'false']).default('false').describe('check and count, write nothing'),
          validRowsOnly: z.enum(['true', 'false']).default('false').describe('import the valid rows even when others have errors'),
          sheet: z.enum(SHEET_KEYS).optional().describe("a CSV's sheet; by its headers when absent"),
          fileName: z.string().trim().max(200).optional().describe('the file name, for the audit trail'),
          credentials: z.enum(['xlsx']).optional().describe("also return the new devices' secrets as an .xlsx (base64)"),
        }),
        response: {
          200: importResult,
          400: apiErrorBody(400).extend(report).partial({ counts: true, errors: true }),
          ...errorResponses(409),
        },
      },
    },
    async (request, reply) => {
      const user = currentUser(request)
      const file = request.body
      if (!Buffer.isBuffer(file) || file.length === 0) {
        throw new ApiError('VALIDATION', `body: 请上传 .xlsx 或 CSV 文件本身 / send the file itself as the body, Content-Type ${XLSX_TYPE} or text/csv`)
      }
      const q = request.query
      const dryRun = q.dryRun === 'true'
      const validRowsOnly = q.validRowsOnly === 'true'
      let outcome: ImportOutcome
      try {
        outcome = await ctx.registryImport.import(file, { user, dryRun, validRowsOnly, ...(q.sheet ? { sheet: q.sheet } : {}) })
      } catch (err) {
        if (err instanceof ImportConflict) throw new ApiError('CONFLICT', `登记数据在导入过程中被改动,未导入任何内容,请重新导入 / ${err.message}`)
        if (err instanceof FileTooLarge) throw new ApiError('VALIDATION', `文件过大或已损坏,无法读取,未导入任何内容;请检查文件,或分成几个文件导入 / the file is too large or damaged to read (${err.message}): nothing was imported`)
        throw err
      }
      const { counts, errors } = outcome
      if (!dryRun && !outcome.imported) {
        return reply.code(400).send({
          error: 'VALIDATION',
          message: `${errors.length} 处错误,未导入任何内容;请改正后重新导入,或选择只导入无误的行 / ${errors.length} errors: nothing was imported; fix them and import again, or import the valid rows only`,
          counts,
          errors,
        })
      }
      if (outcome.imported) {
        await audit(ctx, request, 'registry.imported', { communityId: outcome.communities.length === 1 ? outcome.communities[0]! : null }, {
          fileName: q.fileName ?? null, validRowsOnly, counts, errors: errors.length, communities: outcome.communities, adopted: outcome.adopted.map((a) => a.householdId),
        })
        for (const id of outcome.devices) ctx.announce.deviceChanged(id)
        void announceHouseholds(outcome.households)
      }
      const credentialsFile = q.credentials === 'xlsx' && outcome.credentials.length > 0 ? (await credentialsWorkbook(outcome.credentials)).toString('base64') : null
      return { dryRun, validRowsOnly, imported: outcome.imported, fileName: q.fileName ?? null, counts, errors, adopted: outcome.adopted, credentials: outcome.credentials, credentialsFile }
    },
  )
}
