/**
 * The library's OTLP span encoder (`src/internal/otlpTraces.ts`) against the one it replaces,
 * `@opentelemetry/otlp-transformer`'s `ProtobufTraceSerializer` and `JsonTraceSerializer`:
 * - for generated batches of every shape — the library's own span records and other tracers'
 *   spans as plain objects, several resources and scopes interleaved, every attribute type, arrays
 *   homogeneous and mixed with null/undefined, events, links with trace state, every status and
 *   kind, local, remote and absent parents, ids that are not hex, unicode with astral characters
 *   and lone surrogates, edge numbers and times — our protobuf decodes, with protobufjs over a
 *   transcription of the OTLP `.proto` files (`fixtures/otlp/trace.proto`), to exactly what the
 *   reference's bytes decode to, and our JSON parses to the same document; both through
 *   `encodeSpans` and through the span batcher's encoder (spans added one by one, then sealed),
 *   and two batches in a row through one encoder each as if alone;
 * - a few cases checked by hand: one span field by field, an empty batch, two resources, the
 *   scope grouping where the two reference serializers differ, a batch over 2 MiB, a resource
 *   that settles between a span's add and its batch's seal, a span that throws while added.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Otel from "@opentelemetry/api"
import { type InstrumentationScope, TraceState } from "@opentelemetry/core"
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer"
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources"
import { AlwaysOnSampler, type ReadableSpan, type TimedEvent } from "@opentelemetry/sdk-trace"
import * as fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import protobuf from "protobufjs"
import { encodeSpans, spanEncoder } from "../src/internal/otlpTraces.ts"
import { ProtobufWriter } from "../src/internal/protobufWriter.ts"
import { type RecordedSpan, SpanSource } from "../src/internal/spanRecord.ts"
import { runs } from "./support/provider-tests.ts"

// -----------------------------------------------------------------------------
// The independent decoder
// -----------------------------------------------------------------------------

const proto = protobuf.parse(fs.readFileSync(path.join(import.meta.dirname, "fixtures", "otlp", "trace.proto"), "utf8"))
const Request = proto.root.lookupType("opentelemetry.proto.ExportTraceServiceRequest")

const bytesFields = new Set(["traceId", "spanId", "parentSpanId", "bytesValue"])
/** protobufjs writes bytes as base64; ids read better as hex. */
const hexBytes = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(hexBytes)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      bytesFields.has(key) && typeof field === "string" ? Buffer.from(field, "base64").toString("hex") : hexBytes(field)
    ])
  )
}

/**
 * The request as protobufjs decodes it: 64-bit integers as decimal strings, enums as numbers,
 * bytes as hex. A proto3 scalar at its default (0, "") decodes as absent whether written or not;
 * {@link expectSameAsReference} compares the bytes too, which tells them apart.
 */
const decode = (bytes: Uint8Array): unknown =>
  hexBytes(Request.toObject(Request.decode(bytes), { longs: String, enums: Number, bytes: String, defaults: false }))

const reference = (spans: ReadonlyArray<ReadableSpan>) => ({
  protobuf: ProtobufTraceSerializer.serializeRequest(spans as Array<ReadableSpan>)!,
  json: JsonTraceSerializer.serializeRequest(spans as Array<ReadableSpan>)!
})
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

type Encoded = { readonly protobuf: Uint8Array; readonly json: Uint8Array }

/** Ours and the reference's agree on `spans`, decoded and parsed, in both encodings. */
const expectSame = (spans: ReadonlyArray<ReadableSpan>, ours: Encoded) => {
  const theirs = reference(spans)
  expect(decode(ours.protobuf)).toEqual(decode(theirs.protobuf))
  expect(JSON.parse(text(ours.json))).toEqual(JSON.parse(text(theirs.json)))
  // Stronger, and true today: the same fields in the same order make the same bytes and the same text.
  expect(Buffer.from(ours.protobuf).equals(Buffer.from(theirs.protobuf))).toBe(true)
  expect(text(ours.json)).toBe(text(theirs.json))
}

