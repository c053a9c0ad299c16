/**
 * Contract v1 §Vendor platforms: devices behind a carrier's NB-IoT platform POST the same
 * payloads over HTTP, authenticated per device (HTTP Basic: device id and secret), with the same
 * validation and idempotency as MQTT. 200 means recorded (the PUBACK of this path); a failure to
 * record answers 503 so the vendor platform retries with the same message id.
 */
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { UPLINK_CHANNELS, isDeviceId } from '../contract/index.js'
import type { Ingest } from '../ingest/ingest.js'
import { NOT_LOGGED_IN } from '../ingest/stats.js'
import { verifyDeviceSecret } from '../shared/secrets.js'
import type { ApiContext } from './context.js'
import { errorResponses } from './errors.js'

function basicAuth(request: FastifyRequest): { user: string; password: string } | null {
  const header = request.headers.authorization
  if (!header?.startsWith('Basic ')) return null
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

export const ingestRoutes: FastifyPluginAsyncZod<ApiContext & { ingest: Ingest }> = async (app, ctx) => {
  // The payload is read as bytes: ingest decodes it exactly as it does an MQTT payload.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  app.post(
    '/ingest/v1/dev/:deviceId/:channel',
    {
      bodyLimit: 64 * 1024,
      schema: {
        tags: ['devices'],
        summary: 'HTTP ingest for vendor platforms (NB-IoT): the MQTT payloads of contract v1, authenticated with HTTP Basic (device id : secret)',
        description:
          'Contract v1 §Vendor platforms (docs/device-contract.md). 200 means recorded; 400 names what is wrong with the payload; 429 asks to send the same message again after Retry-After; 503 means not recorded, send the same message again.\n\n供运营商平台(NB-IoT)经 HTTP 上报设备消息,用设备号和密码认证。',
        security: [{ basic: [] }],
        params: z.object({ deviceId: z.string().max(64), channel: z.enum(UPLINK_CHANNELS) }),
        response: { 200: z.object({ result: z.enum(['accepted', 'duplicate']) }), ...errorResponses(400, 401, 429, 503) },
      },
    },
    async (request, reply) => {
      const { deviceId, channel } = request.params
      const creds = basicAuth(request)
      const identity = isDeviceId(deviceId) ? await ctx.registry.devices.identity(deviceId) : undefined
      if (!creds || creds.user !== deviceId || !identity || !verifyDeviceSecret(creds.password, identity.secretHash)) {
        // Nobody proved who they are: the shared entry, never the device the path names (anyone can name it).
        ctx.stats.count(NOT_LOGGED_IN, 'refused', 'HTTP ingest: not authorized')
        return reply.code(401).header('www-authenticate', 'Basic realm="anju-devices"').send({ error: 'UNAUTHORIZED', message: 'device id and secret do not match' })
      }
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      let result
      try {
        result = await ctx.ingest.handle(identity, channel, body)
      } catch (err) {
        request.log.error({ err, deviceId }, 'HTTP ingest: not recorded')
        return reply.code(503).send({ error: 'UNAVAILABLE', message: 'not recorded; send the same message again' })
      }
      if (result === 'limited') {
        // At least a second: the bucket may have filled a little since the message was limited.
        const retryAfter = Math.max(1, ctx.ingest.retryAfterS(deviceId))
        return reply.code(429).header('retry-after', String(retryAfter)).send({ error: 'TOO_MANY_ATTEMPTS', message: `over this device's publish rate; send it again in ${retryAfter} s` })
      }
      if (result === 'dropped') {
        return reply.code(400).send({ error: 'VALIDATION', message: ctx.stats.device(deviceId)?.lastReason ?? 'invalid payload' })
      }
      return { result }
    },
  )
}
