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
import { connectDevice, connectOperator, createOperator, deviceBarrier, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

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
    await admin.alarmPushed('b-1')
    await admin.alarmPushed('a-1')
    // The barrier: a second press in each community, pushed to its room after the first two were
    // pushed (the admin has both). A socket delivers in order, so anything misrouted to an
    // operator has arrived before that operator's own barrier push.
    await publish(devA, deviceTopic(a.device.id, 'alarm'), { id: 'a-2', type: 'fall' })
    await publish(devB, deviceTopic(b.device.id, 'alarm'), { id: 'b-2', type: 'sos' })
    const lastA = await opA.alarmPushed('a-2')
    const lastB = await opB.alarmPushed('b-2')
    expect(opA.pushes.slice(0, lastA + 1).map((v) => v.deviceId)).toEqual([a.device.id, a.device.id])
    expect(opB.pushes.slice(0, lastB + 1).map((v) => v.deviceId)).toEqual([b.device.id, b.device.id])

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
    // a-2 was sent after the duplicate's PUBACK: anything the duplicate pushed arrives before a-2's push.
    const attached = await operator.alarmPushed('a-2')
    expect(attached).toBe(1) // opened, then attached; the duplicate changed nothing
    expect(operator.pushes).toHaveLength(2)
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
    // The barrier: a new press after the duplicate's PUBACK; its push comes after anything the duplicate pushed.
    await publish(again, deviceTopic(fx.device.id, 'alarm'), { id: 'a-2', type: 'sos' })
    expect(await operator.alarmPushed('a-2')).toBe(0)
    expect(operator.pushes).toHaveLength(1)
    expect(operator.pushes[0]).toMatchObject({ id: operator.snapshots[0]![0]!.id })
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
    await device.subscribeAsync(cmdTopic(fx.device.id), { qos: 1 })
    let acked = false
    const published = publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-locked', type: 'sos' }).then(() => {
      acked = true
    })
    // The alarm's write is waiting for the lock: the message is being recorded now ...
    await waitFor(async () => {
      const waiting = await locker.query(
        `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = 'device_messages' AND NOT l.granted`,
        [p.pgSchema],
      )
      return waiting.rowCount! > 0
    }, 5000, "the alarm's write to wait for the lock")
    // ... and a command sent to the device now reaches it after a PUBACK sent before it would have.
    await deviceBarrier(p, device, fx.device.id)
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
    // Every attempt ended before the next began, and the last one committed before its PUBACK.
    const rows = await p.app.db.selectFrom('incidents').selectAll().where('household_id', '=', fx.householdId).execute()
    expect(rows).toHaveLength(1)
    // The barrier: a new press after that PUBACK; its push comes after anything the attempts pushed.
    await publish(device, deviceTopic(fx.device.id, 'alarm'), { id: 'a-after', type: 'sos' })
    expect(await operator.alarmPushed('a-after')).toBe(1)
    expect(operator.pushes).toHaveLength(2)
    expect(operator.events[0]!.map((e) => [e.kind, e.detail.messageId])).toEqual([['opened', 'a-locked']])
  }
})
