/** Communities, households, devices and contacts: who lives where, and what is installed. */
import { sql, type ExpressionBuilder, type Insertable, type Selectable } from 'kysely'
import type { ChannelName, PushSubscriptionJson } from '../delivery/channels/channel.js'
import type { DetectorOverride } from '../detectors/settings.js'
import type { RoutingOverride } from '../routing/settings.js'
import type { Db } from './database.js'
import type { CommunitiesTable, ContactsTable, Database, DevicesTable, HouseholdsTable } from './schema.js'

/** What a device's messages tell of its health (ingest/device-health.ts). */
export interface HealthFields {
  lastSeenAt: number
  online?: boolean
  battery?: number
  fw?: string
}

export interface Community {
  id: string
  name: string
  street: string
  /** Detector thresholds for this community's households, over the defaults. */
  detectorSettings: DetectorOverride | null
  /** Who else is alerted and when: supervisors, property, maintenance, webhooks, ladders. */
  routing: RoutingOverride | null
  createdAt: number
}

export interface Household {
  id: string
  communityId: string
  /** 户编号: the street office's number, unique within the community; null when entered by hand (docs/operations.md §registry import). */
  registryRef: string | null
  elderName: string
  age: number | null
  address: string
  phone: string | null
  medicalNotes: string | null
  /** Where the key box is and its code (钥匙盒): operators only, never families or notices. */
  keySafe: string | null
  /** Away mode until this instant (hospital, visiting family); null when at home. */
  awayUntil: number | null
  /** Detector thresholds for this household, over its community's. */
  detectorSettings: DetectorOverride | null
  createdAt: number
  updatedAt: number
}

/** A household to insert: callers that predate 户编号 (tests, seeds) may leave it out (null). */
export type NewHousehold = Omit<Household, 'registryRef'> & { registryRef?: string | null }

export const DEVICE_KINDS = ['button', 'water', 'presence', 'door', 'smoke', 'gas'] as const
export type DeviceKind = (typeof DEVICE_KINDS)[number]
export const ROOMS = ['bathroom', 'bedroom', 'living_room', 'kitchen', 'entrance'] as const

export interface Device {
  id: string
  householdId: string
  kind: DeviceKind
  room: string | null
  heartbeatS: number
  lastSeenAt: number | null
  online: boolean | null
  battery: number | null
  fw: string | null
  createdAt: number
}

/** What authentication and ingest need to know about a device, in one lookup. */
export interface DeviceIdentity {
  id: string
  secretHash: string
  householdId: string
  communityId: string
}

export const AUDIENCES = ['family', 'neighbour', 'building_lead', 'property', 'doctor'] as const
export type Audience = (typeof AUDIENCES)[number]

export interface Contact {
  id: string
  householdId: string
  name: string
  /** As the family says it: 子女, 邻居, 楼组长, 物业, 社区医生 … */
  relation: string
  /** What the routing rules read. */
  audience: Audience
  phone: string
  email: string | null
  channels: ChannelName[]
  /** Call order within the household, 0 first. */
  position: number
  /** Local `HH:MM` window when the contact may be called; null = any time. */
  availableFrom: string | null
  availableTo: string | null
  pushSubscription: PushSubscriptionJson | null
  /** Family view links name this version; a new one revokes the links given out before. */
  viewLinkVersion: number
}

/** Announced after the registry changes, so the detectors re-read a household. */
export interface RegistryEvents {
  'household.changed': { householdId: string }
  'community.changed': { communityId: string }
}

