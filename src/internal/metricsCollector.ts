/**
 * The metrics side's periodic collection: every interval, on `flush` and at shutdown it collects
 * from its producers — the GenAI recorder, Effect's `Metric` module and, where the runtime has
 * them, the instruments made through the OTel metrics API (`apiMeters.ts`, by `#platform`) — and
 * hands the one request they make to the OTLP export.
 *
 * Why not the SDK's `PeriodicExportingMetricReader`? It comes bound to the SDK's `MeterProvider`,
 * 45 KB of a worker's bundle that workers do without. This is what that reader did for us:
 * collections never overlap (a tick during one is skipped, a flush waits for it and then collects
 * afresh), each export is bounded by the export timeout, the timer does not keep the process
 * alive, and the last collection goes out at shutdown.
 */
import * as Otel from "@opentelemetry/api"
import type { Resource } from "@opentelemetry/resources"
import type { MetricProducer, ResourceMetrics } from "@opentelemetry/sdk-metrics"
import { unrefTimer } from "./httpClient.ts"
import { LIBRARY_NAME } from "./semconv.ts"

/** Where a collection goes (`otlpMetrics.ts`'s exporter). */
export interface MetricsExporter {
  /** Resolves once the request is answered for: delivered, or counted as lost. */
  readonly export: (metrics: ResourceMetrics) => Promise<void>
  /** Resolves once every request sent is answered for. */
  readonly forceFlush: () => Promise<void>
  readonly shutdown: () => Promise<void>
}

export interface CollectorOptions {
  /** The resource of every request (the producers' are the same one). */
  readonly resource: Resource
  readonly intervalMillis: number
  /** One export's bound, as `OTEL_METRIC_EXPORT_TIMEOUT` says. */
  readonly exportTimeoutMillis: number
}

export class MetricsCollector {
  private timer: ReturnType<typeof setInterval> | undefined
  /** The collection and export under way; it never rejects. */
  private running: Promise<void> | undefined
  private closed = false

  constructor(
    private readonly producers: ReadonlyArray<MetricProducer>,
    private readonly exporter: MetricsExporter,
    private readonly options: CollectorOptions
  ) {}

  /** Starts the periodic collection. */
  start(): void {
    this.timer = setInterval(() => {
      if (this.running === undefined) void this.run()
    }, this.options.intervalMillis)
    unrefTimer(this.timer)
  }

  /**
   * Collects and sends the points as they are now, then waits for every export sent to be
   * answered. A collection under way when it is called was made before: it waits for it, then
   * collects again (unless another caller did meanwhile).
   */
  async flush(): Promise<void> {
    if (this.closed) return
    await this.running
    await (this.running ?? this.run())
    await this.exporter.forceFlush()
  }

  /** Stops the timer, sends the last collection and ends the export. */
  async shutdown(): Promise<void> {
    if (this.closed) return
    clearInterval(this.timer)
    await this.flush()
    this.closed = true
    await this.exporter.shutdown()
  }

  private run(): Promise<void> {
    const run = this.collectAndExport()
      .catch((error: unknown) => Otel.diag.error(`${LIBRARY_NAME}: metrics collection failed`, error))
      .finally(() => (this.running = undefined))
    this.running = run
    return run
  }

  private async collectAndExport(): Promise<void> {
    const timeoutMillis = this.options.exportTimeoutMillis
    const results = await Promise.all(this.producers.map((producer) => producer.collect({ timeoutMillis })))
    const errors = results.flatMap((result) => result.errors)
    // An instrument's callback that threw: the SDK's reader said it through `diag` as well.
    if (errors.length > 0) Otel.diag.error(`${LIBRARY_NAME}: metrics collection errors`, ...errors)
    const scopeMetrics = results.flatMap((result) => result.resourceMetrics.scopeMetrics)
    if (scopeMetrics.length === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    // Past the timeout the export goes on (bounded by its own timeout); the next tick may start.
    await Promise.race([
      this.exporter.export({ resource: this.options.resource, scopeMetrics }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMillis)
        unrefTimer(timer)
      })
    ])
    clearTimeout(timer)
  }
}
