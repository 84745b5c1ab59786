/**
 * The OpenTelemetry GenAI semantic conventions (v1.41): attribute names, well-known values, typed
 * request / response / usage models, and one combinator per GenAI operation that wraps an Effect
 * in a correctly named, kinded and annotated span.
 *
 * ```ts
 * const answer = callProvider(prompt).pipe(
 *   GenAI.chat({ provider: "openai", model: "gpt-4o", temperature: 0.2 }, (r) => ({
 *     response: { id: r.id, finishReasons: [r.finishReason] },
 *     usage: { inputTokens: r.usage.prompt, outputTokens: r.usage.completion }
 *   }))
 * )
 * ```
 *
 * All GenAI conventions are "Development" status upstream. Every name the library writes lives in
 * this file, so a rename upstream is a change in one place.
 *
 * @since 0.1.0
 */
import type * as Otel from "@opentelemetry/api"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Pull from "effect/Pull"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import { defaults, type GenAISettings } from "./internal/config.ts"
import { boundedJson } from "./internal/content.ts"
import { errorType as internalErrorType } from "./internal/errors.ts"
import {
  AttributeSet,
  CurrentRecorder,
  type Histogram,
  type HistogramDefinition,
  nowMillis,
  type Recorder,
  type SpanRef
} from "./internal/metrics.ts"
import { isSdkTracer, SdkSpan, StartAttributes, toAttributes, unsampledHere } from "./internal/tracer.ts"

// -----------------------------------------------------------------------------
// Attribute names (experimental in semconv v1.41)
// -----------------------------------------------------------------------------

/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_DATA_SOURCE_ID = "gen_ai.data_source.id"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_STREAM = "gen_ai.request.stream"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_REQUEST_ENCODING_FORMATS = "gen_ai.request.encoding_formats"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_RESPONSE_ID = "gen_ai.response.id"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT = "gen_ai.embeddings.dimension.count"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_TOOL_NAME = "gen_ai.tool.name"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_TOOL_TYPE = "gen_ai.tool.type"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_AGENT_ID = "gen_ai.agent.id"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_AGENT_NAME = "gen_ai.agent.name"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_AGENT_DESCRIPTION = "gen_ai.agent.description"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_AGENT_VERSION = "gen_ai.agent.version"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_EVALUATION_NAME = "gen_ai.evaluation.name"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"

/** Content attributes: opt-in, JSON strings. @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT = "gen_ai.retrieval.query.text"
/** @since 0.1.0 @category attributes */
export const ATTR_GEN_AI_RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents"

/**
 * Set on a streamed inference span the consumer stopped reading before the provider finished
 * (`Stream.take`, interruption, a lost race, a closed scope). The conventions have no name for
 * it. What was known by then (id, model, usage, content) is still recorded.
 *
 * @since 0.2.0
 * @category attributes
 */
export const ATTR_BELUGA_STREAM_ABANDONED = "beluga.stream.abandoned"
/** Chunks with content (text, reasoning or tool-call deltas) a streamed span saw. @since 0.2.0 @category attributes */
export const ATTR_BELUGA_STREAM_CONTENT_CHUNKS = "beluga.stream.content_chunks"

/** General semconv attributes the GenAI spans use. @since 0.1.0 @category attributes */
export const ATTR_ERROR_TYPE = "error.type"
/** @since 0.1.0 @category attributes */
export const ATTR_SERVER_ADDRESS = "server.address"
/** @since 0.1.0 @category attributes */
export const ATTR_SERVER_PORT = "server.port"

/**
 * Deprecated names, emitted only when `OTEL_SEMCONV_STABILITY_OPT_IN` contains `gen_ai/dup`
 * (or the `emitLegacyAttributes` option is set).
 *
 * @since 0.1.0
 * @category attributes
 */
export const LEGACY_ATTR_GEN_AI_SYSTEM = "gen_ai.system"
/** @since 0.1.0 @category attributes */
export const LEGACY_ATTR_GEN_AI_USAGE_PROMPT_TOKENS = "gen_ai.usage.prompt_tokens"
/** @since 0.1.0 @category attributes */
export const LEGACY_ATTR_GEN_AI_USAGE_COMPLETION_TOKENS = "gen_ai.usage.completion_tokens"
/** @since 0.1.0 @category attributes */
export const LEGACY_ATTR_GEN_AI_OPENAI_REQUEST_SEED = "gen_ai.openai.request.seed"
/** @since 0.1.0 @category attributes */
export const LEGACY_ATTR_GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT = "gen_ai.openai.request.response_format"

// -----------------------------------------------------------------------------
// Well-known values
// -----------------------------------------------------------------------------

/** `gen_ai.operation.name` values. @since 0.1.0 @category values */
export const Operation = {
  chat: "chat",
  generateContent: "generate_content",
  textCompletion: "text_completion",
  embeddings: "embeddings",
  retrieval: "retrieval",
  createAgent: "create_agent",
  invokeAgent: "invoke_agent",
  executeTool: "execute_tool",
  invokeWorkflow: "invoke_workflow"
} as const
/** @since 0.1.0 @category values */
export type OperationName = typeof Operation[keyof typeof Operation]

/** `gen_ai.provider.name` values. @since 0.1.0 @category values */
export const Provider = {
  openai: "openai",
  anthropic: "anthropic",
  awsBedrock: "aws.bedrock",
  azureAiInference: "azure.ai.inference",
  azureAiOpenai: "azure.ai.openai",
  cohere: "cohere",
  deepseek: "deepseek",
  gcpGemini: "gcp.gemini",
  gcpGenAi: "gcp.gen_ai",
  gcpVertexAi: "gcp.vertex_ai",
  groq: "groq",
  ibmWatsonxAi: "ibm.watsonx.ai",
  mistralAi: "mistral_ai",
  perplexity: "perplexity",
  xAi: "x_ai"
} as const
/** Any provider name; the well-known ones autocomplete. @since 0.1.0 @category values */
export type ProviderName = typeof Provider[keyof typeof Provider] | (string & {})

/** `gen_ai.output.type` values. @since 0.1.0 @category values */
export const OutputType = { text: "text", json: "json", image: "image", speech: "speech" } as const
/** @since 0.1.0 @category values */
export type OutputTypeName = typeof OutputType[keyof typeof OutputType] | (string & {})

/** `gen_ai.token.type` values. @since 0.1.0 @category values */
export const TokenType = { input: "input", output: "output" } as const

/** Common `gen_ai.response.finish_reasons` values. @since 0.1.0 @category values */
export const FinishReason = {
  stop: "stop",
  length: "length",
  contentFilter: "content_filter",
  toolCall: "tool_call",
  error: "error"
} as const
/** @since 0.1.0 @category values */
export type FinishReasonName = typeof FinishReason[keyof typeof FinishReason] | (string & {})

// -----------------------------------------------------------------------------
// Metrics (v1.41 client metrics; the agent, tool and workflow durations of the newer drafts)
// -----------------------------------------------------------------------------

/** Histogram of input and output tokens per call, `{token}`, by `gen_ai.token.type`. @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = "gen_ai.client.token.usage"
/** Histogram of GenAI client operation durations, `s`, with `error.type` on failure. @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = "gen_ai.client.operation.duration"
/** Histogram, streams only: seconds from the request to the first content chunk. @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
/**
 * Histogram, streams only: for each content chunk after the first, the seconds since the one
 * before. @since 0.3.0 @category metrics
 */
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
/** Histogram of `invoke_agent` durations, `s` (semantic-conventions drafts after v1.41). @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration"
/** Histogram of `execute_tool` durations, `s` (drafts after v1.41). @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration"
/** Histogram of `invoke_workflow` durations, `s` (drafts after v1.41). @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_WORKFLOW_DURATION = "gen_ai.workflow.duration"

/** The advised bucket boundaries of the duration histograms, in seconds. @since 0.3.0 @category metrics */
export const DURATION_BUCKETS: ReadonlyArray<number> = [
  0.01,
  0.02,
  0.04,
  0.08,
  0.16,
  0.32,
  0.64,
  1.28,
  2.56,
  5.12,
  10.24,
  20.48,
  40.96,
  81.92
]
/** The advised bucket boundaries of `gen_ai.client.token.usage` (powers of 4). @since 0.3.0 @category metrics */
export const TOKEN_BUCKETS: ReadonlyArray<number> = Array.from({ length: 14 }, (_, i) => 4 ** i)

