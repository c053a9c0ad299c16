import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { communityScope } from '../auth/auth.js'
import { CHANNEL_NAMES } from '../delivery/channels/channel.js'
import { detectorOverrideSchema } from '../detectors/settings.js'
import { newId } from '../shared/ids.js'
import { AUDIENCES, type Audience, type Contact, type Household } from '../store/registry.js'
import type { User } from '../store/users.js'
import type { ApiContext } from './context.js'
import { audit, changedFields } from './audit-routes.js'
import { ApiError, errorResponses, noContent, notFound } from './errors.js'
import { districtSummary, districtView, pageOf, pageQuery, searchQuery } from './lists.js'
import { currentUser, requireAdmin, requireUser, visibleHousehold } from './guards.js'
import { contactView, householdSummary, householdView, idParam, summaryOf } from './views.js'

const phone = z.string().trim().regex(/^\+?[0-9 -]{5,20}$/, 'a phone number: digits, spaces, dashes, optional leading +')
export const householdFields = {
  communityId: z.string().min(1),
  registryRef: z.string().trim().min(1).max(50).nullable().describe("户编号: the street office's household number, unique within the community (409 when another household has it); what the registry import matches on"),
  elderName: z.string().trim().min(1).max(50),
  age: z.number().int().min(0).max(130).nullable(),
  address: z.string().trim().min(1).max(200),
  phone: phone.nullable(),
  medicalNotes: z.string().max(2000).nullable(),
  keySafe: z.string().trim().max(500).nullable().describe('钥匙盒: where the key box is and its code'),
  detectorSettings: detectorOverrideSchema.nullable().describe("detector thresholds over the community's"),
}
const householdBody = z.object({
  ...householdFields,
  registryRef: householdFields.registryRef.default(null),
  age: householdFields.age.default(null),
  phone: householdFields.phone.default(null),
  medicalNotes: householdFields.medicalNotes.default(null),
  keySafe: householdFields.keySafe.default(null),
  detectorSettings: householdFields.detectorSettings.default(null),
})
// PATCH has no defaults: a field left out stays as it is.
const householdPatch = z.object(householdFields).partial()
export const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time as HH:MM')
export const contactBody = z.object({
  name: z.string().trim().min(1).max(50),
  relation: z.string().trim().min(1).max(20).describe('子女, 邻居, 楼组长, 物业, 社区医生 …'),
  audience: z.enum(AUDIENCES).optional().describe('what routing reads; derived from the relation when absent'),
  phone,
  email: z.string().email().nullable().default(null),
  channels: z.array(z.enum(CHANNEL_NAMES)).min(1).default(['sms']),
  position: z.number().int().min(0).max(100).default(0),
  availableFrom: hhmm.nullable().default(null).describe('local time from which the contact may be called'),
  availableTo: hhmm.nullable().default(null),
})

/** 子女 → family, 邻居 → neighbour …: the words families use, mapped to what routing reads. */
export function audienceOf(relation: string): Audience {
  if (/邻居|neighbou?r/i.test(relation)) return 'neighbour'
  if (/楼组长|building/i.test(relation)) return 'building_lead'
  if (/物业|property/i.test(relation)) return 'property'
  if (/医生|doctor/i.test(relation)) return 'doctor'
  return 'family'
}

const contactOut = (c: Contact) => {
  const { pushSubscription, viewLinkVersion: _version, ...rest } = c
  return { ...rest, pushSubscribed: pushSubscription !== null }
}

/** On the audit trail only as "changed". */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['keySafe', 'medicalNotes'])

/** Away mode silences the wellbeing rules: at most this far ahead, set again if she is still away. */
const AWAY_MAX_MS = 90 * 24 * 3_600_000

