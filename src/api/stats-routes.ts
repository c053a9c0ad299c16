import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiContext } from './context.js'
import { errorResponses } from './errors.js'
import { requireAdmin, requireUser } from './guards.js'

export const statsRoutes: FastifyPluginAsyncZod<ApiContext & { connectedDevices: () => number }> = async (app, ctx) => {
  app.get(
    '/ingest',
    { onRequest: [requireUser(ctx.auth), requireAdmin], schema: {
        tags: ['stats'],
        summary: 'Per-device counts of accepted, duplicate, dropped and refused messages',
        description: 'Admins only. For installers: why a device is not heard (wrong secret, bad payloads, over its rate).\n\n各设备消息统计(接收、重复、丢弃、拒绝),仅管理员。',
        response: {
          // Loose: a count added to the snapshot passes through (the serializer would drop it otherwise).
          200: z.looseObject({
            connectedDevices: z.number(),
            totals: z.object({ accepted: z.number(), duplicate: z.number(), dropped: z.number(), refused: z.number() }),
            devices: z.record(z.string(), z.looseObject({ accepted: z.number(), duplicate: z.number(), dropped: z.number(), refused: z.number(), lastReason: z.string().nullable() })),
          }),
          ...errorResponses(403),
        },
      },
    },
    async () => ({ connectedDevices: ctx.connectedDevices(), ...ctx.stats.snapshot() }),
  )
}
