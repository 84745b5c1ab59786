/**
 * MCP spans and metrics made from Effect code (the Effect client's transport, the Effect server's
 * stdio and HTTP taps): one span per JSON-RPC request or notification, named and kinded by the
 * conventions, started with the request's attributes and ended with its outcome; or, when the
 * library's own `execute_tool` span already wraps the call, that span annotated instead (the
 * conventions' no-duplicate rule). Each operation's duration goes to the MCP histograms.
 */
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import * as Otel from "@opentelemetry/api"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Tracer from "effect/Tracer"
import type { GenAISettings } from "./config.ts"
import { isLibraryTracer, RecordingSpan, StartAttributes, toAttributes } from "./effectTracer.ts"
import * as Wire from "./mcpWire.ts"
import { AttributeSet, CurrentRecorder, nowMillis, type Recorder } from "./metrics.ts"
import { Settings } from "./operation.ts"
import * as N from "./semconv.ts"

/** Which end of the call this process is: the sender of the request, or its receiver. */
export type Side = "client" | "server"

const durationMetric: Record<Side, string> = {
  client: N.METRIC_MCP_CLIENT_OPERATION_DURATION,
  server: N.METRIC_MCP_SERVER_OPERATION_DURATION
}

/** A span's end for a tracer that cannot take a status without a failure: the outcome as an error. */
class McpOperationError extends Error {
  constructor(errorType: string, message: string | undefined) {
    super(message ?? errorType)
    this.name = errorType
  }
}

/** Sets the ERROR status (with the JSON-RPC message) on a span of this library's tracer. */
const markError = (span: Tracer.Span, message: string | undefined): boolean => {
  if (!(span instanceof RecordingSpan)) return false
  span.record?.setStatus({ code: Otel.SpanStatusCode.ERROR, ...(message !== undefined ? { message } : {}) })
  return true
}

/** Metric attribute sets, built once per distinct combination (bounded like the series themselves). */
const attributeSets = new Map<string, AttributeSet>()
const attributeSetOf = (attributes: Wire.Attributes, keys: ReadonlyArray<string>): AttributeSet => {
  let key = ""
  for (const name of keys) key += `${attributes[name] ?? ""}\u0000`
  let set = attributeSets.get(key)
  if (set === undefined) {
    set = new AttributeSet(Wire.metricAttributes(attributes, keys))
    if (attributeSets.size < 1024) attributeSets.set(key, set)
  }
  return set
}

/** The part of a peer a metric point carries, as a cache key (computed once per peer object). */
const peerKeys = new WeakMap<Wire.Peer, string>()
const peerKeyOf = (peer: Wire.Peer): string => {
  let key = peerKeys.get(peer)
  if (key === undefined) {
    key = `${peer.transport}\u0000${peer.http}\u0000${peer.serverAddress ?? ""}\u0000${peer.serverPort ?? ""}`
    peerKeys.set(peer, key)
  }
  return key
}

/**
 * The attribute set of an operation's duration: the peer's part, then the few attributes that
 * differ between operations on one connection and their outcomes. Every other metric attribute
 * follows from these (`gen_ai.operation.name` from the method), so the key is short.
 */
const operationSetOf = (peer: Wire.Peer, start: Wire.Attributes, end: Wire.Attributes): AttributeSet => {
  const key = `${peerKeyOf(peer)}\u0001${start[N.ATTR_MCP_METHOD_NAME]}\u0000${
    start[N.ATTR_GEN_AI_TOOL_NAME] ?? ""
  }\u0000${start[N.ATTR_GEN_AI_PROMPT_NAME] ?? ""}\u0000${
    end[N.ATTR_MCP_PROTOCOL_VERSION] ?? start[N.ATTR_MCP_PROTOCOL_VERSION] ?? ""
  }\u0000${start[N.ATTR_JSONRPC_PROTOCOL_VERSION] ?? ""}\u0000${
    end[N.ATTR_NETWORK_PROTOCOL_VERSION] ?? start[N.ATTR_NETWORK_PROTOCOL_VERSION] ?? ""
  }\u0000${end[N.ATTR_ERROR_TYPE] ?? ""}\u0000${end[N.ATTR_RPC_RESPONSE_STATUS_CODE] ?? ""}`
  let set = attributeSets.get(key)
  if (set === undefined) {
    set = new AttributeSet(Wire.metricAttributes({ ...start, ...end }, N.mcpMetricAttributeKeys))
    if (attributeSets.size < 1024) attributeSets.set(key, set)
  }
  return set
}

