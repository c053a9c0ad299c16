/**
 * Socket.IO push to operators. Each operator joins the rooms of the communities they serve
 * (admins join `admins`). Socket.IO delivers at most once, so every (re)connect starts with a
 * snapshot of the active incidents: that, not the transport, is what makes a console whole.
 */
import type { Server as HttpServer } from 'node:http'
import type { Logger } from 'pino'
import { Server } from 'socket.io'
import { communityScope, type Auth } from '../auth/auth.js'
import type { Incident, IncidentEvent } from '../incidents/model.js'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import type { RoutingEvents } from '../routing/service.js'
import type { ServiceTicket, TicketEvent } from '../service-requests/model.js'
import type { Clock, TimerHandle } from '../shared/clock.js'
import { inFlight } from '../shared/in-flight.js'
import type { EventBus } from '../shared/events.js'
import type { RegistryRepository } from '../store/registry.js'
import type { User } from '../store/users.js'

export interface IncidentView extends Incident {
  household: { elderName: string; address: string; phone: string | null } | null
}

export interface TicketView extends ServiceTicket {
  household: { elderName: string; address: string; phone: string | null } | null
}

export interface ServerToOperator {
  'incidents:snapshot': (incidents: IncidentView[]) => void
  incident: (incident: IncidentView, events: IncidentEvent[]) => void
  /** The audit trail grew (who was notified, delivery results, a family answer); the incident did not change. */
  'incident:events': (incidentId: string, events: IncidentEvent[]) => void
  /** Nobody has acknowledged yet: the escalation ladder alerts the consoles again. */
  'incident:alert': (alert: { incidentId: string; step: string }) => void
  /** A service ticket (服务工单) was opened or changed: its view and the trail events it gained. Never an incident. */
  'ticket:changed': (ticket: TicketView, events: TicketEvent[]) => void
  /** The session ended (expired, or logged out elsewhere): the server closes the socket next. */
  'session:ended': () => void
}

const OWNER = 'realtime'
/** Events that add to the audit trail without changing the incident. */
const TRAIL_ONLY: ReadonlySet<IncidentEvent['kind']> = new Set(['escalated', 'notification', 'family_response'])
const communityRoom = (id: string) => `community:${id}`
const userRoom = (id: string) => `user:${id}`

export function createRealtime(deps: {
  httpServer: HttpServer
  auth: Auth
  incidents: Incidents
  registry: RegistryRepository
  bus: EventBus<IncidentEvents & RoutingEvents>
  clock: Clock
  log: Logger
  /** Seconds from an alarm's receipt to its push (metrics). */
  onAlarmPushed?: (seconds: number) => void
}) {
  const { httpServer, auth, incidents, registry, bus, clock, log } = deps
  /** Session checks under way (tests wait for them after moving the clock). */
  const checks = inFlight()
  // destroyUpgrade off: the same HTTP server also upgrades /mqtt for devices.
  const io = new Server<Record<string, never>, ServerToOperator, Record<string, never>, { user: User; token: string; expiresAt: number }>(httpServer, {
    destroyUpgrade: false,
    serveClient: true,
  })

  async function view(incident: Incident): Promise<IncidentView> {
    const h = await registry.households.get(incident.householdId)
    return { ...incident, household: h ? { elderName: h.elderName, address: h.address, phone: h.phone } : null }
  }

  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token
    auth.session(typeof token === 'string' ? token : undefined).then(
      (s) => {
        if (!s) return next(new Error('unauthorized: log in and pass the token as auth.token'))
        // Incidents are for operators: a visitor's account sees its visit list only (api/guards.ts).
        if (s.user.role === 'visitor') return next(new Error('forbidden: a visitor account has no live incident channel'))
        socket.data.user = s.user
        socket.data.token = token as string
        socket.data.expiresAt = s.expiresAt
        next()
      },
      (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
    )
  })

  io.on('connection', (socket) => {
    const user = socket.data.user
    // Rights are checked for as long as the socket lives, not only at connect: at the session's
    // end it is read again (another request may have renewed it), and the socket closed if it is over.
    let timer: TimerHandle | null = null
    const watch = (until: number) => {
      timer = clock.setTimeout(() => {
        timer = null
        void checks.track(
          auth.session(socket.data.token).then(
            (s) => {
              if (!socket.connected) return
              if (s) return watch(s.expiresAt)
              socket.emit('session:ended')
              socket.disconnect(true)
            },
            (err: unknown) => log.error({ err, userId: user.id }, 'session check failed'),
          ),
        )
      }, Math.max(0, until - clock.now()))
    }
    watch(socket.data.expiresAt)
    socket.on('disconnect', () => {
      if (timer) clock.clearTimeout(timer)
    })
    const scope = communityScope(user)
    void socket.join([...(scope ? scope.map(communityRoom) : ['admins']), userRoom(user.id)])
    incidents
      .list({ state: 'active', ...(scope ? { communityIds: scope } : {}) })
      .then((list) => Promise.all(list.map(view)))
      .then((views) => socket.emit('incidents:snapshot', views))
      .catch((err: unknown) => log.error({ err, userId: user.id }, 'snapshot failed'))
  })

  bus.on('incident.changed', OWNER, ({ incident, events }) => {
    const rooms = [communityRoom(incident.communityId), 'admins']
    if (events.every((e) => TRAIL_ONLY.has(e.kind))) {
      io.to(rooms).emit('incident:events', incident.id, events)
      return
    }
    view(incident)
      .then((v) => {
        io.to([communityRoom(incident.communityId), 'admins']).emit('incident', v, events)
        // A device's alarm opens an incident or adds to one; a detector's finding has no device.
        const alarm = events.find((e) => (e.kind === 'opened' || e.kind === 'alarm') && e.deviceId !== null)
        if (alarm) deps.onAlarmPushed?.((clock.now() - alarm.at) / 1000)
      })
      .catch((err: unknown) => log.error({ err, incidentId: incident.id }, 'incident push failed'))
  })

  // Service requests go to the consoles of their community only (docs/operations.md §service requests).
  bus.on('ticket.changed', OWNER, ({ ticket, events }) => {
    registry.households
      .get(ticket.householdId)
      .then((h) => {
        const v: TicketView = { ...ticket, household: h ? { elderName: h.elderName, address: h.address, phone: h.phone } : null }
        io.to([communityRoom(ticket.communityId), 'admins']).emit('ticket:changed', v, events)
      })
      .catch((err: unknown) => log.error({ err, ticketId: ticket.id }, 'ticket push failed'))
  })

  bus.on('incident.escalated', OWNER, ({ incident, step }) => {
    io.to([communityRoom(incident.communityId), 'admins']).emit('incident:alert', { incidentId: incident.id, step })
  })

  return {
    io,
    /** Resolves when every session check started so far has finished. */
    settle: checks.settle,
    /** A logged-out session stops receiving names, addresses and phone numbers at once. */
    disconnectUser(userId: string): void {
      io.in(userRoom(userId)).disconnectSockets(true)
    },
    async close(): Promise<void> {
      bus.removeOwner(OWNER)
      io.disconnectSockets(true)
      // io.close() would also close the shared HTTP server; the app closes that itself.
      io.engine.close()
    },
  }
}

export type Realtime = ReturnType<typeof createRealtime>