export function registryRepository(db: Db) {
  return {

    communities: {
      async list(ids?: readonly string[]): Promise<Community[]> {
        let q = db.selectFrom('communities').selectAll().orderBy('name')
        if (ids) {
          if (ids.length === 0) return []
          q = q.where('id', 'in', ids)
        }
        return (await q.execute()).map(toCommunity)
      },
      async get(id: string): Promise<Community | undefined> {
        const row = await db.selectFrom('communities').selectAll().where('id', '=', id).executeTakeFirst()
        return row && toCommunity(row)
      },
      async insert(c: Community): Promise<void> {
        await db
          .insertInto('communities')
          .values({ id: c.id, name: c.name, street: c.street, detector_settings: json(c.detectorSettings), routing: json(c.routing), created_at: c.createdAt })
          .execute()
      },
      async update(c: Community): Promise<void> {
        await db
          .updateTable('communities')
          .set({ name: c.name, street: c.street, detector_settings: json(c.detectorSettings), routing: json(c.routing) })
          .where('id', '=', c.id)
          .execute()
      },
      async remove(id: string): Promise<void> {
        await db.deleteFrom('user_communities').where('community_id', '=', id).execute()
        await db.deleteFrom('communities').where('id', '=', id).execute()
      },
      /**
       * Deletes the community with everything in it: households, contacts, devices, incidents and
       * their trails and notices (a simulated district, docs/operations.md §simulated districts).
       * One transaction; the audit log and the history store keep their rows. Returns what went.
       */
      async purge(id: string): Promise<{ households: string[]; devices: string[]; incidents: number }> {
        return db.transaction().execute(async (trx) => {
          const households = (await trx.selectFrom('households').select('id').where('community_id', '=', id).execute()).map((r) => r.id)
          const devices = households.length
            ? (await trx.selectFrom('devices').select('id').where('household_id', 'in', households).execute()).map((r) => r.id)
            : []
          const incidents = trx.selectFrom('incidents').select('id').where('community_id', '=', id)
          await trx.deleteFrom('outbox').where('incident_id', 'in', incidents).execute()
          await trx.deleteFrom('incident_ladders').where('incident_id', 'in', incidents).execute()
          await trx.deleteFrom('incident_events').where('incident_id', 'in', incidents).execute()
          const gone = await trx.deleteFrom('incidents').where('community_id', '=', id).executeTakeFirst()
          // In slices: a district of thousands of devices stays under the databases' parameter limits.
          for (let i = 0; i < devices.length; i += 500) {
            const slice = devices.slice(i, i + 500)
            await trx.deleteFrom('device_messages').where('device_id', 'in', slice).execute()
            await trx.deleteFrom('devices').where('id', 'in', slice).execute()
          }
          for (let i = 0; i < households.length; i += 500) {
            const slice = households.slice(i, i + 500)
            await trx.deleteFrom('contacts').where('household_id', 'in', slice).execute()
            await trx.deleteFrom('household_monitors').where('household_id', 'in', slice).execute()
          }
          await trx.deleteFrom('visits').where('community_id', '=', id).execute()
          await trx
            .deleteFrom('service_ticket_events')
            .where('ticket_id', 'in', (eb) => eb.selectFrom('service_tickets').select('id').where('community_id', '=', id))
            .execute()
          await trx.deleteFrom('service_tickets').where('community_id', '=', id).execute()
          await trx.deleteFrom('households').where('community_id', '=', id).execute()
          await trx.deleteFrom('user_communities').where('community_id', '=', id).execute()
          await trx.deleteFrom('communities').where('id', '=', id).execute()
          return { households, devices, incidents: Number(gone.numDeletedRows) }
        })
      },
      async householdCount(id: string): Promise<number> {
        const row = await db
          .selectFrom('households')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('community_id', '=', id)
          .executeTakeFirst()
        return Number(row?.n ?? 0)
      },
    },

    households: {
      async list(communityIds?: readonly string[]): Promise<Household[]> {
        let q = db.selectFrom('households').selectAll().orderBy('address')
        if (communityIds) {
          if (communityIds.length === 0) return []
          q = q.where('community_id', 'in', communityIds)
        }
        return (await q.execute()).map(toHousehold)
      },
      /** One page of households, ordered by address, and how many match in all (docs/operations.md §scale). */
      async page(filter: HouseholdFilter): Promise<{ items: Household[]; total: number }> {
        if (filter.communityIds?.length === 0) return { items: [], total: 0 }
        let q = db.selectFrom('households').innerJoin('communities', 'communities.id', 'households.community_id')
        if (filter.communityIds) q = q.where('households.community_id', 'in', filter.communityIds)
        if (filter.street) q = q.where('communities.street', '=', filter.street)
        const like = likeFragment(filter.q)
        if (like) {
          q = q.where((eb) => eb.or(['households.elder_name', 'households.address', 'households.phone', 'households.registry_ref'].map((col) => containsLike(eb, col, like))))
        }
        const [rows, count] = await Promise.all([
          q.selectAll('households').orderBy('households.address_key').orderBy('households.elder_name').orderBy('households.id').limit(filter.limit).offset(filter.offset).execute(),
          q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
        ])
        return { items: rows.map(toHousehold), total: Number(count?.n ?? 0) }
      },
      /** Where every household in scope is (street, community, address) and whether it has an unresolved incident, for the district summary. */
      async places(communityIds?: readonly string[]): Promise<HouseholdPlace[]> {
        if (communityIds?.length === 0) return []
        let q = db
          .selectFrom('households')
          .innerJoin('communities', 'communities.id', 'households.community_id')
          .select(['households.id', 'households.community_id', 'households.address', 'communities.name', 'communities.street'])
        let active = db.selectFrom('incidents').select(['household_id', 'category']).where('state', '<>', 'resolved')
        if (communityIds) {
          q = q.where('households.community_id', 'in', communityIds)
          active = active.where('community_id', 'in', communityIds)
        }
        // Unresolved incidents are few: one query for them, not one per household.
        const [rows, incidents] = await Promise.all([q.execute(), active.execute()])
        const worst = new Map<string, 'emergency' | 'incident'>()
        for (const i of incidents) if (worst.get(i.household_id) !== 'emergency') worst.set(i.household_id, i.category === 'emergency' ? 'emergency' : 'incident')
        return rows.map((r) => ({ id: r.id, communityId: r.community_id, communityName: r.name, street: r.street, address: r.address, incident: worst.get(r.id) ?? null }))
      },
      async get(id: string): Promise<Household | undefined> {
        const row = await db.selectFrom('households').selectAll().where('id', '=', id).executeTakeFirst()
        return row && toHousehold(row)
      },
      /** The household with this 户编号 in this community, if any. */
      async byRef(communityId: string, registryRef: string): Promise<Household | undefined> {
        const row = await db.selectFrom('households').selectAll().where('community_id', '=', communityId).where('registry_ref', '=', registryRef).executeTakeFirst()
        return row && toHousehold(row)
      },
      async insert(h: NewHousehold): Promise<void> {
        await db.insertInto('households').values(householdRow(h)).execute()
      },
      /** Many at once (seeding, bulk imports): multi-row inserts, in the caller's transaction. */
      async insertMany(hs: readonly NewHousehold[]): Promise<void> {
        for (let i = 0; i < hs.length; i += INSERT_BATCH) await db.insertInto('households').values(hs.slice(i, i + INSERT_BATCH).map(householdRow)).execute()
      },
      async update(h: Household): Promise<void> {
        const { id, ...rest } = householdRow(h)
        await db.updateTable('households').set(rest).where('id', '=', id).execute()
      },
      async remove(id: string): Promise<void> {
        await db.deleteFrom('contacts').where('household_id', '=', id).execute()
        // Its visit plan (docs/operations.md §visits): a household removed is one entered by mistake.
        await db.deleteFrom('visits').where('household_id', '=', id).execute()
        await db.deleteFrom('household_monitors').where('household_id', '=', id).execute()
        await db.deleteFrom('households').where('id', '=', id).execute()
      },
      async dependents(id: string): Promise<{ devices: number; incidents: number; tickets: number }> {
        const d = await db.selectFrom('devices').select((eb) => eb.fn.countAll().as('n')).where('household_id', '=', id).executeTakeFirst()
        const i = await db.selectFrom('incidents').select((eb) => eb.fn.countAll().as('n')).where('household_id', '=', id).executeTakeFirst()
        const t = await db.selectFrom('service_tickets').select((eb) => eb.fn.countAll().as('n')).where('household_id', '=', id).executeTakeFirst()
        return { devices: Number(d?.n ?? 0), incidents: Number(i?.n ?? 0), tickets: Number(t?.n ?? 0) }
      },
    },

    devices: {
      async list(filter: { householdId?: string; communityIds?: readonly string[] } = {}): Promise<Device[]> {
        let q = db.selectFrom('devices').innerJoin('households', 'households.id', 'devices.household_id').selectAll('devices').orderBy('devices.id')
        if (filter.householdId) q = q.where('devices.household_id', '=', filter.householdId)
        if (filter.communityIds) {
          if (filter.communityIds.length === 0) return []
          q = q.where('households.community_id', 'in', filter.communityIds)
        }
        return (await q.execute()).map(toDevice)
      },
      /**
       * What deciding every device's state needs, for all devices in scope (a fragment `q` of the device
       * id, the elder's name or the address narrows it): the health board decides state, order and page
       * from these few columns, then reads its page of rows (boardRows).
       */
      async healthFacts(filter: { communityIds?: readonly string[]; q?: string }): Promise<DeviceFacts[]> {
        if (filter.communityIds?.length === 0) return []
        let q = db
          .selectFrom('devices')
          .innerJoin('households', 'households.id', 'devices.household_id')
          .select(['devices.id', 'devices.household_id', 'devices.heartbeat_s', 'devices.last_seen_at', 'devices.online', 'devices.battery', 'devices.created_at'])
          .select(['households.community_id', 'households.detector_settings'])
        if (filter.communityIds) q = q.where('households.community_id', 'in', filter.communityIds)
        const like = likeFragment(filter.q)
        if (like) q = q.where((eb) => eb.or(['devices.id', 'households.elder_name', 'households.address'].map((col) => containsLike(eb, col, like))))
        const rows = await q.execute()
        return rows.map((r) => ({
          id: r.id,
          householdId: r.household_id,
          communityId: r.community_id,
          heartbeatS: Number(r.heartbeat_s),
          lastSeenAt: r.last_seen_at == null ? null : Number(r.last_seen_at),
          online: r.online == null ? null : Number(r.online) === 1,
          battery: r.battery == null ? null : Number(r.battery),
          createdAt: Number(r.created_at),
          householdSettings: parse<DetectorOverride>(r.detector_settings),
        }))
      },
      /** These devices with their household's name and address, in the order asked. */
      async boardRows(ids: readonly string[]): Promise<(Device & { elderName: string; address: string; communityId: string })[]> {
        if (ids.length === 0) return []
        const rows = await db
          .selectFrom('devices')
          .innerJoin('households', 'households.id', 'devices.household_id')
          .selectAll('devices')
          .select(['households.elder_name', 'households.address', 'households.community_id'])
          .where('devices.id', 'in', ids)
          .execute()
        const byId = new Map(rows.map((r) => [r.id, { ...toDevice(r), elderName: r.elder_name, address: r.address, communityId: r.community_id }]))
        return ids.flatMap((id) => byId.get(id) ?? [])
      },
      async get(id: string): Promise<Device | undefined> {
        const row = await db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst()
        return row && toDevice(row)
      },
      async identity(id: string): Promise<DeviceIdentity | undefined> {
        const row = await db
          .selectFrom('devices')
          .innerJoin('households', 'households.id', 'devices.household_id')
          .select(['devices.id', 'devices.secret_hash', 'devices.household_id', 'households.community_id'])
          .where('devices.id', '=', id)
          .executeTakeFirst()
        return row && { id: row.id, secretHash: row.secret_hash, householdId: row.household_id, communityId: row.community_id }
      },
      async insert(d: Device, secretHash: string): Promise<void> {
        await db
          .insertInto('devices')
          .values({
            id: d.id,
            household_id: d.householdId,
            kind: d.kind,
            room: d.room,
            secret_hash: secretHash,
            heartbeat_s: d.heartbeatS,
            // A new device is unheard; the demo seed's devices come with their history's last reading.
            last_seen_at: d.lastSeenAt,
            online: d.online === null ? null : d.online ? 1 : 0,
            battery: d.battery,
            fw: null,
            created_at: d.createdAt,
          })
          .execute()
      },
      /** Many at once (seeding, bulk imports), each with its secret hash, in the caller's transaction. */
      async insertMany(ds: readonly { device: Device; secretHash: string }[]): Promise<void> {
        for (let i = 0; i < ds.length; i += INSERT_BATCH) {
          await db
            .insertInto('devices')
            .values(ds.slice(i, i + INSERT_BATCH).map(({ device: d, secretHash }) => ({
              id: d.id, household_id: d.householdId, kind: d.kind, room: d.room, secret_hash: secretHash, heartbeat_s: d.heartbeatS,
              last_seen_at: d.lastSeenAt, online: d.online === null ? null : d.online ? 1 : 0, battery: d.battery, fw: d.fw, created_at: d.createdAt,
            })))
            .execute()
        }
      },
      async update(d: Pick<Device, 'id' | 'householdId' | 'room' | 'heartbeatS'>): Promise<void> {
        await db
          .updateTable('devices')
          .set({ household_id: d.householdId, room: d.room, heartbeat_s: d.heartbeatS })
          .where('id', '=', d.id)
          .execute()
      },
      async setSecretHash(id: string, secretHash: string): Promise<void> {
        await db.updateTable('devices').set({ secret_hash: secretHash }).where('id', '=', id).execute()
      },
      async remove(id: string): Promise<void> {
        // A device provisioned again under this id starts with fresh message ids.
        await db.deleteFrom('device_messages').where('device_id', '=', id).execute()
        await db.deleteFrom('devices').where('id', '=', id).execute()
      },
      /**
       * Many devices' health in one statement: a district's second of readings is thousands of
       * devices, and one UPDATE each (a statement prepared each time) held the loop for 300 ms
       * (bench/README.md §overload). A field left out keeps its value.
       */
      async recordHealth(updates: readonly (readonly [string, HealthFields])[]): Promise<void> {
        if (updates.length === 0) return
        const rows = updates.map(
          ([id, h]) => sql`(${id}, ${h.lastSeenAt}, ${h.online === undefined ? null : h.online ? 1 : 0}, ${h.battery === undefined ? null : Math.round(h.battery)}, ${h.fw ?? null})`,
        )
        // Both dialects: a CTE's VALUES and UPDATE … FROM (SQLite ≥ 3.33); the casts give
        // PostgreSQL the types its untyped parameters lack.
        await sql`WITH v(id, seen, online, battery, fw) AS (VALUES ${sql.join(rows)})
          UPDATE devices SET
            last_seen_at = CAST(v.seen AS BIGINT),
            online = COALESCE(CAST(v.online AS INTEGER), devices.online),
            battery = COALESCE(CAST(v.battery AS INTEGER), devices.battery),
            fw = COALESCE(CAST(v.fw AS TEXT), devices.fw)
          FROM v WHERE devices.id = v.id`.execute(db)
      },
    },

    contacts: {
      /** Households with at least one contact of this audience (the detectors ask the family before an operator). */
      async householdsWith(audience: Audience): Promise<Set<string>> {
        const rows = await db.selectFrom('contacts').select('household_id').distinct().where('audience', '=', audience).execute()
        return new Set(rows.map((r) => r.household_id))
      },
      async list(householdId: string): Promise<Contact[]> {
        const rows = await db.selectFrom('contacts').selectAll().where('household_id', '=', householdId).orderBy('position').execute()
        return rows.map(toContact)
      },
      async get(id: string): Promise<Contact | undefined> {
        const row = await db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst()
        return row && toContact(row)
      },
      async insert(c: Contact, createdAt: number): Promise<void> {
        await db
          .insertInto('contacts')
          .values({
            id: c.id,
            household_id: c.householdId,
            name: c.name,
            relation: c.relation,
            audience: c.audience,
            phone: c.phone,
            email: c.email,
            channels: JSON.stringify(c.channels),
            position: c.position,
            available_from: c.availableFrom,
            available_to: c.availableTo,
            push_subscription: json(c.pushSubscription),
            view_link_version: c.viewLinkVersion,
            created_at: createdAt,
          })
          .execute()
      },
      async setPushSubscription(id: string, subscription: PushSubscriptionJson): Promise<void> {
        await db.updateTable('contacts').set({ push_subscription: JSON.stringify(subscription) }).where('id', '=', id).execute()
      },
      /** Revokes every family link of the contact (view and incident links) and forgets their push subscription; returns the new version. */
      async revokeLinks(id: string): Promise<number> {
        await db.updateTable('contacts').set((eb) => ({ view_link_version: eb('view_link_version', '+', 1), push_subscription: null })).where('id', '=', id).execute()
        const row = await db.selectFrom('contacts').select('view_link_version').where('id', '=', id).executeTakeFirst()
        return Number(row?.view_link_version ?? 0)
      },
      async remove(householdId: string, id: string): Promise<number> {
        const r = await db.deleteFrom('contacts').where('household_id', '=', householdId).where('id', '=', id).executeTakeFirst()
        return Number(r.numDeletedRows)
      },
    },
  }
}

