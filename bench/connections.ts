/**
 * Memory per device connection: the platform's resident set with N devices connected, over its
 * idle base, against a bare aedes broker holding the same N connections, in one run on one machine.
 *
 *   npx tsx bench/connections.ts [--devices <open-file limit − 200>] [--connect-rate 1000] [--settle 3]
 *
 * The platform (src/main.ts as a child process, ephemeral ports, temporary SQLite store) gets a
 * fleet of households of the simulator's six devices through POST /api/fleet. Its idle base is
 * taken after provisioning, so the registry it loads is not charged to the connections. Then
 * the simulator's raw-socket district mode (firmware-sim/district.ts runDistrict) connects every
 * device at `--connect-rate` per second, each doing what contract v1 asks on connect and no more:
 * Last Will, a retained QoS 1 status, a QoS 1 subscription to its cmd topic (the reading interval
 * is set beyond the run, so no telemetry). Once every CONNACK, PUBACK and SUBACK is in and
 * `--settle` seconds have passed, RSS is read; then a full GC of the main thread through the
 * child's inspector (worker threads' heaps are not collected) and RSS again. The same for
 * bench/bare-broker.ts (no auth, no ingest) with the same ids. KiB per connection =
 * (RSS connected − RSS idle) ÷ connections held, without and with the GC on both sides.
 * Each process has its own open-file limit; the default leaves 200 descriptors of it spare.
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { runDistrict, type DistrictStats, type FleetDevice } from '../firmware-sim/district.js'
import { benchSession } from './lib/cleanup.js'
import { countFlag, errorMessage, exitOnHelp, numberFlag, optionsOrUsage } from './lib/flags.js'
import { collectGarbage, freePort, openFileLimit, provisionDistrictFleet, startBareBroker, withInspector } from './lib/district.js'
import { platformEnv, rssKiB, startPlatform } from './lib/platform.js'
import { loginAdmin } from './lib/rest.js'

const HOST = '127.0.0.1'
/** Descriptors of the open-file limit left for everything but the device sockets. */
const FD_SPARE = 200
const GOAL_KIB = 25
/** A reading interval beyond any run: the devices send nothing after their status. */
const NO_TELEMETRY_S = 1e9

interface Options {
  devices: number
  connectRate: number
  settleS: number
}

const USAGE = `usage: npx tsx bench/connections.ts [options]
  --devices N         devices connected to each server (default: open-file limit − ${FD_SPARE}, here ${openFileLimit() - FD_SPARE})
  --connect-rate R    connections started per second (default 1000)
  --settle S          seconds between the last acknowledgement and the RSS reading (default 3)`

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      devices: { type: 'string', default: String(openFileLimit() - FD_SPARE) },
      'connect-rate': { type: 'string', default: '1000' },
      settle: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  exitOnHelp(values.help, USAGE)
  const devices = countFlag('devices', values.devices, 1)
  return { devices, connectRate: numberFlag('connect-rate', values['connect-rate'], 1), settleS: numberFlag('settle', values.settle, 0) }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ')

interface Result {
  server: 'platform' | 'bare aedes'
  /** Connections held when RSS was read (CONNACKs less connections lost). */
  held: number
  connectS: number
  stats: DistrictStats
  idleKiB: number
  idleGcKiB: number
  connectedKiB: number
  connectedGcKiB: number
  /** The server's own count of connected devices, if it has one. */
  serverCount: number | null
  gcError: string | null
}

/** GC through the inspector, then RSS after a moment; RSS as it is (and why) if the GC failed. */
async function rssAfterGc(pid: number, inspectPort: number): Promise<{ kib: number; error: string | null }> {
  try {
    await collectGarbage(inspectPort)
    await sleep(1000)
    return { kib: rssKiB(pid), error: null }
  } catch (err) {
    return { kib: rssKiB(pid), error: errorMessage(err) }
  }
}

/** Connects the fleet, waits for every acknowledgement plus `settle`, measures, then disconnects. */
async function measure(server: Result['server'], pid: number, port: number, inspectPort: number, fleet: FleetDevice[], opts: Options, count: () => Promise<number | null>) {
  await sleep(opts.settleS * 1000)
  const idleKiB = rssKiB(pid)
  const idleGc = await rssAfterGc(pid, inspectPort)
  log(`${server}: idle ${(idleKiB / 1024).toFixed(0)} MiB (${(idleGc.kib / 1024).toFixed(0)} after GC); connecting ${fleet.length} devices at ${opts.connectRate}/s…`)

  const controller = new AbortController()
  let settled: () => void = () => undefined
  const allAcknowledged = new Promise<void>((resolve) => (settled = resolve))
  const district = runDistrict({
    url: `mqtt://${HOST}:${port}`,
    devices: fleet,
    connectRate: opts.connectRate,
    durationS: 3600, // until aborted below
    telemetryIntervalS: NO_TELEMETRY_S,
    signal: controller.signal,
    connectTimeoutMs: 30_000,
    progress: (s) => {
      // status PUBACKs and cmd SUBACKs count toward published/pubacks and errors alike
      if (s.connectS !== null && s.pubacks + s.errors >= s.published) settled()
    },
  })
  await Promise.race([allAcknowledged, district.then(() => Promise.reject(new Error('the district ended before it was connected')))])
  await sleep(opts.settleS * 1000)
  const connectedKiB = rssKiB(pid)
  const serverCount = await count()
  const connectedGc = await rssAfterGc(pid, inspectPort)
  controller.abort()
  const stats = await district
  return {
    server,
    held: stats.connected - stats.disconnects,
    connectS: stats.connectS ?? Number.NaN,
    stats,
    idleKiB,
    idleGcKiB: idleGc.kib,
    connectedKiB,
    connectedGcKiB: connectedGc.kib,
    serverCount,
    gcError: idleGc.error ?? connectedGc.error,
  } satisfies Result
}