/** Every histogram this library records: name, unit, description, buckets. @since 0.3.0 @category metrics */
export const Metrics: ReadonlyArray<HistogramDefinition> = [
  {
    name: METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
    unit: "{token}",
    description: "Number of input and output tokens used.",
    boundaries: TOKEN_BUCKETS,
    integer: true
  },
  {
    name: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
    unit: "s",
    description: "GenAI operation duration.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
    unit: "s",
    description: "Time to receive the first chunk in a streaming operation.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
    unit: "s",
    description: "Time per output chunk, for each chunk received after the first one.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_INVOKE_AGENT_DURATION,
    unit: "s",
    description: "Duration of an agent invocation.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_EXECUTE_TOOL_DURATION,
    unit: "s",
    description: "Duration of a tool execution.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_WORKFLOW_DURATION,
    unit: "s",
    description: "Duration of a workflow invocation.",
    boundaries: DURATION_BUCKETS,
    integer: false
  }
]

/** The duration histogram of each operation, next to its span name. @since 0.3.0 @category metrics */
export const durationMetric: Readonly<Record<OperationName, string>> = {
  chat: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  generate_content: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  text_completion: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  embeddings: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  retrieval: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  create_agent: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  invoke_agent: METRIC_GEN_AI_INVOKE_AGENT_DURATION,
  execute_tool: METRIC_GEN_AI_EXECUTE_TOOL_DURATION,
  invoke_workflow: METRIC_GEN_AI_WORKFLOW_DURATION
}

/**
 * The span attributes a metric point may carry, per operation: bounded values only (no ids, no
 * content), so the number of series stays that of the models, providers, tools and agents in use.
 * `gen_ai.operation.name` is on every point.
 */
const inferenceMetricKeys = [
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT
]
const agentMetricKeys = [
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT
]
const metricAttributeKeys: Readonly<Record<OperationName, ReadonlyArray<string>>> = {
  chat: inferenceMetricKeys,
  generate_content: inferenceMetricKeys,
  text_completion: inferenceMetricKeys,
  embeddings: inferenceMetricKeys,
  retrieval: [ATTR_GEN_AI_PROVIDER_NAME, ATTR_GEN_AI_DATA_SOURCE_ID, ...inferenceMetricKeys.slice(1)],
  create_agent: agentMetricKeys,
  invoke_agent: agentMetricKeys,
  execute_tool: [ATTR_GEN_AI_TOOL_NAME, ATTR_GEN_AI_TOOL_TYPE],
  invoke_workflow: [ATTR_GEN_AI_WORKFLOW_NAME]
}

// The provider values renamed since `gen_ai.system`, for the legacy attribute.
const legacySystemNames: Readonly<Record<string, string>> = {
  "azure.ai.openai": "az.ai.openai",
  "gcp.vertex_ai": "vertex_ai",
  "gcp.gemini": "gemini",
  "x_ai": "xai"
}

// -----------------------------------------------------------------------------
// Message content (the JSON schemas of gen-ai-input-messages / gen-ai-output-messages)
// -----------------------------------------------------------------------------

/** One part of a message. @since 0.1.0 @category content */
export type MessagePart =
  | { readonly type: "text"; readonly content: string }
  | { readonly type: "tool_call"; readonly name: string; readonly id?: string; readonly arguments?: unknown }
  | { readonly type: "tool_call_response"; readonly response: unknown; readonly id?: string }
  | { readonly type: "reasoning"; readonly content: string }
  | { readonly type: "blob"; readonly modality: string; readonly content: string; readonly mime_type?: string }
  | { readonly type: "file"; readonly modality: string; readonly file_id: string; readonly mime_type?: string }
  | { readonly type: "uri"; readonly modality: string; readonly uri: string; readonly mime_type?: string }
  | { readonly type: string & {}; readonly [key: string]: unknown }

/** @since 0.1.0 @category content */
export type Role = "system" | "user" | "assistant" | "tool" | (string & {})

/** A message sent to the model. @since 0.1.0 @category content */
export interface InputMessage {
  readonly role: Role
  readonly parts: ReadonlyArray<MessagePart>
  readonly name?: string
}

/** A message the model returned; one per choice. @since 0.1.0 @category content */
export interface OutputMessage extends InputMessage {
  readonly finish_reason: FinishReasonName
}

/** A tool the model may call. @since 0.1.0 @category content */
export interface ToolDefinition {
  readonly type: "function" | (string & {})
  readonly name: string
  readonly description?: string
  readonly parameters?: unknown
}

/** A retrieved document, as recorded in `gen_ai.retrieval.documents`. @since 0.1.0 @category content */
export interface RetrievedDocument {
  readonly id: string
  readonly score?: number
}

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/** Where the provider lives; `server.port` is recorded with `server.address`. @since 0.1.0 @category models */
export interface Server {
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
}

/**
 * An inference request (chat, text completion, generate content).
 *
 * @since 0.1.0
 * @category models
 */
export interface Request extends Server {
  readonly provider: ProviderName
  readonly model: string
  readonly temperature?: number | undefined
  readonly topP?: number | undefined
  readonly topK?: number | undefined
  readonly maxTokens?: number | undefined
  readonly stopSequences?: ReadonlyArray<string> | undefined
  readonly seed?: number | undefined
  readonly frequencyPenalty?: number | undefined
  readonly presencePenalty?: number | undefined
  /** Recorded only when not 1, as the conventions ask. */
  readonly choiceCount?: number | undefined
  readonly stream?: boolean | undefined
  readonly outputType?: OutputTypeName | undefined
  readonly conversationId?: string | undefined
  /** A model running in this process: the span is INTERNAL instead of CLIENT. */
  readonly inProcess?: boolean | undefined
  /** Content, recorded only when capture is on. */
  readonly systemInstructions?: ReadonlyArray<MessagePart> | undefined
  readonly messages?: ReadonlyArray<InputMessage> | undefined
  readonly toolDefinitions?: ReadonlyArray<ToolDefinition> | undefined
}

/** @since 0.1.0 @category models */
export interface Response {
  readonly id?: string | undefined
  readonly model?: string | undefined
  readonly finishReasons?: ReadonlyArray<FinishReasonName> | undefined
  /** Seconds from request to the first streamed chunk. */
  readonly timeToFirstChunk?: number | undefined
  /** Content, recorded only when capture is on. */
  readonly outputMessages?: ReadonlyArray<OutputMessage> | undefined
}

/** Token counts. @since 0.1.0 @category models */
export interface Usage {
  readonly inputTokens?: number | undefined
  readonly outputTokens?: number | undefined
  readonly cacheReadInputTokens?: number | undefined
  readonly cacheCreationInputTokens?: number | undefined
  readonly reasoningOutputTokens?: number | undefined
}

/** What an inference call's result says about itself. @since 0.1.0 @category models */
export interface InferenceOutcome {
  readonly response?: Response | undefined
  readonly usage?: Usage | undefined
}

/**
 * One piece of a streamed inference reply, as every provider's stream is normalised: text,
 * reasoning and tool-call deltas (a tool call's `id` and `name` arrive with its first delta, its
 * arguments in fragments, all under one `index`), response metadata, a finish reason per choice,
 * and usage (possibly in a final chunk of its own, possibly reported more than once, cumulatively).
 *
 * @since 0.2.0
 * @category streaming
 */
