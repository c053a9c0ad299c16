import { describe, expect, it } from 'vitest'
import { decidePublish, maySubscribe } from '../../src/broker/acl.js'

describe('topic ACL', () => {
  it('lets a device publish alarm, telemetry and status under its own prefix', () => {
    for (const channel of ['alarm', 'telemetry', 'status']) {
      expect(decidePublish('btn-1', `anju/v1/dev/btn-1/${channel}`)).toEqual({ allowed: true, channel })
    }
  })

  it('refuses another device prefix, commands, and anything outside the contract', () => {
    expect(decidePublish('btn-1', 'anju/v1/dev/btn-2/alarm')).toMatchObject({ allowed: false, reason: expect.stringMatching(/another device/) })
    expect(decidePublish('btn-1', 'anju/v1/dev/btn-1/cmd')).toMatchObject({ allowed: false })
    expect(decidePublish('btn-1', 'anju/v1/dev/btn-1/alarm/x')).toMatchObject({ allowed: false })
    expect(decidePublish('btn-1', 'other/topic')).toMatchObject({ allowed: false })
    // a prefix match is not enough: btn-1 must not publish as btn-10
    expect(decidePublish('btn-1', 'anju/v1/dev/btn-10/alarm')).toMatchObject({ allowed: false })
  })

  it('lets a device subscribe to its own cmd topic only', () => {
    expect(maySubscribe('btn-1', 'anju/v1/dev/btn-1/cmd')).toBe(true)
    for (const filter of ['anju/v1/dev/btn-2/cmd', 'anju/v1/dev/+/cmd', '#', 'anju/v1/dev/btn-1/#', 'anju/v1/dev/btn-1/alarm', '$SYS/#']) {
      expect(maySubscribe('btn-1', filter)).toBe(false)
    }
  })
})
