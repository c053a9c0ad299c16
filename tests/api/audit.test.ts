/** The audit trail (docs/security.md §accounts): who read an elder's profile, who changed what; admins read it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOperator, startPlatform, type TestPlatform } from '../helpers/platform.js'

type Entry = { actor: string; action: string; householdId: string | null; communityId: string | null; detail: Record<string, unknown>; at: number }

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

const trail = async (householdId?: string) => (await p.api<Entry[]>('GET', `/api/audit${householdId ? `?householdId=${householdId}` : ''}`)).body

describe('audit trail', () => {
  it('records who read a profile with its key-safe code, and who changed away mode, the profile, contacts and links — never the code itself', async () => {
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: '幸福社区', street: '长寿路街道' })
    const { body: h } = await p.api<{ id: string }>('POST', '/api/households', { communityId: c.id, elderName: '张桂英', address: '3号楼 201室', keySafe: '门口鞋柜,密码 4321', medicalNotes: '高血压' })
    const operator = await createOperator(p, 'op-audit', [c.id])

    expect((await p.api('GET', `/api/households/${h.id}`, undefined, operator)).status).toBe(200)
    const until = Date.now() + 3 * 86_400_000
    expect((await p.api('PUT', `/api/households/${h.id}/away`, { until }, operator)).status).toBe(200)
    expect((await p.api('PATCH', `/api/households/${h.id}`, { keySafe: '物业前台', phone: '13800000000' })).status).toBe(200)
    const { body: contact } = await p.api<{ id: string }>('POST', `/api/households/${h.id}/contacts`, { name: '李明', relation: '子女', phone: '13900000001' })
    expect((await p.api('DELETE', `/api/households/${h.id}/contacts/${contact.id}/family-links`, undefined, operator)).status).toBe(204)
    expect((await p.api('DELETE', `/api/households/${h.id}/contacts/${contact.id}`)).status).toBe(204)

    const entries = await trail(h.id)
    expect(entries.map((e) => [e.actor, e.action])).toEqual([
      ['user:admin', 'contact.removed'],
      ['user:op-audit', 'family_links.revoked'],
      ['user:admin', 'contact.added'],
      ['user:admin', 'household.changed'],
      ['user:op-audit', 'away.changed'],
      ['user:op-audit', 'household.viewed'],
    ])
    expect(entries.every((e) => e.householdId === h.id && e.communityId === c.id)).toBe(true)
    expect(entries.find((e) => e.action === 'household.viewed')!.detail).toEqual({ keySafe: true, medicalNotes: true })
    expect(entries.find((e) => e.action === 'away.changed')!.detail).toEqual({ from: null, until })
    expect(entries.find((e) => e.action === 'household.changed')!.detail).toEqual({ fields: { keySafe: 'changed', phone: { from: null, to: '13800000000' } } })
    const text = JSON.stringify(entries)
    expect(text).not.toContain('4321')
    expect(text).not.toContain('物业前台')

    await p.api('PATCH', `/api/communities/${c.id}`, { name: '幸福里社区' })
    expect((await trail())[0]).toMatchObject({ actor: 'user:admin', action: 'community.changed', communityId: c.id, detail: { fields: { name: { from: '幸福社区', to: '幸福里社区' } } } })
  })

  it('is for admins only', async () => {
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: 'x', street: 'y' })
    const operator = await createOperator(p, 'op-audit-2', [c.id])
    expect((await p.api('GET', '/api/audit', undefined, operator)).status).toBe(403)
    expect((await fetch(`${p.httpUrl}/api/audit`)).status).toBe(401)
  })
})
