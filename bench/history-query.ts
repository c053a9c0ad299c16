/**
 * History cost: what the console's charts and the family view cost to serve from the embedded
 * store, with a district's week of readings in it, and what the sink's once-a-second write costs.
 *
 *   npx tsx bench/history-query.ts [--households 1000] [--requests 300]
 *
 * Setup: the real app (temporary SQLite, synchronous=FULL as in production) with N households,
 * each with a week of the demo district's readings (water every 30 min, presence every 10 min,
 * batteries every 6 h: about 1,400 rows a household).
 * Measured, over HTTP with a real client, one request at a time, households chosen at random:
 *   - GET /api/households/{id}/history (7 days of water, 48 h of presence, 7 days of battery);
 *   - GET /api/family/overview?t=… (a family view link);
 *   - the longest event-loop stall while the sink writes a second of a 10,000-device district
 *     (400 readings), which is the most an arriving alarm waits for it.
 * Baselines, in the same run: GET /api/households/{id} (the same auth and HTTP path, one row), and
 * the bare SQL SELECT of the history's rows through better-sqlite3 (the read itself, no shaping),
 * and the same 400 readings written in one transaction (the stall the slicing avoids).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import SQLite from 'better-sqlite3'
import { pino } from 'pino'
import { mulberry32 } from '../firmware-sim/rng.js'
import { createApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { demoHistory } from '../src/demo/history.js'
import { telemetryRepository } from '../src/store/telemetry.js'

const { values } = parseArgs({ options: { households: { type: 'string', default: '1000' }, requests: { type: 'string', default: '300' } } })
const N = Number(values.households)
const REQUESTS = Number(values.requests)
if (!(Number.isInteger(N) && N >= 1 && Number.isInteger(REQUESTS) && REQUESTS >= 10)) {
  process.stderr.write('usage: bench/history-query.ts [--households 1000] [--requests 300]\n')
  process.exit(2)
}
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`)
const DAY = 86_400_000

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1]! }
}

async function time(label: string, count: number, run: (i: number) => Promise<void>): Promise<[string, ReturnType<typeof stats>]> {
  for (let i = 0; i < 10; i++) await run(i) // warm-up
  const ms: number[] = []
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    await run(i)
    ms.push(performance.now() - t)
  }
  return [label, stats(ms)]
}

const dir = mkdtempSync(join(os.tmpdir(), 'anju-bench-history-'))
const password = 'bench-admin-password'
const config = loadConfig({
  ANJU_HTTP_HOST: '127.0.0.1', ANJU_HTTP_PORT: '0', ANJU_MQTT_HOST: '127.0.0.1', ANJU_MQTT_PORT: '0',
  ANJU_DB_PATH: join(dir, 'anju.db'), ANJU_DB_SYNC: 'FULL', ANJU_DEMO: 'false', ANJU_ADMIN_PASSWORD: password, ANJU_LOG_LEVEL: 'silent',
})
const app = await createApp(config, { log: pino({ level: 'silent' }) })
const { httpPort } = await app.start()
const url = `http://127.0.0.1:${httpPort}`
try {
  const login = (await (await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })).json()) as { token: string }
  const auth = { authorization: `Bearer ${login.token}` }

  log(`seeding ${N} households with a week of readings…`)
  const t0 = performance.now()
  const now = Date.now()
  const households: { id: string; token: string }[] = []
  await app.db.insertInto('communities').values({ id: 'com-bench', name: '基准社区', street: '基准街道', detector_settings: null, routing: null, created_at: now }).execute()
  let rows = 0
  for (let n = 1; n <= N; n++) {
    const id = `hh-${String(n).padStart(6, '0')}`
    const d = (p: string) => `${p}-${String(n).padStart(6, '0')}`
    await app.db.transaction().execute(async (trx) => {
      await trx.insertInto('households').values({ id, community_id: 'com-bench', elder_name: `老人 ${n}`, age: 80, address: `基准路 ${n} 号`, phone: null, medical_notes: null, key_safe: null, away_until: null, detector_settings: null, created_at: now, updated_at: now }).execute()
      for (const [dev, kind, room] of [[d('btn'), 'button', null], [d('wm'), 'water', 'kitchen'], [d('pr'), 'presence', 'bedroom']] as const) {
        await trx.insertInto('devices').values({ id: dev, household_id: id, kind, room, secret_hash: 'x', heartbeat_s: 300, last_seen_at: now, online: 1, battery: 80, fw: null, created_at: now }).execute()
      }
      await trx.insertInto('contacts').values({ id: d('ct'), household_id: id, name: '家属', relation: '子女', phone: '13900000000', position: 0, created_at: now, audience: 'family', email: null, channels: '["sms"]', available_from: null, available_to: null, push_subscription: null, view_link_version: 0 }).execute()
    })
    const samples = demoHistory({ householdId: id, n, meter: d('wm'), sensor: d('pr'), button: d('btn') }, now)
    rows += samples.length
    await app.historyDb.transaction().execute((trx) => telemetryRepository(trx).insert(samples))
    households.push({ id, token: app.links.viewToken({ householdId: id, contactId: d('ct'), expiresAt: now + DAY, version: 0 }) })
  }
  log(`seeded ${rows.toLocaleString('en')} readings in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

  // Seeded choice of households, the same every run.
  const pick = mulberry32(42)
  const order = Array.from({ length: REQUESTS + 10 }, () => households[Math.floor(pick() * households.length)]!)
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, { headers })
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
    await res.arrayBuffer()
  }

  const raw = new SQLite(join(dir, 'anju-history.db'), { readonly: true })
  const select = raw.prepare('SELECT * FROM telemetry_samples WHERE household_id = ? AND kind = ? AND at >= ? AND at <= ? ORDER BY at')
  const results = [
    await time('GET /api/households/{id}/history', REQUESTS, (i) => get(`/api/households/${order[i]!.id}/history`, auth)),
    await time('GET /api/family/overview', REQUESTS, (i) => get(`/api/family/overview?t=${encodeURIComponent(order[i]!.token)}`)),
    await time('baseline: GET /api/households/{id}', REQUESTS, (i) => get(`/api/households/${order[i]!.id}`, auth)),
    await time('baseline: bare SELECT of the same rows', REQUESTS, async (i) => {
      const id = order[i]!.id
      const t = Date.now()
      select.all(id, 'water', t - 7 * DAY, t)
      select.all(id, 'presence', t - 2 * DAY - 20 * 60_000, t)
      select.all(id, 'battery', t - 7 * DAY, t)
    }),
  ]
  raw.close()

  // The sink's write against the alarm path: the longest stall of the event loop while the sink
  // takes and hands over a second of a 10,000-device district (400 readings, as the district load
  // test sends) is the most an arriving alarm can wait for it. The history worker writes them on
  // its own thread (telemetry/history-worker.ts); the baseline writes the same readings in one
  // transaction on this loop, as the sink did before the worker.
  const bus = app.bus
  const sink = app.telemetrySink
  let k = 0
  const second = () =>
    Array.from({ length: 400 }, () => {
      const n = 1 + (k++ % N)
      return { deviceId: `wm-${n}`, householdId: `hh-${String(n).padStart(6, '0')}`, at: Date.now(), receivedAt: Date.now(), reading: { id: `b${k}`, kind: 'water' as const, totalM3: k / 1000 } }
    })
  /** The longest the event loop was held during `run`, with a 1 ms probe timer. */
  async function longestStall(run: () => Promise<void>): Promise<number> {
    let longest = 0
    let last = performance.now()
    const probe = setInterval(() => {
      const now = performance.now()
      longest = Math.max(longest, now - last - 1)
      last = now
    }, 1)
    await new Promise((r) => setTimeout(r, 5))
    last = performance.now()
    await run()
    await new Promise((r) => setTimeout(r, 3))
    clearInterval(probe)
    return Math.max(0, longest)
  }
  const sliced: number[] = []
  const whole: number[] = []
  for (let i = 0; i < 40; i++) {
    const a = second()
    sliced.push(await longestStall(async () => { for (const e of a) bus.emit('telemetry.received', e); await sink.flush() }))
    const b = second().map((e) => ({ householdId: e.householdId, deviceId: e.deviceId, kind: 'water' as const, at: e.at, value: e.reading.totalM3, value2: 0 }))
    whole.push(await longestStall(() => app.historyDb.transaction().execute((trx) => telemetryRepository(trx).insert(b))))
  }
  results.push(['sink + history worker, 400 readings: longest stall', stats(sliced.slice(5))])
  results.push(['baseline: 400 readings in one transaction here: stall', stats(whole.slice(5))])

  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU'
  process.stdout.write(`\nAnju history cost\n  machine      ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`)
  process.stdout.write(`  alarm store  SQLite synchronous=FULL; history store its own file, synchronous=NORMAL; ${N} households, ${rows.toLocaleString('en')} readings (a week each)\n\n`)
  process.stdout.write(`  ${'path'.padEnd(52)} ${'p50'.padStart(8)} ${'p90'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}   (ms)\n`)
  for (const [label, s] of results) {
    process.stdout.write(`  ${label.padEnd(52)} ${[s.p50, s.p90, s.p99, s.max].map((v) => v.toFixed(3).padStart(8)).join(' ')}\n`)
  }
  const by = Object.fromEntries(results)
  const ratio = (a: string, b: string) => `p50 ${(by[a]!.p50 / by[b]!.p50).toFixed(2)}×   p99 ${(by[a]!.p99 / by[b]!.p99).toFixed(2)}×`
  process.stdout.write(`\n  history / GET household:       ${ratio('GET /api/households/{id}/history', 'baseline: GET /api/households/{id}')}\n`)
  process.stdout.write(`  history / bare SELECT:         ${ratio('GET /api/households/{id}/history', 'baseline: bare SELECT of the same rows')}\n`)
  process.stdout.write(`  family overview / GET household: ${ratio('GET /api/family/overview', 'baseline: GET /api/households/{id}')}\n`)
  process.stdout.write(`  sink stall / one transaction:  ${ratio('sink + history worker, 400 readings: longest stall', 'baseline: 400 readings in one transaction here: stall')}\n\n`)
} finally {
  await app.close()
  rmSync(dir, { recursive: true, force: true })
}
