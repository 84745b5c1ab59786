/**
 * The Effect `McpServer` traced, at its transport: every request and notification a client sends
 * is a SERVER span, parented on the context in its `params._meta` (on HTTP, the request's
 * `traceparent` header when `_meta` has none; else a new trace), linked to the ambient span (the
 * HTTP request's), and ended when its response goes out.
 *
 * Where it hooks in, and why there: Effect's server decodes the JSON-RPC messages and runs the
 * handlers inside its own RPC server, whose span (`McpServer.<internal tag>`) reads its parent only
 * from non-standard top-level `traceId`/`spanId` fields and whose name no user can read. So:
 * - stdio: the `Stdio` the server reads is wrapped; each message line that starts a span is
 *   rewritten with those top-level fields set to the new span, so everything the handler does
 *   nests under it; outgoing lines end the spans they answer;
 * - HTTP: the POST route the server registers is wrapped; the body is read (Effect caches it), the
 *   spans started, the handler run with the span as its parent, and the response (JSON or an SSE
 *   stream) read as it goes out;
 * - the RPC server's own spans, and those of its in-process notification queue, are made
 *   transparent by a tracer provided to the server's layer alone: one call, one SERVER span.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpEffect from "effect/http/HttpEffect"
import * as HttpRouter from "effect/http/HttpRouter"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Sink from "effect/Sink"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import { TransparentSpan } from "./effectTracer.ts"
import { errorType } from "./errors.ts"
import * as Spans from "./mcpSpans.ts"
import * as Wire from "./mcpWire.ts"
import { nowMillis, type Recorder } from "./metrics.ts"
import * as N from "./semconv.ts"

/** The spans Effect's MCP server makes itself (`McpServer.ts`: `spanPrefix`), standing for ours. */
const rpcServerSpan = "McpServer."
const notificationQueueSpan = "McpServer/Notifications."

/** The longest message line or body read; longer ones are passed on untraced. */
const maxMessageLength = 16 * 1024 * 1024
/** Requests in flight traced at once on one stdio connection; past it, new ones go untraced. */
const maxInFlight = 10_000
/** Sessions whose duration is being measured on one HTTP endpoint. */
const maxSessions = 10_000
/** Messages traced in one JSON-RPC batch. */
const maxBatch = 100

/** What one traced server shares between its transport tap and its tracer. */
export class ServerTap {
  /** The SERVER spans open now, by span id: the parents the RPC server's own spans stand for. */
  readonly live = new Map<string, Tracer.Span>()
  /** HTTP sessions by `Mcp-Session-Id`: when they started, and their revision. */
  readonly sessions = new Map<string, { readonly started: number; readonly protocolVersion: string | undefined }>()
  recorder: Recorder | undefined = undefined
  /** The tracers in force, wrapped once each (see {@link wrapTracer}). */
  readonly tracers = new WeakMap<Tracer.Tracer, Tracer.Tracer>()

  constructor(readonly propagator: Wire.Propagator) {}

  /** A SERVER span for a request or notification: parent from `_meta`, else `fallback`, else none. */
  open(
    message: Wire.Sent,
    context: {
      /** The span to link (the HTTP request's); `"current"`: the fiber's current span, if any. */
      readonly ambient: Tracer.AnySpan | "current" | undefined
      readonly fallback: Tracer.AnySpan | undefined
      readonly peer: Wire.Peer
      readonly session: { readonly sessionId: string | undefined; readonly protocolVersion: string | undefined }
    }
  ): Effect.Effect<Spans.OpenSpan> {
    const parent = Spans.remoteParent(Wire.extractMeta(this.propagator, message.params)) ?? context.fallback
    return Effect.map(
      Spans.start({
        operation: Wire.operationOf(message),
        side: "server",
        peer: context.peer,
        session: context.session,
        parent: parent ?? "root",
        links: context.ambient === "current" ? "current" : context.ambient !== undefined
          ? [{ span: context.ambient, attributes: {} }]
          : undefined
      }),
      (open) => {
        this.recorder ??= open.recorder
        this.live.set(open.span.spanId, open.span)
        return open
      }
    )
  }

