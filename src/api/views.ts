/** Response schemas: what the API shows of each resource (never a secret hash). */
import { z } from 'zod'
import { CHANNEL_NAMES } from '../delivery/channels/channel.js'
import { DEVICE_STATES } from '../detectors/device-state.js'
import { detectorOverrideSchema } from '../detectors/settings.js'
import { routingSettingsSchema } from '../routing/settings.js'
import { AUDIENCES } from '../store/registry.js'
import { ALL_OUTCOMES, CATEGORY, PRIORITY, type Category, type IncidentType } from '../incidents/model.js'
import { DEVICE_KINDS } from '../store/registry.js'
import { ROLES } from '../store/users.js'

export const userView = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(ROLES),
  communityIds: z.array(z.string()),
})

export const communityView = z.object({
  id: z.string(),
  name: z.string(),
  street: z.string(),
  detectorSettings: detectorOverrideSchema.nullable(),
  routing: routingSettingsSchema.nullable(),
  createdAt: z.number(),
})

export const contactView = z.object({
  id: z.string(),
  householdId: z.string(),
  name: z.string(),
  relation: z.string(),
  audience: z.enum(AUDIENCES),
  phone: z.string(),
  email: z.string().nullable(),
  channels: z.array(z.enum(CHANNEL_NAMES)),
  position: z.number(),
  availableFrom: z.string().nullable(),
  availableTo: z.string().nullable(),
  pushSubscribed: z.boolean(),
})

export const householdView = z.object({
  id: z.string(),
  communityId: z.string(),
  registryRef: z.string().nullable().describe("户编号: the street office's household number, unique within the community; null when entered by hand and not yet imported"),
  elderName: z.string(),
  age: z.number().nullable(),
  address: z.string(),
  phone: z.string().nullable(),
  medicalNotes: z.string().nullable(),
  keySafe: z.string().nullable().describe('where the key box is and its code; operators only'),
  awayUntil: z.number().nullable().describe('away mode (hospital, visiting family) until this instant'),
  detectorSettings: detectorOverrideSchema.nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
})

/**
 * A household in a list, or as an answer to a change: without the key-safe code and the medical
 * notes, which only the profile (GET /api/households/{id}) carries, each reading of it audited.
 */
export const householdSummary = householdView.omit({ keySafe: true, medicalNotes: true }).extend({
  hasKeySafe: z.boolean().describe('a key-safe code is on file (read it in the profile)'),
  hasMedicalNotes: z.boolean(),
})

export function summaryOf(h: z.infer<typeof householdView>): z.infer<typeof householdSummary> {
  const { keySafe, medicalNotes, ...rest } = h
  return { ...rest, hasKeySafe: Boolean(keySafe), hasMedicalNotes: Boolean(medicalNotes) }
}

export const deviceView = z.object({
  id: z.string(),
  householdId: z.string(),
  kind: z.enum(DEVICE_KINDS),
  room: z.string().nullable(),
  heartbeatS: z.number(),
  lastSeenAt: z.number().nullable(),
  online: z.boolean().nullable(),
  battery: z.number().nullable(),
  fw: z.string().nullable(),
  createdAt: z.number(),
  state: z.enum(DEVICE_STATES).describe('the server\'s verdict (docs/operations.md §device states): not_reporting_yet, offline (Last Will), silent (heartbeat overdue), low_battery, online'),
  installOverdue: z.boolean().describe('never heard past the installation grace period (detectorSettings.health.installGraceH)'),
  lowBattery: z.boolean(),
})

export const deviceWithSecret = deviceView.extend({
  secret: z.string().describe('the device password; shown only now, store it in the device'),
})

export const incidentView = z.object({
  id: z.string(),
  householdId: z.string(),
  communityId: z.string(),
  deviceId: z.string(),
  category: z.enum([...new Set(Object.values(CATEGORY))] as [Category, ...Category[]]),
  type: z.enum(Object.keys(PRIORITY) as [IncidentType, ...IncidentType[]]),
  priority: z.number(),
  state: z.enum(['open', 'acknowledged', 'resolved']),
  cancelledByResident: z.boolean(),
  openedAt: z.number(),
  acknowledgedAt: z.number().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.number().nullable(),
  resolvedBy: z.string().nullable(),
  outcome: z.enum(ALL_OUTCOMES).nullable().describe('settled_by_family: a wellbeing or visit incident the family closed, where the community allows it; visited: a visit incident closed by the visit it asked for'),
  note: z.string().nullable(),
  updatedAt: z.number(),
  conditions: z.array(z.string()).describe('detector conditions true now'),
  conditionCleared: z.boolean().describe('every condition has cleared; an operator confirms and closes'),
  explanation: z.object({ zh: z.string(), en: z.string() }).nullable(),
  familyResponse: z
    .object({
      contactId: z.string(),
      contactName: z.string(),
      relation: z.string(),
      state: z.enum(['en_route', 'arrived', 'overdue']).describe('家属前往中 / 家属已到达 / 家属未按时到达'),
      since: z.number(),
      dueAt: z.number().nullable().describe('arrival expected by then; null once arrived'),
      arrivedAt: z.number().nullable(),
    })
    .nullable()
    .describe('a family member who said 我去看看 (not an acknowledgement: the incident stays with the operators)'),
})

/** An incident as the console receives it live (Socket.IO, api/asyncapi.ts): the REST view with the household's name, address and phone. */
export const liveIncidentView = incidentView.extend({
  household: z
    .object({ elderName: z.string(), address: z.string(), phone: z.string().nullable() })
    .nullable()
    .describe('null when the household has since been deleted'),
})

export const incidentEventView = z.object({
  incidentId: z.string(),
  at: z.number(),
  actor: z.string(),
  kind: z.string(),
  deviceId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
})

export const idParam = z.object({ id: z.string().min(1).max(100) })
