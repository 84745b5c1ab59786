/**
 * `ExportTraceServiceRequest` in both OTLP/HTTP encodings, written straight from the spans: the
 * protobuf encoder here, the JSON one in `otlpTracesJson.ts`.
 *
 * Why not `@opentelemetry/otlp-transformer`'s serializers: its protobuf path measures every span
 * twice (a size pass, then the write), makes a `Uint8Array` per id and moves each span's bytes to
 * fit its length, and its JSON path builds the whole request as objects before `JSON.stringify`;
 * for the library's own spans either costs more than making the span. Here each span is written
 * once, when it is added to its batch (`SpanBatch`, `otlpSpan.ts`), into the batch's one buffer,
 * and the library's {@link RecordedSpan} gives its nanosecond times without an `HrTime`.
 *
 * What is written is what otlp-transformer 0.223 writes, field for field and byte for byte, which
 * the tests check by decoding both with a decoder built from the OTLP `.proto` files: the same
 * grouping (`otlpSpan.ts`), the same fields written or left out (zeros included: the dropped
 * counts, a status code of 0), numbers as int64 when integral and within int64, else double,
 * `flags` with the W3C flags and the "has is_remote"/"is_remote" bits, for spans and links, and
 * ids read as its `hexToBinary` reads them, even when they are not hex.
 */
import type * as Otel from "@opentelemetry/api"
import type { Resource } from "@opentelemetry/resources"
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace"
import type { Protocol } from "./config.ts"
import { type Encoding, fitsFixed64, hasOwn, otlpFlags, otlpKind, runBytes, type Scope, SpanBatch } from "./otlpSpan.ts"
import { jsonEncoding } from "./otlpTracesJson.ts"
import { BytesMemo, ProtobufWriter, varintSize } from "./protobufWriter.ts"
import type { BatchEncoder } from "./spanBatcher.ts"
import { RecordedSpan } from "./spanRecord.ts"

/** The span batcher's encoder: each span serialized into the open batch when added (as it ends). */
export const spanEncoder = (protocol: Protocol): BatchEncoder => newBatch(protocol)

const newBatch = (protocol: Protocol): SpanBatch =>
  new SpanBatch(protocol === "http/json" ? jsonEncoding : protobufEncoding)

/** The batches {@link encodeSpans} fills and seals, one per protocol, made when first needed. */
const oneShot: Partial<Record<Protocol, SpanBatch>> = {}

/**
 * The request for `spans`, as the body of an OTLP/HTTP export in `protocol`'s encoding: protobuf
 * bytes, or OTLP/JSON in UTF-8; the same bytes as the spans added one by one to a
 * {@link spanEncoder} and sealed.
 */
export const encodeSpans = (spans: ReadonlyArray<ReadableSpan>, protocol: Protocol): Uint8Array => {
  const batch = oneShot[protocol] ??= newBatch(protocol)
  // What a call that threw half-way (a throwing getter in someone's span) left behind.
  batch.clear()
  for (const span of spans) batch.add(span)
  return batch.seal()
}

// -----------------------------------------------------------------------------
// Protobuf
// -----------------------------------------------------------------------------

/** The tags of `common/v1/common.proto`'s values, which the logs' encoder writes too. */
export const commonTag = {
  key: 0x0a, // KeyValue.key = 1
  value: 0x12, // KeyValue.value = 2
  stringValue: 0x0a, // AnyValue.string_value = 1
  boolValue: 0x10, // AnyValue.bool_value = 2
  intValue: 0x18, // AnyValue.int_value = 3
  doubleValue: 0x21, // AnyValue.double_value = 4
  arrayValue: 0x2a, // AnyValue.array_value = 5
  kvlistValue: 0x32, // AnyValue.kvlist_value = 6
  bytesValue: 0x3a, // AnyValue.bytes_value = 7
  values: 0x0a // ArrayValue.values = 1, KeyValueList.values = 1
} as const

/**
 * Tags (field number << 3 | wire type) of the fields written, by message. Wire types: 0 varint,
 * 1 fixed64, 2 length-delimited, 5 fixed32.
 */
