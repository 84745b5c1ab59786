/**
 * The official MCP TypeScript SDK traced at its `Transport` (`@modelcontextprotocol/sdk` 1.x and
 * the 2.x `@modelcontextprotocol/client` / `server` share the interface): the wrapper sees every
 * JSON-RPC message either side sends and receives, so one wrapper serves clients and servers alike.
 *
 * - a request this side sends is a CLIENT span, parented on the active OpenTelemetry context (or,
 *   for `tools/call`, the library's `execute_tool` span there, annotated instead), its context
 *   injected into `params._meta`; the response (or a cancellation, or the connection closing) ends it;
 * - a request or notification this side receives is a SERVER span, parented on `_meta` (on HTTP,
 *   the request's `traceparent` header when `_meta` has none), linked to the active context, and
 *   the SDK's handler runs with it active, so the handler's spans nest under it.
 *
 * Spans go through the OpenTelemetry API (the global tracer provider `Tracing.layer` registers),
 * durations through the global meter provider: the SDK's code runs outside Effect. Nothing here
 * imports the SDK; its types are matched structurally.
 */
import * as Otel from "@opentelemetry/api"
import { defaults, type GenAISettings } from "./config.ts"
import * as Wire from "./mcpWire.ts"
import * as N from "./semconv.ts"
import { version } from "./version.ts"

/** What the wrapper needs of an SDK transport (both SDK generations have it). */
export interface SdkTransport {
  start(): Promise<void>
  send(message: any, options?: any): Promise<void>
  close(): Promise<void>
  onmessage?: ((message: any, extra?: any) => void) | undefined
  onclose?: (() => void) | undefined
  sessionId?: string | undefined
  setProtocolVersion?: ((version: string) => void) | undefined
}

export interface SdkOptions {
  /** `pipe` (stdio) or `tcp` (HTTP); guessed from the transport's class when absent. */
  readonly network?: "pipe" | "tcp" | undefined
  /** The server's URL, for a client over HTTP (`server.address`, `server.port`); read from the transport when it keeps one. */
  readonly url?: string | URL | undefined
  /** Record tool arguments and results. Default false. */
  readonly captureContent?: boolean | undefined
  readonly maxContentLength?: number | undefined
  /** Default: the global propagator. */
  readonly propagator?: Wire.Propagator | undefined
}

/** Requests in flight traced at once in each direction. */
const maxInFlight = 10_000

interface Pending {
  readonly span: Otel.Span
  readonly operation: Wire.Operation
  readonly side: "client" | "server"
  readonly merged: boolean
  readonly attributes: Wire.Attributes
  readonly started: number
}

const histograms = new WeakMap<Otel.MeterProvider, Record<"client" | "server", Otel.Histogram>>()
const durationsOf = (): Record<"client" | "server", Otel.Histogram> => {
  const provider = Otel.metrics.getMeterProvider()
  let found = histograms.get(provider)
  if (found === undefined) {
    const meter = provider.getMeter(N.LIBRARY_NAME, version)
    const make = (name: string) => {
      const definition = N.Metrics.find((metric) => metric.name === name)!
      return meter.createHistogram(name, {
        unit: definition.unit,
        description: definition.description,
        advice: { explicitBucketBoundaries: [...definition.boundaries] }
      })
    }
    found = {
      client: make(N.METRIC_MCP_CLIENT_OPERATION_DURATION),
      server: make(N.METRIC_MCP_SERVER_OPERATION_DURATION)
    }
    histograms.set(provider, found)
  }
  return found
}

/** Spans already annotated by one MCP call. */
const merged = new WeakSet<Otel.Span>()

