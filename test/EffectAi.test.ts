/**
 * effect/ai traced by the conventions: `LanguageModel.generateText` (with a `Toolkit`),
 * `generateObject`, `streamText` stopped early, `EmbeddingModel.embed`/`embedMany`, a `Chat` of two
 * turns; content private by default; a model of the user's own; provider errors; and an agent
 * written with effect/ai next to the same agent written with `ChatModel` and `Tool`, span for span.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Redacted, Schema, Stream } from "effect"
import { Chat, EmbeddingModel, LanguageModel, Prompt, Telemetry, Tool, Toolkit } from "effect/ai"
import { FetchHttpClient } from "effect/http"
import {
  ChatModel,
  EffectAi,
  type GenAI,
  OpenAI,
  Pipeline,
  Simulated,
  Testing,
  Tool as BelugaTool
} from "../src/index.ts"
import { openaiToolStream } from "./fixtures/wire.ts"
import { makeProviderServer } from "./support/provider-server.ts"

// -----------------------------------------------------------------------------
// The agent, twice: with effect/ai, and with this library's ChatModel and Tool
// -----------------------------------------------------------------------------

class WeatherUnavailable extends Schema.TaggedError<WeatherUnavailable>()("WeatherUnavailable", {
  message: Schema.String
}) {}

const GetWeather = Tool.make("GetWeather", {
  description: "Current weather for a city",
  parameters: Schema.Struct({ query: Schema.String }),
  success: Schema.Struct({ forecast: Schema.String }),
  failure: WeatherUnavailable,
  failureMode: "return"
})
const SearchTrains = Tool.make("SearchTrains", {
  description: "Trains between two cities",
  parameters: Schema.Struct({ query: Schema.String }),
  success: Schema.Struct({ duration: Schema.String })
})
const AgentTools = Toolkit.make(GetWeather, SearchTrains)

const QUESTION = "What is the weather in Lisbon and the train to Porto?"
const FORECAST = "mild, 17 degrees"

/** A weather service that fails its first call. */
const weatherService = () => {
  let calls = 0
  return () =>
    Effect.suspend(() =>
      ++calls === 1
        ? Effect.fail(new WeatherUnavailable({ message: "weather service unavailable" }))
        : Effect.succeed({ forecast: FORECAST })
    )
}

const toolsLayer = () => {
  const weather = weatherService()
  return EffectAi.toolkitLayer(AgentTools, {
    GetWeather: () => weather(),
    SearchTrains: () => Effect.succeed({ duration: "2h58" })
  })
}

const effectAiAgent = Effect.gen(function*() {
  let prompt = Prompt.make(QUESTION)
  for (let step = 0; step < 3; step++) {
    const response = yield* LanguageModel.generateText({ prompt, toolkit: AgentTools })
    prompt = Prompt.concat(prompt, Prompt.fromResponseParts(response.content))
    if (!response.toolResults.some((result) => result.isFailure)) break
  }
  return yield* LanguageModel.streamText({ prompt }).pipe(
    Stream.runFold(() => "", (text, part) => part.type === "text-delta" ? text + part.delta : text)
  )
}).pipe(Pipeline.run("agent-workflow"))

const chatModelAgent = Effect.gen(function*() {
  const model = yield* ChatModel.ChatModel
  const weather = weatherService()
  const tools: ReadonlyArray<BelugaTool.Tool<unknown, unknown, WeatherUnavailable>> = [
    BelugaTool.make({
      name: "GetWeather",
      description: "Current weather for a city",
      parameters: Tool.getJsonSchema(GetWeather),
      handler: () => weather()
    }),
    BelugaTool.make({
      name: "SearchTrains",
      description: "Trains between two cities",
      parameters: Tool.getJsonSchema(SearchTrains),
      handler: () => Effect.succeed({ duration: "2h58" })
    })
  ]
  const messages: Array<GenAI.InputMessage> = [{ role: "user", parts: [{ type: "text", content: QUESTION }] }]
  for (let step = 0; step < 3; step++) {
    const reply = yield* model.chat({ messages, tools: tools.map((tool) => tool.definition) })
    messages.push(ChatModel.toOutputMessage(reply))
    const results = yield* Effect.forEach(
      reply.toolCalls,
      (call) =>
        tools.find((tool) => tool.definition.name === call.name)!.call(call.arguments, call.id).pipe(
          Effect.map((response) => ({ id: call.id, response, failed: false })),
          Effect.catch((error) => Effect.succeed({ id: call.id, response: { error }, failed: true }))
        ),
      { concurrency: "unbounded" }
    )
    messages.push({
      role: "tool",
      parts: results.map((r) => ({ type: "tool_call_response" as const, id: r.id, response: r.response }))
    })
    if (!results.some((r) => r.failed)) break
  }
  const answer = yield* ChatModel.collect(model.stream({ messages }))
  return answer.text
}).pipe(Pipeline.run("agent-workflow"))

