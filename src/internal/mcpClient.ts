/**
 * The Effect `McpClient` traced, at its `Transport`: every request and notification it sends is a
 * CLIENT span (or annotates the `execute_tool` span around it), carries that span's context in
 * `params._meta`, and ends with the response's outcome. The client is also wrapped, method by
 * method, so that an operation cut short by the client's own deadline ends its span with
 * `error.type=timeout` rather than as a bare interruption: Effect's deadline interrupts the
 * request first and fails the call after, so the span's end waits for the call's outcome.
 */
import * as McpClient from "effect/ai/McpClient"
import * as McpClientError from "effect/ai/McpClientError"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as HttpClient from "effect/http/HttpClient"
import type * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"
import { spanContextOf } from "./effectTracer.ts"
import { errorType as causeErrorType } from "./errors.ts"
import * as Spans from "./mcpSpans.ts"
import * as Wire from "./mcpWire.ts"
import { CurrentRecorder, nowMillis } from "./metrics.ts"
import * as N from "./semconv.ts"

/** How the client side propagates: the propagator, and the baggage to send (if any). */
export interface Propagation {
  readonly propagator: Wire.Propagator
  /** The baggage of the calling fiber, read as the request goes out; `undefined` sends none. */
  readonly baggage: ((fiber: Fiber.Fiber<unknown, unknown>) => Readonly<Record<string, string>>) | undefined
}

/** What one traced connection knows besides each message: the server, its session, how it ended. */
export class Connection {
  sessionId: string | undefined = undefined
  /** The `error.type` the connection failed with, for the session's duration. */
  failure: string | undefined = undefined
  constructor(
    /** Where the server is; over HTTP, its HTTP version once a response told it. */
    public peer: Wire.Peer,
    readonly protocolVersion: string,
    readonly propagation: Propagation
  ) {}
}

const traced = new WeakMap<McpClient.Transport, Connection>()

/** The connection of a transport made by {@link traceTransport}, if it is one. */
export const connectionOf = (transport: McpClient.Transport): Connection | undefined => traced.get(transport)

// -----------------------------------------------------------------------------
// Outcomes of failed calls
// -----------------------------------------------------------------------------

const clientErrorOutcome = (error: McpClientError.McpClientError): Wire.Outcome => {
  const reason = error.reason
  switch (reason._tag) {
    case "ProtocolError":
      return reason.code !== undefined
        ? { ...Wire.failed(String(reason.code), reason.description), statusCode: String(reason.code) }
        : Wire.failed(reason._tag, reason.description)
    case "HttpError":
      return reason.code !== undefined
        ? { ...Wire.failed(String(reason.code), reason.description), statusCode: String(reason.code) }
        : Wire.failed(String(reason.status), reason.message)
    case "TimeoutError":
      return Wire.failed(N.McpErrorType.timeout, reason.message)
    case "ClosedError":
      return Wire.failed(N.McpErrorType.connectionClosed, reason.message)
    case "ToolError":
      return Wire.failed(N.McpErrorType.toolError)
    default:
      return Wire.failed(reason._tag, reason.message)
  }
}

/** The outcome of a call that failed: the MCP error's kind, else the library's `error.type`. */
export const failureOf = (cause: Cause.Cause<unknown>): Wire.Outcome | undefined => {
  for (const reason of cause.reasons) {
    if (Cause.isFailReason(reason) && McpClientError.isMcpClientError(reason.error)) {
      return clientErrorOutcome(reason.error)
    }
  }
  const type = causeErrorType(cause)
  return type === undefined ? undefined : Wire.failed(type)
}

// -----------------------------------------------------------------------------
// Deadlines: a call's outcome settles the spans it interrupted
// -----------------------------------------------------------------------------

class Call {
  private readonly interrupted: Array<
    { readonly open: Spans.OpenSpan; readonly endTime: bigint; readonly endMillis: number }
  > = []

  defer(open: Spans.OpenSpan): void {
    this.interrupted.push({ open, endTime: open.now(), endMillis: nowMillis() })
  }

