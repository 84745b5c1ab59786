/**
 * The OpenAI Responses provider against a local server that speaks `POST /v1/responses` as
 * recorded from the API (`test/support/responses-server.ts`): what is sent (input items,
 * instructions, tools, `text.format`, `conversation`, `previous_response_id`), how replies and
 * semantic event streams map onto the conventions (usage with cached and reasoning tokens, finish
 * reasons, reasoning summaries, built-in tools as server tool calls, service tiers,
 * `openai.api.type`), every documented error status, retries, hostile responses, keys never on a
 * span, effect/ai on top, and the layers.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { LanguageModel, Tool, Toolkit } from "effect/ai"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ChatModel, EffectAi, Embedder, Testing } from "../src/index.ts"
import * as OpenAIResponses from "../src/OpenAIResponses.ts"
import {
  askExit,
  assertErrorSpan,
  assertErrorStatus,
  chat as askChat,
  chatFailureOf as failureOf,
  everyString,
  hugeBody,
  neverAnswers,
  onlyChatSpan,
  question,
  retryEvent,
  stream as askStream,
  type UntrustedCase,
  untrustedLimits
} from "./support/provider-tests.ts"
import {
  errorEventStream,
  failedStream,
  incompleteStream,
  longTextStream,
  makeResponsesServer,
  type ProviderServer,
  reasoningResponse,
  reasoningStream,
  type Reply,
  responseObject,
  sse,
  textResponse,
  textStream,
  toolCallResponse,
  toolCallStream,
  webSearchResponse,
  webSearchStream
} from "./support/responses-server.ts"

const KEY = "sk-responses-0123456789-SECRET"
const weatherTool = {
  type: "function",
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { location: { type: "string" } } }
}
const limits = { apiKey: Redacted.make(KEY), maxRetries: 2, timeout: "5 seconds", idleTimeout: "1 second" } as const

const responses = (server: ProviderServer, options: Partial<OpenAIResponses.Options> = {}) =>
  OpenAIResponses.layer({ model: "gpt-4o-mini", baseUrl: `${server.url}/v1`, ...limits, ...options }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )

const chat: (request: OpenAIResponses.ChatRequest) => ReturnType<typeof askChat> = askChat
const stream: (request: OpenAIResponses.ChatRequest) => ReturnType<typeof askStream> = askStream
const collected = (request: OpenAIResponses.ChatRequest) => ChatModel.collect(stream(request))
const outputMessages = (span: ReadableSpan) => JSON.parse(span.attributes["gen_ai.output.messages"] as string)

/** The chat span's attributes every Responses call has, and their types. */
const assertResponsesSpan = (span: ReadableSpan) => {
  assert.strictEqual(span.kind, SpanKind.CLIENT)
  assert.strictEqual(span.attributes["openai.api.type"], "responses")
  assert.strictEqual(span.attributes["gen_ai.operation.name"], "chat")
  assert.strictEqual(span.attributes["gen_ai.provider.name"], "openai")
  assert.strictEqual(span.attributes["server.address"], "127.0.0.1")
  assert.isNumber(span.attributes["server.port"])
}

