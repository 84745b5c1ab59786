/**
 * The viewer's two HTTP servers in one process: an OTLP/HTTP receiver (traces, metrics and logs,
 * JSON or protobuf, gzip or not) and the web UI with its read-only JSON API. Both bind 127.0.0.1 unless
 * told otherwise. A body that is not OTLP answers 400 with the reason, one over the size limit 413
 * (after decompression too), and the receiver keeps serving; nothing but ingestion changes data.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as zlib from "node:zlib"
import { decodeMetricsJson, decodeMetricsProtobuf, decodeTracesJson, decodeTracesProtobuf } from "./otlpDecode.ts"
import { OtlpError, ProtobufError } from "./otlpDecode.ts"
import { decodeLogsJson, decodeLogsProtobuf } from "./otlpDecodeLogs.ts"
import { page } from "./page.ts"
import { sortKeys, type Store, type TraceQuery } from "./store.ts"
import type { LogQuery } from "./storeLogs.ts"

export interface ServerOptions {
  readonly host: string
  /** The OTLP/HTTP port; 0 picks a free one. */
  readonly otlpPort: number
  /** The UI's port; 0 picks a free one. */
  readonly uiPort: number
  /** The largest request body accepted, compressed or not, in bytes. */
  readonly maxBodyBytes: number
}

export interface Servers {
  readonly otlpUrl: string
  readonly uiUrl: string
  readonly close: () => Promise<void>
}

