/**
 * The ready-made providers against a local server that speaks each provider's documented wire
 * format (`test/support/provider-server.ts`, transcripts in `test/fixtures/wire.ts`): what is sent,
 * how the reply maps onto the GenAI conventions, streaming (TTFT, exactly-once end, early stop),
 * retries, provider errors, hostile responses, API keys and URL credentials that never reach a
 * span, and the options checked when the layer is built.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { Anthropic, ChatModel, Embedder, type GenAI, OpenAI, Pipeline, Testing, Tracing } from "../src/index.ts"
import { defineLayerFromConfig } from "../src/internal/providerKit.ts"
import {
  anthropicMessage,
  anthropicTextStream,
  anthropicToolStream,
  openaiCompletion,
  openaiTextStream,
  openaiToolStream
} from "./fixtures/wire.ts"
import { closedPort, libraryWarnings, runFixture, showRun } from "./support/processes.ts"
import { data, event, makeProviderServer, type ProviderServer, type Reply } from "./support/provider-server.ts"
import {
  askExit,
  assertErrorSpan,
  assertErrorStatus,
  chat,
  chatFailureOf as failureOf,
  childrenOf,
  everyString,
  hugeBody,
  hugeEvent,
  neverAnswers,
  onlyChatSpan,
  question,
  retryEvent,
  seconds,
  stream,
  typedFailureOf,
  type UntrustedCase,
  untrustedLimits
} from "./support/provider-tests.ts"
import { makeReceiver } from "./support/receiver.ts"

const KEY = "sk-test-0123456789-SECRET-abcdef"
const tools = [{
  type: "function",
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { location: { type: "string" } } }
}]

const limits = { apiKey: Redacted.make(KEY), maxRetries: 2, timeout: "5 seconds", idleTimeout: "1 second" } as const

const openai = (server: ProviderServer, options: Partial<OpenAI.Options> = {}) =>
  OpenAI.layer({ model: "gpt-4o-mini", baseUrl: `${server.url}/v1`, ...limits, ...options }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )
const anthropic = (server: ProviderServer, options: Partial<Anthropic.Options> = {}) =>
  Anthropic.layer({ model: "claude-sonnet-4-5", baseUrl: server.url, ...limits, ...options }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )

const configFailureOf = (exit: Exit.Exit<unknown, unknown>): OpenAI.ProviderConfigError => {
  const error = typedFailureOf(exit)
  assert.instanceOf(error, OpenAI.ProviderConfigError)
  return error as OpenAI.ProviderConfigError
}

describe("OpenAI-compatible provider", () => {
  it.live("a chat call: the wire request, and a `chat {model}` CLIENT span with the HTTP span beneath", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: openaiCompletion })
      const reply = yield* chat({ messages: [question], tools, temperature: 0.2, maxTokens: 300, seed: 7 }).pipe(
        Effect.provide(openai(server, { headers: { "openai-organization": "org-test" } }))
      )
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "call_Dn2RJJSxzDm49vlVTehseJ0k",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])
      assert.strictEqual(reply.finishReason, "tool_call")

      const sent = server.received[0]!
      assert.strictEqual(sent.path, "/v1/chat/completions")
      assert.strictEqual(sent.headers.authorization, `Bearer ${KEY}`)
      assert.strictEqual(sent.headers["openai-organization"], "org-test")
      assert.deepStrictEqual(sent.body.messages, [{ role: "user", content: "What is the weather in Lisbon?" }])
      assert.strictEqual(sent.body.tools[0].function.name, "get_weather")
      assert.strictEqual(sent.body.max_tokens, 300)
      assert.isUndefined(sent.body.stream)

      const spans = yield* Testing.finishedSpans
      const span = Testing.expectTree(spans, {
        name: "chat gpt-4o-mini",
        kind: "client",
        status: "unset",
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o-mini",
          "gen_ai.request.temperature": 0.2,
          "gen_ai.request.max_tokens": 300,
          "gen_ai.request.seed": 7,
          "server.address": "127.0.0.1",
          "server.port": Number(new URL(server.url).port),
          "gen_ai.response.id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
          "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
          "gen_ai.response.finish_reasons": ["tool_call"],
          "gen_ai.usage.input_tokens": 82,
          "gen_ai.usage.output_tokens": 17,
          "gen_ai.usage.cache_read.input_tokens": 64,
          "gen_ai.usage.reasoning.output_tokens": 5,
          "openai.api.type": "chat_completions",
          "openai.response.service_tier": "default",
          "openai.response.system_fingerprint": "fp_06737a9306"
        },
        absent: [
          "gen_ai.request.stream",
          "gen_ai.input.messages",
          "gen_ai.output.messages",
          "error.type",
          // The request names no output type, and the tier it asked for is none.
          "gen_ai.output.type",
          "openai.request.service_tier",
          "gen_ai.usage.cache_creation.input_tokens"
        ],
        children: [{ name: "POST", kind: "client", attributes: { "http.response.status_code": 200 } }]
      })
      assert.strictEqual(span.kind, SpanKind.CLIENT)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a streamed call: tool-call deltas assembled, usage-only final chunk, TTFT within the span, one span", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: openaiToolStream, delayMs: 15 })
      const parts = yield* stream({ messages: [question], tools }).pipe(
        Stream.runCollect,
        Effect.provide(openai(server))
      )
      assert.strictEqual(server.received[0]!.body.stream, true)
      assert.deepStrictEqual(server.received[0]!.body.stream_options, { include_usage: true })

      const reply = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.strictEqual(reply.text, "Checking the weather.")
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "call_abc123",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])
      assert.strictEqual(reply.finishReason, "tool_call")
      assert.deepStrictEqual(reply.usage, {
        inputTokens: 82,
        outputTokens: 17,
        cacheReadInputTokens: 64,
        reasoningOutputTokens: 0
      })

      const spans = yield* Testing.finishedSpans
      const span = onlyChatSpan(spans)
      Testing.expectTree(spans, {
        name: "chat gpt-4o-mini",
        kind: "client",
        status: "unset",
        attributes: {
          "gen_ai.request.stream": true,
          "gen_ai.response.id": "chatcmpl-stream-1",
          "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
          "gen_ai.response.finish_reasons": ["tool_call"],
          "gen_ai.usage.input_tokens": 82,
          "gen_ai.usage.output_tokens": 17,
          "gen_ai.usage.cache_read.input_tokens": 64,
          "beluga.stream.content_chunks": 6,
          "openai.api.type": "chat_completions",
          "openai.response.system_fingerprint": "fp_06737a9306"
        },
        absent: [
          "openai.response.service_tier",
          "gen_ai.output.type",
          "beluga.stream.abandoned",
          "gen_ai.output.messages",
          "gen_ai.input.messages",
          "effect.fiber.interrupted"
        ],
        children: [{ name: "POST", kind: "client" }]
      })
      const ttft = span.attributes["gen_ai.response.time_to_first_chunk"]
      assert.isNumber(ttft)
      assert.isAbove(ttft as number, 0)
      // The first content arrives after the second chunk, 30 ms in; the whole stream takes 150 ms.
      assert.isAtMost(ttft as number, seconds(span))
    }).pipe(Effect.provide(Testing.layer())))

  it.live("with content capture on, the assembled output message is recorded as the conventions' JSON", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: openaiToolStream })
      yield* stream({ messages: [question], tools }).pipe(Stream.runDrain, Effect.provide(openai(server)))
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      assert.deepStrictEqual(JSON.parse(span.attributes["gen_ai.output.messages"] as string), [{
        role: "assistant",
        parts: [
          { type: "text", content: "Checking the weather." },
          { type: "tool_call", name: "get_weather", id: "call_abc123", arguments: { location: "Lisbon" } }
        ],
        finish_reason: "tool_call"
      }])
      assert.deepStrictEqual(JSON.parse(span.attributes["gen_ai.input.messages"] as string), [question])
      assert.strictEqual(JSON.parse(span.attributes["gen_ai.tool.definitions"] as string)[0].name, "get_weather")
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("with capture on, a long stream's recorded output stays within the content limit, as valid JSON", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: [openaiTextStream(3000).join("")] })
      const parts = yield* stream({ messages: [question] }).pipe(Stream.runCollect, Effect.provide(openai(server)))
      assert.strictEqual(parts.filter((p) => p.type === "text-delta").length, 3000)
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      const recorded = span.attributes["gen_ai.output.messages"] as string
      assert.isAtMost(recorded.length, 2000)
      assert.strictEqual(JSON.parse(recorded)[0].finish_reason, "stop")
      assert.strictEqual(span.attributes["beluga.stream.content_chunks"], 3000)
    }).pipe(Effect.provide(Testing.layer({ captureContent: true, maxContentLength: 2000 }))))

  it.live("a consumer that stops early ends the span once, marked abandoned, with what was known; the connection is closed", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: openaiTextStream(200), delayMs: 5 })
      const taken = yield* stream({ messages: [question] }).pipe(
        Stream.filter((p) => p.type === "text-delta"),
        Stream.take(3),
        Stream.runCollect,
        Effect.provide(openai(server))
      )
      assert.strictEqual(taken.length, 3)
      yield* Effect.sleep("100 millis")
      const spans = yield* Testing.finishedSpans
      const span = onlyChatSpan(spans)
      Testing.expectTree(spans, {
        name: "chat gpt-4o-mini",
        status: "unset",
        attributes: {
          "beluga.stream.abandoned": true,
          "gen_ai.response.id": "chatcmpl-stream-1",
          "beluga.stream.content_chunks": 3
        },
        absent: ["gen_ai.response.finish_reasons", "gen_ai.usage.output_tokens", "error.type"]
      })
      assert.isNumber(span.attributes["gen_ai.response.time_to_first_chunk"])
      assert.strictEqual(server.clientHangups, 1, "the HTTP response was aborted, not read to the end")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("interrupted mid-stream (a lost race): one span, abandoned and interrupted, not an error", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: openaiTextStream(500), delayMs: 10 })
      const fiber = yield* stream({ messages: [question] }).pipe(
        Stream.runDrain,
        Effect.provide(openai(server)),
        Effect.forkChild
      )
      yield* Effect.sleep("120 millis")
      yield* Fiber.interrupt(fiber)
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      assert.strictEqual(span.attributes["beluga.stream.abandoned"], true)
      assert.strictEqual(span.attributes["effect.fiber.interrupted"], true)
      assert.strictEqual(span.status.code, SpanStatusCode.UNSET)
      assert.isAbove(span.attributes["beluga.stream.content_chunks"] as number, 0)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("with capture off, no prompt, completion, tool argument or key appears in any span", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply(
        { kind: "sse", chunks: openaiToolStream },
        { kind: "json", body: openaiCompletion }
      )
      yield* stream({ messages: [question], tools }).pipe(Stream.runDrain, Effect.provide(openai(server)))
      yield* chat({ messages: [question], tools }).pipe(Effect.provide(openai(server)))
      const strings = everyString(yield* Testing.finishedSpans)
      for (const secret of ["Lisbon", "Checking", "weather", KEY, "location"]) {
        assert.notInclude(strings, secret)
      }
    }).pipe(Effect.provide(Testing.layer())))

  it.live("429 with retry-after is retried after the delay asked for; each attempt is a span, the retry an event", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply(
        {
          kind: "json",
          status: 429,
          headers: { "retry-after": "0.2" },
          body: { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }
        },
        { kind: "json", body: openaiCompletion }
      )
      const started = Date.now()
      yield* chat({ messages: [question] }).pipe(Effect.provide(openai(server)))
      assert.isAtLeast(Date.now() - started, 190)
      const spans = yield* Testing.finishedSpans
      const span = onlyChatSpan(spans)
      const attempts = childrenOf(spans, span)
      assert.deepStrictEqual(attempts.map((s) => s.attributes["http.response.status_code"]), [429, 200])
      assert.strictEqual(attempts[0]!.status.code, SpanStatusCode.ERROR)
      Testing.expectTree(spans, {
        name: "chat gpt-4o-mini",
        status: "unset",
        events: [retryEvent("rate_limit_exceeded", 200)]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("5xx are retried up to the limit, then the call fails with the provider's code and the HTTP status", () =>
    Effect.gen(function*() {
      const overloaded = {
        kind: "json" as const,
        status: 503,
        headers: { "retry-after-ms": "10" },
        body: { error: { message: "The server is overloaded", type: "server_error", code: null } }
      }
      const server = (yield* makeProviderServer).reply(overloaded, overloaded, overloaded)
      const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(openai(server)), Effect.exit))
      assert.strictEqual(error.errorType, "server_error")
      assert.strictEqual(error.status, 503)
      assert.strictEqual(server.received.length, 3)
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "chat gpt-4o-mini",
        status: "error",
        attributes: { "error.type": "server_error" },
        events: [{ name: "beluga.provider.retry" }, { name: "beluga.provider.retry" }]
      })
      assert.strictEqual(childrenOf(spans, onlyChatSpan(spans)).length, 3)
    }).pipe(Effect.provide(Testing.layer())))

  it.live.each([
    {
      status: 400,
      code: "invalid_request_error",
      body: { error: { message: "bad", type: "invalid_request_error", code: null } }
    },
    {
      status: 401,
      code: "invalid_api_key",
      body: {
        error: { message: `Incorrect API key provided: ${KEY}`, type: "invalid_request_error", code: "invalid_api_key" }
      }
    },
    {
      status: 404,
      code: "model_not_found",
      body: { error: { message: "The model does not exist", type: "invalid_request_error", code: "model_not_found" } }
    }
  ])(
    "$status is not retried: error.type $code, status kept, the key never echoed",
    ({ body, code, status }) =>
      Effect.gen(function*() {
        const server = (yield* makeProviderServer).reply({ kind: "json", status, body })
        const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(openai(server)), Effect.exit))
        assertErrorStatus(error, code, status)
        assert.notInclude(error.message, KEY)
        assert.strictEqual(server.received.length, 1)
        const spans = yield* Testing.finishedSpans
        assertErrorSpan(onlyChatSpan(spans), code)
        assert.notInclude(everyString(spans), KEY)
      }).pipe(Effect.provide(Testing.layer()))
  )

  it.live("a retry-after longer than the limit is not waited for", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "json",
        status: 429,
        headers: { "retry-after": "3600" },
        body: { error: { message: "quota", type: "insufficient_quota", code: "insufficient_quota" } }
      })
      const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(openai(server)), Effect.exit))
      assert.strictEqual(error.errorType, "insufficient_quota")
      assert.strictEqual(server.received.length, 1)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("an error in the middle of a stream fails it with the provider's code; what came before is kept", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "sse",
        chunks: [
          ...openaiTextStream(3).slice(0, 3),
          data({ error: { message: "The server had an error", type: "server_error", code: "internal_error" } })
        ]
      })
      const error = failureOf(
        yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.provide(openai(server)), Effect.exit)
      )
      assert.strictEqual(error.errorType, "internal_error")
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      assert.strictEqual(span.attributes["error.type"], "internal_error")
      assert.strictEqual(span.attributes["gen_ai.response.id"], "chatcmpl-stream-1")
      assert.strictEqual(span.attributes["beluga.stream.content_chunks"], 2)
      assert.notProperty(span.attributes, "beluga.stream.abandoned")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("embeddings: `embeddings {model}` with dimensions and usage, vectors in input order", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "json",
        body: {
          object: "list",
          data: [
            { object: "embedding", index: 1, embedding: [0.5, 0.5, 0.7071] },
            { object: "embedding", index: 0, embedding: [1, 0, 0] }
          ],
          model: "text-embedding-3-small",
          usage: { prompt_tokens: 8, total_tokens: 8 }
        }
      })
      const result = yield* Effect.flatMap(Effect.service(Embedder.Embedder), (e) => e.embed(["first", "second"])).pipe(
        Effect.provide(openai(server, { dimensions: 3 }))
      )
      assert.deepStrictEqual(result.vectors, [[1, 0, 0], [0.5, 0.5, 0.7071]])
      assert.deepStrictEqual(server.received[0]!.body, {
        model: "text-embedding-3-small",
        input: ["first", "second"],
        encoding_format: "float",
        dimensions: 3
      })
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "embeddings text-embedding-3-small",
        kind: "client",
        attributes: {
          "gen_ai.operation.name": "embeddings",
          "gen_ai.provider.name": "openai",
          "gen_ai.embeddings.dimension.count": 3,
          "gen_ai.usage.input_tokens": 8,
          "server.address": "127.0.0.1"
        },
        children: [{ name: "POST" }]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("an OpenAI-compatible server is named by `provider`", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: openaiCompletion })
      yield* chat({ messages: [question] }).pipe(
        Effect.provide(openai(server, { provider: "groq", model: "llama-3.3-70b" }))
      )
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat llama-3.3-70b",
        attributes: { "gen_ai.provider.name": "groq", "gen_ai.request.model": "llama-3.3-70b" },
        // `openai.*` attributes belong to OpenAI's own endpoint (gen_ai.provider.name discriminates).
        absent: ["openai.api.type", "openai.response.service_tier", "openai.response.system_fingerprint"]
      })
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Anthropic provider", () => {
  it.live("a chat call: headers, the Messages body, usage with cache tokens added into input", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: anthropicMessage })
      const reply = yield* chat({
        systemInstructions: [{ type: "text", content: "Be brief." }],
        messages: [question],
        tools,
        topP: 0.9
      }).pipe(Effect.provide(anthropic(server)))
      assert.strictEqual(reply.text, "Lisbon is mild today.")
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "toolu_01A09q90qw90lq917835lq9",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])

      const sent = server.received[0]!
      assert.strictEqual(sent.path, "/v1/messages")
      assert.strictEqual(sent.headers["x-api-key"], KEY)
      assert.strictEqual(sent.headers["anthropic-version"], "2023-06-01")
      assert.isUndefined(sent.headers.authorization)
      assert.strictEqual(sent.body.system, "Be brief.")
      assert.strictEqual(sent.body.max_tokens, 4096)
      assert.deepStrictEqual(sent.body.messages, [{
        role: "user",
        content: [{ type: "text", text: "What is the weather in Lisbon?" }]
      }])
      assert.strictEqual(sent.body.tools[0].input_schema.type, "object")

      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat claude-sonnet-4-5",
        kind: "client",
        status: "unset",
        attributes: {
          "gen_ai.provider.name": "anthropic",
          "gen_ai.request.top_p": 0.9,
          "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
          "gen_ai.response.model": "claude-sonnet-4-5-20250929",
          "gen_ai.response.finish_reasons": ["tool_call"],
          "gen_ai.usage.input_tokens": 135,
          "gen_ai.usage.output_tokens": 42,
          "gen_ai.usage.cache_read.input_tokens": 100,
          "gen_ai.usage.cache_creation.input_tokens": 10
        },
        children: [{ name: "POST" }]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a tool call in the history whose arguments are JSON text is sent with them as the tool_use input", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: anthropicMessage })
      yield* chat({
        messages: [
          question,
          {
            role: "assistant",
            parts: [{ type: "tool_call", id: "toolu_1", name: "get_weather", arguments: "{\"location\":\"Lisbon\"}" }]
          },
          { role: "tool", parts: [{ type: "tool_call_response", id: "toolu_1", response: { forecast: "mild" } }] }
        ],
        tools
      }).pipe(Effect.provide(anthropic(server)))
      assert.deepStrictEqual(server.received[0]!.body.messages[1], {
        role: "assistant",
        content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { location: "Lisbon" } }]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a streamed call: the whole event sequence, thinking and a tool call, pings and unknown events skipped", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: anthropicToolStream, delayMs: 5 })
      const parts = yield* stream({ messages: [question], tools }).pipe(
        Stream.runCollect,
        Effect.provide(anthropic(server))
      )
      const reply = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.strictEqual(reply.text, "Let me check the weather.")
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])
      assert.deepStrictEqual(
        parts.filter((p): p is Extract<GenAI.StreamPart, { type: "reasoning-delta" }> => p.type === "reasoning-delta")
          .map((p) => p.delta),
        ["The user wants the weather."]
      )

      const span = Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat claude-sonnet-4-5",
        attributes: {
          "gen_ai.request.stream": true,
          "gen_ai.response.id": "msg_stream_1",
          "gen_ai.response.finish_reasons": ["tool_call"],
          "gen_ai.usage.input_tokens": 135,
          "gen_ai.usage.output_tokens": 89,
          "gen_ai.usage.cache_read.input_tokens": 100,
          "gen_ai.usage.cache_creation.input_tokens": 10
        },
        absent: ["beluga.stream.abandoned", "error.type"]
      })
      const ttft = span.attributes["gen_ai.response.time_to_first_chunk"] as number
      assert.isAbove(ttft, 0)
      assert.isAtMost(ttft, seconds(span))
    }).pipe(Effect.provide(Testing.layer())))

  it.live("with capture on, thinking, text and the tool call are recorded in one output message", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: anthropicToolStream })
      yield* stream({ messages: [question], tools }).pipe(Stream.runDrain, Effect.provide(anthropic(server)))
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      assert.deepStrictEqual(JSON.parse(span.attributes["gen_ai.output.messages"] as string), [{
        role: "assistant",
        parts: [
          { type: "reasoning", content: "The user wants the weather." },
          { type: "text", content: "Let me check the weather." },
          {
            type: "tool_call",
            name: "get_weather",
            id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
            arguments: { location: "Lisbon" }
          }
        ],
        finish_reason: "tool_call"
      }])
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("529 overloaded_error is retried; an `error` event mid-stream fails the stream with its type", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply(
        {
          kind: "json",
          status: 529,
          body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }
        },
        {
          kind: "sse",
          chunks: [
            ...anthropicTextStream(5).slice(0, 4),
            event("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } })
          ]
        }
      )
      const error = failureOf(
        yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.provide(anthropic(server)), Effect.exit)
      )
      assert.strictEqual(error.errorType, "overloaded_error")
      assert.strictEqual(server.received.length, 2)
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "chat claude-sonnet-4-5",
        status: "error",
        attributes: {
          "error.type": "overloaded_error",
          "gen_ai.response.id": "msg_long",
          "beluga.stream.content_chunks": 2
        },
        events: [{
          name: "beluga.provider.retry",
          attributes: { "http.response.status_code": 529, "error.type": "overloaded_error" }
        }]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a stream stopped early after the first delta: one span, abandoned, usage known so far", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "sse", chunks: anthropicTextStream(100), delayMs: 5 })
      yield* stream({ messages: [question] }).pipe(
        Stream.takeUntil((p) => p.type === "text-delta"),
        Stream.runDrain,
        Effect.provide(anthropic(server))
      )
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat claude-sonnet-4-5",
        status: "unset",
        attributes: {
          "beluga.stream.abandoned": true,
          "gen_ai.usage.input_tokens": 9,
          "beluga.stream.content_chunks": 1
        },
        absent: ["gen_ai.response.finish_reasons"]
      })
    }).pipe(Effect.provide(Testing.layer())))
})

describe("provider responses are untrusted", () => {
  const cases: ReadonlyArray<UntrustedCase<Reply>> = [
    {
      name: "malformed JSON body",
      reply: { kind: "raw", body: "{\"id\": \"x\", \"choices\": [" },
      streamed: false,
      errorType: "invalid_response"
    },
    {
      name: "JSON that is not a completion",
      reply: { kind: "json", body: { hello: "world" } },
      streamed: false,
      errorType: "invalid_response"
    },
    hugeBody,
    hugeEvent,
    {
      name: "a malformed SSE data line",
      reply: {
        kind: "sse",
        chunks: ["data: {\"id\": \"chatcmpl-1\", \"choices\": [{\"delta\": {\"content\": \"hi\"\n\n"]
      },
      streamed: true,
      errorType: "invalid_response"
    },
    {
      name: "a stream that ends before [DONE]",
      reply: { kind: "sse", chunks: openaiTextStream(5).slice(0, 4) },
      streamed: true,
      errorType: "incomplete_stream"
    },
    {
      name: "a stream truncated mid-line",
      reply: {
        kind: "sse",
        chunks: [...openaiTextStream(5).slice(0, 3), "data: {\"id\":\"chatcmpl-stream-1\",\"choi"]
      },
      streamed: true,
      errorType: "incomplete_stream"
    },
    {
      name: "a connection cut mid-stream",
      reply: { kind: "sse", chunks: openaiTextStream(5).slice(0, 3), ending: "cut" },
      streamed: true,
      errorType: "connection_error"
    },
    {
      name: "a stream that stalls",
      reply: { kind: "sse", chunks: openaiTextStream(5).slice(0, 3), ending: "stall" },
      streamed: true,
      errorType: "timeout"
    },
    neverAnswers,
    {
      // Each piece comes within the idle timeout, but the whole body takes longer than `timeout`.
      name: "a plain body that trickles in past the timeout",
      reply: { kind: "sse", chunks: JSON.stringify(openaiCompletion).match(/[^]{1,80}/g)!.slice(0, 12), delayMs: 200 },
      streamed: false,
      errorType: "timeout"
    }
  ]

  it.live.each(cases)(
    "$name → a typed $errorType, the span ends with ERROR and error.type",
    ({ errorType, reply, streamed }) =>
      Effect.gen(function*() {
        const server = (yield* makeProviderServer).reply(reply)
        const exit = yield* askExit(openai(server, untrustedLimits), streamed)
        assert.strictEqual(failureOf(exit).errorType, errorType)
        assertErrorSpan(onlyChatSpan(yield* Testing.finishedSpans), errorType)
      }).pipe(Effect.provide(Testing.layer()))
  )

  it.live("a refused connection is retried, then fails with connection_error", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => closedPort())
      const layer = OpenAI.layer({
        model: "gpt-4o-mini",
        baseUrl: `http://127.0.0.1:${port}/v1`,
        ...limits,
        maxRetries: 1
      })
        .pipe(Layer.provide(FetchHttpClient.layer))
      const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(layer), Effect.exit))
      assert.strictEqual(error.errorType, "connection_error")
      assert.include(error.message, "ECONNREFUSED")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        status: "error",
        attributes: { "error.type": "connection_error", "server.port": port },
        events: [{ name: "beluga.provider.retry", attributes: { "error.type": "connection_error" } }]
      })
    }).pipe(Effect.provide(Testing.layer())))
})

describe("API keys on the wire", () => {
  it.live("exported over OTLP with content capture on, no span carries the key, even where a provider echoed it", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const server = (yield* makeProviderServer).reply(
        { kind: "sse", chunks: openaiToolStream },
        {
          kind: "json",
          status: 401,
          body: {
            error: {
              message: `Incorrect API key provided: ${KEY}`,
              type: "invalid_request_error",
              code: "invalid_api_key"
            }
          }
        },
        { kind: "sse", chunks: anthropicToolStream },
        {
          kind: "json",
          status: 400,
          body: { type: "error", error: { type: "invalid_request_error", message: `bad key ${KEY}` } }
        }
      )
      const program = Effect.gen(function*() {
        yield* stream({ messages: [question], tools }).pipe(Stream.runDrain, Effect.provide(openai(server)))
        yield* chat({ messages: [question] }).pipe(Effect.provide(openai(server)), Effect.ignore)
        yield* stream({ messages: [question], tools }).pipe(Stream.runDrain, Effect.provide(anthropic(server)))
        yield* chat({ messages: [question] }).pipe(Effect.provide(anthropic(server)), Effect.ignore)
      }).pipe(Pipeline.run("agent-workflow"))
      yield* program.pipe(
        Effect.provide(Tracing.layer({ endpoint: receiver.url, protocol: "http/json", captureContent: true }))
      )
      receiver.assertDecoded()
      const spans = receiver.requests.flatMap((request) => request.spans)
      assert.sameMembers(spans.map((span) => span.name), [
        "agent-workflow",
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",
        "chat claude-sonnet-4-5",
        "chat claude-sonnet-4-5",
        "POST",
        "POST",
        "POST",
        "POST"
      ])
      const exported = JSON.stringify(spans, (_, value) => typeof value === "bigint" ? String(value) : value)
      // Content capture is on, so the prompt is there; the key is not, in any form.
      assert.include(exported, "What is the weather in Lisbon?")
      assert.notInclude(exported, KEY)
      assert.notInclude(exported, KEY.slice(3))
      assert.include(exported, "<redacted>")
    }))
})

describe("a stalled stream and the program's exit", () => {
  it.live("SIGTERM while the answer hangs: the request is aborted, the chat span flushed as abandoned, exit 130 at once", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const server = (yield* makeProviderServer).reply({
        kind: "sse",
        chunks: openaiTextStream(5).slice(0, 3),
        ending: "stall"
      })
      const run = yield* Effect.promise(() =>
        runFixture("stalled-stream", {
          runner: "node",
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PROVIDER_URL: server.url },
          signal: { when: /^FIRST_CHUNK$/, signal: "SIGTERM" },
          timeoutMs: 30_000
        })
      )
      assert.strictEqual(run.code, 130, showRun(run))
      assert.isFalse(run.timedOut)
      assert.deepStrictEqual(libraryWarnings(run.stderr), [], showRun(run))
      assert.strictEqual(server.clientHangups, 1, "the stalled HTTP response was aborted")
      receiver.assertDecoded()
      const spans = receiver.requests.flatMap((request) => request.spans)
      assert.sameMembers(spans.map((span) => span.name), ["agent-workflow", "chat gpt-4o-mini", "POST"])
      const chatSpan = spans.find((span) => span.name === "chat gpt-4o-mini")!
      assert.deepStrictEqual(chatSpan.attributes["beluga.stream.abandoned"], { type: "bool", value: true })
      assert.deepStrictEqual(chatSpan.attributes["effect.fiber.interrupted"], { type: "bool", value: true })
      assert.deepStrictEqual(chatSpan.attributes["gen_ai.response.id"], { type: "string", value: "chatcmpl-stream-1" })
      assert.strictEqual(chatSpan.status.code, 0, "an interruption is not an error")
    }))
})

/** A Chat Completions chunk as OpenAI streams it (`object: "chat.completion.chunk"`). */
const completionChunk = (choices: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) =>
  data({
    id: "chatcmpl-n3",
    object: "chat.completion.chunk",
    created: 1741569952,
    model: "gpt-4o-mini-2024-07-18",
    system_fingerprint: "fp_06737a9306",
    service_tier: "default",
    choices,
    usage: null,
    ...extra
  })

