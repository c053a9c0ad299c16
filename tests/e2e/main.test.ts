/** The real entry point as a newcomer runs it: no configuration, demo district, clean shutdown. */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import mqtt from 'mqtt'

const ROOT = join(import.meta.dirname, '..', '..')
// Absolute, because the platform runs in a fresh temporary directory like a newcomer's checkout.
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
const children: ChildProcess[] = []
const dirs: string[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function run(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/main.ts')], {
    cwd,
    env: { ...process.env, ANJU_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const output = () => ({ stdout, stderr })
  /** Resolves on the output that matches, as it arrives; fails when the process ends first, or at the deadline. */
  const waitForStdout = (pattern: RegExp, timeoutMs = 90_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const done = () => {
        child.stdout!.off('data', check)
        child.off('exit', ended)
        clearTimeout(deadline)
      }
      const check = () => {
        const m = stdout.match(pattern)
        if (m) {
          done()
          resolve(m)
        }
      }
      const fail = () => {
        done()
        reject(new Error(`no ${pattern} in output:\n${stdout}\n${stderr}`))
      }
      const ended = () => setImmediate(() => (pattern.test(stdout) ? check() : fail()))
      const deadline = setTimeout(fail, timeoutMs)
      child.stdout!.on('data', check)
      child.once('exit', ended)
      if (child.exitCode !== null) ended()
      else check()
    })
  return { child, exited, output, waitForStdout }
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'anju-main-'))
  dirs.push(d)
  return d
}

