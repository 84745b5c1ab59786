/**
 * `ExportLogsServiceRequest` in both OTLP/HTTP encodings, written straight from the records as
 * they are emitted: each record is serialized into the open batch's buffer the moment it comes
 * (`logsEncoder`, used by the logs pipeline's `Batcher`), so what waits in the queue is bytes,
 * the body and attributes are a snapshot safe from later mutation of the objects logged, and no
 * intermediate message objects are made. The resource and the scope are written once per origin.
 *
 * Protobuf follows `opentelemetry/proto/logs/v1/logs.proto` and `common/v1/common.proto`; JSON is
 * OTLP/JSON (lowerCamelCase, 64-bit integers as strings, ids as hex, enums as numbers, bytes as
 * base64). Bodies and attributes are structured, as the log data model allows: objects become
 * `kvlist_value`, arrays `array_value`, so a backend can query a field of a logged object instead
 * of parsing a string.
 */
import * as Otel from "@opentelemetry/api"
import type { Protocol } from "./config.ts"
import type { Codec } from "./otlp.ts"
import { partialSuccess } from "./otlpResponse.ts"
import { commonTag, writeIds, writeKeyField, writeKeyValue as writeSpanKeyValue } from "./otlpTraces.ts"
import { BytesMemo, ProtobufWriter, StringFieldMemo, varintSize } from "./protobufWriter.ts"
import type { BatchEncoder, EncodedBatch } from "./spanBatcher.ts"
import { RecordedSpan } from "./spanRecord.ts"

/** A log record as the library emits it; the encoder stamps what is left out. */
export interface LogRecordInput {
  /** `event_name`, for records that are events (`gen_ai.client.inference.operation.details`). */
  readonly eventName?: string | undefined
  /** When it happened: a `Date`, or nanoseconds since the epoch. Default: now. */
  readonly time?: Date | bigint | undefined
  /**
   * When it was observed, in nanoseconds since the epoch. Default: now. A record emitted as the
   * moment it stands for ends (a call's details event, at its span's end) passes that moment for
   * both, which spares reading the clock.
   */
  readonly observedTime?: bigint | undefined
  /** The log data model's 1–24 (9 is INFO). Default 0, unspecified. */
  readonly severityNumber?: number | undefined
  readonly severityText?: string | undefined
  /** Any value: objects and arrays are kept structured (`kvlist_value`, `array_value`). */
  readonly body?: unknown
  readonly attributes?: Readonly<Record<string, unknown>> | undefined
  /**
   * Attributes many records share, written before `attributes` (which must not repeat their keys):
   * a call's request, the same for every run of it. Encoded once per encoder and copied after, so
   * the object must not change once a record carried it.
   */
  readonly sharedAttributes?: Readonly<Record<string, unknown>> | undefined
  /**
   * The span the record belongs to (an Effect span has this shape); its ids go on the record, from
   * the bytes they were made from when the span is one of the library's (`record`).
   */
  readonly span?:
    | {
      readonly traceId: string
      readonly spanId: string
      readonly sampled: boolean
      readonly record?: RecordedSpan | undefined
    }
    | undefined
}

/** What every record of a request shares: the resource's attributes and the instrumentation scope. */
export interface LogsOrigin {
  readonly resource: Readonly<Record<string, unknown>>
  readonly scope: { readonly name: string; readonly version: string }
}

/** The logs' batches over the OTLP transport the spans use: same retries, same bounded shutdown. */
export const logsCodec: Codec<EncodedBatch> = {
  serialize: (batch) => batch.body,
  count: (batch) => batch.items,
  rejected: (body, protocol) => partialSuccess(body, protocol, "rejectedLogRecords")
}

/** The encoder of one origin's records in `protocol`'s encoding. */
export const logsEncoder = (protocol: Protocol, origin: LogsOrigin): BatchEncoder<LogRecordInput> =>
  protocol === "http/json" ? new JsonLogs(origin) : new ProtobufLogs(origin)

// internal

/** How deep a logged value is followed; deeper parts (and cycles) are written as their text. */
const maxDepth = 16

/** A W3C trace flags byte: bit 0 is `sampled`. */
const sampledFlag = 1

/** What one value is written as, decided once for both encodings. */
type Kind = "string" | "bool" | "int" | "bigint" | "double" | "empty" | "bytes" | "array" | "map" | "object" | "text"

