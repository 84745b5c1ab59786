/**
 * The provider kit: what every model provider shares, so that a provider module is only its wire
 * format's mapping. A provider describes its wire format — endpoint path, authentication and
 * error bodies ({@link Dialect}), request body, reply and stream events — and the kit does the
 * rest: the HTTP exchange with retries and bounded reads (`providerHttp.ts`), the SSE stream
 * (`sse.ts`), `invalid_response` for a body that holds no reply, and `layerFromConfig` from the
 * provider's customary variables. Every option is checked when the layer is built
 * ({@link validateOptions}): a bad one fails it with a `ProviderConfigError` naming the option, its
 * value (credentials masked) and what is accepted. A provider module imports only this module.
 *
 * The providers it builds trace nothing themselves: `ChatModel.make` and `Embedder.make` wrap
 * them in the GenAI spans and metrics, the `HttpClient` makes a span per attempt, and retries are
 * events on the caller's span. The kit is generic in the chat request and reply types, which
 * `ChatModel` defines, because an internal module never imports a public one.
 */
import type { AttributeValue } from "@opentelemetry/api"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { StreamAccumulator } from "./accumulator.ts"
import type { MessagePart, OutputMessage, Server, StreamPart, ToolDefinition, Usage } from "./model.ts"
import {
  chatError,
  checkBaseUrl,
  checkText,
  type Dialect,
  type Endpoint,
  endpointChecks,
  endpointOf,
  type EndpointOptions,
  type OptionCheck,
  parseJson,
  post,
  ProviderConfigError,
  readBody,
  serverOf
} from "./providerHttp.ts"
import { type ChatError, EmbeddingError, type Embeddings } from "./providerModel.ts"
import { FinishReason, type FinishReasonName, type ProviderName } from "./semconv.ts"
import { decodeEvents, type StreamDecoder } from "./sse.ts"

export {
  checkBaseUrl,
  checkDuration,
  checkOptionalText,
  checkText,
  checkWhole,
  type Dialect,
  type Endpoint,
  type EndpointOptions,
  invalidOption,
  type OptionCheck,
  post,
  ProviderConfigError,
  serverOf
} from "./providerHttp.ts"
export { eventJson, type StreamDecoder, type StreamEvent } from "./sse.ts"

/** What every provider's options hold: the model, and how its endpoint is reached. */
export interface ProviderOptions extends EndpointOptions {
  readonly model: string
}

/** What a wire format says about its endpoint, for chat and embeddings alike. */
export interface Wire<Options extends ProviderOptions> {
  /** The base URL when the options name none; `path` is appended to it. */
  readonly defaultBaseUrl: string
  /** The operation's path after the base URL: `/chat/completions`, `/v1/messages`. */
  readonly path: string
  readonly dialect: Dialect
  /** `gen_ai.provider.name` for these options. */
  readonly provider: (options: Options) => ProviderName
  /** Headers the wire format requires (an API version); the options' own headers win. */
  readonly headers?: ((options: Options) => Readonly<Record<string, string>>) | undefined
  /**
   * Checks of the provider's own options (the kit checks the model and the endpoint's), each the
   * error for a bad value or undefined; see `checkText`, `checkWhole`, `checkDuration`.
   */
  readonly checks?: ((options: Options) => ReadonlyArray<OptionCheck>) | undefined
}

/** A chat wire format, in the request and reply types of `ChatModel`. */
export interface ChatWire<Options extends ProviderOptions, Request, Reply> extends Wire<Options> {
  /** The request body, plain or streamed; fields left `undefined` are not sent (JSON has none). */
  readonly toBody: (options: Options, request: Request, stream: boolean) => unknown
  /** A response body as a reply; undefined when it is not one. */
  readonly toResponse: (body: unknown, options: Options) => Reply | undefined
  /** What the `invalid_response` error says when `toResponse` finds no reply. */
  readonly noReply: string
  /** A decoder for each stream from this endpoint (whose API key its errors must not show). */
  readonly streamDecoder: (endpoint: Endpoint, options: Options) => () => StreamDecoder
  /** Attributes of the provider's own conventions every call's span starts with (`openai.api.type`). */
  readonly attributes?: ((options: Options) => Readonly<Record<string, AttributeValue>> | undefined) | undefined
}

