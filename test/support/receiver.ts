/**
 * A real OTLP/HTTP trace receiver for tests: a `node:http` server on 127.0.0.1 that records every
 * request and decodes it with its own code, never with the OpenTelemetry serializers. A test that
 * decoded with the same library that encoded would agree with any encoder bug; this receiver reads
 * the wire format the way a collector does, so it catches them.
 *
 * - Protobuf is read by a small hand-written wire-format reader mapped to the field numbers of
 *   opentelemetry-proto (`trace/v1/trace.proto`, `common/v1/common.proto`,
 *   `resource/v1/resource.proto`, `collector/trace/v1/trace_service.proto`; for `/v1/metrics` and
 *   `/v1/logs`, `metrics/v1/metrics.proto` and `logs/v1/logs.proto`).
 * - JSON is read per the OTLP/JSON rules: lowerCamelCase keys, hex ids, enums as integers, 64-bit
 *   integers as strings (numbers are accepted too, as protobuf JSON parsers do).
 *
 * Both are normalized into one shape, {@link ReceivedSpan}, whose attribute values keep their wire
 * type ({@link AttrValue}): an `int` is a `bigint`, a `double` a `number`, so a test can tell
 * `12` sent as an integer from `12` sent as a double.
 *
 * Each response can be programmed ({@link Respond}) for fault tests: errors with `Retry-After`,
 * partial success, stalls and dropped connections.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"
import * as zlib from "node:zlib"

// -----------------------------------------------------------------------------
// What the receiver records
// -----------------------------------------------------------------------------

/** An OTLP `AnyValue`, keeping the wire type. */
export type AttrValue =
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "int"; readonly value: bigint }
  | { readonly type: "double"; readonly value: number }
  | { readonly type: "bytes"; readonly value: Uint8Array }
  | { readonly type: "array"; readonly value: ReadonlyArray<AttrValue> }
  | { readonly type: "kvlist"; readonly value: Attributes }
  /** An `AnyValue` with no field set: valid OTLP, "empty". */
  | { readonly type: "empty"; readonly value: undefined }

export type Attributes = Readonly<Record<string, AttrValue>>

export interface ReceivedEvent {
  readonly name: string
  readonly timeUnixNano: bigint
  readonly attributes: Attributes
}

export interface ReceivedLink {
  readonly traceId: string
  readonly spanId: string
  readonly traceState: string
  readonly attributes: Attributes
}

/**
 * One span as a collector sees it. Proto3 has no "absent" for scalars, so an unset string reads
 * `""` and an unset number `0` whatever the encoding; only `parentSpanId` maps empty to `undefined`.
 */
export interface ReceivedSpan {
  /** Lower-case hex, 32 characters. */
  readonly traceId: string
  /** Lower-case hex, 16 characters. */
  readonly spanId: string
  /** `undefined` for a root span. */
  readonly parentSpanId: string | undefined
  readonly traceState: string
  readonly name: string
  /** `SpanKind`: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number
  readonly startTimeUnixNano: bigint
  readonly endTimeUnixNano: bigint
  readonly attributes: Attributes
  readonly droppedAttributesCount: number
  readonly events: ReadonlyArray<ReceivedEvent>
  readonly droppedEventsCount: number
  readonly links: ReadonlyArray<ReceivedLink>
  readonly droppedLinksCount: number
  /** `code`: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string }
  readonly flags: number
  readonly resource: Attributes
  readonly scope: { readonly name: string; readonly version: string }
}

/** An OTLP `Exemplar`: a measurement's value and the span it was made in. */
export interface ReceivedExemplar {
  readonly timeUnixNano: bigint
  /** `as_int` keeps its wire type as a `bigint`, `as_double` is a `number`. */
  readonly value: bigint | number
  readonly traceId: string
  readonly spanId: string
  readonly filteredAttributes: Attributes
}

/** A gauge or sum data point. */
export interface ReceivedNumberPoint {
  readonly attributes: Attributes
  readonly startTimeUnixNano: bigint
  readonly timeUnixNano: bigint
  readonly value: bigint | number
  readonly exemplars: ReadonlyArray<ReceivedExemplar>
}

/** An explicit-bucket histogram data point. */
export interface ReceivedHistogramPoint {
  readonly attributes: Attributes
  readonly startTimeUnixNano: bigint
  readonly timeUnixNano: bigint
  readonly count: bigint
  readonly sum: number | undefined
  readonly bucketCounts: ReadonlyArray<bigint>
  readonly explicitBounds: ReadonlyArray<number>
  readonly min: number | undefined
  readonly max: number | undefined
  readonly exemplars: ReadonlyArray<ReceivedExemplar>
}

/** One metric as a collector sees it; only the points of its own type are filled. */
export interface ReceivedMetric {
  readonly name: string
  readonly description: string
  readonly unit: string
  readonly type: "gauge" | "sum" | "histogram" | "exponential_histogram" | "summary" | "none"
  /** 1 delta, 2 cumulative, 0 for gauges. */
  readonly temporality: number
  readonly monotonic: boolean
  readonly numberPoints: ReadonlyArray<ReceivedNumberPoint>
  readonly histogramPoints: ReadonlyArray<ReceivedHistogramPoint>
  /** Points of an exponential histogram or summary, counted, not decoded further. */
  readonly otherPoints: number
  readonly resource: Attributes
  readonly scope: { readonly name: string; readonly version: string }
}

/** One log record as a collector sees it (`logs/v1/logs.proto`). */
export interface ReceivedLogRecord {
  readonly timeUnixNano: bigint
  readonly observedTimeUnixNano: bigint
  /** 0 unspecified, 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR, 21–24 FATAL. */
  readonly severityNumber: number
  readonly severityText: string
  readonly body: AttrValue
  readonly attributes: Attributes
  readonly droppedAttributesCount: number
  readonly flags: number
  /** Lower-case hex; `undefined` when the record carries no trace context. */
  readonly traceId: string | undefined
  readonly spanId: string | undefined
  readonly eventName: string
  readonly resource: Attributes
  readonly scope: { readonly name: string; readonly version: string }
}

export interface ReceivedRequest {
  readonly method: string
  /** Path and query, as sent. */
  readonly path: string
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>
  /** From `Content-Type`; `unknown` for anything else. */
  readonly protocol: "protobuf" | "json" | "unknown"
  readonly gzip: boolean
  /** Body size on the wire (compressed, when gzip). */
  readonly bytes: number
  readonly spans: ReadonlyArray<ReceivedSpan>
  /** For a request to `/v1/metrics`: its metrics (`spans` is then empty). */
  readonly metrics: ReadonlyArray<ReceivedMetric>
  /** For a request to `/v1/logs`: its log records (`spans` is then empty). */
  readonly logs: ReadonlyArray<ReceivedLogRecord>
  /** Why the body could not be decoded; `undefined` when it was. */
  readonly decodeError: string | undefined
  /** When the whole body had arrived, in `performance.now()` milliseconds of the receiving process. */
  readonly receivedAt: number
}

// -----------------------------------------------------------------------------
// Programmable responses
// -----------------------------------------------------------------------------

/** How the receiver answers one request. Build them with {@link Respond}. */
export type Behaviour =
  | { readonly _tag: "Accept" }
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly body: string | Uint8Array
  }
  | {
    readonly _tag: "Error"
    readonly status: number
    readonly grpcCode: number
    readonly message: string
    readonly retryAfter: string | undefined
  }
  | { readonly _tag: "PartialSuccess"; readonly rejectedSpans: number; readonly errorMessage: string }
  | { readonly _tag: "Stall"; readonly millis: number; readonly next: Behaviour }
  | { readonly _tag: "Destroy" }

/** gRPC status codes a collector puts in the `google.rpc.Status` of an error body. */
export const grpcCodeFor = (status: number): number =>
  status === 400 ? 3 : status === 401 ? 16 : status === 403 ? 7 : status === 429 ? 8 : status >= 500 ? 14 : 2

