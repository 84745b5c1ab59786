/**
 * Google's Gemini models as instrumented `ChatModel` and `Embedder` layers, over the Gemini API
 * (`generativelanguage.googleapis.com`, recorded as `gen_ai.provider.name` `gcp.gemini`) or Vertex
 * AI (`{location}-aiplatform.googleapis.com`, `gcp.vertex_ai`): `POST models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse`, and embeddings (`:embedContent` for one input,
 * `:batchEmbedContents` for several; on Vertex AI `:predict`).
 *
 * Each call is a `generate_content {model}` span: the conventions name Gemini's operation
 * `generate_content`, as the OpenTelemetry instrumentation of Google's own SDK does. The key goes
 * in the `x-goog-api-key` header (on Vertex AI the access token in `Authorization: Bearer …`),
 * never in the URL, which the HTTP span and error texts would repeat.
 *
 * Vertex AI is chosen with the `vertex` option (`layerFromConfig`: `GOOGLE_GENAI_USE_VERTEXAI=true`,
 * as Google's SDKs read it); the base URL alone does not choose it, since a proxy's address says
 * neither which credential nor which embeddings endpoint it expects.
 *
 * ```ts
 * const Models = Gemini.layer({ model: "gemini-2.5-flash", apiKey: Redacted.make(key) }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * const OnVertex = Gemini.layer({
 *   model: "gemini-2.5-flash",
 *   vertex: { project: "my-project", location: "europe-west4", accessToken: Redacted.make(token) }
 * }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.4.0
 */
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as ChatModel from "./ChatModel.ts"
import * as Embedder from "./Embedder.ts"
import * as GenAI from "./GenAI.ts"
import { layerFromConfig as fromConfig } from "./internal/geminiConfig.ts"
import {
  apiKeyDialect,
  bearerDialect,
  type CandidateReading,
  type EmbeddingsBody,
  makeSignatureStore,
  readEmbedding,
  readEmbeddings,
  readPredictions,
  readResponse,
  type SignatureStore,
  streamDecoder as decoder,
  toFinishReason as finishReasonOf,
  usageCounts,
  usageOf,
  vertexKeyDialect
} from "./internal/geminiWire.ts"
import {
  argumentsObject,
  checkOptionalText,
  checkWhole,
  defineChatProvider,
  defineEmbeddingProvider,
  type Dialect,
  type Endpoint,
  type EndpointOptions,
  invalidOption,
  mapped,
  nonEmpty,
  type OptionCheck,
  type ProviderConfigError,
  record,
  type StreamDecoder,
  string,
  textOf,
  toolParameters
} from "./internal/providerKit.ts"

/**
 * Vertex AI instead of the Gemini API.
 *
 * @example
 * ```ts
 * const vertex: Gemini.VertexOptions = { project: "my-project", location: "us-central1", accessToken }
 * ```
 *
 * @since 0.4.0
 * @category models
 */
export interface VertexOptions {
  /** The Google Cloud project. Without one, Vertex AI express mode: an API key, no project in the path. */
  readonly project?: string | undefined
  /** A region (`us-central1`), a multi-region (`us`, `eu`), or `global`, the default. */
  readonly location?: string | undefined
  /** An OAuth 2 access token (`gcloud auth print-access-token`), sent as `Authorization: Bearer …`; never recorded. */
  readonly accessToken?: Redacted.Redacted<string> | undefined
}

/**
 * Options for Gemini, on the Gemini API or on Vertex AI.
 *
 * @example
 * ```ts
 * const options: Gemini.Options = { model: "gemini-2.5-flash", apiKey: Redacted.make(key), topK: 40 }
 * ```
 *
 * @since 0.4.0
 * @category models
 */
export interface Options extends EndpointOptions {
  /** The model, e.g. `gemini-2.5-flash` (`models/` is prefixed when the name has no `/`). */
  readonly model: string
  /** Sent as `x-goog-api-key` (the Gemini API, or Vertex AI express mode); never recorded, never in a URL. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Default `https://generativelanguage.googleapis.com/v1beta`, or the Vertex AI URL `vertex` describes. */
  readonly baseUrl?: string | URL | undefined
  /** Call Vertex AI (`gen_ai.provider.name` `gcp.vertex_ai`) rather than the Gemini API. */
  readonly vertex?: VertexOptions | undefined
  /** The embeddings model; default `gemini-embedding-001`. */
  readonly embeddingModel?: string | undefined
  /** Embedding dimensions, sent as `outputDimensionality`; default the model's own size (3072 for `gemini-embedding-001`). */
  readonly dimensions?: number | undefined
  /** `generationConfig.topK` for every call, recorded as `gen_ai.request.top_k`. */
  readonly topK?: number | undefined
  /** Ask for the model's thoughts (`thinkingConfig.includeThoughts`), returned as reasoning. */
  readonly includeThoughts?: boolean | undefined
}

