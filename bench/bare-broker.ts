/**
 * The baseline for bench/alarm-latency.ts: a bare aedes broker with no authentication, no ACL
 * and no ingest, on the same TCP settings as the platform (no Nagle). What it costs to move a
 * QoS 1 message through aedes is the floor under the alarm path.
 * Like the platform (src/broker/broker.ts) it keeps no retained message: aedes scans every
 * retained message on every SUBSCRIBE, so a fleet's retained statuses would make connecting
 * quadratic (19,800 devices took 179 s against 27 s) and charge their copies to the connections.
 *
 * Prints `BARE_BROKER mqtt://127.0.0.1:<port>` once listening; closes on SIGTERM or SIGINT.
 */
import net from 'node:net'
import { Aedes } from 'aedes'

const host = process.env.BARE_BROKER_HOST ?? '127.0.0.1'
const port = Number(process.env.BARE_BROKER_PORT ?? 0)

const broker = await Aedes.createBroker({
  authorizePublish(_client, packet, done) {
    packet.retain = false
    done(null)
  },
})
const server = net.createServer({ noDelay: true }, (socket) => broker.handle(socket))

server.listen(port, host, () => {
  const bound = (server.address() as net.AddressInfo).port
  process.stdout.write(`BARE_BROKER mqtt://${host}:${bound}\n`)
})

let closing = false
function shutdown(): void {
  if (closing) return
  closing = true
  server.close()
  broker.close(() => process.exit(0))
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
