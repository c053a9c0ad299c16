/**
 * Sustained telemetry ingest: how many QoS 1 messages a second the platform takes from a district,
 * against a bare aedes broker given the same fleet and simulator, in one run on one machine.
 *
 *   npx tsx bench/throughput.ts [--devices 2000] [--rates 2000,3500,5000,10000,20000,40000] [--seconds 8]
 *                               [--connect-rate 4000] [--drain-cap 30]
 *
 * One fleet: `--devices` rounded up to households of the simulator's six devices, provisioned
 * through POST /api/fleet on the platform (src/main.ts as a child process, ephemeral ports,
 * temporary SQLite store). For each offered rate, the simulator's raw-socket district mode
 * (firmware-sim/district.ts runDistrict: every device connects, sends its status, subscribes to
 * cmd; once all are connected, one reading each every devices ÷ rate seconds at QoS 1) runs for `--seconds` against
 * the platform, then against bench/bare-broker.ts with the same ids (no auth). Per step: PUBACKs a
 * second over the sending window (its first second left out), publishes never acknowledged,
 * connections dropped, connect failures, the server's peak RSS and CPU; for the platform also its
 * ingest lag from /metrics (sampled every second): the oldest input waiting for the detectors, the
 * readings waiting for the history store, event-loop lag, and how long after the load stopped
 * the backlog took to clear (the next step waits for that, up to `--drain-cap` seconds).
 * A step is sustained when PUBACK/s ≥ 95 % of the offered rate with no error, drop or connect
 * failure, and on the platform nothing shed or limited and the backlog cleared.
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { runDistrict, type DistrictStats, type FleetDevice } from '../firmware-sim/district.js'
import { benchSession } from './lib/cleanup.js'
import { countFlag, errorMessage, exitOnHelp, numberFlag, optionsOrUsage } from './lib/flags.js'
import { cpuSeconds, provisionDistrictFleet, startBareBroker } from './lib/district.js'
import { platformEnv, rssKiB, startPlatform } from './lib/platform.js'
import { loginAdmin } from './lib/rest.js'

const HOST = '127.0.0.1'
/** The start of each sending window left out of the rate (connections still sending status, cycle not yet full). */
const WARM_S = 1
const SUSTAINED_SHARE = 0.95
const GOAL_SHARE = 0.75

// ---------------------------------------------------------------------------------------------
// Command line

interface Options {
  devices: number
  rates: number[]
  seconds: number
  connectRate: number
  drainCapS: number
  maxLagS: number
}

