/**
 * The Gemini provider against a local server that speaks the Gemini API's documented wire format
 * (`test/support/gemini-server.ts`, modelled on recorded exchanges): what is sent (paths, the key
 * header, the body), how replies and streams map onto the GenAI conventions (`generate_content`
 * spans, usage, finish reasons, function calls and their thought signatures, thoughts, several
 * candidates, a blocked prompt), embeddings, Vertex AI, retries and every documented error status,
 * hostile responses, and the key, which never reaches a URL, a span or an error. The stream
 * decoder is also fuzzed here with fast-check, as `test/Fuzz.test.ts` does for the others.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { LanguageModel } from "effect/ai"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import * as Gemini from "../src/Gemini.ts"
import { ChatModel, EffectAi, Embedder, GenAI, Testing, Tracing } from "../src/index.ts"
import { makeSignatureStore } from "../src/internal/geminiWire.ts"
import { decodeEvents } from "../src/internal/sse.ts"
import {
  badKeyBody,
  blockedResponse,
  cachedResponse,
  codeExecutionResponse,
  embedding,
  embeddings,
  errorBody,
  longStream,
  makeGeminiServer,
  predictions,
  type ProviderServer,
  quotaBody,
  type Reply,
  signature,
  sse,
  streamedText,
  textResponse,
  textStream,
  thoughtToolStream,
  toolCallResponse,
  twoCandidates,
  twoCandidatesStream,
  vertexStream
} from "./support/gemini-server.ts"
import {
  askExit,
  assertErrorSpan,
  assertErrorStatus,
  assertSplitsDecodeTo,
  assertTokenCounts,
  chat,
  childrenOf,
  everyString,
  exitOf,
  fuzzEndpoint as endpointWithKey,
  generatedChunks,
  hugeBody,
  hugeEvent,
  neverAnswers,
  question,
  retryEvent,
  runs,
  seconds,
  stream,
  typedFailureOf,
  type UntrustedCase,
  untrustedLimits,
  withEnv
} from "./support/provider-tests.ts"
import { makeReceiver } from "./support/receiver.ts"

const KEY = "AIzaSyTEST-0123456789-SECRET-abcdefgh"
const TOKEN = "ya29.a0TEST-access-token-SECRET-0123456789"
const tools = [{
  type: "function",
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { location: { type: "string" } }, additionalProperties: false }
}]

const limits = { maxRetries: 2, timeout: "5 seconds", idleTimeout: "1 second" } as const

const gemini = (server: ProviderServer, options: Partial<Gemini.Options> = {}) =>
  Gemini.layer({
    model: "gemini-2.5-flash",
    apiKey: Redacted.make(KEY),
    baseUrl: `${server.url}/v1beta`,
    ...limits,
    ...options
  })
    .pipe(Layer.provide(FetchHttpClient.layer))

const vertex = (server: ProviderServer, options: Partial<Gemini.Options> = {}) =>
  Gemini.layer({
    model: "gemini-2.5-flash",
    baseUrl: `${server.url}/v1/projects/my-project/locations/europe-west4/publishers/google`,
    vertex: { project: "my-project", location: "europe-west4", accessToken: Redacted.make(TOKEN) },
    ...limits,
    ...options
  }).pipe(Layer.provide(FetchHttpClient.layer))

const embed = (inputs: ReadonlyArray<string>) =>
  Effect.flatMap(Effect.service(Embedder.Embedder), (e) => e.embed(inputs))

const SPAN = "generate_content gemini-2.5-flash"

/** A turn's only call and its result, both `call_0`, as every turn's first call is. */
const callTurn = (name: string) => ({
  role: "assistant",
  parts: [{ type: "tool_call" as const, id: "call_0", name, arguments: {} }]
})
const resultTurn = (response: unknown) => ({
  role: "tool",
  parts: [{ type: "tool_call_response" as const, id: "call_0", response }]
})

const onlySpan = (spans: ReadonlyArray<ReadableSpan>, name = SPAN): ReadableSpan => {
  const found = spans.filter((s) => s.name === name)
  assert.strictEqual(found.length, 1, `exactly one ${name} span: ${Testing.render(spans)}`)
  return found[0]!
}
const failureOf = (exit: Exit.Exit<unknown, unknown>) => typedFailureOf(exit) as ChatModel.ChatError

/** The usage fields that are set. */
const reported = (usage: GenAI.Usage) => Object.fromEntries(Object.entries(usage).filter(([, n]) => n !== undefined))

const deltas = (parts: ReadonlyArray<GenAI.StreamPart>, type: "text-delta" | "reasoning-delta", choice?: number) =>
  parts.flatMap((p) => p.type === type && p.choice === choice ? [p.delta] : []).join("")