/**
 * The Gemini API's base URL.
 *
 * @example
 * ```ts
 * Gemini.layer({ model: "gemini-2.5-flash", baseUrl: Gemini.defaultBaseUrl })
 * ```
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultBaseUrl = "https://generativelanguage.googleapis.com/v1beta"

/**
 * The default chat model of `layerFromConfig`.
 *
 * @example
 * ```ts
 * Gemini.layer({ model: Gemini.defaultModel, apiKey })
 * ```
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultModel = "gemini-2.5-flash"

/**
 * The default embeddings model.
 *
 * @example
 * ```ts
 * Gemini.layer({ model: Gemini.defaultModel, embeddingModel: Gemini.defaultEmbeddingModel, apiKey })
 * ```
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultEmbeddingModel = "gemini-embedding-001"

/**
 * The Vertex AI base URL of a project and location:
 * `https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google`
 * (`aiplatform.googleapis.com` for `global`, `aiplatform.{us|eu}.rep.googleapis.com` for the
 * multi-regions), or express mode's `https://aiplatform.googleapis.com/v1/publishers/google` without a project.
 *
 * @example
 * ```ts
 * Gemini.vertexBaseUrl({ project: "p", location: "us-central1" })
 * // "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google"
 * ```
 *
 * @since 0.4.0
 * @category constants
 */
export const vertexBaseUrl = (vertex: VertexOptions): string => {
  if (vertex.project === undefined) return "https://aiplatform.googleapis.com/v1/publishers/google"
  const location = vertex.location ?? "global"
  const host = location === "global"
    ? "aiplatform.googleapis.com"
    : location === "us" || location === "eu"
    ? `aiplatform.${location}.rep.googleapis.com`
    : `${location}-aiplatform.googleapis.com`
  return `https://${host}/v1/projects/${encodeURIComponent(vertex.project)}/locations/${
    encodeURIComponent(location)
  }/publishers/google`
}

// -----------------------------------------------------------------------------
// Mapping
// -----------------------------------------------------------------------------

/**
 * A Gemini `finishReason` in the conventions' words: `STOP` → `stop` (`tool_call` when the
 * candidate called a function), `MAX_TOKENS` → `length`, `SAFETY`, `RECITATION`, `BLOCKLIST`,
 * `PROHIBITED_CONTENT`, `SPII` and the image filters → `content_filter`, `MALFORMED_FUNCTION_CALL`
 * → `error`; others lower-cased.
 *
 * @example
 * ```ts
 * Gemini.toFinishReason("MAX_TOKENS") // "length"
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const toFinishReason: (reason: string, toolCalled?: boolean) => GenAI.FinishReasonName = finishReasonOf

/**
 * Gemini's `usageMetadata` in the conventions' terms: input is `promptTokenCount` (which includes
 * the cached `cachedContentTokenCount`) plus `toolUsePromptTokenCount`; output is
 * `candidatesTokenCount` plus `thoughtsTokenCount`, which is also the reasoning. Counts Gemini
 * leaves out stay absent.
 *
 * @example
 * ```ts
 * Gemini.toUsage({ promptTokenCount: 20, candidatesTokenCount: 253, thoughtsTokenCount: 260 })
 * // { inputTokens: 20, outputTokens: 513, cacheReadInputTokens: undefined, reasoningOutputTokens: 260 }
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const toUsage = (usage: unknown): GenAI.Usage | undefined => {
  const counts = usageCounts(usage)
  return counts !== undefined ? usageOf(counts) : undefined
}

/**
 * A candidate as the conventions' output message, its parts in the order a stream of it records
 * them: reasoning, the parts that arrive whole, text, tool calls.
 */
