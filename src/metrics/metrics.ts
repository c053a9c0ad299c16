/**
 * Prometheus metrics (prom-client), scraped at `/metrics` (docs/operations.md §metrics). One
 * registry per app, so two apps in one process (tests) do not share figures. Components report
 * through the narrow hooks below; gauges that are a snapshot of a component are read at scrape.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Seconds: an alarm is expected in milliseconds; the top buckets show a stall. */
const LATENCY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function createMetrics() {
  const registry = new Registry()
  // Includes event-loop delay (nodejs_eventloop_lag_*), heap and RSS, open handles.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 })

  const alarmCommit = new Histogram({
    name: 'anju_alarm_commit_seconds',
    help: 'an alarm message received until its incident is durably committed (the PUBACK follows)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  const alarmPush = new Histogram({
    name: 'anju_alarm_push_seconds',
    help: 'an alarm received until the operator consoles are pushed its incident (platform clock, ms resolution)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  const ingest = new Counter({
    name: 'anju_ingest_messages_total',
    help: 'device messages by channel (alarm, telemetry, status; mqtt or http) and outcome (accepted, duplicate, dropped, limited: over the device rate, refused, shed)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  })

  return {
    registry,
    /** The ingest side's hooks (ingest/ingest.ts). */
    ingest: {
      counted(channel: string, outcome: string): void {
        ingest.inc({ channel, outcome })
      },
      alarmCommitted(seconds: number): void {
        alarmCommit.observe(seconds)
      },
    },
    /** The console push's hook (delivery/realtime.ts). */
    alarmPushed(seconds: number): void {
      alarmPush.observe(Math.max(0, seconds))
    },
    /** A gauge read from a component when scraped; `read` returns one value per label set. */
    gauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Promise<[Partial<Record<L, string>>, number][]> | [Partial<Record<L, string>>, number][]): void {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.reset()
          for (const [labels, value] of await read()) this.set(labels, value)
        },
      })
    },
    /** The text exposition format, and its content type. */
    async scrape(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() }
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>
export type IngestMetrics = Metrics['ingest']
