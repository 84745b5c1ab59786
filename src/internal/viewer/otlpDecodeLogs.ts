/**
 * OTLP log requests (`ExportLogsServiceRequest`), protobuf or JSON, decoded into the plain shape
 * the viewer stores, by the rules the trace decoder follows: field numbers from
 * opentelemetry-proto's `logs/v1/logs.proto`, OTLP/JSON's hex ids and lowerCamelCase keys, ids
 * checked for their length, values bounded in depth, and `OtlpError` or `ProtobufError` with a
 * reason for anything that is not a valid request.
 */
import {
  type Attributes,
  hex,
  integer,
  type Json,
  jsonAttributes,
  jsonGroups,
  jsonId,
  jsonValue,
  parseJson,
  pbKeyValue,
  pbResourceGroups,
  pbValue,
  string,
  type Value
} from "./otlpDecode.ts"
import { Reader } from "./protobufReader.ts"

/** One log record, with the resource and scope of its group. */
export interface RawLog {
  /** Empty when the record belongs to no trace. */
  readonly traceId: string
  /** Empty when the record belongs to no span. */
  readonly spanId: string
  /** When it happened; the observed time when the sender did not say. */
  readonly timeNs: bigint
  /** The log data model's 1–24; 0 unspecified. */
  readonly severityNumber: number
  readonly severityText: string
  /** Set on records that are events (`gen_ai.client.inference.operation.details`). */
  readonly eventName: string
  /** `null` for a record without a body (or an empty one). */
  readonly body: Value
  readonly attributes: Attributes
  readonly resource: Attributes
  readonly scope: string
}

const zeros = /^0+$/

/**
 * The record as stored: an all-zero id is OpenTelemetry's "invalid", that is none, and a span id
 * without a trace id correlates with nothing, so the record is kept as one of no trace.
 */
const checkLog = (log: RawLog): RawLog => {
  const traceId = zeros.test(log.traceId) ? "" : log.traceId
  const spanId = traceId === "" || zeros.test(log.spanId) ? "" : log.spanId
  return traceId === log.traceId && spanId === log.spanId ? log : { ...log, traceId, spanId }
}

const nonNegative = (value: bigint): bigint => (value < 0n ? 0n : value)

/** A `severity_number` as the enum's range has it; anything else is unspecified. */
const severity = (value: number): number => (Number.isInteger(value) && value >= 0 && value <= 24 ? value : 0)

// -----------------------------------------------------------------------------
// Protobuf
// -----------------------------------------------------------------------------

const pbLog = (r: Reader, resource: Attributes, scope: string): RawLog => {
  let timeNs = 0n
  let observedNs = 0n
  let severityNumber = 0
  let severityText = ""
  let eventName = ""
  let body: Value = null
  let traceId = ""
  let spanId = ""
  const attributes: Attributes = {}
  r.fields((n, w) => {
    switch (n) {
      case 1:
        timeNs = r.expect(w, 1, "LogRecord.time_unix_nano").fixed64()
        break
      case 2:
        severityNumber = r.expect(w, 0, "LogRecord.severity_number").int32()
        break
      case 3:
        severityText = r.expect(w, 2, "LogRecord.severity_text").string()
        break
      case 5:
        body = pbValue(r.expect(w, 2, "LogRecord.body").message())
        break
      case 6:
        pbKeyValue(r.expect(w, 2, "LogRecord.attributes").message(), attributes)
        break
      case 9:
        traceId = hex(r.expect(w, 2, "LogRecord.trace_id").bytes(), 16, "LogRecord.trace_id")
        break
      case 10:
        spanId = hex(r.expect(w, 2, "LogRecord.span_id").bytes(), 8, "LogRecord.span_id")
        break
      case 11:
        observedNs = r.expect(w, 1, "LogRecord.observed_time_unix_nano").fixed64()
        break
      case 12:
        eventName = r.expect(w, 2, "LogRecord.event_name").string()
        break
    }
  })
  return checkLog({
    traceId,
    spanId,
    timeNs: timeNs === 0n ? observedNs : timeNs,
    severityNumber: severity(severityNumber),
    severityText,
    eventName,
    body,
    attributes,
    resource,
    scope
  })
}

/** Decodes an `ExportLogsServiceRequest` (protobuf). */
export const decodeLogsProtobuf = (body: Uint8Array): Array<RawLog> => {
  const logs: Array<RawLog> = []
  const r = new Reader(body)
  r.fields((n, w) => {
    if (n !== 1) return
    r.expect(w, 2, "resource_logs")
    pbResourceGroups(
      r.message(),
      (item, resource, scope) => logs.push(pbLog(item, resource, scope)),
      { scopes: "scope_logs", items: "log_records" }
    )
  })
  return logs
}

// -----------------------------------------------------------------------------
// JSON
// -----------------------------------------------------------------------------

const jsonLog = (l: Json, resource: Attributes, scope: string): RawLog => {
  const timeNs = nonNegative(integer(l["timeUnixNano"], "logRecord.timeUnixNano"))
  const observedNs = nonNegative(integer(l["observedTimeUnixNano"], "logRecord.observedTimeUnixNano"))
  return checkLog({
    traceId: jsonId(l["traceId"], 16, "logRecord.traceId"),
    spanId: jsonId(l["spanId"], 8, "logRecord.spanId"),
    timeNs: timeNs === 0n ? observedNs : timeNs,
    severityNumber: severity(Number(integer(l["severityNumber"], "logRecord.severityNumber"))),
    severityText: string(l["severityText"], "logRecord.severityText"),
    eventName: string(l["eventName"], "logRecord.eventName"),
    body: jsonValue(l["body"], "logRecord.body"),
    attributes: jsonAttributes(l["attributes"], "logRecord.attributes"),
    resource,
    scope
  })
}

/** Decodes an `ExportLogsServiceRequest` (OTLP/JSON), as text or an already-parsed value. */
export const decodeLogsJson = (body: Uint8Array | string | object): Array<RawLog> => {
  const logs: Array<RawLog> = []
  const request = typeof body === "object" && !(body instanceof Uint8Array) ? body : parseJson(body)
  jsonGroups(request, "resourceLogs", "scopeLogs", "logRecords", (l, resource, scope) => {
    logs.push(jsonLog(l, resource, scope))
  })
  return logs
}
