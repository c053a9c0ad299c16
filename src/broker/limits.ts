/**
 * Limits that hold before a device has proved who it is (docs/security.md §broker): what one
 * address, or everyone together, may hold open, and how large a packet may be. One process
 * carries every alarm; no client may exhaust it.
 */
import type { Client } from 'aedes'

export interface ConnectionLimitSettings {
  /** Connections open at once, from everyone. */
  maxConnections: number
  /** Connections open at once from one address (NB-IoT devices often share a carrier's NAT). */
  maxPerAddress: number
  /** Of those, connections that have not yet been let in (no CONNECT, or not authenticated). */
  maxPendingPerAddress: number
}

export type Admission = { admitted: true; connected(): void; closed(): void } | { admitted: false; reason: string }

/**
 * Counts open connections by address. Only addresses with an open connection are kept, so the
 * table is bounded by `maxConnections`.
 */
export function createConnectionLimits(s: ConnectionLimitSettings) {
  const byAddress = new Map<string, { open: number; pending: number }>()
  let open = 0

  return {
    admit(address: string): Admission {
      const a = byAddress.get(address) ?? { open: 0, pending: 0 }
      if (open >= s.maxConnections) return { admitted: false, reason: 'too many connections' }
      if (a.open >= s.maxPerAddress) return { admitted: false, reason: 'too many connections from one address' }
      if (a.pending >= s.maxPendingPerAddress) return { admitted: false, reason: 'too many connections not yet logged in from one address' }
      a.open++
      a.pending++
      open++
      byAddress.set(address, a)
      let pending = true
      let done = false
      return {
        admitted: true,
        connected() {
          if (!pending || done) return
          pending = false
          a.pending--
        },
        closed() {
          if (done) return
          done = true
          if (pending) a.pending--
          a.open--
          open--
          if (a.open === 0) byAddress.delete(address)
        },
      }
    },
    snapshot() {
      return { open, addresses: byAddress.size }
    },
  }
}

export type ConnectionLimits = ReturnType<typeof createConnectionLimits>

/** Raised by the parser for a packet over the limit; counted where it is raised. */
export class PacketTooLarge extends Error {
  override readonly name = 'PacketTooLarge'
}

interface ParserInternals {
  packet: { length: number; cmd?: string }
  _parseLength(): boolean
  _emitError(err: Error): void
  prependListener(event: 'packet', listener: (packet: { cmd: string }) => void): unknown
}

/** Packets only a server sends (MQTT 3.1.1 §2.2.1); aedes closes a client that sends one. */
const SERVER_ONLY: ReadonlySet<string> = new Set(['connack', 'suback', 'unsuback', 'pingresp'])

/** Calls `onServerPacket` when the client sends a packet only a server may send, before aedes closes it. */
export function onServerOnlyPacket(client: Client, onServerPacket: (cmd: string) => void): void {
  const parser = (client as unknown as { _parser: ParserInternals })._parser
  parser.prependListener('packet', (packet) => {
    if (SERVER_ONLY.has(packet.cmd)) onServerPacket(packet.cmd)
  })
}

/**
 * Refuses a packet as soon as its fixed header declares more than `maxBytes`, before its body is
 * buffered: mqtt-packet reads the remaining length first and only then waits for the whole body
 * (its parser's `_parseLength` and `_parsePayload` states, which aedes feeds as bytes arrive). The
 * parser's error closes the connection through aedes' own error path.
 */
export function limitPacketSize(client: Client, maxBytes: number, onOversize: (cmd: string, length: number) => void): void {
  const parser = (client as unknown as { _parser: ParserInternals })._parser
  const parseLength = parser._parseLength.bind(parser)
  parser._parseLength = () => {
    const complete = parseLength()
    if (complete && parser.packet.length > maxBytes) {
      onOversize(parser.packet.cmd ?? 'unknown', parser.packet.length)
      parser._emitError(new PacketTooLarge(`packet of ${parser.packet.length} bytes is over the limit of ${maxBytes}`))
      return false
    }
    return complete
  }
}