describe("Gemini API: generateContent", () => {
  it.live("a call: path, key header (not in the URL), the body, and a `generate_content {model}` CLIENT span", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: textResponse })
      const reply = yield* chat({
        systemInstructions: [{ type: "text", content: "Be brief." }],
        messages: [question],
        tools,
        temperature: 0.2,
        topP: 0.9,
        maxTokens: 300,
        stopSequences: ["END"],
        seed: 7
      }).pipe(Effect.provide(gemini(server, { topK: 40, headers: { "x-goog-user-project": "billing" } })))
      assert.strictEqual(reply.text, "Lisbon is mild today, around 21°C.")
      assert.strictEqual(reply.finishReason, "stop")
      assert.deepStrictEqual(reply.usage, {
        inputTokens: 12,
        outputTokens: 36,
        cacheReadInputTokens: undefined,
        reasoningOutputTokens: 25
      })

      const sent = server.received[0]!
      assert.strictEqual(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent")
      assert.strictEqual(sent.headers["x-goog-api-key"], KEY)
      assert.strictEqual(sent.headers["x-goog-user-project"], "billing")
      assert.isUndefined(sent.headers.authorization)
      assert.notInclude(sent.path, KEY)
      assert.deepStrictEqual(sent.body, {
        contents: [{ role: "user", parts: [{ text: "What is the weather in Lisbon?" }] }],
        systemInstruction: { parts: [{ text: "Be brief." }] },
        tools: [{
          functionDeclarations: [{
            name: "get_weather",
            description: "Weather for a city",
            parametersJsonSchema: tools[0]!.parameters
          }]
        }],
        generationConfig: {
          temperature: 0.2,
          topP: 0.9,
          topK: 40,
          maxOutputTokens: 300,
          stopSequences: ["END"],
          seed: 7
        }
      })

      const spans = yield* Testing.finishedSpans
      const span = Testing.expectTree(spans, {
        name: SPAN,
        kind: "client",
        status: "unset",
        attributes: {
          "gen_ai.operation.name": "generate_content",
          "gen_ai.provider.name": "gcp.gemini",
          "gen_ai.request.model": "gemini-2.5-flash",
          "gen_ai.request.temperature": 0.2,
          "gen_ai.request.top_p": 0.9,
          "gen_ai.request.top_k": 40,
          "gen_ai.request.max_tokens": 300,
          "gen_ai.request.stop_sequences": ["END"],
          "gen_ai.request.seed": 7,
          "server.address": "127.0.0.1",
          "server.port": Number(new URL(server.url).port),
          "gen_ai.response.id": "qS77aMCqBu6mvr0PsJiykAw",
          "gen_ai.response.model": "gemini-2.5-flash",
          "gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.usage.input_tokens": 12,
          "gen_ai.usage.output_tokens": 36,
          "gen_ai.usage.reasoning.output_tokens": 25
        },
        absent: [
          "gen_ai.request.stream",
          "gen_ai.usage.cache_read.input_tokens",
          "gen_ai.input.messages",
          "gen_ai.output.messages",
          "gen_ai.system_instructions",
          "gen_ai.tool.definitions",
          "error.type"
        ],
        children: [{ name: "POST", kind: "client", attributes: { "http.response.status_code": 200 } }]
      })
      assert.strictEqual(span.kind, SpanKind.CLIENT)
      const url = String(childrenOf(spans, span)[0]!.attributes["url.full"] ?? "")
      assert.include(url, ":generateContent")
      assert.notInclude(url, KEY)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("exported over OTLP, the span's attributes keep their types: doubles, ints, string arrays", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: textResponse })
      yield* chat({ messages: [question], temperature: 0.2, maxTokens: 300 }).pipe(
        Effect.provide(gemini(server)),
        Effect.provide(Tracing.layer({ endpoint: receiver.url, protocol: "http/protobuf" }))
      )
      receiver.assertDecoded()
      const span = receiver.requests.flatMap((r) => r.spans).find((s) => s.name === SPAN)!
      assert.strictEqual(span.kind, 3)
      const a = span.attributes
      assert.deepStrictEqual(a["gen_ai.operation.name"], { type: "string", value: "generate_content" })
      assert.deepStrictEqual(a["gen_ai.provider.name"], { type: "string", value: "gcp.gemini" })
      assert.deepStrictEqual(a["gen_ai.request.temperature"], { type: "double", value: 0.2 })
      assert.deepStrictEqual(a["gen_ai.request.max_tokens"], { type: "int", value: 300n })
      assert.deepStrictEqual(a["server.port"], { type: "int", value: BigInt(new URL(server.url).port) })
      assert.deepStrictEqual(a["gen_ai.usage.input_tokens"], { type: "int", value: 12n })
      assert.deepStrictEqual(a["gen_ai.usage.output_tokens"], { type: "int", value: 36n })
      assert.deepStrictEqual(a["gen_ai.usage.reasoning.output_tokens"], { type: "int", value: 25n })
      assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], {
        type: "array",
        value: [{ type: "string", value: "stop" }]
      })
    }))

  it.live("function calls: no ids from Gemini become call_0, call_1; STOP with calls is tool_call", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: toolCallResponse })
      const reply = yield* chat({ messages: [question], tools }).pipe(Effect.provide(gemini(server)))
      assert.deepStrictEqual(reply.toolCalls, [
        { id: "call_0", name: "get_weather", arguments: { location: "Lisbon" } },
        { id: "call_1", name: "get_weather", arguments: { location: "Porto" } }
      ])
      assert.strictEqual(reply.finishReason, "tool_call")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        attributes: {
          "gen_ai.response.finish_reasons": ["tool_call"],
          "gen_ai.usage.input_tokens": 61,
          "gen_ai.usage.output_tokens": 74,
          "gen_ai.usage.reasoning.output_tokens": 60
        }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("the next turn: calls sent back with their thought signature, results as functionResponse by name", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply(
        { kind: "json", body: toolCallResponse },
        { kind: "json", body: textResponse }
      )
      const layer = gemini(server)
      const program = Effect.gen(function*() {
        const first = yield* chat({ messages: [question], tools })
        return yield* chat({
          messages: [
            question,
            {
              role: "assistant",
              parts: first.toolCalls.map((call) => ({ type: "tool_call" as const, ...call }))
            },
            { role: "tool", parts: [{ type: "tool_call_response", id: "call_0", response: { forecast: "sunny" } }] },
            { role: "tool", parts: [{ type: "tool_call_response", id: "call_1", response: "rain" }] }
          ],
          tools
        })
      })
      yield* program.pipe(Effect.provide(layer))
      assert.deepStrictEqual(server.received[1]!.body.contents, [
        { role: "user", parts: [{ text: "What is the weather in Lisbon?" }] },
        {
          role: "model",
          parts: [
            { functionCall: { name: "get_weather", args: { location: "Lisbon" } }, thoughtSignature: signature },
            { functionCall: { name: "get_weather", args: { location: "Porto" } } }
          ]
        },
        {
          role: "user",
          parts: [
            { functionResponse: { name: "get_weather", response: { forecast: "sunny" } } },
            { functionResponse: { name: "get_weather", response: { output: "rain" } } }
          ]
        }
      ])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("call_0 in every turn: each result is sent under the name of the call before it", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: textResponse })
      yield* chat({
        messages: [
          question,
          callTurn("get_weather"),
          resultTurn({ forecast: "sunny" }),
          callTurn("get_time"),
          resultTurn("noon")
        ]
      }).pipe(Effect.provide(gemini(server)))
      const names = server.received[0]!.body.contents.flatMap((content: { parts: Array<any> }) =>
        content.parts.flatMap((part) => part.functionResponse !== undefined ? [part.functionResponse.name] : [])
      )
      assert.deepStrictEqual(names, ["get_weather", "get_time"])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("cached and tool-use prompt tokens: input is prompt + tool-use prompt, the cache read recorded", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: cachedResponse })
      const reply = yield* chat({ messages: [question] }).pipe(Effect.provide(gemini(server)))
      assert.deepStrictEqual(reply.usage, {
        inputTokens: 1230,
        outputTokens: 52,
        cacheReadInputTokens: 1024,
        reasoningOutputTokens: 12
      })
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        attributes: {
          "gen_ai.usage.input_tokens": 1230,
          "gen_ai.usage.cache_read.input_tokens": 1024,
          "gen_ai.usage.output_tokens": 52,
          "gen_ai.usage.reasoning.output_tokens": 12
        },
        absent: ["gen_ai.usage.cache_creation.input_tokens"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("several candidates: candidateCount sent, one output message per candidate, every finish reason", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: twoCandidates })
      const reply = yield* chat({ messages: [question], choiceCount: 2 }).pipe(Effect.provide(gemini(server)))
      assert.strictEqual(server.received[0]!.body.generationConfig.candidateCount, 2)
      assert.strictEqual(reply.text, "Mild and sunny.")
      const expected = [
        { role: "assistant", parts: [{ type: "text", content: "Mild and sunny." }], finish_reason: "stop" },
        { role: "assistant", parts: [{ type: "text", content: "Sunny, with a light" }], finish_reason: "length" }
      ]
      assert.deepStrictEqual(reply.outputMessages, expected)
      const span = Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        attributes: { "gen_ai.request.choice.count": 2, "gen_ai.response.finish_reasons": ["stop", "length"] }
      })
      assert.deepStrictEqual(JSON.parse(span.attributes["gen_ai.output.messages"] as string), expected)
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("a prompt the filters refused (promptFeedback.blockReason): an empty reply, content_filter, its usage", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: blockedResponse })
      const reply = yield* chat({ messages: [question] }).pipe(Effect.provide(gemini(server)))
      assert.strictEqual(reply.text, "")
      assert.deepStrictEqual(reply.toolCalls, [])
      assert.strictEqual(reply.finishReason, "content_filter")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        status: "unset",
        attributes: {
          "gen_ai.response.id": "blocked-1",
          "gen_ai.response.finish_reasons": ["content_filter"],
          "gen_ai.usage.input_tokens": 8
        },
        absent: ["gen_ai.usage.output_tokens", "error.type"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("code execution, a tool Google runs: server_tool_call and its response in the output message", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: codeExecutionResponse })
      const reply = yield* chat({ messages: [question] }).pipe(Effect.provide(gemini(server)))
      assert.strictEqual(reply.text, "The sum is 5050.")
      assert.deepStrictEqual(reply.outputMessages?.[0]?.parts, [
        {
          type: "server_tool_call",
          name: "code_execution",
          server_tool_call: { type: "code_execution", language: "PYTHON", code: "print(sum(range(1, 101)))" }
        },
        {
          type: "server_tool_call_response",
          server_tool_call_response: { type: "code_execution", outcome: "OUTCOME_OK", output: "5050\n" }
        },
        { type: "text", content: "The sum is 5050." }
      ])
      assert.strictEqual(reply.usage.inputTokens, 42)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a JSON answer: responseMimeType and responseJsonSchema, gen_ai.output.type json", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: textResponse })
      const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
      yield* chat({ messages: [question], responseFormat: { type: "json", name: "City", schema } }).pipe(
        Effect.provide(gemini(server, { includeThoughts: true }))
      )
      assert.deepStrictEqual(server.received[0]!.body.generationConfig, {
        responseMimeType: "application/json",
        responseJsonSchema: schema,
        thinkingConfig: { includeThoughts: true }
      })
      Testing.expectTree(yield* Testing.finishedSpans, { name: SPAN, attributes: { "gen_ai.output.type": "json" } })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("images and files in, system messages to systemInstruction, reasoning not sent back", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: textResponse })
      yield* chat({
        messages: [
          { role: "system", parts: [{ type: "text", content: "Answer in Portuguese." }] },
          {
            role: "user",
            parts: [
              { type: "text", content: "What is in these?" },
              { type: "blob", modality: "image", mime_type: "image/png", content: "iVBORw0KGgo=" },
              { type: "uri", modality: "video", mime_type: "video/mp4", uri: "gs://bucket/clip.mp4" },
              { type: "file", modality: "file", mime_type: "application/pdf", file_id: "https://files/abc" }
            ]
          },
          { role: "assistant", parts: [{ type: "reasoning", content: "hm" }, { type: "text", content: "Um gato." }] }
        ]
      }).pipe(Effect.provide(gemini(server)))
      const body = server.received[0]!.body
      assert.deepStrictEqual(body.systemInstruction, { parts: [{ text: "Answer in Portuguese." }] })
      assert.deepStrictEqual(body.contents, [
        {
          role: "user",
          parts: [
            { text: "What is in these?" },
            { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
            { fileData: { fileUri: "gs://bucket/clip.mp4", mimeType: "video/mp4" } },
            { fileData: { fileUri: "https://files/abc", mimeType: "application/pdf" } }
          ]
        },
        { role: "model", parts: [{ text: "Um gato." }] }
      ])
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Gemini API: the key on HTTP client spans", () => {
  it.live("with every header traced, x-goog-api-key and the extra headers are <redacted> on the POST span", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: textResponse })
      yield* chat({ messages: [question] }).pipe(
        Effect.provide(gemini(server, { headers: { "x-goog-user-project": "billing" } })),
        Effect.provideService(HttpClient.TracerHeaderFilter, () => true)
      )
      assert.strictEqual(server.received[0]!.headers["x-goog-api-key"], KEY)
      const spans = yield* Testing.finishedSpans
      const post = childrenOf(spans, onlySpan(spans))[0]!
      assert.strictEqual(post.attributes["http.request.header.x-goog-api-key"], "<redacted>")
      assert.strictEqual(post.attributes["http.request.header.x-goog-user-project"], "<redacted>")
      assert.notInclude(everyString(spans), KEY)
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Gemini API: streamGenerateContent", () => {
  it.live("a stream: ?alt=sse, usage repeated in every chunk → the last counts, never a sum; TTFT; one span", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "sse", chunks: textStream, delayMs: 10 })
      const parts = yield* stream({ messages: [question] }).pipe(Stream.runCollect, Effect.provide(gemini(server)))
      const sent = server.received[0]!
      assert.strictEqual(sent.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
      assert.strictEqual(sent.headers["x-goog-api-key"], KEY)
      assert.isUndefined(sent.body.stream)
      assert.strictEqual(deltas(parts, "text-delta"), streamedText)
      assert.strictEqual(parts.filter((p) => p.type === "usage").length, 6)

      const reply = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.deepStrictEqual(reported(reply.usage), { inputTokens: 20, outputTokens: 513, reasoningOutputTokens: 260 })
      const spans = yield* Testing.finishedSpans
      const span = Testing.expectTree(spans, {
        name: SPAN,
        kind: "client",
        status: "unset",
        attributes: {
          "gen_ai.operation.name": "generate_content",
          "gen_ai.request.stream": true,
          "gen_ai.response.id": "tS77aIl-4ZvV7w_A9rTBBg",
          "gen_ai.response.model": "gemini-2.5-flash",
          "gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.usage.input_tokens": 20,
          "gen_ai.usage.output_tokens": 513,
          "gen_ai.usage.reasoning.output_tokens": 260,
          "beluga.stream.content_chunks": 6
        },
        absent: ["beluga.stream.abandoned", "gen_ai.output.messages", "error.type"],
        children: [{ name: "POST", kind: "client" }]
      })
      const ttft = span.attributes["gen_ai.response.time_to_first_chunk"] as number
      assert.isAbove(ttft, 0)
      assert.isAtMost(ttft, seconds(span))
    }).pipe(Effect.provide(Testing.layer())))

  it.live("thoughts and a function call streamed: reasoning, text, the call assembled; recorded with capture on", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "sse", chunks: thoughtToolStream })
      const parts = yield* stream({ messages: [question], tools }).pipe(
        Stream.runCollect,
        Effect.provide(gemini(server, { includeThoughts: true }))
      )
      assert.deepStrictEqual(server.received[0]!.body.generationConfig, { thinkingConfig: { includeThoughts: true } })
      const reply = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.strictEqual(reply.reasoning, "**Checking the forecast**\nThe user wants Lisbon's weather.")
      assert.strictEqual(reply.text, "Let me check.")
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "call_0",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])
      assert.strictEqual(reply.finishReason, "tool_call")
      assert.deepStrictEqual(reported(reply.usage), { inputTokens: 61, outputTokens: 39, reasoningOutputTokens: 27 })
      const span = onlySpan(yield* Testing.finishedSpans)
      assert.deepStrictEqual(JSON.parse(span.attributes["gen_ai.output.messages"] as string), [{
        role: "assistant",
        parts: [
          { type: "reasoning", content: "**Checking the forecast**\nThe user wants Lisbon's weather." },
          { type: "text", content: "Let me check." },
          { type: "tool_call", name: "get_weather", id: "call_0", arguments: { location: "Lisbon" } }
        ],
        finish_reason: "tool_call"
      }])
      assert.deepStrictEqual(JSON.parse(span.attributes["gen_ai.input.messages"] as string), [question])
      assert.strictEqual(JSON.parse(span.attributes["gen_ai.tool.definitions"] as string)[0].name, "get_weather")
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("two candidates streamed: deltas under their choice, both finish reasons, two output messages", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "sse", chunks: twoCandidatesStream })
      const parts = yield* stream({ messages: [question], choiceCount: 2 }).pipe(
        Stream.runCollect,
        Effect.provide(gemini(server))
      )
      assert.strictEqual(deltas(parts, "text-delta"), "Mild and sunny.")
      assert.strictEqual(deltas(parts, "text-delta", 1), "Sunny, with a light")
      const span = Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        attributes: {
          "gen_ai.response.finish_reasons": ["length", "stop"],
          "gen_ai.usage.input_tokens": 12,
          "gen_ai.usage.output_tokens": 9
        }
      })
      assert.deepStrictEqual(JSON.parse(span.attributes["gen_ai.output.messages"] as string), [
        { role: "assistant", parts: [{ type: "text", content: "Mild and sunny." }], finish_reason: "stop" },
        { role: "assistant", parts: [{ type: "text", content: "Sunny, with a light" }], finish_reason: "length" }
      ])
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("a blocked prompt streamed: one chunk of feedback ends the stream with content_filter", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "sse", chunks: [sse(blockedResponse)] })
      const reply = yield* ChatModel.collect(stream({ messages: [question] })).pipe(Effect.provide(gemini(server)))
      assert.strictEqual(reply.finishReason, "content_filter")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        status: "unset",
        attributes: { "gen_ai.response.finish_reasons": ["content_filter"], "gen_ai.usage.input_tokens": 8 },
        absent: ["error.type"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a consumer that stops early: one span, abandoned, the connection closed", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "sse", chunks: longStream(200), delayMs: 5 })
      const taken = yield* stream({ messages: [question] }).pipe(
        Stream.filter((p) => p.type === "text-delta"),
        Stream.take(3),
        Stream.runCollect,
        Effect.provide(gemini(server))
      )
      assert.strictEqual(taken.length, 3)
      yield* Effect.sleep("100 millis")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        status: "unset",
        attributes: { "beluga.stream.abandoned": true, "beluga.stream.content_chunks": 3 },
        absent: ["gen_ai.response.finish_reasons", "error.type"]
      })
      assert.strictEqual(server.clientHangups, 1)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("with capture off, no prompt, completion, thought, tool argument or key appears in any span", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply(
        { kind: "sse", chunks: thoughtToolStream },
        { kind: "json", body: toolCallResponse }
      )
      yield* stream({ messages: [question], tools }).pipe(Stream.runDrain, Effect.provide(gemini(server)))
      yield* chat({ messages: [question], tools }).pipe(Effect.provide(gemini(server)))
      const strings = everyString(yield* Testing.finishedSpans)
      for (const secret of ["Lisbon", "forecast", "Let me check", "weather", "location", KEY, signature]) {
        assert.notInclude(strings, secret)
      }
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Gemini finish reasons and usage", () => {
  it("finishReason in the conventions' words", () => {
    const cases: ReadonlyArray<readonly [string, boolean, string]> = [
      ["STOP", false, "stop"],
      ["STOP", true, "tool_call"],
      ["MAX_TOKENS", false, "length"],
      ["SAFETY", false, "content_filter"],
      ["RECITATION", false, "content_filter"],
      ["BLOCKLIST", false, "content_filter"],
      ["PROHIBITED_CONTENT", false, "content_filter"],
      ["SPII", false, "content_filter"],
      ["IMAGE_SAFETY", false, "content_filter"],
      ["MALFORMED_FUNCTION_CALL", true, "error"],
      ["LANGUAGE", false, "language"],
      ["OTHER", false, "other"],
      ["UNEXPECTED_TOOL_CALL", false, "unexpected_tool_call"],
      ["FINISH_REASON_UNSPECIFIED", false, "finish_reason_unspecified"]
    ]
    for (const [reason, called, expected] of cases) assert.strictEqual(Gemini.toFinishReason(reason, called), expected)
  })

  it("usage fields Gemini leaves out stay absent, never 0", () => {
    assert.deepStrictEqual(Gemini.toUsage({ promptTokenCount: 17, thoughtsTokenCount: 19 }), {
      inputTokens: 17,
      outputTokens: 19,
      cacheReadInputTokens: undefined,
      reasoningOutputTokens: 19
    })
    assert.deepStrictEqual(Gemini.toUsage({ trafficType: "ON_DEMAND" }), {
      inputTokens: undefined,
      outputTokens: undefined,
      cacheReadInputTokens: undefined,
      reasoningOutputTokens: undefined
    })
    assert.isUndefined(Gemini.toUsage("nope"))
  })

  it("a body that is neither candidates nor a blocked prompt is no reply", () => {
    assert.isUndefined(Gemini.toResponse({}))
    assert.isUndefined(Gemini.toResponse({ candidates: [] }))
    assert.isUndefined(Gemini.toResponse([textResponse]))
    assert.strictEqual(Gemini.toResponse({ candidates: [{ finishReason: "SAFETY" }] })?.finishReason, "content_filter")
  })
})

