/**
 * Failed logins, per account and per address (docs/security.md §accounts): past the limit in the
 * window, that account or address is refused, right password or not, until the lock ends. A
 * pure record on an injected clock; the tables are bounded, the oldest entry going first.
 */
import type { Clock } from '../shared/clock.js'
import { boundedMap } from '../shared/recent.js'

export interface LoginThrottleSettings {
  windowMs: number
  /** Failures for one username (from anywhere) within the window that lock it. */
  maxPerAccount: number
  /** Failures from one address (for any username) within the window that lock it. */
  maxPerAddress: number
  lockMs: number
  /** Entries kept per table. */
  maxTracked: number
}

export const LOGIN_THROTTLE_DEFAULTS: LoginThrottleSettings = { windowMs: 15 * 60_000, maxPerAccount: 10, maxPerAddress: 30, lockMs: 15 * 60_000, maxTracked: 10_000 }

interface Entry {
  failures: number[]
  lockedUntil: number
}

export type LoginGate = { allowed: true } | { allowed: false; until: number; by: 'account' | 'address' }

export function createLoginThrottle(clock: Pick<Clock, 'now'>, s: LoginThrottleSettings = LOGIN_THROTTLE_DEFAULTS) {
  type Table = ReturnType<typeof boundedMap<string, Entry>>
  // Each forgets the least recently failed key first.
  const accounts: Table = boundedMap(s.maxTracked)
  const addresses: Table = boundedMap(s.maxTracked)
  const accountKey = (username: string) => username.trim().toLowerCase()

  const lockedUntil = (table: Table, key: string, now: number) => {
    const e = table.get(key)
    return e && e.lockedUntil > now ? e.lockedUntil : null
  }
  const fail = (table: Table, key: string, max: number, now: number): boolean => {
    const e = table.get(key) ?? { failures: [], lockedUntil: 0 }
    e.failures = [...e.failures.filter((t) => t > now - s.windowMs), now]
    const locks = e.failures.length >= max
    if (locks) {
      e.lockedUntil = now + s.lockMs
      e.failures = []
    }
    table.set(key, e)
    return locks
  }

  return {
    /** Whether a login may be tried now. */
    gate(username: string, address: string): LoginGate {
      const now = clock.now()
      const byAddress = lockedUntil(addresses, address, now)
      if (byAddress !== null) return { allowed: false, until: byAddress, by: 'address' }
      const byAccount = lockedUntil(accounts, accountKey(username), now)
      if (byAccount !== null) return { allowed: false, until: byAccount, by: 'account' }
      return { allowed: true }
    },
    /** A wrong password or unknown username; returns what it locked. */
    failed(username: string, address: string): { account: boolean; address: boolean } {
      const now = clock.now()
      return { account: fail(accounts, accountKey(username), s.maxPerAccount, now), address: fail(addresses, address, s.maxPerAddress, now) }
    },
    /** A right password: the account's failures are forgotten (the address's are not: it may be guessing others). */
    succeeded(username: string): void {
      accounts.delete(accountKey(username))
    },
  }
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>