  close(open: Spans.OpenSpan, outcome: Wire.Outcome, options?: Parameters<Spans.OpenSpan["finish"]>[1]): void {
    if (this.live.get(open.span.spanId) === open.span) this.live.delete(open.span.spanId)
    open.finish(outcome, options)
  }

  /** Records a session's duration (`error.type` when it ended badly). */
  sessionEnded(started: number, attributes: Wire.Attributes): void {
    Spans.recordDuration(
      this.recorder,
      N.METRIC_MCP_SERVER_SESSION_DURATION,
      (nowMillis() - started) / 1000,
      attributes,
      N.mcpSessionMetricAttributeKeys,
      undefined
    )
  }
}

const sessionAttributes = (peer: Wire.Peer, protocolVersion: string | undefined): Wire.Attributes => ({
  [N.ATTR_NETWORK_TRANSPORT]: peer.transport,
  ...(peer.http ? { [N.ATTR_NETWORK_PROTOCOL_NAME]: N.NETWORK_PROTOCOL_HTTP } : {}),
  ...(protocolVersion !== undefined ? { [N.ATTR_MCP_PROTOCOL_VERSION]: protocolVersion } : {})
})

/** The request's span and those it makes stand for the SERVER span: one call, one span. */
export const wrapTracer = (tracer: Tracer.Tracer, tap: ServerTap): Tracer.Tracer => {
  const known = tap.tracers.get(tracer)
  if (known !== undefined) return known
  const wrapped = makeWrapped(tracer, tap)
  tap.tracers.set(tracer, wrapped)
  tap.tracers.set(wrapped, wrapped)
  return wrapped
}

const makeWrapped = (tracer: Tracer.Tracer, tap: ServerTap): Tracer.Tracer => ({
  ...tracer,
  span: (options) => {
    if (options.kind === "server" && options.name.startsWith(rpcServerSpan)) {
      const parent = Option.getOrUndefined(options.parent)
      const own = parent !== undefined ? tap.live.get(parent.spanId) ?? parent : undefined
      return new TransparentSpan({ ...options, parent: Option.fromNullishOr(own) })
    }
    if (options.name.startsWith(notificationQueueSpan)) return new TransparentSpan(options)
    return tracer.span(options)
  }
})

/** The tracer of the server's layer: the one in force, wrapped by {@link wrapTracer}. */
export const tracerLayer = (tap: ServerTap): Layer.Layer<never> =>
  Layer.effect(Tracer.Tracer, Effect.map(Effect.tracer, (tracer) => wrapTracer(tracer, tap)))

// -----------------------------------------------------------------------------
// stdio
// -----------------------------------------------------------------------------

/** Complete lines out of a text stream; a line past the limit passes through, never buffered whole. */
class Lines {
  private buffer = ""
  private skipping = false

  /** The complete lines in `text` (with their newline), and raw pieces of an oversized one. */
  push(text: string): Array<{ readonly text: string; readonly line: boolean }> {
    const out: Array<{ text: string; line: boolean }> = []
    let start = 0
    let index: number
    while ((index = text.indexOf("\n", start)) >= 0) {
      const piece = text.slice(start, index + 1)
      start = index + 1
      if (this.skipping) {
        out.push({ text: piece, line: false })
        this.skipping = false
      } else {
        out.push({ text: this.buffer + piece, line: true })
        this.buffer = ""
      }
    }
    const rest = text.slice(start)
    if (this.skipping) {
      if (rest !== "") out.push({ text: rest, line: false })
    } else if (this.buffer.length + rest.length > maxMessageLength) {
      out.push({ text: this.buffer + rest, line: false })
      this.buffer = ""
      this.skipping = true
    } else {
      this.buffer += rest
    }
    return out
  }