const outputMessagesOf = (span: ReadableSpan) => JSON.parse(span.attributes["gen_ai.output.messages"] as string)

describe("OpenAI replies beyond one choice of text and tool calls", () => {
  // The legacy `functions` format: `message.function_call` {name, arguments}, no id, finish `function_call`.
  const legacyCompletion = {
    id: "chatcmpl-legacy-1",
    object: "chat.completion",
    created: 1686876436,
    model: "gpt-3.5-turbo-0613",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: null,
        function_call: { name: "get_weather", arguments: "{\n  \"location\": \"Lisbon\"\n}" }
      },
      finish_reason: "function_call"
    }],
    usage: { prompt_tokens: 82, completion_tokens: 18, total_tokens: 100 }
  }
  const legacyCall = { type: "tool_call", name: "get_weather", id: "call_0", arguments: { location: "Lisbon" } }

  it.live("a legacy function_call reply is a tool call (id call_0), recorded in the output message", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: legacyCompletion })
      const reply = yield* chat({ messages: [question], tools }).pipe(Effect.provide(openai(server)))
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "call_0",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])
      assert.strictEqual(reply.finishReason, "tool_call")
      assert.strictEqual(reply.text, "")
      const span = Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        attributes: {
          "gen_ai.response.finish_reasons": ["tool_call"],
          "gen_ai.usage.input_tokens": 82,
          "gen_ai.usage.output_tokens": 18
        },
        // Not reported, so not recorded (never a 0 for a field the reply left out).
        absent: ["gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.reasoning.output_tokens"]
      })
      assert.deepStrictEqual(outputMessagesOf(span), [{
        role: "assistant",
        parts: [legacyCall],
        finish_reason: "tool_call"
      }])
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("a streamed legacy function_call (delta.function_call fragments) is the same tool call", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "sse",
        chunks: [
          completionChunk([{ index: 0, delta: { role: "assistant", content: null }, finish_reason: null }]),
          completionChunk([{
            index: 0,
            delta: { function_call: { name: "get_weather", arguments: "" } },
            finish_reason: null
          }]),
          completionChunk([{ index: 0, delta: { function_call: { arguments: "{\"loc" } }, finish_reason: null }]),
          completionChunk([{
            index: 0,
            delta: { function_call: { arguments: "ation\": \"Lisbon\"}" } },
            finish_reason: null
          }]),
          completionChunk([{ index: 0, delta: {}, finish_reason: "function_call" }]),
          data("[DONE]")
        ]
      })
      const parts = yield* stream({ messages: [question], tools }).pipe(
        Stream.runCollect,
        Effect.provide(openai(server))
      )
      const reply = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "call_0",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])
      assert.strictEqual(reply.finishReason, "tool_call")
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["tool_call"])
      assert.deepStrictEqual(outputMessagesOf(span), [{
        role: "assistant",
        parts: [legacyCall],
        finish_reason: "tool_call"
      }])
      // No usage chunk came: no usage is recorded, not zeros.
      assert.notProperty(span.attributes, "gen_ai.usage.input_tokens")
      assert.notProperty(span.attributes, "gen_ai.usage.output_tokens")
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  // `n: 3`: three choices, listed out of index order, each with its own finish reason.
  const threeChoices = {
    id: "chatcmpl-n3",
    object: "chat.completion",
    created: 1741569952,
    model: "gpt-4o-mini-2024-07-18",
    choices: [
      {
        index: 2,
        message: {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "call_n3",
            type: "function",
            function: { name: "get_weather", arguments: "{\"location\":\"Lisbon\"}" }
          }]
        },
        logprobs: null,
        finish_reason: "tool_calls"
      },
      {
        index: 0,
        message: { role: "assistant", content: "Mild, 21 °C.", refusal: null },
        logprobs: null,
        finish_reason: "stop"
      },
      {
        index: 1,
        message: { role: "assistant", content: "Lisbon is", refusal: null },
        logprobs: null,
        finish_reason: "length"
      }
    ],
    usage: { prompt_tokens: 14, completion_tokens: 40, total_tokens: 54 },
    service_tier: "default",
    system_fingerprint: "fp_06737a9306"
  }
  const threeMessages = [
    { role: "assistant", parts: [{ type: "text", content: "Mild, 21 °C." }], finish_reason: "stop" },
    { role: "assistant", parts: [{ type: "text", content: "Lisbon is" }], finish_reason: "length" },
    {
      role: "assistant",
      parts: [{ type: "tool_call", name: "get_weather", id: "call_n3", arguments: { location: "Lisbon" } }],
      finish_reason: "tool_call"
    }
  ]

  it.live("n = 3, not streamed: `n` is sent, every choice is an output message with its finish reason", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: threeChoices })
      const reply = yield* chat({ messages: [question], tools, choiceCount: 3 }).pipe(Effect.provide(openai(server)))
      assert.strictEqual(server.received[0]!.body.n, 3)
      assert.strictEqual(reply.text, "Mild, 21 °C.")
      assert.strictEqual(reply.finishReason, "stop")
      assert.deepStrictEqual(reply.outputMessages, threeMessages)
      const span = Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        attributes: {
          "gen_ai.request.choice.count": 3,
          "gen_ai.response.finish_reasons": ["stop", "length", "tool_call"]
        }
      })
      assert.deepStrictEqual(outputMessagesOf(span), threeMessages)
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("n = 3, streamed: each choice's deltas go to its own output message", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "sse",
        chunks: [
          completionChunk(
            [0, 1, 2].map((index) => ({ index, delta: { role: "assistant", content: "" }, finish_reason: null }))
          ),
          completionChunk([{ index: 0, delta: { content: "Mild," }, finish_reason: null }]),
          completionChunk([{ index: 1, delta: { content: "Lisbon" }, finish_reason: null }]),
          completionChunk([{
            index: 2,
            delta: {
              tool_calls: [{
                index: 0,
                id: "call_n3",
                type: "function",
                function: { name: "get_weather", arguments: "{\"location\":" }
              }]
            },
            finish_reason: null
          }]),
          completionChunk([
            { index: 0, delta: { content: " 21 °C." }, finish_reason: null },
            { index: 1, delta: { content: " is" }, finish_reason: null }
          ]),
          completionChunk([{
            index: 2,
            delta: { tool_calls: [{ index: 0, function: { arguments: "\"Lisbon\"}" } }] },
            finish_reason: null
          }]),
          completionChunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
          completionChunk([{ index: 1, delta: {}, finish_reason: "length" }]),
          completionChunk([{ index: 2, delta: {}, finish_reason: "tool_calls" }]),
          completionChunk([], { usage: { prompt_tokens: 14, completion_tokens: 40, total_tokens: 54 } }),
          data("[DONE]")
        ]
      })
      const parts = yield* stream({ messages: [question], tools, choiceCount: 3 }).pipe(
        Stream.runCollect,
        Effect.provide(openai(server))
      )
      assert.strictEqual(server.received[0]!.body.n, 3)
      for (const part of parts) {
        if (part.type === "text-delta" && part.delta.includes("Lisbon")) assert.strictEqual(part.choice, 1)
      }
      const reply = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.strictEqual(reply.text, "Mild, 21 °C.")
      assert.deepStrictEqual(reply.outputMessages, threeMessages)
      const span = Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        attributes: {
          "gen_ai.request.stream": true,
          "gen_ai.request.choice.count": 3,
          "gen_ai.response.finish_reasons": ["stop", "length", "tool_call"],
          "openai.response.service_tier": "default",
          "openai.response.system_fingerprint": "fp_06737a9306",
          "gen_ai.usage.output_tokens": 40
        }
      })
      assert.deepStrictEqual(outputMessagesOf(span), threeMessages)
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("a service tier option is sent and recorded (not when `auto`); a JSON request names its output type", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply(
        { kind: "json", body: { ...openaiCompletion, service_tier: "flex" } },
        { kind: "json", body: openaiCompletion }
      )
      const responseFormat = { type: "json" as const, name: "weather", schema: { type: "object" } }
      yield* chat({ messages: [question], responseFormat }).pipe(
        Effect.provide(openai(server, { serviceTier: "flex" }))
      )
      yield* chat({ messages: [question] }).pipe(Effect.provide(openai(server, { serviceTier: "auto" })))
      assert.deepStrictEqual(server.received.map((r) => r.body.service_tier), ["flex", "auto"])
      const [flex, auto] = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.strictEqual(flex!.attributes["openai.request.service_tier"], "flex")
      assert.strictEqual(flex!.attributes["openai.response.service_tier"], "flex")
      assert.strictEqual(flex!.attributes["gen_ai.output.type"], "json")
      assert.notProperty(auto!.attributes, "openai.request.service_tier")
      assert.notProperty(auto!.attributes, "gen_ai.output.type")
      assert.strictEqual(auto!.attributes["openai.api.type"], "chat_completions")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a compatible server's reasoning (`reasoning_content`) is the reply's reasoning, not streamed too", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "json",
        body: {
          id: "0d1f1e9a",
          object: "chat.completion",
          created: 1741569952,
          model: "deepseek-reasoner",
          choices: [{
            index: 0,
            message: { role: "assistant", content: "21 °C.", reasoning_content: "The user asks for Lisbon." },
            finish_reason: "stop"
          }],
          usage: {
            prompt_tokens: 10,
            completion_tokens: 30,
            total_tokens: 40,
            completion_tokens_details: { reasoning_tokens: 22 }
          }
        }
      })
      const reply = yield* chat({ messages: [question] }).pipe(
        Effect.provide(openai(server, { provider: "deepseek", model: "deepseek-reasoner" }))
      )
      assert.strictEqual(reply.reasoning, "The user asks for Lisbon.")
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      assert.strictEqual(span.attributes["gen_ai.usage.reasoning.output_tokens"], 22)
      assert.deepStrictEqual(outputMessagesOf(span)[0].parts, [
        { type: "reasoning", content: "The user asks for Lisbon." },
        { type: "text", content: "21 °C." }
      ])
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))
})