/** Records one MCP histogram measurement, with the span as its exemplar. */
export const recordDuration = (
  recorder: Recorder | undefined,
  metric: string,
  seconds: number,
  attributes: Wire.Attributes,
  keys: ReadonlyArray<string>,
  span: Tracer.AnySpan | undefined
): void => {
  if (recorder === undefined) return
  const now = nowMillis()
  recorder.histogram(metric).record(seconds, attributeSetOf(attributes, keys), span, now)
}

/** One MCP operation in flight: its span (or the `execute_tool` span it annotates) and its clock. */
export class OpenSpan {
  private done = false
  constructor(
    readonly span: Tracer.Span,
    readonly operation: Wire.Operation,
    readonly side: Side,
    /** The span is the library's `execute_tool` span: someone else ends it. */
    readonly merged: boolean,
    private readonly attributes: Wire.Attributes,
    readonly settings: GenAISettings,
    readonly recorder: Recorder | undefined,
    private readonly clock: Clock.Clock,
    private readonly startedAt: number,
    /** Where the peer is, as the span started (the metric point's `network.*` and `server.*`). */
    private readonly peer: Wire.Peer
  ) {}

  get finished(): boolean {
    return this.done
  }

  /**
   * Ends the operation: the outcome's attributes, the ERROR status when it failed, its duration
   * (not for an interruption, whose duration says nothing about the operation), and the span's end
   * unless it is someone else's. Only the first call counts.
   */
  finish(
    outcome: Wire.Outcome,
    options: {
      readonly interrupted?: boolean | undefined
      /** When the operation really ended (Effect nanoseconds), if before now. */
      readonly endTime?: bigint | undefined
      readonly endMillis?: number | undefined
      readonly sessionId?: string | undefined
      /** The peer as known now: an HTTP version learnt from this very response. */
      readonly peer?: Wire.Peer | undefined
    } = {}
  ): void {
    if (this.done) return
    this.done = true
    const span = this.span
    const end = Wire.endAttributes(outcome)
    if (
      options.sessionId !== undefined && this.attributes[N.ATTR_MCP_SESSION_ID] === undefined &&
      !Wire.isStateless(outcome.protocolVersion ?? this.operation.protocolVersion)
    ) {
      end[N.ATTR_MCP_SESSION_ID] = options.sessionId
    }
    const httpVersion = options.peer?.http === true ? options.peer.protocolVersion : undefined
    if (httpVersion !== undefined && this.attributes[N.ATTR_NETWORK_PROTOCOL_VERSION] === undefined) {
      end[N.ATTR_NETWORK_PROTOCOL_VERSION] = httpVersion
    }
    for (const key in end) span.attribute(key, end[key])
    const errorType = outcome.errorType
    const statusSet = errorType !== undefined && markError(span, outcome.message)
    if (options.interrupted !== true && this.recorder !== undefined) {
      const endMillis = options.endMillis ?? nowMillis()
      this.recorder.histogram(durationMetric[this.side]).record(
        (endMillis - this.startedAt) / 1000,
        operationSetOf(this.peer, this.attributes, end),
        span,
        endMillis
      )
    }
    if (this.merged) return
    const exit: Exit.Exit<unknown, unknown> = options.interrupted === true
      ? Exit.interrupt()
      : errorType !== undefined && !statusSet
      ? Exit.fail(new McpOperationError(errorType, outcome.message))
      : Exit.void
    span.end(options.endTime ?? this.clock.currentTimeNanosUnsafe(), exit)
  }

  /** Effect nanoseconds now, on this operation's clock. */
  now(): bigint {
    return this.clock.currentTimeNanosUnsafe()
  }
}

/**
 * The spans whose context this process is sending in `_meta` right now, by span id. A server in the
 * same process (an agent that embeds its MCP servers, a test) takes the span itself as its parent:
 * one trace, printed as one tree, instead of a "remote" parent that is not remote.
 */
const sending = new Map<string, Tracer.AnySpan>()

/** Notes that `span`'s context is being sent; the function returned forgets it. */
export const sendingContextOf = (span: Tracer.AnySpan): () => void => {
  if (sending.size >= 10_000 || span.spanId === "") return () => {}
  sending.set(span.spanId, span)
  return () => {
    if (sending.get(span.spanId) === span) sending.delete(span.spanId)
  }
}