function report(opts: Options, results: Result[], loadAtStart: string): string {
  const mib = (kib: number) => (kib / 1024).toFixed(1)
  const per = (after: number, base: number, n: number) => (n > 0 ? (after - base) / n : Number.NaN)
  const cpus = os.cpus()
  const out = [
    '',
    `Memory per device connection: ${opts.devices} devices (households of 6) connected at ${opts.connectRate}/s; on connect only what contract v1 asks (status QoS 1 retained, cmd subscription)`,
    `  machine  ${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}, node ${process.version}, open-file limit ${openFileLimit()} per process; load average ${loadAtStart} at start, ${load()} at end`,
    '',
    '| server | connections held | connect s | failed / refused / lost | idle RSS MiB | connected RSS MiB | KiB per connection | idle after GC MiB | connected after GC MiB | KiB per connection after GC |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) =>
      [
        '',
        r.server,
        `${r.held.toLocaleString('en-US')}${r.serverCount === null ? '' : ` (server: ${r.serverCount.toLocaleString('en-US')})`}`,
        r.connectS.toFixed(1),
        `${r.stats.connectFailures} / ${r.stats.refusals} / ${r.stats.disconnects}`,
        mib(r.idleKiB),
        mib(r.connectedKiB),
        per(r.connectedKiB, r.idleKiB, r.held).toFixed(1),
        mib(r.idleGcKiB),
        mib(r.connectedGcKiB),
        per(r.connectedGcKiB, r.idleGcKiB, r.held).toFixed(1),
        '',
      ].join(' | ').trim(),
    ),
    '',
  ]
  const [p, b] = results
  if (p && b) {
    const raw = [per(p.connectedKiB, p.idleKiB, p.held), per(b.connectedKiB, b.idleKiB, b.held)] as const
    const gc = [per(p.connectedGcKiB, p.idleGcKiB, p.held), per(b.connectedGcKiB, b.idleGcKiB, b.held)] as const
    out.push(
      `platform ÷ bare aedes per connection: ${(raw[0] / raw[1]).toFixed(2)}× (after GC ${(gc[0] / gc[1]).toFixed(2)}×)`,
      `goal ≤ ${GOAL_KIB} KiB per connection on the platform: ${raw[0].toFixed(1)} KiB ${raw[0] <= GOAL_KIB ? 'met' : 'NOT met'} (after GC ${gc[0].toFixed(1)} KiB)`,
    )
  }
  for (const r of results) {
    if (r.gcError) out.push(`${r.server}: forced GC failed (${r.gcError}); its "after GC" figures are plain RSS`)
    if (r.stats.lastError) out.push(`${r.server}: last error ${r.stats.lastError}`)
  }
  return out.join('\n') + '\n'
}

async function main(): Promise<number> {
  const opts = optionsOrUsage(parseOptions, USAGE)
  if (!opts) return 2
  if (opts.devices > openFileLimit() - 50) log(`warning: ${opts.devices} devices leave under 50 of the open-file limit (${openFileLimit()}) spare; expect EMFILE`)
  const { register, cleanup, tempDir } = benchSession(log, 'stopping child processes')
  const loadAtStart = load()
  const results: Result[] = []
  try {
    const adminPassword = randomBytes(12).toString('base64url')
    const platformInspector = await freePort()
    log('starting the platform (node --import tsx src/main.ts, inspector on for the forced GC)…')
    const platform = await startPlatform(
      withInspector(
        {
          ...platformEnv(tempDir, adminPassword),
          // One address holds the whole fleet here (per-address caps: docs/security.md §broker).
          ANJU_MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(opts.devices + 100),
          ANJU_MQTT_MAX_PENDING_PER_ADDRESS: String(Math.max(128, Math.ceil(opts.connectRate))),
        },
        platformInspector,
      ),
    )
    register(() => platform.stop())
    const { token } = await platform.alive(loginAdmin(platform.httpUrl, adminPassword))
    log(`provisioning ${opts.devices} devices through POST /api/fleet…`)
    const fleet = await platform.alive(provisionDistrictFleet(platform.httpUrl, adminPassword, opts.devices))
    const connectedDevices = async () => {
      const res = await fetch(`${platform.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })
      const match = /^anju_connected_devices (\d+)$/m.exec(await res.text())
      return match ? Number(match[1]) : null
    }
    results.push(await platform.alive(measure('platform', platform.pid, platform.mqttPort, platformInspector, fleet, opts, connectedDevices)))
    await platform.stop()

    const bareInspector = await freePort()
    log('starting the bare aedes broker (bench/bare-broker.ts, inspector on)…')
    const bare = await startBareBroker(withInspector(process.env, bareInspector))
    register(() => bare.stop())
    const bareFleet = fleet.map((d) => ({ ...d, secret: 'unused' }))
    results.push(await Promise.race([measure('bare aedes', bare.pid, bare.mqttPort, bareInspector, bareFleet, opts, async () => null), bare.crashed]))
    await bare.stop()
    process.stdout.write(report(opts, results, loadAtStart))
    return 0
  } catch (err) {
    if (results.length) process.stdout.write(report(opts, results, loadAtStart))
    process.stderr.write(`\nbench failed: ${err instanceof Error && err.constructor !== Error ? (err.stack ?? err.message) : errorMessage(err)}\n`)
    return 1
  } finally {
    await cleanup()
  }
}

process.exit(await main())
