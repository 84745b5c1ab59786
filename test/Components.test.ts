/**
 * The instrumented components: calls through ChatModel, Tool, Retriever and Embedder trace
 * themselves, and the simulated providers behave like real ones where a trace can tell.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { ChatModel, Embedder, Pipeline, Retriever, Simulated, Testing, Tool } from "../src/index.ts"

const offline = Simulated.layer({ latency: 0 })
const question = { role: "user", parts: [{ type: "text" as const, content: "How long is the train to Porto?" }] }

class ToolFailed extends Data.TaggedError("ToolFailed")<{ readonly errorType: string }> {}

describe("ChatModel", () => {
  it.effect("every call is a `chat {model}` CLIENT span with request, response and usage", () =>
    Effect.gen(function*() {
      const model = yield* ChatModel.ChatModel
      const reply = yield* model.chat({ messages: [question], temperature: 0.3, maxTokens: 256, seed: 42 })
      assert.strictEqual(reply.finishReason, "stop")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat sim-gpt-4o",
        kind: "client",
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "simulated",
          "gen_ai.request.model": "sim-gpt-4o",
          "gen_ai.request.temperature": 0.3,
          "gen_ai.request.max_tokens": 256,
          "gen_ai.request.seed": 42,
          // Conditional on the request naming an output type; a plain chat names none.
          "gen_ai.output.type": undefined,
          "server.address": "sim.local",
          "server.port": 443,
          "gen_ai.response.id": reply.id,
          "gen_ai.response.model": "sim-gpt-4o-2024-08-06",
          "gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.usage.input_tokens": reply.usage.inputTokens,
          "gen_ai.usage.output_tokens": reply.usage.outputTokens
        },
        absent: ["gen_ai.input.messages", "gen_ai.output.messages"]
      })
    }).pipe(Effect.provide(offline), Effect.provide(Testing.layer())))

  it.effect("offered tools, the simulated model asks for them (tool_call), then answers from their results", () =>
    Effect.gen(function*() {
      const model = yield* ChatModel.ChatModel
      const tools = [{ type: "function", name: "search_trains" }]
      const plan = yield* model.chat({ messages: [question], tools })
      assert.strictEqual(plan.finishReason, "tool_call")
      assert.deepStrictEqual(plan.toolCalls.map((c) => c.name), ["search_trains"])
      const answer = yield* model.chat({
        messages: [question, {
          role: "tool",
          parts: [{ type: "tool_call_response", id: plan.toolCalls[0]!.id, response: { duration: "2h58" } }]
        }],
        tools
      })
      assert.strictEqual(answer.finishReason, "stop")
      assert.include(answer.text, "2h58")
      // Same input, same ids: the simulation is deterministic.
      const again = yield* model.chat({ messages: [question], tools })
      assert.strictEqual(again.id, plan.id)
      assert.strictEqual(again.toolCalls[0]!.id, plan.toolCalls[0]!.id)
    }).pipe(Effect.provide(offline), Effect.provide(Testing.layer())))

  it.effect("a maxTokens too small for the answer finishes with `length`", () =>
    Effect.gen(function*() {
      const model = yield* ChatModel.ChatModel
      const reply = yield* model.chat({ messages: [question], maxTokens: 3 })
      assert.strictEqual(reply.finishReason, "length")
      assert.strictEqual(reply.usage.outputTokens, 3)
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat sim-gpt-4o",
        attributes: { "gen_ai.response.finish_reasons": ["length"], "gen_ai.usage.output_tokens": 3 }
      })
    }).pipe(Effect.provide(offline), Effect.provide(Testing.layer())))

  it.effect("with capture on, the conversation and reply are recorded as GenAI message JSON", () =>
    Effect.gen(function*() {
      const model = yield* ChatModel.ChatModel
      yield* model.chat({ messages: [question], tools: [{ type: "function", name: "search_trains" }] })
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "chat sim-gpt-4o")
      assert.deepStrictEqual(JSON.parse(String(span.attributes["gen_ai.input.messages"])), [question])
      const output = JSON.parse(String(span.attributes["gen_ai.output.messages"]))
      assert.strictEqual(output[0].role, "assistant")
      assert.strictEqual(output[0].finish_reason, "tool_call")
      assert.strictEqual(output[0].parts[0].type, "tool_call")
      assert.strictEqual(output[0].parts[0].name, "search_trains")
    }).pipe(Effect.provide(offline), Effect.provide(Testing.layer({ captureContent: true }))))

  it.effect("a provider failure is ERROR with the provider's error code as error.type", () =>
    Effect.gen(function*() {
      const model = ChatModel.make({
        provider: "openai",
        model: "gpt-4o",
        complete: () => Effect.fail(new ChatModel.ChatError({ errorType: "rate_limit_exceeded", message: "slow down" }))
      })
      const exit = yield* Effect.exit(model.chat({ messages: [question] }))
      assert.isTrue(Exit.isFailure(exit))
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o",
        status: "error",
        attributes: { "error.type": "rate_limit_exceeded" }
      })
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Tool", () => {
  const trains = Tool.make({
    name: "search_trains",
    description: "Train connections",
    handler: (args: { readonly from: string }) => Effect.succeed({ from: args.from, duration: "2h58" })
  })

  it.effect("a call is an `execute_tool {name}` INTERNAL span with id, type and description", () =>
    Effect.gen(function*() {
      const result = yield* trains.call({ from: "Lisbon" }, "call_1")
      assert.deepStrictEqual(result, { from: "Lisbon", duration: "2h58" })
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "execute_tool search_trains",
        kind: "internal",
        attributes: {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": "search_trains",
          "gen_ai.tool.call.id": "call_1",
          "gen_ai.tool.type": "function",
          "gen_ai.tool.description": "Train connections"
        },
        absent: ["gen_ai.tool.call.arguments", "gen_ai.tool.call.result"]
      })
      assert.deepStrictEqual(trains.definition, {
        type: "function",
        name: "search_trains",
        description: "Train connections"
      })
    }).pipe(Effect.provide(Testing.layer())))

  // Live clock: the slow handler really sleeps, so "parallel" is observable in the span times.
  it.live("runAll runs the model's tool calls in parallel, as siblings; an unknown tool fails", () =>
    Effect.gen(function*() {
      const slow = Tool.make({ name: "slow", handler: () => Effect.sleep(50).pipe(Effect.as("slow done")) })
      const fast = Tool.make({ name: "fast", handler: () => Effect.succeed("fast done") })
      const results = yield* Tool.runAll([slow, fast], [
        { id: "a", name: "slow", arguments: {} },
        { id: "b", name: "fast", arguments: {} }
      ]).pipe(Pipeline.run("agent-workflow"))
      assert.deepStrictEqual(results.map((r) => r.result), ["slow done", "fast done"])
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "agent-workflow",
        children: [{ name: "execute_tool slow" }, { name: "execute_tool fast" }]
      })
      // Parallel: the fast tool ended before the slow one did.
      const end = (name: string) => {
        const t = Testing.spanNamed(spans, name).endTime
        return t[0] * 1e9 + t[1]
      }
      assert.isBelow(end("execute_tool fast"), end("execute_tool slow"))
      const unknown = yield* Effect.exit(Tool.runAll([fast], [{ id: "c", name: "nope", arguments: {} }]))
      assert.isTrue(Exit.isFailure(unknown))
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a failing handler marks its span ERROR with error.type", () =>
    Effect.gen(function*() {
      const broken = Tool.make({ name: "broken", handler: () => Effect.fail(new ToolFailed({ errorType: "timeout" })) })
      yield* Effect.exit(broken.call({}))
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "execute_tool broken",
        status: "error",
        attributes: { "error.type": "timeout" }
      })
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Retriever and Embedder", () => {
  it.effect("a search is a `retrieval {data_source.id}` CLIENT span with top_k", () =>
    Effect.gen(function*() {
      const retriever = yield* Retriever.Retriever
      const documents = yield* retriever.retrieve("weather in Lisbon", { topK: 2 })
      assert.lengthOf(documents, 2)
      assert.strictEqual(documents[0]!.id, "doc-weather-1")
      assert.isAbove(documents[0]!.score, documents[1]!.score)
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "retrieval knowledge-base",
        kind: "client",
        attributes: {
          "gen_ai.operation.name": "retrieval",
          "gen_ai.data_source.id": "knowledge-base",
          "gen_ai.provider.name": "simulated",
          "gen_ai.request.top_k": 2
        },
        absent: ["gen_ai.retrieval.query.text", "gen_ai.retrieval.documents"]
      })
    }).pipe(Effect.provide(offline), Effect.provide(Testing.layer())))

  it.effect("with capture on, the query and the document ids and scores are recorded", () =>
    Effect.gen(function*() {
      const retriever = yield* Retriever.Retriever
      const documents = yield* retriever.retrieve("weather in Lisbon", { topK: 1 })
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "retrieval knowledge-base")
      assert.strictEqual(span.attributes["gen_ai.retrieval.query.text"], "\"weather in Lisbon\"")
      assert.deepStrictEqual(JSON.parse(String(span.attributes["gen_ai.retrieval.documents"])), [
        { id: documents[0]!.id, score: documents[0]!.score }
      ])
    }).pipe(Effect.provide(offline), Effect.provide(Testing.layer({ captureContent: true }))))

  it.effect("an embed is an `embeddings {model}` CLIENT span with 1536 dimensions and input tokens", () =>
    Effect.gen(function*() {
      const embedder = yield* Embedder.Embedder
      const result = yield* embedder.embed(["first sentence.", "second sentence."])
      assert.lengthOf(result.vectors, 2)
      assert.lengthOf(result.vectors[0]!, 1536)
      // Unit vectors, and the same text always embeds the same way.
      assert.closeTo(Math.hypot(...result.vectors[0]!), 1, 0.2)
      const again = yield* embedder.embed(["first sentence."])
      assert.deepStrictEqual(again.vectors[0], result.vectors[0])
      const span = Testing.spanNamed((yield* Testing.finishedSpans).slice(0, 1), "embeddings sim-embedding-3-small")
      assert.strictEqual(span.kind, SpanKind.CLIENT)
      assert.strictEqual(span.attributes["gen_ai.embeddings.dimension.count"], 1536)
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], result.inputTokens)
      assert.deepStrictEqual(span.attributes["gen_ai.request.encoding_formats"], ["float"])
    }).pipe(Effect.provide(offline), Effect.provide(Testing.layer())))
})
