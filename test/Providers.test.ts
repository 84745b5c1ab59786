/**
 * The ready-made providers against a local server that speaks each provider's documented wire
 * format (`test/support/provider-server.ts`, transcripts in `test/fixtures/wire.ts`): what is sent,
 * how the reply maps onto the GenAI conventions, streaming (TTFT, exactly-once end, early stop),
 * retries, provider errors, hostile responses, and API keys that never reach a span.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { Anthropic, ChatModel, Embedder, type GenAI, OpenAI, Pipeline, Testing, Tracing } from "../src/index.ts"
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
import { makeReceiver } from "./support/receiver.ts"

const KEY = "sk-test-0123456789-SECRET-abcdef"
const question = { role: "user", parts: [{ type: "text" as const, content: "What is the weather in Lisbon?" }] }
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

const chat = (request: ChatModel.ChatRequest) =>
  Effect.flatMap(Effect.service(ChatModel.ChatModel), (m) => m.chat(request))
const stream = (request: ChatModel.ChatRequest) =>
  Stream.unwrap(Effect.map(Effect.service(ChatModel.ChatModel), (m) => m.stream(request)))

const onlyChatSpan = (spans: ReadonlyArray<ReadableSpan>): ReadableSpan => {
  const chats = spans.filter((s) => s.name.startsWith("chat "))
  assert.strictEqual(chats.length, 1, `exactly one chat span: ${Testing.render(spans)}`)
  return chats[0]!
}
const childrenOf = (spans: ReadonlyArray<ReadableSpan>, parent: ReadableSpan) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)
const seconds = (span: ReadableSpan) => span.duration[0] + span.duration[1] / 1e9

/** Every string an exported span carries: name, attribute values, events, status, links. */
const everyString = (spans: ReadonlyArray<ReadableSpan>): Array<string> =>
  spans.flatMap((span) => [
    span.name,
    span.status.message ?? "",
    ...Object.entries(span.attributes).flatMap(([k, v]) => [k, JSON.stringify(v)]),
    ...span.events.flatMap((e) => [e.name, JSON.stringify(e.attributes ?? {})])
  ])

const failureOf = (exit: Exit.Exit<unknown, ChatModel.ChatError>): ChatModel.ChatError => {
  assert.isTrue(Exit.isFailure(exit), "the call should fail")
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  assert.isDefined(error, `a typed failure, got ${Exit.isFailure(exit) ? String(exit.cause) : ""}`)
  return (error as { error: ChatModel.ChatError }).error
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
          "gen_ai.usage.reasoning.output_tokens": 5
        },
        absent: ["gen_ai.request.stream", "gen_ai.input.messages", "gen_ai.output.messages", "error.type"],
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
          "beluga.stream.content_chunks": 6
        },
        absent: [
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
      const strings = everyString(yield* Testing.finishedSpans).join("\n")
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
        events: [{
          name: "beluga.provider.retry",
          attributes: {
            "http.request.resend_count": 1,
            "http.response.status_code": 429,
            "error.type": "rate_limit_exceeded",
            "beluga.retry.delay_ms": 200
          }
        }]
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
        assert.strictEqual(error.errorType, code)
        assert.strictEqual(error.status, status)
        assert.notInclude(error.message, KEY)
        assert.strictEqual(server.received.length, 1)
        const spans = yield* Testing.finishedSpans
        const span = onlyChatSpan(spans)
        assert.strictEqual(span.attributes["error.type"], code)
        assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
        assert.notInclude(everyString(spans).join("\n"), KEY)
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
        attributes: { "gen_ai.provider.name": "groq", "gen_ai.request.model": "llama-3.3-70b" }
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
  const cases: ReadonlyArray<{
    readonly name: string
    readonly reply: Reply
    readonly streamed: boolean
    readonly errorType: string
  }> = [
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
    {
      name: "a body of 40 MB",
      reply: { kind: "huge", bytes: 40 * 1024 * 1024, contentType: "application/json" },
      streamed: false,
      errorType: "response_too_large"
    },
    {
      name: "a stream event of 40 MB with no line end",
      reply: { kind: "huge", bytes: 40 * 1024 * 1024, contentType: "text/event-stream", fill: "data: xxxxxxxx" },
      streamed: true,
      errorType: "response_too_large"
    },
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
    { name: "a server that never answers", reply: { kind: "stall" }, streamed: false, errorType: "timeout" }
  ]

  it.live.each(cases)(
    "$name → a typed $errorType, the span ends with ERROR and error.type",
    ({ errorType, reply, streamed }) =>
      Effect.gen(function*() {
        const server = (yield* makeProviderServer).reply(reply)
        const layer = openai(server, { maxRetries: 0, maxResponseBytes: 1024 * 1024, timeout: "1 second" })
        const exit = streamed
          ? yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.provide(layer), Effect.exit)
          : yield* chat({ messages: [question] }).pipe(Effect.provide(layer), Effect.exit)
        assert.strictEqual(failureOf(exit).errorType, errorType)
        const span = onlyChatSpan(yield* Testing.finishedSpans)
        assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(span.attributes["error.type"], errorType)
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
