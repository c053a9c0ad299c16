/**
 * Alarms first under overload (issue 15): an SOS from a button connecting afresh, timed from its
 * TCP connect to the operator's Socket.IO push, while a district offers telemetry far above what
 * the platform sustains, and while the whole district reconnects at once flushing readings; with
 * a quiet baseline from the same run.
 *
 *   npx tsx bench/overload.ts [--devices 2000] [--sustainable 10000] [--overload 5] [--seconds 60]
 *                             [--after 30] [--quiet 10] [--sos-interval 1] [--ramp-rate 4000]
 *                             [--connect-rate 20000] [--flush 15] [--cpu-prof DIR]
 *
 * One platform (src/main.ts as a child process, ephemeral ports, temporary SQLite store), one
 * fleet of `--devices` rounded up to households of the simulator's six devices (POST /api/fleet),
 * spare SOS buttons each alone in a household of its own, one admin operator over Socket.IO.
 * The fleet is driven by firmware-sim's runDistrict in a child process (bench/lib/district-child.ts),
 * so this process's loop only times the SOS presses. Every `--sos-interval` seconds a spare button
 * that was never used connects afresh (new TCP connection, CONNECT with its Last Will, CONNACK)
 * from 127.0.0.2 (the fleet comes from 127.0.0.1: each has its own per-address caps, as separate
 * devices in the field have), publishes an `sos` at QoS 1, waits for the PUBACK, and disconnects.
 * Timed: connect → CONNACK, publish → PUBACK, publish → operator push, connect → push (end to end).
 * A step taking more than 30 s is a failure of that step.
 *
 * Phases (presses go on through all of them, each labelled by when it started):
 *   quiet      `--quiet` s, no fleet connected;
 *   A ramp     the fleet connects at `--ramp-rate`/s, holding readings until all are connected;
 *   during A   the fleet offers `--overload` × `--sustainable` readings a second for `--seconds`;
 *   after A    `--after` s from the moment the fleet stopped sending (it then drains its PUBACKs and disconnects);
 *   during B   the reconnect storm: the whole fleet connects at `--connect-rate`/s and each device
 *              sends readings from its CONNACK on at the overload rate for `--flush` s after the
 *              last one connected (runDistrict has no burst on connect: this approximates each
 *              device flushing `--flush` × rate ÷ devices buffered readings);
 *   after B    `--after` s from the moment the fleet stopped sending.
 * The platform's /metrics is read every second (event-loop delay, detector queue, history
 * buffer, ingest outcomes, alarm commit and push histograms) and at every phase change; its RSS
 * every 250 ms. `--cpu-prof DIR` profiles the platform's main thread through its inspector, one
 * .cpuprofile per phase, and prints where each phase's CPU went.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { join, relative } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generate, parser, type Packet } from 'mqtt-packet'
import { io, type Socket } from 'socket.io-client'
import WebSocket from 'ws'
import { createApiClient } from '../firmware-sim/api-client.js'
import type { DistrictStats, FleetDevice } from '../firmware-sim/district.js'
import { provisionFleet } from '../firmware-sim/fleet.js'
import { deviceTopic } from '../src/contract/index.js'
import { benchSession } from './lib/cleanup.js'
import { errorMessage, exitOnHelp, numberFlag, optionsOrUsage } from './lib/flags.js'
import { startDistrictChild, type DistrictRun } from './lib/district-child.js'
import { cpuSeconds, freePort, provisionDistrictFleet, withInspector } from './lib/district.js'
import { platformEnv, rssKiB, startPlatform } from './lib/platform.js'
import { loginAdmin } from './lib/rest.js'
import { withTimeout } from './lib/wait.js'

const HOST = '127.0.0.1'
/** Where the SOS buttons connect from: not the fleet's address, so the per-address caps are theirs alone. */
const SOS_ADDRESS = '127.0.0.2'
/** Each step of a press (CONNACK, PUBACK, push) may take this long before it counts as failed. */
const STEP_TIMEOUT_MS = 30_000
const GOAL_MS = 1000
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

// ---------------------------------------------------------------------------------------------
// Command line

interface Options {
  devices: number
  sustainable: number
  overload: number
  seconds: number
  afterS: number
  quietS: number
  sosIntervalS: number
  rampRate: number
  connectRate: number
  flushS: number
  spares: number
  cpuProf: string | null
}