describe("Gemini embeddings", () => {
  it.effect("an embeddings model named like a prototype member (constructor) gets the default size, not a function", () =>
    Effect.gen(function*() {
      for (const embeddingModel of ["constructor", "__proto__", "toString"]) {
        const provider = yield* Gemini.embeddingProvider({
          model: "gemini-2.5-flash",
          apiKey: Redacted.make(KEY),
          embeddingModel
        })
        assert.strictEqual(provider.dimensions, 3072)
      }
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.live("one input: :embedContent with outputDimensionality; no token count reported, none recorded", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: embedding })
      const result = yield* embed(["first"]).pipe(Effect.provide(gemini(server, { dimensions: 3 })))
      assert.deepStrictEqual(result.vectors, [[0.013551234, -0.008901021, -0.046765663]])
      const sent = server.received[0]!
      assert.strictEqual(sent.path, "/v1beta/models/gemini-embedding-001:embedContent")
      assert.strictEqual(sent.headers["x-goog-api-key"], KEY)
      assert.deepStrictEqual(sent.body, {
        model: "models/gemini-embedding-001",
        content: { parts: [{ text: "first" }] },
        outputDimensionality: 3
      })
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "embeddings gemini-embedding-001",
        kind: "client",
        attributes: {
          "gen_ai.operation.name": "embeddings",
          "gen_ai.provider.name": "gcp.gemini",
          "gen_ai.request.model": "gemini-embedding-001",
          "gen_ai.embeddings.dimension.count": 3,
          "gen_ai.response.model": "gemini-embedding-001"
        },
        absent: ["gen_ai.usage.input_tokens", "error.type"],
        children: [{ name: "POST" }]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("several inputs: :batchEmbedContents, one request each, vectors in input order", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: embeddings })
      const result = yield* embed(["first", "second"]).pipe(Effect.provide(gemini(server)))
      assert.deepStrictEqual(result.vectors, [[1, 0, 0], [0.5, 0.5, 0.7071]])
      const sent = server.received[0]!
      assert.strictEqual(sent.path, "/v1beta/models/gemini-embedding-001:batchEmbedContents")
      assert.deepStrictEqual(sent.body, {
        requests: [
          { model: "models/gemini-embedding-001", content: { parts: [{ text: "first" }] } },
          { model: "models/gemini-embedding-001", content: { parts: [{ text: "second" }] } }
        ]
      })
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "embeddings gemini-embedding-001",
        attributes: { "gen_ai.embeddings.dimension.count": 3 }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a vector missing from the batch fails with invalid_response", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: { embeddings: [{ values: [1, 0] }] } })
      const exit = yield* embed(["a", "b"]).pipe(Effect.provide(gemini(server)), Effect.exit)
      assert.strictEqual(failureOf(exit).errorType, "invalid_response")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Vertex AI", () => {
  it("the base URL of a project and location", () => {
    assert.strictEqual(
      Gemini.vertexBaseUrl({ project: "my-project", location: "us-central1" }),
      "https://us-central1-aiplatform.googleapis.com/v1/projects/my-project/locations/us-central1/publishers/google"
    )
    assert.strictEqual(
      Gemini.vertexBaseUrl({ project: "my-project" }),
      "https://aiplatform.googleapis.com/v1/projects/my-project/locations/global/publishers/google"
    )
    assert.strictEqual(
      Gemini.vertexBaseUrl({ project: "p", location: "eu" }),
      "https://aiplatform.eu.rep.googleapis.com/v1/projects/p/locations/eu/publishers/google"
    )
    assert.strictEqual(Gemini.vertexBaseUrl({}), "https://aiplatform.googleapis.com/v1/publishers/google")
  })

  it.live("the project's path, the bearer token (no API key header), gen_ai.provider.name gcp.vertex_ai", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "sse", chunks: vertexStream })
      const reply = yield* ChatModel.collect(stream({ messages: [question] })).pipe(Effect.provide(vertex(server)))
      assert.strictEqual(reply.text, "In labyrinthine code, where shadows creep.")
      const sent = server.received[0]!
      assert.strictEqual(
        sent.path,
        "/v1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
      )
      assert.strictEqual(sent.headers.authorization, `Bearer ${TOKEN}`)
      assert.isUndefined(sent.headers["x-goog-api-key"])
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        attributes: {
          "gen_ai.provider.name": "gcp.vertex_ai",
          "gen_ai.response.id": "auXjaInRJPP02PgP1dnn0Qo",
          "gen_ai.usage.input_tokens": 8,
          "gen_ai.usage.output_tokens": 1896,
          "gen_ai.usage.reasoning.output_tokens": 1526
        }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("embeddings on Vertex AI: :predict with instances, input tokens from the statistics", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: predictions })
      const result = yield* embed(["first", "second"]).pipe(
        Effect.provide(vertex(server, { embeddingModel: "text-embedding-005", dimensions: 3 }))
      )
      assert.deepStrictEqual(result.vectors, [[1, 0, 0], [0, 1, 0]])
      const sent = server.received[0]!
      assert.strictEqual(
        sent.path,
        "/v1/projects/my-project/locations/europe-west4/publishers/google/models/text-embedding-005:predict"
      )
      assert.deepStrictEqual(sent.body, {
        instances: [{ content: "first" }, { content: "second" }],
        parameters: { outputDimensionality: 3 }
      })
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "embeddings text-embedding-005",
        attributes: { "gen_ai.provider.name": "gcp.vertex_ai", "gen_ai.usage.input_tokens": 5 }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a rejected token: 401 UNAUTHENTICATED, the token never in the error or a span", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({
        kind: "json",
        status: 401,
        body: errorBody(401, "UNAUTHENTICATED", `Request had invalid authentication credentials: ${TOKEN}`)
      })
      const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(vertex(server)), Effect.exit))
      assert.strictEqual(error.errorType, "UNAUTHENTICATED")
      assert.strictEqual(error.status, 401)
      assert.notInclude(error.message, TOKEN)
      assert.include(error.message, "<redacted>")
      assert.notInclude(everyString(yield* Testing.finishedSpans), TOKEN)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a Vertex AI setup that cannot authenticate fails the layer, naming the option", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(
          Gemini.layer({ model: "gemini-2.5-flash", vertex: { project: "p" } }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        ).pipe(Effect.scoped)
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.include(Exit.isFailure(exit) ? String(Cause.squash(exit.cause)) : "", "vertex.accessToken")
    }))
})

