/** Operator and admin login: scrypt passwords, opaque session tokens stored as hashes. */
import type { Clock } from '../shared/clock.js'
import { hashPassword, hashToken, newToken, verifyPassword } from '../shared/secrets.js'
import type { User, UserRepository } from '../store/users.js'

export function createAuth(deps: { users: UserRepository; clock: Clock; sessionTtlMs: number }) {
  const { users, clock, sessionTtlMs } = deps

  return {
    async login(username: string, password: string): Promise<{ token: string; user: User; expiresAt: number } | undefined> {
      const creds = await users.credentials(username)
      // Hash even for an unknown user, so timing does not tell which usernames exist.
      const ok = creds ? await verifyPassword(password, creds.passwordHash) : (await hashPassword(password), false)
      if (!creds || !ok) return undefined
      const user = await users.get(creds.id)
      if (!user) return undefined
      const token = newToken()
      const expiresAt = clock.now() + sessionTtlMs
      await users.createSession(hashToken(token), user.id, expiresAt)
      return { token, user, expiresAt }
    },

    async userForToken(token: string | undefined): Promise<User | undefined> {
      if (!token) return undefined
      const userId = await users.sessionUser(hashToken(token), clock.now())
      return userId ? users.get(userId) : undefined
    },

    logout: (token: string) => users.deleteSession(hashToken(token)),
  }
}

export type Auth = ReturnType<typeof createAuth>

/** The communities a user may see: undefined means all (admin). */
export function communityScope(user: User): readonly string[] | undefined {
  return user.role === 'admin' ? undefined : user.communityIds
}

export function canSeeCommunity(user: User, communityId: string): boolean {
  return user.role === 'admin' || user.communityIds.includes(communityId)
}
