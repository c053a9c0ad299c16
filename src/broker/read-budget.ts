/**
 * Alarms first under overload (docs/operations.md §overload): how much device input the event
 * loop reads per turn. Every connection is read through a gate. While a turn of the loop has
 * run less than the budget, a gate passes what arrives at once. Past it, what arrives next
 * waits, and its connection is read no further: TCP flow control holds the rest in the device.
 * Waiting connections are let through at the end of the turn, an allowance of bytes per turn.
 * Connections that sent little lately (a button's SOS, a meter's report) go before those that
 * sent much (a flood, a district flushing its buffers). A connection not yet logged in never
 * waits: those are few (docs/security.md §broker caps them), and a fresh SOS begins as one.
 *
 * Connections first: the loop accepts one connection per turn (libuv/libuv#3696), and the kernel
 * queues the rest in arrival order, a fresh SOS among them. While connections keep arriving (a
 * district reconnecting), turns are kept short, so the queue empties at hundreds a second.
 *
 * The gate sits between the socket and aedes as a plain stream, so aedes reads it as it reads
 * a socket. Pausing aedes' client itself stalls it (bench/README.md, the hold-back tried and dropped).
 * Wall time: it paces the loop's work, not the platform's clock.
 */
import { Duplex } from 'node:stream'

export interface ReadBudgetSettings {
  /** Wall time per turn of the event loop past which busy connections wait. */
  budgetMs: number
  /** A connection that sent at most this much within `windowMs` is served first. */
  lightBytes: number
  windowMs: number
}

export const READ_BUDGET_DEFAULTS: ReadBudgetSettings = { budgetMs: 25, lightBytes: 4096, windowMs: 10_000 }

/** A connection arrived this recently: more may be queued behind it, so turns stay short. */
const ACCEPTING_MS = 20
/** The budget of a turn while connections are arriving. */
const ACCEPTING_BUDGET_MS = 1

/** What the read budget did since start (metrics). */
export interface ReadBudgetStats {
  /** Connections waiting now. */
  waiting: number
  /** Times a connection was made to wait. */
  held: number
}

/** Estimated work per byte at the start; measured from then on. */
const START_MS_PER_BYTE = 1e-4
/** Smoothing of the measured work per byte, and the least a turn must read to be a sample. */
const ALPHA = 0.2
const MIN_SAMPLE_BYTES = 4096

