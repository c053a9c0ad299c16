/** The benchmarks' command line: numbers with a clear error naming the flag (never a run on NaN), --help, bad options. */

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

export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** The options, or null after printing what is wrong with them and the usage (the benchmark then exits 2). */
export function optionsOrUsage<T>(parse: (argv: string[]) => T, usage: string, argv = process.argv.slice(2)): T | null {
  try {
    return parse(argv)
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n${usage}\n`)
    return null
  }
}
