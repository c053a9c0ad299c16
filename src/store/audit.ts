/** The audit trail: who read an elder's profile and who changed what (docs/security.md §accounts). */
import type { Db } from './database.js'

export interface AuditEntry {
  id: string
  at: number
  actor: string
  action: AuditAction
  householdId: string | null
  communityId: string | null
  detail: Record<string, unknown>
}

export const AUDIT_ACTIONS = [
  'household.viewed',
  'household.changed',
  'away.changed',
  'contact.added',
  'contact.removed',
  'family_links.revoked',
  'community.changed',
  'community.removed',
  'service_ticket.created',
  'service_ticket.changed',
  'visit.recorded',
  /** A bulk import of the registry (registry-import/): who, which file, the counts; never a secret. */
  'registry.imported',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export function auditRepository(db: Db) {
  return {
    async append(e: AuditEntry): Promise<void> {
      await db
        .insertInto('audit_log')
        .values({ id: e.id, at: e.at, actor: e.actor, action: e.action, household_id: e.householdId, community_id: e.communityId, detail: JSON.stringify(e.detail) })
        .execute()
    },
    /** Newest first; `before` pages back. */
    async list(q: { householdId?: string; before?: number; limit: number }): Promise<AuditEntry[]> {
      let query = db.selectFrom('audit_log').selectAll()
      if (q.householdId) query = query.where('household_id', '=', q.householdId)
      if (q.before !== undefined) query = query.where('at', '<', q.before)
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit).execute()
      return rows.map((r) => ({
        id: r.id,
        at: Number(r.at),
        actor: r.actor,
        action: r.action as AuditAction,
        householdId: r.household_id,
        communityId: r.community_id,
        detail: JSON.parse(r.detail) as Record<string, unknown>,
      }))
    },
  }
}

export type AuditRepository = ReturnType<typeof auditRepository>
