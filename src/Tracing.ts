/**
 * The tracing layer: one `Layer` that installs an OpenTelemetry tracer provider backed by an
 * OTLP/HTTP exporter and routes every Effect span (`Effect.withSpan`, `Effect.fn`, and the
 * `GenAI` / `Pipeline` combinators) into it.
 *
 * ```ts
 * import { Tracing } from "beluga-o11y"
 *
 * program.pipe(Effect.provide(Tracing.TracingLive), NodeRuntime.runMain)
 * ```
 *
 * Configuration comes from the standard `OTEL_*` variables (read through Effect `Config`), and
 * `Tracing.layer(options)` overrides any of them in code. A bad value fails the layer at start-up
 * with a {@link TracingConfigError} naming the variable, the value and what is accepted.
 *
 * @since 0.1.0
 */
import * as OtelMetrics from "@effect/opentelemetry/OtelMetrics"
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import * as Resource from "@effect/opentelemetry/Resource"
import * as Otel from "@opentelemetry/api"
import type { InstrumentationScope } from "@opentelemetry/core"
import { defaultResource, type Resource as OtelResource, resourceFromAttributes } from "@opentelemetry/resources"
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics
} from "@opentelemetry/sdk-metrics"
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler
} from "@opentelemetry/sdk-trace-base"
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Tracer from "effect/Tracer"
import * as GenAI from "./GenAI.ts"
import { AgentProcessor, type PriceTable } from "./internal/agentProcessor.ts"
import * as Config from "./internal/config.ts"
import { DeliveryReporter, type DeliveryStats, noDeliveries, Outages, redactUrl } from "./internal/exporter.ts"
import { register } from "./internal/global.ts"
import { CurrentRecorder, Recorder } from "./internal/metrics.ts"
import { CollectorError, OtlpHttpExporter, type Outcome } from "./internal/otlp.ts"
import { metricsCodec, OtlpMetricExporter } from "./internal/otlpMetrics.ts"
import { makeBatchProcessor } from "./internal/processor.ts"
import { type Redact, RedactionProcessor } from "./internal/redaction.ts"
import { RecordTracer, SpanSource } from "./internal/span.ts"
import { renderMetricsSummary, TerminalExporter, type TerminalOptions } from "./internal/terminal.ts"
import * as SdkTracer from "./internal/tracer.ts"
import { version } from "./internal/version.ts"

export {
  /**
   * Invalid tracing configuration. `variable` names the environment variable (or option),
   * `value` the value found (`<redacted>` for secrets) and `expected` what is accepted.
   *
   * @since 0.1.0
   * @category errors
   */
  TracingConfigError
} from "./internal/config.ts"

export type {
  /** @since 0.1.0 */
  BatchSettings,
  /** @since 0.1.0 */
  Compression,
  /** @since 0.1.0 */
  Protocol,
  /** @since 0.1.0 */
  SamplerName
} from "./internal/config.ts"
export type {
  /** @since 0.1.0 */
  DeliveryStats
} from "./internal/exporter.ts"
export type {
  /** @since 0.1.0 */
  TerminalOptions
} from "./internal/terminal.ts"

