/**
 * `ExportTraceServiceRequest` as OTLP/JSON, written straight from the spans (the protobuf
 * encoding is `otlpTraces.ts`).
 *
 * The document is the one `@opentelemetry/otlp-transformer`'s `JsonTraceSerializer` makes —
 * `JSON.stringify` of its request object, UTF-8 encoded — to the byte: the same keys in the same
 * order, ids as they are in the span context (hex, or whatever else they hold), times as decimal
 * strings, enums and flags as numbers, int values as JSON numbers (not strings, and any integral
 * double, where protobuf stops at int64), `NaN` and the infinities as `null`, fields that are
 * undefined left out and empty strings kept, the grouping of `otlpSpan.ts` (scopes by name,
 * version and schema URL).
 *
 * How, as measured: the UTF-8 is written into one reused buffer, not built as a string and
 * encoded (flattening the string alone costs ~1 ns a byte); a JavaScript loop costs ~2 ns a
 * character and a native copy ~30 ns a call, so the constant text between values is copied from
 * pieces encoded once and joined into as few as the usual span allows (a span with no events,
 * links, status or drops ends in one piece), each attribute key's text is kept, ids shared by the
 * batch's spans are copied, and times are written as digits without `bigint#toString`.
 */
import type * as Otel from "@opentelemetry/api"
import type { Resource } from "@opentelemetry/resources"
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace"
import { type Encoding, fitsFixed64, hasOwn, otlpFlags, otlpKind, type Scope, type SpanBatch } from "./otlpSpan.ts"
import { BytesMemo, type ProtobufWriter } from "./protobufWriter.ts"
import { RecordedSpan } from "./spanRecord.ts"

const traceIds = new BytesMemo()
const parentIds = new BytesMemo()

/** OTLP/JSON: each span's text as it is added, its comma before it unless it opens its group. */
export const jsonEncoding: Encoding = {
  byKey: true,
  begin: () => {
    times.base = undefined
  },
  writeSpan: (w, span, first) => {
    if (!first) w.byte(comma)
    writeSpan(w, span)
  },
  frame: (batch) => frameJson(batch)
}

/** The text between the groups' spans, written after them and listed in the document's order. */
const frameJson = (batch: SpanBatch): void => {
  const w = batch.writer
  let start = w.pos
  w.raw(text.request)
  for (let r = 0; r < batch.resources.length; r++) {
    const { resource, scopes } = batch.resources[r]!
    w.raw(r === 0 ? text.resource : text.nextResource)
    writeResource(w, resource)
    w.raw(text.scopeSpans)
    for (let s = 0; s < scopes.length; s++) {
      const group = scopes[s]!
      w.raw(s === 0 ? text.scope : text.nextScope)
      writeScope(w, group.scope)
      w.raw(text.spans)
      batch.piece(start)
      batch.spansOf(group)
      start = w.pos
      w.byte(closeBracket)
      writeOptional(w, ",\"schemaUrl\":", group.scope.schemaUrl)
      w.byte(closeBrace)
    }
    w.byte(closeBracket)
    if (resource.schemaUrl) writeOptional(w, ",\"schemaUrl\":", resource.schemaUrl)
    w.byte(closeBrace)
  }
  w.raw(text.end)
  batch.piece(start)
}

const comma = 0x2c
const quote = 0x22
const closeBracket = 0x5d
const closeBrace = 0x7d

/** A constant piece of the document, encoded once. */
const piece = (ascii: string): Uint8Array => Buffer.from(ascii, "latin1")