/** A reply as `ChatModel.ChatResponse` has it, for the wire modules that cannot import `ChatModel`. */
export interface ChatReply {
  readonly id: string
  readonly model: string
  readonly text: string
  readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: unknown }>
  readonly finishReason: FinishReasonName
  readonly usage: Usage
  readonly reasoning?: string | undefined
  readonly outputMessages?: ReadonlyArray<OutputMessage> | undefined
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

/**
 * The reply a stream's parts add up to: the text, the tool calls joined from their deltas
 * (arguments parsed as JSON where they are JSON; `call_{n}` for one without an id), the last
 * finish reason, the usage, and one output message per choice when the first choice's text and
 * calls do not tell the reply whole (several choices, parts that arrive whole).
 */
export const accumulatedReply = (reply: StreamAccumulator): ChatReply => {
  const outputMessages = reply.outputMessages(FinishReason.stop)
  return {
    id: reply.id ?? "",
    model: reply.model ?? "",
    text: reply.text,
    toolCalls: reply.assembledToolCalls().map((call, index) => ({
      id: call.id ?? `call_${index}`,
      name: call.name,
      arguments: call.arguments
    })),
    finishReason: reply.finishReasons.at(-1) ?? FinishReason.stop,
    usage: reply.usage ?? {},
    ...(reply.reasoning !== "" ? { reasoning: reply.reasoning } : {}),
    ...(reply.wholeParts().length > 0 || outputMessages.length > 1 ? { outputMessages } : {}),
    ...(reply.attributes !== undefined ? { attributes: reply.attributes } : {})
  }
}

/** A chat provider as `ChatModel.make` takes it (a `ChatModel.Provider`). */
export interface ChatProvider<Request, Reply> extends Server {
  readonly provider: ProviderName
  readonly model: string
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
  readonly complete: (request: Request) => Effect.Effect<Reply, ChatError>
  readonly stream: (request: Request) => Stream.Stream<StreamPart, ChatError>
}

/** An embeddings wire format. */
export interface EmbeddingWire<Options extends ProviderOptions> extends Wire<Options> {
  /** The embeddings model for these options. */
  readonly model: (options: Options) => string
  /** The vectors' size for these options. */
  readonly dimensions: (options: Options) => number
  /** The request body; fields left `undefined` are not sent. */
  readonly toBody: (options: Options, model: string, inputs: ReadonlyArray<string>) => unknown
  /** What a response body reports, its vectors in input order; `model` is the one asked for. */
  readonly toEmbeddings: (body: unknown, model: string) => EmbeddingsReading
}

/** Embeddings as a body reports them, before the kit checks that the vectors are numbers. */
export interface EmbeddingsReading extends Omit<Embeddings, "vectors"> {
  readonly vectors: ReadonlyArray<ReadonlyArray<unknown>>
}

/** An embeddings provider as `Embedder.make` takes it (an `Embedder.Provider`). */
export interface EmbeddingProvider extends Server {
  readonly provider: ProviderName
  readonly model: string
  readonly dimensions: number
  readonly embed: (inputs: ReadonlyArray<string>) => Effect.Effect<Embeddings, EmbeddingError>
}

/**
 * The endpoint a provider's options describe, once every option is checked: the model, the
 * endpoint's options (base URL, key, headers, limits) and the wire format's own `checks`. The
 * first bad option fails with a `ProviderConfigError`; a base URL with a user name or password in
 * it is one, so no credentials reach a request, an error text or a span. `define*` call this as
 * the layer is built, so every provider on the kit validates the same way.
 */
