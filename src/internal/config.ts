/**
 * Reads the standard `OTEL_*` variables through Effect `Config` and validates them up front.
 *
 * The OTel SDK reads the same variables itself, but it warns about a value it cannot use and
 * silently falls back to a default. A tracing library that quietly exports to the wrong place, or
 * samples nothing, is worse than one that refuses to start, so every value is checked here and a
 * bad one fails layer construction with a `TracingConfigError` naming the variable, the value and
 * what is accepted. The validated values are then handed to the SDK's own constructors.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import {
  boolean,
  decoded,
  decodePair,
  endpointUrl,
  ensure,
  ensureOneOf,
  ensureWhole,
  headers,
  literal,
  nonNegativeInt,
  parsed,
  parseHttpUrl,
  positiveInt,
  raw,
  redactUrlText,
  setting,
  TracingConfigError
} from "./configValues.ts"
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "./semconv.ts"

export { parseHttpUrl, redactUrlText, TracingConfigError }

export type Protocol = "http/protobuf" | "http/json"
export type Compression = "gzip" | "none"
export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio"
/** The propagators this library can install (`OTEL_PROPAGATORS`); others need extra packages. */
export type PropagatorName = "tracecontext" | "baggage"
/**
 * Where GenAI message content goes (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`): nowhere, on
 * spans, in events (log records), or both; the names follow the Python GenAI utilities.
 */
export type ContentCapture = "NO_CONTENT" | "SPAN_ONLY" | "EVENT_ONLY" | "SPAN_AND_EVENT"

export interface BatchSettings {
  readonly scheduleDelayMillis: number
  readonly exportTimeoutMillis: number
  readonly maxQueueSize: number
  readonly maxExportBatchSize: number
  /**
   * The most encoded bytes that wait in the queue: past them new items are dropped and counted, as
   * past `maxQueueSize`. Spans and records with content are tens of kilobytes each, so a count
   * alone does not bound the memory a collector that is down takes. Code only: OTel has no variable.
   */
  readonly maxQueueBytes: number
  /**
   * A batch leaves once its encoded items reach this many bytes, so one request stays within what a
   * collector takes (the OTel Collector's OTLP/HTTP receiver, Jaeger's too, refuses bodies over
   * 20 MiB by default, and a refused request loses its whole batch). Checked after each item, so
   * a batch passes it by at most its last item: leave room below a collector's limit. Code only.
   */
  readonly maxExportBatchBytes: number
}

const mebibytes = 1024 * 1024

/** Everything the tracing layer needs, after environment and explicit options are merged. */
export interface Settings {
  /** `BELUGA_GENAI_PRICES_FILE`: a price table's JSON file, read when the layer is built. */
  readonly pricesFile?: string | undefined
  /** `BELUGA_REPORT`: where the run's HTML report is written at release. */
  readonly report?: string | undefined
  readonly disabled: boolean
  readonly serviceName: string
  readonly serviceVersion: string | undefined
  readonly resourceAttributes: Readonly<Record<string, string>>
  readonly tracesUrl: string
  readonly headers: Redacted.Redacted<Readonly<Record<string, string>>>
  readonly protocol: Protocol
  readonly compression: Compression
  readonly timeoutMillis: number
  readonly batch: BatchSettings
  readonly sampler: SamplerName
  readonly samplerRatio: number
  readonly attributeValueLengthLimit: number | undefined
  readonly propagators: ReadonlyArray<PropagatorName>
  readonly genai: GenAISettings
  readonly metrics: MetricsSettings
  readonly logs: LogsSettings
}

/** The logs pipeline: same OTLP rules as traces, with its own `_LOGS_` and `OTEL_BLRP_*` variables. */
export interface LogsSettings extends Exporter {
  /** `OTEL_LOGS_EXPORTER` is `otlp` (the default), the option is not `false`, and the SDK is not disabled. */
  readonly enabled: boolean
  readonly batch: BatchSettings
  /** `Effect.log*` lines become log records. */
  readonly effectLogs: boolean
  /** `Effect.log*` lines stay span events as well (Effect's own tracer logger). */
  readonly spanEvents: boolean
}