/**
 * A JavaScript value as the `AnyValue` it is written as, with structure kept: strings, booleans,
 * safe integers and bigints within int64 as themselves, other finite numbers as doubles, `null` and
 * `undefined` as the empty value, byte arrays as bytes, arrays and sets as arrays, maps and objects
 * as key-value lists; everything else as its text ({@link textOf}).
 */
const classify = (value: unknown, depth: number): Kind => {
  switch (typeof value) {
    case "string":
      return "string"
    case "boolean":
      return "bool"
    case "number":
      // JSON has no NaN or infinities: their text keeps them readable in both encodings.
      return Number.isSafeInteger(value) ? "int" : Number.isFinite(value) ? "double" : "text"
    case "bigint":
      return BigInt.asIntN(64, value) === value ? "bigint" : "text"
    case "undefined":
      return "empty"
    case "symbol":
    case "function":
      return "text"
  }
  if (value === null) return "empty"
  if (value instanceof Uint8Array) return "bytes"
  if (value instanceof Date || value instanceof Error || depth >= maxDepth) return "text"
  if (Array.isArray(value) || value instanceof Set) return "array"
  if (value instanceof Map) return "map"
  return "object"
}

/** The text of a value {@link classify} calls `text`: dates in ISO form, errors by name and message. */
const textOf = (value: unknown): string => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()
  if (value instanceof Error) return `${value.name}: ${value.message}`
  if (typeof value === "object" && value !== null) return Object.prototype.toString.call(value)
  return String(value)
}

/** An object with a `toJSON` (a `Date` is handled before): the value it stands for. */
const unwrapJson = (value: object): unknown => {
  const json = (value as { readonly toJSON?: unknown }).toJSON
  return typeof json === "function" ? json.call(value) : value
}

/** The nanoseconds of a record's time and of now, from milliseconds, without `BigInt`. */
const millisOf = (time: Date | undefined): number => {
  const millis = time === undefined ? Date.now() : time.getTime()
  return Number.isFinite(millis) && millis >= 0 ? millis : Date.now()
}

/** `millis * 1e6` as fixed64 halves: the product overflows a double's integers, so it is summed in parts. */
const nanosHalves = (millis: number): readonly [low: number, high: number] => {
  const a = Math.floor(millis / 0x10000) * 1e6
  const b = (millis % 0x10000) * 1e6
  const low = (a % 0x10000) * 0x10000 + (b % 0x100000000)
  const high = Math.floor(a / 0x10000) + Math.floor(b / 0x100000000) + Math.floor(low / 0x100000000)
  return [low % 0x100000000, high]
}

const correlatedSpan = (input: LogRecordInput) => {
  const span = input.span
  return span !== undefined && span.traceId !== Otel.INVALID_TRACEID && span.spanId !== Otel.INVALID_SPANID
    ? span
    : undefined
}

// -----------------------------------------------------------------------------
// Protobuf
// -----------------------------------------------------------------------------

/** Tags (field number << 3 | wire type): 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
const tag = {
  resourceLogs: 0x0a, // ExportLogsServiceRequest.resource_logs = 1
  resource: 0x0a, // ResourceLogs.resource = 1
  scopeLogs: 0x12, // ResourceLogs.scope_logs = 2
  attributes: 0x0a, // Resource.attributes = 1
  scope: 0x0a, // ScopeLogs.scope = 1
  record: 0x12, // ScopeLogs.log_records = 2
  scopeName: 0x0a, // InstrumentationScope.name = 1
  scopeVersion: 0x12, // InstrumentationScope.version = 2
  time: 0x09, // LogRecord.time_unix_nano = 1
  severityNumber: 0x10, // LogRecord.severity_number = 2
  severityText: 0x1a, // LogRecord.severity_text = 3
  body: 0x2a, // LogRecord.body = 5
  recordAttributes: 0x32, // LogRecord.attributes = 6
  flags: 0x45, // LogRecord.flags = 8
  traceId: 0x4a, // LogRecord.trace_id = 9
  spanId: 0x52, // LogRecord.span_id = 10
  observedTime: 0x59, // LogRecord.observed_time_unix_nano = 11
  eventName: 0x62, // LogRecord.event_name = 12
  ...commonTag
} as const

/** Bytes reserved for a length: a value or a key-value usually fits in 127 bytes, a record in 16 KiB. */
const reserveSmall = 1
const reserveRecord = 2