const tag = {
  requestResourceSpans: 0x0a, // ExportTraceServiceRequest.resource_spans = 1
  resource: 0x0a, // ResourceSpans.resource = 1
  scopeSpans: 0x12, // ResourceSpans.scope_spans = 2
  resourceSchemaUrl: 0x1a, // ResourceSpans.schema_url = 3
  resourceAttributes: 0x0a, // Resource.attributes = 1
  resourceDropped: 0x10, // Resource.dropped_attributes_count = 2
  scope: 0x0a, // ScopeSpans.scope = 1
  span: 0x12, // ScopeSpans.spans = 2
  scopeSchemaUrl: 0x1a, // ScopeSpans.schema_url = 3
  scopeName: 0x0a, // InstrumentationScope.name = 1
  scopeVersion: 0x12, // InstrumentationScope.version = 2
  scopeAttributes: 0x1a, // InstrumentationScope.attributes = 3
  scopeDropped: 0x20, // InstrumentationScope.dropped_attributes_count = 4
  traceId: 0x0a, // Span.trace_id = 1, Link.trace_id = 1
  spanId: 0x12, // Span.span_id = 2, Link.span_id = 2
  traceState: 0x1a, // Span.trace_state = 3, Link.trace_state = 3
  parentSpanId: 0x22, // Span.parent_span_id = 4
  name: 0x2a, // Span.name = 5
  kind: 0x30, // Span.kind = 6
  startTime: 0x39, // Span.start_time_unix_nano = 7
  endTime: 0x41, // Span.end_time_unix_nano = 8
  attributes: 0x4a, // Span.attributes = 9
  dropped: 0x50, // Span.dropped_attributes_count = 10
  event: 0x5a, // Span.events = 11
  droppedEvents: 0x60, // Span.dropped_events_count = 12
  link: 0x6a, // Span.links = 13
  droppedLinks: 0x70, // Span.dropped_links_count = 14
  status: 0x7a, // Span.status = 15
  flags: [0x85, 0x01], // Span.flags = 16 (fixed32): a two-byte tag
  eventTime: 0x09, // Event.time_unix_nano = 1
  eventName: 0x12, // Event.name = 2
  eventAttributes: 0x1a, // Event.attributes = 3
  eventDropped: 0x20, // Event.dropped_attributes_count = 4
  linkAttributes: 0x22, // Link.attributes = 4
  linkDropped: 0x28, // Link.dropped_attributes_count = 5
  linkFlags: 0x35, // Link.flags = 6
  statusMessage: 0x12, // Status.message = 2
  statusCode: 0x18, // Status.code = 3
  ...commonTag
} as const

/**
 * Bytes reserved for a length, by what the message usually weighs: a key-value, a link or a status
 * under 128 bytes, a span or an event under 16 KiB. The lengths around a batch's groups are known
 * before they are written ({@link frameProtobuf}).
 */
const reserveSmall = 1
const reserveSpan = 2

const traceIds = new BytesMemo()
const parentIds = new BytesMemo()

/** Per scope group of the resource being framed: its fields' bounds and its message's length. */
const scopeParts: Array<number> = []

const protobufEncoding: Encoding = {
  byKey: false,
  begin: () => {},
  writeSpan: (w, span) => writeSpan(w, span),
  frame: (batch) => frameProtobuf(batch)
}

/**
 * Per resource: its fields and its scopes' are written first (after the spans), which gives every
 * length; then the tags and lengths, each piece listed in the request's order.
 */
const frameProtobuf = (batch: SpanBatch): void => {
  const w = batch.writer
  const pieces = batch.pieces
  const parts = scopeParts
  for (const { resource, scopes } of batch.resources) {
    const resourceStart = w.pos
    writeResource(w, resource)
    const resourceEnd = w.pos
    const resourceSchemaUrl = resource.schemaUrl
    if (resourceSchemaUrl) {
      w.byte(tag.resourceSchemaUrl)
      w.string(resourceSchemaUrl)
    }
    const schemaEnd = w.pos
    let length = schemaEnd - resourceStart
    parts.length = 0
    for (const group of scopes) {
      const scopeStart = w.pos
      writeScope(w, group.scope)
      const scopeEnd = w.pos
      const scopeSchemaUrl = group.scope.schemaUrl
      if (scopeSchemaUrl) {
        w.byte(tag.scopeSchemaUrl)
        w.string(scopeSchemaUrl)
      }
      const scopeLength = w.pos - scopeStart + runBytes(group)
      parts.push(scopeStart, scopeEnd, w.pos, scopeLength)
      length += 1 + varintSize(scopeLength) + scopeLength
    }
    let start = w.pos
    w.byte(tag.requestResourceSpans)
    w.varint(length)
    batch.piece(start)
    pieces.push(resourceStart, resourceEnd)
    for (let i = 0; i < scopes.length; i++) {
      start = w.pos
      w.byte(tag.scopeSpans)
      w.varint(parts[4 * i + 3]!)
      batch.piece(start)
      pieces.push(parts[4 * i]!, parts[4 * i + 1]!)
      batch.spansOf(scopes[i]!)
      pieces.push(parts[4 * i + 1]!, parts[4 * i + 2]!)
    }
    pieces.push(resourceEnd, schemaEnd)
  }
}

