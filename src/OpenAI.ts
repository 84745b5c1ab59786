/**
 * The OpenAI Chat Completions wire format as instrumented `ChatModel` and `Embedder` layers:
 * `POST {baseUrl}/chat/completions` (plain and streamed) and `POST {baseUrl}/embeddings`. The same
 * format serves OpenAI, vLLM, Ollama, LM Studio, Groq, OpenRouter, DeepSeek, Mistral and other
 * compatible servers: point `baseUrl` at them and name them in `provider`.
 *
 * Built on Effect's `HttpClient` (provide `FetchHttpClient.layer` or any other), so each HTTP
 * attempt is a client span nested under the `chat {model}` span, and retries are visible. The
 * options are checked when the layer is built: a bad one (a base URL that is not an http(s) URL,
 * or holds a user name or password; an empty model; a negative limit) fails it with a
 * {@link ProviderConfigError} before any request.
 *
 * Every choice of an `n > 1` reply is an output message; a legacy `function_call` reply is a
 * tool call (`call_0`); `openai.*` attributes (`openai.api.type`, the service tier, the system
 * fingerprint) are written when `provider` is `openai`.
 *
 * ```ts
 * const Models = OpenAI.layer({ model: "gpt-4o-mini", apiKey: Redacted.make(key) }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.2.0
 */
import type { AttributeValue } from "@opentelemetry/api"
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as ChatModel from "./ChatModel.ts"
import * as Embedder from "./Embedder.ts"
import * as GenAI from "./GenAI.ts"
import * as OpenAIEndpoint from "./internal/openaiEndpoint.ts"
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
  mapped,
  nonEmpty,
  ProviderConfigError,
  record,
  type StreamDecoder,
  streamError,
  string,
  textOf,
  toolParameters
} from "./internal/providerKit.ts"
import {
  ATTR_OPENAI_RESPONSE_SERVICE_TIER,
  ATTR_OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
  OpenAIApiType
} from "./internal/semconv.ts"

// Defined in the provider kit, which checks every provider's options; its doc comment is there.
export { ProviderConfigError }

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
  /**
   * Sent as `service_tier` (`auto`, `default`, `flex`, `priority`); recorded as
   * `openai.request.service_tier` unless it is `auto`. Default: not sent.
   */
  readonly serviceTier?: "auto" | "default" | "flex" | "priority" | (string & {}) | undefined
}

/**
 * The default base URL.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultBaseUrl = "https://api.openai.com/v1"

const dialect: Dialect = OpenAIEndpoint.dialect("OpenAI-compatible endpoint")

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
export const toFinishReason = (reason: string): GenAI.FinishReasonName => mapped(finishReasons, reason) ?? reason

/**
 * OpenAI usage in the conventions' terms: `prompt_tokens` already includes the cached ones. A
 * `cost` in the usage (OpenRouter reports each call's cost there, in US dollars of credit) is the
 * call's reported cost.
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
    reasoningOutputTokens: count(record(u["completion_tokens_details"])?.["reasoning_tokens"]),
    ...(typeof u["cost"] === "number" && Number.isFinite(u["cost"]) && u["cost"] >= 0
      ? { cost: { amount: u["cost"], currency: "USD" } }
      : {})
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
  n: request.choiceCount,
  service_tier: options.serviceTier,
  response_format: request.responseFormat !== undefined
    ? {
      type: "json_schema",
      json_schema: { name: request.responseFormat.name, schema: request.responseFormat.schema }
    }
    : undefined,
  // The usage of a streamed call comes in a final chunk of its own, only when asked for.
  ...(stream ? { stream: true, stream_options: { include_usage: true } } : {})
})

/** The reply's service tier and system fingerprint, as OpenAI's own attributes, when it has them. */
const responseAttributes = (root: Record<string, unknown>): Record<string, AttributeValue> => {
  const tier = string(root["service_tier"])
  const fingerprint = string(root["system_fingerprint"])
  return {
    ...(tier !== undefined ? { [ATTR_OPENAI_RESPONSE_SERVICE_TIER]: tier } : {}),
    ...(fingerprint !== undefined ? { [ATTR_OPENAI_RESPONSE_SYSTEM_FINGERPRINT]: fingerprint } : {})
  }
}

/** A choice's reasoning: `reasoning_content` (DeepSeek, vLLM) or `reasoning` (OpenRouter, Ollama). */
const reasoningOf = (fields: Record<string, unknown>): string | undefined =>
  string(fields["reasoning_content"]) ?? string(fields["reasoning"])

/**
 * The id a legacy `function_call` is given: the format has none, and a choice carries at most one,
 * so streamed and plain replies give the same call the same id.
 */
const legacyCallId = "call_0"