describe("OpenAI Responses provider: replies", () => {
  it.live("a plain call: `POST /v1/responses`, the body, and a `chat {model}` span with the reply's attributes", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({ kind: "json", body: textResponse })
      const reply = yield* chat({
        systemInstructions: [{ type: "text", content: "You are a helpful assistant." }],
        messages: [question],
        tools: [weatherTool],
        temperature: 0.2,
        topP: 0.9,
        maxTokens: 300,
        responseFormat: { type: "json", name: "answer", schema: { type: "object" } }
      }).pipe(Effect.provide(responses(server, { serviceTier: "default", store: false })))
      assert.strictEqual(reply.text, "This is a test.")
      assert.strictEqual(reply.finishReason, "stop")
      assert.deepStrictEqual(reply.toolCalls, [])

      const sent = server.received[0]!
      assert.strictEqual(sent.path, "/v1/responses")
      assert.strictEqual(sent.headers.authorization, `Bearer ${KEY}`)
      assert.deepStrictEqual(sent.body, {
        model: "gpt-4o-mini",
        instructions: "You are a helpful assistant.",
        input: [{ role: "user", content: [{ type: "input_text", text: "What is the weather in Lisbon?" }] }],
        tools: [{ ...weatherTool, strict: false }],
        temperature: 0.2,
        top_p: 0.9,
        max_output_tokens: 300,
        text: { format: { type: "json_schema", name: "answer", schema: { type: "object" } } },
        service_tier: "default",
        store: false
      })

      const spans = yield* Testing.finishedSpans
      const span = Testing.expectTree(spans, {
        name: "chat gpt-4o-mini",
        kind: "client",
        status: "unset",
        attributes: {
          "openai.api.type": "responses",
          "openai.request.service_tier": "default",
          "openai.response.service_tier": "default",
          "gen_ai.request.model": "gpt-4o-mini",
          "gen_ai.request.temperature": 0.2,
          "gen_ai.request.top_p": 0.9,
          "gen_ai.request.max_tokens": 300,
          "gen_ai.output.type": "json",
          "gen_ai.response.id": "resp_0fbd9e3d1111001c0069d85fe2f11c819fb11676e58b5b7bff",
          "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
          "gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.usage.input_tokens": 22,
          "gen_ai.usage.output_tokens": 6,
          "gen_ai.usage.cache_read.input_tokens": 0,
          "gen_ai.usage.reasoning.output_tokens": 0
        },
        absent: [
          "gen_ai.request.stream",
          "gen_ai.input.messages",
          "gen_ai.output.messages",
          "gen_ai.system_instructions",
          "gen_ai.usage.cache_creation.input_tokens",
          "error.type"
        ],
        children: [{ name: "POST", kind: "client", attributes: { "http.response.status_code": 200 } }]
      })
      assertResponsesSpan(span)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a streamed call: the recorded event stream, one span with TTFT, chunks and the response's attributes", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({ kind: "sse", chunks: textStream, delayMs: 5 })
      const parts = yield* stream({ messages: [question] }).pipe(Stream.runCollect, Effect.provide(responses(server)))
      assert.strictEqual(server.received[0]!.body.stream, true)
      assert.deepStrictEqual(
        parts.filter((p) => p.type === "text-delta").map((p) => (p as { delta: string }).delta),
        ["This", " is", " a", " test", "."]
      )
      const reply = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.strictEqual(reply.text, "This is a test.")
      assert.strictEqual(reply.finishReason, "stop")
      const span = Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        kind: "client",
        status: "unset",
        attributes: {
          "openai.api.type": "responses",
          "openai.response.service_tier": "default",
          "gen_ai.request.stream": true,
          "gen_ai.response.id": "resp_0fbd9e3d1111001c0069d85fe2f11c819fb11676e58b5b7bff",
          "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
          "gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.usage.input_tokens": 22,
          "gen_ai.usage.output_tokens": 6,
          "beluga.stream.content_chunks": 5
        },
        absent: ["beluga.stream.abandoned", "openai.request.service_tier", "error.type", "gen_ai.output.messages"],
        children: [{ name: "POST", kind: "client" }]
      })
      assertResponsesSpan(span)
      assert.isNumber(span.attributes["gen_ai.response.time_to_first_chunk"])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a function call, plain and streamed with its arguments split across deltas: a tool_call, finish tool_call", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        { kind: "json", body: toolCallResponse },
        { kind: "sse", chunks: toolCallStream }
      )
      const plain = yield* chat({ messages: [question], tools: [weatherTool] }).pipe(Effect.provide(responses(server)))
      const streamed = yield* collected({ messages: [question], tools: [weatherTool] }).pipe(
        Effect.provide(responses(server))
      )
      for (const reply of [plain, streamed]) {
        assert.deepStrictEqual(reply.toolCalls, [{
          id: "call_9JGnHg3Qns7ZqDfSVNhAEArE",
          name: "get_weather",
          arguments: { location: "Lisbon" }
        }])
        assert.strictEqual(reply.finishReason, "tool_call")
        assert.strictEqual(reply.text, "")
      }
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["tool_call"])
        assert.deepStrictEqual(outputMessages(span), [{
          role: "assistant",
          parts: [{
            type: "tool_call",
            name: "get_weather",
            id: "call_9JGnHg3Qns7ZqDfSVNhAEArE",
            arguments: { location: "Lisbon" }
          }],
          finish_reason: "tool_call"
        }])
      }
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("reasoning summaries are the reply's reasoning; cached and reasoning tokens; the tier that served it", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        { kind: "json", body: reasoningResponse },
        { kind: "sse", chunks: reasoningStream }
      )
      const options = { model: "gpt-5-mini", reasoning: { effort: "medium", summary: "auto" } } as const
      const plain = yield* chat({ messages: [question] }).pipe(Effect.provide(responses(server, options)))
      const streamed = yield* collected({ messages: [question] }).pipe(Effect.provide(responses(server, options)))
      assert.deepStrictEqual(server.received[0]!.body.reasoning, { effort: "medium", summary: "auto" })
      for (const reply of [plain, streamed]) {
        assert.strictEqual(reply.reasoning, "**Multiplying**\n\n17×19 is 17×20 − 17.\n\nThat is 323.")
        assert.strictEqual(reply.text, "17 × 19 = 323.")
        assert.deepStrictEqual(reply.usage, {
          inputTokens: 1216,
          outputTokens: 202,
          cacheReadInputTokens: 1152,
          reasoningOutputTokens: 128
        })
      }
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        Testing.expectTree([span], {
          name: "chat gpt-5-mini",
          attributes: {
            "gen_ai.usage.input_tokens": 1216,
            "gen_ai.usage.output_tokens": 202,
            "gen_ai.usage.cache_read.input_tokens": 1152,
            "gen_ai.usage.reasoning.output_tokens": 128,
            // The stream's `response.created` says `auto`; the completed response names the tier used.
            "openai.response.service_tier": "flex",
            "gen_ai.response.model": "gpt-5-mini-2025-08-07"
          }
        })
        assert.deepStrictEqual(outputMessages(span)[0].parts, [
          { type: "reasoning", content: "**Multiplying**\n\n17×19 is 17×20 − 17.\n\nThat is 323." },
          { type: "text", content: "17 × 19 = 323." }
        ])
      }
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("web_search: the built-in tool is sent, and its call is a server_tool_call part in gen_ai.output.messages", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        { kind: "json", body: webSearchResponse },
        { kind: "sse", chunks: webSearchStream }
      )
      const request = {
        messages: [question],
        tools: [{ type: "web_search", name: "web_search", parameters: { search_context_size: "medium" } }]
      }
      const plain = yield* chat(request).pipe(Effect.provide(responses(server)))
      const streamed = yield* collected(request).pipe(Effect.provide(responses(server)))
      assert.deepStrictEqual(server.received[0]!.body.tools, [{ type: "web_search", search_context_size: "medium" }])
      const expected = [{
        role: "assistant",
        parts: [
          {
            type: "server_tool_call",
            name: "web_search",
            id: "ws_67c9fa0502748190b7dd390736892e100be649c1a5ff9609",
            server_tool_call: { type: "web_search", action: { type: "search", query: "weather Lisbon today" } }
          },
          { type: "text", content: "It is sunny in Lisbon, 24 °C." }
        ],
        finish_reason: "stop"
      }]
      for (const reply of [plain, streamed]) {
        assert.strictEqual(reply.text, "It is sunny in Lisbon, 24 °C.")
        assert.deepStrictEqual(reply.toolCalls, [])
        assert.deepStrictEqual(reply.outputMessages, expected)
      }
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        assert.deepStrictEqual(outputMessages(span), expected)
        assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["stop"])
      }
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("with capture off, no prompt, answer, search query, tool argument or key is on any span", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        { kind: "sse", chunks: webSearchStream },
        { kind: "sse", chunks: toolCallStream },
        { kind: "json", body: reasoningResponse }
      )
      const layer = responses(server)
      yield* collected({ messages: [question], tools: [{ type: "web_search", name: "web_search" }] }).pipe(
        Effect.provide(layer)
      )
      yield* collected({ messages: [question], tools: [weatherTool] }).pipe(Effect.provide(layer))
      yield* chat({ messages: [question] }).pipe(Effect.provide(layer))
      const strings = everyString(yield* Testing.finishedSpans)
      for (const secret of ["Lisbon", "sunny", "weather Lisbon today", "location", "Multiplying", KEY]) {
        assert.notInclude(strings, secret)
      }
      // The reasoning answer is a number: as a whole word, since ports and ids may hold its digits.
      assert.notMatch(strings, /\b323\b/)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("`response.incomplete` at max_output_tokens: finish reason `length`, the usage kept", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({ kind: "sse", chunks: incompleteStream })
      const reply = yield* collected({ messages: [question], maxTokens: 16 }).pipe(Effect.provide(responses(server)))
      assert.strictEqual(reply.finishReason, "length")
      assert.strictEqual(reply.text, "Lisbon is a city of")
      assert.strictEqual(server.received[0]!.body.max_output_tokens, 16)
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        status: "unset",
        attributes: {
          "gen_ai.response.finish_reasons": ["length"],
          "gen_ai.request.max_tokens": 16,
          "gen_ai.usage.output_tokens": 16
        }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a plain incomplete response (content_filter) and a refusal map to `content_filter`", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        {
          kind: "json",
          body: responseObject({ status: "incomplete", incomplete_details: { reason: "content_filter" } })
        },
        {
          kind: "json",
          body: responseObject({
            output: [{
              id: "msg_r",
              type: "message",
              role: "assistant",
              status: "completed",
              content: [{ type: "refusal", refusal: "I can't help with that." }]
            }]
          })
        }
      )
      const filtered = yield* chat({ messages: [question] }).pipe(Effect.provide(responses(server)))
      const refused = yield* chat({ messages: [question] }).pipe(Effect.provide(responses(server)))
      assert.strictEqual(filtered.finishReason, "content_filter")
      assert.strictEqual(refused.finishReason, "content_filter")
      assert.strictEqual(refused.text, "I can't help with that.")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("OpenAI Responses provider: inputs and conversations", () => {
  it.live("every kind of input part, tool calls and their results become input items in order", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({ kind: "json", body: textResponse })
      yield* chat({
        messages: [
          {
            role: "user",
            parts: [
              { type: "text", content: "Compare these." },
              { type: "blob", modality: "image", mime_type: "image/jpeg", content: "/9j/4AAQ" },
              { type: "uri", modality: "image", uri: "https://example.com/a.png" },
              { type: "file", modality: "image", file_id: "file-img" },
              { type: "blob", modality: "document", mime_type: "application/pdf", content: "JVBERi0x" },
              { type: "uri", modality: "document", uri: "https://example.com/report.pdf" },
              { type: "file", modality: "document", file_id: "file-pdf" }
            ]
          },
          {
            role: "assistant",
            parts: [
              { type: "reasoning", content: "They want the weather." },
              { type: "text", content: "Let me check." },
              { type: "tool_call", id: "call_1", name: "get_weather", arguments: { location: "Lisbon" } }
            ]
          },
          { role: "tool", parts: [{ type: "tool_call_response", id: "call_1", response: { forecast: "sunny" } }] },
          { role: "system", parts: [{ type: "text", content: "Answer in one line." }] }
        ]
      }).pipe(Effect.provide(responses(server)))
      assert.deepStrictEqual(server.received[0]!.body.input, [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Compare these." },
            { type: "input_image", image_url: "data:image/jpeg;base64,/9j/4AAQ", detail: "auto" },
            { type: "input_image", image_url: "https://example.com/a.png", detail: "auto" },
            { type: "input_image", file_id: "file-img", detail: "auto" },
            { type: "input_file", file_data: "data:application/pdf;base64,JVBERi0x", filename: "file" },
            { type: "input_file", file_url: "https://example.com/report.pdf" },
            { type: "input_file", file_id: "file-pdf" }
          ]
        },
        { role: "assistant", content: "Let me check." },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{\"location\":\"Lisbon\"}" },
        { type: "function_call_output", call_id: "call_1", output: "{\"forecast\":\"sunny\"}" },
        { role: "system", content: [{ type: "input_text", text: "Answer in one line." }] }
      ])
      assert.isUndefined(server.received[0]!.body.instructions)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a multi-turn run is one conversation: `conversation` and `previous_response_id` sent, one gen_ai.conversation.id", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        { kind: "json", body: textResponse },
        { kind: "sse", chunks: sse([{ type: "response.completed", response: responseObject({ id: "resp_2" }) }]) }
      )
      const layer = responses(server)
      const first = yield* chat({ messages: [question], conversationId: "conv_5j66UpCpwteGg4YSxUnt7lPY" }).pipe(
        Effect.provide(layer)
      )
      const second = yield* collected({
        messages: [{ role: "user", parts: [{ type: "text", content: "And tomorrow?" }] }],
        conversationId: "conv_5j66UpCpwteGg4YSxUnt7lPY",
        previousResponseId: first.id
      }).pipe(Effect.provide(layer))
      assert.strictEqual(second.id, "resp_2")
      assert.strictEqual(server.received[0]!.body.conversation, "conv_5j66UpCpwteGg4YSxUnt7lPY")
      assert.isUndefined(server.received[0]!.body.previous_response_id)
      assert.strictEqual(server.received[1]!.body.conversation, "conv_5j66UpCpwteGg4YSxUnt7lPY")
      assert.strictEqual(server.received[1]!.body.previous_response_id, first.id)
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.deepStrictEqual(spans.map((s) => s.attributes["gen_ai.conversation.id"]), [
        "conv_5j66UpCpwteGg4YSxUnt7lPY",
        "conv_5j66UpCpwteGg4YSxUnt7lPY"
      ])
      assert.deepStrictEqual(spans.map((s) => s.attributes["gen_ai.response.id"]), [first.id, "resp_2"])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("with sendConversationId false, the application's conversation id is recorded, not sent", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({ kind: "json", body: textResponse })
      yield* chat({ messages: [question], conversationId: "my-app-conv-1" }).pipe(
        Effect.provide(responses(server, { sendConversationId: false }))
      )
      assert.notProperty(server.received[0]!.body, "conversation")
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      assert.strictEqual(span.attributes["gen_ai.conversation.id"], "my-app-conv-1")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("`auto` as the tier asked for is sent, not recorded; another provider's spans carry no openai.* names", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        { kind: "json", body: textResponse },
        { kind: "sse", chunks: textStream }
      )
      yield* chat({ messages: [question] }).pipe(Effect.provide(responses(server, { serviceTier: "auto" })))
      yield* collected({ messages: [question] }).pipe(
        Effect.provide(responses(server, { provider: "azure.ai.openai", serviceTier: "priority" }))
      )
      assert.strictEqual(server.received[0]!.body.service_tier, "auto")
      assert.strictEqual(server.received[1]!.body.service_tier, "priority")
      const [own, other] = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      Testing.expectTree([own!], {
        name: "chat gpt-4o-mini",
        attributes: { "gen_ai.provider.name": "openai", "openai.api.type": "responses" },
        absent: ["openai.request.service_tier"]
      })
      Testing.expectTree([other!], {
        name: "chat gpt-4o-mini",
        attributes: { "gen_ai.provider.name": "azure.ai.openai", "gen_ai.response.id": textResponse["id"] },
        absent: ["openai.api.type", "openai.request.service_tier", "openai.response.service_tier"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("an option that cannot be used fails the layer with a ProviderConfigError naming it, before any request", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({ kind: "json", body: textResponse })
      for (
        const [options, name] of [
          [{ store: "yes" }, "store"],
          [{ serviceTier: " " }, "serviceTier"],
          [{ reasoning: { summary: "" } }, "reasoning.summary"],
          [{ baseUrl: "ftp://example.com" }, "baseUrl"]
        ] as const
      ) {
        const exit = yield* chat({ messages: [question] }).pipe(
          Effect.provide(responses(server, options as Partial<OpenAIResponses.Options>)),
          Effect.exit
        )
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
        assert.instanceOf((error as { error: unknown }).error, OpenAIResponses.ProviderConfigError)
        assert.strictEqual((error as { error: OpenAIResponses.ProviderConfigError }).error.variable, name)
      }
      assert.strictEqual(server.received.length, 0)
    }).pipe(Effect.provide(Testing.layer())))
})