/**
 * The resource field's bytes, per resource: written once per batch, but in a small batch (the
 * timer's flush of a quiet service) it was a third of the cost. Resources do not change once
 * built, except one whose asynchronous attributes are still pending: that one is written anew
 * each time, as the reference reads it.
 */
const resourceFields = new WeakMap<Resource, Uint8Array>()

const writeResource = (w: ProtobufWriter, resource: Resource): void => {
  const cached = resourceFields.get(resource)
  if (cached !== undefined) {
    w.raw(cached)
    return
  }
  const field = w.pos
  w.byte(tag.resource)
  const start = w.begin(reserveSpan)
  const attributes = resource.attributes
  if (attributes) writeAttributes(w, attributes, tag.resourceAttributes)
  // The SDK keeps no dropped count for resources; otlp-transformer writes 0.
  w.byte(tag.resourceDropped)
  w.byte(0)
  w.end(start, reserveSpan)
  if (resource.asyncAttributesPending !== true) resourceFields.set(resource, w.copy(field))
}

const writeScope = (w: ProtobufWriter, scope: Scope): void => {
  w.byte(tag.scope)
  const start = w.begin(reserveSmall)
  w.byte(tag.scopeName)
  w.string(scope.name)
  if (scope.version) {
    w.byte(tag.scopeVersion)
    w.string(scope.version)
  }
  if (scope.attributes) writeAttributes(w, scope.attributes, tag.scopeAttributes)
  if (scope.droppedAttributesCount) {
    w.byte(tag.scopeDropped)
    w.varint(scope.droppedAttributesCount)
  }
  w.end(start, reserveSmall)
}

const writeSpan = (w: ProtobufWriter, span: ReadableSpan): void => {
  w.byte(tag.span)
  const start = w.begin(reserveSpan)
  const context = span.spanContext()
  writeIds(w, tag.traceId, tag.spanId, traceIds, context, span instanceof RecordedSpan ? span : undefined)
  const traceState = context.traceState?.serialize()
  if (traceState) {
    w.byte(tag.traceState)
    w.string(traceState)
  }
  const parent = span.parentSpanContext
  if (parent?.spanId) {
    w.byte(tag.parentSpanId)
    w.hexBytes(parent.spanId, parentIds)
  }
  w.byte(tag.name)
  w.string(span.name)
  const kind = otlpKind(span.kind)
  if (kind !== 0) {
    w.byte(tag.kind)
    w.varint(kind)
  }
  w.byte(tag.startTime)
  if (span instanceof RecordedSpan) {
    const startNanos = span.startUnixNanos
    if (fitsFixed64(startNanos)) w.fixed64Big(startNanos)
    else writeHrTime(w, span.startTime)
    w.byte(tag.endTime)
    const endNanos = span.endUnixNanos ?? 0n
    if (fitsFixed64(endNanos)) w.fixed64Big(endNanos)
    else writeHrTime(w, span.endTime)
  } else {
    writeHrTime(w, span.startTime)
    w.byte(tag.endTime)
    writeHrTime(w, span.endTime)
  }
  if (span.attributes) writeAttributes(w, span.attributes, tag.attributes)
  w.byte(tag.dropped)
  w.varint(span.droppedAttributesCount)
  for (const event of span.events) writeEvent(w, event)
  w.byte(tag.droppedEvents)
  w.varint(span.droppedEventsCount)
  for (const link of span.links) writeLink(w, link)
  w.byte(tag.droppedLinks)
  w.varint(span.droppedLinksCount)
  writeStatus(w, span.status)
  w.byte(tag.flags[0])
  w.byte(tag.flags[1])
  w.fixed32(otlpFlags(context.traceFlags, parent?.isRemote))
  w.end(start, reserveSpan)
}