/** The batcher's encoders, one per protocol. */
const encoders = () => ({ protobuf: spanEncoder("http/protobuf"), json: spanEncoder("http/json") })

/** `spans` added one by one to both encoders, as the batcher adds them, then sealed. */
const addAndSeal = (into: ReturnType<typeof encoders>, spans: ReadonlyArray<ReadableSpan>): Encoded => {
  for (const span of spans) {
    into.protobuf.add(span)
    into.json.add(span)
  }
  expect([into.protobuf.count, into.json.count]).toEqual([spans.length, spans.length])
  const sealed = { protobuf: into.protobuf.seal(), json: into.json.seal() }
  expect([into.protobuf.count, into.json.count]).toEqual([0, 0])
  return sealed
}

/** Both ways in: `encodeSpans` with the whole batch, and a fresh encoder span by span. */
const expectSameAsReference = (spans: ReadonlyArray<ReadableSpan>) => {
  expectSame(spans, { protobuf: encodeSpans(spans, "http/protobuf"), json: encodeSpans(spans, "http/json") })
  expectSame(spans, addAndSeal(encoders(), spans))
}

// -----------------------------------------------------------------------------
// What spans are made of
// -----------------------------------------------------------------------------

/** Any UTF-16 code unit, so lone surrogates too. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code))
const words = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: codeUnit, maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 20, maxLength: 200 }) },
  // Three UTF-8 bytes per unit: short strings that still need a two-byte length.
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom("€", "中", "\ud800"), minLength: 20, maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      "x".repeat(300),
      "é".repeat(100),
      "😀".repeat(40),
      "a\ud800",
      "\udc00b",
      "\"\\\n\u0000\u2028"
    )
  }
)
/** Long enough for lengths of three bytes; drawn rarely. */
const veryLong = fc.constantFrom("y".repeat(70_000), "ü€😀".repeat(12_000))

const numbers = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.maxSafeInteger(),
  fc.constantFrom(
    0,
    -0,
    -1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53,
    -(2 ** 53),
    2 ** 53 + 2,
    2 ** 63,
    -(2 ** 63),
    2 ** 64,
    1e21,
    -1e300,
    Number.NaN,
    Infinity,
    -Infinity,
    5e-324,
    Number.MAX_VALUE
  )
)
const scalar = fc.oneof(words, numbers, fc.boolean())
/** What an OTel attribute holds: a scalar, or an array of one type with null/undefined allowed, or mixed. */
const attributeValue = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.oneof(fc.array(words), fc.array(numbers), fc.array(fc.boolean())) },
  { weight: 1, arbitrary: fc.array(fc.oneof(words, fc.constant(null), fc.constant(undefined))) },
  { weight: 1, arbitrary: fc.array(fc.oneof(scalar, fc.constant(null), fc.constant(undefined)), { maxLength: 6 }) }
)
/** Beyond OTel's attribute types, which other tracers' spans may still carry: bytes, maps, nested arrays, null. */
const anyValue = fc.oneof(
  { weight: 10, arbitrary: attributeValue },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.dictionary(words, fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.array(scalar, { maxLength: 2 }), { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined) }
)
/**
 * Keys and values many spans share, some keys with more than one value: the encoders keep the
 * bytes of a value that repeats under its key, and must write it anew when it changes.
 */
const shared: ReadonlyArray<readonly [string, unknown]> = [
  ["gen_ai.operation.name", "chat"],
  ["gen_ai.operation.name", "embeddings"],
  ["gen_ai.request.model", "gpt-4o"],
  ["server.port", 443],
  ["server.port", 0],
  ["server.port", -0],
  ["ratio", 0.5],
  ["streamed", true],
  ["streamed", false],
  ["note", "ü€😀 \ud800"],
  ["long", "x".repeat(300)],
  ["tags", ["a", "b"]]
]
const attributes = (value: fc.Arbitrary<unknown>) =>
  fc.tuple(fc.dictionary(words, value, { maxKeys: 6 }), fc.subarray([...shared], { maxLength: 5 })).map((
    [drawn, common]
  ) => ({ ...Object.fromEntries(common), ...drawn })) as fc.Arbitrary<Otel.Attributes>

