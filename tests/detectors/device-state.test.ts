/** The one definition of a device's state (docs/operations.md §device states), on an injected clock. */
import { describe, expect, it } from 'vitest'
import { deviceStatus, type DeviceFacts } from '../../src/detectors/device-state.js'
import { resolveSettings } from '../../src/detectors/settings.js'

const NOW = Date.UTC(2026, 11, 1, 12)
const MIN = 60_000
const rules = resolveSettings().health
const device = (over: Partial<DeviceFacts> = {}): DeviceFacts => ({ heartbeatS: 300, lastSeenAt: NOW, online: true, battery: 80, createdAt: NOW - 60 * MIN, ...over })
const state = (over: Partial<DeviceFacts>, now = NOW) => deviceStatus(device(over), now, rules).state

describe('device state', () => {
  it('is online when heard within two heartbeats, silent after (not at exactly two), offline on a Last Will', () => {
    expect(state({})).toBe('online')
    expect(state({ lastSeenAt: NOW - 10 * MIN })).toBe('online')
    expect(state({ lastSeenAt: NOW - 10 * MIN - 1 })).toBe('silent')
    expect(state({ online: false })).toBe('offline')
    // online null (nothing said either way) is not offline
    expect(state({ online: null })).toBe('online')
    // a button beats hourly
    expect(state({ heartbeatS: 3600, lastSeenAt: NOW - 2 * 60 * MIN })).toBe('online')
  })

  it('is low battery under the threshold only while heard in time; the flag says so whatever the state', () => {
    expect(deviceStatus(device({ battery: 19 }), NOW, rules)).toEqual({ state: 'low_battery', installOverdue: false, lowBattery: true })
    expect(state({ battery: 20 })).toBe('online')
    expect(deviceStatus(device({ battery: 5, online: false }), NOW, rules)).toEqual({ state: 'offline', installOverdue: false, lowBattery: true })
  })

  it('is installed-not-yet-reporting when never heard; an installation overdue after the grace period', () => {
    expect(deviceStatus(device({ lastSeenAt: null, battery: null, online: null }), NOW, rules)).toEqual({ state: 'not_reporting_yet', installOverdue: false, lowBattery: false })
    const old = device({ lastSeenAt: null, createdAt: NOW - 24 * 60 * MIN - 1 })
    expect(deviceStatus(old, NOW, rules)).toMatchObject({ state: 'not_reporting_yet', installOverdue: true })
    expect(deviceStatus(old, NOW, { ...rules, installGraceH: 48 }).installOverdue).toBe(false)
  })

  it('follows the clock it is given, nothing else', () => {
    const d = device({ lastSeenAt: NOW })
    expect(deviceStatus(d, NOW + 10 * MIN, rules).state).toBe('online')
    expect(deviceStatus(d, NOW + 10 * MIN + 1, rules).state).toBe('silent')
    expect(deviceStatus(d, NOW + 10 * MIN + 1, { ...rules, offlineAfterIntervals: 3 }).state).toBe('online')
  })
})
