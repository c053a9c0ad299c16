/**
 * docs/security.md §counting: every refusal and every dropped message is counted, but a device
 * that repeats one cannot fill the log — a line a minute per device, saying how many were held back.
 */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { logPacer } from '../../src/shared/recent.js'
import { connectDevice, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const lines: { msg: string; deviceId?: string; heldBack?: number }[] = []
let p: TestPlatform
beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number])
      done()
    },
  })
  p = await startPlatform({ log: pino({ level: 'warn' }, sink) })
})
afterAll(() => p.close())

describe('log pacing', () => {
  it('counts fifty malformed readings from one device and logs one line for them', async () => {
    const fx = await provision(p, { kind: 'water' })
    const device = await connectDevice(p, fx.device)
    for (let i = 0; i < 50; i++) await publish(device, deviceTopic(fx.device.id, 'telemetry'), { id: `w-${i}`, kind: 'water', totalM3: 'lots' })
    expect(p.app.stats.device(fx.device.id)?.dropped).toBe(50)
    expect(lines.filter((l) => l.msg === 'device message dropped' && l.deviceId === fx.device.id)).toHaveLength(1)
    await device.endAsync()
  })

  it('logs every alarm that could not be read (within the device rate): it may be an elder calling', async () => {
    const fx = await provision(p)
    const device = await connectDevice(p, fx.device)
    await publish(device, deviceTopic(fx.device.id, 'status'), { online: 'yes' })
    await publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-1', type: 'SOS' })
    await publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-2', type: 'help' })
    expect(p.app.stats.device(fx.device.id)?.dropped).toBe(3)
    expect(lines.filter((l) => l.msg === 'alarm message dropped' && l.deviceId === fx.device.id)).toHaveLength(2)
    expect(lines.filter((l) => l.msg === 'device message dropped' && l.deviceId === fx.device.id)).toHaveLength(1)
    await device.endAsync()
  })

  it('counts every refused publish of a logged-in device and logs one line for them', async () => {
    const fx = await provision(p)
    const other = await provision(p)
    for (let i = 0; i < 10; i++) {
      const device = await connectDevice(p, fx.device)
      const closed = new Promise<void>((resolve) => device.once('close', () => resolve()))
      device.publish(deviceTopic(other.device.id, 'alarm'), JSON.stringify({ id: `x-${i}`, type: 'sos' }), { qos: 1 })
      await closed
      device.end(true)
    }
    await waitFor(() => p.app.stats.device(fx.device.id)?.refused === 10, 5000, 'ten refusals counted')
    expect(lines.filter((l) => l.msg === 'device refused' && l.deviceId === fx.device.id)).toHaveLength(1)
  })

  it('lets a line through again after a minute, with how many were held back', () => {
    let now = 0
    const pacer = logPacer(2, 60_000, () => now)
    expect(pacer.due('a')).toBe(0)
    expect(pacer.due('a')).toBeNull()
    expect(pacer.due('a')).toBeNull()
    now += 60_000
    expect(pacer.due('a')).toBe(2)
    // The table is bounded: a third key pushes out the least recent.
    expect(pacer.due('b')).toBe(0)
    expect(pacer.due('c')).toBe(0)
    expect(pacer.due('a')).toBe(0)
  })
})
