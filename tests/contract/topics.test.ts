import { describe, expect, it } from 'vitest'
import { cmdTopic, deviceTopic, isDeviceId, parseDeviceTopic } from '../../src/contract/index.js'

describe('contract v1 topics', () => {
  it('builds and parses each device channel', () => {
    for (const channel of ['alarm', 'telemetry', 'status', 'cmd'] as const) {
      expect(parseDeviceTopic(deviceTopic('btn-000123', channel))).toEqual({ deviceId: 'btn-000123', channel })
    }
    expect(cmdTopic('pr-000123-bath')).toBe('anju/v1/dev/pr-000123-bath/cmd')
  })

  it.each([
    'anju/v1/dev/btn-1',
    'anju/v1/dev/btn-1/',
    'anju/v1/dev//alarm',
    'anju/v1/dev/btn-1/alarm/extra',
    'anju/v1/dev/btn-1/unknown',
    'anju/v2/dev/btn-1/alarm',
    'anju/v1/dev/btn 1/alarm',
    'anju/v1/dev/+/alarm',
    '$SYS/broker/uptime',
  ])('rejects %s', (topic) => {
    expect(parseDeviceTopic(topic)).toBeNull()
  })

  it('accepts device ids of 1 to 64 characters of [A-Za-z0-9_-] only', () => {
    expect(isDeviceId('a')).toBe(true)
    expect(isDeviceId('x'.repeat(64))).toBe(true)
    expect(isDeviceId('x'.repeat(65))).toBe(false)
    expect(isDeviceId('')).toBe(false)
    expect(isDeviceId('btn.1')).toBe(false)
    expect(isDeviceId('设备')).toBe(false)
  })
})