const USAGE = `usage: npx tsx bench/overload.ts [options]
  --devices N         devices in the fleet, rounded up to households of 6 (default 2000)
  --sustainable R     the platform's sustainable telemetry rate, msg/s (bench/throughput.ts; default 10000)
  --overload X        the fleet offers X × sustainable (default 5)
  --seconds S         phase A: how long the overload is offered (default 60; 20 for a quick run)
  --after S           SOS presses after each load stops (default 30)
  --quiet S           the quiet baseline (default 10)
  --sos-interval S    one fresh SOS button every S seconds (default 1)
  --ramp-rate R       phase A: fleet connections per second before the load (default 4000)
  --connect-rate R    phase B: fleet connections per second in the reconnect storm (default 20000)
  --flush S           phase B: seconds of readings at the overload rate after the last device connected (default 15)
  --spares N          spare SOS buttons (default: enough for one per press, + 50 %)
  --cpu-prof DIR      profile the platform's main thread per phase into DIR (diagnostic; adds overhead)`

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      devices: { type: 'string', default: '2000' },
      sustainable: { type: 'string', default: '10000' },
      overload: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '60' },
      after: { type: 'string', default: '30' },
      quiet: { type: 'string', default: '10' },
      'sos-interval': { type: 'string', default: '1' },
      'ramp-rate': { type: 'string', default: '4000' },
      'connect-rate': { type: 'string', default: '20000' },
      flush: { type: 'string', default: '15' },
      spares: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  exitOnHelp(values.help, USAGE)
  const o = {
    devices: Math.ceil(numberFlag('devices', values.devices, 1)),
    sustainable: numberFlag('sustainable', values.sustainable, 1),
    overload: numberFlag('overload', values.overload, 0.01),
    seconds: numberFlag('seconds', values.seconds, 1),
    afterS: numberFlag('after', values.after, 0),
    quietS: numberFlag('quiet', values.quiet, 1),
    sosIntervalS: numberFlag('sos-interval', values['sos-interval'], 0.05),
    rampRate: numberFlag('ramp-rate', values['ramp-rate'], 1),
    connectRate: numberFlag('connect-rate', values['connect-rate'], 1),
    flushS: numberFlag('flush', values.flush, 0),
    cpuProf: values['cpu-prof'] ?? null,
    spares: 0,
  }
  // Quiet + ramp (~5 s) + A + after + storm connect (~10 s) + flush + after, + drains (≤ 20 s each).
  const plannedS = o.quietS + 5 + o.seconds + o.afterS + 10 + o.flushS + o.afterS + 40
  o.spares = values.spares === undefined ? Math.ceil((plannedS / o.sosIntervalS) * 1.5) : Math.ceil(numberFlag('spares', values.spares, 1))
  return o
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)))
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—')
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ')

/** Nearest rank. */
function rank(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN
}

