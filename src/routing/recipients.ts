/**
 * From ladder targets to concrete deliveries, pure: which people and systems, by which channel,
 * and not before when (quiet hours for low-priority notices, a contact's availability hours).
 */
import type { ChannelName, Recipient } from '../delivery/channels/channel.js'
import { localMinuteOfDay, minutesOf } from '../detectors/local-time.js'
import type { Contact } from '../store/registry.js'
import type { RoutingSettings, StaffRecipient, Target } from './settings.js'

export interface Delivery {
  /** Stable id of the person or system: `contact:…`, `supervisor:…`, `webhook:…`. */
  recipientId: string
  audience: Target
  channel: ChannelName
  to: Recipient
  notBefore: number
}

export interface ResolveInput {
  targets: readonly Target[]
  contacts: readonly Contact[]
  routing: RoutingSettings
  priority: number
  now: number
}

const MINUTE = 60_000

/** Minutes from now until local time `hhmm`, 0 when it is `hhmm` now. */
function minutesUntil(now: number, hhmm: string, timeZone: string): number {
  const current = localMinuteOfDay(now, timeZone)
  return (minutesOf(hhmm) - current + 24 * 60) % (24 * 60)
}

function inWindow(now: number, from: string, to: string, timeZone: string): boolean {
  const m = localMinuteOfDay(now, timeZone)
  const a = minutesOf(from)
  const b = minutesOf(to)
  return a <= b ? m >= a && m < b : m >= a || m < b
}

/** When a notice to a person may go out. An SOS (priority 1) always goes at once. */
function notBefore(now: number, priority: number, routing: RoutingSettings, availability: { from: string | null; to: string | null }): number {
  if (priority <= 1) return now
  let at = now
  const tz = routing.timeZone
  if (availability.from && availability.to && !inWindow(at, availability.from, availability.to, tz)) {
    at += minutesUntil(at, availability.from, tz) * MINUTE
  }
  const quiet = routing.quietHours
  if (priority >= 3 && quiet && inWindow(at, quiet.from, quiet.to, tz)) at += minutesUntil(at, quiet.to, tz) * MINUTE
  return at
}

function contactRecipient(c: Contact): Recipient {
  return { name: c.name, phone: c.phone, ...(c.email ? { email: c.email } : {}), ...(c.pushSubscription ? { push: c.pushSubscription } : {}) }
}

function usable(channel: ChannelName, to: Recipient): boolean {
  if (channel === 'sms') return Boolean(to.phone)
  if (channel === 'email') return Boolean(to.email)
  if (channel === 'webpush') return Boolean(to.push)
  return Boolean(to.url)
}

export function resolveDeliveries({ targets, contacts, routing, priority, now }: ResolveInput): Delivery[] {
  const out: Delivery[] = []
  const seen = new Set<string>()
  const add = (d: Delivery) => {
    const key = `${d.recipientId}|${d.channel}`
    if (!seen.has(key) && usable(d.channel, d.to)) {
      seen.add(key)
      out.push(d)
    }
  }
  const byAudience = (a: Contact['audience']) => contacts.filter((c) => c.audience === a).sort((x, y) => x.position - y.position)
  const fromContacts = (audience: Target, list: readonly Contact[]) => {
    for (const c of list) {
      for (const channel of c.channels) {
        add({ recipientId: `contact:${c.id}`, audience, channel, to: contactRecipient(c), notBefore: notBefore(now, priority, routing, { from: c.availableFrom, to: c.availableTo }) })
      }
    }
  }
  const fromStaff = (audience: Target, prefix: string, list: readonly StaffRecipient[]) => {
    for (const r of list) {
      const to: Recipient = { name: r.name, ...(r.phone ? { phone: r.phone } : {}), ...(r.email ? { email: r.email } : {}) }
      for (const channel of r.channels) add({ recipientId: `${prefix}:${r.id}`, audience, channel, to, notBefore: notBefore(now, priority, routing, { from: null, to: null }) })
    }
  }

  for (const target of targets) {
    switch (target) {
      case 'operators':
        break // the consoles: Socket.IO, not the outbox
      case 'first_family': {
        const family = byAudience('family')
        // The first in the household's order who may be called now; else simply the first.
        const first = family.find((c) => !c.availableFrom || !c.availableTo || inWindow(now, c.availableFrom, c.availableTo, routing.timeZone)) ?? family[0]
        if (first) fromContacts(target, [first])
        break
      }
      case 'family':
      case 'neighbour':
      case 'building_lead':
      case 'doctor':
        fromContacts(target, byAudience(target))
        break
      case 'property':
        fromContacts(target, byAudience('property'))
        fromStaff(target, 'property', routing.property)
        break
      case 'supervisors':
        fromStaff(target, 'supervisor', routing.supervisors)
        break
      case 'maintenance':
        fromStaff(target, 'maintenance', routing.maintenance)
        break
      case 'webhooks':
        for (const w of routing.webhooks) add({ recipientId: `webhook:${w.id}`, audience: target, channel: 'webhook', to: { name: w.name, url: w.url, secret: w.secret }, notBefore: now })
        break
    }
  }
  return out
}
