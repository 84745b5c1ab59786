/**
 * The Anthropic Messages API as an instrumented `ChatModel` layer: `POST {baseUrl}/v1/messages`,
 * plain and streamed (`message_start`, `content_block_start`/`_delta`/`_stop`, `message_delta`,
 * `message_stop`, `ping`, `error`). Anthropic has no embeddings endpoint, so there is no `Embedder`.
 *
 * Usage follows the conventions: `gen_ai.usage.input_tokens` is Anthropic's `input_tokens` plus
 * its cache reads and cache writes, which are also recorded on their own. Anthropic reports no
 * separate count of thinking tokens (they are part of `output_tokens`), so
 * `gen_ai.usage.reasoning.output_tokens` is never written. `thinking` blocks, streamed or not, are
 * the reply's reasoning; `redacted_thinking` blocks hold only encrypted data and are not recorded.
 *
 * The options are checked when the layer is built: a bad one fails it with a
 * {@link ProviderConfigError} before any request.
 *
 * ```ts
 * const Model = Anthropic.layer({ model: "claude-sonnet-4-5", apiKey: Redacted.make(key) }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.2.0
 */
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as ChatModel from "./ChatModel.ts"
import * as GenAI from "./GenAI.ts"
import {
  argumentsObject,
  array,
  cacheExclusiveUsage,
  checkOptionalText,
  checkWhole,
  count,
  defineChatProvider,
  defineLayerFromConfig,
  type Dialect,
  type Endpoint,
  type EndpointOptions,
  eventJson,
  jsonAnswerInstruction,
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

// Defined in the provider kit, which checks every provider's options; its doc comment is there.
export { ProviderConfigError }

/**
 * Options for the Messages API.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options extends EndpointOptions {
  /** The model, e.g. `claude-sonnet-4-5`. */
  readonly model: string
  /** Sent as `x-api-key`; never recorded. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Default `https://api.anthropic.com`; `/v1/messages` is appended. */
  readonly baseUrl?: string | URL | undefined
  /** The Messages API requires `max_tokens`; used when a request sets none. Default 4096. */
  readonly defaultMaxTokens?: number | undefined
  /** `anthropic-version`; default `2023-06-01`. */
  readonly version?: string | undefined
}

/**
 * The default base URL.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultBaseUrl = "https://api.anthropic.com"

const dialect: Dialect = {
  name: "Anthropic",
  authHeaders: (apiKey) => ({ "x-api-key": apiKey }),
  // {"type": "error", "error": {"type": "overloaded_error", "message": …}}
  errorOf: (body) => {
    const error = record(record(body)?.["error"])
    return { errorType: string(error?.["type"]), message: string(error?.["message"]) }
  }
}

const finishReasons: Readonly<Record<string, GenAI.FinishReasonName>> = {
  end_turn: GenAI.FinishReason.stop,
  stop_sequence: GenAI.FinishReason.stop,
  max_tokens: GenAI.FinishReason.length,
  model_context_window_exceeded: GenAI.FinishReason.length,
  tool_use: GenAI.FinishReason.toolCall,
  refusal: GenAI.FinishReason.contentFilter
}

/**
 * An Anthropic `stop_reason` in the conventions' words (`end_turn` → `stop`, `tool_use` →
 * `tool_call`, `max_tokens` → `length`, `refusal` → `content_filter`); others as sent.
 *
 * @since 0.2.0
 * @category mapping
 */
export const toFinishReason = (reason: string): GenAI.FinishReasonName => mapped(finishReasons, reason) ?? reason

/**
 * Anthropic usage in the conventions' terms: input tokens are the uncached input plus cache reads
 * plus cache writes. Fields absent from `usage` stay absent (a `message_delta` may carry only
 * `output_tokens`).
 *
 * @since 0.2.0
 * @category mapping
 */
export const toUsage = (usage: unknown): GenAI.Usage | undefined => {
  const u = record(usage)
  return u !== undefined
    ? cacheExclusiveUsage({
      input: u["input_tokens"],
      output: u["output_tokens"],
      cacheRead: u["cache_read_input_tokens"],
      cacheWrite: u["cache_creation_input_tokens"]
    })
    : undefined
}

