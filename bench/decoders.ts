/**
 * Per-chunk cost of each provider's stream decoder, with tracing off and on, side by side.
 *
 * Each provider answers from memory (an `HttpClient` whose response body is a prebuilt transcript
 * in the provider's wire format: SSE, or AWS event-stream frames for Bedrock) with `--chunks` text
 * deltas. "off" drains the provider's own `stream` with no tracer; "on" drains the same through
 * `ChatModel.make` (one `chat`/`generate_content` span over the stream, the GenAI metrics) under
 * the tracing layers, with capture off. Rows are interleaved in shuffled order each round and each
 * ratio is taken within a round; the time per chunk is a sample's time ÷ chunks, so the request's
 * own cost is spread alike over both.
 *
 *   node --experimental-transform-types bench/decoders.ts [--quick] [--rounds=15] [--chunks=512] [--out=file.json]
 */
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Stream from "effect/Stream"
import { Anthropic, Bedrock, ChatModel, Gemini, OpenAI, OpenAIResponses } from "../src/index.ts"
import { concatFrames, eventFrame } from "../test/support/bedrock-server.ts"
import { longStream as geminiStream } from "../test/support/gemini-server.ts"
import { data, event } from "../test/support/provider-server.ts"
import { longTextStream as responsesStream } from "../test/support/responses-server.ts"
import { oursLayer } from "./rows.ts"
import { args, ns, ratio, shuffle, summarize, type Summary, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const rounds = argv.number("rounds", quick ? 5 : 15)
const chunks = argv.number("chunks", 512)
const samples = argv.number("samples", quick ? 4 : 10)
const seed = argv.number("seed", Date.now() % 100_000)

const openAiChat = (n: number): string =>
  [
    ...Array.from({ length: n }, (_, i) =>
      data({
        id: "chatcmpl-bench",
        object: "chat.completion.chunk",
        model: "gpt-4o-mini-2024-07-18",
        choices: [{ index: 0, delta: { content: `w${i} ` }, finish_reason: null }]
      })),
    data({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }]
    }),
    data({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: n }
    }),
    data("[DONE]")
  ].join("")

const anthropic = (n: number): string =>
  [
    event("message_start", {
      type: "message_start",
      message: {
        id: "msg_bench",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        usage: { input_tokens: 9, output_tokens: 1 }
      }
    }),
    event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    ...Array.from({ length: n }, (_, i) =>
      event("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: `w${i} ` }
      })),
    event("content_block_stop", { type: "content_block_stop", index: 0 }),
    event("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: n } }),
    event("message_stop", { type: "message_stop" })
  ].join("")

const bedrock = (n: number): Uint8Array =>
  concatFrames([
    eventFrame("messageStart", { role: "assistant" }),
    ...Array.from({ length: n }, (_, i) =>
      eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: `w${i} ` } })),
    eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
    eventFrame("messageStop", { stopReason: "end_turn" }),
    eventFrame("metadata", {
      usage: { inputTokens: 9, outputTokens: n, totalTokens: 9 + n },
      metrics: { latencyMs: 100 }
    })
  ])

/** An HTTP client that answers every request with `body`. */
const answering = (body: string | Uint8Array, contentType: string) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.sync(() =>
        HttpClientResponse.fromWeb(request, new Response(body, { headers: { "content-type": contentType } }))
      )
    )
  )

interface Case {
  readonly name: string
  readonly provider: Effect.Effect<ChatModel.Provider, unknown, HttpClient.HttpClient>
  readonly body: string | Uint8Array
  readonly contentType: string
}