const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"))
/** Mostly valid ids; also upper case, empty, of the wrong length, or not hex at all. */
const id = (bytes: number) =>
  fc.oneof(
    { weight: 12, arbitrary: hex(bytes) },
    { weight: 1, arbitrary: hex(bytes).map((s) => s.toUpperCase()) },
    { weight: 1, arbitrary: fc.string({ maxLength: 2 * bytes + 3 }) },
    { weight: 1, arbitrary: fc.string({ unit: codeUnit, minLength: 2 * bytes, maxLength: 2 * bytes }) }
  )

/** A trace state whose `serialize` returns any text, the empty string included. */
const anyTraceState = (serialized: string): Otel.TraceState => ({
  set: () => anyTraceState(serialized),
  unset: () => anyTraceState(serialized),
  get: () => undefined,
  serialize: () => serialized
})
const traceState = fc.oneof(
  fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/), fc.stringMatching(/^[a-z0-9]{1,6}$/)), {
    minLength: 1,
    maxLength: 3
  }).map((entries) => new TraceState(entries.map(([key, value]) => `${key}=${value}`).join(","))),
  words.map(anyTraceState)
)

const drawnContext: fc.Arbitrary<Otel.SpanContext> = fc.record({
  traceId: id(16),
  spanId: id(8),
  traceFlags: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 0xffff })),
  isRemote: fc.boolean(),
  traceState
}, { requiredKeys: ["traceId", "spanId", "traceFlags"] })
/** A few contexts many spans share, as the spans of one trace do (the encoders copy an id seen just before). */
const sharedContexts: ReadonlyArray<Otel.SpanContext> = [
  { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 },
  { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "00f067aa0ba902b7", traceFlags: 1, isRemote: true },
  { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "b7ad6b7169203331", traceFlags: 0 }
]
const spanContext = fc.oneof({ weight: 3, arbitrary: drawnContext }, {
  weight: 1,
  arbitrary: fc.constantFrom(...sharedContexts)
})

const hrTime: fc.Arbitrary<Otel.HrTime> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 0, max: 2 ** 35 }), fc.integer({ min: 0, max: 999_999_999 })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Otel.HrTime>([0, 0], [18_446_744_073, 709_551_615], [2 ** 32, 7], [-3, -5], [1.5, 2.75])
  }
)

const status: fc.Arbitrary<Otel.SpanStatus> = fc.oneof(
  fc.constant({ code: Otel.SpanStatusCode.UNSET }),
  fc.constant({ code: Otel.SpanStatusCode.OK }),
  fc.constant({ code: Otel.SpanStatusCode.ERROR }),
  words.map((message) => ({ code: Otel.SpanStatusCode.ERROR, message })),
  words.map((message) => ({ code: Otel.SpanStatusCode.OK, message }))
)
const kind = fc.constantFrom(
  Otel.SpanKind.INTERNAL,
  Otel.SpanKind.SERVER,
  Otel.SpanKind.CLIENT,
  Otel.SpanKind.PRODUCER,
  Otel.SpanKind.CONSUMER
)
const count = fc.oneof(fc.constant(0), fc.nat(200), fc.constantFrom(2 ** 31, 2 ** 32 - 1))

/** Resources as the SDK makes them, one with async attributes still pending, and a plain object. */
const resources: ReadonlyArray<Resource> = [
  resourceFromAttributes({ service: "orders", "service.version": "1.2.3", pid: 4242, tags: ["a", "b"] }),
  resourceFromAttributes({ service: "billing", ratio: 0.5 }, { schemaUrl: "https://opentelemetry.io/schemas/1.30.0" }),
  resourceFromAttributes({}),
  resourceFromAttributes({ settled: true, later: new Promise<string>(() => {}) }),
  { attributes: { "ünïcødé 😀": "\ud800" }, schemaUrl: "" } as unknown as Resource
]

