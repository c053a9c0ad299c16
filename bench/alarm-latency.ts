/**
 * Alarm latency: how long an SOS takes from the button's PUBLISH to the operator's screen,
 * measured against what a bare aedes broker needs to move the same message, in one run on
 * one machine.
 *
 *   npm run bench -- [--devices 1000] [--presses 300] [--telemetry-rate 200] [--connect-rate 500]
 *                    [--baseline-messages <presses>] [--interval-ms 20] [--in-flight 4]
 *
 * Platform phase: the real entry point (src/main.ts) runs as a child process on ephemeral ports
 * with a temporary database. N buttons are provisioned through the REST API, each in its own
 * household, and connected as raw MQTT devices; one admin watches over Socket.IO. While
 * background telemetry flows, each timed SOS is published at QoS 1 by a button whose household
 * has no active incident, and two times are taken: PUBACK (the incident is committed) and the
 * operator's `incident` push that opens it.
 * Baseline phase: the same fleet, telemetry and publishes against bench/bare-broker.ts (aedes,
 * no auth, no ingest), timed to a plain subscriber's receipt.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { io, type Socket } from 'socket.io-client'
import { deviceTopic } from '../src/contract/index.js'
import { connectRawDevice, SUBACK_FAILURE, type RawDevice } from '../firmware-sim/raw-device.js'
import { benchSession } from './lib/cleanup.js'
import { countFlag, errorMessage, exitOnHelp, numberFlag, optionsOrUsage } from './lib/flags.js'
import { platformEnv } from './lib/platform.js'
import { loginAdmin, type Api, type Credentials } from './lib/rest.js'
import { withTimeout } from './lib/wait.js'

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))
const HOST = '127.0.0.1'
/** A press (or baseline message) whose PUBACK or push is later than this counts as failed. */
const PRESS_TIMEOUT_MS = 10_000
/** Untimed presses per phase first, so JIT warm-up and first-query costs stay out of the figures. */
const WARMUP = 5
/** Background telemetry runs this long before the first press, to measure a steady state. */
const SETTLE_MS = 1000
const REST_CONCURRENCY = 20
const RESOLVE_CONCURRENCY = 4

// ---------------------------------------------------------------------------------------------
// Command line

interface Options {
  devices: number
  presses: number
  telemetryRate: number
  connectRate: number
  baselineMessages: number
  intervalMs: number
  inFlight: number
}

