/**
 * A real VictoriaMetrics server (Debian's `victoria-metrics`), which accepts the InfluxDB v2
 * write API: tests write through @influxdata/influxdb-client and read back through its export API.
 * Deduplication at 1 ms makes a sample re-sent with the same series and timestamp count once,
 * as InfluxDB does (last write wins).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { freePort } from './ports.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from './platform.js'

export const VICTORIA_METRICS = '/usr/bin/victoria-metrics'

export interface ExportedSeries {
  metric: Record<string, string>
  values: number[]
  timestamps: number[]
}

export async function startVictoriaMetrics() {
  const dataDir = mkdtempSync(join(tmpdir(), 'anju-vm-'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let child: ChildProcess | null = null

  async function start(): Promise<void> {
    const proc = spawn(VICTORIA_METRICS, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dataDir}`, '-dedup.minScrapeInterval=1ms', '-loggerLevel=ERROR'], { stdio: 'ignore' })
    child = proc
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`victoria-metrics exited (${code})`))))
    exited.catch(() => undefined)
    await Promise.race([
      exited,
      waitFor(async () => (await fetch(`${url}/health`).then((r) => r.ok, () => false)), 20_000, 'victoria-metrics to start'),
    ])
  }

  async function kill(): Promise<void> {
    const proc = child
    if (!proc || proc.exitCode !== null) return
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    proc.kill('SIGKILL')
    await gone
    child = null
  }

  await start()
  return {
    url,
    start,
    kill,
    /** Every sample of the series matching `selector`, made visible first. */
    async export(selector: string): Promise<ExportedSeries[]> {
      await fetch(`${url}/internal/force_flush`)
      const res = await fetch(`${url}/api/v1/export?match[]=${encodeURIComponent(selector)}`)
      if (!res.ok) throw new Error(`export failed: ${res.status} ${await res.text()}`)
      return (await res.text())
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ExportedSeries)
    },
    stop: kill,
  }
}
