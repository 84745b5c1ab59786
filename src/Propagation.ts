/**
 * Distributed tracing over HTTP: one trace across services, with W3C Trace Context
 * (`traceparent`, `tracestate`) and W3C Baggage (`baggage`).
 *
 * Effect's own HTTP modules already propagate part of the context: `HttpClient` sends `traceparent`
 * and `b3` for its client span, and the server tracer (`HttpMiddleware.tracer`, applied by
 * `HttpServer.serve`) continues a `traceparent` or `b3` it receives. They carry no `tracestate`
 * (vendor data that must travel with the trace, e.g. a sampling decision) and no `baggage`, and
 * they ignore `OTEL_PROPAGATORS`. This module fills those gaps through the OpenTelemetry propagator
 * API (by default the global propagator that `Tracing.layer` registers from `OTEL_PROPAGATORS`):
 *
 * - {@link client}: an `HttpClient` whose requests also carry `tracestate` and, to the hosts you
 *   allow, `baggage`.
 * - {@link serve} (or {@link server} with {@link layerServer}): a server whose request span
 *   continues the caller's trace with its trace flags and `tracestate`, and whose handlers see the
 *   caller's baggage through {@link currentBaggage}.
 * - {@link withBaggage}: baggage set from Effect code, for the calls made inside.
 *
 * @example
 * ```ts
 * import { Propagation } from "beluga-o11y"
 * import { FetchHttpClient, HttpClient } from "effect/http"
 *
 * // Agent side: every request carries traceparent + tracestate; baggage only to the tool service.
 * const ToolClient = Propagation.layerClient({ baggageAllowList: ["tools.internal:8080"] }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * const callTool = Effect.gen(function*() {
 *   const http = yield* HttpClient.HttpClient
 *   return yield* http.post("http://tools.internal:8080/search")
 * }).pipe(Propagation.withBaggage({ "tenant.id": "acme" }))
 *
 * // Tool side: the server span continues the agent's trace.
 * const ToolServer = Propagation.serve(handler, { baggageAttributes: ["tenant.id"] }).pipe(
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 8080 }))
 * )
 * ```
 *
 * **Baggage is a data-leak risk.** Whatever is put in baggage is sent in clear text, as an HTTP
 * header, with every outgoing request to a host that receives it, and every service it reaches
 * may log it or pass it on. So by default no request carries baggage: a host receives it only
 * when {@link ClientOptions.baggageAllowList} names it. Baggage never becomes a span attribute
 * unless {@link ServerOptions.baggageAttributes} lists the key. Incoming baggage is untrusted
 * input (any caller can send any value); it is available to handlers but is not put into the
 * OpenTelemetry context, so OTel-instrumented libraries (which inject into every request they
 * make, whatever the host) cannot forward it. An allowed host that answers with a redirect to
 * another host gets the baggage forwarded by `fetch`, which strips only credentials on a
 * cross-origin redirect: allow only hosts you trust not to redirect elsewhere.
 *
 * @since 0.1.0
 */
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import * as Otel from "@opentelemetry/api"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpMiddleware from "effect/http/HttpMiddleware"
import * as HttpServer from "effect/http/HttpServer"
import { HttpServerRequest } from "effect/http/HttpServerRequest"
import type { HttpServerResponse } from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import { spanContextOf } from "./internal/effectTracer.ts"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * What this module needs of a propagator: the OpenTelemetry `TextMapPropagator` methods. The
 * global `propagation` API object of `@opentelemetry/api` is one (it delegates to the registered
 * propagator); so are `W3CTraceContextPropagator`, `W3CBaggagePropagator` and
 * `CompositePropagator` from `@opentelemetry/core`.
 *
 * @since 0.1.0
 * @category models
 */
export type Propagator = Pick<Otel.TextMapPropagator, "inject" | "extract" | "fields">

/**
 * Baggage entries: names to values, as `baggage` carries them (metadata is not kept).
 *
 * @since 0.1.0
 * @category models
 */
export type BaggageEntries = Readonly<Record<string, string>>