/** One origin's open batch: records written one after another into one buffer, framed at `seal`. */
abstract class LogsBatch implements BatchEncoder<LogRecordInput> {
  count = 0
  protected readonly w = new ProtobufWriter()
  /** Each `sharedAttributes` object's encoded key-values, as this encoding writes them. */
  protected readonly shared = new WeakMap<object, Uint8Array>()

  get bytes(): number {
    return this.w.pos
  }

  /** Writes `input` after the records before it. */
  protected abstract write(input: LogRecordInput): void
  abstract seal(): Uint8Array

  add(input: LogRecordInput): void {
    const mark = this.w.pos
    try {
      this.write(input)
      this.count++
    } catch {
      // A getter that throws in someone's logged object loses that record, never the batch.
      this.w.pos = mark
    }
  }
}

class ProtobufLogs extends LogsBatch {
  private readonly traceIds = new BytesMemo()
  private readonly texts = {
    severity: new StringFieldMemo(tag.severityText),
    event: new StringFieldMemo(tag.eventName)
  }
  /** `ResourceLogs.resource` and `ScopeLogs.scope`, tags and lengths included. */
  private readonly resource: Uint8Array
  private readonly scope: Uint8Array

  constructor(origin: LogsOrigin) {
    super()
    const w = this.w
    w.byte(tag.resource)
    let start = w.begin(reserveRecord)
    writeKeyValues(w, tag.attributes, origin.resource, 0)
    w.end(start, reserveRecord)
    this.resource = w.copy(0)
    w.reset()
    w.byte(tag.scope)
    start = w.begin(reserveSmall)
    if (origin.scope.name !== "") {
      w.byte(tag.scopeName)
      w.string(origin.scope.name)
    }
    if (origin.scope.version !== "") {
      w.byte(tag.scopeVersion)
      w.string(origin.scope.version)
    }
    w.end(start, reserveSmall)
    this.scope = w.copy(0)
    w.reset()
  }

  protected write(input: LogRecordInput): void {
    writeRecord(this.w, input, this.traceIds, this.shared, this.texts)
  }

  seal(): Uint8Array {
    const records = this.w.pos
    const scopeLogs = this.scope.length + records
    const resourceLogs = this.resource.length + 1 + varintSize(scopeLogs) + scopeLogs
    const out = new Uint8Array(1 + varintSize(resourceLogs) + resourceLogs)
    let at = 0
    const varint = (value: number) => {
      while (value > 0x7f) {
        out[at++] = (value & 0x7f) | 0x80
        value >>>= 7
      }
      out[at++] = value
    }
    out[at++] = tag.resourceLogs
    varint(resourceLogs)
    out.set(this.resource, at)
    at += this.resource.length
    out[at++] = tag.scopeLogs
    varint(scopeLogs)
    out.set(this.scope, at)
    at += this.scope.length
    out.set(this.w.buffer.subarray(0, records), at)
    this.w.reset()
    this.count = 0
    return out
  }
}

const writeRecord = (
  w: ProtobufWriter,
  input: LogRecordInput,
  traceIds: BytesMemo,
  sharedBytes: WeakMap<object, Uint8Array>,
  texts: { readonly severity: StringFieldMemo; readonly event: StringFieldMemo }
): void => {
  w.byte(tag.record)
  const start = w.begin(reserveRecord)
  const time = input.time
  const observed = input.observedTime
  let low = 0
  let high = 0
  if (observed === undefined || time === undefined) [low, high] = nanosHalves(Date.now())
  w.byte(tag.time)
  if (typeof time === "bigint") w.fixed64Big(BigInt.asUintN(64, time))
  else if (time === undefined) w.fixed64(low, high)
  else {
    const [timeLow, timeHigh] = nanosHalves(millisOf(time))
    w.fixed64(timeLow, timeHigh)
  }
  const severity = input.severityNumber ?? 0
  if (severity !== 0) {
    w.byte(tag.severityNumber)
    w.varint(severity)
  }
  if (input.severityText !== undefined && input.severityText !== "") texts.severity.write(w, input.severityText)
  if (input.body !== undefined) {
    w.byte(tag.body)
    const body = w.begin(reserveSmall)
    writeAnyValue(w, input.body, 0)
    w.end(body, reserveSmall)
  }
  const shared = input.sharedAttributes
  if (shared !== undefined) {
    const bytes = sharedBytes.get(shared)
    if (bytes !== undefined) w.raw(bytes)
    else {
      const from = w.pos
      writeKeyValues(w, tag.recordAttributes, shared, 0)
      sharedBytes.set(shared, w.copy(from))
    }
  }
  if (input.attributes !== undefined) writeKeyValues(w, tag.recordAttributes, input.attributes, 0)
  const span = correlatedSpan(input)
  if (span !== undefined) {
    if (span.sampled) {
      w.byte(tag.flags)
      w.fixed32(sampledFlag)
    }
    writeIds(w, tag.traceId, tag.spanId, traceIds, span, span.record instanceof RecordedSpan ? span.record : undefined)
  }
  w.byte(tag.observedTime)
  if (observed !== undefined) w.fixed64Big(BigInt.asUintN(64, observed))
  else w.fixed64(low, high)
  if (input.eventName !== undefined && input.eventName !== "") texts.event.write(w, input.eventName)
  w.end(start, reserveRecord)
}