  settle(exit: Exit.Exit<unknown, unknown>): void {
    if (this.interrupted.length === 0) return
    const outcome = exit._tag === "Failure" ? failureOf(exit.cause) : undefined
    for (const { endMillis, endTime, open } of this.interrupted.splice(0)) {
      if (outcome !== undefined) open.finish(outcome, { endTime, endMillis })
      else open.finish(Wire.succeeded, { interrupted: true, endTime })
    }
  }
}

const CurrentCall = Context.Reference<Call | undefined>("beluga-o11y/Mcp/CurrentCall", {
  defaultValue: () => undefined
})

/** Runs one client call so that the spans its deadline interrupts end with the call's failure. */
export const withCall = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const call = new Call()
    return effect.pipe(
      Effect.provideService(CurrentCall, call),
      Effect.onExit((exit) => Effect.sync(() => call.settle(exit)))
    )
  })

/**
 * The `execute_tool` span an MCP tool call runs in, set by the tools this library builds from
 * `tools/list` (whose model-facing name may carry a prefix the MCP name has not).
 */
export const ToolSpan = Context.Reference<Tracer.Span | undefined>("beluga-o11y/Mcp/ToolSpan", {
  defaultValue: () => undefined
})

/** Spans already annotated by one MCP call: a second call in the same tool gets a span of its own. */
const merged = new WeakSet<Tracer.AnySpan>()

/** The library's `execute_tool` span for this tool around the call, if there is one to annotate. */
const mergeTarget = (context: Context.Context<never>, operation: Wire.Operation): Tracer.Span | undefined => {
  if (operation.method !== N.McpMethod.toolsCall) return undefined
  const explicit = Context.get(context, ToolSpan)
  const span = explicit ?? Spans.currentSpan(context)
  if (span === undefined || span._tag !== "Span" || merged.has(span) || span.status._tag === "Ended") return undefined
  if (explicit === undefined) {
    const attributes = span.attributes
    if (
      attributes.get(N.ATTR_GEN_AI_OPERATION_NAME) !== N.Operation.executeTool ||
      attributes.get(N.ATTR_GEN_AI_TOOL_NAME) !== operation.toolName
    ) return undefined
  }
  merged.add(span)
  return span
}

// -----------------------------------------------------------------------------
// The transport
// -----------------------------------------------------------------------------

const withMeta = (
  connection: Connection,
  fiber: Fiber.Fiber<unknown, unknown>,
  span: Tracer.AnySpan,
  params: Wire.Params | undefined
): Wire.Params | undefined => {
  const { baggage, propagator } = connection.propagation
  return Wire.injectMeta(
    propagator,
    params,
    spanContextOf(span),
    baggage !== undefined ? Wire.toBaggage(baggage(fiber)) : undefined
  )
}

/**
 * Ends an operation when its effect ends (and forgets that its context is being sent); an
 * interruption inside a call waits for the call's outcome.
 */
const settleOn =
  (open: Spans.OpenSpan, call: Call | undefined, connection: Connection, forget: () => void) =>
  <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.onExit(effect, (exit) =>
      Effect.sync(() => {
        forget()
        if (exit._tag === "Success") {
          const response = Wire.classify(exit.value)
          const outcome = response?._tag === "Response"
            ? Wire.outcomeOf(open.operation.method, response, open.settings)
            : Wire.succeeded
          open.finish(outcome, { sessionId: connection.sessionId, peer: connection.peer })
        } else if (Cause.hasInterruptsOnly(exit.cause)) {
          if (call !== undefined) call.defer(open)
          else open.finish(Wire.succeeded, { interrupted: true })
        } else {
          const outcome = failureOf(exit.cause) ?? Wire.failed(N.ERROR_TYPE_OTHER)
          if (outcome.errorType === N.McpErrorType.connectionClosed || outcome.errorType === transportFailure) {
            connection.failure = outcome.errorType
          }
          open.finish(outcome, { sessionId: connection.sessionId, peer: connection.peer })
        }
      }))

