/** `/metrics` (docs/operations.md §metrics): Prometheus text, for a scraper's token or an admin, nobody else. */
import { deviceTopic } from '../../src/contract/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDevice, connectOperator, createOperator, provision, publish, startPlatform, waitFor, type TestPlatform } from '../helpers/platform.js'

const SCRAPER_TOKEN = 'scraper-token-0123456789'
let p: TestPlatform
beforeAll(async () => {
  p = await startPlatform({ env: { ANJU_METRICS_TOKEN: SCRAPER_TOKEN } })
})
afterAll(() => p.close())

const scrape = async (token?: string) => {
  const res = await fetch(`${p.httpUrl}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

/** The value of one sample line, e.g. `anju_alarm_commit_seconds_count`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('metrics', () => {
  it('counts an SOS: its commit and push latency, ingest by channel and outcome, connected devices, the outbox backlog, event-loop delay', async () => {
    const f = await provision(p)
    const token = await createOperator(p, 'op-metrics', [f.communityId])
    const operator = await connectOperator(p, token)
    const device = await connectDevice(p, f.device)
    try {
      const before = await scrape(SCRAPER_TOKEN)
      expect(sample(before.text, 'anju_alarm_commit_seconds_count')).toBe(0)

      await publish(device, deviceTopic(f.device.id, 'alarm'), { id: 'm-1', ts: Date.now(), type: 'sos' })
      await waitFor(() => operator.pushes.length > 0, 5000, 'the operator push')
      // Sent again: the same message, its id and its time.
      const reading = { id: 't-1', ts: Date.now(), kind: 'water', totalM3: 1.5 }
      await publish(device, deviceTopic(f.device.id, 'telemetry'), reading)
      await publish(device, deviceTopic(f.device.id, 'telemetry'), reading)
      await publish(device, deviceTopic(f.device.id, 'telemetry'), '{"id":')

      const { status, type, text } = await scrape(SCRAPER_TOKEN)
      expect(status).toBe(200)
      expect(type).toContain('text/plain')
      expect(sample(text, 'anju_alarm_commit_seconds_count')).toBe(1)
      await waitFor(async () => sample((await scrape(SCRAPER_TOKEN)).text, 'anju_alarm_push_seconds_count') === 1, 5000, 'the push observed')
      expect(sample(text, 'anju_ingest_messages_total', '{channel="alarm",outcome="accepted"}')).toBe(1)
      expect(sample(text, 'anju_ingest_messages_total', '{channel="telemetry",outcome="accepted"}')).toBe(1)
      expect(sample(text, 'anju_ingest_messages_total', '{channel="telemetry",outcome="duplicate"}')).toBe(1)
      expect(sample(text, 'anju_ingest_messages_total', '{channel="telemetry",outcome="dropped"}')).toBe(1)
      expect(sample(text, 'anju_connected_devices')).toBe(1)
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m)
      // Tests configure no channel but the consoles' own; the gauge is there, with nothing queued.
      expect(text).toContain('# TYPE anju_outbox_backlog gauge')
    } finally {
      device.end(true)
      operator.close()
    }
  })

  it('is for the scraper token and admins only', async () => {
    expect((await scrape()).status).toBe(401)
    expect((await scrape('not-the-token-but-long-enough')).status).toBe(401)
    const { body: c } = await p.api<{ id: string }>('POST', '/api/communities', { name: 'x', street: 'y' })
    expect((await scrape(await createOperator(p, 'op-metrics-2', [c.id]))).status).toBe(403)
    expect((await scrape(p.adminToken)).status).toBe(200)
  })
})
