/**
 * Daily activity per device, from the history store's readings (docs/operations.md §visits,
 * declining activity): for many households at once, one query, bounded in time. The pure measure
 * (visits/activity.ts) decides which days count and whether activity declined.
 */
import { sql } from 'kysely'
import type { Db } from './database.js'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
/**
 * Households per statement. Embedded, a statement runs on the alarm thread (better-sqlite3 is
 * synchronous): six weeks of a household's readings (10-minute presence, 15-minute water) took
 * about 6 ms to sum, so a slice holds the thread some 60 ms, and the next waits for its turn.
 */
const SLICE = 10

/** One device's readings on one local day. */
export interface DeviceDay {
  householdId: string
  deviceId: string
  kind: 'water' | 'presence'
  /** Local day number: whole days since the epoch, at the given UTC offset. */
  day: number
  readings: number
  /** Distinct local hours with a reading: how much of the day the device was heard. */
  hours: number
  firstAt: number
  lastAt: number
  /** Lowest and highest value: the water register (m³); for presence, unused. */
  low: number
  high: number
  /** Presence readings that saw motion (value2 = 1). */
  motion: number
}

export function activityRepository(db: Db) {
  return {
    /**
     * Water and presence readings in [from, to) of these households, summed per device and local
     * day (day boundaries at `utcOffsetMs`: the community's offset now; a daylight-saving change
     * inside the window moves one hour of one day, which a median does not notice).
     */
    async deviceDays(householdIds: readonly string[], from: number, to: number, utcOffsetMs: number): Promise<DeviceDay[]> {
      const out: DeviceDay[] = []
      const offset = sql.lit(Math.round(utcOffsetMs))
      const day = sql<number>`CAST((at + ${offset}) / ${sql.lit(DAY_MS)} AS INTEGER)`
      const hour = sql<number>`CAST((at + ${offset}) / ${sql.lit(HOUR_MS)} AS INTEGER)`
      for (let i = 0; i < householdIds.length; i += SLICE) {
        // Between slices, whatever waits on the event loop (an alarm) goes first.
        if (i > 0) await new Promise((resolve) => setImmediate(resolve))
        const rows = await db
          .selectFrom('telemetry_samples')
          .select([
            'household_id',
            'device_id',
            'kind',
            day.as('day'),
            (eb) => eb.fn.countAll().as('readings'),
            sql<number>`count(DISTINCT ${hour})`.as('hours'),
            (eb) => eb.fn.min('at').as('first_at'),
            (eb) => eb.fn.max('at').as('last_at'),
            (eb) => eb.fn.min('value').as('low'),
            (eb) => eb.fn.max('value').as('high'),
            sql<number>`sum(CASE WHEN value2 = 1 THEN 1 ELSE 0 END)`.as('motion'),
          ])
          .where('household_id', 'in', householdIds.slice(i, i + SLICE))
          .where('kind', 'in', ['water', 'presence'])
          .where('at', '>=', from)
          .where('at', '<', to)
          .groupBy(['household_id', 'device_id', 'kind', day])
          .execute()
        for (const r of rows) {
          out.push({
            householdId: r.household_id,
            deviceId: r.device_id,
            kind: r.kind as DeviceDay['kind'],
            day: Number(r.day),
            readings: Number(r.readings),
            hours: Number(r.hours),
            firstAt: Number(r.first_at),
            lastAt: Number(r.last_at),
            low: Number(r.low),
            high: Number(r.high),
            motion: Number(r.motion ?? 0),
          })
        }
      }
      return out
    },
  }
}

export type ActivityRepository = ReturnType<typeof activityRepository>