/**
 * Options for {@link client}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions {
  /**
   * The propagator that writes `tracestate` and `baggage`. Default: the global one
   * (`propagation` from `@opentelemetry/api`), which `Tracing.layer` registers from
   * `OTEL_PROPAGATORS` (`tracecontext,baggage` unless set). With nothing registered (the layer's
   * `registerGlobal: false`, or `OTEL_PROPAGATORS=none`) nothing is added to Effect's own
   * `traceparent` and `b3`.
   */
  readonly propagator?: Propagator | undefined
  /**
   * Which requests may carry `baggage`. Default: none. Each string names a destination:
   * - an origin, `https://tools.internal:8443` (scheme, host and port must match);
   * - a host and port, `tools.internal:8080` or `127.0.0.1:4000` (a missing port in the URL
   *   counts as 80 or 443);
   * - a host name, `tools.internal` (any port, any scheme);
   * - a domain wildcard, `*.internal` (sub-domains of `internal`, not `internal` itself).
   *
   * Or a predicate on the request URL. A request whose URL is not absolute when this client sees
   * it (a base URL prepended later) never carries baggage.
   */
  readonly baggageAllowList?: ReadonlyArray<string> | ((url: URL) => boolean) | undefined
}

/**
 * Options for {@link server} and {@link serve}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerOptions {
  /**
   * The propagator that reads `traceparent`, `tracestate` and `baggage`. Default: the global one
   * (see {@link ClientOptions.propagator}). With nothing registered every request starts a new
   * trace.
   */
  readonly propagator?: Propagator | undefined
  /**
   * Baggage keys to record on the request's server span, as attributes named after the key.
   * Default: none — baggage is never recorded unless listed here. Values come from the caller
   * and are untrusted.
   */
  readonly baggageAttributes?: ReadonlyArray<string> | undefined
  /**
   * Make incoming baggage available to handlers ({@link currentBaggage}) and to the calls they
   * make to allowed hosts. Default true; set false on a server that faces untrusted callers.
   */
  readonly acceptBaggage?: boolean | undefined
}

/**
 * The longest `tracestate` or `baggage` header read, in characters; a longer one is ignored as a
 * whole. W3C asks that at least 512 characters of `tracestate` and 8192 bytes of `baggage` be
 * propagated; anything beyond is not required, and parsing it only costs time.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxHeaderLength = 8192

// -----------------------------------------------------------------------------
// Baggage on the Effect side
// -----------------------------------------------------------------------------

/**
 * The baggage of the current fiber, set with {@link withBaggage} or received by {@link server}.
 *
 * @since 0.1.0
 * @category references
 */
export const Baggage: Context.Reference<BaggageEntries> = Context.Reference<BaggageEntries>(
  "beluga-o11y/Propagation/Baggage",
  { defaultValue: () => ({}) }
)

/**
 * Runs an effect with these baggage entries added (over the current ones). Calls made inside
 * through a {@link client} send them to the allowed hosts.
 *
 * @example
 * ```ts
 * callTool.pipe(Propagation.withBaggage({ "tenant.id": "acme", "request.priority": "high" }))
 * ```
 *
 * @since 0.1.0
 * @category baggage
 */
export const withBaggage: {
  (entries: BaggageEntries): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, entries: BaggageEntries): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, entries: BaggageEntries): Effect.Effect<A, E, R> =>
    Effect.updateService(self, Baggage, (current) => ({ ...current, ...entries }))
)

/**
 * The current baggage: entries in the active OpenTelemetry context (set by OTel code around the
 * Effect program), overridden by those on the Effect side ({@link withBaggage}, or what
 * {@link server} received).
 *
 * @since 0.1.0
 * @category baggage
 */
export const currentBaggage: Effect.Effect<BaggageEntries> = Effect.withFiber((fiber) =>
  Effect.succeed({ ...entriesOf(Otel.propagation.getBaggage(Otel.context.active())), ...fiber.getRef(Baggage) })
)

const entriesOf = (baggage: Otel.Baggage | undefined): Record<string, string> =>
  baggage === undefined
    ? {}
    : Object.fromEntries(baggage.getAllEntries().map(([key, entry]) => [key, entry.value]))

// -----------------------------------------------------------------------------
// Client
// -----------------------------------------------------------------------------

