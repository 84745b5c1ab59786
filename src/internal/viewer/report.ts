/**
 * A self-contained HTML report of a run: the viewer's page with the traces, their spans, the log
 * records, the conversations and the histograms embedded, so it opens from disk (or a CI
 * artifact) with no server and no network. Built from OTLP/JSON captured to a file (one request,
 * an array of them, or one per line as the collector's file exporter writes), or from the
 * protobuf requests an exporter would have sent.
 */
import type { Protocol } from "../config.ts"
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
import { decodeLogsJson, decodeLogsProtobuf, type RawLog } from "./otlpDecodeLogs.ts"
import { page } from "./page.ts"
import { Store } from "./store.ts"

/** What a report is made of, decoded. */
export interface ReportInput {
  readonly spans: ReadonlyArray<RawSpan>
  readonly points?: ReadonlyArray<RawHistogramPoint>
  readonly logs?: ReadonlyArray<RawLog>
}

/** The report's data: every trace, each one's spans, the log records, the conversations and the histograms. */
export const reportData = (input: ReportInput): ReportData => {
  const store = new Store({
    file: ":memory:",
    maxTraces: Number.POSITIVE_INFINITY,
    maxBytes: Number.POSITIVE_INFINITY,
    maxLooseLogs: Number.POSITIVE_INFINITY
  })
  try {
    store.addSpans(input.spans)
    store.addHistograms(input.points ?? [])
    // After the spans, so that every record whose trace is in the run is one of that trace's.
    store.addLogs(input.logs ?? [])
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
      histograms: store.histograms(),
      logs: store.allLogs()
    }
  } finally {
    store.close()
  }
}

/** The report page for decoded spans, histogram points and log records. */
export const renderReport = (input: ReportInput): string => page({ mode: "report", data: reportData(input) }).html

/**
 * The report for the OTLP/HTTP requests of a run, as the exporters send them:
 * `ExportTraceServiceRequest` and `ExportMetricsServiceRequest` bodies in protobuf, and
 * `ExportLogsServiceRequest` bodies in protobuf or JSON (each with its encoding).
 */
export const renderReportFromRequests = (
  requests: {
    readonly traces: ReadonlyArray<Uint8Array>
    readonly metrics?: ReadonlyArray<Uint8Array>
    readonly logs?: ReadonlyArray<{ readonly body: Uint8Array; readonly protocol: Protocol }>
  }
): string =>
  renderReport({
    spans: requests.traces.flatMap(decodeTracesProtobuf),
    points: (requests.metrics ?? []).flatMap(decodeMetricsProtobuf),
    logs: (requests.logs ?? []).flatMap(({ body, protocol }) =>
      protocol === "http/json" ? decodeLogsJson(body) : decodeLogsProtobuf(body)
    )
  })

/** Reads captured OTLP/JSON: a request, an array of requests, or one request per line. */
export const readCapturedJson = (
  text: string
): { spans: Array<RawSpan>; points: Array<RawHistogramPoint>; logs: Array<RawLog> } => {
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
  const logs: Array<RawLog> = []
  for (const request of requests) {
    if (typeof request !== "object" || request === null) throw new OtlpError("a request is not a JSON object")
    if ("resourceSpans" in request) spans.push(...decodeTracesJson(request))
    if ("resourceMetrics" in request) points.push(...decodeMetricsJson(request))
    if ("resourceLogs" in request) logs.push(...decodeLogsJson(request))
  }
  return { spans, points, logs }
}
