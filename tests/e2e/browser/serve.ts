/**
 * Serves the built dashboards (dashboards/dist) and proxies /api, /socket.io (with the
 * WebSocket upgrade) and /family to a running platform: the browser sees one origin, as in
 * production, without the platform having to serve dist itself.
 */
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.ico': 'image/x-icon', '.woff2': 'font/woff2',
}
const PROXIED = /^\/(api|socket\.io|family|healthz)(\/|\?|$)/

export async function serveDashboards(distDir: string, backendUrl: string, options: { now?: () => number } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const backend = new URL(backendUrl)
  const root = resolve(distDir)
  const target = (req: IncomingMessage) => ({ host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: { ...req.headers, host: backend.host } })

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    if (PROXIED.test(url)) {
      const upstream = request(target(req), (up) => {
        res.writeHead(up.statusCode ?? 502, options.now ? { ...up.headers, date: new Date(options.now()).toUTCString() } : up.headers)
        up.pipe(res)
      })
      upstream.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
      req.pipe(upstream)
      return
    }
    const pathname = decodeURIComponent(new URL(url, 'http://x').pathname)
    let file = normalize(join(root, pathname === '/' ? 'index.html' : pathname))
    if (!file.startsWith(root + sep) && file !== root) { res.writeHead(403).end(); return }
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html')
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    createReadStream(file).pipe(res)
  })

  server.on('upgrade', (req, socket, head) => {
    const upstream = request(target(req))
    upstream.on('upgrade', (up, upSocket, upHead) => {
      const lines = [`HTTP/1.1 101 ${up.statusMessage ?? 'Switching Protocols'}`]
      for (let i = 0; i < up.rawHeaders.length; i += 2) lines.push(`${up.rawHeaders[i]}: ${up.rawHeaders[i + 1]}`)
      socket.write(lines.join('\r\n') + '\r\n\r\n')
      if (upHead.length) socket.write(upHead)
      if (head.length) upSocket.write(head)
      upSocket.pipe(socket).pipe(upSocket)
      upSocket.on('error', () => socket.destroy())
      socket.on('error', () => upSocket.destroy())
    })
    upstream.on('response', (res) => { socket.end(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n\r\n`) })
    upstream.on('error', () => socket.destroy())
    upstream.end()
  })

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}