const candidateMessage = (candidate: CandidateReading): GenAI.OutputMessage => {
  const message = ChatModel.toOutputMessage({
    id: "",
    model: "",
    text: candidate.text,
    toolCalls: candidate.toolCalls,
    finishReason: candidate.finishReason,
    usage: {},
    reasoning: candidate.reasoning
  })
  if (candidate.parts.length === 0) return message
  const reasoning = message.parts.filter((part) => part.type === "reasoning")
  const rest = message.parts.filter((part) => part.type !== "reasoning")
  return { ...message, parts: [...reasoning, ...candidate.parts, ...rest] }
}

const responseOf = (body: unknown, signatures: SignatureStore | undefined): ChatModel.ChatResponse | undefined => {
  const reading = readResponse(body, signatures)
  if (reading === undefined) return undefined
  const first = reading.candidates[0]
  // The first candidate's text and calls tell the reply whole unless there are more, or parts beside them.
  const untold = reading.candidates.length > 1 || reading.candidates.some((c) => c.parts.length > 0)
  return {
    id: reading.id ?? "",
    model: reading.model ?? "",
    text: first?.text ?? "",
    toolCalls: first?.toolCalls ?? [],
    // A refused prompt has no candidate: the reply is empty, filtered as a refused candidate is.
    finishReason: first?.finishReason ??
      (reading.blockReason !== undefined ? GenAI.FinishReason.contentFilter : GenAI.FinishReason.stop),
    usage: reading.usage ?? {},
    ...(first !== undefined && first.reasoning !== "" ? { reasoning: first.reasoning } : {}),
    ...(untold ? { outputMessages: reading.candidates.map(candidateMessage) } : {})
  }
}

/**
 * A `GenerateContentResponse` body as a reply (the first candidate's text and function calls; one
 * output message per candidate when there are several); undefined when it is not one. A prompt
 * refused by Google's filters (`promptFeedback.blockReason`, no candidates) is an empty reply with
 * finish reason `content_filter`. Function calls without Gemini's own id get `call_{n}`.
 *
 * @example
 * ```ts
 * const reply = Gemini.toResponse(body)
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const toResponse = (body: unknown): ChatModel.ChatResponse | undefined => responseOf(body, undefined)

/**
 * The stream decoder of the Gemini API's `streamGenerateContent?alt=sse` (see `ChatModel.stream`):
 * each chunk's parts as deltas, every candidate's finish, the running usage, `{"error": …}` as a
 * typed error; the stream is complete when every candidate has finished. Exposed so that a
 * benchmark can measure it per chunk.
 *
 * @example
 * ```ts
 * const decode = Gemini.streamDecoder(endpoint)()
 * const parts = decode.onEvent({ event: "message", data: chunkJson })
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const streamDecoder = (endpoint: Endpoint): () => StreamDecoder => decoder(endpoint)

// -----------------------------------------------------------------------------
// Requests
// -----------------------------------------------------------------------------

type Part = Record<string, unknown>
type Content = { readonly role: "user" | "model"; readonly parts: Array<Part> }

/** Ids this module makes for calls Gemini gave none: not Gemini's, so never sent back as one. */
const madeId = /^call_\d+$/

const fields = (part: GenAI.MessagePart): Readonly<Record<string, unknown>> => part as Readonly<Record<string, unknown>>

/**
 * One conventions part as Gemini parts. Reasoning is not sent back (Gemini reads no thought text
 * without its signature); parts Gemini cannot take are left out.
 */
const toParts = (
  part: GenAI.MessagePart,
  names: ReadonlyMap<string, string>,
  signatures: SignatureStore
): Array<Part> => {
  const p = fields(part)
  const mimeType = string(p["mime_type"])
  switch (part.type) {
    case "text":
      return [{ text: String(p["content"]) }]
    case "tool_call": {
      const name = String(p["name"])
      const args = argumentsObject(p["arguments"])
      const id = string(p["id"])
      const signature = signatures.recall(name, args)
      return [{
        functionCall: { name, args, ...(id !== undefined && !madeId.test(id) ? { id } : {}) },
        ...(signature !== undefined ? { thoughtSignature: signature } : {})
      }]
    }
    case "tool_call_response": {
      const id = string(p["id"])
      const response = record(p["response"]) ?? { output: p["response"] ?? null }
      return [{
        functionResponse: {
          // Gemini matches a result to its call by name, which the conventions' part does not carry.
          name: (id !== undefined ? names.get(id) : undefined) ?? id ?? "",
          response,
          ...(id !== undefined && !madeId.test(id) ? { id } : {})
        }
      }]
    }
    case "blob":
      return [{ inlineData: { mimeType: mimeType ?? "application/octet-stream", data: String(p["content"]) } }]
    case "uri":
    case "file": {
      const uri = string(p["uri"]) ?? string(p["file_id"])
      return uri !== undefined ? [{ fileData: { fileUri: uri, ...(mimeType !== undefined ? { mimeType } : {}) } }] : []
    }
    default:
      return []
  }
}

