/**
 * Topic ACL of contract v1 §Connection, pure: a device publishes only under
 * `anju/v1/dev/{its id}/` (alarm, telemetry, status) and subscribes only to its own `cmd`.
 */
import { cmdTopic, parseDeviceTopic, type UplinkChannel } from '../contract/index.js'

export type PublishDecision = { allowed: true; channel: UplinkChannel } | { allowed: false; reason: string }

export function decidePublish(deviceId: string, topic: string): PublishDecision {
  const parsed = parseDeviceTopic(topic)
  if (!parsed) return { allowed: false, reason: `topic ${topic} is not a contract v1 device topic` }
  if (parsed.deviceId !== deviceId) return { allowed: false, reason: `topic ${topic} belongs to another device` }
  if (parsed.channel === 'cmd') return { allowed: false, reason: 'devices may not publish commands' }
  return { allowed: true, channel: parsed.channel }
}

export function maySubscribe(deviceId: string, topicFilter: string): boolean {
  return topicFilter === cmdTopic(deviceId)
}
