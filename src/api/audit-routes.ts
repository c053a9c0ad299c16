/** The audit trail for admins (docs/security.md §accounts), and how routes add to it. */
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { randomBytes } from 'node:crypto'
import { AUDIT_ACTIONS, type AuditAction } from '../store/audit.js'
import type { ApiContext } from './context.js'
import { errorResponses } from './errors.js'
import { currentUser, requireAdmin, requireUser } from './guards.js'

/** Within one millisecond the trail keeps the order things happened in (ids sort by time, then this). */
let sequence = 0

/** Adds what this logged-in user read or changed to the trail. */
export async function audit(
  ctx: ApiContext,
  request: FastifyRequest,
  action: AuditAction,
  where: { householdId?: string | null; communityId?: string | null },
  detail: Record<string, unknown> = {},
): Promise<void> {
  const now = ctx.clock.now()
  await ctx.audit.append({
    id: `au_${now.toString(36).padStart(9, '0')}_${(sequence++ % 36 ** 6).toString(36).padStart(6, '0')}_${randomBytes(4).toString('hex')}`,
    at: now,
    actor: `user:${currentUser(request).username}`,
    action,
    householdId: where.householdId ?? null,
    communityId: where.communityId ?? null,
    detail,
  })
}

/**
 * What a change changed, field by field, from and to; a secret field (the key-safe code, the
 * medical notes) only as 'changed', so the trail never holds it.
 */
export function changedFields(before: object, changes: object, secret: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const was = before as Record<string, unknown>
  return Object.fromEntries(Object.entries(changes).map(([f, to]) => [f, secret.has(f) ? 'changed' : { from: was[f] ?? null, to: to ?? null }]))
}

const entry = z.object({
  id: z.string(),
  at: z.number(),
  actor: z.string().describe('user:<username>'),
  action: z.enum(AUDIT_ACTIONS),
  householdId: z.string().nullable(),
  communityId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).describe('what was read or changed: field names, from and to; never a key-safe code or a secret'),
})

export const auditRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.get(
    '/',
    {
      onRequest: [requireUser(ctx.auth), requireAdmin],
      schema: {
        tags: ['audit'],
        summary: "Who read an elder's profile and who changed what, newest first (admins)",
        description: 'Page back with `before` (the `at` of the last entry seen).\n\n操作留痕:谁查看了老人档案、谁改了什么(仅管理员)。',
        querystring: z.object({ householdId: z.string().max(100).optional(), before: z.coerce.number().int().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: { 200: z.array(entry), ...errorResponses(403) },
      },
    },
    async (request) => ctx.audit.list(request.query),
  )
}
