/**
 * Seeded randomness for the simulator and the benchmarks: no Math.random, so the same seed
 * gives the same homes, byte for byte.
 */

/** mulberry32: small, fast, and good enough to make days differ (and benchmarks repeatable). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SECOND = 1000
const MINUTE = 60 * SECOND

export class Rng {
  private readonly next: () => number
  constructor(seed: number) {
    this.next = mulberry32(seed)
  }
  unit(): number {
    return this.next()
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next()
  }
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo + 1) * this.next())
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  /** Whole minutes (in ms) between lo and hi, both in minutes. */
  minutes(lo: number, hi: number): number {
    return Math.round(this.between(lo, hi)) * MINUTE
  }
  /** A duration in whole seconds (as ms) between lo and hi minutes. */
  mins(lo: number, hi: number): number {
    return Math.round(this.between(lo, hi) * 60) * SECOND
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!
  }
  /** One of the keys, with the given weights. */
  weighted<K extends string>(w: Record<K, number>): K {
    const keys = Object.keys(w) as K[]
    let total = 0
    for (const k of keys) total += w[k]
    let x = this.next() * total
    for (const k of keys) {
      x -= w[k]
      if (x < 0) return k
    }
    return keys[keys.length - 1]!
  }
  /** Roughly normal (mean 0, sd 1): the sum of four uniforms, scaled. */
  normal(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.732
  }
}