export const householdRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  const tags = ['households']

  const visible = (user: User, id: string): Promise<Household> => visibleHousehold(ctx.registry, user, id)
  const requireCommunity = async (communityId: string) => {
    if (!(await ctx.registry.communities.get(communityId))) throw new ApiError('VALIDATION', `communityId: community ${communityId} does not exist`)
  }
  const refTaken = (ref: string, id: string) => new ApiError('CONFLICT', `registryRef: 户编号 ${ref} 在本社区已有住户(${id})/ household number ${ref} is taken in this community by ${id}`)
  /** 户编号 is unique per community: another household holding it is a 409 (households_registry_ref). */
  const requireRefFree = async (h: Household) => {
    if (h.registryRef === null) return
    const other = await ctx.registry.households.byRef(h.communityId, h.registryRef)
    if (other && other.id !== h.id) throw refTaken(h.registryRef, other.id)
  }
  /** A write that lost a race for the 户编号 to another: the same 409. */
  const uniqueRef = async (h: Household, write: () => Promise<void>) => {
    try {
      await write()
    } catch (err) {
      if (h.registryRef !== null && /unique|duplicate/i.test((err as Error).message)) throw refTaken(h.registryRef, (await ctx.registry.households.byRef(h.communityId, h.registryRef))?.id ?? '?')
      throw err
    }
  }

  /** The communities a list may show: the user's scope, narrowed to one community when asked. */
  const listScope = (user: User, wanted: string | undefined): readonly string[] | undefined => {
    const scope = communityScope(user)
    return wanted ? (scope && !scope.includes(wanted) ? [] : [wanted]) : scope
  }

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'One page of the households in the communities this user serves, by address (without key-safe codes and medical notes: the profile has them)',
        description: 'Paged (docs/operations.md §scale): `limit` (default 50, at most 500) and `offset`; `total` counts every match. `q` finds a fragment of the name, address or phone.\n\n本人负责社区的住户列表(分页、可搜索;不含钥匙盒密码和病史)。',
        querystring: z.object({
          communityId: z.string().max(100).optional(),
          street: z.string().trim().max(100).optional().describe("the communities' street (街道)"),
          q: searchQuery,
          ...pageQuery,
        }),
        response: { 200: pageOf(householdSummary) },
      },
    },
    async (request) => {
      const { communityId, street, q, limit, offset } = request.query
      const communityIds = listScope(currentUser(request), communityId)
      const page = await ctx.registry.households.page({ ...(communityIds ? { communityIds } : {}), ...(street ? { street } : {}), ...(q ? { q } : {}), limit, offset })
      return { items: page.items.map(summaryOf), total: page.total, limit, offset }
    },
  )

  app.get(
    '/district',
    {
      schema: {
        tags,
        summary: 'Households counted by street, community and building, with how many have an unresolved emergency or other incident',
        description: 'The district view of the console (docs/operations.md §scale).\n\n按街道、社区、楼栋统计住户及未处理事件。',
        querystring: z.object({ communityId: z.string().max(100).optional() }),
        response: { 200: districtView },
      },
    },
    async (request) => districtSummary(await ctx.registry.households.places(listScope(currentUser(request), request.query.communityId))),
  )

  app.get('/:id', {
    schema: {
      tags,
      summary: "A household's profile, with the key-safe code and the medical notes",
      description: 'Each reading is recorded on the audit trail (GET /api/audit).\n\n住户档案(含钥匙盒与病史),每次查看都会留痕。',
      params: idParam,
      response: { 200: householdView, ...errorResponses(404) },
    },
  }, async (request) => {
    const h = await visible(currentUser(request), request.params.id)
    // The profile carries the key-safe code and the medical notes: every reading is on the trail.
    await audit(ctx, request, 'household.viewed', { householdId: h.id, communityId: h.communityId }, { keySafe: h.keySafe !== null, medicalNotes: h.medicalNotes !== null })
    return h
  })

  app.post('/', {
    onRequest: requireAdmin,
    schema: {
      tags,
      summary: 'Register a household',
      description: 'Admins only. 400 when the community does not exist; 409 when another household of the community has the 户编号 (`registryRef`).\n\n登记住户(户编号在同一社区内不能重复)。',
      body: householdBody,
      response: { 201: householdView, ...errorResponses(403, 409) },
    },
  }, async (request, reply) => {
    await requireCommunity(request.body.communityId)
    const now = ctx.clock.now()
    const h: Household = { id: newId('hh', now), ...request.body, awayUntil: null, createdAt: now, updatedAt: now }
    await requireRefFree(h)
    await uniqueRef(h, () => ctx.registry.households.insert(h))
    ctx.announce.householdChanged(h.id)
    return reply.code(201).send(h)
  })

  app.patch('/:id', {
    onRequest: requireAdmin,
    schema: {
      tags,
      summary: 'Change a household',
      description: 'Admins only. A field left out stays as it is; every change is on the audit trail (secret fields only as "changed"). 409 when another household of the (new) community has the 户编号.\n\n修改住户档案。',
      params: idParam,
      body: householdPatch,
      response: { 200: householdView, ...errorResponses(403, 404, 409) },
    },
  }, async (request) => {
    const h = await visible(currentUser(request), request.params.id)
    if (request.body.communityId) await requireCommunity(request.body.communityId)
    const changes = stripUndefined(request.body)
    const updated = { ...h, ...changes, updatedAt: ctx.clock.now() }
    await requireRefFree(updated)
    await uniqueRef(updated, () => ctx.registry.households.update(updated))
    await audit(ctx, request, 'household.changed', { householdId: updated.id, communityId: updated.communityId }, { fields: changedFields(h, changes, SECRET_FIELDS) })
    ctx.announce.householdChanged(h.id)
    if (updated.communityId !== h.communityId) {
      // A connected device carries its community from when it connected: reconnecting re-reads it,
      // so its next alarm reaches the new community's operators, not the old ones.
      for (const d of await ctx.registry.devices.list({ householdId: h.id })) ctx.announce.deviceChanged(d.id)
    }
    return updated
  })

  app.put(
    '/:id/away',
    {
      schema: {
        tags,
        summary: 'Away mode: suppress inactivity, water and door findings until a time at most 90 days ahead (never SOS, fall, smoke or gas)',
        description: 'For a stay in hospital or with family; `null` ends it.\n\n外出/住院模式:期间不因无活动、用水、门磁报警(求救、跌倒、烟雾、燃气照常)。',
        params: idParam,
        body: z.object({ until: z.number().int().positive().nullable().describe('epoch ms; null = back home') }),
        response: { 200: householdSummary, ...errorResponses(404) },
      },
    },
    async (request) => {
      const h = await visible(currentUser(request), request.params.id)
      const { until } = request.body
      const now = ctx.clock.now()
      if (until !== null && until <= now) throw new ApiError('VALIDATION', 'until: must be in the future (or null to end away mode)')
      if (until !== null && until > now + AWAY_MAX_MS) throw new ApiError('VALIDATION', 'until: 外出/住院模式最长 90 天 / away mode lasts at most 90 days; set it again when she is still away')
      const updated = { ...h, awayUntil: until, updatedAt: now }
      await ctx.registry.households.update(updated)
      await audit(ctx, request, 'away.changed', { householdId: h.id, communityId: h.communityId }, { from: h.awayUntil, until })
      ctx.announce.householdChanged(h.id)
      return summaryOf(updated)
    },
  )

  app.delete('/:id', {
    onRequest: requireAdmin,
    schema: {
      tags,
      summary: 'Delete a household that has no devices, incidents or service tickets',
      description: 'Admins only. 409 when it has devices, incidents or service tickets: it is kept for the record.\n\n删除住户(有设备、事件或服务工单记录的不能删除)。',
      params: idParam,
      response: { 204: noContent, ...errorResponses(403, 404, 409) },
    },
  }, async (request, reply) => {
    const h = await visible(currentUser(request), request.params.id)
    const deps = await ctx.registry.households.dependents(h.id)
    if (deps.devices > 0 || deps.incidents > 0 || deps.tickets > 0) {
      throw new ApiError('CONFLICT', `household ${h.id} has ${deps.devices} devices, ${deps.incidents} incidents and ${deps.tickets} service tickets; it is kept for the record`)
    }
    await ctx.registry.households.remove(h.id)
    return reply.code(204).send()
  })

  app.get('/:id/contacts', {
    schema: {
      tags,
      summary: "The household's contacts, in calling order",
      description: 'Family, neighbours and others the platform notifies, with their channels and hours.\n\n住户的联系人,按呼叫顺序。',
      params: idParam,
      response: { 200: z.array(contactView), ...errorResponses(404) },
    },
  }, async (request) => {
    const h = await visible(currentUser(request), request.params.id)
    return (await ctx.registry.contacts.list(h.id)).map(contactOut)
  })

  app.post('/:id/contacts', {
    onRequest: requireAdmin,
    schema: {
      tags,
      summary: 'Add a contact',
      description: 'Admins only. `audience` (what routing reads) follows from the relation when left out.\n\n添加联系人。',
      params: idParam,
      body: contactBody,
      response: { 201: contactView, ...errorResponses(403, 404) },
    },
  }, async (request, reply) => {
    const h = await visible(currentUser(request), request.params.id)
    const now = ctx.clock.now()
    const { audience, ...body } = request.body
    if ((body.availableFrom === null) !== (body.availableTo === null)) throw new ApiError('VALIDATION', 'availableFrom and availableTo go together')
    const contact: Contact = { id: newId('ct', now), householdId: h.id, ...body, audience: audience ?? audienceOf(body.relation), pushSubscription: null, viewLinkVersion: 0 }
    await ctx.registry.contacts.insert(contact, now)
    await audit(ctx, request, 'contact.added', { householdId: h.id, communityId: h.communityId }, { contactId: contact.id, name: contact.name, relation: contact.relation })
    // The detectors ask the family before an operator: they must know there is someone to ask.
    ctx.announce.householdChanged(h.id)
    return reply.code(201).send(contactOut(contact))
  })

  app.delete(
    '/:id/contacts/:contactId',
    {
      onRequest: requireAdmin,
      schema: {
        tags,
        summary: 'Remove a contact',
        description: 'Admins only. Their family links stop working and their open family pages close.\n\n删除联系人,其家属链接随即失效。',
        params: idParam.extend({ contactId: z.string().min(1) }),
        response: { 204: noContent, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const h = await visible(currentUser(request), request.params.id)
      const removed = await ctx.registry.contacts.remove(h.id, request.params.contactId)
      if (removed === 0) throw notFound('contact', request.params.contactId)
      await audit(ctx, request, 'contact.removed', { householdId: h.id, communityId: h.communityId }, { contactId: request.params.contactId })
      ctx.announce.familyLinksRevoked(request.params.contactId)
      ctx.announce.householdChanged(request.params.id)
      return reply.code(204).send()
    },
  )
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
