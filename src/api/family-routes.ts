/**
 * The family, without a login: a signed link (see routing/family-links.ts) opens the family
 * view. An incident link (from a notice) answers that incident; a view link (handed out by the
 * community) shows the elder's status and answers any unresolved incident of that household.
 * Either way a link shows one household only, and stops working when its contact is removed.
 */
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { pushEndpointProblem } from '../delivery/channels/webpush.js'
import { ANSWERABLE_CATEGORIES, FAMILY_ANSWERS, FAMILY_CATEGORIES, familyCommand, familyIncidentRow, handlerOf } from '../family/status.js'
import { resolveRouting } from '../routing/settings.js'
import { familyAccess, type FamilyAccess } from '../family/link-access.js'
import type { FamilyLinks } from '../routing/family-links.js'
import type { TelemetryHistory } from '../telemetry/queries.js'
import { audit } from './audit-routes.js'
import { withStates } from './device-states.js'
import { DEVICE_STATES } from '../detectors/device-state.js'
import { ApiError, errorResponses, noContent, notFound } from './errors.js'
import type { ApiContext } from './context.js'
import { currentUser, requireUser, visibleHousehold } from './guards.js'
import { idParam } from './views.js'

/** What a family member reads when their link does not work: plain Chinese first (docs/history-and-family-api.md). */
const LINK_EXPIRED = '链接已过期,请直接致电社区值班室 (this link has expired)'
const LINK_INVALID = '链接无效,请直接致电社区值班室 (this link is not valid)'
const OTHER_INCIDENT = '这个链接不能回复这件事 (this link is for another incident)'
/** Resolved incidents stay in the family's list this long. */
const RECENT_MS = 7 * 24 * 3_600_000
const token = z.string().min(10).max(2000)

const overviewView = z.object({
  elder: z.object({ name: z.string(), address: z.string() }),
  contact: z.object({ name: z.string(), relation: z.string() }),
  lastActivity: z.object({ at: z.number(), room: z.string().nullable() }).nullable(),
  lastWaterUse: z.object({ at: z.number() }).nullable(),
  devices: z.object({
    total: z.number(),
    ok: z.number(),
    problems: z.array(z.object({ deviceId: z.string(), kind: z.string(), room: z.string().nullable(), problem: z.enum(DEVICE_STATES).exclude(['online']).describe('the device state (docs/operations.md §device states), never online here'), battery: z.number().nullable(), lastSeenAt: z.number().nullable() })),
  }),
  incidents: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      category: z.string(),
      state: z.enum(['open', 'acknowledged', 'resolved']),
      openedAt: z.number(),
      acknowledgedAt: z.number().nullable(),
      resolvedAt: z.number().nullable(),
      outcome: z.string().nullable(),
      handledBy: z.string().nullable(),
      handledByKind: z.enum(['operator', 'family']).nullable(),
      answerable: z.boolean(),
      responses: z.array(z.object({ by: z.string(), relation: z.string(), answer: z.enum(FAMILY_ANSWERS), at: z.number() })).describe("family members' answers, oldest first"),
      familyResponse: z
        .object({ by: z.string(), relation: z.string(), state: z.enum(['en_route', 'arrived', 'overdue']), since: z.number(), dueAt: z.number().nullable(), arrivedAt: z.number().nullable() })
        .nullable()
        .describe('a family member on the way (我去看看), arrived (已到达), or overdue (no arrival in time: the operators were alerted again)'),
    }),
  ),
  linkIncidentId: z.string().nullable(),
  linkExpiresAt: z.number(),
  question: z
    .object({ id: z.string(), askedAt: z.number(), text: z.object({ zh: z.string(), en: z.string() }) })
    .nullable()
    .describe('a question the platform is asking the family before it alerts anyone ("is she with you?"); answered by a view link'),
})

/** Away mode set by a family answer lasts at most this long; longer stays are for the community to enter. */
const FAMILY_AWAY_MAX_MS = 30 * 24 * 3_600_000
const QUESTION_ANSWERS = ['with_us', 'phoned_safe', 'not_with_us'] as const

export const familyRoutes: FastifyPluginAsyncZod<
  ApiContext & { links: FamilyLinks; vapidPublicKey: string; pushServices: readonly string[]; requestsPerMin: number; familyViewBuilt: boolean; history: TelemetryHistory; publicUrl: string; familyViewTtlMs: number }
