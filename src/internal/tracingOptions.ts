/**
 * `Tracing.Options`, the options a program passes in code, and how they become configuration
 * overrides: each one set wins over its environment variable, durations are read into
 * milliseconds, and the rest is left to the environment and the defaults (see `config.ts`).
 * The interfaces are declared here so the layers can read them; `Tracing` re-exports them.
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { PriceTable } from "./agentProcessor.ts"
import type * as Config from "./config.ts"
import type { Redact } from "./redaction.ts"
import type { TerminalOptions } from "./terminal.ts"

/**
 * Options for `Tracing.layer`. Each one set here overrides the matching environment variable;
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
  /**
   * Batch span processor settings. Env: `OTEL_BSP_*`. Default 1 s, 30 s, 131072 queued, 4096 a batch,
   * and two bounds in bytes (code only): 128 MiB queued, 4 MiB a batch.
   */
  readonly batch?: Partial<Config.BatchSettings> | undefined
  /**
   * GenAI metrics (and Effect `Metric`s) over OTLP/HTTP, to the same collector as the spans by
   * default. `false` turns them off (env: `OTEL_METRICS_EXPORTER=none`); an object overrides the
   * `OTEL_METRIC_*` / `OTEL_EXPORTER_OTLP_METRICS_*` variables. Default on.
   */
  readonly metrics?: boolean | MetricsOptions | undefined
  /**
   * The logs signal over OTLP/HTTP, to the same collector as the spans by default: `Effect.log*`
   * lines as log records with the current span's trace and span ids. `false` turns it off (env:
   * `OTEL_LOGS_EXPORTER=none`); an object overrides the `OTEL_BLRP_*` / `OTEL_EXPORTER_OTLP_LOGS_*`
   * variables. Default on.
   */
  readonly logs?: boolean | LogsOptions | undefined
  /** Turn tracing into a no-op. Env: `OTEL_SDK_DISABLED`. */
  readonly disabled?: boolean | undefined
  /**
   * Record prompts, completions and tool arguments: `true` (or `SPAN_ONLY`) on spans, `EVENT_ONLY`
   * in log records, `SPAN_AND_EVENT` both, `false` (or `NO_CONTENT`) nowhere. Env:
   * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`. Default `false`.
   */
  readonly captureContent?: boolean | Config.ContentCapture | undefined
  /**
   * In content events (`EVENT_ONLY`, `SPAN_AND_EVENT`), a conversation's later calls carry only the
   * input messages appended since its previous call, as `gen_ai.input.messages_delta` (a draft name
   * of the conventions). Env: `BELUGA_GENAI_CAPTURE_MESSAGES_DELTA`. Default `false`.
   */
  readonly captureMessagesDelta?: boolean | undefined
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
   * Prices per provider and model (build one with `Cost.prices`): inference spans get
   * `gen_ai.usage.cost`, agent and run spans roll it up. Models not in the table get no cost.
   */
  readonly prices?: PriceTable | undefined
  /**
   * Writes the run as one self-contained HTML file (the viewer's traces, conversations, metrics
   * and logs, no network needed to open it) when the layer is released, after the last spans,
   * metrics and log records went out: what a CI job keeps as an artifact. It holds what the
   * exporters were handed, whether the collector took it, was down or refused logs: the first
   * 100,000 spans and 100,000 log records (64 MB), the latest 64 MB of metrics collections.
   * Env: `BELUGA_REPORT`. Not on workers (no file system).
   */
  readonly report?: string | undefined
  /**
   * Applied to every attribute value of every span (content included) just before it ends: return
   * the value to record, or undefined to drop the attribute (see `Redaction.redactMatching`,
   * `Redaction.redactFields`). Nothing it removes reaches an exporter.
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
 * The logs options; each overrides its variable.
 *
 * @since 0.4.0
 * @category models
 */
export interface LogsOptions {
  /** Full logs URL, used as given. Env: `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`; else the base endpoint + `v1/logs`. */
  readonly endpoint?: string | undefined
  /**
   * Batch log record processor settings. Env: `OTEL_BLRP_*`. Default 1 s, 30 s, 32768 queued, 4096
   * a batch, and in bytes (code only) 64 MiB queued, 4 MiB a batch.
   */
  readonly batch?: Partial<Config.BatchSettings> | undefined
  /** Export `Effect.log*` lines as log records (at or above Effect's minimum log level). Default true. */
  readonly effectLogs?: boolean | undefined
  /** Keep `Effect.log*` lines as events on the current span too, as Effect does by default. Default true. */
  readonly spanEvents?: boolean | undefined
}

/** The options that configuration validates, as overrides of their variables. */
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
  messagesDelta: options.captureMessagesDelta,
  metrics: typeof options.metrics === "object"
    ? {
      endpoint: options.metrics.endpoint,
      exportIntervalMillis: millis(options.metrics.exportInterval),
      exportTimeoutMillis: millis(options.metrics.exportTimeout),
      temporality: options.metrics.temporality,
      exemplarFilter: options.metrics.exemplarFilter
    }
    : options.metrics,
  logs: options.logs,
  report: options.report
})

/** `printTraces` as the terminal view's options; undefined when nothing is printed. */
export const terminalOf = (printTraces: Options["printTraces"]): TerminalOptions | undefined =>
  printTraces === undefined || printTraces === false ? undefined : printTraces === true ? {} : printTraces

/** A duration option in milliseconds; an unreadable one becomes NaN, which validation reports. */
const millis = (input: Duration.Input | undefined): number | undefined =>
  input === undefined
    ? undefined
    : typeof input === "number"
    ? input
    : Option.getOrElse(Option.map(Duration.fromInput(input), Duration.toMillis), () => Number.NaN)