  /** What is left at the end of the stream. */
  rest(): string {
    const rest = this.buffer
    this.buffer = ""
    return rest
  }
}

const encoder = new TextEncoder()
const encode = (text: string): Uint8Array => encoder.encode(text)

/**
 * `line` (one JSON object) with the trace fields of `rewritten` appended before its closing brace:
 * the message is not written out again whole (tool arguments can be large). A later key wins when
 * the server parses it, so fields the client sent are replaced.
 */
const withTraceFields = (line: string, rewritten: unknown): string => {
  const end = line.lastIndexOf("}")
  const { sampled, spanId, traceId } = rewritten as { traceId: string; spanId: string; sampled: boolean }
  return end < 0
    ? `${JSON.stringify(rewritten)}\n`
    : `${line.slice(0, end)},"traceId":"${traceId}","spanId":"${spanId}","sampled":${sampled}}\n`
}

/** One stdio connection: its requests in flight, its revision, its session. */
class StdioConnection {
  readonly pending = new Map<string, Spans.OpenSpan>()
  protocolVersion: string | undefined = undefined
  sessionStarted: number | undefined = undefined
  private readonly decoder = new TextDecoder()
  private readonly written = new Lines()

  constructor(readonly tap: ServerTap) {}

  session() {
    return { sessionId: undefined, protocolVersion: this.protocolVersion }
  }

  /** What the client wrote, as the server will read it: lines traced, oversized pieces as they came. */
  incomingPieces(pieces: ReadonlyArray<{ readonly text: string; readonly line: boolean }>): Effect.Effect<string> {
    // One line per chunk is the common case: no loop, no join.
    if (pieces.length === 1) return pieces[0]!.line ? this.incoming(pieces[0]!.text) : Effect.succeed(pieces[0]!.text)
    return Effect.map(
      Effect.forEach(pieces, (piece) => piece.line ? this.incoming(piece.text) : Effect.succeed(piece.text)),
      (texts) => texts.join("")
    )
  }

  /**
   * A message from the client: traced and rewritten, or passed on as it came. A line that is not
   * JSON is dropped: Effect's stdio server (4.1) keeps it in its framing buffer and fails on every
   * line after, so one such line would stop the server for good; no answer could be sent to it anyway.
   */
  incoming(line: string): Effect.Effect<string> {
    const value = Wire.parseJson(line)
    if (value === undefined) return Effect.succeed(line.trim() === "" ? line : "")
    if (Array.isArray(value)) {
      return Effect.map(
        Effect.forEach(value, (item, i) => i < maxBatch ? this.incomingOne(item) : Effect.succeed(item)),
        (items) => items.some((item, i) => item !== value[i]) ? `${JSON.stringify(items)}\n` : line
      )
    }
    return Effect.map(this.incomingOne(value), (item) => item !== value ? withTraceFields(line, item) : line)
  }

  private incomingOne(value: unknown): Effect.Effect<unknown> {
    const message = Wire.classify(value)
    if (message === undefined || message._tag === "Response") return Effect.succeed(value)
    if (message._tag === "Request" && this.pending.size >= maxInFlight) return Effect.succeed(value)
    return Effect.map(
      this.tap.open(message, {
        ambient: "current",
        fallback: undefined,
        peer: Wire.stdioPeer,
        session: this.session()
      }),
      (open) => {
        if (message.method === N.McpMethod.initialize) {
          this.protocolVersion = open.operation.protocolVersion
          this.sessionStarted ??= nowMillis()
        }
        if (message._tag === "Request") this.pending.set(Wire.idKey(message.id), open)
        // A notification is handed over now: nothing answers it.
        else {
          if (message.method === N.McpMethod.cancelled) this.cancel(message.params)
          this.tap.close(open, Wire.succeeded)
        }
        const span = open.span
        // No span (tracing off): nothing to point the handler's spans at.
        if (span.spanId === "" || span.traceId === "") return value
        return { ...(value as object), traceId: span.traceId, spanId: span.spanId, sampled: span.sampled }
      }
    )
  }