const USAGE = `usage: npm run bench -- [options]
  --devices N             buttons provisioned and connected (default 1000)
  --presses N             timed SOS presses (default 300)
  --telemetry-rate R      background telemetry messages per second across the fleet (default 200)
  --connect-rate R        device connections per second (default 500)
  --baseline-messages N   timed messages through the bare broker (default = presses)
  --interval-ms MS        spacing between press starts (default 20)
  --in-flight N           presses awaiting their push at once (default 4)`

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      devices: { type: 'string', default: '1000' },
      presses: { type: 'string', default: '300' },
      'telemetry-rate': { type: 'string', default: '200' },
      'connect-rate': { type: 'string', default: '500' },
      'baseline-messages': { type: 'string' },
      'interval-ms': { type: 'string', default: '20' },
      'in-flight': { type: 'string', default: '4' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  exitOnHelp(values.help, USAGE)
  const presses = countFlag('presses', values.presses, 1)
  return {
    devices: countFlag('devices', values.devices, 1),
    presses,
    telemetryRate: numberFlag('telemetry-rate', values['telemetry-rate'], 0),
    connectRate: numberFlag('connect-rate', values['connect-rate'], 0.1),
    baselineMessages: values['baseline-messages'] === undefined ? presses : countFlag('baseline-messages', values['baseline-messages'], 1),
    intervalMs: numberFlag('interval-ms', values['interval-ms'], 0),
    inFlight: countFlag('in-flight', values['in-flight'], 1),
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Runs fn(0..count-1) with at most `limit` at a time; stops starting new ones after a failure. */
async function forEachLimit(count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < count) {
      const i = next++
      try {
        await fn(i)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
}

/** A FIFO of tasks run `limit` at a time, for work that must not block the timed loop. */
function backgroundQueue(limit: number) {
  const tasks: (() => Promise<void>)[] = []
  let running = 0
  let idle: (() => void) | null = null
  const pump = () => {
    while (running < limit && tasks.length > 0) {
      const task = tasks.shift()!
      running++
      void task().finally(() => {
        running--
        pump()
      })
    }
    if (running === 0 && tasks.length === 0 && idle) idle()
  }
  return {
    push(task: () => Promise<void>): void {
      tasks.push(task)
      pump()
    },
    drained(): Promise<void> {
      if (running === 0 && tasks.length === 0) return Promise.resolve()
      return new Promise((resolve) => (idle = resolve))
    },
  }
}

function shuffled(count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i)
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}

// ---------------------------------------------------------------------------------------------
// Child processes: the platform and the bare broker

interface Service {
  name: string
  /** The first capture group of each ready pattern, by key. */
  ready: Record<string, string>
  /** Rejects if the process exits before stop(): race it against work that needs the service. */
  crashed: Promise<never>
  /** Log lines at warn or above (pino JSON on stdout), for the report. */
  warnings: { count: number; samples: string[] }
  stop(): Promise<void>
}

/** Every service started, so a failed run can show what they logged. */
const services: Service[] = []

/**
 * Starts `node --import tsx <script>` in the repository root and waits until stdout has matched
 * every ready pattern (the platform's banner lines), or fails with the process's stderr.
 */
function startService(name: string, script: string, env: NodeJS.ProcessEnv, patterns: Record<string, RegExp>, timeoutMs = 60_000): Promise<Service> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const ready: Record<string, string> = {}
  const isReady = () => Object.keys(ready).length === Object.keys(patterns).length
  const warnings = { count: 0, samples: [] as string[] }
  let stderrTail = ''
  let stopping = false

  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`)))
  const describeExit = (when: string, how: string) => `${name} exited ${when} (${how})${stderrTail.trim() ? `:\n${stderrTail.trim()}` : ''}`
  // Rejects only for an exit nobody asked for. Handled here, so a crash between two awaits of
  // `alive()` is reported by the next one rather than as an unhandled rejection.
  const crashed = exited.then((how) => (stopping ? new Promise<never>(() => undefined) : Promise.reject(new Error(describeExit('unexpectedly', how)))))
  crashed.catch(() => undefined)

  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4000)
  })

  const service: Service = {
    name,
    ready,
    crashed,
    warnings,
    async stop() {
      if (stopping || child.exitCode !== null || child.signalCode !== null) return
      stopping = true
      child.kill('SIGTERM')
      const graceful = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])
      if (!graceful) {
        child.kill('SIGKILL')
        await exited
        throw new Error(`${name} did not exit within 10 s of SIGTERM; killed`)
      }
    },
  }

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not print its banner within ${timeoutMs} ms`)), timeoutMs)
    const fail = (err: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(err)
    }
    void exited.then((how) => {
      if (!isReady()) fail(new Error(describeExit('before it was ready', how)))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      recordWarning(line, warnings)
      if (isReady()) return
      for (const [key, pattern] of Object.entries(patterns)) {
        const match = pattern.exec(line)
        if (match?.[1]) ready[key] = match[1]
      }
      if (isReady()) {
        clearTimeout(timer)
        services.push(service)
        resolve(service)
      }
    })
  })
}

function recordWarning(line: string, warnings: { count: number; samples: string[] }): void {
  if (!line.startsWith('{')) return
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown }
    if (typeof entry.level === 'number' && entry.level >= 40) {
      warnings.count++
      if (warnings.samples.length < 5) warnings.samples.push(line.slice(0, 1500))
    }
  } catch {
    // not a log line
  }
}

// ---------------------------------------------------------------------------------------------
// REST API

