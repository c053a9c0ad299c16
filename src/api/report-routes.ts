/** The monthly report (考核) as JSON and as an .xlsx download (docs/operations.md §monthly report). */
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { communityScope } from '../auth/auth.js'
import type { ReportMeta } from '../reports/figures.js'
import type { Reports } from '../reports/service.js'
import { reportFileName, reportWorkbook } from '../reports/xlsx.js'
import type { ApiContext } from './context.js'
import { ApiError, errorResponses, notFound } from './errors.js'
import { assertCommunityVisible, currentUser, requireUser } from './guards.js'

const query = z.object({
  month: z.string().max(20).describe('YYYY-MM, local (Asia/Shanghai) calendar month; the current month gives the figures so far, a later one is refused'),
  communityId: z.string().max(100).optional().describe('one community; or give `street`'),
  street: z.string().max(100).optional().describe("every community on this street (communities.street) the caller serves; or give `communityId`"),
})

const label = z.object({ zh: z.string(), en: z.string() })
const counts = z.record(z.string(), z.number())
const ack = { counted: z.number(), medianAckS: z.number().nullable(), p90AckS: z.number().nullable(), within60sShare: z.number().nullable().describe('0..1') }
const cellFormat = z.enum(['int', 'percent', 'seconds', 'minutes', 'text'])
const section = z.object({
  key: z.string(),
  title: label,
  columns: z.array(z.object({ key: z.string(), label, format: cellFormat })),
  rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
  rowLabels: z.array(label).describe("each row's name (its first cell) in Chinese and English"),
  rowFormats: z.array(cellFormat.nullable()),
  notes: z.array(label),
})
const report = z.object({
  month: z.string(),
  scope: z.object({ kind: z.enum(['community', 'street']), name: z.string(), street: z.string(), communities: z.array(z.object({ id: z.string(), name: z.string() })) }),
  period: z.object({ start: z.number(), end: z.number(), timeZone: z.string() }).describe('[start, end) in epoch ms: local midnights'),
  generatedAt: z.number(),
  partial: z.boolean().describe('the month is not over: figures so far'),
  coverage: z.object({ households: z.number(), elders: z.number().describe('one registered elder per household'), householdsWithDevice: z.number(), householdsWithoutDevice: z.number() }),
  devices: z.object({
    installed: z.number(),
    heardLast24h: z.number(),
    neverHeard: z.number(),
    onlineRate: z.number().nullable().describe('of the devices installed by the month end, the share heard in the 24 h before generatedAt'),
    onlineAsOf: z.number(),
    byKind: z.array(z.object({ kind: z.string(), installed: z.number(), heardLast24h: z.number(), neverHeard: z.number(), onlineRate: z.number().nullable() })),
  }),
  alarms: z.object({
    total: z.number(),
    cancelledByResident: z.number(),
    tests: z.number(),
    ack: z.object(ack).describe('tests left out; only operator acknowledgements answer; unanswered past 60 s counts as a miss'),
    byType: z.array(z.object({ type: z.string(), total: z.number(), cancelledByResident: z.number(), tests: z.number(), ...ack })),
  }),
  outcomes: z.array(z.object({ category: z.string(), byOutcome: counts.describe('outcome → count; `active` while not closed'), total: z.number() })),
  wellbeing: z.object({ total: z.number(), byType: z.array(z.object({ type: z.string(), byOutcome: counts, total: z.number() })) }),
  visits: z.object({
    due: z.number(),
    done: z.number(),
    seen: z.number(),
    notSeen: z.number(),
    pending: z.number(),
    cancelled: z.number(),
    overdueAtMonthEnd: z.number(),
    doneShare: z.number().nullable(),
    bySource: z.array(z.object({ source: z.string(), due: z.number(), seen: z.number(), notSeen: z.number(), pending: z.number(), cancelled: z.number(), overdueAtMonthEnd: z.number() })),
  }),
  tickets: z.object({
    total: z.number(),
    byState: counts,
    completionRate: z.number().nullable().describe('done ÷ (total − cancelled)'),
    medianCompleteMin: z.number().nullable(),
    feedback: counts,
    byType: z.array(z.object({ type: z.string(), byState: counts, total: z.number() })),
  }),
  sections: z.array(section).describe('the same figures as tables, one per section, as on the printable page and in the workbook'),
})

