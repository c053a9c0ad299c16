/**
 * A whole district of devices from one process: thousands of raw MQTT connections opened at a
 * steady rate, each behaving as contract v1 says (Last Will, `status` on connect, `cmd`
 * subscription, telemetry by kind), driven by one scheduler loop.
 *
 * Lean by construction, so 10,000 devices fit one process on two cores:
 * - one 10 ms loop starts connections (token bucket) and walks the send schedule; no timer per device;
 * - the schedule is a fixed ring: device j sends at `phase[j] + k × interval`, phases spread evenly
 *   (jittered) over one interval and sorted, so finding who is due is a cursor moving forward;
 * - a device is a few numbers; message and close handlers are shared functions, not closures.
 *
 * Never throws for a device: a refused or failed connection, a lost PUBACK or a dropped connection
 * is counted, and the rest of the district carries on. Only invalid options throw.
 */
import {
  cmdTopic,
  commandPayload,
  deviceTopic,
  type StatusPayload,
  type TelemetryPayload,
} from '../src/contract/index.js'
import { connectRawDevice, SUBACK_FAILURE, type RawDevice } from './raw-device.js'

import type { FleetDevice } from './fleet.js'

export type { FleetDevice }

export interface DistrictOptions {
  /** mqtt://host:port (tcp:// also accepted; port defaults to 1883). */
  url: string
  devices: FleetDevice[]
  /** Connections started per second (token bucket). */
  connectRate: number
  /** How long to keep sending after every connection attempt has settled; 0 = stop right after connecting. */
  durationS: number
  /** Each device publishes one message this often; the fleet is spread evenly (jittered) over the interval. */
  telemetryIntervalS: number
  /** Called about 4 times a second, and once more with the final figures. */
  progress?: (s: DistrictStats) => void
  /** Abort: stop connecting and sending, close every connection, resolve with the stats so far. */
  signal?: AbortSignal
  /** Time allowed for TCP connect plus CONNACK, per connection. Default 10,000 ms. */
  connectTimeoutMs?: number
  /** MQTT keepalive of each device, seconds. Default 60. */
  keepaliveS?: number
  /**
   * Handshakes (TCP connect to CONNACK) allowed in progress at once. When the broker answers
   * slower than connectRate, connecting slows to its pace instead of queueing attempts until
   * they time out. Default max(100, connectRate / 4).
   */
  maxPendingConnects?: number
  /**
   * Send no readings until every connection attempt has settled (the status on connect still goes
   * out), so a benchmark measures ingest apart from the connection ramp. Default false: readings
   * start as each device connects, as in a district coming back after an outage.
   */
  holdTelemetryUntilConnected?: boolean
}

export interface DistrictStats {
  /** Devices in the fleet. */
  target: number
  /** Devices that got CONNACK 0 (not decremented by the clean close at the end; see `disconnects`). */
  connected: number
  /** Connection attempts that failed without a CONNACK: timeout, refused socket, closed early. */
  connectFailures: number
  /** Connection attempts answered with a CONNACK return code other than 0. Disjoint from connectFailures. */
  refusals: number
  /** QoS 1 PUBLISHes sent (status and telemetry). */
  published: number
  /** PUBACKs received. Once the run is over, published = pubacks + unacknowledged publishes (counted in errors). */
  pubacks: number
  /** Publishes never acknowledged, refused subscriptions (SUBACK 0x80), subscriptions never answered. */
  errors: number
  /** Connections lost while the district was running (not the clean DISCONNECT at the end). */
  disconnects: number
  /** Live: PUBACKs per second over the last second. Final: average PUBACKs per second while sending. */
  messagesPerS: number
  elapsedS: number
  /** Seconds from start until every connection attempt had settled; null while still connecting. */
  connectS: number | null
  /** Commands received on the devices' `cmd` topics. */
  commands: number
  /** Why the most recent connection attempt, publish or subscription failed; null if none did. */
  lastError: string | null
}

const TICK_MS = 10
const PROGRESS_MS = 250
/** How long the end of a run waits for outstanding PUBACKs and SUBACKs before closing anyway. */
const DRAIN_TIMEOUT_MS = 10_000
/** How long a clean close may take before the remaining sockets are destroyed. */
const CLOSE_TIMEOUT_MS = 10_000
/** Upper bound on sends per loop turn, so an overloaded loop still gets to I/O. */
const MAX_SENDS_PER_TICK = 5_000
const WILL_PAYLOAD = Buffer.from('{"online":false}')
const FW = 'sim-1.0.0'

