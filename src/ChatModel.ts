/**
 * An instrumented chat model: every call is a GenAI `chat {model}` span with request, response
 * and usage attributes, with no tracing code at the call site.
 *
 * `stream` returns the reply as a `Stream` of {@link GenAI.StreamPart}s under one `chat {model}`
 * span that ends exactly once however the stream ends; `collect` assembles a streamed reply into a
 * {@link ChatResponse}. Ready-made providers: `OpenAI` (and every OpenAI-compatible server),
 * `Anthropic`, and `Simulated`.
 *
 * Why not `effect/ai`'s `LanguageModel`? Its spans are named `LanguageModel.generateText` rather
 * than `chat {model}`, it runs its own tool-call loop inside that span, and it writes its own set
 * of `gen_ai.*` names; wrapping it would give two spans per call that disagree. This service is
 * small on purpose: a provider implements `complete` (an HTTP call to OpenAI, Anthropic, or an
 * `effect/ai` model) and the service does the tracing, following the v1.41 conventions exactly.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as GenAI from "./GenAI.ts"
import { ChatError } from "./internal/providerModel.ts"

// Defined below the provider kit, which fails with it; its doc comment is there.
export { ChatError }

/**
 * A request to the model.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChatRequest {
  readonly messages: ReadonlyArray<GenAI.InputMessage>
  readonly systemInstructions?: ReadonlyArray<GenAI.MessagePart> | undefined
  readonly tools?: ReadonlyArray<GenAI.ToolDefinition> | undefined
  readonly temperature?: number | undefined
  readonly topP?: number | undefined
  readonly maxTokens?: number | undefined
  readonly stopSequences?: ReadonlyArray<string> | undefined
  readonly seed?: number | undefined
  readonly conversationId?: string | undefined
  /** Ask for a JSON object matching `schema` (a JSON Schema); `gen_ai.output.type` is then `json`. */
  readonly responseFormat?: { readonly type: "json"; readonly name: string; readonly schema: unknown } | undefined
}

/**
 * A tool call the model asked for.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolCallRequest {
  readonly id: string
  readonly name: string
  readonly arguments: unknown
}

/**
 * The model's reply.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChatResponse {
  readonly id: string
  readonly model: string
  readonly text: string
  readonly toolCalls: ReadonlyArray<ToolCallRequest>
  readonly finishReason: GenAI.FinishReasonName
  readonly usage: GenAI.Usage
}

/**
 * What a provider supplies: who it is, and the raw call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Provider {
  readonly provider: GenAI.ProviderName
  readonly model: string
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
  /** True for a model running in this process (the span is INTERNAL). */
  readonly inProcess?: boolean | undefined
  readonly complete: (request: ChatRequest) => Effect.Effect<ChatResponse, ChatError>
  /** The reply as it is generated. Without it, `stream` replays `complete`'s reply as parts. */
  readonly stream?: ((request: ChatRequest) => Stream.Stream<GenAI.StreamPart, ChatError>) | undefined
}

/**
 * The chat model service.
 *
 * @since 0.1.0
 * @category services
 */
export class ChatModel extends Context.Service<ChatModel, {
  readonly model: string
  readonly chat: (request: ChatRequest) => Effect.Effect<ChatResponse, ChatError>
  /** The reply as a stream of parts, traced as one `chat {model}` span with `gen_ai.request.stream`. */
  readonly stream: (request: ChatRequest) => Stream.Stream<GenAI.StreamPart, ChatError>
}>()("beluga-o11y/ChatModel") {}

/**
 * The reply as the output message the conventions record (one per choice).
 *
 * @since 0.1.0
 * @category models
 */
export const toOutputMessage = (response: ChatResponse): GenAI.OutputMessage => ({
  role: "assistant",
  parts: [
    ...(response.text !== "" ? [{ type: "text" as const, content: response.text }] : []),
    ...response.toolCalls.map((call) => ({
      type: "tool_call" as const,
      id: call.id,
      name: call.name,
      arguments: call.arguments
    }))
  ],
  finish_reason: response.finishReason
})

