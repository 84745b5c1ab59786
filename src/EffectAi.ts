/**
 * `effect/ai` traced by the conventions, and this library's providers as `effect/ai` models.
 *
 * With `Tracing.TracingLive` alone, every `LanguageModel.generateText` / `generateObject` /
 * `streamText` call is one `chat {model}` span and every `EmbeddingModel.embed` / `embedMany` one
 * `embeddings {model}` span, whatever model implements them: the tracer writes effect/ai's spans
 * by the conventions (it names them when they end, makes the `Chat` and `EmbeddingModel.embed`
 * wrappers transparent so that one call is one span, and drops the tool arguments `Toolkit` puts on
 * the model span). This module adds:
 *
 * - {@link layer} / {@link languageModel}: an `effect/ai` `LanguageModel` over a `ChatModel.Provider`
 *   (`OpenAI.chatProvider`, `Anthropic.chatProvider`, `Simulated.chatProvider`), so effect/ai runs
 *   against real endpoints, with the same attributes as `ChatModel` (request, response, usage,
 *   content when captured; TTFT and the abandon marker on streams);
 * - {@link layerEmbedding}: an `EmbeddingModel` over an `Embedder.Provider`;
 * - {@link toolkitLayer}: `toolkit.toLayer(handlers)` with each tool call an `execute_tool {name}`
 *   span (call id, type, description; arguments and result only when content capture is on).
 *
 * ```ts
 * const Model = EffectAi.layer(OpenAI.chatProvider({ model: "gpt-4o-mini", apiKey })).pipe(Layer.provide(FetchHttpClient.layer))
 * const Tools = EffectAi.toolkitLayer(MyToolkit, { GetWeather: ({ city }) => weather(city) })
 * ```
 *
 * @since 0.2.0
 */
import * as AiError from "effect/ai/AiError"
import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Tool from "effect/ai/Tool"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ChatModel from "./ChatModel.ts"
import * as Embedder from "./Embedder.ts"
import * as GenAI from "./GenAI.ts"
import * as Identity from "./Identity.ts"
import { annotateEmbeddings, annotateInference } from "./internal/effectAiAnnotate.ts"
import { isChatSpan } from "./internal/effectAiSpans.ts"

/**
 * Request parameters effect/ai's call options do not carry, sent with every call of the model.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  readonly temperature?: number | undefined
  readonly topP?: number | undefined
  readonly maxTokens?: number | undefined
  readonly stopSequences?: ReadonlyArray<string> | undefined
  readonly seed?: number | undefined
}

/**
 * Runs `self` as part of conversation `id`: every span inside (a `Chat`'s turns, say) carries
 * `gen_ai.conversation.id`.
 *
 * @deprecated The same function as `Identity.withConversation`; use that.
 * @since 0.2.0
 * @category conversations
 */
export const withConversation: (id: string) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> =
  Identity.withConversation

// -----------------------------------------------------------------------------
// effect/ai prompts to this library's requests
// -----------------------------------------------------------------------------

const text = (content: string): GenAI.MessagePart => ({ type: "text", content })

/** A tool's result; a failed call's result is marked `{ error: … }`, as the model is told. */
const toolResponse = (part: Prompt.ToolResultPart): GenAI.MessagePart => ({
  type: "tool_call_response",
  id: part.id,
  response: part.isFailure ? { error: part.result } : part.result
})

/** One effect/ai prompt message as the conventions' message (system messages go to instructions). */
const toInputMessage = (message: Prompt.Message): GenAI.InputMessage | undefined => {
  switch (message.role) {
    case "system":
      return undefined
    case "user":
      return {
        role: "user",
        parts: message.content.map((part) =>
          part.type === "text"
            ? text(part.text)
            : {
              type: "file",
              modality: part.mediaType.split("/")[0] ?? "file",
              file_id: part.fileName ?? "",
              mime_type: part.mediaType
            }
        )
      }
    case "assistant":
      return {
        role: "assistant",
        parts: message.content.flatMap((part): Array<GenAI.MessagePart> => {
          switch (part.type) {
            case "text":
              return [text(part.text)]
            case "reasoning":
              return [{ type: "reasoning", content: part.text }]
            case "tool-call":
              return [{ type: "tool_call", id: part.id, name: part.name, arguments: part.params }]
            case "tool-result":
              return [toolResponse(part)]
            default:
              return []
          }
        })
      }
    case "tool":
      return {
        role: "tool",
        parts: message.content.flatMap((part): Array<GenAI.MessagePart> =>
          part.type === "tool-result" ? [toolResponse(part)] : []
        )
      }
  }
}