/**
 * The trace and span id fields of `context`: from the bytes the ids were made from when the span is
 * the library's own record (the same bytes their hex reads back to), else from their hex; a child
 * record's trace id is its parent's hex. `memo` keeps the last trace id's bytes.
 */
export const writeIds = (
  w: ProtobufWriter,
  traceTag: number,
  spanTag: number,
  memo: BytesMemo,
  context: { readonly traceId: string; readonly spanId: string },
  recorded: RecordedSpan | undefined
): void => {
  w.byte(traceTag)
  if (recorded?.ownTrace === true) {
    w.byte(16)
    w.word(recorded.traceWord0)
    w.word(recorded.traceWord1)
    w.word(recorded.traceWord2)
    w.word(recorded.traceWord3)
  } else w.hexBytes(context.traceId, memo)
  w.byte(spanTag)
  if (recorded !== undefined) {
    w.byte(8)
    w.word(recorded.spanWord0)
    w.word(recorded.spanWord1)
  } else w.hexBytes(context.spanId)
}

const writeEvent = (w: ProtobufWriter, event: TimedEvent): void => {
  w.byte(tag.event)
  const start = w.begin(reserveSpan)
  w.byte(tag.eventTime)
  writeHrTime(w, event.time)
  w.byte(tag.eventName)
  w.string(event.name)
  if (event.attributes) writeAttributes(w, event.attributes, tag.eventAttributes)
  w.byte(tag.eventDropped)
  w.varint(event.droppedAttributesCount || 0)
  w.end(start, reserveSpan)
}

const writeLink = (w: ProtobufWriter, link: Otel.Link): void => {
  w.byte(tag.link)
  const start = w.begin(reserveSmall)
  const context = link.context
  w.byte(tag.traceId)
  w.hexBytes(context.traceId)
  w.byte(tag.spanId)
  w.hexBytes(context.spanId)
  const traceState = context.traceState?.serialize()
  if (traceState) {
    w.byte(tag.traceState)
    w.string(traceState)
  }
  if (link.attributes) writeAttributes(w, link.attributes, tag.linkAttributes)
  w.byte(tag.linkDropped)
  w.varint(link.droppedAttributesCount || 0)
  w.byte(tag.linkFlags)
  w.fixed32(otlpFlags(context.traceFlags, context.isRemote))
  w.end(start, reserveSmall)
}

/** The code is always written, even UNSET (0); the message only when not empty. */
const writeStatus = (w: ProtobufWriter, status: Otel.SpanStatus): void => {
  const code = status.code
  if (!status.message && code >= 0 && code < 0x80 && (code | 0) === code) {
    // The usual status: a two-byte message, its code alone.
    w.byte(tag.status)
    w.byte(2)
    w.byte(tag.statusCode)
    w.byte(code)
    return
  }
  w.byte(tag.status)
  const start = w.begin(reserveSmall)
  if (status.message) {
    w.byte(tag.statusMessage)
    w.string(status.message)
  }
  w.byte(tag.statusCode)
  w.varint(status.code)
  w.end(start, reserveSmall)
}

/**
 * `[seconds, nanoseconds]` as fixed64 nanoseconds, exactly as otlp-transformer's
 * `writeHrTimeAsFixed64` computes them: `seconds * 1e9` overflows a double's integers, so it is
 * summed from the low 16 bits of `seconds` and the rest, with the carry into the high half.
 */
const writeHrTime = (w: ProtobufWriter, time: Otel.HrTime): void => {
  const seconds = time[0]
  const nanos = time[1]
  const fromLow = (seconds & 0xffff) * 1e9
  const fromHigh = ((seconds / 0x10000) >>> 0) * 1e9
  const low = (fromLow >>> 0) + (((fromHigh & 0xffff) * 0x10000) >>> 0) + nanos
  const high = Math.floor(fromLow / 0x100000000) + ((fromHigh / 0x10000) >>> 0) + Math.floor(low / 0x100000000)
  w.fixed64(low >>> 0, high >>> 0)
}

const writeAttributes = (w: ProtobufWriter, attributes: Otel.Attributes, field: number): void => {
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) continue
    w.byte(field)
    writeKeyValue(w, key, attributes[key])
  }
}