/**
 * An `HttpClient` whose requests carry the full trace context of the current span and, to the
 * allowed hosts only, the current baggage.
 *
 * Effect's client still writes `traceparent` (and `b3`) for its own client span; this adds what
 * the propagator writes besides: `tracestate` (the trace's vendor state — the client span has the
 * state of the span it is started in, which is read here) and `baggage`. Nothing is added when
 * Effect's trace propagation is off for the request (`HttpClient.TracerPropagationEnabled`,
 * `HttpClient.TracerDisabledWhen`, `Tracer.DisablePropagation`), except baggage, which depends only
 * on {@link ClientOptions.baggageAllowList}. Headers already set on a request are not replaced.
 * Apply it after any transform that makes the URL absolute.
 *
 * @example
 * ```ts
 * const client = (yield* HttpClient.HttpClient).pipe(
 *   Propagation.client({ baggageAllowList: ["127.0.0.1:4000"] })
 * )
 * ```
 *
 * @since 0.1.0
 * @category client
 */
export const client: {
  (options?: ClientOptions): <E, R>(self: HttpClient.HttpClient.With<E, R>) => HttpClient.HttpClient.With<E, R>
  <E, R>(self: HttpClient.HttpClient.With<E, R>, options?: ClientOptions): HttpClient.HttpClient.With<E, R>
} = dual(
  (args) => HttpClient.isHttpClient(args[0]),
  <E, R>(self: HttpClient.HttpClient.With<E, R>, options: ClientOptions = {}): HttpClient.HttpClient.With<E, R> => {
    const allowed = baggageAllowed(options.baggageAllowList)
    return HttpClient.mapRequestEffect(self, (request) =>
      Effect.withFiber((fiber) =>
        Effect.succeed(
          addContext(request, {
            propagator: options.propagator ?? Otel.propagation,
            span: propagatedSpan(fiber.context),
            traceContext: fiber.getRef(HttpClient.TracerPropagationEnabled) &&
              !fiber.getRef(Tracer.DisablePropagation) &&
              !fiber.getRef(HttpClient.TracerDisabledWhen)(request),
            baggage: allowed(request.url)
              ? { ...entriesOf(Otel.propagation.getBaggage(Otel.context.active())), ...fiber.getRef(Baggage) }
              : undefined
          })
        )
      ))
  }
)

/**
 * Replaces the `HttpClient` in context with a {@link client} over it.
 *
 * @example
 * ```ts
 * const HttpLive = Propagation.layerClient({ baggageAllowList: ["tools.internal"] }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category client
 */
export const layerClient = (
  options: ClientOptions = {}
): Layer.Layer<HttpClient.HttpClient, never, HttpClient.HttpClient> =>
  Layer.effect(HttpClient.HttpClient, Effect.map(Effect.service(HttpClient.HttpClient), client(options)))

const addContext = (
  request: HttpClientRequest.HttpClientRequest,
  { baggage, propagator, span, traceContext }: {
    readonly propagator: Propagator
    readonly span: Tracer.AnySpan | undefined
    readonly traceContext: boolean
    readonly baggage: BaggageEntries | undefined
  }
): HttpClientRequest.HttpClientRequest => {
  const sendTrace = traceContext && span !== undefined
  const sendBaggage = baggage !== undefined && Object.keys(baggage).length > 0
  if (!sendTrace && !sendBaggage) return request
  let context = Otel.ROOT_CONTEXT
  if (sendTrace) context = Otel.trace.setSpanContext(context, spanContextOf(span))
  if (sendBaggage) {
    context = Otel.propagation.setBaggage(
      context,
      Otel.propagation.createBaggage(Object.fromEntries(Object.entries(baggage).map(([k, value]) => [k, { value }])))
    )
  }
  const carrier: Record<string, string> = {}
  try {
    propagator.inject(context, carrier, Otel.defaultTextMapSetter)
  } catch {
    // A third-party propagator that throws must not fail the request.
    return request
  }
  // `traceparent` (and `b3`) come from Effect's client, for its client span; only the rest is taken.
  const add: Record<string, string> = {}
  if (sendTrace && carrier.tracestate !== undefined && carrier.tracestate !== "") add.tracestate = carrier.tracestate
  if (sendBaggage && carrier.baggage !== undefined && carrier.baggage !== "") add.baggage = carrier.baggage
  for (const key in add) {
    if (request.headers[key] === undefined) request = HttpClientRequest.setHeader(request, key, add[key]!)
  }
  return request
}