describe("Anthropic thinking and usage", () => {
  // Extended thinking, not streamed: a `thinking` block (with its signature), a `redacted_thinking`
  // block (encrypted `data` only), then the text.
  const SIGNATURE = "WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve"
  const REDACTED_DATA = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
  const thinkingMessage = {
    id: "msg_thinking_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [
      { type: "thinking", thinking: "The user wants Lisbon's weather.", signature: SIGNATURE },
      { type: "redacted_thinking", data: REDACTED_DATA },
      { type: "text", text: "Mild, 21 °C." }
    ],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 2000 }
  }

  it.live("thinking blocks are the reply's reasoning; redacted thinking and signatures are recorded nowhere", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: thinkingMessage })
      const reply = yield* chat({ messages: [question] }).pipe(Effect.provide(anthropic(server)))
      assert.strictEqual(reply.reasoning, "The user wants Lisbon's weather.")
      assert.strictEqual(reply.text, "Mild, 21 °C.")
      const spans = yield* Testing.finishedSpans
      const span = Testing.expectTree(spans, {
        name: "chat claude-sonnet-4-5",
        attributes: {
          "gen_ai.usage.input_tokens": 50,
          "gen_ai.usage.output_tokens": 2000,
          // Reported as 0, so recorded as 0.
          "gen_ai.usage.cache_read.input_tokens": 0
        },
        // Anthropic reports no separate count of thinking tokens: none is made up.
        absent: ["gen_ai.usage.reasoning.output_tokens"]
      })
      assert.deepStrictEqual(outputMessagesOf(span), [{
        role: "assistant",
        parts: [
          { type: "reasoning", content: "The user wants Lisbon's weather." },
          { type: "text", content: "Mild, 21 °C." }
        ],
        finish_reason: "stop"
      }])
      const strings = everyString(spans)
      assert.notInclude(strings, REDACTED_DATA)
      assert.notInclude(strings, SIGNATURE)
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("a message_delta that repeats input_tokens without the cache fields keeps input = input + cache", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "sse",
        chunks: [
          ...anthropicToolStream.slice(0, -2),
          event("message_delta", {
            type: "message_delta",
            delta: { stop_reason: "tool_use", stop_sequence: null },
            usage: {
              input_tokens: 25,
              cache_creation_input_tokens: null,
              cache_read_input_tokens: null,
              output_tokens: 89
            }
          }),
          event("message_stop", { type: "message_stop" })
        ]
      })
      yield* stream({ messages: [question], tools }).pipe(Stream.runDrain, Effect.provide(anthropic(server)))
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat claude-sonnet-4-5",
        attributes: {
          "gen_ai.usage.input_tokens": 135,
          "gen_ai.usage.cache_read.input_tokens": 100,
          "gen_ai.usage.cache_creation.input_tokens": 10,
          "gen_ai.usage.output_tokens": 89
        },
        absent: ["gen_ai.usage.reasoning.output_tokens"]
      })
    }).pipe(Effect.provide(Testing.layer())))
})

