import { describe, expect, it } from 'vitest'
import { atLocalTime, formatLocalTime, localMinuteOfDay, startOfLocalDay, utcOffsetMs } from '../../src/detectors/local-time.js'

const SH = 'Asia/Shanghai'

describe('local time', () => {
  it('puts Shanghai midnight at 16:00 UTC the day before, all year (China keeps no daylight saving)', () => {
    for (const month of [0, 3, 6, 9]) {
      const noon = Date.UTC(2026, month, 15, 4, 0) // 12:00 in Shanghai
      expect(utcOffsetMs(noon, SH)).toBe(8 * 3_600_000)
      expect(new Date(startOfLocalDay(noon, SH)).toISOString()).toBe(new Date(Date.UTC(2026, month, 14, 16, 0)).toISOString())
    }
  })

  it('turns over the local day exactly at local midnight', () => {
    const midnight = Date.UTC(2026, 10, 22, 16, 0) // 00:00 on 23 Nov in Shanghai
    expect(startOfLocalDay(midnight - 1, SH)).toBe(midnight - 24 * 3_600_000)
    expect(startOfLocalDay(midnight, SH)).toBe(midnight)
    expect(localMinuteOfDay(midnight - 60_000, SH)).toBe(23 * 60 + 59)
    expect(localMinuteOfDay(midnight, SH)).toBe(0)
    expect(formatLocalTime(atLocalTime(midnight, '10:00'), SH)).toBe('10:00')
  })

  it('follows a daylight-saving zone across its change', () => {
    // Berlin moves from +1 h to +2 h at 01:00 UTC on 29 March 2026.
    expect(utcOffsetMs(Date.UTC(2026, 2, 29, 0, 59), 'Europe/Berlin')).toBe(3_600_000)
    expect(utcOffsetMs(Date.UTC(2026, 2, 29, 1, 0), 'Europe/Berlin')).toBe(7_200_000)
    expect(new Date(startOfLocalDay(Date.UTC(2026, 2, 29, 12), 'Europe/Berlin')).toISOString()).toBe('2026-03-28T23:00:00.000Z')
    expect(new Date(startOfLocalDay(Date.UTC(2026, 2, 30, 12), 'Europe/Berlin')).toISOString()).toBe('2026-03-29T22:00:00.000Z')
  })
})
