/**
 * `GenAI.chatStream` and `ChatModel.stream` with the simulated model and hand-made streams: one
 * span per call that ends exactly once however the stream ends, TTFT measured on Effect's clock,
 * parents of work done while the stream runs, sampling, and the fallback that streams `complete`.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import { ChatModel, GenAI, Pipeline, Simulated, Testing } from "../src/index.ts"

const request: GenAI.Request = { provider: "openai", model: "gpt-4o", serverAddress: "api.openai.com", serverPort: 443 }
const question = { role: "user", parts: [{ type: "text" as const, content: "Trains from Lisbon to Porto?" }] }

/** A stream of parts with `gapMillis` of Effect clock time before each. */
const timed = (parts: ReadonlyArray<GenAI.StreamPart>, gapMillis: number) =>
  Stream.fromIterable(parts).pipe(Stream.tap(() => Effect.sleep(gapMillis)))

const reply: ReadonlyArray<GenAI.StreamPart> = [
  { type: "response-metadata", id: "resp-1", model: "gpt-4o-2024-08-06" },
  { type: "text-delta", delta: "Every" },
  { type: "text-delta", delta: " hour." },
  { type: "finish", reason: "stop" },
  { type: "usage", usage: { inputTokens: 11, outputTokens: 3 } }
]

class Boom extends Data.TaggedError("Boom")<{ readonly errorType: string }> {}

/** Two parts, then nothing more until the consumer gives up. */
const endless = () =>
  Stream.fromIterable(reply.slice(0, 2)).pipe(Stream.concat(Stream.never), GenAI.chatStream(request))

const chatSpans = Effect.map(Testing.finishedSpans, (spans) => spans.filter((s) => s.name.startsWith("chat ")))