export type StreamPart =
  | { readonly type: "text-delta"; readonly delta: string }
  | { readonly type: "reasoning-delta"; readonly delta: string }
  | {
    readonly type: "tool-call-delta"
    readonly index: number
    readonly id?: string | undefined
    readonly name?: string | undefined
    readonly argumentsDelta?: string | undefined
  }
  | { readonly type: "response-metadata"; readonly id?: string | undefined; readonly model?: string | undefined }
  | { readonly type: "finish"; readonly reason: FinishReasonName }
  | { readonly type: "usage"; readonly usage: Usage }

/** @since 0.1.0 @category models */
export interface EmbeddingsRequest extends Server {
  readonly provider: ProviderName
  readonly model: string
  readonly encodingFormats?: ReadonlyArray<string> | undefined
  /** Known up front for most models; otherwise report it from the result. */
  readonly dimensions?: number | undefined
}

/** @since 0.1.0 @category models */
export interface EmbeddingsOutcome {
  readonly dimensions?: number | undefined
  readonly responseModel?: string | undefined
  readonly usage?: Pick<Usage, "inputTokens"> | undefined
}

/** @since 0.1.0 @category models */
export interface RetrievalRequest extends Server {
  readonly dataSourceId: string
  readonly provider?: ProviderName | undefined
  readonly model?: string | undefined
  readonly topK?: number | undefined
  /** Content, recorded only when capture is on. */
  readonly query?: string | undefined
}

/** @since 0.1.0 @category models */
export interface RetrievalOutcome {
  /** Content, recorded only when capture is on. */
  readonly documents?: ReadonlyArray<RetrievedDocument> | undefined
}

/** @since 0.1.0 @category models */
export interface ToolCall {
  readonly name: string
  readonly callId?: string | undefined
  readonly type?: "function" | "extension" | "datastore" | (string & {}) | undefined
  readonly description?: string | undefined
  /** Content, recorded only when capture is on. */
  readonly arguments?: unknown
}

/** @since 0.1.0 @category models */
export interface ToolOutcome {
  /** Content, recorded only when capture is on. */
  readonly result?: unknown
}

/** @since 0.1.0 @category models */
export interface Agent extends Server {
  readonly provider?: ProviderName | undefined
  readonly name?: string | undefined
  readonly id?: string | undefined
  readonly description?: string | undefined
  readonly version?: string | undefined
  readonly model?: string | undefined
  readonly conversationId?: string | undefined
  readonly dataSourceId?: string | undefined
  /** A remote agent (CLIENT span); in-process agents are INTERNAL. */
  readonly remote?: boolean | undefined
  /** Content, recorded only when capture is on. */
  readonly systemInstructions?: ReadonlyArray<MessagePart> | undefined
  readonly messages?: ReadonlyArray<InputMessage> | undefined
}

/** @since 0.1.0 @category models */
export interface Workflow {
  readonly name: string
  /** Content, recorded only when capture is on. */
  readonly messages?: ReadonlyArray<InputMessage> | undefined
}

// -----------------------------------------------------------------------------
// Streamed replies
// -----------------------------------------------------------------------------

/** A tool call being assembled from its deltas. */
interface PendingToolCall {
  id: string | undefined
  name: string
  arguments: string
}

/** Appends `delta` to `text`, keeping at most `limit` characters; returns the new text. */
const append = (text: string, delta: string, limit: number): string =>
  text.length >= limit
    ? text
    : text.length + delta.length <= limit
    ? text + delta
    : text + delta.slice(0, limit - text.length)

const mergeUsage = (current: Usage | undefined, next: Usage): Usage => {
  if (current === undefined) return next
  // Providers report usage cumulatively (Anthropic's message_delta repeats and raises counts),
  // so a later report wins field by field and fields it omits keep their earlier value.
  return {
    inputTokens: next.inputTokens ?? current.inputTokens,
    outputTokens: next.outputTokens ?? current.outputTokens,
    cacheReadInputTokens: next.cacheReadInputTokens ?? current.cacheReadInputTokens,
    cacheCreationInputTokens: next.cacheCreationInputTokens ?? current.cacheCreationInputTokens,
    reasoningOutputTokens: next.reasoningOutputTokens ?? current.reasoningOutputTokens
  }
}

/**
 * Parses assembled tool-call arguments; text that is not JSON (cut short, or a model's mistake) stays text.
 *
 * @since 0.2.0
 * @category streaming
 */
