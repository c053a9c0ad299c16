/**
 * The SOS button that keeps pressing while a benchmark attacks the platform: every `intervalMs`
 * one press with an alarm id of its own (`sos-<run>-<n>`), timed as the benchmark likes, until
 * stop().
 */
export function startSosPresser<S>(intervalMs: number, press: (id: string) => Promise<S>) {
  const tag = Date.now().toString(36)
  const samples: S[] = []
  const running: Promise<void>[] = []
  let i = 0
  const timer = setInterval(() => running.push(press(`sos-${tag}-${i++}`).then((sample) => void samples.push(sample))), intervalMs)
  return {
    /** Stops pressing and waits for the answers still due; the samples in the order they came. */
    async stop(): Promise<S[]> {
      clearInterval(timer)
      await Promise.all(running)
      return samples
    },
  }
}
