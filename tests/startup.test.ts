/** What `npm start` decides before and after the app starts (src/startup.ts): log format, time-warp store, banner. */
import { describe, expect, it } from 'vitest'
import { logFormat, startBanner, timeWarpStore, type BannerInput } from '../src/startup.js'

describe('logFormat', () => {
  it('is readable on a terminal and JSON anywhere else, unless ANJU_LOG_FORMAT chooses', () => {
    expect(logFormat('auto', true)).toBe('pretty')
    expect(logFormat('auto', false)).toBe('json')
    expect(logFormat(undefined, false)).toBe('json')
    expect(logFormat('json', true)).toBe('json')
    expect(logFormat('pretty', false)).toBe('pretty')
  })
})

describe('timeWarpStore', () => {
  const fresh = () => '/tmp/anju-time-warp-x'
  it('gives a time-warp run a fresh directory of its own, for the store and the demo fleet', () => {
    expect(timeWarpStore({ ANJU_CLOCK: 'virtual' }, fresh)).toEqual({ ANJU_DB_PATH: '/tmp/anju-time-warp-x/anju.db', ANJU_DEMO_FLEET_FILE: '/tmp/anju-time-warp-x/demo-fleet.json' })
    expect(timeWarpStore({ ANJU_CLOCK: 'virtual', ANJU_DEMO_FLEET_FILE: 'mine.json' }, fresh)).toEqual({ ANJU_DB_PATH: '/tmp/anju-time-warp-x/anju.db' })
  })

  it('leaves a named store alone, and the real clock always', () => {
    let made = 0
    const count = () => (made++, '/tmp/x')
    expect(timeWarpStore({ ANJU_CLOCK: 'virtual', ANJU_DB_PATH: './data/anju.db' }, count)).toBeNull()
    expect(timeWarpStore({ ANJU_CLOCK: 'virtual', ANJU_DB_URL: 'postgres://db/anju' }, count)).toBeNull()
    expect(timeWarpStore({ ANJU_CLOCK: 'system' }, count)).toBeNull()
    expect(timeWarpStore({}, count)).toBeNull()
    expect(made).toBe(0)
  })
})

describe('startBanner', () => {
  const base: BannerInput = {
    httpPort: 8080,
    mqttPort: 1883,
    mqttTlsPort: null,
    admin: { created: true, generatedPassword: 'Xq3secret' },
    adminPasswordGiven: false,
    operators: [{ username: 'op-meiyuan', password: 'pw1', community: '梅园社区' }],
    family: { url: 'http://localhost:8080/family.html?t=abc', elderName: '张桂英', hours: 24 },
    fleetFile: './data/demo-fleet.json',
    store: './data/anju.db',
  }

  it('prints the addresses, the one-time passwords and the demo links', () => {
    const text = startBanner(base).join('\n')
    expect(text).toContain('Console   http://localhost:8080/')
    expect(text).toContain('Admin     admin / Xq3secret')
    expect(text).toContain('Operator  op-meiyuan / pw1   (梅园社区, printed once)')
    expect(text).toContain('Family    http://localhost:8080/family.html?t=abc')
    expect(text).toContain('press an SOS with: npm run sim -- sos btn-0001')
    expect(text).not.toContain('WARNING')
  })

  it('gives the simulator command that works on the ports and fleet file in use', () => {
    const text = startBanner({ ...base, mqttPort: 1884, fleetFile: '/tmp/w/demo-fleet.json' }).join('\n')
    expect(text).toContain('press an SOS with: ANJU_MQTT_PORT=1884 ANJU_DEMO_FLEET_FILE=/tmp/w/demo-fleet.json npm run sim -- sos btn-0001')
  })

  it('warns, and says what to do, when ANJU_ADMIN_PASSWORD was not used', () => {
    const text = startBanner({ ...base, admin: { created: false, passwordIgnored: true }, adminPasswordGiven: true, operators: [] }).join('\n')
    expect(text).toContain('WARNING   ANJU_ADMIN_PASSWORD was not used: ./data/anju.db already has users')
    expect(text).toMatch(/start afresh: stop the platform, delete that\s+database/)
    expect(text).not.toContain('Admin     admin /')
  })

  it('names the chosen admin password and the time-warp directory', () => {
    const text = startBanner({ ...base, admin: { created: true }, adminPasswordGiven: true, timeWarp: { at: Date.UTC(2026, 0, 1), dataDir: '/tmp/anju-time-warp-x' } }).join('\n')
    expect(text).toContain('Admin     admin / the password in ANJU_ADMIN_PASSWORD')
    expect(text).toContain('TEST MODE virtual clock at 2026-01-01T00:00:00.000Z')
    expect(text).toContain('Data      /tmp/anju-time-warp-x (fresh for this time-warp run')
  })
})
