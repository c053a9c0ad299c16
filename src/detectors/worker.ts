/**
 * The detectors' thread (link.ts `workerLink`): runs the engine on the commands the alarm loop
 * hands over and answers with their outcomes; serialises changed states a slice at a time,
 * turning between slices so the next commands are not held up by a flush.
 */
import { parentPort } from 'node:worker_threads'
import { changedStates, createEngine } from './engine.js'
import type { FromEngine, ToEngine } from './link.js'

const port = parentPort!
const engine = createEngine()
const reply = (m: FromEngine) => port.postMessage(m)

async function flush(seq: number): Promise<void> {
  for await (const states of changedStates(engine)) reply({ t: 'states', seq, states })
  reply({ t: 'flushed', seq })
}

port.on('message', (m: ToEngine) => {
  switch (m.t) {
    case 'run': {
      const { outcomes, errors } = engine.run(m.commands)
      return reply({ t: 'ran', seq: m.seq, outcomes, errors })
    }
    case 'flush':
      return void flush(m.seq)
    case 'unsaved':
      return engine.unsaved(m.ids)
    case 'monitor':
      return reply({ t: 'monitor', seq: m.seq, state: engine.monitor(m.householdId) })
  }
})
reply({ t: 'ready' })