const baseUrl = "http://127.0.0.1:9"
const sseType = "text/event-stream"
const cases: ReadonlyArray<Case> = [
  {
    name: "OpenAI Chat Completions",
    provider: OpenAI.chatProvider({ model: "gpt-4o-mini", baseUrl: `${baseUrl}/v1` }),
    body: openAiChat(chunks),
    contentType: sseType
  },
  {
    name: "OpenAI Responses",
    provider: OpenAIResponses.chatProvider({ model: "gpt-4o-mini", baseUrl: `${baseUrl}/v1` }),
    body: responsesStream(chunks).join(""),
    contentType: sseType
  },
  {
    name: "Anthropic Messages",
    provider: Anthropic.chatProvider({ model: "claude-sonnet-4-5", baseUrl }),
    body: anthropic(chunks),
    contentType: sseType
  },
  {
    name: "Gemini",
    provider: Gemini.chatProvider({ model: "gemini-2.5-flash", baseUrl: `${baseUrl}/v1beta` }),
    body: geminiStream(chunks).join(""),
    contentType: sseType
  },
  {
    name: "Bedrock ConverseStream",
    provider: Bedrock.chatProvider({ model: "amazon.nova-lite-v1:0", baseUrl, region: "us-east-1" }),
    body: bedrock(chunks),
    contentType: "application/vnd.amazon.eventstream"
  }
]

const request: ChatModel.ChatRequest = { messages: [{ role: "user", parts: [{ type: "text", content: "Hi" }] }] }

interface Rows {
  readonly off: () => Promise<unknown>
  readonly on: () => Promise<unknown>
  readonly dispose: () => Promise<void>
}

const rowsOf = async (c: Case): Promise<Rows> => {
  const http = answering(c.body, c.contentType)
  const provider = await Effect.runPromise(Effect.provide(c.provider, http) as Effect.Effect<ChatModel.Provider>)
  const model = ChatModel.make(provider)
  const tracing = ManagedRuntime.make(Layer.merge(oursLayer(undefined).layer, http))
  await tracing.runPromise(Effect.void)
  return {
    off: () => Effect.runPromise(Stream.runDrain(provider.stream!(request))),
    on: () => tracing.runPromise(Stream.runDrain(model.stream(request))),
    dispose: () => tracing.dispose()
  }
}

/** Nanoseconds per chunk of `run`, over `samples` requests. */
const perChunk = async (run: () => Promise<unknown>): Promise<number> => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < samples; i++) await run()
  return Number(process.hrtime.bigint() - start) / samples / chunks
}

export interface DecoderResult {
  readonly chunks: number
  readonly rows: Record<
    string,
    { readonly off: Summary; readonly on: Summary; readonly ratio: Summary; readonly added: Summary }
  >
}

const main = async () => {
  const built = await Promise.all(cases.map(async (c) => ({ name: c.name, rows: await rowsOf(c) })))
  for (const { rows } of built) {
    // Warm both paths before measuring.
    for (let i = 0; i < 3; i++) await Promise.all([rows.off(), rows.on()])
  }
  const times = new Map(built.map(({ name }) => [name, { off: [] as Array<number>, on: [] as Array<number> }]))
  console.log(
    `decoders: ${cases.length} providers × 2 rows × ${rounds} rounds, ${chunks} chunks a stream (seed ${seed})`
  )
  for (let round = 0; round < rounds; round++) {
    const order = shuffle(
      built.flatMap(({ name, rows }) => [{ name, mode: "off" as const, rows }, { name, mode: "on" as const, rows }]),
      seed + round
    )
    for (const { mode, name, rows } of order) times.get(name)![mode].push(await perChunk(rows[mode]))
  }
  const result: DecoderResult = {
    chunks,
    rows: Object.fromEntries([...times].map(([name, { off, on }]) => [name, {
      off: summarize(off),
      on: summarize(on),
      ratio: summarize(on.map((t, i) => t / off[i]!)),
      added: summarize(on.map((t, i) => t - off[i]!))
    }]))
  }
  console.log()
  console.log(table(
    ["provider (per chunk)", "tracing off", "tracing on", "on ÷ off (rounds min–max)", "added by tracing (min–max)"],
    Object.entries(result.rows).map(([name, row]) => [
      name,
      ns(row.off.median),
      ns(row.on.median),
      `${ratio(row.ratio.median)} (${ratio(row.ratio.min)}–${ratio(row.ratio.max)})`,
      `${ns(row.added.median)} (${ns(row.added.min)} – ${ns(row.added.max)})`
    ])
  ))
  writeResult(argv.string("out", "") || undefined, result)
  await Promise.all(built.map(({ rows }) => rows.dispose()))
}

await main()
