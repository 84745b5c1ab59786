/**
 * Generated inputs (fast-check) against the Responses stream decoder and response reader:
 * - any sequence of events, split anywhere (inside UTF-8 characters too), decodes to the same parts;
 * - a generated response reads the same streamed as plain, however its stream tells it: every
 *   event, deltas only, finished items only, or nothing but `response.completed`; with or without
 *   sequence numbers, with unknown events between;
 * - any bytes end in parts or a typed `ChatError`, never a defect or a hang, and no error shows the key;
 * - any JSON value as an event or a response body is read without throwing, into well-formed parts;
 * - the state kept per stream is bounded: a stream naming more output items than the limit is refused.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { ChatModel, type GenAI } from "../src/index.ts"
import { decodeEvents } from "../src/internal/sse.ts"
import * as OpenAIResponses from "../src/OpenAIResponses.ts"
import {
  assertSplitsDecodeTo,
  assertTokenCounts,
  chatFailureOf as typedFailure,
  exitOf,
  fuzzEndpoint,
  generatedChunks,
  runs,
  split
} from "./support/provider-tests.ts"
import {
  errorEventStream,
  failedStream,
  incompleteStream,
  reasoningStream,
  responseObject,
  sse,
  textStream,
  toolCallStream,
  webSearchStream
} from "./support/responses-server.ts"

const KEY = "sk-fuzz-responses-0000"
const endpoint = fuzzEndpoint(KEY)
const makeDecoder = OpenAIResponses.streamDecoder(endpoint)

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  exitOf(decodeEvents(Stream.fromIterable(chunks), endpoint, makeDecoder))

const encode = (text: string) => new TextEncoder().encode(text)

/** The same JSON, without `undefined` fields: what a reply says, however it was built. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

const knownErrorTypes = new Set(["invalid_response", "incomplete_stream", "response_too_large", "_OTHER"])

const assertWellFormed = (part: GenAI.StreamPart): void => {
  assert.isUndefined((part as { readonly choice?: number }).choice, "one choice only")
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
    case "message-part":
      assert.include(["server_tool_call", "server_tool_call_response"], part.part.type)
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

// -----------------------------------------------------------------------------
// Generated responses, and the many ways a stream can tell them
// -----------------------------------------------------------------------------

type Item =
  | { readonly kind: "message"; readonly pieces: ReadonlyArray<string>; readonly refusal: boolean }
  | { readonly kind: "function_call"; readonly name: string; readonly pieces: ReadonlyArray<string> }
  | { readonly kind: "reasoning"; readonly summaries: ReadonlyArray<ReadonlyArray<string>> }
  | { readonly kind: "web_search"; readonly query: string }

const text = fc.string({ unit: "grapheme", maxLength: 12 })
const pieces = fc.array(text, { minLength: 1, maxLength: 4 })
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  fc.record({ kind: fc.constant("message" as const), pieces, refusal: fc.boolean() }),
  fc.record({
    kind: fc.constant("function_call" as const),
    name: fc.constantFrom("get_weather", "lookup"),
    // A JSON argument object, cut into pieces wherever the cuts fall.
    pieces: fc.tuple(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })), fc.array(fc.nat()))
      .map(([args, cuts]) => {
        const json = JSON.stringify(args)
        const points = [...new Set(cuts.map((c) => c % (json.length + 1)))].toSorted((a, b) => a - b)
        return [0, ...points].map((from, i, all) => json.slice(from, all[i + 1] ?? json.length))
      })
  }),
  fc.record({ kind: fc.constant("reasoning" as const), summaries: fc.array(pieces, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("web_search" as const), query: text })
)

/**
 * How the stream tells one item: every event, its deltas only, or its finished item only. Items
 * after the first `told` ones it does not tell at all: `response.completed` alone carries them. (An
 * item left untold before one that is told could not keep its place: its text comes last.)
 */
const modeArb = fc.constantFrom("full", "deltas", "done")
type Mode = "full" | "deltas" | "done" | "none"

