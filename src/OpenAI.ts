/**
 * The OpenAI Chat Completions wire format as instrumented `ChatModel` and `Embedder` layers:
 * `POST {baseUrl}/chat/completions` (plain and streamed) and `POST {baseUrl}/embeddings`. The same
 * format serves OpenAI, vLLM, Ollama, LM Studio, Groq, OpenRouter, DeepSeek, Mistral and other
 * compatible servers: point `baseUrl` at them and name them in `provider`.
 *
 * Built on Effect's `HttpClient` (provide `FetchHttpClient.layer` or any other), so each HTTP
 * attempt is a client span nested under the `chat {model}` span, and retries are visible.
 *
 * ```ts
 * const Models = OpenAI.layer({ model: "gpt-4o-mini", apiKey: Redacted.make(key) }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.2.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as ChatModel from "./ChatModel.ts"
import * as Embedder from "./Embedder.ts"
import * as GenAI from "./GenAI.ts"
import {
  array,
  count,
  defineChatProvider,
  defineEmbeddingProvider,
  defineLayerFromConfig,
  type Dialect,
  type Endpoint,
  type EndpointOptions,
  eventJson,
  jsonText,
  nonEmpty,
  record,
  type StreamDecoder,
  streamError,
  string,
  textOf,
  toolParameters
} from "./internal/providerKit.ts"

/**
 * Options for an OpenAI-compatible endpoint.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options extends EndpointOptions {
  /** The chat model, e.g. `gpt-4o-mini`. */
  readonly model: string
  /** Sent as `Authorization: Bearer …`; never recorded. Local servers may need none. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Default `https://api.openai.com/v1`; paths are appended to it. */
  readonly baseUrl?: string | URL | undefined
  /** `gen_ai.provider.name`; default `openai`. Name the compatible server you call (`groq`, `deepseek`, …). */
  readonly provider?: GenAI.ProviderName | undefined
  /** The embeddings model; default `text-embedding-3-small`. */
  readonly embeddingModel?: string | undefined
  /** Embedding dimensions; default 1536 (the model's own size is then asked for). */
  readonly dimensions?: number | undefined
}

/**
 * The default base URL.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultBaseUrl = "https://api.openai.com/v1"

const dialect: Dialect = {
  name: "OpenAI-compatible endpoint",
  authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  // {"error": {"message", "type", "code"}}: the code is the specific one (`rate_limit_exceeded`).
  errorOf: (body) => {
    const error = record(record(body)?.["error"])
    return { errorType: string(error?.["code"]) ?? string(error?.["type"]), message: string(error?.["message"]) }
  }
}

const finishReasons: Readonly<Record<string, GenAI.FinishReasonName>> = {
  stop: GenAI.FinishReason.stop,
  length: GenAI.FinishReason.length,
  tool_calls: GenAI.FinishReason.toolCall,
  function_call: GenAI.FinishReason.toolCall,
  content_filter: GenAI.FinishReason.contentFilter
}

/**
 * An OpenAI finish reason in the conventions' words (`tool_calls` → `tool_call`); others as sent.
 *
 * @since 0.2.0
 * @category mapping
 */
export const toFinishReason = (reason: string): GenAI.FinishReasonName => finishReasons[reason] ?? reason

/**
 * OpenAI usage in the conventions' terms: `prompt_tokens` already includes the cached ones.
 *
 * @since 0.2.0
 * @category mapping
 */
export const toUsage = (usage: unknown): GenAI.Usage | undefined => {
  const u = record(usage)
  if (u === undefined) return undefined
  return {
    inputTokens: count(u["prompt_tokens"]),
    outputTokens: count(u["completion_tokens"]),
    cacheReadInputTokens: count(record(u["prompt_tokens_details"])?.["cached_tokens"]),
    reasoningOutputTokens: count(record(u["completion_tokens_details"])?.["reasoning_tokens"])
  }
}