export const parseToolArguments = (text: string): unknown => {
  if (text === "") return {}
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Assembles a streamed reply from its parts: response id and model, finish reasons, usage (later
 * reports win field by field), and, when `keepContent`, the text, reasoning and tool calls
 * (arguments joined from their deltas), each kept up to `limit` characters. The chat stream span
 * uses one with the content settings; `ChatModel.collect` uses one that keeps everything.
 *
 * @since 0.2.0
 * @category streaming
 */
export class StreamAccumulator {
  id: string | undefined = undefined
  model: string | undefined = undefined
  finishReasons: Array<FinishReasonName> = []
  usage: Usage | undefined = undefined
  /** Chunks that carried content: text, reasoning or tool-call deltas. */
  contentChunks = 0
  text = ""
  reasoning = ""
  private readonly toolCalls = new Map<number, PendingToolCall>()

  constructor(private readonly keepContent: boolean, private readonly limit: number) {}

  /** Returns true when `part` carried content (the moment time-to-first-chunk measures). */
  add(part: StreamPart): boolean {
    switch (part.type) {
      case "text-delta":
        if (this.keepContent) this.text = append(this.text, part.delta, this.limit)
        this.contentChunks++
        return true
      case "reasoning-delta":
        if (this.keepContent) this.reasoning = append(this.reasoning, part.delta, this.limit)
        this.contentChunks++
        return true
      case "tool-call-delta": {
        if (this.keepContent) {
          let call = this.toolCalls.get(part.index)
          if (call === undefined) {
            call = { id: undefined, name: "", arguments: "" }
            this.toolCalls.set(part.index, call)
          }
          if (part.id !== undefined) call.id = part.id
          if (part.name !== undefined) call.name = append(call.name, part.name, this.limit)
          if (part.argumentsDelta !== undefined) {
            call.arguments = append(call.arguments, part.argumentsDelta, this.limit)
          }
        }
        this.contentChunks++
        return true
      }
      case "response-metadata":
        if (part.id !== undefined) this.id = part.id
        if (part.model !== undefined) this.model = part.model
        return false
      case "finish":
        this.finishReasons.push(part.reason)
        return false
      case "usage":
        this.usage = mergeUsage(this.usage, part.usage)
        return false
    }
  }

  /** The assembled tool calls, in the order of their indexes. */
  assembledToolCalls(): Array<{ readonly id: string | undefined; readonly name: string; readonly arguments: unknown }> {
    return [...this.toolCalls.entries()]
      .toSorted(([a], [b]) => a - b)
      .map(([, call]) => ({ id: call.id, name: call.name, arguments: parseToolArguments(call.arguments) }))
  }

  /** The reply as the conventions' output message; `fallbackReason` when the stream gave none. */
  outputMessage(fallbackReason: FinishReasonName): OutputMessage {
    const parts: Array<MessagePart> = []
    if (this.reasoning !== "") parts.push({ type: "reasoning", content: this.reasoning })
    if (this.text !== "") parts.push({ type: "text", content: this.text })
    for (const call of this.assembledToolCalls()) {
      parts.push({
        type: "tool_call",
        name: call.name,
        ...(call.id !== undefined ? { id: call.id } : {}),
        arguments: call.arguments
      })
    }
    return { role: "assistant", parts, finish_reason: this.finishReasons.at(-1) ?? fallbackReason }
  }
}

// -----------------------------------------------------------------------------
// Settings
// -----------------------------------------------------------------------------

/**
 * How GenAI spans are written: whether content is captured, how long it may be, and whether
 * deprecated names are emitted. Provided by `Tracing.layer` from its options and the environment;
 * the default records no content.
 *
 * @since 0.1.0
 * @category settings
 */
export const Settings = Context.Reference<GenAISettings>("beluga-o11y/GenAI/Settings", {
  defaultValue: () => ({
    captureContent: false,
    maxContentLength: defaults.maxContentLength,
    emitLegacyAttributes: false
  })
})

// -----------------------------------------------------------------------------
// The shared span maker
// -----------------------------------------------------------------------------

type Attributes = Record<string, unknown>
/** Sets one attribute; `undefined` means "not known", and sets nothing. */
type Put = (key: string, value: unknown) => void

const into = (attributes: Attributes): Put => (key, value) => {
  if (value !== undefined) attributes[key] = value
}

/** What one operation contributes; every combinator below is a thin shell over this. */
interface Spec<A> {
  readonly operation: OperationName
  /** The name's suffix: `{operation} {target}`, or just `{operation}` when absent. */
  readonly target: string | undefined
  readonly kind: Tracer.SpanKind
  /** Request attributes, known before the call (content included when capture is on). */
  readonly start: (put: Put, settings: GenAISettings) => void
  /** Attributes from the result: response, usage, and content when capture is on. */
  readonly end?: ((result: A, put: Put, settings: GenAISettings) => void) | undefined
}

/**
 * What every GenAI span shares, streamed or not: its name, its kind, and its start attributes.
 * The start attributes depend only on the request and the settings, so they are built once per
 * settings object, not once per call.
 */
class Prepared<A> {
  readonly name: string
  private cachedFor: GenAISettings | undefined = undefined
  private cached: Otel.Attributes = {}
  private request: Attributes = {}
  private metric: OperationMetrics | undefined = undefined

  // A class, not closures: a `ChatModel` prepares a spec per call, and closures made per call were
  // measurable (named closures more so, under tsx).
  constructor(readonly spec: Spec<A>) {
    this.name = spec.target !== undefined && spec.target !== "" ? `${spec.operation} ${spec.target}` : spec.operation
  }

  /** The settings in force for this fiber, and the span options that start the span. */
  optionsFor(fiber: Fiber.Fiber<unknown, unknown>) {
    const settings = fiber.getRef(Settings)
    const spec = this.spec
    if (this.cachedFor !== settings) {
      const attributes: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: spec.operation }
      spec.start(into(attributes), settings)
      this.cached = toAttributes(attributes)
      this.request = attributes
      this.cachedFor = settings
      this.metric = undefined
    }
    // This library's tracer takes them through the annotations and sets them as the span
    // starts, where a sampler sees them; any other tracer gets them the usual way.
    const options: Tracer.SpanOptionsNoTrace = isSdkTracer(fiber.getRef(Tracer.Tracer))
      ? { kind: spec.kind, annotations: Context.make(StartAttributes, this.cached) }
      : { kind: spec.kind, attributes: this.cached }
    return { settings, options }
  }

  /** The operation's metrics, from the request attributes of the last `optionsFor`. */
  metricFor(): OperationMetrics {
    return (this.metric ??= OperationMetrics.of(this.spec.operation, this.request))
  }
}

// -----------------------------------------------------------------------------
// Metrics from the same specs
// -----------------------------------------------------------------------------

/** What a call reported that its metrics need, picked up from the attributes its span gets. */
interface Observed {
  responseModel?: string | undefined
  inputTokens?: number | undefined
  outputTokens?: number | undefined
}

/** Settings for an extractor whose span was not sampled: it runs for the metrics, content is not read. */
const noContent = new WeakMap<GenAISettings, GenAISettings>()
const withoutContent = (settings: GenAISettings): GenAISettings => {
  if (!settings.captureContent) return settings
  let quiet = noContent.get(settings)
  if (quiet === undefined) {
    quiet = { ...settings, captureContent: false }
    noContent.set(settings, quiet)
  }
  return quiet
}

const tokenOperations: ReadonlySet<string> = new Set([
  Operation.chat,
  Operation.textCompletion,
  Operation.generateContent,
  Operation.embeddings
])

interface TrieNode {
  readonly next: Map<unknown, TrieNode>
  metrics: OperationMetrics | undefined
}

/** The attribute sets of one call's measurements. */
interface MetricSets {
  readonly duration: AttributeSet
  readonly input: AttributeSet
  readonly output: AttributeSet
}

/**
 * One operation's metric attributes: the bounded subset of its request attributes, and the sets
 * for each response model and error type seen, built once and shared by every call with the same
 * request attributes (a `ChatModel` prepares a fresh spec per call), so a measurement allocates
 * next to nothing.
 */
class OperationMetrics {
  private readonly duration: string
  private readonly tokens: boolean
  private readonly variants = new Map<string, MetricSets>()
  /** The last variant looked up: nearly every call of an operation answers with the same model. */
  private lastKey: string | undefined = undefined
  private last: MetricSets | undefined = undefined

  private constructor(operation: OperationName, private readonly base: AttributeSet) {
    this.duration = durationMetric[operation]
    this.tokens = tokenOperations.has(operation)
  }

  /**
   * Shared instances, in a trie keyed by the allow-listed attribute values in order: looking one
   * up is a few map lookups on strings the request already holds, where building a key string
   * cost half a microsecond a call.
   */
  private static readonly shared = new Map<OperationName, TrieNode>()
  private static sharedCount = 0

  /** The metrics of an operation with these request attributes (its span's start attributes). */
  static of(operation: OperationName, request: Attributes): OperationMetrics {
    let root = OperationMetrics.shared.get(operation)
    if (root === undefined) {
      root = { next: new Map(), metrics: undefined }
      OperationMetrics.shared.set(operation, root)
    }
    let node: TrieNode = root
    const keys = metricAttributeKeys[operation]
    for (let i = 0; i < keys.length; i++) {
      const value = request[keys[i]!]
      let child: TrieNode | undefined = node.next.get(value)
      if (child === undefined) {
        // Bounded like the series themselves; past that, a request's metrics are built per call.
        if (OperationMetrics.sharedCount >= 4096) return OperationMetrics.make(operation, request)
        child = { next: new Map(), metrics: undefined }
        node.next.set(value, child)
      }
      node = child
    }
    if (node.metrics === undefined) {
      node.metrics = OperationMetrics.make(operation, request)
      OperationMetrics.sharedCount++
    }
    return node.metrics
  }

  private static make(operation: OperationName, request: Attributes): OperationMetrics {
    const values: Record<string, string | number | boolean> = { [ATTR_GEN_AI_OPERATION_NAME]: operation }
    for (const name of metricAttributeKeys[operation]) {
      const value = request[name]
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") values[name] = value
    }
    return new OperationMetrics(operation, new AttributeSet(values))
  }

  /** The attribute sets for a call that answered with `responseModel` and failed with `errorType`. */
  sets(responseModel: string | undefined, errorType: string | undefined): MetricSets {
    const key = errorType === undefined ? responseModel ?? "" : `${responseModel ?? ""}\u0000${errorType}`
    if (key === this.lastKey && this.last !== undefined) return this.last
    let sets = this.variants.get(key)
    if (sets === undefined) {
      const result = this.base.with({ [ATTR_GEN_AI_RESPONSE_MODEL]: responseModel })
      sets = {
        duration: errorType === undefined ? result : result.with({ [ATTR_ERROR_TYPE]: errorType }),
        input: result.with({ [ATTR_GEN_AI_TOKEN_TYPE]: TokenType.input }),
        output: result.with({ [ATTR_GEN_AI_TOKEN_TYPE]: TokenType.output })
      }
      // Bounded by models times error types; a provider echoing something unbounded stops here.
      if (this.variants.size < 256) this.variants.set(key, sets)
    }
    this.lastKey = key
    this.last = sets
    return sets
  }

