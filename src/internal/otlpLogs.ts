/**
 * `ExportLogsServiceRequest` in both OTLP/HTTP encodings, written by hand like `otlpMetrics.ts`.
 *
 * A record is converted to its OTLP/JSON form (lowerCamelCase, 64-bit integers as strings, ids as
 * hex, enums as numbers, bytes as base64) the moment it is emitted: the body and attributes are
 * then a snapshot, safe from later mutation of the objects logged, and the JSON body is the batch
 * as is. The protobuf body is written from those same objects, field by field, following
 * `opentelemetry/proto/logs/v1/logs.proto` and `common/v1/common.proto`.
 *
 * Bodies are structured, as the log data model allows: objects become `kvlist_value`, arrays
 * `array_value`, so a backend can query a field of a logged object instead of parsing a string.
 */
import type { Codec } from "./otlp.ts"
import { partialSuccess } from "./otlpResponse.ts"
import { ProtobufWriter } from "./protobufWriter.ts"

// -----------------------------------------------------------------------------
// The record as OTLP/JSON
// -----------------------------------------------------------------------------

/** OTLP's `AnyValue`; `{}` is the empty value (a logged `null` or `undefined`). */
export type AnyValue =
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  | { readonly intValue: string }
  | { readonly doubleValue: number }
  | { readonly arrayValue: { readonly values: ReadonlyArray<AnyValue> } }
  | { readonly kvlistValue: { readonly values: ReadonlyArray<KeyValue> } }
  | { readonly bytesValue: string }
  | { readonly [key: string]: never }

export interface KeyValue {
  readonly key: string
  readonly value: AnyValue
}

/** One `LogRecord` as OTLP/JSON writes it. */
export interface LogRecord {
  readonly timeUnixNano: string
  readonly observedTimeUnixNano: string
  readonly severityNumber: number
  readonly severityText: string
  readonly body?: AnyValue | undefined
  readonly attributes: ReadonlyArray<KeyValue>
  readonly droppedAttributesCount?: number | undefined
  readonly flags?: number | undefined
  readonly traceId?: string | undefined
  readonly spanId?: string | undefined
  readonly eventName?: string | undefined
}

/** What every record of a request shares: the resource's attributes and the instrumentation scope. */
export interface LogsOrigin {
  readonly resource: ReadonlyArray<KeyValue>
  readonly scope: { readonly name: string; readonly version: string }
}

/** One batch: the records of one origin. */
export interface LogBatch {
  readonly origin: LogsOrigin
  readonly records: ReadonlyArray<LogRecord>
}

/** How deep a logged value is followed; deeper parts (and cycles) are written as their text. */
const maxDepth = 16

/** A JavaScript value as `AnyValue`, structure kept: what a log body or attribute holds. */
export const anyValue = (value: unknown, depth = 0): AnyValue => {
  switch (typeof value) {
    case "string":
      return { stringValue: value }
    case "boolean":
      return { boolValue: value }
    case "number":
      if (Number.isSafeInteger(value)) return { intValue: value.toString() }
      // JSON has no NaN or infinities: their text keeps them readable in both encodings.
      return Number.isFinite(value) ? { doubleValue: value } : { stringValue: String(value) }
    case "bigint":
      return BigInt.asIntN(64, value) === value ? { intValue: value.toString() } : { stringValue: value.toString() }
    case "undefined":
      return {}
    case "symbol":
    case "function":
      return { stringValue: String(value) }
  }
  if (value === null) return {}
  if (value instanceof Uint8Array) return { bytesValue: base64(value) }
  if (value instanceof Date) {
    return { stringValue: Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString() }
  }
  if (value instanceof Error) return { stringValue: `${value.name}: ${value.message}` }
  if (depth >= maxDepth) return { stringValue: Object.prototype.toString.call(value) }
  if (Array.isArray(value) || value instanceof Set) {
    return { arrayValue: { values: Array.from(value as Iterable<unknown>, (item) => anyValue(item, depth + 1)) } }
  }
  if (value instanceof Map) {
    return {
      kvlistValue: {
        values: Array.from(value, ([key, item]) => ({ key: String(key), value: anyValue(item, depth + 1) }))
      }
    }
  }
  const json = (value as { readonly toJSON?: unknown }).toJSON
  if (typeof json === "function") return anyValue(json.call(value), depth + 1)
  return { kvlistValue: { values: keyValues(value as Record<string, unknown>, depth + 1) } }
}

/** An object's own fields as key-values; `undefined` fields are left out, as JSON leaves them. */
export const keyValues = (record: Readonly<Record<string, unknown>>, depth = 0): Array<KeyValue> => {
  const out: Array<KeyValue> = []
  for (const key of Object.keys(record)) {
    const item = record[key]
    if (item !== undefined) out.push({ key, value: anyValue(item, depth) })
  }
  return out
}

