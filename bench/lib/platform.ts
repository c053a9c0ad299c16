/**
 * The platform as a child process, as in production (`node --import tsx src/main.ts`), for the
 * benchmarks that attack it from outside: started with the caller's environment, ready once its
 * banner names the bound ports, its warnings and errors kept, an exit nobody asked for reported.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ownChild } from './child.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const HOST = '127.0.0.1'

export interface Platform {
  pid: number
  httpUrl: string
  mqttPort: number
  /** How it exited, if nobody asked it to. */
  crash: string | null
  /** Resolves (never rejects) on an exit nobody asked for. */
  crashed: Promise<void>
  /** pino lines at warn (40) or above: how many, the first three, and how many of each message. */
  warnings: { count: number; samples: string[]; byMessage: Map<string, number> }
  /** `work`, unless the platform exits unasked first: then it rejects with how. */
  alive<T>(work: Promise<T>): Promise<T>
  stop(): Promise<void>
}

/**
 * The caller's environment for a platform of a benchmark's own: bound to 127.0.0.1 on ephemeral
 * ports, its database and demo fleet file in `dir`, no demo data, `adminPassword` for the admin,
 * logging at warn and above.
 */
export function platformEnv(dir: string, adminPassword: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ANJU_HTTP_HOST: HOST,
    ANJU_HTTP_PORT: '0',
    ANJU_MQTT_HOST: HOST,
    ANJU_MQTT_PORT: '0',
    ANJU_DB_PATH: join(dir, 'anju.db'),
    ANJU_DEMO: 'false',
    ANJU_DEMO_FLEET_FILE: join(dir, 'demo-fleet.json'),
    ANJU_ADMIN_PASSWORD: adminPassword,
    ANJU_LOG_LEVEL: 'warn',
  }
}

/** Starts src/main.ts with `env` (bind it to 127.0.0.1, ports 0: see platformEnv) and waits for its banner. */
export function startPlatform(env: NodeJS.ProcessEnv): Promise<Platform> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const owned = ownChild(child, 10_000)
  const { exited } = owned
  let stderrTail = ''
  const ports: { http?: string; mqtt?: string } = {}
  const warnings = { count: 0, samples: [] as string[], byMessage: new Map<string, number>() }
  child.stderr!.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4000)))

  const platform: Platform = {
    pid: child.pid!,
    httpUrl: '',
    mqttPort: 0,
    crash: null,
    crashed: exited.then((how) => {
      if (owned.stopping()) return new Promise<void>(() => undefined)
      platform.crash = `exited unexpectedly (${how})${stderrTail.trim() ? `: ${stderrTail.trim().slice(-600)}` : ''}`
    }),
    warnings,
    alive: <T>(work: Promise<T>) =>
      Promise.race([
        work,
        platform.crashed.then((): never => {
          throw new Error(`platform ${platform.crash}`)
        }),
      ]),
    stop: owned.stop,
  }

  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(err)
    }
    const timer = setTimeout(() => fail(new Error('platform did not print its banner within 60 s')), 60_000)
    void exited.then((how) => fail(new Error(`platform exited before it was ready (${how}): ${stderrTail.trim()}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      // pino JSON at warn (40) or above: kept for the report.
      if (line.startsWith('{')) {
        try {
          const { level, msg } = JSON.parse(line) as { level?: unknown; msg?: unknown }
          if (typeof level === 'number' && level >= 40) {
            if (warnings.count++ < 3) warnings.samples.push(line.slice(0, 300))
            const key = typeof msg === 'string' ? msg : '(no message)'
            warnings.byMessage.set(key, (warnings.byMessage.get(key) ?? 0) + 1)
          }
        } catch {
          // not a log line
        }
      }
      ports.http ??= /Console\s+http:\/\/[^\s:]+:(\d+)\//.exec(line)?.[1]
      ports.mqtt ??= /MQTT\s+mqtt:\/\/[^\s:]+:(\d+)/.exec(line)?.[1]
      if (ports.http && ports.mqtt && !platform.httpUrl) {
        clearTimeout(timer)
        platform.httpUrl = `http://${HOST}:${ports.http}`
        platform.mqttPort = Number(ports.mqtt)
        resolve(platform)
      }
    })
  })
}

/** A process's resident set in KiB (VmRSS), or NaN once it is gone. */
export function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : Number.NaN
  } catch {
    return Number.NaN
  }
}