/** The library's `execute_tool` span for this tool, active around the call, if any. */
const mergeTarget = (operation: Wire.Operation): Otel.Span | undefined => {
  if (operation.method !== N.McpMethod.toolsCall) return undefined
  const active = Otel.trace.getSpan(Otel.context.active())
  const attributes = (active as { readonly attributes?: Otel.Attributes } | undefined)?.attributes
  if (
    active === undefined || attributes === undefined || merged.has(active) ||
    attributes[N.ATTR_GEN_AI_OPERATION_NAME] !== N.Operation.executeTool ||
    attributes[N.ATTR_GEN_AI_TOOL_NAME] !== operation.toolName
  ) return undefined
  merged.add(active)
  return active
}

const traceHeaders = [
  N.McpMetaKey.traceparent,
  N.McpMetaKey.tracestate,
  N.McpMetaKey.baggage,
  Wire.PROTOCOL_VERSION_HEADER
]

const readHeaders = (get: (name: string) => unknown): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of traceHeaders) {
    const value = get(name)
    if (typeof value === "string") out[name] = value
  }
  return out
}

/** The trace headers of the HTTP request an SDK server transport received a message on. */
const headersOf = (extra: unknown): Record<string, string> | undefined => {
  if (!Wire.isRecord(extra)) return undefined
  // 1.x: `requestInfo.headers`, a record; 2.x: `request`, a web `Request`.
  const info = extra.requestInfo
  if (Wire.isRecord(info) && Wire.isRecord(info.headers)) {
    const headers = info.headers
    return readHeaders((name) => headers[name])
  }
  const request = extra.request as { readonly headers?: { readonly get?: (name: string) => unknown } } | undefined
  if (request?.headers !== undefined && typeof request.headers.get === "function") {
    const headers = request.headers
    return readHeaders((name) => headers.get!(name))
  }
  return undefined
}

const peerOf = (transport: SdkTransport, options: SdkOptions): Wire.Peer => {
  const kept = (transport as { readonly _url?: unknown })._url
  const url = options.url ?? (kept instanceof URL || typeof kept === "string" ? kept : undefined)
  if (url !== undefined) return Wire.httpPeer(url)
  const network = options.network ?? (/stdio/i.test(transport.constructor?.name ?? "") ? "pipe" : undefined)
  if (network === "pipe") return Wire.stdioPeer
  return network === "tcp" || /http|sse/i.test(transport.constructor?.name ?? "")
    ? { transport: N.NetworkTransport.tcp, http: true }
    : Wire.stdioPeer
}

/** One traced transport: its requests in flight each way, and what it learnt of the session. */
export class SdkTap {
  private readonly sent = new Map<string, Pending>()
  private readonly received = new Map<string, Pending>()
  protocolVersion: string | undefined = undefined
  private readonly tracer = Otel.trace.getTracer(N.LIBRARY_NAME, version)
  private readonly settings: GenAISettings
  private readonly propagator: Wire.Propagator
  private readonly peer: Wire.Peer

  constructor(private readonly transport: SdkTransport, options: SdkOptions) {
    this.settings = {
      captureContent: options.captureContent === true,
      maxContentLength: options.maxContentLength ?? defaults.maxContentLength,
      emitLegacyAttributes: false
    }
    this.propagator = options.propagator ?? Otel.propagation
    this.peer = peerOf(transport, options)
  }

  private session() {
    return { sessionId: this.transport.sessionId, protocolVersion: this.protocolVersion }
  }

