import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
const root = process.cwd()
const { openSqlite } = await import(join(root, 'src/store/database.js'))
const { createIncidents } = await import(join(root, 'src/incidents/service.js'))
const { EventBus } = await import(join(root, 'src/shared/events.js'))
const { systemClock } = await import(join(root, 'src/shared/clock.js'))
const { registryRepository } = await import(join(root, 'src/store/registry.js'))
const N = 3000
const log = pino({ level: 'silent' })
const dir = mkdtempSync(join(tmpdir(), 'ab-'))
const db = await openSqlite({ path: join(dir, 'a.db'), synchronous: process.env.SYNC ?? 'NORMAL', busyTimeoutMs: 1000 })
const reg = registryRepository(db)
await reg.communities.insert({ id: 'c', name: 'c', street: 's', detectorSettings: null, routing: null, createdAt: 1 })
for (let i = 0; i < N; i++) await reg.households.insert({ id: `h${i}`, communityId: 'c', elderName: 'x', age: 80, address: 'a', phone: null, medicalNotes: null, keySafe: null, awayUntil: null, detectorSettings: null, createdAt: 1, updatedAt: 1 })
const inc = createIncidents({ db, clock: systemClock(), bus: new EventBus(log), log })
const times: number[] = []
for (let i = 0; i < N; i++) {
  const t = performance.now()
  await inc.raiseAlarm({ deviceId: `b${i}`, householdId: `h${i}`, communityId: 'c', messageId: `m${i}`, alarm: 'sos', receivedAt: Date.now() })
  times.push(performance.now() - t)
}
times.sort((a, b) => a - b)
const q = (p: number) => times[Math.floor(p * (times.length - 1))]!.toFixed(3)
console.log(`${root}: raiseAlarm ×${N} (${process.env.SYNC ?? 'NORMAL'}) p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} ms, total ${times.reduce((a, b) => a + b, 0).toFixed(0)} ms`)
await db.destroy()
