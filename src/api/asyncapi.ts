/**
 * The live channels as an AsyncAPI 3.0 document, served at GET /docs/asyncapi.json beside the
 * OpenAPI document (/docs); docs/realtime.md says the same for people. Each event's arguments
 * are a zod tuple built from the REST views (api/views.ts), so a field added to a view is in both
 * documents. What the server really emits is checked against this document by
 * tests/api/asyncapi.test.ts; the tuples are also checked against the emitters' types below.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServerToFamily } from '../delivery/family-realtime.js'
import type { ServerToOperator } from '../delivery/realtime.js'
import { incidentEventView, liveIncidentView } from './views.js'
import { liveTicketView, ticketEventView } from './ticket-views.js'

/** Each event's arguments, in order (Socket.IO events carry a list of arguments). */
export const operatorEvents = {
  'incidents:snapshot': {
    args: z.tuple([z.array(liveIncidentView).describe('every active (open or acknowledged) incident this user may see')]),
    summary: 'The active incidents, on every (re)connect',
    description:
      'Sent once right after each connect and reconnect. Socket.IO delivers at most once: this snapshot, not the transport, makes a console whole again after a gap; replace the list with it.\n\n每次(重新)连接后发送一次:全部未结案事件,用它替换本地列表。',
  },
  incident: {
    args: z.tuple([liveIncidentView, z.array(incidentEventView).describe('the trail entries this change added')]),
    summary: 'An incident opened or changed',
    description:
      'An alarm or a finding opened or added to an incident, or it was acknowledged, resolved or cleared, or a family member said they are on the way, arrived or is overdue (`familyResponse`). First argument: the incident as it is now; second: the trail entries of this change (an SOS push carries its `opened` or `alarm` entry with `detail.messageId`).\n\n事件新开或变化:参数一为事件现状,参数二为本次新增的处理记录。',
  },
  'incident:events': {
    args: z.tuple([z.string().describe('incidentId'), z.array(incidentEventView)]),
    summary: 'The trail grew; the incident itself did not change',
    description:
      'A ladder step notified someone (`escalated`), a notice was delivered or failed (`notification`), or a family member called back without going (`family_response`). Append the entries to the incident\'s trail.\n\n处理记录新增(通知、送达结果、家属回复),事件状态未变。',
  },
  'incident:alert': {
    args: z.tuple([z.object({ incidentId: z.string(), step: z.string().describe('the escalation step that ran, e.g. reminder-1') })]),
    summary: 'Nobody has acknowledged yet: alert the consoles again',
    description: 'The escalation ladder reached a step that re-alerts the operators (sound, banner) for an incident still open.\n\n仍无人接警:升级提醒,值班台再次响铃。',
  },
  'ticket:changed': {
    args: z.tuple([liveTicketView, z.array(ticketEventView).describe('the trail entries this change added')]),
    summary: 'A service ticket (服务工单) opened or changed',
    description:
      'A green-key press opened a ticket or joined the open one (`presses`), or an operator entered, re-typed, dispatched, completed or cancelled one, or recorded the feedback. Sent to the operators of its community only. Service tickets are never incidents: they do not come as `incident`, nor in the snapshot; read the queue over REST (GET /api/service-tickets) on (re)connect.\n\n服务工单新建或变化(与紧急事件分开):参数一为工单现状,参数二为本次新增的处理记录。',
  },
  'session:ended': {
    args: z.tuple([]),
    summary: 'The session ended; the socket closes next',
    description:
      "The login expired (12 h without renewal, on the platform's clock) or the user logged out elsewhere. No arguments. The server disconnects the socket right after: log in again.\n\n登录已过期或在别处退出:连接随即关闭,需重新登录。",
  },
} satisfies Record<keyof ServerToOperator, EventDoc>

export const familyEvents = {
  changed: {
    args: z.tuple([
      z.union([
        z.object({ incidentId: z.string() }).describe('one of the elder’s incidents changed'),
        z.object({ questionId: z.string() }).describe('the platform asks the family a question ("is she with you?")'),
      ]),
    ]),
    summary: 'Something on the family page changed: read GET /api/family/overview again',
    description:
      'Only an id travels here; the page reads the overview over REST, which checks the link each time. Not sent for trail entries the family page does not show (ladder steps, notices), nor for maintenance incidents.\n\n老人的事件有变化或平台向家属提问:请重新读取概览。',
  },
} satisfies Record<keyof ServerToFamily, EventDoc>

interface EventDoc {
  args: z.ZodTuple
  summary: string
  description: string
}