/** A simulated device: its registration, its connection and the few numbers its readings grow from. */
class SimDevice {
  conn: RawDevice | null = null
  seq = 0
  /** Water: the meter register. */
  totalM3: number
  /** Presence: occupied; door: open. */
  flag = false
  readonly battery: number
  readonly rssi: number
  readonly statusTopic: string
  readonly telemetryTopic: string

  constructor(readonly spec: FleetDevice) {
    this.totalM3 = Math.round((100 + Math.random() * 1900) * 1000) / 1000
    this.battery = 40 + Math.floor(Math.random() * 61)
    this.rssi = -50 - Math.floor(Math.random() * 45)
    this.statusTopic = deviceTopic(spec.id, 'status')
    this.telemetryTopic = deviceTopic(spec.id, 'telemetry')
  }
}

export async function runDistrict(o: DistrictOptions): Promise<DistrictStats> {
  const { host, port } = parseMqttUrl(o.url)
  if (!(o.connectRate > 0)) throw new Error(`connectRate must be a positive number, got ${o.connectRate}`)
  if (!(o.telemetryIntervalS > 0)) throw new Error(`telemetryIntervalS must be a positive number, got ${o.telemetryIntervalS}`)
  if (!(o.durationS >= 0)) throw new Error(`durationS must be 0 or more, got ${o.durationS}`)

  const n = o.devices.length
  const intervalMs = o.telemetryIntervalS * 1000
  const connectTimeoutMs = o.connectTimeoutMs ?? 10_000
  const keepaliveS = o.keepaliveS ?? 60
  const maxPendingConnects = Math.max(1, o.maxPendingConnects ?? Math.max(100, Math.ceil(o.connectRate / 4)))
  /** Distinguishes this run's message ids from an earlier run's (the platform remembers recent ids). */
  const runTag = Date.now().toString(36)
  const startedAt = performance.now()

  const devices = o.devices.map((spec) => new SimDevice(spec))
  const byId = new Map<string, SimDevice>()
  for (const d of devices) byId.set(d.spec.id, d)
  // Device j sends at (j + U[0,1)) × interval / n within each interval: spread evenly, jittered, and
  // already in order, so the due list is the device array itself.
  const phase = new Float64Array(n)
  for (let j = 0; j < n; j++) phase[j] = ((j + Math.random()) * intervalMs) / n

  const stats: DistrictStats = {
    target: n,
    connected: 0,
    connectFailures: 0,
    refusals: 0,
    published: 0,
    pubacks: 0,
    errors: 0,
    disconnects: 0,
    messagesPerS: 0,
    elapsedS: 0,
    connectS: null,
    commands: 0,
    lastError: null,
  }

  let nextToConnect = 0
  let pendingConnects = 0
  /** QoS 1 publishes and subscribes awaiting their acknowledgement. */
  let outstanding = 0
  let tokens = 1
  const burst = Math.max(1, o.connectRate * 0.1)
  let lastTick = startedAt
  let connectDoneAt: number | null = null
  let firstConnectAt: number | null = null
  let sendUntil = Infinity
  let stopping = false
  /** Set once the loop is over: connections closing from here on are ours. */
  let closing = false
  let cursor = 0
  let cycleBase = startedAt

  // Shared callbacks: one function object each for the whole district, not one per device or message.
  const onPuback = (): void => {
    outstanding--
    stats.pubacks++
  }
  const onUnacknowledged = (err: unknown): void => {
    outstanding--
    stats.errors++
    stats.lastError = errorMessage(err)
  }
  const onSuback = (codes: number[]): void => {
    outstanding--
    if (codes.some((c) => c === SUBACK_FAILURE)) {
      stats.errors++
      stats.lastError = 'subscription to cmd refused (SUBACK 0x80)'
    }
  }
  function onClose(this: RawDevice, error: Error | undefined): void {
    if (error && !closing) stats.disconnects++
  }
  function onMessage(this: RawDevice, topic: string, payload: Buffer): void {
    const d = byId.get(this.deviceId)
    if (!d || topic !== cmdTopic(d.spec.id)) return
    stats.commands++
    let json: unknown
    try {
      json = JSON.parse(payload.toString('utf8'))
    } catch {
      return
    }
    const command = commandPayload.safeParse(json)
    // Contract §cmd `ping`: publish status now.
    if (command.success && command.data.cmd === 'ping' && !stopping) publishStatus(d)
  }

  function publish(d: SimDevice, topic: string, payload: object, retain: boolean): void {
    const conn = d.conn
    if (!conn || !conn.connected) return
    stats.published++
    outstanding++
    conn.publish(topic, payload, 1, retain).then(onPuback, onUnacknowledged)
  }

  function publishStatus(d: SimDevice): void {
    const status: StatusPayload = { ts: Date.now(), online: true, battery: d.battery, rssi: d.rssi, fw: FW }
    // Contract §status: QoS 1, retained.
    publish(d, d.statusTopic, status, true)
  }

  function publishReading(d: SimDevice): void {
    const reading = nextReading(d, `t-${runTag}-${++d.seq}`, intervalMs)
    if (reading) publish(d, d.telemetryTopic, reading, false)
    else publishStatus(d) // buttons (and kinds without telemetry) send a status heartbeat instead
  }

  function startConnect(d: SimDevice): void {
    pendingConnects++
    connectRawDevice({
      host,
      port,
      deviceId: d.spec.id,
      secret: d.spec.secret,
      keepaliveS,
      connectTimeoutMs,
      // Contract §status: the Last Will is `{ "online": false }`, retained, on the status topic.
      will: { topic: d.statusTopic, payload: WILL_PAYLOAD, qos: 1, retain: true },
    }).then(
      (conn) => {
        pendingConnects--
        stats.connected++
        firstConnectAt ??= performance.now()
        d.conn = conn
        conn.on('close', onClose)
        conn.on('message', onMessage)
        if (stopping) return // closed with the rest once the loop is over
        publishStatus(d)
        outstanding++
        conn.subscribe(cmdTopic(d.spec.id), 1).then(onSuback, onUnacknowledged)
      },
      (err: unknown) => {
        pendingConnects--
        const message = errorMessage(err)
        stats.lastError = message
        if (/CONNACK return code \d+/.test(message)) stats.refusals++
        else stats.connectFailures++
      },
    )
  }

  function sendDue(now: number): void {
    if (n === 0) return
    for (let budget = MAX_SENDS_PER_TICK; budget > 0; budget--) {
      const due = cycleBase + phase[cursor]!
      if (due > now) return
      // A slot missed by more than a whole interval (an overloaded loop) is skipped, not sent late in a burst.
      if (now - due <= intervalMs) publishReading(devices[cursor]!)
      if (++cursor === n) {
        cursor = 0
        cycleBase += intervalMs
      }
    }
  }

  /** One turn of the loop; true when there is nothing left for it to do. */
  function tick(): boolean {
    const now = performance.now()
    if (!stopping && o.signal?.aborted) stopping = true
    if (!stopping) {
      if (nextToConnect < n) {
        tokens = Math.min(burst, tokens + ((now - lastTick) / 1000) * o.connectRate)
        while (tokens >= 1 && nextToConnect < n && pendingConnects < maxPendingConnects) {
          tokens--
          startConnect(devices[nextToConnect++]!)
        }
      }
      if (connectDoneAt === null && nextToConnect === n && pendingConnects === 0) {
        connectDoneAt = now
        stats.connectS = (now - startedAt) / 1000
        sendUntil = now + o.durationS * 1000
        if (o.holdTelemetryUntilConnected) {
          // The schedule starts now, not with the slots that passed while connecting.
          cycleBase = now
          cursor = 0
        }
      }
      if (now >= sendUntil) stopping = true
      else if (connectDoneAt !== null || !o.holdTelemetryUntilConnected) sendDue(now)
    }
    lastTick = now
    return stopping && pendingConnects === 0
  }

  // Live rate over about the last second, from a few samples.
  const samples: { at: number; pubacks: number }[] = []
  const snapshot = (): DistrictStats => {
    const now = performance.now()
    samples.push({ at: now, pubacks: stats.pubacks })
    if (samples.length > 1000 / PROGRESS_MS + 1) samples.shift()
    const oldest = samples[0]!
    stats.messagesPerS = now > oldest.at ? Math.round(((stats.pubacks - oldest.pubacks) * 1000) / (now - oldest.at)) : 0
    stats.elapsedS = (now - startedAt) / 1000
    return { ...stats }
  }
  const progressTimer = setInterval(() => {
    const s = snapshot()
    o.progress?.(s)
  }, PROGRESS_MS)

  try {
    await new Promise<void>((resolve) => {
      const loop = setInterval(() => {
        if (tick()) {
          clearInterval(loop)
          resolve()
        }
      }, TICK_MS)
    })
    const sendingEndedAt = performance.now()

    // Let the last PUBACKs and SUBACKs arrive, then say goodbye properly (DISCONNECT: no Last Will).
    const drainDeadline = performance.now() + DRAIN_TIMEOUT_MS
    while (outstanding > 0 && performance.now() < drainDeadline) await delay(20)
    closing = true
    const open = devices.filter((d) => d.conn?.connected)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(open.map((d) => d.conn!.close())),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
    ])
    clearTimeout(timer)
    for (const d of open) d.conn!.destroy() // no-op for those already closed

    const final = snapshot()
    const sendingS = firstConnectAt === null ? 0 : (sendingEndedAt - firstConnectAt) / 1000
    final.messagesPerS = sendingS > 0 ? Math.round(final.pubacks / sendingS) : 0
    o.progress?.(final)
    return final
  } finally {
    clearInterval(progressTimer)
  }
}

