import { describe, expect, it } from 'vitest'
import { alarmPayload, decodePayload, eventTime, statusPayload, telemetryPayload, MAX_PAYLOAD_BYTES } from '../../src/contract/index.js'

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))

describe('contract v1 payloads', () => {
  it('reads an alarm and ignores unknown fields', () => {
    const r = decodePayload(alarmPayload, bytes({ id: 'a-1', ts: 1700000000000, type: 'sos', battery: 81, vendorField: 'x' }))
    expect(r).toEqual({ ok: true, value: { id: 'a-1', ts: 1700000000000, type: 'sos', battery: 81 } })
  })

  it('gives a reason for each kind of bad payload', () => {
    expect(decodePayload(alarmPayload, bytes('{not json'))).toEqual({ ok: false, reason: 'payload is not valid JSON' })
    const missing = decodePayload(alarmPayload, bytes({ type: 'sos' }))
    expect(missing.ok).toBe(false)
    expect(!missing.ok && missing.reason).toMatch(/^id:/)
    const wrongType = decodePayload(alarmPayload, bytes({ id: 'a', type: 'panic' }))
    expect(!wrongType.ok && wrongType.reason).toMatch(/^type:/)
    expect(decodePayload(alarmPayload, bytes('[1,2]')).ok).toBe(false)
    expect(decodePayload(alarmPayload, bytes({ id: 'x'.repeat(65), type: 'sos' })).ok).toBe(false)
  })

  it('refuses a payload over 4 KiB before parsing it', () => {
    const big = Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20)
    const r = decodePayload(alarmPayload, big)
    expect(!r.ok && r.reason).toMatch(/exceeds 4096/)
    const atLimit = Buffer.from(JSON.stringify({ id: 'a', type: 'sos', pad: 'x'.repeat(MAX_PAYLOAD_BYTES - 40) }).padEnd(MAX_PAYLOAD_BYTES, ' '))
    expect(atLimit.byteLength).toBe(MAX_PAYLOAD_BYTES)
    expect(decodePayload(alarmPayload, atLimit).ok).toBe(true)
  })

  it('reads every telemetry kind of the contract', () => {
    for (const reading of [
      { id: 'w-88', ts: 1, kind: 'water', totalM3: 1234.567, flowLpm: 0 },
      { id: 'p-91', kind: 'presence', occupied: true, motion: true },
      { id: 'd-1', kind: 'door', open: true },
      { id: 's-1', kind: 'smoke', alarm: true },
      { id: 'g-1', kind: 'gas', alarm: false },
    ]) {
      expect(decodePayload(telemetryPayload, bytes(reading))).toEqual({ ok: true, value: reading })
    }
    expect(decodePayload(telemetryPayload, bytes({ id: 'w', kind: 'water', totalM3: -1 })).ok).toBe(false)
    expect(decodePayload(telemetryPayload, bytes({ id: 'w', kind: 'thermometer' })).ok).toBe(false)
  })

  it('accepts the Last Will status, which has only `online`', () => {
    expect(decodePayload(statusPayload, bytes({ online: false }))).toEqual({ ok: true, value: { online: false } })
  })

  it('uses device time unless it is absent or more than 24 h off', () => {
    const now = 1_800_000_000_000
    expect(eventTime(undefined, now)).toEqual({ at: now, skewMs: null })
    expect(eventTime(now - 5000, now)).toEqual({ at: now - 5000, skewMs: -5000 })
    const day = 24 * 3600 * 1000
    expect(eventTime(now - day, now)).toEqual({ at: now - day, skewMs: -day })
    expect(eventTime(now - day - 1, now)).toEqual({ at: now, skewMs: -day - 1 })
    expect(eventTime(now + day + 1, now)).toEqual({ at: now, skewMs: day + 1 })
  })
})
