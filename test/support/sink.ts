/**
 * An OTLP/HTTP trace receiver that runs as its own process (`npx tsx test/support/sink.ts`), for
 * the measurements where a receiver in the measured process would distort what is measured: the
 * 200,000-span burst, sustained overload, outages on a machine with two cores.
 *
 * While spans arrive it does what a fast collector does before acknowledging: it reads the
 * envelope (a structural scan of the protobuf, `JSON.parse` of the JSON), counts the spans and
 * their distinct ids, and answers. It keeps every body (up to `SINK_KEEP_BYTES`, default 1 GiB)
 * and decodes each one fully, with the test receiver's own independent decoder
 * (`decodeRequest` in `receiver.ts`), when asked to `verify`: the full decode is not fast, and doing
 * it while the burst runs would measure the decoder rather than the library.
 *
 * Control is line-oriented JSON over stdin/stdout (see {@link Command}); the first line written is
 * `{"port":N}`. Use it through `startSink` in `processes.ts`.
 */
import * as http from "node:http"
import type * as net from "node:net"
import * as readline from "node:readline"
import { decodeRequest, encodePartialSuccess, encodeRpcStatus, grpcCodeFor } from "./receiver.ts"

/** How the sink answers one export. */
export type SinkBehaviour =
  | { readonly mode: "accept" }
  /** Accept, but only after `millis` (a slow collector). */
  | { readonly mode: "delay"; readonly millis: number }
  /** Never answer within `millis`, then accept (a stalled collector). */
  | { readonly mode: "stall"; readonly millis: number }
  | { readonly mode: "error"; readonly status: number; readonly message: string; readonly retryAfter?: string }
  | { readonly mode: "partial"; readonly rejected: number; readonly message: string }

export type Command =
  /** Replies with {@link SinkStats}. */
  | { readonly cmd: "stats" }
  /** Fully decodes every kept body; replies with {@link SinkVerification}. */
  | { readonly cmd: "verify" }
  /** Answers the next requests with these, in order, then with the default. */
  | { readonly cmd: "respond"; readonly behaviours: ReadonlyArray<SinkBehaviour> }
  | { readonly cmd: "default"; readonly behaviour: SinkBehaviour }
  /** Stops listening and drops every connection: clients get ECONNREFUSED. Replies when closed. */
  | { readonly cmd: "down" }
  /** Listens again on the same port. Replies when listening. */
  | { readonly cmd: "up" }
  | { readonly cmd: "exit" }

export interface SinkStats {
  /** Trace export requests. */
  readonly requests: number
  /** Metrics export requests (answered, not counted in the rest). */
  readonly metricRequests: number
  /** Spans in the requests (duplicates included). */
  readonly spans: number
  /** Distinct trace id + span id pairs. */
  readonly uniqueSpans: number
  /** Bytes on the wire. */
  readonly bytes: number
  /** Answers given, by HTTP status (`"none"` for stalls cut short by a client). */
  readonly statuses: Readonly<Record<string, number>>
  /** Requests whose envelope could not even be scanned. */
  readonly scanErrors: number
  /** The most requests open at once. */
  readonly maxConcurrent: number
  readonly rssBytes: number
}

export interface SinkVerification {
  /** Requests decoded with the full decoder. */
  readonly decoded: number
  /** Requests not kept (past `SINK_KEEP_BYTES`), so not decoded. */
  readonly skipped: number
  readonly spans: number
  /** One message per request that did not decode, at most 20. */
  readonly errors: ReadonlyArray<string>
}

// -----------------------------------------------------------------------------
// The envelope scan: ExportTraceServiceRequest → ResourceSpans (1) → ScopeSpans (2) → Span (2),
// and in each Span trace_id (1) and span_id (2).
// -----------------------------------------------------------------------------

interface Fields {
  readonly each: (visit: (field: number, wire: number, start: number, end: number) => void) => void
}

