/**
 * Registers the tracer provider, an async context manager and the propagators with the global
 * OpenTelemetry API, so that libraries instrumented through OTel (the undici/fetch
 * instrumentation, LLM SDKs' own OTel support) find them: their spans join the Effect trace, and
 * Effect spans started inside their callbacks join theirs.
 *
 * Each piece is registered only when nobody registered one before (an application's own
 * `NodeSDK`, say, keeps its own), and only what was registered here is unregistered on release.
 */
import * as Platform from "#platform"
import * as Otel from "@opentelemetry/api"
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core"
import type { PropagatorName } from "./config.ts"

/** Whether an OTel context manager is installed; without one, `context.with` does nothing. */
export const hasContextManager = (): boolean => {
  const probe = Otel.createContextKey("beluga-o11y/probe")
  return Otel.context.with(
    Otel.ROOT_CONTEXT.setValue(probe, true),
    () => Otel.context.active().getValue(probe) === true
  )
}

export const makePropagator = (names: ReadonlyArray<PropagatorName>): Otel.TextMapPropagator =>
  new CompositePropagator({
    propagators: names.map((name) => name === "baggage" ? new W3CBaggagePropagator() : new W3CTraceContextPropagator())
  })

/**
 * The version of the `@opentelemetry/api` registered globally, when it is not this library's own
 * copy. Copies of the API share one global registry, keyed by major version, that only accepts
 * registrations from the version that created it; a second copy's registrations fail (silently,
 * to `diag`), and instrumentations bound to the other copy lose their spans.
 */
export const foreignApiVersion = (): { readonly registered: string; readonly own: string } | undefined => {
  const own = Platform.ownApiVersion()
  if (own === undefined) return undefined
  const registry = (globalThis as Record<symbol, { readonly version?: unknown } | undefined>)[
    Symbol.for(`opentelemetry.js.api.${own.split(".")[0]}`)
  ]
  const registered = registry?.version
  return typeof registered === "string" && registered !== own ? { registered, own } : undefined
}

/** The one warning a second copy of the API deserves. */
export const foreignApiWarning = (versions: { readonly registered: string; readonly own: string }): string =>
  `@opentelemetry/api ${versions.registered} is registered globally, but beluga-o11y loaded its own copy, ` +
  `${versions.own}: registrations across copies fail, so spans of OTel-instrumented libraries bound to the ` +
  `other copy will not join these traces. Install one copy (\`npm ls @opentelemetry/api\`; it is a peer ` +
  `dependency of beluga-o11y).`

/**
 * Registers what is missing; returns the function that undoes exactly that. A second copy of the
 * OTel API already registered is reported through `warn`. The platform's context manager is
 * registered as `wrap` makes it (the Effect tracer's, which reads the running fiber).
 */
export const register = (
  provider: Otel.TracerProvider,
  propagators: ReadonlyArray<PropagatorName>,
  warn: (message: string) => void = () => {},
  wrap: (manager: Otel.ContextManager) => Otel.ContextManager = (manager) => manager
): () => void => {
  const foreign = foreignApiVersion()
  if (foreign !== undefined) warn(foreignApiWarning(foreign))
  const undo: Array<() => void> = []
  // setGlobal* refuse (returning false) when something is registered already.
  if (Otel.trace.setGlobalTracerProvider(provider)) undo.push(() => Otel.trace.disable())
  const platform = hasContextManager() ? undefined : Platform.contextManager()
  const manager = platform !== undefined ? wrap(platform) : undefined
  if (manager !== undefined) {
    if (Otel.context.setGlobalContextManager(manager.enable())) undo.push(() => Otel.context.disable())
    else manager.disable()
  }
  if (propagators.length > 0 && Otel.propagation.setGlobalPropagator(makePropagator(propagators))) {
    undo.push(() => Otel.propagation.disable())
  }
  return () => {
    for (const step of undo.toReversed()) step()
  }
}
