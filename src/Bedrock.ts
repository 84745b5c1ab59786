/**
 * Amazon Bedrock's Converse API as instrumented `ChatModel` and `Embedder` layers:
 * `POST {baseUrl}/model/{modelId}/converse` (a JSON reply), `…/converse-stream` (the AWS
 * event-stream binary framing) and, for embeddings, `…/invoke` with Titan Text Embeddings V2's
 * body. The model id may be a foundation model (`amazon.nova-lite-v1:0`), an inference profile
 * (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`) or an ARN; it is URL-encoded into the path.
 *
 * Requests are signed with AWS Signature V4 (service `bedrock`) on every attempt, so a retry
 * carries a fresh `x-amz-date`; or, with a Bedrock API key, sent with it as a bearer token. The
 * credentials are `Redacted`, and scrubbed from every error text; none reaches a span.
 *
 * Usage follows the conventions: `gen_ai.usage.input_tokens` is Bedrock's `inputTokens` plus the
 * prompt-cache reads and writes, which are also recorded on their own, streamed or not. A
 * configured guardrail is `aws.bedrock.guardrail.id` on every call's span.
 *
 * ```ts
 * const Model = Bedrock.layer({
 *   model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
 *   region: "us-west-2",
 *   credentials: { accessKeyId: Redacted.make(id), secretAccessKey: Redacted.make(secret) }
 * }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.4.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as ChatModel from "./ChatModel.ts"
import * as Embedder from "./Embedder.ts"
import * as GenAI from "./GenAI.ts"
import {
  type AwsCredentials,
  converseStreamHandler,
  makeDialect,
  makeScrubber,
  mediaBlock,
  regionOf,
  scrubChatError,
  signingClient,
  toFinishReason,
  toUsage
} from "./internal/bedrockWire.ts"
import { decodeEventStream, type FrameHandler } from "./internal/eventStream.ts"
import {
  argumentsObject,
  array,
  checkBaseUrl,
  checkOptionalText,
  checkText,
  checkWhole,
  count,
  type Endpoint,
  type EndpointOptions,
  invalidOption,
  jsonAnswerInstruction,
  jsonText,
  nonEmpty,
  type OptionCheck,
  post,
  ProviderConfigError,
  readJson,
  record,
  secretVariable,
  serverOf,
  setFields,
  string,
  textOf,
  toolParameters,
  totalTokens,
  validateOptions,
  variable
} from "./internal/providerKit.ts"
import { ATTR_AWS_BEDROCK_GUARDRAIL_ID } from "./internal/semconv.ts"

export { ProviderConfigError, toFinishReason, toUsage }

/**
 * AWS credentials for SigV4: an access key id, its secret, and the session token of temporary
 * credentials, each `Redacted`.
 *
 * @since 0.4.0
 * @category models
 */
export type Credentials = AwsCredentials

/**
 * A guardrail every call is checked by (`guardrailConfig`): its id and version, whether Bedrock
 * returns its trace, and, for streams, whether it checks the reply before (`sync`, the default)
 * or while (`async`) it is streamed.
 *
 * @since 0.4.0
 * @category models
 */
export interface Guardrail {
  readonly id: string
  /** A version number (`"1"`) or `"DRAFT"`. */
  readonly version: string
  readonly trace?: "enabled" | "disabled" | "enabled_full" | undefined
  readonly streamProcessingMode?: "sync" | "async" | undefined
}

/**
 * Options for Bedrock.
 *
 * @since 0.4.0
 * @category models
 */
