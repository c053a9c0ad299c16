import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { communityScope } from '../auth/auth.js'
import { startOfLocalDay } from '../detectors/local-time.js'
import { OUTCOMES } from '../incidents/model.js'
import type { ActionResult } from '../incidents/service.js'
import { serviceLevel } from '../incidents/service-level.js'
import type { User } from '../store/users.js'
import type { ApiContext } from './context.js'
import { ApiError, errorResponses, notFound } from './errors.js'
import { assertCommunityVisible, currentUser, requireUser } from './guards.js'
import { idParam, incidentEventView, incidentView } from './views.js'

/** Display names of the people in a trail, by actor (`user:{username}`). */
const actorNames = z.record(z.string(), z.string())

export const incidentRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  const tags = ['incidents']

  const visibleIncident = async (user: User, id: string) => {
    const incident = await ctx.incidents.get(id)
    if (!incident) throw notFound('incident', id)
    assertCommunityVisible(user, incident.communityId, 'incident', id)
    return incident
  }
  const actor = (user: User) => `user:${user.username}`
  const unwrap = (result: ActionResult) => {
    if (!result.ok) throw new ApiError(result.error.code, result.error.message)
    return result.incident
  }

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Incidents, most urgent first',
        description: "Incidents in the communities this user serves (admins: all). The live console takes the same views over Socket.IO (/docs/asyncapi.json).\n\n本人负责社区的事件,最紧急的在前。",
        querystring: z.object({
          state: z.enum(['open', 'acknowledged', 'resolved', 'active']).optional().describe('active = open or acknowledged'),
          communityId: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
        }),
        response: { 200: z.array(incidentView) },
      },
    },
    async (request) => {
      const scope = communityScope(currentUser(request))
      const { state, communityId, limit } = request.query
      const communityIds = communityId ? (scope && !scope.includes(communityId) ? [] : [communityId]) : scope
      return ctx.incidents.list({ ...(state ? { state } : {}), ...(communityIds ? { communityIds } : {}), limit })
    },
  )

  app.get(
    '/service-level',
    {
      schema: {
        tags,
        summary: "Today's service level (local day): open incidents, time to acknowledge an emergency (median, 90th percentile), share answered within 60 s",
        description:
          'Emergencies (SOS, fall, smoke, gas) still unacknowledged past 60 s count as misses as soon as they are late. ' +
          "Only an operator's acknowledgement answers an alarm. See docs/operations.md §service level.\n\n今日服务水平:待接警数、紧急事件接警用时、60 秒内接警占比(超时未接即计为未达标)。",
        querystring: z.object({ communityId: z.string().optional() }),
        response: {
          200: z.object({
            open: z.number(),
            acknowledgedToday: z.number(),
            counted: z.number().describe('emergencies decided today: answered, or unanswered past 60 s'),
            missed: z.number().describe('of those, answered after 60 s or still unanswered past it'),
            overdueNow: z.number().describe('emergencies unanswered past 60 s right now'),
            medianAckS: z.number().nullable(),
            p90AckS: z.number().nullable(),
            within60sShare: z.number().nullable().describe('0..1; the UK telecare benchmark is 0.975'),
            benchmark: z.number(),
            meetsBenchmark: z.boolean().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const scope = communityScope(currentUser(request))
      const wanted = request.query.communityId
      const communityIds = wanted ? (scope && !scope.includes(wanted) ? [] : [wanted]) : scope
      const filter = communityIds ? { communityIds } : {}
      const now = ctx.clock.now()
      const active = await ctx.incidents.list({ state: 'active', ...filter, limit: 10_000 })
      const recent = await ctx.incidents.list({ ...filter, limit: 10_000 })
      const all = new Map([...recent, ...active].map((i) => [i.id, i]))
      return serviceLevel([...all.values()], { now, dayStart: startOfLocalDay(now, 'Asia/Shanghai') })
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'An incident with its audit trail',
        description: 'Everything that happened to it, oldest first: the alarm, findings, notices, family answers, acknowledgement, outcome; `names` gives the people behind `user:` actors.\n\n事件详情及完整处理记录。',
        params: idParam,
        response: { 200: incidentView.extend({ events: z.array(incidentEventView), names: actorNames }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const incident = await visibleIncident(currentUser(request), request.params.id)
      const events = await ctx.incidents.events(incident.id)
      // The trail names people, not login names: `user:op-meiyuan` reads 王敏 (梅园值班) on the console.
      const names: Record<string, string> = {}
      for (const actor of new Set(events.map((e) => e.actor).filter((a) => a.startsWith('user:')))) {
        const name = await ctx.users.displayName(actor.slice('user:'.length))
        if (name) names[actor] = name
      }
      return { ...incident, events, names }
    },
  )

  app.get(
    '/:id/notifications',
    {
      schema: {
        tags,
        summary: 'Who was notified about this incident, by which channel, and the result',
        description: 'One row per notice in the outbox: its channel (SMS, voice, email, push, webhook), its state and the last delivery error.\n\n此事件通知了谁、经哪个渠道、结果如何。',
        params: idParam,
        response: {
          200: z.array(
            z.object({
              key: z.string(),
              channel: z.string(),
              audience: z.string(),
              to: z.string(),
              state: z.string(),
              attempts: z.number(),
              lastError: z.string().nullable(),
              createdAt: z.number(),
              sentAt: z.number().nullable(),
              nextAttemptAt: z.number(),
            }),
          ),
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const incident = await visibleIncident(currentUser(request), request.params.id)
      return (await ctx.notices(incident.id)).map((n) => ({
        key: n.key,
        channel: n.channel,
        audience: n.audience,
        to: n.notification.to.name,
        state: n.state,
        attempts: n.attempts,
        lastError: n.lastError,
        createdAt: n.createdAt,
        sentAt: n.sentAt,
        nextAttemptAt: n.nextAttemptAt,
      }))
    },
  )

  app.post(
    '/:id/acknowledge',
    {
      schema: {
        tags,
        summary: 'Take the call: the device is told someone is handling it',
        description: 'Stops the escalation ladder and tells the button (its LED) that help is coming. 409 when it is already acknowledged or closed.\n\n接警:停止升级提醒,并告知按钮已有人处理。',
        params: idParam,
        response: { 200: incidentView, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      const user = currentUser(request)
      await visibleIncident(user, request.params.id)
      return unwrap(await ctx.incidents.acknowledge(request.params.id, actor(user)))
    },
  )

  app.post(
    '/:id/resolve',
    {
      schema: {
        tags,
        summary: 'Close an acknowledged incident with its outcome',
        description: 'Only an acknowledged incident can be closed (409 otherwise); the outcome counts in the statistics.\n\n结案:填写处理结果,只能关闭已接警的事件。',
        params: idParam,
        body: z.object({ outcome: z.enum(OUTCOMES), note: z.string().trim().max(2000).nullable().default(null) }),
        response: { 200: incidentView, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      const user = currentUser(request)
      await visibleIncident(user, request.params.id)
      return unwrap(await ctx.incidents.resolve(request.params.id, actor(user), request.body.outcome, request.body.note))
    },
  )
}
