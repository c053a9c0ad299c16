/** Visits (探访关爱, docs/operations.md §visits): the visitor's list and recording, and the operators' overview. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiContext } from './context.js'
import { ApiError, errorResponses } from './errors.js'
import { assertCommunityVisible, currentUser, requireUser } from './guards.js'

const explanation = z.object({ zh: z.string(), en: z.string() })

export const visitView = z.object({
  id: z.string(),
  householdId: z.string(),
  communityId: z.string(),
  source: z.enum(['plan', 'incident', 'operator']).describe('plan: the monthly plan; incident: a `visit` incident asked for it'),
  planKey: z.string().nullable().describe('`YYYY-MM#n`: the n-th planned visit of that month'),
  incidentId: z.string().nullable(),
  reason: explanation.nullable().describe('why this household is visited this often, or what the incident saw'),
  dueAt: z.number().describe('start of the local day it is due, epoch ms'),
  dueDate: z.string().describe("the local day it is due, YYYY-MM-DD in its community's time zone"),
  state: z.enum(['planned', 'done', 'cancelled']),
  daysOverdue: z.number().int().describe('whole local days past the due day while still planned; 0 otherwise'),
  visitedAt: z.number().nullable(),
  visitorId: z.string().nullable(),
  visitorName: z.string().nullable(),
  result: z.enum(['seen', 'not_seen']).nullable().describe('seen 见到本人, not_seen 未见到'),
  note: z.string().nullable(),
  elderName: z.string(),
  address: z.string(),
  phone: z.string().nullable(),
  awayUntil: z.number().nullable().describe('the household is away (hospital, family) until then: telephone first'),
})

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
const boolString = z.enum(['true', 'false']).transform((v) => v === 'true')

export const visitRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  const tags = ['visits']

  app.get(
    '/today',
    {
      config: { visitor: true },
      schema: {
        tags,
        summary: "Today's visits in walking order",
        description:
          "For visitors (and operators, admins): the visits due today or overdue in the caller's communities, with the visit tasks raised by `visit` incidents first, then in address order (one building after the next).\n\n今日探访:今天到期及逾期的探访,系统提示的上门任务在前,其余按楼栋顺序。",
        response: { 200: z.array(visitView) },
      },
    },
    async (request) => ctx.visits.today(currentUser(request)),
  )

  app.post(
    '/:id/record',
    {
      config: { visitor: true },
      schema: {
        tags,
        summary: 'Record a visit: seen or not seen, with a note',
        description:
          'Records a planned visit once (409 when it is already recorded or cancelled). A visit task of a `visit` incident closes that incident too (outcome `visited`, the result and the note as its note), in the visitor\'s name.\n\n记录探访:见到本人或未见到,可附备注;系统提示的上门任务记录后,对应事件随之结案。',
        params: z.object({ id: z.string() }),
        body: z.object({ result: z.enum(['seen', 'not_seen']), note: z.string().trim().max(500).nullable().default(null) }),
        response: { 200: visitView, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      const note = request.body.note === '' ? null : request.body.note
      const r = await ctx.visits.record(currentUser(request), request.params.id, { result: request.body.result, note })
      if (!r.ok) throw new ApiError(r.code, r.message)
      return r.visit
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Visits of a month, by community and state; the overdue ones',
        description:
          "Operators and admins. The visits due in a local month (default: this one) in the caller's communities or one of them; `overdue=true`: still planned past their due day, most overdue first.\n\n某月探访清单;overdue=true 只列逾期未探访的,逾期最久的在前。",
        querystring: z.object({
          communityId: z.string().optional(),
          month: month.optional(),
          state: z.enum(['planned', 'done', 'cancelled']).optional(),
          overdue: boolString.optional(),
        }),
        response: { 200: z.object({ month: z.string(), items: z.array(visitView) }), ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const user = currentUser(request)
      const q = request.query
      if (q.communityId) assertCommunityVisible(user, q.communityId, 'community', q.communityId)
      if (q.communityId && !(await ctx.registry.communities.get(q.communityId))) throw new ApiError('NOT_FOUND', `community ${q.communityId} does not exist`)
      return ctx.visits.list(user, {
        ...(q.communityId ? { communityId: q.communityId } : {}),
        ...(q.month ? { month: q.month } : {}),
        ...(q.state ? { state: q.state } : {}),
        ...(q.overdue ? { overdue: true } : {}),
      })
    },
  )

  app.get(
    '/summary',
    {
      schema: {
        tags,
        summary: 'Planned vs done per community for a month, and households not seen twice in a row',
        description:
          'Operators and admins, their communities. `planned` counts every visit due that month that was not cancelled; `overdue` those still planned past their due day. `flagged`: households whose last two recorded visits were both 未见到.\n\n每个社区本月应探访与已探访数、逾期数;连续两次未见到的住户。',
        querystring: z.object({ month: month.optional() }),
        response: {
          200: z.object({
            month: z.string(),
            communities: z.array(
              z.object({ communityId: z.string(), communityName: z.string(), month: z.string(), planned: z.number(), done: z.number(), seen: z.number(), notSeen: z.number(), overdue: z.number(), cancelled: z.number() }),
            ),
            flagged: z.array(
              z.object({
                householdId: z.string(),
                communityId: z.string(),
                elderName: z.string(),
                address: z.string(),
                phone: z.string().nullable(),
                visits: z.array(z.object({ visitedAt: z.number(), note: z.string().nullable(), visitorName: z.string().nullable() })),
              }),
            ),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (request) => ctx.visits.summary(currentUser(request), request.query.month ? { month: request.query.month } : {}),
  )
}
