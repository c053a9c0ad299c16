/**
 * Every setting Anju reads from the environment, validated once at start-up.
 * A bad value stops start-up with a message naming the variable and what is allowed.
 */
import { z } from 'zod'

const port = z.coerce.number().int().min(0).max(65535)
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')

export const configSchema = z.object({
  ANJU_HTTP_HOST: z.string().min(1).default('0.0.0.0').describe('address the HTTP/WebSocket server binds'),
  ANJU_HTTP_PORT: port.default(8080).describe('HTTP port: REST API, dashboards, Socket.IO, MQTT over WebSocket at /mqtt'),
  ANJU_MQTT_HOST: z.string().min(1).default('0.0.0.0').describe('address the MQTT TCP listener binds'),
  ANJU_MQTT_PORT: port.default(1883).describe('MQTT TCP port for devices'),
  ANJU_MQTT_TLS_PORT: port.default(8883).describe('MQTT over TLS, when ANJU_MQTT_TLS_CERT and ANJU_MQTT_TLS_KEY are set'),
  ANJU_MQTT_TLS_CERT: z.string().min(1).optional().describe('PEM certificate file for MQTT over TLS'),
  ANJU_MQTT_TLS_KEY: z.string().min(1).optional().describe('PEM private key file for MQTT over TLS'),
  ANJU_DB_PATH: z.string().min(1).default('./data/anju.db').describe('embedded SQLite database file'),
  ANJU_HISTORY_DB_PATH: z.string().min(1).optional().describe('embedded SQLite file for readings (charts), written by its own thread; default beside ANJU_DB_PATH (anju-history.db)'),
  ANJU_DB_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional()
    .describe('PostgreSQL instead of the embedded SQLite file, e.g. postgres://anju@db:5432/anju'),
  ANJU_DB_SYNC: z.enum(['FULL', 'NORMAL']).default('FULL').describe('SQLite synchronous mode: FULL survives power loss'),
  ANJU_DB_BUSY_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(5000).describe('how long a write waits for a locked database before it fails'),
  ANJU_ADMIN_PASSWORD: z.string().min(8).optional().describe('password of the first admin; generated and printed once when absent'),
  ANJU_DEMO: bool.default(true).describe('seed a demo district when the database is empty'),
  ANJU_DEMO_FLEET_FILE: z.string().min(1).default('./data/demo-fleet.json').describe('where the demo seed writes its device credentials for the simulator'),
  ANJU_SESSION_TTL_HOURS: z.coerce.number().positive().max(24 * 90).default(12).describe('operator login lifetime'),
  ANJU_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ANJU_LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto').describe('auto: readable lines on a terminal, JSON otherwise'),
  ANJU_CLOCK: z
    .enum(['system', 'virtual'])
    .default('system')
    .describe('virtual = test mode: time stands still until an admin advances it (POST /api/clock/advance); never for production'),
  ANJU_CLOCK_START: z.coerce.number().int().positive().optional().describe('virtual clock start, epoch ms (default: now)'),
  ANJU_PUBLIC_URL: z.string().url().default('http://localhost:8080').describe('the address families open their answer links at'),
  ANJU_FAMILY_LINK_TTL_HOURS: z.coerce.number().positive().max(24 * 30).default(24).describe('how long a family answer link works'),
  ANJU_FAMILY_VIEW_TTL_DAYS: z.coerce.number().positive().max(366).default(90).describe('how long a family view link (status of one elder) works'),
  ANJU_TELEMETRY_RETENTION_DAYS: z.coerce.number().int().min(8).max(3650).default(30).describe('how long readings are kept for the charts (at least the 7-day water chart)'),
  ANJU_SMS_ALIYUN_ACCESS_KEY_ID: z.string().min(1).optional().describe('Alibaba Cloud SMS: set these four to send SMS'),
  ANJU_SMS_ALIYUN_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  ANJU_SMS_ALIYUN_SIGN_NAME: z.string().min(1).optional().describe('the approved SMS signature (签名)'),
  ANJU_SMS_ALIYUN_TEMPLATE_CODE: z.string().min(1).optional().describe('the approved template, variables name, type, address, link'),
  ANJU_SMS_ALIYUN_ENDPOINT: z.string().url().default('https://dysmsapi.aliyuncs.com/'),
  ANJU_SMTP_URL: z.string().min(1).optional().describe('e-mail: smtp://user:pass@host:587 (or smtps://…)'),
  ANJU_SMTP_FROM: z.string().min(3).default('安居 Anju <noreply@anju.local>'),
  ANJU_NOTICES_PER_RECIPIENT: z.coerce.number().int().min(1).default(6).describe('at most this many notices to one person per 10 minutes (an SOS is never held back)'),
  ANJU_FAMILY_REQUESTS_PER_MIN: z.coerce.number().int().min(10).default(300).describe('requests one address may make to the family pages and their API per minute (no login there)'),
  ANJU_PUSH_SERVICES: z
    .string()
    .default('fcm.googleapis.com,updates.push.services.mozilla.com,*.push.services.mozilla.com,web.push.apple.com,*.push.apple.com,*.notify.windows.com')
    .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0))
    .pipe(z.array(z.string().regex(/^(\*\.)?[a-z0-9.-]+(:\d+)?$/, 'a host, *.suffix or host:port')).min(1))
    .describe('push services a family browser may subscribe with (comma-separated hosts, *.suffix); no other endpoint is ever called'),
  ANJU_VAPID_SUBJECT: z.string().regex(/^(mailto:|https:)/, 'mailto: or https: URL').default('mailto:admin@anju.local').describe('Web Push contact'),
  ANJU_INFLUX_URL: z.string().url().optional().describe('InfluxDB 2 (or any server of its v2 write API) to write every reading to, e.g. http://influxdb:8086'),
  ANJU_INFLUX_TOKEN: z.string().min(1).optional().describe('InfluxDB API token with write access to the bucket'),
  ANJU_INFLUX_ORG: z.string().min(1).optional().describe('InfluxDB organisation'),
  ANJU_INFLUX_BUCKET: z.string().min(1).optional().describe('InfluxDB bucket'),
  ANJU_INFLUX_MAX_BUFFERED: z.coerce.number().int().min(1000).default(500_000).describe('readings held for InfluxDB while it is unreachable; past this the oldest are dropped (and counted)'),
  ANJU_METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional().describe('bearer token Prometheus scrapes /metrics with (an admin session works too)'),
  ANJU_MQTT_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000).describe('how long a frozen subscriber may block delivery before it is dropped'),
  ANJU_MQTT_MAX_PACKET_BYTES: z.coerce.number().int().min(1024).max(268_435_455).default(16_384).describe('largest MQTT packet accepted (fixed header excluded); a larger one closes the connection before its body is read'),
  ANJU_MQTT_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(500).max(60_000).default(5000).describe('a connection that has not sent CONNECT within this is closed'),
  ANJU_MQTT_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(50_000).describe('MQTT connections open at once (TCP, TLS and WebSocket together)'),
  ANJU_MQTT_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(5000).describe('MQTT connections open at once from one address (devices behind a carrier NAT share one)'),
  ANJU_MQTT_MAX_PENDING_PER_ADDRESS: z.coerce.number().int().min(1).default(64).describe('connections from one address that have not yet logged in'),
  ANJU_DEVICE_RATE_PER_S: z.coerce.number().positive().max(100_000).default(10).describe("messages a second one device may send, sustained (MQTT and HTTP ingest); telemetry and status over it are dropped and counted, an alarm never is"),
  ANJU_DEVICE_RATE_BURST: z.coerce.number().int().min(1).max(1_000_000).default(1000).describe('messages one device may send at once after a quiet spell (a meter uploading four days of 15-minute readings sends 384)'),
}).superRefine((c, ctx) => {
  // InfluxDB takes all four or none: a half-configured writer would fail on every batch.
  const influx = ['ANJU_INFLUX_URL', 'ANJU_INFLUX_TOKEN', 'ANJU_INFLUX_ORG', 'ANJU_INFLUX_BUCKET'] as const
  const given = influx.filter((k) => c[k] !== undefined)
  if (given.length > 0 && given.length < influx.length) {
    for (const k of influx.filter((k) => c[k] === undefined)) ctx.addIssue({ code: 'custom', path: [k], message: `required when ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} set` })
  }
})

export type Config = z.infer<typeof configSchema>

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Parses the environment; throws a ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(configSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  )
  const parsed = configSchema.safeParse(relevant)
  if (parsed.success) return parsed.data
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0])
    return `  ${name}=${JSON.stringify(env[name])}: ${issue.message}${describeAllowed(name)}`
  })
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
}

function describeAllowed(name: string): string {
  const field = configSchema.shape[name as keyof typeof configSchema.shape]
  const description = field?.description
  return description ? ` (${description})` : ''
}