/** The parent a span takes from a remote context: ids, flags and `tracestate`. */
export const remoteParent = (context: Otel.Context): Tracer.AnySpan | undefined => {
  const remote = Wire.remoteSpanContext(context)
  if (remote === undefined) return undefined
  const local = sending.get(remote.spanId)
  if (local !== undefined && local.traceId === remote.traceId) return local
  return OtelTracer.makeExternalSpan({
    traceId: remote.traceId,
    spanId: remote.spanId,
    traceFlags: remote.traceFlags,
    traceState: remote.traceState
  })
}

/** The current span of the fiber, if any. */
export const currentSpan = (context: Context.Context<never>): Tracer.AnySpan | undefined =>
  Context.getOrUndefined(context, Tracer.ParentSpan)

/** The parent a span started with `parent` gets: that span, none (`"root"`), or the fiber's current one. */
const parentOf = (
  fiber: Fiber.Fiber<unknown, unknown>,
  parent: Tracer.AnySpan | "root" | undefined
): Tracer.AnySpan | undefined => parent === "root" ? undefined : parent ?? currentSpan(fiber.context)

/** Whether a child of `parent` is sampled out for sure (Effect skips a parent that disables propagation). */
const sampledOut = (parent: Tracer.AnySpan | undefined): boolean =>
  parent !== undefined && parent.sampled === false && !Context.get(parent.annotations, Tracer.DisablePropagation)

/**
 * Starts an MCP operation's span: `{mcp.method.name} {target}`, CLIENT or SERVER, with the start
 * attributes set as it starts (where a sampler sees them). `parent`: the remote parent a server
 * extracted (`"root"` for none: a request without context starts a new trace), or nothing for the
 * fiber's current span. With `mergeInto`, no span is made: the MCP attributes go on that span.
 */
export const start = (options: {
  readonly operation: Wire.Operation
  readonly side: Side
  readonly peer: Wire.Peer
  readonly session: { readonly sessionId: string | undefined; readonly protocolVersion: string | undefined }
  readonly parent?: Tracer.AnySpan | "root" | undefined
  /** Links of the span; `"current"`: a link to the fiber's current span, when there is one. */
  readonly links?: ReadonlyArray<Tracer.SpanLink> | "current" | undefined
  readonly mergeInto?: Tracer.Span | undefined
}): Effect.Effect<OpenSpan> =>
  Effect.withFiber((fiber) => {
    const settings = fiber.getRef(Settings)
    const recorder = fiber.getRef(CurrentRecorder)
    const clock = fiber.getRef(Clock.Clock)
    const attributes = Wire.startAttributes(options.operation, options.peer, options.session, settings)
    const startedAt = nowMillis()
    const merge = options.mergeInto
    if (merge !== undefined) {
      // The execute_tool span records its own arguments and result, by the same content settings.
      for (const key in attributes) {
        if (key !== N.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS) merge.attribute(key, attributes[key])
      }
      return Effect.succeed(
        new OpenSpan(
          merge,
          options.operation,
          options.side,
          true,
          attributes,
          settings,
          recorder,
          clock,
          startedAt,
          options.peer
        )
      )
    }
    const tracer = fiber.getRef(Tracer.Tracer)
    let links = options.links
    if (links === "current") {
      const current = currentSpan(fiber.context)
      links = current !== undefined ? [{ span: current, attributes: {} }] : undefined
    }
    const spanOptions: Tracer.SpanOptionsNoTrace = {
      kind: options.side,
      ...(options.parent === "root" ? { root: true } : options.parent !== undefined ? { parent: options.parent } : {}),
      ...(links !== undefined && links.length > 0 ? { links } : {}),
      // Under a sampled-out parent Effect makes the span sampled out too: no attributes to hand over.
      ...(sampledOut(parentOf(fiber, options.parent))
        ? {}
        : isLibraryTracer(tracer)
        ? { annotations: Context.make(StartAttributes, toAttributes(attributes)) }
        : { attributes })
    }
    return Effect.map(
      Effect.makeSpan(options.operation.spanName, spanOptions),
      (span) =>
        new OpenSpan(
          span,
          options.operation,
          options.side,
          false,
          attributes,
          settings,
          recorder,
          clock,
          startedAt,
          options.peer
        )
    )
  })