describe('npm start (src/main.ts)', () => {
  it('starts on embedded defaults, seeds the demo district, takes an SOS, and stops on SIGTERM', { timeout: 180_000 }, async () => {
    const cwd = tempDir()
    const proc = run({ ANJU_HTTP_PORT: '0', ANJU_MQTT_PORT: '0', ANJU_HTTP_HOST: '127.0.0.1', ANJU_MQTT_HOST: '127.0.0.1' }, cwd)
    const [, httpPort] = await proc.waitForStdout(/Console\s+http:\/\/localhost:(\d+)\//)
    const [, mqttPort] = await proc.waitForStdout(/MQTT\s+mqtt:\/\/localhost:(\d+)/)
    const [, password] = await proc.waitForStdout(/Admin\s+admin \/ (\S+)/)
    await proc.waitForStdout(/Operator\s+op-lanting/)
    const [, familyPath] = await proc.waitForStdout(/Family\s+http:\/\/localhost:\d+(\/family\.html\?t=\S+)/)
    const url = `http://127.0.0.1:${httpPort}`

    expect(existsSync(join(cwd, 'data', 'anju.db'))).toBe(true)
    const fleet = JSON.parse(readFileSync(join(cwd, 'data', 'demo-fleet.json'), 'utf8')) as { devices: { id: string; secret: string }[] }
    const button = fleet.devices.find((d) => d.id === 'btn-0001')!

    const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })
    const { token } = (await login.json()) as { token: string }
    const households = (await (await fetch(`${url}/api/households`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: unknown[]; total: number }
    expect(households.total).toBe(6)
    expect(households.items).toHaveLength(6)
    expect((await fetch(`${url}/`)).status).toBe(200)

    // The demo district has a week of history, so the console's charts draw at once.
    type History = { water: { hourly: { litres: number | null }[] }; presence: { rooms: { spans: unknown[] }[] }; battery: { devices: { points: unknown[] }[] } }
    const history = (await (await fetch(`${url}/api/households/hh-0001/history`, { headers: { authorization: `Bearer ${token}` } })).json()) as History
    expect(history.water.hourly.filter((h) => (h.litres ?? 0) > 0).length).toBeGreaterThan(50)
    expect(history.presence.rooms[0]!.spans.length).toBeGreaterThan(10)
    expect(history.battery.devices).toHaveLength(3)
    // The printed family view link opens 张桂英's status.
    expect((await fetch(`${url}${familyPath}`)).status).toBe(200)
    const t = new URL(familyPath!, url).searchParams.get('t')!
    const family = (await (await fetch(`${url}/api/family/overview?t=${encodeURIComponent(t)}`)).json()) as { elder: { name: string }; lastActivity: unknown; linkExpiresAt: number }
    expect(family.elder.name).toBe('张桂英')
    // Printed, it may land in a log: it lives a day, not the months of a link given to a family.
    expect(family.linkExpiresAt - Date.now()).toBeLessThanOrEqual(24 * 3_600_000)
    expect(family.linkExpiresAt - Date.now()).toBeGreaterThan(23 * 3_600_000)
    expect(family.lastActivity).not.toBeNull()

    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: button.id, username: button.id, password: button.secret, reconnectPeriod: 0 })
    await device.publishAsync(deviceTopic(button.id, 'alarm'), JSON.stringify({ id: 'main-1', type: 'sos' }), { qos: 1 })
    await device.endAsync()
    const incidents = (await (await fetch(`${url}/api/incidents?state=open`, { headers: { authorization: `Bearer ${token}` } })).json()) as { deviceId: string }[]
    expect(incidents.map((i) => i.deviceId)).toEqual(['btn-0001'])

    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
  })

  it('prints the banner after every start-up log line, and logs JSON when stdout is not a terminal', { timeout: 180_000 }, async () => {
    const ports = { ANJU_HTTP_PORT: '0', ANJU_MQTT_PORT: '0', ANJU_HTTP_HOST: '127.0.0.1', ANJU_MQTT_HOST: '127.0.0.1' }
    const proc = run({ ...ports, ANJU_LOG_LEVEL: 'info' }, tempDir())
    await proc.waitForStdout(/Demo devices written to .*\n\n/)
    proc.child.kill('SIGTERM')
    expect(await proc.exited, proc.output().stderr).toBe(0)
    // Start-up logs, then the banner, then only what the shutdown logged: nothing in between scrolls the passwords away.
    const lines = proc.output().stdout.split('\n')
    const first = lines.indexOf('  安居 Anju is running')
    const last = lines.findIndex((l) => l.startsWith('  Demo devices written to'))
    expect(first).toBeGreaterThan(0)
    const json = (ls: string[]) => ls.filter((l) => l !== '').map((l) => JSON.parse(l) as { msg: string })
    expect(json(lines.slice(0, first)).map((l) => l.msg)).toContain('detectors started')
    expect(lines.slice(first, last + 1).every((l) => !l.startsWith('{'))).toBe(true)
    expect(json(lines.slice(last + 1)).map((l) => l.msg)).toEqual(['shutting down', 'closed'])
  })

  it('follows the README: after the quick start, ANJU_ADMIN_PASSWORD is refused with a warning, and time-warp gets a fresh store', { timeout: 400_000 }, async () => {
    const cwd = tempDir()
    const ports = { ANJU_HTTP_PORT: '0', ANJU_MQTT_PORT: '0', ANJU_HTTP_HOST: '127.0.0.1', ANJU_MQTT_HOST: '127.0.0.1' }
    const login = async (port: string, password: string) =>
      (await fetch(`http://127.0.0.1:${port}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })).status

    // The quick start: a generated admin password in ./data.
    const quick = run(ports, cwd)
    await quick.waitForStdout(/Admin\s+admin \/ (\S+)/)
    quick.child.kill('SIGTERM')
    expect(await quick.exited).toBe(0)

    // The same ./data with ANJU_ADMIN_PASSWORD: not used, and said so with what to do.
    const again = run({ ...ports, ANJU_ADMIN_PASSWORD: 'admin-password' }, cwd)
    const [, httpPort] = await again.waitForStdout(/Console\s+http:\/\/localhost:(\d+)\//)
    await again.waitForStdout(/WARNING\s+ANJU_ADMIN_PASSWORD was not used: \.\/data\/anju\.db already has users[\s\S]*start afresh/)
    expect(await login(httpPort!, 'admin-password')).toBe(401)
    again.child.kill('SIGTERM')
    expect(await again.exited).toBe(0)

    // Time-warp as the README gives it: a fresh store of its own, where the password is the admin's.
    const warp = run({ ...ports, ANJU_CLOCK: 'virtual', ANJU_ADMIN_PASSWORD: 'admin-password' }, cwd)
    const [, warpPort] = await warp.waitForStdout(/Console\s+http:\/\/localhost:(\d+)\//)
    const [, dataDir] = await warp.waitForStdout(/Data\s+(\S+) \(fresh for this time-warp run/)
    await warp.waitForStdout(/Demo devices written to/)
    expect(warp.output().stdout).not.toContain('WARNING')
    expect(existsSync(join(dataDir!, 'anju.db'))).toBe(true)
    expect(await login(warpPort!, 'admin-password')).toBe(200)
    warp.child.kill('SIGTERM')
    expect(await warp.exited).toBe(0)
    expect(existsSync(dataDir!)).toBe(false)
  })

  it('stops with a message naming the variable when a port is taken', async () => {
    const holder = net.createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()))
    const port = (holder.address() as net.AddressInfo).port
    try {
      const proc = run({ ANJU_HTTP_PORT: '0', ANJU_HTTP_HOST: '127.0.0.1', ANJU_MQTT_HOST: '127.0.0.1', ANJU_MQTT_PORT: String(port) }, tempDir())
      expect(await proc.exited).toBe(1)
      expect(proc.output().stderr).toContain(`port ${port} is already in use: set ANJU_MQTT_PORT`)
    } finally {
      holder.close()
    }
  })

  it('stops with a message naming a bad variable', async () => {
    const proc = run({ ANJU_HTTP_PORT: 'eighty' }, tempDir())
    expect(await proc.exited).toBe(1)
    expect(proc.output().stderr).toMatch(/ANJU_HTTP_PORT="eighty"/)
  })
})
