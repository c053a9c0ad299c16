/**
 * The family view's live channel: Socket.IO namespace `/family`, entered with a family link as
 * `auth.token`. A family member joins their household's room and hears `changed` when one of its
 * incidents that concerns them changes; the page then reads the overview again over REST, which
 * checks the link each time. Only the incident id travels here: a link revoked while connected
 * learns nothing but that something changed. Socket.IO delivers at most once, so the page also
 * reads the overview on (re)connect and polls as a fallback.
 */
import type { Logger } from 'pino'
import type { Namespace } from 'socket.io'
import { familyAccess } from '../family/link-access.js'
import { FAMILY_CATEGORIES } from '../family/status.js'
import type { DetectorEvents } from '../detectors/service.js'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import type { FamilyLinks } from '../routing/family-links.js'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import type { RegistryRepository } from '../store/registry.js'

export interface ServerToFamily {
  /** One of the elder's incidents changed, or the platform asked the family a question: read the overview again. */
  changed: (change: { incidentId: string } | { questionId: string }) => void
}

const OWNER = 'family-realtime'
/** Trail entries the family view does not show (who was notified, ladder steps): no reason to reload. */
const UNSEEN: ReadonlySet<string> = new Set(['escalated', 'notification'])
const householdRoom = (id: string) => `household:${id}`
const contactRoom = (id: string) => `contact:${id}`

export function createFamilyRealtime(deps: {
  /** The operators' Socket.IO server (same HTTP server); typed for its own events, so only `of` is asked for. */
  io: { of(name: string): unknown }
  links: FamilyLinks
  registry: RegistryRepository
  incidents: Incidents
  bus: EventBus<IncidentEvents & DetectorEvents>
  clock: Clock
  log: Logger
}) {
  const { io, bus, clock, log } = deps
  const family = io.of('/family') as Namespace<Record<string, never>, ServerToFamily, Record<string, never>, { householdId: string; contactId: string; expiresAt: number }>

  family.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token
    if (typeof token !== 'string' || token.length === 0 || token.length > 2000) return next(new Error('unauthorized: pass the family link as auth.token'))
    familyAccess(deps, token, clock.now()).then(
      (r) => {
        if (!r.ok) return next(new Error(r.reason === 'expired' ? 'this link has expired' : 'this link is not valid'))
        socket.data.householdId = r.access.household.id
        socket.data.contactId = r.access.contact.id
        socket.data.expiresAt = r.access.claims.expiresAt
        next()
      },
      (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
    )
  })

  family.on('connection', (socket) => {
    void socket.join([householdRoom(socket.data.householdId), contactRoom(socket.data.contactId)])
    // A link ends at its expiry: so does the page's live channel.
    const timer = clock.setTimeout(() => socket.disconnect(true), Math.max(0, socket.data.expiresAt - clock.now()))
    socket.on('disconnect', () => clock.clearTimeout(timer))
  })

  bus.on('incident.changed', OWNER, ({ incident, events }) => {
    if (!FAMILY_CATEGORIES.has(incident.category) || events.every((e) => UNSEEN.has(e.kind))) return
    family.to(householdRoom(incident.householdId)).emit('changed', { incidentId: incident.id })
  })
  // A question to the family ("is she with you?") shows on their open pages at once, not at the next poll.
  bus.on('checkin.requested', OWNER, (r) => {
    if (r.kind === 'ask_family') family.to(householdRoom(r.householdId)).emit('changed', { questionId: r.checkId })
  })

  return {
    /** The contact's links were revoked or the contact removed: their open pages stop hearing anything. */
    disconnectContact(contactId: string): void {
      family.in(contactRoom(contactId)).disconnectSockets(true)
    },
    close(): void {
      bus.removeOwner(OWNER)
      family.disconnectSockets(true)
      log.debug('family live channel closed')
    },
  }
}