  /**
   * A finished call: its duration (unless it was interrupted or abandoned: a cut-short duration
   * says nothing about the operation), and the tokens it reported.
   */
  record(
    recorder: Recorder,
    span: SpanRef,
    observed: Observed,
    seconds: number | undefined,
    errorType: string | undefined,
    /** {@link nowMillis} as the call ended: the exemplars' time. */
    now: number
  ): void {
    const sets = this.sets(observed.responseModel, errorType)
    if (seconds !== undefined) recorder.histogram(this.duration).record(seconds, sets.duration, span, now)
    if (!this.tokens) return
    const tokens = recorder.histogram(METRIC_GEN_AI_CLIENT_TOKEN_USAGE)
    if (observed.inputTokens !== undefined) tokens.record(observed.inputTokens, sets.input, span, now)
    if (observed.outputTokens !== undefined) tokens.record(observed.outputTokens, sets.output, span, now)
  }
}

/** The settings metric attributes are read with: no content, no legacy names. */
const metricSettings: GenAISettings = { captureContent: false, maxContentLength: 1, emitLegacyAttributes: false }

/**
 * Runs `self` inside `span` and records its metrics when it ends. The extractor runs whether or
 * not the span is sampled (metrics count every call), writing to the span only when it is.
 */
const metered = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  span: Tracer.AnySpan,
  end: Spec<A>["end"],
  settings: GenAISettings,
  recorder: Recorder,
  metric: OperationMetrics,
  /** `span` is the call's own (it becomes the parent); else it is the unsampled current span. */
  own: boolean
): Effect.Effect<A, E, R> => {
  const start = nowMillis()
  // Success and failure are recorded where they happen (a map, a cause tap), not in an `onExit`
  // finalizer, which masks interruption and cost more. An interrupted call records nothing: an
  // interrupted duration says nothing about the operation.
  const observedSelf = Effect.map(self, (result) => {
    const observed = end === undefined ? noObservation : observe(end, result, span, settings)
    const now = nowMillis()
    metric.record(recorder, span, observed, (now - start) / 1000, undefined, now)
    return result
  })
  // This library's spans take the failure at their end; any other tracer's through a cause tap.
  if (own && span instanceof SdkSpan) {
    span.onEnd = (exit) => {
      if (exit._tag === "Failure") recordFailure(metric, recorder, span, exit.cause, start)
    }
    return Effect.withParentSpan(observedSelf, span, { captureStackTrace: false })
  }
  const tapped = Effect.tapCause(
    observedSelf,
    (cause) => Effect.sync(() => recordFailure(metric, recorder, span, cause, start))
  )
  return own ? Effect.withParentSpan(tapped, span, { captureStackTrace: false }) : tapped
}

/** A failed call's duration, with its error type; an interruption records nothing. */
const recordFailure = (
  metric: OperationMetrics,
  recorder: Recorder,
  span: SpanRef,
  cause: Cause.Cause<unknown>,
  start: number
): void => {
  if (Cause.hasInterruptsOnly(cause)) return
  const now = nowMillis()
  metric.record(recorder, span, noObservation, (now - start) / 1000, internalErrorType(cause), now)
}

const noObservation: Observed = {}

/**
 * Runs an extractor for the metrics (and the span, when sampled) and returns what it reported.
 * One `Observed` and one `Put` serve every call: the extractor runs synchronously and its result
 * is read right after, so no two calls can interleave here, and a call allocates nothing.
 */
const observe = <A>(end: NonNullable<Spec<A>["end"]>, result: A, span: Tracer.AnySpan, settings: GenAISettings) => {
  const observed = current.observed
  observed.responseModel = undefined
  observed.inputTokens = undefined
  observed.outputTokens = undefined
  current.span = span.sampled && span._tag === "Span" ? span : undefined
  try {
    end(result, current.put, span.sampled ? settings : withoutContent(settings))
  } catch {
    // An extractor that throws must not fail the call it observes: its attributes are lost.
  }
  current.span = undefined
  return observed
}

const current: { readonly observed: Observed; span: Tracer.Span | undefined; readonly put: Put } = {
  observed: {},
  span: undefined,
  put: (key, value) => {
    if (value === undefined) return
    current.span?.attribute(key, value)
    const observed = current.observed
    if (key === ATTR_GEN_AI_RESPONSE_MODEL && typeof value === "string") observed.responseModel = value
    else if (key === ATTR_GEN_AI_USAGE_INPUT_TOKENS && typeof value === "number") observed.inputTokens = value
    else if (key === ATTR_GEN_AI_USAGE_OUTPUT_TOKENS && typeof value === "number") observed.outputTokens = value
  }
}

/** Sets attributes on `span`; `undefined` sets nothing. */
const putOn = (span: Tracer.Span): Put => (key, value) => {
  if (value !== undefined) span.attribute(key, value)
}

/**
 * Wraps `self` in a GenAI span: named and kinded per the conventions, request attributes set when
 * the span starts, result attributes when it succeeds; the tracer adds `error.type` and the ERROR
 * status when it fails.
 */
const traced = <A>(spec: Spec<A>) => {
  const prepared = new Prepared(spec)
  const name = prepared.name
  return <E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiber((fiber) => {
      const recorder = fiber.getRef(CurrentRecorder)
      // Inside a trace that is not sampled no span is made; the metrics still count the call.
      if (unsampledHere(fiber)) {
        if (recorder === undefined) return self
        const { settings } = prepared.optionsFor(fiber)
        return metered(self, fiber.cache.span!, spec.end, settings, recorder, prepared.metricFor(), false)
      }
      const { options, settings } = prepared.optionsFor(fiber)
      return Effect.useSpan(name, options, (span) => {
        const end = spec.end
        if (recorder !== undefined) {
          return metered(self, span, end, settings, recorder, prepared.metricFor(), true)
        }
        return Effect.withParentSpan(annotated(self, span, end, settings), span, { captureStackTrace: false })
      })
    })
}

/**
 * Wraps a stream of reply parts in one GenAI span that starts when the stream is run and ends
 * exactly once, when the stream completes, fails, or its consumer stops early. The parts pass
 * through unchanged; the span gets what they report (see {@link StreamAccumulator}), the time to
 * the first content chunk, and {@link ATTR_BELUGA_STREAM_ABANDONED} when it was cut short.
 */
const tracedStream = (spec: Spec<never>) => {
  const prepared = new Prepared(spec)
  const name = prepared.name
  return <E, R>(self: Stream.Stream<StreamPart, E, R>): Stream.Stream<StreamPart, E, R> =>
    Stream.fromChannel(Channel.acquireUseRelease(
      Effect.withFiber((fiber) => {
        const { options, settings } = prepared.optionsFor(fiber)
        const timed = fiber.getRef(References.TracerTimingEnabled)
        return Effect.map(
          Effect.makeSpan(name, options),
          (span) =>
            new StreamSpan(
              span,
              settings,
              fiber.getRef(Clock.Clock),
              timed,
              fiber.getRef(CurrentRecorder),
              () => prepared.metricFor()
            )
        )
      }),
      (state) =>
        Channel.fromTransform((upstream, scope) =>
          state.asParent(Effect.map(Channel.toTransform(self.channel)(upstream, scope), (pull) => state.observe(pull)))
        ),
      (state, exit) => Effect.sync(() => state.end(exit))
    ))
}