/** A conventions message part as a Messages API content block; parts it cannot carry are left out. */
const toBlock = (part: GenAI.MessagePart): Array<Record<string, unknown>> => {
  const p = part as Record<string, unknown>
  switch (part.type) {
    case "text":
      return [{ type: "text", text: String(p["content"]) }]
    case "tool_call":
      return [{ type: "tool_use", id: p["id"] ?? "", name: p["name"], input: argumentsObject(p["arguments"]) }]
    case "tool_call_response":
      return [{ type: "tool_result", tool_use_id: p["id"] ?? "", content: jsonText(p["response"]) }]
    default:
      return []
  }
}

const systemOf = (request: ChatModel.ChatRequest): string =>
  [textOf(request.systemInstructions ?? []), jsonAnswerInstruction(request.responseFormat)]
    .filter((text) => text !== "").join("\n\n")

const toBody = (options: Options, request: ChatModel.ChatRequest, stream: boolean): Record<string, unknown> => {
  const system = systemOf(request)
  return {
    model: options.model,
    max_tokens: request.maxTokens ?? options.defaultMaxTokens ?? 4096,
    // The Messages API has no JSON response mode: a structured answer is asked for in the system prompt.
    system: system !== "" ? system : undefined,
    // The Messages API has two roles: tool results travel in user messages.
    messages: request.messages.flatMap((message) =>
      message.role === "system" ? [] : [{
        role: message.role === "assistant" ? "assistant" : "user",
        content: message.parts.flatMap(toBlock)
      }]
    ),
    tools: nonEmpty(request.tools)?.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: toolParameters(tool)
    })),
    temperature: request.temperature,
    top_p: request.topP,
    stop_sequences: request.stopSequences,
    ...(stream ? { stream: true } : {})
  }
}

/**
 * A Messages API response body as a reply; undefined when it is not one. `text` blocks are the
 * text, `tool_use` blocks the tool calls, `thinking` blocks the reasoning (joined as the stream
 * joins its `thinking_delta`s); a `redacted_thinking` block's encrypted data is not recorded.
 *
 * @example
 * ```ts
 * const reply = Anthropic.toResponse(JSON.parse(body))
 * ```
 *
 * @since 0.2.0
 * @category mapping
 */
export const toResponse = (body: unknown): ChatModel.ChatResponse | undefined => {
  const root = record(body)
  if (root === undefined || !Array.isArray(root["content"])) return undefined
  const blocks = array(root["content"]).flatMap((item) => {
    const block = record(item)
    return block !== undefined ? [block] : []
  })
  const reasoning = blocks.flatMap((block) => block["type"] === "thinking" ? [string(block["thinking"]) ?? ""] : [])
    .join("")
  return {
    id: string(root["id"]) ?? "",
    model: string(root["model"]) ?? "",
    text: blocks.flatMap((block) => block["type"] === "text" ? [string(block["text"]) ?? ""] : []).join(""),
    ...(reasoning !== "" ? { reasoning } : {}),
    toolCalls: blocks.flatMap((block, index) =>
      block["type"] === "tool_use"
        ? [{
          id: string(block["id"]) ?? `toolu_${index}`,
          name: string(block["name"]) ?? "",
          arguments: block["input"] ?? {}
        }]
        : []
    ),
    finishReason: toFinishReason(string(root["stop_reason"]) ?? "end_turn"),
    usage: toUsage(root["usage"]) ?? {}
  }
}

const usageFields = ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"] as const
type UsageField = typeof usageFields[number]

/**
 * Reads a Messages API stream. Unknown event types and `ping` are skipped, as Anthropic asks of
 * clients; `error` fails the stream with its error type; the stream is complete at `message_stop`.
 *
 * @since 0.2.0
 * @category mapping
 */
