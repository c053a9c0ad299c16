/**
 * Work under way that shutdown and tests wait for: after moving a virtual clock, a test settles
 * the work the timers started instead of sleeping for it.
 */
export function inFlight() {
  const work = new Set<Promise<unknown>>()
  return {
    /** Tracks the promise until it settles; returns it. */
    track<T>(p: Promise<T>): Promise<T> {
      work.add(p)
      p.then(
        () => work.delete(p),
        () => work.delete(p),
      )
      return p
    },
    /** Resolves when nothing is under way, work started meanwhile included. */
    async settle(): Promise<void> {
      while (work.size > 0) await Promise.allSettled([...work])
    },
  }
}