/**
 * What the encoder keeps per attribute key seen so far, bounded (keys can be made up at run time;
 * when full it starts over):
 * - `field`, the key and the tag of the value of a `KeyValue`: spans of one kind repeat the same
 *   few keys, and copying these bytes measured a quarter faster overall, for the GenAI span's ten
 *   keys, than encoding them again;
 * - `value`, the last primitive value written under the key, and `whole`, once it came twice in a
 *   row and is short, the whole `KeyValue` it made, length first: most attributes of a kind of span
 *   repeat from one span to the next (the operation, the provider, the model, the server), and
 *   copying them skips encoding them again. A value that changes every span (an id, a count)
 *   costs one comparison.
 */
interface KeyEntry {
  readonly field: Uint8Array
  value: unknown
  whole: Uint8Array | undefined
}
const keys = new Map<string, KeyEntry>()
const maxKeys = 1024
const maxWhole = 128

const keyEntry = (w: ProtobufWriter, key: string): KeyEntry => {
  let entry = keys.get(key)
  if (entry === undefined) {
    const start = w.pos
    w.byte(tag.key)
    w.string(key)
    w.byte(tag.value)
    entry = { field: w.copy(start), value: undefined, whole: undefined }
    w.pos = start
    if (keys.size >= maxKeys) keys.clear()
    keys.set(key, entry)
  }
  return entry
}

export const writeKeyField = (w: ProtobufWriter, key: string): void => w.raw(keyEntry(w, key).field)

/**
 * A `KeyValue` message, its length first (the caller wrote the tag). Log records write theirs here
 * too when the value is one both signals encode alike (see `otlpLogs.ts`), so the GenAI keys and
 * values an event shares with its span are encoded once for both.
 */
export const writeKeyValue = (w: ProtobufWriter, key: string, value: unknown): void => {
  const entry = keyEntry(w, key)
  if (entry.whole !== undefined && entry.value === value) {
    w.raw(entry.whole)
    return
  }
  const start = w.begin(reserveSmall)
  w.raw(entry.field)
  const valueStart = w.begin(reserveSmall)
  writeAnyValue(w, value)
  w.end(valueStart, reserveSmall)
  w.end(start, reserveSmall)
  const type = typeof value
  if (type !== "string" && type !== "number" && type !== "boolean") return
  if (w.pos - start > maxWhole) {
    // Too long to be kept whole: nor is the value remembered, so a long string is not kept alive.
    entry.value = undefined
    entry.whole = undefined
  } else if (entry.value === value) entry.whole = w.copy(start)
  else {
    entry.value = value
    entry.whole = undefined
  }
}

/** int64 holds every integral double in -2^63..2^63 (exclusive); beyond, otlp-transformer writes a double. */
const minInt64 = -(2 ** 63)
const maxInt64 = 2 ** 63

/**
 * An `AnyValue`'s contents: nothing for `null`, `undefined` and other types (an empty value, as
 * the reference writes), byte arrays and plain objects too, though OTel attributes hold neither.
 */
const writeAnyValue = (w: ProtobufWriter, value: unknown): void => {
  switch (typeof value) {
    case "string":
      w.byte(tag.stringValue)
      w.string(value)
      return
    case "boolean":
      w.byte(tag.boolValue)
      w.byte(value ? 1 : 0)
      return
    case "number":
      if (Number.isInteger(value) && value >= minInt64 && value < maxInt64) {
        w.byte(tag.intValue)
        w.varint(value)
      } else {
        w.byte(tag.doubleValue)
        w.double(value)
      }
      return
    case "object":
      if (value === null) return
      if (value instanceof Uint8Array) {
        w.byte(tag.bytesValue)
        w.bytes(value)
      } else if (Array.isArray(value)) {
        w.byte(tag.arrayValue)
        const start = w.begin(reserveSmall)
        for (const item of value) {
          w.byte(tag.values)
          const itemStart = w.begin(reserveSmall)
          writeAnyValue(w, item)
          w.end(itemStart, reserveSmall)
        }
        w.end(start, reserveSmall)
      } else {
        w.byte(tag.kvlistValue)
        const start = w.begin(reserveSmall)
        const entries = value as Record<string, unknown>
        for (const key in entries) {
          if (!hasOwn.call(entries, key)) continue
          w.byte(tag.values)
          writeKeyValue(w, key, entries[key])
        }
        w.end(start, reserveSmall)
      }
  }
}
