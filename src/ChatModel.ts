/**
 * An instrumented chat model: every call is a GenAI `chat {model}` span with request, response
 * and usage attributes, with no tracing code at the call site.
 *
 * `stream` returns the reply as a `Stream` of {@link GenAI.StreamPart}s under one `chat {model}`
 * span that ends exactly once however the stream ends; `collect` assembles a streamed reply into a
 * {@link ChatResponse}. Ready-made providers: `OpenAI` (and every OpenAI-compatible server),
 * `OpenAIResponses`, `Anthropic`, `Gemini`, `Bedrock`, and `Simulated`.
 *
 * Why not `effect/ai`'s `LanguageModel`? Its spans are named `LanguageModel.generateText` rather
 * than `chat {model}`, it runs its own tool-call loop inside that span, and it writes its own set
 * of `gen_ai.*` names; wrapping it would give two spans per call that disagree. This service is
 * small on purpose: a provider implements `complete` (an HTTP call to OpenAI, Anthropic, or an
 * `effect/ai` model) and the service does the tracing, following the v1.41 conventions exactly.
 *
 * @since 0.1.0
 */
import type { AttributeValue } from "@opentelemetry/api"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as GenAI from "./GenAI.ts"
import { inference as inferenceSpec } from "./internal/operation.ts"
import { tracedStream } from "./internal/operationSpan.ts"
import { accumulatedReply } from "./internal/providerKit.ts"
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
  /** How many choices to generate (OpenAI's `n`); recorded when not 1. */
  readonly choiceCount?: number | undefined
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
  /** The model's reasoning (summaries or thinking), when the provider returns it. */
  readonly reasoning?: string | undefined
  /**
   * One output message per choice, when the reply holds more than the first choice's text and tool
   * calls (several choices, a provider's own tool calls): recorded as `gen_ai.output.messages` in
   * place of the one built from `text`, `toolCalls` and `reasoning`.
   */
  readonly outputMessages?: ReadonlyArray<GenAI.OutputMessage> | undefined
  /** Attributes of the provider's own conventions from the reply (`openai.response.service_tier`). */
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
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
  /** Attributes of the provider's own conventions every call's span starts with (`openai.api.type`). */
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
  /**
   * The GenAI operation a call is (`gen_ai.operation.name`, and the span name's first word);
   * default `chat`. Gemini's calls are `generate_content`, the conventions' name for them.
   */
  readonly operation?:
    | typeof GenAI.Operation.chat
    | typeof GenAI.Operation.generateContent
    | typeof GenAI.Operation.textCompletion
    | undefined
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
    ...(response.reasoning !== undefined && response.reasoning !== ""
      ? [{ type: "reasoning" as const, content: response.reasoning }]
      : []),
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
    finishReasons: response.outputMessages !== undefined
      ? response.outputMessages.map((message) => message.finish_reason)
      : [response.finishReason],
    outputMessages: response.outputMessages ?? [toOutputMessage(response)],
    attributes: response.attributes
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
  { type: "response-metadata", id: response.id, model: response.model, attributes: response.attributes },
  ...(response.outputMessages ?? [toOutputMessage(response)]).flatMap(messageParts),
  { type: "usage", usage: response.usage }
]

/** One output message as stream parts, under its choice's index. */
const messageParts = (message: GenAI.OutputMessage, choice: number): Array<GenAI.StreamPart> => {
  const at = choice === 0 ? undefined : choice
  const parts: Array<GenAI.StreamPart> = []
  let toolCalls = 0
  for (const part of message.parts) {
    // The parts' union is open (any `type`), so each known shape is read field by field.
    const fields = part as Readonly<Record<string, unknown>>
    const content = typeof fields["content"] === "string" ? fields["content"] : undefined
    if (part.type === "text" && content !== undefined) parts.push({ type: "text-delta", delta: content, choice: at })
    else if (part.type === "reasoning" && content !== undefined) {
      parts.push({ type: "reasoning-delta", delta: content, choice: at })
    } else if (part.type === "tool_call" && typeof fields["name"] === "string") {
      parts.push({
        type: "tool-call-delta",
        index: toolCalls++,
        id: typeof fields["id"] === "string" ? fields["id"] : undefined,
        name: fields["name"],
        argumentsDelta: JSON.stringify(fields["arguments"]),
        choice: at
      })
    } else parts.push({ type: "message-part", part, choice: at })
  }
  parts.push({ type: "finish", reason: message.finish_reason, choice: at })
  return parts
}

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
      })).pipe(Effect.map(() => accumulatedReply(reply)))
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
  choiceCount: request.choiceCount,
  // Conditional on the request naming an output type, as the conventions ask.
  outputType: request.responseFormat !== undefined ? GenAI.OutputType.json : undefined,
  attributes: provider.attributes,
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
  const operation = provider.operation ?? GenAI.Operation.chat
  const traced = operation === GenAI.Operation.generateContent
    ? GenAI.generateContent
    : operation === GenAI.Operation.textCompletion
    ? GenAI.textCompletion
    : GenAI.chat
  const tracedParts = (request: GenAI.Request) =>
    operation === GenAI.Operation.chat
      ? GenAI.chatStream(request)
      : tracedStream(inferenceSpec<never>(operation, { ...request, stream: true }, undefined))
  return ChatModel.of({
    model: provider.model,
    chat: (request) => provider.complete(request).pipe(traced(toGenAIRequest(provider, request), toOutcome)),
    stream: (request) => streamParts(request).pipe(tracedParts(toGenAIRequest(provider, request)))
  })
}

/**
 * A layer providing the instrumented model.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (provider: Provider): Layer.Layer<ChatModel> => Layer.succeed(ChatModel, make(provider))
