/**
 * SIMULATED providers: a deterministic offline chat model, embedder and retriever, so examples
 * and tests run with no API key and no network. They are not models: the chat model follows a
 * fixed script (call the offered tools once, then answer from their results), the embedder hashes
 * text into unit vectors, the retriever ranks an in-memory corpus by word overlap. What they do
 * imitate faithfully is what a trace shows: token counts (~4 characters a token), finish reasons
 * (`tool_call`, `stop`, `length`), response ids and models, and latency that grows with output.
 *
 * Latency uses Effect's `Clock`, so under `TestClock` it advances only when the test says so;
 * pass `latency: 0` to switch it off.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as ChatModel from "./ChatModel.ts"
import * as Embedder from "./Embedder.ts"
import type * as GenAI from "./GenAI.ts"
import * as Retriever from "./Retriever.ts"

/**
 * The provider name the simulated components report in `gen_ai.provider.name`.
 *
 * @since 0.1.0
 * @category constants
 */
export const providerName = "simulated"

/**
 * Options shared by the simulated components.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Multiplies every simulated delay; 0 removes them. Default 1. */
  readonly latency?: number | undefined
}

/** FNV-1a: a small, stable hash, so the same input always gives the same ids and vectors. */
const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** ~4 characters a token, the rule of thumb for English with BPE tokenizers. */
export const countTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

const delay = (options: Options, millis: number) => {
  const scale = options.latency ?? 1
  return scale > 0 ? Effect.sleep(Math.round(millis * scale)) : Effect.void
}

const textOf = (parts: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }>): string =>
  parts.map((part) =>
    part.type === "text" || part.type === "reasoning"
      ? String(part.content)
      : part.type === "tool_call_response"
      ? JSON.stringify(part.response)
      : part.type === "tool_call"
      ? `${String(part.name)}(${JSON.stringify(part.arguments)})`
      : ""
  ).join(" ")

/**
 * A value matching a JSON Schema, for structured answers: each required property filled (strings
 * with `text`, numbers 0, booleans false, arrays empty, `enum`/`const` with their first value).
 */
const instanceOf = (schema: unknown, text: string, depth = 0): unknown => {
  const s = (typeof schema === "object" && schema !== null ? schema : {}) as Record<string, unknown>
  if (depth > 16) return null
  if (Array.isArray(s["enum"]) && s["enum"].length > 0) return s["enum"][0]
  if ("const" in s) return s["const"]
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const options = s[key]
    if (Array.isArray(options) && options.length > 0) return instanceOf(options[0], text, depth + 1)
  }
  const type = Array.isArray(s["type"]) ? s["type"][0] : s["type"]
  switch (type) {
    case "string":
      return text
    case "number":
    case "integer":
      return typeof s["minimum"] === "number" ? s["minimum"] : 0
    case "boolean":
      return false
    case "array":
      return []
    case "null":
      return null
    default: {
      const properties = (s["properties"] ?? {}) as Record<string, unknown>
      const required = Array.isArray(s["required"]) ? s["required"] as Array<string> : Object.keys(properties)
      return Object.fromEntries(required.map((key) => [key, instanceOf(properties[key], text, depth + 1)]))
    }
  }
}

/** One scripted reply: what the model says and how long it takes, by ~tokens out. */
const scripted = (
  id: string,
  inputTokens: number,
  reply: {
    readonly text: string
    readonly toolCalls: ChatModel.ChatResponse["toolCalls"]
    readonly finishReason: ChatModel.ChatResponse["finishReason"]
  },
  outputTokens: number,
  millis: number
) => ({
  millis,
  response: {
    id,
    model: "sim-gpt-4o-2024-08-06",
    ...reply,
    usage: { inputTokens, outputTokens, cacheReadInputTokens: 0 }
  } satisfies ChatModel.ChatResponse
})