  /** A request the client cancelled gets no answer (Effect's server writes none): its span ends now. */
  private cancel(params: Wire.Params | undefined): void {
    const id = params?.requestId
    if (typeof id !== "string" && typeof id !== "number") return
    const open = this.pending.get(Wire.idKey(id))
    if (open === undefined) return
    this.pending.delete(Wire.idKey(id))
    this.tap.close(
      open,
      Wire.failed(N.McpErrorType.cancelled, typeof params?.reason === "string" ? params.reason : undefined)
    )
  }

  /**
   * A chunk the server writes: the responses in it end their requests' spans. A plain success is
   * recognized by its first bytes and its result is not parsed, unless the span needs it
   * (`initialize`'s revision, a tool's `isError`, captured content).
   */
  outgoing(chunk: string | Uint8Array): void {
    const text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true })
    for (const piece of this.written.push(text)) {
      if (!piece.line || this.pending.size === 0) continue
      const id = Wire.successId(piece.text)
      if (id !== undefined) {
        const key = Wire.idKey(id)
        const open = this.pending.get(key)
        if (open === undefined) continue
        if (!this.needsResult(open, piece.text)) {
          this.pending.delete(key)
          this.tap.close(open, Wire.succeeded)
          continue
        }
      }
      const value = Wire.parseJson(piece.text)
      for (const item of Array.isArray(value) ? value : [value]) this.answered(item)
    }
  }

  private needsResult(open: Spans.OpenSpan, text: string): boolean {
    const method = open.operation.method
    return method === N.McpMethod.initialize ||
      (method === N.McpMethod.toolsCall && (open.settings.captureContent || Wire.mayReportToolError(text)))
  }

  private answered(value: unknown): void {
    const message = Wire.classify(value)
    if (message?._tag !== "Response" || message.id === undefined) return
    const key = Wire.idKey(message.id)
    const open = this.pending.get(key)
    if (open === undefined) return
    this.pending.delete(key)
    const outcome = Wire.outcomeOf(open.operation.method, message, open.settings, "server")
    if (open.operation.method === N.McpMethod.initialize && outcome.protocolVersion !== undefined) {
      this.protocolVersion = outcome.protocolVersion
    }
    this.tap.close(open, outcome)
  }

  /** The client is gone: its session ends, and the requests it will never read the answer to. */
  closed(): void {
    for (const open of this.pending.values()) this.tap.close(open, Wire.failed(N.McpErrorType.connectionClosed))
    this.pending.clear()
    if (this.sessionStarted !== undefined && !Wire.isStateless(this.protocolVersion)) {
      this.tap.sessionEnded(this.sessionStarted, sessionAttributes(Wire.stdioPeer, this.protocolVersion))
    }
    this.sessionStarted = undefined
  }
}

