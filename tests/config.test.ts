import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

describe('config', () => {
  it('has embedded defaults that need no configuration', () => {
    expect(loadConfig({})).toMatchObject({
      ANJU_HTTP_PORT: 8080,
      ANJU_MQTT_PORT: 1883,
      ANJU_DB_PATH: './data/anju.db',
      ANJU_DB_SYNC: 'FULL',
      ANJU_DEMO: true,
    })
  })

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ANJU_MQTT_PORT: '' }).ANJU_MQTT_PORT).toBe(1883)
  })

  it('names every bad variable, its value and what is allowed', () => {
    let error: unknown
    try {
      loadConfig({ ANJU_MQTT_PORT: '99999', ANJU_DB_SYNC: 'SOMETIMES', ANJU_DEMO: 'maybe' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message).toContain('ANJU_MQTT_PORT="99999"')
    expect(message).toContain('MQTT TCP port')
    expect(message).toMatch(/ANJU_DB_SYNC="SOMETIMES".*FULL.*NORMAL/)
    expect(message).toContain('ANJU_DEMO="maybe"')
  })

  it('refuses a short admin password', () => {
    expect(() => loadConfig({ ANJU_ADMIN_PASSWORD: 'short' })).toThrow(/ANJU_ADMIN_PASSWORD/)
  })
})
