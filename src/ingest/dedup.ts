/**
 * A reading sent again is one reading (docs/device-contract.md §4 `id`): after a reconnect, a
 * restart of the platform, or a vendor platform's retry hours later. Three places know an id:
 *  - the last seconds of readings, in memory, until the history worker has surely written them;
 *  - the history store, which keeps each reading's id and time as long as the reading itself
 *    (`ANJU_TELEMETRY_RETENTION_DAYS`);
 *  - each device's newest reading time: a message sent again carries its original `ts`, so one
 *    newer than anything the device has sent is new, and needs no question to the store.
 * A resend is the same id *at the same time*: a replaced unit, or firmware whose counter starts
 * again, reuses ids with new times, and those readings are new. Without `ts`, an id counts as
 * sent again for as long as an alarm's does (DEDUP_WINDOW_MS). The store is asked only when a message could be one sent again: not
 * newer than the device's newest, without a usable `ts`, or the device's first since start. Its
 * answer may take a moment (at most `storeTimeoutMs`, then the reading is taken as new); the
 * device's later messages wait behind it, so a device's readings stay in order.
 */
import { DEDUP_WINDOW_MS } from '../incidents/service.js'
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js'

export interface ReadingIds {
  /** Whether the store keeps a reading with this message id from this device, at `at` (or, when null, at or after `since`). */
  hasMessage(deviceId: string, msgId: string, at: number | null, since: number): Promise<boolean>
  /** The time of the newest reading the store keeps from this device. */
  newestOf(deviceId: string): Promise<number | null>
}

export type Seen = 'new' | 'duplicate'

/** Long enough for the sink's batch (once a second) to reach the store through its worker. */
const UNWRITTEN_MS = 10_000

export function createTelemetryDedup(
  store: ReadingIds,
  options: {
    /** Wall time: how long the worker may take to write, and the store to answer, are physical. */
    now?: () => number
    timers?: Pick<Clock, 'setTimeout' | 'clearTimeout'>
    /** The platform's clock: how long ago a reading without `ts` counts as a resend. */
    platformNow?: () => number
    /** Ids held in memory under a flood; past it the oldest go first (the store's unique key still keeps the history right). */
    maxUnwritten?: number
    storeTimeoutMs?: number
    onStoreError?: (err: unknown) => void
  } = {},
) {
  const timers = options.timers ?? systemClock()
  const now = options.now ?? (() => performance.now())
  const platformNow = options.platformNow ?? (() => Date.now())
  const maxUnwritten = options.maxUnwritten ?? 200_000
  const storeTimeoutMs = options.storeTimeoutMs ?? 2000
  /** `${device}\n${id}\n${time}` → when it was accepted. */
  const unwritten = new Map<string, number>()
  /**
   * The same keys and times in the order they were accepted, oldest from `head` on: forgetting
   * takes them from the front. Walking the Map from its start instead passes every entry deleted
   * since the engine last rehashed it — up to the whole bound, on every reading — which took 30 %
   * of a saturated alarm loop (bench/overload.ts).
   */
  const order: string[] = []
  const orderAt: number[] = []
  let head = 0
  /** Each device's newest reading time; absent until its first message since start was checked with the store. */
  const newest = new Map<string, number | null>()
  /** A device whose message waits for the store: its next ones wait behind it. */
  const waiting = new Map<string, Promise<Seen>>()

  function forgetWritten(at: number): void {
    const cutoff = at - UNWRITTEN_MS
    while (head < order.length && (orderAt[head]! < cutoff || unwritten.size > maxUnwritten)) {
      const key = order[head]!
      // A key accepted again since (a store that did not answer) is forgotten by its newer entry.
      if (unwritten.get(key) === orderAt[head]) unwritten.delete(key)
      head++
    }
    // What was forgotten leaves the arrays now and then, in one move: amortized constant per reading.
    if (head >= 1024 && head * 2 >= order.length) {
      order.splice(0, head)
      orderAt.splice(0, head)
      head = 0
    }
  }

  function accept(deviceId: string, key: string, at: number | null): Seen {
    const t = now()
    unwritten.set(key, t)
    order.push(key)
    orderAt.push(t)
    if (at !== null) {
      const n = newest.get(deviceId)
      if (n === undefined || n === null || at > n) newest.set(deviceId, at)
    }
    forgetWritten(t)
    return 'new'
  }

  /** Answers from memory when it can: undefined means the store must be asked. */
  function fromMemory(deviceId: string, key: string, at: number | null): Seen | undefined {
    if (unwritten.has(key)) return 'duplicate'
    if (!newest.has(deviceId) || at === null) return undefined
    const n = newest.get(deviceId)!
    return n === null || at > n ? accept(deviceId, key, at) : undefined
  }

  async function fromStore(deviceId: string, msgId: string, key: string, at: number | null): Promise<Seen> {
    if (!newest.has(deviceId)) newest.set(deviceId, await store.newestOf(deviceId))
    const known = fromMemory(deviceId, key, at)
    if (known) return known
    return (await store.hasMessage(deviceId, msgId, at, platformNow() - DEDUP_WINDOW_MS)) ? 'duplicate' : accept(deviceId, key, at)
  }

  /** A store that cannot answer in time must not cost or hold back the reading: taken twice is better than lost or late. */
  function answerInTime(deviceId: string, msgId: string, key: string, at: number | null): Promise<Seen> {
    let timer: TimerHandle | undefined
    const late = new Promise<never>((_, reject) => {
      timer = timers.setTimeout(() => reject(new Error(`the history store did not answer within ${storeTimeoutMs} ms`)), storeTimeoutMs)
    })
    return Promise.race([fromStore(deviceId, msgId, key, at), late])
      .catch((err: unknown): Seen => {
        options.onStoreError?.(err)
        return accept(deviceId, key, at)
      })
      .finally(() => timer && timers.clearTimeout(timer))
  }

  return {
    /**
     * Whether this message was seen before, and if not, remembers it. `at`: the reading's time
     * when the device's `ts` was taken (contract §4), else null. A promise only when the store is asked.
     */
    check(deviceId: string, msgId: string, at: number | null): Seen | Promise<Seen> {
      // A resend carries its original time; the same id at another time is another reading.
      const key = `${deviceId}\n${msgId}\n${at ?? '-'}`
      const before = waiting.get(deviceId)
      if (!before) {
        const known = fromMemory(deviceId, key, at)
        if (known) return known
      }
      const answer = (before ?? Promise.resolve()).then(() => answerInTime(deviceId, msgId, key, at))
      waiting.set(deviceId, answer)
      const done = () => {
        if (waiting.get(deviceId) === answer) waiting.delete(deviceId)
      }
      answer.then(done, done)
      return answer
    },
  }
}

export type TelemetryDedup = ReturnType<typeof createTelemetryDedup>