/**
 * What a reply says about itself, in the conventions' terms: response id, model, finish reason,
 * usage, and the output message (recorded only when content capture is on).
 *
 * @since 0.2.0
 * @category models
 */
export const toOutcome = (response: ChatResponse): GenAI.InferenceOutcome => ({
  response: {
    id: response.id,
    model: response.model,
    finishReasons: [response.finishReason],
    outputMessages: [toOutputMessage(response)]
  },
  usage: response.usage
})

/**
 * A reply as the parts a stream of it would carry.
 *
 * @since 0.2.0
 * @category streaming
 */
export const toStreamParts = (response: ChatResponse): Array<GenAI.StreamPart> => [
  { type: "response-metadata", id: response.id, model: response.model },
  ...(response.text !== "" ? [{ type: "text-delta" as const, delta: response.text }] : []),
  ...response.toolCalls.map((call, index) => ({
    type: "tool-call-delta" as const,
    index,
    id: call.id,
    name: call.name,
    argumentsDelta: JSON.stringify(call.arguments)
  })),
  { type: "finish", reason: response.finishReason },
  { type: "usage", usage: response.usage }
]

/**
 * Assembles a streamed reply: the text, the tool calls joined from their deltas (arguments parsed
 * as JSON where they are JSON), the last finish reason, and the usage.
 *
 * @example
 * ```ts
 * const reply = yield* ChatModel.collect(model.stream(request))
 * ```
 *
 * @since 0.2.0
 * @category streaming
 */
export const collect = <E, R>(stream: Stream.Stream<GenAI.StreamPart, E, R>): Effect.Effect<ChatResponse, E, R> =>
  Effect.suspend(() => {
    const reply = new GenAI.StreamAccumulator(true, Number.POSITIVE_INFINITY)
    return Stream.runForEachArray(stream, (parts) =>
      Effect.sync(() => {
        for (const part of parts) reply.add(part)
      })).pipe(Effect.map(() => ({
        id: reply.id ?? "",
        model: reply.model ?? "",
        text: reply.text,
        toolCalls: reply.assembledToolCalls().map((call, index) => ({
          id: call.id ?? `call_${index}`,
          name: call.name,
          arguments: call.arguments
        })),
        finishReason: reply.finishReasons.at(-1) ?? GenAI.FinishReason.stop,
        usage: reply.usage ?? {}
      })))
  })

/**
 * The conventions' view of a request to `provider`: what `chat` and `stream` spans record.
 *
 * @since 0.2.0
 * @category models
 */
export const toGenAIRequest = (provider: Provider, request: ChatRequest): GenAI.Request => ({
  provider: provider.provider,
  model: provider.model,
  serverAddress: provider.serverAddress,
  serverPort: provider.serverPort,
  inProcess: provider.inProcess,
  temperature: request.temperature,
  topP: request.topP,
  maxTokens: request.maxTokens,
  stopSequences: request.stopSequences,
  seed: request.seed,
  conversationId: request.conversationId,
  outputType: request.responseFormat !== undefined ? GenAI.OutputType.json : GenAI.OutputType.text,
  systemInstructions: request.systemInstructions,
  messages: request.messages,
  toolDefinitions: request.tools
})

/**
 * Instruments a provider: every `chat` call becomes a `chat {model}` span, and every `stream`
 * call one `chat {model}` span over the whole stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (provider: Provider): ChatModel["Service"] => {
  const streamParts = provider.stream ??
    ((request: ChatRequest) => Stream.fromIterableEffect(Effect.map(provider.complete(request), toStreamParts)))
  return ChatModel.of({
    model: provider.model,
    chat: (request) => provider.complete(request).pipe(GenAI.chat(toGenAIRequest(provider, request), toOutcome)),
    stream: (request) => streamParts(request).pipe(GenAI.chatStream(toGenAIRequest(provider, request)))
  })
}

/**
 * A layer providing the instrumented model.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (provider: Provider): Layer.Layer<ChatModel> => Layer.succeed(ChatModel, make(provider))
