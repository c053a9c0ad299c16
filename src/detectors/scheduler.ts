/**
 * One due time per household in a binary min-heap, driven by a single clock timer: 100,000
 * households with open windows cost one timer and O(log n) per reschedule, not 100,000 timers.
 * Rescheduling leaves the old heap entry behind; it is skipped when popped (lazy deletion) and
 * the heap is rebuilt when stale entries outnumber live ones.
 */
import type { Clock, TimerHandle } from '../shared/clock.js'

export function createScheduler(clock: Clock, onDue: (key: string, now: number) => void, onError: (err: unknown, key: string) => void = () => undefined) {
  const due = new Map<string, number>()
  let heap: [number, string][] = []
  let timer: TimerHandle | null = null
  let timerAt = Infinity
  let running = false

  const less = (a: [number, string], b: [number, string]) => a[0] < b[0]

  function push(entry: [number, string]): void {
    heap.push(entry)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!less(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  function pop(): [number, string] | undefined {
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
        i = m
      }
    }
    return top
  }

  /** Drops entries that no longer match their key's due time. */
  function compact(): void {
    const live: [number, string][] = [...due].map(([key, at]) => [at, key])
    heap = []
    for (const e of live) push(e)
  }

  function peekLive(): [number, string] | undefined {
    while (heap.length > 0 && due.get(heap[0]![1]) !== heap[0]![0]) pop()
    return heap[0]
  }

  function arm(): void {
    if (!running) return
    const top = peekLive()
    const at = top ? top[0] : Infinity
    if (at === timerAt) return
    if (timer) clock.clearTimeout(timer)
    timer = null
    timerAt = at
    if (at === Infinity) return
    timer = clock.setTimeout(fire, Math.max(0, at - clock.now()))
  }

  function fire(): void {
    timer = null
    timerAt = Infinity
    const now = clock.now()
    const ready: string[] = []
    for (let top = peekLive(); top && top[0] <= now; top = peekLive()) {
      pop()
      due.delete(top[1])
      ready.push(top[1])
    }
    for (const key of ready) {
      try {
        onDue(key, now)
      } catch (err) {
        // One household's failure must not stop every other household's checks.
        onError(err, key)
      }
    }
    arm()
  }

  return {
    /** Sets (or moves) the key's due time; null removes it. */
    schedule(key: string, at: number | null): void {
      if (at === null) {
        due.delete(key)
      } else if (due.get(key) !== at) {
        due.set(key, at)
        push([at, key])
      }
      if (heap.length > 64 && heap.length > 2 * due.size) compact()
      arm()
    },
    dueAt: (key: string) => due.get(key) ?? null,
    /** The earliest due time, if any. */
    nextAt: (): number | null => peekLive()?.[0] ?? null,
    size: () => due.size,
    start(): void {
      running = true
      arm()
    },
    stop(): void {
      running = false
      if (timer) clock.clearTimeout(timer)
      timer = null
      timerAt = Infinity
    },
  }
}

export type Scheduler = ReturnType<typeof createScheduler>