export interface Options extends EndpointOptions {
  /** The model id, inference profile or ARN, e.g. `amazon.nova-lite-v1:0`. */
  readonly model: string
  /** The AWS region signed for and called; default the base URL's region, else `us-east-1`. */
  readonly region?: string | undefined
  /** Signs every request with SigV4. Without them (and without `apiKey`) requests are unsigned. */
  readonly credentials?: Credentials | undefined
  /** A Bedrock API key, sent as `Authorization: Bearer …` in place of a signature; never recorded. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Default `https://bedrock-runtime.{region}.amazonaws.com`; `/model/{modelId}/…` is appended. */
  readonly baseUrl?: string | URL | undefined
  /** Sent as `guardrailConfig`; its id is recorded as `aws.bedrock.guardrail.id`. */
  readonly guardrail?: Guardrail | undefined
  /** Model-specific request fields (`additionalModelRequestFields`), e.g. Claude's `thinking`. */
  readonly additionalModelRequestFields?: Readonly<Record<string, unknown>> | undefined
  /** The embeddings model (Titan Text Embeddings V2's body); default `amazon.titan-embed-text-v2:0`. */
  readonly embeddingModel?: string | undefined
  /** Embedding dimensions: 256, 512 or 1024 (the default). */
  readonly dimensions?: number | undefined
  /** Whether Titan normalizes the vectors; default true. */
  readonly normalize?: boolean | undefined
  /** Titan embeds one text per call: how many calls run at once for a batch. Default 4. */
  readonly embeddingConcurrency?: number | undefined
}

/**
 * The region used when neither the options nor the base URL name one.
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultRegion = "us-east-1"

/**
 * The runtime endpoint of a region.
 *
 * @example
 * ```ts
 * Bedrock.defaultBaseUrl("eu-west-1") // "https://bedrock-runtime.eu-west-1.amazonaws.com"
 * ```
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultBaseUrl = (region: string): string => `https://bedrock-runtime.${region}.amazonaws.com`

/**
 * The model `layerFromConfig` uses when `BEDROCK_MODEL_ID` is unset: invocable on demand by its
 * model id in most regions, with no inference profile.
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultModel = "amazon.nova-lite-v1:0"

/**
 * The embeddings model when none is named.
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultEmbeddingModel = "amazon.titan-embed-text-v2:0"

/** The region the options name, else the base URL's, else the default. */
const regionFor = (options: Options): string => {
  if (options.region !== undefined) return options.region
  try {
    return options.baseUrl !== undefined ? regionOf(new URL(options.baseUrl)) ?? defaultRegion : defaultRegion
  } catch {
    return defaultRegion
  }
}

/** `/model/{modelId}/{operation}`, the id encoded as one path segment (an ARN's `:` and `/` too). */
const modelPath = (model: string, operation: string): string =>
  `/model/${encodeURIComponent(model.toWellFormed())}/${operation}`

const isSecret = (value: unknown): value is Redacted.Redacted<string> =>
  Redacted.isRedacted(value) && typeof Redacted.value(value) === "string" && Redacted.value(value) !== "" &&
  !/[\r\n\0]/.test(Redacted.value(value) as string)

const checkCredentials = (value: unknown): OptionCheck => {
  if (value === undefined) return undefined
  const c = record(value)
  if (c === undefined) {
    return invalidOption("credentials", typeof value, "{ accessKeyId, secretAccessKey, sessionToken? }")
  }
  for (const field of ["accessKeyId", "secretAccessKey", "sessionToken"] as const) {
    if (field === "sessionToken" && c[field] === undefined) continue
    if (!isSecret(c[field])) {
      return invalidOption(`credentials.${field}`, "<redacted>", "a non-empty Redacted string on one line")
    }
  }
  return undefined
}

const checkGuardrail = (value: unknown): OptionCheck => {
  if (value === undefined) return undefined
  const g = record(value)
  if (g === undefined) return invalidOption("guardrail", typeof value, "{ id, version, trace?, streamProcessingMode? }")
  return checkText("guardrail.id", g["id"], "a guardrail id or ARN") ??
    checkText("guardrail.version", g["version"], "a version number or \"DRAFT\"") ??
    (g["trace"] === undefined || ["enabled", "disabled", "enabled_full"].includes(g["trace"] as string)
      ? undefined
      : invalidOption("guardrail.trace", g["trace"], "\"enabled\", \"disabled\" or \"enabled_full\"")) ??
    (g["streamProcessingMode"] === undefined || ["sync", "async"].includes(g["streamProcessingMode"] as string)
      ? undefined
      : invalidOption("guardrail.streamProcessingMode", g["streamProcessingMode"], "\"sync\" or \"async\""))
}

