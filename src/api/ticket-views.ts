/** Service tickets as the REST API and the live channel send them (api/service-ticket-routes.ts, api/asyncapi.ts; the console reads the types). */
import { z } from 'zod'
import { FEEDBACK, TICKET_STATES, TICKET_TYPES } from '../service-requests/model.js'

export const ticketView = z.object({
  id: z.string().describe('svc_…; a green-key request is confirmed to the button with this id as `incidentId` (docs/device-contract.md §6)'),
  householdId: z.string(),
  communityId: z.string(),
  type: z.enum(TICKET_TYPES).describe('meal 助餐, bath 助浴, medical 助医, repair 维修, other 其他 (a green-key press starts as other)'),
  source: z.enum(['button', 'operator']),
  deviceId: z.string().nullable().describe('the button that asked; null when an operator entered it'),
  state: z.enum(TICKET_STATES).describe('pending 待派单 → dispatched 已派单 → done 已完成; cancelled 已取消'),
  provider: z.string().nullable().describe('who was sent (a canteen, a bathing service, the clinic, a repairer)'),
  note: z.string().nullable(),
  presses: z.number().int().describe('green-key presses while it was open (a repeat press joins it)'),
  requestedAt: z.number(),
  requestedBy: z.string().describe('`device:<id>` or `user:<username>`'),
  dispatchedAt: z.number().nullable(),
  dispatchedBy: z.string().nullable(),
  closedAt: z.number().nullable(),
  closedBy: z.string().nullable(),
  feedback: z.enum(FEEDBACK).nullable().describe("the elder's word once done: satisfied 满意, neutral 一般, unsatisfied 不满意"),
  feedbackNote: z.string().nullable(),
  updatedAt: z.number(),
})

/** A ticket with whom it is for (the queue, and the live push). */
export const liveTicketView = ticketView.extend({
  household: z.object({ elderName: z.string(), address: z.string(), phone: z.string().nullable() }).nullable().describe('null when the household has since been deleted'),
})

export const ticketEventView = z.object({
  ticketId: z.string(),
  at: z.number(),
  actor: z.string(),
  kind: z.enum(['requested', 'pressed', 'type_changed', 'dispatched', 'done', 'cancelled', 'feedback']),
  detail: z.record(z.string(), z.unknown()),
})