export const Respond = {
  /** 200 with an empty `ExportTraceServiceResponse` (an empty body for protobuf, `{}` for JSON). */
  accept: { _tag: "Accept" } as Behaviour,
  /**
   * An OTLP error: `status` with a `google.rpc.Status { code, message }` body encoded like the
   * request (protobuf or JSON, as the OTLP/HTTP spec requires), and `Retry-After` when given.
   */
  error: (status: number, message: string, options: { readonly retryAfter?: string } = {}): Behaviour => ({
    _tag: "Error",
    status,
    grpcCode: grpcCodeFor(status),
    message,
    retryAfter: options.retryAfter
  }),
  /** Any status with exactly these headers and body, for answers no collector should give. */
  status: (
    status: number,
    options: { readonly headers?: Readonly<Record<string, string>>; readonly body?: string | Uint8Array } = {}
  ): Behaviour => ({ _tag: "Status", status, headers: options.headers ?? {}, body: options.body ?? "" }),
  /** 200 with `partial_success { rejected_spans, error_message }`, encoded like the request. */
  partialSuccess: (rejectedSpans: number, errorMessage: string): Behaviour => ({
    _tag: "PartialSuccess",
    rejectedSpans,
    errorMessage
  }),
  /** Wait `millis` before answering with `next` (default: accept). */
  stall: (millis: number, next: Behaviour = { _tag: "Accept" }): Behaviour => ({ _tag: "Stall", millis, next }),
  /** Drop the connection without answering (the client sees a reset). */
  destroy: { _tag: "Destroy" } as Behaviour
} as const

export interface ReceiverOptions {
  /**
   * Chooses the answer when the queue filled by {@link Receiver.respondWith} is empty.
   * Default: accept everything.
   */
  readonly respond?: ((request: ReceivedRequest) => Behaviour) | undefined
  /**
   * The port to listen on (default: a free one). A test that takes a collector down and brings it
   * back starts the second receiver on the first one's port.
   */
  readonly port?: number | undefined
  /** How metrics requests are answered (they never take from the trace queue). Default: accept. */
  readonly respondMetrics?: ((request: ReceivedRequest) => Behaviour) | undefined
  /** How logs requests are answered (they never take from the trace queue). Default: accept. */
  readonly respondLogs?: ((request: ReceivedRequest) => Behaviour) | undefined
}

// -----------------------------------------------------------------------------
// The receiver
// -----------------------------------------------------------------------------

export class Receiver {
  /** Every trace request (anything not sent to `/v1/metrics` or `/v1/logs`) received so far, in arrival order. */
  readonly requests: Array<ReceivedRequest> = []
  /** Every request to `/v1/metrics`, in arrival order. */
  readonly metricRequests: Array<ReceivedRequest> = []
  /** Every request to `/v1/logs`, in arrival order. */
  readonly logRequests: Array<ReceivedRequest> = []
  private readonly queue: Array<Behaviour> = []
  private readonly sockets = new Set<net.Socket>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly waiters = new Set<() => void>()
  private port = 0
  private closed = false

  private constructor(private readonly server: http.Server, private readonly options: ReceiverOptions) {}

  /** Starts a receiver on 127.0.0.1 on a free port. */
  static start(options: ReceiverOptions = {}): Promise<Receiver> {
    const server = http.createServer()
    const receiver = new Receiver(server, options)
    server.on("connection", (socket) => {
      receiver.sockets.add(socket)
      socket.on("close", () => receiver.sockets.delete(socket))
    })
    server.on("request", (request, response) => receiver.handle(request, response))
    return new Promise((resolve, reject) => {
      server.once("error", reject)
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        const address = server.address()
        if (address === null || typeof address === "string") return reject(new Error("receiver has no TCP address"))
        receiver.port = address.port
        resolve(receiver)
      })
    })
  }

  /** `http://127.0.0.1:PORT`, the base an exporter's `endpoint` takes. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** The default OTLP traces URL on this receiver. */
  get tracesUrl(): string {
    return `${this.url}/v1/traces`
  }

  /** All decoded spans so far, in arrival order. */
  spans(): ReadonlyArray<ReceivedSpan> {
    return this.requests.flatMap((request) => request.spans)
  }

  /** The decode errors so far, one per request that could not be read. */
  decodeErrors(): ReadonlyArray<string> {
    return this.requests.flatMap((request) => (request.decodeError !== undefined ? [request.decodeError] : []))
  }

  /** All decoded metrics so far, one entry per metric per request. */
  metrics(): ReadonlyArray<ReceivedMetric> {
    return this.metricRequests.flatMap((request) => request.metrics)
  }

  /** All decoded log records so far, in arrival order. */
  logs(): ReadonlyArray<ReceivedLogRecord> {
    return this.logRequests.flatMap((request) => request.logs)
  }

  /** Resolves with all log records once at least `count` have arrived. */
  waitForLogs(count: number, timeoutMillis = 5_000): Promise<ReadonlyArray<ReceivedLogRecord>> {
    return this.waitFor(() => this.logs().length >= count, `${count} log records`, timeoutMillis).then(() =>
      this.logs()
    )
  }

  /** Resolves once at least `count` metrics requests have arrived. */
  waitForMetricRequests(count: number, timeoutMillis = 5_000): Promise<ReadonlyArray<ReceivedRequest>> {
    return this.waitFor(() => this.metricRequests.length >= count, `${count} metrics requests`, timeoutMillis).then(
      () => this.metricRequests
    )
  }

  /** Throws, naming each one, if any request (traces or metrics) failed to decode. */
  assertDecoded(): void {
    const errors = [
      ...this.decodeErrors(),
      ...[...this.metricRequests, ...this.logRequests].flatMap((request) =>
        request.decodeError !== undefined ? [request.decodeError] : []
      )
    ]
    if (errors.length > 0) {
      throw new Error(`receiver could not decode ${errors.length} request(s):\n${errors.join("\n")}`)
    }
  }

  /** Queues the answers for the next requests, in order; after them `options.respond` (or accept) applies. */
  respondWith(...behaviours: ReadonlyArray<Behaviour>): void {
    this.queue.push(...behaviours)
  }

  /** Resolves with all spans once at least `count` have arrived; rejects after `timeoutMillis`. */
  waitForSpans(count: number, timeoutMillis = 5_000): Promise<ReadonlyArray<ReceivedSpan>> {
    return this.waitFor(() => this.spans().length >= count, `${count} spans`, timeoutMillis).then(() => this.spans())
  }

  /** Resolves once at least `count` requests have arrived; rejects after `timeoutMillis`. */
  waitForRequests(count: number, timeoutMillis = 5_000): Promise<ReadonlyArray<ReceivedRequest>> {
    return this.waitFor(() => this.requests.length >= count, `${count} requests`, timeoutMillis).then(() =>
      this.requests
    )
  }

  /**
   * Stops listening and destroys every open connection, so neither a keep-alive socket nor a
   * stalled response can keep a test (or the process) alive. Safe to call twice.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      for (const socket of this.sockets) socket.destroy()
    })
  }

  private waitFor(done: () => boolean, what: string, timeoutMillis: number): Promise<void> {
    if (done()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(
          new Error(
            `receiver: waited ${timeoutMillis} ms for ${what}; got ${this.requests.length} requests, ` +
              `${this.spans().length} spans`
          )
        )
      }, timeoutMillis)
      this.waiters.add(check)
    })
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const received = decodeRequest(request, Buffer.concat(chunks))
      const metrics = isMetricsPath(received.path)
      const logs = isLogsPath(received.path)
      ;(metrics ? this.metricRequests : logs ? this.logRequests : this.requests).push(received)
      // A waiter removes itself once satisfied; deleting while iterating a Set is safe.
      for (const waiter of this.waiters) waiter()
      // A body a collector cannot read is a 400, whatever was queued: the queue is for the
      // exports that did arrive intact.
      const behaviour: Behaviour = received.decodeError !== undefined
        ? Respond.error(400, `receiver could not decode the request: ${received.decodeError}`)
        : metrics
        ? this.options.respondMetrics?.(received) ?? Respond.accept
        : logs
        ? this.options.respondLogs?.(received) ?? Respond.accept
        : this.queue.shift() ?? this.options.respond?.(received) ?? Respond.accept
      this.answer(behaviour, received, request, response)
    })
  }

  private answer(
    behaviour: Behaviour,
    received: ReceivedRequest,
    request: http.IncomingMessage,
    response: http.ServerResponse
  ): void {
    const json = received.protocol === "json"
    const contentType = json ? "application/json" : "application/x-protobuf"
    switch (behaviour._tag) {
      case "Accept":
        return send(response, 200, { "content-type": contentType }, json ? "{}" : new Uint8Array(0))
      case "Status":
        return send(response, behaviour.status, behaviour.headers, behaviour.body)
      case "Error": {
        const headers: Record<string, string> = { "content-type": contentType }
        if (behaviour.retryAfter !== undefined) headers["retry-after"] = behaviour.retryAfter
        const body = json
          ? JSON.stringify({ code: behaviour.grpcCode, message: behaviour.message })
          : encodeRpcStatus(behaviour.grpcCode, behaviour.message)
        return send(response, behaviour.status, headers, body)
      }
      case "PartialSuccess": {
        const body = json
          ? JSON.stringify({
            partialSuccess: {
              // Field 1 is named after the signal in OTLP/JSON.
              [
                isLogsPath(received.path)
                  ? "rejectedLogRecords"
                  : isMetricsPath(received.path)
                  ? "rejectedDataPoints"
                  : "rejectedSpans"
              ]: String(behaviour.rejectedSpans),
              errorMessage: behaviour.errorMessage
            }
          })
          : encodePartialSuccess(behaviour.rejectedSpans, behaviour.errorMessage)
        return send(response, 200, { "content-type": contentType }, body)
      }
      case "Stall": {
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          this.answer(behaviour.next, received, request, response)
        }, behaviour.millis)
        this.timers.add(timer)
        return
      }
      case "Destroy":
        request.socket.destroy()
        return
    }
  }
}

const send = (
  response: http.ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: string | Uint8Array
) => {
  if (response.destroyed) return
  response.writeHead(status, { ...headers, "content-length": Buffer.byteLength(body) })
  response.end(body)
}

/**
 * A receiver for the current scope: started on acquisition, closed (connections destroyed) on
 * release. `it.effect` and `it.live` in @effect/vitest 4 run each test in its own scope.
 */
