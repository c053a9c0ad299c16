import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { newId } from '../shared/ids.js'
import { hashPassword } from '../shared/secrets.js'
import { ROLES } from '../store/users.js'
import type { ApiContext } from './context.js'
import { ApiError, errorResponses } from './errors.js'
import { requireAdmin, requireUser } from './guards.js'
import { userView } from './views.js'

export const userRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))
  app.addHook('onRequest', requireAdmin)
  const tags = ['users']

  app.get('/', { schema: { tags, summary: 'Every user', description: 'Admins only.\n\n全部用户(仅管理员)。', response: { 200: z.array(userView), ...errorResponses(403) } } }, async () => ctx.users.list())

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create an operator or a visitor (serving some communities), or an admin',
        description: 'Admins only. A visitor (探访员: social worker, volunteer, 老伙伴) reaches only the visit page and its routes (docs/operations.md §visits). 409 when the username is taken; 400 when a community does not exist.\n\n新建值班员、探访员或管理员账号。',
        body: z.object({
          username: z.string().regex(/^[a-z0-9_.-]{3,32}$/, '3 to 32 characters of a-z 0-9 _ . -'),
          displayName: z.string().trim().min(1).max(50),
          password: z.string().min(8).max(256),
          role: z.enum(ROLES).default('operator'),
          communityIds: z.array(z.string()).default([]),
        }),
        response: { 201: userView, ...errorResponses(403, 409) },
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