/** `stdio` with the client's messages traced (see the module header). */
export const tracedStdio = (stdio: Stdio.Stdio, tap: ServerTap): Effect.Effect<Stdio.Stdio, never, never> =>
  Effect.sync(() => {
    const connection = new StdioConnection(tap)
    // One stage on the server's input, decoding and encoding by hand: every stage of a stream costs
    // each message a pull of its own.
    const stdin = Stream.suspend(() => {
      const lines = new Lines()
      const decoder = new TextDecoder()
      // A chunk of whole lines passed on as it came keeps its bytes (ending in a newline, it leaves
      // nothing in the decoder); one with a line rewritten, or a line begun before it, is encoded.
      const pass = (text: string, bytes?: Uint8Array) =>
        Effect.map(
          connection.incomingPieces(lines.push(text)),
          (out) => bytes !== undefined && bytes[bytes.length - 1] === 0x0a && out === text ? bytes : encode(out)
        )
      return stdio.stdin.pipe(
        Stream.mapEffect((bytes) => pass(decoder.decode(bytes, { stream: true }), bytes)),
        Stream.concat(Stream.suspend(() => {
          const rest = lines.rest() + decoder.decode()
          return rest === "" ? Stream.empty : Stream.fromEffect(pass(`${rest}\n`))
        })),
        Stream.ensuring(Effect.sync(() => connection.closed()))
      )
    })
    return Stdio.make({
      args: stdio.args,
      stdinIsTerminal: stdio.stdinIsTerminal,
      stdoutIsTerminal: stdio.stdoutIsTerminal,
      stderrIsTerminal: stdio.stderrIsTerminal,
      stderr: (options) => stdio.stderr(options),
      stdout: (options) =>
        Sink.mapInput(stdio.stdout(options), (chunk: string | Uint8Array) => {
          try {
            connection.outgoing(chunk)
          } catch {
            // Observing must never cost the server its output.
          }
          return chunk
        }),
      stdin
    })
  })

/** The `Stdio` of the server's layer: the one in context, traced. */
export const stdioLayer = (tap: ServerTap): Layer.Layer<Stdio.Stdio, never, Stdio.Stdio> =>
  Layer.effect(Stdio.Stdio, Effect.flatMap(Effect.service(Stdio.Stdio), (stdio) => tracedStdio(stdio, tap)))

// -----------------------------------------------------------------------------
// Streamable HTTP
// -----------------------------------------------------------------------------

type Handler = (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse>

/** The messages of a response body: JSON, JSON lines, or SSE `data:` lines. */
class BodyReader {
  private readonly decoder = new TextDecoder()
  private readonly lines = new Lines()
  constructor(private readonly onMessage: (value: unknown) => void) {}

  push(bytes: Uint8Array, last: boolean): void {
    const text = this.decoder.decode(bytes, { stream: !last })
    for (const piece of this.lines.push(last ? `${text}\n` : text)) {
      if (!piece.line) continue
      const line = piece.text.trim()
      if (line === "" || line.startsWith(":") || (line.startsWith("event:") || line.startsWith("id:"))) continue
      const json = line.startsWith("data:") ? line.slice(5).trim() : line
      const value = Wire.parseJson(json)
      for (const item of Array.isArray(value) ? value : [value]) this.onMessage(item)
    }
  }
}

/** One POST: the spans it started, ended as its response reveals their answers. */
class Exchange {
  private readonly requests = new Map<string, Spans.OpenSpan>()
  private readonly notifications: Array<Spans.OpenSpan> = []
  constructor(
    readonly tap: ServerTap,
    opens: ReadonlyArray<{ readonly message: Wire.Sent; readonly open: Spans.OpenSpan }>
  ) {
    for (const { message, open } of opens) {
      if (message._tag === "Request") this.requests.set(Wire.idKey(message.id), open)
      else this.notifications.push(open)
    }
  }

  answered(value: unknown, sessionId: string | undefined): void {
    const message = Wire.classify(value)
    if (message?._tag !== "Response") return
    // An error without an id answers the only request there is (a rejected POST).
    const key = message.id !== undefined ? Wire.idKey(message.id) : this.requests.size === 1
      ? this.requests.keys().next().value
      : undefined
    const open = key !== undefined ? this.requests.get(key) : undefined
    if (open === undefined || key === undefined) return
    this.requests.delete(key)
    this.tap.close(open, Wire.outcomeOf(open.operation.method, message, open.settings, "server"), { sessionId })
  }

  /** The response is complete: notifications were accepted; requests left unanswered failed. */
  done(status: number, exit?: Exit.Exit<unknown, unknown>): void {
    for (const open of this.notifications.splice(0)) {
      this.tap.close(open, status >= 400 ? Wire.failed(String(status)) : Wire.succeeded)
    }
    for (const open of this.requests.values()) {
      if (exit !== undefined && exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)) {
        this.tap.close(open, Wire.succeeded, { interrupted: true })
      } else {
        const failure = exit !== undefined && exit._tag === "Failure" ? errorType(exit.cause) : undefined
        this.tap.close(
          open,
          Wire.failed(failure ?? (status >= 400 ? String(status) : N.McpErrorType.connectionClosed))
        )
      }
    }
    this.requests.clear()
  }
}