export const makeReceiver = (options: ReceiverOptions = {}): Effect.Effect<Receiver, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => Receiver.start(options)),
    (receiver) => Effect.promise(() => receiver.close())
  )

// -----------------------------------------------------------------------------
// Request decoding
// -----------------------------------------------------------------------------

/**
 * Decodes one OTLP/HTTP trace export as {@link Receiver} does (exported for receivers that run in
 * their own process, such as `test/support/sink.ts`).
 */
export const decodeRequest = (
  request: Pick<http.IncomingMessage, "headers" | "method" | "url">,
  raw: Buffer
): ReceivedRequest => {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value
  }
  const mediaType = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
  const protocol = mediaType === "application/x-protobuf"
    ? "protobuf"
    : mediaType === "application/json"
    ? "json"
    : "unknown"
  const encoding = (headers["content-encoding"] ?? "identity").trim().toLowerCase()
  const base = {
    method: request.method ?? "",
    path: request.url ?? "",
    headers,
    protocol,
    gzip: encoding === "gzip",
    bytes: raw.byteLength,
    receivedAt: performance.now()
  } as const
  try {
    if (encoding !== "gzip" && encoding !== "identity") throw new Error(`unsupported Content-Encoding ${encoding}`)
    const body = encoding === "gzip" ? zlib.gunzipSync(raw) : raw
    if (protocol === "unknown") throw new Error(`unsupported Content-Type ${JSON.stringify(headers["content-type"])}`)
    if (isMetricsPath(base.path)) {
      const metrics = protocol === "protobuf" ? pbMetricsRequest(body) : jsonMetricsRequest(body.toString("utf8"))
      return { ...base, spans: [], metrics, logs: [], decodeError: undefined }
    }
    if (isLogsPath(base.path)) {
      const logs = protocol === "protobuf" ? pbLogsRequest(body) : jsonLogsRequest(body.toString("utf8"))
      return { ...base, spans: [], metrics: [], logs, decodeError: undefined }
    }
    const spans = protocol === "protobuf" ? decodeProtobuf(body) : decodeJson(body.toString("utf8"))
    return { ...base, spans, metrics: [], logs: [], decodeError: undefined }
  } catch (error) {
    const decodeError = error instanceof Error ? error.message : String(error)
    return { ...base, spans: [], metrics: [], logs: [], decodeError }
  }
}

// -----------------------------------------------------------------------------
// Protobuf: wire format
// -----------------------------------------------------------------------------

/** Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit (3 and 4, groups, are not used by OTLP). */
type Field =
  | { readonly number: number; readonly wire: 0; readonly value: bigint }
  | { readonly number: number; readonly wire: 1; readonly value: DataView }
  | { readonly number: number; readonly wire: 2; readonly value: Uint8Array }
  | { readonly number: number; readonly wire: 5; readonly value: DataView }

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** Splits a message into its fields, checking every length against the buffer. */
const readFields = (buffer: Uint8Array): Array<Field> => {
  const fields: Array<Field> = []
  let pos = 0
  const varint = (): bigint => {
    // Fast path: up to 7 bytes (49 bits) fit a double exactly; longer ones take the BigInt loop.
    let small = 0
    for (let i = 0; i < 7 && pos + i < buffer.length; i++) {
      const byte = buffer[pos + i]!
      small += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) {
        pos += i + 1
        return BigInt(small)
      }
    }
    let result = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= buffer.length) throw new Error("truncated varint")
      const byte = buffer[pos++]!
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result)
    }
    throw new Error("varint longer than 10 bytes")
  }
  const take = (length: number): Uint8Array => {
    if (pos + length > buffer.length) throw new Error(`field runs past the end of its message (${length} bytes)`)
    const slice = buffer.subarray(pos, pos + length)
    pos += length
    return slice
  }
  while (pos < buffer.length) {
    const key = varint()
    const number = Number(key >> 3n)
    const wire = Number(key & 7n)
    if (number === 0) throw new Error("field number 0")
    switch (wire) {
      case 0:
        fields.push({ number, wire, value: varint() })
        break
      case 1:
        fields.push({ number, wire, value: view(take(8)) })
        break
      case 2:
        fields.push({ number, wire, value: take(Number(varint())) })
        break
      case 5:
        fields.push({ number, wire, value: view(take(4)) })
        break
      default:
        throw new Error(`unsupported wire type ${wire} (field ${number})`)
    }
  }
  return fields
}