/** Runs `effect` with everything written to stdout, stderr and the console kept, and restored after. */
const capturingOutput = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const written: Array<string> = []
      const keep = (...args: ReadonlyArray<unknown>) => {
        written.push(args.map((arg) => typeof arg === "string" ? arg : String(arg)).join(" "))
      }
      const saved = {
        stdout: process.stdout.write,
        stderr: process.stderr.write,
        console: { ...console }
      }
      const write = ((chunk: unknown) => {
        keep(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"))
        return true
      }) as typeof process.stdout.write
      process.stdout.write = write
      process.stderr.write = write
      for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) console[method] = keep
      return { written, saved }
    }),
    ({ written }) => Effect.map(effect, (result) => [result, written] as const),
    ({ saved }) =>
      Effect.sync(() => {
        process.stdout.write = saved.stdout
        process.stderr.write = saved.stderr
        Object.assign(console, saved.console)
      })
  )

describe("credentials in a base URL", () => {
  const SECRET = "hunter2SECRET"
  const credentialUrl = `http://user:${SECRET}@127.0.0.1:59999/v1`
  const masked = "http://<redacted>@127.0.0.1:59999/v1"

  it.live("are refused when the layer is built: no request, and the secret is in no span, error or output", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const layer = OpenAI.layer({ model: "gpt-4o-mini", baseUrl: credentialUrl, apiKey: Redacted.make(KEY) }).pipe(
        Layer.provide(FetchHttpClient.layer)
      )
      const program = chat({ messages: [question] }).pipe(Effect.provide(layer), Pipeline.run("agent-workflow"))
      const [exit, written] = yield* capturingOutput(
        program.pipe(
          Effect.exit,
          Effect.provide(Tracing.layer({ endpoint: receiver.url, protocol: "http/json", captureContent: true }))
        )
      )
      const error = configFailureOf(exit)
      assert.strictEqual(error._tag, "ProviderConfigError")
      assert.strictEqual(error.variable, "baseUrl")
      assert.strictEqual(error.value, masked)
      assert.include(error.expected, "without a user name or password")
      assert.include(error.message, `baseUrl="${masked}" is invalid`)

      receiver.assertDecoded()
      const spans = receiver.requests.flatMap((request) => request.spans)
      // The layer failed before the call: the run's span, with the error; no chat, no HTTP attempt.
      assert.deepStrictEqual(spans.map((span) => span.name), ["agent-workflow"])
      const exported = JSON.stringify(spans, (_, value) => typeof value === "bigint" ? String(value) : value)
      assert.include(exported, "<redacted>@127.0.0.1:59999")
      for (
        const text of [exported, String(exit), error.message, error.stack ?? "", JSON.stringify(error), ...written]
      ) {
        assert.notInclude(text, SECRET)
        assert.notInclude(text, KEY)
      }
    }))

  it.live.each([
    {
      name: "Anthropic, streamed",
      layer: () => Anthropic.layer({ model: "claude-sonnet-4-5", baseUrl: `http://${SECRET}@127.0.0.1:59999` })
    },
    {
      name: "OPENAI_BASE_URL",
      layer: () =>
        OpenAI.layerFromConfig().pipe(
          Layer.provide(
            ConfigProvider.layer(
              ConfigProvider.fromEnv({ env: { OPENAI_BASE_URL: credentialUrl, OPENAI_API_KEY: KEY } })
            )
          )
        )
    }
  ])("$name: refused the same way, the variable named", ({ layer, name }) =>
    Effect.gen(function*() {
      const exit = yield* stream({ messages: [question] }).pipe(
        Stream.runDrain,
        Effect.provide(layer().pipe(Layer.provide(FetchHttpClient.layer))),
        Effect.exit
      )
      const error = configFailureOf(exit)
      assert.strictEqual(error.variable, name === "OPENAI_BASE_URL" ? "OPENAI_BASE_URL" : "baseUrl")
      assert.include(error.value, "<redacted>@127.0.0.1:59999")
      assert.notInclude(`${String(exit)}\n${error.message}`, SECRET)
      assert.deepStrictEqual(yield* Testing.finishedSpans, [])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a URL with credentials echoed in an error body is masked in the error and on the span", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({
        kind: "json",
        status: 400,
        body: {
          error: {
            message: `upstream http://admin:${SECRET}@10.0.0.7:8000/v1 refused the request`,
            type: "invalid_request_error",
            code: null
          }
        }
      })
      const error = failureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(openai(server)), Effect.exit))
      assert.include(error.message, "http://<redacted>@10.0.0.7:8000/v1")
      assert.notInclude(error.message, SECRET)
      assert.notInclude(everyString(yield* Testing.finishedSpans), SECRET)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a request the client cannot send (a body JSON cannot hold) is invalid_request, not retried, not a crash", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: openaiCompletion })
      const badTools = [{ type: "function", name: "count", parameters: { type: "object", default: 10n } }]
      const error = failureOf(
        yield* chat({ messages: [question], tools: badTools }).pipe(Effect.provide(openai(server)), Effect.exit)
      )
      assert.strictEqual(error.errorType, "invalid_request")
      assert.strictEqual(server.received.length, 0)
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        status: "error",
        attributes: { "error.type": "invalid_request" },
        events: []
      })
    }).pipe(Effect.provide(Testing.layer())))
})