const scanFields = (buffer: Uint8Array, from: number, to: number): Fields => ({
  each: (visit) => {
    let pos = from
    const varint = (): number => {
      let value = 0
      for (let shift = 0; shift < 64; shift += 7) {
        if (pos >= to) throw new Error("truncated varint")
        const byte = buffer[pos++]!
        value += (byte & 0x7f) * 2 ** shift
        if ((byte & 0x80) === 0) return value
      }
      throw new Error("varint too long")
    }
    while (pos < to) {
      const key = varint()
      const field = Math.floor(key / 8)
      const wire = key % 8
      if (wire === 0) {
        varint()
      } else if (wire === 1) {
        pos += 8
      } else if (wire === 5) {
        pos += 4
      } else if (wire === 2) {
        const length = varint()
        if (pos + length > to) throw new Error("field runs past its message")
        visit(field, wire, pos, pos + length)
        pos += length
      } else {
        throw new Error(`wire type ${wire}`)
      }
      if (pos > to) throw new Error("field runs past its message")
    }
  }
})

const scanProtobuf = (body: Buffer, onSpan: (id: string) => void): void => {
  scanFields(body, 0, body.length).each((f1, _w1, s1, e1) => {
    if (f1 !== 1) return
    scanFields(body, s1, e1).each((f2, _w2, s2, e2) => {
      if (f2 !== 2) return
      scanFields(body, s2, e2).each((f3, _w3, s3, e3) => {
        if (f3 !== 2) return
        let traceId = ""
        let spanId = ""
        scanFields(body, s3, e3).each((f4, _w4, s4, e4) => {
          if (f4 === 1) traceId = body.toString("hex", s4, e4)
          else if (f4 === 2) spanId = body.toString("hex", s4, e4)
        })
        onSpan(traceId + spanId)
      })
    })
  })
}

type JsonSpans = {
  readonly resourceSpans?: ReadonlyArray<
    { readonly scopeSpans?: ReadonlyArray<{ readonly spans?: ReadonlyArray<{ traceId?: string; spanId?: string }> }> }
  >
}

const scanJson = (body: Buffer, onSpan: (id: string) => void): void => {
  const request = JSON.parse(body.toString("utf8")) as JsonSpans
  for (const resource of request.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) onSpan(`${span.traceId ?? ""}${span.spanId ?? ""}`.toLowerCase())
    }
  }
}

// -----------------------------------------------------------------------------
// The server
// -----------------------------------------------------------------------------

const keepLimit = Number(process.env.SINK_KEEP_BYTES ?? 1024 ** 3)
const kept: Array<{ readonly head: Pick<http.IncomingMessage, "headers" | "method" | "url">; readonly body: Buffer }> =
  []
let keptBytes = 0
let skipped = 0

const seen = new Set<string>()
const statuses: Record<string, number> = {}
let requests = 0
let metricRequests = 0
let spans = 0
let bytes = 0
let scanErrors = 0
let concurrent = 0
let maxConcurrent = 0
let defaultBehaviour: SinkBehaviour = { mode: "accept" }
const queue: Array<SinkBehaviour> = []
const sockets = new Set<net.Socket>()
const timers = new Set<NodeJS.Timeout>()
let port = Number(process.env.SINK_PORT ?? 0)

const count = (status: number | "none") => {
  statuses[status] = (statuses[status] ?? 0) + 1
}

const send = (response: http.ServerResponse, status: number, headers: Record<string, string>, body: Uint8Array) => {
  if (response.destroyed) return count("none")
  count(status)
  response.writeHead(status, { ...headers, "content-length": body.byteLength })
  response.end(body)
}

const answer = (behaviour: SinkBehaviour, json: boolean, response: http.ServerResponse): void => {
  const type = json ? "application/json" : "application/x-protobuf"
  const later = (millis: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      answer({ mode: "accept" }, json, response)
    }, millis)
    timers.add(timer)
  }
  switch (behaviour.mode) {
    case "accept":
      return send(response, 200, { "content-type": type }, json ? Buffer.from("{}") : new Uint8Array(0))
    case "delay":
    case "stall":
      return later(behaviour.millis)
    case "error": {
      const code = grpcCodeFor(behaviour.status)
      const body = json
        ? Buffer.from(JSON.stringify({ code, message: behaviour.message }))
        : encodeRpcStatus(code, behaviour.message)
      const headers: Record<string, string> = { "content-type": type }
      if (behaviour.retryAfter !== undefined) headers["retry-after"] = behaviour.retryAfter
      return send(response, behaviour.status, headers, body)
    }
    case "partial": {
      const body = json
        ? Buffer.from(
          JSON.stringify({
            partialSuccess: { rejectedSpans: String(behaviour.rejected), errorMessage: behaviour.message }
          })
        )
        : encodePartialSuccess(behaviour.rejected, behaviour.message)
      return send(response, 200, { "content-type": type }, body)
    }
  }
}

