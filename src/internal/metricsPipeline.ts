/**
 * The metrics side of tracing: the GenAI recorder the combinators find in their context, the
 * periodic collection that reads it with Effect's own `Metric`s and the OTel API's instruments
 * (the runtime's meter provider for them, `#platform`), the OTLP/HTTP export it hands them to,
 * the bounded shutdown that sends the last collection, and the summary printed at exit.
 */
import * as Platform from "#platform"
import * as OtelMetrics from "@effect/opentelemetry/OtelMetrics"
import * as Resource from "@effect/opentelemetry/Resource"
import * as Otel from "@opentelemetry/api"
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { CostMeter } from "./agentProcessor.ts"
import type { ApiMeters } from "./apiMeters.ts"
import type { MetricsSettings } from "./config.ts"
import { DeliveryReporter, type DeliveryStats, type Outages, redactUrl, refusable } from "./exporter.ts"
import { AttributeSet, CurrentRecorder, nowMillis, Recorder } from "./metrics.ts"
import { MetricsCollector, type MetricsExporter } from "./metricsCollector.ts"
import { OtlpHttpExporter } from "./otlp.ts"
import { metricsCodec, OtlpMetricExporter } from "./otlpMetrics.ts"
import * as N from "./semconv.ts"
import { durationMetric, LIBRARY_NAME, METRIC_GEN_AI_CLIENT_TOKEN_USAGE, Metrics } from "./semconv.ts"
import { bounded, type Policy } from "./shutdown.ts"
import { renderMetricsSummary, type TerminalOptions } from "./terminal.ts"
import { version } from "./version.ts"
import type { RunReport } from "./viewer/runReport.ts"

/** The metrics' OTLP/HTTP export, with its delivery counts. */
export interface MetricsExport {
  readonly exporter: MetricsExporter
  readonly settings: MetricsSettings
  readonly stats: () => DeliveryStats
  readonly beginShutdown: () => void
  /** Ends exports in flight; returns the data points lost. */
  readonly abort: () => number
  /** Collects and sends the current points (once the layer started its collection); resolves when answered. */
  readonly flush: () => Promise<void>
  /** Data points on the wire, not yet answered for. */
  readonly pending: () => number
  /** Where `flush` collects from: set by {@link layer}. */
  readonly attach: (collector: MetricsCollector | undefined) => void
}

const metricUnit = { one: "metric data point", many: "metric data points", goesOn: "The program goes on" }

/** The metrics export to `settings.url`, failures said once through `warn` (a collector down once per `outages`). */
export const otlp = (
  settings: MetricsSettings,
  warn: (message: string) => void,
  outages: Outages,
  /** The run's report, which keeps every collection. */
  report?: RunReport
): MetricsExport => {
  const headers = Redacted.value(settings.headers)
  const reporter: DeliveryReporter = new DeliveryReporter(
    redactUrl(settings.url),
    warn,
    () => transport.retries,
    Object.values(headers),
    metricUnit,
    outages
  )
  const { report: outcome, refused } = refusable(reporter, warn, redactUrl(settings.url), {
    name: "metrics",
    endpointVariable: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    exporterVariable: "OTEL_METRICS_EXPORTER"
  })
  const transport: OtlpHttpExporter<ResourceMetrics> = new OtlpHttpExporter(
    {
      url: settings.url,
      protocol: settings.protocol,
      headers,
      compression: settings.compression,
      timeoutMillis: settings.timeoutMillis
    },
    outcome,
    metricsCodec
  )
  let collector: MetricsCollector | undefined
  return {
    exporter: new OtlpMetricExporter(transport, refused, report),
    settings,
    stats: () => reporter.stats(),
    beginShutdown: () => transport.beginShutdown(),
    abort: () => transport.abort(),
    flush: () => collector?.flush() ?? Promise.resolve(),
    pending: () => transport.unsettledItems(),
    attach: (attached) => {
      collector = attached
    }
  }
}

/**
 * The GenAI recorder as `CurrentRecorder`: exported through `export` when there is one, summed up
 * on `print` at release, or only kept in memory (`record`, for tests). With none of the three the
 * combinators find no recorder and record nothing.
 */