/**
 * Options for {@link layer}. Each one set here overrides the matching environment variable;
 * anything left out is read from the environment, then from the defaults.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `service.name`. Env: `OTEL_SERVICE_NAME`, then `service.name` in `OTEL_RESOURCE_ATTRIBUTES`. */
  readonly serviceName?: string | undefined
  /** `service.version`. Env: `service.version` in `OTEL_RESOURCE_ATTRIBUTES`. */
  readonly serviceVersion?: string | undefined
  /** Extra resource attributes, merged over `OTEL_RESOURCE_ATTRIBUTES`. */
  readonly resourceAttributes?: Readonly<Record<string, string>> | undefined
  /** Base OTLP/HTTP endpoint; `v1/traces` is appended. Env: `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly endpoint?: string | undefined
  /** Full traces URL, used as given. Env: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. */
  readonly tracesEndpoint?: string | undefined
  /** Headers sent with every export (API keys): never logged. Env: `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`. */
  readonly headers?:
    | Readonly<Record<string, string>>
    | Redacted.Redacted<Readonly<Record<string, string>>>
    | undefined
  /** Wire encoding. Env: `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`. Default `http/protobuf`. */
  readonly protocol?: Config.Protocol | undefined
  /** Env: `OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION`. Default `none`. */
  readonly compression?: Config.Compression | undefined
  /** Export request timeout, retries included. Env: `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`. Default 10 s. */
  readonly timeout?: Duration.Input | undefined
  /** Env: `OTEL_TRACES_SAMPLER`. Default `parentbased_always_on`. */
  readonly sampler?: Config.SamplerName | undefined
  /** Probability for the ratio samplers, in [0, 1]. Env: `OTEL_TRACES_SAMPLER_ARG`. */
  readonly samplerRatio?: number | undefined
  /** Batch span processor settings. Env: `OTEL_BSP_*`. */
  readonly batch?: Partial<Config.BatchSettings> | undefined
  /**
   * GenAI metrics (and Effect `Metric`s) over OTLP/HTTP, to the same collector as the spans by
   * default. `false` turns them off (env: `OTEL_METRICS_EXPORTER=none`); an object overrides the
   * `OTEL_METRIC_*` / `OTEL_EXPORTER_OTLP_METRICS_*` variables. Default on.
   */
  readonly metrics?: boolean | MetricsOptions | undefined
  /** Turn tracing into a no-op. Env: `OTEL_SDK_DISABLED`. */
  readonly disabled?: boolean | undefined
  /** Record prompts, completions and tool arguments. Env: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`. */
  readonly captureContent?: boolean | undefined
  /** Longest recorded content attribute, in characters. Env: `BELUGA_GENAI_CONTENT_MAX_LENGTH`. Default 16384. */
  readonly maxContentLength?: number | undefined
  /** Also emit deprecated GenAI names such as `gen_ai.system`. Env: `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai/dup`. */
  readonly emitLegacyAttributes?: boolean | undefined
  /** Print each finished trace as a tree in the terminal, as well as exporting it. */
  readonly printTraces?: boolean | TerminalOptions | undefined
  /**
   * Register with the global OpenTelemetry API (tracer provider, async context manager, and the
   * `OTEL_PROPAGATORS` propagators, each only if none is registered yet), so libraries
   * instrumented through OTel join Effect's traces. Default true.
   */
  readonly registerGlobal?: boolean | undefined
  /** How long release may spend flushing spans before giving up. Default 5 seconds. */
  readonly shutdownTimeout?: Duration.Input | undefined
  /** Where the one-line export warnings go. Default: standard error. */
  readonly onWarning?: ((message: string) => void) | undefined
  /**
   * Prices per provider and model (build one with `Agent.prices`): inference spans get
   * `gen_ai.usage.cost`, agent and run spans roll it up. Models not in the table get no cost.
   */
  readonly prices?: PriceTable | undefined
  /**
   * Applied to every attribute value of every span (content included) just before it ends: return
   * the value to record, or undefined to drop the attribute (see `Agent.redactMatching`,
   * `Agent.redactFields`). Nothing it removes reaches an exporter.
   */
  readonly redact?: Redact | undefined
}

/**
 * The metrics options; each overrides its variable.
 *
 * @since 0.3.0
 * @category models
 */
