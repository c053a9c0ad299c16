/** Operator and admin login: scrypt passwords, opaque session tokens stored as hashes. */
import type { Clock } from '../shared/clock.js'
import { hashPassword, hashToken, newToken, verifyPassword } from '../shared/secrets.js'
import type { User, UserRepository } from '../store/users.js'
import { createLoginThrottle, type LoginThrottleSettings } from './throttle.js'

export type LoginResult =
  | { ok: true; token: string; user: User; expiresAt: number }
  | { ok: false; reason: 'wrong' }
  | { ok: false; reason: 'locked'; until: number; by: 'account' | 'address' }

export function createAuth(deps: { users: UserRepository; clock: Clock; sessionTtlMs: number; throttle?: LoginThrottleSettings }) {
  const { users, clock, sessionTtlMs } = deps
  const throttle = createLoginThrottle(clock, deps.throttle)

  /**
   * The session behind a token and when it ends. `renew`: a request from an operator at work
   * slides the end forward once half the lifetime has passed, so a shift does not end in a
   * logout mid-alarm; a console left alone still expires (docs/security.md §accounts).
   */
  async function session(token: string | undefined, o: { renew?: boolean } = {}): Promise<{ user: User; expiresAt: number } | undefined> {
    if (!token) return undefined
    const now = clock.now()
    const hash = hashToken(token)
    const s = await users.session(hash, now)
    if (!s) return undefined
    const user = await users.get(s.userId)
    if (!user) return undefined
    let expiresAt = s.expiresAt
    if (o.renew && expiresAt - now < sessionTtlMs / 2) {
      expiresAt = now + sessionTtlMs
      await users.renewSession(hash, expiresAt)
    }
    return { user, expiresAt }
  }

  return {
    /** `address` is the caller's: failures from it count against it as well as against the username. */
    async login(username: string, password: string, address: string): Promise<LoginResult> {
      const gate = throttle.gate(username, address)
      if (!gate.allowed) return { ok: false, reason: 'locked', until: gate.until, by: gate.by }
      const creds = await users.credentials(username)
      // Hash even for an unknown user, so timing does not tell which usernames exist.
      const ok = creds ? await verifyPassword(password, creds.passwordHash) : (await hashPassword(password), false)
      const user = creds && ok ? await users.get(creds.id) : undefined
      if (!user) {
        throttle.failed(username, address)
        return { ok: false, reason: 'wrong' }
      }
      throttle.succeeded(username)
      const token = newToken()
      const expiresAt = clock.now() + sessionTtlMs
      await users.createSession(hashToken(token), user.id, expiresAt)
      return { ok: true, token, user, expiresAt }
    },

    async userForToken(token: string | undefined): Promise<User | undefined> {
      return (await session(token, { renew: true }))?.user
    },

    session,

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