const observeResponse = (
  response: HttpServerResponse.HttpServerResponse,
  exchange: Exchange,
  sessionId: string | undefined
): HttpServerResponse.HttpServerResponse => {
  const body = response.body
  if (body._tag === "Uint8Array") {
    new BodyReader((value) => exchange.answered(value, sessionId)).push(body.body, true)
    exchange.done(response.status)
    return response
  }
  if (body._tag !== "Stream") {
    exchange.done(response.status)
    return response
  }
  const reader = new BodyReader((value) => exchange.answered(value, sessionId))
  const stream = body.stream.pipe(
    Stream.tap((bytes: Uint8Array) => Effect.sync(() => reader.push(bytes, false))),
    Stream.onExit((exit) => Effect.sync(() => exchange.done(response.status, Exit.isFailure(exit) ? exit : undefined)))
  )
  return HttpServerResponse.setBody(response, HttpBody.stream(stream, body.contentType, body.contentLength))
}

/**
 * Where the client is, by the request: its address, and, from the platform's request (Node's
 * `IncomingMessage`), its port and the HTTP version. The port only when the address is the
 * connected peer's: behind a trusted proxy the address is the forwarded client's, the port the proxy's.
 */
const httpServerPeer = (request: HttpServerRequest.HttpServerRequest): Wire.Peer => {
  const clientAddress = Option.getOrUndefined(request.remoteAddress)
  const source = request.source as { readonly socket?: { readonly remotePort?: unknown } | undefined }
  const port = clientAddress !== undefined && clientAddress === Option.getOrUndefined(request.peerAddress)
    ? source.socket?.remotePort
    : undefined
  return {
    transport: N.NetworkTransport.tcp,
    http: true,
    protocolVersion: Wire.httpVersionOf(source),
    clientAddress,
    clientPort: typeof port === "number" && Number.isInteger(port) && port > 0 ? port : undefined
  }
}

const header = (request: HttpServerRequest.HttpServerRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return typeof value === "string" && value !== "" ? value : undefined
}

/**
 * What Effect's HTTP server keeps per request, its pre-response handlers among it (`HttpEffect`'s
 * internal `CurrentRequestState`, looked up by its key). Without it (a request not served by
 * `HttpEffect`, or another Effect release), the response is read as the route returns it.
 */
const RequestState = Context.Service<unknown>("effect/http/HttpEffect/CurrentRequestState")

