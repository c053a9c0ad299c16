import type { ChildProcess } from 'node:child_process'

/** Every child a benchmark started and that is still running: killed on exit, whatever happens. */
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/**
 * A benchmark's child process (a platform, a bare broker, the district's process): killed with
 * the benchmark, how it exited, and a stop that asks first (SIGTERM) and insists after `graceMs`.
 */
export function ownChild(child: ChildProcess, graceMs: number) {
  children.add(child)
  let stopping = false
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child)
      resolve(signal ? `signal ${signal}` : `code ${code}`)
    }),
  )
  return {
    /** How it exited: `code N` or `signal S`. */
    exited,
    /** stop() was asked: an exit now is no crash. */
    stopping: () => stopping,
    async stop(): Promise<void> {
      if (stopping || child.exitCode !== null || child.signalCode !== null) return
      stopping = true
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}