/** One choice's message: text, reasoning, tool calls (`tool_calls`, or a legacy `function_call`). */
const readChoice = (
  message: Record<string, unknown>,
  finishReason: unknown
): Pick<ChatModel.ChatResponse, "text" | "toolCalls" | "finishReason" | "reasoning"> => {
  const toolCalls = array(message["tool_calls"]).flatMap((item, index) => {
    const call = record(item)
    const fn = record(call?.["function"])
    const name = string(fn?.["name"])
    if (name === undefined) return []
    return [{
      id: string(call?.["id"]) ?? `call_${index}`,
      name,
      arguments: GenAI.parseToolArguments(string(fn?.["arguments"]) ?? "")
    }]
  })
  const legacy = record(message["function_call"])
  const legacyName = string(legacy?.["name"])
  if (toolCalls.length === 0 && legacyName !== undefined) {
    toolCalls.push({
      id: legacyCallId,
      name: legacyName,
      arguments: GenAI.parseToolArguments(string(legacy?.["arguments"]) ?? "")
    })
  }
  const reasoning = reasoningOf(message)
  return {
    text: string(message["content"]) ?? "",
    toolCalls,
    finishReason: toFinishReason(string(finishReason) ?? GenAI.FinishReason.stop),
    ...(reasoning !== undefined && reasoning !== "" ? { reasoning } : {})
  }
}

/**
 * A Chat Completions response body as a reply; undefined when it has no choice with a message.
 * The first choice (by `index`) is the reply's text, tool calls and finish reason; with several
 * choices (`n > 1`) each is an output message, in index order. `options` says whose endpoint it
 * is: only OpenAI's own replies give `openai.response.*` attributes.
 *
 * @example
 * ```ts
 * const reply = OpenAI.toResponse(JSON.parse(body))
 * ```
 *
 * @since 0.2.0
 * @category mapping
 */
export const toResponse = (
  body: unknown,
  options?: Pick<Options, "provider">
): ChatModel.ChatResponse | undefined => {
  const root = record(body)
  if (root === undefined) return undefined
  const choices = array(root["choices"])
    .flatMap((item, position) => {
      const choice = record(item)
      const message = record(choice?.["message"])
      return choice !== undefined && message !== undefined
        ? [{ index: count(choice["index"]) ?? position, reading: readChoice(message, choice["finish_reason"]) }]
        : []
    })
    .toSorted((a, b) => a.index - b.index)
    .map((choice) => choice.reading)
  const first = choices[0]
  if (first === undefined) return undefined
  const base = { id: string(root["id"]) ?? "", model: string(root["model"]) ?? "", usage: toUsage(root["usage"]) ?? {} }
  const attributes = OpenAIEndpoint.isOpenAI(options) ? responseAttributes(root) : {}
  return {
    ...base,
    ...first,
    ...(choices.length > 1
      ? { outputMessages: choices.map((choice) => ChatModel.toOutputMessage({ ...base, ...choice })) }
      : {}),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {})
  }
}

/**
 * Reads a Chat Completions stream: `data: {chunk}` events until `data: [DONE]`. Each choice's
 * deltas and finish reason become parts under its `choice` index (left off for the first), a
 * legacy `delta.function_call` a tool call (`call_0`), `{"error": …}` fails the stream, and the
 * usage-only final chunk (`choices: []`) becomes a usage part. On OpenAI's own endpoint the
 * service tier and system fingerprint become response attributes when they first appear.
 *
 * @example
 * ```ts
 * const decoder = OpenAI.streamDecoder(endpoint)()
 * ```
 *
 * @since 0.2.0
 * @category mapping
 */