/** Field accessors that also check the wire type, so a field encoded with the wrong type is an error. */
const expectWire = <W extends Field["wire"]>(field: Field, wire: W, what: string): Extract<Field, { wire: W }> => {
  if (field.wire !== wire) {
    throw new Error(`${what} (field ${field.number}) has wire type ${field.wire}, expected ${wire}`)
  }
  return field as Extract<Field, { wire: W }>
}
const utf8 = new TextDecoder("utf-8", { fatal: true })
const pbString = (field: Field, what: string) => utf8.decode(expectWire(field, 2, what).value)
const pbBytes = (field: Field, what: string) => expectWire(field, 2, what).value
const pbInt64 = (field: Field, what: string) => BigInt.asIntN(64, expectWire(field, 0, what).value)
const pbUint32 = (field: Field, what: string) => Number(BigInt.asUintN(32, expectWire(field, 0, what).value))
const pbEnum = (field: Field, what: string) => Number(BigInt.asIntN(32, expectWire(field, 0, what).value))
const pbBool = (field: Field, what: string) => expectWire(field, 0, what).value !== 0n
const pbFixed64 = (field: Field, what: string) => expectWire(field, 1, what).value.getBigUint64(0, true)
const pbDouble = (field: Field, what: string) => expectWire(field, 1, what).value.getFloat64(0, true)
const pbFixed32 = (field: Field, what: string) => expectWire(field, 5, what).value.getUint32(0, true)

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

/** Trace and span ids must have their exact sizes; anything else is invalid OTLP. */
const pbId = (field: Field, what: string, size: number): string => {
  const bytes = pbBytes(field, what)
  if (bytes.length !== size) throw new Error(`${what} is ${bytes.length} bytes, expected ${size}`)
  return hex(bytes)
}

// -----------------------------------------------------------------------------
// Protobuf: OTLP messages (field numbers from opentelemetry-proto)
// -----------------------------------------------------------------------------

/** `ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }` */
const decodeProtobuf = (body: Uint8Array): Array<ReceivedSpan> => {
  const spans: Array<ReceivedSpan> = []
  for (const field of readFields(body)) {
    if (field.number === 1) spans.push(...pbResourceSpans(pbBytes(field, "resource_spans")))
  }
  return spans
}

/** `ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }` */
const pbResourceSpans = (buffer: Uint8Array): Array<ReceivedSpan> => {
  let resource: Attributes = {}
  const scopes: Array<Uint8Array> = []
  for (const field of readFields(buffer)) {
    if (field.number === 1) resource = pbResource(pbBytes(field, "resource"))
    else if (field.number === 2) scopes.push(pbBytes(field, "scope_spans"))
  }
  // The resource may follow the scopes on the wire: read the scopes once it is known.
  return scopes.flatMap((scope) => pbScopeSpans(scope, resource))
}

/** `Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }` */
const pbResource = (buffer: Uint8Array): Attributes => {
  const attributes: Record<string, AttrValue> = {}
  for (const field of readFields(buffer)) {
    if (field.number === 1) pbKeyValue(pbBytes(field, "Resource.attributes"), attributes)
  }
  return attributes
}

/** `ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }` */
const pbScopeSpans = (buffer: Uint8Array, resource: Attributes): Array<ReceivedSpan> => {
  let scope = { name: "", version: "" }
  const spans: Array<Uint8Array> = []
  for (const field of readFields(buffer)) {
    if (field.number === 1) scope = pbScope(pbBytes(field, "scope"))
    else if (field.number === 2) spans.push(pbBytes(field, "spans"))
  }
  return spans.map((span) => pbSpan(span, resource, scope))
}

/** `InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; ... }` */
const pbScope = (buffer: Uint8Array) => {
  let name = ""
  let version = ""
  for (const field of readFields(buffer)) {
    if (field.number === 1) name = pbString(field, "InstrumentationScope.name")
    else if (field.number === 2) version = pbString(field, "InstrumentationScope.version")
  }
  return { name, version }
}

/** `Span`, fields 1–16 (see trace.proto). */
const pbSpan = (buffer: Uint8Array, resource: Attributes, scope: ReceivedSpan["scope"]): ReceivedSpan => {
  let traceId: string | undefined
  let spanId: string | undefined
  let parentSpanId: string | undefined
  let traceState = ""
  let name = ""
  let kind = 0
  let startTimeUnixNano = 0n
  let endTimeUnixNano = 0n
  const attributes: Record<string, AttrValue> = {}
  let droppedAttributesCount = 0
  const events: Array<ReceivedEvent> = []
  let droppedEventsCount = 0
  const links: Array<ReceivedLink> = []
  let droppedLinksCount = 0
  let status = { code: 0, message: "" }
  let flags = 0
  for (const field of readFields(buffer)) {
    switch (field.number) {
      case 1:
        traceId = pbId(field, "Span.trace_id", 16)
        break
      case 2:
        spanId = pbId(field, "Span.span_id", 8)
        break
      case 3:
        traceState = pbString(field, "Span.trace_state")
        break
      case 4: {
        // Empty means root; otherwise exactly 8 bytes.
        const bytes = pbBytes(field, "Span.parent_span_id")
        parentSpanId = bytes.length === 0 ? undefined : pbId(field, "Span.parent_span_id", 8)
        break
      }
      case 5:
        name = pbString(field, "Span.name")
        break
      case 6:
        kind = pbEnum(field, "Span.kind")
        break
      case 7:
        startTimeUnixNano = pbFixed64(field, "Span.start_time_unix_nano")
        break
      case 8:
        endTimeUnixNano = pbFixed64(field, "Span.end_time_unix_nano")
        break
      case 9:
        pbKeyValue(pbBytes(field, "Span.attributes"), attributes)
        break
      case 10:
        droppedAttributesCount = pbUint32(field, "Span.dropped_attributes_count")
        break
      case 11:
        events.push(pbEvent(pbBytes(field, "Span.events")))
        break
      case 12:
        droppedEventsCount = pbUint32(field, "Span.dropped_events_count")
        break
      case 13:
        links.push(pbLink(pbBytes(field, "Span.links")))
        break
      case 14:
        droppedLinksCount = pbUint32(field, "Span.dropped_links_count")
        break
      case 15:
        status = pbStatus(pbBytes(field, "Span.status"))
        break
      case 16:
        flags = pbFixed32(field, "Span.flags")
        break
    }
  }
  if (traceId === undefined || spanId === undefined) {
    throw new Error(`span ${JSON.stringify(name)} has no trace_id or span_id`)
  }
  return {
    traceId,
    spanId,
    parentSpanId,
    traceState,
    name,
    kind,
    startTimeUnixNano,
    endTimeUnixNano,
    attributes,
    droppedAttributesCount,
    events,
    droppedEventsCount,
    links,
    droppedLinksCount,
    status,
    flags,
    resource,
    scope
  }
}

/** `Span.Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; ... }` */
const pbEvent = (buffer: Uint8Array): ReceivedEvent => {
  let timeUnixNano = 0n
  let name = ""
  const attributes: Record<string, AttrValue> = {}
  for (const field of readFields(buffer)) {
    if (field.number === 1) timeUnixNano = pbFixed64(field, "Event.time_unix_nano")
    else if (field.number === 2) name = pbString(field, "Event.name")
    else if (field.number === 3) pbKeyValue(pbBytes(field, "Event.attributes"), attributes)
  }
  return { name, timeUnixNano, attributes }
}

/** `Span.Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; ... }` */
const pbLink = (buffer: Uint8Array): ReceivedLink => {
  let traceId = ""
  let spanId = ""
  let traceState = ""
  const attributes: Record<string, AttrValue> = {}
  for (const field of readFields(buffer)) {
    if (field.number === 1) traceId = pbId(field, "Link.trace_id", 16)
    else if (field.number === 2) spanId = pbId(field, "Link.span_id", 8)
    else if (field.number === 3) traceState = pbString(field, "Link.trace_state")
    else if (field.number === 4) pbKeyValue(pbBytes(field, "Link.attributes"), attributes)
  }
  return { traceId, spanId, traceState, attributes }
}

/** `Status { reserved 1; string message = 2; StatusCode code = 3; }` */
const pbStatus = (buffer: Uint8Array) => {
  let code = 0
  let message = ""
  for (const field of readFields(buffer)) {
    if (field.number === 2) message = pbString(field, "Status.message")
    else if (field.number === 3) code = pbEnum(field, "Status.code")
  }
  return { code, message }
}

