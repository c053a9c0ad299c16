/** A household's telemetry history for the console's charts: water per hour, presence per room, battery per device, alert windows. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { TelemetryHistory } from '../telemetry/queries.js'
import type { ApiContext } from './context.js'
import { errorResponses } from './errors.js'
import { currentUser, requireUser, visibleHousehold } from './guards.js'
import { idParam } from './views.js'

const DAY_MS = 24 * 3_600_000
const HOUR_MS = 3_600_000

const historyView = z.object({
  now: z.number(),
  water: z.object({ from: z.number(), to: z.number(), hourly: z.array(z.object({ at: z.number(), litres: z.number().nullable() })) }),
  presence: z.object({
    from: z.number(),
    to: z.number(),
    rooms: z.array(z.object({ deviceId: z.string(), room: z.string().nullable(), spans: z.array(z.object({ from: z.number(), to: z.number(), state: z.enum(['motion', 'occupied', 'empty']) })) })),
  }),
  battery: z.object({
    from: z.number(),
    to: z.number(),
    devices: z.array(z.object({ deviceId: z.string(), kind: z.string(), room: z.string().nullable(), points: z.array(z.tuple([z.number(), z.number()])) })),
  }),
  alerts: z.array(z.object({ incidentId: z.string(), type: z.string(), category: z.string(), from: z.number(), to: z.number().nullable() })),
})

export const historyRoutes: FastifyPluginAsyncZod<ApiContext & { history: TelemetryHistory }> = async (app, ctx) => {
  app.addHook('onRequest', requireUser(ctx.auth))

  app.get(
    '/:id/history',
    {
      schema: {
        tags: ['households'],
        summary: "The household's history for the charts: water per hour, presence per room, battery per device, and its incidents as alert windows",
        description: 'Hourly water use, presence spans per room, battery readings, and incidents as windows over the chosen spans (docs/history-and-family-api.md).\n\n住户历史数据:用水、活动、电量及告警时段,供图表使用。',
        params: idParam,
        querystring: z.object({
          waterDays: z.coerce.number().int().min(1).max(31).default(7),
          presenceHours: z.coerce.number().int().min(1).max(168).default(48),
          batteryDays: z.coerce.number().int().min(1).max(90).default(7),
        }),
        response: { 200: historyView, ...errorResponses(404) },
      },
    },
    async (request) => {
      const h = await visibleHousehold(ctx.registry, currentUser(request), request.params.id)
      const now = ctx.clock.now()
      const q = request.query
      const w = { waterFrom: now - q.waterDays * DAY_MS, presenceFrom: now - q.presenceHours * HOUR_MS, batteryFrom: now - q.batteryDays * DAY_MS, to: now }
      const earliest = Math.min(w.waterFrom, w.presenceFrom, w.batteryFrom)
      const [charts, devices, incidents] = await Promise.all([
        ctx.history.charts(h.id, w),
        ctx.registry.devices.list({ householdId: h.id }),
        ctx.incidents.list({ householdId: h.id, resolvedSince: earliest, limit: 500 }),
      ])
      const byId = new Map(devices.map((d) => [d.id, d]))
      const described = (deviceId: string) => ({ deviceId, kind: byId.get(deviceId)?.kind ?? 'unknown', room: byId.get(deviceId)?.room ?? null })
      // Presence and battery rows for every installed device that has them, so a silent sensor shows as an empty row.
      const presenceIds = new Set([...devices.filter((d) => d.kind === 'presence').map((d) => d.id), ...charts.presence.keys()])
      const batteryIds = new Set([...charts.battery.keys()])
      return {
        now,
        water: { from: w.waterFrom, to: now, hourly: charts.water },
        presence: { from: w.presenceFrom, to: now, rooms: [...presenceIds].sort().map((id) => ({ deviceId: id, room: byId.get(id)?.room ?? null, spans: charts.presence.get(id) ?? [] })) },
        battery: { from: w.batteryFrom, to: now, devices: [...batteryIds].sort().map((id) => ({ ...described(id), points: charts.battery.get(id) ?? [] })) },
        alerts: incidents
          .filter((i) => i.openedAt <= now)
          .sort((a, b) => a.openedAt - b.openedAt)
          .map((i) => ({ incidentId: i.id, type: i.type, category: i.category, from: i.openedAt, to: i.resolvedAt })),
      }
    },
  )
}
