/**
 * Device contract v1 topics. Every topic string in Anju is built and parsed here.
 *
 * Accepted forms (contract §Connection, §Device to platform, §Platform to device):
 *   anju/v1/dev/{deviceId}/alarm       device → platform, QoS 1
 *   anju/v1/dev/{deviceId}/telemetry   device → platform, QoS 0 or 1
 *   anju/v1/dev/{deviceId}/status      device → platform, QoS 1, retained (also the Last Will)
 *   anju/v1/dev/{deviceId}/cmd         platform → device, QoS 1
 */

export const TOPIC_PREFIX = 'anju/v1/dev/'

/** Client id = username = device id: 1 to 64 characters of [A-Za-z0-9_-]. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

export const UPLINK_CHANNELS = ['alarm', 'telemetry', 'status'] as const
export type UplinkChannel = (typeof UPLINK_CHANNELS)[number]
export type Channel = UplinkChannel | 'cmd'

export function isDeviceId(value: string): boolean {
  return DEVICE_ID_PATTERN.test(value)
}

export function deviceTopic(deviceId: string, channel: Channel): string {
  return `${TOPIC_PREFIX}${deviceId}/${channel}`
}

export const cmdTopic = (deviceId: string): string => deviceTopic(deviceId, 'cmd')

export interface ParsedTopic {
  deviceId: string
  channel: Channel
}

/** Parses a concrete (wildcard-free) device topic; anything else is null. */
export function parseDeviceTopic(topic: string): ParsedTopic | null {
  if (!topic.startsWith(TOPIC_PREFIX)) return null
  const rest = topic.slice(TOPIC_PREFIX.length)
  const slash = rest.indexOf('/')
  if (slash <= 0) return null
  const deviceId = rest.slice(0, slash)
  const channel = rest.slice(slash + 1)
  if (!isDeviceId(deviceId)) return null
  if (channel !== 'cmd' && !(UPLINK_CHANNELS as readonly string[]).includes(channel)) return null
  return { deviceId, channel: channel as Channel }
}
