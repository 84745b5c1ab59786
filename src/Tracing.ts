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
import * as MetricsPipeline from "./internal/metricsPipeline.ts"
import type * as Shutdown from "./internal/shutdown.ts"
import * as TracePipeline from "./internal/tracePipeline.ts"
import { compose } from "./internal/tracing.ts"
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
  /** @since 0.1.0 */
  TerminalOptions
} from "./internal/terminal.ts"
export type {
  /** @since 0.3.0 */
  MetricsOptions,
  /** @since 0.1.0 */
  Options
} from "./internal/tracingOptions.ts"

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
      const outages = new Outages()
      const terminal = terminalOf(options.printTraces)
      const spans = TracePipeline.otlp(settings, { warn, outages, terminal })
      const metrics = settings.metrics.enabled ? MetricsPipeline.otlp(settings.metrics, warn, outages) : undefined
      const registerGlobal = options.registerGlobal ?? true
      const shutdown: Shutdown.Policy = {
        timeout: options.shutdownTimeout ?? defaultShutdownTimeout,
        // These messages may quote an export error: the export's headers stay out of them.
        warn: (message) => warn(spans.scrub(message))
      }
      return Layer.merge(
        compose(settings, spans, {
          shutdown,
          registerGlobal,
          prices: options.prices,
          redact: options.redact,
          metrics: { export: metrics, print: settings.disabled ? undefined : terminal }
        }),
        Layer.succeed(
          Delivery,
          Delivery.of({
            stats: Effect.sync(spans.stats),
            metricStats: Effect.sync(() => metrics?.stats() ?? noDeliveries)
          })
        )
      )
    })
  )

/**
 * The one layer most programs need: tracing configured entirely from the environment, exporting
 * to `http://localhost:4318` over OTLP/HTTP (protobuf) unless told otherwise.
 *
 * @since 0.1.0
 * @category layers
 */
export const TracingLive: Layer.Layer<Provides, Config.TracingConfigError> = layer()