const text = {
  request: piece("{\"resourceSpans\":["),
  resource: piece("{\"resource\":"),
  nextResource: piece(",{\"resource\":"),
  resourceAttributes: piece("{\"attributes\":["),
  resourceDropped: piece("],\"droppedAttributesCount\":0"),
  scopeSpans: piece(",\"scopeSpans\":["),
  scope: piece("{\"scope\":"),
  nextScope: piece(",{\"scope\":"),
  spans: piece(",\"spans\":["),
  end: piece("]}"),
  traceId: piece("{\"traceId\":\""),
  spanId: piece("\",\"spanId\":\""),
  parentSpanId: piece("\",\"parentSpanId\":\""),
  /** After the last id: its closing quote and the name's key, when there is no trace state between. */
  name: piece("\",\"name\":\""),
  nameAfterTraceState: piece(",\"name\":\""),
  kind: piece("\",\"kind\":"),
  startTime: piece(",\"startTimeUnixNano\":\""),
  endTime: piece("\",\"endTimeUnixNano\":\""),
  attributes: piece("\",\"attributes\":["),
  dropped: piece("],\"droppedAttributesCount\":"),
  eventsAfterNoDrops: piece("],\"droppedAttributesCount\":0,\"events\":["),
  events: piece(",\"events\":["),
  droppedEvents: piece("],\"droppedEventsCount\":"),
  status: piece(",\"status\":{\"code\":"),
  links: piece("},\"links\":["),
  droppedLinks: piece("],\"droppedLinksCount\":"),
  flags: piece(",\"flags\":"),
  eventOpen: piece("{\"attributes\":["),
  eventName: piece("],\"name\":\""),
  eventTime: piece("\",\"timeUnixNano\":\""),
  eventDropped: piece("\",\"droppedAttributesCount\":"),
  eventEndNoDrops: piece("\",\"droppedAttributesCount\":0}"),
  linkSpanId: piece("],\"spanId\":\""),
  linkTraceId: piece("\",\"traceId\":\""),
  linkDropped: piece(",\"droppedAttributesCount\":"),
  stringValue: piece("{\"stringValue\":\""),
  intValue: piece("{\"intValue\":"),
  doubleValue: piece("{\"doubleValue\":"),
  trueValue: piece("{\"boolValue\":true}"),
  falseValue: piece("{\"boolValue\":false}"),
  arrayValue: piece("{\"arrayValue\":{\"values\":["),
  kvlistValue: piece("{\"kvlistValue\":{\"values\":["),
  endList: piece("]}}"),
  endString: piece("\"}}"),
  endNumber: piece("}}"),
  empty: piece("{}")
} as const

/** `","kind":<k>,"startTimeUnixNano":"` for each kind OTLP has (0-5): one piece instead of three writes. */
const kindPieces = Array.from({ length: 6 }, (_, kind) => piece(`","kind":${kind},"startTimeUnixNano":"`))

/**
 * The usual end of a span, by its `flags` (below 0x400), made when first needed: from the
 * attributes' closing bracket on for a span with no events, no links, an unset status and nothing
 * dropped; from the events' closing bracket on for such a span with events.
 */
const plainEnds: Array<Uint8Array | undefined> = []
const plainEnd = (flags: number): Uint8Array =>
  plainEnds[flags] ??= piece(`],"droppedAttributesCount":0,"events":[${afterEvents}${flags}}`)
const plainEndsAfterEvents: Array<Uint8Array | undefined> = []
const plainEndAfterEvents = (flags: number): Uint8Array =>
  plainEndsAfterEvents[flags] ??= piece(`${afterEvents}${flags}}`)
const afterEvents = `],"droppedEventsCount":0,"status":{"code":0},"links":[],"droppedLinksCount":0,"flags":`

/**
 * A string's JSON text without its quotes, as `JSON.stringify` writes it: printable ASCII other
 * than `"` and `\` as is; anything else (escapes, non-ASCII, lone surrogates, which it escapes)
 * through `JSON.stringify` itself, and so are long strings, where its native scan beats the loop.
 */
const writeChars = (w: ProtobufWriter, value: string): void => {
  if (w.jsonChars(value)) return
  const escaped = JSON.stringify(value)
  w.utf8(escaped.slice(1, escaped.length - 1))
}

/** An id (hex, usually) through `memo`: the same id as the span before is copied, not read again. */
const writeId = (w: ProtobufWriter, id: string, memo: BytesMemo): void => {
  if (memo.text === id) {
    w.raw(memo.bytes)
    return
  }
  const start = w.pos
  writeChars(w, id)
  memo.text = id
  memo.bytes = w.copy(start)
}

const writeString = (w: ProtobufWriter, value: string): void => {
  w.byte(quote)
  writeChars(w, value)
  w.byte(quote)
}

/** A number as `JSON.stringify` writes it: `null` for `NaN` and the infinities, -0 as 0. */
const writeNumber = (w: ProtobufWriter, value: number): void => {
  if ((value | 0) === value && value >= 0) w.digits(value)
  else w.ascii(Number.isFinite(value) ? `${value}` : "null")
}