/** The server's POST handler, traced (see the module header). */
const tracePost = (tap: ServerTap, handler: Handler): Handler => (request) =>
  Effect.flatMap(Effect.exit(request.text), (text) => {
    if (Exit.isFailure(text) || text.value.length > maxMessageLength) return handler(request)
    const value = Wire.parseJson(text.value)
    const items = Array.isArray(value) ? value.slice(0, maxBatch) : [value]
    const received = items.flatMap((item) => {
      const message = Wire.classify(item)
      return message !== undefined && message._tag !== "Response" ? [message] : []
    })
    if (received.length === 0) return handler(request)
    return Effect.withFiber((fiber) => {
      const sessionId = header(request, Wire.SESSION_HEADER)
      const session = {
        sessionId,
        protocolVersion: header(request, Wire.PROTOCOL_VERSION_HEADER) ??
          (sessionId !== undefined ? tap.sessions.get(sessionId)?.protocolVersion : undefined)
      }
      const context = {
        ambient: Spans.currentSpan(fiber.context),
        fallback: Spans.remoteParent(Wire.extract(tap.propagator, request.headers)),
        peer: httpServerPeer(request),
        session
      }
      return Effect.flatMap(
        Effect.forEach(received, (message) => Effect.map(tap.open(message, context), (open) => ({ message, open }))),
        (opens) => {
          const exchange = new Exchange(tap, opens)
          const only = opens.length === 1 ? opens[0]!.open.span : undefined
          // The request's RPC span is made in this fiber, with the tracer of the HTTP server.
          const handled = Effect.withTracer(handler(request), wrapTracer(fiber.getRef(Tracer.Tracer), tap))
          const run = only !== undefined ? Effect.withParentSpan(handled, only, { captureStackTrace: false }) : handled
          const observe = (response: HttpServerResponse.HttpServerResponse) => {
            const assigned = response.headers[Wire.SESSION_HEADER]
            const initialize = opens.find(({ message }) => message.method === N.McpMethod.initialize)
            if (initialize !== undefined && typeof assigned === "string" && tap.sessions.size < maxSessions) {
              tap.sessions.set(assigned, {
                started: nowMillis(),
                protocolVersion: initialize.open.operation.protocolVersion
              })
            }
            return observeResponse(response, exchange, sessionId ?? assigned)
          }
          return run.pipe(
            Effect.map((response) => {
              // Effect's server sets `Mcp-Session-Id` (and may replace the response) in handlers run
              // once this route has returned: the response is read as it is sent.
              if (Context.getOrUndefined(fiber.context, RequestState) === undefined) return observe(response)
              HttpEffect.appendPreResponseHandlerUnsafe(fiber.context, (_, sent) => Effect.succeed(observe(sent)))
              return response
            }),
            Effect.onExit((exit) => Effect.sync(() => Exit.isFailure(exit) && exchange.done(500, exit)))
          )
        }
      )
    })
  })

/** The server's DELETE handler: a session it ends records its duration. */
const traceDelete = (tap: ServerTap, handler: Handler): Handler => (request) =>
  Effect.tap(handler(request), (response) =>
    Effect.sync(() => {
      const sessionId = header(request, Wire.SESSION_HEADER)
      const session = sessionId !== undefined ? tap.sessions.get(sessionId) : undefined
      if (session === undefined || response.status >= 300) return
      tap.sessions.delete(sessionId!)
      tap.sessionEnded(session.started, sessionAttributes(httpServerPeer(request), session.protocolVersion))
    }))

const asHandler = (handler: Parameters<HttpRouter.HttpRouter["add"]>[2]): Handler | undefined =>
  typeof handler === "function" ? handler as Handler : undefined

const sessionPeer: Wire.Peer = { transport: N.NetworkTransport.tcp, http: true }

/** The router the server registers its routes on: the POST and DELETE at `path` traced. */
export const routerLayer = (
  tap: ServerTap,
  path: string
): Layer.Layer<HttpRouter.HttpRouter, never, HttpRouter.HttpRouter> =>
  Layer.effect(
    HttpRouter.HttpRouter,
    Effect.gen(function*() {
      const router = yield* Effect.service(HttpRouter.HttpRouter)
      // Sessions still open when the server stops end with it.
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const session of tap.sessions.values()) {
            tap.sessionEnded(session.started, sessionAttributes(sessionPeer, session.protocolVersion))
          }
          tap.sessions.clear()
        })
      )
      return HttpRouter.HttpRouter.of({
        ...router,
        add: (method, route, handler, options) => {
          const fn = route === path ? asHandler(handler) : undefined
          if (fn === undefined || (method !== "POST" && method !== "DELETE")) {
            return router.add(method, route, handler, options)
          }
          return router.add(method, route, method === "POST" ? tracePost(tap, fn) : traceDelete(tap, fn), options)
        }
      })
    })
  )