/** OpenAI's error body. */
const errorBody = (code: string | null, type: string, message = "error") => ({
  error: { message, type, param: null, code }
})

describe("OpenAI Responses provider: errors", () => {
  it.live.each([
    { status: 400, errorType: "invalid_request_error", body: errorBody(null, "invalid_request_error") },
    {
      status: 401,
      errorType: "invalid_api_key",
      body: errorBody("invalid_api_key", "invalid_request_error", `Incorrect API key provided: ${KEY}.`)
    },
    {
      status: 403,
      errorType: "unsupported_country_region_territory",
      body: errorBody("unsupported_country_region_territory", "request_forbidden")
    },
    {
      status: 404,
      errorType: "model_not_found",
      body: errorBody("model_not_found", "invalid_request_error", "The requested model 'x' does not exist.")
    }
  ])(
    "$status is not retried: error.type $errorType, the status kept, the key never echoed",
    ({ body, errorType, status }) =>
      Effect.gen(function*() {
        const server = (yield* makeResponsesServer).reply({ kind: "json", status, body })
        const error = failureOf(
          yield* chat({ messages: [question] }).pipe(Effect.provide(responses(server)), Effect.exit)
        )
        assertErrorStatus(error, errorType, status)
        assert.notInclude(error.message, KEY)
        assert.strictEqual(server.received.length, 1)
        const spans = yield* Testing.finishedSpans
        const span = onlyChatSpan(spans)
        assertErrorSpan(span, errorType)
        assert.strictEqual(span.attributes["openai.api.type"], "responses")
        assert.notInclude(everyString(spans), KEY)
      }).pipe(Effect.provide(Testing.layer()))
  )

  it.live.each([
    { status: 500, errorType: "server_error", body: errorBody(null, "server_error") },
    { status: 503, errorType: "server_is_overloaded", body: errorBody("server_is_overloaded", "service_unavailable") }
  ])(
    "$status is retried, then fails with error.type $errorType",
    ({ body, errorType, status }) =>
      Effect.gen(function*() {
        const reply: Reply = { kind: "json", status, body, headers: { "retry-after-ms": "10" } }
        const server = (yield* makeResponsesServer).reply(reply, reply)
        const error = failureOf(
          yield* stream({ messages: [question] }).pipe(
            Stream.runDrain,
            Effect.provide(responses(server, { maxRetries: 1 })),
            Effect.exit
          )
        )
        assertErrorStatus(error, errorType, status)
        assert.strictEqual(server.received.length, 2)
        Testing.expectTree(yield* Testing.finishedSpans, {
          name: "chat gpt-4o-mini",
          status: "error",
          attributes: { "error.type": errorType, "gen_ai.request.stream": true },
          events: [{
            name: "beluga.provider.retry",
            attributes: { "http.response.status_code": status, "error.type": errorType }
          }]
        })
      }).pipe(Effect.provide(Testing.layer()))
  )

  it.live("429 with retry-after: the retry is an event on the chat span, then the call succeeds", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        {
          kind: "json",
          status: 429,
          headers: { "retry-after": "0.2" },
          body: errorBody("rate_limit_exceeded", "requests", "Rate limit reached")
        },
        { kind: "json", body: textResponse }
      )
      const reply = yield* chat({ messages: [question] }).pipe(Effect.provide(responses(server)))
      assert.strictEqual(reply.text, "This is a test.")
      assert.strictEqual(server.received.length, 2)
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        status: "unset",
        attributes: { "gen_ai.response.finish_reasons": ["stop"] },
        absent: ["error.type"],
        events: [retryEvent("rate_limit_exceeded", 200)],
        children: [
          { name: "POST", attributes: { "http.response.status_code": 429 } },
          { name: "POST", attributes: { "http.response.status_code": 200 } }
        ]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("`response.failed` and an `error` event fail the stream with their codes; what came before is kept", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        { kind: "sse", chunks: failedStream },
        { kind: "sse", chunks: errorEventStream }
      )
      const failed = failureOf(
        yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.provide(responses(server)), Effect.exit)
      )
      const errored = failureOf(
        yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.provide(responses(server)), Effect.exit)
      )
      assert.strictEqual(failed.errorType, "server_error")
      assert.include(failed.message, "The model failed to generate a response.")
      assert.strictEqual(errored.errorType, "rate_limit_exceeded")
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.deepStrictEqual(spans.map((s) => s.attributes["error.type"]), ["server_error", "rate_limit_exceeded"])
      for (const span of spans) {
        assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(
          span.attributes["gen_ai.response.id"],
          "resp_0fbd9e3d1111001c0069d85fe2f11c819fb11676e58b5b7bff"
        )
        assert.notProperty(span.attributes, "beluga.stream.abandoned")
      }
      assert.strictEqual(spans[0]!.attributes["beluga.stream.content_chunks"], 1)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a plain response with status `failed` is a typed error with the response's code", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({
        kind: "json",
        body: responseObject({
          status: "failed",
          error: { code: "rate_limit_exceeded", message: `quota for ${KEY}` },
          usage: null
        })
      })
      const error = failureOf(
        yield* chat({ messages: [question] }).pipe(Effect.provide(responses(server)), Effect.exit)
      )
      assert.strictEqual(error.errorType, "rate_limit_exceeded")
      assert.notInclude(error.message, KEY)
      assert.include(error.message, "<redacted>")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("OpenAI Responses provider: responses are untrusted", () => {
  const cases: ReadonlyArray<UntrustedCase<Reply>> = [
    {
      name: "a malformed JSON body",
      reply: { kind: "raw", body: "{\"id\": \"resp_1\", \"output\": [" },
      streamed: false,
      errorType: "invalid_response"
    },
    {
      name: "JSON that is not a response",
      reply: { kind: "json", body: { hello: "world" } },
      streamed: false,
      errorType: "invalid_response"
    },
    {
      name: "a background response still in progress",
      reply: { kind: "json", body: responseObject({ status: "in_progress", output: [] }) },
      streamed: false,
      errorType: "invalid_response"
    },
    hugeBody,
    {
      name: "a stream event of 40 MB",
      reply: {
        kind: "huge",
        bytes: 40 * 1024 * 1024,
        contentType: "text/event-stream",
        fill: "data: {\"type\":\"response.output_text.delta\""
      },
      streamed: true,
      errorType: "response_too_large"
    },
    {
      name: "a malformed event",
      reply: {
        kind: "sse",
        chunks: [...textStream.slice(0, 4), "event: response.output_text.delta\ndata: {\"delta\":\n\n"]
      },
      streamed: true,
      errorType: "invalid_response"
    },
    {
      name: "a stream with no terminal event",
      reply: { kind: "sse", chunks: textStream.slice(0, -1) },
      streamed: true,
      errorType: "incomplete_stream"
    },
    {
      name: "a stream cut in the middle of an event",
      reply: { kind: "sse", chunks: [...textStream.slice(0, 5), "event: response.output_text.delta\ndata: {\"ty"] },
      streamed: true,
      errorType: "incomplete_stream"
    },
    {
      name: "a connection cut mid-stream",
      reply: { kind: "sse", chunks: textStream.slice(0, 6), ending: "cut" },
      streamed: true,
      errorType: "connection_error"
    },
    {
      name: "a stream that stalls",
      reply: { kind: "sse", chunks: textStream.slice(0, 6), ending: "stall" },
      streamed: true,
      errorType: "timeout"
    },
    {
      name: "a stream describing more output items than any response has",
      reply: {
        kind: "sse",
        chunks: [
          sse(Array.from({ length: 5000 }, (_, i) => ({
            type: "response.output_text.delta",
            output_index: i,
            delta: "x"
          }))).join("")
        ]
      },
      streamed: true,
      errorType: "invalid_response"
    },
    neverAnswers
  ]

  it.live.each(cases)(
    "$name → a typed $errorType; the span ends with ERROR and error.type",
    ({ errorType, reply, streamed }) =>
      Effect.gen(function*() {
        const server = (yield* makeResponsesServer).reply(reply)
        const exit = yield* askExit(responses(server, untrustedLimits), streamed)
        assert.strictEqual(failureOf(exit).errorType, errorType)
        assertErrorSpan(onlyChatSpan(yield* Testing.finishedSpans), errorType)
      }).pipe(Effect.provide(Testing.layer()))
  )

  it.live("unknown events, comments and events after the terminal one are skipped", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({
        kind: "sse",
        chunks: [
          ": keep-alive\n\n",
          ...textStream.slice(0, 3),
          "event: response.some_future_event\ndata: {\"type\":\"response.some_future_event\",\"x\":1}\n\n",
          ...textStream.slice(3),
          "event: error\ndata: {\"type\":\"error\",\"code\":\"late\",\"message\":\"after the end\"}\n\n"
        ]
      })
      const reply = yield* collected({ messages: [question] }).pipe(Effect.provide(responses(server)))
      assert.strictEqual(reply.text, "This is a test.")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a consumer that stops early closes the connection; one span, abandoned, with what was known", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({ kind: "sse", chunks: longTextStream(300), delayMs: 5 })
      const taken = yield* stream({ messages: [question] }).pipe(
        Stream.filter((p) => p.type === "text-delta"),
        Stream.take(3),
        Stream.runCollect,
        Effect.provide(responses(server))
      )
      assert.strictEqual(taken.length, 3)
      yield* Effect.sleep("100 millis")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4o-mini",
        status: "unset",
        attributes: {
          "beluga.stream.abandoned": true,
          "beluga.stream.content_chunks": 3,
          "openai.api.type": "responses",
          "gen_ai.response.id": "resp_0fbd9e3d1111001c0069d85fe2f11c819fb11676e58b5b7bff"
        },
        // The tier that served a response is known only once it is finished.
        absent: ["gen_ai.response.finish_reasons", "openai.response.service_tier", "error.type"]
      })
      assert.strictEqual(server.clientHangups, 1, "the HTTP response was aborted, not read to the end")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("OpenAI Responses provider: effect/ai and the layers", () => {
  it.live("under EffectAi.layer, generateText and streamText each make one chat span with the same attributes", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply(
        { kind: "json", body: textResponse },
        { kind: "sse", chunks: toolCallStream }
      )
      const model = EffectAi.layer(
        OpenAIResponses.chatProvider({ model: "gpt-4o-mini", baseUrl: `${server.url}/v1`, ...limits })
      ).pipe(Layer.provide(FetchHttpClient.layer))
      const text = yield* LanguageModel.generateText({ prompt: "Say this is a test" }).pipe(Effect.provide(model))
      assert.strictEqual(text.text, "This is a test.")

      const Weather = Tool.make("get_weather", {
        parameters: Schema.Struct({ location: Schema.String }),
        success: Schema.String
      })
      const kit = Toolkit.make(Weather)
      const parts = yield* LanguageModel.streamText({ prompt: "Weather in Lisbon?", toolkit: kit }).pipe(
        Stream.runCollect,
        Effect.provide(Layer.mergeAll(
          model,
          EffectAi.toolkitLayer(kit, { get_weather: ({ location }) => Effect.succeed(`sunny in ${location}`) })
        ))
      )
      const call = parts.find((p) => p.type === "tool-call")
      assert.deepStrictEqual(call && { name: call.name, params: call.params }, {
        name: "get_weather",
        params: { location: "Lisbon" }
      })
      assert.strictEqual(server.received[1]!.body.tools[0].name, "get_weather")

      const spans = yield* Testing.finishedSpans
      const chats = spans.filter((s) => s.name === "chat gpt-4o-mini")
      assert.strictEqual(chats.length, 2, Testing.render(spans))
      const [plain, streamed] = chats
      for (const span of chats) {
        assertResponsesSpan(span)
        assert.strictEqual(span.attributes["openai.response.service_tier"], "default")
      }
      assert.deepStrictEqual(plain!.attributes["gen_ai.response.finish_reasons"], ["stop"])
      assert.strictEqual(plain!.attributes["gen_ai.usage.input_tokens"], 22)
      assert.deepStrictEqual(streamed!.attributes["gen_ai.response.finish_reasons"], ["tool_call"])
      assert.strictEqual(streamed!.attributes["gen_ai.usage.input_tokens"], 72)
      assert.strictEqual(streamed!.attributes["gen_ai.request.stream"], true)
      assert.strictEqual(spans.filter((s) => s.name === "POST").length, 2)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("layer gives an Embedder over OpenAI's /embeddings", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({
        kind: "json",
        body: {
          object: "list",
          data: [{ object: "embedding", index: 0, embedding: [0.6, 0.8] }],
          model: "text-embedding-3-small",
          usage: { prompt_tokens: 3, total_tokens: 3 }
        }
      })
      const result = yield* Effect.flatMap(Effect.service(Embedder.Embedder), (e) => e.embed(["Lisbon"])).pipe(
        Effect.provide(responses(server, { dimensions: 2 }))
      )
      assert.deepStrictEqual(result.vectors, [[0.6, 0.8]])
      assert.strictEqual(server.received[0]!.path, "/v1/embeddings")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "embeddings text-embedding-3-small",
        kind: "client",
        attributes: { "gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 3 }
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("layerFromConfig reads the OPENAI_* variables (key as a secret); options override them", () =>
    Effect.gen(function*() {
      const server = (yield* makeResponsesServer).reply({ kind: "json", body: textResponse })
      const env = {
        OPENAI_API_KEY: KEY,
        OPENAI_BASE_URL: `${server.url}/v1`,
        OPENAI_MODEL: "gpt-5-mini",
        OPENAI_PROVIDER_NAME: "azure.ai.openai"
      }
      yield* chat({ messages: [question] }).pipe(
        Effect.provide(
          OpenAIResponses.layerFromConfig({ model: "gpt-4.1", maxRetries: 0 }).pipe(
            Layer.provide(FetchHttpClient.layer),
            Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
          )
        )
      )
      assert.strictEqual(server.received[0]!.path, "/v1/responses")
      assert.strictEqual(server.received[0]!.headers.authorization, `Bearer ${KEY}`)
      assert.strictEqual(server.received[0]!.body.model, "gpt-4.1")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "chat gpt-4.1",
        attributes: { "gen_ai.provider.name": "azure.ai.openai" },
        absent: ["openai.api.type"]
      })

      const bad = yield* Effect.exit(
        chat({ messages: [question] }).pipe(
          Effect.provide(
            OpenAIResponses.layerFromConfig().pipe(
              Layer.provide(FetchHttpClient.layer),
              Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { OPENAI_BASE_URL: "not a url" } })))
            )
          )
        )
      )
      assert.isTrue(Exit.isFailure(bad))
      assert.include(String(Exit.isFailure(bad) ? bad.cause : ""), "OPENAI_BASE_URL")
    }).pipe(Effect.provide(Testing.layer())))
})
