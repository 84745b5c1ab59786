/**
 * Reads the standard `OTEL_*` variables through Effect `Config` and validates them up front.
 *
 * The OTel SDK reads the same variables itself, but it warns about a value it cannot use and
 * silently falls back to a default. A tracing library that quietly exports to the wrong place, or
 * samples nothing, is worse than one that refuses to start, so every value is checked here and a
 * bad one fails layer construction with a `TracingConfigError` naming the variable, the value and
 * what is accepted. The validated values are then handed to the SDK's own constructors.
 */
import { parseKeyPairsIntoRecord } from "@opentelemetry/core"
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * Invalid tracing configuration: which variable (or option), the value found, and what is accepted.
 * Secret values (OTLP headers) are never echoed: `value` reads `<redacted>` for them.
 */
export class TracingConfigError extends Data.TaggedError("TracingConfigError")<{
  readonly variable: string
  readonly value: string
  readonly expected: string
}> {
  override get message(): string {
    return `${this.variable}=${JSON.stringify(this.value)} is invalid: expected ${this.expected}`
  }
}

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
/** How much GenAI message content to record; the names follow the Python GenAI utilities. */
export type ContentCapture = "NO_CONTENT" | "SPAN_ONLY"

export interface BatchSettings {
  readonly scheduleDelayMillis: number
  readonly exportTimeoutMillis: number
  readonly maxQueueSize: number
  readonly maxExportBatchSize: number
}

/** Everything the tracing layer needs, after environment and explicit options are merged. */
export interface Settings {
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
  readonly captureContent: boolean
  readonly maxContentLength: number
  readonly emitLegacyAttributes: boolean
}

export const defaults = {
  endpoint: "http://localhost:4318",
  protocol: "http/protobuf" as Protocol,
  compression: "none" as Compression,
  timeoutMillis: 10_000,
  sampler: "parentbased_always_on" as SamplerName,
  samplerRatio: 1,
  // The OTel defaults (2048 queued, 512 a batch) dropped ~30% of a 200k-span burst over
  // http/json on these machines; 32768/4096 dropped none. A queued span costs ~1 KB.
  batch: {
    scheduleDelayMillis: 1000,
    exportTimeoutMillis: 30_000,
    maxQueueSize: 32_768,
    maxExportBatchSize: 4096
  } satisfies BatchSettings,
  maxContentLength: 16_384,
  // The OTel defaults: one collection a minute, 30 s for it. A program's last collection goes out
  // at shutdown whatever the interval.
  metricExportIntervalMillis: 60_000,
  metricExportTimeoutMillis: 30_000
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
const contentCaptureValues = ["true", "false", "NO_CONTENT", "SPAN_ONLY", "SPAN_AND_EVENT"] as const

const oneOf = (values: ReadonlyArray<string>) => `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`

/**
 * Reads one variable as a string. An empty value counts as unset, as the OTel spec requires.
 */
const raw = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.String(name)).pipe(
    Effect.map(Option.filter((value) => value.trim() !== "")),
    // A provider that cannot be read at all is an environment fault, not a user's bad value.
    Effect.orDie
  )

/**
 * Decodes one variable with a Schema and turns a decode failure into a `TracingConfigError`.
 */
const decoded = <S extends Schema.ConstraintDecoder<unknown>>(
  name: string,
  schema: S,
  expected: string,
  check: (value: S["Type"]) => boolean = () => true
): Effect.Effect<Option.Option<S["Type"]>, TracingConfigError> =>
  Effect.flatMap(raw(name), (value) => {
    if (Option.isNone(value)) return Effect.succeedNone
    const result = Schema.decodeUnknownOption(schema)(value.value.trim())
    return Option.isSome(result) && check(result.value)
      ? Effect.succeedSome(result.value)
      : Effect.fail(new TracingConfigError({ variable: name, value: value.value, expected }))
  })

const literal = <A extends string>(
  name: string,
  values: ReadonlyArray<A>,
  normalize: (s: string) => string = (s) => s.trim().toLowerCase()
): Effect.Effect<Option.Option<A>, TracingConfigError> =>
  Effect.flatMap(raw(name), (value) => {
    if (Option.isNone(value)) return Effect.succeedNone
    const found = values.find((v) => v === normalize(value.value))
    return found !== undefined
      ? Effect.succeedSome(found)
      : Effect.fail(new TracingConfigError({ variable: name, value: value.value, expected: oneOf(values) }))
  })