/** /metrics as `name{labels}` → value (the text exposition format, comments skipped). */
async function scrape(httpUrl: string, token: string, timeoutMs: number): Promise<Map<string, number>> {
  const res = await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) })
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`)
  const out = new Map<string, number>()
  for (const line of (await res.text()).split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (match) out.set(match[1]!, Number(match[2]))
  }
  return out
}

/** The counters a phase is charged with: differences of these between its first and last scrape. */
function counters(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {
    'detectors shed': m.get('anju_detector_inputs_shed') ?? 0,
    'history dropped': m.get('anju_telemetry_history_dropped') ?? 0,
    'alarm commit n': m.get('anju_alarm_commit_seconds_count') ?? 0,
    'alarm commit s': m.get('anju_alarm_commit_seconds_sum') ?? 0,
    'alarm push n': m.get('anju_alarm_push_seconds_count') ?? 0,
    'alarm push s': m.get('anju_alarm_push_seconds_sum') ?? 0,
  }
  for (const [key, value] of m) {
    const match = /^anju_ingest_messages_total\{channel="(\w+)",outcome="(\w+)"\}$/.exec(key) ?? /^anju_ingest_messages_total\{outcome="(\w+)",channel="(\w+)"\}$/.exec(key)
    if (!match) continue
    const [channel, outcome] = key.indexOf('channel') < key.indexOf('outcome') ? [match[1]!, match[2]!] : [match[2]!, match[1]!]
    out[`${channel} ${outcome}`] = (out[`${channel} ${outcome}`] ?? 0) + value
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// A fresh SOS button: TCP connect, CONNECT, CONNACK, PUBLISH sos QoS 1, PUBACK, DISCONNECT

interface Press {
  phase: PhaseName
  deviceId: string
  /** performance.now() at the TCP connect. */
  startedAt: number
  tcpMs?: number
  connackMs?: number
  pubackMs?: number
  /** Publish → operator push. */
  pushMs?: number
  /** Connect → operator push. */
  totalMs?: number
  failure?: 'CONNACK' | 'PUBACK' | 'push' | 'no spare button'
  error?: string
}

function pressFresh(port: number, button: FleetDevice, alarmId: string, pushed: Promise<number>, press: Press): Promise<void> {
  const t0 = performance.now()
  press.startedAt = t0
  const socket = net.connect({ host: HOST, port, localAddress: SOS_ADDRESS })
  socket.setNoDelay(true)
  const packets = parser({ protocolVersion: 4 })
  let onConnack: ((code: number) => void) | null = null
  let onPuback: (() => void) | null = null
  packets.on('packet', (p: Packet) => {
    if (p.cmd === 'connack') onConnack?.(p.returnCode ?? 0)
    else if (p.cmd === 'puback' && p.messageId === 1) onPuback?.()
  })
  packets.on('error', () => socket.destroy())
  socket.on('data', (chunk: Buffer) => packets.parse(chunk))
  let closed: string | null = null
  const closedEarly = new Promise<never>((_, reject) => {
    socket.on('error', (err) => (closed ??= err.message))
    socket.on('close', () => reject(new Error(`connection closed${closed ? `: ${closed}` : ''}`)))
  })
  closedEarly.catch(() => undefined)
  socket.on('connect', () => {
    press.tcpMs = performance.now() - t0
    socket.write(
      generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: button.id,
        username: button.id,
        password: Buffer.from(button.secret, 'utf8'),
        clean: true,
        keepalive: 60,
        // Contract §status: the Last Will every device leaves.
        will: { topic: deviceTopic(button.id, 'status'), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
      }),
    )
  })
  const connack = new Promise<void>((resolve, reject) => {
    onConnack = (code) => (code === 0 ? resolve() : reject(new Error(`CONNACK return code ${code}`)))
  })
  const run = async () => {
    try {
      await withTimeout(Promise.race([connack, closedEarly]), STEP_TIMEOUT_MS, 'CONNACK')
    } catch (err) {
      press.failure = 'CONNACK'
      press.error = errorMessage(err)
      return
    }
    const t1 = performance.now()
    press.connackMs = t1 - t0
    const puback = new Promise<number>((resolve) => (onPuback = () => resolve(performance.now())))
    socket.write(generate({ cmd: 'publish', topic: deviceTopic(button.id, 'alarm'), payload: Buffer.from(JSON.stringify({ id: alarmId, ts: Date.now(), type: 'sos' })), qos: 1, messageId: 1, dup: false, retain: false }))
    const [ack, push] = await Promise.allSettled([withTimeout(Promise.race([puback, closedEarly]), STEP_TIMEOUT_MS, 'PUBACK'), withTimeout(pushed, STEP_TIMEOUT_MS, 'operator push')])
    if (ack.status === 'fulfilled') press.pubackMs = ack.value - t1
    if (push.status === 'fulfilled') {
      press.pushMs = push.value - t1
      press.totalMs = push.value - t0
    }
    if (ack.status === 'rejected') {
      press.failure = 'PUBACK'
      press.error = errorMessage(ack.reason)
    } else if (push.status === 'rejected') {
      press.failure = 'push'
      press.error = errorMessage(push.reason)
    }
  }
  return run().finally(() => {
    if (!socket.destroyed && press.connackMs !== undefined) socket.end(generate({ cmd: 'disconnect' }))
    else socket.destroy()
  })
}

// ---------------------------------------------------------------------------------------------
// The operator

interface IncidentPush {
  id: string
  deviceId: string
  state: string
}
interface ServerToOperator {
  'incidents:snapshot': (incidents: IncidentPush[]) => void
  incident: (incident: IncidentPush, events: unknown[]) => void
}

async function connectOperator(httpUrl: string, token: string): Promise<Socket<ServerToOperator>> {
  const socket: Socket<ServerToOperator> = io(httpUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true })
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('incidents:snapshot', () => resolve())
      socket.once('connect_error', (err) => reject(new Error(`operator socket refused: ${err.message}`)))
    }),
    10_000,
    'operator snapshot',
  ).catch((err: unknown) => {
    socket.close()
    throw err
  })
  return socket
}

// ---------------------------------------------------------------------------------------------
// The platform's CPU, per phase, through its inspector (--cpu-prof)

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

async function inspector(port: number) {
  const targets = (await (await fetch(`http://${HOST}:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[]
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl, { maxPayload: 1024 * 1024 * 1024 })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let nextId = 1
  const waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>()
  ws.on('message', (data) => {
    const reply = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } }
    const w = reply.id === undefined ? undefined : waiting.get(reply.id)
    if (!w) return
    waiting.delete(reply.id!)
    if (reply.error) w.reject(new Error(reply.error.message))
    else w.resolve(reply.result)
  })
  const call = <T>(method: string, params: object = {}): Promise<T> =>
    withTimeout(
      new Promise<T>((resolve, reject) => {
        const id = nextId++
        waiting.set(id, { resolve: resolve as (r: unknown) => void, reject })
        ws.send(JSON.stringify({ id, method, params }))
      }),
      120_000,
      `inspector ${method}`,
    )
  await call('Profiler.enable')
  await call('Profiler.setSamplingInterval', { interval: 1000 })
  return {
    start: () => call('Profiler.start'),
    stop: async () => (await call<{ profile: CpuProfile }>('Profiler.stop')).profile,
    close: () => ws.close(),
  }
}