/** The options of `Tracing.Options.logs`, durations in milliseconds. */
export interface LogsOverrides {
  readonly endpoint?: string | undefined
  readonly batch?: Partial<BatchSettings> | undefined
  readonly effectLogs?: boolean | undefined
  readonly spanEvents?: boolean | undefined
}

/** `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`; `lowmemory` makes the synchronous counters and histograms delta. */
export type TemporalityPreference = "cumulative" | "delta" | "lowmemory"
/** `OTEL_METRICS_EXEMPLAR_FILTER`: which measurements may become exemplars. */
export type ExemplarFilter = "trace_based" | "always_on" | "always_off"

/** The metrics pipeline: same OTLP rules as traces, with its own `_METRICS_` variables. */
export interface MetricsSettings {
  /** `OTEL_METRICS_EXPORTER` is `otlp` (the default) and the SDK is not disabled. */
  readonly enabled: boolean
  readonly url: string
  readonly headers: Redacted.Redacted<Readonly<Record<string, string>>>
  readonly protocol: Protocol
  readonly compression: Compression
  /** One export request, retries included. */
  readonly timeoutMillis: number
  /** Between two collections. */
  readonly intervalMillis: number
  /** One collection and its export; at most the interval. */
  readonly exportTimeoutMillis: number
  readonly temporality: TemporalityPreference
  readonly exemplarFilter: ExemplarFilter
}

/** The options of `Tracing.Options.metrics`, durations in milliseconds. */
export interface MetricsOverrides {
  readonly endpoint?: string | undefined
  readonly exportIntervalMillis?: number | undefined
  readonly exportTimeoutMillis?: number | undefined
  readonly temporality?: TemporalityPreference | undefined
  readonly exemplarFilter?: ExemplarFilter | undefined
}

export interface GenAISettings {
  /** Content goes on spans: `contentMode` is `SPAN_ONLY` or `SPAN_AND_EVENT`. */
  readonly captureContent: boolean
  /** Where content goes; `load` always sets it, hand-built settings may leave it to `captureContent`. */
  readonly contentMode?: ContentCapture | undefined
  readonly maxContentLength: number
  readonly emitLegacyAttributes: boolean
  /** `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`: `main`'s GenAI names (`semconv.ts`'s `latest*`). */
  readonly latestNames?: boolean | undefined
  /** `BELUGA_GENAI_CAPTURE_MESSAGES_DELTA`: content events carry a conversation's new input messages only. */
  readonly messagesDelta?: boolean | undefined
}

/** Whether content capture sends events: `EVENT_ONLY` or `SPAN_AND_EVENT`. */
export const eventsOn = (settings: GenAISettings): boolean =>
  settings.contentMode === "EVENT_ONLY" || settings.contentMode === "SPAN_AND_EVENT"

export const defaults = {
  endpoint: "http://localhost:4318",
  protocol: "http/protobuf" as Protocol,
  compression: "none" as Compression,
  timeoutMillis: 10_000,
  sampler: "parentbased_always_on" as SamplerName,
  samplerRatio: 1,
  // The OTel defaults (2048 queued, 512 a batch) dropped ~30% of a 200k-span burst over
  // http/json on these machines. A queued span is its encoded bytes (spanBatcher.ts): ~250 B in
  // protobuf, ~650 B in JSON, so 131072 of them hold at most ~33 MB / ~85 MB, and a burst that
  // outpaces the collector by 80k spans is absorbed (32768 dropped a third of one over JSON).
  batch: {
    scheduleDelayMillis: 1000,
    exportTimeoutMillis: 30_000,
    maxQueueSize: 131_072,
    maxExportBatchSize: 4096,
    // 131072 small spans take at most ~33 MB (~85 MB in JSON): the bytes bound only bites when
    // spans carry content, and then keeps a collector outage from taking the program's memory.
    maxQueueBytes: 128 * mebibytes,
    maxExportBatchBytes: 4 * mebibytes
  } satisfies BatchSettings,
  maxContentLength: 16_384,
  // The OTel defaults: one collection a minute, 30 s for it. A program's last collection goes out
  // at shutdown whatever the interval.
  metricExportIntervalMillis: 60_000,
  metricExportTimeoutMillis: 30_000,
  // Not the OTel defaults (2048 queued, 512 a batch): with content events on, every model call is a
  // record, and with a request per 512 of them a call with its event cost 1.65× one without,
  // against 1.42× with a request per 4096 (`npm run bench -- --sections=logs`). The bytes bounds
  // keep a batch of large records in check.
  logBatch: {
    scheduleDelayMillis: 1000,
    exportTimeoutMillis: 30_000,
    maxQueueSize: 32_768,
    maxExportBatchSize: 4096,
    maxQueueBytes: 64 * mebibytes,
    maxExportBatchBytes: 4 * mebibytes
  } satisfies BatchSettings
} as const

