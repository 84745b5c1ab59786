/**
 * A self-contained HTML report of a run: the viewer's page with the traces, their spans, the
 * conversations and the histograms embedded, so it opens from disk (or a CI artifact) with no
 * server and no network. Built from OTLP/JSON captured to a file (one request, an array of them,
 * or one per line as the collector's file exporter writes), or from the protobuf requests an
 * exporter would have sent.
 */
import type { ReportData } from "./client.ts"
import {
  decodeMetricsJson,
  decodeMetricsProtobuf,
  decodeTracesJson,
  decodeTracesProtobuf,
  OtlpError,
  type RawHistogramPoint,
  type RawSpan
} from "./otlpDecode.ts"
import { page } from "./page.ts"
import { Store } from "./store.ts"

/** The report's data: every trace, each one's spans, the conversations and the histograms. */
export const reportData = (spans: ReadonlyArray<RawSpan>, points: ReadonlyArray<RawHistogramPoint>): ReportData => {
  const store = new Store({ file: ":memory:", maxTraces: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY })
  try {
    store.addSpans(spans)
    store.addHistograms(points)
    const rows: Array<ReportData["rows"][number]> = []
    for (let offset = 0;; offset += 500) {
      const batch = store.traces({ sort: "start", order: "desc", offset, limit: 500 }).rows
      rows.push(...batch)
      if (batch.length < 500) break
    }
    const traceSpans = Object.fromEntries(rows.map((row) => [row.traceId, store.trace(row.traceId)]))
    const conversations = store.conversations(Number.MAX_SAFE_INTEGER)
    return {
      generatedAt: Date.now(),
      rows,
      spans: traceSpans,
      spanServices: Object.fromEntries(
        Object.entries(traceSpans).map(([id, list]) => [id, [...new Set(list.map((s) => s.service))]])
      ),
      spanNames: Object.fromEntries(
        Object.entries(traceSpans).map(([id, list]) => [id, [...new Set(list.map((s) => s.name))]])
      ),
      conversations,
      turns: Object.fromEntries(conversations.map((c) => [c.conversation, store.conversation(c.conversation)])),
      histograms: store.histograms()
    }
  } finally {
    store.close()
  }
}

/** The report page for decoded spans and histogram points. */
export const renderReport = (spans: ReadonlyArray<RawSpan>, points: ReadonlyArray<RawHistogramPoint> = []): string =>
  page({ mode: "report", data: reportData(spans, points) }).html

/**
 * The report for the OTLP/HTTP protobuf requests of a run, as an exporter sends them:
 * `ExportTraceServiceRequest` and `ExportMetricsServiceRequest` bodies.
 */
export const renderReportFromProtobuf = (
  requests: { readonly traces: ReadonlyArray<Uint8Array>; readonly metrics?: ReadonlyArray<Uint8Array> }
): string =>
  renderReport(requests.traces.flatMap(decodeTracesProtobuf), (requests.metrics ?? []).flatMap(decodeMetricsProtobuf))

/** Reads captured OTLP/JSON: a request, an array of requests, or one request per line. */
export const readCapturedJson = (text: string): { spans: Array<RawSpan>; points: Array<RawHistogramPoint> } => {
  const requests: Array<unknown> = []
  const trimmed = text.trim()
  if (trimmed === "") throw new OtlpError("the file is empty")
  try {
    const whole: unknown = JSON.parse(trimmed)
    requests.push(...(Array.isArray(whole) ? whole : [whole]))
  } catch {
    trimmed.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return
      try {
        requests.push(JSON.parse(line))
      } catch (error) {
        throw new OtlpError(`line ${i + 1} is not JSON: ${(error as Error).message}`)
      }
    })
  }
  const spans: Array<RawSpan> = []
  const points: Array<RawHistogramPoint> = []
  for (const request of requests) {
    if (typeof request !== "object" || request === null) throw new OtlpError("a request is not a JSON object")
    if ("resourceSpans" in request) spans.push(...decodeTracesJson(request))
    if ("resourceMetrics" in request) points.push(...decodeMetricsJson(request))
  }
  return { spans, points }
}
