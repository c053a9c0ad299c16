/**
 * The demo district seeded into an empty database, so a newcomer sees the platform work:
 * one street, two communities, six households with a 一键通 button, a water meter and a
 * presence sensor each, and one operator per community. Device credentials go to a fleet file
 * the simulator reads; nothing here runs unless the database has no communities.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Clock } from '../shared/clock.js'
import { newId } from '../shared/ids.js'
import { hashDeviceSecret, hashPassword, newDeviceSecret } from '../shared/secrets.js'
import type { Db } from '../store/database.js'
import { registryRepository, type DeviceKind } from '../store/registry.js'
import type { Sample } from '../store/telemetry.js'
import { demoHistory } from './history.js'
import { seedReportMonth } from './report-month.js'
import { seedDemoTickets } from './tickets.js'
import { userRepository } from '../store/users.js'
import { seedDemoVisits } from './visits.js'

export interface FleetDevice {
  id: string
  secret: string
  kind: DeviceKind
  householdId: string
  room: string | null
}

export interface DemoSeed {
  /** The operators, and the visitors (role `visitor`, demo/visits.ts). */
  operators: { username: string; password: string; community: string; role?: 'visitor' }[]
  devices: FleetDevice[]
  /** The first household's first contact, for a family view link. */
  familyContact: { householdId: string; contactId: string; elderName: string }
}

const STREET = '新华路街道'
/** The demo's communities: their devices are kept alive by the demo keeper (keeper.ts). */
export const DEMO_COMMUNITY_IDS = ['com-meiyuan', 'com-lanting'] as const
const COMMUNITIES = [
  { key: 'meiyuan', name: '梅园社区', operator: 'op-meiyuan', operatorName: '王敏 (梅园值班)' },
  { key: 'lanting', name: '兰亭社区', operator: 'op-lanting', operatorName: '李强 (兰亭值班)' },
]
const HOUSEHOLDS = [
  { community: 'meiyuan', n: '0001', child: '李明', elder: '张桂英', age: 84, address: '梅园新村 3号楼 201室', notes: '高血压,服用氨氯地平', keySafe: '门口电表箱内钥匙盒,密码 4821' },
  { community: 'meiyuan', n: '0002', child: '陈静', elder: '陈德福', age: 79, address: '梅园新村 3号楼 502室', notes: '糖尿病', keySafe: null },
  { community: 'meiyuan', n: '0003', child: '王磊', elder: '刘秀兰', age: 91, address: '梅园新村 7号楼 101室', notes: '行动不便', keySafe: '备用钥匙在邻居 102室 王阿姨' },
  { community: 'lanting', n: '0004', child: '赵婷', elder: '赵志明', age: 76, address: '兰亭小区 12号楼 303室', notes: null, keySafe: null },
  { community: 'lanting', n: '0005', child: '孙浩', elder: '孙玉珍', age: 88, address: '兰亭小区 12号楼 604室', notes: '轻度认知障碍', keySafe: '楼道消防栓旁钥匙盒,密码 0605' },
  { community: 'lanting', n: '0006', child: '周丽', elder: '周金凤', age: 82, address: '兰亭小区 5号楼 202室', notes: '心脏起搏器', keySafe: null },
]
const DEVICES: { prefix: string; kind: DeviceKind; room: string | null; heartbeatS: number }[] = [
  { prefix: 'btn', kind: 'button', room: null, heartbeatS: 3600 },
  { prefix: 'wm', kind: 'water', room: 'kitchen', heartbeatS: 300 },
  { prefix: 'pr', kind: 'presence', room: 'bedroom', heartbeatS: 300 },
]

