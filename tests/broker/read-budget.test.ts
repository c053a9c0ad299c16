/**
 * The read budget's gates (src/broker/read-budget.ts, docs/operations.md §overload) on real
 * sockets, with the budget's clock in the test's hands: who waits, who goes first, and that a
 * gate is a faithful stream both ways.
 */
import { once } from 'node:events'
import net from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createReadBudget, type ReadBudget } from '../../src/broker/read-budget.js'

let server: net.Server
let accepted: ((socket: net.Socket) => void)[] = []
const open: net.Socket[] = []

beforeEach(async () => {
  accepted = []
  server = net.createServer((socket) => accepted.shift()!(socket))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
})
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy()
  await new Promise((r) => server.close(r))
})

/** A client socket, and the server's side of it read through a gate of `budget`. */
async function connection(budget: ReadBudget) {
  const serverSide = new Promise<net.Socket>((resolve) => accepted.push(resolve))
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  await once(client, 'connect')
  const raw = await serverSide
  open.push(client, raw)
  const gate = budget.gate(raw)
  const delivered: string[] = []
  gate.stream.on('data', (chunk: Buffer) => delivered.push(chunk.toString()))
  /** Sends `text` and resolves once it has reached the server's socket (not necessarily the gate's reader). */
  const send = async (text: string) => {
    const arrived = once(raw, 'data')
    client.write(text)
    await arrived
  }
  return { client, raw, gate, delivered, send }
}

const turn = () => new Promise<void>((r) => setImmediate(r))
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (condition()) return
    await turn()
  }
  throw new Error(`never: ${what}`)
}

describe('the read budget', () => {
  it('while connections arrive: one not logged in goes at once, a quiet one next, a busy one waits until they stop', async () => {
    let t = 0
    // A budget no read fits: every logged-in connection's input waits for the end of its turn.
    const budget = createReadBudget({ budgetMs: 0.001, lightBytes: 100, windowMs: 60_000 }, () => t)
    const busy = await connection(budget)
    const quiet = await connection(budget)
    const fresh = await connection(budget)
    busy.gate.admitted()
    quiet.gate.admitted()

    await busy.send('b'.repeat(500))
    await quiet.send('q'.repeat(50))
    await fresh.send('f'.repeat(500))
    await until(() => fresh.delivered.join('').length === 500 && quiet.delivered.join('') === 'q'.repeat(50), 'the fresh and the quiet connection read')
    for (let i = 0; i < 20; i++) await turn()
    expect(busy.delivered).toEqual([])
    expect(budget.stats()).toEqual({ waiting: 1, held: 2 })

    // No connection for longer than the budget's window: the busy one is read in turn.
    t += 1000
    await until(() => busy.delivered.join('') === 'b'.repeat(500), 'the busy connection read')
    expect(budget.stats().waiting).toBe(0)
  })

  it('passes what fits the turn at once; what does not waits, and goes at the end of the turn', async () => {
    let t = 0
    const budget = createReadBudget({ budgetMs: 0.05, lightBytes: 100, windowMs: 60_000 }, () => t)
    const c = await connection(budget)
    c.gate.admitted()
    t = 1000
    // 300 bytes at the starting estimate of work per byte fit 0.05 ms: read at once.
    await c.send('a'.repeat(300))
    await until(() => c.delivered.join('') === 'a'.repeat(300), 'read at once')
    expect(budget.stats().held).toBe(0)
    // 3,000 do not: they wait, and are read at the end of the turn all the same (at least one
    // connection a turn, however slow the loop).
    await c.send('z'.repeat(3000))
    await until(() => c.delivered.join('').length === 3300, 'read at the end of the turn')
    expect(c.delivered.join('')).toBe('a'.repeat(300) + 'z'.repeat(3000))
    expect(budget.stats()).toEqual({ waiting: 0, held: 1 })
  })

  it('is a faithful stream: writes reach the device, and its end ends the gate', async () => {
    const budget = createReadBudget()
    const c = await connection(budget)
    c.gate.admitted()
    const reply = once(c.client, 'data')
    c.gate.stream.write(Buffer.from('CONNACK'))
    expect(String((await reply)[0])).toBe('CONNACK')

    const ended = once(c.gate.stream, 'end')
    const closed = once(c.gate.stream, 'close')
    await c.send('last words')
    c.client.end()
    await ended
    expect(c.delivered.join('')).toBe('last words')
    // Not half open: the gate's end ends the socket too.
    await closed
    expect(c.raw.destroyed).toBe(true)
  })
})