/** Self time by function and by area (a package in node_modules, a folder of src/, node's own), in ms. */
function profileSummary(p: CpuProfile): { totalMs: number; byFunction: [string, number][]; byArea: [string, number][] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000)
  const byFunction = new Map<string, number>()
  const byArea = new Map<string, number>()
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    const file = url.startsWith('file://') ? relative(REPO_ROOT, fileURLToPath(url)) : url
    const fn = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim()
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms)
    const area = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(file)?.[1] ?? /^(src\/[^/]+|bench|firmware-sim)/.exec(file)?.[1] ?? (file.startsWith('node:') ? 'node:' + file.slice(5).split('/')[0] : functionName.startsWith('(') ? functionName : 'native/other')
    byArea.set(area, (byArea.get(area) ?? 0) + ms)
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
  return { totalMs: (p.endTime - p.startTime) / 1000, byFunction: top(byFunction, 15), byArea: top(byArea, 12) }
}

// ---------------------------------------------------------------------------------------------
// Phases

const PHASES = ['quiet', 'A ramp', 'during A', 'after A', 'during B', 'after B'] as const
type PhaseName = (typeof PHASES)[number]

interface PhaseWatch {
  startedAt: number
  endedAt: number
  /** Counters from /metrics at its start and end. */
  first: Record<string, number> | null
  last: Record<string, number> | null
  loopLagP99MaxS: number
  loopLagMaxS: number
  detectorWaitMaxS: number
  detectorQueueMax: number
  historyBufferedMax: number
  connectedMax: number
  rssPeakKiB: number
  scrapes: number
  scrapesMissed: number
  cpuStart: number
  cpuEnd: number
  profile: ReturnType<typeof profileSummary> | null
}

interface FleetRun {
  name: string
  stats: DistrictStats
  /** Messages sent and PUBACKs a second over the sending window (its first second left out). */
  sentPerS: number
  pubackPerS: number
  offered: number
  sendingS: number
  simCpu: number
}