/** `KeyValue { string key = 1; AnyValue value = 2; }`, added to `into`. */
const pbKeyValue = (buffer: Uint8Array, into: Record<string, AttrValue>): void => {
  let key = ""
  let value: AttrValue = { type: "empty", value: undefined }
  for (const field of readFields(buffer)) {
    if (field.number === 1) key = pbString(field, "KeyValue.key")
    else if (field.number === 2) value = pbAnyValue(pbBytes(field, "KeyValue.value"))
  }
  if (key in into) throw new Error(`duplicate attribute key ${JSON.stringify(key)}`)
  into[key] = value
}

/**
 * `AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
 * double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }`
 */
const pbAnyValue = (buffer: Uint8Array): AttrValue => {
  // For a oneof the last field on the wire wins.
  let value: AttrValue = { type: "empty", value: undefined }
  for (const field of readFields(buffer)) {
    switch (field.number) {
      case 1:
        value = { type: "string", value: pbString(field, "AnyValue.string_value") }
        break
      case 2:
        value = { type: "bool", value: pbBool(field, "AnyValue.bool_value") }
        break
      case 3:
        value = { type: "int", value: pbInt64(field, "AnyValue.int_value") }
        break
      case 4:
        value = { type: "double", value: pbDouble(field, "AnyValue.double_value") }
        break
      case 5: {
        // `ArrayValue { repeated AnyValue values = 1; }`
        const values: Array<AttrValue> = []
        for (const item of readFields(pbBytes(field, "AnyValue.array_value"))) {
          if (item.number === 1) values.push(pbAnyValue(pbBytes(item, "ArrayValue.values")))
        }
        value = { type: "array", value: values }
        break
      }
      case 6: {
        // `KeyValueList { repeated KeyValue values = 1; }`
        const entries: Record<string, AttrValue> = {}
        for (const item of readFields(pbBytes(field, "AnyValue.kvlist_value"))) {
          if (item.number === 1) pbKeyValue(pbBytes(item, "KeyValueList.values"), entries)
        }
        value = { type: "kvlist", value: entries }
        break
      }
      case 7:
        value = { type: "bytes", value: Uint8Array.from(pbBytes(field, "AnyValue.bytes_value")) }
        break
    }
  }
  return value
}

// -----------------------------------------------------------------------------
// Protobuf: responses
// -----------------------------------------------------------------------------

const encodeVarint = (value: bigint): Array<number> => {
  const bytes: Array<number> = []
  let rest = BigInt.asUintN(64, value)
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80)
    rest >>= 7n
  }
  bytes.push(Number(rest))
  return bytes
}
const varintField = (number: number, value: bigint) => [...encodeVarint(BigInt(number << 3)), ...encodeVarint(value)]
const bytesField = (number: number, bytes: Uint8Array) => [
  ...encodeVarint(BigInt((number << 3) | 2)),
  ...encodeVarint(BigInt(bytes.length)),
  ...bytes
]
const utf8Bytes = (text: string) => new Uint8Array(Buffer.from(text, "utf8"))

/**
 * `ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }` with
 * `ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }`.
 */
export const encodePartialSuccess = (rejectedSpans: number, errorMessage: string): Uint8Array => {
  const inner = new Uint8Array([...varintField(1, BigInt(rejectedSpans)), ...bytesField(2, utf8Bytes(errorMessage))])
  return new Uint8Array(bytesField(1, inner))
}

/** `google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }` */
export const encodeRpcStatus = (code: number, message: string): Uint8Array =>
  new Uint8Array([...varintField(1, BigInt(code)), ...bytesField(2, utf8Bytes(message))])

// -----------------------------------------------------------------------------
// JSON (OTLP/JSON encoding)
// -----------------------------------------------------------------------------

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const jsonObject = (value: Json | undefined, what: string): JsonObject => {
  if (value === undefined || value === null) return {}
  if (!isObject(value)) throw new Error(`${what} is not an object`)
  return value
}
const jsonArray = (value: Json | undefined, what: string): ReadonlyArray<Json> => {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new Error(`${what} is not an array`)
  return value as ReadonlyArray<Json>
}
const jsonString = (value: Json | undefined, what: string): string => {
  if (value === undefined || value === null) return ""
  if (typeof value !== "string") throw new Error(`${what} is not a string`)
  // A `\ud800` escape with no partner parses in JavaScript but is no Unicode text: protobuf's JSON
  // mapping requires valid UTF-8, and Go's protojson rejects the whole request ("invalid escape
  // code"), as the protobuf reader here rejects the same string sent as invalid UTF-8.
  if (!value.isWellFormed()) throw new Error(`${what} contains a lone surrogate: ${JSON.stringify(value)}`)
  return value
}
/** int64/uint64/fixed64: a decimal string per OTLP/JSON, or a JSON number (protobuf JSON parsers accept both). */
const jsonInt64 = (value: Json | undefined, what: string): bigint => {
  if (value === undefined || value === null) return 0n
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value)
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value)
  throw new Error(`${what} is not a 64-bit integer: ${JSON.stringify(value)}`)
}
/** Enums must be integers in OTLP/JSON (not the enum names protobuf JSON would allow). */
const jsonEnum = (value: Json | undefined, what: string): number => {
  if (value === undefined || value === null) return 0
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new Error(`${what} must be an integer in OTLP/JSON, got ${JSON.stringify(value)}`)
  }
  return value
}
const jsonUint32 = (value: Json | undefined, what: string): number => Number(jsonInt64(value, what))
/** Ids are hex in OTLP/JSON (not base64 as in the generic protobuf JSON mapping). */
const jsonId = (value: Json | undefined, what: string, size: number): string => {
  const text = jsonString(value, what)
  if (!new RegExp(`^[0-9a-fA-F]{${size * 2}}$`).test(text)) {
    throw new Error(`${what} must be ${size * 2} hex characters, got ${JSON.stringify(text)}`)
  }
  return text.toLowerCase()
}

const decodeJson = (text: string): Array<ReceivedSpan> => {
  const request = jsonObject(JSON.parse(text) as Json, "ExportTraceServiceRequest")
  return jsonArray(request["resourceSpans"], "resourceSpans").flatMap((item) => {
    const resourceSpans = jsonObject(item, "ResourceSpans")
    const resource = jsonAttributes(
      jsonObject(resourceSpans["resource"], "resource")["attributes"],
      "Resource.attributes"
    )
    return jsonArray(resourceSpans["scopeSpans"], "scopeSpans").flatMap((scopeItem) => {
      const scopeSpans = jsonObject(scopeItem, "ScopeSpans")
      const scopeObject = jsonObject(scopeSpans["scope"], "scope")
      const scope = {
        name: jsonString(scopeObject["name"], "scope.name"),
        version: jsonString(scopeObject["version"], "scope.version")
      }
      return jsonArray(scopeSpans["spans"], "spans").map((span) => jsonSpan(jsonObject(span, "Span"), resource, scope))
    })
  })
}

