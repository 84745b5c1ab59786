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

/**
 * What every local provider server does the same way: it tracks its sockets and timers so that
 * `close` ends at once, reads each request's body (parsed as JSON where it is), counts clients that
 * hung up before the reply was complete, and writes streamed or oversized bodies. A subclass says
 * what a request gets, from a script of `Script` replies, and records requests as `Recorded`.
 */
export abstract class LocalServer<Script, Recorded> {
  readonly received: Array<Recorded> = []
  /** Requests whose client closed the connection before the reply was complete. */
  clientHangups = 0
  protected script: Array<Script> = []
  private readonly sockets = new Set<net.Socket>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(private readonly server: http.Server, readonly url: string) {
    server.on("connection", (socket) => {
      this.sockets.add(socket)
      socket.on("close", () => this.sockets.delete(socket))
    })
    server.on("request", (req, res) => this.receive(req, res))
  }

  /** The replies for the next requests, in order; a request past the script gets a 500. */
  reply(...replies: ReadonlyArray<Script>): this {
    this.script = [...replies]
    this.received.length = 0
    this.clientHangups = 0
    return this
  }

  /** Answers a request whose body has been read: `raw` as sent, `body` parsed as JSON where it is. */
  protected abstract answer(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer, body: unknown): void

  /** Called as a request arrives, before its body is read. */
  protected arrived(_res: http.ServerResponse): void {}

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.arrived(res)
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const raw = Buffer.concat(chunks)
      let body: unknown = raw.toString("utf8")
      try {
        body = JSON.parse(raw.toString("utf8"))
      } catch {
        // kept as text
      }
      let finished = false
      res.on("finish", () => {
        finished = true
      })
      res.on("close", () => {
        if (!finished) this.clientHangups++
      })
      this.answer(req, res, raw, body)
    })
  }

  protected later(ms: number, f: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      f()
    }, ms)
    this.timers.add(timer)
  }

  /** Writes each chunk on its own, `delayMs` apart, then ends, cuts or stalls the response. */
  protected writeChunks(
    res: http.ServerResponse,
    chunks: ReadonlyArray<string | Uint8Array>,
    delayMs = 1,
    ending: "end" | "cut" | "stall" = "end"
  ): void {
    const write = (i: number) => {
      if (res.destroyed) return
      if (i < chunks.length) {
        res.write(chunks[i]!)
        this.later(delayMs, () => write(i + 1))
        return
      }
      if (ending === "cut") res.socket?.destroy()
      else if (ending !== "stall") res.end()
    }
    this.later(delayMs, () => write(0))
  }

  /** Writes `bytes` bytes in blocks of `block`, as fast as the client reads, until it hangs up. */
  protected pump(
    res: http.ServerResponse,
    block: string | Buffer,
    bytes: number,
    wrote: (n: number) => void = () => {}
  ): void {
    let left = bytes
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const n = Math.min(left, block.length)
        left -= n
        wrote(n)
        if (!res.write(typeof block === "string" ? block.slice(0, n) : block.subarray(0, n))) {
          return void res.once("drain", pump)
        }
      }
      if (!res.destroyed) res.end()
    }
    pump()
  }

  close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** A server made by `make` on a free port of 127.0.0.1, closed with the scope. */
export const listen = <S extends { readonly close: () => Promise<void> }>(
  make: (server: http.Server, url: string) => S
): Effect.Effect<S, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<S>((resolve) => {
        const server = http.createServer()
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as net.AddressInfo
          resolve(make(server, `http://127.0.0.1:${port}`))
        })
      })
    ),
    (server) => Effect.promise(() => server.close())
  )

export class ProviderServer extends LocalServer<Reply, Received> {
  protected answer(req: http.IncomingMessage, res: http.ServerResponse, _raw: Buffer, body: unknown): void {
    this.received.push({ path: req.url ?? "", headers: req.headers, body })
    const reply = this.script.shift() ??
      { kind: "json", status: 500, body: { error: { message: "script exhausted" } } }
    this.send(reply, res)
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
        const fill = reply.fill ?? "x"
        this.pump(res, fill.repeat(Math.ceil(65536 / fill.length)).slice(0, 65536), reply.bytes)
        return
      }
      case "sse":
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
        res.flushHeaders()
        this.writeChunks(res, reply.chunks, reply.delayMs, reply.ending)
        return
    }
  }
}

/** A provider server on a free port of 127.0.0.1, closed with the scope. */
export const makeProviderServer: Effect.Effect<ProviderServer, never, Scope.Scope> = listen((server, url) =>
  new ProviderServer(server, url)
)