const toChatRequest = (options: LanguageModel.ProviderOptions, defaults: Options): ChatModel.ChatRequest => {
  const system = options.prompt.content.flatMap((message) => message.role === "system" ? [text(message.content)] : [])
  return {
    ...defaults,
    systemInstructions: system.length > 0 ? system : undefined,
    messages: options.prompt.content.flatMap((message) => {
      const input = toInputMessage(message)
      return input !== undefined && input.parts.length > 0 ? [input] : []
    }),
    tools: options.toolChoice === "none" ? undefined : options.tools.map((tool) => {
      const description = Tool.getDescription(tool)
      return {
        type: "function",
        name: tool.name,
        ...(description !== undefined ? { description } : {}),
        parameters: Tool.getJsonSchema(tool)
      }
    }),
    responseFormat: options.responseFormat.type === "json"
      ? {
        type: "json",
        name: options.responseFormat.objectName,
        schema: Tool.getJsonSchemaFromSchema(options.responseFormat.schema as any)
      }
      : undefined
  }
}

// -----------------------------------------------------------------------------
// This library's replies to effect/ai responses
// -----------------------------------------------------------------------------

const finishReasons: Readonly<Record<string, Response.FinishReason>> = {
  stop: "stop",
  length: "length",
  content_filter: "content-filter",
  tool_call: "tool-calls",
  error: "error"
}
const toFinishReason = (reason: GenAI.FinishReasonName): Response.FinishReason =>
  (Object.hasOwn(finishReasons, reason) ? finishReasons[reason] : undefined) ?? "other"

const toUsage = (usage: GenAI.Usage) => ({
  inputTokens: {
    total: usage.inputTokens,
    cacheRead: usage.cacheReadInputTokens,
    cacheWrite: usage.cacheCreationInputTokens
  },
  outputTokens: { total: usage.outputTokens, reasoning: usage.reasoningOutputTokens }
})

const toResponseParts = (response: ChatModel.ChatResponse): Array<Response.PartEncoded> => [
  { type: "response-metadata", id: response.id, modelId: response.model },
  ...(response.reasoning !== undefined && response.reasoning !== ""
    ? [{ type: "reasoning" as const, text: response.reasoning }]
    : []),
  ...(response.text !== "" ? [{ type: "text" as const, text: response.text }] : []),
  ...response.toolCalls.map((call) => ({
    type: "tool-call" as const,
    id: call.id,
    name: call.name,
    params: call.arguments
  })),
  { type: "finish", reason: toFinishReason(response.finishReason), usage: toUsage(response.usage) }
]

/**
 * Reply parts as effect/ai stream parts: text and reasoning deltas within start/end blocks, tool
 * calls as `tool-params-*` deltas then one `tool-call` with the assembled parameters, and one
 * `finish` with the usage at the end (this library's streams may report usage after the finish).
 */
const toStreamParts = <E, R>(parts: Stream.Stream<GenAI.StreamPart, E, R>) =>
  Stream.suspend(() => {
    let open: "text" | "reasoning" | undefined
    let block = 0
    const calls = new Map<number, { id: string; name: string; params: string }>()
    let finish: GenAI.FinishReasonName | undefined
    let usage: GenAI.Usage = {}
    const close = (): Array<Response.StreamPartEncoded> => {
      if (open === undefined) return []
      const end = { type: open === "text" ? "text-end" as const : "reasoning-end" as const, id: `${open}-${block}` }
      open = undefined
      block++
      return [end]
    }
    const delta = (kind: "text" | "reasoning", value: string): Array<Response.StreamPartEncoded> => {
      const out = open === kind ? [] : [...close(), { type: `${kind}-start` as const, id: `${kind}-${block}` }]
      open = kind
      return [...out, { type: `${kind}-delta` as const, id: `${kind}-${block}`, delta: value }]
    }
    const onPart = (part: GenAI.StreamPart): Array<Response.StreamPartEncoded> => {
      // effect/ai replies have one choice; the span still records every one.
      if ("choice" in part && part.choice !== undefined && part.choice !== 0) return []
      switch (part.type) {
        case "message-part":
          // A provider's own tool calls have no effect/ai part; the span records them.
          return []
        case "response-metadata":
          return [{ type: "response-metadata", id: part.id, modelId: part.model }]
        case "text-delta":
          return delta("text", part.delta)
        case "reasoning-delta":
          return delta("reasoning", part.delta)
        case "tool-call-delta": {
          let call = calls.get(part.index)
          const out = close()
          if (call === undefined) {
            call = { id: part.id ?? `call_${part.index}`, name: part.name ?? "", params: "" }
            calls.set(part.index, call)
            out.push({ type: "tool-params-start", id: call.id, name: call.name })
          }
          if (part.argumentsDelta !== undefined && part.argumentsDelta !== "") {
            call.params += part.argumentsDelta
            out.push({ type: "tool-params-delta", id: call.id, delta: part.argumentsDelta })
          }
          return out
        }
        case "finish":
          finish = part.reason
          return []
        case "usage":
          usage = { ...usage, ...Object.fromEntries(Object.entries(part.usage).filter(([, v]) => v !== undefined)) }
          return []
      }
    }
    const onEnd = (): Array<Response.StreamPartEncoded> => [
      ...close(),
      ...[...calls.values()].flatMap((call) => [
        { type: "tool-params-end" as const, id: call.id },
        { type: "tool-call" as const, id: call.id, name: call.name, params: GenAI.parseToolArguments(call.params) }
      ]),
      { type: "finish", reason: toFinishReason(finish ?? GenAI.FinishReason.stop), usage: toUsage(usage) }
    ]
    return parts.pipe(
      Stream.map(onPart),
      Stream.concat(Stream.sync(onEnd)),
      Stream.flattenIterable
    )
  })

