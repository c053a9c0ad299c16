/** The notification outbox: every notice is a row before it is sent, keyed for idempotency. */
import type { Selectable } from 'kysely'
import type { ChannelName, Notification } from '../delivery/channels/channel.js'
import type { Db } from './database.js'
import type { OutboxTable } from './schema.js'

export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled'

export interface OutboxRow {
  key: string
  incidentId: string
  channel: ChannelName
  audience: string
  recipientId: string
  priority: number
  notification: Notification
  state: OutboxState
  attempts: number
  nextAttemptAt: number
  lastError: string | null
  createdAt: number
  sentAt: number | null
}

const toRow = (r: Selectable<OutboxTable>): OutboxRow => ({
  key: r.key,
  incidentId: r.incident_id,
  channel: r.channel as ChannelName,
  audience: r.audience,
  recipientId: r.recipient_id,
  priority: Number(r.priority),
  notification: JSON.parse(r.notification) as Notification,
  state: r.state as OutboxState,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  lastError: r.last_error,
  createdAt: Number(r.created_at),
  sentAt: r.sent_at == null ? null : Number(r.sent_at),
})

export function outboxRepository(db: Db) {
  return {
    /** Inserts unless the key exists: the same notice is never queued twice. Returns whether it was new. */
    async enqueue(row: Omit<OutboxRow, 'state' | 'attempts' | 'lastError' | 'sentAt'>): Promise<boolean> {
      const r = await db
        .insertInto('outbox')
        .values({
          key: row.key,
          incident_id: row.incidentId,
          channel: row.channel,
          audience: row.audience,
          recipient_id: row.recipientId,
          priority: row.priority,
          notification: JSON.stringify(row.notification),
          state: 'pending',
          attempts: 0,
          next_attempt_at: row.nextAttemptAt,
          last_error: null,
          created_at: row.createdAt,
          sent_at: null,
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst()
      return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0
    },
    async due(now: number, limit: number): Promise<OutboxRow[]> {
      const rows = await db
        .selectFrom('outbox')
        .selectAll()
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('priority')
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute()
      return rows.map(toRow)
    },
    async nextDueAt(): Promise<number | null> {
      const r = await db.selectFrom('outbox').select((eb) => eb.fn.min('next_attempt_at').as('at')).where('state', '=', 'pending').executeTakeFirst()
      return r?.at == null ? null : Number(r.at)
    },
    /** Takes a due notice for sending; false when it was cancelled or taken meanwhile. */
    async claim(key: string): Promise<boolean> {
      const r = await db.updateTable('outbox').set({ state: 'sending' }).where('key', '=', key).where('state', '=', 'pending').executeTakeFirst()
      return Number(r.numUpdatedRows) > 0
    },
    /** After a crash, a notice caught mid-send is sent again (providers dedupe on its key). */
    async releaseSending(): Promise<void> {
      await db.updateTable('outbox').set({ state: 'pending' }).where('state', '=', 'sending').execute()
    },
    async markSent(key: string, at: number, attempts: number): Promise<void> {
      await db.updateTable('outbox').set({ state: 'sent', sent_at: at, attempts, last_error: null }).where('key', '=', key).execute()
    },
    async markRetry(key: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
      await db.updateTable('outbox').set({ state: 'pending', attempts, next_attempt_at: nextAttemptAt, last_error: error }).where('key', '=', key).where('state', '=', 'sending').execute()
    },
    async defer(key: string, nextAttemptAt: number, reason: string): Promise<void> {
      await db.updateTable('outbox').set({ state: 'pending', next_attempt_at: nextAttemptAt, last_error: reason }).where('key', '=', key).where('state', '=', 'sending').execute()
    },
    async markFailed(key: string, attempts: number, error: string): Promise<void> {
      await db.updateTable('outbox').set({ state: 'failed', attempts, last_error: error }).where('key', '=', key).execute()
    },
    /** Cancels what has not gone out yet for an incident (someone has taken the call). */
    async cancelPending(incidentId: string): Promise<number> {
      const r = await db.updateTable('outbox').set({ state: 'cancelled' }).where('incident_id', '=', incidentId).where('state', '=', 'pending').executeTakeFirst()
      return Number(r.numUpdatedRows)
    },
    async forIncident(incidentId: string): Promise<OutboxRow[]> {
      const rows = await db.selectFrom('outbox').selectAll().where('incident_id', '=', incidentId).orderBy('created_at').orderBy('key').execute()
      return rows.map(toRow)
    },
    /** Notices not yet sent, by channel (metrics). */
    async backlog(): Promise<{ channel: string; pending: number }[]> {
      const rows = await db
        .selectFrom('outbox')
        .select((eb) => ['channel', eb.fn.countAll<number>().as('n')])
        .where('state', 'in', ['pending', 'sending'])
        .groupBy('channel')
        .execute()
      return rows.map((r) => ({ channel: r.channel, pending: Number(r.n) }))
    },
    async get(key: string): Promise<OutboxRow | undefined> {
      const r = await db.selectFrom('outbox').selectAll().where('key', '=', key).executeTakeFirst()
      return r && toRow(r)
    },
  }
}

export type OutboxRepository = ReturnType<typeof outboxRepository>