const checks = (options: Options): ReadonlyArray<OptionCheck> => [
  options.region === undefined || (typeof options.region === "string" && /^[a-z]{2}(-[a-z0-9]+)+$/.test(options.region))
    ? undefined
    : invalidOption("region", options.region, "an AWS region, e.g. us-east-1"),
  checkCredentials(options.credentials),
  checkGuardrail(options.guardrail),
  options.additionalModelRequestFields === undefined || record(options.additionalModelRequestFields) !== undefined
    ? undefined
    : invalidOption("additionalModelRequestFields", typeof options.additionalModelRequestFields, "an object"),
  checkOptionalText("embeddingModel", options.embeddingModel),
  checkWhole("dimensions", options.dimensions, 1),
  options.normalize === undefined || typeof options.normalize === "boolean"
    ? undefined
    : invalidOption("normalize", options.normalize, "true or false"),
  checkWhole("embeddingConcurrency", options.embeddingConcurrency, 1)
]

/** What every Bedrock call shares: the checked endpoint, the (signing) client, the scrubber. */
interface Connection {
  readonly endpoint: Endpoint
  readonly client: HttpClient.HttpClient
  readonly scrub: (text: string) => string
  readonly dialect: ReturnType<typeof makeDialect>
}

const connect = (options: Options): Effect.Effect<Connection, ProviderConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const region = regionFor(options)
    const scrub = makeScrubber([
      options.apiKey,
      options.credentials?.accessKeyId,
      options.credentials?.secretAccessKey,
      options.credentials?.sessionToken
    ])
    const dialect = makeDialect(scrub)
    const endpoint = yield* validateOptions({
      defaultBaseUrl: defaultBaseUrl(region),
      path: "",
      dialect,
      provider: () => GenAI.Provider.awsBedrock,
      checks
    }, options)
    const client = yield* HttpClient.HttpClient
    // An API key wins over credentials, as in the AWS SDKs.
    const signed = options.apiKey === undefined && options.credentials !== undefined
      ? signingClient(client, options.credentials, region)
      : client
    return { endpoint, client: signed, scrub, dialect }
  })

// -----------------------------------------------------------------------------
// Requests
// -----------------------------------------------------------------------------

/** A conventions message part as Converse content blocks; parts it cannot carry are left out. */
const toBlocks = (part: GenAI.MessagePart, nextDocument: () => number): Array<Record<string, unknown>> => {
  const p = part as Record<string, unknown>
  switch (part.type) {
    case "text":
      return typeof p["content"] === "string" && p["content"] !== "" ? [{ text: p["content"] }] : []
    case "tool_call":
      return [{ toolUse: { toolUseId: p["id"] ?? "", name: p["name"], input: argumentsObject(p["arguments"]) } }]
    case "tool_call_response": {
      const response = p["response"]
      return [{
        toolResult: {
          toolUseId: p["id"] ?? "",
          content: [record(response) !== undefined ? { json: response } : { text: jsonText(response) }]
        }
      }]
    }
    case "blob":
    case "uri":
      return mediaBlock(p, nextDocument)
    default:
      // Reasoning is not sent back: Bedrock wants the signature it came with, which parts do not keep.
      return []
  }
}

const systemOf = (request: ChatModel.ChatRequest): Array<{ readonly text: string }> => {
  const texts = [
    textOf(request.systemInstructions ?? []),
    ...request.messages.filter((m) => m.role === "system").map((m) => textOf(m.parts)),
    // Converse has no JSON mode every model honours: a structured answer is asked for in the system prompt.
    jsonAnswerInstruction(request.responseFormat)
  ]
  return texts.filter((text) => text !== "").map((text) => ({ text }))
}

/**
 * The messages as Converse takes them: two roles (tool results travel in user messages), turns
 * of the same role merged (Converse wants them to alternate), and no empty turn.
 */
