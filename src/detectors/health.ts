/**
 * Device health, pure: a device is offline when its Last Will says so or its heartbeat is
 * overdue by more than two intervals (contract §status); its battery is low under 20 %.
 * Both clear when the device recovers. These go to the maintenance queue, not the emergency one.
 */
import { MINUTE, type EvalContext } from './context.js'
import type { Evaluation } from './model.js'

export interface DeviceHealthState {
  lastSeenAt: number | null
  /** false only after a Last Will `{ online: false }`; any later message means alive again. */
  online: boolean
  battery: number | null
  /** When it was heard again after a Last Will or a silence past its allowance: what happened meanwhile it may have missed. */
  backAt?: number
}

export interface HealthState {
  devices: Record<string, DeviceHealthState>
}

export function initialHealthState(): HealthState {
  return { devices: {} }
}

/** `allowanceMs`: the silence after which the device counts as having been away (offlineAllowanceMs). */
export function applyDeviceSeen(
  state: HealthState,
  seen: { deviceId: string; at: number; online?: boolean | undefined; battery?: number | undefined },
  allowanceMs = Infinity,
): HealthState {
  const prev: DeviceHealthState = state.devices[seen.deviceId] ?? { lastSeenAt: null, online: true, battery: null }
  if (prev.lastSeenAt !== null && seen.at < prev.lastSeenAt) return state
  const online = seen.online ?? true
  const back = online && prev.lastSeenAt !== null && (!prev.online || seen.at - prev.lastSeenAt > allowanceMs) ? seen.at : prev.backAt
  const next: DeviceHealthState = { lastSeenAt: seen.at, online, battery: seen.battery ?? prev.battery }
  if (back !== undefined) next.backAt = back
  return { devices: { ...state.devices, [seen.deviceId]: next } }
}

/** A device is offline once silent for this long (contract §status: two heartbeat intervals by default). */
export function offlineAllowanceMs(info: { heartbeatS: number }, settings: Pick<EvalContext['settings'], 'health'>): number {
  return settings.health.offlineAfterIntervals * info.heartbeatS * 1000
}

export function forgetDevice(state: HealthState, deviceId: string): HealthState {
  if (!(deviceId in state.devices)) return state
  const { [deviceId]: _gone, ...devices } = state.devices
  return { devices }
}

/**
 * The instant silence starts to count: the last message, but never before the device was
 * registered, observation (re)started after away mode, or this platform process started
 * (a platform restart is not the devices' fault).
 */
function silentSince(state: HealthState, deviceId: string, ctx: EvalContext): number {
  const info = ctx.devices[deviceId]!
  return Math.max(state.devices[deviceId]?.lastSeenAt ?? info.registeredAt, info.registeredAt, ctx.observedFrom, ctx.runningSince ?? 0)
}

function offlineAt(state: HealthState, deviceId: string, ctx: EvalContext): number {
  const info = ctx.devices[deviceId]!
  return silentSince(state, deviceId, ctx) + offlineAllowanceMs(info, ctx.settings)
}

export function evaluateHealth(state: HealthState, ctx: EvalContext): Evaluation[] {
  const out: Evaluation[] = []
  for (const deviceId of Object.keys(ctx.devices)) {
    const info = ctx.devices[deviceId]!
    const device = state.devices[deviceId]
    const offlineKey = `device_offline:${deviceId}`
    const overdueAt = offlineAt(state, deviceId, ctx)
    if (device && !device.online) {
      out.push({ key: offlineKey, status: 'true', condition: offline(deviceId, info.kind, device.lastSeenAt, 'will', ctx) })
    } else if (ctx.now > overdueAt) {
      out.push({ key: offlineKey, status: 'true', condition: offline(deviceId, info.kind, device?.lastSeenAt ?? null, 'heartbeat', ctx) })
    } else {
      out.push({ key: offlineKey, status: 'false' })
    }

    const batteryKey = `low_battery:${deviceId}`
    const battery = device?.battery ?? null
    const threshold = ctx.settings.health.lowBatteryBelow
    if (battery !== null && battery < threshold) {
      out.push({
        key: batteryKey,
        status: 'true',
        condition: {
          key: batteryKey,
          kind: 'low_battery',
          explanation: { zh: `设备 ${deviceId} 电量 ${battery}%,低于 ${threshold}%`, en: `Device ${deviceId} battery at ${battery} %, below ${threshold} %` },
          data: { deviceId, battery, threshold },
        },
      })
    } else {
      out.push({ key: batteryKey, status: 'false' })
    }
  }
  return out
}

function offline(deviceId: string, kind: string, lastSeenAt: number | null, reason: 'will' | 'heartbeat', ctx: EvalContext) {
  const silentMin = lastSeenAt === null ? null : Math.round((ctx.now - lastSeenAt) / MINUTE)
  const since = silentMin === null ? { zh: '从未上线', en: 'never connected' } : { zh: `已 ${silentMin} 分钟无消息`, en: `silent for ${silentMin} min` }
  const why = reason === 'will' ? { zh: '连接断开(遗嘱消息)', en: 'connection lost (Last Will)' } : { zh: '心跳超时', en: 'heartbeat overdue' }
  return {
    key: `device_offline:${deviceId}`,
    kind: 'device_offline' as const,
    explanation: { zh: `设备 ${deviceId} 离线:${why.zh},${since.zh}`, en: `Device ${deviceId} offline: ${why.en}, ${since.en}` },
    data: { deviceId, deviceKind: kind, lastSeenAt, reason },
  }
}

export function nextHealthCheck(state: HealthState, ctx: EvalContext): number | null {
  let next: number | null = null
  for (const deviceId of Object.keys(ctx.devices)) {
    const at = offlineAt(state, deviceId, ctx) + 1
    if (at > ctx.now && (next === null || at < next)) next = at
  }
  return next
}
