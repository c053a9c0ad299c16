/**
 * The foundation's promise, end to end with real clients: an SOS from an mqtt.js device reaches
 * the right operators over Socket.IO, durably, once; acknowledging it tells the device.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { cmdTopic, deviceTopic } from '../../src/contract/index.js'
import { onPostgres, TEST_PG_URL } from '../helpers/database.js'
import { connectDevice, connectOperator, createOperator, provision, publish, sleep, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const ROUTING_EVENTS = new Set(['escalated', 'notification'])
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})
async function platform(...args: Parameters<typeof startPlatform>): Promise<TestPlatform> {
  const p = await startPlatform(...args)
  cleanups.push(() => p.close())
  return p
}

describe('SOS path', () => {
  it('delivers a button press to the operator of its community', async () => {
    const p = await platform()
    const fx = await provision(p)
    const operator = await connectOperator(p, await createOperator(p, 'op-a', [fx.communityId]))
    cleanups.push(operator.close)
    expect(operator.snapshots[0]).toEqual([])

    const device = await connectDevice(p, fx.device)
    cleanups.push(() => void device.end(true))
    await publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-1', ts: Date.now(), type: 'sos', battery: 81 })

    await waitFor(() => operator.pushes.length === 1, 2000, 'the incident push')
    expect(operator.pushes[0]).toMatchObject({
      state: 'open',
      type: 'sos',
      priority: 1,
      deviceId: fx.device.id,
      householdId: fx.householdId,
      communityId: fx.communityId,
      household: { elderName: expect.any(String), address: expect.any(String) },
    })
  })

  it('never shows an operator of community A an incident of community B', async () => {
    const p = await platform()
    const a = await provision(p)
    const b = await provision(p)
    const opA = await connectOperator(p, await createOperator(p, 'op-a', [a.communityId]))
    const opB = await connectOperator(p, await createOperator(p, 'op-b', [b.communityId]))
    const admin = await connectOperator(p, p.adminToken)
    cleanups.push(opA.close, opB.close, admin.close)
    const devA = await connectDevice(p, a.device)
    const devB = await connectDevice(p, b.device)
    cleanups.push(() => void devA.end(true), () => void devB.end(true))

    await publish(devB, deviceTopic(b.device.id, 'alarm'), { id: 'b-1', type: 'sos' })
    await publish(devA, deviceTopic(a.device.id, 'alarm'), { id: 'a-1', type: 'fall' })
    await waitFor(() => opA.pushes.length === 1 && opB.pushes.length === 1 && admin.pushes.length === 2, 2000, 'pushes')
    await sleep(200) // anything misrouted would have arrived by now
    expect(opA.pushes.map((v) => v.deviceId)).toEqual([a.device.id])
    expect(opB.pushes.map((v) => v.deviceId)).toEqual([b.device.id])

    // the snapshot on (re)connect is scoped the same way
    const lateA = await connectOperator(p, await createOperator(p, 'op-a2', [a.communityId]))
    cleanups.push(lateA.close)
    expect(lateA.snapshots[0]!.map((v) => v.deviceId)).toEqual([a.device.id])

    // and so is the REST API
    const tokenA = await createOperator(p, 'op-a3', [a.communityId])
    const list = await p.api<{ communityId: string }[]>('GET', '/api/incidents?state=active', undefined, tokenA)
    expect(list.body.map((i) => i.communityId)).toEqual([a.communityId])
    const foreign = opB.pushes[0]!.id
    expect((await p.api('GET', `/api/incidents/${foreign}`, undefined, tokenA)).status).toBe(404)
    expect((await p.api('POST', `/api/incidents/${foreign}/acknowledge`, undefined, tokenA)).status).toBe(404)
  })

  it('closes an operator\'s live connection when they log out', async () => {
    const p = await platform()
    const fx = await provision(p)
    const token = await createOperator(p, 'op-out', [fx.communityId])
    const operator = await connectOperator(p, token)
    cleanups.push(operator.close)
    const gone = new Promise<string>((resolve) => operator.socket.once('disconnect', (reason) => resolve(reason)))
    expect((await p.api('POST', '/api/logout', undefined, token)).status).toBe(204)
    expect(await gone).toBe('io server disconnect')
  })

  it('sends cmd ack to the device when an operator acknowledges, and cmd resolved when closed', async () => {
    const p = await platform()
    const fx = await provision(p)
    const token = await createOperator(p, 'op-a', [fx.communityId])
    const operator = await connectOperator(p, token)
    cleanups.push(operator.close)
    const device = await connectDevice(p, fx.device)
    cleanups.push(() => void device.end(true))
    const commands: { topic: string; body: Record<string, unknown> }[] = []
    device.on('message', (topic, payload) => commands.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }))
    await device.subscribeAsync(cmdTopic(fx.device.id), { qos: 1 })

    await publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-1', type: 'sos' })
    await waitFor(() => operator.pushes.length === 1)
    const incidentId = operator.pushes[0]!.id

    const ack = await p.api<{ state: string; acknowledgedBy: string }>('POST', `/api/incidents/${incidentId}/acknowledge`, undefined, token)
    expect(ack.status).toBe(200)
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'user:op-a' })
    await waitFor(() => commands.length === 1, 2000, 'cmd ack')
    expect(commands[0]).toEqual({ topic: cmdTopic(fx.device.id), body: { id: expect.any(String), ts: expect.any(Number), cmd: 'ack', incidentId } })
    await waitFor(() => operator.pushes.length === 2)
    expect(operator.pushes[1]).toMatchObject({ id: incidentId, state: 'acknowledged' })

    const resolved = await p.api('POST', `/api/incidents/${incidentId}/resolve`, { outcome: 'emergency_handled', note: '已上门,老人无恙' }, token)
    expect(resolved.status).toBe(200)
    await waitFor(() => commands.length === 2, 2000, 'cmd resolved')
    expect(commands[1]!.body).toMatchObject({ cmd: 'resolved', incidentId })

    const detail = await p.api<{ events: { kind: string; actor: string }[] }>('GET', `/api/incidents/${incidentId}`, undefined, token)
    // the lifecycle part of the trail (routing adds who was notified, see tests/routing)
    expect(detail.body.events.filter((e) => !ROUTING_EVENTS.has(e.kind)).map((e) => [e.kind, e.actor])).toEqual([
      ['opened', `device:${fx.device.id}`],
      ['acknowledged', 'user:op-a'],
      ['resolved', 'user:op-a'],
    ])
  })

  it('opens one incident when a button retransmits the same SOS, and attaches a new press to it', async () => {
    const p = await platform()
    const fx = await provision(p)
    const operator = await connectOperator(p, p.adminToken)
    cleanups.push(operator.close)
    const device = await connectDevice(p, fx.device)
    cleanups.push(() => void device.end(true))
    const topic = deviceTopic(fx.device.id, 'alarm')

    await publish(device, topic, { id: 'a-1', type: 'sos' })
    await publish(device, topic, { id: 'a-1', type: 'sos' })
    await publish(device, topic, { id: 'a-2', type: 'sos' })
    await waitFor(() => operator.pushes.length === 2)
    await sleep(100)
    expect(operator.pushes).toHaveLength(2) // opened, then attached; the duplicate changed nothing
    expect(new Set(operator.pushes.map((v) => v.id)).size).toBe(1)

    const incidents = await p.api<{ id: string }[]>('GET', '/api/incidents?state=active')
    expect(incidents.body).toHaveLength(1)
    const detail = await p.api<{ events: { kind: string }[] }>('GET', `/api/incidents/${incidents.body[0]!.id}`)
    expect(detail.body.events.map((e) => e.kind).filter((k) => !ROUTING_EVENTS.has(k))).toEqual(['opened', 'alarm'])
    expect(p.app.stats.device(fx.device.id)).toMatchObject({ accepted: 2, duplicate: 1 })
  })

  it('keeps open incidents across a restart and pushes them when an operator reconnects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anju-restart-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const first = await startPlatform({ dir })
    const fx = await provision(first)
    const device = await connectDevice(first, fx.device)
    await publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-1', type: 'sos' })
    device.end(true)
    await first.close()

    const second = await platform({ dir })
    const operator = await connectOperator(second, await createOperator(second, 'op-a', [fx.communityId]))
    cleanups.push(operator.close)
    expect(operator.snapshots[0]).toHaveLength(1)
    expect(operator.snapshots[0]![0]).toMatchObject({ state: 'open', deviceId: fx.device.id })

    // the same message id after the restart is still a duplicate: dedup is durable
    const again = await connectDevice(second, fx.device)
    cleanups.push(() => void again.end(true))
    await publish(again, deviceTopic(fx.device.id, 'alarm'), { id: 'a-1', type: 'sos' })
    await sleep(100)
    expect(operator.pushes).toHaveLength(0)
  })

  // The same promise on each store, held up the way each can be: SQLite refuses (busy), PostgreSQL waits.
  it('sends no PUBACK until the alarm is committed; the retransmission opens exactly one incident', () => (onPostgres ? lockedOnPostgres() : lockedOnSqlite()))

  async function lockedOnPostgres(): Promise<void> {
    const p = await platform()
    const fx = await provision(p)
    const operator = await connectOperator(p, p.adminToken)
    cleanups.push(operator.close)

    // Another session holds the dedup table: the alarm's first write waits for it.
    const locker = new pg.Client({ connectionString: TEST_PG_URL })
    await locker.connect()
    cleanups.push(() => locker.end())
    await locker.query('BEGIN')
    await locker.query(`LOCK TABLE ${p.pgSchema}.device_messages IN ACCESS EXCLUSIVE MODE`)

    const device = await connectDevice(p, fx.device, { reconnectPeriod: 100, clean: false })
    cleanups.push(() => void device.end(true))
    let acked = false
    const published = publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-locked', type: 'sos' }).then(() => {
      acked = true
    })
    await sleep(1000)
    expect(acked).toBe(false)
    expect(operator.pushes).toHaveLength(0)

    await locker.query('ROLLBACK')
    await published
    expect(acked).toBe(true)
    await waitFor(() => operator.pushes.length === 1)
    const rows = await p.app.db.selectFrom('incidents').selectAll().where('household_id', '=', fx.householdId).execute()
    expect(rows).toHaveLength(1)
  }

  async function lockedOnSqlite(): Promise<void> {
    const p = await platform({ env: { ANJU_DB_BUSY_TIMEOUT_MS: '50' } })
    const fx = await provision(p)
    const operator = await connectOperator(p, p.adminToken)
    cleanups.push(operator.close)

    // A second connection holds the write lock: every commit fails with SQLITE_BUSY.
    const locker = new SQLite(join(p.dir, 'anju.db'))
    cleanups.push(() => void locker.close())
    locker.exec('BEGIN IMMEDIATE')

    const device = await connectDevice(p, fx.device, { reconnectPeriod: 100, clean: false })
    cleanups.push(() => void device.end(true))
    let closes = 0
    device.on('close', () => closes++)
    let acked = false
    const published = publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-locked', type: 'sos' }).then(() => {
      acked = true
    })

    await waitFor(() => closes >= 2, 5000, 'the broker to refuse the message twice')
    expect(acked).toBe(false)
    expect(operator.pushes).toHaveLength(0)

    locker.exec('ROLLBACK')
    await published
    expect(acked).toBe(true)
    await waitFor(() => operator.pushes.length === 1)
    await sleep(200)
    const rows = await p.app.db.selectFrom('incidents').selectAll().where('household_id', '=', fx.householdId).execute()
    expect(rows).toHaveLength(1)
    expect(operator.pushes).toHaveLength(1)
  }
})
