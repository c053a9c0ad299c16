/**
 * The queue's order and colours, pure (dashboards/src/console/triage.ts): what needs a human now first.
 * Type-checked with the dashboards (dashboards/tsconfig.json), not with the server.
 */
import { describe, expect, it } from 'vitest'
import { ageBand, bannerKind, compareTriage, matchesFilter, triageOrder } from '../../dashboards/src/console/triage'
import type { Incident } from '../../dashboards/src/shared/types'

const NOW = Date.UTC(2026, 11, 1, 3)
const S = 1000
type Row = Pick<Incident, 'id' | 'type' | 'state' | 'priority' | 'openedAt'>
const row = (id: string, o: Partial<Row>): Row => ({ id, type: 'sos', state: 'open', priority: 1, openedAt: NOW, ...o })

describe('triage order', () => {
  it('puts an unacknowledged fall 534 s past target above an acknowledged SOS', () => {
    const ackedSos = row('sos', { state: 'acknowledged', priority: 1, openedAt: NOW - 900 * S })
    const lateFall = row('fall', { type: 'fall', priority: 2, openedAt: NOW - 594 * S })
    expect(triageOrder([ackedSos, lateFall]).map((i) => i.id)).toEqual(['fall', 'sos'])
  })

  it('sorts open before acknowledged, then by priority, then the furthest past target (oldest) first', () => {
    const list = [
      row('ack-p1', { state: 'acknowledged', priority: 1, openedAt: NOW - 50 * S }),
      row('open-p4-old', { type: 'service', priority: 4, openedAt: NOW - 3600 * S }),
      row('open-p1-new', { priority: 1, openedAt: NOW - 5 * S }),
      row('open-p1-old', { priority: 1, openedAt: NOW - 300 * S }),
      row('open-p2', { type: 'fall', priority: 2, openedAt: NOW - 1000 * S }),
      row('ack-p3-old', { type: 'inactivity', state: 'acknowledged', priority: 3, openedAt: NOW - 9000 * S }),
      row('ack-p1-old', { state: 'acknowledged', priority: 1, openedAt: NOW - 500 * S }),
    ]
    expect(triageOrder(list).map((i) => i.id)).toEqual(['open-p1-old', 'open-p1-new', 'open-p2', 'open-p4-old', 'ack-p1-old', 'ack-p1', 'ack-p3-old'])
  })

  it('is a total order: ties break on the id, so the list never flickers, and the input is not changed', () => {
    const a = row('a', {})
    const b = row('b', {})
    expect(compareTriage(a, b)).toBeLessThan(0)
    expect(compareTriage(b, a)).toBeGreaterThan(0)
    expect(compareTriage(a, a)).toBe(0)
    const input = [b, a]
    expect(triageOrder(input).map((i) => i.id)).toEqual(['a', 'b'])
    expect(input.map((i) => i.id)).toEqual(['b', 'a'])
  })
})

describe('age bands', () => {
  it('colours an open emergency by how far past the 60 s target it is', () => {
    expect(ageBand(row('x', { openedAt: NOW - 60 * S }), NOW)).toBe('within')
    expect(ageBand(row('x', { openedAt: NOW - 61 * S }), NOW)).toBe('overdue')
    expect(ageBand(row('x', { openedAt: NOW - 600 * S }), NOW)).toBe('overdue')
    expect(ageBand(row('x', { openedAt: NOW - 601 * S }), NOW)).toBe('long')
  })

  it('runs no target for an acknowledged incident or a care task', () => {
    expect(ageBand(row('x', { state: 'acknowledged', openedAt: NOW - 900 * S }), NOW)).toBeNull()
    expect(ageBand(row('x', { type: 'inactivity', priority: 3, openedAt: NOW - 900 * S }), NOW)).toBeNull()
  })
})

describe('banner words and filters', () => {
  it('calls SOS, fall, smoke and gas emergencies and everything else a care alert', () => {
    expect((['sos', 'fall', 'smoke', 'gas'] as const).map((type) => bannerKind({ type }))).toEqual(['emergency', 'emergency', 'emergency', 'emergency'])
    expect((['suspected_collapse', 'continuous_flow', 'wandering', 'bathroom_dwell'] as const).map((type) => bannerKind({ type }))).toEqual(['care', 'care', 'care', 'care'])
  })

  it('filters by state', () => {
    expect(matchesFilter({ state: 'open' }, 'all')).toBe(true)
    expect(matchesFilter({ state: 'open' }, 'open')).toBe(true)
    expect(matchesFilter({ state: 'acknowledged' }, 'open')).toBe(false)
    expect(matchesFilter({ state: 'acknowledged' }, 'acknowledged')).toBe(true)
  })
})
