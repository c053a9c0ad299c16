import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { newId } from '../shared/ids.js'
import { hashPassword } from '../shared/secrets.js'
import { ROLES } from '../store/users.js'
import type { ApiContext } from './context.js'
import { ApiError } from './errors.js'
import { requireAdmin, requireUser } from './guards.js'
import { userView } from './views.js'

export const userRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  app.addHook('onRequest', requireAdmin)
  const tags = ['users']

  app.get('/', { schema: { tags, response: { 200: z.array(userView) } } }, async () => ctx.users.list())

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create an operator (serving some communities) or an admin',
        body: z.object({
          username: z.string().regex(/^[a-z0-9_.-]{3,32}$/, '3 to 32 characters of a-z 0-9 _ . -'),
          displayName: z.string().trim().min(1).max(50),
          password: z.string().min(8).max(256),
          role: z.enum(ROLES).default('operator'),
          communityIds: z.array(z.string()).default([]),
        }),
        response: { 201: userView },
      },
    },
    async (request, reply) => {
      const { password, ...body } = request.body
      if (await ctx.users.credentials(body.username)) throw new ApiError('CONFLICT', `username ${body.username} is taken`)
      for (const c of body.communityIds) {
        if (!(await ctx.registry.communities.get(c))) throw new ApiError('VALIDATION', `communityIds: community ${c} does not exist`)
      }
      const now = ctx.clock.now()
      const user = { id: newId('usr', now), ...body, communityIds: [...new Set(body.communityIds)].sort() }
      await ctx.users.insert(user, await hashPassword(password), now)
      return reply.code(201).send(user)
    },
  )
}
