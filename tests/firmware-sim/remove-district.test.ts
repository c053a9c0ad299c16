/** `npm run sim -- remove-district`: the simulator's communities go, with what is in them; others stay. */
import { afterEach, describe, expect, it } from 'vitest'
import { createApiClient } from '../../firmware-sim/api-client.js'
import { provisionFleet } from '../../firmware-sim/fleet.js'
import { removeDistricts, removedSummary } from '../../firmware-sim/remove-district.js'
import { ADMIN_PASSWORD, startPlatform, type TestPlatform } from '../helpers/platform.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

describe('remove-district', () => {
  it("removes the simulator's districts and says what went, leaving real communities alone", async () => {
    const p: TestPlatform = await startPlatform()
    cleanups.push(() => p.close())
    const api = createApiClient({ baseUrl: p.httpUrl, username: 'admin', password: ADMIN_PASSWORD })
    const real = await p.api<{ id: string }>('POST', '/api/communities', { name: '梅园社区', street: '新华路街道' })
    const plan = (n: number) => ({ elderName: `模拟老人 ${n}`, address: `模拟小区 ${n} 室`, devices: [{ id: `btn-rd${n}`, kind: 'button', room: null }, { id: `wm-rd${n}`, kind: 'water', room: 'kitchen' }] })
    await provisionFleet(api, '模拟街区 a', [plan(1), plan(2)])
    await provisionFleet(api, '模拟街区 b', [plan(3)])

    await expect(removeDistricts(api, 'no-such')).rejects.toThrow('no community no-such')
    const one = await removeDistricts(api, '模拟街区 b')
    expect(one).toMatchObject([{ name: '模拟街区 b', households: 1, devices: 2, incidents: 0 }])
    const rest = await removeDistricts(api)
    expect(rest).toMatchObject([{ name: '模拟街区 a', households: 2, devices: 4 }])
    expect(removedSummary(rest)).toMatch(/^removed 模拟街区 a \(.+\): 2 households, 4 devices, 0 incidents$/)
    expect(removedSummary([])).toBe('no simulated districts to remove')
    const left = (await p.api<{ id: string }[]>('GET', '/api/communities')).body
    expect(left.map((c) => c.id)).toEqual([real.body.id])
  })
})
