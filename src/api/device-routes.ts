import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { communityScope } from '../auth/auth.js'
import { DEVICE_ID_PATTERN } from '../contract/index.js'
import { hashDeviceSecret, newDeviceSecret } from '../shared/secrets.js'
import { DEVICE_KINDS, ROOMS, type Device } from '../store/registry.js'
import type { User } from '../store/users.js'
import type { ApiContext } from './context.js'
import { ApiError, errorResponses, noContent, notFound } from './errors.js'
import { BOARD_FILTERS, boardPage, boardView, pageQuery, searchQuery } from './lists.js'
import { assertCommunityVisible, currentUser, requireAdmin, requireUser } from './guards.js'
import { withStates } from './device-states.js'
import { deviceView, deviceWithSecret, idParam } from './views.js'

/** Contract v1 §status: default heartbeat 3600 s for buttons, 300 s for sensors. */
export const defaultHeartbeatS = (kind: Device['kind']) => (kind === 'button' ? 3600 : 300)

export const deviceBody = z.object({
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
    {
      schema: {
        tags,
        summary: 'Devices in the communities this user serves',
        description: 'With `householdId`, the devices of one household. `online` is null until the device first connects.\n\n设备列表,可按住户筛选。',
        querystring: z.object({ householdId: z.string().optional() }),
        response: { 200: z.array(deviceView) },
      },
    },
    async (request) => {
      const scope = communityScope(currentUser(request))
      const devices = await ctx.registry.devices.list({ ...(request.query.householdId ? { householdId: request.query.householdId } : {}), ...(scope ? { communityIds: scope } : {}) })
      return withStates(ctx.registry, devices, ctx.clock.now())
    },
  )

  app.get(
    '/board',
    {
      schema: {
        tags,
        summary: 'The device health board: one page of devices, problems first, with counts per state',
        description: 'Paged (docs/operations.md §scale): `state` (all, problem, or one of the device states of docs/operations.md §device states), `q` (device id, elder, address), `limit` (default 50, at most 500), `offset`. `counts` covers every device in scope and search, whatever the state.\n\n设备健康看板:分页,问题设备在前,附各状态数量。',
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
      const statusOf = new Map(board.items.map(({ id, ...status }) => [id, status]))
      return { ...board, items: rows.map((d) => ({ ...d, ...statusOf.get(d.id)! })) }
    },
  )

  const one = async (d: Device) => (await withStates(ctx.registry, [d], ctx.clock.now()))[0]!

  app.get('/:id', { schema: { tags, summary: 'A device', description: 'Its kind, room, heartbeat, battery, when it was last heard and its state (docs/operations.md §device states).\n\n单个设备的状态。', params: idParam, response: { 200: deviceView, ...errorResponses(404) } } }, async (request) => one(await visibleDevice(currentUser(request), request.params.id)))

  app.post(
    '/',
    { onRequest: requireAdmin, schema: {
        tags,
        summary: 'Provision a device; its secret is returned only in this response',
        description: 'Admins only. The device logs in to MQTT (or HTTP ingest) with its id and this secret (docs/device-contract.md). 409 when the id is taken; 400 when the household does not exist.\n\n登记设备;设备密码只在此时显示一次。',
        body: deviceBody,
        response: { 201: deviceWithSecret, ...errorResponses(403, 409) },
      },
    },
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
      return reply.code(201).send({ ...(await one(device)), secret })
    },
  )

  app.patch('/:id', {
    onRequest: requireAdmin,
    schema: {
      tags,
      summary: 'Move a device to another household or room, or change its heartbeat',
      description: 'Admins only. A field left out stays as it is.\n\n修改设备:换住户、换房间或改心跳间隔。',
      params: idParam,
      body: devicePatch,
      response: { 200: deviceView, ...errorResponses(403, 404) },
    },
  }, async (request) => {
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
    return one(updated)
  })

  app.post(
    '/:id/rotate-secret',
    { onRequest: requireAdmin, schema: {
        tags,
        summary: 'Issue a new secret; the old one stops working at the next connect',
        description: 'Admins only. The device is disconnected and must log in with the new secret.\n\n重新生成设备密码。',
        params: idParam,
        response: { 200: deviceWithSecret, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const d = await visibleDevice(currentUser(request), request.params.id)
      const secret = newDeviceSecret()
      await ctx.registry.devices.setSecretHash(d.id, hashDeviceSecret(secret))
      ctx.announce.deviceChanged(d.id)
      return { ...(await one(d)), secret }
    },
  )

  app.delete('/:id', { onRequest: requireAdmin, schema: { tags, summary: 'Remove a device', description: 'Admins only. It is disconnected and can no longer log in.\n\n删除设备。', params: idParam, response: { 204: noContent, ...errorResponses(403, 404) } } }, async (request, reply) => {
    const d = await visibleDevice(currentUser(request), request.params.id)
    await ctx.registry.devices.remove(d.id)
    ctx.announce.deviceChanged(d.id)
    ctx.announce.householdChanged(d.householdId)
    return reply.code(204).send()
  })
}