// -----------------------------------------------------------------------------
// Errors
// -----------------------------------------------------------------------------

/** A provider failure as effect/ai's error, by HTTP status; the provider's code stays on the span. */
const toAiError = (method: string) => (error: ChatModel.ChatError): AiError.AiError => {
  const status = error.status
  const description = `${error.errorType}: ${error.message}`
  const reason = status === 429
    ? new AiError.RateLimitError({})
    : status === 401 || status === 403
    ? new AiError.AuthenticationError({ kind: status === 401 ? "InvalidKey" : "InsufficientPermissions" })
    : status !== undefined && status >= 500
    ? new AiError.InternalProviderError({ description })
    : error.errorType === "invalid_response" || error.errorType === "incomplete_stream"
    ? new AiError.InvalidOutputError({ description })
    : new AiError.UnknownError({ description })
  return AiError.make({ module: "EffectAi", method, reason })
}

/** Fails with effect/ai's error, with the provider's own code as the span's `error.type`. */
const failOn = (span: { readonly attribute: (key: string, value: unknown) => void }, method: string) =>
(
  error: ChatModel.ChatError
) =>
  Effect.sync(() => span.attribute(GenAI.ATTR_ERROR_TYPE, error.errorType)).pipe(
    Effect.andThen(Effect.fail(toAiError(method)(error)))
  )

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * An effect/ai `LanguageModel` over a provider of this library (plain and streamed calls). The
 * effect/ai span of each call gets the same attributes a `ChatModel` span would.
 *
 * @since 0.2.0
 * @category constructors
 */
export const languageModel = (
  provider: ChatModel.Provider,
  options: Options = {}
): Effect.Effect<LanguageModel.LanguageModel> => {
  const streamParts = provider.stream ??
    ((request: ChatModel.ChatRequest) =>
      Stream.fromIterableEffect(Effect.map(provider.complete(request), ChatModel.toStreamParts)))
  const prepare = (providerOptions: LanguageModel.ProviderOptions, stream: boolean) =>
    Effect.gen(function*() {
      const request = toChatRequest(providerOptions, options)
      const annotate = yield* annotateInference(providerOptions.span, {
        ...ChatModel.toGenAIRequest(provider, request),
        ...(stream ? { stream: true } : {})
      }, provider.operation)
      return { request, annotate }
    })
  return LanguageModel.make({
    generateText: (providerOptions) =>
      Effect.gen(function*() {
        const { annotate, request } = yield* prepare(providerOptions, false)
        const response = yield* annotate.call(provider.complete(request), ChatModel.toOutcome).pipe(
          Effect.catch(failOn(providerOptions.span, "generateText"))
        )
        return toResponseParts(response)
      }),
    streamText: (providerOptions) =>
      Stream.unwrap(Effect.map(prepare(providerOptions, true), ({ annotate, request }) =>
        streamParts(request).pipe(
          annotate.stream,
          Stream.catch((error) => Stream.fromEffect(failOn(providerOptions.span, "streamText")(error))),
          toStreamParts
        )))
  })
}

/**
 * {@link languageModel} as a layer, from a provider or an effect that makes one
 * (`OpenAI.chatProvider(options)`, which needs an `HttpClient`).
 *
 * @example
 * ```ts
 * const Model = EffectAi.layer(Simulated.chatProvider())
 * const text = yield* LanguageModel.generateText({ prompt: "Hello" })
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = <E = never, R = never>(
  provider: ChatModel.Provider | Effect.Effect<ChatModel.Provider, E, R>,
  options: Options = {}
): Layer.Layer<LanguageModel.LanguageModel, E, R> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    Effect.flatMap(Effect.isEffect(provider) ? provider : Effect.succeed(provider), (p) => languageModel(p, options))
  )

/**
 * An effect/ai `EmbeddingModel` over an embedder provider of this library; each call's effect/ai
 * span gets the attributes an `Embedder` span would.
 *
 * @since 0.2.0
 * @category constructors
 */