describe("Gemini options", () => {
  it.live.each([
    { options: { model: "gemini-2.5-flash", topK: 0 }, names: "topK" },
    { options: { model: "gemini-2.5-flash", dimensions: 1.5 }, names: "dimensions" },
    { options: { model: "" }, names: "model" },
    {
      options: { model: "gemini-2.5-flash", vertex: { project: "p", accessToken: TOKEN } },
      names: "vertex.accessToken"
    },
    { options: { model: "gemini-2.5-flash", vertex: "us-central1" }, names: "vertex" },
    { options: null, names: "options" }
  ])(
    "a bad option fails the layer with a ProviderConfigError naming $names",
    ({ names, options }) =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(
          Layer.build(Gemini.layer(options as unknown as Gemini.Options).pipe(Layer.provide(FetchHttpClient.layer)))
            .pipe(
              Effect.scoped
            )
        )
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.strictEqual((error as { _tag?: string })._tag, "ProviderConfigError")
        assert.strictEqual((error as { variable?: string }).variable, names)
        assert.notInclude(String(error), TOKEN)
      })
  )
})

describe("Gemini errors and retries", () => {
  const statuses: ReadonlyArray<{ readonly status: number; readonly type: string; readonly retried: boolean }> = [
    { status: 400, type: "INVALID_ARGUMENT", retried: false },
    { status: 401, type: "UNAUTHENTICATED", retried: false },
    { status: 403, type: "PERMISSION_DENIED", retried: false },
    { status: 404, type: "NOT_FOUND", retried: false },
    { status: 429, type: "RESOURCE_EXHAUSTED", retried: true },
    { status: 500, type: "INTERNAL", retried: true },
    { status: 503, type: "UNAVAILABLE", retried: true },
    { status: 504, type: "DEADLINE_EXCEEDED", retried: true }
  ]

  it.live.each(statuses)(
    "$status $type: error.type is the status name, retried: $retried",
    ({ retried, status, type }) =>
      Effect.gen(function*() {
        const reply: Reply = {
          kind: "json",
          status,
          headers: { "retry-after": "0.01" },
          body: errorBody(status, type, `models/gemini-2.5-flash: ${type.toLowerCase()}`)
        }
        const server = (yield* makeGeminiServer).reply(reply, reply)
        const error = failureOf(
          yield* chat({ messages: [question] }).pipe(Effect.provide(gemini(server, { maxRetries: 1 })), Effect.exit)
        )
        assertErrorStatus(error, type, status)
        assert.strictEqual(server.received.length, retried ? 2 : 1)
        Testing.expectTree(yield* Testing.finishedSpans, {
          name: SPAN,
          status: "error",
          attributes: { "error.type": type },
          events: retried
            ? [{ name: "beluga.provider.retry", attributes: { "http.response.status_code": status } }]
            : []
        })
      }).pipe(Effect.provide(Testing.layer()))
  )

  it.live("429 with retry-after: the retry is an event with the delay asked for, then the call succeeds", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply(
        { kind: "json", status: 429, headers: { "retry-after": "0.2" }, body: quotaBody("1s") },
        { kind: "json", body: textResponse }
      )
      const reply = yield* chat({ messages: [question] }).pipe(Effect.provide(gemini(server)))
      assert.strictEqual(reply.text, "Lisbon is mild today, around 21°C.")
      const spans = yield* Testing.finishedSpans
      const span = Testing.expectTree(spans, {
        name: SPAN,
        status: "unset",
        events: [retryEvent("RESOURCE_EXHAUSTED", 200)]
      })
      assert.deepStrictEqual(childrenOf(spans, span).map((s) => s.attributes["http.response.status_code"]), [429, 200])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("429 without the header: the wait RetryInfo asks for in the body is honoured", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply(
        { kind: "json", status: 429, body: quotaBody("0.3s") },
        { kind: "json", body: textResponse }
      )
      yield* chat({ messages: [question] }).pipe(Effect.provide(gemini(server)))
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        status: "unset",
        events: [{ name: "beluga.provider.retry", attributes: { "beluga.retry.delay_ms": 300 } }]
      })
      assert.strictEqual(server.received.length, 2)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a RetryInfo wait longer than maxRetryDelay is not waited for", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", status: 429, body: quotaBody("3600s") })
      const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(gemini(server)), Effect.exit))
      assert.strictEqual(error.errorType, "RESOURCE_EXHAUSTED")
      assert.strictEqual(server.received.length, 1)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a bad key: INVALID_ARGUMENT with the ErrorInfo reason in the message, the key never echoed", () =>
    Effect.gen(function*() {
      const echoed = { ...badKeyBody, error: { ...badKeyBody.error, message: `API key not valid: ${KEY}` } }
      const server = (yield* makeGeminiServer).reply({ kind: "json", status: 400, body: echoed })
      const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(gemini(server)), Effect.exit))
      assert.strictEqual(error.errorType, "INVALID_ARGUMENT")
      assert.include(error.message, "API_KEY_INVALID")
      assert.notInclude(error.message, KEY)
      const spans = yield* Testing.finishedSpans
      assert.notInclude(everyString(spans), KEY)
      assert.isFalse(server.received.some((r) => r.path.includes(KEY)))
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a Vertex AI error body wrapped in an array is read the same", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({
        kind: "json",
        status: 403,
        body: [errorBody(403, "PERMISSION_DENIED", "Permission denied on resource project my-project.")]
      })
      const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(vertex(server)), Effect.exit))
      assert.strictEqual(error.errorType, "PERMISSION_DENIED")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("an error event mid-stream fails it with Google's status; what came before is kept", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({
        kind: "sse",
        chunks: [...textStream.slice(0, 2), sse(errorBody(500, "INTERNAL", "An internal error has occurred."))]
      })
      const error = failureOf(
        yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.provide(gemini(server)), Effect.exit)
      )
      assert.strictEqual(error.errorType, "INTERNAL")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        status: "error",
        attributes: {
          "error.type": "INTERNAL",
          "gen_ai.response.id": "tS77aIl-4ZvV7w_A9rTBBg",
          "gen_ai.usage.output_tokens": 360,
          "beluga.stream.content_chunks": 2
        }
      })
    }).pipe(Effect.provide(Testing.layer())))

  const hostile: ReadonlyArray<UntrustedCase<Reply>> = [
    {
      name: "malformed JSON body",
      reply: { kind: "raw", body: "{\"candidates\": [" },
      streamed: false,
      errorType: "invalid_response"
    },
    {
      name: "JSON that is no response",
      reply: { kind: "json", body: { hello: "world" } },
      streamed: false,
      errorType: "invalid_response"
    },
    hugeBody,
    hugeEvent,
    {
      name: "a malformed event",
      reply: { kind: "sse", chunks: [textStream[0]!, "data: {\"candidates\": [{\"content\": \r\n\r\n"] },
      streamed: true,
      errorType: "invalid_response"
    },
    {
      name: "a stream that ends before any finishReason",
      reply: { kind: "sse", chunks: textStream.slice(0, 4) },
      streamed: true,
      errorType: "incomplete_stream"
    },
    { name: "an empty stream", reply: { kind: "sse", chunks: [] }, streamed: true, errorType: "incomplete_stream" },
    {
      name: "a stream truncated mid-event",
      reply: { kind: "sse", chunks: [...textStream.slice(0, 2), "data: {\"candidates\": [{\"content\": {\"par"] },
      streamed: true,
      errorType: "incomplete_stream"
    },
    {
      name: "a connection cut mid-stream",
      reply: { kind: "sse", chunks: textStream.slice(0, 3), ending: "cut" },
      streamed: true,
      errorType: "connection_error"
    },
    {
      name: "a stream that stalls",
      reply: { kind: "sse", chunks: textStream.slice(0, 3), ending: "stall" },
      streamed: true,
      errorType: "timeout"
    },
    neverAnswers
  ]

  it.live.each(hostile)(
    "$name → a typed $errorType; the span ends with ERROR and error.type",
    ({ errorType, reply, streamed }) =>
      Effect.gen(function*() {
        const server = (yield* makeGeminiServer).reply(reply)
        const error = failureOf(yield* askExit(gemini(server, untrustedLimits), streamed))
        assert.strictEqual(error.errorType, errorType)
        assert.notInclude(error.message, KEY)
        assertErrorSpan(onlySpan(yield* Testing.finishedSpans), errorType)
      }).pipe(Effect.provide(Testing.layer()))
  )
})