// -----------------------------------------------------------------------------
// Helpers
// -----------------------------------------------------------------------------

const offline = Simulated.chatProvider({ latency: 0 })

/** The spans, once `count` have ended (effect/ai's embedding resolver ends just after its caller resumes). */
const spansWhen = (count: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      const spans = yield* Testing.finishedSpans
      if (spans.length >= count) return spans
      yield* Effect.sleep(5)
    }
    return yield* Testing.finishedSpans
  })

const byName = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.filter((s) => s.name === name)
const parentName = (spans: ReadonlyArray<ReadableSpan>, span: ReadableSpan) =>
  spans.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId)?.name

/** Every string a span carries: name, attribute keys and values, events, status. */
const strings = (spans: ReadonlyArray<ReadableSpan>): string =>
  spans.flatMap((span) => [
    span.name,
    span.status.message ?? "",
    ...Object.entries(span.attributes).flatMap(([k, v]) => [k, JSON.stringify(v)]),
    ...span.events.flatMap((e) => [e.name, JSON.stringify(e.attributes ?? {})])
  ]).join("\n")

/** What the model and the tools decided, per span. */
const values = (spans: ReadonlyArray<ReadableSpan>) =>
  spans.map((span) =>
    [
      span.name,
      span.attributes["gen_ai.response.finish_reasons"],
      span.attributes["gen_ai.usage.output_tokens"],
      span.attributes["gen_ai.tool.call.result"],
      span.attributes["error.type"]
    ].map((v) => JSON.stringify(v) ?? "").join(" ")
  ).toSorted()

/** A span's shape for comparison: name, kind, parent's name, status, attribute keys. */
const shape = (spans: ReadonlyArray<ReadableSpan>) =>
  spans.map((span) =>
    [
      span.name,
      SpanKind[span.kind],
      parentName(spans, span) ?? "-",
      SpanStatusCode[span.status.code],
      Object.keys(span.attributes).filter((key) => key !== "gen_ai.usage.input_tokens").toSorted().join(",")
    ].join(" | ")
  ).toSorted()

// -----------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------