/** The next contract v1 reading of a device, or null for a kind that sends no telemetry (buttons). */
function nextReading(d: SimDevice, id: string, intervalMs: number): TelemetryPayload | null {
  const ts = Date.now()
  switch (d.spec.kind) {
    case 'water': {
      // Mostly idle, now and then a tap runs: about 0.1 L/min on average (~150 L a day, a
      // one-person household), so the platform's high-water rule is not set off by the sim itself
      // however short the interval. The register only grows.
      const flowLpm = Math.random() < 0.05 ? Math.round(10 + Math.random() * 20) / 10 : 0
      d.totalM3 = Math.round((d.totalM3 + (flowLpm * intervalMs) / 60_000 / 1000) * 1000) / 1000
      return { id, ts, kind: 'water', totalM3: d.totalM3, flowLpm }
    }
    case 'presence': {
      if (Math.random() < 0.1) d.flag = !d.flag
      return { id, ts, kind: 'presence', occupied: d.flag, motion: d.flag && Math.random() < 0.7 }
    }
    case 'door': {
      // Opened now and then, closed again at the next report.
      d.flag = !d.flag && Math.random() < 0.05
      return { id, ts, kind: 'door', open: d.flag }
    }
    case 'smoke':
    case 'gas':
      return { id, ts, kind: d.spec.kind, alarm: false }
    default:
      return null
  }
}

