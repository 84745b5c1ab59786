/**
 * A run's self-contained HTML report, written at release: what a CI job keeps as an artifact. It
 * is fed beside the export — every span as it ends, every metrics collection, every sealed batch
 * of log records — and keeps them as the OTLP request bodies the exporters were handed (spans and
 * metrics encoded as protobuf by the library's own serializers, log batches in the export's own
 * encoding), read back at the end by the viewer's own decoders. So it holds the run whether the
 * collector took it, was down, or refused logs.
 *
 * The viewer's code (and `node:sqlite`) loads only when the report is written, so a pipeline can
 * hold this at no cost to programs that never ask for a report. Each signal is bounded. Spans and
 * log records keep the run's first ones (whole batches of logs, by count and by bytes); metrics
 * keep the latest collections, which under cumulative temporality (the default) hold the run's
 * totals. The warning at write says what was left out.
 */
import type { ExportResult } from "@opentelemetry/core"
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics"
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Protocol } from "../config.ts"
import { metricsCodec } from "../otlpMetrics.ts"
import { encodeSpans } from "../otlpTraces.ts"
import type { EncodedBatch } from "../spanBatcher.ts"

/** What a report keeps by default of each signal. */
export const defaultReportLimits = {
  spans: 100_000,
  logRecords: 100_000,
  /** The log batches' bodies, together: content events can carry whole conversations. */
  logBytes: 64 * 1024 * 1024,
  /** The metrics collections' protobuf bodies, together. */
  metricBytes: 64 * 1024 * 1024
} as const

export type ReportLimits = { readonly [K in keyof typeof defaultReportLimits]: number }

const size = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MB` : `${Math.round(bytes / 1024)} KB`

export class RunReport {
  private readonly traces: Array<Uint8Array> = []
  private readonly metrics: Array<Uint8Array> = []
  private readonly logs: Array<{ readonly body: Uint8Array; readonly protocol: Protocol }> = []
  private spansKept = 0
  private spansLeft = 0
  private metricBytes = 0
  private collectionsLeft = 0
  private logsKept = 0
  private logBytes = 0
  private logsLeft = 0
  private written = false

  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
    private readonly limits: ReportLimits = defaultReportLimits
  ) {}

  /** The spans' side, for a simple span processor: each span is kept as it ends. */
  readonly spans: SpanExporter = {
    export: (spans: Array<ReadableSpan>, done: (result: ExportResult) => void): void => {
      const room = Math.max(0, this.limits.spans - this.spansKept)
      const taken = spans.length <= room ? spans : spans.slice(0, room)
      this.spansLeft += spans.length - taken.length
      if (taken.length > 0) {
        // A copy: the encoder reuses its buffer for the next call.
        this.traces.push(encodeSpans(taken, "http/protobuf").slice())
        this.spansKept += taken.length
      }
      done({ code: 0 })
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve()
  }

  /** One metrics collection, as it goes to the exporter; past the bound, the oldest ones make room. */
  addMetrics(collection: ResourceMetrics): void {
    if (this.written) return
    let body: Uint8Array | undefined
    try {
      body = metricsCodec.serialize(collection, "http/protobuf")
    } catch {
      // What the export cannot serialize either; the report must not stop the export.
    }
    if (body === undefined) return
    this.metrics.push(body)
    this.metricBytes += body.byteLength
    while (this.metricBytes > this.limits.metricBytes && this.metrics.length > 1) {
      this.metricBytes -= this.metrics.shift()!.byteLength
      this.collectionsLeft++
    }
  }

  /** One sealed batch of log records, in the logs export's encoding (a fresh body, kept as it is). */
  addLogs(batch: EncodedBatch, protocol: Protocol): void {
    if (this.written) return
    const full = this.logsLeft > 0 ||
      this.logsKept + batch.items > this.limits.logRecords ||
      this.logBytes + batch.body.byteLength > this.limits.logBytes
    if (full) {
      this.logsLeft += batch.items
      return
    }
    this.logs.push({ body: batch.body, protocol })
    this.logsKept += batch.items
    this.logBytes += batch.body.byteLength
  }

  /** Writes the report, once every signal has handed over its last; later calls do nothing. */
  async write(): Promise<void> {
    if (this.written) return
    this.written = true
    try {
      const { renderReportFromRequests } = await import("./report.ts")
      const html = renderReportFromRequests({ traces: this.traces, metrics: this.metrics, logs: this.logs })
      fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true })
      fs.writeFileSync(this.file, html)
      const left = [
        this.spansLeft > 0 ? `the first ${this.spansKept} spans (${this.spansLeft} more were left out)` : "",
        this.logsLeft > 0
          ? `the first ${this.logsKept} log records (${this.logsLeft} more were left out)`
          : "",
        this.collectionsLeft > 0
          ? `the latest metrics collections, up to ${size(this.limits.metricBytes)} ` +
            `(${this.collectionsLeft} earlier ones were left out)`
          : ""
      ].filter((part) => part !== "")
      if (left.length > 0) this.warn(`beluga-o11y: the report ${this.file} keeps ${left.join("; ")}`)
    } catch (error) {
      this.warn(`beluga-o11y: could not write the report ${this.file}: ${(error as Error).message}`)
    } finally {
      this.traces.length = 0
      this.metrics.length = 0
      this.logs.length = 0
    }
  }
}
