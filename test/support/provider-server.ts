/**
 * A local stand-in for a model provider: a `node:http` server on 127.0.0.1 that answers each
 * request with the next scripted reply, written on the wire as the provider documents it (JSON
 * bodies, `text/event-stream` bodies written chunk by chunk, error bodies with status codes and
 * `retry-after`), or misbehaves on purpose (a cut connection, a stall, a huge body).
 *
 * It records what it was sent (path, headers, parsed body) and whether the client hung up early.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"

/** One scripted reply. */
export type Reply =
  | {
    readonly kind: "json"
    readonly status?: number
    readonly body: unknown
    readonly headers?: Record<string, string>
  }
  | { readonly kind: "raw"; readonly status?: number; readonly body: string; readonly headers?: Record<string, string> }
  /** Server-sent events: each string is written as its own chunk, `delayMs` apart. */
  | {
    readonly kind: "sse"
    readonly chunks: ReadonlyArray<string>
    readonly delayMs?: number
    readonly ending?: "end" | "cut" | "stall"
  }
  /** Writes `bytes` bytes of `fill` as the body, in 64 KiB chunks. */
  | { readonly kind: "huge"; readonly bytes: number; readonly contentType: string; readonly fill?: string }
  /** Accepts the request and never answers. */
  | { readonly kind: "stall" }

export interface Received {
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: any
}

/** `data: <json>\n\n`, an OpenAI-style event. */
export const data = (value: unknown): string => `data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`
/** `event: <name>\ndata: <json>\n\n`, an Anthropic-style event. */
export const event = (name: string, value: unknown): string => `event: ${name}\ndata: ${JSON.stringify(value)}\n\n`

export class ProviderServer {
  readonly received: Array<Received> = []
  /** Requests whose client closed the connection before the reply was complete. */
  clientHangups = 0
  private script: Array<Reply> = []
  private readonly sockets = new Set<net.Socket>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(private readonly server: http.Server, readonly url: string) {
    server.on("connection", (socket) => {
      this.sockets.add(socket)
      socket.on("close", () => this.sockets.delete(socket))
    })
    server.on("request", (req, res) => this.handle(req, res))
  }

  /** The replies for the next requests, in order; a request past the script gets a 500. */
  reply(...replies: ReadonlyArray<Reply>): this {
    this.script = [...replies]
    this.received.length = 0
    this.clientHangups = 0
    return this
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // kept as text
      }
      this.received.push({ path: req.url ?? "", headers: req.headers, body })
      const reply = this.script.shift() ??
        { kind: "json", status: 500, body: { error: { message: "script exhausted" } } }
      let finished = false
      res.on("finish", () => {
        finished = true
      })
      res.on("close", () => {
        if (!finished) this.clientHangups++
      })
      this.send(reply, res)
    })
  }

  private later(ms: number, f: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      f()
    }, ms)
    this.timers.add(timer)
  }

  private send(reply: Reply, res: http.ServerResponse): void {
    switch (reply.kind) {
      case "json":
        res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers })
        res.end(JSON.stringify(reply.body))
        return
      case "raw":
        res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers })
        res.end(reply.body)
        return
      case "stall":
        return
      case "huge": {
        res.writeHead(200, { "content-type": reply.contentType })
        const block = (reply.fill ?? "x").repeat(Math.ceil(65536 / (reply.fill ?? "x").length)).slice(0, 65536)
        let left = reply.bytes
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            const n = Math.min(left, block.length)
            left -= n
            if (!res.write(block.slice(0, n))) return void res.once("drain", pump)
          }
          if (!res.destroyed) res.end()
        }
        pump()
        return
      }
      case "sse": {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
        res.flushHeaders()
        const delay = reply.delayMs ?? 1
        const write = (i: number) => {
          if (res.destroyed) return
          if (i < reply.chunks.length) {
            res.write(reply.chunks[i]!)
            this.later(delay, () => write(i + 1))
            return
          }
          if (reply.ending === "cut") res.socket?.destroy()
          else if (reply.ending !== "stall") res.end()
        }
        this.later(delay, () => write(0))
        return
      }
    }
  }

  close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** A provider server on a free port of 127.0.0.1, closed with the scope. */
export const makeProviderServer: Effect.Effect<ProviderServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<ProviderServer>((resolve) => {
      const server = http.createServer()
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo
        resolve(new ProviderServer(server, `http://127.0.0.1:${port}`))
      })
    })
  ),
  (server) => Effect.promise(() => server.close())
)