const temporalities: ReadonlyArray<TemporalityPreference> = ["cumulative", "delta", "lowmemory"]
const exemplarFilters: ReadonlyArray<ExemplarFilter> = ["trace_based", "always_on", "always_off"]

const protocols: ReadonlyArray<Protocol> = ["http/protobuf", "http/json"]
const compressions: ReadonlyArray<Compression> = ["gzip", "none"]
const samplers: ReadonlyArray<SamplerName> = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio"
]
const contentModes: ReadonlyArray<ContentCapture> = ["NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"]
const contentCaptureValues = ["true", "false", ...contentModes] as const

/** The OTLP signals. A signal's exporter variables are named after it, so the name is all a new one needs here. */
type Signal = "traces" | "metrics" | "logs"

/** A setting of one signal's exporter: the general value and the signal's own. */
interface PerSignal<A> {
  readonly general: A
  readonly own: A
}

/**
 * The exporter variables of one signal: for each of `ENDPOINT`, `HEADERS`, `PROTOCOL`,
 * `COMPRESSION` and `TIMEOUT`, the general `OTEL_EXPORTER_OTLP_<KEY>` and the signal's own
 * `OTEL_EXPORTER_OTLP_<SIGNAL>_<KEY>`. Both are validated even when the signal's own is set, so a
 * bad value fails start-up wherever it is written. Each signal reads the general variables again: a
 * read is cheap, and of several bad values the first reported is the first in this order.
 *
 * Spelled out, for a search: `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, and likewise `_HEADERS`, `_PROTOCOL`, `_COMPRESSION`, `_TIMEOUT`.
 */
const exporterVariables = (signal: Signal) => {
  const perSignal = <A>(key: string, read: (name: string) => Effect.Effect<A, TracingConfigError>) =>
    Effect.all({
      general: read(`OTEL_EXPORTER_OTLP_${key}`),
      own: read(`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_${key}`)
    })
  return Effect.all({
    endpoint: perSignal("ENDPOINT", endpointUrl),
    headers: perSignal("HEADERS", headers),
    protocol: perSignal("PROTOCOL", (name) => literal(name, protocols)),
    compression: perSignal("COMPRESSION", (name) => literal(name, compressions)),
    timeout: perSignal("TIMEOUT", (name) => nonNegativeInt(name, "milliseconds"))
  })
}

/** One signal's OTLP exporter, resolved. */
type Exporter = Pick<MetricsSettings, "url" | "headers" | "protocol" | "compression" | "timeoutMillis">

/**
 * Resolves one signal's exporter: an explicit option, else the signal's own variable, else the
 * general one, else the default. Headers are merged key by key instead (general, the signal's own,
 * then the option), as the SDK does. `endpoint` holds the parsed endpoint options.
 */
const exporter = (
  signal: Signal,
  variables: Effect.Success<ReturnType<typeof exporterVariables>>,
  overrides: Overrides,
  endpoint: PerSignal<URL | undefined>
): Exporter => {
  const pick = <A>(option: A | undefined, variable: PerSignal<Option.Option<A>>, fallback: A) =>
    setting(option, Option.orElse(variable.own, () => variable.general), fallback)
  return {
    url: signalUrl(signal, endpoint, variables.endpoint),
    headers: Redacted.make({
      ...variables.headers.general,
      ...variables.headers.own,
      ...(Redacted.isRedacted(overrides.headers) ? Redacted.value(overrides.headers) : overrides.headers)
    }),
    protocol: pick(overrides.protocol, variables.protocol, defaults.protocol),
    compression: pick(overrides.compression, variables.compression, defaults.compression),
    timeoutMillis: pick(overrides.timeoutMillis, variables.timeout, defaults.timeoutMillis)
  }
}