export interface MetricsOptions {
  /** Full metrics URL, used as given. Env: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`; else the base endpoint + `v1/metrics`. */
  readonly endpoint?: string | undefined
  /** Between two exports. Env: `OTEL_METRIC_EXPORT_INTERVAL`. Default 60 s; the last export happens at shutdown. */
  readonly exportInterval?: Duration.Input | undefined
  /** One collection and export. Env: `OTEL_METRIC_EXPORT_TIMEOUT`. Default 30 s, at most the interval. */
  readonly exportTimeout?: Duration.Input | undefined
  /** Env: `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`. Default `cumulative`. */
  readonly temporality?: Config.TemporalityPreference | undefined
  /** Which measurements may carry an exemplar. Env: `OTEL_METRICS_EXEMPLAR_FILTER`. Default `trace_based`. */
  readonly exemplarFilter?: Config.ExemplarFilter | undefined
}

/**
 * How span delivery to the collector is going: spans exported and lost so far.
 *
 * @since 0.1.0
 * @category services
 */
export class Delivery extends Context.Service<Delivery, {
  readonly stats: Effect.Effect<DeliveryStats>
  /**
   * The same counts for metric data points (`exportedSpans` counts points there); all zero when
   * metrics are off.
   */
  readonly metricStats: Effect.Effect<DeliveryStats>
}>()("beluga-o11y/Tracing/Delivery") {}

/**
 * What {@link layer} provides: the OTel tracer and resource (for code that wants to use the
 * OTel API directly) and {@link Delivery}. Effect's own `Tracer` is replaced as well.
 *
 * @since 0.1.0
 * @category models
 */
export type Provides = OtelTracer.OtelTracer | Resource.Resource | Delivery

const defaultShutdownTimeout = Duration.seconds(5)
const stderrWarning = (message: string) => {
  process.stderr.write(`${message}\n`)
}

/**
 * Tracing with explicit options that override the environment.
 *
 * @example
 * ```ts
 * const TracingLive = Tracing.layer({ serviceName: "beluga-agent", serviceVersion: "1.0.0" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Provides, Config.TracingConfigError> =>
  Layer.unwrap(
    Effect.map(Config.load(toOverrides(options)), (settings) => {
      const warn = options.onWarning ?? stderrWarning
      const headers = Redacted.value(settings.headers)
      const outages = new Outages()
      const reporter: DeliveryReporter = new DeliveryReporter(
        redactUrl(settings.tracesUrl),
        warn,
        () => exporter.retries,
        Object.values(headers),
        undefined,
        outages
      )
      const exporter: OtlpHttpExporter = new OtlpHttpExporter({
        url: settings.tracesUrl,
        protocol: settings.protocol,
        headers,
        compression: settings.compression,
        timeoutMillis: settings.timeoutMillis
      }, reporter.report)
      const batch = makeBatchProcessor(exporter, settings.batch, reporter.dropped)
      reporter.queued = batch.queued
      const terminal = options.printTraces === undefined || options.printTraces === false
        ? undefined
        : options.printTraces === true
        ? {}
        : options.printTraces
      const processors: Array<SpanProcessor> = []
      if (!settings.disabled) {
        processors.push(batch.processor)
        if (terminal !== undefined) processors.push(new SimpleSpanProcessor(new TerminalExporter(terminal)))
      }
      return make(settings, processors, {
        metrics: settings.metrics.enabled ? metricsPipeline(settings.metrics, warn, outages) : undefined,
        printMetrics: settings.disabled ? undefined : terminal,
        prices: options.prices,
        redact: options.redact,
        registerGlobal: options.registerGlobal ?? true,
        stats: () => reporter.stats(),
        shutdownTimeout: options.shutdownTimeout ?? defaultShutdownTimeout,
        warn: (message) => warn(reporter.scrub(message)),
        beginShutdown: () => exporter.beginShutdown(),
        abort: () => {
          const queued = batch.queued()
          reporter.abandoned(queued)
          return exporter.abort() + queued
        }
      })
    })
  )

/**
 * Builds the tracing layer from validated settings and a list of span processors. Shared by
 * {@link layer} and the in-memory `Testing.layer`, so both trace exactly alike.
 *
 * @internal
 */
