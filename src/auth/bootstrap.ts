/** First start: an empty user table gets an `admin`, with a given or generated password. */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../shared/clock.js'
import { newId } from '../shared/ids.js'
import { hashPassword, verifyPassword } from '../shared/secrets.js'
import type { UserRepository } from '../store/users.js'

export interface AdminBootstrap {
  created: boolean
  generatedPassword?: string
  /**
   * ANJU_ADMIN_PASSWORD was given but the database already has users and `admin` does not log in
   * with it: the variable only chooses the first admin's password, so the start says so instead of
   * leaving the newcomer at a login that fails (README §time-warp).
   */
  passwordIgnored?: true
}

export async function ensureAdmin(users: UserRepository, clock: Clock, password: string | undefined): Promise<AdminBootstrap> {
  if ((await users.count()) > 0) {
    if (password === undefined) return { created: false }
    const admin = await users.credentials('admin')
    return admin && (await verifyPassword(password, admin.passwordHash)) ? { created: false } : { created: false, passwordIgnored: true }
  }
  const chosen = password ?? randomBytes(9).toString('base64url')
  const now = clock.now()
  await users.insert({ id: newId('usr', now), username: 'admin', displayName: '管理员', role: 'admin', communityIds: [] }, await hashPassword(chosen), now)
  return password ? { created: true } : { created: true, generatedPassword: chosen }
}
