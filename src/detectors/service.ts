/**
 * The detectors at the edge: feeds each household's monitor from ingest and the registry,
 * drives time-based checks from one scheduler, records findings as incidents, and keeps every
 * monitor's state in the store so a restart neither forgets a silent elder nor fires twice.
 * Never on the alarm's critical path: it listens to events ingest emits after the fact.
 */
import type { Logger } from 'pino'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import type { IngestEvents } from '../ingest/ingest.js'
import { repeatEvery, type Clock } from '../shared/clock.js'
import { nextTurn } from '../shared/next-turn.js'
import type { EventBus } from '../shared/events.js'
import type { SavedState } from '../store/detector-states.js'
import type { Device, RegistryEvents, RegistryRepository } from '../store/registry.js'
import type { CheckRequest, FamilyAnswer } from './activity.js'
import type { Place } from './rhythm.js'
import type { MonitorInput } from './model.js'
import { newMonitor, step, type MonitorState } from './monitor.js'
import { createScheduler } from './scheduler.js'
import { resolveSettings, type DetectorSettings } from './settings.js'

interface Entry {
  state: MonitorState
  settings: DetectorSettings
  communityId: string
}

const OWNER = 'detectors'
const ACTIVITY_KINDS: ReadonlySet<string> = new Set(['suspected_collapse', 'unusual_inactivity', 'long_absence'])

export interface DetectorEvents {
  /** Ask before alerting: a check-in on the button, a question to the family (routing/questions.ts carries it out). */
  'checkin.requested': CheckRequest
}

/** A question to the family that waits for an answer. */
export interface PendingQuestion {
  id: string
  householdId: string
  askedAt: number
  place: Place
}

/** Where each household's state is kept (the history store's worker, store/detector-states.ts). */
export interface DetectorStateStore {
  load(): Promise<SavedState[]>
  save(states: SavedState[], now: number): Promise<void>
}