/** One streamed span's state: what the parts reported so far, and whether the stream finished. */
class StreamSpan {
  private readonly accumulator: StreamAccumulator
  private readonly startNanos: bigint
  private firstChunkNanos: bigint | undefined = undefined
  private completed = false
  private recorded = false
  /** With metrics on: when the stream started and when the last content chunk came (`nowMillis()`). */
  private readonly meteredFrom: number
  private lastChunk: number | undefined = undefined
  /** With metrics on: the chunk histograms and attributes, looked up once per stream and model. */
  private chunks:
    | {
      readonly model: string | undefined
      readonly first: Histogram
      readonly next: Histogram
      readonly attributes: AttributeSet
    }
    | undefined = undefined
  private readonly metric: OperationMetrics | undefined

  constructor(
    readonly span: Tracer.Span,
    private readonly settings: GenAISettings,
    private readonly clock: Clock.Clock,
    private readonly timed: boolean,
    private readonly recorder: Recorder | undefined,
    metricFor: () => OperationMetrics
  ) {
    // Content is kept only for a sampled span; the metrics need none.
    this.accumulator = new StreamAccumulator(settings.captureContent && span.sampled, settings.maxContentLength)
    this.metric = recorder !== undefined ? metricFor() : undefined
    this.meteredFrom = recorder !== undefined ? nowMillis() : 0
    // Time to first chunk counts from the span's start: the request.
    this.startNanos = span.status._tag === "Started" && timed ? span.status.startTime : clock.currentTimeNanosUnsafe()
  }

  // The context with this span as the parent, built once per context it is run in: Effect's own
  // `provideService` copies the context on every pull, which cost more than all the rest per chunk.
  private base: Context.Context<any> | undefined = undefined
  private withSpan: Context.Context<any> | undefined = undefined

  /** Runs `effect` with this span as the parent, so work done while the stream runs nests under it. */
  asParent<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.updateContext(effect, (context: Context.Context<R>) => {
      if (context !== this.base || this.withSpan === undefined) {
        this.base = context
        this.withSpan = Context.add(context, Tracer.ParentSpan, this.span)
      }
      return this.withSpan as Context.Context<R>
    })
  }

  /** Each pull: what it brings is observed, and the end of the stream is noted when it comes. */
  observe<A extends ReadonlyArray<StreamPart>, E, Done, R>(pull: Pull.Pull<A, E, Done, R>): Pull.Pull<A, E, Done, R> {
    // A span the sampler dropped, with metrics off, records nothing: no work per chunk.
    if (!this.span.sampled && this.recorder === undefined) return this.asParent(pull)
    return this.asParent(pull).pipe(
      // The end of the stream, not of the consumer's interest: after `take`, no pull says Done.
      Effect.tapCause((cause) => {
        if (Pull.isDoneCause(cause)) this.completed = true
        return Effect.void
      }),
      Effect.map((parts) => {
        for (let i = 0; i < parts.length; i++) {
          if (!this.accumulator.add(parts[i]!)) continue
          if (this.firstChunkNanos === undefined) this.firstChunkNanos = this.clock.currentTimeNanosUnsafe()
          if (this.recorder !== undefined) this.chunkMetrics(this.recorder, this.metric!)
        }
        return parts
      })
    )
  }

  /** A content chunk with metrics on: time to the first, then the time since the one before. */
  private chunkMetrics(recorder: Recorder, metric: OperationMetrics): void {
    const now = nowMillis()
    const model = this.accumulator.model
    let chunks = this.chunks
    if (chunks === undefined || chunks.model !== model) {
      chunks = {
        model,
        first: recorder.histogram(METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK),
        next: recorder.histogram(METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK),
        attributes: metric.sets(model, undefined).duration
      }
      this.chunks = chunks
    }
    if (this.lastChunk === undefined) {
      chunks.first.record((now - this.meteredFrom) / 1000, chunks.attributes, this.span, now)
    } else {
      chunks.next.record((now - this.lastChunk) / 1000, chunks.attributes, this.span, now)
    }
    this.lastChunk = now
  }

  end(exit: Exit.Exit<unknown, unknown>): void {
    this.record(exit)
    this.span.end(this.timed ? this.clock.currentTimeNanosUnsafe() : 0n, exit)
  }

  /** Writes what the stream reported, and how it ended, on the span (which it does not end). */
  record(exit: Exit.Exit<unknown, unknown>): void {
    if (this.recorded) return
    this.recorded = true
    const failed = exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)
    if (this.recorder !== undefined && this.metric !== undefined) {
      const usage = this.accumulator.usage
      const observed = {
        responseModel: this.accumulator.model,
        inputTokens: usage?.inputTokens,
        outputTokens: usage?.outputTokens
      }
      const now = nowMillis()
      // A stream its consumer stopped reading has no duration worth a bucket; its tokens still count.
      const seconds = this.completed || failed ? (now - this.meteredFrom) / 1000 : undefined
      this.metric.record(
        this.recorder,
        this.span,
        observed,
        seconds,
        failed ? internalErrorType(exit.cause) : undefined,
        now
      )
    }
    if (this.span.sampled) {
      const put = putOn(this.span)
      const abandoned = !this.completed && !failed
      const accumulator = this.accumulator
      if (this.firstChunkNanos !== undefined) {
        put(ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, Number(this.firstChunkNanos - this.startNanos) / 1e9)
      }
      putResponse(put, {
        response: {
          id: accumulator.id,
          model: accumulator.model,
          finishReasons: accumulator.finishReasons.length > 0 ? accumulator.finishReasons : undefined,
          outputMessages: this.settings.captureContent
            ? [accumulator.outputMessage(failed ? FinishReason.error : abandoned ? "abandoned" : FinishReason.stop)]
            : undefined
        },
        usage: accumulator.usage
      }, this.settings)
      put(ATTR_BELUGA_STREAM_CONTENT_CHUNKS, accumulator.contentChunks)
      if (abandoned) put(ATTR_BELUGA_STREAM_ABANDONED, true)
    }
  }
}

/**
 * For an inference span someone else made and ends (effect/ai's `LanguageModel` spans): writes the
 * request's attributes on it now, and, for a stream, everything {@link chatStream} records, when
 * the stream ends. Used by the `EffectAi` providers.
 *
 * @internal
 */
export const annotateInference = (span: Tracer.Span, request: Request, operation: "chat" = Operation.chat) =>
  Effect.withFiber((fiber) => {
    const settings = fiber.getRef(Settings)
    const recorder = fiber.getRef(CurrentRecorder)
    const clock = fiber.getRef(Clock.Clock)
    const spec = inference<InferenceOutcome>(operation, request, (outcome) => outcome)
    if (span.sampled) spec.start(putOn(span), settings)
    return Effect.succeed({
      /** Runs the provider call: the reply's attributes go on the span, its duration and tokens to the metrics. */
      call: <A, E, R>(self: Effect.Effect<A, E, R>, describe: (result: A) => InferenceOutcome) =>
        observeCall(self, { span, settings, recorder, spec, describe }),
      /** The reply's attributes, from the parts of a stream, written when it ends. */
      stream: <E, R>(self: Stream.Stream<StreamPart, E, R>): Stream.Stream<StreamPart, E, R> =>
        Stream.suspend(() => {
          const state = new StreamSpan(
            span,
            settings,
            clock,
            fiber.getRef(References.TracerTimingEnabled),
            recorder,
            () => metricsOf(spec)
          )
          return Stream.fromChannel(Channel.fromTransform((upstream, scope) =>
            Effect.map(Channel.toTransform(self.channel)(upstream, scope), (pull) => state.observe(pull))
          )).pipe(Stream.onExit((exit) =>
            Effect.sync(() => state.record(exit))
          ))
        })
    })
  })

/** A spec's metrics, for a span someone else started (its start attributes read without content). */
const metricsOf = (spec: Spec<any>): OperationMetrics => {
  const request: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: spec.operation }
  spec.start(into(request), metricSettings)
  return OperationMetrics.of(spec.operation, request)
}