const itemObject = (item: Item, index: number): Record<string, unknown> => {
  const id = `item_${index}`
  switch (item.kind) {
    case "message":
      return {
        id,
        type: "message",
        role: "assistant",
        status: "completed",
        content: [
          item.refusal
            ? { type: "refusal", refusal: item.pieces.join("") }
            : { type: "output_text", text: item.pieces.join(""), annotations: [] }
        ]
      }
    case "function_call":
      return { id, type: "function_call", call_id: `call_${index}`, name: item.name, arguments: item.pieces.join("") }
    case "reasoning":
      return { id, type: "reasoning", summary: item.summaries.map((s) => ({ type: "summary_text", text: s.join("") })) }
    case "web_search":
      return { id, type: "web_search_call", status: "completed", action: { type: "search", query: item.query } }
  }
}

const itemEvents = (item: Item, index: number, mode: Mode): Array<Record<string, unknown>> => {
  const object = itemObject(item, index)
  const at = { item_id: object["id"], output_index: index }
  const deltas = (): Array<Record<string, unknown>> => {
    switch (item.kind) {
      case "message":
        return item.pieces.map((delta) => ({
          type: item.refusal ? "response.refusal.delta" : "response.output_text.delta",
          ...at,
          content_index: 0,
          delta
        }))
      case "function_call":
        return item.pieces.map((delta) => ({ type: "response.function_call_arguments.delta", ...at, delta }))
      case "reasoning":
        return item.summaries.flatMap((summary, summary_index) =>
          summary.map((delta) => ({ type: "response.reasoning_summary_text.delta", ...at, summary_index, delta }))
        )
      case "web_search":
        return [{ type: "response.web_search_call.searching", ...at }]
    }
  }
  const added = { type: "response.output_item.added", output_index: index, item: { ...object, status: "in_progress" } }
  const done = { type: "response.output_item.done", output_index: index, item: object }
  switch (mode) {
    case "full":
      return [added, ...deltas(), done]
    case "deltas":
      // A built-in tool's progress events say nothing of it: its part comes with the finished item.
      return item.kind === "web_search" ? [added, ...deltas(), done] : deltas()
    case "done":
      return [done]
    case "none":
      return []
  }
}

const scenarioArb = fc.record({
  items: fc.array(fc.tuple(itemArb, modeArb), { maxLength: 5 }),
  told: fc.nat({ max: 5 }),
  incomplete: fc.boolean(),
  usage: fc.option(fc.record({ input: fc.nat(), cached: fc.nat(), output: fc.nat(), reasoning: fc.nat() }), {
    nil: undefined
  }),
  tier: fc.option(fc.constantFrom("default", "flex", "priority"), { nil: undefined }),
  sequence: fc.constantFrom("numbered", "missing", "repeated"),
  noise: fc.array(fc.nat(), { maxLength: 4 }),
  cuts: fc.array(fc.nat(), { maxLength: 30 })
})

/** A stream of `n` deltas, each for an output item of its own. */
const manyItems = (n: number) =>
  encode([
    ...sse(
      Array.from({ length: n }, (_, i) => ({ type: "response.output_text.delta", output_index: i, delta: "x" }))
    ),
    ...sse([{ type: "response.completed", response: responseObject({ output: [] }) }])
  ].join(""))

