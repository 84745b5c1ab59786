/**
 * Registers the tracer provider, an async context manager and the propagators with the global
 * OpenTelemetry API, so that libraries instrumented through OTel (the undici/fetch
 * instrumentation, LLM SDKs' own OTel support) find them: their spans join the Effect trace, and
 * Effect spans started inside their callbacks join theirs.
 *
 * Each piece is registered only when nobody registered one before (an application's own
 * `NodeSDK`, say, keeps its own), and only what was registered here is unregistered on release.
 */
import * as Otel from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
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

/** Registers what is missing; returns the function that undoes exactly that. */
export const register = (
  provider: Otel.TracerProvider,
  propagators: ReadonlyArray<PropagatorName>
): () => void => {
  const undo: Array<() => void> = []
  // setGlobal* refuse (returning false) when something is registered already.
  if (Otel.trace.setGlobalTracerProvider(provider)) undo.push(() => Otel.trace.disable())
  if (!hasContextManager()) {
    const manager = new AsyncLocalStorageContextManager().enable()
    if (Otel.context.setGlobalContextManager(manager)) undo.push(() => Otel.context.disable())
  }
  if (propagators.length > 0 && Otel.propagation.setGlobalPropagator(makePropagator(propagators))) {
    undo.push(() => Otel.propagation.disable())
  }
  return () => {
    for (const step of undo.toReversed()) step()
  }
}
