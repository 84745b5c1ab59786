/**
 * The log records' own encoder (`otlpLogs.ts`), both encodings, against what its header promises a
 * value becomes, through the test receiver's decoders (written from `logs.proto`, independent of
 * the encoder). Records are drawn from a small pool of keys and values, so a key comes back with
 * the value it had (which the spans' encoder, shared for plain values, then copies from its cache)
 * and with another one, at the top level and inside structured content.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { type LogRecordInput, logsEncoder } from "../src/internal/otlpLogs.ts"
import { type Attributes, type AttrValue, decodeRequest } from "./support/receiver.ts"

const origin = { resource: { "service.name": "otlp-logs-test" }, scope: { name: "beluga-o11y", version: "0.0.0" } }
const contentTypes = { "http/protobuf": "application/x-protobuf", "http/json": "application/json" } as const

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code))
const words = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("chat", "openai", "gpt-4o", "user", "assistant", "text", "stop", "") },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: codeUnit, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(300), "é".repeat(90), "😀".repeat(40), "a\ud800", "\"\\\n\u2028") }
)
const numbers = fc.oneof(
  fc.constantFrom(0, -0, 1, 12, 512, 0.2, -1.5, 2 ** 31, 2 ** 53, -(2 ** 53), 2 ** 63, 1e21, Number.NaN, Infinity),
  fc.integer(),
  fc.double()
)
const scalar = fc.oneof(words, numbers, fc.boolean())
const keys = fc.constantFrom(
  "gen_ai.operation.name",
  "gen_ai.request.model",
  "gen_ai.usage.input_tokens",
  "role",
  "content",
  "type",
  "finish_reason",
  "x",
  // Past the JSON encoder's cache of keys, and one it must escape.
  "k".repeat(200),
  "clé \"quoted\""
)
/** Structured content as the content events carry it: objects of the same keys, arrays of them. */
const structured: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: scalar },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
    { weight: 1, arbitrary: fc.array(tie("value"), { maxLength: 3 }) },
    { weight: 2, arbitrary: fc.dictionary(keys, tie("value"), { maxKeys: 4 }) }
  )
})).value
/** Nanoseconds since the epoch, now-ish or anywhere in uint64. */
const nanos = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constant(1_765_000_000_123_456_789n))
const logRecord: fc.Arbitrary<LogRecordInput> = fc.record({
  // Names and texts that repeat, change and go missing: each encoder keeps the last one's field.
  eventName: fc.constantFrom("gen_ai.client.inference.operation.details", "event", "", undefined),
  severityNumber: fc.constantFrom(9, 13),
  severityText: fc.constantFrom("INFO", "WARN", "", "ünïcode", undefined),
  time: fc.option(nanos, { nil: undefined }),
  observedTime: fc.option(nanos, { nil: undefined }),
  body: fc.oneof(scalar, structured),
  attributes: fc.dictionary(keys, fc.oneof({ weight: 3, arbitrary: scalar }, { weight: 1, arbitrary: structured }), {
    maxKeys: 6
  })
})

/** What the module's header says `value` becomes: the `AnyValue` a collector decodes. */
const expected = (value: unknown): AttrValue => {
  switch (typeof value) {
    case "string":
      return { type: "string", value: value.toWellFormed() }
    case "boolean":
      return { type: "bool", value }
    case "number":
      if (Number.isSafeInteger(value)) return { type: "int", value: BigInt(value) }
      return Number.isFinite(value) ? { type: "double", value } : { type: "string", value: String(value) }
    case "undefined":
      return { type: "empty", value: undefined }
  }
  if (value === null) return { type: "empty", value: undefined }
  if (Array.isArray(value)) return { type: "array", value: value.map(expected) }
  return { type: "kvlist", value: expectedAttributes(value as Record<string, unknown>) }
}
/** Fields that are `undefined` are left out, as JSON leaves them. */
const expectedAttributes = (record: Readonly<Record<string, unknown>>): Attributes =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined).map(([k, v]) => [k, expected(v)]))

