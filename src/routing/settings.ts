/**
 * Who is alerted, when, for each kind of incident. A community may override any part; the
 * defaults follow the telecare benchmark (97.5 % of calls answered in 60 s, 99 % in 180 s).
 */
import { z } from 'zod'
import { CHANNEL_NAMES } from '../delivery/channels/channel.js'

/** Everyone a ladder step can reach. `operators` are the community's consoles (Socket.IO). */
export const TARGETS = ['operators', 'supervisors', 'first_family', 'family', 'neighbour', 'building_lead', 'property', 'doctor', 'maintenance', 'webhooks'] as const
export type Target = (typeof TARGETS)[number]

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time as HH:MM')

const recipient = z.object({
  id: z.string().min(1).max(64),
  name: z.string().min(1).max(50),
  phone: z.string().optional(),
  email: z.string().email().optional(),
  channels: z.array(z.enum(CHANNEL_NAMES)).default(['sms']),
})
export type StaffRecipient = z.infer<typeof recipient>

const webhook = z.object({
  id: z.string().min(1).max(64),
  name: z.string().min(1).max(50),
  url: z.string().url(),
  secret: z.string().min(16),
})

const step = z.object({ afterS: z.number().int().min(0), notify: z.array(z.enum(TARGETS)).min(1) })
const ladder = z.object({
  steps: z.array(step).min(1),
  /** After the last step, remind every this many seconds until someone acknowledges; null = never. */
  reminderEveryS: z.number().int().min(30).nullable(),
  reminderNotify: z.array(z.enum(TARGETS)),
})
export type Ladder = z.infer<typeof ladder>

export const LADDER_NAMES = ['urgent', 'wellbeing', 'property', 'visit', 'maintenance', 'service'] as const
export type LadderName = (typeof LADDER_NAMES)[number]

export const DEFAULT_LADDERS: Record<LadderName, Ladder> = {
  // SOS, fall, smoke, gas and the possible falls: operators and the family at once; the
  // supervisor tier at 60 s; every family contact and the property manager at 180 s.
  urgent: {
    steps: [
      { afterS: 0, notify: ['operators', 'first_family', 'webhooks'] },
      { afterS: 60, notify: ['operators', 'supervisors'] },
      { afterS: 180, notify: ['family', 'property'] },
    ],
    reminderEveryS: 300,
    reminderNotify: ['operators', 'supervisors', 'first_family'],
  },
  // Inactivity and no water: operators, then the family.
  wellbeing: { steps: [{ afterS: 0, notify: ['operators'] }, { afterS: 1800, notify: ['first_family'] }], reminderEveryS: 3600, reminderNotify: ['operators'] },
  property: { steps: [{ afterS: 0, notify: ['property'] }], reminderEveryS: null, reminderNotify: [] },
  visit: { steps: [{ afterS: 0, notify: ['operators'] }], reminderEveryS: null, reminderNotify: [] },
  maintenance: { steps: [{ afterS: 0, notify: ['maintenance'] }], reminderEveryS: null, reminderNotify: [] },
  service: { steps: [{ afterS: 0, notify: ['operators'] }], reminderEveryS: null, reminderNotify: [] },
}

export const routingSettingsSchema = z.object({
  timeZone: z.string().default('Asia/Shanghai'),
  supervisors: z.array(recipient).default([]),
  /** The community's property manager (物业), besides any property contact of a household. */
  property: z.array(recipient).default([]),
  /** Installers who replace batteries and revive offline devices. */
  maintenance: z.array(recipient).default([]),
  /** Signed webhooks to street platforms (一网统管) and 120 dispatch. */
  webhooks: z.array(webhook).default([]),
  /** Low-priority notices (priority 3 and 4) to people wait until quiet hours end. */
  quietHours: z.object({ from: hhmm, to: hhmm }).nullable().default({ from: '22:00', to: '07:00' }),
  ladders: z
    .object(Object.fromEntries(LADDER_NAMES.map((n) => [n, ladder.default(DEFAULT_LADDERS[n])])) as Record<LadderName, z.ZodDefault<typeof ladder>>)
    .prefault({}),
  /**
   * Family answers as a closed loop (docs/operations.md §family): a family member who said 我去看看
   * confirms arrival within `arriveWithinMin`, or the operators are alerted again; where
   * `maySettleWellbeing`, their word that she is safe closes a wellbeing or visit incident
   * (never an SOS, fall, smoke or gas alarm).
   */
  family: z
    .object({
      arriveWithinMin: z.number().int().min(5).max(240).default(30),
      maySettleWellbeing: z.boolean().default(false),
    })
    .prefault({}),
})
export type RoutingSettings = z.infer<typeof routingSettingsSchema>
export type RoutingOverride = z.input<typeof routingSettingsSchema>

export function resolveRouting(override: RoutingOverride | null | undefined): RoutingSettings {
  return routingSettingsSchema.parse(override ?? {})
}

/** Which ladder an incident climbs: by category, and a possible fall climbs the urgent one. */
export function ladderFor(category: string, priority: number): LadderName {
  if (category === 'emergency' || (category === 'wellbeing' && priority <= 2)) return 'urgent'
  // An unfinished installation goes to whoever maintains the devices.
  if (category === 'installation') return 'maintenance'
  if (category === 'wellbeing' || category === 'property' || category === 'visit' || category === 'maintenance' || category === 'service') return category
  return 'service'
}
