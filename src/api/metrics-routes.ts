import { timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Metrics } from '../metrics/metrics.js'
import type { ApiContext } from './context.js'
import { errorResponses } from './errors.js'
import { bearerToken, requireAdmin, requireUser } from './guards.js'

/**
 * Prometheus scrapes `/metrics` with `Authorization: Bearer <ANJU_METRICS_TOKEN>`; an admin's
 * session token works too (docs/operations.md §metrics). Nobody else: the figures say how
 * many devices are connected and how busy the alarm path is.
 */
export const metricsRoutes: FastifyPluginAsyncZod<ApiContext & { metrics: Metrics; metricsToken: string | undefined }> = async (app, ctx) => {
  const scraperToken = ctx.metricsToken ? Buffer.from(ctx.metricsToken) : null
  const isScraper = (token: string | undefined) => {
    if (!scraperToken || token === undefined) return false
    const given = Buffer.from(token)
    return given.length === scraperToken.length && timingSafeEqual(given, scraperToken)
  }
  const admin = requireUser(ctx.auth)
  app.get(
    '/metrics',
    {
      onRequest: async (request, reply) => {
        if (isScraper(bearerToken(request))) return
        await admin(request, reply)
        await requireAdmin(request)
      },
      schema: {
        tags: ['stats'],
        summary: 'Prometheus metrics (text exposition format)',
        description: 'With `Authorization: Bearer <ANJU_METRICS_TOKEN>` or an admin session (docs/operations.md §metrics). The 200 body is text, not JSON.\n\nPrometheus 监控指标。',
        response: { 200: z.string().describe('Prometheus text exposition format'), ...errorResponses(403) },
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await ctx.metrics.scrape()
      return reply.type(contentType).send(body)
    },
  )
}
