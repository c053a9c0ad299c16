/**
 * Versioned migrations, written with the schema builder so SQLite and PostgreSQL run the same code.
 * Never edit a migration that has shipped: add the next one.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely'
import { addressKey } from './registry.js'
import type { Database } from './schema.js'

const migrations: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('communities')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('street', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('households')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id'))
        .addColumn('elder_name', 'text', (c) => c.notNull())
        .addColumn('age', 'integer')
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('phone', 'text')
        .addColumn('medical_notes', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('households_community').on('households').column('community_id').execute()

      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('household_id', 'text', (c) => c.notNull().references('households.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('room', 'text')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('heartbeat_s', 'integer', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint')
        .addColumn('online', 'integer')
        .addColumn('battery', 'integer')
        .addColumn('fw', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('devices_household').on('devices').column('household_id').execute()

      await db.schema
        .createTable('contacts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('household_id', 'text', (c) => c.notNull().references('households.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('relation', 'text', (c) => c.notNull())
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('contacts_household').on('contacts').column('household_id').execute()

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('user_communities')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('community_id', 'text', (c) => c.notNull().references('communities.id'))
        .addPrimaryKeyConstraint('user_communities_pk', ['user_id', 'community_id'])
        .execute()

      await db.schema
        .createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('incidents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('household_id', 'text', (c) => c.notNull().references('households.id'))
        .addColumn('community_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('cancelled_by_resident', 'integer', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('acknowledged_at', 'bigint')
        .addColumn('acknowledged_by', 'text')
        .addColumn('resolved_at', 'bigint')
        .addColumn('resolved_by', 'text')
        .addColumn('outcome', 'text')
        .addColumn('note', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('incidents_community_state').on('incidents').columns(['community_id', 'state']).execute()
      // One active incident per (household, category): a repeat alarm attaches, never duplicates.
      await db.schema
        .createIndex('incidents_one_active')
        .on('incidents')
        .columns(['household_id', 'category'])
        .unique()
        .where(sql.ref('state'), '<>', 'resolved')
        .execute()

      await db.schema
        .createTable('incident_events')
        .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('incident_events_pk', ['incident_id', 'seq'])
        .execute()

      await db.schema
        .createTable('device_messages')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_messages_pk', ['device_id', 'message_id'])
        .execute()
    },
  },
  '0002_detectors': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('incidents').addColumn('conditions', 'text', (c) => c.notNull().defaultTo('[]')).execute()
      await db.schema.alterTable('incidents').addColumn('condition_cleared', 'integer', (c) => c.notNull().defaultTo(0)).execute()
      await db.schema.alterTable('incidents').addColumn('explanation', 'text').execute()
      await db.schema.alterTable('households').addColumn('away_until', 'bigint').execute()
      await db.schema.alterTable('households').addColumn('detector_settings', 'text').execute()
      await db.schema.alterTable('communities').addColumn('detector_settings', 'text').execute()
      await db.schema
        .createTable('household_monitors')
        .addColumn('household_id', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
    },
  },
  '0003_routing': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('contacts').addColumn('audience', 'text', (c) => c.notNull().defaultTo('family')).execute()
      await db.schema.alterTable('contacts').addColumn('email', 'text').execute()
      await db.schema.alterTable('contacts').addColumn('channels', 'text', (c) => c.notNull().defaultTo('["sms"]')).execute()
      await db.schema.alterTable('contacts').addColumn('available_from', 'text').execute()
      await db.schema.alterTable('contacts').addColumn('available_to', 'text').execute()
      await db.schema.alterTable('contacts').addColumn('push_subscription', 'text').execute()
      await db.schema.alterTable('communities').addColumn('routing', 'text').execute()
      await db.schema
        .createTable('incident_ladders')
        .addColumn('incident_id', 'text', (c) => c.primaryKey().references('incidents.id'))
        .addColumn('ladder', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('next_step', 'integer', (c) => c.notNull())
        .addColumn('next_at', 'bigint')
        .addColumn('stopped_at', 'bigint')
        .execute()
      await db.schema
        .createTable('outbox')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('incident_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('recipient_id', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('notification', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .execute()
      await db.schema.createIndex('outbox_due').on('outbox').columns(['state', 'next_attempt_at']).execute()
      await db.schema.createIndex('outbox_incident').on('outbox').column('incident_id').execute()
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute()
    },
  },
  '0004_history': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('households').addColumn('key_safe', 'text').execute()
      await db.schema
        .createTable('telemetry_samples')
        .addColumn('household_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('value2', 'double precision')
        .execute()
      await db.schema.createIndex('telemetry_by_household').on('telemetry_samples').columns(['household_id', 'kind', 'at']).execute()
      // Retention deletes by age alone.
      await db.schema.createIndex('telemetry_by_age').on('telemetry_samples').column('at').execute()
    },
  },
  '0005_family_link_revocation': {
    async up(db: Kysely<unknown>) {
      // A contact's view links carry this number; raising it revokes them all (a lost phone).
      await db.schema.alterTable('contacts').addColumn('view_link_version', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    },
  },
  '0006_audit_log': {
    async up(db: Kysely<unknown>) {
      // Who read an elder's profile (key-safe code, medical notes) and who changed what (docs/security.md §accounts).
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('household_id', 'text')
        .addColumn('community_id', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('audit_by_household').on('audit_log').columns(['household_id', 'at']).execute()
      await db.schema.createIndex('audit_by_time').on('audit_log').column('at').execute()
    },
  },
  '0007_family_response': {
    async up(db: Kysely<unknown>) {
      // A family member on the way or arrived (JSON, incidents/model.ts FamilyResponse); their
      // arrival is awaited across restarts (routing/family-watch.ts).
      await db.schema.alterTable('incidents').addColumn('family_response', 'text').execute()
    },
  },
  '0008_household_address_order': {
    async up(db: Kysely<unknown>) {
      // The households list pages in address order, numbers as numbers (docs/operations.md §scale).
      await db.schema.alterTable('households').addColumn('address_key', 'text').execute()
      const k = db as unknown as Kysely<Database>
      for (const h of await k.selectFrom('households').select(['id', 'address']).execute()) {
        await k.updateTable('households').set({ address_key: addressKey(h.address) }).where('id', '=', h.id).execute()
      }
      await db.schema.createIndex('households_address_key').on('households').columns(['address_key', 'elder_name', 'id']).execute()
    },
  },
  '0009_district_operations': {
    async up(db: Kysely<unknown>) {
      // District operations (docs/operations.md §district operations): the street office's own
      // household number, so a re-import of its registry updates instead of duplicating.
      await db.schema.alterTable('households').addColumn('registry_ref', 'text').execute()
      await db.schema.createIndex('households_registry_ref').on('households').columns(['community_id', 'registry_ref']).unique().execute()

      // Service requests (助餐、助浴、助医、维修、其他): the green button or an operator opens one.
      await db.schema
        .createTable('service_tickets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('household_id', 'text', (c) => c.notNull().references('households.id'))
        .addColumn('community_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('provider', 'text')
        .addColumn('note', 'text')
        .addColumn('presses', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('dispatched_at', 'bigint')
        .addColumn('dispatched_by', 'text')
        .addColumn('closed_at', 'bigint')
        .addColumn('closed_by', 'text')
        .addColumn('feedback', 'text')
        .addColumn('feedback_note', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('service_tickets_queue').on('service_tickets').columns(['community_id', 'state', 'requested_at']).execute()
      await db.schema.createIndex('service_tickets_household').on('service_tickets').columns(['household_id', 'state']).execute()
      await db.schema.createIndex('service_tickets_month').on('service_tickets').columns(['community_id', 'requested_at']).execute()
      await db.schema
        .createTable('service_ticket_events')
        .addColumn('ticket_id', 'text', (c) => c.notNull().references('service_tickets.id'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('service_ticket_events_pk', ['ticket_id', 'seq'])
        .execute()

      // Visits (探访关爱): planned per household and month, recorded by a visitor; a `visit`
      // incident from the detectors becomes one too (incident_id).
      await db.schema
        .createTable('visits')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('household_id', 'text', (c) => c.notNull().references('households.id'))
        .addColumn('community_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('plan_key', 'text')
        .addColumn('incident_id', 'text')
        .addColumn('reason', 'text')
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('visited_at', 'bigint')
        .addColumn('visitor_id', 'text')
        .addColumn('result', 'text')
        .addColumn('note', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
      // A month's plan is made once per household: re-planning the same month finds its rows.
      await db.schema.createIndex('visits_plan_key').on('visits').columns(['household_id', 'plan_key']).unique().execute()
      await db.schema.createIndex('visits_due').on('visits').columns(['community_id', 'state', 'due_at']).execute()
      await db.schema.createIndex('visits_incident').on('visits').column('incident_id').execute()
    },
  },
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
}