const USAGE = `usage: npx tsx bench/throughput.ts [options]
  --devices N         devices in the fleet, rounded up to households of 6 (default 2000)
  --rates R,R,…       offered telemetry rates in messages/s, stepped up in this order (default 2000,3500,5000,10000,20000,40000)
  --seconds S         sending time per step and server (default 8)
  --connect-rate R    device connections per second at the start of each step (default 4000)
  --drain-cap S       longest wait for the platform's backlog to clear after a step (default 30)
  --max-lag S         a platform step whose oldest input waited longer for the detectors is not sustained (default 5)`

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      devices: { type: 'string', default: '2000' },
      rates: { type: 'string', default: '2000,3500,5000,10000,20000,40000' },
      seconds: { type: 'string', default: '8' },
      'connect-rate': { type: 'string', default: '4000' },
      'drain-cap': { type: 'string', default: '30' },
      'max-lag': { type: 'string', default: '5' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  exitOnHelp(values.help, USAGE)
  const devices = countFlag('devices', values.devices, 1)
  return {
    devices,
    rates: values.rates.split(',').map((r) => numberFlag('rates', r, 1)),
    seconds: numberFlag('seconds', values.seconds, WARM_S + 2),
    connectRate: numberFlag('connect-rate', values['connect-rate'], 1),
    drainCapS: numberFlag('drain-cap', values['drain-cap'], 0),
    maxLagS: numberFlag('max-lag', values['max-lag'], 0),
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—')
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ')

/** /metrics as `name{labels}` → value (the text exposition format, comments skipped). */
async function scrape(httpUrl: string, token: string): Promise<Map<string, number>> {
  const res = await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) })
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`)
  const out = new Map<string, number>()
  for (const line of (await res.text()).split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (match) out.set(match[1]!, Number(match[2]))
  }
  return out
}

/** anju_ingest_messages_total summed over channels, by outcome; and what the detectors shed and the history store dropped. */
function outcomes(m: Map<string, number>): Record<string, number> {
  const sums: Record<string, number> = { 'detectors shed': m.get('anju_detector_inputs_shed') ?? 0, 'history dropped': m.get('anju_telemetry_history_dropped') ?? 0 }
  for (const [key, value] of m) {
    const outcome = /^anju_ingest_messages_total\{.*outcome="(\w+)"/.exec(key)?.[1]
    if (outcome) sums[outcome] = (sums[outcome] ?? 0) + value
  }
  return sums
}

// ---------------------------------------------------------------------------------------------
// One step: the fleet at one offered rate against one server

interface Lag {
  oldestWaitS: number
  /** The oldest wait in the last sample while sending: growing or not. */
  endWaitS: number
  historyBuffered: number
  loopLagP99S: number
  /** Seconds from the end of sending until the detector queue and history buffer were empty; null past the cap. */
  clearedS: number | null
  /** Ingest outcomes during the step (accepted, duplicate, shed, limited, …). */
  outcomes: Record<string, number>
  scrapesMissed: number
}

interface Step {
  server: 'platform' | 'bare aedes'
  offered: number
  sentPerS: number
  pubackPerS: number
  errors: number
  dropped: number
  connectFailures: number
  rssPeakKiB: number
  serverCpu: number
  simCpu: number
  lag: Lag | null
  lastError: string | null
}

interface Watch {
  httpUrl: string
  token: string
}

async function runStep(server: Step['server'], port: number, pid: number, fleet: FleetDevice[], offered: number, opts: Options, watch: Watch | null): Promise<Step> {
  let rssPeakKiB = rssKiB(pid)
  const lag: Lag = { oldestWaitS: 0, endWaitS: 0, historyBuffered: 0, loopLagP99S: 0, clearedS: null, outcomes: {}, scrapesMissed: 0 }
  const before = watch ? outcomes(await scrape(watch.httpUrl, watch.token)) : {}
  let scraping = false
  /** Until the sending window ends (known once connected; see `progress`). */
  let sending = true
  const sampler = setInterval(() => {
    rssPeakKiB = Math.max(rssPeakKiB, rssKiB(pid) || 0)
    if (!watch || scraping) return
    scraping = true
    scrape(watch.httpUrl, watch.token)
      .then((m) => {
        const wait = m.get('anju_detector_queue_wait_seconds') ?? 0
        lag.oldestWaitS = Math.max(lag.oldestWaitS, wait)
        if (sending) lag.endWaitS = wait
        lag.historyBuffered = Math.max(lag.historyBuffered, m.get('anju_telemetry_history_buffered') ?? 0)
        lag.loopLagP99S = Math.max(lag.loopLagP99S, m.get('nodejs_eventloop_lag_p99_seconds') ?? 0)
      })
      .catch(() => lag.scrapesMissed++)
      .finally(() => (scraping = false))
  }, 1000)

  // Every progress snapshot (4 a second) with both processes' CPU time, for the sending window.
  const marks: { at: number; pubacks: number; published: number; serverCpu: number; simCpu: number }[] = []
  const progress = (s: DistrictStats) => {
    const cpu = process.cpuUsage()
    marks.push({ at: s.elapsedS, pubacks: s.pubacks, published: s.published, serverCpu: cpuSeconds(pid), simCpu: (cpu.user + cpu.system) / 1e6 })
    if (s.connectS !== null && s.elapsedS > s.connectS + opts.seconds) sending = false
  }
  let stats: DistrictStats
  const runStartedAt = performance.now()
  try {
    stats = await runDistrict({
      url: `mqtt://${HOST}:${port}`,
      devices: fleet,
      connectRate: opts.connectRate,
      durationS: opts.seconds,
      telemetryIntervalS: fleet.length / offered,
      // Ingest apart from the connection ramp: readings flowing while the rest connect stalled
      // the platform's CONNACKs past the 10 s timeout (up to 1,500 of 2,000 devices never connected).
      holdTelemetryUntilConnected: true,
      progress,
    })
  } finally {
    clearInterval(sampler)
  }

  if (watch) {
    // How long after sending stopped until nothing waits (runDistrict's wait for its last PUBACKs
    // and its closing are part of that time).
    const stoppedAt = stats.connectS === null ? performance.now() : runStartedAt + (stats.connectS + opts.seconds) * 1000
    while (lag.clearedS === null && performance.now() - stoppedAt < opts.drainCapS * 1000) {
      const m = await scrape(watch.httpUrl, watch.token).catch(() => null)
      if (m && (m.get('anju_detector_queue') ?? 0) === 0 && (m.get('anju_telemetry_history_buffered') ?? 0) === 0) lag.clearedS = (performance.now() - stoppedAt) / 1000
      else await sleep(250)
    }
    const after = outcomes(await scrape(watch.httpUrl, watch.token))
    for (const [k, v] of Object.entries(after)) lag.outcomes[k] = v - (before[k] ?? 0)
  }

  const start = stats.connectS === null ? undefined : marks.find((m) => m.at >= stats.connectS! + WARM_S)
  const end = stats.connectS === null ? undefined : marks.filter((m) => m.at <= stats.connectS! + opts.seconds).at(-1)
  const span = start && end ? end.at - start.at : 0
  const per = (pick: (m: (typeof marks)[number]) => number) => (span > 0 ? (pick(end!) - pick(start!)) / span : Number.NaN)
  return {
    server,
    offered,
    sentPerS: per((m) => m.published),
    pubackPerS: per((m) => m.pubacks),
    errors: stats.errors,
    dropped: stats.disconnects,
    connectFailures: stats.target - stats.connected, // failed, refused, or never attempted
    rssPeakKiB,
    serverCpu: per((m) => m.serverCpu),
    simCpu: per((m) => m.simCpu),
    lag: watch ? lag : null,
    lastError: stats.lastError,
  }
}