describe("effect/ai LanguageModel", () => {
  it.effect("generateText with a toolkit: one chat CLIENT span, each tool call an execute_tool sibling", () =>
    Effect.gen(function*() {
      const response = yield* LanguageModel.generateText({ prompt: QUESTION, toolkit: AgentTools }).pipe(
        Pipeline.run("agent-workflow")
      )
      assert.deepStrictEqual(response.toolCalls.map((call) => call.name).toSorted(), ["GetWeather", "SearchTrains"])
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "agent-workflow",
        children: [
          {
            name: "chat sim-gpt-4o",
            kind: "client",
            status: "unset",
            attributes: {
              "gen_ai.operation.name": "chat",
              "gen_ai.provider.name": "simulated",
              "gen_ai.request.model": "sim-gpt-4o",
              // effect/ai writes `text` on every call; the conventions make it conditional on a named format.
              "gen_ai.output.type": undefined,
              "server.address": "sim.local",
              "server.port": 443,
              "gen_ai.response.model": "sim-gpt-4o-2024-08-06",
              "gen_ai.response.finish_reasons": ["tool_call"]
            },
            absent: ["tool", "parameters", "effect.ai.tool_choice", "effect.ai.concurrency", "gen_ai.input.messages"]
          },
          {
            name: "execute_tool GetWeather",
            kind: "internal",
            status: "error",
            attributes: {
              "gen_ai.tool.name": "GetWeather",
              "gen_ai.tool.type": "function",
              "gen_ai.tool.description": "Current weather for a city",
              "gen_ai.tool.call.id": response.toolCalls.find((c) => c.name === "GetWeather")!.id,
              "error.type": "WeatherUnavailable"
            },
            absent: ["gen_ai.tool.call.arguments", "gen_ai.tool.call.result"]
          },
          { name: "execute_tool SearchTrains", kind: "internal", status: "unset" }
        ]
      })
      const chat = Testing.spanNamed(spans, "chat sim-gpt-4o")
      assert.isAbove(chat.attributes["gen_ai.usage.input_tokens"] as number, 0)
      assert.isString(chat.attributes["gen_ai.response.id"])
    }).pipe(Effect.provide(Layer.mergeAll(EffectAi.layer(offline), toolsLayer())), Effect.provide(Testing.layer())))

  it.effect("with capture off, no tool argument, prompt or completion appears in any span", () =>
    Effect.gen(function*() {
      yield* effectAiAgent
      const all = strings(yield* Testing.finishedSpans)
      for (const secret of ["Lisbon", "Porto", "weather in", FORECAST, "2h58", "query"]) assert.notInclude(all, secret)
    }).pipe(Effect.provide(Layer.mergeAll(EffectAi.layer(offline), toolsLayer())), Effect.provide(Testing.layer())))

  it.effect("even with Toolkit's own toLayer and a model of the user's own, tool arguments stay off the model span", () =>
    Effect.gen(function*() {
      yield* LanguageModel.generateText({ prompt: QUESTION, toolkit: AgentTools })
      const spans = yield* Testing.finishedSpans
      // A model of the user's own, annotating the span through effect/ai's Telemetry.
      Testing.expectTree(spans, {
        name: "chat home-made-1",
        kind: "client",
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "home",
          "gen_ai.usage.output_tokens": 3
        },
        absent: ["tool", "parameters"]
      })
      assert.notInclude(strings(spans), "Lisbon")
    }).pipe(
      Effect.provide(Layer.mergeAll(
        Layer.effect(
          LanguageModel.LanguageModel,
          LanguageModel.make({
            generateText: (options) =>
              Effect.sync(() => {
                Telemetry.addGenAIAnnotations(options.span, {
                  provider: { name: "home" },
                  operation: { name: "chat" },
                  request: { model: "home-made-1" },
                  usage: { inputTokens: 5, outputTokens: 3 }
                })
                return [
                  { type: "tool-call" as const, id: "call_1", name: "SearchTrains", params: { query: QUESTION } },
                  {
                    type: "finish" as const,
                    reason: "tool-calls" as const,
                    usage: { inputTokens: { total: 5 }, outputTokens: { total: 3 } }
                  }
                ]
              }),
            streamText: () => Stream.empty
          })
        ),
        AgentTools.toLayer({
          GetWeather: () => Effect.succeed({ forecast: FORECAST }),
          SearchTrains: () => Effect.succeed({ duration: "2h58" })
        })
      )),
      Effect.provide(Testing.layer())
    ))

  it.effect("with capture on, the content is recorded in the conventions' JSON shape", () =>
    Effect.gen(function*() {
      yield* LanguageModel.generateText({ prompt: QUESTION, toolkit: AgentTools }).pipe(Pipeline.run("agent-workflow"))
      const spans = yield* Testing.finishedSpans
      const chat = Testing.spanNamed(spans, "chat sim-gpt-4o")
      assert.deepStrictEqual(JSON.parse(chat.attributes["gen_ai.input.messages"] as string), [
        { role: "user", parts: [{ type: "text", content: QUESTION }] }
      ])
      const output = JSON.parse(chat.attributes["gen_ai.output.messages"] as string)
      assert.deepStrictEqual(output[0].parts.map((p: { type: string; name: string }) => p.name).toSorted(), [
        "GetWeather",
        "SearchTrains"
      ])
      assert.strictEqual(output[0].finish_reason, "tool_call")
      const definitions = JSON.parse(chat.attributes["gen_ai.tool.definitions"] as string)
      assert.deepStrictEqual(definitions.map((d: { name: string }) => d.name), ["GetWeather", "SearchTrains"])
      const trains = Testing.spanNamed(spans, "execute_tool SearchTrains")
      assert.deepStrictEqual(JSON.parse(trains.attributes["gen_ai.tool.call.arguments"] as string), { query: QUESTION })
      assert.deepStrictEqual(JSON.parse(trains.attributes["gen_ai.tool.call.result"] as string), { duration: "2h58" })
    }).pipe(
      Effect.provide(Layer.mergeAll(EffectAi.layer(offline), toolsLayer())),
      Effect.provide(Testing.layer({ captureContent: true }))
    ))

  it.effect("generateObject: one chat span with gen_ai.output.type=json, the object decoded", () =>
    Effect.gen(function*() {
      const response = yield* LanguageModel.generateObject({
        prompt: "A city",
        schema: Schema.Struct({ name: Schema.String, population: Schema.Number })
      })
      assert.deepStrictEqual(response.value, { name: "A city", population: 0 })
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(spans.length, 1)
      Testing.expectTree(spans, {
        name: "chat sim-gpt-4o",
        kind: "client",
        attributes: { "gen_ai.output.type": "json", "gen_ai.response.finish_reasons": ["stop"] },
        absent: ["effect.ai.object_name"]
      })
    }).pipe(Effect.provide(EffectAi.layer(offline)), Effect.provide(Testing.layer())))

  it.live("streamText stopped early: one chat span, TTFT, abandoned, not an error", () =>
    Effect.gen(function*() {
      const parts = yield* LanguageModel.streamText({ prompt: QUESTION }).pipe(
        Stream.filter((part) => part.type === "text-delta"),
        Stream.take(2),
        Stream.runCollect
      )
      assert.strictEqual(parts.length, 2)
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(spans.length, 1, Testing.render(spans))
      const chat = Testing.expectTree(spans, {
        name: "chat sim-gpt-4o",
        kind: "client",
        status: "unset",
        attributes: {
          "gen_ai.request.stream": true,
          "beluga.stream.abandoned": true,
          "beluga.stream.content_chunks": 2
        },
        absent: ["gen_ai.response.finish_reasons", "error.type"]
      })
      const ttft = chat.attributes["gen_ai.response.time_to_first_chunk"] as number
      assert.isAbove(ttft, 0)
      assert.isAtMost(ttft, chat.duration[0] + chat.duration[1] / 1e9)
    }).pipe(Effect.provide(EffectAi.layer(Simulated.chatProvider({ latency: 0.05 }))), Effect.provide(Testing.layer())))

  it.effect("a Chat of two turns: two chat spans with the conversation id, no Chat.* spans", () =>
    Effect.gen(function*() {
      const chat = yield* Chat.empty
      yield* chat.generateText({ prompt: "Hello" }).pipe(EffectAi.withConversation("conv-42"))
      yield* chat.generateText({ prompt: "And the trains?" }).pipe(EffectAi.withConversation("conv-42"))
      const spans = yield* Testing.finishedSpans
      assert.deepStrictEqual(spans.map((s) => s.name), ["chat sim-gpt-4o", "chat sim-gpt-4o"])
      for (const span of spans) assert.strictEqual(span.attributes["gen_ai.conversation.id"], "conv-42")
      // The second turn carries the first in its prompt.
      assert.isAbove(
        spans[1]!.attributes["gen_ai.usage.input_tokens"] as number,
        spans[0]!.attributes["gen_ai.usage.input_tokens"] as number
      )
    }).pipe(Effect.provide(EffectAi.layer(offline)), Effect.provide(Testing.layer())))
})