const server = http.createServer((request, response) => {
  concurrent++
  maxConcurrent = Math.max(maxConcurrent, concurrent)
  response.on("close", () => concurrent--)
  const chunks: Array<Buffer> = []
  request.on("data", (chunk: Buffer) => chunks.push(chunk))
  request.on("end", () => {
    const body = Buffer.concat(chunks)
    // Metrics from the same program: answered like spans (a stalled collector stalls both), not
    // counted or kept with them. The metrics have their own tests (test/Metrics.test.ts).
    if ((request.url ?? "").split("?")[0]!.endsWith("/v1/metrics")) {
      metricRequests++
      return answer(defaultBehaviour, (request.headers["content-type"] ?? "").includes("json"), response)
    }
    requests++
    bytes += body.length
    const json = (request.headers["content-type"] ?? "").includes("json")
    try {
      if (request.headers["content-encoding"] === "gzip") throw new Error("the sink reads uncompressed bodies only")
      ;(json ? scanJson : scanProtobuf)(body, (id) => {
        spans++
        seen.add(id)
      })
    } catch {
      scanErrors++
    }
    if (keptBytes + body.length <= keepLimit) {
      kept.push({ head: { headers: request.headers, method: request.method, url: request.url }, body })
      keptBytes += body.length
    } else {
      skipped++
    }
    answer(queue.shift() ?? defaultBehaviour, json, response)
  })
})
server.on("connection", (socket) => {
  sockets.add(socket)
  socket.on("close", () => sockets.delete(socket))
})

const listen = () =>
  new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject)
      const address = server.address()
      if (address !== null && typeof address !== "string") port = address.port
      resolve()
    })
  })

const down = () =>
  new Promise<void>((resolve) => {
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
    server.close(() => resolve())
    for (const socket of sockets) socket.destroy()
  })

const reply = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

const verify = (): SinkVerification => {
  const errors: Array<string> = []
  let decodedSpans = 0
  for (const { head, body } of kept) {
    const decoded = decodeRequest(head, body)
    decodedSpans += decoded.spans.length
    if (decoded.decodeError !== undefined && errors.length < 20) errors.push(decoded.decodeError)
  }
  return { decoded: kept.length, skipped, spans: decodedSpans, errors }
}

const handle = async (command: Command) => {
  switch (command.cmd) {
    case "stats":
      return reply(
        {
          requests,
          metricRequests,
          spans,
          uniqueSpans: seen.size,
          bytes,
          statuses,
          scanErrors,
          maxConcurrent,
          rssBytes: process.memoryUsage.rss()
        } satisfies SinkStats
      )
    case "verify":
      return reply(verify())
    case "respond":
      queue.push(...command.behaviours)
      return reply({ ok: true })
    case "default":
      defaultBehaviour = command.behaviour
      return reply({ ok: true })
    case "down":
      await down()
      return reply({ ok: true })
    case "up":
      await listen()
      return reply({ ok: true })
    case "exit":
      await down()
      process.exit(0)
  }
}

const start = process.env.SINK_BEHAVIOUR
if (start !== undefined && start !== "") defaultBehaviour = JSON.parse(start) as SinkBehaviour
await listen()
reply({ port })
// One command at a time, in order.
let chain = Promise.resolve()
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "") return
  chain = chain.then(() => handle(JSON.parse(line) as Command)).catch((error: unknown) =>
    reply({ error: String(error) })
  )
})
// The parent going away closes stdin: nothing else would end this process.
process.stdin.on("end", () => void down().then(() => process.exit(0)))
