/**
 * The detectors at the edge: feeds each household's monitor from ingest and the registry,
 * drives time-based checks from one scheduler, records findings as incidents, and keeps every
 * monitor's state in the store so a restart neither forgets a silent elder nor fires twice.
 * Never on the alarm's critical path: it listens to events ingest emits after the fact, and the
 * households' monitors run on their own thread (engine.ts, link.ts; docs/operations.md §overload).
 */
import type { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import type { IngestEvents } from '../ingest/ingest.js'
import { repeatEvery, type Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import type { SavedState } from '../store/detector-states.js'
import type { Community, Device, Household, RegistryEvents, RegistryRepository } from '../store/registry.js'
import type { CheckRequest, FamilyAnswer } from './activity.js'
import type { DeviceFacts, HouseholdSetup, Outcome, PendingQuestion } from './engine.js'
import { inThreadLink, workerLink, type EngineLink, type LinkHandlers } from './link.js'
import type { MonitorInput } from './model.js'
import type { MonitorState } from './monitor.js'
import { createScheduler } from './scheduler.js'
import { resolveSettings } from './settings.js'

export type { PendingQuestion } from './engine.js'

const OWNER = 'detectors'
/** Households whose findings of one batch share a transaction, at most (bench/README.md, the storm). */
const HOUSEHOLDS_PER_COMMIT = 32
const ACTIVITY_KINDS: ReadonlySet<string> = new Set(['suspected_collapse', 'unusual_inactivity', 'long_absence'])

export interface DetectorEvents {
  /** Ask before alerting: a check-in on the button, a question to the family (routing/questions.ts carries it out). */
  'checkin.requested': CheckRequest
}

/** Where each household's state is kept (the history store's worker, store/detector-states.ts). */
export interface DetectorStateStore {
  load(): Promise<SavedState[]>
  save(states: SavedState[], now: number): Promise<void>
}

/** What the engine is told of a household, from the registry's rows. */
function setupFrom(household: Household, community: Community | undefined, devices: readonly Device[], familyReachable: boolean): HouseholdSetup {
  return {
    householdId: household.id,
    communityId: household.communityId,
    settings: resolveSettings(community?.detectorSettings, household.detectorSettings),
    devices: devices.map((d): DeviceFacts => ({ id: d.id, kind: d.kind, room: d.room, heartbeatS: d.heartbeatS, createdAt: d.createdAt, lastSeenAt: d.lastSeenAt, online: d.online, battery: d.battery })),
    awayUntil: household.awayUntil,
    familyReachable,
  }
}

export function createDetectors(deps: {
  states: DetectorStateStore
  registry: RegistryRepository
  incidents: Incidents
  bus: EventBus<IngestEvents & RegistryEvents & DetectorEvents & IncidentEvents>
  clock: Clock
  log: Logger
  flushEveryMs?: number
  /**
   * 'worker' (the platform): the monitors on their own thread. 'caller': on the caller's, each
   * input stepped before it returns, for tests and the benchmark that move a virtual clock by hand.
   */
  thread?: 'worker' | 'caller'
  /** Device inputs handed to the worker and not yet stepped, at most; past this, readings are shed (and counted). */
  maxQueued?: number
  /** Starts the worker thread (a test ends it unasked, to see a new one take over). */
  startThread?: (module: URL) => Worker
}) {
  const { states, registry, incidents, bus, clock, log } = deps
  const flushEveryMs = deps.flushEveryMs ?? 1000
  const maxQueued = deps.maxQueued ?? 20_000
  const thread = deps.thread ?? 'worker'
  /** Communities of the households, to reload them when their community's settings change. */
  const communityOf = new Map<string, string>()
  /** The questions to families now waiting for an answer, as the engine last said. */
  const questions = new Map<string, PendingQuestion>()
  const scheduler = createScheduler(
    clock,
    (householdId, now) => send(householdId, { type: 'tick' }, now),
    (err, householdId) => log.error({ err, householdId }, 'detector check failed'),
  )
  let commits: Promise<unknown> = Promise.resolve()
  let flushTimer: { stop(): void } | null = null
  let link: EngineLink | null = null
  let stopped = false
  let shed = 0
  let lost = 0

  const handlers: LinkHandlers = {
    outcomes: apply,
    error: (householdId, message) => log.error({ householdId, err: message }, 'detector step failed'),
    lost(reason) {
      lost++
      log.error({ reason }, "detectors' worker ended; a new one starts from the saved states")
      link = null
      if (!stopped) void begin().catch((err: unknown) => log.error({ err }, 'detectors not restarted'))
    },
  }

  function apply(outcomes: Outcome[]): void {
    const found: Outcome[] = []
    for (const o of outcomes) {
      scheduler.schedule(o.householdId, o.nextCheckAt)
      if (o.question) questions.set(o.householdId, o.question)
      else questions.delete(o.householdId)
      for (const request of o.requests) bus.emit('checkin.requested', request)
      if (o.findings.length > 0) found.push(o)
    }
    // Findings commit in order, one household's raise before its clear; a few households a
    // transaction, since each commit is an fsync on the alarm loop and an alarm waits behind one at most.
    for (let i = 0; i < found.length; i += HOUSEHOLDS_PER_COMMIT) {
      const chunk = found.slice(i, i + HOUSEHOLDS_PER_COMMIT)
      commits = commits
        .then(() => incidents.recordFindingsOf(chunk))
        .catch((err: unknown) => log.error({ err, households: chunk.map((o) => o.householdId) }, 'findings not recorded'))
    }
  }

  function send(householdId: string, input: MonitorInput, now = clock.now()): void {
    link?.send({ t: 'input', now, householdId, input })
  }

  /** A device's reading; shed (and counted) while the worker is too far behind. A check-in answer is never shed. */
  function fromDevice(householdId: string, input: MonitorInput): void {
    // While a new thread starts after one ended, nothing can take the reading: it counts as shed.
    if (!link) return void shed++
    if (input.type !== 'checkin_ok' && link.queued() >= maxQueued) {
      if (shed++ % 10_000 === 0) log.warn({ shed, queued: link.queued() }, 'detectors behind: device readings shed')
      return
    }
    send(householdId, input)
  }

  async function setupOf(householdId: string): Promise<HouseholdSetup | null> {
    const household = await registry.households.get(householdId)
    if (!household) return null
    const community = await registry.communities.get(household.communityId)
    const devices = await registry.devices.list({ householdId })
    const family = (await registry.contacts.list(householdId)).some((c) => c.audience === 'family')
    return setupFrom(household, community, devices, family)
  }

  async function reloadHousehold(householdId: string): Promise<void> {
    const setup = await setupOf(householdId)
    if (!setup) {
      communityOf.delete(householdId)
      questions.delete(householdId)
      link?.send({ t: 'forget', householdId })
      return
    }
    communityOf.set(householdId, setup.communityId)
    link?.send({ t: 'setup', now: clock.now(), setup })
  }

  function onTelemetry(e: IngestEvents['telemetry.received']): void {
    const r = e.reading
    // The room is filled in by the engine, from the device's registration.
    if (r.kind === 'water') fromDevice(e.householdId, { type: 'water', deviceId: e.deviceId, at: e.at, totalM3: r.totalM3, flowLpm: r.flowLpm })
    else if (r.kind === 'presence') fromDevice(e.householdId, { type: 'presence', deviceId: e.deviceId, room: null, at: e.at, occupied: r.occupied, motion: r.motion })
    else if (r.kind === 'door') fromDevice(e.householdId, { type: 'door', deviceId: e.deviceId, room: null, at: e.at, open: r.open })
  }

  /** Every household from the registry and the saved states, into a new engine. */
  async function begin(): Promise<void> {
    const [communities, households, devices, withFamily, saved] = await Promise.all([
      registry.communities.list(),
      registry.households.list(),
      registry.devices.list(),
      registry.contacts.householdsWith('family'),
      states.load(),
    ])
    const next = thread === 'worker' ? await workerLink(handlers, log, deps.startThread) : inThreadLink(handlers)
    if (stopped) return void (await next.close())
    const communityById = new Map(communities.map((c) => [c.id, c]))
    const savedById = new Map(saved.map((r) => [r.householdId, r.state]))
    const devicesByHousehold = new Map<string, Device[]>()
    for (const d of devices) {
      const list = devicesByHousehold.get(d.householdId)
      if (list) list.push(d)
      else devicesByHousehold.set(d.householdId, [d])
    }
    communityOf.clear()
    questions.clear()
    for (const h of households) communityOf.set(h.id, h.communityId)
    link = next
    link.send({
      t: 'start',
      now: clock.now(),
      households: households.map((h) => ({
        ...setupFrom(h, communityById.get(h.communityId), devicesByHousehold.get(h.id) ?? [], withFamily.has(h.id)),
        saved: savedById.get(h.id) ?? null,
      })),
    })
    await link.idle()
  }

  /** One flush at a time, so an older state never lands after a newer one; callers of a flush not yet begun share it. */
  let flushing: Promise<void> = Promise.resolve()
  let nextFlush: Promise<void> | null = null
  function flush(): Promise<void> {
    if (nextFlush) return nextFlush
    const run = flushing.then(() => {
      nextFlush = null
      return link?.flush((saved) => states.save(saved, clock.now()))
    })
    nextFlush = run
    flushing = run.catch(() => undefined)
    return run
  }

  /** Every input so far stepped and every finding so far committed. */
  async function committed(): Promise<void> {
    await link?.idle()
    for (let c = commits; ; c = commits) {
      await c
      if (c === commits) break
    }
  }

  const flushLogged = () => flush().catch((err: unknown) => log.error({ err }, 'detector state not saved'))

  return {
    /** Loads every household's monitor from the store and the registry, then starts the clock. */
    async start(): Promise<void> {
      stopped = false
      await begin()
      bus.on('telemetry.received', OWNER, onTelemetry)
      bus.on('device.seen', OWNER, (e) => {
        // A reading already tells the monitor its device is alive (telemetry.received).
        if (e.channel !== 'telemetry') fromDevice(e.householdId, { type: 'seen', deviceId: e.deviceId, at: e.at, online: e.online, battery: e.battery, caps: e.caps })
      })
      bus.on('checkin.answered', OWNER, (e) => fromDevice(e.householdId, { type: 'checkin_ok', deviceId: e.deviceId, at: e.at, ref: e.ref }))
      // An operator who closes a spell's incident as a false alarm or by phone has confirmed she is well.
      bus.on('incident.changed', OWNER, ({ incident, events }) => {
        if (incident.outcome === null || incident.outcome === 'emergency_handled' || !events.some((e) => e.kind === 'resolved')) return
        if (incident.conditions.some((k) => ACTIVITY_KINDS.has(k))) send(incident.householdId, { type: 'operator_settled', at: incident.resolvedAt ?? clock.now() })
      })
      bus.on('household.changed', OWNER, (e) => void reloadHousehold(e.householdId).catch((err: unknown) => log.error({ err }, 'household reload failed')))
      bus.on('community.changed', OWNER, (e) => {
        for (const [id, communityId] of communityOf) if (communityId === e.communityId) void reloadHousehold(id).catch((err: unknown) => log.error({ err }, 'reload failed'))
      })
      scheduler.start()
      flushTimer = repeatEvery(clock, flushEveryMs, flushLogged)
      log.info({ households: communityOf.size, thread }, 'detectors started')
    },

    async stop(): Promise<void> {
      stopped = true
      bus.removeOwner(OWNER)
      scheduler.stop()
      flushTimer?.stop()
      flushTimer = null
      await committed().catch(() => undefined)
      await flush()
      await link?.close()
      link = null
    },

    /** Resolves when every input so far is stepped and every finding so far committed. */
    committed,

    /**
     * Moves a virtual clock to `to`, stopping at each household's check on the way until what it
     * came to is back: a check one step schedules fires at its time within the same move.
     */
    async moveClock(set: (to: number) => void, to: number): Promise<void> {
      for (let previous: number | null = null; ; ) {
        await committed()
        const due = scheduler.nextAt()
        // A check still due at a time already reached did not fire (the scheduler is stopped): move on.
        if (due === null || due > to || (due === previous && due <= clock.now())) break
        previous = due
        set(Math.max(due, clock.now()))
      }
      set(to)
      await committed()
    },

    /** Device inputs waiting, shed since start, how long the oldest has waited, and inputs a lost worker held (metrics). */
    backlog: () => ({ queued: link?.queued() ?? 0, shed, oldestWaitMs: link?.oldestWaitMs() ?? 0, workerRestarts: lost }),

    /** Resolves when every finding so far is committed and every state saved (tests, shutdown). */
    async settle(): Promise<void> {
      await committed()
      await flush()
    },

    /** The household's monitor as the engine holds it now, every input so far stepped. */
    monitor: (householdId: string): Promise<MonitorState | undefined> => link?.monitor(householdId) ?? Promise.resolve(undefined),

    /** The question the family of this household is being asked now, if any. */
    question: (householdId: string): PendingQuestion | null => questions.get(householdId) ?? null,

    /** The family's answer; false when that question is no longer waiting for one. */
    answer(householdId: string, checkId: string, answer: FamilyAnswer): boolean {
      if (questions.get(householdId)?.id !== checkId) return false
      send(householdId, { type: 'family_answer', checkId, answer, at: clock.now() })
      // Answered: a second answer to it is refused at once, as the engine will refuse it.
      questions.delete(householdId)
      return true
    },
    scheduledCount: () => scheduler.size(),
  }
}

export type Detectors = ReturnType<typeof createDetectors>
