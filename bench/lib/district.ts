/**
 * What bench/throughput.ts and bench/connections.ts share: a district fleet provisioned the way
 * the simulator's `district` command does it (households of firmware-sim's six devices, through
 * POST /api/fleet), the bare aedes broker as a child process, CPU time of a process, and a forced
 * garbage collection in a child through its inspector.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { createApiClient } from '../../firmware-sim/api-client.js'
import { provisionFleet, type FleetDevice } from '../../firmware-sim/fleet.js'
import { deviceId, HOUSEHOLD_DEVICES } from '../../firmware-sim/household.js'
import { ownChild } from './child.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const HOST = '127.0.0.1'

/**
 * `devices` rounded up to whole households of the simulator's kit (button, water meter, three
 * presence sensors, door contact), created as `firmware-sim/cli.ts district` creates them; the
 * first `devices` of them are returned.
 */
export async function provisionDistrictFleet(httpUrl: string, password: string, devices: number): Promise<FleetDevice[]> {
  const households = Math.ceil(devices / HOUSEHOLD_DEVICES.length)
  const prefix = `b${Date.now().toString(36)}`
  const plans = Array.from({ length: households }, (_, n) => {
    const key = `${prefix}${String(n).padStart(5, '0')}`
    return {
      elderName: `压测老人 ${n}`,
      address: `压测小区 ${Math.floor(n / 100)} 号楼 ${n % 100} 室`,
      devices: HOUSEHOLD_DEVICES.map((d) => ({ id: deviceId(d.role, key), kind: d.kind, room: d.room, heartbeatS: d.heartbeatS })),
    }
  })
  const api = createApiClient({ baseUrl: httpUrl, username: 'admin', password })
  const fleet = await provisionFleet(api, `压测街区 ${prefix}`, plans)
  return fleet.devices.slice(0, devices)
}

export interface BareBroker {
  pid: number
  mqttPort: number
  /** Rejects if it exits before stop(). */
  crashed: Promise<never>
  stop(): Promise<void>
}

/** bench/bare-broker.ts (aedes, no auth, no ingest) as a child process on an ephemeral port. */
export function startBareBroker(env: NodeJS.ProcessEnv = process.env): Promise<BareBroker> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-broker.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const owned = ownChild(child, 10_000)
  const { exited } = owned
  let stderrTail = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000)))
  const crashed = exited.then((how) => (owned.stopping() ? new Promise<never>(() => undefined) : Promise.reject(new Error(`bare broker exited (${how}): ${stderrTail.trim()}`))))
  crashed.catch(() => undefined)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare broker did not start within 30 s')), 30_000)
    void exited.then((how) => reject(new Error(`bare broker exited before it was ready (${how}): ${stderrTail.trim()}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const port = /BARE_BROKER\s+mqtt:\/\/[^\s:]+:(\d+)/.exec(line)?.[1]
      if (!port) return
      clearTimeout(timer)
      resolve({
        pid: child.pid!,
        mqttPort: Number(port),
        crashed,
        stop: owned.stop,
      })
    })
  })
}

/** User + system CPU time of a process (all its threads) in seconds, from /proc; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN
  }
}

/** The soft limit on open files of this process (children inherit it). */
export function openFileLimit(): number {
  const match = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))
  return match ? Number(match[1]) : 1024
}

/** A port free right now on 127.0.0.1, for a child's inspector (another process could take it first; unlikely). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** `env` plus an inspector on `port`, so collectGarbage() can reach the child. */
export function withInspector(env: NodeJS.ProcessEnv, port: number): NodeJS.ProcessEnv {
  return { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --inspect=${HOST}:${port}`.trim() }
}

/**
 * A full garbage collection of the main thread's heap of the process whose inspector listens on
 * `port` (HeapProfiler.collectGarbage). Worker threads' heaps are not collected.
 */
export async function collectGarbage(port: number): Promise<void> {
  const targets = (await (await fetch(`http://${HOST}:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[]
  const url = targets[0]?.webSocketDebuggerUrl
  if (!url) throw new Error(`no inspector target on port ${port}`)
  const ws = new WebSocket(url)
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('HeapProfiler.collectGarbage not answered within 30 s')), 30_000)
      ws.on('message', (data) => {
        const reply = JSON.parse(String(data)) as { id?: number; error?: { message: string } }
        if (reply.id !== 1) return
        clearTimeout(timer)
        if (reply.error) reject(new Error(reply.error.message))
        else resolve()
      })
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }))
    })
  } finally {
    ws.close()
  }
}