/** A port that could not be bound, with the flag that changes it. */
export class PortInUseError extends Error {
  constructor(readonly what: string, readonly host: string, readonly port: number, readonly flag: string) {
    super(`${what} port ${host}:${port} is already in use (another collector or viewer?); choose another with ${flag}`)
  }
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

const readBody = (request: http.IncomingMessage, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? 0)
    if (declared > limit) {
      reject(new HttpError(413, `the body is ${declared} bytes, over the limit of ${limit}`))
      request.resume()
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let failed = false
    request.on("data", (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) {
        failed = true
        reject(new HttpError(413, `the body is over the limit of ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    })
    request.on("end", () => failed || resolve(Buffer.concat(chunks)))
    request.on("error", reject)
  })

const decompress = (body: Buffer, encoding: string | undefined, limit: number): Buffer => {
  if (encoding === undefined || encoding === "" || encoding === "identity") return body
  if (encoding !== "gzip") throw new HttpError(415, `unsupported Content-Encoding "${encoding}" (gzip or none)`)
  try {
    return zlib.gunzipSync(body, { maxOutputLength: limit })
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new HttpError(413, `the decompressed body is over the limit of ${limit} bytes`)
    }
    throw new HttpError(400, `the gzip body could not be decompressed: ${(error as Error).message}`)
  }
}

/** A `google.rpc.Status` with a message, as protobuf: field 2, a string. */
const statusProtobuf = (message: string): Buffer => {
  const text = Buffer.from(message, "utf8")
  const length: Array<number> = []
  let n = text.length
  while (n > 0x7f) {
    length.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  length.push(n)
  return Buffer.concat([Buffer.from([0x12, ...length]), text])
}

const handleOtlp =
  (store: Store, options: ServerOptions) => async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://viewer")
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
    const protobuf = type === "application/x-protobuf" || type === "application/protobuf"
    const reply = (status: number, message?: string) => {
      if (protobuf) {
        res.writeHead(status, { "content-type": "application/x-protobuf" })
        res.end(message === undefined ? Buffer.alloc(0) : statusProtobuf(message))
      } else {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(JSON.stringify(message === undefined ? {} : { code: status === 413 ? 8 : 3, message }))
      }
    }
    try {
      const signal = url.pathname.replace(/\/+$/, "")
      if (signal !== "/v1/traces" && signal !== "/v1/metrics" && signal !== "/v1/logs") {
        throw new HttpError(404, `no OTLP signal at ${url.pathname} (/v1/traces, /v1/metrics, /v1/logs)`)
      }
      if (req.method !== "POST") throw new HttpError(405, "OTLP/HTTP takes POST")
      if (!protobuf && type !== "application/json") {
        throw new HttpError(415, `unsupported Content-Type "${type}" (application/x-protobuf or application/json)`)
      }
      const raw = await readBody(req, options.maxBodyBytes)
      const encoding = req.headers["content-encoding"]?.toLowerCase()
      const body = decompress(raw, encoding, options.maxBodyBytes)
      if (signal === "/v1/traces") store.addSpans(protobuf ? decodeTracesProtobuf(body) : decodeTracesJson(body))
      else if (signal === "/v1/metrics") {
        store.addHistograms(protobuf ? decodeMetricsProtobuf(body) : decodeMetricsJson(body))
      } else store.addLogs(protobuf ? decodeLogsProtobuf(body) : decodeLogsJson(body))
      reply(200)
    } catch (error) {
      if (error instanceof HttpError) reply(error.status, error.message)
      else if (error instanceof OtlpError || error instanceof ProtobufError) {
        reply(400, `malformed OTLP: ${error.message}`)
      } else reply(500, `the viewer could not store the request: ${(error as Error).message}`)
    }
  }

const headers = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "x-frame-options": "DENY"
} as const

const traceQuery = (params: URLSearchParams): TraceQuery => {
  const get = (name: string) => {
    const value = params.get(name)
    return value === null || value === "" ? undefined : value
  }
  const sort = get("sort")
  const status = get("status")
  return Object.fromEntries(
    Object.entries({
      service: get("service"),
      status: status === "error" || status === "ok" ? status : undefined,
      model: get("model"),
      identity: get("identity"),
      text: get("text"),
      sort: sort !== undefined && sort in sortKeys ? sort : undefined,
      order: get("order") === "asc" ? "asc" : "desc",
      offset: Number(get("offset") ?? 0) || 0,
      limit: Number(get("limit") ?? 50) || 50
    }).filter(([, value]) => value !== undefined)
  ) as TraceQuery
}

const logQuery = (params: URLSearchParams): LogQuery => {
  const number = (name: string) => Math.max(0, Number(params.get(name) ?? "") || 0)
  const text = params.get("text") ?? ""
  return {
    severity: number("severity"),
    offset: number("offset"),
    limit: number("limit") || 100,
    ...(text === "" ? {} : { text })
  }
}

const handleUi = (store: Store, allowedHosts: () => ReadonlySet<string>) => {
  const html = page({ mode: "live" })
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    // A page on another site could resolve its own name to 127.0.0.1 (DNS rebinding) and read the
    // API as same-origin; its requests carry that name in Host, so only the viewer's own names pass.
    if (!allowedHosts().has((req.headers.host ?? "").toLowerCase())) {
      res.writeHead(403, { "content-type": "text/plain", ...headers })
      res.end("unexpected Host header")
      return
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain", ...headers })
      res.end("the viewer is read-only")
      return
    }
    const url = new URL(req.url ?? "/", "http://viewer")
    const json = (value: unknown, status = 200) => text(JSON.stringify(value), status)
    const text = (body: string, status = 200) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers })
      res.end(body)
    }
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent)
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers, ...html.headers })
      res.end(html.html)
    } else if (parts[0] === "api" && parts[1] === "version") json({ version: store.version, ...store.stats() })
    else if (parts[0] === "api" && parts[1] === "traces" && parts.length === 2) {
      json(store.traces(traceQuery(url.searchParams)))
    } else if (parts[0] === "api" && parts[1] === "traces" && parts.length === 3) {
      const row = store.traceRow(parts[2]!)
      if (row === undefined) json({ error: "no such trace" }, 404)
      else {
        const logs = store.traceLogs(parts[2]!)
        text(
          `{"row":${JSON.stringify(row)},"spans":${store.traceJson(parts[2]!)},` +
            `"logs":${JSON.stringify(logs.logs)},"logCount":${logs.total}}`
        )
      }
    } else if (parts[0] === "api" && parts[1] === "conversations" && parts.length === 2) json(store.conversations())
    else if (parts[0] === "api" && parts[1] === "conversations" && parts.length === 3) {
      json({ id: parts[2], turns: store.conversation(parts[2]!) })
    } else if (parts[0] === "api" && parts[1] === "metrics") json(store.histograms())
    else if (parts[0] === "api" && parts[1] === "logs" && parts.length === 2) {
      json(store.logList(logQuery(url.searchParams)))
    } else json({ error: "not found" }, 404)
  }
}

const listen = (server: http.Server, host: string, port: number, what: string, flag: string) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "EADDRINUSE" ? new PortInUseError(what, host, port, flag) : error)
    })
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port))
  })

const urlHost = (host: string) => host.includes(":") ? `[${host}]` : host

const closeServer = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })

/** Starts both servers; a port already taken fails with {@link PortInUseError}. */
export const startServers = async (store: Store, options: ServerOptions): Promise<Servers> => {
  let hosts = new Set<string>()
  const otlp = http.createServer((req, res) => void handleOtlp(store, options)(req, res))
  const ui = http.createServer(handleUi(store, () => hosts))
  const otlpPort = await listen(otlp, options.host, options.otlpPort, "the OTLP", "--otlp-port")
  let uiPort: number
  try {
    uiPort = await listen(ui, options.host, options.uiPort, "the UI", "--ui-port")
  } catch (error) {
    otlp.close()
    throw error
  }
  hosts = new Set([
    `${urlHost(options.host)}:${uiPort}`,
    `localhost:${uiPort}`,
    `127.0.0.1:${uiPort}`,
    `[::1]:${uiPort}`
  ])
  return {
    otlpUrl: `http://${urlHost(options.host)}:${otlpPort}`,
    uiUrl: `http://${urlHost(options.host)}:${uiPort}`,
    close: async () => {
      await Promise.all([closeServer(otlp), closeServer(ui)])
    }
  }
}