describe("Gemini under effect/ai", () => {
  it.live("EffectAi.layer(Gemini.chatProvider(…)): generateText and streamText on the Gemini wire", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply(
        { kind: "json", body: textResponse },
        { kind: "sse", chunks: textStream }
      )
      const layer = EffectAi.layer(Gemini.chatProvider({
        model: "gemini-2.5-flash",
        apiKey: Redacted.make(KEY),
        baseUrl: `${server.url}/v1beta`
      })).pipe(Layer.provide(FetchHttpClient.layer))
      const text = yield* LanguageModel.generateText({ prompt: "What is the weather in Lisbon?" }).pipe(
        Effect.provide(layer)
      )
      assert.strictEqual(text.text, "Lisbon is mild today, around 21°C.")
      const streamed = yield* LanguageModel.streamText({ prompt: "Why is the sky blue?" }).pipe(
        Stream.runCollect,
        Effect.provide(layer)
      )
      assert.strictEqual(
        streamed.flatMap((p) => p.type === "text-delta" ? [p.delta] : []).join(""),
        streamedText
      )
      const spans = (yield* Testing.finishedSpans).filter((s) => s.attributes["gen_ai.provider.name"] === "gcp.gemini")
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        // The same span as through ChatModel: effect/ai's LanguageModel span, named by the provider's operation.
        assert.strictEqual(span.name, "generate_content gemini-2.5-flash")
        assert.strictEqual(span.attributes["gen_ai.operation.name"], "generate_content")
        assert.strictEqual(span.kind, SpanKind.CLIENT)
        assert.strictEqual(span.attributes["gen_ai.request.model"], "gemini-2.5-flash")
      }
      assert.strictEqual(spans[1]!.attributes["gen_ai.usage.output_tokens"], 513)
      assert.strictEqual(server.received[1]!.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    }).pipe(Effect.provide(Testing.layer())))
})

