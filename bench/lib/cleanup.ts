import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

/**
 * What a benchmark started (child processes, sockets, a temporary folder), stopped in reverse
 * order on success, failure and SIGINT/SIGTERM alike. `cleanup()` runs what is registered so
 * far and may be called again after more is registered; calls while one runs share it.
 */
export function createCleanup(log: (message: string) => void) {
  const stack: (() => Promise<void> | void)[] = []
  let running: Promise<void> | null = null
  const cleanup = (): Promise<void> =>
    (running ??= (async () => {
      for (let fn = stack.pop(); fn; fn = stack.pop()) {
        try {
          await fn()
        } catch (err) {
          log(`cleanup: ${err instanceof Error ? err.message : String(err)}`)
        }
      }
    })().finally(() => {
      running = null
    }))
  return {
    register(fn: () => Promise<void> | void): void {
      stack.push(fn)
    },
    cleanup,
    /** On SIGINT or SIGTERM: says what is being stopped, cleans up, runs `after`, exits 130. */
    onSignals(what: string, hooks: { interrupted?: () => void; after?: () => void } = {}): void {
      const onSignal = (signal: NodeJS.Signals) => {
        hooks.interrupted?.()
        log(`${signal}: ${what}`)
        void cleanup().finally(() => {
          hooks.after?.()
          process.exit(130)
        })
      }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
    },
  }
}

/**
 * A benchmark's cleanup with its temporary folder (removed last of what it registers first) and
 * the signals handled: `what` says what a signal stops.
 */
export function benchSession(log: (message: string) => void, what: string, hooks: { interrupted?: () => void } = {}) {
  const session = createCleanup(log)
  const tempDir = mkdtempSync(join(os.tmpdir(), 'anju-bench-'))
  session.register(() => rmSync(tempDir, { recursive: true, force: true }))
  session.onSignals(`${what} and removing ${tempDir}`, hooks)
  return { register: session.register, cleanup: session.cleanup, tempDir }
}