/**
 * A call inside a span someone else made (effect/ai's): on success its result's attributes go on
 * the span when sampled, and with metrics on, its duration and tokens are recorded either way.
 */
const observeCall = <A, O, E, R>(
  self: Effect.Effect<A, E, R>,
  context: {
    readonly span: Tracer.Span
    readonly settings: GenAISettings
    readonly recorder: Recorder | undefined
    readonly spec: Spec<O>
    readonly describe: (result: A) => O
  }
): Effect.Effect<A, E, R> => {
  const { describe, recorder, settings, span, spec } = context
  const specEnd = spec.end
  // The spec describes the provider's outcome: `describe` turns the call's result into one (inside
  // the extractor's guard, so a `describe` that throws loses the attributes, not the call).
  const end = specEnd === undefined
    ? undefined
    : (result: A, put: Put, forEnd: GenAISettings) => specEnd(describe(result), put, forEnd)
  return recorder === undefined
    ? annotated(self, span, end, settings)
    : metered(self, span, end, settings, recorder, metricsOf(spec), false)
}

/** Without metrics: a sampled span gets the result's attributes. */
const annotated = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  span: Tracer.Span,
  end: Spec<A>["end"],
  settings: GenAISettings
): Effect.Effect<A, E, R> =>
  end === undefined || !span.sampled ? self : Effect.map(self, (result) => {
    // An extractor that throws must not fail the call it observes: its attributes are lost.
    try {
      end(result, putOn(span), settings)
    } catch {
      // ignored, see above
    }
    return result
  })

/**
 * `error.type` for a failed span: the error's own `errorType` string if it has one (a provider's
 * error code), else its `_tag` (Effect's tagged errors), else its class name, else `_OTHER`.
 * Interruption is not an error and gives `undefined`. Every failed span gets it from the tracer.
 *
 * @since 0.1.0
 * @category errors
 */
export const errorType: (cause: Cause.Cause<unknown>) => string | undefined = internalErrorType

/** Content as a bounded JSON string; only called when capture is on. */
const putContent = (put: Put, settings: GenAISettings, key: string, value: unknown): void => {
  if (settings.captureContent && value !== undefined) put(key, boundedJson(value, settings.maxContentLength))
}

const putServer = (put: Put, server: Server): void => {
  if (server.serverAddress === undefined) return
  put(ATTR_SERVER_ADDRESS, server.serverAddress)
  // The conventions make the port conditional on the address.
  put(ATTR_SERVER_PORT, server.serverPort)
}

const putProvider = (put: Put, provider: ProviderName | undefined, settings: GenAISettings): void => {
  put(ATTR_GEN_AI_PROVIDER_NAME, provider)
  if (settings.emitLegacyAttributes && provider !== undefined) {
    put(LEGACY_ATTR_GEN_AI_SYSTEM, legacySystemNames[provider] ?? provider)
  }
}

const putUsage = (put: Put, usage: Usage | undefined, settings: GenAISettings): void => {
  if (usage === undefined) return
  put(ATTR_GEN_AI_USAGE_INPUT_TOKENS, usage.inputTokens)
  put(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, usage.outputTokens)
  put(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cacheReadInputTokens)
  put(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cacheCreationInputTokens)
  put(ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoningOutputTokens)
  if (settings.emitLegacyAttributes) {
    put(LEGACY_ATTR_GEN_AI_USAGE_PROMPT_TOKENS, usage.inputTokens)
    put(LEGACY_ATTR_GEN_AI_USAGE_COMPLETION_TOKENS, usage.outputTokens)
  }
}

const putResponse = (put: Put, outcome: InferenceOutcome, settings: GenAISettings): void => {
  const response = outcome.response
  if (response !== undefined) {
    put(ATTR_GEN_AI_RESPONSE_ID, response.id)
    put(ATTR_GEN_AI_RESPONSE_MODEL, response.model)
    put(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, response.finishReasons)
    put(ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, response.timeToFirstChunk)
    putContent(put, settings, ATTR_GEN_AI_OUTPUT_MESSAGES, response.outputMessages)
  }
  putUsage(put, outcome.usage, settings)
}

const inference = <A>(
  operation: "chat" | "text_completion" | "generate_content",
  request: Request,
  describe: ((result: A) => InferenceOutcome) | undefined
): Spec<A> => ({
  operation,
  target: request.model,
  kind: request.inProcess === true ? "internal" : "client",
  start: (put, settings) => {
    putProvider(put, request.provider, settings)
    put(ATTR_GEN_AI_REQUEST_MODEL, request.model)
    putServer(put, request)
    put(ATTR_GEN_AI_REQUEST_TEMPERATURE, request.temperature)
    put(ATTR_GEN_AI_REQUEST_TOP_P, request.topP)
    put(ATTR_GEN_AI_REQUEST_TOP_K, request.topK)
    put(ATTR_GEN_AI_REQUEST_MAX_TOKENS, request.maxTokens)
    put(ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, request.stopSequences)
    put(ATTR_GEN_AI_REQUEST_SEED, request.seed)
    put(ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY, request.frequencyPenalty)
    put(ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY, request.presencePenalty)
    if (request.choiceCount !== 1) put(ATTR_GEN_AI_REQUEST_CHOICE_COUNT, request.choiceCount)
    put(ATTR_GEN_AI_REQUEST_STREAM, request.stream)
    put(ATTR_GEN_AI_OUTPUT_TYPE, request.outputType)
    put(ATTR_GEN_AI_CONVERSATION_ID, request.conversationId)
    putContent(put, settings, ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, request.systemInstructions)
    putContent(put, settings, ATTR_GEN_AI_INPUT_MESSAGES, request.messages)
    putContent(put, settings, ATTR_GEN_AI_TOOL_DEFINITIONS, request.toolDefinitions)
    if (settings.emitLegacyAttributes && request.provider === Provider.openai) {
      put(LEGACY_ATTR_GEN_AI_OPENAI_REQUEST_SEED, request.seed)
      put(LEGACY_ATTR_GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT, request.outputType)
    }
  },
  end: describe && ((result, put, settings) => putResponse(put, describe(result), settings))
})

const putAgent = (put: Put, agent: Agent, settings: GenAISettings): void => {
  putProvider(put, agent.provider, settings)
  put(ATTR_GEN_AI_AGENT_NAME, agent.name)
  put(ATTR_GEN_AI_AGENT_ID, agent.id)
  put(ATTR_GEN_AI_AGENT_DESCRIPTION, agent.description)
  put(ATTR_GEN_AI_AGENT_VERSION, agent.version)
  put(ATTR_GEN_AI_REQUEST_MODEL, agent.model)
  put(ATTR_GEN_AI_CONVERSATION_ID, agent.conversationId)
  put(ATTR_GEN_AI_DATA_SOURCE_ID, agent.dataSourceId)
  putServer(put, agent)
  putContent(put, settings, ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, agent.systemInstructions)
  putContent(put, settings, ATTR_GEN_AI_INPUT_MESSAGES, agent.messages)
}

// -----------------------------------------------------------------------------
// One combinator per operation
// -----------------------------------------------------------------------------

/**
 * A chat completion: span `chat {model}`, CLIENT (INTERNAL with `inProcess`). Request attributes
 * are set when the span starts; `describe` maps the result to response and usage attributes.
 *
 * @example
 * ```ts
 * const reply = client.complete(prompt).pipe(
 *   GenAI.chat({ provider: "openai", model: "gpt-4o", maxTokens: 512 }, (r) => ({
 *     response: { id: r.id, model: r.model, finishReasons: [r.finish] },
 *     usage: { inputTokens: r.usage.in, outputTokens: r.usage.out }
 *   }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category operations
 */
export const chat = <A>(request: Request, describe?: (result: A) => InferenceOutcome) =>
  traced(inference<A>(Operation.chat, request, describe))