/** An object's own fields as `KeyValue`s under `field`; `undefined` fields are left out, as JSON leaves them. */
const writeKeyValues = (
  w: ProtobufWriter,
  field: number,
  record: Readonly<Record<string, unknown>>,
  depth: number
): void => {
  for (const key of Object.keys(record)) {
    const item = record[key]
    if (item !== undefined) writeKeyValue(w, field, key, item, depth)
  }
}

const writeKeyValue = (w: ProtobufWriter, field: number, key: string, value: unknown, depth: number): void => {
  w.byte(field)
  // Strings, booleans, safe integers and finite fractions are written as span attributes are, by
  // the spans' encoder, which copies a key-value that repeats from one record to the next.
  if (spanLike(value)) return writeSpanKeyValue(w, key, value)
  const start = w.begin(reserveSmall)
  // The key and the value's tag, as the spans' encoder writes (and caches) them.
  writeKeyField(w, key)
  const valueStart = w.begin(reserveSmall)
  writeAnyValue(w, value, depth)
  w.end(valueStart, reserveSmall)
  w.end(start, reserveSmall)
}

/**
 * Whether the spans' encoder writes `value` as this one does: it takes any integral number in
 * int64 as an integer and NaN and the infinities as doubles, where a record has doubles past 2^53
 * and their text for the others.
 */
const spanLike = (value: unknown): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isSafeInteger(value) || (Number.isFinite(value) && !Number.isInteger(value))
    default:
      return false
  }
}

/** An `AnyValue`'s contents (the caller wrote its tag and reserved its length). */
const writeAnyValue = (w: ProtobufWriter, value: unknown, depth: number): void => {
  // Most values are strings: no classification for them.
  if (typeof value === "string") {
    w.byte(tag.stringValue)
    w.string(value)
    return
  }
  const kind = classify(value, depth)
  switch (kind) {
    case "string":
      w.byte(tag.stringValue)
      w.string(value as string)
      return
    case "bool":
      w.byte(tag.boolValue)
      w.byte(value ? 1 : 0)
      return
    case "int":
      w.byte(tag.intValue)
      w.varint(value as number)
      return
    case "bigint":
      w.byte(tag.intValue)
      writeInt64Big(w, value as bigint)
      return
    case "double":
      w.byte(tag.doubleValue)
      w.double(value as number)
      return
    case "empty":
      return
    case "bytes":
      w.byte(tag.bytesValue)
      w.bytes(value as Uint8Array)
      return
    case "array": {
      w.byte(tag.arrayValue)
      const start = w.begin(reserveSmall)
      for (const item of value as Iterable<unknown>) {
        w.byte(tag.values)
        const itemStart = w.begin(reserveSmall)
        writeAnyValue(w, item, depth + 1)
        w.end(itemStart, reserveSmall)
      }
      w.end(start, reserveSmall)
      return
    }
    case "map": {
      w.byte(tag.kvlistValue)
      const start = w.begin(reserveSmall)
      for (const [key, item] of value as Map<unknown, unknown>) {
        writeKeyValue(w, tag.values, String(key), item, depth + 1)
      }
      w.end(start, reserveSmall)
      return
    }
    case "object": {
      const unwrapped = unwrapJson(value as object)
      if (unwrapped !== value) return writeAnyValue(w, unwrapped, depth + 1)
      w.byte(tag.kvlistValue)
      const start = w.begin(reserveSmall)
      writeKeyValues(w, tag.values, value as Record<string, unknown>, depth + 1)
      w.end(start, reserveSmall)
      return
    }
    case "text":
      w.byte(tag.stringValue)
      w.string(textOf(value))
  }
}

