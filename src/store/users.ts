/** People who log in (admins, community operators and visitors) and their sessions. */
import type { Db } from './database.js'

/**
 * `visitor`: social workers, volunteers, 老伙伴 who visit elders (探访关爱); scoped to communities like
 * an operator, but reaching only the routes that opt in (api/guards.ts requireUser, docs/operations.md §visits).
 */
export const ROLES = ['admin', 'operator', 'visitor'] as const
export type Role = (typeof ROLES)[number]

export interface User {
  id: string
  username: string
  displayName: string
  role: Role
  /** Communities an operator or visitor serves; an admin serves all of them. */
  communityIds: string[]
}

export function userRepository(db: Db) {
  const withCommunities = async (row: { id: string; username: string; display_name: string; role: string }): Promise<User> => {
    const links = await db.selectFrom('user_communities').select('community_id').where('user_id', '=', row.id).execute()
    return {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      role: row.role as Role,
      communityIds: links.map((l) => l.community_id).sort(),
    }
  }

  return {
    async count(): Promise<number> {
      const row = await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()
      return Number(row?.n ?? 0)
    },
    async list(): Promise<User[]> {
      const rows = await db.selectFrom('users').select(['id', 'username', 'display_name', 'role']).orderBy('username').execute()
      return Promise.all(rows.map(withCommunities))
    },
    async get(id: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').select(['id', 'username', 'display_name', 'role']).where('id', '=', id).executeTakeFirst()
      return row && withCommunities(row)
    },
    async displayName(username: string): Promise<string | undefined> {
      const row = await db.selectFrom('users').select('display_name').where('username', '=', username).executeTakeFirst()
      return row?.display_name
    },
    async credentials(username: string): Promise<{ id: string; passwordHash: string } | undefined> {
      const row = await db.selectFrom('users').select(['id', 'password_hash']).where('username', '=', username).executeTakeFirst()
      return row && { id: row.id, passwordHash: row.password_hash }
    },
    async insert(user: User, passwordHash: string, createdAt: number): Promise<void> {
      await db
        .insertInto('users')
        .values({ id: user.id, username: user.username, display_name: user.displayName, password_hash: passwordHash, role: user.role, created_at: createdAt })
        .execute()
      if (user.communityIds.length > 0) {
        await db
          .insertInto('user_communities')
          .values(user.communityIds.map((c) => ({ user_id: user.id, community_id: c })))
          .execute()
      }
    },
    async createSession(tokenHash: string, userId: string, expiresAt: number): Promise<void> {
      await db.insertInto('sessions').values({ token_hash: tokenHash, user_id: userId, expires_at: expiresAt }).execute()
    },
    async session(tokenHash: string, now: number): Promise<{ userId: string; expiresAt: number } | undefined> {
      const row = await db
        .selectFrom('sessions')
        .select(['user_id', 'expires_at'])
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', now)
        .executeTakeFirst()
      return row && { userId: row.user_id, expiresAt: row.expires_at }
    },
    async renewSession(tokenHash: string, expiresAt: number): Promise<void> {
      await db.updateTable('sessions').set({ expires_at: expiresAt }).where('token_hash', '=', tokenHash).where('expires_at', '<', expiresAt).execute()
    },
    async deleteSession(tokenHash: string): Promise<void> {
      await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute()
    },
  }
}

export type UserRepository = ReturnType<typeof userRepository>
