/**
 * The tracing layer's composition, shared by `Tracing.layer`, `Testing.layer` and the benchmark:
 * the resource under everything, the metrics side, the logs side and the tracer provider side by
 * side, and the GenAI settings. Callers add their own services (delivery counts, the in-memory spans).
 */
import * as Platform from "#platform"
import type * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import type * as Resource from "@effect/opentelemetry/Resource"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { CostMeter } from "./agentProcessor.ts"
import type { Settings } from "./config.ts"
import * as LogsPipeline from "./logsPipeline.ts"
import * as MetricsPipeline from "./metricsPipeline.ts"
import { Settings as GenAISettings } from "./operation.ts"
import * as TracingResource from "./resource.ts"
import type { SpanPipeline } from "./tracePipeline.ts"
import * as TracerProvider from "./tracerProvider.ts"
import type { RunReport } from "./viewer/runReport.ts"

/** How the metrics side is built: `MetricsPipeline.layer`'s options less those the tracer shares. */
export type MetricsOptions = Omit<
  Parameters<typeof MetricsPipeline.layer>[0],
  "shutdown" | "registerGlobal" | "costMeter"
>

/**
 * Tracing from validated settings and a span pipeline. Merged, so that release sends the last
 * metrics, the last log records and the last spans side by side, each within the shutdown bound;
 * layers release last first, so the spans' flush starts first. The spans and the metrics meet in
 * one place: the span processor that prices inferences records each cost through `costMeter`,
 * which the metrics side connects to its recorder while it runs. The logs side also sets Effect's
 * loggers (the program's own, plus the exporting one, less the span events' when turned off).
 */
export const compose = (
  settings: Settings,
  spans: SpanPipeline,
  options: TracerProvider.TracerOptions & {
    readonly metrics: MetricsOptions
    /** The logs' export; without one, `Effect.log*` lines are span events only (if `logs.spanEvents`). */
    readonly logs?: LogsPipeline.LogsExport | undefined
    /** Written once spans, metrics and logs have all shut down and handed it their last. */
    readonly report?: RunReport | undefined
  }
): Layer.Layer<OtelTracer.OtelTracer | Resource.Resource> =>
  Layer.suspend(() => {
    const costMeter: CostMeter = { record: undefined }
    return Layer.mergeAll(
      MetricsPipeline.layer({
        ...options.metrics,
        registerGlobal: options.registerGlobal,
        shutdown: options.shutdown,
        costMeter
      }),
      LogsPipeline.layer({
        export: options.logs,
        effectLogs: settings.logs.effectLogs,
        spanEvents: settings.logs.spanEvents,
        shutdown: options.shutdown
      }),
      TracerProvider.layer(settings, spans, { ...options, costMeter }),
      Layer.succeed(GenAISettings, settings.genai)
    )
  }).pipe(Layer.provideMerge(Layer.merge(TracingResource.layer(settings), reportWriter(options.report))))

/** The run's report when one is asked for (`report`, `BELUGA_REPORT`) and the SDK is not disabled. */
export const runReport = (settings: Settings, warn: (message: string) => void): RunReport | undefined =>
  settings.report === undefined || settings.disabled ? undefined : Platform.runReport(settings.report, warn)

/** Built before the pipelines, so released after them: the report is written once they have all shut down. */
const reportWriter = (report: RunReport | undefined): Layer.Layer<never> =>
  report === undefined
    ? Layer.empty
    : Layer.effectDiscard(Effect.addFinalizer(() => Effect.promise(() => report.write())))