const jsonSpan = (span: JsonObject, resource: Attributes, scope: ReceivedSpan["scope"]): ReceivedSpan => {
  const parent = jsonString(span["parentSpanId"], "parentSpanId")
  const status = jsonObject(span["status"], "status")
  return {
    traceId: jsonId(span["traceId"], "traceId", 16),
    spanId: jsonId(span["spanId"], "spanId", 8),
    parentSpanId: parent === "" ? undefined : jsonId(parent, "parentSpanId", 8),
    traceState: jsonString(span["traceState"], "traceState"),
    name: jsonString(span["name"], "name"),
    kind: jsonEnum(span["kind"], "kind"),
    startTimeUnixNano: jsonInt64(span["startTimeUnixNano"], "startTimeUnixNano"),
    endTimeUnixNano: jsonInt64(span["endTimeUnixNano"], "endTimeUnixNano"),
    attributes: jsonAttributes(span["attributes"], "attributes"),
    droppedAttributesCount: jsonUint32(span["droppedAttributesCount"], "droppedAttributesCount"),
    events: jsonArray(span["events"], "events").map((item) => {
      const event = jsonObject(item, "Event")
      return {
        name: jsonString(event["name"], "Event.name"),
        timeUnixNano: jsonInt64(event["timeUnixNano"], "Event.timeUnixNano"),
        attributes: jsonAttributes(event["attributes"], "Event.attributes")
      }
    }),
    droppedEventsCount: jsonUint32(span["droppedEventsCount"], "droppedEventsCount"),
    links: jsonArray(span["links"], "links").map((item) => {
      const link = jsonObject(item, "Link")
      return {
        traceId: jsonId(link["traceId"], "Link.traceId", 16),
        spanId: jsonId(link["spanId"], "Link.spanId", 8),
        traceState: jsonString(link["traceState"], "Link.traceState"),
        attributes: jsonAttributes(link["attributes"], "Link.attributes")
      }
    }),
    droppedLinksCount: jsonUint32(span["droppedLinksCount"], "droppedLinksCount"),
    status: { code: jsonEnum(status["code"], "status.code"), message: jsonString(status["message"], "status.message") },
    flags: jsonUint32(span["flags"], "flags"),
    resource,
    scope
  }
}

const jsonAttributes = (value: Json | undefined, what: string): Attributes => {
  const attributes: Record<string, AttrValue> = {}
  for (const item of jsonArray(value, what)) {
    const keyValue = jsonObject(item, `${what}[]`)
    const key = jsonString(keyValue["key"], `${what}[].key`)
    if (key in attributes) throw new Error(`duplicate attribute key ${JSON.stringify(key)}`)
    attributes[key] = jsonAnyValue(keyValue["value"], `${what}.${key}`)
  }
  return attributes
}

const anyValueFields = [
  "stringValue",
  "boolValue",
  "intValue",
  "doubleValue",
  "arrayValue",
  "kvlistValue",
  "bytesValue"
] as const

const jsonAnyValue = (value: Json | undefined, what: string): AttrValue => {
  const any = jsonObject(value, what)
  // Unknown fields must be ignored (OTLP/JSON forward compatibility); a oneof sets at most one.
  const set = anyValueFields.filter((key) => any[key] !== undefined && any[key] !== null)
  if (set.length > 1) throw new Error(`${what} sets more than one value field: ${set.join(", ")}`)
  const key = set[0]
  if (key === undefined) return { type: "empty", value: undefined }
  const field = any[key]
  switch (key) {
    case "stringValue":
      return { type: "string", value: jsonString(field, `${what}.stringValue`) }
    case "boolValue":
      if (typeof field !== "boolean") throw new Error(`${what}.boolValue is not a boolean`)
      return { type: "bool", value: field }
    case "intValue":
      return { type: "int", value: BigInt.asIntN(64, jsonInt64(field, `${what}.intValue`)) }
    case "doubleValue":
      // Protobuf JSON writes the non-finite doubles as strings.
      if (typeof field === "number") return { type: "double", value: field }
      if (field === "NaN" || field === "Infinity" || field === "-Infinity") {
        return { type: "double", value: Number(field) }
      }
      throw new Error(`${what}.doubleValue is not a number`)
    case "arrayValue":
      return {
        type: "array",
        value: jsonArray(jsonObject(field, `${what}.arrayValue`)["values"], `${what}.arrayValue.values`).map((item) =>
          jsonAnyValue(item, `${what}[]`)
        )
      }
    case "kvlistValue":
      return {
        type: "kvlist",
        value: jsonAttributes(jsonObject(field, `${what}.kvlistValue`)["values"], `${what}.kvlistValue.values`)
      }
    case "bytesValue":
      // `bytes` fields other than ids stay base64 in OTLP/JSON.
      return { type: "bytes", value: new Uint8Array(Buffer.from(jsonString(field, `${what}.bytesValue`), "base64")) }
  }
}

// -----------------------------------------------------------------------------
// Metrics (`metrics/v1/metrics.proto`, `collector/metrics/v1/metrics_service.proto`)
// -----------------------------------------------------------------------------

const isMetricsPath = (path: string): boolean => path.split("?")[0]!.endsWith("/v1/metrics")

/** `ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }` */
const pbMetricsRequest = (body: Uint8Array): Array<ReceivedMetric> => {
  const metrics: Array<ReceivedMetric> = []
  for (const field of readFields(body)) {
    if (field.number !== 1) continue
    // `ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }`
    let resource: Attributes = {}
    const scopes: Array<Uint8Array> = []
    for (const rm of readFields(pbBytes(field, "resource_metrics"))) {
      if (rm.number === 1) resource = pbResource(pbBytes(rm, "resource"))
      else if (rm.number === 2) scopes.push(pbBytes(rm, "scope_metrics"))
    }
    for (const scopeBytes of scopes) {
      // `ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }`
      let scope = { name: "", version: "" }
      const items: Array<Uint8Array> = []
      for (const sm of readFields(scopeBytes)) {
        if (sm.number === 1) scope = pbScope(pbBytes(sm, "scope"))
        else if (sm.number === 2) items.push(pbBytes(sm, "metrics"))
      }
      for (const item of items) metrics.push(pbMetric(item, resource, scope))
    }
  }
  return metrics
}

/** `Metric { name = 1; description = 2; unit = 3; gauge = 5; sum = 7; histogram = 9; exponential_histogram = 10; summary = 11; }` */
const pbMetric = (buffer: Uint8Array, resource: Attributes, scope: ReceivedMetric["scope"]): ReceivedMetric => {
  let name = ""
  let description = ""
  let unit = ""
  let type: ReceivedMetric["type"] = "none"
  let temporality = 0
  let monotonic = false
  const numberPoints: Array<ReceivedNumberPoint> = []
  const histogramPoints: Array<ReceivedHistogramPoint> = []
  let otherPoints = 0
  for (const field of readFields(buffer)) {
    switch (field.number) {
      case 1:
        name = pbString(field, "Metric.name")
        break
      case 2:
        description = pbString(field, "Metric.description")
        break
      case 3:
        unit = pbString(field, "Metric.unit")
        break
      case 5:
      case 7:
      case 9:
      case 10:
      case 11: {
        type = ({ 5: "gauge", 7: "sum", 9: "histogram", 10: "exponential_histogram", 11: "summary" } as const)[
          field.number
        ]
        // Gauge { data_points = 1 }; Sum { data_points = 1; aggregation_temporality = 2; is_monotonic = 3 };
        // Histogram and ExponentialHistogram { data_points = 1; aggregation_temporality = 2 }; Summary { data_points = 1 }
        for (const inner of readFields(pbBytes(field, `Metric.${type}`))) {
          if (inner.number === 1) {
            const point = pbBytes(inner, "data_points")
            if (type === "gauge" || type === "sum") numberPoints.push(pbNumberPoint(point))
            else if (type === "histogram") histogramPoints.push(pbHistogramPoint(point))
            else otherPoints++
          } else if (inner.number === 2 && type !== "gauge" && type !== "summary") {
            temporality = pbEnum(inner, "aggregation_temporality")
          } else if (inner.number === 3 && type === "sum") monotonic = pbBool(inner, "is_monotonic")
        }
        break
      }
    }
  }
  return {
    name,
    description,
    unit,
    type,
    temporality,
    monotonic,
    numberPoints,
    histogramPoints,
    otherPoints,
    resource,
    scope
  }
}