/** One button per household (one open incident per household and category), a few communities. */
async function provisionButtons(api: Api, count: number): Promise<Credentials[]> {
  const communityCount = Math.min(10, Math.ceil(count / 1000))
  const communities: string[] = []
  for (let c = 0; c < communityCount; c++) {
    const { id } = await api<{ id: string }>('POST', '/api/communities', { name: `压测社区 ${c + 1}`, street: '基准街道' })
    communities.push(id)
  }
  const width = String(count).length
  const buttons = new Array<Credentials>(count)
  await forEachLimit(count, REST_CONCURRENCY, async (i) => {
    const n = String(i + 1).padStart(width, '0')
    const household = await api<{ id: string }>('POST', '/api/households', {
      communityId: communities[i % communityCount],
      elderName: `老人 ${n}`,
      address: `基准路 ${n} 号`,
    })
    const device = await api<{ id: string; secret: string }>('POST', '/api/devices', { id: `bench-btn-${n}`, householdId: household.id, kind: 'button' })
    buttons[i] = { id: device.id, secret: device.secret }
  })
  return buttons
}

// ---------------------------------------------------------------------------------------------
// Device fleet

interface Fleet {
  devices: RawDevice[]
  connectSeconds: number
  /** Connections that dropped while the fleet was meant to be up. */
  lost: { count: number; first: string | null }
  close(): Promise<void>
}

/** Connects one device and subscribes it to its own cmd topic, as a button does. */
async function connectButton(port: number, { id, secret }: Credentials, lost: Fleet['lost']): Promise<RawDevice> {
  const device = await connectRawDevice({ host: HOST, port, deviceId: id, secret })
  device.on('close', (err) => {
    if (!err) return
    lost.count++
    lost.first ??= err.message
  })
  const [granted] = await device.subscribe(deviceTopic(id, 'cmd'))
  if (granted === undefined || granted === SUBACK_FAILURE) {
    await device.close()
    throw new Error(`${id}: subscription to its cmd topic refused`)
  }
  return device
}

/** Connects every device at `rate` per second; stops starting new ones after a failure. */
async function connectFleet(port: number, credentials: Credentials[], rate: number): Promise<Fleet> {
  const lost = { count: 0, first: null as string | null }
  const started = performance.now()
  const attempts: Promise<RawDevice>[] = []
  let failing = false
  for (let i = 0; i < credentials.length && !failing; i++) {
    const wait = started + (i * 1000) / rate - performance.now()
    if (wait >= 1) await sleep(wait)
    const attempt = connectButton(port, credentials[i]!, lost)
    // Handled at once, so a failure during the paced loop is no unhandled rejection;
    // allSettled below reports it.
    attempt.catch(() => (failing = true))
    attempts.push(attempt)
  }
  const settled = await Promise.allSettled(attempts)
  const connectSeconds = (performance.now() - started) / 1000
  const devices = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const close = async () => {
    await Promise.all(devices.map((d) => d.close()))
  }
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [errorMessage(s.reason)] : []))
  if (failures.length > 0) {
    await close()
    throw new Error(`${failures.length} of ${attempts.length} devices attempted failed to connect; first: ${failures[0]}`)
  }
  return { devices, connectSeconds, lost, close }
}

interface TelemetryRun {
  stop(): { sent: number; seconds: number; errors: number }
}

/**
 * QoS 0 water readings from random devices at `rate` per second overall. When the event loop
 * falls behind, at most 100 ms of backlog is sent at once (a real fleet does not catch up in a
 * burst); the achieved rate is reported.
 */