const NonNegativeInt = Schema.NumberFromString.pipe(Schema.decodeTo(Schema.Int))
const positiveInt = (name: string) => decoded(name, NonNegativeInt, "a whole number greater than 0", (n) => n > 0)
const nonNegativeInt = (name: string, unit: string) =>
  decoded(name, NonNegativeInt, `a whole number of ${unit}, 0 or more`, (n) => n >= 0)

const boolean = (name: string) => literal(name, ["true", "false"])

/** An http(s) URL, the form every OTLP/HTTP endpoint variable takes. */
const endpoint = (name: string) =>
  Effect.flatMap(raw(name), (value) => {
    if (Option.isNone(value)) return Effect.succeedNone
    const url = parseHttpUrl(value.value.trim())
    return url !== undefined
      ? Effect.succeedSome(url)
      : Effect.fail(
        new TracingConfigError({
          variable: name,
          value: redactUrlText(value.value),
          expected: "an absolute http:// or https:// URL such as http://localhost:4318"
        })
      )
  })

/**
 * An endpoint as text fit for an error message: credentials (`user:password@`) and the query
 * string (which may carry a key) are replaced, even when the text is not a valid URL.
 */
export const redactUrlText = (text: string): string =>
  text.replace(/\/\/[^/?#\s]*@/, "//<redacted>@").replace(/\?.*$/s, "?<redacted>")

/** Parses an absolute http(s) URL; `undefined` for anything else. */
export const parseHttpUrl = (value: string): URL | undefined => {
  try {
    const url = new URL(value)
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined
  } catch {
    return undefined
  }
}

/**
 * The OTLP spec's path rule: the general endpoint is a base to which `v1/traces` (`v1/metrics`) is
 * appended, a signal's own endpoint is used exactly as given. An explicit option beats both
 * variables; between the variables the signal's own one wins.
 */
const signalUrl = (
  signal: "traces" | "metrics",
  own: { readonly option: URL | undefined; readonly variable: Option.Option<URL> },
  base: { readonly option: URL | undefined; readonly variable: Option.Option<URL> }
): string => {
  if (own.option !== undefined) return own.option.href
  if (base.option === undefined && Option.isSome(own.variable)) return own.variable.value.href
  const href = (base.option ?? Option.getOrElse(base.variable, () => new URL(defaults.endpoint))).href
  return `${href.endsWith("/") ? href : `${href}/`}v1/${signal}`
}

/** `OTEL_METRICS_EXPORTER`: `otlp` or `none`; other exporters are not built in. */
const metricsExporter = Effect.flatMap(raw("OTEL_METRICS_EXPORTER"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(true)
  const names = value.value.split(",").map((name) => name.trim().toLowerCase()).filter((name) => name !== "")
  if (names.length === 1 && names[0] === "none") return Effect.succeed(false)
  return names.length > 0 && names.every((name) => name === "otlp")
    ? Effect.succeed(true)
    : Effect.fail(
      new TracingConfigError({
        variable: "OTEL_METRICS_EXPORTER",
        value: value.value,
        expected:
          "otlp or none (for Prometheus, send OTLP to its /api/v1/otlp receiver or through a collector; console is not built in)"
      })
    )
})

/**
 * `k=v,k2=v2`, percent-encoded, parsed by the SDK's own parser. The value is a secret (API keys),
 * so a malformed one is reported without echoing it.
 */
const headers = (name: string) =>
  Effect.flatMap(
    Config.option(Config.Redacted(name)).pipe(Effect.orDie),
    (value): Effect.Effect<Readonly<Record<string, string>>, TracingConfigError> => {
      if (Option.isNone(value)) return Effect.succeed({})
      const text = Redacted.value(value.value).trim()
      if (text === "") return Effect.succeed({})
      // Every pair must decode: the SDK's parser skips a pair it cannot read, which would send
      // exports without the API key the user set.
      const pairs = text.split(",").filter((pair) => pair.trim() !== "")
      const wellFormed = pairs.length > 0 && pairs.every((pair) => {
        const eq = pair.indexOf("=")
        return eq > 0 && safeDecode(pair.slice(0, eq).trim()) !== undefined &&
          safeDecode(pair.slice(eq + 1).trim()) !== undefined
      })
      let parsed: Record<string, string> = {}
      try {
        parsed = parseKeyPairsIntoRecord(text)
      } catch {
        // Unreachable after the check above; kept so a parser change cannot throw into start-up.
      }
      return wellFormed && Object.keys(parsed).length > 0
        ? Effect.succeed(parsed)
        : Effect.fail(
          new TracingConfigError({
            variable: name,
            value: "<redacted>",
            expected: "comma-separated key=value pairs with percent-encoded values, e.g. api-key=abc,x-team=ml"
          })
        )
    }
  )

const resourceAttributes = Effect.flatMap(raw("OTEL_RESOURCE_ATTRIBUTES"), (value) => {
  if (Option.isNone(value)) return Effect.succeed({} as Record<string, string>)
  const attributes: Record<string, string> = {}
  for (const pair of value.value.split(",")) {
    if (pair.trim() === "") continue
    const eq = pair.indexOf("=")
    const key = eq > 0 ? safeDecode(pair.slice(0, eq).trim()) : undefined
    const val = eq > 0 ? safeDecode(pair.slice(eq + 1).trim()) : undefined
    if (key === undefined || key === "" || val === undefined) {
      return Effect.fail(
        new TracingConfigError({
          variable: "OTEL_RESOURCE_ATTRIBUTES",
          value: value.value,
          expected:
            "comma-separated key=value pairs with percent-encoded keys and values, e.g. deployment.environment.name=prod"
        })
      )
    }
    attributes[key] = val
  }
  return Effect.succeed(attributes)
})

const safeDecode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

/** `OTEL_PROPAGATORS`: a comma list; `none` means no propagation. */
const propagatorsVariable = Effect.flatMap(raw("OTEL_PROPAGATORS"), (value) => {
  if (Option.isNone(value)) return Effect.succeed<ReadonlyArray<PropagatorName>>(["tracecontext", "baggage"])
  const names = value.value.split(",").map((name) => name.trim().toLowerCase()).filter((name) => name !== "")
  if (names.length === 1 && names[0] === "none") return Effect.succeed<ReadonlyArray<PropagatorName>>([])
  const known = ["tracecontext", "baggage"] as const
  return names.every((name): name is PropagatorName => (known as ReadonlyArray<string>).includes(name))
    ? Effect.succeed<ReadonlyArray<PropagatorName>>([...new Set(names)])
    : Effect.fail(
      new TracingConfigError({
        variable: "OTEL_PROPAGATORS",
        value: value.value,
        expected: "a comma list of tracecontext and baggage, or none (b3, jaeger and xray need their own packages)"
      })
    )
})

/** `OTEL_SEMCONV_STABILITY_OPT_IN`: `gen_ai/dup` asks for the deprecated GenAI names as well. */
const semconvOptIn = Effect.map(
  raw("OTEL_SEMCONV_STABILITY_OPT_IN"),
  Option.match({
    onNone: () => false,
    onSome: (list) => list.split(",").map((s) => s.trim()).includes("gen_ai/dup")
  })
)

const contentCapture = Effect.map(
  literal("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", contentCaptureValues, (s) => {
    const t = s.trim()
    return t.toLowerCase() === "true" || t.toLowerCase() === "false" ? t.toLowerCase() : t.toUpperCase()
  }),
  Option.map((value) => value === "true" || value === "SPAN_ONLY" || value === "SPAN_AND_EVENT")
)

/** The options a caller may pass to override the environment; see `Tracing.Options` for docs. */
export interface Overrides {
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
  readonly captureContent?: boolean | undefined
  readonly maxContentLength?: number | undefined
  readonly emitLegacyAttributes?: boolean | undefined
  /** `false` turns metrics off; an object overrides their variables. */
  readonly metrics?: boolean | MetricsOverrides | undefined
}

/**
 * Reads the environment (through the current `ConfigProvider`), applies `overrides` on top,
 * and validates the result.
 */
export const load = Effect.fnUntraced(function*(overrides: Overrides = {}) {
  const env = yield* Effect.all({
    disabled: boolean("OTEL_SDK_DISABLED"),
    serviceName: raw("OTEL_SERVICE_NAME"),
    resourceAttributes,
    endpoint: endpoint("OTEL_EXPORTER_OTLP_ENDPOINT"),
    tracesEndpoint: endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    headers: headers("OTEL_EXPORTER_OTLP_HEADERS"),
    tracesHeaders: headers("OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
    protocol: literal("OTEL_EXPORTER_OTLP_PROTOCOL", protocols),
    tracesProtocol: literal("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", protocols),
    compression: literal("OTEL_EXPORTER_OTLP_COMPRESSION", compressions),
    tracesCompression: literal("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", compressions),
    timeout: nonNegativeInt("OTEL_EXPORTER_OTLP_TIMEOUT", "milliseconds"),
    tracesTimeout: nonNegativeInt("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "milliseconds"),
    scheduleDelay: nonNegativeInt("OTEL_BSP_SCHEDULE_DELAY", "milliseconds"),
    exportTimeout: nonNegativeInt("OTEL_BSP_EXPORT_TIMEOUT", "milliseconds"),
    maxQueueSize: positiveInt("OTEL_BSP_MAX_QUEUE_SIZE"),
    maxExportBatchSize: positiveInt("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
    sampler: literal("OTEL_TRACES_SAMPLER", samplers),
    samplerArg: decoded(
      "OTEL_TRACES_SAMPLER_ARG",
      Schema.NumberFromString,
      "a probability between 0 and 1, e.g. 0.25",
      (n) => n >= 0 && n <= 1
    ),
    attributeValueLengthLimit: positiveInt("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
    emitLegacyAttributes: semconvOptIn,
    captureContent: contentCapture,
    maxContentLength: positiveInt("BELUGA_GENAI_CONTENT_MAX_LENGTH"),
    propagators: propagatorsVariable,
    metricsExporter,
    metricsEndpoint: endpoint("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
    metricsHeaders: headers("OTEL_EXPORTER_OTLP_METRICS_HEADERS"),
    metricsProtocol: literal("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", protocols),
    metricsCompression: literal("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", compressions),
    metricsTimeout: nonNegativeInt("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "milliseconds"),
    metricInterval: positiveInt("OTEL_METRIC_EXPORT_INTERVAL"),
    metricExportTimeout: positiveInt("OTEL_METRIC_EXPORT_TIMEOUT"),
    temporality: literal("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", temporalities),
    exemplarFilter: literal("OTEL_METRICS_EXEMPLAR_FILTER", exemplarFilters)
  })

  const overrideEndpoint = yield* optionUrl("endpoint", overrides.endpoint)
  const overrideTracesEndpoint = yield* optionUrl("tracesEndpoint", overrides.tracesEndpoint)
  const base = { option: overrideEndpoint, variable: env.endpoint }
  const tracesUrl = signalUrl("traces", { option: overrideTracesEndpoint, variable: env.tracesEndpoint }, base)

  const headerOverride = overrides.headers === undefined
    ? undefined
    : Redacted.isRedacted(overrides.headers)
    ? Redacted.value(overrides.headers)
    : overrides.headers

  const maxQueueSize = overrides.batch?.maxQueueSize ??
    Option.getOrElse(env.maxQueueSize, () => defaults.batch.maxQueueSize)
  const batch: BatchSettings = {
    scheduleDelayMillis: overrides.batch?.scheduleDelayMillis ??
      Option.getOrElse(env.scheduleDelay, () => defaults.batch.scheduleDelayMillis),
    exportTimeoutMillis: overrides.batch?.exportTimeoutMillis ??
      Option.getOrElse(env.exportTimeout, () => defaults.batch.exportTimeoutMillis),
    maxQueueSize,
    // A small queue set alone lowers the default batch to fit it, as the SDK does; only a batch
    // size the user set is held against the queue.
    maxExportBatchSize: overrides.batch?.maxExportBatchSize ??
      Option.getOrElse(env.maxExportBatchSize, () => Math.min(defaults.batch.maxExportBatchSize, maxQueueSize))
  }
  yield* checkBatch(batch, overrides.batch)

  const samplerRatio = overrides.samplerRatio ?? Option.getOrElse(env.samplerArg, () => defaults.samplerRatio)
  if (!(samplerRatio >= 0 && samplerRatio <= 1)) {
    return yield* new TracingConfigError({
      variable: "samplerRatio",
      value: String(samplerRatio),
      expected: "a probability between 0 and 1"
    })
  }
  const timeoutMillis = overrides.timeoutMillis ??
    Option.getOrElse(Option.orElse(env.tracesTimeout, () => env.timeout), () => defaults.timeoutMillis)
  if (!(Number.isInteger(timeoutMillis) && timeoutMillis >= 0)) {
    return yield* new TracingConfigError({
      variable: "timeout",
      value: String(timeoutMillis),
      expected: "a whole number of milliseconds, 0 or more"
    })
  }
  const maxContentLength = overrides.maxContentLength ??
    Option.getOrElse(env.maxContentLength, () => defaults.maxContentLength)
  if (!(Number.isInteger(maxContentLength) && maxContentLength > 0)) {
    return yield* new TracingConfigError({
      variable: "maxContentLength",
      value: String(maxContentLength),
      expected: "a whole number of characters greater than 0"
    })
  }
  const attributeValueLengthLimit = Option.getOrUndefined(env.attributeValueLengthLimit)
  const disabled = overrides.disabled ?? Option.getOrElse(Option.map(env.disabled, (v) => v === "true"), () => false)
  const metrics = yield* metricsSettings(env, overrides, overrideEndpoint, headerOverride, disabled)

  const settings: Settings = {
    disabled,
    serviceName: overrides.serviceName ??
      Option.getOrUndefined(env.serviceName) ??
      env.resourceAttributes["service.name"] ??
      "unknown_service:node",
    serviceVersion: overrides.serviceVersion ?? env.resourceAttributes["service.version"],
    resourceAttributes: { ...env.resourceAttributes, ...overrides.resourceAttributes },
    tracesUrl,
    // Traces-specific headers are merged over the general ones, as the SDK does.
    headers: Redacted.make({ ...env.headers, ...env.tracesHeaders, ...headerOverride }),
    protocol: overrides.protocol ??
      Option.getOrElse(Option.orElse(env.tracesProtocol, () => env.protocol), () => defaults.protocol),
    compression: overrides.compression ??
      Option.getOrElse(Option.orElse(env.tracesCompression, () => env.compression), () => defaults.compression),
    timeoutMillis,
    batch,
    sampler: overrides.sampler ?? Option.getOrElse(env.sampler, () => defaults.sampler),
    samplerRatio,
    attributeValueLengthLimit,
    propagators: env.propagators,
    genai: {
      captureContent: overrides.captureContent ?? Option.getOrElse(env.captureContent, () => false),
      // Content is JSON: a generic attribute-length cut would break it, so stay under that limit.
      maxContentLength: Math.min(maxContentLength, attributeValueLengthLimit ?? Infinity),
      emitLegacyAttributes: overrides.emitLegacyAttributes ?? env.emitLegacyAttributes
    },
    metrics
  }
  if (overrides.protocol !== undefined && !protocols.includes(overrides.protocol)) {
    return yield* new TracingConfigError({
      variable: "protocol",
      value: overrides.protocol,
      expected: oneOf(protocols)
    })
  }
  if (overrides.sampler !== undefined && !samplers.includes(overrides.sampler)) {
    return yield* new TracingConfigError({ variable: "sampler", value: overrides.sampler, expected: oneOf(samplers) })
  }
  return settings
})

/**
 * The metrics settings: each `_METRICS_` variable wins over the general one, as for traces, and
 * an explicit option over both.
 */
const metricsSettings = Effect.fnUntraced(function*(
  env: {
    readonly metricsExporter: boolean
    readonly endpoint: Option.Option<URL>
    readonly metricsEndpoint: Option.Option<URL>
    readonly headers: Readonly<Record<string, string>>
    readonly metricsHeaders: Readonly<Record<string, string>>
    readonly protocol: Option.Option<Protocol>
    readonly metricsProtocol: Option.Option<Protocol>
    readonly compression: Option.Option<Compression>
    readonly metricsCompression: Option.Option<Compression>
    readonly timeout: Option.Option<number>
    readonly metricsTimeout: Option.Option<number>
    readonly metricInterval: Option.Option<number>
    readonly metricExportTimeout: Option.Option<number>
    readonly temporality: Option.Option<TemporalityPreference>
    readonly exemplarFilter: Option.Option<ExemplarFilter>
  },
  overrides: Overrides,
  overrideEndpoint: URL | undefined,
  headerOverride: Readonly<Record<string, string>> | undefined,
  disabled: boolean
) {
  const options = typeof overrides.metrics === "object" ? overrides.metrics : {}
  const overrideMetricsEndpoint = yield* optionUrl("metrics.endpoint", options.endpoint)
  const url = signalUrl(
    "metrics",
    { option: overrideMetricsEndpoint, variable: env.metricsEndpoint },
    { option: overrideEndpoint, variable: env.endpoint }
  )
  const intervalMillis = options.exportIntervalMillis ??
    Option.getOrElse(env.metricInterval, () => defaults.metricExportIntervalMillis)
  const exportTimeoutMillis = options.exportTimeoutMillis ??
    Option.getOrElse(env.metricExportTimeout, () => defaults.metricExportTimeoutMillis)
  const durations = [["metrics.exportInterval", intervalMillis], [
    "metrics.exportTimeout",
    exportTimeoutMillis
  ]] as const
  for (const [variable, value] of durations) {
    if (!(Number.isInteger(value) && value > 0)) {
      return yield* new TracingConfigError({
        variable,
        value: String(value),
        expected: "a whole number of milliseconds greater than 0"
      })
    }
  }
  const temporality = options.temporality ?? Option.getOrElse(env.temporality, () => "cumulative" as const)
  if (!temporalities.includes(temporality)) {
    return yield* new TracingConfigError({
      variable: "metrics.temporality",
      value: String(temporality),
      expected: oneOf(temporalities)
    })
  }
  const exemplarFilter = options.exemplarFilter ?? Option.getOrElse(env.exemplarFilter, () => "trace_based" as const)
  if (!exemplarFilters.includes(exemplarFilter)) {
    return yield* new TracingConfigError({
      variable: "metrics.exemplarFilter",
      value: String(exemplarFilter),
      expected: oneOf(exemplarFilters)
    })
  }
  const settings: MetricsSettings = {
    enabled: !disabled && overrides.metrics !== false && env.metricsExporter,
    url,
    headers: Redacted.make({ ...env.headers, ...env.metricsHeaders, ...headerOverride }),
    protocol: overrides.protocol ??
      Option.getOrElse(Option.orElse(env.metricsProtocol, () => env.protocol), () => defaults.protocol),
    compression: overrides.compression ??
      Option.getOrElse(Option.orElse(env.metricsCompression, () => env.compression), () => defaults.compression),
    timeoutMillis: overrides.timeoutMillis ??
      Option.getOrElse(Option.orElse(env.metricsTimeout, () => env.timeout), () => defaults.timeoutMillis),
    intervalMillis,
    // As the SDK does: a collection may not take longer than the interval between two.
    exportTimeoutMillis: Math.min(exportTimeoutMillis, intervalMillis),
    temporality,
    exemplarFilter
  }
  return settings
})

const optionUrl = (option: string, value: string | undefined) => {
  if (value === undefined) return Effect.succeed(undefined)
  const url = parseHttpUrl(value)
  return url !== undefined
    ? Effect.succeed(url)
    : Effect.fail(
      new TracingConfigError({
        variable: option,
        value: redactUrlText(value),
        expected: "an absolute http:// or https:// URL"
      })
    )
}

const checkBatch = (batch: BatchSettings, overridden: Partial<BatchSettings> | undefined) => {
  for (const [key, value] of Object.entries(batch) as Array<[keyof BatchSettings, number]>) {
    const minimum = key === "maxQueueSize" || key === "maxExportBatchSize" ? 1 : 0
    if (!(Number.isInteger(value) && value >= minimum)) {
      return Effect.fail(
        new TracingConfigError({
          variable: `batch.${key}`,
          value: String(value),
          expected: `a whole number, ${minimum} or more`
        })
      )
    }
  }
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    const fromOption = overridden?.maxExportBatchSize !== undefined
    return Effect.fail(
      new TracingConfigError({
        variable: fromOption ? "batch.maxExportBatchSize" : "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        value: String(batch.maxExportBatchSize),
        expected: `at most the queue size (${batch.maxQueueSize})`
      })
    )
  }
  return Effect.void
}
