/**
 * The reading of a street office's file (read.ts), on a worker thread of its own (read-off-thread.ts):
 * exceljs holds the event loop it runs on for about a second per 5,000 rows, and that loop must
 * stay free for the alarms (docs/operations.md §overload, §registry import).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { FileTooLarge, readFile } from './read.js'
import type { FromReadWorker, ReadWorkerData } from './read-off-thread.js'

const { file, sheet, maxInflatedBytes } = (workerData as { data: ReadWorkerData }).data
let answer: FromReadWorker
try {
  answer = { read: await readFile(Buffer.from(file.buffer, file.byteOffset, file.byteLength), { ...(sheet ? { sheet } : {}), maxInflatedBytes }) }
} catch (err) {
  if (!(err instanceof FileTooLarge)) throw err
  answer = { tooLarge: err.message }
}
parentPort!.postMessage(answer)
