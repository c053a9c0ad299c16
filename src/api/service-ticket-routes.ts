/**
 * The service queue (服务工单, docs/operations.md §service requests): green-key presses and
 * requests operators enter, dispatched to a provider, completed, with the elder's feedback.
 * Kept apart from incidents: none of these routes touches the emergency queue or its statistics.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { communityScope } from '../auth/auth.js'
import { FEEDBACK, TICKET_STATES, TICKET_TYPES, type TicketState } from '../service-requests/model.js'
import type { ServiceTickets, TicketResult } from '../service-requests/service.js'
import type { User } from '../store/users.js'
import { audit } from './audit-routes.js'
import type { ApiContext } from './context.js'
import { ApiError, errorResponses, notFound } from './errors.js'
import { assertCommunityVisible, currentUser, requireUser, visibleHousehold } from './guards.js'
import { pageOf, pageQuery } from './lists.js'
import { idParam } from './views.js'
import { liveTicketView, ticketEventView, ticketView } from './ticket-views.js'

const counts = z.object(Object.fromEntries(TICKET_STATES.map((s) => [s, z.number().int()])) as Record<TicketState, z.ZodNumber>)
const note = z.string().trim().max(500).nullable().default(null)

export const serviceTicketRoutes: FastifyPluginAsyncZod<ApiContext & { serviceTickets: ServiceTickets }> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  const tags = ['service tickets']
  const tickets = ctx.serviceTickets

  const visibleTicket = async (user: User, id: string) => {
    const t = await tickets.get(id)
    if (!t) throw notFound('service ticket', id)
    assertCommunityVisible(user, t.communityId, 'service ticket', id)
    return t
  }
  const actor = (user: User) => `user:${user.username}`
  /** Runs a change on a visible ticket, puts it on the audit trail, answers the ticket. */
  const change = async (request: Parameters<typeof currentUser>[0], id: string, what: string, run: (actor: string) => Promise<TicketResult>, detail: Record<string, unknown>) => {
    const user = currentUser(request)
    await visibleTicket(user, id)
    const result = await run(actor(user))
    if (!result.ok) throw new ApiError(result.error.code, result.error.message)
    await audit(ctx, request, 'service_ticket.changed', { householdId: result.ticket.householdId, communityId: result.ticket.communityId }, { ticketId: id, action: what, ...detail })
    return result.ticket
  }

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'The service queue: pending first, then dispatched, each oldest first; closed ones after, latest first',
        description:
          'Paged like the household list (`limit`, `offset`, `total`); `counts` gives the tickets in each state over the same scope, whatever the state filter. `state=open` means pending or dispatched. Operators see their communities only. Service tickets are never incidents: they are not in /api/incidents, the service level or the statistics.\n\n服务工单队列:待派单在前,再按等待时间;附各状态数量。',
        querystring: z.object({
          communityId: z.string().max(100).optional(),
          householdId: z.string().max(100).optional(),
          state: z.enum([...TICKET_STATES, 'open']).optional(),
          ...pageQuery,
        }),
        response: { 200: pageOf(liveTicketView).extend({ counts: counts.describe('tickets in each state over the scope, whatever the state filter') }) },
      },
    },
    async (request) => {
      const { communityId, householdId, state, limit, offset } = request.query
      const scope = communityScope(currentUser(request))
      const communityIds = communityId ? (scope && !scope.includes(communityId) ? [] : [communityId]) : scope
      const where = { ...(communityIds ? { communityIds } : {}), ...(householdId ? { householdId } : {}) }
      const states = state === 'open' ? (['pending', 'dispatched'] as const) : state ? [state] : undefined
      const page = await tickets.page({ ...where, ...(states ? { states } : {}), limit, offset })
      return { items: page.items, total: page.total, limit, offset, counts: await tickets.counts(where) }
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'A service ticket with its trail',
        description: 'Everything that happened to it, oldest first: the request (and every repeat press), type changes, dispatch, completion or cancellation, feedback; `names` gives the people behind `user:` actors.\n\n工单详情及处理记录。',
        params: idParam,
        response: { 200: liveTicketView.extend({ events: z.array(ticketEventView), names: z.record(z.string(), z.string()) }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const t = await visibleTicket(currentUser(request), request.params.id)
      const h = await ctx.registry.households.get(t.householdId)
      const events = await tickets.events(t.id)
      const names: Record<string, string> = {}
      for (const a of new Set(events.map((e) => e.actor).filter((a) => a.startsWith('user:')))) {
        const name = await ctx.users.displayName(a.slice('user:'.length))
        if (name) names[a] = name
      }
      return { ...t, household: h ? { elderName: h.elderName, address: h.address, phone: h.phone } : null, events, names }
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Enter a service request for a household (a phone call, a visit)',
        description: 'Opens a pending ticket of the given type. 404 when the household does not exist or is in a community this user does not serve.\n\n为住户新建服务工单(电话或上门提出的需求)。',
        body: z.object({ householdId: z.string().min(1).max(100), type: z.enum(TICKET_TYPES), note }),
        response: { 201: ticketView, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const user = currentUser(request)
      const h = await visibleHousehold(ctx.registry, user, request.body.householdId)
      const t = await tickets.create({ householdId: h.id, communityId: h.communityId, type: request.body.type, note: request.body.note }, actor(user))
      await audit(ctx, request, 'service_ticket.created', { householdId: h.id, communityId: h.communityId }, { ticketId: t.id, type: t.type })
      return reply.code(201).send(t)
    },
  )

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Set what the request is for (a green-key press starts as 其他 other)',
        description: 'Only while it is pending or dispatched (409 once closed).\n\n修改工单类型(按键工单默认为“其他”)。',
        params: idParam,
        body: z.object({ type: z.enum(TICKET_TYPES) }),
        response: { 200: ticketView, ...errorResponses(404, 409) },
      },
    },
    async (request) => change(request, request.params.id, 'type', (a) => tickets.setType(request.params.id, request.body.type, a), { type: request.body.type }),
  )

  app.post(
    '/:id/dispatch',
    {
      schema: {
        tags,
        summary: 'Send a provider: the button that asked hears its confirmation (`ack`)',
        description: 'Only a pending ticket (409 otherwise). The provider is required.\n\n派单:填写服务方;按键老人会听到“已收到您的呼叫”。',
        params: idParam,
        body: z.object({ provider: z.string().trim().min(1).max(100), note }),
        response: { 200: ticketView, ...errorResponses(404, 409) },
      },
    },
    async (request) =>
      change(request, request.params.id, 'dispatch', (a) => tickets.dispatch(request.params.id, request.body.provider, request.body.note, a), { provider: request.body.provider }),
  )

  app.post(
    '/:id/complete',
    {
      schema: {
        tags,
        summary: 'The service was done (the button hears `resolved`)',
        description: 'Only a dispatched ticket (409 otherwise).\n\n服务已完成。',
        params: idParam,
        body: z.object({ note }).prefault({}),
        response: { 200: ticketView, ...errorResponses(404, 409) },
      },
    },
    async (request) => change(request, request.params.id, 'complete', (a) => tickets.complete(request.params.id, request.body.note, a), {}),
  )

  app.post(
    '/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a pending or dispatched request, with the reason (the button hears `resolved`)',
        description: '409 once it is done or cancelled.\n\n取消工单,需填写原因。',
        params: idParam,
        body: z.object({ reason: z.string().trim().min(1).max(500) }),
        response: { 200: ticketView, ...errorResponses(404, 409) },
      },
    },
    async (request) => change(request, request.params.id, 'cancel', (a) => tickets.cancel(request.params.id, request.body.reason, a), { reason: request.body.reason }),
  )

  app.post(
    '/:id/feedback',
    {
      schema: {
        tags,
        summary: "Record the elder's feedback on a done service, once",
        description: '409 before it is done, or when feedback was already recorded.\n\n记录老人对服务的评价(服务完成后,仅一次)。',
        params: idParam,
        body: z.object({ feedback: z.enum(FEEDBACK), note }),
        response: { 200: ticketView, ...errorResponses(404, 409) },
      },
    },
    async (request) =>
      change(request, request.params.id, 'feedback', (a) => tickets.feedback(request.params.id, request.body.feedback, request.body.note, a), { feedback: request.body.feedback }),
  )
}
