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
import type { EventBus } from '../shared/events.js'
import type { RegistryRepository } from '../store/registry.js'
import type { User } from '../store/users.js'

export interface IncidentView extends Incident {
  household: { elderName: string; address: string; phone: string | null } | null
}

export interface ServerToOperator {
  'incidents:snapshot': (incidents: IncidentView[]) => void
  incident: (incident: IncidentView, events: IncidentEvent[]) => void
  /** The audit trail grew (who was notified, delivery results, a family answer); the incident did not change. */
  'incident:events': (incidentId: string, events: IncidentEvent[]) => void
  /** Nobody has acknowledged yet: the escalation ladder alerts the consoles again. */
  'incident:alert': (alert: { incidentId: string; step: string }) => void
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
  log: Logger
}) {
  const { httpServer, auth, incidents, registry, bus, log } = deps
  // destroyUpgrade off: the same HTTP server also upgrades /mqtt for devices.
  const io = new Server<Record<string, never>, ServerToOperator, Record<string, never>, { user: User }>(httpServer, {
    destroyUpgrade: false,
    serveClient: true,
  })

  async function view(incident: Incident): Promise<IncidentView> {
    const h = await registry.households.get(incident.householdId)
    return { ...incident, household: h ? { elderName: h.elderName, address: h.address, phone: h.phone } : null }
  }

  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token
    auth.userForToken(typeof token === 'string' ? token : undefined).then(
      (user) => {
        if (!user) return next(new Error('unauthorized: log in and pass the token as auth.token'))
        socket.data.user = user
        next()
      },
      (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
    )
  })

  io.on('connection', (socket) => {
    const user = socket.data.user
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
      .then((v) => io.to([communityRoom(incident.communityId), 'admins']).emit('incident', v, events))
      .catch((err: unknown) => log.error({ err, incidentId: incident.id }, 'incident push failed'))
  })

  bus.on('incident.escalated', OWNER, ({ incident, step }) => {
    io.to([communityRoom(incident.communityId), 'admins']).emit('incident:alert', { incidentId: incident.id, step })
  })

  return {
    io,
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
