/**
 * The tracing core: the OTel tracer provider with the library's own span processors ahead of the
 * exporting ones, the sampler, and the two tracers on top of it — `OtelTracer` for code that uses
 * the OTel API, and the Effect tracer that every `Effect.withSpan` goes through. Every span,
 * whichever tracer starts it, is recorded by a `SpanSource` (see `spanRecord.ts`).
 */
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import * as Resource from "@effect/opentelemetry/Resource"
import type * as Otel from "@opentelemetry/api"
import type { InstrumentationScope } from "@opentelemetry/core"
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler
} from "@opentelemetry/sdk-trace"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Tracer from "effect/Tracer"
import { AgentProcessor, type CostMeter, type PriceTable } from "./agentProcessor.ts"
import type { Settings } from "./config.ts"
import * as EffectTracer from "./effectTracer.ts"
import { register } from "./global.ts"
import { type Redact, RedactionProcessor } from "./redaction.ts"
import { LIBRARY_NAME, SCHEMA_URL_GEN_AI_LATEST } from "./semconv.ts"
import { bounded, type Policy } from "./shutdown.ts"
import { RecordTracer, SpanSource } from "./spanRecord.ts"
import type { SpanPipeline } from "./tracePipeline.ts"
import { version } from "./version.ts"

/** What the provider is built with, besides the settings and the span pipeline. */
export interface TracerOptions {
  /** Flushing at release, and where the registration's and shutdown's messages go. */
  readonly shutdown: Policy
  /** Register with the global OTel API (see `Options.registerGlobal`). */
  readonly registerGlobal?: boolean | undefined
  /** See `Options.prices` and `Options.redact`. */
  readonly prices?: PriceTable | undefined
  /** Where each inference's cost becomes a `gen_ai.client.operation.cost` point, while metrics run. */
  readonly costMeter?: CostMeter | undefined
  readonly redact?: Redact | undefined
  /** Leave out the agent processor (identity, roll-ups, cost): for the benchmark that measures it. */
  readonly withoutAgentProcessor?: boolean | undefined
}

/**
 * The OTel tracer provider, and Effect's `Tracer` replaced by one that records into it. Release
 * flushes the spans within the shutdown bound, then undoes the global registration.
 */
export const layer = (
  settings: Settings,
  spans: SpanPipeline,
  options: TracerOptions
): Layer.Layer<OtelTracer.OtelTracer, never, Resource.Resource> =>
  effectTracer(settings).pipe(
    Layer.provideMerge(otelTracer(settings)),
    Layer.provide(layerTracerProvider(settings, spans, options))
  )

/**
 * The provider owns the processors' flush and shutdown; every span, the Effect tracer's and those
 * OTel-instrumented libraries and `OtelTracer` users start through it, is recorded by a
 * `SpanSource` with its sampler, processors and limits.
 */
const layerTracerProvider = (
  settings: Settings,
  spans: SpanPipeline,
  options: TracerOptions
): Layer.Layer<OtelTracer.OtelTracerProvider, never, Resource.Resource> =>
  Layer.effect(
    OtelTracer.OtelTracerProvider,
    Effect.gen(function*() {
      const resource = yield* Resource.Resource
      const sampler = makeSampler(settings)
      const parentDecides = followsParent(settings)
      // Agent roll-ups and cost, then redaction, then the exporters: each sees the one before done.
      const spanProcessors = [
        ...(options.withoutAgentProcessor === true ? [] : [new AgentProcessor(options.prices, options.costMeter)]),
        ...(options.redact !== undefined ? [new RedactionProcessor(options.redact)] : []),
        ...spans.processors
      ]
      const spanLimits = settings.attributeValueLengthLimit !== undefined
        ? { attributeValueLengthLimit: settings.attributeValueLengthLimit }
        : {}
      // One tracer per scope, as the SDK keeps them: the Effect tracer and `OtelTracer` share this
      // library's, so their spans go out under one scope.
      const tracers = new Map<string, RecordTracer>()
      const tracerFor = (name: string, scopeVersion?: string, schemaUrl?: string): RecordTracer => {
        const key = `${name}@${scopeVersion ?? ""}:${schemaUrl ?? ""}`
        let tracer = tracers.get(key)
        if (tracer === undefined) {
          const scope: InstrumentationScope = {
            name,
            ...(scopeVersion !== undefined ? { version: scopeVersion } : {}),
            ...(schemaUrl !== undefined ? { schemaUrl } : {})
          }
          tracer = new RecordTracer(
            new SpanSource(resource, scope, sampler, parentDecides, spanProcessors, spanLimits)
          )
          tracers.set(key, tracer)
        }
        return tracer
      }
      return yield* Effect.acquireRelease(
        Effect.sync(() => {
          const provider = new RecordingTracerProvider(spanProcessors, tracerFor)
          const unregister = options.registerGlobal === true
            ? register(
              provider,
              settings.propagators,
              options.shutdown.warn,
              (manager) => new EffectTracer.FiberContextManager(manager)
            )
            : () => {}
          return { provider, unregister }
        }),
        ({ provider, unregister }) =>
          Effect.ensuring(flushSpans(provider, spans, options.shutdown), Effect.sync(unregister))
      ).pipe(Effect.map(({ provider }) => provider))
    })
  )

