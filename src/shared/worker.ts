/**
 * Starts a worker thread on a TypeScript module. The platform runs its sources through tsx,
 * whose loader a worker does not inherit (Node 20): the worker registers it, then imports.
 * tsx is found from here, not from the working directory, which may be anywhere.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/** The ESM entry of `tsx/esm/api` (its CommonJS twin cannot register from an eval worker). */
const TSX_API = (() => {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json')
  const exports = (createRequire(import.meta.url)('tsx/package.json') as { exports: Record<string, { import: { default: string } }> }).exports
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href
})()

export function startWorker(module: URL, workerData: unknown): Worker {
  const boot = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(module.href)}) })`
  return new Worker(boot, { eval: true, workerData })
}