/** The conventions' messages as Chat Completions messages. */
const toMessages = (request: ChatModel.ChatRequest): Array<Record<string, unknown>> => {
  const out: Array<Record<string, unknown>> = []
  if (request.systemInstructions !== undefined && request.systemInstructions.length > 0) {
    out.push({ role: "system", content: textOf(request.systemInstructions) })
  }
  for (const message of request.messages) {
    const calls = message.parts.flatMap((part) =>
      part.type === "tool_call" ? [part as GenAI.MessagePart & { type: "tool_call" }] : []
    )
    const results = message.parts.flatMap((part) =>
      part.type === "tool_call_response" ? [part as GenAI.MessagePart & { type: "tool_call_response" }] : []
    )
    if (results.length > 0) {
      for (const result of results) {
        out.push({ role: "tool", tool_call_id: result.id ?? "", content: jsonText(result.response) })
      }
      continue
    }
    const text = textOf(message.parts)
    out.push({
      role: message.role,
      content: calls.length > 0 && text === "" ? null : text,
      name: message.name,
      tool_calls: nonEmpty(calls)?.map((call) => ({
        id: call.id ?? "",
        type: "function",
        function: { name: call.name, arguments: jsonText(call.arguments ?? {}) }
      }))
    })
  }
  return out
}

const toBody = (options: Options, request: ChatModel.ChatRequest, stream: boolean): Record<string, unknown> => ({
  model: options.model,
  messages: toMessages(request),
  tools: nonEmpty(request.tools)?.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: toolParameters(tool) }
  })),
  temperature: request.temperature,
  top_p: request.topP,
  max_tokens: request.maxTokens,
  stop: request.stopSequences,
  seed: request.seed,
  response_format: request.responseFormat !== undefined
    ? {
      type: "json_schema",
      json_schema: { name: request.responseFormat.name, schema: request.responseFormat.schema }
    }
    : undefined,
  // The usage of a streamed call comes in a final chunk of its own, only when asked for.
  ...(stream ? { stream: true, stream_options: { include_usage: true } } : {})
})

/**
 * A Chat Completions response body as a reply; undefined when it is not one.
 *
 * @since 0.2.0
 * @category mapping
 */
export const toResponse = (body: unknown): ChatModel.ChatResponse | undefined => {
  const root = record(body)
  const choice = record(array(root?.["choices"])[0])
  const message = record(choice?.["message"])
  if (root === undefined || message === undefined) return undefined
  return {
    id: string(root["id"]) ?? "",
    model: string(root["model"]) ?? "",
    text: string(message["content"]) ?? "",
    toolCalls: array(message["tool_calls"]).flatMap((item, index) => {
      const call = record(item)
      const fn = record(call?.["function"])
      const name = string(fn?.["name"])
      if (name === undefined) return []
      return [{
        id: string(call?.["id"]) ?? `call_${index}`,
        name,
        arguments: GenAI.parseToolArguments(string(fn?.["arguments"]) ?? "")
      }]
    }),
    finishReason: toFinishReason(string(choice?.["finish_reason"]) ?? GenAI.FinishReason.stop),
    usage: toUsage(root["usage"]) ?? {}
  }
}

/**
 * Reads a Chat Completions stream: `data: {chunk}` events until `data: [DONE]`. A chunk's deltas
 * become parts (only the first choice's content; every choice's finish reason), `{"error": …}`
 * fails the stream, and the usage-only final chunk (`choices: []`) becomes a usage part.
 *
 * @since 0.2.0
 * @category mapping
 */
export const streamDecoder = (endpoint: Endpoint) => (): StreamDecoder => {
  let done = false
  let metadataSent = false
  return {
    finished: () => done,
    onEvent: (event) => {
      if (event.data === "[DONE]") {
        done = true
        return []
      }
      const chunk = eventJson(event, endpoint)
      if (chunk instanceof ChatModel.ChatError) return chunk
      const root = record(chunk)
      if (root === undefined) return []
      if (record(root["error"]) !== undefined) return streamError(endpoint, dialect, root)
      const parts: Array<GenAI.StreamPart> = []
      if (!metadataSent && (root["id"] !== undefined || root["model"] !== undefined)) {
        metadataSent = true
        parts.push({ type: "response-metadata", id: string(root["id"]), model: string(root["model"]) })
      }
      for (const item of array(root["choices"])) {
        const choice = record(item)
        if (choice === undefined) continue
        const first = (count(choice["index"]) ?? 0) === 0
        const delta = record(choice["delta"])
        if (first && delta !== undefined) {
          // `reasoning_content` (DeepSeek, vLLM) and `reasoning` (OpenRouter, Ollama) carry thinking.
          const reasoning = string(delta["reasoning_content"]) ?? string(delta["reasoning"])
          if (reasoning !== undefined && reasoning !== "") parts.push({ type: "reasoning-delta", delta: reasoning })
          const content = string(delta["content"])
          if (content !== undefined && content !== "") parts.push({ type: "text-delta", delta: content })
          for (const raw of array(delta["tool_calls"])) {
            const call = record(raw)
            if (call === undefined) continue
            const fn = record(call["function"])
            parts.push({
              type: "tool-call-delta",
              index: count(call["index"]) ?? 0,
              id: string(call["id"]),
              name: string(fn?.["name"]),
              argumentsDelta: string(fn?.["arguments"])
            })
          }
        }
        const finish = string(choice["finish_reason"])
        if (finish !== undefined) parts.push({ type: "finish", reason: toFinishReason(finish) })
      }
      const usage = toUsage(root["usage"])
      if (usage !== undefined) parts.push({ type: "usage", usage })
      return parts
    }
  }
}

