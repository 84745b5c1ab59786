/**
 * The Bedrock provider against a local stand-in (`test/support/bedrock-server.ts`) that checks
 * every request's SigV4 signature as AWS does and answers in Bedrock's wire formats: the signer
 * against the official SigV4 test suite; `converse` and `converse-stream` (real event-stream
 * frames); tool use split across deltas; reasoning; prompt-cache tokens in both modes; the
 * guardrail attribute; stop reasons; every documented error, as a JSON body and as an exception
 * frame; a throttled call retried and re-signed; cut, stalled and oversized streams; credentials
 * that never reach a span or an error; content recorded only on opt-in; effect/ai; embeddings;
 * and the environment variables.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import { LanguageModel } from "effect/ai"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Bedrock from "../src/Bedrock.ts"
import { ChatModel, EffectAi, Embedder, Testing } from "../src/index.ts"
import { makeSigner } from "../src/internal/sigv4.ts"
import {
  type BedrockServer,
  eventFrame,
  exceptionFrame,
  makeBedrockServer,
  REQUEST_ID,
  signatureOf
} from "./support/bedrock-server.ts"
import {
  assertErrorStatus,
  chat,
  everyString,
  onlyChatSpan,
  question,
  retryEvent,
  stream,
  typedFailureOf
} from "./support/provider-tests.ts"

const ACCESS_KEY_ID = "AKIAZ7TESTKEY0000042"
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYsecretTEST"
const SESSION_TOKEN = "IQoJb3JpZ2luX2VjEPTESTSESSIONtoken0123456789abcdef"
const BEARER = "ABSKQmVkcm9ja0FQSUtleS1iearer-test-0123456789"
const REGION = "us-west-2"
const MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
const SECRETS = [ACCESS_KEY_ID, SECRET, SESSION_TOKEN, BEARER]

const credentials = {
  accessKeyId: Redacted.make(ACCESS_KEY_ID),
  secretAccessKey: Redacted.make(SECRET),
  sessionToken: Redacted.make(SESSION_TOKEN)
}
const serverFor = makeBedrockServer({
  credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, sessionToken: SESSION_TOKEN },
  bearer: BEARER,
  region: REGION
})

const limits = { maxRetries: 2, timeout: "5 seconds", idleTimeout: "1 second" } as const
const bedrock = (server: BedrockServer, options: Partial<Bedrock.Options> = {}) =>
  Bedrock.layer({ model: MODEL, region: REGION, baseUrl: server.url, credentials, ...limits, ...options }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )

const tools = [{
  type: "function",
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] }
}]

/** The typed failure of a call: a ChatError (EmbeddingError for embeddings), never a defect. */
const failureOf = (exit: Exit.Exit<unknown, unknown>): ChatModel.ChatError => {
  const error = typedFailureOf(exit)
  assert.isTrue(error instanceof ChatModel.ChatError || error instanceof Embedder.EmbeddingError, String(error))
  return error as ChatModel.ChatError
}

// Wire transcripts in the documented shapes (Converse API reference; ConverseStream's event members).

const converseReply = {
  output: {
    message: {
      role: "assistant",
      content: [
        { text: "I'll check the weather." },
        { toolUse: { toolUseId: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", name: "get_weather", input: { location: "Lisbon" } } }
      ]
    }
  },
  stopReason: "tool_use",
  usage: { inputTokens: 410, outputTokens: 56, totalTokens: 466 },
  metrics: { latencyMs: 1275 }
}

const textStream = (texts: ReadonlyArray<string>, usage: Record<string, number>, stopReason = "end_turn") => [
  eventFrame("messageStart", { role: "assistant" }),
  ...texts.map((text) => eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text } })),
  eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
  eventFrame("messageStop", { stopReason }),
  eventFrame("metadata", { usage, metrics: { latencyMs: 380 } })
]

const toolStream = [
  eventFrame("messageStart", { role: "assistant" }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Checking the weather." } }),
  eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
  eventFrame("contentBlockStart", {
    contentBlockIndex: 1,
    start: { toolUse: { toolUseId: "tooluse_abc123", name: "get_weather" } }
  }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 1, delta: { toolUse: { input: "{\"loca" } } }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 1, delta: { toolUse: { input: "tion\": \"Lis" } } }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 1, delta: { toolUse: { input: "bon\"}" } } }),
  eventFrame("contentBlockStop", { contentBlockIndex: 1 }),
  eventFrame("messageStop", { stopReason: "tool_use" }),
  eventFrame("metadata", { usage: { inputTokens: 82, outputTokens: 17, totalTokens: 99 }, metrics: { latencyMs: 512 } })
]

const reasoningStream = [
  eventFrame("messageStart", { role: "assistant" }),
  eventFrame("contentBlockDelta", {
    contentBlockIndex: 0,
    delta: { reasoningContent: { text: "The user asks about " } }
  }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { text: "Lisbon's weather." } } }),
  eventFrame("contentBlockDelta", {
    contentBlockIndex: 0,
    delta: { reasoningContent: { signature: "EqoBCkgIARABGAIiQL" } }
  }),
  eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
  eventFrame("contentBlockDelta", { contentBlockIndex: 1, delta: { text: "Mild and sunny." } }),
  eventFrame("contentBlockStop", { contentBlockIndex: 1 }),
  eventFrame("messageStop", { stopReason: "end_turn" }),
  eventFrame("metadata", { usage: { inputTokens: 40, outputTokens: 30, totalTokens: 70 }, metrics: { latencyMs: 900 } })
]

