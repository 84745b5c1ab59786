/**
 * Generated inputs (fast-check) against the code that reads Bedrock's event streams: the frame
 * codec (`internal/eventStream.ts`) and the `converse-stream` event mapping. Properties:
 * - chunk boundaries never change what a stream decodes to, down to one byte per chunk;
 * - any bytes at all end in parts or a typed `ChatError`, never a defect and never a hang;
 * - a stream with any one byte changed fails with `invalid_response` (the checksums see it);
 * - frames whose lengths or headers lie fail as `invalid_response`, oversized ones as
 *   `response_too_large` from their prelude alone, and the codec never holds more than one
 *   frame's worth of bytes;
 * - typed headers survive the round trip through the test server's encoder;
 * - any JSON as an event payload, or as a `converse` body, is read without throwing.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import * as zlib from "node:zlib"
import * as Bedrock from "../src/Bedrock.ts"
import { ChatModel, type GenAI } from "../src/index.ts"
import { crc32, decodeEventStream, FrameDecoder } from "../src/internal/eventStream.ts"
import { concatFrames, encodeFrame, eventFrame, exceptionFrame, type FrameHeader } from "./support/bedrock-server.ts"
import {
  assertSplitsDecodeTo,
  assertTokenCounts,
  chatFailureOf,
  exitOf,
  fuzzEndpoint,
  runs,
  split
} from "./support/provider-tests.ts"

const maxFrame = 64 * 1024
const endpoint = fuzzEndpoint("ABSK-fuzz-key-0000", maxFrame)

const transcript = concatFrames([
  eventFrame("messageStart", { role: "assistant" }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { text: "Lisboa é amena ☀️" } } }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { signature: "EqoB" } } }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 1, delta: { text: "日本 and Lisbon: mild." } }),
  eventFrame("contentBlockStart", {
    contentBlockIndex: 2,
    start: { toolUse: { toolUseId: "tu_1", name: "get_weather" } }
  }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 2, delta: { toolUse: { input: "{\"location\":" } } }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 2, delta: { toolUse: { input: "\"Lisbon\"}" } } }),
  eventFrame("contentBlockStop", { contentBlockIndex: 2 }),
  eventFrame("messageStop", { stopReason: "tool_use" }),
  eventFrame("metadata", {
    usage: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 7, cacheWriteInputTokens: 3 },
    metrics: { latencyMs: 100 }
  })
])

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  exitOf(decodeEventStream(Stream.fromIterable(chunks), endpoint, Bedrock.streamDecoder(endpoint)))

const clientErrors = new Set([
  "invalid_response",
  "incomplete_stream",
  "response_too_large",
  "connection_error",
  "timeout",
  "_OTHER"
])

const failureOf = (exit: Exit.Exit<unknown, unknown>) => chatFailureOf(exit, "the stream should fail")

/** A frame with the given raw headers section and payload, and correct checksums. */
const rawFrame = (headers: Uint8Array, payload: Uint8Array, totalOverride?: number, headersOverride?: number) => {
  const total = 12 + headers.length + payload.length + 4
  const out = Buffer.alloc(total)
  out.writeUInt32BE(totalOverride ?? total, 0)
  out.writeUInt32BE(headersOverride ?? headers.length, 4)
  out.writeUInt32BE(zlib.crc32(out.subarray(0, 8)), 8)
  Buffer.from(headers).copy(out, 12)
  Buffer.from(payload).copy(out, 12 + headers.length)
  out.writeUInt32BE(zlib.crc32(out.subarray(0, total - 4)), total - 4)
  return new Uint8Array(out)
}

const frameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.record({
    type: fc.constantFrom(
      "messageStart",
      "contentBlockStart",
      "contentBlockDelta",
      "contentBlockStop",
      "messageStop",
      "metadata",
      "unknownEvent"
    ),
    payload: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 })
  }).map(({ payload, type }) => eventFrame(type, payload)),
  fc.constantFrom("throttlingException", "validationException", "modelStreamErrorException").map((type) =>
    exceptionFrame(type, "stop")
  ),
  fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 })).map(([h, p]) => rawFrame(h, p)),
  fc.uint8Array({ maxLength: 60 })
)