export const embeddingModel = (provider: Embedder.Provider): Effect.Effect<EmbeddingModel.EmbeddingModel> =>
  EmbeddingModel.make({
    embedMany: ({ inputs }) =>
      Effect.gen(function*() {
        const span = yield* Effect.currentSpan.pipe(Effect.orElseSucceed(() => undefined))
        const observe = span !== undefined
          ? yield* annotateEmbeddings(span, Embedder.toGenAIRequest(provider))
          : undefined
        const call = provider.embed(inputs)
        const result = yield* (observe !== undefined ? observe(call, Embedder.toOutcome) : call).pipe(
          Effect.catch((error) =>
            Effect.sync(() => span?.attribute(GenAI.ATTR_ERROR_TYPE, error.errorType)).pipe(
              Effect.andThen(Effect.fail(
                AiError.make({
                  module: "EffectAi",
                  method: "embedMany",
                  reason: new AiError.UnknownError({ description: `${error.errorType}: ${error.message}` })
                })
              ))
            )
          )
        )
        return { results: result.vectors.map((vector) => [...vector]), usage: { inputTokens: result.inputTokens } }
      })
  })

/**
 * {@link embeddingModel} as a layer, with effect/ai's `Dimensions` service.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerEmbedding = <E = never, R = never>(
  provider: Embedder.Provider | Effect.Effect<Embedder.Provider, E, R>
): Layer.Layer<EmbeddingModel.EmbeddingModel | EmbeddingModel.Dimensions, E, R> =>
  Layer.unwrap(Effect.map(Effect.isEffect(provider) ? provider : Effect.succeed(provider), (p) =>
    Layer.mergeAll(
      Layer.effect(EmbeddingModel.EmbeddingModel, embeddingModel(p)),
      Layer.succeed(EmbeddingModel.Dimensions, p.dimensions)
    )))

// -----------------------------------------------------------------------------
// Tools
// -----------------------------------------------------------------------------

/**
 * `toolkit.toLayer(handlers)`, with every call of a handler an `execute_tool {name}` INTERNAL span:
 * `gen_ai.tool.call.id`, `gen_ai.tool.type` (`function`), `gen_ai.tool.description`, and the
 * arguments and result only when content capture is on. effect/ai runs the tools inside the model
 * call that asked for them; the tool spans are made siblings of that `chat {model}` span (children
 * of the agent step that made the call), as in an agent written with `ChatModel` and `Tool`: the
 * model asks for a tool, the agent runs it.
 *
 * @example
 * ```ts
 * const Tools = EffectAi.toolkitLayer(AgentToolkit, {
 *   GetWeather: ({ city }) => Effect.succeed({ city, forecast: "mild" })
 * })
 * ```
 *
 * @since 0.2.0
 * @category tools
 */
export const toolkitLayer = <
  Tools extends Record<string, Tool.Any>,
  Handlers extends Toolkit.HandlersFrom<Tools>,
  EX = never,
  RX = never
>(
  toolkit: Toolkit.Toolkit<Tools>,
  build: Handlers | Effect.Effect<Handlers, EX, RX>
): Layer.Layer<Tool.HandlersFor<Tools>, EX, Exclude<RX, Scope.Scope>> =>
  toolkit.toLayer(Effect.map(
    Effect.isEffect(build) ? build : Effect.succeed(build),
    (handlers) => {
      const traced: Record<string, unknown> = {}
      for (const [name, handler] of Object.entries(handlers as Record<string, (...args: Array<any>) => any>)) {
        const tool = toolkit.tools[name]
        const description = tool !== undefined ? Tool.getDescription(tool) : undefined
        traced[name] = (params: unknown, context: Toolkit.HandlerContext<any>) =>
          Effect.flatMap(Effect.currentParentSpan.pipe(Effect.orElseSucceed(() => undefined)), (current) => {
            const call = (handler(params, context) as Effect.Effect<unknown, unknown, unknown>).pipe(
              GenAI.executeTool({ name, callId: context.toolCallId, type: "function", description, arguments: params })
            )
            // Under effect/ai's model span: the tool span belongs to that span's parent.
            const modelSpan = current !== undefined && current._tag === "Span" && isChatSpan(current.name)
            if (!modelSpan) return call
            return Option.match(current.parent, {
              onNone: () => Effect.withParentSpan(call, current, { captureStackTrace: false }),
              onSome: (parent) => Effect.withParentSpan(call, parent, { captureStackTrace: false })
            })
          })
      }
      return traced as Handlers
    }
  ))
