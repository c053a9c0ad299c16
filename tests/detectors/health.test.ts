import { describe, expect, it } from 'vitest'
import type { EvalContext } from '../../src/detectors/context.js'
import { applyDeviceSeen, evaluateHealth, initialHealthState, nextHealthCheck } from '../../src/detectors/health.js'
import { resolveSettings } from '../../src/detectors/settings.js'

const T0 = Date.UTC(2026, 10, 23, 0, 0, 0)
const MIN = 60_000
const ctx = (now: number, over: Partial<EvalContext> = {}): EvalContext => ({
  now,
  settings: resolveSettings(),
  observedFrom: T0,
  devices: {
    'wm-1': { kind: 'water', room: 'kitchen', heartbeatS: 300, registeredAt: T0 },
    'btn-1': { kind: 'button', room: null, heartbeatS: 3600, registeredAt: T0 },
  },
  ...over,
})
const status = (state: ReturnType<typeof initialHealthState>, now: number, over?: Partial<EvalContext>) =>
  Object.fromEntries(evaluateHealth(state, ctx(now, over)).map((e) => [e.key, e.status]))

describe('device health', () => {
  it('marks a device offline when its heartbeat is overdue by more than two intervals', () => {
    let s = initialHealthState()
    s = applyDeviceSeen(s, { deviceId: 'wm-1', at: T0 })
    s = applyDeviceSeen(s, { deviceId: 'btn-1', at: T0 })
    expect(status(s, T0 + 10 * MIN)['device_offline:wm-1']).toBe('false') // exactly two intervals
    expect(status(s, T0 + 10 * MIN + 1)['device_offline:wm-1']).toBe('true')
    // a button's interval is an hour
    expect(status(s, T0 + 2 * 60 * MIN)['device_offline:btn-1']).toBe('false')
    expect(status(s, T0 + 2 * 60 * MIN + 1)['device_offline:btn-1']).toBe('true')
  })

  it('marks a device offline at once on its Last Will, and back online on its next message', () => {
    let s = applyDeviceSeen(initialHealthState(), { deviceId: 'wm-1', at: T0 })
    s = applyDeviceSeen(s, { deviceId: 'wm-1', at: T0 + MIN, online: false })
    const offline = evaluateHealth(s, ctx(T0 + MIN)).find((e) => e.key === 'device_offline:wm-1')!
    expect(offline.status).toBe('true')
    expect(offline.status === 'true' && offline.condition.explanation.zh).toContain('遗嘱')
    s = applyDeviceSeen(s, { deviceId: 'wm-1', at: T0 + 2 * MIN })
    expect(status(s, T0 + 2 * MIN)['device_offline:wm-1']).toBe('false')
  })

  it('flags a battery under 20 % and clears it when a fresh battery reports', () => {
    let s = applyDeviceSeen(initialHealthState(), { deviceId: 'btn-1', at: T0, battery: 20 })
    expect(status(s, T0)['low_battery:btn-1']).toBe('false')
    s = applyDeviceSeen(s, { deviceId: 'btn-1', at: T0 + 1, battery: 19 })
    expect(status(s, T0 + 1)['low_battery:btn-1']).toBe('true')
    // a message without a battery figure keeps the last one
    s = applyDeviceSeen(s, { deviceId: 'btn-1', at: T0 + 2 })
    expect(status(s, T0 + 2)['low_battery:btn-1']).toBe('true')
    s = applyDeviceSeen(s, { deviceId: 'btn-1', at: T0 + 3, battery: 100 })
    expect(status(s, T0 + 3)['low_battery:btn-1']).toBe('false')
  })

  it('does not count silence while the platform itself was down', () => {
    const s = applyDeviceSeen(initialHealthState(), { deviceId: 'wm-1', at: T0 })
    const restartedAt = T0 + 60 * MIN
    // Not heard since the restart and not yet overdue: unknown, so an offline verdict from before stands.
    expect(status(s, restartedAt + 5 * MIN, { runningSince: restartedAt })['device_offline:wm-1']).toBe('unknown')
    const heard = applyDeviceSeen(s, { deviceId: 'wm-1', at: restartedAt + 5 * MIN })
    expect(status(heard, restartedAt + 5 * MIN, { runningSince: restartedAt })['device_offline:wm-1']).toBe('false')
    expect(status(s, restartedAt + 10 * MIN + 1, { runningSince: restartedAt })['device_offline:wm-1']).toBe('true')
  })

  it('ignores an older message arriving late', () => {
    let s = applyDeviceSeen(initialHealthState(), { deviceId: 'wm-1', at: T0 + 5 * MIN, battery: 80 })
    s = applyDeviceSeen(s, { deviceId: 'wm-1', at: T0, battery: 5, online: false })
    expect(s.devices['wm-1']).toEqual({ lastSeenAt: T0 + 5 * MIN, online: true, battery: 80 })
  })

  it('asks to be checked again just after the next heartbeat deadline', () => {
    const s = applyDeviceSeen(initialHealthState(), { deviceId: 'wm-1', at: T0 })
    const next = nextHealthCheck(s, ctx(T0))!
    expect(next).toBe(T0 + 10 * MIN + 1)
    expect(status(s, next - 1)['device_offline:wm-1']).toBe('false')
    expect(status(s, next)['device_offline:wm-1']).toBe('true')
  })

  it('never calls a device that was never heard offline: past the installation grace period it is an unfinished installation', () => {
    const s = applyDeviceSeen(initialHealthState(), { deviceId: 'btn-1', at: T0 })
    const grace = 24 * 60 * MIN
    const early = status(s, T0 + grace)
    expect(early['device_offline:wm-1']).toBe('false')
    expect(early['device_not_installed:wm-1']).toBe('false')
    const late = evaluateHealth(s, ctx(T0 + grace + 1))
    expect(late.find((e) => e.key === 'device_offline:wm-1')?.status).toBe('false')
    const install = late.find((e) => e.key === 'device_not_installed:wm-1')!
    expect(install.status).toBe('true')
    expect(install.status === 'true' && install.condition).toMatchObject({ kind: 'device_not_installed', data: { deviceId: 'wm-1' } })
    expect(install.status === 'true' && install.condition.explanation.zh).toContain('安装未完成')
    // A heard device is never an installation task.
    expect(status(s, T0 + grace + 1)['device_not_installed:btn-1']).toBe('false')
    // The grace period is a setting; a restart does not move it.
    const short = { ...resolveSettings({ health: { installGraceH: 1 } }) }
    expect(status(s, T0 + 60 * MIN + 1, { settings: short, runningSince: T0 + 60 * MIN })['device_not_installed:wm-1']).toBe('true')
    // The first message ends it.
    expect(status(applyDeviceSeen(s, { deviceId: 'wm-1', at: T0 + grace + 2 }), T0 + grace + 2)['device_not_installed:wm-1']).toBe('false')
  })

  it('wakes for the installation deadline of a device never heard', () => {
    const s = applyDeviceSeen(initialHealthState(), { deviceId: 'btn-1', at: T0 + 23 * 60 * MIN })
    expect(nextHealthCheck(s, ctx(T0 + 23 * 60 * MIN))).toBe(T0 + 24 * 60 * MIN + 1)
  })
})