/**
 * One line for a TTY, e.g.
 * `[#####-----] 5000/10000 connected · 312 msg/s · 4980 PUBACK · 0 refused · 0 errors · 12.3 s`
 * (failures and lost connections are added only when there are any).
 */
export function renderProgress(s: DistrictStats, width = 30): string {
  const cols = Math.max(1, Math.floor(width))
  const filled = s.target === 0 ? cols : Math.min(cols, Math.round((s.connected / s.target) * cols))
  const parts = [
    `[${'#'.repeat(filled)}${'-'.repeat(cols - filled)}] ${s.connected}/${s.target} connected`,
    `${s.messagesPerS} msg/s`,
    `${s.pubacks} PUBACK`,
    `${s.refusals} refused`,
  ]
  if (s.connectFailures > 0) parts.push(`${s.connectFailures} failed`)
  if (s.disconnects > 0) parts.push(`${s.disconnects} lost`)
  parts.push(`${s.errors} errors`, `${s.elapsedS.toFixed(1)} s`)
  return parts.join(' · ')
}

/** A line for a log or a pipe (no bar, no carriage return): the same figures as renderProgress. */
export function progressLine(s: DistrictStats): string {
  return renderProgress(s).replace(/^\[[#-]*\] /, '')
}

/**
 * Progress as it goes: a live bar on a terminal (rewritten in place), and where nobody watches a
 * terminal (CI, a pipe, a log file) a plain line every `everyS` seconds, so a long run is not silent.
 */
export function progressReporter(o: { tty: boolean; everyS: number; write: (text: string) => void }): { update(s: DistrictStats): void; end(): void } {
  let lastAt = Number.NEGATIVE_INFINITY
  let drawn = false
  return {
    update(s) {
      if (o.tty) {
        o.write(`\r${renderProgress(s)}`)
        drawn = true
      } else if (o.everyS > 0 && s.elapsedS - lastAt >= o.everyS) {
        lastAt = s.elapsedS
        o.write(`${progressLine(s)}\n`)
      }
    },
    end() {
      if (drawn) o.write('\n')
    },
  }
}

const int = (n: number) => n.toLocaleString('en-US')

/** The end of a district run as a table a person reads (the figures of DistrictStats). */
export function renderSummary(s: DistrictStats): string {
  const rows: [string, string, string?][] = [
    ['devices', int(s.target)],
    ['connected', int(s.connected), s.connectS === null ? 'still connecting at the end' : `all attempts settled in ${s.connectS.toFixed(1)} s`],
    ['refused (CONNACK)', int(s.refusals), s.refusals > 0 ? 'wrong secret or unknown device' : undefined],
    ['failed to connect', int(s.connectFailures), s.connectFailures > 0 ? 'timeout or closed socket' : undefined],
    ['connections lost', int(s.disconnects)],
    ['messages sent', int(s.published), 'QoS 1'],
    ['acknowledged', int(s.pubacks), 'PUBACK: recorded by the platform'],
    ['errors', int(s.errors), s.errors > 0 ? 'publishes never acknowledged or refused subscriptions' : undefined],
    ['messages / s', int(s.messagesPerS), 'while sending'],
    ['commands received', int(s.commands)],
    ['elapsed', `${s.elapsedS.toFixed(1)} s`],
  ]
  if (s.lastError) rows.push(['last error', s.lastError])
  const label = Math.max(...rows.map((r) => r.length && r[0].length))
  const value = Math.max(...rows.map((r) => r[1].length))
  const ok = s.refusals === 0 && s.errors === 0
  return [
    `district summary: ${ok ? 'OK' : 'PROBLEMS (exit code 1)'}`,
    ...rows.map(([k, v, note]) => `  ${k.padEnd(label)}  ${v.padStart(value)}${note ? `  ${note}` : ''}`),
  ].join('\n')
}

/** The devices of one household, as the district provisions them. */
export const HOUSEHOLD_KIT: readonly { kind: string; room: string | null; prefix: string; suffix: string }[] = [
  { kind: 'button', room: null, prefix: 'btn', suffix: '' },
  { kind: 'water', room: 'kitchen', prefix: 'wm', suffix: '' },
  { kind: 'presence', room: 'bathroom', prefix: 'pr', suffix: '-bath' },
  { kind: 'presence', room: 'bedroom', prefix: 'pr', suffix: '-bed' },
  { kind: 'door', room: 'entrance', prefix: 'dr', suffix: '' },
]

export interface ProvisionOptions {
  /** The platform's HTTP base, e.g. http://localhost:8080. */
  httpUrl: string
  /** An admin session token (POST /api/login). */
  token: string
  households: number
  /** Requests in flight at once. Default 20. */
  concurrency?: number
  /** Put into every device id (`btn-{tag}-000123`) so a second district on the same platform does not collide. Default: a time-based tag; '' gives `btn-000123`. */
  tag?: string
  communityName?: string
  /** Called after each household with its devices is created. */
  onProgress?: (householdsDone: number, households: number) => void
}

/**
 * Creates one community and `households` households with HOUSEHOLD_KIT devices each, through the
 * REST API (firmware-sim may not reach into the platform's store), and returns the fleet.
 */
export async function provisionDistrict(o: ProvisionOptions): Promise<FleetDevice[]> {
  const tag = o.tag ?? Date.now().toString(36)
  const idPart = tag === '' ? '' : `${tag}-`
  const concurrency = Math.max(1, o.concurrency ?? 20)
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(new URL(path, o.httpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
      body: JSON.stringify(body),
    })
    const text = await res.text()
    if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${text}`)
    return JSON.parse(text) as T
  }

  const community = await post<{ id: string }>('/api/communities', { name: o.communityName ?? `模拟社区 ${tag || 'district'}`, street: '模拟街道' })
  const fleet: FleetDevice[][] = new Array<FleetDevice[]>(o.households)
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < o.households) {
      const i = next++
      const number = String(i + 1).padStart(6, '0')
      const household = await post<{ id: string }>('/api/households', { communityId: community.id, elderName: `居民 ${number}`, address: `模拟路 ${i + 1} 号` })
      const devices: FleetDevice[] = []
      for (const item of HOUSEHOLD_KIT) {
        const id = `${item.prefix}-${idPart}${number}${item.suffix}`
        const created = await post<{ id: string; secret: string }>('/api/devices', { id, householdId: household.id, kind: item.kind, room: item.room })
        devices.push({ id: created.id, secret: created.secret, kind: item.kind, householdId: household.id, room: item.room })
      }
      fleet[i] = devices
      o.onProgress?.(++done, o.households)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, o.households) }, worker))
  return fleet.flat()
}

function parseMqttUrl(url: string): { host: string; port: number } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error(`not a URL: ${url}`)
  }
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'tcp:') throw new Error(`the district speaks plain MQTT over TCP (mqtt://host:port), not ${parsed.protocol}`)
  // `mqtt://host:` is a port that went missing (an empty variable), not a request for 1883.
  if (/^[a-z]+:\/\/[^/]*:(\/.*)?$/i.test(url.trim())) throw new Error(`no port in ${url}`)
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port ? Number(parsed.port) : 1883 }
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err))

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
