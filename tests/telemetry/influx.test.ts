/**
 * Readings to InfluxDB (docs/operations.md §influxdb) against a real server of its v2 write API
 * (VictoriaMetrics): every reading written as line protocol and read back; the server killed
 * mid-stream leaves the alarm path alone, and its backlog arrives once when it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { virtualClock } from '../../src/shared/clock.js'
import { sampleLine } from '../../src/telemetry/influx.js'
import { connectDevice, connectOperator, createOperator, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'
import { startVictoriaMetrics } from '../helpers/victoria-metrics.js'

const clock = virtualClock(Date.UTC(2026, 11, 4, 8))
let vm: Awaited<ReturnType<typeof startVictoriaMetrics>>
let p: TestPlatform

beforeAll(async () => {
  vm = await startVictoriaMetrics()
  p = await startPlatform({
    clock,
    env: { ANJU_INFLUX_URL: vm.url, ANJU_INFLUX_TOKEN: 'test-token', ANJU_INFLUX_ORG: 'anju', ANJU_INFLUX_BUCKET: 'telemetry' },
  })
}, 60_000)
afterAll(async () => {
  await p?.close()
  await vm?.stop()
})

const influx = () => p.app.influx!

describe('InfluxDB line protocol', () => {
  it('is one measurement per kind, tagged by household and device, at the reading time in ms', () => {
    expect(sampleLine({ kind: 'water', householdId: 'hh 1', deviceId: 'wm,1', at: 1_764_835_200_123, value: 12.345, value2: 0.5 })).toBe('water,device=wm\\,1,household=hh\\ 1 flow_lpm=0.5,total_m3=12.345 1764835200123')
    expect(sampleLine({ kind: 'presence', householdId: 'h', deviceId: 'p', at: 1, value: 1, value2: null })).toBe('presence,device=p,household=h occupied=1i 1')
    expect(sampleLine({ kind: 'door', householdId: 'h', deviceId: 'd', at: 2, value: 0, value2: null })).toBe('door,device=d,household=h open=0i 2')
    expect(sampleLine({ kind: 'battery', householdId: 'h', deviceId: 'b', at: 3, value: 87, value2: null })).toBe('battery,device=b,household=h percent=87 3')
  })
})

describe('readings to InfluxDB', () => {
  it('writes every reading, and a server killed mid-stream does not hold up an SOS, and loses and doubles no reading the platform held', async () => {
    const fx = await provision(p, { deviceId: 'btn-influx-1' })
    const { body: meterCreds } = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id: 'wm-influx-1', householdId: fx.householdId, kind: 'water', room: 'kitchen' })
    const meter = await connectDevice(p, meterCreds)
    const button = await connectDevice(p, fx.device)
    const operator = await connectOperator(p, await createOperator(p, 'op-influx', [fx.communityId]))
    const selector = `{__name__="water_total_m3",household="${fx.householdId}"}`
    const sent: number[] = []
    const read = async (n: number) => {
      const at = clock.now()
      await publish(meter, deviceTopic('wm-influx-1', 'telemetry'), { id: `w-${n}`, ts: at, kind: 'water', totalM3: 10 + n / 1000, flowLpm: 0 })
      sent.push(at)
      clock.advance(1000)
    }
    try {
      for (let n = 0; n < 5; n++) await read(n)
      await influx().flush()
      const first = await vm.export(selector)
      expect(first).toHaveLength(1)
      expect(first[0]!.metric).toMatchObject({ device: 'wm-influx-1', household: fx.householdId })
      expect(first[0]!.timestamps).toEqual(sent)
      expect(first[0]!.values).toEqual([10, 10.001, 10.002, 10.003, 10.004])

      await vm.kill()
      for (let n = 5; n < 12; n++) await read(n)
      await influx().flush()
      expect(influx().stats()).toMatchObject({ buffered: 7, dropped: 0 })
      expect(influx().stats().lagMs).toBeGreaterThan(0)

      // The alarm path does not wait on the history server.
      await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'sos-influx-1', ts: clock.now(), type: 'sos' })
      await waitFor(() => operator.pushes.some((v) => v.householdId === fx.householdId && v.type === 'sos'), 5000, 'the SOS pushed to the operator')

      await vm.start()
      // The retry is due on the platform clock, not on a wall-clock timer.
      clock.advance(60_000)
      await influx().flush()
      expect(influx().stats()).toMatchObject({ buffered: 0, dropped: 0, lagMs: 0 })
      // What a SIGKILLed VictoriaMetrics had taken but not yet put on disk is its own loss (it
      // keeps about a second in memory); what the platform held during the outage arrives once.
      const backlog = sent.slice(5)
      const after = await vm.export(selector)
      expect(after).toHaveLength(1)
      const stored = after[0]!.timestamps
      expect(stored.filter((t) => t >= backlog[0]!)).toEqual(backlog)
      expect(new Set(stored).size).toBe(stored.length)

      // Sent again (the server took a batch but its answer was lost): the same lines, no new samples.
      for (const at of backlog.slice(0, 3)) influx().write({ kind: 'water', householdId: fx.householdId, deviceId: 'wm-influx-1', at, value: 10 + sent.indexOf(at) / 1000, value2: 0 })
      await influx().flush()
      expect((await vm.export(selector))[0]!.timestamps).toEqual(stored)
    } finally {
      meter.end(true)
      button.end(true)
      operator.close()
    }
  }, 60_000)
})
