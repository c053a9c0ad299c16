/** First start: an empty user table gets an `admin`, with a given or generated password. */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../shared/clock.js'
import { newId } from '../shared/ids.js'
import { hashPassword } from '../shared/secrets.js'
import type { UserRepository } from '../store/users.js'

export async function ensureAdmin(users: UserRepository, clock: Clock, password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
  if ((await users.count()) > 0) return { created: false }
  const chosen = password ?? randomBytes(9).toString('base64url')
  const now = clock.now()
  await users.insert({ id: newId('usr', now), username: 'admin', displayName: '管理员', role: 'admin', communityIds: [] }, await hashPassword(chosen), now)
  return password ? { created: true } : { created: true, generatedPassword: chosen }
}