/** The scripted reply to `request`, and how long the simulated model takes to produce it. */
const reply = (
  request: ChatModel.ChatRequest
): { readonly response: ChatModel.ChatResponse; readonly millis: number } => {
  const conversation = [
    textOf(request.systemInstructions ?? []),
    ...request.messages.map((message) => textOf(message.parts)),
    JSON.stringify(request.tools ?? [])
  ].join("\n")
  const inputTokens = countTokens(conversation)
  const id = `simcmpl-${hash(conversation).toString(16).padStart(8, "0")}`
  const lastUser = request.messages.findLast((m) => m.role === "user")
  const question = lastUser !== undefined ? textOf(lastUser.parts) : ""
  // Tool results count for the current question only: a new question gets new tool calls.
  const lastQuestion = request.messages.findLastIndex((m) => m.role === "user")
  const hasToolResults = request.messages.some((m, i) => m.role === "tool" && i > lastQuestion)
  const tools = request.tools ?? []

  // A tool whose last result was an error (`{ error: … }`) is called again.
  const lastResults = request.messages.findLast((m) => m.role === "tool")?.parts ?? []
  const failed = lastResults.flatMap((part) => {
    const response = (part as { readonly response?: unknown }).response
    const call = request.messages.flatMap((m) => m.parts).find((p) =>
      p.type === "tool_call" && (p as { readonly id?: unknown }).id === (part as { readonly id?: unknown }).id
    ) as { readonly name?: unknown } | undefined
    return isError(response) && typeof call?.name === "string"
      ? tools.filter((tool) => tool.name === call.name)
      : []
  })
  const retrying = failed.length > 0
  if (tools.length > 0 && (!hasToolResults || retrying)) {
    const toolCalls = (retrying ? failed : tools).map((tool, i) => ({
      id: `call_${hash(`${id}:${tool.name}:${i}`).toString(36)}`,
      name: tool.name,
      arguments: { query: question }
    }))
    const outputTokens = countTokens(JSON.stringify(toolCalls))
    return scripted(
      id,
      inputTokens,
      { text: "", toolCalls, finishReason: "tool_call" },
      outputTokens,
      180 + 2 * outputTokens
    )
  }

  if (request.responseFormat !== undefined) {
    const text = JSON.stringify(instanceOf(request.responseFormat.schema, question))
    const outputTokens = countTokens(text)
    return scripted(
      id,
      inputTokens,
      { text, toolCalls: [], finishReason: "stop" },
      outputTokens,
      220 + 3 * outputTokens
    )
  }

  // What the tools and the system said; a tool's error is no evidence.
  const evidence = request.messages
    .filter((m) => m.role === "tool" || m.role === "system")
    .map((m) => textOf(m.parts.filter((part) => !isError((part as { readonly response?: unknown }).response))))
    .filter((text) => text.trim() !== "")
    .join("; ")
  let text = evidence !== ""
    ? `Answer to "${question}": based on ${evidence.replace(/\.$/, "")}.`
    : `Answer to "${question}": I have no further information.`
  let outputTokens = countTokens(text)
  let finishReason: ChatModel.ChatResponse["finishReason"] = "stop"
  if (request.maxTokens !== undefined && outputTokens > request.maxTokens) {
    text = text.slice(0, request.maxTokens * 4)
    outputTokens = request.maxTokens
    finishReason = "length"
  }
  return scripted(id, inputTokens, { text, toolCalls: [], finishReason }, outputTokens, 220 + 3 * outputTokens)
}

const isError = (response: unknown): boolean => typeof response === "object" && response !== null && "error" in response

/** Splits text into word-sized deltas (each keeps its leading space), as models stream them. */
const deltas = (text: string): Array<string> => text.match(/\s*\S+/g) ?? []

/**
 * A simulated chat model, `sim-gpt-4o` from provider `simulated`. Given tools and no tool results
 * since the last user message, it calls every offered tool (finish reason `tool_call`); a tool whose last result was an
 * error (`{ error: … }`) it calls again; otherwise it answers from the tool results and context
 * in the conversation (`stop`, or `length` when `maxTokens` cuts it short). Asked for JSON
 * (`responseFormat`), it answers with an object that fits the schema.
 *
 * It streams too: after a first-chunk delay, the answer arrives a word at a time, tool calls as an
 * id-and-name delta followed by argument fragments, then the finish reason and a usage-only chunk,
 * the way OpenAI's stream ends.
 *
 * @since 0.1.0
 * @category providers
 */
export const chatProvider = (options: Options = {}): ChatModel.Provider => ({
  provider: providerName,
  model: "sim-gpt-4o",
  serverAddress: "sim.local",
  serverPort: 443,
  complete: (request) =>
    Effect.suspend(() => {
      const { millis, response } = reply(request)
      return delay(options, millis).pipe(Effect.as(response))
    }),
  stream: (request) =>
    Stream.suspend(() => {
      const { millis, response } = reply(request)
      const words = deltas(response.text)
      const content: Array<GenAI.StreamPart> = [
        ...words.map((delta) => ({ type: "text-delta" as const, delta })),
        ...response.toolCalls.flatMap((call, index) => {
          const args = JSON.stringify(call.arguments)
          const half = Math.ceil(args.length / 2)
          return [
            { type: "tool-call-delta" as const, index, id: call.id, name: call.name, argumentsDelta: "" },
            { type: "tool-call-delta" as const, index, argumentsDelta: args.slice(0, half) },
            { type: "tool-call-delta" as const, index, argumentsDelta: args.slice(half) }
          ]
        })
      ]
      // The whole call takes as long as `complete`: a third before the first chunk, the rest spread over the chunks.
      const perChunk = content.length > 0 ? (millis * 2) / 3 / content.length : 0
      return Stream.concat(
        Stream.fromEffect(
          delay(options, millis / 3).pipe(
            Effect.as<GenAI.StreamPart>({ type: "response-metadata", id: response.id, model: response.model })
          )
        ),
        Stream.fromIterable(content).pipe(Stream.tap(() => delay(options, perChunk)))
      ).pipe(Stream.concat(Stream.fromIterable<GenAI.StreamPart>([
        { type: "finish", reason: response.finishReason },
        { type: "usage", usage: response.usage }
      ])))
    })
})