/**
 * The conversation as Gemini `contents`: `assistant` messages are role `model`, the others `user`
 * (tool results too, as Gemini asks); consecutive messages of one role are joined, so that a
 * turn's function results travel together; `system` messages go to `systemInstruction` instead.
 */
const toContents = (request: ChatModel.ChatRequest, signatures: SignatureStore): Array<Content> => {
  // A result's call is the latest one with its id so far: `call_0` comes back in every turn.
  const names = new Map<string, string>()
  const contents: Array<Content> = []
  for (const message of request.messages) {
    for (const part of message.parts) {
      const p = fields(part)
      if (part.type === "tool_call" && typeof p["id"] === "string") names.set(p["id"], String(p["name"]))
    }
    if (message.role === "system") continue
    const role = message.role === "assistant" ? "model" : "user"
    const parts = message.parts.flatMap((part) => toParts(part, names, signatures))
    if (parts.length === 0) continue
    const last = contents.at(-1)
    if (last !== undefined && last.role === role) last.parts.push(...parts)
    else contents.push({ role, parts })
  }
  return contents
}

const systemInstruction = (request: ChatModel.ChatRequest): { readonly parts: ReadonlyArray<Part> } | undefined => {
  const texts = [
    textOf(request.systemInstructions ?? []),
    ...request.messages.flatMap((message) => message.role === "system" ? [textOf(message.parts)] : [])
  ].filter((t) => t !== "")
  return texts.length > 0 ? { parts: texts.map((t) => ({ text: t })) } : undefined
}

/** An object with its `undefined` fields left out, or undefined when none is left. */
const compact = (value: Record<string, unknown>): Record<string, unknown> | undefined => {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined)
  return entries.length > 0 ? Object.fromEntries(entries) : undefined
}

/**
 * The `GenerateContentRequest` body. Tool parameters and a JSON answer's schema are sent as JSON
 * Schema (`parametersJsonSchema`, `responseJsonSchema`), which both backends take as it is, rather
 * than as Gemini's OpenAPI subset, which rejects common JSON Schema keywords.
 */
const toBody = (options: Options, request: ChatModel.ChatRequest, signatures: SignatureStore) => ({
  contents: toContents(request, signatures),
  systemInstruction: systemInstruction(request),
  tools: nonEmpty(request.tools) !== undefined
    ? [{
      functionDeclarations: request.tools!.map((tool) => ({
        name: tool.name,
        description: tool.description,
        parametersJsonSchema: toolParameters(tool)
      }))
    }]
    : undefined,
  generationConfig: compact({
    temperature: request.temperature,
    topP: request.topP,
    topK: options.topK,
    maxOutputTokens: request.maxTokens,
    stopSequences: nonEmpty(request.stopSequences),
    seed: request.seed,
    candidateCount: request.choiceCount,
    responseMimeType: request.responseFormat !== undefined ? "application/json" : undefined,
    responseJsonSchema: request.responseFormat?.schema,
    thinkingConfig: options.includeThoughts === true ? { includeThoughts: true } : undefined
  })
})

// -----------------------------------------------------------------------------
// Providers
// -----------------------------------------------------------------------------

/** `models/{model}`, each segment escaped, unless the name already has a collection (`tunedModels/…`). */
const modelPath = (model: unknown): string => {
  const name = typeof model === "string" ? model : ""
  return (name.includes("/") ? name : `models/${name}`).split("/").map(encodeURIComponent).join("/")
}

const dialectOf = (options: Options): Dialect =>
  options.vertex === undefined
    ? apiKeyDialect
    : options.vertex.accessToken !== undefined
    ? bearerDialect
    : vertexKeyDialect

const providerOf = (options: Options): GenAI.ProviderName =>
  options.vertex !== undefined ? GenAI.Provider.gcpVertexAi : GenAI.Provider.gcpGemini

