import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { ApiContext } from './context.js'
import { requireAdmin, requireUser } from './guards.js'

export const statsRoutes: FastifyPluginAsyncZod<ApiContext & { connectedDevices: () => number }> = async (app, ctx) => {
  app.get(
    '/ingest',
    { onRequest: [requireUser(ctx.auth), requireAdmin], schema: { tags: ['stats'], summary: 'Per-device counts of accepted, duplicate, dropped and refused messages' } },
    async () => ({ connectedDevices: ctx.connectedDevices(), ...ctx.stats.snapshot() }),
  )
}
