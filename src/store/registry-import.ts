/**
 * The registry import's reads and writes (docs/operations.md §registry import): what the store
 * holds that a file names, looked up in slices with a turn of the event loop between them (on
 * SQLite a query does not yield, and an alarm should not wait for 40 of them); then every write of an import in one transaction,
 * as multi-row statements, so 5,000 households with their contacts and devices take seconds on
 * SQLite and PostgreSQL alike (bench/import.ts).
 */
import type { ChannelName } from '../delivery/channels/channel.js'
import { nextTurn } from '../shared/next-turn.js'
import type { Db } from './database.js'
import { addressKey, type Audience, type Contact, type DeviceKind, type Household } from './registry.js'

/** A household as the import writes it, with its 户编号 (households.registry_ref) always set. */
export type ImportHousehold = Pick<Household, 'id' | 'communityId' | 'elderName' | 'age' | 'address' | 'phone' | 'medicalNotes' | 'keySafe'> & {
  /** 户编号: the street office's number, unique within the community. */
  ref: string
}

/** A contact as the import writes it: no push subscription, no family links given out yet. */
export type ImportContact = Omit<Contact, 'pushSubscription' | 'viewLinkVersion'>

export interface ImportDevice {
  id: string
  householdId: string
  kind: DeviceKind
  room: string | null
  heartbeatS: number
}

/** A device the file names, with where it is now. */
export interface PlacedDevice extends ImportDevice {
  communityId: string
  address: string
  ref: string | null
}

export interface ImportWrites {
  households: { create: ImportHousehold[]; update: ImportHousehold[] }
  contacts: { create: ImportContact[]; update: ImportContact[] }
  /** New devices with their secret's hash. */
  devices: { create: (ImportDevice & { secretHash: string })[]; update: ImportDevice[] }
}

/** Ids per IN (…) list, and rows per multi-row statement: far below either store's parameter limit. */
const SLICE = 500
const BATCH = 200

