/** What route plugins receive: the domain services, never the database. */
import type { Auth } from '../auth/auth.js'
import type { FamilyAnswer } from '../detectors/activity.js'
import type { PendingQuestion } from '../detectors/service.js'
import type { Incidents } from '../incidents/service.js'
import type { IngestStats } from '../ingest/stats.js'
import type { Reports } from '../reports/service.js'
import type { Clock } from '../shared/clock.js'
import type { AuditRepository } from '../store/audit.js'
import type { RegistryRepository } from '../store/registry.js'
import type { ServiceTickets } from '../service-requests/service.js'
import type { RegistryImport } from '../registry-import/service.js'
import type { OutboxRow } from '../store/outbox.js'
import type { UserRepository } from '../store/users.js'
import type { Visits } from '../visits/service.js'

export interface ApiContext {
  auth: Auth
  incidents: Incidents
  /** The service queue (service-requests/): never incidents. */
  serviceTickets: ServiceTickets
  registry: RegistryRepository
  users: UserRepository
  stats: IngestStats
  clock: Clock
  /** Who read an elder's profile and who changed what (api/audit-routes.ts). */
  audit: AuditRepository
  /** The question the detectors are asking a household's family ("is she with you?"), and their answer. */
  familyQuestions: {
    question(householdId: string): PendingQuestion | null
    answer(householdId: string, checkId: string, answer: FamilyAnswer): boolean
  }
  /** Visit plans, tasks and their recording (visits/service.ts). */
  visits: Visits
  /** The notices queued for an incident and what became of them. */
  notices(incidentId: string): Promise<OutboxRow[]>
  /** The monthly report (reports/service.ts). */
  reports: Reports
  /** Bulk import of a street office's registry (registry-import/). */
  registryImport: RegistryImport
  /** Tells the rest of the platform (the detectors) that registry data changed. */
  announce: {
    householdChanged(householdId: string): void
    communityChanged(communityId: string): void
    /** A device was moved, deleted or given a new secret. */
    deviceChanged(deviceId: string): void
    /** A user logged out: their live connections close. */
    loggedOut(userId: string): void
    /** A contact's family links stopped working (revoked, or the contact removed): their live view closes. */
    familyLinksRevoked(contactId: string): void
  }
}
