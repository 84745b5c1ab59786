/**
 * Where spans go once they end: the exporting span processors, and what the tracer provider needs
 * to count deliveries and shut them down within a bound. `otlp` is the real pipeline (the OTLP/HTTP
 * exporter, its delivery reporter and the batch processor, plus the terminal view when asked);
 * `inMemory` keeps finished spans for tests.
 */
import { TraceFlags } from "@opentelemetry/api"
import type { InMemorySpanExporter, ReadableSpan, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Redacted from "effect/Redacted"
import type { Settings } from "./config.ts"
import { DeliveryReporter, type DeliveryStats, noDeliveries, type Outages, redactUrl } from "./exporter.ts"
import { encodedBatchCodec, OtlpHttpExporter } from "./otlp.ts"
import { spanEncoder } from "./otlpTraces.ts"
import { SpanBatcher } from "./spanBatcher.ts"
import { TerminalExporter, type TerminalOptions } from "./terminal.ts"
import type { RunReport } from "./viewer/runReport.ts"

/** The exporting end of the span processors, and its delivery counts. */
export interface SpanPipeline {
  /** Run after the library's own processors (agent roll-ups, redaction), in this order. */
  readonly processors: ReadonlyArray<SpanProcessor>
  readonly stats: () => DeliveryStats
  /** Tells the exporter the program is ending, before the final flush. */
  readonly beginShutdown?: (() => void) | undefined
  /** Ends exports still in flight once the shutdown budget is spent; returns the spans lost. */
  readonly abort?: (() => number) | undefined
}

/** The OTLP pipeline, and a way to keep its secrets out of the library's other messages. */
export interface OtlpSpanPipeline extends SpanPipeline {
  /** Replaces every export header value in `text`: a message may quote a collector's answer. */
  readonly scrub: (text: string) => string
  /** Sends every span that has ended; resolves once the collector answered for them. */
  readonly flush: () => Promise<void>
  /** Spans queued or on the wire, not yet answered for. */
  readonly pending: () => number
}

/**
 * The spans' OTLP/HTTP export, batched, with deliveries counted and failures said once through
 * `warn`; `terminal` also prints each finished trace. A disabled SDK exports nothing, yet still
 * answers for its (empty) deliveries.
 */
export const otlp = (
  settings: Settings,
  options: {
    readonly warn: (message: string) => void
    /** Shared with the metrics' reporter: one collector down is said once, whichever signal finds it. */
    readonly outages: Outages
    readonly terminal?: TerminalOptions | undefined
    /** The run's report, which keeps every span as it ends. */
    readonly report?: RunReport | undefined
  }
): OtlpSpanPipeline => {
  const headers = Redacted.value(settings.headers)
  const reporter: DeliveryReporter = new DeliveryReporter(
    redactUrl(settings.tracesUrl),
    options.warn,
    () => exporter.retries,
    Object.values(headers),
    undefined,
    options.outages
  )
  const exporter = new OtlpHttpExporter(
    {
      url: settings.tracesUrl,
      protocol: settings.protocol,
      headers,
      compression: settings.compression,
      timeoutMillis: settings.timeoutMillis
    },
    reporter.report,
    encodedBatchCodec
  )
  const batch = new SpanBatcher(spanEncoder(settings.protocol), exporter, settings.batch, reporter.dropped)
  reporter.queued = () => batch.queued()
  const processors: Array<SpanProcessor> = []
  if (!settings.disabled) {
    processors.push(batch)
    if (options.terminal !== undefined) processors.push(new ExportEachSpan(new TerminalExporter(options.terminal)))
    if (options.report !== undefined) processors.push(new ExportEachSpan(options.report.spans))
  }
  return {
    processors,
    stats: () => reporter.stats(),
    beginShutdown: () => exporter.beginShutdown(),
    abort: () => {
      const queued = batch.abandon()
      reporter.abandoned(queued)
      return exporter.abort() + queued
    },
    scrub: (text) => reporter.scrub(text),
    flush: () => settings.disabled ? Promise.resolve() : batch.forceFlush(),
    pending: () => batch.queued() + exporter.unsettledItems()
  }
}

/**
 * Hands each sampled span to `exporter` the moment it ends, as the SDK's `SimpleSpanProcessor` does,
 * for exporters that keep or print spans in the process (the terminal view, the run report, the test
 * kit's memory): they make no spans of their own and have no wire to fail on. The SDK's processor
 * would bring its self-metrics and a promise per span into every bundle (3.2 KB of a worker's).
 */
class ExportEachSpan implements SpanProcessor {
  constructor(private readonly exporter: SpanExporter) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) this.exporter.export([span], ignoreResult)
  }

  forceFlush(): Promise<void> {
    return this.exporter.forceFlush?.() ?? Promise.resolve()
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown()
  }
}

const ignoreResult = (): void => {}

/** Finished spans kept in `exporter`, each readable the moment it ends (simple, not batched). */
export const inMemory = (exporter: InMemorySpanExporter): SpanPipeline => ({
  processors: [new ExportEachSpan(exporter)],
  stats: () => ({ ...noDeliveries, exportedSpans: exporter.getFinishedSpans().length })
})