const fromEnv = (env: Record<string, string>, options: Partial<Gemini.Options> = {}) =>
  withEnv(Gemini.layerFromConfig(options), env).pipe(Layer.provide(FetchHttpClient.layer))

describe("Gemini.layerFromConfig", () => {
  it.live("GEMINI_API_KEY, else GOOGLE_API_KEY; GEMINI_BASE_URL, GEMINI_MODEL; options override", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply(
        { kind: "json", body: textResponse },
        { kind: "json", body: textResponse },
        { kind: "json", body: textResponse }
      )
      const base = { GEMINI_BASE_URL: `${server.url}/v1beta`, GEMINI_MODEL: "gemini-2.5-pro" }
      yield* chat({ messages: [question] }).pipe(
        Effect.provide(fromEnv({ ...base, GEMINI_API_KEY: KEY, GOOGLE_API_KEY: "other" }))
      )
      yield* chat({ messages: [question] }).pipe(
        Effect.provide(fromEnv({ ...base, GEMINI_API_KEY: "", GOOGLE_API_KEY: KEY }))
      )
      yield* chat({ messages: [question] }).pipe(
        Effect.provide(fromEnv({ ...base, GEMINI_API_KEY: KEY }, { model: "gemini-2.5-flash-lite" }))
      )
      assert.deepStrictEqual(server.received.map((r) => [r.path, r.headers["x-goog-api-key"]]), [
        ["/v1beta/models/gemini-2.5-pro:generateContent", KEY],
        ["/v1beta/models/gemini-2.5-pro:generateContent", KEY],
        ["/v1beta/models/gemini-2.5-flash-lite:generateContent", KEY]
      ])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("GOOGLE_GENAI_USE_VERTEXAI=true: Vertex AI with GOOGLE_OAUTH_ACCESS_TOKEN as the bearer", () =>
    Effect.gen(function*() {
      const server = (yield* makeGeminiServer).reply({ kind: "json", body: textResponse })
      const layer = withEnv(Gemini.layerFromConfig(), {
        GOOGLE_GENAI_USE_VERTEXAI: "true",
        GOOGLE_CLOUD_PROJECT: "my-project",
        GOOGLE_CLOUD_LOCATION: "europe-west4",
        GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN,
        GEMINI_BASE_URL: `${server.url}/v1/projects/my-project/locations/europe-west4/publishers/google`
      }).pipe(Layer.provide(FetchHttpClient.layer))
      yield* chat({ messages: [question] }).pipe(Effect.provide(layer))
      assert.strictEqual(server.received[0]!.headers.authorization, `Bearer ${TOKEN}`)
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: SPAN,
        attributes: { "gen_ai.provider.name": "gcp.vertex_ai" }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live.each([
    { env: { GOOGLE_GENAI_USE_VERTEXAI: "perhaps" }, names: "GOOGLE_GENAI_USE_VERTEXAI" },
    { env: { GOOGLE_GENAI_USE_VERTEXAI: "true" }, names: "GOOGLE_CLOUD_PROJECT" },
    { env: { GOOGLE_GENAI_USE_VERTEXAI: "1", GOOGLE_CLOUD_PROJECT: "p" }, names: "GOOGLE_OAUTH_ACCESS_TOKEN" },
    { env: { GEMINI_BASE_URL: "generativelanguage.googleapis.com" }, names: "GEMINI_BASE_URL" }
  ])("a setup that cannot work fails the layer naming $names", ({ env, names }) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(
          withEnv(Gemini.layerFromConfig(), { GEMINI_API_KEY: "", ...env }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        ).pipe(Effect.scoped)
      )
      assert.isTrue(Exit.isFailure(exit))
      const message = Exit.isFailure(exit) ? String(Cause.squash(exit.cause)) : ""
      assert.include(message, names)
      assert.notInclude(message, KEY)
    }))
})

// -----------------------------------------------------------------------------
// Fuzzing the stream decoder and the body reader
// -----------------------------------------------------------------------------

const fuzzEndpoint = endpointWithKey("AIza-fuzz-key-0000")

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  exitOf(decodeEvents(Stream.fromIterable(chunks), fuzzEndpoint, Gemini.streamDecoder(fuzzEndpoint)))

const transcript = [
  sse({
    candidates: [{ content: { parts: [{ text: "Lisboa é amena ☀️ 日本 " }], role: "model" }, index: 0 }],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 5 },
    modelVersion: "gemini-2.5-flash",
    responseId: "r1"
  }),
  ...thoughtToolStream,
  ...twoCandidatesStream
].join("")

const clientErrors = new Set(["invalid_response", "incomplete_stream", "response_too_large", "timeout", "_OTHER"])

const fragment = fc.oneof(
  fc.constantFrom("data: ", "event: ", ": ping", "retry: 5", "\n", "\r\n", "\r\n\r\n", "\n\n"),
  fc.constantFrom(
    "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"index\":0}]}",
    "{\"candidates\":[{\"finishReason\":\"STOP\",\"index\":1}]}",
    "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}",
    "{\"error\":{\"code\":500,\"status\":\"INTERNAL\"}}",
    "{\"usageMetadata\":{\"promptTokenCount\":4}}"
  ),
  fc.json(),
  fc.string({ maxLength: 12 })
)

const assertWellFormed = (part: GenAI.StreamPart): void => {
  if ("choice" in part && part.choice !== undefined) assert.isTrue(Number.isSafeInteger(part.choice) && part.choice > 0)
  switch (part.type) {
    case "text-delta":
    case "reasoning-delta":
      assert.isString(part.delta)
      assert.notStrictEqual(part.delta, "")
      return
    case "tool-call-delta":
      assert.isTrue(Number.isSafeInteger(part.index) && part.index >= 0)
      assert.isString(part.id)
      assert.isString(part.name)
      JSON.parse(part.argumentsDelta!)
      return
    case "usage":
      assertTokenCounts(part)
      return
    case "finish":
      assert.isString(part.reason)
      return
    case "message-part":
      assert.isString(part.part.type)
      return
    case "response-metadata":
      return
  }
}

describe("the Gemini stream decoder under generated input", () => {
  it.live("any split of a valid stream decodes to the same parts as the whole, even inside a character", () =>
    Effect.promise(async () => {
      const bytes = new TextEncoder().encode(transcript)
      const whole = await decode([bytes])
      assert.isTrue(Exit.isSuccess(whole), String(whole))
      await assertSplitsDecodeTo(bytes, whole, decode, runs(150))
    }))

  it.live("any bytes end in parts or a typed ChatError, never a defect; the key never in a message", () =>
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
            const failure = exit.cause.reasons.find(Cause.isFailReason)
            assert.isDefined(failure, `a typed failure, not ${String(exit.cause)}`)
            const error = failure!.error
            assert.instanceOf(error, ChatModel.ChatError)
            const mentionsError = chunks.some((c) => new TextDecoder().decode(c).includes("error"))
            assert.isTrue(clientErrors.has(error.errorType) || mentionsError, error.errorType)
            assert.notInclude(error.message, "AIza-fuzz-key-0000")
          }
        ),
        { numRuns: runs(300) }
      )
    ))

  it("any JSON value as an event or a body is read into well-formed parts, a ChatError, or no reply", () =>
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const out = Gemini.streamDecoder(fuzzEndpoint)().onEvent({ event: "message", data: JSON.stringify(value) })
        assert.isTrue(out instanceof ChatModel.ChatError || Array.isArray(out))
        if (Array.isArray(out)) { for (const part of out) assertWellFormed(part) }
        const reply = Gemini.toResponse(value)
        if (reply !== undefined) {
          assert.isString(reply.text)
          assert.isString(reply.finishReason)
          for (const call of reply.toolCalls) assert.isString(call.name)
        }
      }),
      { numRuns: runs(500) }
    ))

  it("generated candidates, parts and usage: every part well formed, usage never summed across chunks", () =>
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            index: fc.nat({ max: 3 }),
            text: fc.string({ maxLength: 8 }),
            thought: fc.boolean(),
            call: fc.option(
              fc.record({
                name: fc.string({ minLength: 1, maxLength: 5 }),
                args: fc.dictionary(fc.string(), fc.jsonValue())
              }),
              { nil: undefined }
            ),
            finishReason: fc.option(fc.constantFrom("STOP", "MAX_TOKENS", "SAFETY", "OTHER"), { nil: undefined }),
            prompt: fc.option(fc.nat({ max: 10_000 }), { nil: undefined }),
            candidates: fc.option(fc.nat({ max: 10_000 }), { nil: undefined })
          }),
          { maxLength: 20 }
        ),
        (chunks) => {
          const decoder = Gemini.streamDecoder(fuzzEndpoint)()
          let lastPrompt: number | undefined
          for (const chunk of chunks) {
            const parts: Array<unknown> = [{ text: chunk.text, thought: chunk.thought }]
            if (chunk.call !== undefined) parts.push({ functionCall: chunk.call })
            const out = decoder.onEvent({
              event: "message",
              data: JSON.stringify({
                candidates: [{
                  content: { parts },
                  index: chunk.index,
                  ...(chunk.finishReason !== undefined ? { finishReason: chunk.finishReason } : {})
                }],
                usageMetadata: { promptTokenCount: chunk.prompt, candidatesTokenCount: chunk.candidates }
              })
            })
            assert.isTrue(Array.isArray(out))
            if (chunk.prompt !== undefined) lastPrompt = chunk.prompt
            for (const part of out as ReadonlyArray<GenAI.StreamPart>) {
              assertWellFormed(part)
              if (part.type === "usage") assert.strictEqual(part.usage.inputTokens, lastPrompt)
            }
          }
        }
      ),
      { numRuns: runs(300) }
    ))

  it("memory stays bounded: a stream opening thousands of candidates keeps state for 16", () => {
    const decoder = Gemini.streamDecoder(fuzzEndpoint)()
    const choices = new Set<number>()
    for (let i = 0; i < 5000; i++) {
      const out = decoder.onEvent({
        event: "message",
        data: JSON.stringify({ candidates: [{ content: { parts: [{ text: "x" }] }, index: i }] })
      })
      for (const part of out as ReadonlyArray<GenAI.StreamPart>) {
        if (part.type === "text-delta") choices.add(part.choice ?? 0)
      }
    }
    assert.strictEqual(choices.size, 16)
  })

  it("memory stays bounded: the thought signatures kept are the newest 512, an oversized one not at all", () => {
    const store = makeSignatureStore()
    for (let i = 0; i < 5000; i++) store.remember("f", { i }, `sig-${i}`)
    assert.isUndefined(store.recall("f", { i: 0 }))
    assert.isUndefined(store.recall("f", { i: 4487 }))
    assert.strictEqual(store.recall("f", { i: 4488 }), "sig-4488")
    assert.strictEqual(store.recall("f", { i: 4999 }), "sig-4999")
    store.remember("g", {}, "x".repeat(70 * 1024))
    assert.isUndefined(store.recall("g", {}))
  })
})