function sustained(s: Step, opts: Options): boolean {
  const clean = s.errors === 0 && s.dropped === 0 && s.connectFailures === 0 && s.pubackPerS >= SUSTAINED_SHARE * s.offered
  if (!s.lag) return clean
  const lost = Object.entries(s.lag.outcomes).some(([k, v]) => k !== 'accepted' && k !== 'duplicate' && v > 0)
  return clean && !lost && s.lag.clearedS !== null && s.lag.oldestWaitS <= opts.maxLagS
}

// ---------------------------------------------------------------------------------------------
// Report

function report(opts: Options, fleetSize: number, steps: Step[], loadAtStart: string): string {
  const mib = (kib: number) => (kib / 1024).toFixed(0)
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)} %` : '—')
  const lagCells = (l: Lag | null) => {
    if (!l) return '— | — | — | —'
    const lost = Object.entries(l.outcomes).filter(([k, v]) => k !== 'accepted' && v > 0)
    return [
      `${l.oldestWaitS.toFixed(2)} (end ${l.endWaitS.toFixed(2)}) / ${int(l.historyBuffered)} / ${(l.loopLagP99S * 1000).toFixed(0)} ms`,
      l.clearedS === null ? `> ${opts.drainCapS} s` : `${l.clearedS.toFixed(1)} s`,
      int(l.outcomes.accepted ?? 0),
      lost.length ? lost.map(([k, v]) => `${k} ${int(v)}`).join(', ') : '0',
    ].join(' | ')
  }
  const cpus = os.cpus()
  const out = [
    '',
    `Sustained telemetry ingest: ${fleetSize} devices (households of 6), QoS 1, ${opts.seconds} s per step, connect ${opts.connectRate}/s`,
    `  machine  ${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}, node ${process.version}; load average ${loadAtStart} at start, ${load()} at end`,
    `  platform SQLite synchronous=${process.env.ANJU_DB_SYNC ?? 'FULL'}; baseline bench/bare-broker.ts (aedes, no auth, no ingest)`,
    `  sustained: PUBACK/s ≥ ${SUSTAINED_SHARE * 100} % of offered, nothing unacked, dropped or refused; platform also nothing shed or limited, oldest input waiting for the detectors ≤ ${opts.maxLagS} s, backlog cleared within ${opts.drainCapS} s`,
    '',
    '| server | offered /s | sent /s | PUBACK /s | of offered | unacked | conns dropped | connect failed | RSS peak MiB | server CPU (1 core = 100 %) | sim CPU | lag max: oldest input waiting for detectors s / history buffered / loop p99 | backlog cleared | accepted | shed, limited, … | sustained |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...steps.map((s) => {
      const cells = [s.server, int(s.offered), int(s.sentPerS), int(s.pubackPerS), pct(s.pubackPerS / s.offered), int(s.errors), int(s.dropped), int(s.connectFailures)]
      return `| ${[...cells, mib(s.rssPeakKiB), pct(s.serverCpu), pct(s.simCpu), lagCells(s.lag), sustained(s, opts) ? 'yes' : 'no'].join(' | ')} |`
    }),
    '',
  ]
  const best = (server: Step['server']) => {
    const mine = steps.filter((s) => s.server === server)
    const kept = mine.filter((s) => sustained(s, opts))
    return {
      sustained: kept.length ? Math.max(...kept.map((s) => s.pubackPerS)) : Number.NaN,
      peak: mine.length ? Math.max(...mine.map((s) => s.pubackPerS)) : Number.NaN,
      /** Kept up with the top step: its figure is a floor, not its capacity. */
      capped: kept.length > 0 && kept.some((s) => s.offered === Math.max(...opts.rates)),
    }
  }
  const p = best('platform')
  const b = best('bare aedes')
  const ratio = (x: number, y: number) => (Number.isFinite(x) && Number.isFinite(y) && y > 0 ? `${((x / y) * 100).toFixed(0)} %` : '—')
  out.push(
    `best sustained PUBACK/s: platform ${int(p.sustained)}${p.capped ? ' (kept up with the top step: a floor)' : ''}, bare aedes ${int(b.sustained)}${b.capped ? ' (kept up with the top step: a floor)' : ''}; platform ÷ bare ${ratio(p.sustained, b.sustained)} (goal ≥ ${GOAL_SHARE * 100} %)`,
    `peak PUBACK/s in any step: platform ${int(p.peak)}, bare aedes ${int(b.peak)}; platform ÷ bare ${ratio(p.peak, b.peak)}`,
  )
  const short = steps.filter((s) => s.sentPerS < SUSTAINED_SHARE * s.offered).map((s) => `${s.server} at ${int(s.offered)}/s (sent ${pct(s.sentPerS / s.offered)})`)
  if (short.length) out.push(`the simulator could not offer the rate (its loop or the machine was the limit, not only the server): ${short.join(', ')}`)
  const errors = steps.filter((s) => s.lastError).map((s) => `  ${s.server} at ${int(s.offered)}/s: ${s.lastError}`)
  if (errors.length) out.push('', 'last error per step:', ...errors)
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const opts = optionsOrUsage(parseOptions, USAGE)
  if (!opts) return 2
  const { register, cleanup, tempDir } = benchSession(log, 'stopping child processes')
  const loadAtStart = load()
  const steps: Step[] = []
  let fleetSize = opts.devices
  try {
    const adminPassword = randomBytes(12).toString('base64url')
    log('starting the platform (node --import tsx src/main.ts)…')
    const platform = await startPlatform({
      ...platformEnv(tempDir, adminPassword),
      // One address holds the whole fleet here (per-address caps: docs/security.md §broker), and
      // each simulated device sends far above a real one's rate: lift both so every message takes the full path.
      ANJU_MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(opts.devices + 100),
      ANJU_MQTT_MAX_PENDING_PER_ADDRESS: String(Math.max(128, Math.ceil(opts.connectRate))),
      ANJU_DEVICE_RATE_PER_S: String(Math.ceil((2 * Math.max(...opts.rates)) / opts.devices) + 10),
    })
    register(() => platform.stop())
    const { token } = await platform.alive(loginAdmin(platform.httpUrl, adminPassword))
    log(`provisioning ${opts.devices} devices through POST /api/fleet…`)
    const fleet = await platform.alive(provisionDistrictFleet(platform.httpUrl, adminPassword, opts.devices))
    fleetSize = fleet.length
    log('starting the bare aedes broker (bench/bare-broker.ts)…')
    const bare = await startBareBroker()
    register(() => bare.stop())
    const bareFleet = fleet.map((d) => ({ ...d, secret: 'unused' }))

    for (const rate of opts.rates) {
      for (const server of ['platform', 'bare aedes'] as const) {
        log(`${server}: ${rate} msg/s offered for ${opts.seconds} s (load ${load()})…`)
        const step =
          server === 'platform'
            ? await platform.alive(runStep(server, platform.mqttPort, platform.pid, fleet, rate, opts, { httpUrl: platform.httpUrl, token }))
            : await Promise.race([runStep(server, bare.mqttPort, bare.pid, bareFleet, rate, opts, null), bare.crashed])
        steps.push(step)
        log(`  ${int(step.pubackPerS)} PUBACK/s, ${step.errors} unacked, ${step.dropped} dropped, ${step.connectFailures} connect failures, RSS peak ${(step.rssPeakKiB / 1024).toFixed(0)} MiB${step.lag ? `, backlog cleared ${step.lag.clearedS === null ? 'past the cap' : `in ${step.lag.clearedS.toFixed(1)} s`}` : ''}`)
      }
    }
    if (platform.warnings.count > 0) log(`platform logged ${platform.warnings.count} warnings or errors: ${[...platform.warnings.byMessage].map(([m, n]) => `${m} ×${n}`).join('; ')}`)
    process.stdout.write(report(opts, fleetSize, steps, loadAtStart))
    return 0
  } catch (err) {
    if (steps.length) process.stdout.write(report(opts, fleetSize, steps, loadAtStart))
    process.stderr.write(`\nbench failed: ${err instanceof Error && err.constructor !== Error ? (err.stack ?? err.message) : errorMessage(err)}\n`)
    return 1
  } finally {
    await cleanup()
  }
}

process.exit(await main())
