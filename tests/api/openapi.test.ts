/**
 * The OpenAPI document (/docs/json) of a real platform: every operation is described (English
 * and a Chinese line), tagged, and declares the errors it can answer (400 when it validates
 * input, 401 unless public, the shared error body for each). Then every operation is called for
 * real, anonymously, as an operator and as an admin, with ids that do not exist and empty bodies:
 * whatever it answers must be declared, and the body must match the declared schema. A route
 * added later is checked the same way, with nothing to add here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createOperator, provision, startPlatform, type TestPlatform } from '../helpers/platform.js'

interface Schema { [key: string]: unknown }
interface Response { description?: string; content?: Record<string, { schema: Schema }> }
interface Operation {
  summary?: string
  description?: string
  tags?: string[]
  security?: unknown[]
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[]
  requestBody?: unknown
  responses: Record<string, Response>
}
interface Doc { security?: unknown[]; paths: Record<string, Record<string, Operation>> }

let p: TestPlatform
let doc: Doc
let operatorToken: string
const ops: { method: string; path: string; op: Operation; name: string }[] = []

beforeAll(async () => {
  // On the virtual clock the test-mode routes (/api/clock) are there too.
  p = await startPlatform({ env: { ANJU_CLOCK: 'virtual' } })
  const fx = await provision(p)
  operatorToken = await createOperator(p, 'docs-operator', [fx.communityId])
  const res = await fetch(`${p.httpUrl}/docs/json`)
  expect(res.status).toBe(200)
  doc = (await res.json()) as Doc
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(byMethod)) ops.push({ method: method.toUpperCase(), path, op, name: `${method.toUpperCase()} ${path}` })
  }
})
afterAll(async () => {
  await p.close()
})

const isPublic = (op: Operation) => (op.security ?? doc.security ?? []).length === 0
const validates = (op: Operation) => Boolean(op.requestBody) || (op.parameters ?? []).length > 0

/** The declared response's schema, as zod (the document is OpenAPI 3.0). */
function declaredSchema(op: Operation, status: number) {
  const schema = op.responses[String(status)]?.content?.['application/json']?.schema
  return schema ? z.fromJSONSchema(schema as never, { defaultTarget: 'openapi-3.0' }) : null
}

/** Calls the operation as it stands in the document: unknown ids in the path, an empty body. */
async function call(method: string, path: string, op: Operation, auth: string | undefined) {
  const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const param = op.parameters?.find((x) => x.in === 'path' && x.name === name)
    const choices = param?.schema.enum as string[] | undefined
    return choices?.[0] ?? 'no-such-id'
  })
  const withBody = Boolean(op.requestBody)
  const res = await fetch(p.httpUrl + url, {
    method,
    headers: { ...(withBody ? { 'content-type': 'application/json' } : {}), ...(auth ? { authorization: auth } : {}) },
    ...(withBody ? { body: '{}' } : {}),
  })
  const text = await res.text()
  return { status: res.status, text }
}

/** What a real answer must be: a declared status with a body that matches its schema. */
function expectDeclared(name: string, op: Operation, answer: { status: number; text: string }) {
  expect(answer.status, `${name} answered ${answer.status}: ${answer.text.slice(0, 200)}`).toBeLessThan(500)
  expect(Object.keys(op.responses), `${name} answered ${answer.status}, which it does not declare`).toContain(String(answer.status))
  if (answer.status === 204) return expect(answer.text, `${name}: a 204 has no body`).toBe('')
  const schema = declaredSchema(op, answer.status)
  if (!schema || !answer.text.startsWith('{') && !answer.text.startsWith('[')) return
  const parsed = schema.safeParse(JSON.parse(answer.text))
  expect(parsed.success, `${name} ${answer.status}: ${answer.text.slice(0, 200)} does not match the declared schema: ${parsed.error?.message}`).toBe(true)
}

describe('the OpenAPI document', () => {
  it('lists the API', () => {
    expect(ops.length).toBeGreaterThanOrEqual(40)
    expect(ops.map((o) => o.name)).toEqual(expect.arrayContaining(['POST /api/login', 'GET /api/incidents/{id}', 'POST /api/clock/advance']))
  })

  it('describes every operation, in English and in Chinese, with a summary and tags', () => {
    const missing = ops.flatMap(({ name, op }) => [
      ...(op.summary ? [] : [`${name}: no summary`]),
      ...(op.description ? [] : [`${name}: no description`]),
      ...(op.description && !/[\u4e00-\u9fff]/.test(op.description) ? [`${name}: no Chinese line in the description`] : []),
      ...(op.tags?.length ? [] : [`${name}: no tags`]),
    ])
    expect(missing).toEqual([])
  })

  it('declares 400 where input is validated and 401 where a login is needed, each with the shared error body', () => {
    const missing: string[] = []
    for (const { name, op } of ops) {
      if (validates(op) && !op.responses['400']) missing.push(`${name}: validates input but does not declare 400`)
      if (!isPublic(op) && !op.responses['401']) missing.push(`${name}: needs a login but does not declare 401`)
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue
        if (!response.description) missing.push(`${name} ${status}: no description`)
        const schema = response.content?.['application/json']?.schema as { properties?: Record<string, unknown>; required?: string[] } | undefined
        if (!schema?.properties?.error || !schema.required?.includes('message')) missing.push(`${name} ${status}: not the error body { error, message }`)
      }
    }
    expect(missing).toEqual([])
  })
})

describe('what the routes really answer', () => {
  it('anonymously: 401 with the declared body wherever a login is needed, and only declared answers elsewhere', async () => {
    for (const { method, path, op, name } of ops) {
      const answer = await call(method, path, op, undefined)
      if (!isPublic(op)) expect(answer.status, `${name} needs a login: ${answer.text.slice(0, 200)}`).toBe(401)
      expectDeclared(name, op, answer)
    }
  })

  it('as an operator and as an admin, with ids that do not exist and empty bodies: only declared answers', async () => {
    const admin = `Bearer ${p.adminToken}`
    for (const { method, path, op, name } of ops) {
      // Logging out ends the session it is called with: a session of its own.
      const own = path === '/api/logout' ? `Bearer ${(await p.api<{ token: string }>('POST', '/api/login', { username: 'admin', password: 'admin-test-password' }, '')).body.token}` : admin
      expectDeclared(`${name} (admin)`, op, await call(method, path, op, own))
      if (path !== '/api/logout') expectDeclared(`${name} (operator)`, op, await call(method, path, op, `Bearer ${operatorToken}`))
    }
  })

  it('answers an unknown id with the declared 404 and a conflict with the declared 409', async () => {
    const byName = new Map(ops.map((o) => [o.name, o.op]))
    const unknown = await p.api('GET', '/api/incidents/no-such-incident')
    expect(unknown.status).toBe(404)
    expectDeclared('GET /api/incidents/{id}', byName.get('GET /api/incidents/{id}')!, { status: unknown.status, text: JSON.stringify(unknown.body) })

    const fx = await provision(p)
    const conflict = await p.api('DELETE', `/api/communities/${fx.communityId}`)
    expect(conflict.status).toBe(409)
    expectDeclared('DELETE /api/communities/{id}', byName.get('DELETE /api/communities/{id}')!, { status: conflict.status, text: JSON.stringify(conflict.body) })

    const me = await p.api('GET', '/api/me')
    expectDeclared('GET /api/me', byName.get('GET /api/me')!, { status: me.status, text: JSON.stringify(me.body) })
  })
})