function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export function registryImportRepository(db: Db) {
  return {
    /** Households with one of these 户编号 in these communities (every community when undefined). */
    async householdsByRef(refs: readonly string[], communityIds: readonly string[] | undefined): Promise<ImportHousehold[]> {
      if (refs.length === 0 || communityIds?.length === 0) return []
      const out: ImportHousehold[] = []
      for (const slice of slices([...new Set(refs)], SLICE)) {
        await nextTurn()
        let q = db.selectFrom('households').selectAll().where('registry_ref', 'in', slice)
        if (communityIds) q = q.where('community_id', 'in', communityIds)
        for (const r of await q.execute()) {
          out.push({
            id: r.id, communityId: r.community_id, ref: r.registry_ref!, elderName: r.elder_name, age: r.age == null ? null : Number(r.age), address: r.address,
            phone: r.phone, medicalNotes: r.medical_notes, keySafe: r.key_safe,
          })
        }
      }
      return out
    },

    /**
     * Households with no 户编号 yet (entered by hand) whose elder has one of these names, in these
     * communities (every community when undefined): those an import may adopt (plan.ts).
     */
    async unnumberedHouseholds(elderNames: readonly string[], communityIds: readonly string[] | undefined): Promise<Omit<ImportHousehold, 'ref'>[]> {
      if (elderNames.length === 0 || communityIds?.length === 0) return []
      const out: Omit<ImportHousehold, 'ref'>[] = []
      for (const slice of slices([...new Set(elderNames)], SLICE)) {
        await nextTurn()
        let q = db.selectFrom('households').selectAll().where('registry_ref', 'is', null).where('elder_name', 'in', slice)
        if (communityIds) q = q.where('community_id', 'in', communityIds)
        for (const r of await q.execute()) {
          out.push({
            id: r.id, communityId: r.community_id, elderName: r.elder_name, age: r.age == null ? null : Number(r.age), address: r.address,
            phone: r.phone, medicalNotes: r.medical_notes, keySafe: r.key_safe,
          })
        }
      }
      return out
    },

    async contactsOf(householdIds: readonly string[]): Promise<ImportContact[]> {
      const out: ImportContact[] = []
      for (const slice of slices(householdIds, SLICE)) {
        await nextTurn()
        const rows = await db.selectFrom('contacts').selectAll().where('household_id', 'in', slice).execute()
        for (const r of rows) {
          out.push({
            id: r.id, householdId: r.household_id, name: r.name, relation: r.relation, audience: r.audience as Audience, phone: r.phone, email: r.email,
            channels: JSON.parse(r.channels) as ChannelName[], position: Number(r.position), availableFrom: r.available_from, availableTo: r.available_to,
          })
        }
      }
      return out
    },

    /** Devices with these ids, wherever they are. */
    async devicesById(ids: readonly string[]): Promise<PlacedDevice[]> {
      const out: PlacedDevice[] = []
      for (const slice of slices([...new Set(ids)], SLICE)) {
        await nextTurn()
        const rows = await db
          .selectFrom('devices')
          .innerJoin('households', 'households.id', 'devices.household_id')
          .select(['devices.id', 'devices.household_id', 'devices.kind', 'devices.room', 'devices.heartbeat_s', 'households.community_id', 'households.address', 'households.registry_ref'])
          .where('devices.id', 'in', slice)
          .execute()
        for (const r of rows) {
          out.push({ id: r.id, householdId: r.household_id, kind: r.kind as DeviceKind, room: r.room, heartbeatS: Number(r.heartbeat_s), communityId: r.community_id, address: r.address, ref: r.registry_ref })
        }
      }
      return out
    },

    /**
     * Every write of one import, in one transaction: all of it or nothing. New rows in multi-row
     * INSERTs; changed households and contacts as multi-row upserts on their id (only the fields
     * the file carries change: away mode, settings, push subscriptions and link versions stay);
     * a changed device by its own UPDATE (its secret is never touched).
     */
    async apply(w: ImportWrites, now: number): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const householdRows = (hs: ImportHousehold[]) =>
          hs.map((h) => ({
            id: h.id, community_id: h.communityId, registry_ref: h.ref, elder_name: h.elderName, age: h.age, address: h.address, address_key: addressKey(h.address),
            phone: h.phone, medical_notes: h.medicalNotes, key_safe: h.keySafe, away_until: null, detector_settings: null, created_at: now, updated_at: now,
          }))
        for (const batch of slices(w.households.create, BATCH)) await trx.insertInto('households').values(householdRows(batch)).execute()
        for (const batch of slices(w.households.update, BATCH)) {
          await trx
            .insertInto('households')
            .values(householdRows(batch))
            .onConflict((oc) =>
              oc.column('id').doUpdateSet((eb) => ({
                // A household entered by hand takes its 户编号 when the import adopts it (plan.ts).
                registry_ref: eb.ref('excluded.registry_ref'),
                elder_name: eb.ref('excluded.elder_name'), age: eb.ref('excluded.age'), address: eb.ref('excluded.address'), address_key: eb.ref('excluded.address_key'),
                phone: eb.ref('excluded.phone'), medical_notes: eb.ref('excluded.medical_notes'), key_safe: eb.ref('excluded.key_safe'), updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .execute()
        }
        const contactRows = (cs: ImportContact[]) =>
          cs.map((c) => ({
            id: c.id, household_id: c.householdId, name: c.name, relation: c.relation, audience: c.audience, phone: c.phone, email: c.email, channels: JSON.stringify(c.channels),
            position: c.position, available_from: c.availableFrom, available_to: c.availableTo, push_subscription: null, view_link_version: 0, created_at: now,
          }))
        for (const batch of slices(w.contacts.create, BATCH)) await trx.insertInto('contacts').values(contactRows(batch)).execute()
        for (const batch of slices(w.contacts.update, BATCH)) {
          await trx
            .insertInto('contacts')
            .values(contactRows(batch))
            .onConflict((oc) =>
              oc.column('id').doUpdateSet((eb) => ({
                name: eb.ref('excluded.name'), relation: eb.ref('excluded.relation'), audience: eb.ref('excluded.audience'), phone: eb.ref('excluded.phone'), email: eb.ref('excluded.email'),
                channels: eb.ref('excluded.channels'), position: eb.ref('excluded.position'), available_from: eb.ref('excluded.available_from'), available_to: eb.ref('excluded.available_to'),
              })),
            )
            .execute()
        }
        for (const batch of slices(w.devices.create, BATCH)) {
          await trx
            .insertInto('devices')
            .values(batch.map((d) => ({ id: d.id, household_id: d.householdId, kind: d.kind, room: d.room, secret_hash: d.secretHash, heartbeat_s: d.heartbeatS, last_seen_at: null, online: null, battery: null, fw: null, created_at: now })))
            .execute()
        }
        for (const d of w.devices.update) await trx.updateTable('devices').set({ room: d.room, heartbeat_s: d.heartbeatS }).where('id', '=', d.id).execute()
      })
    },
  }
}

export type RegistryImportRepository = ReturnType<typeof registryImportRepository>
