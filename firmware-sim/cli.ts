/**
 * firmware-sim: devices without hardware, through the device contract only.
 *
 *   npm run sim -- sos btn-0001            press the red button of a demo device
 *   npm run sim -- fall|service|cancel <device>
 *
 * Options: --url mqtt://host:port (default mqtt://localhost:$ANJU_MQTT_PORT or 1883),
 *          --fleet <file> (device credentials; default ./data/demo-fleet.json, written by the demo seed),
 *          --secret <secret> (instead of a fleet file), --wait <seconds> for the operator's ack (default 60, 0 = don't wait).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { ALARM_TYPES, cmdTopic, commandPayload, deviceTopic, isDeviceId, type AlarmType } from '../src/contract/index.js'

const USAGE = `usage: npm run sim -- <${ALARM_TYPES.join('|')}> <device-id> [--url mqtt://localhost:1883] [--fleet data/demo-fleet.json] [--secret S] [--wait 60]`

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n${USAGE}\n`)
  process.exit(2)
}

function secretFromFleet(file: string, deviceId: string): string {
  let fleet: { devices?: { id: string; secret: string }[] }
  try {
    fleet = JSON.parse(readFileSync(file, 'utf8')) as typeof fleet
  } catch (err) {
    fail(`cannot read fleet file ${file} (${(err as Error).message}); start the platform once with the demo seed, or pass --secret`)
  }
  const device = fleet.devices?.find((d) => d.id === deviceId)
  if (!device) fail(`device ${deviceId} is not in ${file}`)
  return device.secret
}

async function pressButton(type: AlarmType, deviceId: string, url: string, secret: string, waitS: number): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    clientId: deviceId,
    username: deviceId,
    password: secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    will: { topic: deviceTopic(deviceId, 'status'), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
  })
  await client.subscribeAsync(cmdTopic(deviceId), { qos: 1 })
  const acknowledged = new Promise<string>((resolve) =>
    client.on('message', (_topic, payload) => {
      const parsed = commandPayload.safeParse(JSON.parse(payload.toString()))
      if (parsed.success && parsed.data.cmd === 'ack') resolve(parsed.data.incidentId ?? '')
    }),
  )
  const alarm = { id: `a-${Date.now()}`, ts: Date.now(), type, battery: 90 }
  const started = performance.now()
  await client.publishAsync(deviceTopic(deviceId, 'alarm'), JSON.stringify(alarm), { qos: 1 })
  process.stdout.write(`${deviceId}: ${type} sent and recorded by the platform (PUBACK in ${(performance.now() - started).toFixed(1)} ms)\n`)
  if (waitS > 0 && type !== 'cancel') {
    process.stdout.write(`${deviceId}: waiting up to ${waitS} s for an operator to acknowledge (接警) on the console…\n`)
    let timer: NodeJS.Timeout | undefined
    const result = await Promise.race([acknowledged, new Promise<null>((r) => (timer = setTimeout(() => r(null), waitS * 1000)))])
    clearTimeout(timer)
    process.stdout.write(result === null ? `${deviceId}: no acknowledgement within ${waitS} s\n` : `${deviceId}: 🔊 已收到您的呼叫,工作人员正在处理 (incident ${result})\n`)
  }
  await client.endAsync()
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: `mqtt://localhost:${process.env.ANJU_MQTT_PORT ?? '1883'}` },
      fleet: { type: 'string', default: process.env.ANJU_DEMO_FLEET_FILE ?? './data/demo-fleet.json' },
      secret: { type: 'string' },
      wait: { type: 'string', default: '60' },
    },
  })
  const [command, deviceId] = positionals
  if (!command || !(ALARM_TYPES as readonly string[]).includes(command)) fail(`unknown command ${command ?? '(none)'}`)
  if (!deviceId || !isDeviceId(deviceId)) fail('give a device id, such as btn-0001')
  const waitS = Number(values.wait)
  if (!Number.isFinite(waitS) || waitS < 0) fail('--wait takes a number of seconds')
  const secret = values.secret ?? secretFromFleet(values.fleet, deviceId)
  await pressButton(command as AlarmType, deviceId, values.url, secret, waitS)
}

main().catch((err: unknown) => {
  const e = err as Error & { code?: number }
  process.stderr.write(`sim: ${e.code === 5 ? 'the platform refused the device (not authorized): wrong secret or unknown device' : e.message}\n`)
  process.exit(1)
})
