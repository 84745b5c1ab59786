/**
 * Generated inputs (fast-check) against the code that reads provider responses: the SSE stream
 * decoders of both providers, their JSON readers, and the stream accumulator. Properties:
 * - chunk boundaries never change what a stream decodes to, even inside a UTF-8 character;
 * - any bytes at all end in parts or a typed `ChatError` with a known `error.type`, never a
 *   defect and never a hang;
 * - any JSON value as an event or a response body is read without throwing, into well-formed parts;
 * - every choice of a reply with several is an output message, in index order;
 * - a user name or password in a URL never survives into an error text or a configuration error;
 * - recorded content stays within its limit and is valid JSON.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { Anthropic, ChatModel, GenAI, OpenAI } from "../src/index.ts"
import { boundedJson } from "../src/internal/content.ts"
import { chatError, checkBaseUrl, maskCredentials } from "../src/internal/providerHttp.ts"
import { decodeEvents, type StreamDecoder } from "../src/internal/sse.ts"
import { anthropicToolStream, openaiToolStream } from "./fixtures/wire.ts"
import { data } from "./support/provider-server.ts"
import {
  assertSplitsDecodeTo,
  assertTokenCounts,
  exitOf,
  fuzzEndpoint,
  generatedChunks,
  runs
} from "./support/provider-tests.ts"

const endpoint = fuzzEndpoint("sk-fuzz-key-0000")

const decoders: ReadonlyArray<readonly [string, () => StreamDecoder, ReadonlyArray<string>]> = [
  ["OpenAI", OpenAI.streamDecoder(endpoint), [
    // Non-ASCII text, so that byte splits land inside multi-byte characters.
    data({
      id: "c1",
      model: "m",
      choices: [{ index: 0, delta: { content: "Lisboa é amena ☀️ 日本" }, finish_reason: null }]
    }),
    ...openaiToolStream,
    // A second choice, and a legacy `function_call` in fragments.
    data({ id: "c1", choices: [{ index: 1, delta: { content: "Segunda é amena" }, finish_reason: null }] }),
    data({ id: "c1", choices: [{ index: 1, delta: { function_call: { name: "f", arguments: "{\"a\":" } } }] }),
    data({
      id: "c1",
      choices: [{ index: 1, delta: { function_call: { arguments: "1}" } }, finish_reason: "function_call" }]
    })
  ]],
  ["Anthropic", Anthropic.streamDecoder(endpoint), anthropicToolStream]
]

const knownErrorTypes = new Set([
  "invalid_response",
  "incomplete_stream",
  "response_too_large",
  "connection_error",
  "timeout",
  "_OTHER"
])

const decode = (makeDecoder: () => StreamDecoder, chunks: ReadonlyArray<Uint8Array>) =>
  exitOf(decodeEvents(Stream.fromIterable(chunks), endpoint, makeDecoder))

const chunksMention = (chunks: ReadonlyArray<Uint8Array>, word: string) =>
  chunks.some((chunk) => new TextDecoder().decode(chunk).includes(word))

/** Fragments that SSE streams are made of, for inputs near the grammar rather than random noise. */
const fragment = fc.oneof(
  fc.constantFrom("data: ", "event: ", "id: 7", "retry: 10", ": comment", "\n", "\r\n", "\r", "\n\n", "[DONE]"),
  fc.constantFrom("message_start", "content_block_delta", "message_stop", "error", "ping"),
  fc.json().map((json) => json),
  fc.string({ maxLength: 12 })
)

