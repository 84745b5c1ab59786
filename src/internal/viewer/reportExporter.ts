/**
 * A span exporter that keeps a run's spans and writes them as the viewer's self-contained HTML
 * report when the tracer provider shuts down: what a CI job keeps as an artifact. The spans are
 * encoded as OTLP protobuf by the library's own serializer, as the exporter sends them, and read
 * back by the viewer's own decoder, so the report shows exactly what a collector would have
 * received. The viewer's code (and `node:sqlite`) loads only when the report is written, so a
 * pipeline can hold this exporter at no cost to programs that never ask for a report.
 */
import type { ExportResult } from "@opentelemetry/core"
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace"
import * as fs from "node:fs"
import * as path from "node:path"
import { encodeSpans } from "../otlpTraces.ts"

/** Spans a report keeps by default: beyond it the newest are left out, and the report says how many. */
export const defaultReportSpans = 100_000

export class ReportExporter implements SpanExporter {
  private readonly batches: Array<Uint8Array> = []
  private kept = 0
  private dropped = 0
  private written = false

  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
    readonly maxSpans = defaultReportSpans
  ) {}

  export(spans: Array<ReadableSpan>, done: (result: ExportResult) => void): void {
    const room = Math.max(0, this.maxSpans - this.kept)
    const taken = spans.length <= room ? spans : spans.slice(0, room)
    this.dropped += spans.length - taken.length
    if (taken.length > 0) {
      // A copy: the encoder reuses its buffer for the next call.
      this.batches.push(encodeSpans(taken, "http/protobuf").slice())
      this.kept += taken.length
    }
    done({ code: 0 })
  }

  /** Writes the report; later calls do nothing. */
  async shutdown(): Promise<void> {
    if (this.written) return
    this.written = true
    try {
      const { renderReportFromProtobuf } = await import("./report.ts")
      fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true })
      fs.writeFileSync(this.file, renderReportFromProtobuf({ traces: this.batches }))
      if (this.dropped > 0) {
        this.warn(
          `beluga-o11y: the report ${this.file} keeps the first ${this.kept} spans; ${this.dropped} more were left out`
        )
      }
    } catch (error) {
      this.warn(`beluga-o11y: could not write the report ${this.file}: ${(error as Error).message}`)
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve()
  }
}