type Scope = InstrumentationScope & { readonly attributes?: Otel.Attributes; readonly droppedAttributesCount?: number }
/** The first two are equal but not the same object: the reference's protobuf keeps them apart, its JSON does not. */
const scopes: ReadonlyArray<Scope> = [
  { name: "beluga-o11y", version: "0.1.0" },
  { name: "beluga-o11y", version: "0.1.0" },
  { name: "other", version: "", schemaUrl: "" },
  { name: "", schemaUrl: "https://example.com/schema" },
  { name: "with-attributes", version: "2", attributes: { a: 1, b: ["x"] }, droppedAttributesCount: 2 },
  { name: "ünïcødé 😀", attributes: {} }
]
const resourceOf = fc.constantFrom(...resources)
const scopeOf = fc.constantFrom(...scopes)

const optional = <A>(arbitrary: fc.Arbitrary<A>) => fc.option(arbitrary, { nil: undefined })

/** Another tracer's span: a plain `ReadableSpan` object, every field drawn. */
const plainSpan: fc.Arbitrary<ReadableSpan> = fc.record({
  name: fc.oneof({ weight: 30, arbitrary: words }, { weight: 1, arbitrary: veryLong }),
  kind,
  context: spanContext,
  parent: optional(fc.oneof(spanContext, spanContext.map((c) => ({ ...c, spanId: "" })))),
  startTime: hrTime,
  endTime: hrTime,
  status,
  attributes: attributes(anyValue),
  links: fc.array(
    fc.record({ context: spanContext, attributes: attributes(anyValue), droppedAttributesCount: count }, {
      requiredKeys: ["context"]
    }),
    { maxLength: 3 }
  ),
  events: fc.array(
    fc.record({ name: words, time: hrTime, attributes: attributes(anyValue), droppedAttributesCount: count }, {
      requiredKeys: ["name", "time"]
    }),
    { maxLength: 3 }
  ),
  droppedAttributesCount: count,
  droppedEventsCount: count,
  droppedLinksCount: count,
  resource: resourceOf,
  scope: scopeOf
}).map(({ context, parent, scope, ...span }) => ({
  ...span,
  spanContext: () => context,
  ...(parent !== undefined ? { parentSpanContext: parent } : {}),
  instrumentationScope: scope,
  duration: [0, 0] as Otel.HrTime,
  ended: true,
  links: span.links as Array<Otel.Link>,
  events: span.events as Array<TimedEvent>
}))