describe("stream decoding under generated input", () => {
  for (const [name, makeDecoder, transcript] of decoders) {
    it.live(`${name}: any split of a valid stream decodes to the same parts as the whole`, () =>
      Effect.promise(async () => {
        const bytes = new TextEncoder().encode(transcript.join(""))
        const whole = await decode(makeDecoder, [bytes])
        assert.isTrue(Exit.isSuccess(whole))
        await assertSplitsDecodeTo(bytes, whole, (chunks) => decode(makeDecoder, chunks), runs(150))
      }))

    it.live(`${name}: any bytes end in parts or a typed error, never a defect`, () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            generatedChunks(fragment),
            async (chunks) => {
              const exit = await decode(makeDecoder, chunks)
              if (Exit.isSuccess(exit)) return
              const failure = exit.cause.reasons.find(Cause.isFailReason)
              assert.isDefined(failure, `a typed failure, not ${String(exit.cause)}`)
              const error = failure!.error
              assert.instanceOf(error, ChatModel.ChatError)
              // The client's own failures come from a known set; an error event carries the provider's type.
              assert.isTrue(knownErrorTypes.has(error.errorType) || chunksMention(chunks, "error"), error.errorType)
              assert.notInclude(error.message, "sk-fuzz-key-0000")
            }
          ),
          { numRuns: runs(300) }
        )
      ))

    it(`${name}: any JSON value as an event is read into well-formed parts or a ChatError`, () =>
      fc.assert(
        fc.property(
          fc.jsonValue(),
          fc.constantFrom("message", "message_start", "content_block_delta", "message_delta", "error"),
          (value, event) => {
            const out = makeDecoder().onEvent({ event, data: JSON.stringify(value) })
            // Anthropic's `error` event fails the stream whatever its data holds.
            if (name === "Anthropic" && event === "error") assert.instanceOf(out, ChatModel.ChatError)
            assert.isTrue(out instanceof ChatModel.ChatError || Array.isArray(out))
            if (Array.isArray(out)) { for (const part of out) assertWellFormed(part) }
          }
        ),
        { numRuns: runs(500) }
      ))
  }

  it("every choice with a message is an output message, in index order, the first one the reply's", () =>
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: 8 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.oneof(fc.string(), fc.constant(null)), { minLength: 5, maxLength: 5 }),
        fc.array(fc.constantFrom("stop", "length", "tool_calls", "function_call", "content_filter", null), {
          minLength: 5,
          maxLength: 5
        }),
        (indexes, contents, reasons) => {
          const choices = indexes.map((index, i) => ({
            index,
            message: {
              role: "assistant",
              content: contents[i],
              ...(i % 2 === 1 ? { function_call: { name: `f${index}`, arguments: "{}" } } : {})
            },
            finish_reason: reasons[i]
          }))
          const reply = OpenAI.toResponse({ id: "x", model: "m", choices })
          assert.isDefined(reply)
          const inOrder = choices.toSorted((a, b) => a.index - b.index)
          assert.strictEqual(reply!.text, inOrder[0]!.message.content ?? "")
          if (choices.length === 1) {
            assert.isUndefined(reply!.outputMessages)
            return
          }
          assert.strictEqual(reply!.outputMessages!.length, choices.length)
          assert.deepStrictEqual(
            reply!.outputMessages!.map((message) => message.finish_reason),
            inOrder.map((choice) => OpenAI.toFinishReason(choice.finish_reason ?? "stop"))
          )
          assert.deepStrictEqual(reply!.outputMessages![0]!.parts, ChatModel.toOutputMessage(reply!).parts)
        }
      ),
      { numRuns: runs(300) }
    ))

  it("any JSON value as a response body is read without throwing", () =>
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const reply of [OpenAI.toResponse(value), Anthropic.toResponse(value)]) {
          if (reply === undefined) continue
          assert.isString(reply.text)
          assert.isString(reply.finishReason)
          for (const call of reply.toolCalls) assert.isString(call.name)
        }
      }),
      { numRuns: runs(500) }
    ))
})

const assertWellFormed = (part: GenAI.StreamPart): void => {
  if ("choice" in part && part.choice !== undefined) assert.isTrue(Number.isSafeInteger(part.choice) && part.choice > 0)
  switch (part.type) {
    case "text-delta":
    case "reasoning-delta":
      assert.isString(part.delta)
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
    case "response-metadata":
      for (const value of Object.values(part.attributes ?? {})) assert.isString(value)
      return
  }
}