describe("effect/ai EmbeddingModel", () => {
  it.live("embed and embedMany: one embeddings CLIENT span each, under the caller", () =>
    Effect.gen(function*() {
      const model = yield* EmbeddingModel.EmbeddingModel
      const one = yield* model.embed("hello").pipe(Pipeline.run("agent-workflow"))
      const many = yield* model.embedMany(["a", "b", "c"]).pipe(Pipeline.run("agent-workflow"))
      assert.strictEqual(one.vector.length, 8)
      assert.strictEqual(many.embeddings.length, 3)
      const spans = yield* spansWhen(4)
      const embeddings = byName(spans, "embeddings sim-embedding-3-small")
      assert.strictEqual(embeddings.length, 2, Testing.render(spans))
      for (const span of embeddings) {
        assert.strictEqual(span.kind, SpanKind.CLIENT)
        assert.strictEqual(parentName(spans, span), "agent-workflow")
        assert.strictEqual(span.attributes["gen_ai.operation.name"], "embeddings")
        assert.strictEqual(span.attributes["gen_ai.embeddings.dimension.count"], 8)
        assert.notProperty(span.attributes, "batchSize")
      }
      assert.sameMembers(embeddings.map((s) => s.attributes["gen_ai.usage.input_tokens"]), [2, 3])
      assert.deepStrictEqual(byName(spans, "EmbeddingModel.embed"), [])
    }).pipe(
      Effect.provide(EffectAi.layerEmbedding(Simulated.embeddingProvider({ latency: 0, dimensions: 8 }))),
      Effect.provide(Testing.layer())
    ))
})

