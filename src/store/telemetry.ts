/** Telemetry history: raw readings per household, kept for the charts and the family view. */
import type { Db } from './database.js'

export const SAMPLE_KINDS = ['water', 'presence', 'door', 'battery'] as const
export type SampleKind = (typeof SAMPLE_KINDS)[number]

/** One reading. water: value = register m³, value2 = flow l/min; presence: value = occupied, value2 = motion; door: value = open; battery: value = %. */
export interface Sample {
  householdId: string
  deviceId: string
  kind: SampleKind
  at: number
  value: number
  value2: number | null
  /** The device's message id: the same reading sent again is kept once. */
  msgId?: string | null
}

export function telemetryRepository(db: Db) {
  const toSample = (r: { household_id: string; device_id: string; kind: string; at: number; value: number; value2: number | null }): Sample => ({
    householdId: r.household_id,
    deviceId: r.device_id,
    kind: r.kind as SampleKind,
    at: Number(r.at),
    value: Number(r.value),
    value2: r.value2 == null ? null : Number(r.value2),
  })

  /** A household's readings of these kinds; each query below narrows it by time. */
  const samplesOf = (householdId: string, kinds: readonly SampleKind[]) =>
    db.selectFrom('telemetry_samples').selectAll().where('household_id', '=', householdId).where('kind', 'in', kinds)

  return {
    async insert(samples: readonly Sample[]): Promise<void> {
      // SQLite allows 32,766 bound variables: 7 a row.
      for (let i = 0; i < samples.length; i += 1000) {
        const rows = samples.slice(i, i + 1000).map((s) => ({ household_id: s.householdId, device_id: s.deviceId, kind: s.kind, at: s.at, value: s.value, value2: s.value2, msg_id: s.msgId ?? null }))
        // A reading sent again (the same device, message id and time) is kept once.
        await db.insertInto('telemetry_samples').values(rows).onConflict((oc) => oc.columns(['device_id', 'msg_id', 'at']).doNothing()).execute()
      }
    },

    /** Readings of these kinds in [from, to], oldest first. */
    async range(householdId: string, kinds: readonly SampleKind[], from: number, to: number): Promise<Sample[]> {
      const rows = await samplesOf(householdId, kinds).where('at', '>=', from).where('at', '<=', to).orderBy('at', 'asc').execute()
      return rows.map(toSample)
    },

    /** The newest readings of one kind at or before `to`, newest first. */
    async latest(householdId: string, kind: SampleKind, to: number, limit: number): Promise<Sample[]> {
      const rows = await samplesOf(householdId, [kind]).where('at', '<=', to).orderBy('at', 'desc').limit(limit).execute()
      return rows.map(toSample)
    },

    /** The newest presence reading that saw someone (occupied or moving), at or before `to`. */
    async latestPresence(householdId: string, to: number): Promise<Sample | undefined> {
      const row = await samplesOf(householdId, ['presence'])
        .where('at', '<=', to)
        .where((eb) => eb.or([eb('value', '=', 1), eb('value2', '=', 1)]))
        .orderBy('at', 'desc')
        .limit(1)
        .executeTakeFirst()
      return row && toSample(row)
    },

    /** Whether a reading with this message id from this device is kept at `at`, or (`at` null) at or after `since`. */
    async hasMessage(deviceId: string, msgId: string, at: number | null, since: number): Promise<boolean> {
      const q = db.selectFrom('telemetry_samples').select('at').where('device_id', '=', deviceId).where('msg_id', '=', msgId)
      const row = await (at === null ? q.where('at', '>=', since) : q.where('at', '=', at)).limit(1).executeTakeFirst()
      return row !== undefined
    },

    /** The time of the newest reading kept from this device, or null. */
    async newestOf(deviceId: string): Promise<number | null> {
      const row = await db.selectFrom('telemetry_samples').select((eb) => eb.fn.max('at').as('at')).where('device_id', '=', deviceId).executeTakeFirst()
      return row?.at == null ? null : Number(row.at)
    },

    /** The time of the oldest reading kept, or null when there is none. */
    async oldest(): Promise<number | null> {
      const row = await db.selectFrom('telemetry_samples').select((eb) => eb.fn.min('at').as('at')).executeTakeFirst()
      return row?.at == null ? null : Number(row.at)
    },

    /** Deletes readings older than `before`; returns how many. */
    async prune(before: number): Promise<number> {
      const r = await db.deleteFrom('telemetry_samples').where('at', '<', before).executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}

export type TelemetryRepository = ReturnType<typeof telemetryRepository>