  private start(operation: Wire.Operation, side: "client" | "server", parent: Otel.Context, links: Array<Otel.Link>) {
    const peer = side === "client" ? this.peer : { transport: this.peer.transport, http: this.peer.http }
    const attributes = Wire.startAttributes(operation, peer, this.session(), this.settings)
    const mergeInto = side === "client" ? mergeTarget(operation) : undefined
    if (mergeInto !== undefined) {
      const { [N.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: _, ...rest } = attributes
      mergeInto.setAttributes(rest)
    }
    const span = mergeInto ?? this.tracer.startSpan(
      operation.spanName,
      { kind: side === "client" ? Otel.SpanKind.CLIENT : Otel.SpanKind.SERVER, attributes, links },
      parent
    )
    return { span, operation, side, merged: mergeInto !== undefined, attributes, started: performance.now() }
  }

  private finish(pending: Pending, outcome: Wire.Outcome): void {
    const end = Wire.endAttributes(outcome)
    const sessionId = this.transport.sessionId
    if (
      sessionId !== undefined && pending.attributes[N.ATTR_MCP_SESSION_ID] === undefined &&
      !Wire.isStateless(pending.attributes[N.ATTR_MCP_PROTOCOL_VERSION] as string | undefined)
    ) end[N.ATTR_MCP_SESSION_ID] = sessionId
    pending.span.setAttributes(end)
    if (outcome.errorType !== undefined) {
      pending.span.setStatus({
        code: Otel.SpanStatusCode.ERROR,
        ...(outcome.message !== undefined ? { message: outcome.message } : {})
      })
    }
    try {
      durationsOf()[pending.side].record(
        (performance.now() - pending.started) / 1000,
        Wire.metricAttributes({ ...pending.attributes, ...end }, N.mcpMetricAttributeKeys),
        Otel.trace.setSpan(Otel.ROOT_CONTEXT, pending.span)
      )
    } catch {
      // A meter provider that throws must not cost the call.
    }
    if (!pending.merged) pending.span.end()
  }

  /** A message this side sends: a request starts a CLIENT span, a response ends a SERVER span. */
  send(message: unknown, options: unknown): Promise<void> {
    const classified = Wire.classify(message)
    const target = this.transport
    if (classified === undefined) return target.send(message, options)
    if (classified._tag === "Response") {
      this.answered(this.received, classified)
      return target.send(message, options)
    }
    const operation = Wire.operationOf(classified)
    if (classified.method === N.McpMethod.initialize) this.protocolVersion ??= operation.protocolVersion
    if (classified._tag === "Request" && this.sent.size >= maxInFlight) return target.send(message, options)
    const pending = this.start(operation, "client", Otel.context.active(), [])
    if (classified.method === N.McpMethod.cancelled) this.cancelled(this.sent, classified.params)
    const params = Wire.injectMeta(
      this.propagator,
      classified.params,
      pending.span.spanContext(),
      Otel.propagation.getBaggage(Otel.context.active())
    )
    const traced = params === classified.params ? message : { ...(message as object), params }
    if (classified._tag === "Request") this.sent.set(Wire.idKey(classified.id), pending)
    let sending: Promise<void>
    try {
      sending = target.send(traced, options)
    } catch (error) {
      sending = Promise.reject(error)
    }
    return sending.then(
      () => {
        if (classified._tag === "Notification") this.finish(pending, Wire.succeeded)
      },
      (error: unknown) => {
        if (classified._tag === "Request") this.sent.delete(Wire.idKey(classified.id))
        this.finish(pending, Wire.failed(error instanceof Error ? error.name : N.ERROR_TYPE_OTHER, String(error)))
        throw error
      }
    )
  }

  /** A message this side receives, delivered to the SDK's handler (with its SERVER span active). */
  receive(message: unknown, extra: unknown, deliver: (message: unknown, extra: unknown) => void): void {
    const classified = Wire.classify(message)
    if (classified === undefined) return deliver(message, extra)
    if (classified._tag === "Response") {
      this.answered(this.sent, classified)
      return deliver(message, extra)
    }
    const operation = Wire.operationOf(classified)
    const headers = headersOf(extra)
    if (classified.method === N.McpMethod.initialize) this.protocolVersion = operation.protocolVersion
    this.protocolVersion ??= headers?.[Wire.PROTOCOL_VERSION_HEADER]
    if (classified._tag === "Request" && this.received.size >= maxInFlight) return deliver(message, extra)
    const ambient = Otel.trace.getSpan(Otel.context.active())
    const fromMeta = Wire.extractMeta(this.propagator, classified.params)
    const parent = Wire.remoteSpanContext(fromMeta) !== undefined
      ? fromMeta
      : headers !== undefined && Wire.remoteSpanContext(Wire.extract(this.propagator, headers)) !== undefined
      ? Wire.extract(this.propagator, headers)
      : Otel.ROOT_CONTEXT
    const links = ambient !== undefined && Otel.trace.isSpanContextValid(ambient.spanContext())
      ? [{ context: ambient.spanContext() }]
      : []
    const pending = this.start(operation, "server", parent, links)
    if (classified.method === N.McpMethod.cancelled) this.cancelled(this.received, classified.params)
    if (classified._tag === "Request") this.received.set(Wire.idKey(classified.id), pending)
    try {
      Otel.context.with(Otel.trace.setSpan(parent, pending.span), () => deliver(message, extra))
    } finally {
      if (classified._tag === "Notification") this.finish(pending, Wire.succeeded)
    }
  }

  private answered(table: Map<string, Pending>, response: Wire.Classified & { readonly _tag: "Response" }): void {
    if (response.id === undefined) return
    const key = Wire.idKey(response.id)
    const pending = table.get(key)
    if (pending === undefined) return
    table.delete(key)
    const outcome = Wire.outcomeOf(pending.operation.method, response, this.settings, pending.side)
    if (outcome.protocolVersion !== undefined) this.protocolVersion = outcome.protocolVersion
    this.finish(pending, outcome)
  }

  /** `notifications/cancelled`: the request it names will get no answer. */
  private cancelled(table: Map<string, Pending>, params: Wire.Params | undefined): void {
    const id = params?.requestId
    if (typeof id !== "string" && typeof id !== "number") return
    const pending = table.get(Wire.idKey(id))
    if (pending === undefined) return
    table.delete(Wire.idKey(id))
    // The SDK cancels a request its deadline passed with the reason "…Request timed out" (-32001).
    const reason = typeof params?.reason === "string" ? params.reason : undefined
    const timedOut = reason !== undefined && /timed out|-32001/i.test(reason)
    this.finish(pending, Wire.failed(timedOut ? N.McpErrorType.timeout : N.McpErrorType.cancelled, reason))
  }

  /** The connection closed: nothing in flight will be answered. */
  closed(): void {
    for (const table of [this.sent, this.received]) {
      for (const pending of table.values()) this.finish(pending, Wire.failed(N.McpErrorType.connectionClosed))
      table.clear()
    }
  }
}

const taps = new WeakMap<object, SdkTap>()

/** `transport`, traced; every other property and method is the transport's own. */
export const traceTransport = <T extends SdkTransport>(transport: T, options: SdkOptions = {}): T => {
  if (taps.has(transport)) return transport
  const tap = new SdkTap(transport, options)
  let onmessage: SdkTransport["onmessage"]
  let onclose: SdkTransport["onclose"]
  const proxy = new Proxy(transport, {
    get(target, property) {
      if (property === "send") return (message: unknown, sendOptions?: unknown) => tap.send(message, sendOptions)
      if (property === "onmessage") return onmessage
      if (property === "onclose") return onclose
      if (property === "setProtocolVersion" && typeof target.setProtocolVersion === "function") {
        return (protocolVersion: string) => {
          tap.protocolVersion = protocolVersion
          return target.setProtocolVersion!(protocolVersion)
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === "function" ? value.bind(target) : value
    },
    set(target, property, value) {
      // The SDK installs its callbacks as properties: the transport calls the wrapped ones.
      if (property === "onmessage") {
        onmessage = value
        return Reflect.set(
          target,
          property,
          typeof value === "function"
            ? (message: unknown, extra?: unknown) => tap.receive(message, extra, (m, e) => value(m, e))
            : value,
          target
        )
      }
      if (property === "onclose") {
        onclose = value
        return Reflect.set(target, property, () => {
          tap.closed()
          if (typeof value === "function") value()
        }, target)
      }
      return Reflect.set(target, property, value, target)
    }
  })
  taps.set(proxy, tap)
  return proxy
}