export const streamDecoder = (endpoint: Endpoint, options?: Pick<Options, "provider">) => (): StreamDecoder => {
  let done = false
  let metadataSent = false
  const vendor = OpenAIEndpoint.isOpenAI(options)
  // The service tier and fingerprint repeat on every chunk: only a new value is a part.
  let tierSent: string | undefined
  let fingerprintSent: string | undefined
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
      let attributes: Record<string, AttributeValue> | undefined
      if (vendor) {
        const tier = string(root["service_tier"])
        if (tier !== undefined && tier !== tierSent) {
          tierSent = tier
          attributes = { [ATTR_OPENAI_RESPONSE_SERVICE_TIER]: tier }
        }
        const fingerprint = string(root["system_fingerprint"])
        if (fingerprint !== undefined && fingerprint !== fingerprintSent) {
          fingerprintSent = fingerprint
          attributes = { ...attributes, [ATTR_OPENAI_RESPONSE_SYSTEM_FINGERPRINT]: fingerprint }
        }
      }
      const identity = !metadataSent && (root["id"] !== undefined || root["model"] !== undefined)
      if (identity || attributes !== undefined) {
        parts.push({
          type: "response-metadata",
          ...(identity ? { id: string(root["id"]), model: string(root["model"]) } : {}),
          ...(attributes !== undefined ? { attributes } : {})
        })
        if (identity) metadataSent = true
      }
      for (const [position, item] of array(root["choices"]).entries()) {
        const choice = record(item)
        if (choice === undefined) continue
        const index = count(choice["index"]) ?? position
        const at = index !== 0 ? { choice: index } : {}
        const delta = record(choice["delta"])
        if (delta !== undefined) {
          const reasoning = reasoningOf(delta)
          if (reasoning !== undefined && reasoning !== "") {
            parts.push({ type: "reasoning-delta", delta: reasoning, ...at })
          }
          const content = string(delta["content"])
          if (content !== undefined && content !== "") parts.push({ type: "text-delta", delta: content, ...at })
          const calls = array(delta["tool_calls"])
          for (const raw of calls) {
            const call = record(raw)
            if (call === undefined) continue
            const fn = record(call["function"])
            parts.push({
              type: "tool-call-delta",
              index: count(call["index"]) ?? 0,
              id: string(call["id"]),
              name: string(fn?.["name"]),
              argumentsDelta: string(fn?.["arguments"]),
              ...at
            })
          }
          const legacy = record(delta["function_call"])
          if (calls.length === 0 && legacy !== undefined) {
            const name = string(legacy["name"])
            parts.push({
              type: "tool-call-delta",
              index: 0,
              id: name !== undefined ? legacyCallId : undefined,
              name,
              argumentsDelta: string(legacy["arguments"]),
              ...at
            })
          }
        }
        const finish = string(choice["finish_reason"])
        if (finish !== undefined) parts.push({ type: "finish", reason: toFinishReason(finish), ...at })
      }
      const usage = toUsage(root["usage"])
      if (usage !== undefined) parts.push({ type: "usage", usage })
      return parts
    }
  }
}

/** What the chat and embeddings endpoints share. */
const endpointWire = {
  defaultBaseUrl,
  dialect,
  provider: OpenAIEndpoint.providerOf,
  checks: (options: Options) =>
    OpenAIEndpoint.checks(options, {
      providers: "openai, groq or ollama",
      serviceTiers: "auto, default, flex or priority"
    })
}

/**
 * The chat provider for an OpenAI-compatible endpoint (plain and streamed calls). Fails with a
 * {@link ProviderConfigError} when an option cannot be used.
 *
 * @example
 * ```ts
 * const Model = EffectAi.layer(OpenAI.chatProvider({ model: "gpt-4o-mini", apiKey })).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const chatProvider: (
  options: Options
) => Effect.Effect<ChatModel.Provider, ProviderConfigError, HttpClient.HttpClient> = defineChatProvider({
  ...endpointWire,
  path: "/chat/completions",
  toBody,
  toResponse,
  noReply: "the response has no choices",
  streamDecoder,
  attributes: OpenAIEndpoint.requestAttributes(OpenAIApiType.chatCompletions)
})

/**
 * The embeddings provider for an OpenAI-compatible endpoint.
 *
 * @since 0.2.0
 * @category constructors
 */
export const embeddingProvider: (
  options: Options
) => Effect.Effect<Embedder.Provider, ProviderConfigError, HttpClient.HttpClient> = defineEmbeddingProvider({
  ...endpointWire,
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
      inputTokens: count(record(root?.["usage"])?.["prompt_tokens"])
    }
  }
})

/**
 * `ChatModel` and `Embedder` for an OpenAI-compatible endpoint. Needs an `HttpClient`. Building it
 * fails with a {@link ProviderConfigError} when an option cannot be used.
 *
 * @example
 * ```ts
 * const Models = OpenAI.layer({ model: "gpt-4o-mini", apiKey }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<ChatModel.ChatModel | Embedder.Embedder, ProviderConfigError, HttpClient.HttpClient> =>
  Layer.mergeAll(
    Layer.effect(ChatModel.ChatModel, Effect.map(chatProvider(options), ChatModel.make)),
    Layer.effect(Embedder.Embedder, Effect.map(embeddingProvider(options), Embedder.make))
  )

/**
 * {@link layer} from the environment: `OPENAI_API_KEY` (optional, for local servers),
 * `OPENAI_BASE_URL` (default the OpenAI API), `OPENAI_MODEL` (default `gpt-4o-mini`),
 * `OPENAI_EMBEDDING_MODEL`, `OPENAI_PROVIDER_NAME` (default `openai`). Options override them;
 * an empty variable counts as unset. A base URL that is not an http(s) URL, or holds a user name
 * or password, fails with a {@link ProviderConfigError} naming `OPENAI_BASE_URL`.
 *
 * @example
 * ```ts
 * const Models = OpenAI.layerFromConfig().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerFromConfig: (
  options?: Partial<Options>
) => Layer.Layer<
  ChatModel.ChatModel | Embedder.Embedder,
  Config.ConfigError | ProviderConfigError,
  HttpClient.HttpClient
> = defineLayerFromConfig(OpenAIEndpoint.configVariables<Options>(defaultBaseUrl), layer)