export const layer = (options: {
  readonly export?: MetricsExport | undefined
  readonly print?: TerminalOptions | undefined
  readonly record?: boolean | undefined
  /** Make the meter provider the OTel API's global one (see `Options.registerGlobal`). */
  readonly registerGlobal?: boolean | undefined
  readonly shutdown: Policy
  /** Connected to the recorder while it runs: the span processor's costs become points. */
  readonly costMeter?: CostMeter | undefined
}): Layer.Layer<never, never, Resource.Resource> => {
  const pipeline = options.export
  if (pipeline === undefined && options.print === undefined && options.record !== true) return Layer.empty
  return Layer.effect(
    CurrentRecorder,
    Effect.gen(function*() {
      const resource = yield* Resource.Resource
      const recorder = new Recorder(Metrics, {
        temporality: pipeline?.settings.temporality ?? "cumulative",
        exemplarFilter: pipeline?.settings.exemplarFilter ?? "trace_based",
        resource,
        scope: { name: LIBRARY_NAME, version }
      })
      // Finalizers run last first: the summary is printed after the last collection went out.
      yield* Effect.addFinalizer(() => Effect.sync(() => printSummary(recorder, options.print)))
      const meter = options.costMeter
      if (meter !== undefined) {
        meter.record = costRecorder(recorder)
        yield* Effect.addFinalizer(() => Effect.sync(() => (meter.record = undefined)))
      }
      if (pipeline === undefined) return recorder
      const effectMetrics = yield* OtelMetrics.makeProducer(
        pipeline.settings.temporality === "cumulative" ? "cumulative" : "delta"
      )
      const meters = Platform.meterProvider(resource, pipeline.settings.temporality, recorder)
      const collector = new MetricsCollector(
        [...(meters.producer === undefined ? [] : [meters.producer]), recorder, effectMetrics],
        pipeline.exporter,
        {
          resource,
          intervalMillis: pipeline.settings.intervalMillis,
          exportTimeoutMillis: pipeline.settings.exportTimeoutMillis
        }
      )
      collector.start()
      pipeline.attach(collector)
      yield* Effect.addFinalizer(() =>
        Effect.andThen(
          Effect.sync(() => pipeline.attach(undefined)),
          lastCollection(collector, meters, pipeline, options.shutdown)
        )
      )
      // Libraries instrumented with the OTel metrics API report through the same collection.
      yield* Effect.acquireRelease(
        Effect.sync(() => options.registerGlobal === true && Otel.metrics.setGlobalMeterProvider(meters.provider)),
        (registered) => Effect.sync(() => registered && Otel.metrics.disable())
      )
      return recorder
    })
  )
}

/** The last collection goes out within the shutdown bound, like the spans. */
const lastCollection = (collector: MetricsCollector, meters: ApiMeters, pipeline: MetricsExport, policy: Policy) =>
  bounded(
    () => {
      pipeline.beginShutdown()
      return collector.shutdown().finally(() => meters.shutdown?.())
    },
    policy,
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
    tokens: [
      { name: METRIC_GEN_AI_CLIENT_TOKEN_USAGE },
      { name: N.METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS, type: N.TokenType.input },
      { name: N.METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS, type: N.TokenType.output },
      { name: N.METRIC_GEN_AI_CLIENT_EMBEDDINGS_INPUT_TOKENS, type: N.TokenType.input }
    ],
    durations: [...new Set([...Object.values(durationMetric), ...Object.values(N.latestDurationMetric)])]
  }, terminal.colors ?? process.stdout.isTTY === true)
  if (text !== "") (terminal.write ?? ((t: string) => process.stdout.write(t)))(text)
}

/** The span attributes a cost point carries, as the duration and token points of the same call do. */
const costKeys = [
  N.ATTR_GEN_AI_OPERATION_NAME,
  N.ATTR_GEN_AI_PROVIDER_NAME,
  N.ATTR_GEN_AI_REQUEST_MODEL,
  N.ATTR_GEN_AI_RESPONSE_MODEL,
  N.ATTR_SERVER_ADDRESS,
  N.ATTR_SERVER_PORT
] as const

/**
 * Records an inference's cost on `gen_ai.client.operation.cost`, with its currency and source,
 * its exemplar pointing at the span. Attribute sets are kept per distinct call shape (at most 256).
 */
const costRecorder = (recorder: Recorder): NonNullable<CostMeter["record"]> => {
  const histogram = recorder.histogram(N.METRIC_GEN_AI_CLIENT_OPERATION_COST)
  const sets = new Map<string, AttributeSet>()
  return (amount, currency, source, span) => {
    const values: Record<string, string | number | boolean> = {
      [N.ATTR_GEN_AI_USAGE_COST_CURRENCY]: currency,
      [N.ATTR_GEN_AI_USAGE_COST_SOURCE]: source
    }
    for (const key of costKeys) {
      const value = span.attributes[key]
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") values[key] = value
    }
    const key = JSON.stringify(values)
    let set = sets.get(key)
    if (set === undefined) {
      set = new AttributeSet(values)
      if (sets.size < 256) sets.set(key, set)
    }
    const context = span.spanContext()
    histogram.record(amount, set, {
      traceId: context.traceId,
      spanId: context.spanId,
      sampled: (context.traceFlags & 1) === 1
    }, nowMillis())
  }
}
