/**
 * The OpenAI Responses API as instrumented `ChatModel` and `Embedder` layers: `POST
 * {baseUrl}/responses`, plain and streamed (semantic events: `response.created`,
 * `response.output_text.delta`, `response.function_call_arguments.delta`, …,
 * `response.completed`), and embeddings from `POST {baseUrl}/embeddings` (the Responses API has
 * none of its own; `OpenAI.embeddingProvider` serves them).
 *
 * Every call's span carries `openai.api.type=responses` (on OpenAI's own endpoint: with another
 * `provider`, only the `gen_ai.*` attributes). Function calls are tool calls; the tools
 * OpenAI runs itself (web search, file search, code interpreter, remote MCP servers, image
 * generation) are `server_tool_call` and `server_tool_call_response` parts of the output message;
 * reasoning summaries are the reply's reasoning. A request's `conversationId` is sent as the
 * Responses `conversation` (and recorded as `gen_ai.conversation.id`), and
 * {@link ChatRequest.previousResponseId} as `previous_response_id`, so a multi-turn run is one
 * conversation on OpenAI's side as in the trace.
 *
 * ```ts
 * const Models = OpenAIResponses.layer({ model: "gpt-5-mini", apiKey: Redacted.make(key) }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.4.0
 */
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as ChatModel from "./ChatModel.ts"
import * as Embedder from "./Embedder.ts"
import * as GenAI from "./GenAI.ts"
import * as OpenAIEndpoint from "./internal/openaiEndpoint.ts"
import {
  checkOptionalText,
  defineChatProvider,
  defineLayerFromConfig,
  type Dialect,
  type Endpoint,
  invalidOption,
  type OptionCheck,
  ProviderConfigError,
  type StreamDecoder
} from "./internal/providerKit.ts"
import * as Wire from "./internal/responsesWire.ts"
import { OpenAIApiType } from "./internal/semconv.ts"
import * as OpenAI from "./OpenAI.ts"

// Defined in the provider kit, which checks every provider's options; its doc comment is there.
export { ProviderConfigError }

/**
 * Options for the Responses API: those of {@link OpenAI.Options} (the endpoint, the embeddings
 * model), and what the Responses API adds to every request.
 *
 * @example
 * ```ts
 * const options: OpenAIResponses.Options = { model: "gpt-5-mini", reasoning: { summary: "auto" } }
 * ```
 *
 * @since 0.4.0
 * @category models
 */
export interface Options extends OpenAI.Options {
  /** Sent as `service_tier`; recorded as `openai.request.service_tier` unless it is `auto`. */
  readonly serviceTier?: "auto" | "default" | "flex" | "scale" | "priority" | (string & {}) | undefined
  /** Sent as `store`: whether OpenAI keeps the response (for `previous_response_id`). API default: true. */
  readonly store?: boolean | undefined
  /** Sent as `reasoning`; `summary: "auto"` asks a reasoning model for the summaries recorded as reasoning. */
  readonly reasoning?: {
    readonly effort?: "minimal" | "low" | "medium" | "high" | (string & {}) | undefined
    readonly summary?: "auto" | "concise" | "detailed" | undefined
  } | undefined
  /**
   * Send a request's `conversationId` as the Responses `conversation` (an OpenAI conversation id,
   * `conv_…`); default true. False when the id is the application's own, to be recorded only.
   */
  readonly sendConversationId?: boolean | undefined
}

/**
 * A chat request with what only the Responses API takes: `previousResponseId`, the response this
 * one continues (sent as `previous_response_id`; do not combine it with a `conversationId` that
 * is sent). `ChatModel` passes a request to its provider as it is, so a request of this type works
 * with any `ChatModel` this module makes.
 *
 * @example
 * ```ts
 * const next: OpenAIResponses.ChatRequest = { messages: [question], previousResponseId: first.id }
 * const reply = yield* model.chat(next)
 * ```
 *
 * @since 0.4.0
 * @category models
 */
export interface ChatRequest extends ChatModel.ChatRequest {
  readonly previousResponseId?: string | undefined
}