export function createReadBudget(settings: ReadBudgetSettings = READ_BUDGET_DEFAULTS, now: () => number = () => performance.now()) {
  const { budgetMs, lightBytes, windowMs } = settings
  /** Waiting gates, in order: those that sent little first. */
  const light: Gate[] = []
  const heavy: Gate[] = []
  let lightHead = 0
  let heavyHead = 0
  /** When this turn's device input began (the first byte let through since the last turn ended). */
  let turnStart = 0
  let inTurn = false
  /** Bytes let through this turn, and the loop's measured work per byte (ms). */
  let turnBytes = 0
  let msPerByte = START_MS_PER_BYTE
  let held = 0
  let acceptedAt = -Infinity

  const accepting = (t = now()) => t - acceptedAt < ACCEPTING_MS
  const turnBudget = (t: number) => (accepting(t) ? Math.min(budgetMs, ACCEPTING_BUDGET_MS) : budgetMs)

  const waiting = () => light.length - lightHead + (heavy.length - heavyHead)

  /**
   * What this turn has cost so far, or will: bytes let through are worked on after the
   * callback that let them through (aedes reads on the next tick, ingest runs in promises),
   * so the time alone would let every connection's buffer through before any of it shows.
   */
  const spent = (t: number) => Math.max(t - turnStart, turnBytes * msPerByte)

  function beginTurn(t: number): void {
    if (inTurn) return
    inTurn = true
    turnStart = t
    turnBytes = 0
    setImmediate(endTurn)
  }

  /**
   * The end of a turn (the loop's check phase): learns the turn's work per byte, then lets
   * waiting gates through, as many bytes as the budget buys at that rate. Their work runs
   * right after, and the next turn's arrivals wait if it took the budget.
   */
  function endTurn(): void {
    inTurn = false
    const t = now()
    const elapsed = t - turnStart
    // A turn that read little says more about the loop's other work than about reading.
    if (turnBytes >= MIN_SAMPLE_BYTES) msPerByte += ALPHA * (elapsed / turnBytes - msPerByte)
    if (waiting() === 0) return
    beginTurn(t)
    let allowance = turnBudget(t) / msPerByte
    // While connections arrive, a busy connection waits unless what it sent fits the turn: the
    // queue of connections empties first. Otherwise at least one goes, so every waiting
    // connection is read again in turn, however slow the loop.
    const busyWait = accepting(t)
    for (let released = 0; waiting() > 0 && (released === 0 || allowance > 0); released++) {
      const quiet = lightHead < light.length
      if (!quiet && busyWait && heavy[heavyHead]!.stashed > allowance) break
      const gate = quiet ? light[lightHead++]! : heavy[heavyHead++]!
      allowance -= gate.release()
    }
    compact()
  }

  function compact(): void {
    if (lightHead === light.length || lightHead > 1024) {
      light.splice(0, lightHead)
      lightHead = 0
    }
    if (heavyHead === heavy.length || heavyHead > 1024) {
      heavy.splice(0, heavyHead)
      heavyHead = 0
    }
  }

  class Gate extends Duplex {
    /** Logged in: from then on it may be made to wait. */
    admitted = false
    private waiting = false
    private stash: Buffer[] = []
    /** Bytes waiting in the stash. */
    stashed = 0
    private ended = false
    private windowStart = 0
    private windowBytes = 0

    constructor(private readonly socket: Duplex) {
      super({ allowHalfOpen: false })
      socket.on('data', (chunk: Buffer) => this.arrive(chunk))
      socket.on('end', () => this.finish())
      socket.on('error', (err) => this.destroy(err))
      socket.on('close', () => this.destroy())
    }

    private arrive(chunk: Buffer): void {
      const t = now()
      if (t - this.windowStart > windowMs) {
        this.windowStart = t
        this.windowBytes = 0
      }
      this.windowBytes += chunk.length
      if (this.waiting) {
        this.stash.push(chunk)
        this.stashed += chunk.length
        return
      }
      beginTurn(t)
      // What this chunk will cost counts too: while connections arrive the turn is 1 ms, and one
      // busy connection's buffer is many times that.
      if (this.admitted && spent(t) + chunk.length * msPerByte >= turnBudget(t)) {
        this.waiting = true
        this.stash.push(chunk)
        this.stashed += chunk.length
        this.socket.pause()
        held++
        if (this.windowBytes <= lightBytes) light.push(this)
        else heavy.push(this)
        return
      }
      this.pass(chunk)
    }

    private pass(chunk: Buffer): void {
      turnBytes += chunk.length
      // aedes has not read what it was given yet (a batch still in hand): the socket waits.
      if (!this.push(chunk)) this.socket.pause()
    }

    private finish(): void {
      this.ended = true
      if (!this.waiting) this.push(null)
    }

    /** Lets what waited through; returns its size. */
    release(): number {
      if (this.destroyed) return 0
      this.waiting = false
      const stash = this.stash
      this.stash = []
      this.stashed = 0
      let bytes = 0
      for (const chunk of stash) {
        bytes += chunk.length
        this.pass(chunk)
      }
      if (this.ended) this.push(null)
      else if (this.readableLength < this.readableHighWaterMark) this.socket.resume()
      return bytes
    }

    override _read(): void {
      if (!this.waiting && !this.ended) this.socket.resume()
    }

    // Written straight through; only a socket that is full holds the next write back. Its
    // failures arrive as the socket's 'error'.
    override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
      if (this.socket.write(chunk)) done()
      else this.socket.once('drain', done)
    }

    override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
      this.socket.cork()
      let room = true
      for (const { chunk } of chunks) room = this.socket.write(chunk)
      this.socket.uncork()
      if (room) done()
      else this.socket.once('drain', done)
    }

    override _final(done: (err?: Error | null) => void): void {
      this.socket.end()
      done()
    }

    override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
      this.stash = []
      this.stashed = 0
      this.socket.destroy()
      done(err)
    }
  }

  return {
    /** The stream aedes reads instead of `socket`; call `admitted()` once the device has logged in. */
    gate(socket: Duplex): { stream: Duplex; admitted(): void } {
      acceptedAt = now()
      const gate = new Gate(socket)
      return {
        stream: gate,
        admitted: () => {
          gate.admitted = true
        },
      }
    },
    stats: (): ReadBudgetStats => ({ waiting: waiting(), held }),
  }
}

export type ReadBudget = ReturnType<typeof createReadBudget>
