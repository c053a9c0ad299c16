/** The benchmarks' command-line numbers: a clear error naming the flag, never a run on NaN. */

export function numberFlag(name: string, raw: string, min: number): number {
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}`)
  return n
}

export function countFlag(name: string, raw: string, min: number): number {
  const n = numberFlag(name, raw, min)
  if (!Number.isInteger(n)) throw new Error(`--${name} must be a whole number, got ${JSON.stringify(raw)}`)
  return n
}

/** `--help`: the usage on stdout, and nothing run. */
export function exitOnHelp(help: boolean | undefined, usage: string): void {
  if (!help) return
  process.stdout.write(usage + '\n')
  process.exit(0)
}
