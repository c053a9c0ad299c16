/**
 * The OpenAPI document (/docs, /docs/json) is generated from the zod schemas the routes validate
 * and serialize with. Two error answers follow from a route's schema alone, so they are declared
 * here for every route rather than by each: 400 when it validates a body, query or path, 401
 * unless its `security` is `[]` (a public route says so), and 403 for a visitor's login where the
 * route does not open itself to visitors. The others (403, 404, 409, 429) a route
 * declares itself with `...errorResponses(...)` from errors.ts. tests/api/openapi.test.ts checks
 * the document against what the routes really answer.
 */
import type { RouteOptions } from 'fastify'
import { apiErrorBody } from './errors.js'

interface RouteSchema {
  hide?: boolean
  body?: unknown
  querystring?: unknown
  params?: unknown
  security?: unknown[]
  response?: Record<string, unknown>
}

/** An `onRoute` hook: adds the 400 and 401 a route can answer to its response schemas. */
export function declareStructuralErrors(route: RouteOptions): void {
  const schema = route.schema as RouteSchema | undefined
  if (!schema || schema.hide) return
  const response = { ...schema.response }
  if ((schema.body || schema.querystring || schema.params) && !response[400]) response[400] = apiErrorBody(400)
  const needsLogin = schema.security === undefined || schema.security.length > 0
  if (needsLogin && !response[401]) response[401] = apiErrorBody(401)
  // A visitor's login reaches only the routes that opt in (guards.ts requireUser): 403 elsewhere.
  if (needsLogin && !route.config?.visitor && !response[403]) response[403] = apiErrorBody(403)
  schema.response = response
}
