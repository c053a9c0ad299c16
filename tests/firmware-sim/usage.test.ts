/** The simulator's help, its district summary and its progress where no terminal watches. */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { progressReporter, renderSummary, type DistrictStats } from '../../firmware-sim/district.js'
import { COMMANDS, joinOptionValues, OPTIONS } from '../../firmware-sim/usage.js'

const ROOT = join(import.meta.dirname, '..', '..')
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
const sim = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', TSX, join(ROOT, 'firmware-sim/cli.ts'), ...args])

const stats = (over: Partial<DistrictStats> = {}): DistrictStats => ({
  target: 10_000,
  connected: 10_000,
  connectFailures: 0,
  refusals: 0,
  published: 52_340,
  pubacks: 52_340,
  errors: 0,
  disconnects: 0,
  messagesPerS: 312,
  elapsedS: 72.4,
  connectS: 12.3,
  commands: 0,
  lastError: null,
  ...over,
})

describe('option values', () => {
  it("takes the word after a string option as its value even when it starts with '-'", () => {
    expect(joinOptionValues(['sos', 'btn-1', '--secret', '-kFA', '--wait', '10', '--warp', '--url=mqtt://x'])).toEqual([
      'sos',
      'btn-1',
      '--secret=-kFA',
      '--wait=10',
      '--warp',
      '--url=mqtt://x',
    ])
  })
})

describe('npm run sim -- --help', () => {
  it('lists every command with every option it reads, and each option at least once', async () => {
    const { stdout } = await sim('--help')
    for (const c of COMMANDS) expect(stdout).toContain(c.synopsis)
    for (const name of Object.keys(OPTIONS)) expect(stdout).toContain(`--${name}`)
  })

  it("gives one command's help, with the admin password a district needs", async () => {
    const { stdout } = await sim('district', '--help')
    for (const o of ['--households', '--connect-rate', '--duration', '--interval', '--fleet', '--progress-every', '--url', '--api', '--user', '--password']) expect(stdout).toContain(o)
    expect(stdout).not.toContain('scenario <')
    const press = await sim('sos', '--help')
    expect(press.stdout).toContain('--wait S')
    expect(press.stdout).toContain('--secret')
  })

  it('answers a bad option with the usage and exit code 2, not a stack trace', async () => {
    await expect(sim('district', '--housholds', '5')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option '--housholds'[\s\S]*usage: npm run sim/) })
  })
})

describe('district summary', () => {
  it('is a table a person reads, with thousands separated and OK when nothing went wrong', () => {
    const text = renderSummary(stats())
    expect(text.split('\n')[0]).toBe('district summary: OK')
    expect(text).toMatch(/^ {2}devices +10,000$/m)
    expect(text).toMatch(/^ {2}connected +10,000 {2}all attempts settled in 12\.3 s$/m)
    expect(text).toMatch(/^ {2}acknowledged +52,340 {2}PUBACK/m)
    expect(text).not.toContain('{')
  })

  it('says what went wrong', () => {
    const text = renderSummary(stats({ refusals: 3, errors: 2, lastError: 'CONNACK 5 (not authorized)' }))
    expect(text.split('\n')[0]).toBe('district summary: PROBLEMS (exit code 1)')
    expect(text).toMatch(/refused \(CONNACK\) +3 {2}wrong secret/)
    expect(text).toMatch(/last error +CONNACK 5 \(not authorized\)/)
  })
})

describe('district progress', () => {
  it('writes a plain line every few seconds when no terminal watches', () => {
    const out: string[] = []
    const p = progressReporter({ tty: false, everyS: 10, write: (t) => out.push(t) })
    for (let s = 0; s <= 25; s += 0.25) p.update(stats({ elapsedS: s, connected: Math.min(10_000, Math.round(s * 500)) }))
    p.end()
    expect(out).toHaveLength(3) // at 0, 10 and 20 s
    expect(out[1]).toBe('5000/10000 connected · 312 msg/s · 52340 PUBACK · 0 refused · 0 errors · 10.0 s\n')
    expect(out.join('')).not.toContain('\r')
  })

  it('redraws one line in place on a terminal', () => {
    const out: string[] = []
    const p = progressReporter({ tty: true, everyS: 10, write: (t) => out.push(t) })
    p.update(stats({ elapsedS: 1 }))
    p.update(stats({ elapsedS: 1.25 }))
    p.end()
    expect(out).toHaveLength(3)
    expect(out[0]).toMatch(/^\r\[#+\] 10000\/10000 connected/)
    expect(out[2]).toBe('\n')
  })
})
