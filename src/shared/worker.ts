/**
 * Starts a worker thread on a TypeScript module. The platform runs its sources through tsx,
 * whose loader a worker does not inherit (Node 20): worker-boot.mjs registers it in the worker
 * after loading `preload` (packages the module uses) without it, then imports the module.
 * The module reads its own data as `workerData.data`. `resourceLimits` caps the worker's own
 * heap: past it the worker alone ends (ERR_WORKER_OUT_OF_MEMORY), never the process.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads'

const BOOT = new URL('./worker-boot.mjs', import.meta.url)

export function startWorker(module: URL, data: unknown, preload: readonly string[] = [], resourceLimits?: ResourceLimits): Worker {
  return new Worker(BOOT, { workerData: { module: module.href, preload, data }, ...(resourceLimits ? { resourceLimits } : {}) })
}
