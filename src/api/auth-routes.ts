import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiContext } from './context.js'
import { ApiError, errorResponses, noContent } from './errors.js'
import { bearerToken, currentUser, requireUser } from './guards.js'
import { userView } from './views.js'

export const authRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in; returns a bearer token for the API and Socket.IO',
        description:
          'Send the token as `Authorization: Bearer <token>` to the API and as `auth.token` to Socket.IO (/docs/asyncapi.json). Too many failed logins for an account or from an address lock it for a while (429 with Retry-After).\n\n登录,取得访问令牌;连续输错会被暂时锁定。',
        security: [],
        body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
        response: { 200: z.object({ token: z.string(), expiresAt: z.number(), user: userView }), ...errorResponses(401, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body
      const result = await ctx.auth.login(username, password, request.ip)
      if (result.ok) return { token: result.token, expiresAt: result.expiresAt, user: result.user }
      // Every failure leaves a line (docs/security.md §accounts); a username is quoted short.
      request.log.warn({ username: username.slice(0, 64), ip: request.ip, reason: result.reason }, 'login refused')
      if (result.reason === 'wrong') throw new ApiError('UNAUTHORIZED', 'wrong username or password')
      const minutes = Math.max(1, Math.ceil((result.until - ctx.clock.now()) / 60_000))
      reply.header('retry-after', String(Math.ceil((result.until - ctx.clock.now()) / 1000)))
      throw new ApiError('TOO_MANY_ATTEMPTS', `登录失败次数过多,请 ${minutes} 分钟后再试 (too many failed logins ${result.by === 'account' ? 'for this account' : 'from this address'}; try again in ${minutes} min)`)
    },
  )

  app.post('/logout', { schema: { tags: ['auth'], summary: 'End this session', description: "The token stops working and this user's live connections close.\n\n退出登录,本次会话的实时连接随之关闭。", response: { 204: noContent } }, config: { visitor: true }, onRequest: requireUser(ctx.auth) }, async (request, reply) => {
    await ctx.auth.logout(bearerToken(request)!)
    ctx.announce.loggedOut(currentUser(request).id)
    return reply.code(204).send()
  })

  app.get(
    '/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The logged-in user, and when the session ends',
        description: 'Renews the session past half its life (docs/security.md §accounts): the console calls it while its operator works, and for 继续值班.\n\n当前登录的用户及本次登录的到期时间;值班中调用会续期。',
        response: { 200: userView.extend({ sessionExpiresAt: z.number().describe('epoch ms, platform clock') }) },
      },
      config: { visitor: true },
      onRequest: requireUser(ctx.auth),
    },
    async (request) => ({ ...currentUser(request), sessionExpiresAt: request.sessionExpiresAt! }),
  )

  app.get(
    '/session',
    {
      schema: {
        tags: ['auth'],
        summary: "When this session ends, and the platform's time; never renews it",
        description: 'The console asks every few seconds, to warn before the end (登录即将过期) and to keep its clock on the platform\'s (the virtual clock too). 401 when the session has ended.\n\n查询本次登录何时到期(不续期)。',
        response: { 200: z.object({ expiresAt: z.number(), now: z.number() }), ...errorResponses(401) },
      },
    },
    async (request) => {
      const s = await ctx.auth.session(bearerToken(request))
      if (!s) throw new ApiError('UNAUTHORIZED', 'log in first: POST /api/login, then send Authorization: Bearer <token>')
      return { expiresAt: s.expiresAt, now: ctx.clock.now() }
    },
  )
}