/** An int64 as a varint, negative ones in ten bytes as protobuf has them. */
const writeInt64Big = (w: ProtobufWriter, value: bigint): void => {
  let v = BigInt.asUintN(64, value)
  while (v >= 0x80n) {
    w.byte(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  w.byte(Number(v))
}

// -----------------------------------------------------------------------------
// JSON
// -----------------------------------------------------------------------------

class JsonLogs extends LogsBatch {
  /** The request up to its first record, and after its last. */
  private readonly head: Uint8Array
  private readonly tail = new TextEncoder().encode("]}]}]}")

  constructor(origin: LogsOrigin) {
    super()
    const w = this.w
    w.ascii("{\"resourceLogs\":[{\"resource\":{\"attributes\":")
    jsonKeyValues(w, origin.resource, 0)
    w.ascii("},\"scopeLogs\":[{\"scope\":{\"name\":")
    jsonString(w, origin.scope.name)
    w.ascii(",\"version\":")
    jsonString(w, origin.scope.version)
    w.ascii("},\"logRecords\":[")
    this.head = w.copy(0)
    w.reset()
  }

  protected write(input: LogRecordInput): void {
    if (this.count > 0) this.w.byte(0x2c)
    jsonRecord(this.w, input, this.shared)
  }

  seal(): Uint8Array {
    const records = this.w.pos
    const out = new Uint8Array(this.head.length + records + this.tail.length)
    out.set(this.head, 0)
    out.set(this.w.buffer.subarray(0, records), this.head.length)
    out.set(this.tail, this.head.length + records)
    this.w.reset()
    this.count = 0
    return out
  }
}

/** Nanoseconds as OTLP/JSON's decimal string, from milliseconds. */
const jsonNanos = (w: ProtobufWriter, millis: number): void => {
  w.byte(0x22)
  if (millis === 0) w.byte(0x30)
  else w.ascii(`${millis}000000`)
  w.byte(0x22)
}

const jsonRecord = (w: ProtobufWriter, input: LogRecordInput, sharedBytes: WeakMap<object, Uint8Array>): void => {
  const time = input.time
  w.ascii("{\"timeUnixNano\":")
  if (typeof time === "bigint") w.ascii(`"${BigInt.asUintN(64, time)}"`)
  else jsonNanos(w, millisOf(time))
  w.ascii(",\"observedTimeUnixNano\":")
  const observed = input.observedTime
  if (observed !== undefined) w.ascii(`"${BigInt.asUintN(64, observed)}"`)
  else jsonNanos(w, Date.now())
  w.ascii(",\"severityNumber\":")
  w.ascii(String(input.severityNumber ?? 0))
  w.ascii(",\"severityText\":")
  jsonString(w, input.severityText ?? "")
  if (input.body !== undefined) {
    w.ascii(",\"body\":")
    jsonAnyValue(w, input.body, 0)
  }
  w.ascii(",\"attributes\":[")
  let first = true
  const shared = input.sharedAttributes
  if (shared !== undefined) {
    const bytes = sharedBytes.get(shared)
    if (bytes !== undefined) {
      w.raw(bytes)
      first = bytes.length === 0
    } else {
      const from = w.pos
      first = jsonKeyValueItems(w, shared, 0, true)
      sharedBytes.set(shared, w.copy(from))
    }
  }
  if (input.attributes !== undefined) jsonKeyValueItems(w, input.attributes, 0, first)
  w.byte(0x5d)
  const span = correlatedSpan(input)
  if (span !== undefined) {
    w.ascii(",\"traceId\":")
    w.utf8(JSON.stringify(span.traceId))
    w.ascii(",\"spanId\":")
    w.utf8(JSON.stringify(span.spanId))
    w.ascii(span.sampled ? ",\"flags\":1" : ",\"flags\":0")
  }
  if (input.eventName !== undefined) {
    w.ascii(",\"eventName\":")
    jsonString(w, input.eventName)
  }
  w.byte(0x7d)
}

/**
 * A JSON string, lone surrogates as U+FFFD as the protobuf encoding writes them: `JSON.stringify`
 * escapes one as `\ud800`, which is no Unicode text (protobuf's JSON mapping requires valid UTF-8,
 * and a strict parser refuses the whole request), and text cut in the middle of an emoji is common
 * in model output.
 */
const quoted = (text: string): string => JSON.stringify(text.isWellFormed() ? text : text.toWellFormed())

/**
 * `text` as {@link quoted} writes it, into `w`: short printable ASCII (keys, names, most values)
 * byte for byte, which costs a fraction of a `JSON.stringify` and its UTF-8 copy.
 */
const jsonString = (w: ProtobufWriter, text: string): void => {
  const start = w.pos
  w.byte(0x22)
  if (w.jsonChars(text)) w.byte(0x22)
  else {
    w.pos = start
    w.utf8(quoted(text))
  }
}

/** An object's own fields as a JSON array of key-values; `undefined` fields are left out. */
const jsonKeyValues = (w: ProtobufWriter, record: Readonly<Record<string, unknown>>, depth: number): void => {
  w.byte(0x5b)
  jsonKeyValueItems(w, record, depth, true)
  w.byte(0x5d)
}

/** The key-values of {@link jsonKeyValues} without the brackets, after others unless `first`; whether still `first`. */
const jsonKeyValueItems = (
  w: ProtobufWriter,
  record: Readonly<Record<string, unknown>>,
  depth: number,
  first: boolean
): boolean => {
  for (const key of Object.keys(record)) {
    const item = record[key]
    if (item === undefined) continue
    if (!first) w.byte(0x2c)
    first = false
    jsonKeyValue(w, key, item, depth)
  }
  return first
}

const jsonKeyValue = (w: ProtobufWriter, key: string, value: unknown, depth: number): void => {
  if (key.length <= maxJsonKeyLength) w.raw(jsonKeyPiece(key))
  else w.utf8(`{"key":${quoted(key)},"value":`)
  jsonAnyValue(w, value, depth)
  w.byte(0x7d)
}

/**
 * Each key's `{"key":"…","value":`, kept as bytes: records repeat a few keys (the attributes', the
 * messages' `role`, `parts`, `content`). Bounded, as keys can be made up at run time: full, it
 * starts over.
 */
const jsonKeys = new Map<string, Uint8Array>()
const maxJsonKeys = 1024
/** Longer keys (a logged map's, say) are written each time rather than kept. */
const maxJsonKeyLength = 128
const jsonKeyPiece = (key: string): Uint8Array => {
  let piece = jsonKeys.get(key)
  if (piece === undefined) {
    if (jsonKeys.size >= maxJsonKeys) jsonKeys.clear()
    piece = Buffer.from(`{"key":${quoted(key)},"value":`, "utf8")
    jsonKeys.set(key, piece)
  }
  return piece
}

const jsonAnyValue = (w: ProtobufWriter, value: unknown, depth: number): void => {
  const kind = classify(value, depth)
  switch (kind) {
    case "string":
      w.ascii("{\"stringValue\":")
      jsonString(w, value as string)
      w.byte(0x7d)
      return
    case "bool":
      w.ascii(value ? "{\"boolValue\":true}" : "{\"boolValue\":false}")
      return
    case "int":
    case "bigint":
      w.ascii(`{"intValue":"${value as number | bigint}"}`)
      return
    case "double":
      w.ascii(`{"doubleValue":${value as number}}`)
      return
    case "empty":
      w.ascii("{}")
      return
    case "bytes":
      w.ascii(`{"bytesValue":"${base64(value as Uint8Array)}"}`)
      return
    case "array": {
      w.ascii("{\"arrayValue\":{\"values\":[")
      let first = true
      for (const item of value as Iterable<unknown>) {
        if (!first) w.byte(0x2c)
        first = false
        jsonAnyValue(w, item, depth + 1)
      }
      w.ascii("]}}")
      return
    }
    case "map": {
      w.ascii("{\"kvlistValue\":{\"values\":[")
      let first = true
      for (const [key, item] of value as Map<unknown, unknown>) {
        if (!first) w.byte(0x2c)
        first = false
        jsonKeyValue(w, String(key), item, depth + 1)
      }
      w.ascii("]}}")
      return
    }
    case "object": {
      const unwrapped = unwrapJson(value as object)
      if (unwrapped !== value) return jsonAnyValue(w, unwrapped, depth + 1)
      w.ascii("{\"kvlistValue\":{\"values\":")
      jsonKeyValues(w, value as Record<string, unknown>, depth + 1)
      w.ascii("}}")
      return
    }
    case "text":
      w.ascii("{\"stringValue\":")
      jsonString(w, textOf(value))
      w.byte(0x7d)
  }
}

const base64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary)
}