describe("the SigV4 signer", () => {
  // The official AWS Signature Version 4 test suite (aws-sig-v4-test-suite): its credentials, date
  // and scope, each case's request as sent, and the signature AWS documents for it.
  const suite = {
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    date: new Date("2015-08-30T12:36:00Z"),
    scope: { region: "us-east-1", service: "service" }
  }
  const host = { host: "example.amazonaws.com" }
  const cases: ReadonlyArray<{
    readonly name: string
    readonly method: string
    readonly path: string
    readonly query?: ReadonlyArray<readonly [string, string]>
    readonly headers?: Record<string, string>
    readonly body?: string
    readonly signature: string
  }> = [
    {
      name: "get-vanilla",
      method: "GET",
      path: "/",
      signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    },
    {
      name: "post-vanilla",
      method: "POST",
      path: "/",
      signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    },
    {
      name: "get-utf8",
      method: "GET",
      path: "/ሴ",
      signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
    },
    {
      name: "get-unreserved",
      method: "GET",
      path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
      signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"
    },
    {
      name: "get-vanilla-query-order-key-case",
      method: "GET",
      path: "/",
      query: [["Param2", "value2"], ["Param1", "value1"]],
      signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    },
    {
      name: "get-vanilla-utf8-query",
      method: "GET",
      path: "/",
      query: [["ሴ", "bar"]],
      signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
    },
    {
      name: "post-vanilla-query-nonunreserved",
      method: "POST",
      path: "/",
      query: [["@#$%^", ""], ["+", "/,?><`\";:\\|][{}"]],
      signature: "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"
    },
    {
      name: "get-header-key-duplicate",
      method: "GET",
      path: "/",
      headers: { "My-Header1": "value2,value2,value1" },
      signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
    },
    {
      name: "get-header-value-trim",
      method: "GET",
      path: "/",
      headers: { "My-Header1": " value1", "My-Header2": " \"a   b   c\"" },
      signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
    },
    {
      name: "post-header-value-case",
      method: "POST",
      path: "/",
      headers: { "My-Header1": "VALUE1" },
      signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"
    },
    {
      name: "post-x-www-form-urlencoded",
      method: "POST",
      path: "/",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "Param1=value1",
      signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    }
  ]

  for (const c of cases) {
    it.effect(`${c.name}: the documented signature`, () =>
      Effect.promise(async () => {
        const sign = makeSigner(suite.credentials)
        const signed = await sign({
          method: c.method,
          path: c.path,
          query: c.query ?? [],
          headers: { ...host, ...c.headers },
          body: new TextEncoder().encode(c.body ?? "")
        }, { ...suite.scope, date: suite.date })
        assert.strictEqual(signed["x-amz-date"], "20150830T123600Z")
        assert.match(
          signed["authorization"]!,
          new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=`)
        )
        assert.strictEqual(signed["authorization"]!.split("Signature=")[1], c.signature)
      }))
  }

  it.effect("post-sts-header-before: a session token is sent and signed as x-amz-security-token", () =>
    Effect.promise(async () => {
      const token =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
      const sign = makeSigner({ ...suite.credentials, sessionToken: token })
      const signed = await sign(
        { method: "POST", path: "/", query: [], headers: host, body: new Uint8Array(0) },
        { ...suite.scope, date: suite.date }
      )
      assert.strictEqual(signed["x-amz-security-token"], token)
      assert.include(signed["authorization"]!, "SignedHeaders=host;x-amz-date;x-amz-security-token")
      assert.isTrue(
        signed["authorization"]!.endsWith("85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
      )
    }))

  it("the test server's verifier reproduces the suite too (so it can judge the library's signatures)", () => {
    assert.strictEqual(
      signatureOf({
        method: "POST",
        target: "/",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          host: "example.amazonaws.com",
          "x-amz-date": "20150830T123600Z"
        },
        signedHeaders: ["content-type", "host", "x-amz-date"],
        body: new TextEncoder().encode("Param1=value1"),
        amzDate: "20150830T123600Z",
        scope: "20150830/us-east-1/service/aws4_request",
        secretAccessKey: suite.credentials.secretAccessKey
      }),
      "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    )
  })
})

describe("Bedrock Converse", () => {
  it.live("converse: a signed request in Converse's shape, and a `chat {model}` CLIENT span with the HTTP span beneath", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({ kind: "json", body: converseReply })
      const reply = yield* chat({
        messages: [question],
        systemInstructions: [{ type: "text", content: "Answer briefly." }],
        tools,
        temperature: 0.2,
        topP: 0.9,
        maxTokens: 300,
        stopSequences: ["###"]
      }).pipe(Effect.provide(bedrock(server)))
      assert.strictEqual(reply.text, "I'll check the weather.")
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])
      assert.strictEqual(reply.finishReason, "tool_call")
      assert.strictEqual(reply.id, REQUEST_ID)

      const sent = server.received[0]!
      assert.strictEqual(sent.path, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse")
      assert.strictEqual(sent.auth.kind, "sigv4", JSON.stringify(sent.auth))
      assert.strictEqual(sent.headers["x-amz-security-token"], SESSION_TOKEN)
      assert.include(
        sent.auth.kind === "sigv4" ? sent.auth.signedHeaders : "",
        "content-type;host;x-amz-date;x-amz-security-token"
      )
      assert.deepStrictEqual(sent.body, {
        messages: [{ role: "user", content: [{ text: "What is the weather in Lisbon?" }] }],
        system: [{ text: "Answer briefly." }],
        inferenceConfig: { maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ["###"] },
        toolConfig: {
          tools: [{
            toolSpec: {
              name: "get_weather",
              description: "Weather for a city",
              inputSchema: { json: tools[0]!.parameters }
            }
          }]
        }
      })

      const spans = yield* Testing.finishedSpans
      const span = Testing.expectTree(spans, {
        name: `chat ${MODEL}`,
        kind: "client",
        status: "unset",
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "aws.bedrock",
          "gen_ai.request.model": MODEL,
          "gen_ai.request.temperature": 0.2,
          "gen_ai.request.top_p": 0.9,
          "gen_ai.request.max_tokens": 300,
          "gen_ai.request.stop_sequences": ["###"],
          "server.address": "127.0.0.1",
          "server.port": Number(new URL(server.url).port),
          "gen_ai.response.id": REQUEST_ID,
          "gen_ai.response.model": MODEL,
          "gen_ai.response.finish_reasons": ["tool_call"],
          "gen_ai.usage.input_tokens": 410,
          "gen_ai.usage.output_tokens": 56
        },
        absent: [
          "gen_ai.request.stream",
          "gen_ai.usage.cache_read.input_tokens",
          "gen_ai.usage.cache_creation.input_tokens",
          "aws.bedrock.guardrail.id",
          "gen_ai.input.messages",
          "gen_ai.output.messages",
          "gen_ai.system_instructions",
          "gen_ai.tool.definitions",
          "error.type"
        ],
        children: [{ name: "POST", kind: "client", attributes: { "http.response.status_code": 200 } }]
      })
      assert.strictEqual(span.kind, SpanKind.CLIENT)
      assert.isNumber(span.attributes["server.port"])
      assert.isTrue(Number.isInteger(span.attributes["gen_ai.usage.input_tokens"]))
    }).pipe(Effect.provide(Testing.layer())))

  it.live("an ARN as the model id is one encoded path segment, and still signs", () =>
    Effect.gen(function*() {
      const arn = "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/a1b2c3d4e5f6"
      const server = (yield* serverFor).reply({ kind: "json", body: converseReply })
      yield* chat({ messages: [question] }).pipe(Effect.provide(bedrock(server, { model: arn })))
      const sent = server.received[0]!
      assert.strictEqual(
        sent.path,
        "/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3Aapplication-inference-profile%2Fa1b2c3d4e5f6/converse"
      )
      assert.strictEqual(sent.auth.kind, "sigv4", JSON.stringify(sent.auth))
      assert.isUndefined(sent.body.inferenceConfig)
      assert.isUndefined(sent.body.toolConfig)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("converse-stream: text deltas from event-stream frames, one span with TTFT and the usage of `metadata`", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({
        kind: "events",
        chunks: textStream(["Mild", " and sunny", " in Lisbon."], {
          inputTokens: 25,
          outputTokens: 9,
          totalTokens: 34
        }),
        delayMs: 10
      })
      const parts = yield* stream({ messages: [question] }).pipe(Stream.runCollect, Effect.provide(bedrock(server)))
      assert.strictEqual(
        server.received[0]!.path,
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream"
      )
      assert.strictEqual(server.received[0]!.auth.kind, "sigv4")
      const reply = yield* ChatModel.collect(Stream.fromIterable(parts))
      assert.strictEqual(reply.text, "Mild and sunny in Lisbon.")
      assert.strictEqual(reply.finishReason, "stop")
      assert.deepStrictEqual(reply.usage, {
        inputTokens: 25,
        outputTokens: 9,
        cacheReadInputTokens: undefined,
        cacheCreationInputTokens: undefined
      })
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: `chat ${MODEL}`,
        kind: "client",
        status: "unset",
        attributes: {
          "gen_ai.provider.name": "aws.bedrock",
          "gen_ai.request.stream": true,
          "gen_ai.response.id": REQUEST_ID,
          "gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.usage.input_tokens": 25,
          "gen_ai.usage.output_tokens": 9,
          "beluga.stream.content_chunks": 3
        },
        absent: ["beluga.stream.abandoned", "gen_ai.output.messages", "error.type"],
        children: [{ name: "POST", kind: "client" }]
      })
      assert.isNumber(span.attributes["gen_ai.response.time_to_first_chunk"])
      assert.isAbove(span.attributes["gen_ai.response.time_to_first_chunk"] as number, 0)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("tool use split across deltas is assembled into one call; the input arrives as JSON fragments", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({ kind: "events", chunks: toolStream })
      const reply = yield* ChatModel.collect(stream({ messages: [question], tools })).pipe(
        Effect.provide(bedrock(server))
      )
      assert.strictEqual(reply.text, "Checking the weather.")
      assert.deepStrictEqual(reply.toolCalls, [{
        id: "tooluse_abc123",
        name: "get_weather",
        arguments: { location: "Lisbon" }
      }])
      assert.strictEqual(reply.finishReason, "tool_call")
      assert.deepStrictEqual(onlyChatSpan(yield* Testing.finishedSpans).attributes["gen_ai.response.finish_reasons"], [
        "tool_call"
      ])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("with capture on, reasoning, text and tool calls are recorded in the output message; a signature is not", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply(
        { kind: "events", chunks: reasoningStream },
        {
          kind: "json",
          body: {
            output: {
              message: {
                role: "assistant",
                content: [
                  {
                    reasoningContent: { reasoningText: { text: "Weather: use the tool.", signature: "EqoBCkgIARAB" } }
                  },
                  { toolUse: { toolUseId: "tooluse_1", name: "get_weather", input: { location: "Lisbon" } } }
                ]
              }
            },
            stopReason: "tool_use",
            usage: { inputTokens: 12, outputTokens: 30, totalTokens: 42 }
          }
        }
      )
      const layer = bedrock(server, {
        additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 1024 } }
      })
      const streamed = yield* ChatModel.collect(stream({ messages: [question] })).pipe(Effect.provide(layer))
      assert.strictEqual(streamed.reasoning, "The user asks about Lisbon's weather.")
      assert.strictEqual(streamed.text, "Mild and sunny.")
      const plain = yield* chat({ messages: [question], tools }).pipe(Effect.provide(layer))
      assert.strictEqual(plain.reasoning, "Weather: use the tool.")
      assert.deepStrictEqual(server.received[1]!.body.additionalModelRequestFields, {
        thinking: { type: "enabled", budget_tokens: 1024 }
      })
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.strictEqual(spans.length, 2)
      assert.deepStrictEqual(JSON.parse(spans[0]!.attributes["gen_ai.output.messages"] as string), [{
        role: "assistant",
        parts: [
          { type: "reasoning", content: "The user asks about Lisbon's weather." },
          { type: "text", content: "Mild and sunny." }
        ],
        finish_reason: "stop"
      }])
      assert.deepStrictEqual(JSON.parse(spans[1]!.attributes["gen_ai.output.messages"] as string), [{
        role: "assistant",
        parts: [
          { type: "reasoning", content: "Weather: use the tool." },
          { type: "tool_call", id: "tooluse_1", name: "get_weather", arguments: { location: "Lisbon" } }
        ],
        finish_reason: "tool_call"
      }])
      assert.deepStrictEqual(JSON.parse(spans[1]!.attributes["gen_ai.input.messages"] as string), [question])
      assert.isString(spans[1]!.attributes["gen_ai.tool.definitions"])
      assert.notInclude(everyString(spans), "EqoBCkgIARAB")
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.live("prompt-cache reads and writes are recorded, streamed and not; input tokens include them", () =>
    Effect.gen(function*() {
      const usage = {
        inputTokens: 4,
        outputTokens: 3,
        totalTokens: 1410,
        cacheReadInputTokens: 1200,
        cacheWriteInputTokens: 203
      }
      const server = (yield* serverFor).reply(
        { kind: "json", body: { ...converseReply, stopReason: "end_turn", usage } },
        { kind: "events", chunks: textStream(["Hi"], usage) }
      )
      const plain = yield* chat({ messages: [question] }).pipe(Effect.provide(bedrock(server)))
      const streamed = yield* ChatModel.collect(stream({ messages: [question] })).pipe(Effect.provide(bedrock(server)))
      const expected = { inputTokens: 1407, outputTokens: 3, cacheReadInputTokens: 1200, cacheCreationInputTokens: 203 }
      assert.deepStrictEqual(plain.usage, expected)
      assert.deepStrictEqual(streamed.usage, expected)
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 1407)
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 3)
        assert.strictEqual(span.attributes["gen_ai.usage.cache_read.input_tokens"], 1200)
        assert.strictEqual(span.attributes["gen_ai.usage.cache_creation.input_tokens"], 203)
      }
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a guardrail: sent as guardrailConfig, `aws.bedrock.guardrail.id` on the span; an intervention is content_filter", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply(
        { kind: "json", body: { ...converseReply, stopReason: "guardrail_intervened" } },
        { kind: "events", chunks: textStream(["Sorry."], { inputTokens: 5, outputTokens: 2 }, "guardrail_intervened") }
      )
      const guardrail = { id: "sgi5gkybzqak", version: "3", trace: "enabled", streamProcessingMode: "async" } as const
      const layer = bedrock(server, { guardrail })
      const plain = yield* chat({ messages: [question] }).pipe(Effect.provide(layer))
      assert.strictEqual(plain.finishReason, "content_filter")
      yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.provide(layer))
      assert.deepStrictEqual(server.received[0]!.body.guardrailConfig, {
        guardrailIdentifier: "sgi5gkybzqak",
        guardrailVersion: "3",
        trace: "enabled"
      })
      assert.deepStrictEqual(server.received[1]!.body.guardrailConfig, {
        guardrailIdentifier: "sgi5gkybzqak",
        guardrailVersion: "3",
        trace: "enabled",
        streamProcessingMode: "async"
      })
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        assert.strictEqual(span.attributes["aws.bedrock.guardrail.id"], "sgi5gkybzqak")
        assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["content_filter"])
      }
    }).pipe(Effect.provide(Testing.layer())))

  it("stop reasons in the conventions' words", () => {
    const expected: Record<string, string> = {
      end_turn: "stop",
      stop_sequence: "stop",
      max_tokens: "length",
      model_context_window_exceeded: "length",
      tool_use: "tool_call",
      guardrail_intervened: "content_filter",
      content_filtered: "content_filter",
      malformed_model_output: "error",
      malformed_tool_use: "error",
      some_new_reason: "some_new_reason"
    }
    for (const [reason, name] of Object.entries(expected)) {
      assert.strictEqual(Bedrock.toFinishReason(reason), name, reason)
    }
  })

  it.live("max_tokens over the wire is `length`, streamed and not", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply(
        { kind: "json", body: { ...converseReply, stopReason: "max_tokens" } },
        { kind: "events", chunks: textStream(["Mild"], { inputTokens: 5, outputTokens: 1 }, "max_tokens") }
      )
      assert.strictEqual(
        (yield* chat({ messages: [question] }).pipe(Effect.provide(bedrock(server)))).finishReason,
        "length"
      )
      const streamed = yield* ChatModel.collect(stream({ messages: [question] })).pipe(Effect.provide(bedrock(server)))
      assert.strictEqual(streamed.finishReason, "length")
    }).pipe(Effect.provide(Testing.layer())))

  it("the request body: system messages, media blocks, tool calls and results, one turn per role", () => {
    const body = Bedrock.toBody({ model: MODEL }, {
      messages: [
        { role: "system", parts: [{ type: "text", content: "Be brief." }] },
        {
          role: "user",
          parts: [
            { type: "text", content: "What is in these?" },
            { type: "blob", modality: "image", mime_type: "image/png", content: "iVBORw0KGgo=" },
            {
              type: "blob",
              modality: "document",
              mime_type: "application/pdf",
              content: "JVBERi0=",
              name: "report.2026"
            },
            { type: "uri", modality: "video", mime_type: "video/mp4", uri: "s3://bucket/clip.mp4" },
            { type: "blob", modality: "audio", mime_type: "audio/wav", content: "UklGRg==" }
          ]
        },
        {
          role: "assistant",
          parts: [
            { type: "reasoning", content: "thinking" },
            { type: "tool_call", id: "t1", name: "get_weather", arguments: "{\"location\":\"Lisbon\"}" }
          ]
        },
        { role: "tool", parts: [{ type: "tool_call_response", id: "t1", response: { forecast: "mild" } }] },
        {
          role: "user",
          parts: [
            { type: "text", content: "And tomorrow?" },
            { type: "blob", modality: "document", mime_type: "text/csv; charset=utf-8", content: "YSxi" }
          ]
        }
      ],
      responseFormat: { type: "json", name: "Weather", schema: { type: "object" } }
    }, false)
    assert.deepStrictEqual(body["system"], [
      { text: "Be brief." },
      {
        text:
          "Answer with one JSON object named Weather that matches this JSON Schema, and nothing else: {\"type\":\"object\"}"
      }
    ])
    assert.deepStrictEqual(body["messages"], [
      {
        role: "user",
        content: [
          { text: "What is in these?" },
          { image: { format: "png", source: { bytes: "iVBORw0KGgo=" } } },
          { document: { format: "pdf", name: "report-2026", source: { bytes: "JVBERi0=" } } },
          { video: { format: "mp4", source: { s3Location: { uri: "s3://bucket/clip.mp4" } } } }
        ]
      },
      {
        role: "assistant",
        content: [{ toolUse: { toolUseId: "t1", name: "get_weather", input: { location: "Lisbon" } } }]
      },
      {
        role: "user",
        content: [
          { toolResult: { toolUseId: "t1", content: [{ json: { forecast: "mild" } }] } },
          { text: "And tomorrow?" },
          { document: { format: "csv", name: "document-2", source: { bytes: "YSxi" } } }
        ]
      }
    ])
    assert.isUndefined(body["inferenceConfig"])
    assert.isUndefined(body["guardrailConfig"])
  })

  it("a media part whose MIME type names a prototype member (constructor, __proto__) is left out", () => {
    const body = Bedrock.toBody({ model: MODEL }, {
      messages: [{
        role: "user",
        parts: [
          { type: "text", content: "Look" },
          { type: "blob", modality: "image", mime_type: "constructor", content: "AAAA" },
          { type: "blob", modality: "image", mime_type: "__proto__", content: "AAAA" },
          { type: "uri", modality: "video", mime_type: "toString", uri: "s3://bucket/x" }
        ]
      }]
    }, false)
    assert.deepStrictEqual(body["messages"], [{ role: "user", content: [{ text: "Look" }] }])
  })

  it.live("a 200 body with no output message is invalid_response", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({ kind: "json", body: { output: {} } })
      const error = failureOf(yield* Effect.exit(chat({ messages: [question] }).pipe(Effect.provide(bedrock(server)))))
      assert.strictEqual(error.errorType, "invalid_response")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Bedrock errors", () => {
  const documented = [
    { status: 400, type: "ValidationException", errorType: "validationException" },
    { status: 403, type: "AccessDeniedException", errorType: "accessDeniedException" },
    { status: 404, type: "ResourceNotFoundException", errorType: "resourceNotFoundException" },
    { status: 424, type: "ModelErrorException", errorType: "modelErrorException" },
    { status: 429, type: "ThrottlingException", errorType: "throttlingException" },
    { status: 500, type: "InternalServerException", errorType: "internalServerException" },
    { status: 503, type: "ServiceUnavailableException", errorType: "serviceUnavailableException" }
  ]
  for (const { errorType, status, type } of documented) {
    it.live(`${status} ${type}: a ChatError of type ${errorType}, the span's error.type`, () =>
      Effect.gen(function*() {
        const server = (yield* serverFor).reply({ kind: "error", status, type, message: `${type} for this request` })
        const exit = yield* Effect.exit(
          chat({ messages: [question] }).pipe(Effect.provide(bedrock(server, { maxRetries: 0 })))
        )
        const error = failureOf(exit)
        assert.instanceOf(error, ChatModel.ChatError)
        assertErrorStatus(error, errorType, status)
        assert.include(error.message, `${type} for this request`)
        const span = onlyChatSpan(yield* Testing.finishedSpans)
        assert.strictEqual(span.attributes["error.type"], errorType)
      }).pipe(Effect.provide(Testing.layer())))
  }

  const exceptions = [
    "throttlingException",
    "modelStreamErrorException",
    "validationException",
    "serviceUnavailableException",
    "internalServerException"
  ]
  for (const exceptionType of exceptions) {
    it.live(`an exception frame (${exceptionType}) mid-stream fails it with that error.type, after the parts before it`, () =>
      Effect.gen(function*() {
        const server = (yield* serverFor).reply({
          kind: "events",
          chunks: [
            eventFrame("messageStart", { role: "assistant" }),
            eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Mild" } }),
            exceptionFrame(exceptionType, `the model stream failed (${exceptionType})`)
          ]
        })
        const seen: Array<string> = []
        const exit = yield* stream({ messages: [question] }).pipe(
          Stream.runForEach((part) => Effect.sync(() => seen.push(part.type))),
          Effect.exit,
          Effect.provide(bedrock(server))
        )
        const error = failureOf(exit)
        assert.strictEqual(error.errorType, exceptionType)
        assert.include(error.message, `the model stream failed (${exceptionType})`)
        assert.include(seen, "text-delta")
        const span = onlyChatSpan(yield* Testing.finishedSpans)
        assert.strictEqual(span.attributes["error.type"], exceptionType)
        assert.strictEqual(server.received.length, 1, "a stream that failed mid-way is not retried")
      }).pipe(Effect.provide(Testing.layer())))
  }

  it.live("429 with retry-after: the retry is visible, re-signed with a fresh x-amz-date, then succeeds", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply(
        {
          kind: "error",
          status: 429,
          type: "ThrottlingException",
          message: "Too many requests",
          headers: { "retry-after": "1" }
        },
        { kind: "json", body: converseReply }
      )
      const reply = yield* chat({ messages: [question] }).pipe(Effect.provide(bedrock(server)))
      assert.strictEqual(reply.finishReason, "tool_call")
      assert.strictEqual(server.received.length, 2)
      const [first, second] = server.received.map((r) => r.auth)
      assert.strictEqual(first!.kind, "sigv4")
      assert.strictEqual(second!.kind, "sigv4")
      if (first!.kind === "sigv4" && second!.kind === "sigv4") {
        assert.isAbove(second.amzDate.localeCompare(first.amzDate), 0, "the retry is signed at its own time")
        assert.notStrictEqual(second.signature, first.signature)
      }
      const spans = yield* Testing.finishedSpans
      const span = onlyChatSpan(spans)
      const retries = span.events.filter((e) => e.name === "beluga.provider.retry")
      assert.strictEqual(retries.length, 1)
      assert.deepStrictEqual(retries[0]!.attributes, retryEvent("throttlingException", 1000).attributes)
      assert.strictEqual(spans.filter((s) => s.name === "POST").length, 2)
      assert.isUndefined(span.attributes["error.type"])
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a connection cut mid-frame is connection_error; a clean end mid-frame or before messageStop is incomplete_stream", () =>
    Effect.gen(function*() {
      const frames = textStream(["Mild", " and sunny"], { inputTokens: 5, outputTokens: 2 })
      const half = frames[2]!.subarray(0, 9)
      const server = (yield* serverFor).reply(
        { kind: "events", chunks: [frames[0]!, frames[1]!, half], ending: "cut" },
        { kind: "events", chunks: [frames[0]!, frames[1]!, half] },
        { kind: "events", chunks: frames.slice(0, 3) }
      )
      const run = stream({ messages: [question] }).pipe(Stream.runDrain, Effect.exit, Effect.provide(bedrock(server)))
      assert.strictEqual(failureOf(yield* run).errorType, "connection_error")
      const midFrame = failureOf(yield* run)
      assert.strictEqual(midFrame.errorType, "incomplete_stream")
      assert.include(midFrame.message, "inside a frame")
      const early = failureOf(yield* run)
      assert.strictEqual(early.errorType, "incomplete_stream")
      assert.include(early.message, "before its last event")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a stream that stalls fails with timeout after the idle timeout, and the request is aborted", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({
        kind: "events",
        chunks: [eventFrame("messageStart", { role: "assistant" })],
        ending: "stall"
      })
      const error = failureOf(
        yield* stream({ messages: [question] }).pipe(
          Stream.runDrain,
          Effect.exit,
          Effect.provide(bedrock(server, { idleTimeout: "300 millis" }))
        )
      )
      assert.strictEqual(error.errorType, "timeout")
      yield* Effect.sleep("100 millis")
      assert.strictEqual(server.clientHangups, 1)
      assert.strictEqual(onlyChatSpan(yield* Testing.finishedSpans).attributes["error.type"], "timeout")
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a frame claiming more than maxResponseBytes is refused at its prelude, not buffered", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({
        kind: "huge-frame",
        claimed: 512 * 1024 * 1024,
        send: 64 * 1024 * 1024
      })
      const error = failureOf(
        yield* stream({ messages: [question] }).pipe(
          Stream.runDrain,
          Effect.exit,
          Effect.provide(bedrock(server, { maxResponseBytes: 1024 * 1024 }))
        )
      )
      assert.strictEqual(error.errorType, "response_too_large")
      yield* Effect.sleep("100 millis")
      assert.strictEqual(server.clientHangups, 1, "the body was abandoned, not read to its end")
      assert.isBelow(server.hugeBytesWritten, 64 * 1024 * 1024)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("credentials never reach a span or an error, even where the server echoes them", () =>
    Effect.gen(function*() {
      const echo = `denied for ${ACCESS_KEY_ID} with secret ${SECRET} and token ${SESSION_TOKEN}`
      const server = (yield* serverFor).reply(
        { kind: "error", status: 403, type: "AccessDeniedException", message: echo },
        { kind: "error", status: 400, type: ACCESS_KEY_ID, message: "odd" },
        {
          kind: "events",
          chunks: [eventFrame("messageStart", { role: "assistant" }), exceptionFrame("validationException", echo)]
        },
        { kind: "events", chunks: [exceptionFrame(ACCESS_KEY_ID, echo)] }
      )
      const layer = bedrock(server, { maxRetries: 0 })
      const errors = [
        failureOf(yield* Effect.exit(chat({ messages: [question] }).pipe(Effect.provide(layer)))),
        failureOf(yield* Effect.exit(chat({ messages: [question] }).pipe(Effect.provide(layer)))),
        failureOf(yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.exit, Effect.provide(layer))),
        failureOf(yield* stream({ messages: [question] }).pipe(Stream.runDrain, Effect.exit, Effect.provide(layer)))
      ]
      assert.deepStrictEqual(errors.map((e) => e.errorType), [
        "accessDeniedException",
        "400",
        "validationException",
        "_OTHER"
      ])
      assert.include(errors[0]!.message, "<redacted>")
      const strings = [everyString(yield* Testing.finishedSpans), ...errors.map((e) => `${e.errorType} ${e.message}`)]
        .join("\n")
      for (const secret of SECRETS) assert.notInclude(strings, secret)
      assert.include(String(server.received[0]!.headers["x-amz-security-token"]), SESSION_TOKEN, "the token was sent")
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))
  it.live("with HTTP header capture on, the signature and the session token are recorded as <redacted>", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({ kind: "json", body: converseReply })
      yield* chat({ messages: [question] }).pipe(
        Effect.provide(bedrock(server)),
        Effect.provideService(HttpClient.TracerHeaderFilter, () => true)
      )
      const post = Testing.spanNamed(yield* Testing.finishedSpans, "POST")
      assert.strictEqual(post.attributes["http.request.header.authorization"], "<redacted>")
      assert.strictEqual(post.attributes["http.request.header.x-amz-security-token"], "<redacted>")
      assert.match(String(post.attributes["http.request.header.x-amz-date"]), /^\d{8}T\d{6}Z$/)
      for (const secret of SECRETS) assert.notInclude(everyString(yield* Testing.finishedSpans), secret)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a consumer that stops early abandons the stream: the request is aborted, the span marked abandoned", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({
        kind: "events",
        chunks: textStream(Array.from({ length: 200 }, (_, i) => `word${i} `), { inputTokens: 5, outputTokens: 200 }),
        delayMs: 5
      })
      const taken = yield* stream({ messages: [question] }).pipe(
        Stream.filter((part) => part.type === "text-delta"),
        Stream.take(3),
        Stream.runCollect,
        Effect.provide(bedrock(server))
      )
      assert.strictEqual(taken.length, 3)
      yield* Effect.sleep("100 millis")
      assert.strictEqual(server.clientHangups, 1)
      const span = onlyChatSpan(yield* Testing.finishedSpans)
      assert.strictEqual(span.attributes["beluga.stream.abandoned"], true)
      assert.isUndefined(span.attributes["error.type"])
    }).pipe(Effect.provide(Testing.layer())))
})

