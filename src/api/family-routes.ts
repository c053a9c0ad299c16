/**
 * Family answers without a login: a signed, expiring link opens a small page with two
 * answers; the answer acknowledges the incident for that family member and reaches the
 * operators live. A link works only for the incident it was made for.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { FamilyLinks } from '../routing/family-links.js'
import { ApiError } from './errors.js'
import type { ApiContext } from './context.js'
import { idParam } from './views.js'

const ANSWERS = ['on_my_way', 'called_fine'] as const
const ANSWER_TEXT = { on_my_way: { zh: '我去看看', en: "I'm on my way" }, called_fine: { zh: '已电话联系,老人平安', en: "I called, she's fine" } }

export const familyRoutes: FastifyPluginAsyncZod<ApiContext & { links: FamilyLinks; vapidPublicKey: string; familyViewBuilt: boolean }> = async (app, ctx) => {
  const claimsOf = (token: string) => {
    const check = ctx.links.check(token, ctx.clock.now())
    if (!check.ok) throw new ApiError('FORBIDDEN', check.reason === 'expired' ? 'this link has expired' : 'this link is not valid')
    return check.claims
  }

  app.post(
    '/api/incidents/:id/family-response',
    {
      schema: {
        tags: ['family'],
        summary: "A family member's answer from their link; no login",
        security: [],
        params: idParam,
        body: z.object({ token: z.string().min(10).max(2000), answer: z.enum(ANSWERS) }),
        response: { 200: z.object({ incidentId: z.string(), state: z.string(), answer: z.enum(ANSWERS) }) },
      },
    },
    async (request) => {
      const claims = claimsOf(request.body.token)
      if (claims.incidentId !== request.params.id) throw new ApiError('FORBIDDEN', 'this link is for another incident')
      const incident = await ctx.incidents.get(claims.incidentId)
      const contact = await ctx.registry.contacts.get(claims.contactId)
      if (!incident || !contact || contact.householdId !== incident.householdId) throw new ApiError('FORBIDDEN', 'this link is not valid')
      const actor = `family:${contact.name}`
      if (incident.state === 'open') await ctx.incidents.acknowledge(incident.id, actor)
      await ctx.incidents.note(incident.id, 'family_response', actor, { answer: request.body.answer, text: ANSWER_TEXT[request.body.answer], contact: contact.name, relation: contact.relation })
      const now = await ctx.incidents.get(incident.id)
      return { incidentId: incident.id, state: now!.state, answer: request.body.answer }
    },
  )

  app.post(
    '/api/family/push-subscription',
    {
      schema: {
        tags: ['family'],
        summary: "Remember a family member's browser for Web Push; the link identifies them",
        security: [],
        body: z.object({ token: z.string().min(10).max(2000), subscription: z.object({ endpoint: z.string().url(), keys: z.object({ p256dh: z.string().min(10), auth: z.string().min(8) }) }) }),
      },
    },
    async (request, reply) => {
      const claims = claimsOf(request.body.token)
      if (!(await ctx.registry.contacts.get(claims.contactId))) throw new ApiError('FORBIDDEN', 'this link is not valid')
      await ctx.registry.contacts.setPushSubscription(claims.contactId, request.body.subscription)
      return reply.code(204).send()
    },
  )

  app.get(
    '/api/family/incident',
    {
      schema: {
        tags: ['family'],
        summary: 'What a family link is about: the elder, the address and the state; no login',
        security: [],
        querystring: z.object({ t: z.string().min(10).max(2000) }),
        response: { 200: z.object({ incidentId: z.string(), elder: z.string(), address: z.string(), state: z.string() }) },
      },
    },
    async (request) => {
      const claims = claimsOf(request.query.t)
      const incident = await ctx.incidents.get(claims.incidentId)
      const contact = await ctx.registry.contacts.get(claims.contactId)
      if (!incident || !contact || contact.householdId !== incident.householdId) throw new ApiError('FORBIDDEN', 'this link is not valid')
      const household = await ctx.registry.households.get(incident.householdId)
      return { incidentId: incident.id, elder: household?.elderName ?? '', address: household?.address ?? '', state: incident.state }
    },
  )

  app.get('/api/push/key', { schema: { tags: ['family'], security: [], response: { 200: z.object({ publicKey: z.string() }) } } }, async () => ({ publicKey: ctx.vapidPublicKey }))

  app.get('/family/respond', { schema: { hide: true, querystring: z.object({ t: z.string().default('') }) } }, async (request, reply) => {
    // The family view, when the dashboards are built; this plain page otherwise.
    if (ctx.familyViewBuilt) return reply.redirect(`/family.html?t=${encodeURIComponent(request.query.t)}`)
    const check = ctx.links.check(request.query.t, ctx.clock.now())
    const incident = check.ok ? await ctx.incidents.get(check.claims.incidentId) : undefined
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
<button data-answer="called_fine">已电话联系,老人平安<br><small>I called, she's fine</small></button>
<script>
for (const b of document.querySelectorAll('button')) b.onclick = async () => {
  const r = await fetch('/api/incidents/${escape(info.incidentId)}/family-response', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ${JSON.stringify(info.token)}, answer: b.dataset.answer }) })
  document.getElementById('status').textContent = r.ok ? '已告知值班员,谢谢 · The operator has your answer, thank you' : '链接无效或已过期 · This link is not valid'
}
</script>`
    : '<h1>链接无效或已过期</h1><p>This link is not valid or has expired. 请直接致电社区值班室。</p>'
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>安居 · 家属回复</title>
<style>body{font:20px/1.5 system-ui,sans-serif;margin:24px;color:#111}button{display:block;width:100%;margin:12px 0;padding:16px;font-size:22px;border:0;border-radius:10px;background:#b91c1c;color:#fff}button+button{background:#1d4ed8}</style></head><body>${body}</body></html>`
}