const messagesOf = (request: ChatModel.ChatRequest) => {
  const out: Array<{ role: "user" | "assistant"; content: Array<Record<string, unknown>> }> = []
  // Unnamed documents are numbered across the request, so that no two share a name.
  let documents = 0
  const nextDocument = () => documents++
  for (const message of request.messages) {
    if (message.role === "system") continue
    const role = message.role === "assistant" ? "assistant" : "user"
    const content = message.parts.flatMap((part) => toBlocks(part, nextDocument))
    if (content.length === 0) continue
    const last = out.at(-1)
    if (last?.role === role) last.content.push(...content)
    else out.push({ role, content })
  }
  return out
}

/**
 * A request as the Converse body (plain or streamed: the same fields, `streamProcessingMode` only
 * for streams). Fields left `undefined` are not sent.
 *
 * @since 0.4.0
 * @category mapping
 */
export const toBody = (options: Options, request: ChatModel.ChatRequest, stream: boolean): Record<string, unknown> => {
  const inference = {
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    topP: request.topP,
    stopSequences: nonEmpty(request.stopSequences)
  }
  const guardrail = options.guardrail
  return {
    messages: messagesOf(request),
    system: nonEmpty(systemOf(request)),
    inferenceConfig: Object.values(inference).some((v) => v !== undefined) ? inference : undefined,
    toolConfig: request.tools !== undefined && request.tools.length > 0
      ? {
        tools: request.tools.map((tool) => ({
          toolSpec: {
            name: tool.name,
            description: tool.description !== "" ? tool.description : undefined,
            inputSchema: { json: toolParameters(tool) }
          }
        }))
      }
      : undefined,
    guardrailConfig: guardrail !== undefined
      ? {
        guardrailIdentifier: guardrail.id,
        guardrailVersion: guardrail.version,
        trace: guardrail.trace,
        streamProcessingMode: stream ? guardrail.streamProcessingMode : undefined
      }
      : undefined,
    additionalModelRequestFields: options.additionalModelRequestFields
  }
}

// -----------------------------------------------------------------------------
// Replies
// -----------------------------------------------------------------------------

/**
 * A Converse response body as a reply (`output.message.content[]`, `stopReason`, `usage`);
 * undefined when it is not one. Bedrock names neither a response id nor the model that answered
 * in the body: `id` is the request id it sends as `x-amzn-requestid`, and `model` the model id
 * the call named.
 *
 * @since 0.4.0
 * @category mapping
 */
export const toResponse = (body: unknown, id = "", model = ""): ChatModel.ChatResponse | undefined => {
  const root = record(body)
  const content = record(record(root?.["output"])?.["message"])?.["content"]
  if (root === undefined || !Array.isArray(content)) return undefined
  const blocks = array(content).flatMap((item) => {
    const block = record(item)
    return block !== undefined ? [block] : []
  })
  const reasoning = blocks.flatMap((block) => {
    const text = string(record(record(block["reasoningContent"])?.["reasoningText"])?.["text"])
    return text !== undefined ? [text] : []
  }).join("")
  return {
    id,
    model,
    text: blocks.flatMap((block) => typeof block["text"] === "string" ? [block["text"]] : []).join(""),
    toolCalls: blocks.flatMap((block, index) => {
      const use = record(block["toolUse"])
      return use !== undefined
        ? [{
          id: string(use["toolUseId"]) ?? `tooluse_${index}`,
          name: string(use["name"]) ?? "",
          arguments: use["input"] ?? {}
        }]
        : []
    }),
    finishReason: toFinishReason(string(root["stopReason"]) ?? "end_turn"),
    usage: toUsage(root["usage"]) ?? {},
    ...(reasoning !== "" ? { reasoning } : {})
  }
}

/**
 * Reads a `converse-stream` reply frame by frame (see `internal/eventStream.ts` for the framing):
 * text, tool-use input fragments and reasoning text as deltas, `messageStop` as the finish reason,
 * `metadata` as the usage; an exception frame fails the stream with its `:exception-type`.
 *
 * @since 0.4.0
 * @category mapping
 */
export const streamDecoder = (endpoint: Endpoint): () => FrameHandler =>
  converseStreamHandler(endpoint, makeScrubber([endpoint.apiKey]))

