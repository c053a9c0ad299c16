/**
 * A month of service tickets for the demo district (docs/operations.md §service requests), so the
 * service queue and the monthly report have content on first start: about two requests a day
 * across the six households and every type, most done with the elder's feedback, a few cancelled,
 * the last days' still dispatched or waiting. Built with the model's own transitions, so each
 * ticket's trail is what the platform would have written. Deterministic: the same month each time.
 */
import { startOfLocalDay } from '../detectors/local-time.js'
import { openByOperator, openFromButton, transition, type Feedback, type ServiceTicket, type TicketCommand, type TicketEvent, type TicketType } from '../service-requests/model.js'
import type { Db } from '../store/database.js'
import { serviceTicketRepository } from '../store/service-tickets.js'

const DAY = 86_400_000
const MIN = 60_000
const TZ = 'Asia/Shanghai'

/** The demo households (seed.ts) with their community's operator and button. */
const HOMES = [
  { householdId: 'hh-0001', communityId: 'com-meiyuan', operator: 'user:op-meiyuan', button: 'btn-0001' },
  { householdId: 'hh-0002', communityId: 'com-meiyuan', operator: 'user:op-meiyuan', button: 'btn-0002' },
  { householdId: 'hh-0003', communityId: 'com-meiyuan', operator: 'user:op-meiyuan', button: 'btn-0003' },
  { householdId: 'hh-0004', communityId: 'com-lanting', operator: 'user:op-lanting', button: 'btn-0004' },
  { householdId: 'hh-0005', communityId: 'com-lanting', operator: 'user:op-lanting', button: 'btn-0005' },
  { householdId: 'hh-0006', communityId: 'com-lanting', operator: 'user:op-lanting', button: 'btn-0006' },
]
/** Meals are asked for most, then bathing and the doctor; repairs and other now and then. */
const TYPES: TicketType[] = ['meal', 'meal', 'meal', 'meal', 'bath', 'bath', 'medical', 'medical', 'repair', 'other']
const PROVIDERS: Record<TicketType, string[]> = {
  meal: ['梅园长者食堂', '兰亭助餐点'],
  bath: ['爱心助浴队'],
  medical: ['社区卫生服务中心 家庭医生'],
  repair: ['物业维修班'],
  other: ['社区志愿者服务队'],
}
const NOTES: Record<TicketType, string> = {
  meal: '午餐送餐上门',
  bath: '上门助浴',
  medical: '上门量血压、配药',
  repair: '水龙头漏水',
  other: '代缴水电费',
}
const FEEDBACK_NOTES: Record<Feedback, string[]> = {
  satisfied: ['服务很好', '饭菜可口', '态度热情', ''],
  neutral: ['来得有点晚', ''],
  unsatisfied: ['饭菜偏凉'],
}

/** A small deterministic generator (the demo is the same on every first start). */
function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** Writes the demo month's tickets in the seed's transaction; returns how many. */
export async function seedDemoTickets(trx: Db, now: number): Promise<number> {
  const repo = serviceTicketRepository(trx)
  const random = rng(20_261_207)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const today = startOfLocalDay(now, TZ)
  let n = 0
  for (let daysAgo = 30; daysAgo >= 0; daysAgo--) {
    const day = today - daysAgo * DAY
    const count = daysAgo === 0 ? 2 : 1 + Math.floor(random() * 3)
    for (let i = 0; i < count; i++) {
      const home = pick(HOMES)
      const type = pick(TYPES)
      // Daytime requests, 08:00–17:00 local; today's are all before now.
      const at = Math.min(day + 8 * 60 * MIN + Math.floor(random() * 9 * 60) * MIN, now - (count - i) * 20 * MIN)
      const id = `svc_demo_${String(++n).padStart(3, '0')}`
      const byButton = random() < 0.6
      let { ticket, events } = byButton
        ? openFromButton({ id, householdId: home.householdId, communityId: home.communityId, deviceId: home.button, messageId: `demo-${n}` }, at)
        : openByOperator({ id, householdId: home.householdId, communityId: home.communityId, type, note: NOTES[type] }, home.operator, at)
      const step = (command: TicketCommand, actor: string, when: number) => {
        if (when > now) return false
        const next = transition(ticket, command, actor, when)
        if (!next.ok) throw new Error(`demo ticket ${id}: ${next.error.message}`)
        ticket = next.ticket
        events = [...events, ...next.events]
        return true
      }
      // The operator calls back a green-key press and sets what it is for.
      if (byButton) step({ kind: 'set_type', type }, home.operator, at + 5 * MIN)
      // The last day and a half: some still waiting, some on their way.
      const recent = now - at < 36 * 3_600_000
      if (recent && random() < 0.45) {
        await write(repo, ticket, events)
        continue
      }
      if (!step({ kind: 'dispatch', provider: pick(PROVIDERS[type]), note: null }, home.operator, at + (10 + Math.floor(random() * 50)) * MIN)) {
        await write(repo, ticket, events)
        continue
      }
      if (!recent && random() < 0.08) {
        step({ kind: 'cancel', reason: pick(['家属已代办', '老人临时外出', '老人说不需要了']) }, home.operator, at + 90 * MIN)
        await write(repo, ticket, events)
        continue
      }
      const doneAt = at + (90 + Math.floor(random() * 180)) * MIN
      if (recent && random() < 0.5) {
        await write(repo, ticket, events)
        continue
      }
      if (step({ kind: 'complete', note: null }, home.operator, doneAt) && random() < 0.85) {
        const r = random()
        const feedback: Feedback = r < 0.78 ? 'satisfied' : r < 0.95 ? 'neutral' : 'unsatisfied'
        const note = pick(FEEDBACK_NOTES[feedback])
        step({ kind: 'feedback', feedback, note: note || null }, home.operator, doneAt + 20 * 3_600_000)
      }
      await write(repo, ticket, events)
    }
  }
  return n
}

async function write(repo: ReturnType<typeof serviceTicketRepository>, ticket: ServiceTicket, events: TicketEvent[]): Promise<void> {
  await repo.insert(ticket)
  await repo.appendEvents(events)
}
