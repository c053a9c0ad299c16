/**
 * Bulk import of a street office's registry (docs/operations.md §registry import): the file read
 * by exceljs on a worker thread, every row checked (plan.ts) against what the store holds, then all writes in one
 * transaction (store/registry-import.ts). New devices get a secret, shown once; an existing
 * device's secret never changes.
 */
import { communityScope } from '../auth/auth.js'
import type { Clock } from '../shared/clock.js'
import { newId } from '../shared/ids.js'
import { hashDeviceSecret, newDeviceSecret } from '../shared/secrets.js'
import { nextTurn } from '../shared/next-turn.js'
import type { RegistryRepository } from '../store/registry.js'
import type { RegistryImportRepository } from '../store/registry-import.js'
import type { User } from '../store/users.js'
import { deviceLabel, plan, type Adoption, type SheetCounts } from './plan.js'
import type { RowError } from './problems.js'
import { readOffThread, READ_LIMITS, type ReadLimits } from './read-off-thread.js'
import type { SheetKey } from './sheets.js'
import type { Credential } from './workbooks.js'

export interface ImportRequest {
  user: User
  /** What a CSV holds, when its headers should not decide. */
  sheet?: SheetKey
  /** Decide and report, write nothing. */
  dryRun: boolean
  /** Write the valid rows even when others have errors (they are reported). */
  validRowsOnly: boolean
}

export interface ImportOutcome {
  /** Whether the import was carried out: not a dry run, and not refused for errors. */
  imported: boolean
  counts: Record<SheetKey, SheetCounts>
  errors: RowError[]
  /** Households entered by hand that rows adopted (or, in a dry run, would): 已匹配现有住户. */
  adopted: Adoption[]
  /** New devices' secrets (only when applied): the only time they are given out. */
  credentials: Credential[]
  /** Households created or changed (their record, contacts or devices), for the detectors. */
  households: string[]
  /** Existing devices whose room or heartbeat changed. */
  devices: string[]
  /** Communities the file wrote into. */
  communities: string[]
}

/** The store changed under an import (another import, or an edit) between its reads and its writes. */
export class ImportConflict extends Error {
  override readonly name = 'ImportConflict'
}

const ZERO: SheetCounts = { created: 0, updated: 0, unchanged: 0, invalid: 0 }

export { FileTooLarge } from './read.js'

export function createRegistryImport(deps: { registry: RegistryRepository; store: RegistryImportRepository; clock: Clock; readLimits?: ReadLimits }) {
  const { registry, store, clock } = deps
  const readLimits = deps.readLimits ?? READ_LIMITS
  /** Imports run one after another: each decides on what the one before wrote. */
  let queue: Promise<unknown> = Promise.resolve()
  /** Files are read one at a time (dry runs too): one reader's capped heap at most, beside the platform's. */
  let reading: Promise<unknown> = Promise.resolve()

  function readSheets(file: Buffer, sheet: SheetKey | undefined) {
    const next = reading.then(() => readOffThread(file, sheet ? { sheet } : {}, readLimits))
    reading = next.catch(() => undefined)
    return next
  }

  async function run(file: Buffer, req: ImportRequest): Promise<ImportOutcome> {
    // Off the event loop that carries the alarms (read-off-thread.ts); FileTooLarge when past its limits.
    const read = await readSheets(file, req.sheet)
    const refs = read.sheets.flatMap((s) => s.rows.map((r) => r.cells.ref ?? '')).filter(Boolean)
    const deviceIds = (read.sheets.find((s) => s.key === 'devices')?.rows ?? []).map((r) => r.cells.id ?? '').filter(Boolean)
    const elderNames = (read.sheets.find((s) => s.key === 'households')?.rows ?? []).map((r) => r.cells.elderName ?? '').filter(Boolean)
    const scope = communityScope(req.user)
    const [communities, households, unnumbered, devices] = await Promise.all([
      registry.communities.list(scope),
      store.householdsByRef(refs, scope),
      store.unnumberedHouseholds(elderNames, scope),
      store.devicesById(deviceIds),
    ])
    const contacts = await store.contactsOf([...households, ...unnumbered].map((h) => h.id))
    // Each step holds the event loop (SQLite does not yield): let an alarm in between them.
    await nextTurn()
    const visible = new Set(communities.map((c) => c.id))
    const decided = plan(read.sheets, {
      communities: communities.map((c) => ({ id: c.id, name: c.name })),
      households,
      unnumbered,
      contacts,
      devices: devices.map((d) => ({ ...d, label: visible.has(d.communityId) ? deviceLabel(d.kind, d.room, d.address, d.ref) : null })),
    }, { newId: (prefix) => newId(prefix, clock.now()) })
    const errors = [...read.errors, ...decided.errors]
    const counts = { households: { ...ZERO, ...decided.counts.households }, contacts: { ...ZERO, ...decided.counts.contacts }, devices: { ...ZERO, ...decided.counts.devices } }
    const outcome: ImportOutcome = { imported: false, counts, errors, adopted: decided.adopted, credentials: [], households: [], devices: [], communities: [] }
    // A file with no sheet to read is refused even with validRowsOnly: there are no valid rows.
    if (req.dryRun || (errors.length > 0 && !req.validRowsOnly) || read.sheets.length === 0) return outcome

    await nextTurn()
    const nameOf = new Map(communities.map((c) => [c.id, c.name]))
    const credentials: Credential[] = []
    const created = decided.devices.create.map((d) => {
      const secret = newDeviceSecret()
      credentials.push({ ref: d.ref, communityName: nameOf.get(d.communityId) ?? d.communityId, deviceId: d.id, kind: d.kind, room: d.room, secret })
      return { id: d.id, householdId: d.householdId, kind: d.kind, room: d.room, heartbeatS: d.heartbeatS, secretHash: hashDeviceSecret(secret) }
    })
    try {
      await store.apply({ households: decided.households, contacts: decided.contacts, devices: { create: created, update: decided.devices.update } }, clock.now())
    } catch (err) {
      // A unique key taken meanwhile (a household number, a device id): nothing was written.
      if (/unique|duplicate/i.test((err as Error).message)) throw new ImportConflict('the registry changed during the import; nothing was written; import the file again')
      throw err
    }
    return {
      imported: true,
      counts,
      errors,
      adopted: decided.adopted,
      credentials,
      households: [...decided.touched],
      devices: decided.devices.update.map((d) => d.id),
      communities: [...decided.communities],
    }
  }

  return {
    /** Reads, checks and (unless a dry run, or refused for errors) writes one file. */
    import(file: Buffer, req: ImportRequest): Promise<ImportOutcome> {
      if (req.dryRun) return run(file, req)
      const next = queue.then(() => run(file, req))
      queue = next.catch(() => undefined)
      return next
    },
  }
}

export type RegistryImport = ReturnType<typeof createRegistryImport>
