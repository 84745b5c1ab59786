/**
 * A pass-through OTLP/HTTP proxy in front of Jaeger that records how each export request was sent.
 *
 * Jaeger accepts protobuf and JSON, compressed or not, so a trace arriving there does not prove that
 * the exporter used the encoding a test asked for. Sending through this proxy does: the test sees
 * the `Content-Type` and `Content-Encoding` of every request, and the body bytes, while Jaeger
 * still decodes and stores the spans.
 */
import * as http from "node:http"
import type * as net from "node:net"
import { otlpHttpUrl } from "./jaeger.ts"

export interface ProxiedRequest {
  readonly method: string
  readonly path: string
  readonly contentType: string | undefined
  readonly contentEncoding: string | undefined
  readonly body: Buffer
  /** What Jaeger answered. */
  readonly status: number
}

export interface Proxy {
  /** The base endpoint to export to, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly requests: ReadonlyArray<ProxiedRequest>
  readonly close: () => Promise<void>
}

// Hop-by-hop headers and ones `fetch` sets itself.
const dropped = new Set(["host", "connection", "keep-alive", "content-length", "transfer-encoding"])

export const startProxy = async (): Promise<Proxy> => {
  const requests: Array<ProxiedRequest> = []
  const server = http.createServer(async (req, res) => {
    try {
      const chunks: Array<Buffer> = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const body = Buffer.concat(chunks)
      const headers = new Headers()
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined && !dropped.has(key)) headers.set(key, Array.isArray(value) ? value.join(", ") : value)
      }
      const upstream = await fetch(`${otlpHttpUrl}${req.url ?? "/"}`, {
        method: req.method ?? "POST",
        headers,
        body,
        signal: AbortSignal.timeout(30_000)
      })
      // `fetch` has already decompressed the answer, so only its type is passed on.
      const answer = Buffer.from(await upstream.arrayBuffer())
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        contentType: req.headers["content-type"],
        contentEncoding: req.headers["content-encoding"],
        body,
        status: upstream.status
      })
      res.writeHead(upstream.status, {
        "content-type": upstream.headers.get("content-type") ?? "application/octet-stream"
      })
      res.end(answer)
    } catch (error) {
      res.writeHead(502, { "content-type": "text/plain" })
      res.end(`e2e proxy: could not reach Jaeger at ${otlpHttpUrl}: ${String(error)}`)
    }
  })
  const sockets = new Set<net.Socket>()
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}
