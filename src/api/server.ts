/** The Fastify server: external plugins, then the API's route plugins, then the dashboards. */
import { existsSync } from 'node:fs'
import fastifyHelmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyError } from 'fastify'
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { FamilyLinks } from '../routing/family-links.js'
import type { Db } from '../store/database.js'
import type { Ingest } from '../ingest/ingest.js'
import type { Metrics } from '../metrics/metrics.js'
import type { TelemetryHistory } from '../telemetry/queries.js'
import { auditRoutes } from './audit-routes.js'
import { authRoutes } from './auth-routes.js'
import { clockRoutes, type TimeTravel } from './clock-routes.js'
import { communityRoutes } from './community-routes.js'
import type { ApiContext } from './context.js'
import { deviceRoutes } from './device-routes.js'
import { API_ERRORS, ApiError, type ApiErrorCode } from './errors.js'
import { asyncApiRoutes } from './asyncapi.js'
import { familyRoutes } from './family-routes.js'
import { fleetRoutes } from './fleet-routes.js'
import { historyRoutes } from './history-routes.js'
import { householdRoutes } from './household-routes.js'
import { importRoutes } from './import-routes.js'
import { incidentRoutes } from './incident-routes.js'
import { ingestRoutes } from './ingest-routes.js'
import { metricsRoutes } from './metrics-routes.js'
import { declareStructuralErrors } from './openapi.js'
import { reportRoutes } from './report-routes.js'
import { serviceTicketRoutes } from './service-ticket-routes.js'
import { statsRoutes } from './stats-routes.js'
import { userRoutes } from './user-routes.js'
import { visitRoutes } from './visit-routes.js'

export async function createHttpServer(ctx: ApiContext & { log: Logger; dashboardsDir: string; connectedDevices: () => number; timeTravel?: TimeTravel; db: Db; links: FamilyLinks; vapidPublicKey: string; pushServices: readonly string[]; familyRequestsPerMin: number; ingest: Ingest; history: TelemetryHistory; publicUrl: string; familyViewTtlMs: number; metrics: Metrics; metricsToken: string | undefined }) {
  // Request logs at warn: a console polls often, and per-request lines would bury the alarms.
  const app = Fastify({ loggerInstance: ctx.log.child({ component: 'http' }, { level: 'warn' }), bodyLimit: 64 * 1024 })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorateRequest('user', null)
  app.decorateRequest('sessionExpiresAt', null)
  // Before any route: every route's 400 and 401 are declared from its schema (api/openapi.ts).
  app.addHook('onRoute', declareStructuralErrors)

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send({ error: err.code, message: err.message })
    if (hasZodFastifySchemaValidationErrors(err)) {
      const message = err.validation
        .map((v) => `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}: ${v.message}`)
        .join('; ')
      return reply.code(400).send({ error: 'VALIDATION', message })
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // The code of that status where there is one (the declared error body of a 401 says UNAUTHORIZED).
      const code = (Object.keys(API_ERRORS) as ApiErrorCode[]).find((c) => API_ERRORS[c] === err.statusCode) ?? 'VALIDATION'
      return reply.code(err.statusCode).send({ error: code, message: err.message })
    }
    request.log.error({ err }, 'request failed')
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' })
  })

  // Pages carry tokens in their URL (family links): no referrer, no framing, nothing run that we
  // did not serve (docs/security.md §web). The Vue builds and Swagger UI load scripts from files;
  // their styles set inline attributes. Plain HTTP in embedded mode: HSTS is for the proxy in front.
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  })

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Anju API', description: 'Elder-safety platform: households, devices, incidents. The live channels (Socket.IO) are in /docs/asyncapi.json and docs/realtime.md.\n\n安居平台接口;实时推送见 /docs/asyncapi.json。', version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
  // The live channels (Socket.IO), beside the REST document.
  await app.register(asyncApiRoutes)

  await app.register(authRoutes, { ...ctx, prefix: '/api' })
  await app.register(communityRoutes, { ...ctx, prefix: '/api/communities' })
  await app.register(householdRoutes, { ...ctx, prefix: '/api/households' })
  await app.register(historyRoutes, { ...ctx, prefix: '/api/households' })
  await app.register(deviceRoutes, { ...ctx, prefix: '/api/devices' })
  await app.register(fleetRoutes, { ...ctx, prefix: '/api/fleet' })
  await app.register(incidentRoutes, { ...ctx, prefix: '/api/incidents' })
  await app.register(userRoutes, { ...ctx, prefix: '/api/users' })
  await app.register(visitRoutes, { ...ctx, prefix: '/api/visits' })
  await app.register(familyRoutes, { ...ctx, requestsPerMin: ctx.familyRequestsPerMin, familyViewBuilt: existsSync(`${ctx.dashboardsDir}/family.html`) })
  await app.register(ingestRoutes, ctx)
  await app.register(serviceTicketRoutes, { ...ctx, prefix: '/api/service-tickets' })
  await app.register(statsRoutes, { ...ctx, prefix: '/api/stats' })
  await app.register(auditRoutes, { ...ctx, prefix: '/api/audit' })
  await app.register(reportRoutes, { ...ctx, prefix: '/api/reports' })
  await app.register(importRoutes, { ...ctx, prefix: '/api/import' })
  await app.register(metricsRoutes, ctx)
  if (ctx.timeTravel) {
    await app.register(clockRoutes, { ...ctx, timeTravel: ctx.timeTravel, prefix: '/api/clock' })
    // On the virtual clock the pages read "now" from the Date header (the family view's "tomorrow"), so it tells the platform's time.
    const timeTravel = ctx.timeTravel
    app.addHook('onSend', async (_request, reply) => {
      reply.header('date', new Date(timeTravel.now()).toUTCString())
    })
  }
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }))

  if (existsSync(ctx.dashboardsDir)) {
    await app.register(fastifyStatic, { root: ctx.dashboardsDir, prefix: '/' })
  }
  return app
}
