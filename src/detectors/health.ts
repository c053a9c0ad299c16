/**
 * Device health, pure: a device is offline when its Last Will says so or its heartbeat is
 * overdue by more than two intervals (contract §status); its battery is low under 20 %.
 * Both clear when the device recovers. These go to the maintenance queue, not the emergency one.
 * A device never heard is not offline: past the installation grace period it is an unfinished
 * installation (`device_not_installed`, docs/operations.md §device states). The rules are
 * detectors/device-state.ts's, which the API shows.
 */
import { MINUTE, type DeviceInfo, type EvalContext } from './context.js'
import { installGraceMs, silenceAllowanceMs } from './device-state.js'
import type { Evaluation } from './model.js'
import { deviceName } from './names.js'

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
  return silenceAllowanceMs(info.heartbeatS, settings.health)
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
function silentSince(device: DeviceHealthState | undefined, info: DeviceInfo, ctx: EvalContext): number {
  return Math.max(device?.lastSeenAt ?? info.registeredAt, info.registeredAt, ctx.observedFrom, ctx.runningSince ?? 0)
}

/** `device` and `info`: the device's entries in the health state and the context, looked up once by the caller. */
function offlineAt(device: DeviceHealthState | undefined, info: DeviceInfo, ctx: EvalContext): number {
  return silentSince(device, info, ctx) + offlineAllowanceMs(info, ctx.settings)
}

type HealthKind = 'device_offline' | 'device_not_installed' | 'low_battery'

/**
 * `trueOnly`: only the conditions that hold, for a caller with nothing active that a 'false'
 * could clear (the monitor, in most homes at most steps): nothing is built for a device that is
 * fine, which is most of what a heartbeat costs otherwise.
 */
export function evaluateHealth(state: HealthState, ctx: EvalContext, trueOnly = false): Evaluation[] {
  const out: Evaluation[] = []
  for (const deviceId in ctx.devices) {
    const info = ctx.devices[deviceId]!
    const device = state.devices[deviceId]
    if (!device || device.lastSeenAt === null) {
      // Never heard: an installation to finish, never "offline" (and never "recovered" by a restart).
      notTrue(out, trueOnly, 'device_offline', deviceId)
      const due = info.registeredAt + installGraceMs(ctx.settings.health)
      if (ctx.now > due) out.push({ key: `device_not_installed:${deviceId}`, status: 'true', condition: notInstalled(deviceId, info, ctx) })
      else notTrue(out, trueOnly, 'device_not_installed', deviceId)
    } else {
      notTrue(out, trueOnly, 'device_not_installed', deviceId)
      const overdueAt = offlineAt(device, info, ctx)
      if (!device.online) {
        out.push({ key: `device_offline:${deviceId}`, status: 'true', condition: offline(deviceId, info, device.lastSeenAt, 'will', ctx) })
      } else if (ctx.now > overdueAt) {
        out.push({ key: `device_offline:${deviceId}`, status: 'true', condition: offline(deviceId, info, device.lastSeenAt, 'heartbeat', ctx) })
      } else if (device.lastSeenAt < Math.max(ctx.observedFrom, ctx.runningSince ?? 0)) {
        // Not heard since the platform restarted (or away mode ended): a silence not yet long
        // enough to count proves nothing either way, so an offline device stays offline.
        notTrue(out, trueOnly, 'device_offline', deviceId, 'unknown')
      } else {
        notTrue(out, trueOnly, 'device_offline', deviceId)
      }
    }

    const battery = device?.battery ?? null
    const threshold = ctx.settings.health.lowBatteryBelow
    if (battery !== null && battery < threshold) {
      const batteryKey = `low_battery:${deviceId}`
      const name = deviceName(deviceId, info.kind, info.room)
      out.push({
        key: batteryKey,
        status: 'true',
        condition: {
          key: batteryKey,
          kind: 'low_battery',
          explanation: { zh: `${name.zh}电量 ${battery}%,低于 ${threshold}%,请更换电池`, en: `The ${name.en} battery is at ${battery} %, below ${threshold} %: replace it` },
          data: { deviceId, battery, threshold },
        },
      })
    } else {
      notTrue(out, trueOnly, 'low_battery', deviceId)
    }
  }
  return out
}

/** A condition that does not hold (or is unknown), unless the caller asked only for those that do. */
function notTrue(out: Evaluation[], trueOnly: boolean, kind: HealthKind, deviceId: string, status: 'false' | 'unknown' = 'false'): void {
  if (!trueOnly) out.push({ key: `${kind}:${deviceId}`, status })
}

function notInstalled(deviceId: string, info: EvalContext['devices'][string], ctx: EvalContext) {
  const hours = Math.floor((ctx.now - info.registeredAt) / (60 * MINUTE))
  const what = deviceName(deviceId, info.kind, info.room)
  return {
    key: `device_not_installed:${deviceId}`,
    kind: 'device_not_installed' as const,
    explanation: {
      zh: `${what.zh}登记 ${hours} 小时后仍未上报:安装未完成,请安装人员上门检查`,
      en: `The ${what.en} has not reported ${hours} h after it was registered: installation not finished`,
    },
    data: { deviceId, deviceKind: info.kind, registeredAt: info.registeredAt },
  }
}

function offline(deviceId: string, info: EvalContext['devices'][string], lastSeenAt: number | null, reason: 'will' | 'heartbeat', ctx: EvalContext) {
  const name = deviceName(deviceId, info.kind, info.room)
  const silentMin = lastSeenAt === null ? null : Math.round((ctx.now - lastSeenAt) / MINUTE)
  const since = silentMin === null ? { zh: '从未上报', en: 'never reported' } : { zh: `已 ${silentMin} 分钟无消息`, en: `silent for ${silentMin} min` }
  const why = reason === 'will' ? { zh: '连接断开(遗嘱消息)', en: 'connection lost (Last Will)' } : { zh: '心跳超时', en: 'heartbeat overdue' }
  return {
    key: `device_offline:${deviceId}`,
    kind: 'device_offline' as const,
    explanation: { zh: `${name.zh}离线:${why.zh},${since.zh}`, en: `The ${name.en} is offline: ${why.en}, ${since.en}` },
    data: { deviceId, deviceKind: info.kind, lastSeenAt, reason },
  }
}

export function nextHealthCheck(state: HealthState, ctx: EvalContext): number | null {
  let next: number | null = null
  for (const deviceId in ctx.devices) {
    const info = ctx.devices[deviceId]!
    const device = state.devices[deviceId]
    const seen = device?.lastSeenAt != null
    const at = (seen ? offlineAt(device, info, ctx) : info.registeredAt + installGraceMs(ctx.settings.health)) + 1
    if (at > ctx.now && (next === null || at < next)) next = at
  }
  return next
}
