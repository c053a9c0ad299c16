/**
 * firmware-sim: devices without hardware, through the device contract and the REST API only.
 * `npm run sim -- --help` lists every command and option (usage.ts); `<command> --help` one command's.
 */
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { ALARM_TYPES, cmdTopic, commandPayload, decodePayload, deviceTopic, isDeviceId, type AlarmType } from '../src/contract/index.js'
import { createApiClient, type ApiClient } from './api-client.js'
import { badDevice, flakyNetwork } from './misbehave.js'
import { provisionFleet, readFleet, writeFleet, type HouseholdPlan } from './fleet.js'
import { deviceId, HOUSEHOLD_DEVICES, SCENARIOS, type Scenario } from './household.js'
import { realTime, virtualTime } from './player.js'
import { householdIncidents, runHousehold } from './run-household.js'
import { checkOutcome, RUN_HOURS } from './scenarios.js'
import { joinOptionValues, parseOptions, usage } from './usage.js'

class UsageError extends Error {}

function parse() {
  try {
    return parseArgs({ args: joinOptionValues(process.argv.slice(2)), allowPositionals: true, options: parseOptions() })
  } catch (err) {
    // An unknown or malformed option: the same short answer as any other usage mistake.
    console.error(`sim: ${(err as Error).message}\n${usage()}`)
    process.exit(2)
  }
}
const { positionals, values } = parse()