/** `writeHistory`: the demo's week of readings goes to the history store (store/history.ts), after the registry commits. */
export async function seedDemoIfEmpty(db: Db, clock: Clock, fleetFile: string, writeHistory: (samples: Sample[]) => Promise<void>): Promise<DemoSeed | undefined> {
  const registry = registryRepository(db)
  if ((await registry.communities.list()).length > 0) return undefined

  const now = clock.now()
  const seed: DemoSeed = { operators: [], devices: [], familyContact: { householdId: '', contactId: '', elderName: '' } }
  const history: Sample[] = []
  const communityIds = new Map<string, string>()
  await db.transaction().execute(async (trx) => {
    const reg = registryRepository(trx)
    for (const c of COMMUNITIES) {
      const id = `com-${c.key}`
      communityIds.set(c.key, id)
      await reg.communities.insert({ id, name: c.name, street: STREET, detectorSettings: null, routing: null, createdAt: now })
      const password = randomBytes(6).toString('base64url')
      await userRepository(trx).insert(
        { id: newId('usr', now), username: c.operator, displayName: c.operatorName, role: 'operator', communityIds: [id] },
        await hashPassword(password),
        now,
      )
      seed.operators.push({ username: c.operator, password, community: c.name })
    }
    for (const h of HOUSEHOLDS) {
      const householdId = `hh-${h.n}`
      await reg.households.insert({
        id: householdId,
        communityId: communityIds.get(h.community)!,
        registryRef: null,
        elderName: h.elder,
        age: h.age,
        address: h.address,
        phone: `1380000${h.n}`,
        medicalNotes: h.notes,
        keySafe: h.keySafe,
        awayUntil: null,
        detectorSettings: null,
        createdAt: now,
        updatedAt: now,
      })
      const contactId = newId('ct', now)
      if (!seed.familyContact.contactId) seed.familyContact = { householdId, contactId, elderName: h.elder }
      await reg.contacts.insert(
        {
          id: contactId,
          householdId,
          name: h.child,
          relation: '子女',
          audience: 'family',
          phone: `1390000${h.n}`,
          email: null,
          channels: ['sms'],
          position: 0,
          availableFrom: null,
          availableTo: null,
          pushSubscription: null,
          viewLinkVersion: 0,
        },
        now,
      )
      const week = demoHistory({ householdId, n: Number(h.n), meter: `wm-${h.n}`, sensor: `pr-${h.n}`, button: `btn-${h.n}` }, now)
      history.push(...week)
      const heard = lastHeard(week)
      for (const d of DEVICES) {
        const id = `${d.prefix}-${h.n}`
        const secret = newDeviceSecret()
        // Its week of readings says it was heard, and how its battery was (never "从未上报" beside its charts).
        const last = heard.get(id)
        await reg.devices.insert(
          { id, householdId, kind: d.kind, room: d.room, heartbeatS: d.heartbeatS, lastSeenAt: last?.at ?? null, online: null, battery: last?.battery ?? null, fw: null, createdAt: now - 7 * 24 * 3_600_000 },
          hashDeviceSecret(secret),
        )
        seed.devices.push({ id, secret, kind: d.kind, householdId, room: d.room })
      }
    }
    await seedDemoTickets(trx, now)
  })
  await seedReportMonth(db, now)
  // After last month's incidents: this month's plan owes the households they concern more visits.
  seed.operators.push(...(await seedDemoVisits(db, now, HOUSEHOLDS.map((h) => ({ id: `hh-${h.n}`, communityId: communityIds.get(h.community)!, age: h.age })), history)))
  await writeHistory(history)
  await mkdir(dirname(fleetFile), { recursive: true })
  await writeFile(fleetFile, JSON.stringify({ note: 'Demo device credentials written by the demo seed. Keep private.', devices: seed.devices }, null, 2) + '\n', { mode: 0o600 })
  return seed
}

/** Each device's newest reading in the history, and its newest battery figure. */
function lastHeard(samples: readonly Sample[]): Map<string, { at: number; battery: number | null }> {
  const out = new Map<string, { at: number; battery: number | null; batteryAt: number }>()
  for (const x of samples) {
    const prev = out.get(x.deviceId) ?? { at: -Infinity, battery: null, batteryAt: -Infinity }
    const newerBattery = x.kind === 'battery' && x.at >= prev.batteryAt
    out.set(x.deviceId, { at: Math.max(prev.at, x.at), battery: newerBattery ? x.value : prev.battery, batteryAt: newerBattery ? x.at : prev.batteryAt })
  }
  return out
}
