import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiContext } from './context.js'
import { ApiError } from './errors.js'
import { bearerToken, currentUser, requireUser } from './guards.js'
import { userView } from './views.js'

export const authRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in; returns a bearer token for the API and Socket.IO',
        body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
        response: { 200: z.object({ token: z.string(), expiresAt: z.number(), user: userView }) },
      },
    },
    async (request) => {
      const session = await ctx.auth.login(request.body.username, request.body.password)
      if (!session) throw new ApiError('UNAUTHORIZED', 'wrong username or password')
      return session
    },
  )

  app.post('/logout', { schema: { tags: ['auth'], summary: 'End this session' }, preHandler: requireUser(ctx.auth) }, async (request, reply) => {
    await ctx.auth.logout(bearerToken(request)!)
    ctx.announce.loggedOut(currentUser(request).id)
    return reply.code(204).send()
  })

  app.get(
    '/me',
    { schema: { tags: ['auth'], summary: 'The logged-in user', response: { 200: userView } }, preHandler: requireUser(ctx.auth) },
    async (request) => currentUser(request),
  )
}
