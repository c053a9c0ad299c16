/**
 * Contract §4 `id`: a message sent again is one message — for telemetry too, however many others
 * came between, and across a restart of the platform (src/ingest/dedup.ts). Over HTTP (a vendor
 * platform's retry) and MQTT (a device's retransmission), on both stores.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import type { TelemetryReceived } from '../../src/ingest/ingest.js'
import { connectDevice, provision, publish, startPlatform, type Fixture, type TestPlatform } from '../helpers/platform.js'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function platform(dir?: string): Promise<TestPlatform> {
  const p = await startPlatform(dir ? { dir } : {})
  cleanups.push(() => p.close())
  return p
}

const post = (p: TestPlatform, fx: Fixture, body: unknown) =>
  fetch(`${p.httpUrl}/ingest/v1/dev/${fx.device.id}/telemetry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${fx.device.id}:${fx.device.secret}`).toString('base64')}` },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { result?: string } }))

/** What the detectors were handed, by message id. */
function detectorInputs(p: TestPlatform): string[] {
  const seen: string[] = []
  p.app.bus.on('telemetry.received', `test-${Math.random()}`, (e: TelemetryReceived) => seen.push(e.reading.id))
  return seen
}

/** Rows the history store keeps for one message of one device. */
async function keptRows(p: TestPlatform, deviceId: string, msgId: string): Promise<number> {
  await p.app.telemetrySink.settle()
  const rows = await p.app.historyDb.selectFrom('telemetry_samples').select('at').where('device_id', '=', deviceId).where('msg_id', '=', msgId).execute()
  return rows.length
}

const water = (id: string, ts: number | undefined, totalM3: number) => ({ id, ...(ts === undefined ? {} : { ts }), kind: 'water', totalM3 })

