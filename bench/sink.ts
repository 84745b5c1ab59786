/**
 * The OTLP/HTTP sink for the export benchmark: a `node:http` server on 127.0.0.1, in its own
 * process, that decodes just enough of each request to count its spans and answers 200 as a
 * collector does (an empty `ExportTraceServiceResponse`).
 *
 * - http/protobuf: walks the wire format of `ExportTraceServiceRequest` (field 1 `resource_spans`
 *   → field 2 `scope_spans` → field 2 `spans`) and counts the span messages, skipping their bytes.
 * - http/json: `JSON.parse`, then counts `resourceSpans[].scopeSpans[].spans`.
 *
 * Run by `bench/export.ts` with an IPC channel: it sends `{ port }` when listening, and answers
 * `"stats"` with the spans and requests counted, the time of the first and last request, the CPU
 * it used since the first request, and its peak RSS.
 */
import * as http from "node:http"
import * as zlib from "node:zlib"

export interface SinkStats {
  readonly spans: number
  readonly requests: number
  readonly badRequests: number
  /** `performance.timeOrigin + performance.now()` of the first request's arrival and the last response. */
  readonly firstAt: number
  readonly lastAt: number
  /** CPU used from the first request to now, in microseconds. */
  readonly cpuUser: number
  readonly cpuSystem: number
  readonly maxRssKB: number
}

const varint = (buffer: Uint8Array, at: number): [value: number, next: number] => {
  let value = 0
  let shift = 0
  for (let i = at; i < buffer.length; i++, shift += 7) {
    value += (buffer[i]! & 0x7f) * 2 ** shift
    if ((buffer[i]! & 0x80) === 0) return [value, i + 1]
  }
  throw new Error("truncated varint")
}

/** Calls `onField` for each field of a message; length-delimited fields get their bytes. */
const fields = (
  buffer: Uint8Array,
  onField: (field: number, bytes: Uint8Array | undefined) => void
): void => {
  let at = 0
  while (at < buffer.length) {
    const [key, next] = varint(buffer, at)
    const wire = key & 7
    const field = key >>> 3
    if (wire === 0) {
      at = varint(buffer, next)[1]
      onField(field, undefined)
    } else if (wire === 1) {
      at = next + 8
    } else if (wire === 5) {
      at = next + 4
    } else if (wire === 2) {
      const [length, start] = varint(buffer, next)
      if (start + length > buffer.length) throw new Error("truncated field")
      onField(field, buffer.subarray(start, start + length))
      at = start + length
    } else {
      throw new Error(`unsupported wire type ${wire}`)
    }
  }
}

export const countProtobuf = (body: Uint8Array): number => {
  let spans = 0
  // ExportTraceServiceRequest.resource_spans = 1, ResourceSpans.scope_spans = 2, ScopeSpans.spans = 2
  fields(body, (requestField, resourceSpans) => {
    if (requestField !== 1 || resourceSpans === undefined) return
    fields(resourceSpans, (resourceField, scopeSpans) => {
      if (resourceField !== 2 || scopeSpans === undefined) return
      fields(scopeSpans, (scopeField, span) => {
        if (scopeField === 2 && span !== undefined) spans++
      })
    })
  })
  return spans
}

interface JsonRequest {
  readonly resourceSpans?: ReadonlyArray<
    { readonly scopeSpans?: ReadonlyArray<{ readonly spans?: ReadonlyArray<unknown> }> }
  >
}

export const countJson = (body: Buffer): number => {
  const request = JSON.parse(body.toString("utf8")) as JsonRequest
  let spans = 0
  for (const resource of request.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0
  }
  return spans
}

const wallNow = () => performance.timeOrigin + performance.now()

const main = () => {
  let spans = 0
  let requests = 0
  let badRequests = 0
  let firstAt = 0
  let lastAt = 0
  let cpuAtFirst: NodeJS.CpuUsage | undefined

  const server = http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    if (cpuAtFirst === undefined) {
      cpuAtFirst = process.cpuUsage()
      firstAt = wallNow()
    }
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      let body = Buffer.concat(chunks)
      const json = (request.headers["content-type"] ?? "").includes("json")
      try {
        if (request.headers["content-encoding"] === "gzip") body = zlib.gunzipSync(body)
        spans += json ? countJson(body) : countProtobuf(body)
        requests++
        response.writeHead(200, { "Content-Type": json ? "application/json" : "application/x-protobuf" })
        response.end(json ? "{}" : undefined)
      } catch (error) {
        badRequests++
        response.writeHead(400, { "Content-Type": "text/plain" })
        response.end(String(error))
      }
      lastAt = wallNow()
    })
  })

  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    process.send?.({ port: typeof address === "object" && address !== null ? address.port : 0 })
  })

  process.on("message", (message) => {
    if (message === "stats") {
      const cpu = process.cpuUsage(cpuAtFirst)
      const stats: SinkStats = {
        spans,
        requests,
        badRequests,
        firstAt,
        lastAt,
        cpuUser: cpuAtFirst === undefined ? 0 : cpu.user,
        cpuSystem: cpuAtFirst === undefined ? 0 : cpu.system,
        maxRssKB: process.resourceUsage().maxRSS
      }
      process.send?.(stats)
    } else if (message === "exit") {
      server.close()
      process.disconnect()
    }
  })
}

if (process.send !== undefined) main()
