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
import type * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import type * as Resource from "@effect/opentelemetry/Resource"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Config from "./internal/config.ts"
import { type DeliveryStats, noDeliveries, Outages } from "./internal/exporter.ts"
import { type FlushCounts, type FlushResult, nothingFlushed } from "./internal/flush.ts"
import * as LogsPipeline from "./internal/logsPipeline.ts"
import * as MetricsPipeline from "./internal/metricsPipeline.ts"
import * as Prices from "./internal/prices.ts"
import type * as Shutdown from "./internal/shutdown.ts"
import * as TracePipeline from "./internal/tracePipeline.ts"
import { compose, runReport } from "./internal/tracing.ts"
import { type Options, terminalOf, toOverrides } from "./internal/tracingOptions.ts"

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
  /** What one {@link flush} came to, for spans, metric data points or log records. @since 0.4.0 */
  FlushCounts,
  /** What {@link flush} came to. @since 0.4.0 */
  FlushResult
} from "./internal/flush.ts"
export type {
  /** @since 0.1.0 */
  TerminalOptions
} from "./internal/terminal.ts"
export type {
  /** @since 0.4.0 */
  LogsOptions,
  /** @since 0.3.0 */
  MetricsOptions,
  /** @since 0.1.0 */
  Options
} from "./internal/tracingOptions.ts"

/**
 * How span delivery to the collector is going: spans exported and lost so far, and a way to send
 * what has ended now ({@link flush}).
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
  /**
   * The same counts for log records (`exportedSpans` counts records there); all zero when logs
   * are off.
   */
  readonly logStats: Effect.Effect<DeliveryStats>
  /** See {@link flush}. */
  readonly flush: (timeout: Duration.Duration) => Effect.Effect<FlushResult>
}>()("beluga-o11y/Tracing/Delivery") {}

/**
 * Sends every span that has ended, the current metric points and the log records emitted, and waits — at most `timeout`
 * (default 5 seconds) — for the collector to answer for them. What a serverless function or a
 * worker calls before its response is finished, because the runtime may freeze the instance
 * right after (see `Serverless`). A collector that is down or slow costs the caller at most the
 * timeout: what is still pending then goes on in the background, bounded by the export timeout.
 *
 * Safe to call concurrently (each call waits for what had ended when it began) and after the
 * layer's release (a no-op whose result says `released`).
 *
 * @example
 * ```ts
 * const result = yield* Tracing.flush({ timeout: "2 seconds" })
 * if (!result.complete) console.warn(`${result.spans.pending} spans still on their way`)
 * ```
 *
 * @since 0.4.0
 * @category flushing
 */
export const flush = (
  options: { readonly timeout?: Duration.Input | undefined } = {}
): Effect.Effect<FlushResult, never, Delivery> =>
  Effect.flatMap(
    Delivery,
    (delivery) => delivery.flush(Duration.fromInputUnsafe(options.timeout ?? defaultFlushTimeout))
  )

/**
 * What {@link layer} provides: the OTel tracer and resource (for code that wants to use the
 * OTel API directly) and {@link Delivery}. Effect's own `Tracer` is replaced as well.
 *
 * @since 0.1.0
 * @category models
 */
export type Provides = OtelTracer.OtelTracer | Resource.Resource | Delivery

const defaultShutdownTimeout = Duration.seconds(5)
const defaultFlushTimeout = Duration.seconds(5)
const stderrWarning = (message: string) => {
  // Workers and edge runtimes have no stderr stream; their console is where logs go.
  if (typeof process !== "undefined" && typeof process.stderr?.write === "function") {
    process.stderr.write(`${message}\n`)
  } else console.warn(message)
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
    Effect.map(
      Effect.flatMap(Config.load(toOverrides(options)), (settings) =>
        Effect.map(Prices.load(settings.pricesFile, options.prices), (prices) => ({ settings, prices }))),
      ({ settings, prices }) => {
        const warn = options.onWarning ?? stderrWarning
        const outages = new Outages()
        const terminal = terminalOf(options.printTraces)
        const report = runReport(settings, warn)
        const spans = TracePipeline.otlp(settings, { warn, outages, terminal, report })
        const metrics = settings.metrics.enabled
          ? MetricsPipeline.otlp(settings.metrics, warn, outages, report)
          : undefined
        const logs = settings.logs.enabled ? LogsPipeline.otlp(settings.logs, warn, outages, report) : undefined
        const registerGlobal = options.registerGlobal ?? true
        const shutdown: Shutdown.Policy = {
          timeout: options.shutdownTimeout ?? defaultShutdownTimeout,
          // These messages may quote an export error: the export's headers stay out of them.
          warn: (message) =>
            warn(spans.scrub(message))
        }
        return Layer.merge(
          compose(settings, spans, {
            shutdown,
            registerGlobal,
            prices,
            redact: options.redact,
            metrics: { export: metrics, print: settings.disabled ? undefined : terminal },
            logs,
            report
          }),
          Layer.effect(
            Delivery,
            Effect.gen(function*() {
              let released = false
              yield* Effect.addFinalizer(() => Effect.sync(() => (released = true)))
              return Delivery.of({
                stats: Effect.sync(spans.stats),
                metricStats: Effect.sync(() => metrics?.stats() ?? noDeliveries),
                logStats: Effect.sync(() => logs?.stats() ?? noDeliveries),
                flush: (timeout) =>
                  Effect.suspend(() =>
                    released ? Effect.succeed(releasedFlush) : flushAll(spans, metrics, logs, timeout)
                  )
              })
            })
          )
        )
      }
    )
  )

const releasedFlush = nothingFlushed(true)
const nothing = releasedFlush.spans

interface Flushable {
  readonly flush: () => Promise<void>
  readonly pending: () => number
  readonly stats: () => DeliveryStats
}

const lostOf = (stats: DeliveryStats) => stats.failedSpans + stats.rejectedSpans + stats.droppedSpans

const counts = (side: Flushable | undefined, was: DeliveryStats): FlushCounts => {
  if (side === undefined) return nothing
  const now = side.stats()
  return {
    delivered: now.exportedSpans - was.exportedSpans,
    lost: lostOf(now) - lostOf(was),
    pending: side.pending()
  }
}

const flushAll = (
  spans: Flushable,
  metrics: Flushable | undefined,
  logs: Flushable | undefined,
  timeout: Duration.Duration
): Effect.Effect<FlushResult> =>
  Effect.gen(function*() {
    const before = {
      spans: spans.stats(),
      metrics: metrics?.stats() ?? noDeliveries,
      logs: logs?.stats() ?? noDeliveries
    }
    // All sides at once; what is not answered within the timeout keeps going in the background.
    yield* Effect.promise(() => Promise.all([spans.flush(), metrics?.flush(), logs?.flush()]).then(() => undefined))
      .pipe(Effect.timeoutOption(timeout))
    const result = {
      spans: counts(spans, before.spans),
      metricPoints: counts(metrics, before.metrics),
      logRecords: counts(logs, before.logs)
    }
    return {
      ...result,
      complete: result.spans.pending === 0 && result.metricPoints.pending === 0 && result.logRecords.pending === 0,
      released: false
    }
  })

/**
 * The one layer most programs need: tracing configured entirely from the environment, exporting
 * to `http://localhost:4318` over OTLP/HTTP (protobuf) unless told otherwise.
 *
 * @since 0.1.0
 * @category layers
 */
export const TracingLive: Layer.Layer<Provides, Config.TracingConfigError> = layer()
