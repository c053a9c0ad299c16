/** History reads for the API: the store's readings shaped by the pure functions in history.ts. */
import type { Db } from '../store/database.js'
import { telemetryRepository } from '../store/telemetry.js'
import { batteryPoints, lastWaterUse, presenceSpans, PRESENCE_STALE_MS, waterPerHour, type HourlyWater, type PresenceSpan } from './history.js'

export interface ChartWindows {
  waterFrom: number
  presenceFrom: number
  batteryFrom: number
  to: number
}

export interface HouseholdCharts {
  water: HourlyWater[]
  presence: Map<string, PresenceSpan[]>
  battery: Map<string, [number, number][]>
}

/** How many of the newest water readings are searched for the last use (a day of 15-minute readings from several meters). */
const WATER_LOOKBACK = 500

export function createTelemetryHistory(db: Db) {
  const repo = telemetryRepository(db)
  return {
    async charts(householdId: string, w: ChartWindows): Promise<HouseholdCharts> {
      const [water, presence, battery] = await Promise.all([
        repo.range(householdId, ['water'], w.waterFrom, w.to),
        repo.range(householdId, ['presence'], w.presenceFrom - PRESENCE_STALE_MS, w.to),
        repo.range(householdId, ['battery'], w.batteryFrom, w.to),
      ])
      return { water: waterPerHour(water, w.waterFrom, w.to), presence: presenceSpans(presence, w.presenceFrom, w.to), battery: batteryPoints(battery) }
    },

    /** The newest sign of someone at home: motion, occupancy, or the door. */
    async lastActivity(householdId: string, now: number): Promise<{ at: number; deviceId: string } | null> {
      const [presence, door] = await Promise.all([repo.latestPresence(householdId, now), repo.latest(householdId, 'door', now, 1)])
      const candidates = [presence, door[0]].filter((s) => s !== undefined)
      const newest = candidates.sort((a, b) => b.at - a.at)[0]
      return newest ? { at: newest.at, deviceId: newest.deviceId } : null
    },

    async lastWaterUse(householdId: string, now: number): Promise<number | null> {
      return lastWaterUse(await repo.latest(householdId, 'water', now, WATER_LOOKBACK))
    },
  }
}

export type TelemetryHistory = ReturnType<typeof createTelemetryHistory>
