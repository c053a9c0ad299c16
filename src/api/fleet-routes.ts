/**
 * Bulk provisioning for installers and the simulator: households and their devices in one
 * transaction, answered with a fleet file — the only time the device secrets are shown.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DEVICE_ID_PATTERN } from '../contract/index.js'
import { newId } from '../shared/ids.js'
import { hashDeviceSecret, newDeviceSecret } from '../shared/secrets.js'
import type { Db } from '../store/database.js'
import { DEVICE_KINDS, ROOMS, registryRepository } from '../store/registry.js'
import type { ApiContext } from './context.js'
import { defaultHeartbeatS } from './device-routes.js'
import { ApiError, errorResponses } from './errors.js'
import { requireAdmin, requireUser } from './guards.js'

const fleetDevice = z.object({ id: z.string(), secret: z.string(), kind: z.enum(DEVICE_KINDS), householdId: z.string(), room: z.string().nullable() })
export const fleetFile = z.object({ devices: z.array(fleetDevice) })

export const fleetRoutes: FastifyPluginAsyncZod<ApiContext & { db: Db }> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  app.addHook('onRequest', requireAdmin)

  app.post(
    '/',
    {
      bodyLimit: 2 * 1024 * 1024, // up to 1,000 households of 32 devices
      schema: {
        tags: ['devices'],
        summary: 'Create households with their devices in one go; returns the fleet file with each device secret (shown only now)',
        description: 'Admins only; up to 1,000 households in one transaction (all or nothing). 409 when a device id is taken; 400 when the community does not exist or an id appears twice. The simulator reads the fleet file (firmware-sim).\n\n批量登记住户及其设备,一次全部成功或全部不变;设备密码只在此时显示。',
        body: z.object({
          communityId: z.string().min(1),
          households: z
            .array(
              z.object({
                elderName: z.string().trim().min(1).max(50),
                address: z.string().trim().min(1).max(200),
                age: z.number().int().min(0).max(130).nullable().default(null),
                devices: z
                  .array(
                    z.object({
                      id: z.string().regex(DEVICE_ID_PATTERN, 'device id: 1 to 64 characters of A-Z a-z 0-9 _ -'),
                      kind: z.enum(DEVICE_KINDS),
                      room: z.enum(ROOMS).nullable().default(null),
                      heartbeatS: z.number().int().min(10).max(86_400).optional(),
                    }),
                  )
                  .max(32),
              }),
            )
            .min(1)
            .max(1000),
        }),
        response: { 201: fleetFile.extend({ householdIds: z.array(z.string()) }), ...errorResponses(403, 409) },
      },
    },
    async (request, reply) => {
      const { communityId, households } = request.body
      if (!(await ctx.registry.communities.get(communityId))) throw new ApiError('VALIDATION', `communityId: community ${communityId} does not exist`)
      const ids = households.flatMap((h) => h.devices.map((d) => d.id))
      const duplicate = ids.find((id, i) => ids.indexOf(id) !== i)
      if (duplicate) throw new ApiError('VALIDATION', `device ${duplicate} appears twice`)
      for (const id of ids) if (await ctx.registry.devices.get(id)) throw new ApiError('CONFLICT', `device ${id} already exists`)

      const now = ctx.clock.now()
      const devices: z.infer<typeof fleetDevice>[] = []
      const householdIds: string[] = []
      await ctx.db.transaction().execute(async (trx) => {
        const reg = registryRepository(trx)
        for (const h of households) {
          const householdId = newId('hh', now)
          householdIds.push(householdId)
          await reg.households.insert({
            id: householdId,
            communityId,
            registryRef: null,
            elderName: h.elderName,
            age: h.age,
            address: h.address,
            phone: null,
            medicalNotes: null,
            keySafe: null,
            awayUntil: null,
            detectorSettings: null,
            createdAt: now,
            updatedAt: now,
          })
          for (const d of h.devices) {
            const secret = newDeviceSecret()
            const heartbeatS = d.heartbeatS ?? defaultHeartbeatS(d.kind)
            await reg.devices.insert(
              { id: d.id, householdId, kind: d.kind, room: d.room, heartbeatS, lastSeenAt: null, online: null, battery: null, fw: null, createdAt: now },
              hashDeviceSecret(secret),
            )
            devices.push({ id: d.id, secret, kind: d.kind, householdId, room: d.room })
          }
        }
      })
      for (const id of householdIds) ctx.announce.householdChanged(id)
      return reply.code(201).send({ devices, householdIds })
    },
  )
}