// The tuples describe what the emitters are typed to send: a changed emitter signature fails the type check here.
type Args<E extends Record<string, EventDoc>, K extends keyof E> = z.infer<E[K]['args']>
type Covers<Sent, Doc> = [Sent] extends [Doc] ? true : false
const typesAgree: {
  [K in keyof ServerToOperator]: Covers<Parameters<ServerToOperator[K]>, Args<typeof operatorEvents, K>>
} & { [K in keyof ServerToFamily]: Covers<Parameters<ServerToFamily[K]>, Args<typeof familyEvents, K>> } = {
  'incidents:snapshot': true,
  incident: true,
  'incident:events': true,
  'incident:alert': true,
  'ticket:changed': true,
  'session:ended': true,
  changed: true,
}
void typesAgree

const schema = (s: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { target: 'draft-7', io: 'output' })
  return rest
}

function messages(events: Record<string, EventDoc>) {
  return Object.fromEntries(
    Object.entries(events).map(([name, e]) => [
      messageKey(name),
      { name, title: name, summary: e.summary, description: e.description, contentType: 'application/json', payload: { ...schema(e.args), description: 'the Socket.IO event arguments, in order' } },
    ]),
  )
}
const messageKey = (event: string) => event.replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase())

/** The AsyncAPI 3.0 document; `host` is where the caller reached the platform. */
export function asyncApiDocument(host: string) {
  const channels = {
    operators: {
      address: '/',
      title: 'Operator console (Socket.IO namespace /)',
      description:
        'Connect with `io(url, { auth: { token } })`, the token from POST /api/login. An operator joins the rooms of the communities they serve, an admin all of them. Clients send nothing on this channel; actions go through the REST API (/docs).\n\n值班台实时通道:用登录令牌连接,只接收本人负责社区的事件。',
      messages: Object.fromEntries(Object.keys(operatorEvents).map((e) => [messageKey(e), { $ref: `#/components/messages/${messageKey(e)}` }])),
    },
    family: {
      address: '/family',
      title: 'Family page (Socket.IO namespace /family)',
      description:
        'Connect with `io(url + "/family", { auth: { token } })`, the token of a family link. A link hears its own household only; the channel closes when the link expires or is revoked.\n\n家属页面实时通道:用家属链接令牌连接,只接收本户的变化。',
      messages: { changed: { $ref: '#/components/messages/changed' } },
    },
  }
  const operation = (channel: keyof typeof channels, event: string, e: EventDoc) => ({
    action: 'send',
    channel: { $ref: `#/channels/${channel}` },
    summary: e.summary,
    messages: [{ $ref: `#/channels/${channel}/messages/${messageKey(event)}` }],
  })
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Anju live channels',
      version: '1.0.0',
      description:
        'Socket.IO (v4) over WebSocket or long polling, path /socket.io/. The platform sends; clients only listen. Each message payload is the list of the event\'s arguments. Socket.IO delivers at most once: reload state on (re)connect. REST: /docs. For people: docs/realtime.md.\n\n实时通道说明(Socket.IO):平台推送,客户端只接收。',
    },
    defaultContentType: 'application/json',
    servers: {
      platform: {
        host,
        protocol: 'ws',
        pathname: '/socket.io/',
        description: 'Socket.IO v4 on the HTTP port of the platform',
        security: [{ $ref: '#/components/securitySchemes/operatorToken' }, { $ref: '#/components/securitySchemes/familyLink' }],
      },
    },
    channels,
    operations: {
      ...Object.fromEntries(Object.entries(operatorEvents).map(([event, e]) => [`send${messageKey(event).replace(/^./, (c) => c.toUpperCase())}`, operation('operators', event, e)])),
      sendChanged: operation('family', 'changed', familyEvents.changed),
    },
    components: {
      messages: { ...messages(operatorEvents), ...messages(familyEvents) },
      securitySchemes: {
        operatorToken: { type: 'httpApiKey', name: 'token', in: 'query', description: 'Namespace /: the token of POST /api/login, passed in the Socket.IO handshake as `auth.token` (not a query parameter; AsyncAPI has no type for a handshake payload). Refused with a connect_error when missing or expired.' },
        familyLink: { type: 'httpApiKey', name: 'token', in: 'query', description: 'Namespace /family: the token of a family link (the `t` of /family.html?t=…), passed as `auth.token` in the handshake.' },
      },
    },
  }
}

export const asyncApiRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/docs/asyncapi.json', { schema: { hide: true } }, async (request) => asyncApiDocument(request.headers.host ?? 'localhost'))
}