/** `NumberDataPoint { start_time_unix_nano = 2; time_unix_nano = 3; as_double = 4; exemplars = 5; as_int = 6; attributes = 7; flags = 8 }` */
const pbNumberPoint = (buffer: Uint8Array): ReceivedNumberPoint => {
  const attributes: Record<string, AttrValue> = {}
  let start = 0n
  let time = 0n
  let value: bigint | number = 0
  const exemplars: Array<ReceivedExemplar> = []
  for (const field of readFields(buffer)) {
    if (field.number === 2) start = pbFixed64(field, "start_time_unix_nano")
    else if (field.number === 3) time = pbFixed64(field, "time_unix_nano")
    else if (field.number === 4) value = pbDouble(field, "as_double")
    else if (field.number === 6) value = BigInt.asIntN(64, pbFixed64(field, "as_int"))
    else if (field.number === 5) exemplars.push(pbExemplar(pbBytes(field, "exemplars")))
    else if (field.number === 7) pbKeyValue(pbBytes(field, "NumberDataPoint.attributes"), attributes)
  }
  return { attributes, startTimeUnixNano: start, timeUnixNano: time, value, exemplars }
}

/**
 * `HistogramDataPoint { start_time_unix_nano = 2; time_unix_nano = 3; count = 4; sum = 5;
 * bucket_counts = 6 (packed fixed64); explicit_bounds = 7 (packed double); exemplars = 8; attributes = 9;
 * flags = 10; min = 11; max = 12 }`
 */
const pbHistogramPoint = (buffer: Uint8Array): ReceivedHistogramPoint => {
  const attributes: Record<string, AttrValue> = {}
  let start = 0n
  let time = 0n
  let count = 0n
  let sum: number | undefined
  let min: number | undefined
  let max: number | undefined
  const bucketCounts: Array<bigint> = []
  const explicitBounds: Array<number> = []
  const exemplars: Array<ReceivedExemplar> = []
  for (const field of readFields(buffer)) {
    if (field.number === 2) start = pbFixed64(field, "start_time_unix_nano")
    else if (field.number === 3) time = pbFixed64(field, "time_unix_nano")
    else if (field.number === 4) count = pbFixed64(field, "count")
    else if (field.number === 5) sum = pbDouble(field, "sum")
    else if (field.number === 6) {
      packed(field, "bucket_counts", (v, at) => bucketCounts.push(v.getBigUint64(at, true)))
    } else if (field.number === 7) {
      packed(field, "explicit_bounds", (v, at) => explicitBounds.push(v.getFloat64(at, true)))
    } else if (field.number === 8) exemplars.push(pbExemplar(pbBytes(field, "exemplars")))
    else if (field.number === 9) pbKeyValue(pbBytes(field, "HistogramDataPoint.attributes"), attributes)
    else if (field.number === 11) min = pbDouble(field, "min")
    else if (field.number === 12) max = pbDouble(field, "max")
  }
  if (bucketCounts.length > 0 && bucketCounts.length !== explicitBounds.length + 1) {
    throw new Error(`${bucketCounts.length} bucket counts for ${explicitBounds.length} bounds`)
  }
  if (bucketCounts.reduce((a, b) => a + b, 0n) !== count) throw new Error("bucket counts do not add up to count")
  return {
    attributes,
    startTimeUnixNano: start,
    timeUnixNano: time,
    count,
    sum,
    bucketCounts,
    explicitBounds,
    min,
    max,
    exemplars
  }
}

/** A packed repeated 8-byte field (fixed64, double), one `read` per item. */
const packed = (field: Field, what: string, read: (v: DataView, at: number) => void) => {
  const bytes = pbBytes(field, what)
  if (bytes.length % 8 !== 0) throw new Error(`${what} is ${bytes.length} bytes, not a multiple of 8`)
  const v = view(bytes)
  for (let at = 0; at < bytes.length; at += 8) read(v, at)
}

/** `Exemplar { time_unix_nano = 2; as_double = 3; span_id = 4; trace_id = 5; as_int = 6; filtered_attributes = 7 }` */
const pbExemplar = (buffer: Uint8Array): ReceivedExemplar => {
  const filteredAttributes: Record<string, AttrValue> = {}
  let time = 0n
  let value: bigint | number = 0
  let traceId = ""
  let spanId = ""
  for (const field of readFields(buffer)) {
    if (field.number === 2) time = pbFixed64(field, "Exemplar.time_unix_nano")
    else if (field.number === 3) value = pbDouble(field, "Exemplar.as_double")
    else if (field.number === 6) value = BigInt.asIntN(64, pbFixed64(field, "Exemplar.as_int"))
    else if (field.number === 4) spanId = pbId(field, "Exemplar.span_id", 8)
    else if (field.number === 5) traceId = pbId(field, "Exemplar.trace_id", 16)
    else if (field.number === 7) pbKeyValue(pbBytes(field, "Exemplar.filtered_attributes"), filteredAttributes)
  }
  return { timeUnixNano: time, value, traceId, spanId, filteredAttributes }
}

const jsonMetricsRequest = (text: string): Array<ReceivedMetric> => {
  const request = jsonObject(JSON.parse(text) as Json, "ExportMetricsServiceRequest")
  return jsonArray(request["resourceMetrics"], "resourceMetrics").flatMap((item) => {
    const rm = jsonObject(item, "ResourceMetrics")
    const resource = jsonAttributes(jsonObject(rm["resource"], "resource")["attributes"], "Resource.attributes")
    return jsonArray(rm["scopeMetrics"], "scopeMetrics").flatMap((scopeItem) => {
      const sm = jsonObject(scopeItem, "ScopeMetrics")
      const scopeObject = jsonObject(sm["scope"], "scope")
      const scope = {
        name: jsonString(scopeObject["name"], "scope.name"),
        version: jsonString(scopeObject["version"], "scope.version")
      }
      return jsonArray(sm["metrics"], "metrics").map((m) => jsonMetric(jsonObject(m, "Metric"), resource, scope))
    })
  })
}

const jsonNumber = (value: Json | undefined, what: string): number => {
  if (typeof value === "number") return value
  if (value === "NaN" || value === "Infinity" || value === "-Infinity") return Number(value)
  throw new Error(`${what} is not a number`)
}
const jsonOptionalNumber = (value: Json | undefined, what: string): number | undefined =>
  value === undefined || value === null ? undefined : jsonNumber(value, what)

const jsonExemplars = (value: Json | undefined): Array<ReceivedExemplar> =>
  jsonArray(value, "exemplars").map((item) => {
    const e = jsonObject(item, "Exemplar")
    return {
      timeUnixNano: jsonInt64(e["timeUnixNano"], "Exemplar.timeUnixNano"),
      value: e["asInt"] !== undefined
        ? BigInt.asIntN(64, jsonInt64(e["asInt"], "Exemplar.asInt"))
        : jsonNumber(e["asDouble"] ?? 0, "Exemplar.asDouble"),
      traceId: jsonId(e["traceId"], "Exemplar.traceId", 16),
      spanId: jsonId(e["spanId"], "Exemplar.spanId", 8),
      filteredAttributes: jsonAttributes(e["filteredAttributes"], "Exemplar.filteredAttributes")
    }
  })

