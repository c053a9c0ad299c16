/**
 * The attacker of bench/broker-fuzz.ts, in a process of its own, so that the benchmark's loop
 * (the SOS button, the operator, the clock that times them) is not also the one generating and
 * classifying 100,000 hostile packets. Started by `startAttacker` with an IPC channel: it gets
 * one plan, reports progress every 250 ms and its tallies at the end, then exits.
 * Every packet comes from firmware-sim/fuzz.ts, seeded: one seed gives the same packets.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { newTally, preLoginBytes, runLoggedInFuzz, sendPreLogin, type LoggedInTally } from '../../firmware-sim/fuzz.js'
import { Rng } from '../../firmware-sim/rng.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface AttackPlan {
  host: string
  port: number
  seed: number
  preLogin: {
    connections: number
    /** Connections open at once. */
    concurrency: number
    /** We close a connection the server has not closed after this long (counted all the same). */
    giveUpMs: number
    /** The device id the CONNECTs claim (a real one: guessing its secret is the point). */
    deviceId: string
  }
  loggedIn: {
    /** Provisioned devices, each with its own secret, each sending `packets[i]`. */
    devices: { id: string; secret: string }[]
    packets: number[]
    /** Other devices' ids whose topics they reach for. */
    others: string[]
    maxPacketBytes: number
  }
  /** Hostile packets a second, pre-login connections and logged-in packets together; 0: as fast as the platform takes them. */
  ratePerS: number
}

export interface AttackReport {
  seconds: number
  preLogin: { sent: number; closedByServer: number; closedByUs: number; admitted: number }
  loggedIn: { deviceId: string; tally: LoggedInTally }[]
}

export type AttackerMessage =
  | { type: 'progress'; preLogin: number; loggedIn: number }
  | { type: 'done'; report: AttackReport }
  | { type: 'failed'; error: string }

/** A token bucket for `ratePerS` (no burst beyond one second's worth); free when 0. */
function pacer(ratePerS: number): () => Promise<void> | void {
  if (ratePerS <= 0) return () => undefined
  let tokens = 0
  let last = performance.now()
  return async () => {
    for (;;) {
      const now = performance.now()
      tokens = Math.min(ratePerS, tokens + ((now - last) / 1000) * ratePerS)
      last = now
      if (tokens >= 1) {
        tokens--
        return
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, ((1 - tokens) / ratePerS) * 1000)))
    }
  }
}

async function attack(plan: AttackPlan, send: (m: AttackerMessage) => void): Promise<AttackReport> {
  const started = performance.now()
  const pace = pacer(plan.ratePerS)
  const pre = { sent: 0, closedByServer: 0, closedByUs: 0, admitted: 0 }
  const tallies = plan.loggedIn.devices.map(() => newTally())
  const progress = setInterval(() => send({ type: 'progress', preLogin: pre.sent, loggedIn: tallies.reduce((s, t) => s + t.sent, 0) }), 250)
  try {
    // Before login: workers take the next index and generate its bytes synchronously, so the
    // bytes of connection i do not depend on timing.
    const rng = new Rng(plan.seed)
    let next = 0
    const worker = async () => {
      while (next < plan.preLogin.connections) {
        const bytes = preLoginBytes(rng, next++, plan.preLogin.deviceId)
        await pace()
        pre.sent++
        const r = await sendPreLogin(plan.host, plan.port, bytes, { giveUpMs: plan.preLogin.giveUpMs })
        if (r.closedByServer) pre.closedByServer++
        else pre.closedByUs++
        if (r.connackOk) pre.admitted++
      }
    }
    const loggedIn = plan.loggedIn.devices.map((device, k) =>
      runLoggedInFuzz(
        {
          host: plan.host,
          port: plan.port,
          device,
          others: plan.loggedIn.others,
          rng: new Rng(plan.seed * 1000 + k + 1),
          packets: plan.loggedIn.packets[k] ?? 0,
          maxPacketBytes: plan.loggedIn.maxPacketBytes,
          pace,
        },
        tallies[k],
      ),
    )
    await Promise.all([...Array.from({ length: plan.preLogin.concurrency }, worker), ...loggedIn])
  } finally {
    clearInterval(progress)
  }
  return {
    seconds: (performance.now() - started) / 1000,
    preLogin: pre,
    loggedIn: plan.loggedIn.devices.map((d, k) => ({ deviceId: d.id, tally: tallies[k]! })),
  }
}

export interface Attacker {
  /** Pre-login connections and logged-in packets sent so far. */
  progress: { preLogin: number; loggedIn: number }
  /** Resolves with the report; rejects if the attacker failed or died. */
  done: Promise<AttackReport>
  kill(): void
}

/** Forks this file as the attacker (`node --import tsx`) and hands it the plan. */
export function startAttacker(plan: AttackPlan): Attacker {
  const child = fork(fileURLToPath(import.meta.url), [], { cwd: REPO_ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const attacker: Attacker = {
    progress: { preLogin: 0, loggedIn: 0 },
    done: new Promise((resolve, reject) => {
      child.on('message', (m: AttackerMessage) => {
        if (m.type === 'progress') attacker.progress = { preLogin: m.preLogin, loggedIn: m.loggedIn }
        else if (m.type === 'done') {
          attacker.progress = { preLogin: m.report.preLogin.sent, loggedIn: m.report.loggedIn.reduce((s, d) => s + d.tally.sent, 0) }
          resolve(m.report)
        } else reject(new Error(`attacker failed: ${m.error}`))
      })
      child.once('exit', (code, signal) => reject(new Error(`attacker exited (${signal ?? `code ${code}`}) before its report`)))
    }),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
  child.send(plan)
  return attacker
}

// Run as the child: one plan in, progress and the report out.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const send = (m: AttackerMessage) => process.send!(m)
  process.once('message', (plan: AttackPlan) => {
    attack(plan, send).then(
      (report) => {
        send({ type: 'done', report })
        process.disconnect()
      },
      (err: unknown) => {
        send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
        process.disconnect()
      },
    )
  })
}