const base64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary)
}

const request = (batch: LogBatch) => ({
  resourceLogs: [{
    resource: { attributes: batch.origin.resource },
    scopeLogs: [{ scope: batch.origin.scope, logRecords: batch.records }]
  }]
})

export const serializeJson = (batch: LogBatch): Uint8Array => new TextEncoder().encode(JSON.stringify(request(batch)))

// -----------------------------------------------------------------------------
// The same request as protobuf
// -----------------------------------------------------------------------------

/** Bytes kept for a length prefix: two take a message up to 16 KiB without a move. */
const reserve = 2

const message = (w: ProtobufWriter, field: number, write: () => void): void => {
  w.varint(field * 8 + 2)
  const start = w.begin(reserve)
  write()
  w.end(start, reserve)
}

const stringField = (w: ProtobufWriter, field: number, value: string): void => {
  if (value === "") return
  w.varint(field * 8 + 2)
  w.string(value)
}

/** An int64 as a varint, negative ones in ten bytes as protobuf has them. */
const int64 = (w: ProtobufWriter, value: string): void => {
  let v = BigInt.asUintN(64, BigInt(value))
  while (v >= 0x80n) {
    w.byte(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  w.byte(Number(v))
}

const writeAnyValue = (w: ProtobufWriter, value: AnyValue): void => {
  if ("stringValue" in value) {
    w.byte(1 * 8 + 2)
    w.string(value.stringValue)
  } else if ("boolValue" in value) {
    w.byte(2 * 8)
    w.byte(value.boolValue ? 1 : 0)
  } else if ("intValue" in value) {
    w.byte(3 * 8)
    int64(w, value.intValue)
  } else if ("doubleValue" in value) {
    w.byte(4 * 8 + 1)
    w.double(value.doubleValue)
  } else if ("arrayValue" in value) {
    message(w, 5, () => {
      for (const item of value.arrayValue.values) message(w, 1, () => writeAnyValue(w, item))
    })
  } else if ("kvlistValue" in value) {
    message(w, 6, () => writeKeyValues(w, 1, value.kvlistValue.values))
  } else if ("bytesValue" in value) {
    w.byte(7 * 8 + 2)
    w.bytes(Uint8Array.from(atob(value.bytesValue), (c) => c.charCodeAt(0)))
  }
}

const writeKeyValues = (w: ProtobufWriter, field: number, values: ReadonlyArray<KeyValue>): void => {
  for (const kv of values) {
    message(w, field, () => {
      stringField(w, 1, kv.key)
      message(w, 2, () => writeAnyValue(w, kv.value))
    })
  }
}

const writeRecord = (w: ProtobufWriter, r: LogRecord): void => {
  w.byte(1 * 8 + 1)
  w.fixed64Big(BigInt(r.timeUnixNano))
  if (r.severityNumber !== 0) {
    w.byte(2 * 8)
    w.varint(r.severityNumber)
  }
  stringField(w, 3, r.severityText)
  if (r.body !== undefined) message(w, 5, () => writeAnyValue(w, r.body!))
  writeKeyValues(w, 6, r.attributes)
  if (r.droppedAttributesCount !== undefined && r.droppedAttributesCount > 0) {
    w.byte(7 * 8)
    w.varint(r.droppedAttributesCount)
  }
  if (r.flags !== undefined && r.flags !== 0) {
    w.byte(8 * 8 + 5)
    w.fixed32(r.flags)
  }
  if (r.traceId !== undefined) {
    w.byte(9 * 8 + 2)
    w.hexBytes(r.traceId)
  }
  if (r.spanId !== undefined) {
    w.byte(10 * 8 + 2)
    w.hexBytes(r.spanId)
  }
  w.byte(11 * 8 + 1)
  w.fixed64Big(BigInt(r.observedTimeUnixNano))
  if (r.eventName !== undefined) stringField(w, 12, r.eventName)
}

export const serializeProtobuf = (batch: LogBatch): Uint8Array => {
  const w = new ProtobufWriter()
  message(w, 1, () => {
    message(w, 1, () => writeKeyValues(w, 1, batch.origin.resource))
    message(w, 2, () => {
      message(w, 1, () => {
        stringField(w, 1, batch.origin.scope.name)
        stringField(w, 2, batch.origin.scope.version)
      })
      for (const record of batch.records) message(w, 2, () => writeRecord(w, record))
    })
  })
  return w.copy(0)
}

/** Log batches over the OTLP transport the spans use: same retries, same bounded shutdown. */
export const logsCodec: Codec<LogBatch> = {
  serialize: (batch, protocol) => (protocol === "http/json" ? serializeJson(batch) : serializeProtobuf(batch)),
  count: (batch) => batch.records.length,
  rejected: (body, protocol) => partialSuccess(body, protocol, "rejectedLogRecords")
}
