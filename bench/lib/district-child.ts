/**
 * firmware-sim's runDistrict in a process of its own, driven over the IPC channel of fork(), so a
 * benchmark's own timing (an SOS button, an operator's socket) does not share a loop with tens of
 * thousands of simulated publishes a second. The parent sends one `run` message per district run
 * (and `abort` to end it early); the child answers with `progress` (about 4 a second, with its
 * CPU seconds) and `done` (the final DistrictStats) or `failed`.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { runDistrict, type DistrictOptions, type DistrictStats } from '../../firmware-sim/district.js'
import { ownChild } from './child.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** What may cross the IPC channel: DistrictOptions without the callbacks. */
export type DistrictRun = Omit<DistrictOptions, 'progress' | 'signal'>

type ToChild = { cmd: 'run'; options: DistrictRun } | { cmd: 'abort' }
type FromChild =
  | { cmd: 'progress'; stats: DistrictStats; cpuS: number }
  | { cmd: 'done'; stats: DistrictStats; cpuS: number }
  | { cmd: 'failed'; error: string }

export interface DistrictChild {
  pid: number
  /** One run at a time; `progress` is called with every snapshot and the child's CPU seconds so far. */
  run(options: DistrictRun, progress?: (s: DistrictStats, cpuS: number) => void): Promise<DistrictStats>
  abort(): void
  stop(): Promise<void>
}

/** Forks this file as the district's process. */
export function startDistrictChild(): DistrictChild {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { cwd: REPO_ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const owned = ownChild(child, 5000)
  const { exited } = owned
  return {
    pid: child.pid!,
    run(options, progress) {
      return new Promise<DistrictStats>((resolve, reject) => {
        const onMessage = (m: FromChild) => {
          if (m.cmd === 'progress') return progress?.(m.stats, m.cpuS)
          child.off('message', onMessage)
          if (m.cmd === 'done') {
            progress?.(m.stats, m.cpuS)
            resolve(m.stats)
          } else reject(new Error(`district child: ${m.error}`))
        }
        child.on('message', onMessage)
        void exited.then((how) => (owned.stopping() ? undefined : reject(new Error(`district child exited (${how})`))))
        child.send({ cmd: 'run', options } satisfies ToChild)
      })
    },
    abort() {
      if (child.connected) child.send({ cmd: 'abort' } satisfies ToChild)
    },
    stop: owned.stop,
  }
}

function cpuS(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

if (process.argv.includes('--child') && process.send) {
  let controller: AbortController | null = null
  const send = (m: FromChild) => process.send!(m)
  process.on('message', (m: ToChild) => {
    if (m.cmd === 'abort') return controller?.abort()
    controller = new AbortController()
    runDistrict({ ...m.options, signal: controller.signal, progress: (stats) => send({ cmd: 'progress', stats, cpuS: cpuS() }) }).then(
      (stats) => send({ cmd: 'done', stats, cpuS: cpuS() }),
      (err: unknown) => send({ cmd: 'failed', error: err instanceof Error ? err.message : String(err) }),
    )
  })
  process.on('disconnect', () => process.exit(0))
}