export const validateOptions = <Options extends ProviderOptions>(
  wire: Wire<Options>,
  options: Options
): Effect.Effect<Endpoint, ProviderConfigError> =>
  Effect.suspend(() => {
    if (typeof options !== "object" || options === null) {
      return Effect.fail(
        new ProviderConfigError({ variable: "options", value: String(options), expected: "an object" })
      )
    }
    const checks = [
      checkText("model", options.model, "a model name"),
      ...endpointChecks(options, wire.defaultBaseUrl),
      ...(wire.checks?.(options) ?? [])
    ]
    const failure = checks.find((check) => check !== undefined)
    if (failure !== undefined) return Effect.fail(failure)
    return Effect.succeed(endpointOf(
      wire.headers !== undefined ? { ...options, headers: { ...wire.headers(options), ...options.headers } } : options,
      wire.defaultBaseUrl
    ))
  })

/** A successful response's body as JSON, read within the endpoint's limits. */
export const readJson = (
  response: HttpClientResponse.HttpClientResponse,
  endpoint: Endpoint
): Effect.Effect<unknown, ChatError> =>
  Effect.flatMap(readBody(response, endpoint), (text) => parseJson(text, endpoint, "the response"))

/**
 * The chat provider a wire format describes: `complete` POSTs the plain body and maps the reply,
 * `stream` POSTs the streamed body and decodes its events.
 */
export const defineChatProvider = <Options extends ProviderOptions, Request, Reply>(
  wire: ChatWire<Options, Request, Reply>
) =>
(options: Options): Effect.Effect<ChatProvider<Request, Reply>, ProviderConfigError, HttpClient.HttpClient> =>
  Effect.zipWith(validateOptions(wire, options), Effect.service(HttpClient.HttpClient), (endpoint, client) => {
    const decoder = wire.streamDecoder(endpoint, options)
    const send = (request: Request, stream: boolean) =>
      post(client, endpoint, wire.dialect, wire.path, wire.toBody(options, request, stream))
    const attributes = wire.attributes?.(options)
    return {
      provider: wire.provider(options),
      model: options.model,
      ...serverOf(endpoint.baseUrl),
      ...(attributes !== undefined ? { attributes } : {}),
      complete: (request) =>
        send(request, false).pipe(
          Effect.flatMap((response) => readJson(response, endpoint)),
          Effect.flatMap((body) => {
            const reply = wire.toResponse(body, options)
            return reply !== undefined
              ? Effect.succeed(reply)
              : Effect.fail(chatError(endpoint, "invalid_response", wire.noReply))
          })
        ),
      stream: (request) =>
        Stream.unwrap(
          Effect.map(send(request, true), (response) => decodeEvents(response.stream, endpoint, decoder))
        )
    }
  })

/** True when there is one vector per input and every element is a finite number. */
const numericVectors = (
  vectors: ReadonlyArray<ReadonlyArray<unknown>>,
  inputs: number
): vectors is ReadonlyArray<ReadonlyArray<number>> =>
  vectors.length === inputs &&
  vectors.every((vector) => vector.every((x) => typeof x === "number" && Number.isFinite(x)))

/**
 * The embeddings provider a wire format describes. A reply with a vector missing, or an element
 * that is not a finite number, fails with `invalid_response` rather than reach a vector store.
 */
export const defineEmbeddingProvider =
  <Options extends ProviderOptions>(wire: EmbeddingWire<Options>) =>
  (options: Options): Effect.Effect<EmbeddingProvider, ProviderConfigError, HttpClient.HttpClient> =>
    Effect.zipWith(validateOptions(wire, options), Effect.service(HttpClient.HttpClient), (endpoint, client) => {
      const model = wire.model(options)
      return {
        provider: wire.provider(options),
        model,
        dimensions: wire.dimensions(options),
        ...serverOf(endpoint.baseUrl),
        embed: (inputs) =>
          post(client, endpoint, wire.dialect, wire.path, wire.toBody(options, model, inputs)).pipe(
            Effect.flatMap((response) => readJson(response, endpoint)),
            Effect.flatMap((body) => {
              const reading = wire.toEmbeddings(body, model)
              const { vectors } = reading
              return numericVectors(vectors, inputs.length)
                ? Effect.succeed({ model: reading.model, vectors, inputTokens: reading.inputTokens })
                : Effect.fail(
                  chatError(
                    endpoint,
                    "invalid_response",
                    `expected ${inputs.length} numeric vectors, got ${vectors.length}`
                  )
                )
            }),
            Effect.mapError((error) => new EmbeddingError({ errorType: error.errorType, message: error.message }))
          )
      }
    })