describe("credentials in URLs under generated input", () => {
  // A distinctive secret, so that finding it means it leaked rather than occurring by chance.
  const secret = fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=%-]{1,24}$/).map((text) => `SECRET${text}`)
  const host = fc.constantFrom("127.0.0.1:59999", "api.example.com", "[::1]:8080", "example.com")

  it("a base URL with a user name or password is refused, and its error never shows them", () =>
    fc.assert(
      fc.property(secret, secret, host, fc.constantFrom("http", "https", "HTTP"), (user, password, at, scheme) => {
        for (const url of [`${scheme}://${user}:${password}@${at}/v1`, `${scheme}://${password}@${at}`]) {
          const error = checkBaseUrl("baseUrl", url, "https://api.openai.com/v1")
          assert.isDefined(error, url)
          for (const text of [error!.message, error!.value, JSON.stringify(error)]) {
            assert.notInclude(text, user)
            assert.notInclude(text, password)
          }
        }
      }),
      { numRuns: runs(300) }
    ))

  it("an error text that repeats a URL with credentials is masked, whatever surrounds it", () =>
    fc.assert(
      fc.property(secret, secret, host, fc.string({ maxLength: 40 }), (user, password, at, around) => {
        const text = `${around} POST http://${user}:${password}@${at}/v1/chat/completions ${around}`
        for (const masked of [maskCredentials(text), chatError(endpoint, "connection_error", text).message]) {
          assert.notInclude(masked, password)
          assert.notInclude(masked, user)
        }
      }),
      { numRuns: runs(300) }
    ))
})

describe("the stream accumulator under generated input", () => {
  const partArb: fc.Arbitrary<GenAI.StreamPart> = fc.oneof(
    fc.string().map((delta) => ({ type: "text-delta" as const, delta })),
    fc.string().map((delta) => ({ type: "reasoning-delta" as const, delta })),
    fc.record({
      index: fc.nat({ max: 4 }),
      id: fc.option(fc.string(), { nil: undefined }),
      name: fc.option(fc.string(), { nil: undefined }),
      argumentsDelta: fc.option(fc.string(), { nil: undefined })
    }).map((r) => ({ type: "tool-call-delta" as const, ...r })),
    fc.constantFrom("stop", "length", "tool_call").map((reason) => ({ type: "finish" as const, reason })),
    fc.record({ inputTokens: fc.option(fc.nat(), { nil: undefined }) }).map((usage) => ({
      type: "usage" as const,
      usage
    }))
  )

  it("content kept stays within the limit, and the recorded message is valid JSON within it", () =>
    fc.assert(
      fc.property(fc.array(partArb, { maxLength: 60 }), fc.integer({ min: 16, max: 400 }), (parts, limit) => {
        const accumulator = new GenAI.StreamAccumulator(true, limit)
        for (const part of parts) accumulator.add(part)
        assert.isAtMost(accumulator.text.length, limit)
        assert.isAtMost(accumulator.reasoning.length, limit)
        const recorded = boundedJson([accumulator.outputMessage("stop")], limit)
        assert.isAtMost(recorded.length, limit)
        JSON.parse(recorded)
      }),
      { numRuns: runs(500) }
    ))

  it("with content off, nothing of the content is kept, however long the stream", () =>
    fc.assert(
      fc.property(fc.array(partArb, { maxLength: 60 }), (parts) => {
        const accumulator = new GenAI.StreamAccumulator(false, 1000)
        for (const part of parts) accumulator.add(part)
        assert.strictEqual(accumulator.text, "")
        assert.strictEqual(accumulator.reasoning, "")
        assert.deepStrictEqual(accumulator.assembledToolCalls(), [])
        assert.strictEqual(accumulator.contentChunks, parts.filter((p) => p.type.endsWith("-delta")).length)
      }),
      { numRuns: runs(300) }
    ))
})
