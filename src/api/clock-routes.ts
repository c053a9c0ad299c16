/**
 * Test mode only (ANJU_CLOCK=virtual): read and advance the platform's virtual clock, so a
 * tester can show a 12-hour rule in seconds. Not registered at all on the system clock.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiContext } from './context.js'
import { errorResponses } from './errors.js'
import { requireAdmin, requireUser } from './guards.js'

export interface TimeTravel {
  now(): number
  /** Moves time forward, runs what fell due, and resolves once its effects are recorded. */
  advance(ms: number): Promise<void>
}

export const clockRoutes: FastifyPluginAsyncZod<ApiContext & { timeTravel: TimeTravel }> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  app.addHook('onRequest', requireAdmin)
  const tags = ['test mode']
  const clockView = z.object({ now: z.number(), iso: z.string() })
  const view = () => ({ now: ctx.timeTravel.now(), iso: new Date(ctx.timeTravel.now()).toISOString() })

  app.get('/', {
      schema: {
        tags,
        summary: 'The virtual clock (test mode only)',
        description: 'Admins only; only with ANJU_CLOCK=virtual.\n\n虚拟时钟的当前时间(仅测试模式)。',
        response: { 200: clockView, ...errorResponses(403) },
      },
    }, async () => view())

  app.post(
    '/advance',
    {
      schema: {
        tags,
        summary: 'Advance the virtual clock (test mode only); due checks run before it answers',
        description: 'Admins only; only with ANJU_CLOCK=virtual. At most 31 days at a time.\n\n拨快虚拟时钟(仅测试模式),到期的检查在返回前完成。',
        body: z.object({ ms: z.number().int().positive().max(31 * 24 * 3_600_000) }),
        response: { 200: clockView, ...errorResponses(403) },
      },
    },
    async (request) => {
      await ctx.timeTravel.advance(request.body.ms)
      return view()
    },
  )
}