/** The options the endpoint is made of: on Vertex AI its base URL, and the access token as the credential. */
const endpointOptions = (options: Options): Options =>
  options.vertex === undefined ? options : {
    ...options,
    baseUrl: options.baseUrl ?? vertexBaseUrl(options.vertex),
    apiKey: options.vertex.accessToken ?? options.apiKey
  }

/** The checks of Gemini's own options, run before the kit's (which name the credential `apiKey`). */
const vertexChecks = (options: Options): ReadonlyArray<OptionCheck> => {
  const vertex: unknown = options.vertex
  if (vertex === undefined) return []
  if (typeof vertex !== "object" || vertex === null) {
    return [invalidOption("vertex", vertex, "an object: { project, location, accessToken }")]
  }
  const { accessToken, location, project } = vertex as VertexOptions
  return [
    checkOptionalText("vertex.project", project, "a Google Cloud project id"),
    checkOptionalText("vertex.location", location, "a location such as us-central1, europe-west4 or global"),
    accessToken !== undefined && !Redacted.isRedacted(accessToken)
      ? invalidOption("vertex.accessToken", "<redacted>", "a Redacted string (Redacted.make(token))")
      : undefined,
    accessToken === undefined && options.apiKey === undefined && options.baseUrl === undefined
      ? invalidOption(
        "vertex.accessToken",
        "undefined",
        "an OAuth access token (gcloud auth print-access-token), or an apiKey for express mode, or a baseUrl of a proxy that authenticates"
      )
      : undefined
  ]
}

const checks = (options: Options): ReadonlyArray<OptionCheck> => [
  checkOptionalText("embeddingModel", options.embeddingModel, "an embeddings model name"),
  checkWhole("dimensions", options.dimensions, 1),
  checkWhole("topK", options.topK, 1)
]

/** What the chat and embeddings wires share, for one set of options. */
const wireOf = (options: Options) => ({
  defaultBaseUrl,
  dialect: dialectOf(options),
  provider: providerOf,
  checks
})

/** Runs the Vertex AI checks, then makes the providers from the endpoint's options. */
const checked = <A, R>(
  options: Options,
  make: (resolved: Options) => Effect.Effect<A, ProviderConfigError, R>
): Effect.Effect<A, ProviderConfigError, R> =>
  Effect.suspend(() => {
    if (typeof options !== "object" || options === null) {
      return Effect.fail(invalidOption("options", options, "an object with at least a model"))
    }
    const failure = vertexChecks(options).find((check) => check !== undefined)
    return failure !== undefined ? Effect.fail(failure) : make(endpointOptions(options))
  })

/**
 * The chat provider for Gemini (plain and streamed calls), its calls `generate_content {model}`
 * spans. The thought signatures of the function calls it returns are kept (the last 512, in
 * memory) and sent again with those calls, which Gemini 3 requires of a conversation's history.
 *
 * @example
 * ```ts
 * const Model = EffectAi.layer(Gemini.chatProvider({ model: "gemini-2.5-flash", apiKey }))
 * ```
 *
 * @since 0.4.0
 * @category constructors
 */
export const chatProvider = (
  options: Options
): Effect.Effect<ChatModel.Provider, ProviderConfigError, HttpClient.HttpClient> =>
  checked(options, (resolved) => {
    const signatures = makeSignatureStore()
    const dialect = dialectOf(resolved)
    const model = modelPath(resolved.model)
    const wire = (path: string) =>
      defineChatProvider<Options, ChatModel.ChatRequest, ChatModel.ChatResponse>({
        ...wireOf(resolved),
        path,
        attributes: (o) => o.topK !== undefined ? { [GenAI.ATTR_GEN_AI_REQUEST_TOP_K]: o.topK } : undefined,
        toBody: (o, request) => toBody(o, request, signatures),
        toResponse: (body) => responseOf(body, signatures),
        noReply: "the response has no candidates",
        streamDecoder: (endpoint) => decoder(endpoint, dialect, signatures)
      })(resolved)
    return Effect.zipWith(
      wire(`/${model}:generateContent`),
      wire(`/${model}:streamGenerateContent?alt=sse`),
      (plain, streamed): ChatModel.Provider => ({
        ...plain,
        operation: GenAI.Operation.generateContent,
        stream: streamed.stream
      })
    )
  })