export const make = (
  settings: Config.Settings,
  processors: ReadonlyArray<SpanProcessor>,
  options: {
    /** Where metrics go; undefined: no metrics. */
    readonly metrics?: MetricsPipeline | undefined
    /** Print the metrics summary at exit (with `printTraces`). */
    readonly printMetrics?: TerminalOptions | undefined
    /** Record the GenAI metrics in memory even with no export and no summary (`Testing`). */
    readonly recordMetrics?: boolean | undefined
    readonly stats: () => DeliveryStats
    readonly shutdownTimeout: Duration.Input
    readonly warn: (message: string) => void
    /** See `Options.prices` and `Options.redact`. */
    readonly prices?: PriceTable | undefined
    readonly redact?: Redact | undefined
    /** Leave out the agent processor (identity, roll-ups, cost): for the benchmark that measures it. */
    readonly withoutAgentProcessor?: boolean | undefined
    /** Register with the global OTel API (see `Options.registerGlobal`). */
    readonly registerGlobal?: boolean | undefined
    /** Tells the exporter the program is ending, before the final flush. */
    readonly beginShutdown?: (() => void) | undefined
    /** Ends exports still in flight once the shutdown budget is spent; returns the spans lost. */
    readonly abort?: (() => number) | undefined
  }
): Layer.Layer<Provides> => {
  // The SDK's default resource names the SDK (telemetry.sdk.*) and the process; ours names the
  // service and this library as the distribution.
  const resource = defaultResource().merge(resourceFromAttributes({
    "telemetry.distro.name": "beluga-o11y",
    "telemetry.distro.version": version,
    ...settings.resourceAttributes,
    "service.name": settings.serviceName,
    ...(settings.serviceVersion !== undefined ? { "service.version": settings.serviceVersion } : {})
  }))
  const metrics = makeMetrics(resource, options)
  const sampler = settings.disabled ? new AlwaysOffSampler() : makeSampler(settings)
  // Agent roll-ups and cost, then redaction, then the exporters: each sees the one before done.
  const spanProcessors = [
    ...(options.withoutAgentProcessor === true ? [] : [new AgentProcessor(options.prices)]),
    ...(options.redact !== undefined ? [new RedactionProcessor(options.redact)] : []),
    ...processors
  ]
  const spanLimits = settings.attributeValueLengthLimit !== undefined
    ? { attributeValueLengthLimit: settings.attributeValueLengthLimit }
    : {}
  // The provider owns the processors' flush and shutdown; every span, the Effect tracer's and those
  // OTel-instrumented libraries and `OtelTracer` users start through it, is recorded by a
  // `SpanSource` with its sampler, processors and limits (see `internal/span.ts`).
  const tracerProvider = Layer.effect(
    OtelTracer.OtelTracerProvider,
    Effect.acquireRelease(
      Effect.sync(() => {
        const provider = new RecordingTracerProvider({ resource, sampler, spanProcessors, spanLimits }, tracerFor)
        const unregister = options.registerGlobal === true
          ? register(provider, settings.propagators, options.warn)
          : () => {}
        return { provider, unregister }
      }),
      ({ provider, unregister }) =>
        Effect.ensuring(
          // Spans and the last metrics go out side by side, each within the shutdown bound.
          Effect.all([shutdown(provider, options), metrics.shutdown], { concurrency: 2, discard: true }),
          Effect.sync(unregister)
        )
    ).pipe(Effect.map(({ provider }) => provider))
  )
  // Spans carry this library's name and version as their instrumentation scope.
  const otelTracer = Layer.effect(
    OtelTracer.OtelTracer,
    Effect.map(Effect.service(OtelTracer.OtelTracerProvider), (provider) => provider.getTracer("beluga-o11y", version))
  )
  // These samplers take a valid parent's decision: a child's is read off its parent.
  const followsParent = !settings.disabled && settings.sampler.startsWith("parentbased_")
  // A child of an unsampled span is never sampled with these: it need not be made at all.
  const unsampledChildren = followsParent || settings.disabled || settings.sampler === "always_off"
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
      tracer = new RecordTracer(new SpanSource(resource, scope, sampler, followsParent, spanProcessors, spanLimits))
      tracers.set(key, tracer)
    }
    return tracer
  }
  const tracer = Layer.effect(
    Tracer.Tracer,
    // Made once the provider is up: it registers the context manager the tracer looks for.
    Effect.map(
      Effect.service(OtelTracer.OtelTracerProvider),
      () => SdkTracer.make(tracerFor("beluga-o11y", version).source, { unsampledChildren })
    )
  ).pipe(
    Layer.provideMerge(otelTracer),
    Layer.provide(tracerProvider)
  )
  return Layer.mergeAll(
    tracer,
    Layer.succeed(Resource.Resource, resource),
    Layer.succeed(Delivery, Delivery.of({ stats: Effect.sync(options.stats), metricStats: metrics.stats })),
    Layer.succeed(GenAI.Settings, settings.genai),
    metrics.layer
  )
}

