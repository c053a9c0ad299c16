/**
 * What `npm start` decides and prints before and after the app starts: the log format, where a
 * time-warp run keeps its data, and the start banner. The decisions are pure (tests/startup.test.ts);
 * main.ts does the I/O.
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import type { AdminBootstrap } from './auth/bootstrap.js'
import type { Config } from './config.js'

export type LogFormat = 'pretty' | 'json'

/**
 * Human-readable lines for a person at a terminal; JSON, one object a line, for everything else
 * (a log collector, systemd, a pipe), unless ANJU_LOG_FORMAT says otherwise.
 */
export function logFormat(setting: 'auto' | 'pretty' | 'json' | undefined, stdoutIsTTY: boolean): LogFormat {
  if (setting === 'pretty' || setting === 'json') return setting
  return stdoutIsTTY ? 'pretty' : 'json'
}

/**
 * The process's logger, written synchronously so every start-up line is out before the banner.
 * Pretty output goes through pino-pretty; without pino-pretty installed it stays JSON and says why.
 */
export async function createLogger(level: Config['ANJU_LOG_LEVEL'], format: LogFormat): Promise<{ log: Logger; note?: string }> {
  // Synchronous: pino's default stdout writes asynchronously, and a line still in flight would land
  // after the banner (its flush does not wait for it). The volume is modest (per-finding lines are debug).
  if (format === 'json') return { log: pino({ level }, pino.destination({ dest: 1, sync: true })) }
  // A variable, so the type-check does not require the package (it is optional at run time).
  const name = 'pino-pretty'
  try {
    const pretty = ((await import(name)) as { default: (o: Record<string, unknown>) => DestinationStream }).default
    return { log: pino({ level }, pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })) }
  } catch {
    return { log: pino({ level }, pino.destination({ dest: 1, sync: true })), note: 'pino-pretty is not installed: logs stay JSON (npm install restores it)' }
  }
}

/**
 * Time-warp (ANJU_CLOCK=virtual) on the quick start's ./data would meet the users made at the
 * first start (ANJU_ADMIN_PASSWORD then does nothing) and a week of real-time history: unless a
 * store is named explicitly, a time-warp run gets a fresh directory of its own.
 * Returns the variables to add to the environment, or null to leave it alone.
 */
export function timeWarpStore(env: Record<string, string | undefined>, freshDir: () => string): Record<string, string> | null {
  if (env.ANJU_CLOCK !== 'virtual') return null
  if (env.ANJU_DB_PATH || env.ANJU_DB_URL || env.ANJU_HISTORY_DB_PATH) return null
  const dir = freshDir()
  return {
    ANJU_DB_PATH: `${dir}/anju.db`,
    ...(env.ANJU_DEMO_FLEET_FILE ? {} : { ANJU_DEMO_FLEET_FILE: `${dir}/demo-fleet.json` }),
  }
}

export interface BannerInput {
  httpPort: number
  mqttPort: number
  mqttTlsPort: number | null
  admin: AdminBootstrap
  adminPasswordGiven: boolean
  operators: { username: string; password: string; community: string; role?: 'visitor' }[]
  family?: { url: string; elderName: string; hours: number }
  fleetFile?: string
  /** Set when the clock is virtual: where it stands, and the fresh data directory, when one was made. */
  timeWarp?: { at: number; dataDir: string | null }
  /** Where the store is (ANJU_DB_PATH, or "PostgreSQL"), for the warning about an ignored admin password. */
  store: string
  logNote?: string
}

const DEFAULT_MQTT_PORT = 1883
const DEFAULT_FLEET_FILE = './data/demo-fleet.json'

/** The banner, printed after the start-up logs so that it is the last thing on screen. */
export function startBanner(b: BannerInput): string[] {
  const lines = [
    '',
    '  安居 Anju is running',
    `  Console   http://localhost:${b.httpPort}/        API docs http://localhost:${b.httpPort}/docs`,
    `  MQTT      mqtt://localhost:${b.mqttPort}        ws://localhost:${b.httpPort}/mqtt`,
    ...(b.mqttTlsPort ? [`  MQTT/TLS  mqtts://localhost:${b.mqttTlsPort}`] : []),
  ]
  if (b.timeWarp) {
    lines.push(`  TEST MODE virtual clock at ${new Date(b.timeWarp.at).toISOString()}; advance it with POST /api/clock/advance`)
    if (b.timeWarp.dataDir) lines.push(`  Data      ${b.timeWarp.dataDir} (fresh for this time-warp run, removed when it stops; set ANJU_DB_PATH to keep one)`)
  }
  if (b.admin.generatedPassword) lines.push(`  Admin     admin / ${b.admin.generatedPassword}   (printed once; set ANJU_ADMIN_PASSWORD to choose it)`)
  else if (b.admin.created && b.adminPasswordGiven) lines.push('  Admin     admin / the password in ANJU_ADMIN_PASSWORD')
  if (b.admin.passwordIgnored) {
    lines.push(
      `  WARNING   ANJU_ADMIN_PASSWORD was not used: ${b.store} already has users, and the variable only sets the first admin's password.`,
      '            Log in with the admin password printed at its first start, or start afresh: stop the platform, delete that',
      '            database (./data by default) and start again; or run time-warp, which uses a fresh directory of its own.',
    )
  }
  for (const op of b.operators) {
    if (op.role === 'visitor') lines.push(`  Visitor   ${op.username} / ${op.password}   (${op.community} 探访员, http://localhost:${b.httpPort}/visitor.html, printed once)`)
    else lines.push(`  Operator  ${op.username} / ${op.password}   (${op.community}, printed once)`)
  }
  if (b.family) {
    lines.push(`  Family    ${b.family.url}   (${b.family.elderName}'s family view, printed once, valid ${b.family.hours} h; the console's 家属查看链接 makes another)`)
  }
  if (b.fleetFile) {
    // The simulator reads the same variables: the hint works as printed, also on other ports.
    const env = [
      ...(b.mqttPort !== DEFAULT_MQTT_PORT ? [`ANJU_MQTT_PORT=${b.mqttPort}`] : []),
      ...(b.fleetFile !== DEFAULT_FLEET_FILE ? [`ANJU_DEMO_FLEET_FILE=${b.fleetFile}`] : []),
    ]
    lines.push(`  Demo devices written to ${b.fleetFile}; press an SOS with: ${[...env, 'npm run sim -- sos btn-0001'].join(' ')}`)
  }
  if (b.logNote) lines.push(`  Note      ${b.logNote}`)
  return lines
}
