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
