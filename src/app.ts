/**
 * The composition root: builds every capability from a validated config and wires them.
 * Tests build the same app with ephemeral ports, a temporary database and a virtual clock.
 */
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { pino, type Logger } from 'pino'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { createHttpServer } from './api/server.js'
import { createAuth } from './auth/auth.js'
import { ensureAdmin, type AdminBootstrap } from './auth/bootstrap.js'
import { createBroker } from './broker/broker.js'
import { createReadBudget } from './broker/read-budget.js'
import type { Config } from './config.js'
import { createDemoKeeper, DEMO_WARP_STEP_MS } from './demo/keeper.js'
import { seedDemoIfEmpty, type DemoSeed } from './demo/seed.js'
import { createDetectors, type DetectorEvents } from './detectors/service.js'
import { createDeviceCommands } from './delivery/device-commands.js'
import type { ChannelName } from './delivery/channels/channel.js'
import { channelsFromConfig } from './delivery/channels/index.js'
import { generateVapidKeys } from './delivery/channels/webpush.js'
import { createOutbox } from './delivery/outbox.js'
import { createFamilyRealtime } from './delivery/family-realtime.js'
import { createRealtime } from './delivery/realtime.js'
import { createFamilyLinks } from './routing/family-links.js'
import { createFamilyWatch } from './routing/family-watch.js'
import { createQuestions } from './routing/questions.js'
import { QUESTION_ID_PREFIX } from './detectors/activity.js'
import { createRouting, type RoutingEvents } from './routing/service.js'
import { createReports } from './reports/service.js'
import { auditRepository } from './store/audit.js'
import { detectorStateRepository } from './store/detector-states.js'
import { outboxRepository } from './store/outbox.js'
import { settingsRepository } from './store/settings.js'
import { createDedupPruner } from './incidents/dedup-pruner.js'
import { createIncidents, type IncidentEvents } from './incidents/service.js'
import { createServiceTickets } from './service-requests/service.js'
import { createDeviceHealth } from './ingest/device-health.js'
import { createTelemetryDedup } from './ingest/dedup.js'
import { createIngest, type IngestEvents } from './ingest/ingest.js'
import { createDeviceRates } from './ingest/rates.js'
import { createIngestStats } from './ingest/stats.js'
import { createMetrics } from './metrics/metrics.js'
import { createTelemetryHistory } from './telemetry/queries.js'
import { createInfluxWriter } from './telemetry/influx.js'
import { createHistoryWriter } from './telemetry/history-writer.js'
import { createTelemetrySink } from './telemetry/sink.js'
import { activityRepository } from './store/activity.js'
import { historyPathBeside, openHistoryStore, type HistoryLocation } from './store/history.js'
import { systemClock, virtualClock, type Clock, type VirtualClock } from './shared/clock.js'
import { EventBus } from './shared/events.js'
import { logPacer } from './shared/recent.js'
import { openPostgres, openSqlite, type Db } from './store/database.js'
import { registryRepository, type RegistryEvents } from './store/registry.js'
import { registryImportRepository } from './store/registry-import.js'
import { createRegistryImport } from './registry-import/service.js'
import { telemetryRepository } from './store/telemetry.js'
import { userRepository } from './store/users.js'
import { createVisits } from './visits/service.js'

export type AppEvents = IncidentEvents & IngestEvents & RegistryEvents & RoutingEvents & DetectorEvents

export interface AppOptions {
  clock?: Clock
  log?: Logger
  /** Open a different database (tests use this to reach PostgreSQL or to inject faults). */
  db?: Db
  /** Where readings are kept, when not where the config says (tests on PostgreSQL). */
  history?: HistoryLocation
  /**
   * Where the households' monitors run (detectors/link.ts): their own thread (the default), or the
   * caller's, for tests that move `clock` by hand and expect a check to fire within the move.
   */
  detectorsThread?: 'worker' | 'caller'
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError'
}

/** Built by `npm run build:dashboards` (npm start and npm test run it first). */
const DASHBOARDS_DIR = fileURLToPath(new URL('../dashboards/dist', import.meta.url))

