import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { communityScope } from '../auth/auth.js'
import { DEVICE_ID_PATTERN } from '../contract/index.js'
import { hashDeviceSecret, newDeviceSecret } from '../shared/secrets.js'
import { DEVICE_KINDS, ROOMS, type Device } from '../store/registry.js'
import type { User } from '../store/users.js'
import type { ApiContext } from './context.js'
import { ApiError, notFound } from './errors.js'
import { BOARD_FILTERS, boardPage, boardView, pageQuery, searchQuery } from './lists.js'
import { assertCommunityVisible, currentUser, requireAdmin, requireUser } from './guards.js'
import { deviceView, deviceWithSecret, idParam } from './views.js'

/** Contract v1 §status: default heartbeat 3600 s for buttons, 300 s for sensors. */
export const defaultHeartbeatS = (kind: Device['kind']) => (kind === 'button' ? 3600 : 300)

const deviceBody = z.object({
  id: z.string().regex(DEVICE_ID_PATTERN, 'device id: 1 to 64 characters of A-Z a-z 0-9 _ -'),
  householdId: z.string().min(1),
  kind: z.enum(DEVICE_KINDS),
  room: z.enum(ROOMS).nullable().default(null),
  heartbeatS: z.number().int().min(10).max(86_400).optional(),
})
const devicePatch = z.object({
  householdId: z.string().min(1),
  room: z.enum(ROOMS).nullable(),
  heartbeatS: z.number().int().min(10).max(86_400),
}).partial()

export const deviceRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  const tags = ['devices']

  const visibleDevice = async (user: User, id: string): Promise<Device> => {
    const d = await ctx.registry.devices.get(id)
    const h = d && (await ctx.registry.households.get(d.householdId))
    if (!d || !h) throw notFound('device', id)
    assertCommunityVisible(user, h.communityId, 'device', id)
    return d
  }
  const requireHousehold = async (householdId: string) => {
    if (!(await ctx.registry.households.get(householdId))) throw new ApiError('VALIDATION', `householdId: household ${householdId} does not exist`)
  }

  app.get(
    '/',
    { schema: { tags, querystring: z.object({ householdId: z.string().optional() }), response: { 200: z.array(deviceView) } } },
    async (request) => {
      const scope = communityScope(currentUser(request))
      return ctx.registry.devices.list({ ...(request.query.householdId ? { householdId: request.query.householdId } : {}), ...(scope ? { communityIds: scope } : {}) })
    },
  )

  app.get(
    '/board',
    {
      schema: {
        tags,
        summary: 'The device health board: one page of devices, problems first, with counts per state',
        description: 'Paged (docs/operations.md §scale): `state` (all, problem, offline, never_seen, low_battery, ok), `q` (device id, elder, address), `limit` (default 50, at most 500), `offset`. `counts` covers every device in scope and search, whatever the state.',
        querystring: z.object({ state: z.enum(BOARD_FILTERS).default('all'), q: searchQuery, ...pageQuery }),
        response: { 200: boardView },
      },
    },
    async (request) => {
      const scope = communityScope(currentUser(request))
      const { q, ...page } = request.query
      const [devices, communities] = await Promise.all([
        ctx.registry.devices.healthFacts({ ...(scope ? { communityIds: scope } : {}), ...(q ? { q } : {}) }),
        ctx.registry.communities.list(scope),
      ])
      const board = boardPage(devices, new Map(communities.map((c) => [c.id, c.detectorSettings])), ctx.clock.now(), page)
      const rows = await ctx.registry.devices.boardRows(board.items.map((d) => d.id))
      const stateOf = new Map(board.items.map((d) => [d.id, d.state]))
      return { ...board, items: rows.map((d) => ({ ...d, state: stateOf.get(d.id)! })) }
    },
  )

  app.get('/:id', { schema: { tags, params: idParam, response: { 200: deviceView } } }, async (request) => visibleDevice(currentUser(request), request.params.id))

  app.post(
    '/',
    { onRequest: requireAdmin, schema: { tags, summary: 'Provision a device; its secret is returned only in this response', body: deviceBody, response: { 201: deviceWithSecret } } },
    async (request, reply) => {
      const body = request.body
      await requireHousehold(body.householdId)
      if (await ctx.registry.devices.get(body.id)) throw new ApiError('CONFLICT', `device ${body.id} already exists`)
      const secret = newDeviceSecret()
      const device: Device = {
        id: body.id,
        householdId: body.householdId,
        kind: body.kind,
        room: body.room,
        heartbeatS: body.heartbeatS ?? defaultHeartbeatS(body.kind),
        lastSeenAt: null,
        online: null,
        battery: null,
        fw: null,
        createdAt: ctx.clock.now(),
      }
      await ctx.registry.devices.insert(device, hashDeviceSecret(secret))
      ctx.announce.householdChanged(device.householdId)
      return reply.code(201).send({ ...device, secret })
    },
  )

  app.patch('/:id', { onRequest: requireAdmin, schema: { tags, params: idParam, body: devicePatch, response: { 200: deviceView } } }, async (request) => {
    const d = await visibleDevice(currentUser(request), request.params.id)
    if (request.body.householdId) await requireHousehold(request.body.householdId)
    const updated = {
      ...d,
      householdId: request.body.householdId ?? d.householdId,
      room: request.body.room === undefined ? d.room : request.body.room,
      heartbeatS: request.body.heartbeatS ?? d.heartbeatS,
    }
    await ctx.registry.devices.update(updated)
    ctx.announce.deviceChanged(d.id)
    ctx.announce.householdChanged(d.householdId)
    if (updated.householdId !== d.householdId) ctx.announce.householdChanged(updated.householdId)
    return updated
  })

  app.post(
    '/:id/rotate-secret',
    { onRequest: requireAdmin, schema: { tags, summary: 'Issue a new secret; the old one stops working at the next connect', params: idParam, response: { 200: deviceWithSecret } } },
    async (request) => {
      const d = await visibleDevice(currentUser(request), request.params.id)
      const secret = newDeviceSecret()
      await ctx.registry.devices.setSecretHash(d.id, hashDeviceSecret(secret))
      ctx.announce.deviceChanged(d.id)
      return { ...d, secret }
    },
  )

  app.delete('/:id', { onRequest: requireAdmin, schema: { tags, params: idParam } }, async (request, reply) => {
    const d = await visibleDevice(currentUser(request), request.params.id)
    await ctx.registry.devices.remove(d.id)
    ctx.announce.deviceChanged(d.id)
    ctx.announce.householdChanged(d.householdId)
    return reply.code(204).send()
  })
}