/**
 * The OTLP spec's path rule: the general endpoint is a base to which `v1/traces` (`v1/metrics`) is
 * appended, a signal's own endpoint is used exactly as given. An explicit option beats both
 * variables; between the variables the signal's own one wins.
 */
const signalUrl = (signal: Signal, option: PerSignal<URL | undefined>, variable: PerSignal<Option.Option<URL>>) => {
  if (option.own !== undefined) return option.own.href
  if (option.general === undefined && Option.isSome(variable.own)) return variable.own.value.href
  const href = (option.general ?? Option.getOrElse(variable.general, () => new URL(defaults.endpoint))).href
  return `${href.endsWith("/") ? href : `${href}/`}v1/${signal}`
}

/** A comma list, each name trimmed and lower-cased. */
const commaList = (text: string) =>
  text.split(",").map((name) => name.trim().toLowerCase()).filter((name) => name !== "")

/** `OTEL_<SIGNAL>_EXPORTER`: `otlp` (the default) or `none`; other exporters are not built in. */
const signalExporter = (name: string, expected: string) =>
  parsed(name, expected, (text) => {
    const list = commaList(text)
    if (list.length === 1 && list[0] === "none") return false
    return list.length > 0 && list.every((entry) => entry === "otlp") ? true : undefined
  }).pipe(Effect.map(Option.getOrElse(() => true)))

const resourceAttributes = parsed(
  "OTEL_RESOURCE_ATTRIBUTES",
  "comma-separated key=value pairs with percent-encoded keys and values, e.g. deployment.environment.name=prod",
  (text) => {
    const attributes: Record<string, string> = {}
    for (const pair of text.split(",")) {
      if (pair.trim() === "") continue
      const decodedPair = decodePair(pair)
      if (decodedPair === undefined || decodedPair[0] === "") return undefined
      attributes[decodedPair[0]] = decodedPair[1]
    }
    return attributes
  }
).pipe(Effect.map(Option.getOrElse((): Readonly<Record<string, string>> => ({}))))

const knownPropagators: ReadonlyArray<string> = ["tracecontext", "baggage"] satisfies Array<PropagatorName>

/** `OTEL_PROPAGATORS`: a comma list; `none` means no propagation. */
const propagators = parsed(
  "OTEL_PROPAGATORS",
  "a comma list of tracecontext and baggage, or none (b3, jaeger and xray need their own packages)",
  (text): ReadonlyArray<PropagatorName> | undefined => {
    const list = commaList(text)
    if (list.length === 1 && list[0] === "none") return []
    return list.every((name): name is PropagatorName => knownPropagators.includes(name))
      ? [...new Set(list)]
      : undefined
  }
).pipe(Effect.map(Option.getOrElse((): ReadonlyArray<PropagatorName> => ["tracecontext", "baggage"])))

/**
 * `OTEL_SEMCONV_STABILITY_OPT_IN` holds `value`: `gen_ai/dup` asks for the deprecated GenAI names as
 * well, `gen_ai_latest_experimental` for the newest.
 */
const semconvOptIn = (value: string) =>
  Effect.map(
    raw("OTEL_SEMCONV_STABILITY_OPT_IN"),
    Option.match({ onNone: () => false, onSome: (list) => list.split(",").map((s) => s.trim()).includes(value) })
  )

/** A content mode, or a boolean as the older form of the variable has it: `true` is `SPAN_ONLY`. */
const booleanModes = new Map<string, ContentCapture>([["true", "SPAN_ONLY"], ["false", "NO_CONTENT"]])
const contentModeOf = (value: boolean | string): ContentCapture => booleanModes.get(String(value)) ?? value as never

const contentCapture = Effect.map(
  literal("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", contentCaptureValues, (s) => {
    const t = s.trim()
    return t.toLowerCase() === "true" || t.toLowerCase() === "false" ? t.toLowerCase() : t.toUpperCase()
  }),
  Option.map(contentModeOf)
)

