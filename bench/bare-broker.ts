/**
 * The baseline for bench/alarm-latency.ts: a bare aedes broker with no authentication, no ACL
 * and no ingest, on the same TCP settings as the platform (no Nagle). What it costs to move a
 * QoS 1 message through aedes is the floor under the alarm path.
 *
 * Prints `BARE_BROKER mqtt://127.0.0.1:<port>` once listening; closes on SIGTERM or SIGINT.
 */
import net from 'node:net'
import { Aedes } from 'aedes'

const host = process.env.BARE_BROKER_HOST ?? '127.0.0.1'
const port = Number(process.env.BARE_BROKER_PORT ?? 0)

const broker = await Aedes.createBroker()
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
