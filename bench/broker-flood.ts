/**
 * Broker flood: what raw-TCP attacks on the MQTT port cost the platform with its limits before
 * login (docs/security.md §broker, src/broker/limits.ts), against the same platform with those
 * limits effectively off, in one run on one machine.
 *
 *   npx tsx bench/broker-flood.ts [--connects 16] [--connect-mib 32] [--publish-mib 64] [--idle 2000]
 *
 * Three attacks, each on a fresh platform child process (`node --import tsx src/main.ts`, ephemeral
 * ports, temporary database), once with the default limits and once with them off:
 *  1. oversize CONNECT: N sockets send a fixed header declaring 268,435,455 bytes, then stream
 *     body bytes in 64 KiB chunks (with backpressure) until done or closed;
 *  2. oversize PUBLISH: a provisioned device logs in, then sends a PUBLISH to its own alarm topic
 *     declaring --publish-mib MiB and streams the whole body;
 *  3. idle flood: M sockets that never send a byte; after 6 s, how many does the server still hold?
 * Meanwhile the child's VmRSS is sampled every 100 ms, and a separate, already connected button
 * sends an SOS at QoS 1 every 200 ms; no PUBACK within 10 s is a failure.
 * The attack ends when every attacker has stopped sending (finished or closed by the server), or
 * for the idle flood when the 6 s count is taken, and lasts at least 3 s. Attackers keep their
 * sockets open until the "2 s after" sample, so that figure is what the server still holds.
 * Exits non-zero if a limits-on platform crashed or any SOS failed with limits on.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { generate, parser, type Packet } from 'mqtt-packet'
import { remainingLength } from '../firmware-sim/fuzz.js'
import { connectRawDevice, type RawDevice } from '../firmware-sim/raw-device.js'
import { createCleanup } from './lib/cleanup.js'
import { errorMessage, optionsOrUsage } from './lib/flags.js'
import { platformEnv, rssKiB, startPlatform, type Platform } from './lib/platform.js'
import { loginAdmin, type Credentials } from './lib/rest.js'
import { startSosPresser } from './lib/sos.js'
import { withTimeout } from './lib/wait.js'
import { deviceTopic } from '../src/contract/index.js'

const HOST = '127.0.0.1'
const MiB = 1024 * 1024
const CHUNK_BYTES = 64 * 1024
const SOS_INTERVAL_MS = 200
const SOS_TIMEOUT_MS = 10_000
const SOS_WARMUP = 3
const RSS_SAMPLE_MS = 100
/** RSS is sampled this long before the attack; the last sample is "before". */
const SETTLE_MS = 1000
const MIN_ATTACK_MS = 3000
const AFTER_MS = 2000
const IDLE_HOLD_MS = 6000
/** Idle sockets connecting at once (the listen backlog is 511). */
const IDLE_CONNECT_CONCURRENCY = 200
/** A socket the server closes within this of connecting was refused at once. */
const AT_ONCE_MS = 1000
/** The largest remaining length MQTT can encode. */
const MAX_REMAINING_LENGTH = 268_435_455

/** The limits' environment variables: unset = defaults (src/config.ts), or effectively off. */
const LIMIT_VARS = {
  ANJU_MQTT_MAX_PACKET_BYTES: String(MAX_REMAINING_LENGTH),
  ANJU_MQTT_CONNECT_TIMEOUT_MS: '60000',
  ANJU_MQTT_MAX_CONNECTIONS: '1000000',
  ANJU_MQTT_MAX_CONNECTIONS_PER_ADDRESS: '1000000',
  ANJU_MQTT_MAX_PENDING_PER_ADDRESS: '1000000',
}
type Limits = 'on' | 'off'
type PhaseKind = 'connect' | 'publish' | 'idle'

// ---------------------------------------------------------------------------------------------
// Command line

interface Options {
  connects: number
  connectMib: number
  publishMib: number
  idle: number
}

