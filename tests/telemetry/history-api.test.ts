/**
 * Telemetry history end to end: real MQTT devices publish contract payloads, the sink keeps
 * them off the alarm path, and the history API shapes them for the console's charts, scoped to
 * the operator's communities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { telemetryRepository } from '../../src/store/telemetry.js'
import { connectDevice, createOperator, provision, publish, startPlatform, type TestPlatform } from '../helpers/platform.js'

const MIN = 60_000
const HOUR = 3_600_000

interface History {
  now: number
  water: { from: number; to: number; hourly: { at: number; litres: number | null }[] }
  presence: { rooms: { deviceId: string; room: string | null; spans: { from: number; to: number; state: string }[] }[] }
  battery: { devices: { deviceId: string; kind: string; room: string | null; points: [number, number][] }[] }
  alerts: { incidentId: string; type: string; category: string; from: number; to: number | null }[]
}

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

async function addDevice(householdId: string, id: string, kind: string, room: string | null) {
  const created = await p.api<{ id: string; secret: string }>('POST', '/api/devices', { id, householdId, kind, room })
  expect(created.status).toBe(201)
  return connectDevice(p, created.body)
}

describe('household history', () => {
  it('charts what real devices reported: water per hour, presence per room, battery, and the SOS as an alert window', async () => {
    const fx = await provision(p, { deviceId: 'btn-hist-1' })
    const meter = await addDevice(fx.householdId, 'wm-hist-1', 'water', 'kitchen')
    const bedroom = await addDevice(fx.householdId, 'pr-hist-bed', 'presence', 'bedroom')
    const button = await connectDevice(p, fx.device)
    const now = Date.now()
    const hourStart = Math.floor(now / HOUR) * HOUR
    // Two readings 40 minutes apart inside the previous hour: 20 litres.
    const a = hourStart - 50 * MIN
    await publish(meter, deviceTopic('wm-hist-1', 'telemetry'), { id: 'w-1', ts: a, kind: 'water', totalM3: 12.3, flowLpm: 0 })
    await publish(meter, deviceTopic('wm-hist-1', 'telemetry'), { id: 'w-2', ts: a + 40 * MIN, kind: 'water', totalM3: 12.32, flowLpm: 0 })
    await publish(bedroom, deviceTopic('pr-hist-bed', 'telemetry'), { id: 'p-1', ts: now - 30 * MIN, kind: 'presence', occupied: true, motion: true })
    await publish(bedroom, deviceTopic('pr-hist-bed', 'telemetry'), { id: 'p-2', ts: now - 25 * MIN, kind: 'presence', occupied: false, motion: false })
    await publish(button, deviceTopic(fx.device.id, 'status'), { ts: now - 10 * MIN, online: true, battery: 81 })
    await publish(button, deviceTopic(fx.device.id, 'alarm'), { id: 'sos-1', type: 'sos' })
    await Promise.all([meter.endAsync(), bedroom.endAsync(), button.endAsync()])
    await p.app.telemetrySink.flush()

    const { status, body } = await p.api<History>('GET', `/api/households/${fx.householdId}/history`)
    expect(status).toBe(200)
    expect(body.water.hourly).toHaveLength(7 * 24 + 1)
    const previousHour = body.water.hourly.find((h) => h.at === hourStart - HOUR)
    expect(previousHour?.litres).toBeCloseTo(20, 5)
    expect(body.water.hourly.find((h) => h.at === hourStart - 5 * HOUR)?.litres).toBeNull()

    const room = body.presence.rooms.find((r) => r.deviceId === 'pr-hist-bed')
    expect(room).toMatchObject({ room: 'bedroom' })
    expect(room!.spans.map((s) => s.state)).toEqual(['motion', 'empty'])
    expect(room!.spans[0]).toMatchObject({ from: now - 30 * MIN, to: now - 25 * MIN })

    const btn = body.battery.devices.find((d) => d.deviceId === fx.device.id)
    expect(btn).toMatchObject({ kind: 'button' })
    expect(btn!.points.map(([, v]) => v)).toEqual([81])

    expect(body.alerts).toEqual([expect.objectContaining({ type: 'sos', category: 'emergency', to: null })])
  })

  it('shows a household only to operators of its community, and refuses a bad window with a reason', async () => {
    const fx = await provision(p)
    const other = await provision(p)
    const own = await createOperator(p, 'op-hist-own', [fx.communityId])
    const stranger = await createOperator(p, 'op-hist-stranger', [other.communityId])
    expect((await p.api('GET', `/api/households/${fx.householdId}/history`, undefined, own)).status).toBe(200)
    expect((await p.api('GET', `/api/households/${fx.householdId}/history`, undefined, stranger)).status).toBe(404)
    expect((await p.api('GET', `/api/households/hh_missing/history`)).status).toBe(404)
    const bad = await p.api<{ error: string; message: string }>('GET', `/api/households/${fx.householdId}/history?waterDays=400`)
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/waterDays/)
    const anonymous = await fetch(`${p.httpUrl}/api/households/${fx.householdId}/history`)
    expect(anonymous.status).toBe(401)
  })

  it('keeps a battery level once an hour while it does not change, not at every heartbeat', async () => {
    const fx = await provision(p, { deviceId: 'btn-hist-beat' })
    const button = await connectDevice(p, fx.device)
    const now = Date.now()
    for (let i = 0; i < 5; i++) await publish(button, deviceTopic(fx.device.id, 'status'), { ts: now - 50 * MIN + i * MIN, online: true, battery: 64 })
    await publish(button, deviceTopic(fx.device.id, 'status'), { ts: now - 40 * MIN, online: true, battery: 63 })
    await button.endAsync()
    await p.app.telemetrySink.flush()
    const { body } = await p.api<History>('GET', `/api/households/${fx.householdId}/history`)
    const points = body.battery.devices.find((d) => d.deviceId === fx.device.id)!.points
    // A status is dated by its arrival (the platform's clock): the five 64s were kept once.
    const rows = await telemetryRepository(p.app.historyDb).range(fx.householdId, ['battery'], now - HOUR, Date.now())
    expect(rows.map((r) => r.value)).toEqual([64, 63])
    expect(points.at(-1)![1]).toBe(63)
  })
})