const jsonMetric = (m: JsonObject, resource: Attributes, scope: ReceivedMetric["scope"]): ReceivedMetric => {
  const kinds = ["gauge", "sum", "histogram", "exponentialHistogram", "summary"] as const
  const kind = kinds.find((k) => m[k] !== undefined && m[k] !== null)
  const data = kind !== undefined ? jsonObject(m[kind], kind) : {}
  const points = jsonArray(data["dataPoints"], "dataPoints").map((p) => jsonObject(p, "DataPoint"))
  const type: ReceivedMetric["type"] = kind === undefined
    ? "none"
    : kind === "exponentialHistogram"
    ? "exponential_histogram"
    : kind
  return {
    name: jsonString(m["name"], "Metric.name"),
    description: jsonString(m["description"], "Metric.description"),
    unit: jsonString(m["unit"], "Metric.unit"),
    type,
    temporality: data["aggregationTemporality"] !== undefined
      ? jsonEnum(data["aggregationTemporality"], "temporality")
      : 0,
    monotonic: data["isMonotonic"] === true,
    numberPoints: type === "gauge" || type === "sum"
      ? points.map((p) => ({
        attributes: jsonAttributes(p["attributes"], "attributes"),
        startTimeUnixNano: jsonInt64(p["startTimeUnixNano"], "startTimeUnixNano"),
        timeUnixNano: jsonInt64(p["timeUnixNano"], "timeUnixNano"),
        value: p["asInt"] !== undefined
          ? BigInt.asIntN(64, jsonInt64(p["asInt"], "asInt"))
          : jsonNumber(p["asDouble"] ?? 0, "asDouble"),
        exemplars: jsonExemplars(p["exemplars"])
      }))
      : [],
    histogramPoints: type === "histogram"
      ? points.map((p) => ({
        attributes: jsonAttributes(p["attributes"], "attributes"),
        startTimeUnixNano: jsonInt64(p["startTimeUnixNano"], "startTimeUnixNano"),
        timeUnixNano: jsonInt64(p["timeUnixNano"], "timeUnixNano"),
        count: jsonInt64(p["count"], "count"),
        sum: jsonOptionalNumber(p["sum"], "sum"),
        bucketCounts: jsonArray(p["bucketCounts"], "bucketCounts").map((c) => jsonInt64(c, "bucketCounts[]")),
        explicitBounds: jsonArray(p["explicitBounds"], "explicitBounds").map((b) => jsonNumber(b, "explicitBounds[]")),
        min: jsonOptionalNumber(p["min"], "min"),
        max: jsonOptionalNumber(p["max"], "max"),
        exemplars: jsonExemplars(p["exemplars"])
      }))
      : [],
    otherPoints: type === "exponential_histogram" || type === "summary" ? points.length : 0,
    resource,
    scope
  }
}

// -----------------------------------------------------------------------------
// Logs (`logs/v1/logs.proto`, `collector/logs/v1/logs_service.proto`)
// -----------------------------------------------------------------------------

const isLogsPath = (path: string): boolean => path.split("?")[0]!.endsWith("/v1/logs")

/** `ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }` */
const pbLogsRequest = (body: Uint8Array): Array<ReceivedLogRecord> => {
  const records: Array<ReceivedLogRecord> = []
  for (const field of readFields(body)) {
    if (field.number !== 1) continue
    // `ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }`
    let resource: Attributes = {}
    const scopes: Array<Uint8Array> = []
    for (const rl of readFields(pbBytes(field, "resource_logs"))) {
      if (rl.number === 1) resource = pbResource(pbBytes(rl, "resource"))
      else if (rl.number === 2) scopes.push(pbBytes(rl, "scope_logs"))
    }
    for (const scopeBytes of scopes) {
      // `ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }`
      let scope = { name: "", version: "" }
      const items: Array<Uint8Array> = []
      for (const sl of readFields(scopeBytes)) {
        if (sl.number === 1) scope = pbScope(pbBytes(sl, "scope"))
        else if (sl.number === 2) items.push(pbBytes(sl, "log_records"))
      }
      for (const item of items) records.push(pbLogRecord(item, resource, scope))
    }
  }
  return records
}

/**
 * `LogRecord { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; SeverityNumber
 * severity_number = 2; string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes = 6;
 * uint32 dropped_attributes_count = 7; fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10;
 * string event_name = 12; }`
 */
const pbLogRecord = (
  buffer: Uint8Array,
  resource: Attributes,
  scope: ReceivedLogRecord["scope"]
): ReceivedLogRecord => {
  let timeUnixNano = 0n
  let observedTimeUnixNano = 0n
  let severityNumber = 0
  let severityText = ""
  let body: AttrValue = { type: "empty", value: undefined }
  const attributes: Record<string, AttrValue> = {}
  let droppedAttributesCount = 0
  let flags = 0
  let traceId: string | undefined
  let spanId: string | undefined
  let eventName = ""
  for (const field of readFields(buffer)) {
    switch (field.number) {
      case 1:
        timeUnixNano = pbFixed64(field, "LogRecord.time_unix_nano")
        break
      case 11:
        observedTimeUnixNano = pbFixed64(field, "LogRecord.observed_time_unix_nano")
        break
      case 2:
        severityNumber = pbEnum(field, "LogRecord.severity_number")
        break
      case 3:
        severityText = pbString(field, "LogRecord.severity_text")
        break
      case 5:
        body = pbAnyValue(pbBytes(field, "LogRecord.body"))
        break
      case 6:
        pbKeyValue(pbBytes(field, "LogRecord.attributes"), attributes)
        break
      case 7:
        droppedAttributesCount = pbUint32(field, "LogRecord.dropped_attributes_count")
        break
      case 8:
        flags = pbFixed32(field, "LogRecord.flags")
        break
      case 9:
        // An empty id is the proto3 default: no trace context.
        if (pbBytes(field, "LogRecord.trace_id").length > 0) traceId = pbId(field, "LogRecord.trace_id", 16)
        break
      case 10:
        if (pbBytes(field, "LogRecord.span_id").length > 0) spanId = pbId(field, "LogRecord.span_id", 8)
        break
      case 12:
        eventName = pbString(field, "LogRecord.event_name")
        break
    }
  }
  return {
    timeUnixNano,
    observedTimeUnixNano,
    severityNumber,
    severityText,
    body,
    attributes,
    droppedAttributesCount,
    flags,
    traceId,
    spanId,
    eventName,
    resource,
    scope
  }
}

const jsonLogsRequest = (text: string): Array<ReceivedLogRecord> => {
  const request = jsonObject(JSON.parse(text) as Json, "ExportLogsServiceRequest")
  return jsonArray(request["resourceLogs"], "resourceLogs").flatMap((item) => {
    const rl = jsonObject(item, "ResourceLogs")
    const resource = jsonAttributes(jsonObject(rl["resource"], "resource")["attributes"], "Resource.attributes")
    return jsonArray(rl["scopeLogs"], "scopeLogs").flatMap((scopeItem) => {
      const sl = jsonObject(scopeItem, "ScopeLogs")
      const scopeObject = jsonObject(sl["scope"], "scope")
      const scope = {
        name: jsonString(scopeObject["name"], "scope.name"),
        version: jsonString(scopeObject["version"], "scope.version")
      }
      return jsonArray(sl["logRecords"], "logRecords").map((r): ReceivedLogRecord => {
        const record = jsonObject(r, "LogRecord")
        const id = (key: string, size: number) =>
          record[key] === undefined || record[key] === "" ? undefined : jsonId(record[key], `LogRecord.${key}`, size)
        return {
          timeUnixNano: jsonInt64(record["timeUnixNano"], "LogRecord.timeUnixNano"),
          observedTimeUnixNano: jsonInt64(record["observedTimeUnixNano"], "LogRecord.observedTimeUnixNano"),
          severityNumber: jsonEnum(record["severityNumber"], "LogRecord.severityNumber"),
          severityText: jsonString(record["severityText"], "LogRecord.severityText"),
          body: record["body"] === undefined || record["body"] === null
            ? { type: "empty", value: undefined }
            : jsonAnyValue(record["body"], "LogRecord.body"),
          attributes: jsonAttributes(record["attributes"], "LogRecord.attributes"),
          droppedAttributesCount: jsonUint32(record["droppedAttributesCount"], "LogRecord.droppedAttributesCount"),
          flags: jsonUint32(record["flags"], "LogRecord.flags"),
          traceId: id("traceId", 16),
          spanId: id("spanId", 8),
          eventName: jsonString(record["eventName"], "LogRecord.eventName"),
          resource,
          scope
        }
      })
    })
  })
}