/**
 * The SDK's Node tracer provider (context manager and propagators on `register`, processors'
 * flush and shutdown), with tracers that record into the library's span record.
 */
class RecordingTracerProvider extends NodeTracerProvider {
  constructor(
    config: ConstructorParameters<typeof NodeTracerProvider>[0],
    private readonly tracerFor: (name: string, version?: string, schemaUrl?: string) => RecordTracer
  ) {
    super(config)
  }

  override getTracer(name: string, scopeVersion?: string, options?: Otel.TracerOptions): Otel.Tracer {
    return this.tracerFor(name, scopeVersion, options?.schemaUrl)
  }
}

/**
 * The metrics export, built by {@link layer} from the settings; `make` installs it.
 *
 * @internal
 */
export interface MetricsPipeline {
  readonly exporter: PushMetricExporter
  readonly settings: Config.MetricsSettings
  readonly stats: () => DeliveryStats
  readonly beginShutdown: () => void
  /** Ends exports in flight; returns the data points lost. */
  readonly abort: () => number
}

const metricUnit = { one: "metric data point", many: "metric data points", goesOn: "The program goes on" }

const metricsPipeline = (
  settings: Config.MetricsSettings,
  warn: (message: string) => void,
  outages: Outages
): MetricsPipeline => {
  const headers = Redacted.value(settings.headers)
  const reporter: DeliveryReporter = new DeliveryReporter(
    redactUrl(settings.url),
    warn,
    () => transport.retries,
    Object.values(headers),
    metricUnit,
    outages
  )
  // Jaeger and Phoenix take traces only: their OTLP endpoint answers 404 or 405 to metrics. That
  // is said once, in those words, and no more metrics are sent there in this run.
  let refused = false
  const report = (outcome: Outcome) => {
    const error = outcome._tag === "Failed" ? outcome.error : undefined
    if (error instanceof CollectorError && (error.status === 404 || error.status === 405)) {
      if (!refused) {
        refused = true
        warn(reporter.scrub(
          `beluga-o11y: ${redactUrl(settings.url)} takes no metrics (${error.message}), so none are sent there ` +
            "from now on. Send them to a backend that does with OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, or turn them " +
            "off with OTEL_METRICS_EXPORTER=none."
        ))
      }
      return reporter.report({ ...outcome, quiet: true } as Outcome)
    }
    reporter.report(outcome)
  }
  const transport: OtlpHttpExporter<ResourceMetrics> = new OtlpHttpExporter(
    {
      url: settings.url,
      protocol: settings.protocol,
      headers,
      compression: settings.compression,
      timeoutMillis: settings.timeoutMillis
    },
    report,
    metricsCodec
  )
  return {
    exporter: new OtlpMetricExporter(transport, settings.temporality, () => refused),
    settings,
    stats: () => reporter.stats(),
    beginShutdown: () => transport.beginShutdown(),
    abort: () => transport.abort()
  }
}