/** The variables a provider's `layerFromConfig` reads, and what an unset one means. */
export interface ConfigVariables<Options extends ProviderOptions> {
  /** The API key, read as a secret; unset means no key (local servers need none). */
  readonly apiKey: string
  /** The base URL; unset means `defaultBaseUrl`. */
  readonly baseUrl: string
  /** The model; unset means `defaultModel`. */
  readonly model: string
  readonly defaultBaseUrl: string
  readonly defaultModel: string
  /** Any further options the provider reads from its own variables. */
  readonly more?: Config.Config<Partial<Options>> | undefined
}

/** A secret variable, read as `Redacted` so that it is never shown; empty or blank counts as unset. */
export const secretVariable = (name: string): Config.Config<Redacted.Redacted<string> | undefined> =>
  Config.option(Config.Redacted(name)).pipe(
    Config.map((value) => Option.getOrUndefined(Option.filter(value, (key) => Redacted.value(key).trim() !== "")))
  )

/** A variable's text; empty or blank counts as unset, as for the OpenTelemetry variables. */
export const variable = (name: string): Config.Config<string | undefined> =>
  Config.option(Config.String(name)).pipe(
    Config.map((value) => Option.getOrUndefined(Option.filter(value, (text) => text.trim() !== "")))
  )

/** The fields of `options` that are set: an `undefined` passed in overrides no variable. */
export const setFields = <A extends object>(options: A): Partial<A> =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<A>

/**
 * A provider module's `layerFromConfig`: its `layer` over the options its variables give, the
 * options passed in overriding them. Empty variables count as unset. A base URL read from its
 * variable is checked under the variable's name (`OPENAI_BASE_URL=… is invalid`), every other
 * option by `layer` itself; a variable that cannot be read fails with a `ConfigError`. The key is
 * read as `Redacted`, so it is never shown.
 *
 * `layer` must take options in which only `model` is required, since that is all the variables
 * can promise: a provider whose options require more does not type-check here.
 */
export const defineLayerFromConfig = <Options extends ProviderOptions, A, E, R>(
  variables: ConfigVariables<NoInfer<Options>>,
  layer: (options: ProviderOptions & Partial<Options>) => Layer.Layer<A, E, R>
) =>
(options: Partial<Options> = {}): Layer.Layer<A, E | Config.ConfigError | ProviderConfigError, R> =>
  Layer.unwrap(Effect.gen(function*() {
    const apiKey = yield* secretVariable(variables.apiKey)
    const baseUrl = yield* variable(variables.baseUrl)
    const model = yield* variable(variables.model)
    const more = variables.more !== undefined ? yield* variables.more : {}
    const given = setFields(options)
    if (given.baseUrl === undefined && baseUrl !== undefined) {
      const failure = checkBaseUrl(variables.baseUrl, baseUrl, variables.defaultBaseUrl)
      if (failure !== undefined) return yield* failure
    }
    return layer({
      ...(apiKey !== undefined ? { apiKey } : {}),
      baseUrl: baseUrl ?? variables.defaultBaseUrl,
      ...setFields(more),
      ...given,
      model: given.model ?? model ?? variables.defaultModel
    })
  }))