describe("effect/ai on a real provider's wire format", () => {
  it.live("OpenAI-compatible streamText: tool-call deltas become an effect/ai tool call the toolkit runs", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: openaiToolStream })
      const layer = EffectAi.layer(OpenAI.chatProvider({ model: "gpt-4o-mini", baseUrl: `${server.url}/v1` })).pipe(
        Layer.provide(FetchHttpClient.layer)
      )
      const Weather = Tool.make("get_weather", {
        parameters: Schema.Struct({ location: Schema.String }),
        success: Schema.String
      })
      const kit = Toolkit.make(Weather)
      const parts = yield* LanguageModel.streamText({ prompt: QUESTION, toolkit: kit }).pipe(
        Stream.runCollect,
        Effect.provide(
          Layer.mergeAll(
            layer,
            EffectAi.toolkitLayer(kit, { get_weather: ({ location }) => Effect.succeed(`sunny in ${location}`) })
          )
        )
      )
      const call = parts.find((p) => p.type === "tool-call")
      assert.deepStrictEqual(call && { name: call.name, params: call.params }, {
        name: "get_weather",
        params: { location: "Lisbon" }
      })
      const result = parts.find((p) => p.type === "tool-result")
      assert.strictEqual(result?.result, "sunny in Lisbon")
      const spans = yield* Testing.finishedSpans
      const chat = Testing.spanNamed(spans, "chat gpt-4o-mini")
      assert.strictEqual(chat.kind, SpanKind.CLIENT)
      assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 82)
      assert.deepStrictEqual(chat.attributes["gen_ai.response.finish_reasons"], ["tool_call"])
      assert.isNumber(chat.attributes["gen_ai.response.time_to_first_chunk"])
      assert.strictEqual(byName(spans, "execute_tool get_weather").length, 1)
      assert.strictEqual(byName(spans, "POST").length, 1)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a rate-limited call: the chat span ends with ERROR and the provider's code, effect/ai gets RateLimitError", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "json",
        status: 429,
        body: { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }
      })
      const layer = EffectAi.layer(OpenAI.chatProvider({
        model: "gpt-4o-mini",
        baseUrl: `${server.url}/v1`,
        apiKey: Redacted.make("sk-secret-effect-ai"),
        maxRetries: 0
      })).pipe(Layer.provide(FetchHttpClient.layer), Layer.orDie)
      const error = yield* LanguageModel.generateText({ prompt: QUESTION }).pipe(Effect.provide(layer), Effect.flip)
      assert.strictEqual(error.reason._tag, "RateLimitError")
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "chat gpt-4o-mini",
        status: "error",
        attributes: { "error.type": "rate_limit_exceeded" }
      })
      assert.notInclude(strings(spans), "sk-secret-effect-ai")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("an effect/ai agent and the same agent with ChatModel and Tool", () => {
  it.effect("are indistinguishable span for span: names, kinds, parents, status and attributes", () =>
    Effect.gen(function*() {
      const viaEffectAi = yield* Effect.gen(function*() {
        const answer = yield* effectAiAgent
        return { answer, spans: yield* Testing.finishedSpans }
      }).pipe(
        Effect.provide(Layer.mergeAll(EffectAi.layer(offline), toolsLayer())),
        Effect.provide(Testing.layer({ captureContent: true }))
      )
      const viaChatModel = yield* Effect.gen(function*() {
        const answer = yield* chatModelAgent
        return { answer, spans: yield* Testing.finishedSpans }
      }).pipe(
        Effect.provide(ChatModel.layer(offline)),
        Effect.provide(Testing.layer({ captureContent: true }))
      )
      assert.include(viaEffectAi.answer, FORECAST)
      assert.strictEqual(viaEffectAi.answer, viaChatModel.answer)
      // The whole trees: six spans under the root, the same shape.
      assert.strictEqual(viaEffectAi.spans.length, 7, Testing.render(viaEffectAi.spans))
      assert.deepStrictEqual(shape(viaEffectAi.spans), shape(viaChatModel.spans))
      // And the same values where the model and the tools decide them.
      assert.deepStrictEqual(values(viaEffectAi.spans), values(viaChatModel.spans))
    }))
})