/** What the chat and embeddings endpoints share. */
const wire = {
  defaultBaseUrl,
  dialect,
  provider: (options: Options) => options.provider ?? GenAI.Provider.openai
}

/**
 * The chat provider for an OpenAI-compatible endpoint (plain and streamed calls).
 *
 * @since 0.2.0
 * @category constructors
 */
export const chatProvider: (options: Options) => Effect.Effect<ChatModel.Provider, never, HttpClient.HttpClient> =
  defineChatProvider({
    ...wire,
    path: "/chat/completions",
    toBody,
    toResponse,
    noReply: "the response has no choices",
    streamDecoder
  })

/**
 * The embeddings provider for an OpenAI-compatible endpoint.
 *
 * @since 0.2.0
 * @category constructors
 */
export const embeddingProvider: (
  options: Options
) => Effect.Effect<Embedder.Provider, never, HttpClient.HttpClient> = defineEmbeddingProvider({
  ...wire,
  path: "/embeddings",
  model: (options) => options.embeddingModel ?? "text-embedding-3-small",
  dimensions: (options) => options.dimensions ?? 1536,
  toBody: (options, model, inputs) => ({
    model,
    input: inputs,
    encoding_format: "float",
    dimensions: options.dimensions
  }),
  toEmbeddings: (body, model) => {
    const root = record(body)
    return {
      model: string(root?.["model"]) ?? model,
      vectors: array(root?.["data"]).map(record)
        .toSorted((a, b) => (count(a?.["index"]) ?? 0) - (count(b?.["index"]) ?? 0))
        .map((item) => array(item?.["embedding"])),
      inputTokens: count(record(root?.["usage"])?.["prompt_tokens"]) ?? 0
    }
  }
})

/**
 * `ChatModel` and `Embedder` for an OpenAI-compatible endpoint. Needs an `HttpClient`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<ChatModel.ChatModel | Embedder.Embedder, never, HttpClient.HttpClient> =>
  Layer.mergeAll(
    Layer.effect(ChatModel.ChatModel, Effect.map(chatProvider(options), ChatModel.make)),
    Layer.effect(Embedder.Embedder, Effect.map(embeddingProvider(options), Embedder.make))
  )

/**
 * {@link layer} from the environment: `OPENAI_API_KEY` (optional, for local servers),
 * `OPENAI_BASE_URL` (default the OpenAI API), `OPENAI_MODEL` (default `gpt-4o-mini`),
 * `OPENAI_EMBEDDING_MODEL`, `OPENAI_PROVIDER_NAME` (default `openai`). Options override them.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerFromConfig: (
  options?: Partial<Options>
) => Layer.Layer<ChatModel.ChatModel | Embedder.Embedder, Config.ConfigError, HttpClient.HttpClient> =
  defineLayerFromConfig({
    apiKey: "OPENAI_API_KEY",
    baseUrl: "OPENAI_BASE_URL",
    model: "OPENAI_MODEL",
    defaultBaseUrl,
    defaultModel: "gpt-4o-mini",
    more: Config.all({
      embeddingModel: Config.option(Config.String("OPENAI_EMBEDDING_MODEL")).pipe(Config.map(Option.getOrUndefined)),
      provider: Config.String("OPENAI_PROVIDER_NAME").pipe(Config.withDefault(GenAI.Provider.openai))
    })
  }, layer)