const USAGE = `usage: npx tsx bench/broker-flood.ts [--connects 16] [--connect-mib 32] [--publish-mib 64] [--idle 2000]
  --connects N      sockets sending an oversize CONNECT (default 16)
  --connect-mib N   body bytes each of them streams, in MiB (default 32)
  --publish-mib N   size the oversize PUBLISH declares and streams, in MiB (default 64)
  --idle N          idle sockets in the idle flood (default 2000)`

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      connects: { type: 'string', default: '16' },
      'connect-mib': { type: 'string', default: '32' },
      'publish-mib': { type: 'string', default: '64' },
      idle: { type: 'string', default: '2000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE + '\n')
    process.exit(0)
  }
  const count = (name: string, raw: string, max: number) => {
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`)
    return n
  }
  return {
    connects: count('connects', values.connects, 1000),
    connectMib: count('connect-mib', values['connect-mib'], 255),
    publishMib: count('publish-mib', values['publish-mib'], 255),
    idle: count('idle', values.idle, 15_000),
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)

/** Resolves on the first of `events` on `emitter` (never rejects), removing its listeners. */
function firstOf(emitter: NodeJS.EventEmitter, events: string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const e of events) emitter.off(e, done)
      resolve()
    }
    for (const e of events) emitter.on(e, done)
  })
}

/** Nearest-rank percentile of sorted values. */
const rank = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN

// ---------------------------------------------------------------------------------------------
// REST: log in and provision two buttons (the SOS sender and the PUBLISH attacker)

/** One community, one household per button (as bench/alarm-latency.ts provisions them). */
async function provision(httpUrl: string, adminPassword: string): Promise<{ sos: Credentials; attacker: Credentials }> {
  const { api } = await loginAdmin(httpUrl, adminPassword)
  const { id: communityId } = await api<{ id: string }>('POST', '/api/communities', { name: '压测社区', street: '基准街道' })
  const button = async (id: string, n: number) => {
    const household = await api<{ id: string }>('POST', '/api/households', { communityId, elderName: `老人 ${n}`, address: `基准路 ${n} 号` })
    return api<Credentials>('POST', '/api/devices', { id, householdId: household.id, kind: 'button' })
  }
  return { sos: await button('flood-sos', 1), attacker: await button('flood-attacker', 2) }
}

// ---------------------------------------------------------------------------------------------
// The SOS sender

type SosSample = { ok: true; ms: number } | { ok: false; error: string }

/** One SOS at QoS 1 every 200 ms, each timed to its PUBACK, until stop(). */
function startSos(device: RawDevice) {
  const topic = deviceTopic(device.deviceId, 'alarm')
  return startSosPresser(SOS_INTERVAL_MS, (id): Promise<SosSample> => {
    const t0 = performance.now()
    const acked = device.publish(topic, { id, ts: Date.now(), type: 'sos' }, 1)
    return withTimeout(acked, SOS_TIMEOUT_MS, 'PUBACK').then(
      () => ({ ok: true, ms: performance.now() - t0 }),
      (err: unknown) => {
        acked.catch(() => undefined)
        return { ok: false, error: errorMessage(err) }
      },
    )
  })
}

// ---------------------------------------------------------------------------------------------
// Attackers

interface Attacker {
  socket: net.Socket
  /** Bytes the kernel accepted (write callbacks without error). */
  written: number
  connected: boolean
  /** ms from the attack's start to the server closing it; null if it did not. */
  closedByServerAt: number | null
  /** Resolves when it has stopped sending: all sent, or closed. */
  finished: Promise<void>
  /** Our side closes it (not counted as closed by the server). */
  close(): void
}

interface Attack {
  attackers: Attacker[]
  /** Resolves when the attack is over (see the header comment). */
  done: Promise<void>
  /** Idle flood: sockets still open when the 6 s count was taken. */
  heldOpen: number | null
  destroy(): void
}

const FILLER = Buffer.alloc(CHUNK_BYTES, 0x61)

/**
 * Tracks `socket` and, once connected, writes `head` then `fill` filler bytes in 64 KiB chunks,
 * waiting for 'drain' whenever the socket asks to; stops when the socket closes.
 */
function attacker(socket: net.Socket, started: number, head: Buffer | null, fill: number): Attacker {
  let closing = false
  const a: Attacker = {
    socket,
    written: 0,
    connected: !socket.connecting,
    closedByServerAt: null,
    finished: Promise.resolve(),
    close() {
      closing = true
      socket.destroy()
    },
  }
  socket.on('error', () => undefined)
  socket.once('close', () => {
    if (!closing) a.closedByServerAt = performance.now() - started
  })
  const send = (buf: Buffer) => socket.write(buf, (err) => void (err ? undefined : (a.written += buf.length)))
  a.finished = (async () => {
    if (socket.connecting) await firstOf(socket, ['connect', 'close'])
    if (socket.destroyed) return
    a.connected = true
    if (!head) return
    let ok = send(head)
    for (let left = fill; left > 0 && !socket.destroyed; ) {
      if (!ok) {
        await firstOf(socket, ['drain', 'close'])
        if (socket.destroyed) break
      }
      const n = Math.min(CHUNK_BYTES, left)
      ok = send(n === CHUNK_BYTES ? FILLER : FILLER.subarray(0, n))
      left -= n
    }
  })()
  return a
}

function attackOf(attackers: Attacker[], done: Promise<void>): Attack {
  return { attackers, done, heldOpen: null, destroy: () => attackers.forEach((a) => a.close()) }
}

/** 1. N sockets, each a CONNECT header declaring 268,435,455 bytes, then `bodyBytes` of body. */
function oversizeConnect(port: number, count: number, bodyBytes: number, started: number): Attack {
  const head = Buffer.concat([Buffer.from([0x10]), remainingLength(MAX_REMAINING_LENGTH)]) // 10 ff ff ff 7f
  const attackers = Array.from({ length: count }, () => attacker(net.connect({ host: HOST, port }), started, head, bodyBytes))
  return attackOf(
    attackers,
    Promise.all(attackers.map((a) => a.finished)).then(() => undefined),
  )
}

/** 2. From a device already logged in on `socket`: a QoS 0 PUBLISH to its own alarm topic declaring `declared` bytes, sent whole. */
function oversizePublish(socket: net.Socket, deviceId: string, declared: number, started: number): Attack {
  const topic = Buffer.from(deviceTopic(deviceId, 'alarm'), 'utf8')
  const topicLength = Buffer.alloc(2)
  topicLength.writeUInt16BE(topic.length)
  const head = Buffer.concat([Buffer.from([0x30]), remainingLength(declared), topicLength, topic])
  const a = attacker(socket, started, head, declared - 2 - topic.length)
  return attackOf([a], a.finished)
}

/** 3. M sockets that never send; the attack is over when the count is taken 6 s after the last connected. */
function idleFlood(port: number, count: number, started: number): Attack {
  const attackers: Attacker[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      const a = attacker(net.connect({ host: HOST, port }), started, null, 0)
      attackers.push(a)
      await Promise.race([a.finished, sleep(10_000)])
    }
  }
  const attack = attackOf(attackers, Promise.resolve())
  attack.done = Promise.all(Array.from({ length: IDLE_CONNECT_CONCURRENCY }, worker)).then(async () => {
    await sleep(IDLE_HOLD_MS)
    attack.heldOpen = attackers.filter((a) => a.connected && !a.socket.destroyed).length
  })
  return attack
}

/** A proper MQTT 3.1.1 login on a raw socket (CONNACK 0), so the socket can then misbehave. */
function loginRaw(port: number, { id, secret }: Credentials): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port })
    socket.setNoDelay(true)
    const packets = parser({ protocolVersion: 4 })
    const timer = setTimeout(() => fail(new Error(`${id}: no CONNACK within 10 s`)), 10_000)
    const fail = (err: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    }
    const onData = (chunk: Buffer) => packets.parse(chunk)
    const onClose = () => fail(new Error(`${id}: closed before CONNACK`))
    socket.on('error', () => undefined)
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.once('connect', () => {
      socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: id, username: id, password: Buffer.from(secret, 'utf8'), clean: true, keepalive: 0 }))
    })
    packets.once('packet', (packet: Packet) => {
      if (packet.cmd !== 'connack' || packet.returnCode !== 0) return fail(new Error(`${id}: expected CONNACK 0, got ${packet.cmd} ${'returnCode' in packet ? packet.returnCode : ''}`))
      clearTimeout(timer)
      socket.off('close', onClose)
      socket.off('data', onData)
      socket.resume() // nothing more is read; keep the socket flowing
      resolve(socket)
    })
  })
}

// ---------------------------------------------------------------------------------------------
// One phase on one fresh platform

interface Run {
  crash: string | null
  /** KiB */
  rss: { before: number; peak: number; after: number }
  sos: { sent: number; failed: number; p50: number; p99: number; max: number; firstError: string | null }
  attackSeconds: number
  attackers: { sockets: number; connected: number; closedByServer: number; closedAtOnce: number; written: number[]; closeMs: number[] }
  heldOpen: number | null
  loopDelay: { p99: number; max: number }
  warnings: Platform['warnings']
}

async function runPhase(kind: PhaseKind, limits: Limits, opts: Options, dir: string, register: (fn: () => Promise<void>) => void): Promise<Run> {
  mkdirSync(dir, { recursive: true })
  const adminPassword = randomBytes(12).toString('base64url')
  const env = platformEnv(dir, adminPassword)
  for (const [name, off] of Object.entries(LIMIT_VARS)) {
    if (limits === 'off') env[name] = off
    else delete env[name]
  }

  log(`${kind} / limits ${limits}: starting the platform…`)
  const platform = await startPlatform(env)
  register(() => platform.stop())
  const alive = platform.alive

  const { sos: sosCreds, attacker: attackerCreds } = await alive(provision(platform.httpUrl, adminPassword))
  const sosDevice = await alive(connectRawDevice({ host: HOST, port: platform.mqttPort, deviceId: sosCreds.id, secret: sosCreds.secret }))
  register(() => sosDevice.close())
  // Untimed: the first SOS opens the incident; later ones attach to it.
  for (let i = 0; i < SOS_WARMUP; i++) await alive(withTimeout(sosDevice.publish(deviceTopic(sosCreds.id, 'alarm'), { id: `warm-${i}`, ts: Date.now(), type: 'sos' }, 1), SOS_TIMEOUT_MS, 'warm-up PUBACK'))
  const attackerSocket = kind === 'publish' ? await alive(loginRaw(platform.mqttPort, attackerCreds)) : null

  const samples: { at: number; kib: number }[] = []
  const sampler = setInterval(() => samples.push({ at: performance.now(), kib: rssKiB(platform.pid) }), RSS_SAMPLE_MS)
  register(async () => clearInterval(sampler))
  await sleep(SETTLE_MS)
  const before = rssKiB(platform.pid)

  log(`${kind} / limits ${limits}: attacking…`)
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const sos = startSos(sosDevice)
  const started = performance.now()
  const attack =
    kind === 'connect'
      ? oversizeConnect(platform.mqttPort, opts.connects, opts.connectMib * MiB, started)
      : kind === 'publish'
        ? oversizePublish(attackerSocket!, attackerCreds.id, opts.publishMib * MiB, started)
        : idleFlood(platform.mqttPort, opts.idle, started)
  register(async () => attack.destroy())
  // A crash ends the attack too; the figures then show what was measured until then.
  await Promise.race([attack.done, platform.crashed])
  await sleep(started + MIN_ATTACK_MS - performance.now())
  const attackSeconds = (performance.now() - started) / 1000
  await sleep(AFTER_MS)
  const after = rssKiB(platform.pid)
  clearInterval(sampler)
  const sosSamples = await sos.stop()
  loopDelay.disable()
  attack.destroy()
  await sosDevice.close()
  const crash = platform.crash
  await platform.stop()

  const during = samples.filter((s) => s.at >= started && Number.isFinite(s.kib)).map((s) => s.kib)
  const ok = sosSamples.flatMap((s) => (s.ok ? [s.ms] : [])).sort((a, b) => a - b)
  const failures = sosSamples.flatMap((s) => (s.ok ? [] : [s.error]))
  const closed = attack.attackers.flatMap((a) => (a.closedByServerAt === null ? [] : [a.closedByServerAt]))
  return {
    crash,
    rss: { before, peak: Math.max(...[before, after, ...during].filter(Number.isFinite)), after },
    sos: { sent: sosSamples.length, failed: failures.length, p50: rank(ok, 0.5), p99: rank(ok, 0.99), max: ok.at(-1) ?? Number.NaN, firstError: failures[0] ?? null },
    attackSeconds,
    attackers: {
      sockets: attack.attackers.length,
      connected: attack.attackers.filter((a) => a.connected).length,
      closedByServer: closed.length,
      // For the idle flood: closed within 1 s of the attack's start, i.e. refused on accept.
      closedAtOnce: closed.filter((ms) => ms < AT_ONCE_MS).length,
      written: attack.attackers.map((a) => a.written),
      closeMs: closed.sort((a, b) => a - b),
    },
    heldOpen: attack.heldOpen,
    loopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    warnings: platform.warnings,
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const TITLES: Record<PhaseKind, (o: Options) => string> = {
  connect: (o) => `1. oversize CONNECT: ${o.connects} sockets, header declaring ${MAX_REMAINING_LENGTH.toLocaleString('en')} B, then up to ${o.connectMib} MiB of body each`,
  publish: (o) => `2. oversize PUBLISH: a logged-in device, QoS 0 to its own alarm topic, declaring and streaming ${o.publishMib} MiB`,
  idle: (o) => `3. idle flood: ${o.idle} sockets that never send; count held open ${IDLE_HOLD_MS / 1000} s after the last connected`,
}

function printPhase(kind: PhaseKind, opts: Options, on: Run, off: Run): string[] {
  const mib = (kib: number) => (Number.isFinite(kib) ? (kib / 1024).toFixed(1) : '—')
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—')
  const bytes = (b: number) => (b >= MiB ? `${(b / MiB).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`)
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(3)}×` : '—')
  const growth = (r: Run) => r.rss.peak - r.rss.before
  const rows: [string, string, string, string?][] = [
    ['platform', on.crash ? 'CRASHED' : 'alive', off.crash ? 'CRASHED' : 'alive'],
    ['RSS before (MiB)', mib(on.rss.before), mib(off.rss.before)],
    ['RSS peak (MiB)', mib(on.rss.peak), mib(off.rss.peak)],
    ['RSS peak growth (MiB)', mib(growth(on)), mib(growth(off)), ratio(growth(on), growth(off))],
    [`RSS ${AFTER_MS / 1000} s after the attack (MiB)`, mib(on.rss.after), mib(off.rss.after)],
    ['SOS PUBACK median (ms)', ms(on.sos.p50), ms(off.sos.p50), ratio(on.sos.p50, off.sos.p50)],
    ['SOS PUBACK p99 (ms)', ms(on.sos.p99), ms(off.sos.p99), ratio(on.sos.p99, off.sos.p99)],
    ['SOS PUBACK max (ms)', ms(on.sos.max), ms(off.sos.max)],
    ['SOS sent / failed', `${on.sos.sent} / ${on.sos.failed}`, `${off.sos.sent} / ${off.sos.failed}`],
  ]
  const total = (r: Run) => r.attackers.written.reduce((s, b) => s + b, 0)
  const both = (f: (r: Run) => string): [string, string] => [f(on), f(off)]
  if (kind === 'idle') {
    rows.push(
      ['sockets connected', ...both((r) => `${r.attackers.connected} of ${r.attackers.sockets}`)],
      [`closed by server within ${AT_ONCE_MS / 1000} s`, ...both((r) => String(r.attackers.closedAtOnce))],
      [`held open after ${IDLE_HOLD_MS / 1000} s`, ...both((r) => String(r.heldOpen ?? '—'))],
    )
  } else {
    rows.push(
      ['attack bytes written, total', ...both((r) => bytes(total(r)))],
      ['attack bytes written, per socket max', ...both((r) => bytes(Math.max(0, ...r.attackers.written)))],
      ['closed by server', ...both((r) => `${r.attackers.closedByServer} of ${r.attackers.sockets}`)],
      ['closed after (ms, median / max)', ...both((r) => (r.attackers.closeMs.length ? `${ms(rank(r.attackers.closeMs, 0.5))} / ${ms(r.attackers.closeMs.at(-1)!)}` : '—'))],
    )
  }
  rows.push(
    ['attack lasted (s)', ...both((r) => r.attackSeconds.toFixed(1))],
    ['bench event loop p99 / max (ms)', ...both((r) => `${ms(r.loopDelay.p99)} / ${ms(r.loopDelay.max)}`)],
    ['platform warnings logged', ...both((r) => String(r.warnings.count))],
  )
  const out = ['', TITLES[kind](opts), `  ${''.padEnd(38)} ${'limits on'.padStart(18)} ${'limits off'.padStart(18)} ${'on/off'.padStart(9)}`]
  for (const [name, a, b, r] of rows) out.push(`  ${name.padEnd(38)} ${a.padStart(18)} ${b.padStart(18)} ${(r ?? '').padStart(9)}`)
  for (const [label, r] of [['on', on], ['off', off]] as const) {
    if (r.crash) out.push(`  limits ${label}: platform ${r.crash}`)
    if (r.sos.firstError) out.push(`  limits ${label}: first SOS failure: ${r.sos.firstError}`)
    for (const w of r.warnings.samples) out.push(`  limits ${label} warning: ${w}`)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Main: every phase on, then off; cleanup (children, sockets, temp dir) also on error and signal.

async function main(): Promise<number> {
  const opts = optionsOrUsage(parseOptions, USAGE)
  if (!opts) return 2
  const tempDir = mkdtempSync(join(os.tmpdir(), 'anju-flood-'))
  const { register, cleanup, onSignals } = createCleanup(log)
  // Removed last, after every phase's cleanup (each phase cleans up after itself).
  const removeTemp = () => rmSync(tempDir, { recursive: true, force: true })
  onSignals(`stopping the platform and removing ${tempDir}`, { after: removeTemp })

  try {
    const cpus = os.cpus()
    const out = [
      '',
      'Anju broker flood: limits before login on (defaults) vs off',
      `  machine     ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg()[0]!.toFixed(2)}, node ${process.version}`,
      '  limits on   defaults: packet 16,384 B, connect timeout 5 s, 50,000 connections, 5,000 per address, 64 pending per address',
      `  limits off  ${Object.entries(LIMIT_VARS).map(([k, v]) => `${k.replace('ANJU_MQTT_', '')}=${v}`).join(' ')}`,
      `  SOS         QoS 1 every ${SOS_INTERVAL_MS} ms from a connected button during the attack and ${AFTER_MS / 1000} s after; failed = no PUBACK within ${SOS_TIMEOUT_MS / 1000} s`,
      `  RSS         platform VmRSS every ${RSS_SAMPLE_MS} ms; growth = peak − value just before the attack`,
    ]
    let ok = true
    for (const kind of ['connect', 'publish', 'idle'] as const) {
      const runs: Partial<Record<Limits, Run>> = {}
      for (const limits of ['on', 'off'] as const) {
        runs[limits] = await runPhase(kind, limits, opts, join(tempDir, `${kind}-${limits}`), register)
        await cleanup()
      }
      const { on, off } = runs as Record<Limits, Run>
      out.push(...printPhase(kind, opts, on, off))
      if (on.crash || on.sos.failed > 0) ok = false
    }
    if (!ok) out.push('', '  FAILED: with limits on, the platform crashed or an SOS went without its PUBACK (see above)')
    process.stdout.write(out.join('\n') + '\n\n')
    return ok ? 0 : 1
  } catch (err) {
    process.stderr.write(`\nbench failed: ${err instanceof Error && err.constructor !== Error ? (err.stack ?? err.message) : errorMessage(err)}\n`)
    return 1
  } finally {
    await cleanup()
    removeTemp()
  }
}

process.exit(await main())