const decoded = (protocol: keyof typeof contentTypes, records: ReadonlyArray<LogRecordInput>) => {
  const encoder = logsEncoder(protocol, origin)
  for (const input of records) encoder.add(input)
  const body = encoder.seal()
  const request = decodeRequest(
    { headers: { "content-type": contentTypes[protocol] }, method: "POST", url: "/v1/logs" },
    Buffer.from(body)
  )
  expect(request.decodeError).toBeUndefined()
  return request.logs
}

describe("the log records' encoder", () => {
  it("writes every record's body and attributes as the header says, the same in both encodings", () => {
    fc.assert(
      fc.property(fc.array(logRecord, { minLength: 1, maxLength: 6 }), (drawn) => {
        // Each record three times in a row: a plain key-value that comes again is kept whole by the
        // spans' cache the second time and copied from it the third.
        const records = drawn.flatMap((input) => [input, input, input])
        const before = BigInt(Date.now()) * 1_000_000n
        const protobuf = decoded("http/protobuf", records)
        const json = decoded("http/json", records)
        const after = BigInt(Date.now()) * 1_000_000n
        expect(protobuf).toHaveLength(records.length)
        for (const [i, input] of records.entries()) {
          const want = {
            body: expected(input.body),
            attributes: expectedAttributes(input.attributes ?? {}),
            eventName: input.eventName ?? "",
            severityNumber: input.severityNumber,
            severityText: (input.severityText ?? "").toWellFormed()
          }
          for (const got of [protobuf[i]!, json[i]!]) {
            expect({
              body: got.body,
              attributes: got.attributes,
              eventName: got.eventName,
              severityNumber: got.severityNumber,
              severityText: got.severityText
            }).toEqual(want)
            // A time given is written as it is; one left out is the moment of encoding.
            const stamped = (given: unknown, written: bigint) =>
              typeof given === "bigint" ? written === given : written >= before && written <= after
            expect(stamped(input.time, got.timeUnixNano), `time ${got.timeUnixNano}`).toBe(true)
            expect(stamped(input.observedTime, got.observedTimeUnixNano), `observed ${got.observedTimeUnixNano}`).toBe(
              true
            )
          }
        }
      }),
      { numRuns: 400 }
    )
  })

  it("writes a record's shared attributes, encoded once and copied after, as if they were its own, before them", () => {
    const attributes = fc.dictionary(
      keys,
      fc.oneof({ weight: 3, arbitrary: scalar }, { weight: 1, arbitrary: structured }),
      {
        maxKeys: 5
      }
    )
    // A few shared objects, each carried by several records: the first encodes it, the others copy it.
    const drawn = fc.array(attributes, { minLength: 1, maxLength: 3 }).chain((shared) =>
      fc.tuple(
        fc.constant(shared),
        fc.array(fc.tuple(fc.nat({ max: shared.length - 1 }), attributes), { minLength: 1, maxLength: 8 })
      )
    )
    fc.assert(
      fc.property(drawn, ([shared, uses]) => {
        const records: Array<LogRecordInput> = uses.map(([which, own]) => ({
          eventName: "gen_ai.client.inference.operation.details",
          severityNumber: 9,
          sharedAttributes: shared[which]!,
          // The record's own keys are not the shared ones, as the contract asks.
          attributes: Object.fromEntries(Object.entries(own).filter(([key]) => !(key in shared[which]!)))
        }))
        for (const protocol of ["http/protobuf", "http/json"] as const) {
          const got = decoded(protocol, records)
          expect(got).toHaveLength(records.length)
          for (const [i, input] of records.entries()) {
            const want = expectedAttributes({ ...input.sharedAttributes, ...input.attributes })
            expect(got[i]!.attributes).toEqual(want)
            // Shared first, then the record's own, each in its order.
            expect(Object.keys(got[i]!.attributes)).toEqual(Object.keys(want))
          }
        }
      }),
      { numRuns: 300 }
    )
  })
})