/** The options a caller may pass to override the environment; see `Tracing.Options` for docs. */
export interface Overrides {
  readonly report?: string | undefined
  readonly serviceName?: string | undefined
  readonly serviceVersion?: string | undefined
  readonly resourceAttributes?: Readonly<Record<string, string>> | undefined
  readonly endpoint?: string | undefined
  readonly tracesEndpoint?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | Redacted.Redacted<Readonly<Record<string, string>>> | undefined
  readonly protocol?: Protocol | undefined
  readonly compression?: Compression | undefined
  readonly timeoutMillis?: number | undefined
  readonly sampler?: SamplerName | undefined
  readonly samplerRatio?: number | undefined
  readonly batch?: Partial<BatchSettings> | undefined
  readonly disabled?: boolean | undefined
  readonly captureContent?: boolean | ContentCapture | undefined
  readonly maxContentLength?: number | undefined
  readonly emitLegacyAttributes?: boolean | undefined
  readonly messagesDelta?: boolean | undefined
  /** `false` turns metrics off; an object overrides their variables. */
  readonly metrics?: boolean | MetricsOverrides | undefined
  /** `false` turns the logs signal off; an object overrides its variables. */
  readonly logs?: boolean | LogsOverrides | undefined
}

/** The batch settings that have a variable. */
type BatchVariable = "scheduleDelayMillis" | "exportTimeoutMillis" | "maxQueueSize" | "maxExportBatchSize"

/** A batch processor's variables: `OTEL_BSP_SCHEDULE_DELAY` and the like for spans, `OTEL_BLRP_*` for logs. */
const batchVariables = (prefix: string) =>
  Effect.all({
    scheduleDelayMillis: nonNegativeInt(`${prefix}_SCHEDULE_DELAY`, "milliseconds"),
    exportTimeoutMillis: nonNegativeInt(`${prefix}_EXPORT_TIMEOUT`, "milliseconds"),
    maxQueueSize: positiveInt(`${prefix}_MAX_QUEUE_SIZE`),
    maxExportBatchSize: positiveInt(`${prefix}_MAX_EXPORT_BATCH_SIZE`)
  })

