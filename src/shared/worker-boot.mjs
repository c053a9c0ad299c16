// The first module of every worker thread (shared/worker.ts). Plain JavaScript: it runs before
// tsx is registered. The heavy packages are loaded first with Node's own loader; through tsx's
// hooks each of their files would cost a round trip (kysely alone took 0.9 s to load that way).
// Then tsx, then the worker's own TypeScript module.
import { workerData } from 'node:worker_threads'

for (const name of workerData.preload) await import(name)
const { register } = await import('tsx/esm/api')
register()
await import(workerData.module)