const nanos = fc.oneof(
  { weight: 8, arbitrary: fc.bigInt({ min: 1_700_000_000_000_000_000n, max: 1_800_000_000_000_000_000n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
  // Outside what fixed64 holds as is: the encoder goes through HrTime, as the reference does.
  { weight: 1, arbitrary: fc.constantFrom(0n, -1n, -(10n ** 18n) - 7n, 2n ** 64n, 2n ** 70n + 3n) }
)

/** The library's own span record, started and (mostly) ended through its `SpanSource`, limits drawn. */
const recordedSpan: fc.Arbitrary<ReadableSpan> = fc.record({
  name: words,
  kind,
  parent: optional(spanContext),
  start: nanos,
  duration: optional(fc.bigInt({ min: -10n, max: 10n ** 12n })),
  attributes: attributes(attributeValue),
  links: fc.array(fc.record({ context: spanContext, attributes: attributes(attributeValue) }), { maxLength: 3 }),
  events: fc.array(
    fc.record({
      name: words,
      attributes: optional(attributes(attributeValue)),
      at: fc.bigInt({ min: 0n, max: 10n ** 19n })
    }),
    { maxLength: 3 }
  ),
  status,
  limits: fc.record({
    attributeCountLimit: fc.integer({ min: 0, max: 4 }),
    attributeValueLengthLimit: fc.integer({ min: 0, max: 8 }),
    eventCountLimit: fc.integer({ min: 0, max: 2 }),
    linkCountLimit: fc.integer({ min: 0, max: 2 }),
    attributePerEventCountLimit: fc.integer({ min: 0, max: 2 }),
    attributePerLinkCountLimit: fc.integer({ min: 0, max: 2 })
  }, { requiredKeys: [] }),
  resource: resourceOf,
  scope: scopeOf
}).map((s) => {
  const source = new SpanSource(s.resource, s.scope, new AlwaysOnSampler(), false, [], s.limits)
  const span = source.start(s.name, s.kind, s.start, s.attributes, s.links, Otel.ROOT_CONTEXT, s.parent) as RecordedSpan
  for (const event of s.events) span.eventAt(event.name, event.attributes, event.at)
  span.setStatus(s.status)
  if (s.duration !== undefined) span.endAt(s.start + s.duration)
  return span
})

const batch = fc.array(fc.oneof(recordedSpan, plainSpan), { maxLength: 8 })

// -----------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------

const resource = resourceFromAttributes({ service: "checkout", replicas: 3 })
const scope = { name: "beluga-o11y", version: "0.1.0" }
const source = new SpanSource(resource, scope, new AlwaysOnSampler(), false, [])
const parent: Otel.SpanContext = {
  traceId: "0af7651916cd43dd8448eb211c80319c",
  spanId: "b7ad6b7169203331",
  traceFlags: Otel.TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState("vendor=abc")
}
const recorded = (name: string, from = source, extra: Otel.Attributes = {}) => {
  const span = from.start(
    name,
    Otel.SpanKind.CLIENT,
    1_700_000_000_123_456_789n,
    { step: "parse", index: 7, ratio: 0.25, cached: false, reasons: ["stop"], ...extra },
    [{ context: { ...parent, isRemote: false }, attributes: { why: "retry" } }],
    Otel.ROOT_CONTEXT,
    parent
  ) as RecordedSpan
  span.eventAt("tokens", { count: 12 }, 1_700_000_000_200_000_000n)
  span.setStatus({ code: Otel.SpanStatusCode.ERROR, message: "boom" })
  span.endAt(1_700_000_000_987_654_321n)
  return span
}

describe("the OTLP span encoder", () => {
  it("decodes to what otlp-transformer's protobuf decodes to, and parses to its JSON, for any batch", () => {
    fc.assert(fc.property(batch, expectSameAsReference), { numRuns: runs(500) })
  })

  it("writes each of two batches through one encoder as if it were alone", () => {
    fc.assert(
      fc.property(batch, batch, (first, second) => {
        const both = encoders()
        expectSame(first, addAndSeal(both, first))
        expectSame(second, addAndSeal(both, second))
      }),
      { numRuns: runs(200) }
    )
  })

  it("writes one span's fields as recorded (checked by hand)", () => {
    const span = recorded("fetch")
    const request = decode(encodeSpans([span], "http/protobuf")) as any
    expect(request.resourceSpans).toHaveLength(1)
    expect(request.resourceSpans[0].resource).toEqual({
      attributes: [{ key: "service", value: { stringValue: "checkout" } }, {
        key: "replicas",
        value: { intValue: "3" }
      }]
    })
    expect(request.resourceSpans[0].scopeSpans[0].scope).toEqual({ name: "beluga-o11y", version: "0.1.0" })
    expect(request.resourceSpans[0].scopeSpans[0].spans).toEqual([{
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: span.spanContext().spanId,
      traceState: "vendor=abc",
      parentSpanId: "b7ad6b7169203331",
      name: "fetch",
      kind: 3,
      startTimeUnixNano: "1700000000123456789",
      endTimeUnixNano: "1700000000987654321",
      attributes: [
        { key: "step", value: { stringValue: "parse" } },
        { key: "index", value: { intValue: "7" } },
        { key: "ratio", value: { doubleValue: 0.25 } },
        { key: "cached", value: { boolValue: false } },
        { key: "reasons", value: { arrayValue: { values: [{ stringValue: "stop" }] } } }
      ],
      // The dropped counts are 0, which decodes as absent.
      events: [{
        timeUnixNano: "1700000000200000000",
        name: "tokens",
        attributes: [{ key: "count", value: { intValue: "12" } }]
      }],
      links: [{
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        traceState: "vendor=abc",
        attributes: [{ key: "why", value: { stringValue: "retry" } }],
        // Sampled, and "is_remote" known: false.
        flags: 0x101
      }],
      status: { message: "boom", code: 2 },
      // Sampled, and the parent known to be remote.
      flags: 0x301
    }])
    const json = JSON.parse(text(encodeSpans([span], "http/json")))
    const jsonSpan = json.resourceSpans[0].scopeSpans[0].spans[0]
    expect(jsonSpan.traceId).toBe("0af7651916cd43dd8448eb211c80319c")
    expect(jsonSpan.startTimeUnixNano).toBe("1700000000123456789")
    expect(jsonSpan.attributes[1]).toEqual({ key: "index", value: { intValue: 7 } })
    expect(jsonSpan.kind).toBe(3)
    expect(jsonSpan.flags).toBe(0x301)
    expectSameAsReference([span])
  })

  it("writes an empty batch as an empty request", () => {
    expect(encodeSpans([], "http/protobuf")).toHaveLength(0)
    expect(text(encodeSpans([], "http/json"))).toBe("{\"resourceSpans\":[]}")
    expectSameAsReference([])
  })

  it("groups two resources in order of first appearance, each span under its own", () => {
    const other = new SpanSource(
      resourceFromAttributes({ service: "payments" }),
      scope,
      new AlwaysOnSampler(),
      false,
      []
    )
    const spans = [recorded("a"), recorded("b", other), recorded("c"), recorded("d", other)]
    const request = decode(encodeSpans(spans, "http/protobuf")) as any
    expect(request.resourceSpans.map((r: any) => r.resource.attributes[0].value.stringValue)).toEqual([
      "checkout",
      "payments"
    ])
    expect(request.resourceSpans.map((r: any) => r.scopeSpans[0].spans.map((s: any) => s.name))).toEqual([
      ["a", "c"],
      ["b", "d"]
    ])
    expectSameAsReference(spans)
  })

  it("groups scopes as each reference serializer does: by object for protobuf, by name and version for JSON", () => {
    const twin = new SpanSource(resource, { ...scope }, new AlwaysOnSampler(), false, [])
    const spans = [recorded("a"), recorded("b", twin)]
    const request = decode(encodeSpans(spans, "http/protobuf")) as any
    expect(request.resourceSpans[0].scopeSpans).toHaveLength(2)
    const json = JSON.parse(text(encodeSpans(spans, "http/json")))
    expect(json.resourceSpans[0].scopeSpans).toHaveLength(1)
    expect(json.resourceSpans[0].scopeSpans[0].spans).toHaveLength(2)
    expectSameAsReference(spans)
  })

  it("writes a batch over 2 MiB (four-byte lengths, a grown buffer), and a small one after it", () => {
    const big = recorded("big", source, { content: "z".repeat(3 * 1024 * 1024) })
    const spans = [big, ...Array.from({ length: 100 }, (_, i) => recorded(`step-${i}`))]
    expectSameAsReference(spans)
    expectSameAsReference([recorded("after")])
  })

  it("keeps a buffer grown for batches that are large as a rule, and lets go of one grown by an outsized batch", () => {
    const w = new ProtobufWriter()
    const batchOf = (bytes: number) => {
      w.raw(new Uint8Array(bytes))
      w.reset()
    }
    const mib = 1024 * 1024
    batchOf(5 * mib)
    const grown = w.buffer
    expect(grown.length).toBe(8 * mib)
    batchOf(5 * mib)
    expect(w.buffer).toBe(grown)
    batchOf(40 * mib)
    expect(w.buffer.length).toBe(64 * mib)
    // A quarter of 64 MiB is the line: the next usual batch gives the outsized buffer back.
    batchOf(5 * mib)
    expect(w.buffer.length).toBe(64 * 1024)
  })

  it("writes a resource whose attributes were pending anew once they settle", async () => {
    const later = Promise.withResolvers<string>()
    const pending = resourceFromAttributes({ now: 1, later: later.promise })
    const from = new SpanSource(pending, scope, new AlwaysOnSampler(), false, [])
    expectSameAsReference([recorded("before", from)])
    // Added while pending, sealed once settled: the resource is read at seal, as the reference reads it.
    const open = encoders()
    const waiting = recorded("waiting", from)
    open.protobuf.add(waiting)
    open.json.add(waiting)
    later.resolve("settled")
    await pending.waitForAsyncAttributes!()
    const sealed = { protobuf: open.protobuf.seal(), json: open.json.seal() }
    expectSame([waiting], sealed)
    const spans = [recorded("after", from)]
    for (const request of [decode(encodeSpans(spans, "http/protobuf")), decode(sealed.protobuf)] as Array<any>) {
      expect(request.resourceSpans[0].resource.attributes).toEqual([
        { key: "now", value: { intValue: "1" } },
        { key: "later", value: { stringValue: "settled" } }
      ])
    }
    expectSameAsReference(spans)
  })

  it("leaves nothing of a span that throws while it is added: no bytes, no group, no count", () => {
    const throwing = (name: string, resourceOfSpan: Resource): ReadableSpan => {
      const span = recorded(name, new SpanSource(resourceOfSpan, scope, new AlwaysOnSampler(), false, []))
      // Thrown after its ids and name are written, half-way through the span.
      return Object.create(span, {
        attributes: {
          get: () => {
            throw new Error("a broken span")
          }
        }
      }) as ReadableSpan
    }
    const spans = [recorded("a"), recorded("b")]
    const open = encoders()
    for (const encoder of [open.protobuf, open.json]) {
      encoder.add(spans[0]!)
      // One in the open group (after a JSON comma), one that would open a resource group.
      expect(() => encoder.add(throwing("same group", resource))).toThrow("a broken span")
      expect(() => encoder.add(throwing("new group", resourceFromAttributes({ service: "x" })))).toThrow(
        "a broken span"
      )
      expect(encoder.count).toBe(1)
      encoder.add(spans[1]!)
    }
    expectSame(spans, { protobuf: open.protobuf.seal(), json: open.json.seal() })
    // encodeSpans throws, and the next call starts from nothing.
    expect(() => encodeSpans([spans[0]!, throwing("c", resource)], "http/protobuf")).toThrow("a broken span")
    expect(() => encodeSpans([spans[0]!, throwing("c", resource)], "http/json")).toThrow("a broken span")
    expectSameAsReference([spans[1]!])
  })

  it("writes ids that are not hex as otlp-transformer reads them", () => {
    const span: ReadableSpan = {
      name: "odd",
      kind: Otel.SpanKind.INTERNAL,
      spanContext: () => ({ traceId: "XYZ-not-hex-ÿ€", spanId: "abc", traceFlags: 1 }),
      parentSpanContext: { traceId: "", spanId: "0123456789ABCDEF0", traceFlags: 0 },
      startTime: [1_700_000_000, 5],
      endTime: [1_700_000_001, 0],
      duration: [1, 0],
      ended: true,
      status: { code: Otel.SpanStatusCode.UNSET },
      attributes: {},
      links: [],
      events: [],
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
      resource,
      instrumentationScope: scope
    }
    const decoded = decode(encodeSpans([span], "http/protobuf")) as any
    const written = decoded.resourceSpans[0].scopeSpans[0].spans[0]
    // Half as many bytes as characters; "X" reads as 88 - 55 = 33, "Y" as 34: 33 << 4 | 34 = 0x32 (low byte).
    expect(written.traceId.slice(0, 2)).toBe("32")
    expect(written.traceId).toHaveLength(2 * 7)
    expect(written.spanId).toBe("ab")
    expect(written.parentSpanId).toBe("0123456789abcdef")
    expectSameAsReference([span])
  })
})