> = async (app, ctx) => {
  // No login here, only a link: one address may not make the platform read the store without end
  // (docs/security.md §web). Scoped to this plugin's routes.
  await app.register(fastifyRateLimit, {
    max: ctx.requestsPerMin,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, c) => new ApiError('TOO_MANY_ATTEMPTS', `请求过于频繁,请 ${Math.ceil(c.ttl / 1000)} 秒后再试 (too many requests from this address; try again in ${Math.ceil(c.ttl / 1000)} s)`),
  })

  const familyOf = async (tok: string): Promise<FamilyAccess> => {
    const r = await familyAccess(ctx, tok, ctx.clock.now())
    if (!r.ok) throw new ApiError('FORBIDDEN', r.reason === 'expired' ? LINK_EXPIRED : LINK_INVALID)
    return r.access
  }

  app.post(
    '/api/households/:id/contacts/:contactId/family-link',
    {
      onRequest: requireUser(ctx.auth),
      schema: {
        tags: ['family'],
        summary: "A view link for one of the household's contacts: their elder's status and incidents, without a login",
        description:
          'Hand it to the family member yourself (it is a key to the family view). It works until it expires or the contact is removed.\n\n为联系人生成家属查看链接(免登录),请亲自交给家属。',
        params: idParam.extend({ contactId: z.string().min(1).max(100) }),
        response: { 201: z.object({ url: z.string(), token: z.string(), expiresAt: z.number() }), ...errorResponses(404, 429) },
      },
    },
    async (request, reply) => {
      const h = await visibleHousehold(ctx.registry, currentUser(request), request.params.id)
      const contact = await ctx.registry.contacts.get(request.params.contactId)
      if (!contact || contact.householdId !== h.id) throw notFound('contact', request.params.contactId)
      const expiresAt = ctx.clock.now() + ctx.familyViewTtlMs
      const tok = ctx.links.viewToken({ householdId: h.id, contactId: contact.id, expiresAt, version: contact.viewLinkVersion })
      request.log.info({ householdId: h.id, contactId: contact.id, by: currentUser(request).username }, 'family view link issued')
      return reply.code(201).send({ url: `${ctx.publicUrl.replace(/\/$/, '')}/family.html?t=${encodeURIComponent(tok)}`, token: tok, expiresAt })
    },
  )

  app.delete(
    '/api/households/:id/contacts/:contactId/family-links',
    {
      onRequest: requireUser(ctx.auth),
      schema: {
        tags: ['family'],
        summary: "Revoke every link given to this contact (view links and the incident links of notices) and their Web Push subscription (a lost phone); their next link is a new one",
        description: 'Their open family pages close at once.\n\n作废该联系人的全部家属链接和推送订阅(如手机丢失)。',
        params: idParam.extend({ contactId: z.string().min(1).max(100) }),
        response: { 204: noContent, ...errorResponses(404, 429) },
      },
    },
    async (request, reply) => {
      const h = await visibleHousehold(ctx.registry, currentUser(request), request.params.id)
      const contact = await ctx.registry.contacts.get(request.params.contactId)
      if (!contact || contact.householdId !== h.id) throw notFound('contact', request.params.contactId)
      await ctx.registry.contacts.revokeLinks(contact.id)
      ctx.announce.familyLinksRevoked(contact.id)
      await audit(ctx, request, 'family_links.revoked', { householdId: h.id, communityId: h.communityId }, { contactId: contact.id, name: contact.name })
      request.log.info({ householdId: h.id, contactId: contact.id, by: currentUser(request).username }, 'family links and push subscription revoked')
      return reply.code(204).send()
    },
  )

  app.post(
    '/api/incidents/:id/family-response',
    {
      schema: {
        tags: ['family'],
        summary: "A family member's answer from their link; no login",
        description:
          'An incident link answers its own incident; a view link answers any unresolved incident of its household. ' +
          '`on_my_way` (我去看看) marks the incident 家属前往中: it is not an acknowledgement, the operators keep it and its ladder; ' +
          '`arrived` / `arrived_safe` (已到达) close the loop; no arrival within the community\'s `routing.family.arriveWithinMin` alerts the operators again. ' +
          '`arrived_safe` and `called_fine` close a wellbeing or visit incident where the community allows it (`routing.family.maySettleWellbeing`). ' +
          'See docs/history-and-family-api.md. 403 when the link is not valid, has expired or does not cover this incident.\n\n家属通过链接回复事件(我去看看 / 已到达 / 已电话联系)。',
        security: [],
        params: idParam,
        body: z.object({ token, answer: z.enum(FAMILY_ANSWERS) }),
        response: { 200: z.object({ incidentId: z.string(), state: z.string(), answer: z.enum(FAMILY_ANSWERS), familyState: z.enum(['en_route', 'arrived', 'overdue']).nullable() }), ...errorResponses(403, 409, 429) },
      },
    },
    async (request) => {
      const { claims, contact, household } = await familyOf(request.body.token)
      if (claims.kind === 'incident' && claims.incidentId !== request.params.id) throw new ApiError('FORBIDDEN', OTHER_INCIDENT)
      const incident = await ctx.incidents.get(request.params.id)
      if (!incident || incident.householdId !== household.id) throw new ApiError('FORBIDDEN', OTHER_INCIDENT)
      if (!ANSWERABLE_CATEGORIES.has(incident.category)) throw new ApiError('FORBIDDEN', OTHER_INCIDENT)
      if (incident.state === 'resolved') throw new ApiError('CONFLICT', '这件事已经处理完毕 (this incident is already closed)')
      const community = await ctx.registry.communities.get(incident.communityId)
      const policy = resolveRouting(community?.routing).family
      const who = { contactId: contact.id, name: contact.name, relation: contact.relation }
      const command = familyCommand(incident, request.body.answer, who, policy, ctx.clock.now())
      const result = await ctx.incidents.familyAnswer(incident.id, command, `family:${contact.name}`)
      // Resolved between the read and the answer (an operator closed it meanwhile).
      if (!result.ok) throw new ApiError('CONFLICT', '这件事已经处理完毕 (this incident is already closed)')
      request.log.info({ incidentId: incident.id, answer: request.body.answer, by: contact.name, state: result.incident.state }, 'family answered')
      return { incidentId: incident.id, state: result.incident.state, answer: request.body.answer, familyState: result.incident.familyResponse?.state ?? null }
    },
  )

  app.post(
    '/api/family/push-subscription',
    {
      schema: {
        tags: ['family'],
        summary: "Remember a family member's browser for Web Push; the link identifies them",
        description: 'A new browser replaces the previous one. 400 when the push service is not one the platform delivers to.\n\n登记家属浏览器的推送订阅。',
        security: [],
        response: { 204: noContent, ...errorResponses(403, 429) },
        body: z.object({ token, subscription: z.object({ endpoint: z.string().url(), keys: z.object({ p256dh: z.string().min(10), auth: z.string().min(8) }) }) }),
      },
    },
    async (request, reply) => {
      const { contact } = await familyOf(request.body.token)
      const problem = pushEndpointProblem(request.body.subscription.endpoint, ctx.pushServices)
      if (problem) throw new ApiError('VALIDATION', `subscription.endpoint: ${problem} / 这个浏览器的推送服务不受支持`)
      await ctx.registry.contacts.setPushSubscription(contact.id, request.body.subscription)
      // A new browser replaces the old one: recorded, so a silent replacement can be traced.
      request.log.warn({ householdId: contact.householdId, contactId: contact.id, pushService: new URL(request.body.subscription.endpoint).host, replaced: contact.pushSubscription !== null }, 'family push subscription set')
      return reply.code(204).send()
    },
  )

  app.get(
    '/api/family/incident',
    {
      schema: {
        tags: ['family'],
        summary: 'What an incident link is about: the elder, the address and the state; no login',
        description: '403 when the link is not valid, has expired or is a view link.\n\n事件链接对应的老人、地址与处理状态。',
        security: [],
        querystring: z.object({ t: token }),
        response: { 200: z.object({ incidentId: z.string(), elder: z.string(), address: z.string(), state: z.string() }), ...errorResponses(403, 429) },
      },
    },
    async (request) => {
      const { household, linkIncident } = await familyOf(request.query.t)
      if (!linkIncident) throw new ApiError('FORBIDDEN', '这个链接不是某件事的回复链接 (this link is not for an incident)')
      return { incidentId: linkIncident.id, elder: household.elderName, address: household.address, state: linkIncident.state }
    },
  )

  app.get(
    '/api/family/overview',
    {
      schema: {
        tags: ['family'],
        summary: "The elder's status at a glance and their incidents, for either kind of family link; no login",
        description:
          'What the family page shows: last activity, water use, device problems, incidents of the last 7 days and any question waiting for an answer. The page reads it again when the `/family` Socket.IO namespace says `changed` (/docs/asyncapi.json).\n\n家属页面的全部内容:老人近况、设备问题、近 7 天事件。',
        security: [],
        querystring: z.object({ t: token }),
        response: { 200: overviewView, ...errorResponses(403, 429) },
      },
    },
    async (request) => {
      const { claims, contact, household, linkIncident } = await familyOf(request.query.t)
      const now = ctx.clock.now()
      const [devices, incidents, activity, water] = await Promise.all([
        ctx.registry.devices.list({ householdId: household.id }),
        ctx.incidents.list({ householdId: household.id, resolvedSince: now - RECENT_MS, limit: 50 }),
        ctx.history.lastActivity(household.id, now),
        ctx.history.lastWaterUse(household.id, now),
      ])
      // The reading shown as the last activity is a sighting of its device too.
      const states = await withStates(ctx.registry, devices, now, activity ? new Map([[activity.deviceId, activity.at]]) : undefined)
      const problems = states.flatMap((d) => (d.state === 'online' ? [] : [{ deviceId: d.id, kind: d.kind, room: d.room, problem: d.state, battery: d.battery, lastSeenAt: d.lastSeenAt }]))
      const shown = incidents.filter((i) => FAMILY_CATEGORIES.has(i.category))
      const listed = linkIncident && !shown.some((i) => i.id === linkIncident.id) ? [...shown, linkIncident] : shown
      const rows = await Promise.all(
        listed
          .sort((a, b) => b.openedAt - a.openedAt)
          .map(async (i) => {
            const handler = handlerOf(i)
            const operatorName = handler?.kind === 'operator' ? ((await ctx.users.displayName(handler.id)) ?? null) : null
            return familyIncidentRow(i, await ctx.incidents.events(i.id), operatorName, claims.kind === 'household' || i.id === linkIncident?.id)
          }),
      )
      const room = activity ? (devices.find((d) => d.id === activity.deviceId)?.room ?? null) : null
      return {
        elder: { name: household.elderName, address: household.address },
        contact: { name: contact.name, relation: contact.relation },
        lastActivity: activity ? { at: activity.at, room } : null,
        lastWaterUse: water === null ? null : { at: water },
        devices: { total: devices.length, ok: devices.length - problems.length, problems },
        incidents: rows,
        linkIncidentId: linkIncident?.id ?? null,
        linkExpiresAt: claims.expiresAt,
        question: claims.kind === 'household' ? questionView(household.id, household.elderName) : null,
      }
    },
  )

  function questionView(householdId: string, elderName: string) {
    const q = ctx.familyQuestions.question(householdId)
    return q ? { id: q.id, askedAt: q.askedAt, text: { zh: `${elderName}今天在您那里吗?`, en: `Is ${elderName} with you today?` } } : null
  }

  app.post(
    '/api/family/questions/:id/answer',
    {
      schema: {
        tags: ['family'],
        summary: 'The family answers "is she with you?"; a view link only, no login',
        description:
          '`with_us` needs `until` (epoch ms, in the future, at most 30 days ahead): the household is then away until then and nothing is raised for it meanwhile (SOS, fall, smoke and gas still are). `phoned_safe`: the family called and the elder is fine. `not_with_us`: the operators are alerted at once. 403 when the link is not a valid view link; 409 when the question is no longer waiting.\n\n家属回答“老人今天在您那里吗?”。',
        security: [],
        params: idParam,
        body: z.object({ token, answer: z.enum(QUESTION_ANSWERS), until: z.number().int().positive().optional() }),
        response: { 200: z.object({ questionId: z.string(), answer: z.enum(QUESTION_ANSWERS), awayUntil: z.number().nullable() }), ...errorResponses(403, 409, 429) },
      },
    },
    async (request) => {
      const { claims, contact, household } = await familyOf(request.body.token)
      if (claims.kind !== 'household') throw new ApiError('FORBIDDEN', 'this link cannot answer questions')
      const { answer, until } = request.body
      const now = ctx.clock.now()
      if (answer === 'with_us' && (until === undefined || until <= now || until > now + FAMILY_AWAY_MAX_MS)) {
        throw new ApiError('VALIDATION', 'until: 请选择老人回家的日期(今天之后,30 天以内) / the day she comes home, within 30 days')
      }
      // The answer is taken first (it settles the question at once, synchronously); away mode follows it.
      if (!ctx.familyQuestions.answer(household.id, request.params.id, answer)) {
        throw new ApiError('CONFLICT', '这个问题已经不需要回答了 / this question is no longer waiting for an answer')
      }
      let awayUntil: number | null = null
      if (answer === 'with_us' && until !== undefined) {
        await ctx.registry.households.update({ ...household, awayUntil: until, updatedAt: now })
        awayUntil = until
        ctx.announce.householdChanged(household.id)
      }
      request.log.info({ householdId: household.id, questionId: request.params.id, answer, by: contact.name, awayUntil }, 'family answered a question')
      return { questionId: request.params.id, answer, awayUntil }
    },
  )

  app.get('/api/push/key', {
      schema: {
        tags: ['family'],
        summary: 'The Web Push (VAPID) public key',
        description: "What a browser needs to subscribe to the platform's push notices.\n\n浏览器订阅推送所需的公钥。",
        security: [],
        response: { 200: z.object({ publicKey: z.string() }), ...errorResponses(429) },
      },
    }, async () => ({ publicKey: ctx.vapidPublicKey }))

  app.get('/family/respond', { schema: { hide: true, querystring: z.object({ t: z.string().default('') }) } }, async (request, reply) => {
    // The family view, when the dashboards are built; this plain page otherwise.
    if (ctx.familyViewBuilt) return reply.redirect(`/family.html?t=${encodeURIComponent(request.query.t)}`)
    const check = ctx.links.check(request.query.t, ctx.clock.now())
    const incident = check.ok && check.claims.kind === 'incident' ? await ctx.incidents.get(check.claims.incidentId) : undefined
    const household = incident ? await ctx.registry.households.get(incident.householdId) : undefined
    return reply.type('text/html; charset=utf-8').send(page(check.ok && incident ? { incidentId: incident.id, token: request.query.t, elder: household?.elderName ?? '', address: household?.address ?? '', state: incident.state } : null))
  })
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A page that works on any phone, large type, no script from elsewhere. */
function page(info: { incidentId: string; token: string; elder: string; address: string; state: string } | null): string {
  const body = info
    ? `<h1>${escape(info.elder)}</h1><p>${escape(info.address)}</p>
<p id="status">${info.state === 'resolved' ? '此事件已处理完毕 · This incident is closed' : '请告诉值班员您的安排 · Tell the operator what you will do'}</p>
<button data-answer="on_my_way">我去看看<br><small>I'm on my way</small></button>
<button data-answer="arrived">已到达<br><small>I'm there</small></button>
<button data-answer="called_fine">已电话联系,老人平安<br><small>I called, she's fine</small></button>
<script>
for (const b of document.querySelectorAll('button')) b.onclick = async () => {
  const r = await fetch('/api/incidents/${escape(info.incidentId)}/family-response', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ${JSON.stringify(info.token)}, answer: b.dataset.answer }) })
  document.getElementById('status').textContent = r.ok ? '已告知值班员,谢谢 · The operator has your answer, thank you' : r.status === 409 ? '此事件已处理完毕 · This incident is closed' : '链接无效或已过期 · This link is not valid'
}
</script>`
    : '<h1>链接无效或已过期</h1><p>This link is not valid or has expired. 请直接致电社区值班室。</p>'
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>安居 · 家属回复</title>
<style>body{font:20px/1.5 system-ui,sans-serif;margin:24px;color:#111}button{display:block;width:100%;margin:12px 0;padding:16px;font-size:22px;border:0;border-radius:10px;background:#b91c1c;color:#fff}button+button{background:#1d4ed8}</style></head><body>${body}</body></html>`
}
