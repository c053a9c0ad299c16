/**
 * Asking before alerting, at the edge: carries out the detectors' questions (activity.ts). A
 * check-in goes to each button that declared it can play one (contract v1.1 `checkin`); a
 * question to the family goes to the first family contact through the outbox, with a link to
 * the family view where they answer ("在我这里", "已电话联系,老人平安", "不在我这里").
 * Nothing here waits on the alarm path: it listens to the bus after the fact.
 */
import type { Logger } from 'pino'
import type { CommandPayload } from '../contract/index.js'
import type { ChannelName, Notification } from '../delivery/channels/channel.js'
import type { Outbox } from '../delivery/outbox.js'
import type { CheckRequest } from '../detectors/activity.js'
import type { DetectorEvents } from '../detectors/service.js'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { inFlight } from '../shared/in-flight.js'
import type { Db } from '../store/database.js'
import { outboxRepository } from '../store/outbox.js'
import { registryRepository } from '../store/registry.js'
import type { FamilyLinks } from './family-links.js'
import { resolveDeliveries } from './recipients.js'
import { resolveRouting } from './settings.js'

const OWNER = 'questions'
/** What a button without its own recording plays (contract v1.1: or its own recorded equivalent). */
export const CHECKIN_PROMPT = '您好,这里是社区安居平台,请按任意键报平安'
/** A family question's link works for a day: long enough to answer, short enough to lose no sleep over. */
const QUESTION_LINK_TTL_MS = 24 * 3_600_000

export function createQuestions(deps: {
  db: Db
  outbox: Outbox
  links: FamilyLinks
  bus: EventBus<DetectorEvents>
  clock: Clock
  log: Logger
  send: (deviceId: string, command: CommandPayload) => Promise<void>
  publicUrl: string
  channels: ReadonlySet<ChannelName>
}) {
  const { db, outbox, links, bus, clock, log } = deps
  const working = inFlight()

  async function checkin(r: CheckRequest): Promise<void> {
    const command: CommandPayload = { id: r.commandId!, ts: clock.now(), cmd: 'checkin', prompt: CHECKIN_PROMPT, timeoutS: r.timeoutS! }
    await Promise.all((r.deviceIds ?? []).map((deviceId) => deps.send(deviceId, command)))
    log.info({ householdId: r.householdId, checkId: r.checkId, commandId: r.commandId, devices: r.deviceIds }, 'check-in sent')
  }

  async function askFamily(r: CheckRequest): Promise<void> {
    const registry = registryRepository(db)
    const household = await registry.households.get(r.householdId)
    if (!household) return
    const community = await registry.communities.get(household.communityId)
    const contacts = await registry.contacts.list(r.householdId)
    const now = clock.now()
    // Priority 2: not held for quiet hours (the question is why nobody is alerted yet), but a contact's own hours count.
    const deliveries = resolveDeliveries({ targets: ['first_family'], contacts, routing: resolveRouting(community?.routing), priority: 2, now }).filter((d) => deps.channels.has(d.channel))
    const queue = outboxRepository(db)
    for (const d of deliveries) {
      const contact = contacts.find((c) => `contact:${c.id}` === d.recipientId)
      if (!contact) continue
      const token = links.viewToken({ householdId: household.id, contactId: contact.id, expiresAt: now + QUESTION_LINK_TTL_MS, version: contact.viewLinkVersion })
      const link = `${deps.publicUrl.replace(/\/$/, '')}/family.html?t=${encodeURIComponent(token)}`
      const notification: Notification = {
        key: `${r.checkId}:${d.recipientId}:${d.channel}`,
        incidentId: r.checkId,
        priority: 2,
        to: d.to,
        title: `${household.elderName}今天在您那里吗?`,
        text: {
          zh: `【安居】${household.elderName}今天在您那里吗?平台有一段时间没有看到老人在家活动。请点链接回答:${link}`,
          en: `[Anju] Is ${household.elderName} with you today? The platform has not seen her active at home for a while. Please answer here: ${link}`,
        },
        link,
        data: { checkId: r.checkId, householdId: household.id, elderName: household.elderName, question: 'where' },
      }
      await queue.enqueue({ key: notification.key, incidentId: r.checkId, channel: d.channel, audience: d.audience, recipientId: d.recipientId, priority: 2, notification, nextAttemptAt: d.notBefore, createdAt: now })
    }
    log.info({ householdId: r.householdId, checkId: r.checkId, notices: deliveries.length }, 'family asked')
    void outbox.kick()
  }

  bus.on('checkin.requested', OWNER, (r) => {
    void working.track((r.kind === 'device_checkin' ? checkin(r) : askFamily(r)).catch((err: unknown) => log.error({ err, householdId: r.householdId, checkId: r.checkId }, 'question not put')))
  })

  return {
    async stop(): Promise<void> {
      bus.removeOwner(OWNER)
      await working.settle()
    },
    /** Resolves when every question so far has gone out (tests). */
    settle: working.settle,
  }
}

export type Questions = ReturnType<typeof createQuestions>