/**
 * A simulated embedder, `sim-embedding-3-small` (1536 dimensions by default): each text hashes to
 * a deterministic unit vector.
 *
 * @since 0.1.0
 * @category providers
 */
export const embeddingProvider = (options: Options & { readonly dimensions?: number | undefined } = {}) => {
  const dimensions = options.dimensions ?? 1536
  return {
    provider: providerName,
    model: "sim-embedding-3-small",
    dimensions,
    embed: (inputs: ReadonlyArray<string>) =>
      Effect.suspend(() => {
        const vectors = inputs.map((input) => {
          let state = hash(input) || 1
          const vector = Array.from({ length: dimensions }, () => {
            // xorshift32: cheap, deterministic, spread over [-1, 1].
            state ^= state << 13
            state ^= state >>> 17
            state ^= state << 5
            return ((state >>> 0) / 0xffffffff) * 2 - 1
          })
          const norm = Math.hypot(...vector.slice(0, 64)) * Math.sqrt(dimensions / 64) || 1
          return vector.map((x) => x / norm)
        })
        const inputTokens = inputs.reduce((sum, input) => sum + countTokens(input), 0)
        return delay(options, 40 + inputTokens / 50).pipe(
          Effect.as({ model: "sim-embedding-3-small", vectors, inputTokens })
        )
      })
  } satisfies Embedder.Provider
}

/**
 * The corpus the simulated retriever searches by default.
 *
 * @since 0.1.0
 * @category providers
 */
export const defaultCorpus: ReadonlyArray<{ readonly id: string; readonly text: string }> = [
  { id: "doc-otel-1", text: "OpenTelemetry exports traces over OTLP to collectors such as Jaeger or Grafana Tempo." },
  {
    id: "doc-effect-1",
    text: "Effect runs concurrent fibers with structured concurrency; child fibers end with their parent."
  },
  {
    id: "doc-genai-1",
    text: "The GenAI semantic conventions name chat spans after the operation and the request model."
  },
  { id: "doc-weather-1", text: "Lisbon weather in November: mild, around 17 degrees, with occasional rain." },
  { id: "doc-travel-1", text: "Trains from Lisbon to Porto take about three hours and leave every hour." }
]

const words = (text: string) => new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? [])

/**
 * A simulated retriever over `corpus`, data source `knowledge-base`: documents ranked by word
 * overlap with the query (Jaccard score).
 *
 * @since 0.1.0
 * @category providers
 */
export const retrievalBackend = (
  options: Options & { readonly corpus?: ReadonlyArray<{ readonly id: string; readonly text: string }> } = {}
): Retriever.Backend => {
  const corpus = (options.corpus ?? defaultCorpus).map((doc) => ({ ...doc, words: words(doc.text) }))
  return {
    dataSourceId: "knowledge-base",
    provider: providerName,
    search: (query, topK) =>
      Effect.suspend(() => {
        const q = words(query)
        const ranked = corpus
          .map((doc) => {
            const overlap = [...q].filter((w) => doc.words.has(w)).length
            const score = overlap / (q.size + doc.words.size - overlap || 1)
            return { id: doc.id, text: doc.text, score: Math.round(score * 1000) / 1000 }
          })
          .toSorted((a, b) => b.score - a.score || a.id.localeCompare(b.id))
          .slice(0, topK)
        return delay(options, 60 + 5 * corpus.length).pipe(Effect.as(ranked))
      })
  }
}

/**
 * All three simulated components as instrumented services.
 *
 * @example
 * ```ts
 * program.pipe(Effect.provide(Simulated.layer()), Effect.provide(Tracing.TracingLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<ChatModel.ChatModel | Embedder.Embedder | Retriever.Retriever> =>
  Layer.mergeAll(
    ChatModel.layer(chatProvider(options)),
    Embedder.layer(embeddingProvider(options)),
    Retriever.layer(retrievalBackend(options))
  )