/**
 * The metrics side of the layer: the GenAI recorder the combinators find in their context, the
 * SDK meter provider whose periodic reader collects it with Effect's own `Metric`s and the OTel
 * API's instruments, and the bounded shutdown that sends the last collection.
 */
const makeMetrics = (
  resource: OtelResource,
  options: {
    readonly metrics?: MetricsPipeline | undefined
    readonly printMetrics?: TerminalOptions | undefined
    readonly recordMetrics?: boolean | undefined
    readonly registerGlobal?: boolean | undefined
    readonly shutdownTimeout: Duration.Input
    readonly warn: (message: string) => void
  }
) => {
  const pipeline = options.metrics
  // Recorded when exported, or when the summary is printed at exit.
  if (pipeline === undefined && options.printMetrics === undefined && options.recordMetrics !== true) {
    return { layer: Layer.empty, shutdown: Effect.void, stats: Effect.succeed(noDeliveries) }
  }
  const recorder = new Recorder(GenAI.Metrics, {
    temporality: pipeline?.settings.temporality ?? "cumulative",
    exemplarFilter: pipeline?.settings.exemplarFilter ?? "trace_based",
    resource,
    scope: { name: "beluga-o11y", version }
  })
  let provider: MeterProvider | undefined
  const recorderLayer = pipeline === undefined
    ? Layer.succeed(CurrentRecorder, recorder)
    : Layer.effect(
      CurrentRecorder,
      Effect.acquireRelease(
        Effect.gen(function*() {
          const effectMetrics = yield* OtelMetrics.makeProducer(
            pipeline.settings.temporality === "cumulative" ? "cumulative" : "delta"
          ).pipe(Effect.provideService(Resource.Resource, resource))
          const reader = new PeriodicExportingMetricReader({
            exporter: pipeline.exporter,
            exportIntervalMillis: pipeline.settings.intervalMillis,
            exportTimeoutMillis: pipeline.settings.exportTimeoutMillis,
            metricProducers: [recorder, effectMetrics]
          })
          provider = new MeterProvider({ resource, readers: [reader] })
          // Libraries instrumented with the OTel metrics API report through the same reader.
          const registered = options.registerGlobal === true && Otel.metrics.setGlobalMeterProvider(provider)
          return registered
        }),
        (registered) => Effect.sync(() => registered && Otel.metrics.disable())
      ).pipe(Effect.as(recorder))
    )
  const shutdown = Effect.suspend(() => {
    const flush = provider === undefined || pipeline === undefined
      ? Effect.void
      : shutdownMeters(provider, pipeline, options)
    return Effect.andThen(flush, Effect.sync(() => printSummary(recorder, options.printMetrics)))
  })
  return { layer: recorderLayer, shutdown, stats: Effect.sync(() => pipeline?.stats() ?? noDeliveries) }
}

/** The last collection goes out within the shutdown bound, like the spans. */
const shutdownMeters = (
  provider: MeterProvider,
  pipeline: MetricsPipeline,
  options: { readonly shutdownTimeout: Duration.Input; readonly warn: (message: string) => void }
) =>
  bounded(
    () => {
      pipeline.beginShutdown()
      return provider.shutdown()
    },
    options,
    {
      doing: "sending the last metrics",
      unit: "metric data point",
      where: "in flight",
      abort: pipeline.abort,
      stats: pipeline.stats
    }
  )

const printSummary = (recorder: Recorder, terminal: TerminalOptions | undefined): void => {
  if (terminal === undefined) return
  const text = renderMetricsSummary(recorder.summary(), {
    tokens: GenAI.METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
    durations: [...new Set(Object.values(GenAI.durationMetric))]
  }, terminal.colors ?? process.stdout.isTTY === true)
  if (text !== "") (terminal.write ?? ((t: string) => process.stdout.write(t)))(text)
}

/**
 * Flush, then shut down, within a bound: a collector that is down or stalled must not keep the
 * program from exiting. Spans that ended before this point are in the batch queue and go out
 * with the flush.
 */