export type RegistryRepository = ReturnType<typeof registryRepository>

/** The address with every number zero-padded to 8 digits: in text order, 2号楼 comes before 10号楼 on both stores. */
export const addressKey = (address: string): string => address.trim().replace(/\d+/g, (n) => n.padStart(8, '0'))

export interface HouseholdFilter {
  communityIds?: readonly string[]
  street?: string
  /** A fragment of the elder's name, the address or the phone number. */
  q?: string
  limit: number
  offset: number
}

export interface HouseholdPlace {
  id: string
  communityId: string
  communityName: string
  street: string
  address: string
  /** Its worst unresolved incident: an emergency, another incident, or none. */
  incident: 'emergency' | 'incident' | null
}

/** The columns a device's state is decided from. */
export interface DeviceFacts extends Pick<Device, 'id' | 'householdId' | 'heartbeatS' | 'lastSeenAt' | 'online' | 'battery' | 'createdAt'> {
  communityId: string
  householdSettings: DetectorOverride | null
}

/** Rows per multi-row INSERT: 12 columns × 200 stays far below SQLite's and PostgreSQL's parameter limits. */
const INSERT_BATCH = 200

/** `%fragment%` for LIKE, the fragment's own % _ and backslash taken literally; undefined for no fragment. */
const likeFragment = (q: string | undefined): string | undefined => {
  const fragment = q?.trim().toLowerCase()
  return fragment ? `%${fragment.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined
}

/** Case-insensitive "contains", the same on SQLite and PostgreSQL; the caller escapes the fragment's own % _ and backslash. */
const containsLike = (eb: ExpressionBuilder<Database, 'households' | 'communities' | 'devices'>, column: string, like: string) =>
  sql<boolean>`lower(${eb.ref(column as 'households.address')}) like ${like} escape '\\'`

const json = (v: unknown): string | null => (v == null ? null : JSON.stringify(v))
const parse = <T>(v: string | null): T | null => (v == null ? null : (JSON.parse(v) as T))

const toCommunity = (r: Selectable<CommunitiesTable>): Community => ({
  id: r.id,
  name: r.name,
  street: r.street,
  detectorSettings: parse<DetectorOverride>(r.detector_settings),
  routing: parse<RoutingOverride>(r.routing),
  createdAt: Number(r.created_at),
})

const toHousehold = (r: Selectable<HouseholdsTable>): Household => ({
  id: r.id,
  communityId: r.community_id,
  registryRef: r.registry_ref,
  elderName: r.elder_name,
  age: r.age == null ? null : Number(r.age),
  address: r.address,
  phone: r.phone,
  medicalNotes: r.medical_notes,
  keySafe: r.key_safe,
  awayUntil: r.away_until == null ? null : Number(r.away_until),
  detectorSettings: parse<DetectorOverride>(r.detector_settings),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
})

const householdRow = (h: NewHousehold): Insertable<HouseholdsTable> => ({
  id: h.id,
  community_id: h.communityId,
  registry_ref: h.registryRef ?? null,
  elder_name: h.elderName,
  age: h.age,
  address: h.address,
  address_key: addressKey(h.address),
  phone: h.phone,
  medical_notes: h.medicalNotes,
  key_safe: h.keySafe,
  away_until: h.awayUntil,
  detector_settings: json(h.detectorSettings),
  created_at: h.createdAt,
  updated_at: h.updatedAt,
})

const toDevice = (r: Selectable<DevicesTable>): Device => ({
  id: r.id,
  householdId: r.household_id,
  kind: r.kind as DeviceKind,
  room: r.room,
  heartbeatS: Number(r.heartbeat_s),
  lastSeenAt: r.last_seen_at == null ? null : Number(r.last_seen_at),
  online: r.online == null ? null : Number(r.online) === 1,
  battery: r.battery == null ? null : Number(r.battery),
  fw: r.fw,
  createdAt: Number(r.created_at),
})

const toContact = (r: Selectable<ContactsTable>): Contact => ({
  id: r.id,
  householdId: r.household_id,
  name: r.name,
  relation: r.relation,
  audience: r.audience as Audience,
  phone: r.phone,
  email: r.email,
  channels: JSON.parse(r.channels) as ChannelName[],
  position: Number(r.position),
  availableFrom: r.available_from,
  availableTo: r.available_to,
  pushSubscription: parse<PushSubscriptionJson>(r.push_subscription),
  viewLinkVersion: Number(r.view_link_version ?? 0),
})
