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
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import * as Resource from "@effect/opentelemetry/Resource"
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources"
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
import { DeliveryReporter, type DeliveryStats, redactUrl } from "./internal/exporter.ts"
import { register } from "./internal/global.ts"
import { OtlpHttpExporter } from "./internal/otlp.ts"
import { makeBatchProcessor } from "./internal/processor.ts"
import { type Redact, RedactionProcessor } from "./internal/redaction.ts"
import { TerminalExporter, type TerminalOptions } from "./internal/terminal.ts"
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
 * How span delivery to the collector is going: spans exported and lost so far.
 *
 * @since 0.1.0
 * @category services
 */
export class Delivery extends Context.Service<Delivery, {
  readonly stats: Effect.Effect<DeliveryStats>
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
      const reporter: DeliveryReporter = new DeliveryReporter(
        redactUrl(settings.tracesUrl),
        warn,
        () => exporter.retries,
        Object.values(headers)
      )
      const exporter: OtlpHttpExporter = new OtlpHttpExporter({
        url: settings.tracesUrl,
        protocol: settings.protocol,
        headers,
        compression: settings.compression,
        // 0 means "no limit" in the OTLP spec; the largest delay setTimeout takes.
        timeoutMillis: settings.timeoutMillis === 0 ? 2_147_483_647 : settings.timeoutMillis
      }, reporter.report)
      const batch = makeBatchProcessor(exporter, settings.batch, reporter.dropped)
      reporter.queued = batch.queued
      const processors: Array<SpanProcessor> = []
      if (!settings.disabled) {
        processors.push(batch.processor)
        if (options.printTraces !== undefined && options.printTraces !== false) {
          const terminal = options.printTraces === true ? {} : options.printTraces
          processors.push(new SimpleSpanProcessor(new TerminalExporter(terminal)))
        }
      }
      return make(settings, processors, {
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
  const tracerProvider = Layer.effect(
    OtelTracer.OtelTracerProvider,
    Effect.acquireRelease(
      Effect.sync(() => {
        const provider = new NodeTracerProvider({
          resource,
          sampler: settings.disabled ? new AlwaysOffSampler() : makeSampler(settings),
          // Agent roll-ups and cost, then redaction, then the exporters: each sees the one before done.
          spanProcessors: [
            ...(options.withoutAgentProcessor === true ? [] : [new AgentProcessor(options.prices)]),
            ...(options.redact !== undefined ? [new RedactionProcessor(options.redact)] : []),
            ...processors
          ],
          ...(settings.attributeValueLengthLimit !== undefined
            ? { spanLimits: { attributeValueLengthLimit: settings.attributeValueLengthLimit } }
            : {})
        })
        const unregister = options.registerGlobal === true
          ? register(provider, settings.propagators, options.warn)
          : () => {}
        return { provider, unregister }
      }),
      ({ provider, unregister }) => Effect.ensuring(shutdown(provider, options), Effect.sync(unregister))
    ).pipe(Effect.map(({ provider }) => provider))
  )
  // Spans carry this library's name and version as their instrumentation scope.
  const otelTracer = Layer.effect(
    OtelTracer.OtelTracer,
    Effect.map(Effect.service(OtelTracer.OtelTracerProvider), (provider) => provider.getTracer("beluga-o11y", version))
  )
  const tracer = Layer.effect(Tracer.Tracer, Effect.map(Effect.service(OtelTracer.OtelTracer), SdkTracer.make)).pipe(
    Layer.provideMerge(otelTracer),
    Layer.provide(tracerProvider)
  )
  return Layer.mergeAll(
    tracer,
    Layer.succeed(Resource.Resource, resource),
    Layer.succeed(Delivery, Delivery.of({ stats: Effect.sync(options.stats) })),
    Layer.succeed(GenAI.Settings, settings.genai)
  )
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
  Effect.promise(() => {
    options.beginShutdown?.()
    // A failed export is already reported; it must never fail the user's program.
    return provider.forceFlush().then(() => provider.shutdown()).catch(() => provider.shutdown()).catch(() => {})
  }).pipe(
    Effect.timeoutOption(options.shutdownTimeout),
    Effect.flatMap((done) =>
      Effect.sync(() => {
        if (done._tag === "Some") return
        const lost = options.abort?.() ?? 0
        const { lastError } = options.stats()
        options.warn(
          `beluga-o11y: gave up flushing spans after ${
            Duration.format(Duration.fromInputUnsafe(options.shutdownTimeout))
          }` +
            (lastError !== undefined ? ` (last export error: ${lastError})` : "") +
            `; ${lost} span${lost === 1 ? "" : "s"} in flight or queued were not delivered`
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
  // An unreadable duration becomes NaN, which validation reports as a bad `timeout`.
  timeoutMillis: options.timeout === undefined
    ? undefined
    : typeof options.timeout === "number"
    ? options.timeout
    : Option.getOrElse(Option.map(Duration.fromInput(options.timeout), Duration.toMillis), () => Number.NaN),
  sampler: options.sampler,
  samplerRatio: options.samplerRatio,
  batch: options.batch,
  disabled: options.disabled,
  captureContent: options.captureContent,
  maxContentLength: options.maxContentLength,
  emitLegacyAttributes: options.emitLegacyAttributes
})

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