const shutdown = (
  provider: NodeTracerProvider,
  options: {
    readonly shutdownTimeout: Duration.Input
    readonly warn: (message: string) => void
    readonly stats: () => DeliveryStats
    readonly beginShutdown?: (() => void) | undefined
    readonly abort?: (() => number) | undefined
  }
) =>
  bounded(
    () => {
      options.beginShutdown?.()
      return provider.forceFlush().then(() => provider.shutdown()).catch(() => provider.shutdown())
    },
    options,
    {
      doing: "flushing spans",
      unit: "span",
      where: "in flight or queued",
      abort: () => options.abort?.() ?? 0,
      stats: options.stats
    }
  )

/**
 * Runs `close` within `shutdownTimeout`; past it, ends what is in flight and says what was lost.
 * Spans and metrics shut down alike.
 */
const bounded = (
  close: () => Promise<unknown>,
  options: { readonly shutdownTimeout: Duration.Input; readonly warn: (message: string) => void },
  gaveUp: {
    readonly doing: string
    readonly unit: string
    readonly where: string
    /** Ends the exports in flight; returns the items lost. */
    readonly abort: () => number
    readonly stats: () => DeliveryStats
  }
) =>
  // A failed export is already reported; it must never fail the user's program.
  Effect.promise(() => close().catch(() => {})).pipe(
    Effect.timeoutOption(options.shutdownTimeout),
    Effect.flatMap((done) =>
      Effect.sync(() => {
        if (done._tag === "Some") return
        const lost = gaveUp.abort()
        const { lastError } = gaveUp.stats()
        options.warn(
          `beluga-o11y: gave up ${gaveUp.doing} after ${
            Duration.format(Duration.fromInputUnsafe(options.shutdownTimeout))
          }` +
            (lastError !== undefined ? ` (last export error: ${lastError})` : "") +
            `; ${lost} ${gaveUp.unit}${lost === 1 ? "" : "s"} ${gaveUp.where} were not delivered`
        )
      })
    ),
    Effect.interruptible
  )

/** @internal */
export const toOverrides = (options: Options): Config.Overrides => ({
  serviceName: options.serviceName,
  serviceVersion: options.serviceVersion,
  resourceAttributes: options.resourceAttributes,
  endpoint: options.endpoint,
  tracesEndpoint: options.tracesEndpoint,
  headers: options.headers,
  protocol: options.protocol,
  compression: options.compression,
  timeoutMillis: millis(options.timeout),
  sampler: options.sampler,
  samplerRatio: options.samplerRatio,
  batch: options.batch,
  disabled: options.disabled,
  captureContent: options.captureContent,
  maxContentLength: options.maxContentLength,
  emitLegacyAttributes: options.emitLegacyAttributes,
  metrics: typeof options.metrics === "object"
    ? {
      endpoint: options.metrics.endpoint,
      exportIntervalMillis: millis(options.metrics.exportInterval),
      exportTimeoutMillis: millis(options.metrics.exportTimeout),
      temporality: options.metrics.temporality,
      exemplarFilter: options.metrics.exemplarFilter
    }
    : options.metrics
})

/** A duration option in milliseconds; an unreadable one becomes NaN, which validation reports. */
const millis = (input: Duration.Input | undefined): number | undefined =>
  input === undefined
    ? undefined
    : typeof input === "number"
    ? input
    : Option.getOrElse(Option.map(Duration.fromInput(input), Duration.toMillis), () => Number.NaN)

const makeSampler = (settings: Config.Settings): Sampler => {
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

/**
 * The one layer most programs need: tracing configured entirely from the environment, exporting
 * to `http://localhost:4318` over OTLP/HTTP (protobuf) unless told otherwise.
 *
 * @since 0.1.0
 * @category layers
 */
export const TracingLive: Layer.Layer<Provides, Config.TracingConfigError> = layer()
