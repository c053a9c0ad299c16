/** Process shell: read config, build the app, start it, and close it cleanly on a signal. */
import { createApp, PortInUseError } from './app.js'
import { ConfigError, loadConfig } from './config.js'

async function main(): Promise<void> {
  const config = loadConfig()
  const app = await createApp(config)
  let started
  try {
    started = await app.start()
  } catch (err) {
    await app.close().catch(() => undefined)
    throw err
  }
  const { httpPort, mqttPort, mqttTlsPort, admin, demo } = started
  const lines = [
    '',
    '  安居 Anju is running',
    `  Console   http://localhost:${httpPort}/        API docs http://localhost:${httpPort}/docs`,
    `  MQTT      mqtt://localhost:${mqttPort}        ws://localhost:${httpPort}/mqtt`,
    ...(mqttTlsPort ? [`  MQTT/TLS  mqtts://localhost:${mqttTlsPort}`] : []),
  ]
  if (config.ANJU_CLOCK === 'virtual') lines.push(`  TEST MODE  virtual clock at ${new Date(app.clock.now()).toISOString()}; advance it with POST /api/clock/advance`)
  if (admin.generatedPassword) lines.push(`  Admin     admin / ${admin.generatedPassword}   (printed once; set ANJU_ADMIN_PASSWORD to choose it)`)
  for (const op of demo?.operators ?? []) lines.push(`  Operator  ${op.username} / ${op.password}   (${op.community}, printed once)`)
  if (demo) {
    const { householdId, contactId, elderName } = demo.familyContact
    // Printed, so it may end up in a log: it lives a day, not the months of a link handed to a family (docs/security.md §links).
    const hours = config.ANJU_FAMILY_LINK_TTL_HOURS
    const token = app.links.viewToken({ householdId, contactId, expiresAt: app.clock.now() + hours * 3_600_000, version: 0 })
    lines.push(`  Family    http://localhost:${httpPort}/family.html?t=${encodeURIComponent(token)}   (${elderName}'s family view, printed once, valid ${hours} h; the console's 家属查看链接 makes another)`)
    lines.push(`  Demo devices written to ${config.ANJU_DEMO_FLEET_FILE}; press an SOS with: npm run sim -- sos btn-0001`)
  }
  process.stdout.write(lines.join('\n') + '\n\n')

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof PortInUseError) {
    process.stderr.write(`anju: ${err.message}\n`)
  } else {
    process.stderr.write(`anju: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  }
  process.exit(1)
})