/** Every variable, each validated; when several are bad, the first in this order is reported. */
const environment = Effect.all({
  disabled: boolean("OTEL_SDK_DISABLED"),
  serviceName: raw("OTEL_SERVICE_NAME"),
  resourceAttributes,
  traces: exporterVariables("traces"),
  batch: batchVariables("OTEL_BSP"),
  sampler: literal("OTEL_TRACES_SAMPLER", samplers),
  samplerArg: decoded(
    "OTEL_TRACES_SAMPLER_ARG",
    Schema.NumberFromString,
    "a probability between 0 and 1, e.g. 0.25",
    (n) => n >= 0 && n <= 1
  ),
  attributeValueLengthLimit: positiveInt("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
  emitLegacyAttributes: semconvOptIn("gen_ai/dup"),
  latestNames: semconvOptIn("gen_ai_latest_experimental"),
  captureContent: contentCapture,
  maxContentLength: positiveInt("BELUGA_GENAI_CONTENT_MAX_LENGTH"),
  messagesDelta: boolean("BELUGA_GENAI_CAPTURE_MESSAGES_DELTA"),
  pricesFile: raw("BELUGA_GENAI_PRICES_FILE"),
  report: raw("BELUGA_REPORT"),
  propagators,
  metricsExporter: signalExporter(
    "OTEL_METRICS_EXPORTER",
    "otlp or none (for Prometheus, send OTLP to its /api/v1/otlp receiver or through a collector; console is not built in)"
  ),
  metrics: exporterVariables("metrics"),
  metricInterval: positiveInt("OTEL_METRIC_EXPORT_INTERVAL"),
  metricExportTimeout: positiveInt("OTEL_METRIC_EXPORT_TIMEOUT"),
  temporality: literal("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", temporalities),
  exemplarFilter: literal("OTEL_METRICS_EXEMPLAR_FILTER", exemplarFilters),
  logsExporter: signalExporter("OTEL_LOGS_EXPORTER", "otlp or none (console is not built in)"),
  logs: exporterVariables("logs"),
  logBatch: batchVariables("OTEL_BLRP")
})

/**
 * Reads the environment (through the current `ConfigProvider`), applies `overrides` on top,
 * and validates the result.
 */
export const load = Effect.fnUntraced(function*(overrides: Overrides = {}) {
  const env = yield* environment
  const endpoint = yield* optionUrl("endpoint", overrides.endpoint)
  const { url: tracesUrl, ...traces } = exporter("traces", env.traces, overrides, {
    general: endpoint,
    own: yield* optionUrl("tracesEndpoint", overrides.tracesEndpoint)
  })

  const batch = yield* batchSettings(overrides.batch, env.batch, defaults.batch, "batch", "OTEL_BSP")

  const samplerRatio = setting(overrides.samplerRatio, env.samplerArg, defaults.samplerRatio)
  yield* ensure(samplerRatio >= 0 && samplerRatio <= 1, "samplerRatio", samplerRatio, "a probability between 0 and 1")
  yield* ensureWhole("timeout", traces.timeoutMillis, 0, "a whole number of milliseconds, 0 or more")
  const maxContentLength = setting(overrides.maxContentLength, env.maxContentLength, defaults.maxContentLength)
  yield* ensureWhole("maxContentLength", maxContentLength, 1, "a whole number of characters greater than 0")
  const attributeValueLengthLimit = Option.getOrUndefined(env.attributeValueLengthLimit)
  const disabled = setting(overrides.disabled, env.disabled, false)
  const metrics = yield* metricsSettings(env, overrides, endpoint, disabled)
  const logs = yield* logsSettings(env, overrides, endpoint, disabled)
  yield* ensureOneOf("protocol", overrides.protocol, protocols)
  yield* ensureOneOf("sampler", overrides.sampler, samplers)
  const contentOption = overrides.captureContent === undefined ? undefined : contentModeOf(overrides.captureContent)
  yield* ensureOneOf("captureContent", contentOption, contentModes)
  const contentMode = setting(contentOption, env.captureContent, "NO_CONTENT")

  const settings: Settings = {
    disabled,
    serviceName: overrides.serviceName ??
      Option.getOrUndefined(env.serviceName) ??
      env.resourceAttributes[ATTR_SERVICE_NAME] ??
      "unknown_service:node",
    serviceVersion: overrides.serviceVersion ?? env.resourceAttributes[ATTR_SERVICE_VERSION],
    resourceAttributes: { ...env.resourceAttributes, ...overrides.resourceAttributes },
    tracesUrl,
    ...traces,
    batch,
    sampler: setting(overrides.sampler, env.sampler, defaults.sampler),
    samplerRatio,
    attributeValueLengthLimit,
    propagators: env.propagators,
    genai: {
      captureContent: contentMode === "SPAN_ONLY" || contentMode === "SPAN_AND_EVENT",
      contentMode,
      // Content is JSON: a generic attribute-length cut would break it, so stay under that limit.
      maxContentLength: Math.min(maxContentLength, attributeValueLengthLimit ?? Infinity),
      emitLegacyAttributes: overrides.emitLegacyAttributes ?? env.emitLegacyAttributes,
      latestNames: env.latestNames,
      messagesDelta: setting(overrides.messagesDelta, env.messagesDelta, false)
    },
    metrics,
    logs,
    pricesFile: Option.getOrUndefined(env.pricesFile),
    report: overrides.report ?? Option.getOrUndefined(env.report)
  }
  return settings
})

/** The metrics settings: the exporter as for traces, then the collection's own variables and options. */
const metricsSettings = Effect.fnUntraced(function*(
  env: Effect.Success<typeof environment>,
  overrides: Overrides,
  endpoint: URL | undefined,
  disabled: boolean
) {
  const options = typeof overrides.metrics === "object" ? overrides.metrics : {}
  const otlp = exporter("metrics", env.metrics, overrides, {
    general: endpoint,
    own: yield* optionUrl("metrics.endpoint", options.endpoint)
  })
  const intervalMillis = setting(options.exportIntervalMillis, env.metricInterval, defaults.metricExportIntervalMillis)
  const exportTimeoutMillis = setting(
    options.exportTimeoutMillis,
    env.metricExportTimeout,
    defaults.metricExportTimeoutMillis
  )
  yield* ensureWhole("metrics.exportInterval", intervalMillis, 1, "a whole number of milliseconds greater than 0")
  yield* ensureWhole("metrics.exportTimeout", exportTimeoutMillis, 1, "a whole number of milliseconds greater than 0")
  const temporality = setting(options.temporality, env.temporality, "cumulative")
  yield* ensureOneOf("metrics.temporality", temporality, temporalities)
  const exemplarFilter = setting(options.exemplarFilter, env.exemplarFilter, "trace_based")
  yield* ensureOneOf("metrics.exemplarFilter", exemplarFilter, exemplarFilters)
  const settings: MetricsSettings = {
    enabled: !disabled && overrides.metrics !== false && env.metricsExporter,
    ...otlp,
    intervalMillis,
    // As the SDK does: a collection may not take longer than the interval between two.
    exportTimeoutMillis: Math.min(exportTimeoutMillis, intervalMillis),
    temporality,
    exemplarFilter
  }
  return settings
})

/** An endpoint given as an option; like a variable's, its text is redacted in an error. */
const optionUrl = (option: string, value: string | undefined): Effect.Effect<URL | undefined, TracingConfigError> => {
  if (value === undefined) return Effect.succeed(undefined)
  const url = parseHttpUrl(value)
  return Effect.as(ensure(url !== undefined, option, redactUrlText(value), "an absolute http:// or https:// URL"), url)
}

/** A batch processor's settings (`batch` and `OTEL_BSP_*`, `logs.batch` and `OTEL_BLRP_*`), each checked. */
const batchSettings = Effect.fnUntraced(function*(
  overridden: Partial<BatchSettings> | undefined,
  variables: { readonly [K in BatchVariable]: Option.Option<number> },
  fallback: BatchSettings,
  option: string,
  prefix: string
) {
  const pick = (key: keyof BatchSettings, otherwise: number = fallback[key]) =>
    setting(overridden?.[key], variables[key as BatchVariable] ?? Option.none(), otherwise)
  const maxQueueSize = pick("maxQueueSize")
  const maxQueueBytes = pick("maxQueueBytes")
  const batch: BatchSettings = {
    scheduleDelayMillis: pick("scheduleDelayMillis"),
    exportTimeoutMillis: pick("exportTimeoutMillis"),
    maxQueueSize,
    // A small queue set alone lowers the default batch to fit it, as the SDK does; only a batch
    // size the user set is held against the queue.
    maxExportBatchSize: pick("maxExportBatchSize", Math.min(fallback.maxExportBatchSize, maxQueueSize)),
    maxQueueBytes,
    maxExportBatchBytes: pick("maxExportBatchBytes", Math.min(fallback.maxExportBatchBytes, maxQueueBytes))
  }
  for (const [key, value] of Object.entries(batch) as Array<[keyof BatchSettings, number]>) {
    const minimum = key.endsWith("Millis") ? 0 : 1
    yield* ensureWhole(`${option}.${key}`, value, minimum, `a whole number, ${minimum} or more`)
  }
  yield* ensure(
    batch.maxExportBatchSize <= batch.maxQueueSize,
    overridden?.maxExportBatchSize !== undefined ? `${option}.maxExportBatchSize` : `${prefix}_MAX_EXPORT_BATCH_SIZE`,
    batch.maxExportBatchSize,
    `at most the queue size (${batch.maxQueueSize})`
  )
  yield* ensure(
    batch.maxExportBatchBytes <= batch.maxQueueBytes,
    `${option}.maxExportBatchBytes`,
    batch.maxExportBatchBytes,
    `at most the queue's bytes (${batch.maxQueueBytes})`
  )
  return batch
})

/** The logs settings: the exporter as for traces, the `OTEL_BLRP_*` batch, and what becomes a record. */
const logsSettings = Effect.fnUntraced(function*(
  env: Effect.Success<typeof environment>,
  overrides: Overrides,
  endpoint: URL | undefined,
  disabled: boolean
) {
  const options = typeof overrides.logs === "object" ? overrides.logs : {}
  const otlp = exporter("logs", env.logs, overrides, {
    general: endpoint,
    own: yield* optionUrl("logs.endpoint", options.endpoint)
  })
  return {
    enabled: !disabled && overrides.logs !== false && env.logsExporter,
    ...otlp,
    batch: yield* batchSettings(options.batch, env.logBatch, defaults.logBatch, "logs.batch", "OTEL_BLRP"),
    effectLogs: options.effectLogs ?? true,
    spanEvents: options.spanEvents ?? true
  } satisfies LogsSettings
})