/** The `error.type` of a transport that failed under the client (a server that died, say). */
const transportFailure = "TransportError"

/**
 * `transport` with every request and notification traced (see the module header). `peer` says
 * where the server is; `protocolVersion` is the revision the client speaks.
 */
export const traceTransport = (
  transport: McpClient.Transport,
  options: { readonly peer: Wire.Peer; readonly propagation: Propagation; readonly connection?: Connection }
): McpClient.Transport => {
  if (traced.has(transport)) return transport
  const connection = options.connection ??
    new Connection(options.peer, transport.protocol.protocolVersion, options.propagation)
  const session = () => ({ sessionId: connection.sessionId, protocolVersion: connection.protocolVersion })
  const wrapped: McpClient.Transport = {
    ...transport,
    request: (message, tool) =>
      Effect.withFiber((fiber) => {
        const classified = Wire.classify(message)
        if (classified === undefined || classified._tag === "Response") return transport.request(message, tool)
        const operation = Wire.operationOf(classified)
        const mergeInto = mergeTarget(fiber.context, operation)
        const call = fiber.getRef(CurrentCall)
        return Effect.flatMap(
          Spans.start({ operation, side: "client", peer: connection.peer, session: session(), mergeInto }),
          (open) => {
            const params = withMeta(connection, fiber, open.span, message.params)
            const forget = Spans.sendingContextOf(open.span)
            const request = transport.request(params === undefined ? message : { ...message, params }, tool)
            // Over HTTP the transport's own spans (the POST) belong under the MCP span; stdio makes none.
            return (open.merged || !connection.peer.http
              ? request
              : Effect.withParentSpan(request, open.span, { captureStackTrace: false }))
              .pipe(settleOn(open, call, connection, forget))
          }
        )
      }),
    notify: (message) =>
      Effect.withFiber((fiber) => {
        const classified = Wire.classify(message)
        if (classified === undefined || classified._tag !== "Notification") return transport.notify(message)
        const operation = Wire.operationOf(classified)
        const call = fiber.getRef(CurrentCall)
        return Effect.flatMap(
          Spans.start({ operation, side: "client", peer: connection.peer, session: session() }),
          (open) => {
            const params = withMeta(connection, fiber, open.span, message.params)
            const forget = Spans.sendingContextOf(open.span)
            const notify = transport.notify(params === undefined ? message : { ...message, params })
            return (connection.peer.http
              ? Effect.withParentSpan(notify, open.span, { captureStackTrace: false })
              : notify)
              .pipe(settleOn(open, call, connection, forget))
          }
        )
      })
  }
  traced.set(wrapped, connection)
  return wrapped
}

/**
 * An HTTP client that notes the `Mcp-Session-Id` the server assigns, for `mcp.session.id` (the
 * Effect transport keeps the session to itself), and the HTTP version of its responses where the
 * HTTP client exposes it (Node's `node:http` client does; `fetch` and undici do not).
 */
export const observingSession = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  connection: Connection
): HttpClient.HttpClient.With<E, R> =>
  HttpClient.tap(client, (response) =>
    Effect.sync(() => {
      const id = response.headers[Wire.SESSION_HEADER]
      if (typeof id === "string" && id !== "") connection.sessionId = id
      const version = Wire.httpVersionOf((response as { readonly source?: unknown }).source)
      if (version !== undefined && version !== connection.peer.protocolVersion) {
        connection.peer = { ...connection.peer, protocolVersion: version }
      }
    }))

// -----------------------------------------------------------------------------
// The client
// -----------------------------------------------------------------------------

type CallOptions = { readonly timeout?: Duration.Input | undefined } | undefined

/** A call with a deadline is run by {@link withCall}; one without has no deadline to settle. */
const withDeadline = <A, E, R>(effect: Effect.Effect<A, E, R>, options: CallOptions) =>
  options?.timeout !== undefined ? withCall(effect) : effect

