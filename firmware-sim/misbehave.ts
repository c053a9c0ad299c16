/**
 * Devices that make life hard, to show the platform copes: a flaky network that drops the
 * line before the PUBACK (the button retransmits with the same message id), and a bad device
 * that sends garbage, guesses secrets and reaches for another device's topics.
 */
import { cmdTopic, deviceTopic } from '../src/contract/index.js'
import { NOT_LOGGED_IN } from '../src/ingest/stats.js'
import type { ApiClient } from './api-client.js'
import { provisionFleet, type FleetDevice } from './fleet.js'
import { connectRawDevice, SUBACK_FAILURE, type RawDevice } from './raw-device.js'
import { householdIncidents } from './run-household.js'

export interface Verdict {
  ok: boolean
  summary: string
}

async function twoButtons(api: ApiClient, label: string): Promise<FleetDevice[]> {
  const key = `${label}${Date.now().toString(36)}`
  const fleet = await provisionFleet(api, `模拟社区 ${key}`, [
    { elderName: '模拟老人 甲', address: '模拟小区 1 号', devices: [{ id: `btn-${key}-a`, kind: 'button', room: null }] },
    { elderName: '模拟老人 乙', address: '模拟小区 2 号', devices: [{ id: `btn-${key}-b`, kind: 'button', room: null }] },
  ])
  return fleet.devices
}

function connect(url: string, device: FleetDevice, secret = device.secret): Promise<RawDevice> {
  const u = new URL(url)
  return connectRawDevice({ host: u.hostname, port: Number(u.port || 1883), deviceId: device.id, secret })
}

export async function flakyNetwork(api: ApiClient, url: string, attempts = 3): Promise<Verdict> {
  const [button] = await twoButtons(api, 'flaky')
  const sos = { id: `a-flaky-${Date.now()}`, ts: Date.now(), type: 'sos' }
  for (let i = 0; i < attempts; i++) {
    const device = await connect(url, button!)
    // The line drops right after the PUBLISH leaves: the device never sees a PUBACK.
    device.publish(deviceTopic(button!.id, 'alarm'), sos, 1).catch(() => undefined)
    device.destroy()
  }
  const device = await connect(url, button!)
  await device.publish(deviceTopic(button!.id, 'alarm'), sos, 1)
  await device.close()
  const incidents = await householdIncidents(api, button!.householdId)
  const ok = incidents.length === 1 && incidents[0]!.type === 'sos'
  return {
    ok,
    summary: `${ok ? 'PASS' : 'FAIL'} flaky-network: one SOS sent ${attempts + 1} times with message id ${sos.id} through ${attempts} dropped connections → ${incidents.length} incident(s)`,
  }
}

export async function badDevice(api: ApiClient, url: string): Promise<Verdict> {
  const [mine, theirs] = await twoButtons(api, 'bad')
  let expectedRefused = 0
  let expectedDropped = 0
  // Before login nobody has proved who they are: a guessed secret is counted on the shared
  // entry, never on the device it names (docs/security.md).
  type Stats = { devices: Record<string, { dropped: number; refused: number }> }
  const refusedBeforeLogin = async () => (await api.get<Stats>('/api/stats/ingest')).devices[NOT_LOGGED_IN]?.refused ?? 0
  const sharedBefore = await refusedBeforeLogin()
  let guessesRefused = 0
  await connect(url, mine!, 'guessed-secret').then(
    (d) => d.close(),
    () => guessesRefused++,
  )

  const device = await connect(url, mine!)
  const alarm = deviceTopic(mine!.id, 'alarm')
  for (const garbage of ['{"id":"x","type":"sos"', JSON.stringify({ type: 'sos' }), JSON.stringify({ id: 'y', type: 'panic' }), 'x'.repeat(5000)]) {
    await device.publish(alarm, garbage, 1)
    expectedDropped++
  }
  const [granted] = await device.subscribe(cmdTopic(theirs!.id))
  if (granted === SUBACK_FAILURE) expectedRefused++
  const closed = new Promise<void>((resolve) => device.once('close', () => resolve()))
  device.publish(deviceTopic(theirs!.id, 'alarm'), { id: 'spoof', type: 'sos' }, 1).catch(() => undefined)
  await closed
  expectedRefused++

  const stats = await api.get<Stats>('/api/stats/ingest')
  const counted = stats.devices[mine!.id] ?? { dropped: 0, refused: 0 }
  const shared = (stats.devices[NOT_LOGGED_IN]?.refused ?? 0) - sharedBefore
  const incidents = [...(await householdIncidents(api, mine!.householdId)), ...(await householdIncidents(api, theirs!.householdId))]
  // Other clients may be refused before login at the same time: at least the guess is there.
  const ok = counted.dropped === expectedDropped && counted.refused === expectedRefused && guessesRefused === 1 && shared >= 1 && incidents.length === 0
  return {
    ok,
    summary:
      `${ok ? 'PASS' : 'FAIL'} bad-device ${mine!.id}: platform counted ${counted.dropped} dropped (sent ${expectedDropped} malformed) and ` +
      `${counted.refused} refused (made ${expectedRefused} forbidden attempts after login); a guessed secret refused ${guessesRefused === 1 ? 'and counted before login' : 'NOT'}; incidents opened: ${incidents.length}`,
  }
}