/** The error a layer from these variables and options fails with. */
const build = (env: Record<string, string>, options: Partial<Bedrock.Options> = {}) =>
  Effect.flip(
    Layer.build(
      Bedrock.layerFromConfig(options).pipe(
        Layer.provide(FetchHttpClient.layer),
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
      )
    ).pipe(Effect.scoped)
  )

describe("Bedrock authentication and configuration", () => {
  it.live("a Bedrock API key is sent as a bearer token in place of a signature, and never recorded", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({ kind: "json", body: converseReply })
      yield* chat({ messages: [question] }).pipe(Effect.provide(bedrock(server, { apiKey: Redacted.make(BEARER) })))
      const sent = server.received[0]!
      assert.deepStrictEqual(sent.auth, { kind: "bearer", token: BEARER })
      assert.isUndefined(sent.headers["x-amz-date"])
      assert.notInclude(everyString(yield* Testing.finishedSpans), BEARER)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("without credentials or a key the request goes unsigned (for a local gateway)", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({ kind: "json", body: converseReply })
      yield* chat({ messages: [question] }).pipe(Effect.provide(bedrock(server, { credentials: undefined })))
      assert.deepStrictEqual(server.received[0]!.auth, { kind: "none" })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("layerFromConfig reads the AWS variables and BEDROCK_*; options override them", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({ kind: "json", body: converseReply }, {
        kind: "json",
        body: converseReply
      })
      const env = {
        AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: SECRET,
        AWS_SESSION_TOKEN: SESSION_TOKEN,
        AWS_REGION: "",
        AWS_DEFAULT_REGION: REGION,
        BEDROCK_BASE_URL: server.url,
        BEDROCK_MODEL_ID: "amazon.nova-pro-v1:0"
      }
      const fromEnv = (options: Partial<Bedrock.Options> = {}) =>
        Bedrock.layerFromConfig(options).pipe(
          Layer.provide(FetchHttpClient.layer),
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
        )
      yield* chat({ messages: [question] }).pipe(Effect.provide(fromEnv()))
      yield* chat({ messages: [question] }).pipe(Effect.provide(fromEnv({ model: MODEL })))
      assert.strictEqual(server.received[0]!.path, "/model/amazon.nova-pro-v1%3A0/converse")
      assert.strictEqual(server.received[0]!.auth.kind, "sigv4", JSON.stringify(server.received[0]!.auth))
      assert.strictEqual(server.received[1]!.path, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse")
      const spans = (yield* Testing.finishedSpans).filter((s) => s.name.startsWith("chat "))
      assert.deepStrictEqual(spans.map((s) => s.name), ["chat amazon.nova-pro-v1:0", `chat ${MODEL}`])
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("an access key without its secret, a bad BEDROCK_BASE_URL, a bad option: a ProviderConfigError naming it", () =>
    Effect.gen(function*() {
      const partial = yield* build({ AWS_ACCESS_KEY_ID: ACCESS_KEY_ID })
      assert.include(partial.message, "AWS_SECRET_ACCESS_KEY")
      assert.notInclude(partial.message, ACCESS_KEY_ID)
      const url = yield* build({ BEDROCK_BASE_URL: "bedrock.example" })
      assert.include(url.message, "BEDROCK_BASE_URL")
      const region = yield* build({}, { region: "Mars/1" })
      assert.include(region.message, "region")
      const guardrail = yield* build({}, { guardrail: { id: "g1", version: "" } })
      assert.include(guardrail.message, "guardrail.version")
      const secret = yield* build({}, {
        credentials: { accessKeyId: Redacted.make(ACCESS_KEY_ID), secretAccessKey: SECRET as never }
      })
      assert.include(secret.message, "credentials.secretAccessKey")
      assert.notInclude(secret.message, SECRET)
    }))

  it.live("works under EffectAi.layer(Bedrock.chatProvider(…)): generateText through effect/ai, one chat span", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply({
        kind: "json",
        body: {
          ...converseReply,
          output: { message: { role: "assistant", content: [{ text: "Mild." }] } },
          stopReason: "end_turn"
        }
      })
      const layer = EffectAi.layer(
        Bedrock.chatProvider({ model: MODEL, region: REGION, baseUrl: server.url, credentials, ...limits })
      ).pipe(Layer.provide(FetchHttpClient.layer))
      const response = yield* LanguageModel.generateText({ prompt: "What is the weather in Lisbon?" }).pipe(
        Effect.provide(layer)
      )
      assert.strictEqual(response.text, "Mild.")
      assert.strictEqual(server.received[0]!.auth.kind, "sigv4")
      const chatSpan = Testing.spanNamed(yield* Testing.finishedSpans, `chat ${MODEL}`)
      assert.strictEqual(chatSpan.kind, SpanKind.CLIENT)
      assert.strictEqual(chatSpan.attributes["gen_ai.provider.name"], "aws.bedrock")
      assert.strictEqual(chatSpan.attributes["gen_ai.usage.input_tokens"], 410)
    }).pipe(Effect.provide(Testing.layer())))
})

describe("Bedrock embeddings (Titan Text Embeddings V2 through InvokeModel)", () => {
  it.live("one signed invoke per input, at most `embeddingConcurrency` at once, vectors in input order", () =>
    Effect.gen(function*() {
      const inputs = ["alpha one", "bravo two words", "charlie", "delta four five six", "echo"]
      const server = (yield* serverFor).reply(...inputs.map(() => ({ kind: "embedding" as const, delayMs: 40 })))
      const result = yield* Effect.flatMap(Effect.service(Embedder.Embedder), (e) => e.embed(inputs)).pipe(
        Effect.provide(bedrock(server, { dimensions: 256, embeddingConcurrency: 2 }))
      )
      assert.deepStrictEqual(result.vectors, inputs.map((text) => [text.length, 256, text.charCodeAt(0) - 96]))
      assert.strictEqual(result.inputTokens, 2 + 3 + 1 + 4 + 1)
      assert.strictEqual(result.model, "amazon.titan-embed-text-v2:0")
      assert.strictEqual(server.received.length, 5)
      assert.isAtMost(server.maxInFlight, 2)
      for (const sent of server.received) {
        assert.strictEqual(sent.path, "/model/amazon.titan-embed-text-v2%3A0/invoke")
        assert.strictEqual(sent.auth.kind, "sigv4")
        assert.deepStrictEqual(Object.keys(sent.body).toSorted(), ["dimensions", "inputText", "normalize"])
        assert.strictEqual(sent.body.normalize, true)
      }
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "embeddings amazon.titan-embed-text-v2:0",
        kind: "client",
        attributes: {
          "gen_ai.operation.name": "embeddings",
          "gen_ai.provider.name": "aws.bedrock",
          "gen_ai.request.model": "amazon.titan-embed-text-v2:0",
          "gen_ai.embeddings.dimension.count": 3,
          "gen_ai.usage.input_tokens": 11
        }
      })
      assert.strictEqual(spans.filter((s) => s.name === "POST").length, 5)
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a reply without inputTextTokenCount records no input tokens (not 0)", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply(
        { kind: "json", body: { embedding: [0.1, 0.2] } },
        { kind: "json", body: { embedding: [0.3, 0.4], inputTextTokenCount: 2 } }
      )
      const result = yield* Effect.flatMap(Effect.service(Embedder.Embedder), (e) => e.embed(["alpha", "bravo"])).pipe(
        Effect.provide(bedrock(server, { embeddingConcurrency: 1 }))
      )
      assert.deepStrictEqual(result.vectors, [[0.1, 0.2], [0.3, 0.4]])
      assert.isUndefined(result.inputTokens)
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "embeddings amazon.titan-embed-text-v2:0",
        absent: ["gen_ai.usage.input_tokens"]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.live("a failed embedding is an EmbeddingError of its AWS type; a reply without a vector is invalid_response", () =>
    Effect.gen(function*() {
      const server = (yield* serverFor).reply(
        { kind: "error", status: 400, type: "ValidationException", message: `bad input for ${ACCESS_KEY_ID}` },
        { kind: "json", body: { embedding: ["x"], inputTextTokenCount: 1 } }
      )
      const embed = Effect.flatMap(Effect.service(Embedder.Embedder), (e) => e.embed(["alpha"])).pipe(
        Effect.provide(bedrock(server, { maxRetries: 0 }))
      )
      const first = failureOf(yield* Effect.exit(embed))
      assert.isTrue(first instanceof Embedder.EmbeddingError)
      assert.strictEqual(first.errorType, "validationException")
      assert.notInclude(first.message, ACCESS_KEY_ID)
      assert.strictEqual(failureOf(yield* Effect.exit(embed)).errorType, "invalid_response")
    }).pipe(Effect.provide(Testing.layer())))
})