/** The span whose context propagates: the current one, skipping spans marked `DisablePropagation`. */
const propagatedSpan = (context: Context.Context<never>): Tracer.AnySpan | undefined => {
  let span = Context.getOrUndefined(context, Tracer.ParentSpan)
  while (span !== undefined && Context.get(span.annotations, Tracer.DisablePropagation)) {
    span = span._tag === "Span" && span.parent._tag === "Some" ? span.parent.value : undefined
  }
  return span
}

/** Compiles the allow-list into a test on a request URL. */
const baggageAllowed = (list: ClientOptions["baggageAllowList"]): (url: string) => boolean => {
  if (list === undefined) return () => false
  if (typeof list === "function") {
    return (url) => {
      const parsed = parseUrl(url)
      if (parsed === undefined) return false
      try {
        return list(parsed) === true
      } catch {
        return false
      }
    }
  }
  if (list.length === 0) return () => false
  const tests = list.map(destination)
  return (url) => {
    const parsed = parseUrl(url)
    return parsed !== undefined && tests.some((test) => test(parsed))
  }
}

const parseUrl = (url: string): URL | undefined => {
  try {
    const parsed = new URL(url)
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed : undefined
  } catch {
    return undefined
  }
}

const defaultPort = (url: URL) => url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80"

const destination = (entry: string): (url: URL) => boolean => {
  const spec = entry.trim().toLowerCase()
  if (spec === "") return () => false
  if (spec.includes("://")) {
    const origin = parseUrl(spec)?.origin
    return (url) => origin !== undefined && url.origin === origin
  }
  if (spec.startsWith("*.")) {
    const suffix = spec.slice(1)
    return (url) => url.hostname.endsWith(suffix) && url.hostname.length > suffix.length
  }
  const port = /^(.*):(\d+)$/.exec(spec)
  if (port !== null && !port[1]!.endsWith(":")) {
    const [, host, number] = port
    return (url) => url.hostname === host && defaultPort(url) === String(Number(number))
  }
  return (url) => url.hostname === spec
}

// -----------------------------------------------------------------------------
// Server
// -----------------------------------------------------------------------------

/** The headers Effect's server tracer reads a parent from, hidden from it (see {@link server}). */
const effectTraceHeaders = ["traceparent", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-flags"]

/** Reads a carrier of Effect `Headers` (lower-case names), ignoring oversized values. */
const boundedGetter: Otel.TextMapGetter<Headers.Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key.toLowerCase()]
    return typeof value === "string" && value.length <= maxHeaderLength ? value : undefined
  }
}

/** The caller's context; hostile or broken headers (or a throwing propagator) give the empty one. */
const extract = (propagator: Propagator, headers: Headers.Headers): Otel.Context => {
  try {
    return propagator.extract(Otel.ROOT_CONTEXT, headers, boundedGetter)
  } catch {
    return Otel.ROOT_CONTEXT
  }
}

/** The parent for the server span: the caller's span, remote, with its flags and state. */
const remoteParent = (context: Otel.Context): Tracer.ExternalSpan | undefined => {
  const remote = Otel.trace.getSpanContext(context)
  if (remote === undefined || !Otel.trace.isSpanContextValid(remote)) return undefined
  return OtelTracer.makeExternalSpan({
    traceId: remote.traceId,
    spanId: remote.spanId,
    traceFlags: remote.traceFlags,
    traceState: remote.traceState
  })
}

const userPredicate = Symbol.for("beluga-o11y/Propagation/TracerDisabledWhen")
type Predicate = (request: HttpServerRequest) => boolean
type Marked = Predicate & { readonly [userPredicate]: Predicate }

/** The user's own `TracerDisabledWhen`, when {@link layerServer} replaced it; else undefined. */
const replacedPredicate = (predicate: Predicate): Predicate | undefined => (predicate as Partial<Marked>)[userPredicate]

/**
 * Disables Effect's built-in server span (`HttpServer.serve` always wraps the app in
 * `HttpMiddleware.tracer`, before any middleware of yours runs), so that {@link server} can make it
 * instead, with the right parent. The `HttpMiddleware.TracerDisabledWhen` in force where this
 * layer is built is kept and still applies. Provide it to the `HttpServer.serve` /
 * `HttpRouter.serve` layer; {@link serve} does both.
 *
 * @since 0.1.0
 * @category server
 */