/** `client` with each call that has a deadline (listing always has one) run by {@link withCall}. */
export const wrapClient = (client: McpClient.McpClient): McpClient.McpClient => ({
  ...client,
  listTools: (options) => withCall(client.listTools(options)),
  listPrompts: (options) => withCall(client.listPrompts(options)),
  listResources: (options) => withCall(client.listResources(options)),
  getPrompt: (params, options) => withDeadline(client.getPrompt(params, options), options),
  readResource: (params, options) => withDeadline(client.readResource(params, options), options),
  callTool:
    ((params: Parameters<McpClient.McpClient["callTool"]>[0], options?: CallOptions) =>
      withDeadline(client.callTool(params, options), options)) as McpClient.McpClient["callTool"]
})

/**
 * `McpClient.make`, traced: the `Transport` in context is traced (unless it is already), the
 * handshake and every call are run by {@link withCall}, and a session-based connection records
 * `mcp.client.session.duration` when its scope closes.
 */
export const make = (
  options: Parameters<typeof McpClient.make>[0],
  defaults: { readonly peer: Wire.Peer; readonly propagation: Propagation }
): Effect.Effect<McpClient.McpClient, McpClientError.McpClientError, Scope.Scope | McpClient.Transport> =>
  Effect.gen(function*() {
    const transport = traceTransport(yield* McpClient.Transport, defaults)
    const connection = connectionOf(transport)!
    const started = nowMillis()
    const client = yield* withCall(McpClient.make(options).pipe(Effect.provideService(McpClient.Transport, transport)))
    if (!Wire.isStateless(client.protocolVersion)) {
      const recorder = yield* Effect.withFiber((fiber) => Effect.succeed(fiber.getRef(CurrentRecorder)))
      yield* Effect.addFinalizer(() =>
        Effect.sync(() =>
          Spans.recordDuration(
            recorder,
            N.METRIC_MCP_CLIENT_SESSION_DURATION,
            (nowMillis() - started) / 1000,
            sessionAttributes(connection, client.protocolVersion),
            N.mcpSessionMetricAttributeKeys,
            undefined
          )
        )
      )
    }
    return wrapClient(client)
  })

const sessionAttributes = (connection: Connection, protocolVersion: string): Wire.Attributes => {
  const peer = connection.peer
  const attributes: Wire.Attributes = {
    [N.ATTR_MCP_PROTOCOL_VERSION]: protocolVersion,
    [N.ATTR_NETWORK_TRANSPORT]: peer.transport
  }
  if (peer.http) attributes[N.ATTR_NETWORK_PROTOCOL_NAME] = N.NETWORK_PROTOCOL_HTTP
  if (peer.serverAddress !== undefined) attributes[N.ATTR_SERVER_ADDRESS] = peer.serverAddress
  if (peer.serverPort !== undefined) attributes[N.ATTR_SERVER_PORT] = peer.serverPort
  if (connection.failure !== undefined) attributes[N.ATTR_ERROR_TYPE] = connection.failure
  return attributes
}

/** A traced stdio transport (`McpClient.stdio`). */
export const stdio = (
  options: Parameters<typeof McpClient.stdio>[0],
  propagation: Propagation
) =>
  Effect.map(McpClient.stdio(options), (transport) => traceTransport(transport, { peer: Wire.stdioPeer, propagation }))

/** A traced Streamable HTTP transport (`McpClient.http`), noting the session the server assigns. */
export const http = (options: Parameters<typeof McpClient.http>[0], propagation: Propagation) =>
  Effect.gen(function*() {
    const connection = new Connection(Wire.httpPeer(options.url), options.protocol.protocolVersion, propagation)
    const client = yield* HttpClient.HttpClient
    const transport = yield* McpClient.http(options).pipe(
      Effect.provideService(HttpClient.HttpClient, observingSession(client, connection))
    )
    return traceTransport(transport, { peer: connection.peer, propagation, connection })
  })