/** The request id AWS answers with, which stands for the response id. */
const requestId = (response: HttpClientResponse.HttpClientResponse): string =>
  response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"] ?? ""

// -----------------------------------------------------------------------------
// Providers and layers
// -----------------------------------------------------------------------------

/**
 * The chat provider for the Converse API (plain and streamed calls). It fails with a
 * {@link ProviderConfigError} when an option cannot be used.
 *
 * @example
 * ```ts
 * const Model = EffectAi.layer(Bedrock.chatProvider({ model: "amazon.nova-lite-v1:0", region: "us-east-1" }))
 * ```
 *
 * @since 0.4.0
 * @category constructors
 */
export const chatProvider = (
  options: Options
): Effect.Effect<ChatModel.Provider, ProviderConfigError, HttpClient.HttpClient> =>
  Effect.map(connect(options), ({ client, dialect, endpoint, scrub }): ChatModel.Provider => {
    const scrubbed = scrubChatError(scrub)
    const send = (operation: string, request: ChatModel.ChatRequest, stream: boolean) =>
      post(client, endpoint, dialect, modelPath(options.model, operation), toBody(options, request, stream))
    const handler = converseStreamHandler(endpoint, scrub)
    return {
      provider: GenAI.Provider.awsBedrock,
      model: options.model,
      ...serverOf(endpoint.baseUrl),
      ...(options.guardrail !== undefined
        ? { attributes: { [ATTR_AWS_BEDROCK_GUARDRAIL_ID]: options.guardrail.id } }
        : {}),
      complete: (request) =>
        send("converse", request, false).pipe(
          Effect.flatMap((response) =>
            Effect.flatMap(readJson(response, endpoint), (body) => {
              const reply = toResponse(body, requestId(response), options.model)
              return reply !== undefined
                ? Effect.succeed(reply)
                : Effect.fail(scrubbed(
                  new ChatModel.ChatError({
                    errorType: "invalid_response",
                    message: "the response has no output message"
                  })
                ))
            })
          ),
          Effect.mapError(scrubbed)
        ),
      stream: (request) =>
        Stream.unwrap(Effect.map(send("converse-stream", request, true), (response) =>
          Stream.concat(
            Stream.succeed<GenAI.StreamPart>({
              type: "response-metadata",
              id: requestId(response),
              model: options.model
            }),
            decodeEventStream(response.stream, endpoint, handler)
          ))).pipe(Stream.mapError(scrubbed))
    }
  })

/** One Titan embedding: its vector and the tokens it read, or `invalid_response`. */
const titanEmbedding = (body: unknown, endpoint: Endpoint) => {
  const root = record(body)
  const vector = array(root?.["embedding"])
  return vector.length > 0 && vector.every((x) => typeof x === "number" && Number.isFinite(x))
    ? Effect.succeed({ vector: vector as ReadonlyArray<number>, tokens: count(root?.["inputTextTokenCount"]) })
    : Effect.fail(
      new ChatModel.ChatError({
        errorType: "invalid_response",
        message: `${endpoint.baseUrl.host} answered with no numeric embedding`
      })
    )
}

/**
 * The embeddings provider: Titan Text Embeddings V2 through `InvokeModel`
 * (`{inputText, dimensions, normalize}` → `{embedding, inputTextTokenCount}`), which embeds one
 * text per call, so a batch is one call per input (each its own HTTP span, retried on its own),
 * `embeddingConcurrency` at a time; the input tokens are their sum, when every call reports its count.
 *
 * @example
 * ```ts
 * const Embeddings = EffectAi.layerEmbedding(
 *   Bedrock.embeddingProvider({ model: "amazon.nova-lite-v1:0", embeddingModel: "amazon.titan-embed-text-v2:0" })
 * )
 * ```
 *
 * @since 0.4.0
 * @category constructors
 */