export const layerServer: Layer.Layer<never> = Layer.effect(
  HttpMiddleware.TracerDisabledWhen,
  Effect.map(Effect.service(HttpMiddleware.TracerDisabledWhen), (previous): Predicate => {
    const user = replacedPredicate(previous) ?? previous
    return Object.assign((_: HttpServerRequest) => true, { [userPredicate]: user })
  })
)

/**
 * Server middleware: the request's server span continues the caller's trace as the propagator
 * reads it (`traceparent` with its flags, and `tracestate`), and the caller's baggage is available
 * to the handler.
 *
 * Why not Effect's server span: `HttpMiddleware.tracer` decodes `traceparent`/`b3` itself into a
 * parent with only ids and a sampled bit, so the `tracestate` (and any other flag) is lost before
 * any middleware runs, and `OTEL_PROPAGATORS` is ignored. So with {@link layerServer} in place,
 * this middleware extracts the caller's context with the OpenTelemetry propagator, makes it the
 * parent span (`OtelTracer.makeExternalSpan`: ids, flags and state), and runs Effect's own
 * `HttpMiddleware.tracer` with the trace headers hidden from it, so the span it makes — same
 * name, attributes and status rules as always — takes that parent; the handler sees the request
 * unchanged. A request whose headers do not hold a valid context (a malformed, hostile or
 * oversized `traceparent`) starts a new trace. Without {@link layerServer} Effect's span stays as
 * it is and only baggage is handled.
 *
 * @example
 * ```ts
 * HttpRouter.serve(routes, { middleware: Propagation.server() }).pipe(
 *   Layer.provide(Propagation.layerServer),
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 8080 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category server
 */
export const server = (options: ServerOptions = {}) =>
<E, R>(
  app: Effect.Effect<HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse, E, R | HttpServerRequest> =>
  Effect.withFiber((fiber) => {
    const request = Context.get(fiber.context as Context.Context<HttpServerRequest>, HttpServerRequest)
    const caller = extract(options.propagator ?? Otel.propagation, request.headers)
    let handler: Effect.Effect<HttpServerResponse, E, R | HttpServerRequest> = app
    if (options.acceptBaggage !== false) {
      const baggage = entriesOf(Otel.propagation.getBaggage(caller))
      const recorded = (options.baggageAttributes ?? []).filter((key) => Object.hasOwn(baggage, key))
      if (recorded.length > 0) {
        handler = Effect.andThen(
          Effect.annotateCurrentSpan(Object.fromEntries(recorded.map((key) => [key, baggage[key]]))),
          handler
        )
      }
      if (Object.keys(baggage).length > 0) handler = withBaggage(handler, baggage)
    }
    const user = replacedPredicate(fiber.getRef(HttpMiddleware.TracerDisabledWhen))
    // Without `layerServer`, Effect's tracer already made the server span: nothing more to do.
    // A request the user's `TracerDisabledWhen` excludes gets no span and no parent, as in Effect.
    if (user === undefined || user(request)) return handler
    const parent = remoteParent(caller)
    const hidden = request.modify({ headers: Headers.removeMany(request.headers, effectTraceHeaders) })
    const traced = HttpMiddleware.tracer(Effect.provideService(handler, HttpServerRequest, request)).pipe(
      Effect.provideService(HttpServerRequest, hidden),
      Effect.provideService(HttpMiddleware.TracerDisabledWhen, user)
    )
    return parent !== undefined
      ? Effect.withParentSpan(traced, parent, { captureStackTrace: false })
      : Effect.updateContext(traced, (context) => Context.omit(Tracer.ParentSpan)(context) as typeof context)
  })

/**
 * `HttpServer.serve` with {@link server} and {@link layerServer}: serves `app` on the current
 * `HttpServer`, each request's span continuing the caller's trace with its `tracestate`.
 *
 * @example
 * ```ts
 * const ToolService = Propagation.serve(app, { baggageAttributes: ["tenant.id"] }).pipe(
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category server
 */
export const serve = <E, R>(
  app: Effect.Effect<HttpServerResponse, E, R>,
  options: ServerOptions = {}
): Layer.Layer<never, never, HttpServer.HttpServer | Exclude<R, HttpServerRequest | Scope.Scope>> =>
  HttpServer.serve(server(options)(app)).pipe(Layer.provide(layerServer))