async function main(): Promise<number> {
  const opts = optionsOrUsage(parseOptions, USAGE)
  if (!opts) return 2
  const { register, cleanup, tempDir } = benchSession(log, 'stopping child processes')
  const loadAtStart = load()
  const offered = opts.overload * opts.sustainable

  try {
    const adminPassword = randomBytes(12).toString('base64url')
    const inspectorPort = opts.cpuProf ? await freePort() : null
    const env = {
      ...platformEnv(tempDir, adminPassword),
      // The fleet comes from one address (per-address caps: docs/security.md §broker), and each
      // simulated device sends far above a real one's rate (a district of 2,000 devices offering
      // 50,000 msg/s stands for a bigger district): both lifted for the fleet, so every reading
      // takes the full path and the overload reaches the platform's own shedding. The SOS buttons
      // connect from another address and keep the default caps.
      ANJU_MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(opts.devices + 100),
      ANJU_MQTT_MAX_PENDING_PER_ADDRESS: String(Math.max(128, Math.ceil(opts.connectRate))),
      ANJU_DEVICE_RATE_PER_S: String(Math.ceil((2 * offered) / opts.devices) + 10),
    }
    log('starting the platform (node --import tsx src/main.ts)…')
    const platform = await startPlatform(inspectorPort ? withInspector(env, inspectorPort) : env)
    register(() => platform.stop())
    const { token } = await platform.alive(loginAdmin(platform.httpUrl, adminPassword))
    log(`provisioning ${opts.devices} devices and ${opts.spares} spare SOS buttons through POST /api/fleet…`)
    const fleet = await platform.alive(provisionDistrictFleet(platform.httpUrl, adminPassword, opts.devices))
    const tag = Date.now().toString(36)
    const spareFleet = await platform.alive(
      provisionFleet(
        createApiClient({ baseUrl: platform.httpUrl, username: 'admin', password: adminPassword }),
        `压测 SOS ${tag}`,
        Array.from({ length: opts.spares }, (_, n) => ({ elderName: `SOS 老人 ${n}`, address: `SOS 路 ${n} 号`, devices: [{ id: `sos-${tag}-${n}`, kind: 'button', room: null }] })),
      ),
    )
    const spares = spareFleet.devices

    const operator = await platform.alive(connectOperator(platform.httpUrl, token))
    register(async () => void operator.close())
    let operatorDropped: string | null = null
    operator.on('disconnect', (reason) => (operatorDropped ??= reason))
    const awaitingPush = new Map<string, (at: number) => void>()
    operator.on('incident', (incident) => {
      const at = performance.now()
      if (incident.state === 'open') awaitingPush.get(incident.deviceId)?.(at)
    })

    const district = startDistrictChild()
    register(() => district.stop())
    const prof = inspectorPort ? await inspector(inspectorPort) : null
    if (prof) register(async () => prof.close())
    if (opts.cpuProf) mkdirSync(opts.cpuProf, { recursive: true })

    // ---- phase bookkeeping
    const watches = new Map<PhaseName, PhaseWatch>()
    let phase: PhaseName = 'quiet'
    let latest: Map<string, number> | null = null
    const newWatch = (): PhaseWatch => ({
      startedAt: performance.now(),
      endedAt: Number.NaN,
      first: latest ? counters(latest) : null,
      last: null,
      loopLagP99MaxS: 0,
      loopLagMaxS: 0,
      detectorWaitMaxS: 0,
      detectorQueueMax: 0,
      historyBufferedMax: 0,
      connectedMax: 0,
      rssPeakKiB: rssKiB(platform.pid) || 0,
      scrapes: 0,
      scrapesMissed: 0,
      cpuStart: cpuSeconds(platform.pid),
      cpuEnd: Number.NaN,
      profile: null,
    })
    /**
     * Ends the current phase and starts `next` at once (presses are labelled from now on); then,
     * without holding anything up, reads /metrics for the counters at the boundary and swaps the
     * CPU profile (chained, so the boundaries' work stays in order).
     */
    let boundary: Promise<void> = Promise.resolve()
    const enter = (next: PhaseName | null): Promise<void> => {
      const prev = watches.get(phase)!
      const ending = phase
      prev.endedAt = performance.now()
      prev.cpuEnd = cpuSeconds(platform.pid)
      const w = next ? newWatch() : null
      if (next && w) {
        phase = next
        watches.set(next, w)
        log(`${next} (load ${load()})…`)
      }
      boundary = boundary.then(async () => {
        const m = await scrape(platform.httpUrl, token, 15_000).catch(() => latest)
        if (m) latest = m
        prev.last = latest ? counters(latest) : null
        if (w) w.first = prev.last
        if (!prof) return
        const p = await prof.stop().catch((err: unknown) => void log(`profile of ${ending} lost: ${errorMessage(err)}`))
        if (next) await prof.start().catch((err: unknown) => log(`profiling ${next} failed: ${errorMessage(err)}`))
        if (!p) return
        writeFileSync(join(opts.cpuProf!, `${ending.replace(' ', '-')}.cpuprofile`), JSON.stringify(p))
        prev.profile = profileSummary(p)
      })
      return boundary
    }
    watches.set('quiet', newWatch())
    if (prof) await prof.start()

    let scraping = false
    const sampler = setInterval(() => {
      const w = watches.get(phase)!
      w.rssPeakKiB = Math.max(w.rssPeakKiB, rssKiB(platform.pid) || 0)
    }, 250)
    const scraper = setInterval(() => {
      if (scraping) return
      scraping = true
      const w = watches.get(phase)!
      scrape(platform.httpUrl, token, 5000)
        .then((m) => {
          latest = m
          w.scrapes++
          w.loopLagP99MaxS = Math.max(w.loopLagP99MaxS, m.get('nodejs_eventloop_lag_p99_seconds') ?? 0)
          w.loopLagMaxS = Math.max(w.loopLagMaxS, m.get('nodejs_eventloop_lag_max_seconds') ?? 0)
          w.detectorWaitMaxS = Math.max(w.detectorWaitMaxS, m.get('anju_detector_queue_wait_seconds') ?? 0)
          w.detectorQueueMax = Math.max(w.detectorQueueMax, m.get('anju_detector_queue') ?? 0)
          w.historyBufferedMax = Math.max(w.historyBufferedMax, m.get('anju_telemetry_history_buffered') ?? 0)
          w.connectedMax = Math.max(w.connectedMax, m.get('anju_connected_devices') ?? 0)
        })
        .catch(() => w.scrapesMissed++)
        .finally(() => (scraping = false))
    }, 1000)
    register(async () => {
      clearInterval(sampler)
      clearInterval(scraper)
    })

    // ---- the SOS presses, one fresh button each
    const presses: Press[] = []
    const running: Promise<void>[] = []
    let nextSpare = 0
    const loopDelay = monitorEventLoopDelay({ resolution: 5 })
    loopDelay.enable()
    const pressOnce = () => {
      const button = spares[nextSpare++]
      const press: Press = { phase, deviceId: button?.id ?? '', startedAt: performance.now() }
      presses.push(press)
      if (!button) {
        press.failure = 'no spare button'
        return
      }
      const pushed = new Promise<number>((resolve) => awaitingPush.set(button.id, resolve))
      running.push(pressFresh(platform.mqttPort, button, `sos-${tag}-${nextSpare}`, pushed, press).finally(() => awaitingPush.delete(button.id)))
    }
    pressOnce()
    const pressTimer = setInterval(pressOnce, opts.sosIntervalS * 1000)
    register(async () => clearInterval(pressTimer))

    log(`quiet baseline: ${opts.quietS} s of fresh SOS presses, one every ${opts.sosIntervalS} s…`)
    await platform.alive(sleep(opts.quietS * 1000))

    // ---- phase A: the fleet connects, then offers the overload
    const fleetRuns: FleetRun[] = []
    const runFleet = async (name: string, run: DistrictRun, onSending: () => void, onStopped: () => void): Promise<FleetRun> => {
      const marks: { at: number; published: number; pubacks: number; cpu: number }[] = []
      let sending = false
      let stopped = false
      const stats = await platform.alive(
        district.run(run, (s, cpu) => {
          marks.push({ at: s.elapsedS, published: s.published, pubacks: s.pubacks, cpu })
          if (s.connectS !== null && !sending) {
            sending = true
            onSending()
          }
          if (s.connectS !== null && !stopped && s.elapsedS >= s.connectS + run.durationS) {
            stopped = true
            onStopped()
          }
        }),
      )
      if (!stopped) onStopped()
      const from = stats.connectS === null ? undefined : marks.find((m) => m.at >= stats.connectS! + 1)
      const to = stats.connectS === null ? undefined : marks.filter((m) => m.at <= stats.connectS! + run.durationS).at(-1)
      const span = from && to ? to.at - from.at : 0
      const per = (pick: (m: (typeof marks)[number]) => number) => (span > 0 ? (pick(to!) - pick(from!)) / span : Number.NaN)
      return { name, stats, sentPerS: per((m) => m.published), pubackPerS: per((m) => m.pubacks), offered, sendingS: run.durationS, simCpu: per((m) => m.cpu) }
    }

    let stoppedAt = 0
    void enter('A ramp')
    log(`phase A: ${fleet.length} devices connect at ${opts.rampRate}/s, then offer ${int(offered)} msg/s for ${opts.seconds} s…`)
    fleetRuns.push(
      await runFleet(
        'A: rate overload',
        { url: `mqtt://${HOST}:${platform.mqttPort}`, devices: fleet, connectRate: opts.rampRate, durationS: opts.seconds, telemetryIntervalS: fleet.length / offered, holdTelemetryUntilConnected: true },
        () => void enter('during A'),
        () => {
          stoppedAt = performance.now()
          void enter('after A')
        },
      ),
    )
    await platform.alive(sleep(stoppedAt + opts.afterS * 1000 - performance.now()))

    // ---- phase B: the reconnect storm
    void enter('during B')
    log(`phase B: ${fleet.length} devices reconnect at ${opts.connectRate}/s, each sending from its CONNACK on (${int(offered)} msg/s over the fleet) until ${opts.flushS} s after the last connected…`)
    fleetRuns.push(
      await runFleet(
        'B: reconnect storm',
        { url: `mqtt://${HOST}:${platform.mqttPort}`, devices: fleet, connectRate: opts.connectRate, durationS: opts.flushS, telemetryIntervalS: fleet.length / offered, holdTelemetryUntilConnected: false },
        () => undefined,
        () => {
          stoppedAt = performance.now()
          void enter('after B')
        },
      ),
    )
    await platform.alive(sleep(stoppedAt + opts.afterS * 1000 - performance.now()))
    clearInterval(pressTimer)
    log('waiting for the last presses…')
    await platform.alive(Promise.all(running))
    loopDelay.disable()
    await platform.alive(enter(null))
    clearInterval(sampler)
    clearInterval(scraper)

    process.stdout.write(
      report({
        opts,
        offered,
        loadAtStart,
        fleetSize: fleet.length,
        presses,
        watches,
        fleetRuns,
        operatorDropped,
        warnings: platform.warnings,
        benchLoop: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      }),
    )
    return 0
  } catch (err) {
    process.stderr.write(`\nbench failed: ${err instanceof Error && err.constructor !== Error ? (err.stack ?? err.message) : errorMessage(err)}\n`)
    return 1
  } finally {
    await cleanup()
  }
}

