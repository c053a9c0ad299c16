/** Authentication and authorization hooks shared by the route plugins. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { canSeeCommunity, type Auth } from '../auth/auth.js'
import type { Household, RegistryRepository } from '../store/registry.js'
import type { User } from '../store/users.js'
import { ApiError, notFound } from './errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null
    /** When the caller's session ends (after any renewal this request made). */
    sessionExpiresAt: number | null
  }
  interface FastifyContextConfig {
    /** The route is open to visitors (探访员) too: requireUser refuses them everywhere else. */
    visitor?: boolean
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined
}

/** Sent by the console on requests no person made (its timed refreshes): they do not renew a session. */
export const BACKGROUND_HEADER = 'x-anju-background'

/**
 * Registered as `onRequest` hooks: they run before the body is parsed and validated, so an
 * anonymous caller learns nothing of a route's schema from its 400s (docs/security.md §web).
 * A request renews the session past half its life, unless it says it is a background refresh:
 * a console left alone must still end (docs/security.md §accounts).
 */
export function requireUser(auth: Auth) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const s = await auth.session(bearerToken(request), { renew: request.headers[BACKGROUND_HEADER] === undefined })
    if (!s) throw new ApiError('UNAUTHORIZED', 'log in first: POST /api/login, then send Authorization: Bearer <token>')
    // A visitor (探访员) reaches only the routes that say so (`config: { visitor: true }`): the
    // visit list and its recording, and the session's own routes (docs/operations.md §visits).
    if (s.user.role === 'visitor' && !request.routeOptions.config?.visitor) {
      throw new ApiError('FORBIDDEN', '探访员账号只能使用探访页面 (a visitor account reaches only the visit routes: /visitor.html)')
    }
    request.user = s.user
    request.sessionExpiresAt = s.expiresAt
  }
}

export async function requireAdmin(request: FastifyRequest): Promise<void> {
  if (request.user?.role !== 'admin') throw new ApiError('FORBIDDEN', 'this action needs an admin')
}

export function currentUser(request: FastifyRequest): User {
  if (!request.user) throw new ApiError('UNAUTHORIZED', 'not logged in')
  return request.user
}

/** Hides what a user may not see as "not found", so ids of other communities do not leak. */
export function assertCommunityVisible(user: User, communityId: string, what: string, id: string): void {
  if (!canSeeCommunity(user, communityId)) throw new ApiError('NOT_FOUND', `${what} ${id} does not exist`)
}

/** The household, if this user may see it; otherwise 404, as if it did not exist. */
export async function visibleHousehold(registry: RegistryRepository, user: User, id: string): Promise<Household> {
  const h = await registry.households.get(id)
  if (!h) throw notFound('household', id)
  assertCommunityVisible(user, h.communityId, 'household', id)
  return h
}