/**
 * A streamed chat completion: one `chat {model}` span over the whole stream, with
 * `gen_ai.request.stream=true`. The span starts when the stream is run and ends exactly once: when
 * it completes, fails, or the consumer stops early (then {@link ATTR_BELUGA_STREAM_ABANDONED} is
 * set). Response id, model, finish reasons and usage come from the parts that carry them;
 * `gen_ai.response.time_to_first_chunk` is the seconds from the start to the first content part.
 * With content capture on, the assembled reply is recorded as `gen_ai.output.messages`; with it
 * off, no content is kept and memory does not grow with the stream.
 *
 * @example
 * ```ts
 * const parts = provider.streamParts(prompt).pipe(GenAI.chatStream({ provider: "openai", model: "gpt-4o" }))
 * ```
 *
 * @since 0.2.0
 * @category operations
 */
export const chatStream = (request: Request) =>
  tracedStream(inference<never>(Operation.chat, { ...request, stream: true }, undefined))

/**
 * A text completion: span `text_completion {model}`; otherwise as {@link chat}.
 *
 * @since 0.1.0
 * @category operations
 */
export const textCompletion = <A>(request: Request, describe?: (result: A) => InferenceOutcome) =>
  traced(inference<A>(Operation.textCompletion, request, describe))

/**
 * A multimodal generate-content call (Gemini style): span `generate_content {model}`; otherwise as {@link chat}.
 *
 * @since 0.1.0
 * @category operations
 */
export const generateContent = <A>(request: Request, describe?: (result: A) => InferenceOutcome) =>
  traced(inference<A>(Operation.generateContent, request, describe))

/**
 * An embeddings call: span `embeddings {model}`, CLIENT, with the dimension count.
 *
 * @example
 * ```ts
 * embed(texts).pipe(GenAI.embeddings({ provider: "openai", model: "text-embedding-3-small", dimensions: 1536 }))
 * ```
 *
 * @since 0.1.0
 * @category operations
 */
export const embeddings = <A>(request: EmbeddingsRequest, describe?: (result: A) => EmbeddingsOutcome) =>
  traced<A>(embeddingsSpec(request, describe))

const embeddingsSpec = <A>(request: EmbeddingsRequest, describe?: (result: A) => EmbeddingsOutcome): Spec<A> => ({
  operation: Operation.embeddings,
  target: request.model,
  kind: "client",
  start: (put, settings) => {
    putProvider(put, request.provider, settings)
    put(ATTR_GEN_AI_REQUEST_MODEL, request.model)
    putServer(put, request)
    put(ATTR_GEN_AI_REQUEST_ENCODING_FORMATS, request.encodingFormats)
    put(ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, request.dimensions)
  },
  end: describe && ((result, put, settings) => {
    const outcome = describe(result)
    put(ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, outcome.dimensions)
    put(ATTR_GEN_AI_RESPONSE_MODEL, outcome.responseModel)
    putUsage(put, outcome.usage, settings)
  })
})

/**
 * For an embeddings span someone else made and ends (effect/ai's `EmbeddingModel` spans): writes
 * the request's attributes now, and returns the function that writes the outcome's.
 *
 * @internal
 */
export const annotateEmbeddings = (span: Tracer.Span, request: EmbeddingsRequest) =>
  Effect.withFiber((fiber) => {
    const settings = fiber.getRef(Settings)
    const spec = embeddingsSpec<EmbeddingsOutcome>(request, (outcome) => outcome)
    if (span.sampled) spec.start(putOn(span), settings)
    const context = {
      span,
      settings,
      recorder: fiber.getRef(CurrentRecorder),
      spec
    }
    return Effect.succeed(<A, E, R>(self: Effect.Effect<A, E, R>, describe: (result: A) => EmbeddingsOutcome) =>
      observeCall(self, { ...context, describe })
    )
  })

/**
 * A retrieval from a data source (vector store, search index): span `retrieval {data_source.id}`,
 * CLIENT. The query text and the returned documents are content: recorded only when capture is on.
 *
 * @since 0.1.0
 * @category operations
 */
export const retrieval = <A>(request: RetrievalRequest, describe?: (result: A) => RetrievalOutcome) =>
  traced<A>({
    operation: Operation.retrieval,
    target: request.dataSourceId,
    kind: "client",
    start: (put, settings) => {
      putProvider(put, request.provider, settings)
      put(ATTR_GEN_AI_DATA_SOURCE_ID, request.dataSourceId)
      put(ATTR_GEN_AI_REQUEST_MODEL, request.model)
      put(ATTR_GEN_AI_REQUEST_TOP_K, request.topK)
      putServer(put, request)
      putContent(put, settings, ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT, request.query)
    },
    end: describe && ((result, put, settings) => {
      if (settings.captureContent) {
        putContent(put, settings, ATTR_GEN_AI_RETRIEVAL_DOCUMENTS, describe(result).documents)
      }
    })
  })

/**
 * A tool execution: span `execute_tool {tool.name}`, INTERNAL, with call id, type and description.
 * Arguments and result are content: recorded only when capture is on.
 *
 * @since 0.1.0
 * @category operations
 */
export const executeTool = <A>(call: ToolCall, describe?: (result: A) => ToolOutcome) =>
  traced<A>({
    operation: Operation.executeTool,
    target: call.name,
    kind: "internal",
    start: (put, settings) => {
      put(ATTR_GEN_AI_TOOL_NAME, call.name)
      put(ATTR_GEN_AI_TOOL_CALL_ID, call.callId)
      put(ATTR_GEN_AI_TOOL_TYPE, call.type)
      put(ATTR_GEN_AI_TOOL_DESCRIPTION, call.description)
      putContent(put, settings, ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, call.arguments)
    },
    end: (result, put, settings) => {
      if (settings.captureContent) {
        putContent(
          put,
          settings,
          ATTR_GEN_AI_TOOL_CALL_RESULT,
          describe !== undefined ? describe(result).result : result
        )
      }
    }
  })

/**
 * An agent invocation: span `invoke_agent {agent.name}`, INTERNAL for an agent in this process,
 * CLIENT with `remote: true`. `describe` may report the agent's final response and usage.
 *
 * @since 0.1.0
 * @category operations
 */
export const invokeAgent = <A>(agent: Agent, describe?: (result: A) => InferenceOutcome) =>
  traced<A>({
    operation: Operation.invokeAgent,
    target: agent.name,
    kind: agent.remote === true ? "client" : "internal",
    start: (put, settings) => putAgent(put, agent, settings),
    end: describe && ((result, put, settings) => putResponse(put, describe(result), settings))
  })

/**
 * Creating an agent on a provider: span `create_agent {agent.name}`, CLIENT.
 *
 * @since 0.1.0
 * @category operations
 */
export const createAgent = <A>(agent: Agent) =>
  traced<A>({
    operation: Operation.createAgent,
    target: agent.name,
    kind: "client",
    start: (put, settings) => putAgent(put, agent, settings)
  })

/**
 * A multi-step workflow: span `invoke_workflow {workflow.name}`, INTERNAL.
 *
 * @since 0.1.0
 * @category operations
 */
export const invokeWorkflow = <A>(workflow: Workflow, describe?: (result: A) => Pick<Response, "outputMessages">) =>
  traced<A>({
    operation: Operation.invokeWorkflow,
    target: workflow.name,
    kind: "internal",
    start: (put, settings) => {
      put(ATTR_GEN_AI_WORKFLOW_NAME, workflow.name)
      putContent(put, settings, ATTR_GEN_AI_INPUT_MESSAGES, workflow.messages)
    },
    end: describe && ((result, put, settings) => {
      if (settings.captureContent) {
        putContent(put, settings, ATTR_GEN_AI_OUTPUT_MESSAGES, describe(result).outputMessages)
      }
    })
  })
