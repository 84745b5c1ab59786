/**
 * The GenAI combinators against the conventions: span names, kinds, attribute values and types,
 * error status and `error.type`, content capture (off by default, bounded valid JSON when on),
 * and the deprecated names under `gen_ai/dup`.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { GenAI, Testing } from "../src/index.ts"

class RateLimited extends Data.TaggedError("RateLimited")<{ readonly errorType: string }> {}
class Boom extends Data.TaggedError("Boom")<{}> {}

const reply = { id: "chatcmpl-1", model: "gpt-4o-2024-08-06", finish: "stop", usage: { in: 120, out: 30 } }

const chatCall = (request: Partial<GenAI.Request> = {}) =>
  Effect.succeed(reply).pipe(
    GenAI.chat({ provider: "openai", model: "gpt-4o", ...request }, (r: typeof reply) => ({
      response: {
        id: r.id,
        model: r.model,
        finishReasons: [r.finish],
        outputMessages: [{ role: "assistant", parts: [{ type: "text", content: "Hi there" }], finish_reason: r.finish }]
      },
      usage: { inputTokens: r.usage.in, outputTokens: r.usage.out, cacheReadInputTokens: 100 }
    }))
  )

const failingChat = (effect: Effect.Effect<unknown, unknown>, model: string) =>
  Effect.exit(effect.pipe(GenAI.chat({ provider: "openai", model })))

describe("GenAI.chat", () => {
  it.effect("names the span `chat {model}`, CLIENT, with request, response and usage attributes of the right types", () =>
    Effect.gen(function*() {
      yield* chatCall({
        temperature: 0.2,
        topP: 1,
        topK: 40,
        maxTokens: 512,
        stopSequences: ["\n\n"],
        seed: 7,
        frequencyPenalty: 0.5,
        presencePenalty: 0,
        choiceCount: 2,
        stream: false,
        outputType: "text",
        serverAddress: "api.openai.com",
        serverPort: 443,
        conversationId: "conv-9"
      })
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "chat gpt-4o")
      assert.strictEqual(span.kind, SpanKind.CLIENT)
      assert.deepStrictEqual(span.attributes, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 1,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.max_tokens": 512,
        "gen_ai.request.stop_sequences": ["\n\n"],
        "gen_ai.request.seed": 7,
        "gen_ai.request.frequency_penalty": 0.5,
        "gen_ai.request.presence_penalty": 0,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.stream": false,
        "gen_ai.output.type": "text",
        "gen_ai.conversation.id": "conv-9",
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 30,
        "gen_ai.usage.cache_read.input_tokens": 100
      })
      assert.strictEqual(typeof span.attributes["gen_ai.usage.input_tokens"], "number")
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("omits choice.count when it is 1, and server.port without server.address", () =>
    Effect.gen(function*() {
      yield* chatCall({ choiceCount: 1, serverPort: 443 })
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o",
        absent: ["gen_ai.request.choice.count", "server.port", "server.address"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("an in-process model is INTERNAL", () =>
    Effect.gen(function*() {
      yield* chatCall({ inProcess: true })
      assert.strictEqual(Testing.spanNamed(yield* Testing.finishedSpans, "chat gpt-4o").kind, SpanKind.INTERNAL)
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("text_completion and generate_content name their spans after the operation", () =>
    Effect.gen(function*() {
      yield* Effect.succeed(1).pipe(GenAI.textCompletion({ provider: "openai", model: "davinci-002" }))
      yield* Effect.succeed(1).pipe(GenAI.generateContent({ provider: "gcp.gemini", model: "gemini-2.0-flash" }))
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "text_completion davinci-002",
        kind: "client",
        attributes: { "gen_ai.operation.name": "text_completion" }
      })
      Testing.expectTree(spans, {
        name: "generate_content gemini-2.0-flash",
        kind: "client",
        attributes: { "gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini" }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a failure sets ERROR status and error.type from the provider's error code", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.fail(new RateLimited({ errorType: "rate_limit_exceeded" })).pipe(
          GenAI.chat({ provider: "openai", model: "gpt-4o" })
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "chat gpt-4o")
      assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(span.attributes["error.type"], "rate_limit_exceeded")
      // The request attributes set at start survive the failure.
      assert.strictEqual(span.attributes["gen_ai.request.model"], "gpt-4o")
      assert.isUndefined(span.attributes["gen_ai.response.id"])
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("error.type falls back to the tag, then the class name, then _OTHER", () =>
    Effect.gen(function*() {
      yield* failingChat(Effect.fail(new Boom()), "tagged")
      yield* failingChat(Effect.die(new TypeError("bad")), "defect")
      yield* failingChat(Effect.fail("just a string"), "string")
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(Testing.spanNamed(spans, "chat tagged").attributes["error.type"], "Boom")
      assert.strictEqual(Testing.spanNamed(spans, "chat defect").attributes["error.type"], "TypeError")
      assert.strictEqual(Testing.spanNamed(spans, "chat string").attributes["error.type"], "_OTHER")
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a describe function that throws loses its attributes but not the call", () =>
    Effect.gen(function*() {
      const result = yield* Effect.succeed(42).pipe(
        GenAI.chat({ provider: "openai", model: "gpt-4o" }, () => {
          throw new Error("bad extractor")
        })
      )
      assert.strictEqual(result, 42)
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "chat gpt-4o")
      assert.notStrictEqual(span.status.code, SpanStatusCode.ERROR)
    }).pipe(Effect.provide(Testing.layer())))
})

describe("the other operations", () => {
  it.effect("embeddings: `embeddings {model}`, CLIENT, dimension count and input tokens", () =>
    Effect.gen(function*() {
      yield* Effect.succeed({ vectors: [[0.1, 0.2, 0.3]], tokens: 9 }).pipe(
        GenAI.embeddings(
          { provider: "openai", model: "text-embedding-3-small", encodingFormats: ["float"] },
          (r) => ({ dimensions: r.vectors[0]!.length, usage: { inputTokens: r.tokens } })
        )
      )
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "embeddings text-embedding-3-small",
        kind: "client",
        attributes: {
          "gen_ai.operation.name": "embeddings",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "text-embedding-3-small",
          "gen_ai.request.encoding_formats": ["float"],
          "gen_ai.embeddings.dimension.count": 3,
          "gen_ai.usage.input_tokens": 9
        }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("retrieval: `retrieval {data_source.id}`, CLIENT, top_k; query and documents only with capture", () =>
    Effect.gen(function*() {
      yield* Effect.succeed([{ id: "d1", score: 0.9 }]).pipe(
        GenAI.retrieval({ dataSourceId: "kb", provider: "pinecone", topK: 3, query: "secret question" }, (docs) => ({
          documents: docs
        }))
      )
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "retrieval kb",
        kind: "client",
        attributes: {
          "gen_ai.operation.name": "retrieval",
          "gen_ai.data_source.id": "kb",
          "gen_ai.provider.name": "pinecone",
          "gen_ai.request.top_k": 3
        },
        absent: ["gen_ai.retrieval.query.text", "gen_ai.retrieval.documents"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("execute_tool: `execute_tool {name}`, INTERNAL, call id, type and description", () =>
    Effect.gen(function*() {
      yield* Effect.succeed({ temp: 17 }).pipe(
        GenAI.executeTool({
          name: "get_weather",
          callId: "call_1",
          type: "function",
          description: "Weather",
          arguments: { city: "Lisbon" }
        })
      )
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "execute_tool get_weather",
        kind: "internal",
        attributes: {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": "get_weather",
          "gen_ai.tool.call.id": "call_1",
          "gen_ai.tool.type": "function",
          "gen_ai.tool.description": "Weather"
        },
        absent: ["gen_ai.tool.call.arguments", "gen_ai.tool.call.result"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("invoke_agent (INTERNAL, or CLIENT when remote), create_agent, invoke_workflow", () =>
    Effect.gen(function*() {
      yield* Effect.void.pipe(GenAI.invokeAgent({ provider: "openai", name: "planner", id: "a1", model: "gpt-4o" }))
      yield* Effect.void.pipe(GenAI.invokeAgent({ provider: "aws.bedrock", name: "remote-helper", remote: true }))
      yield* Effect.void.pipe(GenAI.createAgent({ provider: "openai", name: "planner", version: "3" }))
      yield* Effect.void.pipe(GenAI.invokeWorkflow({ name: "triage" }))
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "invoke_agent planner",
        kind: "internal",
        attributes: {
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": "planner",
          "gen_ai.agent.id": "a1",
          "gen_ai.request.model": "gpt-4o"
        }
      })
      Testing.expectTree(spans, { name: "invoke_agent remote-helper", kind: "client" })
      Testing.expectTree(spans, {
        name: "create_agent planner",
        kind: "client",
        attributes: { "gen_ai.operation.name": "create_agent", "gen_ai.agent.version": "3" }
      })
      Testing.expectTree(spans, {
        name: "invoke_workflow triage",
        kind: "internal",
        attributes: { "gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "triage" }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("an agent without a name is just `invoke_agent`", () =>
    Effect.gen(function*() {
      yield* Effect.void.pipe(GenAI.invokeAgent({ provider: "openai" }))
      Testing.spanNamed(yield* Testing.finishedSpans, "invoke_agent")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("message content", () => {
  const messages: ReadonlyArray<GenAI.InputMessage> = [
    { role: "user", parts: [{ type: "text", content: "What is my account balance? My PIN is 1234." }] }
  ]
  const contentKeys = [
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions"
  ]
  const request = {
    messages,
    systemInstructions: [{ type: "text", content: "Be brief." }] as const,
    toolDefinitions: [{ type: "function", name: "balance", description: "Reads a balance" }]
  }

  it.effect("is not recorded by default", () =>
    Effect.gen(function*() {
      yield* chatCall(request)
      yield* Effect.succeed("result").pipe(GenAI.executeTool({ name: "t", arguments: { pin: "1234" } }))
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, { name: "chat gpt-4o", absent: contentKeys })
      for (const span of spans) {
        for (const value of Object.values(span.attributes)) assert.notInclude(String(value), "1234")
      }
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("is recorded as JSON in the schema's shape when capture is on", () =>
    Effect.gen(function*() {
      yield* chatCall(request)
      yield* Effect.succeed({ balance: 10 }).pipe(
        GenAI.executeTool({ name: "balance", callId: "c1", arguments: { account: "main" } })
      )
      yield* Effect.succeed([{ id: "d1", score: 0.5 }]).pipe(
        GenAI.retrieval({ dataSourceId: "kb", query: "balance" }, (documents) => ({ documents }))
      )
      const spans = yield* Testing.finishedSpans
      const chat = Testing.spanNamed(spans, "chat gpt-4o").attributes
      assert.deepStrictEqual(JSON.parse(String(chat["gen_ai.input.messages"])), messages)
      assert.deepStrictEqual(JSON.parse(String(chat["gen_ai.system_instructions"])), [
        { type: "text", content: "Be brief." }
      ])
      assert.deepStrictEqual(JSON.parse(String(chat["gen_ai.tool.definitions"])), request.toolDefinitions)
      assert.deepStrictEqual(JSON.parse(String(chat["gen_ai.output.messages"])), [
        { role: "assistant", parts: [{ type: "text", content: "Hi there" }], finish_reason: "stop" }
      ])
      const tool = Testing.spanNamed(spans, "execute_tool balance").attributes
      assert.deepStrictEqual(JSON.parse(String(tool["gen_ai.tool.call.arguments"])), { account: "main" })
      assert.deepStrictEqual(JSON.parse(String(tool["gen_ai.tool.call.result"])), { balance: 10 })
      const retrieval = Testing.spanNamed(spans, "retrieval kb").attributes
      assert.strictEqual(retrieval["gen_ai.retrieval.query.text"], JSON.stringify("balance"))
      assert.deepStrictEqual(JSON.parse(String(retrieval["gen_ai.retrieval.documents"])), [{ id: "d1", score: 0.5 }])
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.effect("is truncated to the limit and stays valid JSON", () =>
    Effect.gen(function*() {
      const long = "x".repeat(5000)
      yield* chatCall({ messages: [{ role: "user", parts: [{ type: "text", content: long }] }] })
      const value = String(
        Testing.spanNamed(yield* Testing.finishedSpans, "chat gpt-4o").attributes["gen_ai.input.messages"]
      )
      assert.isAtMost(value.length, 300)
      const parsed = JSON.parse(value) as Array<{ role: string; parts: Array<{ type: string; content: string }> }>
      assert.strictEqual(parsed[0]!.role, "user")
      assert.match(parsed[0]!.parts[0]!.content, /^x+…\[\d+ chars truncated\]$/)
    }).pipe(Effect.provide(Testing.layer({ captureContent: true, maxContentLength: 300 }))))

  it.effect("cyclic and exotic tool arguments never crash the call", () =>
    Effect.gen(function*() {
      const cyclic: Record<string, unknown> = { name: "loop", big: 10n, fn: () => 1, sym: Symbol("s"), nan: NaN }
      cyclic.self = cyclic
      const result = yield* Effect.succeed("ok").pipe(GenAI.executeTool({ name: "weird", arguments: cyclic }))
      assert.strictEqual(result, "ok")
      const args = Testing.spanNamed(yield* Testing.finishedSpans, "execute_tool weird").attributes[
        "gen_ai.tool.call.arguments"
      ]
      assert.deepStrictEqual(JSON.parse(String(args)), { name: "loop", big: "10", nan: "NaN", self: "[Circular]" })
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))
})

describe("deprecated attribute names", () => {
  it.effect("are not emitted by default", () =>
    Effect.gen(function*() {
      yield* chatCall({ seed: 1 })
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o",
        absent: [
          "gen_ai.system",
          "gen_ai.usage.prompt_tokens",
          "gen_ai.usage.completion_tokens",
          "gen_ai.openai.request.seed"
        ]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("are emitted alongside the current ones with gen_ai/dup", () =>
    Effect.gen(function*() {
      yield* chatCall({ seed: 1 })
      yield* Effect.void.pipe(GenAI.chat({ provider: "azure.ai.openai", model: "gpt-4" }))
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "chat gpt-4o",
        attributes: {
          "gen_ai.provider.name": "openai",
          "gen_ai.system": "openai",
          "gen_ai.usage.input_tokens": 120,
          "gen_ai.usage.prompt_tokens": 120,
          "gen_ai.usage.completion_tokens": 30,
          "gen_ai.openai.request.seed": 1
        }
      })
      // Renamed provider values map back to their old spelling.
      Testing.expectTree(spans, { name: "chat gpt-4", attributes: { "gen_ai.system": "az.ai.openai" } })
    }).pipe(Effect.provide(Testing.layer({ emitLegacyAttributes: true }))))
})