/** Layers of two made-up providers: one needing a `region` no variable gives, one not. */
const needsRegion = (_: { readonly model: string; readonly region: string }) => Layer.empty
const mayHaveRegion = (_: { readonly model: string; readonly region?: string | undefined }) => Layer.empty

describe("provider options are checked when the layer is built", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly options: Record<string, unknown>
    readonly variable: string
    readonly value?: string
    readonly anthropic?: boolean
  }> = [
    {
      name: "a base URL that is not a URL",
      options: { baseUrl: "not a url" },
      variable: "baseUrl",
      value: "not a url"
    },
    { name: "a base URL that is not http(s)", options: { baseUrl: "ftp://127.0.0.1/v1" }, variable: "baseUrl" },
    { name: "a base URL with a query", options: { baseUrl: "http://127.0.0.1:1/v1?key=x" }, variable: "baseUrl" },
    {
      name: "credentials in a URL that does not parse",
      options: { baseUrl: "http://user:pa/ss@host" },
      variable: "baseUrl",
      value: "http://<redacted>@host"
    },
    { name: "an empty model", options: { model: " " }, variable: "model" },
    { name: "negative retries", options: { maxRetries: -1 }, variable: "maxRetries", value: "-1" },
    { name: "fractional retries", options: { maxRetries: 1.5 }, variable: "maxRetries" },
    { name: "a timeout that is not a duration", options: { timeout: "soon" }, variable: "timeout", value: "soon" },
    { name: "a zero idle timeout", options: { idleTimeout: 0 }, variable: "idleTimeout" },
    { name: "a negative retry delay", options: { maxRetryDelay: "-1 seconds" }, variable: "maxRetryDelay" },
    { name: "no bytes allowed", options: { maxResponseBytes: 0 }, variable: "maxResponseBytes" },
    { name: "a header name with a space", options: { headers: { "bad name": "x" } }, variable: "headers" },
    {
      name: "a header value on two lines",
      options: { headers: { "x-token": `${KEY}\r\nx-evil: 1` } },
      variable: "headers.x-token",
      value: "<redacted>"
    },
    { name: "a plain-string key", options: { apiKey: KEY }, variable: "apiKey", value: "<redacted>" },
    { name: "an empty key", options: { apiKey: Redacted.make("") }, variable: "apiKey" },
    { name: "zero dimensions", options: { dimensions: 0 }, variable: "dimensions" },
    { name: "an empty service tier", options: { serviceTier: "" }, variable: "serviceTier" },
    { name: "an empty provider name", options: { provider: "" }, variable: "provider" },
    { name: "no max tokens", options: { defaultMaxTokens: 0 }, variable: "defaultMaxTokens", anthropic: true },
    { name: "an empty API version", options: { version: "" }, variable: "version", anthropic: true }
  ]

  it.live.each(cases)(
    "$name → ProviderConfigError for $variable, before any request",
    (testCase) =>
      Effect.gen(function*() {
        const server = (yield* makeProviderServer).reply({ kind: "json", body: openaiCompletion })
        const layer = testCase.anthropic === true
          ? anthropic(server, testCase.options as Partial<Anthropic.Options>)
          : openai(server, testCase.options as Partial<OpenAI.Options>)
        const error = configFailureOf(yield* chat({ messages: [question] }).pipe(Effect.provide(layer), Effect.exit))
        assert.strictEqual(error.variable, testCase.variable)
        if (testCase.value !== undefined) assert.strictEqual(error.value, testCase.value)
        assert.isAbove(error.expected.length, 10)
        assert.include(error.message, `${testCase.variable}=`)
        assert.notInclude(error.message, KEY)
        assert.notInclude(error.message, "pa/ss")
        assert.strictEqual(server.received.length, 0)
      }).pipe(Effect.provide(Testing.layer()))
  )

  it.live("options in every accepted form build the layer (a URL object, a Duration, Infinity, 0 retries)", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply({ kind: "json", body: openaiCompletion })
      yield* chat({ messages: [question] }).pipe(
        Effect.provide(openai(server, {
          baseUrl: new URL(`${server.url}/v1/`),
          timeout: Duration.seconds(5),
          idleTimeout: "Infinity",
          maxRetries: 0,
          maxRetryDelay: 1000,
          headers: { "openai-project": "proj_1" }
        }))
      )
      assert.strictEqual(server.received[0]!.path, "/v1/chat/completions")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("layerFromConfig: variables give the options, empty ones count as unset, options win", () =>
    Effect.gen(function*() {
      const server = (yield* makeProviderServer).reply(
        { kind: "json", body: openaiCompletion },
        { kind: "json", body: openaiCompletion }
      )
      const env = {
        OPENAI_BASE_URL: `${server.url}/v1`,
        OPENAI_API_KEY: KEY,
        OPENAI_MODEL: "gpt-4.1-mini",
        OPENAI_PROVIDER_NAME: "",
        OPENAI_EMBEDDING_MODEL: ""
      }
      const fromEnv = (options: Partial<OpenAI.Options> = {}) =>
        OpenAI.layerFromConfig(options).pipe(
          Layer.provide(FetchHttpClient.layer),
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
        )
      yield* chat({ messages: [question] }).pipe(Effect.provide(fromEnv()))
      yield* chat({ messages: [question] }).pipe(Effect.provide(fromEnv({ model: "gpt-4o", apiKey: undefined })))
      assert.deepStrictEqual(server.received.map((r) => r.body.model), ["gpt-4.1-mini", "gpt-4o"])
      // An `undefined` option overrides no variable.
      assert.deepStrictEqual(server.received.map((r) => r.headers.authorization), [`Bearer ${KEY}`, `Bearer ${KEY}`])
      const chats = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.deepStrictEqual(chats.map((s) => s.attributes["gen_ai.provider.name"]), ["openai", "openai"])
    }).pipe(Effect.provide(Testing.layer())))

  it("layerFromConfig takes only a layer whose options need nothing but the model (checked by tsc)", () => {
    const variables = {
      apiKey: "K",
      baseUrl: "B",
      model: "M",
      defaultBaseUrl: "https://example.com",
      defaultModel: "m"
    }
    // @ts-expect-error a `region` the variables cannot give is required
    assert.isFunction(defineLayerFromConfig(variables, needsRegion))
    assert.isFunction(defineLayerFromConfig(variables, mayHaveRegion))
  })
})

describe("finish reasons from the wire", () => {
  it("a reason that names a prototype member stays a string, never a function", () => {
    for (const reason of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      assert.strictEqual(OpenAI.toFinishReason(reason), reason)
      assert.strictEqual(Anthropic.toFinishReason(reason), reason)
    }
    assert.strictEqual(OpenAI.toFinishReason("tool_calls"), "tool_call")
    assert.strictEqual(Anthropic.toFinishReason("max_tokens"), "length")
  })
})
