/**
 * A Map that keeps at most `max` keys, forgetting the one least recently set first: for tables
 * keyed by what a client chooses (a username, an address, a device id), which must stay bounded.
 */
export function boundedMap<K, V>(max: number) {
  const map = new Map<K, V>()
  return {
    get: (key: K): V | undefined => map.get(key),
    /** Sets the value and makes the key the most recent one. */
    set(key: K, value: V): void {
      map.delete(key)
      map.set(key, value)
      if (map.size > max) map.delete(map.keys().next().value as K)
    },
    delete: (key: K): boolean => map.delete(key),
  }
}

/**
 * Whether a log line about `key` is due: at most one a minute per key, the table bounded (the
 * key least recently logged goes first). How many were held back since the last line is
 * returned with it. Wall time: it paces the log, not the platform.
 */
export function logPacer(maxKeys = 10_000, everyMs = 60_000, now: () => number = () => performance.now()) {
  const last = boundedMap<string, { at: number; held: number }>(maxKeys)
  return {
    /** null: not due (counted as held back); else the number held back before this one. */
    due(key: string): number | null {
      const t = now()
      const entry = last.get(key)
      if (entry !== undefined && t - entry.at < everyMs) {
        entry.held++
        return null
      }
      last.set(key, { at: t, held: 0 })
      return entry?.held ?? 0
    },
  }
}