describe("Bedrock event streams under generated input", () => {
  it.live("any split of a valid stream decodes to the same parts as the whole, one byte per chunk included", () =>
    Effect.promise(async () => {
      const whole = await decode([transcript])
      assert.isTrue(Exit.isSuccess(whole), String(whole))
      const parts = Exit.isSuccess(whole) ? whole.value : []
      const reply = await Effect.runPromise(ChatModel.collect(Stream.fromIterable(parts)))
      assert.deepStrictEqual(reply.toolCalls, [{ id: "tu_1", name: "get_weather", arguments: { location: "Lisbon" } }])
      assert.strictEqual(reply.reasoning, "Lisboa é amena ☀️")
      assert.deepStrictEqual(reply.usage, {
        inputTokens: 20,
        outputTokens: 5,
        cacheReadInputTokens: 7,
        cacheCreationInputTokens: 3
      })
      const byteByByte = Array.from({ length: transcript.length }, (_, i) => transcript.subarray(i, i + 1))
      assert.deepStrictEqual(await decode(byteByByte), whole)
      await assertSplitsDecodeTo(transcript, whole, decode, runs(200), 60)
    }))

  it.live("any bytes end in parts or a typed error, never a defect", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }),
            fc.tuple(fc.array(frameArb, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 })).map((
              [frames, cuts]
            ) => split(concatFrames(frames), cuts))
          ),
          async (chunks) => {
            const exit = await decode(chunks)
            if (Exit.isSuccess(exit)) {
              for (const part of exit.value) assertWellFormed(part)
              return
            }
            const error = failureOf(exit)
            // The client's own failures come from a known set; an exception frame carries its own type.
            assert.isTrue(clientErrors.has(error.errorType) || error.errorType.endsWith("Exception"), error.errorType)
            assert.notInclude(error.message, "ABSK-fuzz-key-0000")
          }
        ),
        { numRuns: runs(300) }
      )
    ))

  it.live("any one byte changed anywhere in a valid stream fails it with invalid_response", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.nat({ max: transcript.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
          const bytes = new Uint8Array(transcript)
          bytes[at] = bytes[at]! ^ xor
          assert.strictEqual(failureOf(await decode([bytes])).errorType, "invalid_response")
        }),
        { numRuns: runs(300) }
      )
    ))

  it.live("lying lengths, headers past their section and unknown header types are invalid_response", () =>
    Effect.promise(async () => {
      const payload = new TextEncoder().encode("{}")
      const cases: Array<readonly [string, Uint8Array]> = [
        ["total below the minimum", rawFrame(new Uint8Array(0), new Uint8Array(0), 15)],
        ["headers longer than the frame", rawFrame(new Uint8Array(0), payload, undefined, 3)],
        ["a header name past the section", rawFrame(new Uint8Array([9, 0x61, 0x62]), payload)],
        ["a string header's length past the section", rawFrame(new Uint8Array([1, 0x61, 7, 0, 9, 0x62]), payload)],
        ["an int32 header cut short", rawFrame(new Uint8Array([1, 0x61, 4, 0, 0]), payload)],
        ["an unknown header type", rawFrame(new Uint8Array([1, 0x61, 12]), payload)]
      ]
      for (const [name, frame] of cases) {
        const error = failureOf(await decode([frame]))
        assert.strictEqual(error.errorType, "invalid_response", name)
      }
      const badPrelude = new Uint8Array(transcript)
      badPrelude[8] = badPrelude[8]! ^ 1
      assert.include(failureOf(await decode([badPrelude])).message, "prelude checksum")
      const badMessage = new Uint8Array(transcript)
      const first = new DataView(badMessage.buffer).getUint32(0)
      badMessage[first - 1] = badMessage[first - 1]! ^ 1
      assert.include(failureOf(await decode([badMessage])).message, "message checksum")
    }))

  it("a frame over the limit is refused from its prelude; the codec never holds more than one frame", () => {
    const decoder = new FrameDecoder(maxFrame)
    const prelude = Buffer.alloc(12)
    prelude.writeUInt32BE(maxFrame + 1, 0)
    prelude.writeUInt32BE(0, 4)
    prelude.writeUInt32BE(zlib.crc32(prelude.subarray(0, 8)), 8)
    const out = decoder.push(new Uint8Array(prelude))
    assert.isFalse(Array.isArray(out))
    assert.strictEqual(!Array.isArray(out) && out.reason, "too_large")
    // After an error the decoder stays failed, whatever follows.
    assert.isFalse(Array.isArray(decoder.push(transcript)))
    fc.assert(
      fc.property(fc.array(fc.oneof(frameArb, fc.uint8Array({ maxLength: 300 })), { maxLength: 30 }), (chunks) => {
        const codec = new FrameDecoder(maxFrame)
        for (const chunk of chunks) {
          const result = codec.push(chunk)
          assert.isAtMost(codec.pendingBytes, maxFrame + chunk.length)
          if (!Array.isArray(result)) break
        }
      }),
      { numRuns: runs(500) }
    )
  })

  it("typed headers survive the round trip through an independent encoder (CRC32 from zlib)", () => {
    const header: fc.Arbitrary<FrameHeader> = fc.oneof(
      fc.string({ maxLength: 40 }).map((value) => ({ type: "string" as const, value })),
      fc.uint8Array({ maxLength: 40 }).map((value) => ({ type: "bytes" as const, value })),
      fc.boolean().map((value) => ({ type: "bool" as const, value })),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ type: "int32" as const, value })),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ type: "int64" as const, value })),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((value) => ({ type: "uuid" as const, value }))
    )
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), header, { maxKeys: 6 }),
        fc.uint8Array({ maxLength: 100 }),
        (headers, payload) => {
          const frames = new FrameDecoder(maxFrame).push(encodeFrame(headers, payload))
          assert.isTrue(Array.isArray(frames))
          const [frame] = frames as Array<{ headers: ReadonlyMap<string, unknown>; payload: Uint8Array }>
          assert.deepStrictEqual([...frame!.payload], [...payload])
          for (const [name, h] of Object.entries(headers)) {
            const value = frame!.headers.get(name)
            switch (h.type) {
              case "bytes":
                assert.deepStrictEqual([...(value as Uint8Array)], [...h.value])
                break
              case "uuid":
                assert.strictEqual(value, Buffer.from(h.value).toString("hex"))
                break
              case "string":
                assert.strictEqual(value, Buffer.from(h.value, "utf8").toString("utf8"))
                break
              default:
                assert.strictEqual(value, h.value)
            }
          }
        }
      ),
      { numRuns: runs(300) }
    )
  })

  it("the table CRC32 is zlib's", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 300 }), (bytes, at) => {
        assert.strictEqual(crc32(bytes), zlib.crc32(bytes))
        const cut = Math.min(at, bytes.length)
        assert.strictEqual(crc32(bytes.subarray(cut), crc32(bytes.subarray(0, cut))), zlib.crc32(bytes))
      }),
      { numRuns: runs(300) }
    )
  })

  it("any JSON as an event payload is read into well-formed parts or a ChatError", () => {
    const handler = Bedrock.streamDecoder(endpoint)
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom("event", "exception", "error", "other"),
        fc.constantFrom("messageStart", "contentBlockStart", "contentBlockDelta", "messageStop", "metadata", "x"),
        (value, messageType, eventType) => {
          const frame = {
            headers: new Map<string, string>([
              [":message-type", messageType],
              [":event-type", eventType],
              [":exception-type", "throttlingException"]
            ]),
            payload: new TextEncoder().encode(JSON.stringify(value))
          }
          const out = handler().onFrame(frame)
          if (messageType === "exception" || messageType === "error") assert.instanceOf(out, ChatModel.ChatError)
          assert.isTrue(out instanceof ChatModel.ChatError || Array.isArray(out))
          if (Array.isArray(out)) { for (const part of out) assertWellFormed(part) }
        }
      ),
      { numRuns: runs(500) }
    )
  })

  it("any JSON value as a converse body is read without throwing", () =>
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const reply = Bedrock.toResponse(value)
        if (reply === undefined) return
        assert.isString(reply.text)
        assert.isString(reply.finishReason)
        for (const call of reply.toolCalls) assert.isString(call.name)
        for (const n of Object.values(reply.usage)) {
          assert.isTrue(n === undefined || (Number.isSafeInteger(n) && n >= 0))
        }
      }),
      { numRuns: runs(500) }
    ))
})

const assertWellFormed = (part: GenAI.StreamPart): void => {
  switch (part.type) {
    case "text-delta":
    case "reasoning-delta":
      assert.isString(part.delta)
      assert.notStrictEqual(part.delta, "")
      return
    case "tool-call-delta":
      assert.isTrue(Number.isSafeInteger(part.index) && part.index >= 0)
      for (const field of [part.id, part.name, part.argumentsDelta]) {
        assert.isTrue(field === undefined || typeof field === "string")
      }
      return
    case "usage":
      assertTokenCounts(part)
      return
    case "finish":
      assert.isString(part.reason)
      return
    default:
      assert.fail(`unexpected part ${part.type}`)
  }
}
