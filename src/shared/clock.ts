/** Time is a dependency: production uses the system clock, tests a virtual one. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}
export interface TimerHandle {
  readonly id: number
}

const MAX_DELAY = 2 ** 31 - 1

export function systemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>()
  let next = 1
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = next++
      const due = Date.now() + ms
      // Node fires a delay over 2^31-1 ms (24.8 days) at once: wait in hops until it is due.
      const arm = (): void => {
        const t = setTimeout(() => {
          if (Date.now() < due) return arm()
          timers.delete(id)
          fn()
        }, Math.min(Math.max(0, due - Date.now()), MAX_DELAY))
        t.unref()
        timers.set(id, t)
      }
      arm()
      return { id }
    },
    clearTimeout(handle) {
      const t = timers.get(handle.id)
      if (t) clearTimeout(t)
      timers.delete(handle.id)
    },
  }
}

/** A clock that only moves when told to; `advance` fires due timers in time order. */
export interface VirtualClock extends Clock {
  advance(ms: number): void
  set(now: number): void
}

export function virtualClock(start = Date.UTC(2026, 0, 1)): VirtualClock {
  let now = start
  let next = 1
  const timers = new Map<number, { at: number; fn: () => void }>()
  const runDue = (until: number) => {
    for (;;) {
      let dueId: number | undefined
      let dueAt = Infinity
      for (const [id, t] of timers) if (t.at <= until && t.at < dueAt) [dueId, dueAt] = [id, t.at]
      if (dueId === undefined) break
      const timer = timers.get(dueId)!
      timers.delete(dueId)
      now = Math.max(now, timer.at)
      timer.fn()
    }
    now = until
  }
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = next++
      timers.set(id, { at: now + Math.max(0, ms), fn })
      return { id }
    },
    clearTimeout(handle) {
      timers.delete(handle.id)
    },
    advance(ms) {
      runDue(now + ms)
    },
    set(to) {
      runDue(to)
    },
  }
}

/**
 * Runs `task` every `everyMs` on the clock, each run timed from the end of the one before, so a
 * slow run never overlaps the next. The task handles its own errors; a rejection still reschedules.
 */
export function repeatEvery(clock: Clock, everyMs: number, task: () => Promise<unknown>): { stop(): void } {
  let timer: TimerHandle | null = null
  let stopped = false
  const schedule = (): void => {
    timer = clock.setTimeout(() => {
      void task()
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) schedule()
        })
    }, everyMs)
  }
  schedule()
  return {
    stop(): void {
      stopped = true
      if (timer) clock.clearTimeout(timer)
      timer = null
    },
  }
}
