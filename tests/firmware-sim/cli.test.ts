/** The simulator's button press, run as testers run it, against the real platform. */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectOperator, provision, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const ROOT = join(import.meta.dirname, '..', '..')
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
const sim = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', TSX, join(ROOT, 'firmware-sim/cli.ts'), ...args])

let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform()
})
afterAll(() => p.close())

describe('npm run sim -- sos <device>', () => {
  it('presses SOS and prints the acknowledgement the operator gives', async () => {
    const fx = await provision(p)
    const operator = await connectOperator(p, p.adminToken)
    const run = sim('sos', fx.device.id, '--url', p.mqttUrl, '--secret', fx.device.secret, '--wait', '10')
    await waitFor(() => operator.pushes.length === 1, 10_000, 'the simulated SOS')
    expect(operator.pushes[0]).toMatchObject({ type: 'sos', deviceId: fx.device.id })
    await p.api('POST', `/api/incidents/${operator.pushes[0]!.id}/acknowledge`)
    const { stdout } = await run
    expect(stdout).toContain('sos sent and recorded by the platform')
    expect(stdout).toContain('已收到您的呼叫,工作人员正在处理')
    operator.close()
  })

  it('presses the green key and prints the confirmation when the request is dispatched', async () => {
    const fx = await provision(p)
    const run = sim('service', fx.device.id, '--url', p.mqttUrl, '--secret', fx.device.secret, '--wait', '10')
    let ticketId = ''
    await waitFor(async () => {
      ticketId = (await p.api<{ items: { id: string }[] }>('GET', `/api/service-tickets?householdId=${fx.householdId}`)).body.items[0]?.id ?? ''
      return ticketId !== ''
    }, 10_000, 'the service ticket')
    expect((await p.api('POST', `/api/service-tickets/${ticketId}/dispatch`, { provider: '长者食堂' })).status).toBe(200)
    const { stdout } = await run
    expect(stdout).toContain('dispatch it (派单)')
    expect(stdout).toContain(`已收到您的呼叫,工作人员正在处理 (service ticket ${ticketId})`)
  })

  it('explains a refusal instead of crashing', async () => {
    const fx = await provision(p)
    await expect(sim('sos', fx.device.id, '--url', p.mqttUrl, '--secret', 'wrong', '--wait', '0')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not authorized'),
    })
    // A secret is base64url: one in 64 starts with '-' and is still the secret, not an option.
    await expect(sim('sos', fx.device.id, '--url', p.mqttUrl, '--secret', '-wrong', '--wait', '0')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not authorized'),
    })
    await expect(sim('panic', fx.device.id)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command panic') })
  })
})
