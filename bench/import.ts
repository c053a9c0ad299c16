/**
 * Registry import: the wall time of POST /api/import/households for a street office's workbook of
 * N households, each with a contact and two devices (docs/operations.md §registry import).
 *
 *   npx tsx bench/import.ts [--households 5000] [--runs 3] [--pg]
 *
 * Each run starts the real app on a fresh store (a temporary SQLite file, synchronous=FULL as in
 * production; with --pg a fresh schema on ANJU_BENCH_PG_URL, default the tests' local PostgreSQL),
 * creates one community, and times over HTTP with a real client:
 *   - the first import (everything created, new device secrets generated and hashed);
 *   - until the detectors watch every new household (they re-read them after the answer, a few at a time);
 *   - until their visits are planned (the visit planner plans the announced households together);
 *   - the same file again (everything unchanged: read, checked, nothing written).
 * The workbook is written by exceljs once, before the runs, and is not timed. Prints the median.
 * During each upload it also records the longest stall of the event loop the platform and this
 * client share (monitorEventLoopDelay, 10 ms resolution) and how long that loop was busy in all
 * (eventLoopUtilization): that loop carries every SOS
 * (docs/operations.md §overload); the reading of the file runs on a worker thread of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import ExcelJS from 'exceljs'
import { pino } from 'pino'
import { createApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openPostgres } from '../src/store/database.js'

const { values } = parseArgs({ options: { households: { type: 'string', default: '5000' }, runs: { type: 'string', default: '3' }, pg: { type: 'boolean', default: false } } })
const N = Number(values.households)
const RUNS = Number(values.runs)
if (!(Number.isInteger(N) && N >= 1 && Number.isInteger(RUNS) && RUNS >= 1)) {
  process.stderr.write('usage: bench/import.ts [--households 5000] [--runs 3] [--pg]\n')
  process.exit(2)
}
const PG_URL = process.env.ANJU_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`)
const COMMUNITY = '基准社区'
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

async function workbook(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  const ref = (i: number) => `B${String(i + 1).padStart(6, '0')}`
  const hh = wb.addWorksheet('老人户')
  hh.addRow(['户编号', '社区', '老人姓名', '年龄', '住址', '电话', '病史备注', '钥匙盒'])
  for (let i = 0; i < N; i++) hh.addRow([ref(i), COMMUNITY, `老人${i + 1}`, 70 + (i % 30), `幸福里 ${Math.floor(i / 30) + 1}号楼 ${(i % 30) + 101}室`, `139${String(i).padStart(8, '0')}`, i % 5 === 0 ? '高血压' : null, null])
  const ct = wb.addWorksheet('联系人')
  ct.addRow(['户编号', '姓名', '关系', '电话', '身份', '可联系时段'])
  for (let i = 0; i < N; i++) ct.addRow([ref(i), `家属${i + 1}`, '女儿', `137${String(i).padStart(8, '0')}`, '家属', '08:00-21:00'])
  const dv = wb.addWorksheet('设备')
  dv.addRow(['户编号', '设备编号', '类型', '房间', '心跳秒数'])
  for (let i = 0; i < N; i++) dv.addRow([ref(i), `bb-${i + 1}`, '一键通', null, null])
  for (let i = 0; i < N; i++) dv.addRow([ref(i), `bw-${i + 1}`, '水表', '厨房', 300])
  return Buffer.from(await wb.xlsx.writeBuffer())
}

interface Run { first: number; watched: number; planned: number; again: number; firstStall: number; againStall: number; firstBusy: number; againBusy: number }

async function run(file: Buffer, n: number): Promise<Run> {
  const dir = mkdtempSync(join(os.tmpdir(), 'anju-bench-import-'))
  const password = 'bench-admin-password'
  const schema = `anju_bench_import_${process.pid}_${n}`
  const db = values.pg ? await openPostgres({ url: PG_URL, schema }) : undefined
  const config = loadConfig({
    ANJU_HTTP_HOST: '127.0.0.1', ANJU_HTTP_PORT: '0', ANJU_MQTT_HOST: '127.0.0.1', ANJU_MQTT_PORT: '0',
    ANJU_DB_PATH: join(dir, 'anju.db'), ANJU_DB_SYNC: 'FULL', ANJU_DEMO: 'false', ANJU_DEMO_FLEET_FILE: join(dir, 'fleet.json'), ANJU_ADMIN_PASSWORD: password, ANJU_LOG_LEVEL: 'silent',
  })
  const app = await createApp(config, { log: pino({ level: 'silent' }), ...(db ? { db, history: { kind: 'postgres' as const, url: PG_URL, schema } } : {}) })
  const { httpPort } = await app.start()
  const url = `http://127.0.0.1:${httpPort}`
  try {
    const login = (await (await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })).json()) as { token: string }
    const auth = { authorization: `Bearer ${login.token}` }
    await fetch(`${url}/api/communities`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: COMMUNITY, street: '基准街道' }) })
    const upload = async (): Promise<{ ms: number; stall: number; busy: number }> => {
      const delay = monitorEventLoopDelay({ resolution: 10 })
      delay.enable()
      const elu = performance.eventLoopUtilization()
      const t = performance.now()
      const res = await fetch(`${url}/api/import/households`, { method: 'POST', headers: { ...auth, 'content-type': XLSX }, body: new Uint8Array(file) })
      const body = (await res.json()) as { counts?: Record<string, { created: number; unchanged: number }> }
      const ms = performance.now() - t
      const busy = performance.eventLoopUtilization(elu).active
      delay.disable()
      if (res.status !== 200) throw new Error(`import answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`)
      log(`  ${JSON.stringify(body.counts)}`)
      return { ms, stall: delay.max / 1e6, busy }
    }
    const { ms: first, stall: firstStall, busy: firstBusy } = await upload()
    // The detectors re-read the new households after the answer, a few at a time: timed until the last is watched.
    const t = performance.now()
    const last = (await (await fetch(`${url}/api/households?q=${encodeURIComponent(`老人${N}`)}`, { headers: auth })).json()) as { items: { id: string; elderName: string }[] }
    const lastId = last.items.find((h) => h.elderName === `老人${N}`)!.id
    while (!app.detectors.monitor(lastId)) await new Promise((r) => setTimeout(r, 20))
    const watched = first + performance.now() - t
    // And until their visits are planned (visits/service.ts plans the announced households together).
    await app.visits.settle()
    const planned = first + performance.now() - t
    const { ms: again, stall: againStall, busy: againBusy } = await upload()
    return { first, watched, planned, again, firstStall, againStall, firstBusy, againBusy }
  } finally {
    await app.close()
    if (db) {
      const pg = await import('pg')
      const client = new pg.default.Client({ connectionString: PG_URL })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await client.end()
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
log(`writing a workbook of ${N} households, ${N} contacts, ${2 * N} devices…`)
const file = await workbook()
log(`${(file.length / 1024 / 1024).toFixed(2)} MiB`)
const results: Run[] = []
for (let i = 0; i < RUNS; i++) {
  log(`run ${i + 1} of ${RUNS} on ${values.pg ? 'PostgreSQL' : 'SQLite'}`)
  results.push(await run(file, i))
}
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`
console.log(`registry import, ${N} households + ${N} contacts + ${2 * N} devices (${(file.length / 1024 / 1024).toFixed(2)} MiB .xlsx), ${values.pg ? 'PostgreSQL' : 'SQLite'}, ${RUNS} runs`)
console.log(`  first import (all created):   median ${fmt(median(results.map((r) => r.first)))}   runs ${results.map((r) => fmt(r.first)).join(', ')}`)
console.log(`  until the detectors watch all: median ${fmt(median(results.map((r) => r.watched)))}   runs ${results.map((r) => fmt(r.watched)).join(', ')}`)
console.log(`  until their visits are planned: median ${fmt(median(results.map((r) => r.planned)))}   runs ${results.map((r) => fmt(r.planned)).join(', ')}`)
console.log(`  same file again (unchanged):  median ${fmt(median(results.map((r) => r.again)))}   runs ${results.map((r) => fmt(r.again)).join(', ')}`)
const ms = (x: number) => `${Math.round(x)} ms`
console.log(`  longest event-loop stall, first import: median ${ms(median(results.map((r) => r.firstStall)))}   runs ${results.map((r) => ms(r.firstStall)).join(', ')}`)
console.log(`  longest event-loop stall, same file again: median ${ms(median(results.map((r) => r.againStall)))}   runs ${results.map((r) => ms(r.againStall)).join(', ')}`)
console.log(`  event loop busy, first import: median ${ms(median(results.map((r) => r.firstBusy)))}   runs ${results.map((r) => ms(r.firstBusy)).join(', ')}`)
console.log(`  event loop busy, same file again: median ${ms(median(results.map((r) => r.againBusy)))}   runs ${results.map((r) => ms(r.againBusy)).join(', ')}`)