/** RFC 6266/5987: an ASCII fallback and the UTF-8 name for browsers that read `filename*`. */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

const REPORT_ROLES: ReadonlySet<string> = new Set(['admin', 'operator'])

const DESCRIPTION =
  "Give `communityId` or `street`. Admins and operators only (403 for any other role). An operator sees only the communities they serve: a street report covers their communities on that street, and a street where they serve none is 404, as is another community's id. " +
  'Incidents count in the month they opened, tickets when requested, visits when due; months start at local midnight (Asia/Shanghai). ' +
  'See docs/operations.md §monthly report for what each figure means.'

export const reportRoutes: FastifyPluginAsyncZod<ApiContext & { reports: Reports }> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  const tags = ['reports']

  async function build(request: FastifyRequest, q: z.infer<typeof query>) {
    const user = currentUser(request)
    // The district's figures are for the duty operators and admins, not for any other role (a visitor's page shows their visits only).
    if (!REPORT_ROLES.has(user.role)) throw new ApiError('FORBIDDEN', 'the monthly report is for operators and admins (月报仅限值班员和管理员查看)')
    const { communityId, street } = q
    if ((communityId === undefined) === (street === undefined)) throw new ApiError('VALIDATION', 'query: give either communityId or street (请选择社区或街道,二选一)')
    const month = ctx.reports.month(q.month)
    if (!month.ok) throw new ApiError('VALIDATION', `query.month: ${month.message}`)
    let scope: ReportMeta['scope']
    if (communityId !== undefined) {
      const community = await ctx.registry.communities.get(communityId)
      if (!community) throw notFound('community', communityId)
      assertCommunityVisible(user, community.id, 'community', communityId)
      scope = { kind: 'community', name: community.name, street: community.street, communities: [{ id: community.id, name: community.name }] }
    } else {
      const communities = await ctx.reports.communitiesOnStreet(street!, communityScope(user))
      if (communities.length === 0) throw new ApiError('NOT_FOUND', `street ${street} has no community you serve (该街道没有您负责的社区)`)
      scope = { kind: 'street', name: street!, street: street!, communities }
    }
    return ctx.reports.monthly(scope, month.value)
  }

  app.get(
    '/monthly',
    {
      schema: {
        tags,
        summary: 'The monthly report (考核) of a community or a street: coverage, devices, alarms and time to acknowledge, incident outcomes, wellbeing findings, visits, service tickets',
        description: `${DESCRIPTION}\n\n社区或街道月报(考核):覆盖住户、设备在线率、报警及接警用时、事件结果、关怀发现、探访、服务工单。`,
        querystring: query,
        response: { 200: report, ...errorResponses(403, 404) },
      },
    },
    async (request) => build(request, request.query),
  )

  app.get(
    '/monthly.xlsx',
    {
      schema: {
        tags,
        summary: 'The monthly report as an .xlsx workbook: one sheet per section, Chinese headers, figures as numbers',
        description: `${DESCRIPTION} The 200 body is the workbook (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet), named in Content-Disposition (filename*, RFC 5987).\n\n下载月报 Excel 表格:每部分一张工作表,中文表头,数字可直接求和。`,
        querystring: query,
        response: { 200: z.any().describe('the .xlsx workbook'), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const r = await build(request, request.query)
      const body = await reportWorkbook(r)
      return reply
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', attachment(reportFileName(r)))
        .header('cache-control', 'no-store')
        .send(body)
    },
  )
}