export async function createApp(config: Config, options: AppOptions = {}) {
  const virtual: VirtualClock | undefined = config.ANJU_CLOCK === 'virtual' ? virtualClock(config.ANJU_CLOCK_START ?? Date.now()) : undefined
  const clock = options.clock ?? virtual ?? systemClock()
  const log = options.log ?? pino({ level: config.ANJU_LOG_LEVEL })
  const db =
    options.db ??
    (config.ANJU_DB_URL
      ? await openPostgres({ url: config.ANJU_DB_URL })
      : await openSqlite({ path: config.ANJU_DB_PATH, synchronous: config.ANJU_DB_SYNC, busyTimeoutMs: config.ANJU_DB_BUSY_TIMEOUT_MS }))

  const registry = registryRepository(db)
  // Made at first start and kept: links stay valid and browsers stay subscribed across restarts.
  const settings = settingsRepository(db)
  const links = createFamilyLinks(await settings.getOrCreate('family_link_key', () => randomBytes(32).toString('base64url')))
  const vapid = JSON.parse(await settings.getOrCreate('vapid_keys', () => JSON.stringify(generateVapidKeys()))) as { publicKey: string; privateKey: string }
  const users = userRepository(db)
  const bus = new EventBus<AppEvents>(log)
  const stats = createIngestStats()
  const metrics = createMetrics()
  const auth = createAuth({ users, clock, sessionTtlMs: config.ANJU_SESSION_TTL_HOURS * 3_600_000 })
  const incidents = createIncidents({ db, clock, bus, log: log.child({ component: 'incidents' }) })
  const serviceTickets = createServiceTickets({ db, clock, bus, log: log.child({ component: 'service-tickets' }) })
  const dedupPruner = createDedupPruner({ db, clock, log: log.child({ component: 'incidents' }) })

  const health = createDeviceHealth({ db, clock, log })
  const influx =
    config.ANJU_INFLUX_URL && config.ANJU_INFLUX_TOKEN && config.ANJU_INFLUX_ORG && config.ANJU_INFLUX_BUCKET
      ? createInfluxWriter({
          settings: { url: config.ANJU_INFLUX_URL, token: config.ANJU_INFLUX_TOKEN, org: config.ANJU_INFLUX_ORG, bucket: config.ANJU_INFLUX_BUCKET },
          clock,
          log: log.child({ component: 'influx' }),
          maxBuffered: config.ANJU_INFLUX_MAX_BUFFERED,
        })
      : null
  // Readings live apart from alarms, written by a thread of their own (store/history.ts).
  const historyLocation: HistoryLocation =
    options.history ?? (config.ANJU_DB_URL ? { kind: 'postgres', url: config.ANJU_DB_URL } : { kind: 'sqlite', path: config.ANJU_HISTORY_DB_PATH ?? historyPathBeside(config.ANJU_DB_PATH) })
  const historyWriter = createHistoryWriter({
    location: historyLocation,
    // An older version kept readings in the alarm store's file: they move once.
    alarmStorePath: !options.db && !config.ANJU_DB_URL && historyLocation.kind === 'sqlite' ? config.ANJU_DB_PATH : null,
    log: log.child({ component: 'history' }),
    busyTimeoutMs: config.ANJU_DB_BUSY_TIMEOUT_MS,
  })
  await historyWriter.start()
  const historyDb = await openHistoryStore(historyLocation, { writer: false, busyTimeoutMs: config.ANJU_DB_BUSY_TIMEOUT_MS })
  // Their state is saved by the history worker, off this loop (a second's 2,000 households took 0.3 s here).
  const detectorStates = detectorStateRepository(historyDb)
  // docs/operations.md §overload: the pace of the loop's reads; the detectors have their own thread.
  const reads = createReadBudget()
  const detectors = createDetectors({
    states: { load: detectorStates.load, save: historyWriter.saveStates },
    registry,
    incidents,
    bus,
    clock,
    log: log.child({ component: 'detectors' }),
    thread: options.detectorsThread ?? 'worker',
  })
  const telemetrySink = createTelemetrySink({
    writer: historyWriter,
    bus,
    clock,
    log: log.child({ component: 'telemetry' }),
    retentionMs: config.ANJU_TELEMETRY_RETENTION_DAYS * 86_400_000,
    ...(influx ? { forward: influx.write } : {}),
  })
  const notes = new Set<Promise<void>>()
  const channels = channelsFromConfig(config, vapid)
  const outbox = createOutbox({
    db,
    channels,
    clock,
    log: log.child({ component: 'outbox' }),
    rateLimit: () => ({ perRecipient: config.ANJU_NOTICES_PER_RECIPIENT, windowMs: 10 * 60_000 }),
    onOutcome: ({ row, result, error, attempts }) => {
      // A question to the family (routing/questions.ts) belongs to no incident: its delivery is logged.
      if (row.incidentId.startsWith(QUESTION_ID_PREFIX)) {
        log.info({ questionId: row.incidentId, to: row.notification.to.name, channel: row.channel, result, error: error ?? null, attempts }, 'family question delivery')
        return
      }
      const noted = incidents
        .note(row.incidentId, 'notification', 'system:outbox', { to: row.notification.to.name, audience: row.audience, channel: row.channel, result, error: error ?? null, attempts })
        .catch((err: unknown) => log.error({ err }, 'delivery result not recorded'))
      // Shutdown waits for these before closing the store.
      notes.add(noted)
      void noted.finally(() => notes.delete(noted))
    },
  })
  const routing = createRouting({
    db,
    incidents,
    outbox,
    links,
    bus,
    clock,
    log: log.child({ component: 'routing' }),
    publicUrl: config.ANJU_PUBLIC_URL,
    linkTtlMs: config.ANJU_FAMILY_LINK_TTL_HOURS * 3_600_000,
    channels: new Set(Object.keys(channels) as ChannelName[]),
  })
  // A family member on the way who does not arrive in time: back to the operators (docs/operations.md §family).
  const familyWatch = createFamilyWatch({ incidents, bus, clock, log: log.child({ component: 'family-watch' }) })
  const ingestLog = log.child({ component: 'ingest' })
  const storeErrorLog = logPacer()
  const ingest = createIngest({
    incidents,
    health,
    stats,
    bus,
    clock,
    log: ingestLog,
    metrics: metrics.ingest,
    dedup: createTelemetryDedup(telemetryRepository(historyDb), {
      platformNow: () => clock.now(),
      onStoreError: (err) => {
        const held = storeErrorLog.due('history')
        if (held !== null) ingestLog.warn({ err, ...(held > 0 ? { heldBack: held } : {}) }, 'history store did not answer whether a reading was sent before; taken as new')
      },
    }),
    rates: createDeviceRates({ perSecond: config.ANJU_DEVICE_RATE_PER_S, burst: config.ANJU_DEVICE_RATE_BURST }, () => clock.now()),
  })
  const demoKeeper = config.ANJU_DEMO ? createDemoKeeper({ registry, ingest, clock, log: log.child({ component: 'demo' }) }) : null
  const broker = await createBroker({ registry, ingest, stats, log: log.child({ component: 'broker' }), drainTimeoutMs: config.ANJU_MQTT_DRAIN_TIMEOUT_MS,
    limits: {
      maxPacketBytes: config.ANJU_MQTT_MAX_PACKET_BYTES,
      connectTimeoutMs: config.ANJU_MQTT_CONNECT_TIMEOUT_MS,
      maxConnections: config.ANJU_MQTT_MAX_CONNECTIONS,
      maxPerAddress: config.ANJU_MQTT_MAX_CONNECTIONS_PER_ADDRESS,
      maxPendingPerAddress: config.ANJU_MQTT_MAX_PENDING_PER_ADDRESS,
    },
    reads,
  })
  const questions = createQuestions({
    db,
    outbox,
    links,
    bus,
    clock,
    log: log.child({ component: 'questions' }),
    send: broker.sendCommand,
    publicUrl: config.ANJU_PUBLIC_URL,
    channels: new Set(Object.keys(channels) as ChannelName[]),
  })
  const audit = auditRepository(db)
  const visits = createVisits({ db, registry, incidents, audit, bus, clock, log: log.child({ component: 'visits' }), activity: activityRepository(historyDb) })
  const deviceCommands = createDeviceCommands({ send: broker.sendCommand, incidents, tickets: serviceTickets, bus, clock, log: log.child({ component: 'device-commands' }) })
  // Realtime rides on the HTTP server it is built after; the API reaches it through this.
  const realtimeRef: { current?: ReturnType<typeof createRealtime> } = {}
  const familyRealtimeRef: { current?: ReturnType<typeof createFamilyRealtime> } = {}
  const http = await createHttpServer({
    audit,
    reports: createReports({ db, clock }),
    auth,
    visits,
    incidents,
    serviceTickets,
    registry,
    registryImport: createRegistryImport({ registry, store: registryImportRepository(db), clock }),
    users,
    stats,
    clock,
    log,
    announce: {
      householdChanged: (householdId) => bus.emit('household.changed', { householdId }),
      communityChanged: (communityId) => bus.emit('community.changed', { communityId }),
      deviceChanged: (deviceId) => broker.disconnect(deviceId),
      loggedOut: (userId) => realtimeRef.current?.disconnectUser(userId),
      familyLinksRevoked: (contactId) => familyRealtimeRef.current?.disconnectContact(contactId),
    },
    db,
    links,
    ingest,
    vapidPublicKey: vapid.publicKey,
    pushServices: config.ANJU_PUSH_SERVICES,
    familyRequestsPerMin: config.ANJU_FAMILY_REQUESTS_PER_MIN,
    history: createTelemetryHistory(historyDb),
    publicUrl: config.ANJU_PUBLIC_URL,
    metrics,
    metricsToken: config.ANJU_METRICS_TOKEN,
    familyViewTtlMs: config.ANJU_FAMILY_VIEW_TTL_DAYS * 86_400_000,
    notices: (incidentId) => outboxRepository(db).forIncident(incidentId),
    familyQuestions: detectors,
    dashboardsDir: DASHBOARDS_DIR,
    connectedDevices: () => broker.aedes.connectedClients,
    ...(virtual
      ? {
          timeTravel: {
            now: () => virtual.now(),
            async advance(ms: number) {
              // The demo's devices beat while the clock moves (demo/keeper.ts): in steps, so their
              // beats reach the detectors before a long advance outruns their silence allowance.
              const step = demoKeeper ? DEMO_WARP_STEP_MS : ms
              for (let left = ms; left > 0; left -= step) {
                // Each household's check at its time, what it came to back before the clock moves on.
                await detectors.moveClock((to) => virtual.set(to), virtual.now() + Math.min(step, left))
                await demoKeeper?.settle()
                await detectors.settle()
              }
              await questions.settle()
              await routing.settle()
              await familyWatch.settle()
              await visits.settle()
            },
          },
        }
      : {}),
  })
  const realtime = createRealtime({ httpServer: http.server, auth, incidents, registry, bus, clock, log: log.child({ component: 'realtime' }), onAlarmPushed: metrics.alarmPushed })
  realtimeRef.current = realtime
  const familyRealtime = createFamilyRealtime({ io: realtime.io, links, registry, incidents, bus, clock, log: log.child({ component: 'family-realtime' }) })
  familyRealtimeRef.current = familyRealtime

  // MQTT over WebSocket at /mqtt on the HTTP port (contract §Connection).
  // A WebSocket frame carries at most one packet and its header (docs/security.md §broker).
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.ANJU_MQTT_MAX_PACKET_BYTES + 5 })
  http.server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path.startsWith('/socket.io/')) return // Socket.IO takes its own path
    if (path !== '/mqtt') return void socket.destroy()
    wss.handleUpgrade(req, socket, head, (ws) => broker.handle(createWebSocketStream(ws), req.socket.remoteAddress, req))
  })

  const outboxStore = outboxRepository(db)
  metrics.gauge('anju_connected_devices', 'devices connected to the embedded broker', [], () => [[{}, broker.aedes.connectedClients]])
  metrics.gauge('anju_outbox_backlog', 'notices waiting to be sent, by channel', ['channel'], async () => {
    const pending = new Map<string, number>(Object.keys(channels).map((c) => [c, 0]))
    for (const b of await outboxStore.backlog()) pending.set(b.channel, b.pending)
    return [...pending].map(([channel, n]) => [{ channel }, n])
  })
  metrics.gauge('anju_broker_messages', 'device messages since start, all devices, by counter (refused includes refusals before login)', ['counter'], () => Object.entries(stats.totals()).map(([counter, n]) => [{ counter }, n]))
  metrics.gauge('anju_mqtt_connections_waiting', 'device connections read no further this turn: the loop spent its budget (docs/operations.md §overload)', [], () => [[{}, reads.stats().waiting]])
  metrics.gauge('anju_mqtt_reads_held', 'times since start a busy device connection was made to wait for a later turn', [], () => [[{}, reads.stats().held]])
  metrics.gauge('anju_detector_queue', "device inputs handed to the detectors' thread and not yet stepped (docs/operations.md §overload)", [], () => [[{}, detectors.backlog().queued]])
  metrics.gauge('anju_detector_queue_wait_seconds', 'how long the oldest waiting device input has waited', [], () => [[{}, detectors.backlog().oldestWaitMs / 1000]])
  metrics.gauge('anju_detector_inputs_shed', 'device readings the detectors shed since start because too many were waiting', [], () => [[{}, detectors.backlog().shed]])
  metrics.gauge('anju_detector_worker_restarts', "times since start the detectors' thread ended and a new one began from the saved states", [], () => [[{}, detectors.backlog().workerRestarts]])
  metrics.gauge('anju_telemetry_history_buffered', 'readings waiting to be written to the history store', [], () => [[{}, telemetrySink.stats().buffered]])
  if (influx) {
    metrics.gauge('anju_influx_buffered', 'readings waiting to be written to InfluxDB', [], () => [[{}, influx.stats().buffered]])
    metrics.gauge('anju_influx_written', 'readings written to InfluxDB since start', [], () => [[{}, influx.stats().written]])
    metrics.gauge('anju_influx_dropped', 'readings dropped for InfluxDB (its buffer full, or refused as invalid)', [], () => [[{}, influx.stats().dropped]])
    metrics.gauge('anju_influx_lag_seconds', 'age of the oldest reading not yet in InfluxDB', [], () => [[{}, influx.stats().lagMs / 1000]])
  }
  metrics.gauge('anju_telemetry_history_dropped', 'readings dropped because the history store could not take them', [], () => [[{}, telemetrySink.stats().dropped]])

  let started = false
  return {
    config,
    clock,
    log,
    db,
    bus,
    registry,
    users,
    incidents,
    serviceTickets,
    detectors,
    routing,
    familyWatch,
    visits,
    questions,
    outbox,
    links,
    stats,
    broker,
    realtime,
    telemetrySink,
    historyDb,
    influx,
    dedupPruner,
    metrics,

    /** First-start bootstrap (admin, demo district), then listen. Resolves with the bound ports. */
    async start(): Promise<{ httpPort: number; mqttPort: number; mqttTlsPort: number | null; admin: AdminBootstrap; demo?: DemoSeed }> {
      // Bind first: a generated admin password must not be created by a start that then fails.
      await listen('ANJU_HTTP_PORT', config.ANJU_HTTP_PORT, () => http.listen({ host: config.ANJU_HTTP_HOST, port: config.ANJU_HTTP_PORT }))
      const mqttPort = await listen('ANJU_MQTT_PORT', config.ANJU_MQTT_PORT, () => broker.listenTcp(config.ANJU_MQTT_HOST, config.ANJU_MQTT_PORT))
      const { ANJU_MQTT_TLS_CERT: certFile, ANJU_MQTT_TLS_KEY: keyFile } = config
      const mqttTlsPort =
        certFile && keyFile
          ? await listen('ANJU_MQTT_TLS_PORT', config.ANJU_MQTT_TLS_PORT, () =>
              broker.listenTls(config.ANJU_MQTT_HOST, config.ANJU_MQTT_TLS_PORT, { cert: readFileSync(certFile), key: readFileSync(keyFile) }),
            )
          : null
      const admin = await ensureAdmin(users, clock, config.ANJU_ADMIN_PASSWORD)
      if (admin.passwordIgnored) log.warn('ANJU_ADMIN_PASSWORD is not the admin password of this database: it only sets the first admin password, when there are no users yet')
      const demo = config.ANJU_DEMO ? await seedDemoIfEmpty(db, clock, config.ANJU_DEMO_FLEET_FILE, historyWriter.write) : undefined
      health.start()
      telemetrySink.start()
      influx?.start()
      dedupPruner.start()
      await detectors.start()
      await routing.start()
      await familyWatch.start()
      await outbox.start()
      await demoKeeper?.start()
      await visits.start()
      started = true
      const httpPort = (http.server.address() as AddressInfo).port
      return { httpPort, mqttPort, mqttTlsPort, admin, ...(demo ? { demo } : {}) }
    },

    /** Stops accepting, lets in-flight writes finish, closes everything. Safe to call twice. */
    async close(): Promise<void> {
      // Each step timed: a shutdown that takes long says where (a supervisor may kill it).
      const steps: Record<string, number> = {}
      const step = async (name: string, run: () => unknown) => {
        const t0 = performance.now()
        await run()
        steps[name] = Math.round(performance.now() - t0)
      }
      // No new device connections over WebSocket while the broker closes.
      http.server.removeAllListeners('upgrade')
      demoKeeper?.stop()
      await step('broker', () => broker.close())
      deviceCommands.stop()
      familyRealtime.close()
      await step('realtime', () => realtime.close())
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      await step('http', () => (started || http.server.listening ? http.close() : undefined))
      await step('detectors', () => detectors.stop())
      await step('questions', () => questions.stop())
      await step('routing', () => routing.stop())
      await step('family-watch', () => familyWatch.stop())
      await step('visits', () => visits.stop())
      await step('outbox', async () => {
        await outbox.stop()
        await Promise.allSettled([...notes])
      })
      await step('health', () => health.stop())
      await step('history', async () => {
        await telemetrySink.stop()
        await historyWriter.close()
        await historyDb.destroy()
      })
      await step('influx', () => influx?.stop())
      dedupPruner.stop()
      await step('store', () => db.destroy())
      log.info({ ms: steps }, 'closed')
      started = false
    },
  }
}

export type App = Awaited<ReturnType<typeof createApp>>

async function listen<T>(variable: string, port: number, bind: () => Promise<T>): Promise<T> {
  try {
    return await bind()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(`port ${port} is already in use: set ${variable} to a free port (0 picks any free port)`)
    }
    throw err
  }
}