function startTelemetry(devices: RawDevice[], rate: number): TelemetryRun {
  const started = performance.now()
  let sent = 0
  let errors = 0
  if (rate <= 0 || devices.length === 0) return { stop: () => ({ sent, seconds: (performance.now() - started) / 1000, errors }) }
  const topics = devices.map((d) => deviceTopic(d.deviceId, 'telemetry'))
  const totals = new Float64Array(devices.length).fill(12.5)
  let owed = 0
  let last = started
  const timer = setInterval(() => {
    const now = performance.now()
    owed = Math.min(owed + ((now - last) * rate) / 1000, rate / 10 + 1)
    last = now
    for (; owed >= 1; owed--) {
      const k = Math.floor(Math.random() * devices.length)
      totals[k]! += 0.001
      const reading = { id: `t${sent}`, ts: Date.now(), kind: 'water', totalM3: Math.round(totals[k]! * 1000) / 1000, flowLpm: 0 }
      devices[k]!.publish(topics[k]!, reading, 0).catch(() => errors++)
      sent++
    }
  }, 5)
  return {
    stop() {
      clearInterval(timer)
      return { sent, seconds: (performance.now() - started) / 1000, errors }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Timed loop

type Sample = { ok: true; hopMs: number; pubackMs: number } | { ok: false; error: string }

interface TimedRun {
  samples: Sample[]
  /** This process's event-loop delay while measuring: a busy client would inflate every figure. */
  clientLoopDelay: { p99: number; max: number }
}

/**
 * Starts `warmup + count` measurements `intervalMs` apart with at most `inFlight` unfinished;
 * returns the samples of the last `count`. `measure` never rejects: failures are samples.
 */
async function runTimed(count: number, opts: Options, measure: (i: number) => Promise<Sample>): Promise<TimedRun> {
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const samples: Sample[] = []
  const running: Promise<void>[] = []
  const slotWaiters: (() => void)[] = []
  let active = 0
  let nextAt = performance.now()
  for (let i = 0; i < WARMUP + count; i++) {
    while (active >= opts.inFlight) await new Promise<void>((resolve) => slotWaiters.push(resolve))
    const wait = nextAt - performance.now()
    if (wait >= 1) await sleep(wait)
    nextAt = performance.now() + opts.intervalMs
    active++
    running.push(
      measure(i).then((sample) => {
        if (i >= WARMUP) samples.push(sample)
        active--
        slotWaiters.shift()?.()
      }),
    )
  }
  await Promise.all(running)
  loopDelay.disable()
  // The histogram counts the 1 ms sampling interval itself; nanoseconds to milliseconds.
  return { samples, clientLoopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 } }
}

// ---------------------------------------------------------------------------------------------
// Phases

interface PhaseResult {
  devices: number
  connectSeconds: number
  telemetry: { sent: number; seconds: number; errors: number }
  samples: Sample[]
  clientLoopDelay: TimedRun['clientLoopDelay']
  lostConnections: { count: number; first: string | null }
  deviceIds: string[]
  notes: string[]
  /** Anything besides failed samples and dropped connections that makes the run a failure. */
  problems: string[]
}

interface IncidentPush {
  id: string
  deviceId: string
  householdId: string
  state: 'open' | 'acknowledged' | 'resolved'
}

interface ServerToOperator {
  'incidents:snapshot': (incidents: IncidentPush[]) => void
  incident: (incident: IncidentPush, events: unknown[]) => void
}

/** Logs in as admin over Socket.IO and waits for the snapshot every connect starts with. */
async function connectOperator(httpUrl: string, token: string): Promise<{ socket: Socket<ServerToOperator>; snapshot: IncidentPush[] }> {
  const socket: Socket<ServerToOperator> = io(httpUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true })
  try {
    const snapshot = await withTimeout(
      new Promise<IncidentPush[]>((resolve, reject) => {
        socket.once('incidents:snapshot', resolve)
        socket.once('connect_error', (err) => reject(new Error(`operator socket refused: ${err.message}`)))
      }),
      10_000,
      'operator snapshot',
    )
    return { socket, snapshot }
  } catch (err) {
    socket.close()
    throw err
  }
}

async function platformPhase(opts: Options, tempDir: string, register: (cleanup: () => Promise<void>) => void): Promise<PhaseResult> {
  const adminPassword = randomBytes(12).toString('base64url')
  log('starting the platform (node --import tsx src/main.ts)…')
  const platform = await startService(
    'platform',
    'src/main.ts',
    {
      ...platformEnv(tempDir, adminPassword),
      // The whole fleet comes from one address here; in the field each device has its own
      // (or a carrier NAT's) address, which the per-address caps are sized for (docs/security.md §broker).
      ANJU_MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(opts.devices + 100),
      ANJU_MQTT_MAX_PENDING_PER_ADDRESS: String(Math.max(64, opts.connectRate)),
    },
    { http: /Console\s+http:\/\/[^\s:]+:(\d+)\//, mqtt: /MQTT\s+mqtt:\/\/[^\s:]+:(\d+)/ },
  )
  register(() => platform.stop())
  const httpUrl = `http://${HOST}:${platform.ready.http}`
  const mqttPort = Number(platform.ready.mqtt)
  const alive = <T>(work: Promise<T>) => Promise.race([work, platform.crashed])

  const { token, api } = await alive(loginAdmin(httpUrl, adminPassword))

  log(`provisioning ${opts.devices} buttons through the REST API (${REST_CONCURRENCY} requests at a time)…`)
  const provisionStarted = performance.now()
  const buttons = await alive(provisionButtons(api, opts.devices))
  const provisionSeconds = (performance.now() - provisionStarted) / 1000

  log(`connecting ${opts.devices} devices at ${opts.connectRate}/s…`)
  const fleet = await alive(connectFleet(mqttPort, buttons, opts.connectRate))
  register(() => fleet.close())

  const { socket, snapshot } = await alive(connectOperator(httpUrl, token))
  register(async () => {
    socket.close()
  })
  let operatorDropped: string | null = null
  socket.on('disconnect', (reason) => (operatorDropped ??= reason))

  // An `incident` push that opens an incident: state open and an id not seen before. The press
  // waiting on that device takes it; attaches, acknowledgements and resolutions are ignored.
  const knownIncidents = new Set(snapshot.map((i) => i.id))
  const awaitingPush = new Map<string, (at: number, incidentId: string) => void>()
  socket.on('incident', (incident) => {
    const at = performance.now()
    if (incident.state !== 'open' || knownIncidents.has(incident.id)) return
    knownIncidents.add(incident.id)
    awaitingPush.get(incident.deviceId)?.(at, incident.id)
  })

  // Every press needs a household without an active incident. Each button is used once while
  // any is left; beyond that a button is reused after its incident is acknowledged and resolved.
  const totalPresses = WARMUP + opts.presses
  const reuse = totalPresses > fleet.devices.length
  const free = shuffled(fleet.devices.length)
  const freeWaiters: ((index: number) => void)[] = []
  const takeDevice = (): Promise<number> => {
    const index = free.shift()
    if (index !== undefined) return Promise.resolve(index)
    return new Promise((resolve) => freeWaiters.push(resolve))
  }
  const giveBack = (index: number) => {
    const waiter = freeWaiters.shift()
    if (waiter) waiter(index)
    else free.push(index)
  }
  const resolver = backgroundQueue(RESOLVE_CONCURRENCY)
  let resolveFailures = 0
  let resolveFirstError: string | null = null

  const alarmTopics = fleet.devices.map((d) => deviceTopic(d.deviceId, 'alarm'))
  const runTag = Date.now().toString(36)

  const press = async (i: number): Promise<Sample> => {
    let index: number
    try {
      index = await withTimeout(takeDevice(), PRESS_TIMEOUT_MS, 'a button whose household has no active incident')
    } catch (err) {
      return { ok: false, error: errorMessage(err) }
    }
    const device = fleet.devices[index]!
    const payload = Buffer.from(JSON.stringify({ id: `sos-${runTag}-${i}`, ts: Date.now(), type: 'sos' }))
    const pushed = new Promise<{ at: number; incidentId: string }>((resolve) => awaitingPush.set(device.deviceId, (at, incidentId) => resolve({ at, incidentId })))

    const t0 = performance.now()
    const acked = device.publish(alarmTopics[index]!, payload, 1).then(() => performance.now())
    try {
      const [ackAt, push] = await Promise.all([
        withTimeout(acked, PRESS_TIMEOUT_MS, `PUBACK for ${device.deviceId}`),
        withTimeout(pushed, PRESS_TIMEOUT_MS, `operator push for ${device.deviceId}`),
      ])
      if (reuse) {
        resolver.push(async () => {
          try {
            await api('POST', `/api/incidents/${push.incidentId}/acknowledge`)
            await api('POST', `/api/incidents/${push.incidentId}/resolve`, { outcome: 'test', note: null })
            giveBack(index)
          } catch (err) {
            resolveFailures++
            resolveFirstError ??= errorMessage(err)
          }
        })
      }
      return { ok: true, hopMs: push.at - t0, pubackMs: ackAt - t0 }
    } catch (err) {
      acked.catch(() => undefined)
      return { ok: false, error: errorMessage(err) }
    } finally {
      awaitingPush.delete(device.deviceId)
    }
  }

  log(`timed phase: ${WARMUP} warm-up + ${opts.presses} SOS presses, ${opts.intervalMs} ms apart, ≤ ${opts.inFlight} in flight, telemetry at ${opts.telemetryRate}/s…`)
  const telemetry = startTelemetry(fleet.devices, opts.telemetryRate)
  await sleep(SETTLE_MS)
  const { samples, clientLoopDelay } = await alive(runTimed(opts.presses, opts, press))
  const telemetryStats = telemetry.stop()
  await alive(resolver.drained())

  const notes = [`provisioned ${opts.devices} buttons in ${provisionSeconds.toFixed(1)} s`]
  if (reuse) notes.push(`buttons reused after acknowledge + resolve over REST (${totalPresses} presses > ${fleet.devices.length} buttons)`)
  const problems: string[] = []
  if (resolveFailures > 0) problems.push(`${resolveFailures} incidents could not be resolved for reuse; first: ${resolveFirstError}`)
  if (operatorDropped) problems.push(`the operator socket disconnected (${operatorDropped})`)
  if (platform.warnings.count > 0) {
    notes.push(`platform logged ${platform.warnings.count} warnings or errors, e.g.:`)
    notes.push(...platform.warnings.samples.map((s) => `    ${s.slice(0, 400)}`))
  }

  log('stopping the platform…')
  socket.close()
  await fleet.close()
  await platform.stop()
  return {
    devices: fleet.devices.length,
    connectSeconds: fleet.connectSeconds,
    telemetry: telemetryStats,
    samples,
    clientLoopDelay,
    lostConnections: fleet.lost,
    deviceIds: fleet.devices.map((d) => d.deviceId),
    notes,
    problems,
  }
}

async function baselinePhase(opts: Options, credentials: Credentials[], register: (cleanup: () => Promise<void>) => void): Promise<PhaseResult> {
  log('starting the bare aedes broker (bench/bare-broker.ts)…')
  const broker = await startService('bare broker', 'bench/bare-broker.ts', process.env, { mqtt: /BARE_BROKER\s+mqtt:\/\/[^\s:]+:(\d+)/ })
  register(() => broker.stop())
  const port = Number(broker.ready.mqtt)
  const alive = <T>(work: Promise<T>) => Promise.race([work, broker.crashed])

  log(`connecting ${credentials.length} devices to it at ${opts.connectRate}/s…`)
  const fleet = await alive(connectFleet(port, credentials, opts.connectRate))
  register(() => fleet.close())

  // The plain subscriber: every alarm topic, at QoS 1 like the devices' own subscriptions.
  const subscriber = await connectRawDevice({ host: HOST, port, deviceId: 'bench-subscriber', secret: 'unused' })
  register(() => subscriber.close())
  const [granted] = await subscriber.subscribe(deviceTopic('+', 'alarm'))
  if (granted === undefined || granted === SUBACK_FAILURE) throw new Error('bare broker refused the subscriber')
  const awaiting = new Map<string, (at: number) => void>()
  subscriber.on('message', (_topic, payload) => {
    const at = performance.now()
    const { id } = JSON.parse(payload.toString('utf8')) as { id: string }
    awaiting.get(id)?.(at)
  })

  const order = shuffled(fleet.devices.length)
  const runTag = Date.now().toString(36)
  const send = async (i: number): Promise<Sample> => {
    const index = order[i % order.length]!
    const device = fleet.devices[index]!
    const id = `base-${runTag}-${i}`
    const payload = Buffer.from(JSON.stringify({ id, ts: Date.now(), type: 'sos' }))
    const received = new Promise<number>((resolve) => awaiting.set(id, resolve))

    const t0 = performance.now()
    const acked = device.publish(deviceTopic(device.deviceId, 'alarm'), payload, 1).then(() => performance.now())
    try {
      const [ackAt, at] = await Promise.all([
        withTimeout(acked, PRESS_TIMEOUT_MS, `PUBACK for ${device.deviceId}`),
        withTimeout(received, PRESS_TIMEOUT_MS, `subscriber receipt of ${id}`),
      ])
      return { ok: true, hopMs: at - t0, pubackMs: ackAt - t0 }
    } catch (err) {
      acked.catch(() => undefined)
      return { ok: false, error: errorMessage(err) }
    } finally {
      awaiting.delete(id)
    }
  }

  log(`timed phase: ${WARMUP} warm-up + ${opts.baselineMessages} messages, same spacing and telemetry…`)
  const telemetry = startTelemetry(fleet.devices, opts.telemetryRate)
  await sleep(SETTLE_MS)
  const { samples, clientLoopDelay } = await alive(runTimed(opts.baselineMessages, opts, send))
  const telemetryStats = telemetry.stop()

  await subscriber.close()
  await fleet.close()
  await broker.stop()
  return {
    devices: fleet.devices.length,
    connectSeconds: fleet.connectSeconds,
    telemetry: telemetryStats,
    samples,
    clientLoopDelay,
    lostConnections: fleet.lost,
    deviceIds: fleet.devices.map((d) => d.deviceId),
    notes: broker.warnings.count > 0 ? [`bare broker logged ${broker.warnings.count} warnings`] : [],
    problems: [],
  }
}

// ---------------------------------------------------------------------------------------------
// Report

interface Summary {
  count: number
  failed: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** Nearest-rank percentiles over the successful samples. */
function summarize(samples: Sample[], pick: (s: { hopMs: number; pubackMs: number }) => number): Summary {
  const values = samples.flatMap((s) => (s.ok ? [pick(s)] : [])).sort((a, b) => a - b)
  const rank = (q: number) => values[Math.max(0, Math.ceil(q * values.length) - 1)] ?? Number.NaN
  return { count: values.length, failed: samples.length - values.length, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: values.at(-1) ?? Number.NaN }
}

function printReport(opts: Options, platform: PhaseResult, baseline: PhaseResult): boolean {
  const rows: [string, Summary][] = [
    ['SOS publish → operator push', summarize(platform.samples, (s) => s.hopMs)],
    ['SOS publish → PUBACK (durable commit)', summarize(platform.samples, (s) => s.pubackMs)],
    ['bare broker hop (publish → subscriber)', summarize(baseline.samples, (s) => s.hopMs)],
    ['bare broker publish → PUBACK', summarize(baseline.samples, (s) => s.pubackMs)],
  ]
  const [push, puback, hop, bareAck] = rows.map(([, s]) => s) as [Summary, Summary, Summary, Summary]
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '—').padStart(9)
  const rate = (t: PhaseResult['telemetry']) => (t.sent / t.seconds).toFixed(1)
  const cpus = os.cpus()

  const out: string[] = [
    '',
    'Anju alarm latency',
    `  machine      ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`,
    `  platform     ${process.env.ANJU_DB_URL ? 'PostgreSQL (ANJU_DB_URL)' : `SQLite synchronous=${process.env.ANJU_DB_SYNC ?? 'FULL'}`}, ${platform.devices} devices connected in ${platform.connectSeconds.toFixed(2)} s (${(platform.devices / platform.connectSeconds).toFixed(0)}/s, target ${opts.connectRate}/s)`,
    `  baseline     bare aedes, ${baseline.devices} devices connected in ${baseline.connectSeconds.toFixed(2)} s`,
    `  telemetry    target ${opts.telemetryRate}/s; achieved ${rate(platform.telemetry)}/s on the platform, ${rate(baseline.telemetry)}/s on the bare broker`,
    `  bench client event-loop delay while timing: p99 ${platform.clientLoopDelay.p99.toFixed(1)} ms, max ${platform.clientLoopDelay.max.toFixed(1)} ms (platform phase); p99 ${baseline.clientLoopDelay.p99.toFixed(1)} ms, max ${baseline.clientLoopDelay.max.toFixed(1)} ms (baseline)`,
    `  presses      ${opts.presses} timed (+${WARMUP} warm-up), ${opts.intervalMs} ms apart, ≤ ${opts.inFlight} in flight; ${opts.baselineMessages} baseline messages`,
    '',
    `  ${'path'.padEnd(40)} ${'count'.padStart(6)} ${'failed'.padStart(6)} ${'p50'.padStart(9)} ${'p90'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}   (ms)`,
    ...rows.map(([name, s]) => `  ${name.padEnd(40)} ${String(s.count).padStart(6)} ${String(s.failed).padStart(6)} ${ms(s.p50)} ${ms(s.p90)} ${ms(s.p99)} ${ms(s.max)}`),
    '',
    `  operator push / bare hop:   p50 ${(push.p50 / hop.p50).toFixed(2)}×   p99 ${(push.p99 / hop.p99).toFixed(2)}×`,
    `  PUBACK / bare PUBACK:       p50 ${(puback.p50 / bareAck.p50).toFixed(2)}×   p99 ${(puback.p99 / bareAck.p99).toFixed(2)}×`,
  ]

  const problems: string[] = []
  const phaseProblems = (name: string, phase: PhaseResult) => {
    const failures = phase.samples.flatMap((s) => (s.ok ? [] : [s.error]))
    if (failures.length > 0) problems.push(`${name}: ${failures.length} of ${phase.samples.length} timed messages failed; first: ${failures[0]}`)
    if (phase.lostConnections.count > 0) problems.push(`${name}: ${phase.lostConnections.count} device connections dropped; first: ${phase.lostConnections.first}`)
    if (phase.telemetry.errors > 0) problems.push(`${name}: ${phase.telemetry.errors} telemetry publishes failed`)
    problems.push(...phase.problems.map((p) => `${name}: ${p}`))
  }
  phaseProblems('platform', platform)
  phaseProblems('baseline', baseline)

  const notes = [...platform.notes, ...baseline.notes]
  if (notes.length > 0) out.push('', '  notes', ...notes.map((n) => `    ${n}`))
  if (problems.length > 0) out.push('', '  FAILED', ...problems.map((p) => `    ${p}`))
  out.push('')
  process.stdout.write(out.join('\n') + '\n')
  return problems.length === 0
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

// ---------------------------------------------------------------------------------------------
// Main: everything started is registered for cleanup, which also runs on error and SIGINT.

async function main(): Promise<number> {
  const opts = optionsOrUsage(parseOptions, USAGE)
  if (!opts) return 2

  let interrupted = false
  const { register, cleanup, tempDir } = benchSession(log, 'stopping child processes', { interrupted: () => void (interrupted = true) })

  try {
    const platform = await platformPhase(opts, tempDir, register)
    // The baseline fleet uses the same ids; the bare broker has no authentication.
    const credentials = platform.deviceIds.map((id) => ({ id, secret: 'unused' }))
    const baseline = await baselinePhase(opts, credentials, register)
    const ok = printReport(opts, platform, baseline)
    return ok ? 0 : 1
  } catch (err) {
    // After a signal, whatever was running fails because its services are gone: not news.
    if (interrupted) return 130
    // Our own failures are plain Errors whose message says it all; a TypeError and the like is a
    // bug in this script, and its stack is what helps.
    const detail = err instanceof Error ? (err.constructor === Error ? err.message : (err.stack ?? err.message)) : String(err)
    process.stderr.write(`\nbench failed: ${detail}\n`)
    for (const { name, warnings } of services) {
      if (warnings.count > 0) process.stderr.write(`\n${name} logged ${warnings.count} warnings or errors, first:\n${warnings.samples.join('\n')}\n`)
    }
    return 1
  } finally {
    await cleanup()
  }
}

process.exit(await main())
