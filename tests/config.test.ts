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

  it('takes InfluxDB with all four settings or none, naming what is missing', () => {
    const all = { ANJU_INFLUX_URL: 'http://influx:8086', ANJU_INFLUX_TOKEN: 't', ANJU_INFLUX_ORG: 'anju', ANJU_INFLUX_BUCKET: 'telemetry' }
    expect(loadConfig(all)).toMatchObject(all)
    expect(() => loadConfig({ ANJU_INFLUX_URL: 'http://influx:8086', ANJU_INFLUX_ORG: 'anju' })).toThrow(
      /ANJU_INFLUX_TOKEN=undefined: required when ANJU_INFLUX_URL, ANJU_INFLUX_ORG are set[\s\S]*ANJU_INFLUX_BUCKET=undefined: required/,
    )
    expect(() => loadConfig({ ANJU_METRICS_TOKEN: 'short' })).toThrow(/ANJU_METRICS_TOKEN="short": at least 16 characters/)
  })

  it('refuses a short admin password', () => {
    expect(() => loadConfig({ ANJU_ADMIN_PASSWORD: 'short' })).toThrow(/ANJU_ADMIN_PASSWORD/)
  })
})