export const embeddingProvider = (
  options: Options
): Effect.Effect<Embedder.Provider, ProviderConfigError, HttpClient.HttpClient> =>
  Effect.map(connect(options), ({ client, dialect, endpoint, scrub }) => {
    const model = options.embeddingModel ?? defaultEmbeddingModel
    const dimensions = options.dimensions ?? 1024
    const path = modelPath(model, "invoke")
    const embedOne = (text: string) =>
      post(client, endpoint, dialect, path, { inputText: text, dimensions, normalize: options.normalize ?? true }).pipe(
        Effect.flatMap((response) => readJson(response, endpoint)),
        Effect.flatMap((body) => titanEmbedding(body, endpoint))
      )
    return {
      provider: GenAI.Provider.awsBedrock,
      model,
      dimensions,
      ...serverOf(endpoint.baseUrl),
      embed: (inputs) =>
        Effect.forEach(inputs, embedOne, { concurrency: options.embeddingConcurrency ?? 4 }).pipe(
          Effect.map((results) => ({
            model,
            vectors: results.map((result) => result.vector),
            inputTokens: totalTokens(results.map((result) => result.tokens))
          })),
          Effect.mapError((error) =>
            new Embedder.EmbeddingError({ errorType: error.errorType, message: scrub(error.message) })
          )
        )
    }
  })

/**
 * `ChatModel` and `Embedder` for Bedrock. Needs an `HttpClient`; fails with a
 * {@link ProviderConfigError} when an option cannot be used.
 *
 * @example
 * ```ts
 * const Models = Bedrock.layer({ model: "amazon.nova-lite-v1:0", apiKey: Redacted.make(key) }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
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
    Layer.effect(Embedder.Embedder, Effect.map(embeddingProvider(options), Embedder.make))
  )

/**
 * {@link layer} from the environment: the AWS SDKs' `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`, `AWS_REGION` (else `AWS_DEFAULT_REGION`) and `AWS_BEARER_TOKEN_BEDROCK`
 * (a Bedrock API key, which wins over the credentials), with `BEDROCK_MODEL_ID` (default
 * `amazon.nova-lite-v1:0`), `BEDROCK_EMBEDDING_MODEL_ID` and `BEDROCK_BASE_URL`. Options override
 * them; an empty variable counts as unset. An access key without its secret (or the other way
 * round), or a base URL that is not an http(s) URL, fails with a {@link ProviderConfigError}
 * naming the variable.
 *
 * @example
 * ```ts
 * const Models = Bedrock.layerFromConfig().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.4.0
 * @category layers
 */
export const layerFromConfig = (
  options: Partial<Options> = {}
): Layer.Layer<
  ChatModel.ChatModel | Embedder.Embedder,
  Config.ConfigError | ProviderConfigError,
  HttpClient.HttpClient
> =>
  Layer.unwrap(Effect.gen(function*() {
    const accessKeyId = yield* secretVariable("AWS_ACCESS_KEY_ID")
    const secretAccessKey = yield* secretVariable("AWS_SECRET_ACCESS_KEY")
    const sessionToken = yield* secretVariable("AWS_SESSION_TOKEN")
    const apiKey = yield* secretVariable("AWS_BEARER_TOKEN_BEDROCK")
    const region = (yield* variable("AWS_REGION")) ?? (yield* variable("AWS_DEFAULT_REGION"))
    const baseUrl = yield* variable("BEDROCK_BASE_URL")
    const model = yield* variable("BEDROCK_MODEL_ID")
    const embeddingModel = yield* variable("BEDROCK_EMBEDDING_MODEL_ID")
    const given = setFields(options)
    if (given.credentials === undefined && (accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      const [missing, set] = accessKeyId === undefined
        ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        : ["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"]
      return yield* invalidOption(missing, "", `set along with ${set}`)
    }
    if (given.baseUrl === undefined && baseUrl !== undefined) {
      const failure = checkBaseUrl("BEDROCK_BASE_URL", baseUrl, defaultBaseUrl(defaultRegion))
      if (failure !== undefined) return yield* failure
    }
    return layer({
      ...(accessKeyId !== undefined && secretAccessKey !== undefined
        ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) } }
        : {}),
      ...setFields({ apiKey, region, baseUrl, embeddingModel }),
      ...given,
      model: given.model ?? model ?? defaultModel
    })
  }))
