import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { communityScope } from '../auth/auth.js'
import { detectorOverrideSchema } from '../detectors/settings.js'
import { routingSettingsSchema } from '../routing/settings.js'
import { newId } from '../shared/ids.js'
import type { Community } from '../store/registry.js'
import type { User } from '../store/users.js'
import type { ApiContext } from './context.js'
import { audit, changedFields } from './audit-routes.js'
import { ApiError, errorResponses, noContent, notFound } from './errors.js'
import { assertCommunityVisible, currentUser, requireAdmin, requireUser } from './guards.js'
import { communityView, idParam } from './views.js'

const communityFields = {
  name: z.string().trim().min(1).max(100),
  street: z.string().trim().min(1).max(100),
  detectorSettings: detectorOverrideSchema.nullable().describe('detector thresholds over the defaults'),
  routing: routingSettingsSchema.nullable().describe('supervisors, property, maintenance, webhooks, quiet hours and escalation ladders'),
}
const communityBody = z.object({
  ...communityFields,
  detectorSettings: communityFields.detectorSettings.default(null),
  routing: communityFields.routing.default(null),
})
const communityPatch = z.object(communityFields).partial()

export const communityRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  const tags = ['communities']

  // Routing holds webhook secrets and staff phone numbers: for admins only.
  const forUser = (user: User, c: Community): Community => (user.role === 'admin' ? c : { ...c, routing: null })

  app.get('/', {
      schema: {
        tags,
        summary: 'Communities this user serves',
        description: 'Admins see all, with their routing settings; operators see theirs without routing (it holds webhook secrets and staff phone numbers).\n\n本人负责的社区列表。',
        response: { 200: z.array(communityView) },
      },
    }, async (request) => {
    const user = currentUser(request)
    return (await ctx.registry.communities.list(communityScope(user))).map((c) => forUser(user, c))
  })

  app.get('/:id', { schema: { tags, summary: 'A community', description: 'Its detector thresholds and (admins) routing settings.\n\n单个社区的设置。', params: idParam, response: { 200: communityView, ...errorResponses(404) } } }, async (request) => {
    const c = await ctx.registry.communities.get(request.params.id)
    if (!c) throw notFound('community', request.params.id)
    assertCommunityVisible(currentUser(request), c.id, 'community', c.id)
    return forUser(currentUser(request), c)
  })

  app.post('/', {
      onRequest: requireAdmin,
      schema: {
        tags,
        summary: 'Create a community',
        description: 'Admins only. Detector thresholds and routing (escalation ladders, quiet hours, webhooks) are optional; the defaults apply without them.\n\n新建社区。',
        body: communityBody,
        response: { 201: communityView, ...errorResponses(403) },
      },
    }, async (request, reply) => {
    const now = ctx.clock.now()
    const c = { id: newId('com', now), ...request.body, createdAt: now }
    await ctx.registry.communities.insert(c)
    return reply.code(201).send(c)
  })

  app.patch('/:id', {
      onRequest: requireAdmin,
      schema: {
        tags,
        summary: 'Change a community',
        description: 'Admins only. A field left out stays as it is; the change is on the audit trail and the detectors take it at once.\n\n修改社区设置。',
        params: idParam,
        body: communityPatch,
        response: { 200: communityView, ...errorResponses(403, 404) },
      },
    }, async (request) => {
    const c = await ctx.registry.communities.get(request.params.id)
    if (!c) throw notFound('community', request.params.id)
    const updated = { ...c, ...request.body }
    await ctx.registry.communities.update(updated)
    await audit(ctx, request, 'community.changed', { communityId: c.id }, { fields: changedFields(c, request.body) })
    ctx.announce.communityChanged(c.id)
    return updated
  })

  app.delete(
    '/:id',
    {
      onRequest: requireAdmin,
      schema: {
        tags,
        summary: 'Delete a community; with purge=true also everything in it (a simulated district: npm run sim -- remove-district)',
        description:
          'Without purge, refused (409) while households remain. With purge=true its open incidents are first closed as tests, then its households, contacts, devices (their connections are closed) and incidents with their trails are deleted in one transaction; the audit log keeps a line saying so. docs/operations.md §simulated districts.\n\n删除社区;purge=true 时连同其住户、设备和事件一并删除(用于清理模拟小区)。',
        params: idParam,
        querystring: z.object({ purge: z.enum(['true', 'false']).default('false').describe('delete the households, devices and incidents too') }),
        response: {
          200: z.object({ communityId: z.string(), name: z.string(), households: z.number(), devices: z.number(), incidents: z.number() }).describe('purged: what was removed'),
          204: noContent,
          ...errorResponses(403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const c = await ctx.registry.communities.get(request.params.id)
      if (!c) throw notFound('community', request.params.id)
      if (request.query.purge !== 'true') {
        if ((await ctx.registry.communities.householdCount(c.id)) > 0) {
          throw new ApiError('CONFLICT', `community ${c.id} still has households; move or delete them first, or delete with purge=true`)
        }
        await ctx.registry.communities.remove(c.id)
        return reply.code(204).send()
      }
      // Closed through the lifecycle first: ladders and reminders stop, consoles drop them from the queue.
      const actor = `user:${currentUser(request).username}`
      for (const i of await ctx.incidents.list({ state: 'active', communityIds: [c.id] })) {
        await ctx.incidents.resolve(i.id, actor, 'test', '社区已删除(模拟数据)')
      }
      const gone = await ctx.registry.communities.purge(c.id)
      for (const d of gone.devices) ctx.announce.deviceChanged(d)
      for (const h of gone.households) ctx.announce.householdChanged(h)
      ctx.announce.communityChanged(c.id)
      const counts = { households: gone.households.length, devices: gone.devices.length, incidents: gone.incidents }
      await audit(ctx, request, 'community.removed', { communityId: c.id }, { name: c.name, ...counts })
      return reply.code(200).send({ communityId: c.id, name: c.name, ...counts })
    },
  )
}