export function createDetectors(deps: {
  states: DetectorStateStore
  registry: RegistryRepository
  incidents: Incidents
  bus: EventBus<IngestEvents & RegistryEvents & DetectorEvents & IncidentEvents>
  clock: Clock
  log: Logger
  flushEveryMs?: number
  /** docs/operations.md §overload: detector work per turn of the event loop before device inputs wait (asked each turn). */
  budgetMsPerTurn?: () => number
  /** Device inputs waiting at most; past this, readings are shed (and counted). */
  maxQueued?: number
}) {
  const { states, registry, incidents, bus, clock, log } = deps
  const flushEveryMs = deps.flushEveryMs ?? 1000
  const budgetMs = deps.budgetMsPerTurn ?? (() => 5)
  const maxQueued = deps.maxQueued ?? 20_000
  const monitors = new Map<string, Entry>()
  /**
   * Device inputs for a household whose monitor is still loading (registered a moment ago, its
   * devices already talking): stepped once it is loaded, so a first message is never lost.
   * Bounded: only registered devices get this far, and only until their household's reload ends.
   */
  const early = new Map<string, MonitorInput[]>()
  const EARLY_MAX_HOUSEHOLDS = 1_000
  const EARLY_MAX_INPUTS = 64
  const dirty = new Set<string>()
  const scheduler = createScheduler(
    clock,
    // Behind readings still waiting, never before them: a deadline must see what came first.
    (householdId) => (queued() > 0 ? wait(householdId, { type: 'tick' }) : feed(householdId, { type: 'tick' })),
    (err, householdId) => log.error({ err, householdId }, 'detector check failed'),
  )
  let runningSince = clock.now()
  let commits: Promise<unknown> = Promise.resolve()
  let flushTimer: { stop(): void } | null = null

  /**
   * Alarms first (docs/operations.md §overload): a device's input is stepped at once while this
   * turn of the event loop has spent less than `budgetMs` on them; past that it waits in order,
   * and is stepped a budget at a time on later turns, so the broker reads what arrived meanwhile
   * (a new connection, an SOS) in between. A flood fills the queue; past `maxQueued` readings
   * are shed and counted. A check-in answer is never shed. Wall time: it paces work, not the platform.
   */
  const waiting: { householdId: string; input: MonitorInput; since: number }[] = []
  let head = 0
  let spent = 0
  let turnReset = false
  let draining = false
  let shed = 0

  const queued = () => waiting.length - head

  function spend(householdId: string, input: MonitorInput): void {
    const t0 = performance.now()
    feed(householdId, input)
    spent += performance.now() - t0
    if (!turnReset) {
      turnReset = true
      setImmediate(() => {
        spent = 0
        turnReset = false
      })
    }
  }

  function fromDevice(householdId: string, input: MonitorInput): void {
    if (queued() === 0 && spent < budgetMs()) return spend(householdId, input)
    if (queued() >= maxQueued && input.type !== 'checkin_ok') {
      if (shed++ % 10_000 === 0) log.warn({ shed, queued: queued() }, 'detectors behind: device readings shed')
      return
    }
    wait(householdId, input)
  }

  function wait(householdId: string, input: MonitorInput): void {
    waiting.push({ householdId, input, since: performance.now() })
    if (!draining) {
      draining = true
      setImmediate(drainSome)
    }
  }

  /** Steps what waits, until `deadline` (performance.now); another turn follows while any is left. */
  function drainUntil(deadline: number): void {
    while (queued() > 0 && performance.now() < deadline) {
      const next = waiting[head++]!
      feed(next.householdId, next.input)
    }
    compact()
  }

  function drainSome(): void {
    drainUntil(performance.now() + budgetMs())
    if (queued() > 0) setImmediate(drainSome)
    else draining = false
  }

  /** Steps everything waiting now (before the clock moves, at shutdown). */
  const drainAll = () => drainUntil(Infinity)

  function compact(): void {
    if (head === waiting.length) {
      waiting.length = 0
      head = 0
    } else if (head > 4096) {
      waiting.splice(0, head)
      head = 0
    }
  }

  function feed(householdId: string, input: MonitorInput): void {
    const entry = monitors.get(householdId)
    if (!entry) {
      const held = early.get(householdId) ?? (early.size < EARLY_MAX_HOUSEHOLDS ? [] : undefined)
      if (held && held.length < EARLY_MAX_INPUTS) early.set(householdId, [...held, input])
      return
    }
    const now = clock.now()
    const result = step(entry.state, input, now, entry.settings, runningSince)
    entry.state = result.state
    dirty.add(householdId)
    scheduler.schedule(householdId, result.nextCheckAt)
    for (const request of result.requests) bus.emit('checkin.requested', request)
    if (result.findings.length > 0) {
      // Findings commit in order, one household's raise before its clear.
      commits = commits
        .then(() => incidents.recordFindings(entry.communityId, result.findings))
        .catch((err: unknown) => log.error({ err, householdId }, 'findings not recorded'))
    }
  }

  /** Brings a monitor in line with the registry: devices, away mode, thresholds. */
  function sync(entry: Entry, devices: Device[], awayUntil: number | null, familyReachable: boolean): void {
    const id = entry.state.householdId
    const registered = new Set(devices.map((d) => d.id))
    for (const deviceId of Object.keys(entry.state.devices)) {
      if (!registered.has(deviceId)) feed(id, { type: 'device_removed', deviceId })
    }
    // What the registry knows was heard (a reading in the demo's history, a message before this
    // monitor existed) is heard here too, before the device is evaluated: the health tab and the detectors decide from the same facts.
    for (const d of devices) {
      const heard = entry.state.health.devices[d.id]?.lastSeenAt ?? null
      if (d.lastSeenAt !== null && (heard === null || d.lastSeenAt > heard)) {
        feed(id, { type: 'seen', deviceId: d.id, at: d.lastSeenAt, ...(d.online === false ? { online: false } : {}), ...(d.battery === null ? {} : { battery: d.battery }) })
      }
    }
    for (const d of devices) {
      const known = entry.state.devices[d.id]
      if (!known || known.room !== d.room || known.heartbeatS !== d.heartbeatS || known.kind !== d.kind) {
        feed(id, { type: 'device', deviceId: d.id, kind: d.kind, room: d.room, heartbeatS: d.heartbeatS, registeredAt: d.createdAt })
      }
    }
    if (awayUntil !== entry.state.awayUntil) feed(id, { type: 'away', until: awayUntil })
    if (familyReachable !== (entry.state.activity?.familyReachable ?? false)) feed(id, { type: 'family_reach', reachable: familyReachable })
    feed(id, { type: 'tick' })
  }

  async function reloadHousehold(householdId: string): Promise<void> {
    const household = await registry.households.get(householdId)
    if (!household) {
      early.delete(householdId)
      monitors.delete(householdId)
      scheduler.schedule(householdId, null)
      return
    }
    const community = await registry.communities.get(household.communityId)
    const devices = await registry.devices.list({ householdId })
    const family = (await registry.contacts.list(householdId)).some((c) => c.audience === 'family')
    const settings = resolveSettings(community?.detectorSettings, household.detectorSettings)
    let entry = monitors.get(householdId)
    if (!entry) {
      entry = { state: newMonitor(householdId, clock.now()), settings, communityId: household.communityId }
      monitors.set(householdId, entry)
    }
    entry.settings = settings
    entry.communityId = household.communityId
    sync(entry, devices, household.awayUntil, family)
    const held = early.get(householdId)
    early.delete(householdId)
    for (const input of held ?? []) feed(householdId, input)
  }

  function onTelemetry(e: IngestEvents['telemetry.received']): void {
    const room = monitors.get(e.householdId)?.state.devices[e.deviceId]?.room ?? null
    const r = e.reading
    if (r.kind === 'water') fromDevice(e.householdId, { type: 'water', deviceId: e.deviceId, at: e.at, totalM3: r.totalM3, flowLpm: r.flowLpm })
    else if (r.kind === 'presence') fromDevice(e.householdId, { type: 'presence', deviceId: e.deviceId, room, at: e.at, occupied: r.occupied, motion: r.motion })
    else if (r.kind === 'door') fromDevice(e.householdId, { type: 'door', deviceId: e.deviceId, room, at: e.at, open: r.open })
  }

  /**
   * Saves what changed, a budget of serialising per turn and a save per slice: at district scale
   * a second's changed states are megabytes of JSON, and serialised at once they held the alarm
   * loop 50–100 ms (bench/README.md, alarm latency). One flush at a time, so an older state
   * serialised before a turn never lands after a newer one.
   */
  let flushing: Promise<void> = Promise.resolve()
  let nextFlush: Promise<void> | null = null
  function flush(): Promise<void> {
    // A flush not yet begun takes everything changed by the time it begins: callers share it.
    if (nextFlush) return nextFlush
    const run = flushing.then(() => {
      nextFlush = null
      return flushOnce()
    })
    nextFlush = run
    flushing = run.catch(() => undefined)
    return run
  }

  async function flushOnce(): Promise<void> {
    const ids = [...dirty]
    dirty.clear()
    let failure: unknown = null
    for (let i = 0; i < ids.length; ) {
      const sliceEnd = performance.now() + budgetMs()
      const slice: string[] = []
      const saved: SavedState[] = []
      while (i < ids.length && (saved.length === 0 || performance.now() < sliceEnd)) {
        const id = ids[i++]!
        const entry = monitors.get(id)
        slice.push(id)
        if (entry) saved.push({ householdId: id, state: JSON.stringify(entry.state) })
      }
      try {
        if (saved.length > 0) await states.save(saved, clock.now())
      } catch (err) {
        // Saved with the next flush instead: the state in memory is still the newest.
        for (const id of slice) dirty.add(id)
        failure ??= err
      }
      if (i < ids.length) await nextTurn()
    }
    if (failure) throw failure
  }

  /** The question the family of this household is being asked now, if any. */
  function question(householdId: string): PendingQuestion | null {
    const check = monitors.get(householdId)?.state.activity?.check
    if (!check || (check.stage !== 'family' && check.stage !== 'raised') || check.familyAskedAt === null || check.familyAnswer !== null) return null
    return { id: check.id, householdId, askedAt: check.familyAskedAt, place: check.place }
  }

  async function committed(): Promise<void> {
    drainAll()
    for (let c = commits; ; c = commits) {
      await c
      if (c === commits) break
    }
  }

  const flushLogged = () => flush().catch((err: unknown) => log.error({ err }, 'detector state not saved'))

  return {
    /** Loads every household's monitor from the store and the registry, then starts the clock. */
    async start(): Promise<void> {
      runningSince = clock.now()
      const [communities, households, devices, withFamily, saved] = await Promise.all([
        registry.communities.list(),
        registry.households.list(),
        registry.devices.list(),
        registry.contacts.householdsWith('family'),
        states.load(),
      ])
      const communityById = new Map(communities.map((c) => [c.id, c]))
      const savedById = new Map(saved.map((r) => [r.householdId, JSON.parse(r.state) as MonitorState]))
      const devicesByHousehold = new Map<string, Device[]>()
      for (const d of devices) devicesByHousehold.set(d.householdId, [...(devicesByHousehold.get(d.householdId) ?? []), d])
      for (const h of households) {
        const entry: Entry = {
          state: savedById.get(h.id) ?? newMonitor(h.id, clock.now()),
          settings: resolveSettings(communityById.get(h.communityId)?.detectorSettings, h.detectorSettings),
          communityId: h.communityId,
        }
        monitors.set(h.id, entry)
        sync(entry, devicesByHousehold.get(h.id) ?? [], h.awayUntil, withFamily.has(h.id))
      }
      bus.on('telemetry.received', OWNER, onTelemetry)
      bus.on('device.seen', OWNER, (e) => {
        // A reading already tells the monitor its device is alive (telemetry.received).
        if (e.channel !== 'telemetry') fromDevice(e.householdId, { type: 'seen', deviceId: e.deviceId, at: e.at, online: e.online, battery: e.battery, caps: e.caps })
      })
      bus.on('checkin.answered', OWNER, (e) => fromDevice(e.householdId, { type: 'checkin_ok', deviceId: e.deviceId, at: e.at, ref: e.ref }))
      // An operator who closes a spell's incident as a false alarm or by phone has confirmed she is well.
      bus.on('incident.changed', OWNER, ({ incident, events }) => {
        if (incident.outcome === null || incident.outcome === 'emergency_handled' || !events.some((e) => e.kind === 'resolved')) return
        if (incident.conditions.some((k) => ACTIVITY_KINDS.has(k))) feed(incident.householdId, { type: 'operator_settled', at: incident.resolvedAt ?? clock.now() })
      })
      bus.on('household.changed', OWNER, (e) => void reloadHousehold(e.householdId).catch((err: unknown) => log.error({ err }, 'household reload failed')))
      bus.on('community.changed', OWNER, (e) => {
        for (const [id, entry] of monitors) if (entry.communityId === e.communityId) void reloadHousehold(id).catch((err: unknown) => log.error({ err }, 'reload failed'))
      })
      scheduler.start()
      flushTimer = repeatEvery(clock, flushEveryMs, flushLogged)
      log.info({ households: monitors.size }, 'detectors started')
    },

    async stop(): Promise<void> {
      bus.removeOwner(OWNER)
      drainAll()
      scheduler.stop()
      flushTimer?.stop()
      flushTimer = null
      await commits
      await flush()
    },

    /** Resolves when every finding so far is committed (what waits in the queue is stepped first). */
    committed,

    /** Steps what waits now: the virtual clock must not move past readings not yet seen. */
    drain: drainAll,

    /** Device inputs waiting, shed since start, and how long the oldest has waited (metrics). */
    backlog: () => ({ queued: queued(), shed, oldestWaitMs: queued() > 0 ? performance.now() - waiting[head]!.since : 0 }),

    /** Resolves when every finding so far is committed and every state saved (tests, shutdown). */
    async settle(): Promise<void> {
      await committed()
      await flush()
    },

    monitor: (householdId: string) => {
      drainAll()
      return monitors.get(householdId)?.state
    },

    question,

    /** The family's answer; false when that question is no longer waiting for one. */
    answer(householdId: string, checkId: string, answer: FamilyAnswer): boolean {
      if (question(householdId)?.id !== checkId) return false
      // Behind readings still waiting, as a tick is.
      const input: MonitorInput = { type: 'family_answer', checkId, answer, at: clock.now() }
      if (queued() > 0) wait(householdId, input)
      else feed(householdId, input)
      return true
    },
    scheduledCount: () => scheduler.size(),
  }
}

export type Detectors = ReturnType<typeof createDetectors>