/** The vector sizes of Google's embeddings models, for the request's `gen_ai.embeddings.dimension.count`. */
const modelDimensions: Readonly<Record<string, number>> = {
  "gemini-embedding-001": 3072,
  "text-embedding-004": 768,
  "text-embedding-005": 768,
  "text-multilingual-embedding-002": 768,
  "embedding-001": 768
}

/**
 * An embeddings body for the kit. The Gemini API reports no token count for embeddings: the count
 * stays absent (no `gen_ai.usage.input_tokens`) rather than a 0 nobody measured.
 */
const reading = (body: EmbeddingsBody, model: string) => ({
  model,
  vectors: body.vectors,
  inputTokens: body.inputTokens
})

/**
 * The embeddings provider for Gemini: on the Gemini API `:embedContent` for one input and
 * `:batchEmbedContents` for several (`embeddings[].values`), on Vertex AI `:predict` (its input
 * token count from `statistics.token_count`); `dimensions`, when set, is `outputDimensionality`.
 *
 * @example
 * ```ts
 * const Embeddings = Layer.effect(Embedder.Embedder, Effect.map(Gemini.embeddingProvider(options), Embedder.make))
 * ```
 *
 * @since 0.4.0
 * @category constructors
 */
export const embeddingProvider = (
  options: Options
): Effect.Effect<Embedder.Provider, ProviderConfigError, HttpClient.HttpClient> =>
  checked(options, (resolved) => {
    const model = resolved.embeddingModel ?? defaultEmbeddingModel
    const path = `/${modelPath(model)}`
    const base = {
      ...wireOf(resolved),
      model: () => model,
      dimensions: (o: Options) => o.dimensions ?? mapped(modelDimensions, model) ?? 3072
    }
    if (resolved.vertex !== undefined) {
      return defineEmbeddingProvider<Options>({
        ...base,
        path: `${path}:predict`,
        toBody: (o, _model, inputs) => ({
          instances: inputs.map((content) => ({ content })),
          parameters: o.dimensions !== undefined ? { outputDimensionality: o.dimensions } : undefined
        }),
        toEmbeddings: (body) => reading(readPredictions(body), model)
      })(resolved)
    }
    const request = (o: Options, input: string) => ({
      model: modelPath(model),
      content: { parts: [{ text: input }] },
      outputDimensionality: o.dimensions
    })
    return Effect.zipWith(
      defineEmbeddingProvider<Options>({
        ...base,
        path: `${path}:embedContent`,
        toBody: (o, _model, inputs) => request(o, inputs[0] ?? ""),
        toEmbeddings: (body) => reading(readEmbedding(body), model)
      })(resolved),
      defineEmbeddingProvider<Options>({
        ...base,
        path: `${path}:batchEmbedContents`,
        toBody: (o, _model, inputs) => ({ requests: inputs.map((input) => request(o, input)) }),
        toEmbeddings: (body) => reading(readEmbeddings(body), model)
      })(resolved),
      (single, batch): Embedder.Provider => ({
        ...single,
        embed: (inputs) => inputs.length === 1 ? single.embed(inputs) : batch.embed(inputs)
      })
    )
  })

// -----------------------------------------------------------------------------
// Layers
// -----------------------------------------------------------------------------

/**
 * `ChatModel` and `Embedder` for Gemini. Needs an `HttpClient`; a bad option fails the layer with
 * a `ProviderConfigError` naming it.
 *
 * @example
 * ```ts
 * const Models = Gemini.layer({ model: "gemini-2.5-flash", apiKey: Redacted.make(key) }).pipe(
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
 * {@link layer} from the environment, with the variables Google's SDKs read: `GEMINI_API_KEY`
 * (else `GOOGLE_API_KEY`), `GEMINI_BASE_URL`, `GEMINI_MODEL` (default `gemini-2.5-flash`),
 * `GEMINI_EMBEDDING_MODEL`; for Vertex AI `GOOGLE_GENAI_USE_VERTEXAI=true`, `GOOGLE_CLOUD_PROJECT`,
 * `GOOGLE_CLOUD_LOCATION` (default `global`) and `GOOGLE_OAUTH_ACCESS_TOKEN`. Empty variables are
 * unset; options override them.
 *
 * @example
 * ```ts
 * const Models = Gemini.layerFromConfig().pipe(Layer.provide(FetchHttpClient.layer))
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
> => fromConfig(options, { defaultBaseUrl, defaultModel }, layer)