/** `key` (with its comma) and `value`, as `JSON.stringify` writes a property: nothing for undefined. */
const writeOptional = (w: ProtobufWriter, key: string, value: unknown): void => {
  if (value === undefined) return
  if (typeof value === "string") {
    w.ascii(key)
    writeString(w, value)
    return
  }
  const json = JSON.stringify(value) as string | undefined
  if (json === undefined) return
  w.ascii(key)
  w.utf8(json)
}

/** The resource's bytes, per resource, as for protobuf (`otlpTraces.ts`): not while its attributes are pending. */
const resourceTexts = new WeakMap<Resource, Uint8Array>()

const writeResource = (w: ProtobufWriter, resource: Resource): void => {
  const cached = resourceTexts.get(resource)
  if (cached !== undefined) {
    w.raw(cached)
    return
  }
  const start = w.pos
  w.raw(text.resourceAttributes)
  writeEntries(w, resource.attributes)
  w.raw(text.resourceDropped)
  const schemaUrl = resource.schemaUrl
  if (schemaUrl && schemaUrl !== "") writeOptional(w, ",\"schemaUrl\":", schemaUrl)
  w.byte(closeBrace)
  if (resource.asyncAttributesPending !== true) resourceTexts.set(resource, w.copy(start))
}

/** `{name, version}`, and the attributes only when there are some: what `createInstrumentationScope` makes. */
const writeScope = (w: ProtobufWriter, scope: Scope): void => {
  w.byte(0x7b)
  const empty = w.pos
  writeOptional(w, "\"name\":", scope.name)
  writeOptional(w, w.pos === empty ? "\"version\":" : ",\"version\":", scope.version)
  if (scope.attributes && Object.keys(scope.attributes).length > 0) {
    w.ascii(w.pos === empty ? "\"attributes\":[" : ",\"attributes\":[")
    writeEntries(w, scope.attributes)
    w.ascii("],\"droppedAttributesCount\":")
    writeNumber(w, scope.droppedAttributesCount ?? 0)
  }
  w.byte(closeBrace)
}

const writeSpan = (w: ProtobufWriter, span: ReadableSpan): void => {
  const context = span.spanContext()
  const parent = span.parentSpanContext
  w.raw(text.traceId)
  writeId(w, context.traceId, traceIds)
  w.raw(text.spanId)
  writeChars(w, context.spanId)
  if (parent?.spanId) {
    w.raw(text.parentSpanId)
    writeId(w, parent.spanId, parentIds)
  }
  const traceState = context.traceState?.serialize()
  if (traceState === undefined) {
    w.raw(text.name)
  } else {
    w.byte(quote)
    writeOptional(w, ",\"traceState\":", traceState)
    w.raw(text.nameAfterTraceState)
  }
  writeChars(w, span.name)
  const kind = otlpKind(span.kind)
  if (kind >= 0 && kind < kindPieces.length && (kind | 0) === kind) {
    w.raw(kindPieces[kind]!)
  } else {
    w.raw(text.kind)
    writeNumber(w, kind)
    w.raw(text.startTime)
  }
  if (span instanceof RecordedSpan) {
    writeNanos(w, span.startUnixNanos, span, false)
    w.raw(text.endTime)
    writeNanos(w, span.endUnixNanos ?? 0n, span, true)
  } else {
    writeHrTime(w, span.startTime)
    w.raw(text.endTime)
    writeHrTime(w, span.endTime)
  }
  w.raw(text.attributes)
  writeEntries(w, span.attributes)
  const flags = otlpFlags(context.traceFlags, parent?.isRemote)
  const events = span.events
  const links = span.links
  const status = span.status
  const plainAfterEvents = links.length === 0 && status.code === 0 && status.message === undefined &&
    span.droppedEventsCount === 0 && span.droppedLinksCount === 0
  if (span.droppedAttributesCount === 0) {
    if (events.length === 0 && plainAfterEvents) {
      w.raw(plainEnd(flags))
      return
    }
    w.raw(text.eventsAfterNoDrops)
  } else {
    w.raw(text.dropped)
    writeNumber(w, span.droppedAttributesCount)
    w.raw(text.events)
  }
  for (let i = 0; i < events.length; i++) {
    if (i > 0) w.byte(comma)
    writeEvent(w, events[i]!)
  }
  if (plainAfterEvents) {
    w.raw(plainEndAfterEvents(flags))
    return
  }
  w.raw(text.droppedEvents)
  writeNumber(w, span.droppedEventsCount)
  w.raw(text.status)
  writeNumber(w, status.code)
  writeOptional(w, ",\"message\":", status.message)
  w.raw(text.links)
  for (let i = 0; i < links.length; i++) {
    if (i > 0) w.byte(comma)
    writeLink(w, links[i]!)
  }
  w.raw(text.droppedLinks)
  writeNumber(w, span.droppedLinksCount)
  w.raw(text.flags)
  writeNumber(w, flags)
  w.byte(closeBrace)
}

