/**
 * Every household's monitor, and nothing else: commands in (what the registry says of a
 * household, a device's input, the time to look again), outcomes out (findings, questions to
 * ask, when to look next). No store, no bus, no clock: each command carries its time. So the
 * same engine runs on its own thread (worker.ts, the platform) or on the caller's (link.ts:
 * time-controlled tests and the detection benchmark); docs/operations.md §overload says why.
 */
import { nextTurn } from '../shared/next-turn.js'
import type { CheckRequest } from './activity.js'
import type { Finding, MonitorInput } from './model.js'
import { newMonitor, step, type MonitorState } from './monitor.js'
import type { Place } from './rhythm.js'
import type { DetectorSettings } from './settings.js'

/** What the registry says of a device, as far as the detectors care. */
export interface DeviceFacts {
  id: string
  kind: string
  room: string | null
  heartbeatS: number
  createdAt: number
  lastSeenAt: number | null
  online: boolean | null
  battery: number | null
}

/** What the registry says of a household, read again whenever it changes. */
export interface HouseholdSetup {
  householdId: string
  communityId: string
  settings: DetectorSettings
  devices: DeviceFacts[]
  awayUntil: number | null
  familyReachable: boolean
}

export type EngineCommand =
  /** At start: every household, with the state saved before (JSON) when there is one. */
  | { t: 'start'; now: number; households: (HouseholdSetup & { saved: string | null })[] }
  /** A household registered or changed: brought in line with the registry. */
  | { t: 'setup'; now: number; setup: HouseholdSetup }
  /** A household no longer registered. */
  | { t: 'forget'; householdId: string }
  | { t: 'input'; now: number; householdId: string; input: MonitorInput }

/** A question to the family that waits for an answer. */
export interface PendingQuestion {
  id: string
  householdId: string
  askedAt: number
  place: Place
}

/** What a household's steps in one batch of commands came to, in order. */
export interface Outcome {
  householdId: string
  communityId: string
  findings: Finding[]
  requests: CheckRequest[]
  nextCheckAt: number | null
  question: PendingQuestion | null
}

export interface SavedState {
  householdId: string
  state: string
}

interface Entry {
  state: MonitorState
  settings: DetectorSettings
  communityId: string
}

/**
 * Device inputs for a household not set up yet (registered a moment ago, its devices already
 * talking): stepped once it is, so a first message is never lost. Bounded: only registered
 * devices get this far, and only until their household's setup arrives.
 */
const EARLY_MAX_HOUSEHOLDS = 1_000
const EARLY_MAX_INPUTS = 64

