/**
 * The collector's answers as the exporter reads them (`src/internal/otlpResponse.ts`): the partial
 * success of an export response and the message of an error `Status`, checked against bytes that
 * protobufjs encodes from the OTLP `.proto` (test/fixtures/otlp/trace.proto), and against hostile
 * bodies that must read as "nothing rejected" rather than throw.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import protobuf from "protobufjs"
import { partialSuccess, rpcStatusMessage } from "../src/internal/otlpResponse.ts"
import { runs } from "./support/provider-tests.ts"

const proto = protobuf.parse(fs.readFileSync(path.join(import.meta.dirname, "fixtures", "otlp", "trace.proto"), "utf8"))
const Response = proto.root.lookupType("opentelemetry.proto.ExportTraceServiceResponse")
const Status = proto.root.lookupType("opentelemetry.proto.Status")

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

const encodeResponse = (rejectedSpans: number, errorMessage: string) =>
  Response.encode(Response.fromObject({ partialSuccess: { rejectedSpans, errorMessage } })).finish()

describe("partialSuccess", () => {
  it("reads what protobufjs encodes, for any count and message", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.string({ unit: "grapheme" }), (rejected, message) => {
        const read = partialSuccess(encodeResponse(rejected, message), "http/protobuf", "rejectedSpans")
        assert.deepStrictEqual(read, { rejected, message: message === "" ? undefined : message })
      }),
      { numRuns: runs(300) }
    )
  })

  it("reads the JSON answer for spans and for data points, 64-bit counts as strings or numbers", () => {
    assert.deepStrictEqual(
      partialSuccess(
        json({ partialSuccess: { rejectedSpans: "3", errorMessage: "too big" } }),
        "http/json",
        "rejectedSpans"
      ),
      { rejected: 3, message: "too big" }
    )
    assert.deepStrictEqual(
      partialSuccess(json({ partialSuccess: { rejectedDataPoints: 2 } }), "http/json", "rejectedDataPoints"),
      { rejected: 2, message: undefined }
    )
    // A trace response's count is not a metrics response's.
    assert.deepStrictEqual(
      partialSuccess(json({ partialSuccess: { rejectedSpans: 5 } }), "http/json", "rejectedDataPoints"),
      { rejected: 0, message: undefined }
    )
    assert.deepStrictEqual(partialSuccess(json({}), "http/json", "rejectedSpans"), { rejected: 0, message: undefined })
    assert.deepStrictEqual(partialSuccess(json(null), "http/json", "rejectedSpans"), {
      rejected: 0,
      message: undefined
    })
    assert.deepStrictEqual(
      partialSuccess(json({ partialSuccess: { rejectedSpans: "-4" } }), "http/json", "rejectedSpans"),
      { rejected: 0, message: undefined }
    )
  })

  it("an empty body rejects nothing; truncated, random and hostile protobuf never throws", () => {
    assert.deepStrictEqual(partialSuccess(new Uint8Array(0), "http/protobuf", "rejectedSpans"), {
      rejected: 0,
      message: undefined
    })
    const whole = encodeResponse(7, "quota")
    for (let cut = 0; cut < whole.length; cut++) {
      const read = partialSuccess(whole.subarray(0, cut), "http/protobuf", "rejectedSpans")
      assert.isAtLeast(read.rejected, 0)
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const read = partialSuccess(bytes, "http/protobuf", "rejectedSpans")
        assert.isTrue(Number.isFinite(read.rejected))
      }),
      { numRuns: runs(1000) }
    )
    // A length that claims more than the body holds, and invalid UTF-8 in the message.
    assert.deepStrictEqual(
      partialSuccess(Uint8Array.of(0x0a, 0xff, 0x01, 0x08, 0x01), "http/protobuf", "rejectedSpans"),
      {
        rejected: 0,
        message: undefined
      }
    )
    assert.deepStrictEqual(
      partialSuccess(Uint8Array.of(0x0a, 0x05, 0x08, 0x02, 0x12, 0x01, 0xff), "http/protobuf", "rejectedSpans"),
      { rejected: 2, message: undefined }
    )
  })
})

describe("rpcStatusMessage", () => {
  it("reads a Status's message; anything else is not one", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1 }), (message) => {
        assert.strictEqual(rpcStatusMessage(Status.encode(Status.fromObject({ message })).finish()), message)
      }),
      { numRuns: runs(200) }
    )
    assert.strictEqual(rpcStatusMessage(new TextEncoder().encode("<html>502 Bad Gateway</html>")), undefined)
    assert.strictEqual(rpcStatusMessage(new Uint8Array(0)), undefined)
  })
})
