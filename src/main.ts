/** Process shell: read config, build the app, start it, print the banner, and close it cleanly on a signal. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, PortInUseError } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { createLogger, logFormat, startBanner, timeWarpStore } from './startup.js'

async function main(): Promise<void> {
  // Only when the environment asks for time-warp without naming a store (startup.ts).
  let timeWarpDir: string | null = null
  const timeWarpEnv = timeWarpStore(process.env, () => (timeWarpDir = mkdtempSync(join(tmpdir(), 'anju-time-warp-'))))
  const config = loadConfig({ ...process.env, ...timeWarpEnv })
  const removeTimeWarpDir = () => timeWarpDir && rmSync(timeWarpDir, { recursive: true, force: true })
  const { log, note } = await createLogger(config.ANJU_LOG_LEVEL, logFormat(config.ANJU_LOG_FORMAT, process.stdout.isTTY === true))
  const app = await createApp(config, { log })
  let started
  try {
    started = await app.start()
  } catch (err) {
    await app.close().catch(() => undefined)
    removeTimeWarpDir()
    throw err
  }
  const { httpPort, mqttPort, mqttTlsPort, admin, demo } = started
  // Before the banner: whoever reads it may stop the platform at once, and that must close it cleanly.
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    app.close().then(
      () => {
        removeTimeWarpDir()
        process.exit(0)
      },
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))

  let family
  if (demo) {
    const { householdId, contactId, elderName } = demo.familyContact
    // Printed, so it may end up in a log: it lives a day, not the months of a link handed to a family (docs/security.md §links).
    const hours = config.ANJU_FAMILY_LINK_TTL_HOURS
    const token = app.links.viewToken({ householdId, contactId, expiresAt: app.clock.now() + hours * 3_600_000, version: 0 })
    family = { url: `http://localhost:${httpPort}/family.html?t=${encodeURIComponent(token)}`, elderName, hours }
  }
  const lines = startBanner({
    httpPort,
    mqttPort,
    mqttTlsPort,
    admin,
    adminPasswordGiven: config.ANJU_ADMIN_PASSWORD !== undefined,
    operators: demo?.operators ?? [],
    ...(family ? { family, fleetFile: config.ANJU_DEMO_FLEET_FILE } : {}),
    ...(config.ANJU_CLOCK === 'virtual' ? { timeWarp: { at: app.clock.now(), dataDir: timeWarpDir } } : {}),
    store: config.ANJU_DB_URL ? 'the PostgreSQL database' : config.ANJU_DB_PATH,
    ...(note ? { logNote: note } : {}),
  })
  // After every start-up log line (the logger writes synchronously), so it is the last thing on screen.
  process.stdout.write(lines.join('\n') + '\n\n')
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof PortInUseError) {
    process.stderr.write(`anju: ${err.message}\n`)
  } else {
    process.stderr.write(`anju: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  }
  process.exit(1)
})