function positiveNumber(name: string, raw: string | undefined): number {
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} takes a number, got ${raw}`)
  return n
}

function api(): ApiClient {
  if (!values.password) throw new UsageError('this command creates devices through the API: give --password (or set ANJU_ADMIN_PASSWORD)')
  return createApiClient({ baseUrl: values.api, username: values.user, password: values.password })
}

function secretOf(device: string): string {
  if (values.secret) return values.secret
  const found = readFleet(values.fleet).devices.find((d) => d.id === device)
  if (!found) throw new UsageError(`device ${device} is not in ${values.fleet}; pass --secret or --fleet`)
  return found.secret
}

async function press(type: AlarmType, device: string): Promise<void> {
  const waitS = positiveNumber('wait', values.wait)
  const client = await mqtt.connectAsync(values.url, {
    clientId: device,
    username: device,
    password: secretOf(device),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    will: { topic: deviceTopic(device, 'status'), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
  })
  await client.subscribeAsync(cmdTopic(device), { qos: 1 })
  const acknowledged = new Promise<string>((resolve) =>
    client.on('message', (_topic, payload) => {
      const decoded = decodePayload(commandPayload, payload)
      if (decoded.ok && decoded.value.cmd === 'ack') resolve(decoded.value.incidentId ?? '')
    }),
  )
  const started = performance.now()
  await client.publishAsync(deviceTopic(device, 'alarm'), JSON.stringify({ id: `a-${Date.now()}`, ts: Date.now(), type, battery: 90 }), { qos: 1 })
  console.log(`${device}: ${type} sent and recorded by the platform (PUBACK in ${(performance.now() - started).toFixed(1)} ms)`)
  if (waitS > 0 && type !== 'cancel') {
    // A green-key request (service) is acknowledged when the operator dispatches it (派单, docs/device-contract.md §6).
    console.log(`${device}: waiting up to ${waitS} s for an operator to ${type === 'service' ? 'dispatch it (派单) in the 服务工单 tab' : 'acknowledge (接警) on the console'}…`)
    let timer: NodeJS.Timeout | undefined
    const result = await Promise.race([acknowledged, new Promise<null>((r) => (timer = setTimeout(() => r(null), waitS * 1000)))])
    clearTimeout(timer)
    console.log(result === null ? `${device}: no acknowledgement within ${waitS} s` : `${device}: 🔊 已收到您的呼叫,工作人员正在处理 (${result.startsWith('svc_') ? 'service ticket' : 'incident'} ${result})`)
  }
  await client.endAsync()
}

async function household(scenario?: Scenario): Promise<void> {
  const client = api()
  const warp = values.warp || scenario !== undefined
  const hours = values.hours ? positiveNumber('hours', values.hours) : scenario ? RUN_HOURS[scenario] + 1 : 24
  let events = 0
  const run = await runHousehold({
    api: client,
    mqttUrl: values.url,
    time: warp ? virtualTime(client) : realTime(),
    hours,
    seed: positiveNumber('seed', values.seed),
    ...(scenario ? { scenario } : {}),
    startAtDawn: warp,
    ...(warp ? { stepMs: 60_000 } : {}),
    onEvent: (e) => {
      events++
      if (!warp || events % 500 === 0) console.log(`${new Date(e.at).toISOString()} ${e.deviceId} ${e.channel} ${JSON.stringify(e.payload)}`)
    },
  })
  console.log(`household ${run.householdId}: ${run.stats.published} messages, ${run.stats.wills} Last Wills, ${hours} h simulated`)
  const incidents = await householdIncidents(client, run.householdId)
  for (const i of incidents) console.log(`  incident ${i.category}/${i.type} [${i.conditions.join(', ')}]${i.cancelledByResident ? ' (cancelled by resident)' : ''}`)
  if (scenario) {
    const problem = checkOutcome(scenario, incidents)
    console.log(problem ? `FAIL ${scenario}: ${problem}` : `PASS ${scenario}: the platform raised the expected incident and nothing else`)
    if (problem) process.exitCode = 1
  }
}

function districtPlans(count: number, prefix: string): HouseholdPlan[] {
  return Array.from({ length: count }, (_, n) => {
    const key = `${prefix}${String(n).padStart(5, '0')}`
    return {
      elderName: `模拟老人 ${n}`,
      address: `模拟小区 ${Math.floor(n / 100)} 号楼 ${n % 100} 室`,
      devices: HOUSEHOLD_DEVICES.map((d) => ({ id: deviceId(d.role, key), kind: d.kind, room: d.room, heartbeatS: d.heartbeatS })),
    }
  })
}

/** A fleet file given with --fleet (e.g. from `provision --out`) is used as it is; otherwise one is made. */
const districtFleetFile = process.argv.includes('--fleet') ? values.fleet : null

async function provisionDistrictFleet() {
  const households = positiveNumber('households', values.households)
  const prefix = `d${Date.now().toString(36)}`
  console.log(`provisioning ${households} households (${households * HOUSEHOLD_DEVICES.length} devices) through ${values.api} …`)
  return provisionFleet(api(), `模拟街区 ${prefix}`, districtPlans(households, prefix))
}

async function district(): Promise<void> {
  const { runDistrict, progressReporter, renderSummary } = await import('./district.js')
  const fleet = districtFleetFile ? readFleet(districtFleetFile) : await provisionDistrictFleet()
  console.log(`${fleet.devices.length} devices${districtFleetFile ? ` from ${districtFleetFile}` : ''}`)
  const controller = new AbortController()
  process.once('SIGINT', () => controller.abort())
  const progress = progressReporter({ tty: process.stdout.isTTY === true, everyS: positiveNumber('progress-every', values['progress-every']), write: (t) => process.stdout.write(t) })
  const stats = await runDistrict({
    url: values.url,
    devices: fleet.devices,
    connectRate: positiveNumber('connect-rate', values['connect-rate']),
    durationS: positiveNumber('duration', values.duration),
    telemetryIntervalS: positiveNumber('interval', values.interval),
    signal: controller.signal,
    progress: progress.update,
  })
  progress.end()
  console.log(renderSummary(stats))
  if (stats.refusals > 0 || stats.errors > 0) process.exitCode = 1
}

async function provision(): Promise<void> {
  const households = positiveNumber('households', values.households)
  const fleet = await provisionFleet(api(), `模拟社区 ${Date.now().toString(36)}`, districtPlans(households, `p${Date.now().toString(36)}`))
  writeFleet(values.out, fleet)
  console.log(`${fleet.devices.length} devices in ${households} households written to ${values.out} (their secrets are shown only there)`)
}

async function main(): Promise<void> {
  const [command, arg] = positionals
  if (values.help || !command || command === 'help') {
    console.log(usage(command === 'help' ? arg : command))
    return
  }
  if ((ALARM_TYPES as readonly string[]).includes(command)) {
    if (!arg || !isDeviceId(arg)) throw new UsageError('give a device id, such as btn-0001')
    return press(command as AlarmType, arg)
  }
  switch (command) {
    case 'household':
      return household()
    case 'scenario':
      if (!arg || !(SCENARIOS as readonly string[]).includes(arg)) throw new UsageError(`scenario is one of ${SCENARIOS.join(', ')}`)
      return household(arg as Scenario)
    case 'district':
      return district()
    case 'provision':
      return provision()
    case 'remove-district': {
      const { removeDistricts, removedSummary } = await import('./remove-district.js')
      console.log(removedSummary(await removeDistricts(api(), arg)))
      return
    }
    case 'flaky-network':
      return flakyNetwork(api(), values.url).then((r) => {
        console.log(r.summary)
        if (!r.ok) process.exitCode = 1
      })
    case 'bad-device':
      return badDevice(api(), values.url).then((r) => {
        console.log(r.summary)
        if (!r.ok) process.exitCode = 1
      })
    default:
      throw new UsageError(`unknown command ${command}`)
  }
}

main().catch((err: unknown) => {
  const e = err as Error & { code?: number }
  if (err instanceof UsageError) {
    console.error(`sim: ${e.message}\n${usage(positionals[0])}`)
    process.exit(2)
  }
  console.error(`sim: ${e.code === 5 ? 'the platform refused the device (not authorized): wrong secret or unknown device' : e.message}`)
  process.exit(1)
})