describe("GenAI.chatStream", () => {
  it.effect("TTFT is the clock time from the span's start to the first content part", () =>
    Effect.gen(function*() {
      const fiber = yield* timed(reply, 250).pipe(GenAI.chatStream(request), Stream.runDrain, Effect.forkChild)
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(fiber)
      const spans = yield* chatSpans
      assert.strictEqual(spans.length, 1)
      const span = spans[0]!
      // The metadata part is not content: the first text delta arrives at 500 ms.
      assert.strictEqual(span.attributes["gen_ai.response.time_to_first_chunk"], 0.5)
      assert.strictEqual(span.duration[0] + span.duration[1] / 1e9, 1.25)
      assert.strictEqual(span.kind, SpanKind.CLIENT)
      assert.strictEqual(span.attributes["gen_ai.request.stream"], true)
      assert.strictEqual(span.attributes["beluga.stream.content_chunks"], 2)
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a stream with no content part has no TTFT", () =>
    Effect.gen(function*() {
      yield* Stream.fromIterable<GenAI.StreamPart>([{ type: "finish", reason: "length" }]).pipe(
        GenAI.chatStream(request),
        Stream.runDrain
      )
      const [span] = yield* chatSpans
      assert.notProperty(span!.attributes, "gen_ai.response.time_to_first_chunk")
      assert.deepStrictEqual(span!.attributes["gen_ai.response.finish_reasons"], ["length"])
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a failing stream: one span, ERROR with error.type, what was known kept", () =>
    Effect.gen(function*() {
      const exit = yield* Stream.fromIterable(reply.slice(0, 2)).pipe(
        Stream.concat(Stream.fail(new Boom({ errorType: "server_error" }))),
        GenAI.chatStream(request),
        Stream.runDrain,
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit))
      const spans = yield* chatSpans
      assert.strictEqual(spans.length, 1)
      Testing.expectTree(spans, {
        name: "chat gpt-4o",
        status: "error",
        attributes: { "error.type": "server_error", "gen_ai.response.id": "resp-1", "beluga.stream.content_chunks": 1 },
        absent: ["beluga.stream.abandoned", "gen_ai.response.finish_reasons"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("every way of stopping early ends the span once, marked abandoned", () =>
    Effect.gen(function*() {
      yield* endless().pipe(Stream.take(1), Stream.runDrain)
      yield* Stream.runHead(endless())
      const timedOut = yield* Effect.forkChild(
        endless().pipe(Stream.runDrain, Effect.timeout("15 millis"), Effect.ignore)
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(timedOut)
      const fiber = yield* Effect.forkChild(Effect.race(endless().pipe(Stream.runDrain), Effect.sleep("25 millis")))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      yield* Effect.scoped(Effect.gen(function*() {
        const pull = yield* Stream.toPull(endless())
        const f = yield* Effect.forkChild(pull)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(f)
      }))
      const spans = yield* chatSpans
      assert.strictEqual(spans.length, 5, Testing.render(spans))
      for (const span of spans) {
        assert.strictEqual(span.attributes["beluga.stream.abandoned"], true, Testing.render([span]))
        assert.strictEqual(span.status.code, SpanStatusCode.UNSET)
        assert.notProperty(span.attributes, "gen_ai.usage.output_tokens")
      }
      // The timeout and the lost race interrupt the stream: the tracer says so too.
      assert.strictEqual(spans.filter((s) => s.attributes["effect.fiber.interrupted"] === true).length, 2)
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("work done while the stream runs is parented by the chat span", () =>
    Effect.gen(function*() {
      yield* Stream.fromEffect(
        Effect.succeed<GenAI.StreamPart>({ type: "text-delta", delta: "x" }).pipe(
          Effect.withSpan("POST")
        )
      ).pipe(
        GenAI.chatStream(request),
        Stream.runDrain,
        Pipeline.run("agent-workflow")
      )
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "agent-workflow",
        children: [{ name: "chat gpt-4o", children: [{ name: "POST" }] }]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a span the sampler drops records nothing and the parts still pass", () =>
    Effect.gen(function*() {
      const parts = yield* timed(reply, 0).pipe(GenAI.chatStream(request), Stream.runCollect)
      assert.strictEqual(parts.length, reply.length)
      assert.strictEqual((yield* Testing.finishedSpans).length, 0)
    }).pipe(Effect.provide(Testing.layer({ sampler: "always_off" }))))
})

describe("ChatModel.stream", () => {
  it.effect("the simulated model streams word by word: one CLIENT span, the same reply as chat", () =>
    Effect.gen(function*() {
      const model = yield* ChatModel.ChatModel
      const fiber = yield* Effect.forkChild(Effect.all([
        model.stream({ messages: [question] }).pipe(Stream.runCollect),
        model.chat({ messages: [question] })
      ]))
      yield* TestClock.adjust("1 minute")
      const [parts, direct] = yield* Fiber.join(fiber)
      assert.isAbove(parts.filter((p) => p.type === "text-delta").length, 3)
      const streamed = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.deepStrictEqual(streamed, direct)
      const spans = yield* chatSpans
      const streamedSpan = spans.find((s) => s.attributes["gen_ai.request.stream"] === true)!
      const plainSpan = spans.find((s) => s.attributes["gen_ai.request.stream"] === undefined)!
      // The same call, streamed or not, reports the same response and usage.
      for (
        const key of [
          "gen_ai.response.id",
          "gen_ai.response.model",
          "gen_ai.usage.input_tokens",
          "gen_ai.usage.output_tokens",
          "gen_ai.response.finish_reasons"
        ]
      ) assert.deepStrictEqual(streamedSpan.attributes[key], plainSpan.attributes[key], key)
      const ttft = streamedSpan.attributes["gen_ai.response.time_to_first_chunk"] as number
      assert.isAbove(ttft, 0)
      assert.isBelow(ttft, streamedSpan.duration[0] + streamedSpan.duration[1] / 1e9)
    }).pipe(Effect.provide(Simulated.layer()), Effect.provide(Testing.layer())))

  it.effect("a provider without `stream` streams its `complete` reply as parts", () =>
    Effect.gen(function*() {
      const model = ChatModel.make({
        provider: "custom",
        model: "m-1",
        complete: () =>
          Effect.succeed({
            id: "r-9",
            model: "m-1",
            text: "hi",
            toolCalls: [{ id: "c1", name: "lookup", arguments: { q: 1 } }],
            finishReason: "tool_call",
            usage: { inputTokens: 2, outputTokens: 1 }
          })
      })
      const collected = yield* ChatModel.collect(model.stream({ messages: [question] }))
      assert.deepStrictEqual(collected.toolCalls, [{ id: "c1", name: "lookup", arguments: { q: 1 } }])
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat m-1",
        attributes: {
          "gen_ai.request.stream": true,
          "gen_ai.response.id": "r-9",
          "gen_ai.response.finish_reasons": ["tool_call"]
        }
      })
    }).pipe(Effect.provide(Testing.layer())))
})