// ---------------------------------------------------------------------------------------------
// Report

interface ReportInput {
  opts: Options
  offered: number
  loadAtStart: string
  fleetSize: number
  presses: Press[]
  watches: Map<PhaseName, PhaseWatch>
  fleetRuns: FleetRun[]
  operatorDropped: string | null
  warnings: { count: number; byMessage: Map<string, number> }
  benchLoop: { p99: number; max: number }
}

interface Latencies {
  n: number
  p50: number
  p90: number
  p99: number
  max: number
}

function latencies(values: (number | undefined)[]): Latencies {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b)
  return { n: v.length, p50: rank(v, 0.5), p90: rank(v, 0.9), p99: rank(v, 0.99), max: v.at(-1) ?? Number.NaN }
}

function report(r: ReportInput): string {
  const { opts } = r
  const ms = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '—')
  const four = (l: Latencies) => `${ms(l.p50)} / ${ms(l.p90)} / ${ms(l.p99)} / ${ms(l.max)}`
  const cpus = os.cpus()
  const out = [
    '',
    `Alarms first under overload: fresh SOS buttons while ${r.fleetSize} devices (households of 6) overload the platform`,
    `  machine   ${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}, node ${process.version}; load average ${r.loadAtStart} at start, ${load()} at end`,
    `  platform  SQLite synchronous=${process.env.ANJU_DB_SYNC ?? 'FULL'}; per-address caps and device rate lifted for the fleet only (ANJU_DEVICE_RATE_PER_S=${Math.ceil((2 * r.offered) / opts.devices) + 10})`,
    `  load      A: ${opts.overload} × ${int(opts.sustainable)} = ${int(r.offered)} msg/s offered for ${opts.seconds} s after a ramp at ${int(opts.rampRate)} connections/s; B: the fleet reconnects at ${int(opts.connectRate)}/s, each device sending ${(r.offered / r.fleetSize).toFixed(1)} readings/s from its CONNACK until ${opts.flushS} s after the last connected`,
    `  SOS       one button never used before every ${opts.sosIntervalS} s, from ${SOS_ADDRESS}: TCP connect, CONNECT (+ Will), CONNACK, PUBLISH sos QoS 1, PUBACK, DISCONNECT; a step over ${STEP_TIMEOUT_MS / 1000} s failed; "after" = ${opts.afterS} s from the moment the fleet stopped sending`,
    `  bench     this process's event-loop delay p99 ${r.benchLoop.p99.toFixed(1)} ms, max ${r.benchLoop.max.toFixed(1)} ms (the fleet runs in a child process)`,
    '',
  ]

  // Per phase: the SOS figures.
  const quiet = latencies(r.presses.filter((p) => p.phase === 'quiet').map((p) => p.pushMs))
  out.push(
    '| phase | s | SOS | failed (CONNACK / PUBACK / push) | TCP connect p50 / max ms | connect → CONNACK p50 / p90 / p99 / max ms | publish → PUBACK p50 / p99 / max | publish → push p50 / p90 / p99 / max | connect → push ≤ 1 s | connect → push max | push p50 / p99 ÷ quiet |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  )
  const verdicts: string[] = []
  for (const phase of PHASES) {
    const ps = r.presses.filter((p) => p.phase === phase)
    const w = r.watches.get(phase)
    if (!w && ps.length === 0) continue
    const fail = (f: Press['failure']) => ps.filter((p) => p.failure === f).length
    const tcp = latencies(ps.map((p) => p.tcpMs))
    const connack = latencies(ps.map((p) => p.connackMs))
    const puback = latencies(ps.map((p) => p.pubackMs))
    const push = latencies(ps.map((p) => p.pushMs))
    const total = latencies(ps.map((p) => p.totalMs))
    const within = ps.filter((p) => p.totalMs !== undefined && p.totalMs <= GOAL_MS && !p.failure).length
    const spareless = fail('no spare button')
    const ratio = phase === 'quiet' ? '1 / 1' : `${(push.p50 / quiet.p50).toFixed(1)} / ${(push.p99 / quiet.p99).toFixed(1)}`
    const seconds = w ? ((w.endedAt - w.startedAt) / 1000).toFixed(0) : '—'
    out.push(
      `| ${phase} | ${seconds} | ${ps.length} | ${ps.length - ps.filter((p) => !p.failure).length} (${fail('CONNACK')} / ${fail('PUBACK')} / ${fail('push')}${spareless ? ` / ${spareless} no button` : ''}) | ${ms(tcp.p50)} / ${ms(tcp.max)} | ${four(connack)} | ${ms(puback.p50)} / ${ms(puback.p99)} / ${ms(puback.max)} | ${four(push)} | ${within} of ${ps.length} | ${ms(total.max)} | ${ratio} |`,
    )
    if (phase !== 'A ramp') verdicts.push(`${phase} ${within}/${ps.length}`)
  }

  // Per phase: the platform.
  out.push(
    '',
    '| phase | platform CPU | RSS peak MiB | loop delay max of p99 / max ms | detector queue max / oldest wait s | history buffered max | devices connected max | telemetry accepted | shed and counted | alarm commit mean ms (platform) | alarm push mean ms (platform) | /metrics missed |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  )
  const diff = (w: PhaseWatch, key: string) => (w.first && w.last ? (w.last[key] ?? 0) - (w.first[key] ?? 0) : Number.NaN)
  let rssPeak = 0
  for (const phase of PHASES) {
    const w = r.watches.get(phase)
    if (!w) continue
    rssPeak = Math.max(rssPeak, w.rssPeakKiB)
    const keys = new Set([...Object.keys(w.first ?? {}), ...Object.keys(w.last ?? {})])
    const shed = [...new Set(['detectors shed', 'history dropped', ...[...keys].filter((k) => /^(telemetry|status) (limited|shed|dropped|refused)$/.test(k))])]
      .map((k) => [k, diff(w, k)] as const)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${int(v)}`)
    const mean = (what: string) => {
      const n = diff(w, `${what} n`)
      return n > 0 ? ((diff(w, `${what} s`) / n) * 1000).toFixed(1) : '—'
    }
    const cpu = (w.cpuEnd - w.cpuStart) / ((w.endedAt - w.startedAt) / 1000)
    out.push(
      `| ${phase} | ${Number.isFinite(cpu) ? `${(cpu * 100).toFixed(0)} %` : '—'} | ${(w.rssPeakKiB / 1024).toFixed(0)} | ${(w.loopLagP99MaxS * 1000).toFixed(0)} / ${(w.loopLagMaxS * 1000).toFixed(0)} | ${int(w.detectorQueueMax)} / ${w.detectorWaitMaxS.toFixed(1)} | ${int(w.historyBufferedMax)} | ${int(w.connectedMax)} | ${int(diff(w, 'telemetry accepted'))} | ${shed.join(', ') || '0'} | ${mean('alarm commit')} | ${mean('alarm push')} | ${w.scrapesMissed} of ${w.scrapes + w.scrapesMissed} |`,
    )
  }

  // The fleet.
  out.push(
    '',
    '| fleet run | offered /s | sent /s | PUBACK /s | connected | connect failed / refused | all connected after s | established connections dropped | publishes never acknowledged | sim CPU |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.fleetRuns.map(
      (f) =>
        `| ${f.name} | ${int(f.offered)} | ${int(f.sentPerS)} | ${int(f.pubackPerS)} | ${int(f.stats.connected)} of ${int(f.stats.target)} | ${int(f.stats.connectFailures)} / ${int(f.stats.refusals)} | ${f.stats.connectS === null ? '—' : f.stats.connectS.toFixed(1)} | ${int(f.stats.disconnects)} | ${int(f.stats.errors)} | ${Number.isFinite(f.simCpu) ? `${(f.simCpu * 100).toFixed(0)} %` : '—'} |`,
    ),
  )

  const failed = r.presses.filter((p) => p.failure)
  const late = r.presses.filter((p) => !p.failure && p.phase !== 'A ramp' && (p.totalMs ?? Infinity) > GOAL_MS)
  const counted = r.presses.filter((p) => p.phase !== 'A ramp')
  const met = counted.length > 0 && counted.every((p) => !p.failure && (p.totalMs ?? Infinity) <= GOAL_MS)
  const dropped = r.fleetRuns.reduce((n, f) => n + f.stats.disconnects, 0)
  out.push(
    '',
    `RSS peak ${(rssPeak / 1024).toFixed(0)} MiB over the run.`,
    `fresh SOS connect → operator push ≤ 1 s, by phase: ${verdicts.join(', ')}.`,
    `issue 15 goal "every fresh SOS recorded and pushed within 1 s, during the load and after it": ${met ? 'MET' : 'NOT MET'}` +
      (met ? '' : ` (${failed.filter((p) => p.phase !== 'A ramp').length} failed, ${late.length} later than 1 s, outside the ramp)`) +
      `; established fleet connections dropped: ${dropped}${dropped ? ' (goal: none)' : ''}.`,
  )
  const short = r.fleetRuns.filter((f) => f.sentPerS < 0.95 * f.offered)
  if (short.length) out.push(`the simulator offered less than asked: ${short.map((f) => `${f.name} ${int(f.sentPerS)} of ${int(f.offered)} msg/s`).join('; ')} (one process, two shared cores)`)
  if (r.operatorDropped) out.push(`the operator socket disconnected: ${r.operatorDropped}`)
  const firstErrors = new Map<string, string>()
  for (const p of failed) if (!firstErrors.has(`${p.phase} ${p.failure}`)) firstErrors.set(`${p.phase} ${p.failure}`, p.error ?? '')
  if (firstErrors.size) out.push('first SOS failure per phase and step:', ...[...firstErrors].map(([k, e]) => `  ${k}: ${e}`))
  for (const f of r.fleetRuns) if (f.stats.lastError) out.push(`${f.name}: last fleet error: ${f.stats.lastError}`)
  if (r.warnings.count > 0) out.push(`platform logged ${r.warnings.count} warnings or errors: ${[...r.warnings.byMessage].map(([m, n]) => `${m} ×${n}`).join('; ')}`)

  const profiled = PHASES.flatMap((p) => {
    const prof = r.watches.get(p)?.profile
    return prof ? [[p, prof] as const] : []
  })
  for (const [phase, p] of profiled) {
    const pct = (v: number) => `${((v / p.totalMs) * 100).toFixed(1)} %`
    out.push('', `platform main thread, ${phase}: ${(p.totalMs / 1000).toFixed(1)} s profiled; self time by area: ${p.byArea.map(([a, v]) => `${a} ${pct(v)}`).join(', ')}`)
    out.push(...p.byFunction.map(([f, v]) => `    ${pct(v).padStart(7)}  ${f}`))
  }
  return out.join('\n') + '\n'
}

process.exit(await main())