describe('a reading sent again is one reading', () => {
  it('over HTTP, after twenty others: answered duplicate, charted once, handed to the detectors once', async () => {
    const p = await platform()
    const fx = await provision(p, { kind: 'water' })
    const inputs = detectorInputs(p)
    const t0 = Date.now() - 3_600_000
    expect(await post(p, fx, water('w-first', t0, 10))).toEqual({ status: 200, body: { result: 'accepted' } })
    for (let i = 1; i <= 20; i++) expect((await post(p, fx, water(`w-${i}`, t0 + i * 60_000, 10 + i / 1000))).body.result).toBe('accepted')
    // The vendor platform retries the first one (same id, same ts).
    expect(await post(p, fx, water('w-first', t0, 10))).toEqual({ status: 200, body: { result: 'duplicate' } })
    // Once more after the history worker has written it: the store knows it.
    expect(await keptRows(p, fx.device.id, 'w-first')).toBe(1)
    expect(await post(p, fx, water('w-first', t0, 10))).toEqual({ status: 200, body: { result: 'duplicate' } })
    expect(inputs.filter((id) => id === 'w-first')).toHaveLength(1)
    expect(await keptRows(p, fx.device.id, 'w-first')).toBe(1)
    expect(p.app.stats.device(fx.device.id)).toMatchObject({ accepted: 21, duplicate: 2 })
  })

  it('a reading without ts, sent again after others, is recognised too (the store is asked for each)', async () => {
    const p = await platform()
    const fx = await provision(p, { kind: 'water' })
    expect((await post(p, fx, water('w-nots', undefined, 5))).body.result).toBe('accepted')
    for (let i = 1; i <= 20; i++) await post(p, fx, water(`w-${i}`, undefined, 5 + i / 1000))
    await p.app.telemetrySink.settle()
    expect((await post(p, fx, water('w-nots', undefined, 5))).body.result).toBe('duplicate')
  })

  it('a unit that reuses its ids at new times (replaced, or its counter started again) is heard', async () => {
    const p = await platform()
    const fx = await provision(p, { kind: 'presence' })
    const inputs = detectorInputs(p)
    const t0 = Date.now() - 3_600_000
    const presence = (id: string, ts: number) => ({ id, ts, kind: 'presence', occupied: true, motion: true })
    for (let i = 1; i <= 3; i++) expect((await post(p, fx, presence(`p-${i}`, t0 + i * 1000))).body.result).toBe('accepted')
    await p.app.telemetrySink.settle()
    // The new unit counts from 1 again, an hour later.
    for (let i = 1; i <= 3; i++) expect((await post(p, fx, presence(`p-${i}`, t0 + 3_600_000 + i * 1000))).body.result).toBe('accepted')
    expect(inputs).toEqual(['p-1', 'p-2', 'p-3', 'p-1', 'p-2', 'p-3'])
    // And the old unit's resend is still one reading.
    expect((await post(p, fx, presence('p-2', t0 + 2000))).body.result).toBe('duplicate')
    await p.app.telemetrySink.settle()
    const rows = await p.app.historyDb.selectFrom('telemetry_samples').select('msg_id').where('device_id', '=', fx.device.id).execute()
    expect(rows).toHaveLength(6)
  })

  it("a button's check-in answer sent again after others is one answer", async () => {
    const p = await platform()
    const fx = await provision(p)
    const answers: string[] = []
    p.app.bus.on('checkin.answered', 'test-answers', (e) => answers.push(e.ref))
    const answer = (id: string, ref: string) =>
      fetch(`${p.httpUrl}/ingest/v1/dev/${fx.device.id}/alarm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${fx.device.id}:${fx.device.secret}`).toString('base64')}` },
        body: JSON.stringify({ id, type: 'checkin_ok', ref }),
      }).then(async (r) => ((await r.json()) as { result: string }).result)
    expect(await answer('k-1', 'c-1')).toBe('accepted')
    for (let i = 2; i <= 10; i++) expect(await answer(`k-${i}`, `c-${i}`)).toBe('accepted')
    expect(await answer('k-1', 'c-1')).toBe('duplicate')
    expect(answers).toHaveLength(10)
  })

  it('across a restart: the same message is recognised, a newer one and an older one with a new id are taken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anju-idem-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const first = await startPlatform({ dir })
    const fx = await provision(first, { kind: 'water' })
    const t0 = Date.now() - 7_200_000
    for (let i = 0; i < 5; i++) expect((await post(first, fx, water(`w-${i}`, t0 + i * 600_000, 20 + i / 100))).body.result).toBe('accepted')
    expect((await post(first, fx, water('w-nots', undefined, 20.045))).body.result).toBe('accepted')
    await first.close()

    const second = await platform(dir)
    const inputs = detectorInputs(second)
    // After a restart, over MQTT: the device sends again what it had not seen acknowledged.
    const device = await connectDevice(second, fx.device)
    cleanups.push(() => device.endAsync())
    await publish(device, deviceTopic(fx.device.id, 'telemetry'), water('w-4', t0 + 4 * 600_000, 20.04))
    await publish(device, deviceTopic(fx.device.id, 'telemetry'), water('w-2', t0 + 2 * 600_000, 20.02))
    await publish(device, deviceTopic(fx.device.id, 'telemetry'), water('w-nots', undefined, 20.045))
    // A batch meter's reading from before, never sent: new.
    await publish(device, deviceTopic(fx.device.id, 'telemetry'), water('w-late', t0 + 3 * 600_000 + 1, 20.03))
    // And the next one.
    await publish(device, deviceTopic(fx.device.id, 'telemetry'), water('w-5', t0 + 5 * 600_000, 20.05))
    expect(second.app.stats.device(fx.device.id)).toMatchObject({ accepted: 2, duplicate: 3 })
    expect(inputs).toEqual(['w-late', 'w-5'])
    for (const id of ['w-2', 'w-4', 'w-late', 'w-5']) expect(await keptRows(second, fx.device.id, id)).toBe(1)
  })
})