export function createEngine() {
  const monitors = new Map<string, Entry>()
  const early = new Map<string, { now: number; input: MonitorInput }[]>()
  const dirty = new Set<string>()
  /** The households of the flush under way, serialised from `flushAt` on. */
  const flushing: string[] = []
  let flushAt = 0
  let runningSince = 0
  /** Outcomes of the batch being run, one per household, in the order they first stepped. */
  let outcomes = new Map<string, Outcome>()

  function feed(householdId: string, input: MonitorInput, now: number): void {
    const entry = monitors.get(householdId)
    if (!entry) {
      const held = early.get(householdId) ?? (early.size < EARLY_MAX_HOUSEHOLDS ? [] : undefined)
      if (held && held.length < EARLY_MAX_INPUTS) early.set(householdId, [...held, { now, input }])
      return
    }
    // A sensor's room is the one it is registered in, as this monitor knows it.
    if (input.type === 'presence' || input.type === 'door') input = { ...input, room: entry.state.devices[input.deviceId]?.room ?? null }
    const result = step(entry.state, input, now, entry.settings, runningSince)
    entry.state = result.state
    dirty.add(householdId)
    let out = outcomes.get(householdId)
    if (!out) {
      out = { householdId, communityId: entry.communityId, findings: [], requests: [], nextCheckAt: null, question: null }
      outcomes.set(householdId, out)
    }
    out.communityId = entry.communityId
    out.findings.push(...result.findings)
    out.requests.push(...result.requests)
    out.nextCheckAt = result.nextCheckAt
    out.question = question(householdId)
  }

  /** Brings a monitor in line with the registry: devices, away mode, the family. */
  function sync(entry: Entry, setup: HouseholdSetup, now: number): void {
    const id = setup.householdId
    const registered = new Set(setup.devices.map((d) => d.id))
    for (const deviceId of Object.keys(entry.state.devices)) {
      if (!registered.has(deviceId)) feed(id, { type: 'device_removed', deviceId }, now)
    }
    // What the registry knows was heard (a reading in the demo's history, a message before this
    // monitor existed) is heard here too, before the device is evaluated: the health tab and the detectors decide from the same facts.
    for (const d of setup.devices) {
      const heard = entry.state.health.devices[d.id]?.lastSeenAt ?? null
      if (d.lastSeenAt !== null && (heard === null || d.lastSeenAt > heard)) {
        feed(id, { type: 'seen', deviceId: d.id, at: d.lastSeenAt, ...(d.online === false ? { online: false } : {}), ...(d.battery === null ? {} : { battery: d.battery }) }, now)
      }
    }
    for (const d of setup.devices) {
      const known = entry.state.devices[d.id]
      if (!known || known.room !== d.room || known.heartbeatS !== d.heartbeatS || known.kind !== d.kind) {
        feed(id, { type: 'device', deviceId: d.id, kind: d.kind, room: d.room, heartbeatS: d.heartbeatS, registeredAt: d.createdAt }, now)
      }
    }
    if (setup.awayUntil !== entry.state.awayUntil) feed(id, { type: 'away', until: setup.awayUntil }, now)
    if (setup.familyReachable !== (entry.state.activity?.familyReachable ?? false)) feed(id, { type: 'family_reach', reachable: setup.familyReachable }, now)
    feed(id, { type: 'tick' }, now)
  }

  function setUp(setup: HouseholdSetup, saved: MonitorState | null, now: number): void {
    let entry = monitors.get(setup.householdId)
    if (!entry) {
      entry = { state: saved ?? newMonitor(setup.householdId, now), settings: setup.settings, communityId: setup.communityId }
      monitors.set(setup.householdId, entry)
    }
    entry.settings = setup.settings
    entry.communityId = setup.communityId
    sync(entry, setup, now)
    const held = early.get(setup.householdId)
    early.delete(setup.householdId)
    for (const h of held ?? []) feed(setup.householdId, h.input, h.now)
  }

  function run(command: EngineCommand): void {
    switch (command.t) {
      case 'start':
        runningSince = command.now
        for (const h of command.households) setUp(h, h.saved === null ? null : (JSON.parse(h.saved) as MonitorState), command.now)
        return
      case 'setup':
        return setUp(command.setup, null, command.now)
      case 'forget':
        early.delete(command.householdId)
        monitors.delete(command.householdId)
        dirty.delete(command.householdId)
        outcomes.set(command.householdId, { householdId: command.householdId, communityId: '', findings: [], requests: [], nextCheckAt: null, question: null })
        return
      case 'input':
        return feed(command.householdId, command.input, command.now)
    }
  }

  /** The question the family of this household is being asked now, if any. */
  function question(householdId: string): PendingQuestion | null {
    const check = monitors.get(householdId)?.state.activity?.check
    if (!check || (check.stage !== 'family' && check.stage !== 'raised') || check.familyAskedAt === null || check.familyAnswer !== null) return null
    return { id: check.id, householdId, askedAt: check.familyAskedAt, place: check.place }
  }

  return {
    /** Runs the commands in order; what each household's steps came to. */
    run(commands: readonly EngineCommand[]): { outcomes: Outcome[]; errors: { householdId: string | null; message: string }[] } {
      outcomes = new Map()
      const errors: { householdId: string | null; message: string }[] = []
      for (const c of commands) {
        try {
          run(c)
        } catch (err) {
          // One household's failure must not stop every other household's steps.
          errors.push({ householdId: 'householdId' in c ? c.householdId : c.t === 'setup' ? c.setup.householdId : null, message: err instanceof Error ? (err.stack ?? err.message) : String(err) })
        }
      }
      const out = [...outcomes.values()]
      outcomes = new Map()
      return { outcomes: out, errors }
    },

    /** Starts a flush: the households changed so far are the ones `takeChanged` serialises. */
    beginFlush(): void {
      for (const id of dirty) flushing.push(id)
      dirty.clear()
    },

    /** The flush's next states serialised, until `deadline` (performance.now) has passed; at least one. Empty when the flush is done. */
    takeChanged(deadline: number): SavedState[] {
      const out: SavedState[] = []
      while (flushAt < flushing.length && (out.length === 0 || performance.now() < deadline)) {
        const id = flushing[flushAt++]!
        const entry = monitors.get(id)
        if (entry) out.push({ householdId: id, state: JSON.stringify(entry.state) })
      }
      if (flushAt === flushing.length) {
        flushing.length = 0
        flushAt = 0
      }
      return out
    },

    /** States the store refused: saved with the next flush (what is in memory is still the newest). */
    unsaved(ids: readonly string[]): void {
      for (const id of ids) if (monitors.has(id)) dirty.add(id)
    },

    monitor: (householdId: string): MonitorState | undefined => monitors.get(householdId)?.state,
  }
}

export type Engine = ReturnType<typeof createEngine>

/** Serialising states for this long at a time, then the thread turns (on the caller's thread: the alarm loop). */
export const FLUSH_SLICE_MS = 5

/** The states changed so far, serialised a slice at a time, the thread turning between slices. */
export async function* changedStates(engine: Engine): AsyncGenerator<SavedState[]> {
  engine.beginFlush()
  for (let states = engine.takeChanged(performance.now() + FLUSH_SLICE_MS); states.length > 0; states = engine.takeChanged(performance.now() + FLUSH_SLICE_MS)) {
    yield states
    await nextTurn()
  }
}