/** With no attributes the reference writes `[]`, as for an empty object. */
const writeEvent = (w: ProtobufWriter, event: TimedEvent): void => {
  w.raw(text.eventOpen)
  if (event.attributes) writeEntries(w, event.attributes)
  w.raw(text.eventName)
  writeChars(w, event.name)
  w.raw(text.eventTime)
  writeHrTime(w, event.time)
  const dropped = event.droppedAttributesCount || 0
  if (dropped === 0) {
    w.raw(text.eventEndNoDrops)
    return
  }
  w.raw(text.eventDropped)
  writeNumber(w, dropped)
  w.byte(closeBrace)
}

const writeLink = (w: ProtobufWriter, link: Otel.Link): void => {
  const context = link.context
  w.raw(text.eventOpen)
  if (link.attributes) writeEntries(w, link.attributes)
  w.raw(text.linkSpanId)
  writeChars(w, context.spanId)
  w.raw(text.linkTraceId)
  writeChars(w, context.traceId)
  w.byte(quote)
  writeOptional(w, ",\"traceState\":", context.traceState?.serialize())
  w.raw(text.linkDropped)
  writeNumber(w, link.droppedAttributesCount || 0)
  w.raw(text.flags)
  writeNumber(w, otlpFlags(context.traceFlags, context.isRemote))
  w.byte(closeBrace)
}

// -----------------------------------------------------------------------------
// Times
// -----------------------------------------------------------------------------

/**
 * The spans of a batch are close in time: the first recorded time's second, less an hour, is the
 * batch's base, and a time from there to 2^53 ns (104 days) on is one `bigint` subtraction away
 * from two doubles, seconds and nanoseconds. The digits of the last second written are kept.
 */
const times = {
  base: undefined as bigint | undefined,
  baseSeconds: 0,
  seconds: -1,
  secondsDigits: new Uint8Array(0) as Uint8Array
}
const hourNanos = 3_600_000_000_000n

const writeNanos = (w: ProtobufWriter, nanos: bigint, span: RecordedSpan, end: boolean): void => {
  if (times.base === undefined && nanos > hourNanos && nanos < 1n << 63n) {
    times.base = nanos - (nanos % 1_000_000_000n) - hourNanos
    times.baseSeconds = Number(times.base / 1_000_000_000n)
  }
  // A time before the base, or far past it, gives an offset outside 0..2^53 (approximate, but outside).
  const offset = times.base === undefined ? -1 : Number(nanos - times.base)
  if (offset >= 0 && offset < 2 ** 53) {
    const seconds = Math.floor(offset / 1e9)
    writeSecondsAndNanos(w, times.baseSeconds + seconds, offset - seconds * 1e9)
  } else if (fitsFixed64(nanos)) {
    w.ascii(nanos.toString())
  } else {
    writeHrTime(w, end ? span.endTime : span.startTime)
  }
}

/** `[seconds, nanoseconds]` as otlp-transformer's `hrTimeToNanos` makes it (`Math.trunc`, `BigInt`), in decimal. */
const writeHrTime = (w: ProtobufWriter, time: Otel.HrTime): void => {
  const seconds = time[0]
  const nanos = time[1]
  if (Number.isSafeInteger(seconds) && seconds >= 0 && Number.isInteger(nanos) && nanos >= 0 && nanos < 1e9) {
    writeSecondsAndNanos(w, seconds, nanos)
  } else {
    w.ascii((BigInt(Math.trunc(seconds)) * 1_000_000_000n + BigInt(Math.trunc(nanos))).toString())
  }
}