/** An error event in a stream as a `ChatError`, read by the dialect; `_OTHER` when it names no type. */
export const streamError = (endpoint: Endpoint, dialect: Dialect, body: unknown): ChatError => {
  const info = dialect.errorOf(body)
  return chatError(endpoint, info.errorType ?? "_OTHER", `stream error: ${info.message ?? "unknown"}`)
}

/** The text parts of a message, joined by newlines: what a provider's plain-text field carries. */
export const textOf = (parts: ReadonlyArray<MessagePart>): string =>
  parts.flatMap((part) => {
    const content = (part as { readonly content?: unknown }).content
    return part.type === "text" && typeof content === "string" ? [content] : []
  }).join("\n")

/** A value as the JSON text a string field carries (tool arguments, tool results); a string as it is. */
export const jsonText = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value) ?? "null"

/** A tool's JSON Schema for its arguments; one that declares none takes an empty object. */
export const toolParameters = (tool: ToolDefinition): unknown => tool.parameters ?? { type: "object", properties: {} }

/** A list, or undefined when it is absent or empty, so that no empty list is sent (OpenAI rejects `tools: []`). */
export const nonEmpty = <A>(list: ReadonlyArray<A> | undefined): ReadonlyArray<A> | undefined =>
  list !== undefined && list.length > 0 ? list : undefined

/** The sum of several reported token counts; undefined unless every one was reported (never a made-up 0). */
export const totalTokens = (counts: ReadonlyArray<number | undefined>): number | undefined =>
  counts.length > 0 && counts.every((n) => n !== undefined)
    ? counts.reduce((total: number, n) => total + n, 0)
    : undefined

/**
 * Usage in the conventions' terms from a provider that counts the prompt cache apart from its
 * input (Anthropic, Bedrock): the input tokens are the uncached ones plus the cache reads and
 * writes, which are also recorded on their own. A count not reported stays absent.
 */
export const cacheExclusiveUsage = (counts: {
  readonly input: unknown
  readonly output: unknown
  readonly cacheRead: unknown
  readonly cacheWrite: unknown
}): Usage => {
  const input = count(counts.input)
  const cacheRead = count(counts.cacheRead)
  const cacheWrite = count(counts.cacheWrite)
  return {
    inputTokens: input !== undefined ? input + (cacheRead ?? 0) + (cacheWrite ?? 0) : undefined,
    outputTokens: count(counts.output),
    cacheReadInputTokens: cacheRead,
    cacheCreationInputTokens: cacheWrite
  }
}

/**
 * The system prompt's request for a JSON answer, for a wire format with no JSON response mode
 * (Anthropic's Messages API, Bedrock's Converse); empty when the request asks for none.
 */
export const jsonAnswerInstruction = (
  responseFormat: { readonly name: string; readonly schema: unknown } | undefined
): string =>
  responseFormat !== undefined
    ? `Answer with one JSON object named ${responseFormat.name} that matches this JSON Schema, and nothing else: ${
      JSON.stringify(responseFormat.schema)
    }`
    : ""

/**
 * Tool-call arguments as the JSON object a wire format's call carries (Anthropic's `input`,
 * Gemini's `args`, Converse's `toolUse.input`): an object as it is, a JSON text of one parsed,
 * anything else `{}`.
 */
export const argumentsObject = (value: unknown): Record<string, unknown> => {
  if (typeof value !== "string") return record(value) ?? {}
  try {
    return record(JSON.parse(value)) ?? {}
  } catch {
    return {}
  }
}

// Readers for untrusted JSON: a field of the wrong type reads as absent.

/**
 * A wire value looked up in a mapping table: only the table's own entries count, so a hostile
 * value such as `constructor` finds nothing instead of a prototype's function.
 */
export const mapped = <A>(table: Readonly<Record<string, A>>, key: string): A | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined

export const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
export const string = (value: unknown): string | undefined => typeof value === "string" ? value : undefined
export const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined
export const array = (value: unknown): ReadonlyArray<unknown> => Array.isArray(value) ? value : []