export const streamDecoder = (endpoint: Endpoint) => (): StreamDecoder => {
  let done = false
  // Anthropic's counts as last reported, field by field: a `message_delta` that repeats
  // `input_tokens` without the cache fields must not shrink the sum that `message_start` gave.
  // Only the fields `toUsage` reads are kept, so a usage object of many other keys holds nothing.
  const reported: Partial<Record<UsageField, number>> = {}
  const usageOf = (value: unknown): GenAI.Usage | undefined => {
    const fields = record(value)
    if (fields === undefined) return undefined
    for (const name of usageFields) {
      const n = count(fields[name])
      if (n !== undefined) reported[name] = n
    }
    return toUsage(reported)
  }
  return {
    finished: () => done,
    onEvent: (event) => {
      if (event.event === "ping") return []
      const data = eventJson(event, endpoint)
      if (data instanceof ChatModel.ChatError) return data
      const root = record(data) ?? {}
      // The event's type is in its data too; the data's wins when the SSE name is absent.
      const type = event.event !== "message" ? event.event : string(root["type"])
      switch (type) {
        case "message_start": {
          const message = record(root["message"])
          const usage = usageOf(message?.["usage"])
          return [
            { type: "response-metadata", id: string(message?.["id"]), model: string(message?.["model"]) },
            ...(usage !== undefined ? [{ type: "usage" as const, usage }] : [])
          ]
        }
        case "content_block_start": {
          const block = record(root["content_block"])
          const index = count(root["index"]) ?? 0
          if (block?.["type"] === "tool_use") {
            return [{
              type: "tool-call-delta",
              index,
              id: string(block["id"]),
              name: string(block["name"]),
              argumentsDelta: ""
            }]
          }
          if (block?.["type"] === "thinking") {
            const thinking = string(block["thinking"])
            return thinking !== undefined && thinking !== "" ? [{ type: "reasoning-delta", delta: thinking }] : []
          }
          const text = block?.["type"] === "text" ? string(block["text"]) : undefined
          return text !== undefined && text !== "" ? [{ type: "text-delta", delta: text }] : []
        }
        case "content_block_delta": {
          const delta = record(root["delta"])
          const index = count(root["index"]) ?? 0
          switch (delta?.["type"]) {
            case "text_delta": {
              const text = string(delta["text"])
              return text !== undefined && text !== "" ? [{ type: "text-delta", delta: text }] : []
            }
            case "input_json_delta":
              return [{ type: "tool-call-delta", index, argumentsDelta: string(delta["partial_json"]) ?? "" }]
            case "thinking_delta": {
              const thinking = string(delta["thinking"])
              return thinking !== undefined && thinking !== "" ? [{ type: "reasoning-delta", delta: thinking }] : []
            }
            default:
              return []
          }
        }
        case "message_delta": {
          const reason = string(record(root["delta"])?.["stop_reason"])
          const usage = usageOf(root["usage"])
          return [
            ...(reason !== undefined ? [{ type: "finish" as const, reason: toFinishReason(reason) }] : []),
            ...(usage !== undefined ? [{ type: "usage" as const, usage }] : [])
          ]
        }
        case "message_stop":
          done = true
          return []
        case "error":
          return streamError(endpoint, dialect, root)
        default:
          return []
      }
    }
  }
}

/**
 * The chat provider for the Messages API (plain and streamed calls). Fails with a
 * {@link ProviderConfigError} when an option cannot be used.
 *
 * @example
 * ```ts
 * const Model = EffectAi.layer(Anthropic.chatProvider({ model: "claude-sonnet-4-5", apiKey })).pipe(
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
  defaultBaseUrl,
  path: "/v1/messages",
  dialect,
  provider: () => GenAI.Provider.anthropic,
  headers: (options) => ({ "anthropic-version": options.version ?? "2023-06-01" }),
  checks: (options) => [
    checkWhole("defaultMaxTokens", options.defaultMaxTokens, 1),
    checkOptionalText("version", options.version, "an anthropic-version, e.g. 2023-06-01")
  ],
  toBody,
  toResponse,
  noReply: "the response has no content",
  streamDecoder
})

/**
 * `ChatModel` for the Messages API. Needs an `HttpClient`. Building it fails with a
 * {@link ProviderConfigError} when an option cannot be used.
 *
 * @example
 * ```ts
 * const Model = Anthropic.layer({ model: "claude-sonnet-4-5", apiKey }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<ChatModel.ChatModel, ProviderConfigError, HttpClient.HttpClient> =>
  Layer.effect(ChatModel.ChatModel, Effect.map(chatProvider(options), ChatModel.make))

/**
 * {@link layer} from the environment: `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` (default the
 * Anthropic API), `ANTHROPIC_MODEL` (default `claude-sonnet-4-5`). Options override them; an
 * empty variable counts as unset. A base URL that is not an http(s) URL, or holds a user name or
 * password, fails with a {@link ProviderConfigError} naming `ANTHROPIC_BASE_URL`.
 *
 * @example
 * ```ts
 * const Model = Anthropic.layerFromConfig().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerFromConfig: (
  options?: Partial<Options>
) => Layer.Layer<ChatModel.ChatModel, Config.ConfigError | ProviderConfigError, HttpClient.HttpClient> =
  defineLayerFromConfig({
    apiKey: "ANTHROPIC_API_KEY",
    baseUrl: "ANTHROPIC_BASE_URL",
    model: "ANTHROPIC_MODEL",
    defaultBaseUrl,
    defaultModel: "claude-sonnet-4-5"
  }, layer)