describe("Responses stream decoding under generated input", () => {
  const transcripts = {
    textStream,
    toolCallStream,
    reasoningStream,
    webSearchStream,
    incompleteStream,
    failedStream,
    errorEventStream
  }
  for (const [name, transcript] of Object.entries(transcripts)) {
    it.live(`${name}: any split of the bytes decodes to what the whole does`, () =>
      Effect.promise(async () => {
        const bytes = encode(transcript.join(""))
        const whole = await decode([bytes])
        await assertSplitsDecodeTo(bytes, whole, decode, runs(100))
      }))
  }

  it.live("a generated response reads the same streamed, told any way and split anywhere, as plain", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(scenarioArb, async (scenario) => {
          const items = scenario.items.map(([item]) => item)
          const response = responseObject({
            status: scenario.incomplete ? "incomplete" : "completed",
            incomplete_details: scenario.incomplete ? { reason: "max_output_tokens" } : null,
            service_tier: scenario.tier ?? null,
            output: items.map(itemObject),
            usage: scenario.usage === undefined ? null : {
              input_tokens: scenario.usage.input,
              input_tokens_details: { cached_tokens: scenario.usage.cached },
              output_tokens: scenario.usage.output,
              output_tokens_details: { reasoning_tokens: scenario.usage.reasoning }
            }
          })
          const events: Array<Record<string, unknown>> = [
            { type: "response.created", response: { ...response, status: "in_progress", output: [], usage: null } },
            ...scenario.items.flatMap(([item, mode], index) =>
              itemEvents(item, index, index < scenario.told ? mode : "none")
            ),
            { type: scenario.incomplete ? "response.incomplete" : "response.completed", response }
          ]
          // Events the decoder does not know, anywhere before the end.
          for (const at of scenario.noise) {
            events.splice(at % events.length, 0, { type: "response.some_future_event", output_index: at, delta: "x" })
          }
          // Sequence numbers in order, all missing, or all the same: none of them is relied on.
          const numbered = events.map((event, i) => {
            const data = scenario.sequence === "missing"
              ? event
              : { ...event, sequence_number: scenario.sequence === "repeated" ? 0 : i }
            return `event: ${String(event["type"])}\ndata: ${JSON.stringify(data)}\n\n`
          })
          const bytes = encode(numbered.join(""))
          const whole = await decode([bytes])
          assert.isTrue(Exit.isSuccess(whole), String(Exit.isFailure(whole) ? whole.cause : ""))
          assert.deepStrictEqual(await decode(split(bytes, scenario.cuts)), whole)
          const parts = Exit.isSuccess(whole) ? whole.value : []
          for (const part of parts) assertWellFormed(part)
          const streamed = await Effect.runPromise(ChatModel.collect(Stream.fromIterable(parts)))
          const read = OpenAIResponses.toResponse(response)
          assert.isDefined(read)
          assert.deepStrictEqual(plain(streamed), plain(read))
        }),
        { numRuns: runs(300) }
      )
    ))

  /** Events near the grammar: every known type, with fields of the right and the wrong types. */
  const eventArb = fc.record({
    type: fc.constantFrom(
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.output_item.done",
      "response.output_text.delta",
      "response.refusal.delta",
      "response.reasoning_summary_text.delta",
      "response.reasoning_text.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.custom_tool_call_input.delta",
      "response.completed",
      "response.incomplete",
      "response.failed",
      "error",
      "response.unknown"
    ),
    output_index: fc.oneof(fc.nat({ max: 6 }), fc.constant(-1), fc.string({ maxLength: 2 })),
    summary_index: fc.nat({ max: 3 }),
    delta: fc.oneof(text, fc.integer()),
    arguments: fc.oneof(text, fc.constant(null)),
    item: fc.oneof(
      fc.constantFrom(
        { type: "message", content: [{ type: "output_text", text: "héllo ☀️" }] },
        { type: "function_call", call_id: "call_1", name: "f", arguments: "{}" },
        { type: "reasoning", summary: [{ type: "summary_text", text: "think" }] },
        { type: "file_search_call", id: "fs_1", queries: ["q"], results: [{ file_id: "f", text: "t" }] },
        { type: "mcp_call", id: "mcp_1", name: "lookup", server_label: "s", arguments: "{}", output: "ok" },
        // Names an object's prototype has: no lookup table may mistake them for its own entries.
        { type: "toString", id: "x" },
        { type: "constructor_call", id: "y" }
      ),
      fc.jsonValue({ maxDepth: 2 })
    ),
    response: fc.oneof(
      fc.constant(responseObject()),
      fc.constantFrom("constructor", "toString", "max_output_tokens").map((reason) =>
        responseObject({
          status: "incomplete",
          incomplete_details: { reason },
          output: [{ type: "toString" }, { type: "__proto__" }]
        })
      ),
      fc.jsonValue({ maxDepth: 2 })
    ),
    code: fc.oneof(fc.constantFrom("server_error", "rate_limit_exceeded"), fc.constant(null)),
    sequence_number: fc.option(fc.integer(), { nil: undefined })
  }, { requiredKeys: ["type"] })

  it.live("any sequence of events, split anywhere, decodes to the same parts or the same typed error", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.array(eventArb, { maxLength: 30 }),
          fc.array(fc.nat(), { maxLength: 30 }),
          async (events, cuts) => {
            const bytes = encode(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(""))
            const whole = await decode([bytes])
            assert.deepStrictEqual(await decode(split(bytes, cuts)), whole)
            if (Exit.isSuccess(whole)) {
              for (const part of whole.value) assertWellFormed(part)
              return
            }
            const error = typedFailure(whole)
            assert.notInclude(error.message, KEY)
          }
        ),
        { numRuns: runs(400) }
      )
    ))

  /** Fragments that SSE streams are made of, for inputs near the grammar rather than noise. */
  const fragment = fc.oneof(
    fc.constantFrom("data: ", "event: ", "id: 7", "retry: 10", ": comment", "\n", "\r\n", "\r", "\n\n"),
    fc.constantFrom("response.completed", "response.output_text.delta", "error", "{\"type\":", "\"delta\":\"x\"}"),
    fc.json(),
    fc.string({ maxLength: 12 })
  )

  it.live("any bytes end in parts or a typed error from a known set, never a defect, never the key", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          generatedChunks(fragment),
          async (chunks) => {
            const exit = await decode(chunks)
            if (Exit.isSuccess(exit)) {
              for (const part of exit.value) assertWellFormed(part)
              return
            }
            const error = typedFailure(exit)
            const mentionsError = chunks.some((chunk) => /error|failed/.test(new TextDecoder().decode(chunk)))
            assert.isTrue(knownErrorTypes.has(error.errorType) || mentionsError, error.errorType)
            assert.notInclude(error.message, KEY)
          }
        ),
        { numRuns: runs(300) }
      )
    ))

  it("any JSON value as the data of any event is read into well-formed parts or a ChatError", () =>
    fc.assert(
      fc.property(fc.jsonValue(), eventArb.map((e) => e.type), (value, type) => {
        const decoder = makeDecoder()
        for (
          const data of [
            JSON.stringify(value),
            JSON.stringify({
              ...(typeof value === "object" && value !== null && !Array.isArray(value) ? value : {}),
              type
            })
          ]
        ) {
          const out = decoder.onEvent({ event: type, data })
          if (out instanceof ChatModel.ChatError) assert.notInclude(out.message, KEY)
          else {
            assert.isArray(out)
            for (const part of out) assertWellFormed(part)
          }
        }
        // An `error` event fails the stream whatever its data holds.
        if (type === "error") {
          assert.instanceOf(makeDecoder().onEvent({ event: "error", data: JSON.stringify(value) }), ChatModel.ChatError)
        }
      }),
      { numRuns: runs(500) }
    ))

  it("any JSON value as a response body is read without throwing, into a well-formed reply", () =>
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.jsonValue().map((output) => responseObject({ output })),
          fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 6 }).map((output) => responseObject({ output }))
        ),
        (value) => {
          const reply = OpenAIResponses.toResponse(value)
          if (reply === undefined) return
          assert.isString(reply.text)
          assert.isString(reply.finishReason)
          for (const call of reply.toolCalls) {
            assert.isString(call.name)
            assert.isString(call.id)
          }
          for (const message of reply.outputMessages ?? []) assert.strictEqual(message.role, "assistant")
        }
      ),
      { numRuns: runs(500) }
    ))

  it.live("the state per stream is bounded: more output items than 4096 are refused, fewer are read", () =>
    Effect.promise(async () => {
      const fine = await decode([manyItems(4096)])
      assert.isTrue(Exit.isSuccess(fine))
      assert.strictEqual(Exit.isSuccess(fine) ? fine.value.filter((p) => p.type === "text-delta").length : 0, 4096)
      const refused = await decode([manyItems(4097)])
      assert.strictEqual(typedFailure(refused).errorType, "invalid_response")
    }))
})