/**
 * The default base URL (the OpenAI API's, as {@link OpenAI.defaultBaseUrl}).
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultBaseUrl: string = OpenAI.defaultBaseUrl

const dialect: Dialect = OpenAIEndpoint.dialect("OpenAI Responses API")

/**
 * Responses usage in the conventions' terms: `input_tokens` (cached ones included),
 * `output_tokens`, `input_tokens_details.cached_tokens` as cache reads and
 * `output_tokens_details.reasoning_tokens` as reasoning tokens. Absent fields stay absent.
 *
 * @example
 * ```ts
 * OpenAIResponses.toUsage({ input_tokens: 10, output_tokens: 3 }) // { inputTokens: 10, outputTokens: 3, … }
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const toUsage: (usage: unknown) => GenAI.Usage | undefined = Wire.toUsage

/**
 * A response object as a reply; undefined when it is not a finished response (`completed` or
 * `incomplete`; a call that gets a `failed` one fails with its code). `options` says whose
 * endpoint it is: only OpenAI's own replies give `openai.response.service_tier`.
 *
 * @example
 * ```ts
 * const reply = OpenAIResponses.toResponse(JSON.parse(body))
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const toResponse = (
  body: unknown,
  options?: Pick<Options, "provider">
): ChatModel.ChatResponse | undefined => {
  const reading = Wire.readResponse(body, OpenAIEndpoint.isOpenAI(options))
  return reading?._tag === "Reply" ? reading.reply : undefined
}

/**
 * The stream decoder of the Responses API for an endpoint (whose API key its errors never show):
 * what a streamed call reads its semantic events with, exposed for benchmarks and fuzzing.
 *
 * @example
 * ```ts
 * const decoder = OpenAIResponses.streamDecoder(endpoint)()
 * const parts = decoder.onEvent({ event: "response.output_text.delta", data })
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const streamDecoder = (endpoint: Endpoint, options?: Pick<Options, "provider">): () => StreamDecoder =>
  Wire.streamDecoder(endpoint, dialect, OpenAIEndpoint.isOpenAI(options))

const settingsOf = (options: Options): Wire.BodySettings => ({
  model: options.model,
  serviceTier: options.serviceTier,
  store: options.store,
  reasoning: options.reasoning,
  sendConversationId: options.sendConversationId
})

const checkBoolean = (name: string, value: unknown): OptionCheck =>
  value === undefined || typeof value === "boolean" ? undefined : invalidOption(name, value, "true or false")

/** The options this module adds, checked as the layer is built (the kit checks the endpoint's). */
const checks = (options: Options): ReadonlyArray<OptionCheck> => [
  ...OpenAIEndpoint.checks(options, {
    providers: "openai or azure.ai.openai",
    serviceTiers: "auto, default, flex, scale or priority"
  }),
  checkBoolean("store", options.store),
  checkBoolean("sendConversationId", options.sendConversationId),
  options.reasoning === undefined || (typeof options.reasoning === "object" && options.reasoning !== null)
    ? checkOptionalText("reasoning.effort", options.reasoning?.effort, "minimal, low, medium or high") ??
      checkOptionalText("reasoning.summary", options.reasoning?.summary, "auto, concise or detailed")
    : invalidOption("reasoning", options.reasoning, "an object: { effort?, summary? }")
]

const wireProvider = defineChatProvider<Options, ChatRequest, Wire.Reading>({
  defaultBaseUrl,
  path: "/responses",
  dialect,
  provider: OpenAIEndpoint.providerOf,
  checks,
  toBody: (options, request, stream) => Wire.toBody(settingsOf(options), request, stream),
  toResponse: (body, options) => Wire.readResponse(body, OpenAIEndpoint.isOpenAI(options)),
  noReply: "the response has no output",
  streamDecoder,
  attributes: OpenAIEndpoint.requestAttributes(OpenAIApiType.responses)
})

/**
 * The chat provider for the Responses API (plain and streamed calls); use it with `ChatModel.make`
 * or `EffectAi.layer`. Needs an `HttpClient`; fails with a {@link ProviderConfigError} when an
 * option cannot be used.
 *
 * @example
 * ```ts
 * const Model = EffectAi.layer(OpenAIResponses.chatProvider({ model: "gpt-5-mini", apiKey })).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.4.0
 * @category constructors
 */
export const chatProvider = (
  options: Options
): Effect.Effect<ChatModel.Provider, ProviderConfigError, HttpClient.HttpClient> =>
  Effect.map(wireProvider(options), (provider): ChatModel.Provider => ({
    ...provider,
    complete: (request) =>
      Effect.flatMap(provider.complete(request), (reading) =>
        reading._tag === "Reply"
          ? Effect.succeed(reading.reply)
          : Effect.fail(Wire.failureError(options, defaultBaseUrl, reading)))
  }))

/**
 * `ChatModel` over the Responses API and `Embedder` over OpenAI's `/embeddings`. Needs an
 * `HttpClient`. Building it fails with a {@link ProviderConfigError} when an option cannot be used.
 *
 * @example
 * ```ts
 * const Models = OpenAIResponses.layer({ model: "gpt-5-mini", apiKey }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.4.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<ChatModel.ChatModel | Embedder.Embedder, ProviderConfigError, HttpClient.HttpClient> =>
  Layer.mergeAll(
    Layer.effect(ChatModel.ChatModel, Effect.map(chatProvider(options), ChatModel.make)),
    Layer.effect(Embedder.Embedder, Effect.map(OpenAI.embeddingProvider(options), Embedder.make))
  )

/**
 * {@link layer} from the environment, with the variables `OpenAI.layerFromConfig` reads:
 * `OPENAI_API_KEY` (optional), `OPENAI_BASE_URL`, `OPENAI_MODEL` (default `gpt-4o-mini`),
 * `OPENAI_EMBEDDING_MODEL`, `OPENAI_PROVIDER_NAME` (default `openai`). Options override them;
 * an empty variable counts as unset. A base URL that is not an http(s) URL fails with a
 * {@link ProviderConfigError} naming `OPENAI_BASE_URL`.
 *
 * @example
 * ```ts
 * const Models = OpenAIResponses.layerFromConfig({ reasoning: { summary: "auto" } }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.4.0
 * @category layers
 */
export const layerFromConfig: (
  options?: Partial<Options>
) => Layer.Layer<
  ChatModel.ChatModel | Embedder.Embedder,
  Config.ConfigError | ProviderConfigError,
  HttpClient.HttpClient
> = defineLayerFromConfig(OpenAIEndpoint.configVariables<Options>(defaultBaseUrl), layer)
