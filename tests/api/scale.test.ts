/** 5,000 households: the lists page, search, count and summarise on the server (docs/operations.md §scale). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceTopic } from '../../src/contract/index.js'
import { API_ERRORS } from '../../src/api/errors.js'
import { connectDevice, createOperator, provision, publish, startPlatform, waitFor, type Fixture, type TestPlatform } from '../helpers/platform.js'
import { seedDistrict, type SeededDistrict } from '../helpers/seed.js'

interface Page<T> { items: T[]; total: number; limit: number; offset: number }
interface Row { id: string; elderName: string; address: string; phone: string | null; communityId: string; [k: string]: unknown }
interface Tally { households: number; emergency: number; incident: number }
interface District extends Tally { streets: (Tally & { name: string; communities: (Tally & { id: string; name: string; buildings: (Tally & { name: string })[] })[] })[] }
interface BoardRow { id: string; state: string; elderName: string; address: string; battery: number | null }
interface Board extends Page<BoardRow> { counts: Record<string, number> }

const N = 5000
let p: TestPlatform
let seeded: SeededDistrict
let other: Fixture
beforeAll(async () => {
  p = await startPlatform()
  seeded = await seedDistrict(p.app.db, { households: N, now: p.app.clock.now(), prefix: 'api', offlineEvery: 100 })
  // One more community on another street, created the ordinary way, with a real device.
  const c = await p.api<{ id: string }>('POST', '/api/communities', { name: '别处社区', street: '别处街道' })
  other = await provision(p, { communityId: c.body.id })
}, 120_000)
afterAll(() => p?.close())

const get = <T>(path: string, token?: string) => p.api<T>('GET', path, undefined, token)

describe('GET /api/households', () => {
  it('answers one page of 50 by default with the total, without key-safe codes', async () => {
    const res = await get<Page<Row>>('/api/households')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ total: N + 1, limit: 50, offset: 0 })
    expect(res.body.items).toHaveLength(50)
    expect(res.body.items[0]).not.toHaveProperty('keySafe')
    expect(res.body.items[0]).toHaveProperty('hasKeySafe', false)
  })

  it('pages without gaps or repeats, to a short last page', async () => {
    const scoped = `/api/households?communityId=${seeded.communityId}`
    const first = (await get<Page<Row>>(`${scoped}&limit=500`)).body
    const second = (await get<Page<Row>>(`${scoped}&limit=500&offset=500`)).body
    expect(first.items).toHaveLength(500)
    expect(second.items).toHaveLength(500)
    // By address, numbers as numbers: 幸福里 1号楼 101室 … 2号楼 … 10号楼, which is the order they were made in.
    expect([...first.items, ...second.items].map((h) => h.id)).toEqual(seeded.households.slice(0, 1000).map((h) => h.id))
    const last = (await get<Page<Row>>(`${scoped}&limit=50&offset=4980`)).body
    expect(last).toMatchObject({ total: N, offset: 4980, limit: 50 })
    expect(last.items).toHaveLength(20)
    expect((await get<Page<Row>>(`${scoped}&offset=${N}`)).body.items).toEqual([])
  })

  it('finds an elder by a fragment of her name, address or phone', async () => {
    const target = seeded.households[4321]!
    const byName = (await get<Page<Row>>(`/api/households?q=${encodeURIComponent(target.elderName)}`)).body
    expect(byName.total).toBe(1)
    expect(byName.items[0]).toMatchObject({ id: target.id, elderName: target.elderName, address: target.address })
    const byPhone = (await get<Page<Row>>(`/api/households?q=${target.phone.slice(-6)}`)).body
    expect(byPhone.items.map((h) => h.id)).toContain(target.id)
    const byAddress = (await get<Page<Row>>(`/api/households?q=${encodeURIComponent(target.address)}`)).body
    expect(byAddress.items.map((h) => h.id)).toEqual([target.id])
    // 30 households to a building: "幸福里 2号楼 " is that building only, not 12号楼 or 20号楼.
    expect((await get<Page<Row>>(`/api/households?q=${encodeURIComponent('幸福里 2号楼 1')}&limit=500`)).body.total).toBe(30)
  })

  it('takes % and _ in a search as themselves, not as wildcards', async () => {
    expect((await get<Page<Row>>('/api/households?q=%25')).body.total).toBe(0)
    expect((await get<Page<Row>>('/api/households?q=_')).body.total).toBe(0)
  })

  it('filters by street and keeps an operator to their communities', async () => {
    const street = (await get<Page<Row>>(`/api/households?street=${encodeURIComponent('别处街道')}`)).body
    expect(street.items.map((h) => h.id)).toEqual([other.householdId])
    const token = await createOperator(p, 'op-elsewhere', [other.communityId])
    expect((await get<Page<Row>>('/api/households', token)).body).toMatchObject({ total: 1, items: [{ id: other.householdId }] })
    expect((await get<Page<Row>>(`/api/households?communityId=${seeded.communityId}`, token)).body).toMatchObject({ total: 0, items: [] })
    expect((await get<Page<Row>>(`/api/households?q=${encodeURIComponent(seeded.households[0]!.elderName)}`, token)).body.total).toBe(0)
  })

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['offset=-1', 'offset'],
    ['offset=1.5', 'offset'],
    [`q=${'长'.repeat(51)}`, 'q'],
  ])('refuses %s with a clear validation error', async (query, field) => {
    const res = await get<{ error: string; message: string }>(`/api/households?${query}`)
    expect(res.status).toBe(API_ERRORS.VALIDATION)
    expect(res.body.error).toBe('VALIDATION')
    expect(res.body.message).toContain(`querystring.${field}`)
  })
})

describe('GET /api/households/district', () => {
  it('counts households by street, community and building, 2号楼 before 10号楼, and the homes with an emergency', async () => {
    const client = await connectDevice(p, other.device)
    try {
      await publish(client, deviceTopic(other.device.id, 'alarm'), { id: 'scale-sos-1', type: 'sos' })
      await waitFor(async () => (await p.app.incidents.list({ householdId: other.householdId, state: 'active' })).length === 1, 10_000, 'the SOS incident')
    } finally {
      client.end(true)
    }
    const d = (await get<District>('/api/households/district')).body
    expect(d).toMatchObject({ households: N + 1, emergency: 1, incident: 0 })
    expect(d.streets.map((s) => s.name)).toEqual(['别处街道', '规模街道'].sort(new Intl.Collator('zh-CN').compare))
    const seededCommunity = d.streets.flatMap((s) => s.communities).find((c) => c.id === seeded.communityId)!
    expect(seededCommunity).toMatchObject({ households: N, emergency: 0, name: '幸福里社区' })
    expect(seededCommunity.buildings).toHaveLength(Math.ceil(N / 30))
    expect(seededCommunity.buildings.slice(0, 3).map((b) => b.name)).toEqual(['1号楼', '2号楼', '3号楼'])
    expect(seededCommunity.buildings.at(-1)).toMatchObject({ name: `${Math.ceil(N / 30)}号楼`, households: N % 30 })
    const elsewhere = d.streets.find((s) => s.name === '别处街道')!
    expect(elsewhere).toMatchObject({ households: 1, emergency: 1 })
  })
})

describe('GET /api/devices/board', () => {
  it('pages the devices problems first, with counts per state in the header', async () => {
    const all = (await get<Board>('/api/devices/board')).body
    expect(all.counts).toMatchObject({ all: 3 * N + 1, offline: N / 100, low_battery: 0 })
    expect(all.counts.not_reporting_yet).toBeGreaterThanOrEqual(3 * N - N / 100)
    expect(all.total).toBe(3 * N + 1)
    expect(all.items).toHaveLength(50)
    expect(all.items.slice(0, N / 100).every((d) => d.state === 'offline')).toBe(true)
    expect(all.items[0]).toMatchObject({ elderName: expect.any(String), address: expect.stringContaining('号楼') })

    const offline = (await get<Board>('/api/devices/board?state=offline&limit=500')).body
    expect(offline.total).toBe(N / 100)
    expect(new Set(offline.items.map((d) => d.state))).toEqual(new Set(['offline']))
    expect(offline.counts.all).toBe(3 * N + 1)

    // The seeded homes only (the other community's button reports): its never-seen devices are fixed.
    const notReporting = 3 * N - N / 100
    const last = (await get<Board>(`/api/devices/board?state=not_reporting_yet&q=${encodeURIComponent('幸福里')}&offset=${notReporting - 10}`)).body
    expect(last).toMatchObject({ total: notReporting, offset: notReporting - 10 })
    expect(last.items).toHaveLength(10)
    const target = seeded.households[1234]!
    const found = (await get<Board>(`/api/devices/board?q=${encodeURIComponent(target.elderName)}`)).body
    expect(found.items.map((d) => d.id).sort()).toEqual([`btn-api-01235`, `pr-api-01235`, `wm-api-01235`])
  })

  it('refuses an unknown state and a page too long', async () => {
    const bad = await get<{ error: string; message: string }>('/api/devices/board?state=broken')
    expect(bad.status).toBe(API_ERRORS.VALIDATION)
    expect(bad.body.message).toContain('querystring.state')
    expect((await get('/api/devices/board?limit=100000')).status).toBe(API_ERRORS.VALIDATION)
  })

  it('shows an operator only the devices of their communities', async () => {
    const token = await createOperator(p, 'op-board', [other.communityId])
    const board = (await get<Board>('/api/devices/board', token)).body
    expect(board.counts.all).toBe(1)
    expect(board.items.map((d) => d.id)).toEqual([other.device.id])
  })
})