/** Whole `seconds` (safe) and `nanos` (below 1e9) as one decimal number: the nanos in nine digits after the seconds. */
const writeSecondsAndNanos = (w: ProtobufWriter, seconds: number, nanos: number): void => {
  if (seconds === 0) {
    w.digits(nanos)
    return
  }
  if (seconds !== times.seconds) {
    times.seconds = seconds
    times.secondsDigits = piece(`${seconds}`)
  }
  w.raw(times.secondsDigits)
  w.digits(nanos, 9)
}

// -----------------------------------------------------------------------------
// Attributes
// -----------------------------------------------------------------------------

/**
 * `{"key":<key>,"value":` per attribute key, and the same with each usual value's opening
 * (`{"stringValue":"`, ...): spans of one kind repeat the same few keys, and one copy costs less
 * than checking and writing the key again. Bounded, as keys can be made up at run time; when
 * full it starts over.
 */
interface KeyPieces {
  readonly any: Uint8Array
  readonly string: Uint8Array
  readonly int: Uint8Array
  readonly double: Uint8Array
  readonly true: Uint8Array
  readonly false: Uint8Array
}
const keyPieces = new Map<string, KeyPieces>()
const maxKeyPieces = 1024
const keyPiecesOf = (key: string): KeyPieces => {
  let pieces = keyPieces.get(key)
  if (pieces === undefined) {
    if (keyPieces.size >= maxKeyPieces) keyPieces.clear()
    const any = Buffer.from(`{"key":${JSON.stringify(key)},"value":`, "utf8")
    const withValue = (opening: Uint8Array) => Buffer.concat([any, opening])
    pieces = {
      any,
      string: withValue(text.stringValue),
      int: withValue(text.intValue),
      double: withValue(text.doubleValue),
      true: withValue(text.trueValue),
      false: withValue(text.falseValue)
    }
    keyPieces.set(key, pieces)
  }
  return pieces
}

/** The key-values, comma-separated; the reference takes `Object.keys`, which is what for-in with own keys visits. */
const writeEntries = (w: ProtobufWriter, attributes: Otel.Attributes): void => {
  let first = true
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) continue
    if (!first) w.byte(comma)
    first = false
    writeKeyValue(w, keyPiecesOf(key), attributes[key])
  }
}

const writeKeyValue = (w: ProtobufWriter, pieces: KeyPieces, value: unknown): void => {
  switch (typeof value) {
    case "string":
      w.raw(pieces.string)
      writeChars(w, value)
      w.raw(text.endString)
      return
    case "number":
      // No int64 bound here, unlike the protobuf path: every integral double is an intValue.
      w.raw(Number.isInteger(value) ? pieces.int : pieces.double)
      writeNumber(w, value)
      w.raw(text.endNumber)
      return
    case "boolean":
      w.raw(value ? pieces.true : pieces.false)
      w.byte(closeBrace)
      return
  }
  w.raw(pieces.any)
  writeAnyValue(w, value)
  w.byte(closeBrace)
}

/** An `AnyValue`: `{}` for `null`, `undefined` and other types, as the reference writes them. */
const writeAnyValue = (w: ProtobufWriter, value: unknown): void => {
  switch (typeof value) {
    case "string":
      w.raw(text.stringValue)
      writeChars(w, value)
      w.byte(quote)
      w.byte(closeBrace)
      return
    case "number":
      w.raw(Number.isInteger(value) ? text.intValue : text.doubleValue)
      writeNumber(w, value)
      w.byte(closeBrace)
      return
    case "boolean":
      w.raw(value ? text.trueValue : text.falseValue)
      return
    case "object":
      if (value === null) break
      if (value instanceof Uint8Array) {
        w.ascii(`{"bytesValue":"${Buffer.from(value).toString("base64")}"}`)
      } else if (Array.isArray(value)) {
        w.raw(text.arrayValue)
        for (let i = 0; i < value.length; i++) {
          if (i > 0) w.byte(comma)
          writeAnyValue(w, value[i])
        }
        w.raw(text.endList)
      } else {
        w.raw(text.kvlistValue)
        writeEntries(w, value as Otel.Attributes)
        w.raw(text.endList)
      }
      return
  }
  w.raw(text.empty)
}