/**
 * Spans carry this library's name and version as their instrumentation scope. Made per tracing
 * layer: layers are memoized by identity, so one shared value would hand a second tracing layer
 * built in the same memo map the first one's tracer.
 */
const otelTracer = (settings: Settings): Layer.Layer<OtelTracer.OtelTracer, never, OtelTracer.OtelTracerProvider> =>
  Layer.effect(
    OtelTracer.OtelTracer,
    Effect.map(Effect.service(OtelTracer.OtelTracerProvider), (provider) => libraryTracer(provider, settings))
  )

/** The tracer of this library's scope; under the newest names, with their schema URL. */
const libraryTracer = (provider: Otel.TracerProvider, settings: Settings): Otel.Tracer =>
  provider.getTracer(
    LIBRARY_NAME,
    version,
    settings.genai.latestNames === true ? { schemaUrl: SCHEMA_URL_GEN_AI_LATEST } : undefined
  )

/** Effect's tracer, recording through the provider's tracer for this library's scope. */
const effectTracer = (settings: Settings): Layer.Layer<never, never, OtelTracer.OtelTracerProvider> =>
  Layer.effect(
    Tracer.Tracer,
    // Made once the provider is up: it registers the context manager the tracer looks for.
    Effect.map(
      Effect.service(OtelTracer.OtelTracerProvider),
      // The provider is the `RecordingTracerProvider` of `layerTracerProvider`: its tracers record.
      (provider) =>
        EffectTracer.make((libraryTracer(provider, settings) as RecordTracer).source, {
          unsampledChildren: unsampledChildren(settings),
          neverSampled: settings.disabled || settings.sampler === "always_off"
        })
    )
  )

/**
 * A tracer provider whose tracers record into the library's span record, and which flushes and
 * shuts down the span processors. The SDK's `BasicTracerProvider` would bring its own tracer and
 * span classes along, which no span here goes through: a worker's bundle carries only what runs.
 * Registration with the global API is `global.ts`'s, for every runtime.
 */
class RecordingTracerProvider implements Otel.TracerProvider {
  private stopped: Promise<void> | undefined

  constructor(
    private readonly spanProcessors: ReadonlyArray<SpanProcessor>,
    private readonly tracerFor: (name: string, version?: string, schemaUrl?: string) => RecordTracer
  ) {}

  getTracer(name: string, scopeVersion?: string, options?: Otel.TracerOptions): Otel.Tracer {
    return this.tracerFor(name, scopeVersion, options?.schemaUrl)
  }

  forceFlush(): Promise<void> {
    return Promise.all(this.spanProcessors.map((processor) => processor.forceFlush())).then(() => {})
  }

  /** Once: a second call waits on the first. */
  shutdown(): Promise<void> {
    this.stopped ??= Promise.all(this.spanProcessors.map((processor) => processor.shutdown())).then(() => {})
    return this.stopped
  }
}

/**
 * Flush, then shut down, within the bound. Spans that ended before this point are in the batch
 * queue and go out with the flush.
 */
const flushSpans = (provider: RecordingTracerProvider, spans: SpanPipeline, policy: Policy) =>
  bounded(
    () => {
      spans.beginShutdown?.()
      return provider.forceFlush().then(() => provider.shutdown()).catch(() => provider.shutdown())
    },
    policy,
    {
      doing: "flushing spans",
      unit: "span",
      where: "in flight or queued",
      abort: () => spans.abort?.() ?? 0,
      stats: spans.stats
    }
  )

/** These samplers take a valid parent's decision: a child's is read off its parent. */
const followsParent = (settings: Settings): boolean => !settings.disabled && settings.sampler.startsWith("parentbased_")

/** A child of an unsampled span is never sampled with these: it need not be made at all. */
const unsampledChildren = (settings: Settings): boolean =>
  followsParent(settings) || settings.disabled || settings.sampler === "always_off"

const makeSampler = (settings: Settings): Sampler => {
  if (settings.disabled) return new AlwaysOffSampler()
  const ratio = () => new TraceIdRatioBasedSampler(settings.samplerRatio)
  switch (settings.sampler) {
    case "always_on":
      return new AlwaysOnSampler()
    case "always_off":
      return new AlwaysOffSampler()
    case "traceidratio":
      return ratio()
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratio() })
  }
}
