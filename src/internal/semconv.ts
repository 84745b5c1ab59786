/**
 * Every name the library writes, in one place: the attribute, event, metric and span-name parts
 * of the OpenTelemetry GenAI conventions (v1.41) and the general conventions the library uses,
 * the library's own `beluga.*` names (registered in `semconv/`), and the well-known values. The
 * public modules re-export what users need; a rename upstream is a change in this file only.
 *
 * All GenAI conventions are "Development" status upstream.
 */
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
/** The input messages appended since the conversation's previous call (a draft: semantic-conventions-genai pull request 365). */
export const ATTR_GEN_AI_INPUT_MESSAGES_DELTA = "gen_ai.input.messages_delta"
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
/** `error.type` when nothing more specific is known (general conventions). */
export const ERROR_TYPE_OTHER = "_OTHER"
/** @since 0.1.0 @category attributes */
export const ATTR_SERVER_ADDRESS = "server.address"
/** @since 0.1.0 @category attributes */
export const ATTR_SERVER_PORT = "server.port"

/**
 * OpenAI's own attributes (semantic-conventions-genai `docs/gen-ai/openai.md`, registry
 * `openai.*`): which API was called, and the service tier asked for and served.
 *
 * @since 0.4.0
 * @category attributes
 */
export const ATTR_OPENAI_API_TYPE = "openai.api.type"
/** Recorded only when the request names a tier other than `auto`. @since 0.4.0 @category attributes */
export const ATTR_OPENAI_REQUEST_SERVICE_TIER = "openai.request.service_tier"
/** @since 0.4.0 @category attributes */
export const ATTR_OPENAI_RESPONSE_SERVICE_TIER = "openai.response.service_tier"
/** The backend configuration the reply came from (`system_fingerprint`). @since 0.4.0 @category attributes */
export const ATTR_OPENAI_RESPONSE_SYSTEM_FINGERPRINT = "openai.response.system_fingerprint"
/** `openai.api.type` values. @since 0.4.0 @category values */
export const OpenAIApiType = { chatCompletions: "chat_completions", responses: "responses" } as const

/**
 * The AWS Bedrock guardrail a call is checked by (semantic-conventions `model/aws/registry.yaml`;
 * required on Bedrock spans by semantic-conventions-genai `docs/gen-ai/aws-bedrock.md` when one is
 * configured). The conventions name no guardrail version attribute.
 *
 * @since 0.4.0
 * @category attributes
 */
export const ATTR_AWS_BEDROCK_GUARDRAIL_ID = "aws.bedrock.guardrail.id"

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
/** The finish reason of a streamed reply's output message when its consumer stopped reading first. */
export const FINISH_REASON_ABANDONED = "abandoned"

// The metrics: `semconvMetrics.ts`, re-exported here.
export * from "./semconvMetrics.ts"
import {
  METRIC_GEN_AI_CLIENT_EMBEDDINGS_DURATION,
  METRIC_GEN_AI_CLIENT_EMBEDDINGS_INPUT_TOKENS,
  METRIC_GEN_AI_CLIENT_INFERENCE_DURATION,
  METRIC_GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS,
  METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  METRIC_GEN_AI_EXECUTE_TOOL_DURATION,
  METRIC_GEN_AI_INVOKE_AGENT_DURATION,
  METRIC_GEN_AI_WORKFLOW_DURATION
} from "./semconvMetrics.ts"

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
 * The names of semantic-conventions-genai's `main` (schema `gen-ai-dev/1.42.0-dev`, no tagged
 * release) that differ from v1.41, written instead of them with
 * `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`.
 */
export const SCHEMA_URL_GEN_AI_LATEST = "https://opentelemetry.io/schemas/gen-ai-dev/1.42.0-dev"
/** `gen_ai.usage.cache_creation.input_tokens` on `main`. @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens"
/** {@link durationMetric} on `main`: inference and embeddings have durations of their own. */
export const latestDurationMetric: Readonly<Record<OperationName, string>> = {
  ...durationMetric,
  chat: METRIC_GEN_AI_CLIENT_INFERENCE_DURATION,
  generate_content: METRIC_GEN_AI_CLIENT_INFERENCE_DURATION,
  text_completion: METRIC_GEN_AI_CLIENT_INFERENCE_DURATION,
  embeddings: METRIC_GEN_AI_CLIENT_EMBEDDINGS_DURATION
}

/** Every v1.41 name the opt-in replaces, and its replacement: the table in docs/attributes.md. */
export const latestRenames: ReadonlyArray<{
  readonly kind: "attribute" | "metric"
  readonly v141: string
  readonly latest: string
  readonly where: string
}> = [
  {
    kind: "attribute",
    v141: ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    latest: ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    where: "inference spans"
  },
  {
    kind: "metric",
    v141: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
    latest: METRIC_GEN_AI_CLIENT_INFERENCE_DURATION,
    where: "chat, text_completion, generate_content"
  },
  {
    kind: "metric",
    v141: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
    latest: METRIC_GEN_AI_CLIENT_EMBEDDINGS_DURATION,
    where: "embeddings"
  },
  {
    kind: "metric",
    v141: METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
    latest: METRIC_GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK,
    where: "streamed inference"
  },
  {
    kind: "metric",
    v141: METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
    latest: METRIC_GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK,
    where: "streamed inference"
  },
  {
    kind: "metric",
    v141: `${METRIC_GEN_AI_CLIENT_TOKEN_USAGE} (gen_ai.token.type=input)`,
    latest: METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS,
    where: "inference (no gen_ai.token.type)"
  },
  {
    kind: "metric",
    v141: `${METRIC_GEN_AI_CLIENT_TOKEN_USAGE} (gen_ai.token.type=output)`,
    latest: METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS,
    where: "inference (no gen_ai.token.type)"
  },
  {
    kind: "metric",
    v141: `${METRIC_GEN_AI_CLIENT_TOKEN_USAGE} (gen_ai.token.type=input)`,
    latest: METRIC_GEN_AI_CLIENT_EMBEDDINGS_INPUT_TOKENS,
    where: "embeddings"
  }
]

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
export const metricAttributeKeys: Readonly<Record<OperationName, ReadonlyArray<string>>> = {
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
export const legacySystemNames: Readonly<Record<string, string>> = {
  "azure.ai.openai": "az.ai.openai",
  "gcp.vertex_ai": "vertex_ai",
  "gcp.gemini": "gemini",
  "x_ai": "xai"
}

// -----------------------------------------------------------------------------
// General conventions and the library's own names outside the GenAI spans
// -----------------------------------------------------------------------------

/** A session the call belongs to (general conventions). @since 0.2.0 @category attributes */
export const ATTR_SESSION_ID = "session.id"
/** The end user (general conventions). @since 0.2.0 @category attributes */
export const ATTR_USER_ID = "user.id"
/** The attributes a run's identity is made of, inherited by every span beneath. */
export const identityKeys = [ATTR_GEN_AI_CONVERSATION_ID, ATTR_SESSION_ID, ATTR_USER_ID] as const

/**
 * The cost of an inference in its currency (not in the conventions; the name Langfuse reads as the
 * generation's cost), beside the conventions' `gen_ai.usage.cost.amount`. @since 0.2.0 @category attributes
 */
export const ATTR_GEN_AI_USAGE_COST = "gen_ai.usage.cost"
/**
 * The cost of one inference operation, a double in `gen_ai.usage.cost.currency`, its own and not
 * its nested operations' (semantic-conventions-genai, after v1.41). @since 0.4.0 @category attributes
 */
export const ATTR_GEN_AI_USAGE_COST_AMOUNT = "gen_ai.usage.cost.amount"
/** The ISO 4217 code of `gen_ai.usage.cost.amount`'s currency. @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_USAGE_COST_CURRENCY = "gen_ai.usage.cost.currency"
/** Where the cost came from: {@link CostSource}. @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_USAGE_COST_SOURCE = "gen_ai.usage.cost.source"
/**
 * `gen_ai.usage.cost.source`: `provider` when the response carried the cost (a provider, gateway
 * or router priced the call), `local` when this library computed it from the price table.
 *
 * @since 0.4.0
 * @category attributes
 */
export const CostSource = { provider: "provider", local: "local" } as const
/** The currency of `beluga.rollup.cost` on agent, workflow and run spans. */
export const ATTR_BELUGA_COST_CURRENCY = "beluga.cost.currency"

/** What an agent, workflow or run span adds up from the inference spans beneath it. */
export const ATTR_BELUGA_ROLLUP_INFERENCES = "beluga.rollup.inferences"
export const ATTR_BELUGA_ROLLUP_INPUT_TOKENS = "beluga.rollup.input_tokens"
export const ATTR_BELUGA_ROLLUP_OUTPUT_TOKENS = "beluga.rollup.output_tokens"
export const ATTR_BELUGA_ROLLUP_CACHE_READ_INPUT_TOKENS = "beluga.rollup.cache_read.input_tokens"
export const ATTR_BELUGA_ROLLUP_CACHE_CREATION_INPUT_TOKENS = "beluga.rollup.cache_creation.input_tokens"
export const ATTR_BELUGA_ROLLUP_REASONING_OUTPUT_TOKENS = "beluga.rollup.reasoning.output_tokens"
export const ATTR_BELUGA_ROLLUP_COST = "beluga.rollup.cost"

/** The event an evaluation of a response is recorded as. @since 0.2.0 @category events */
export const EVENT_GEN_AI_EVALUATION_RESULT = "gen_ai.evaluation.result"
/**
 * The log record (an event) of one inference with its content structured, when content capture
 * sends events (`EVENT_ONLY`, `SPAN_AND_EVENT`; semantic-conventions-genai after v1.41).
 * @since 0.4.0 @category events
 */
export const EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS = "gen_ai.client.inference.operation.details"

/** Which attempt of a retried step a span is, from 1. @since 0.1.0 @category attributes */
export const ATTR_BELUGA_ATTEMPT = "beluga.attempt"

/** The event a provider call records before it retries, and its attributes. */
export const EVENT_BELUGA_PROVIDER_RETRY = "beluga.provider.retry"
export const ATTR_BELUGA_RETRY_DELAY_MS = "beluga.retry.delay_ms"
export const ATTR_HTTP_REQUEST_RESEND_COUNT = "http.request.resend_count"
export const ATTR_HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"

/** The exception event's attributes (general conventions). */
export const EVENT_EXCEPTION = "exception"
export const ATTR_EXCEPTION_TYPE = "exception.type"
export const ATTR_EXCEPTION_MESSAGE = "exception.message"
export const ATTR_EXCEPTION_STACKTRACE = "exception.stacktrace"

/** Resource attributes. */
export const ATTR_SERVICE_NAME = "service.name"
export const ATTR_SERVICE_VERSION = "service.version"
export const ATTR_TELEMETRY_DISTRO_NAME = "telemetry.distro.name"
export const ATTR_TELEMETRY_DISTRO_VERSION = "telemetry.distro.version"
/** This library's name: the distribution, and the instrumentation scope of its spans and metrics. */
export const LIBRARY_NAME = "beluga-o11y"

/** The series a histogram's measurements go to past its cardinality limit (metrics SDK spec). */
export const ATTR_OTEL_METRIC_OVERFLOW = "otel.metric.overflow"

/** Effect's own span and log-event attributes (see `semconv/registry/effect.yaml`). */
export const ATTR_EFFECT_FIBER_INTERRUPTED = "effect.fiber.interrupted"
export const ATTR_EFFECT_FIBER_ID = "effect.fiber.id"
export const ATTR_EFFECT_LOG_LEVEL = "effect.log.level"
/**
 * The keys Effect's logger gives a log event inside a span; camelCase breaks the attribute naming
 * rules, so the tracer writes them as {@link ATTR_EFFECT_FIBER_ID} and {@link ATTR_EFFECT_LOG_LEVEL}.
 */
export const EFFECT_FIBER_ID_KEY = "effect.fiberId"
/** Annotations effect/ai writes on its model spans that are not GenAI conventions; the tracer leaves them out. */
export const EFFECT_AI_TOOL_CHOICE = "effect.ai.tool_choice"
export const EFFECT_AI_CONCURRENCY = "effect.ai.concurrency"
export const EFFECT_AI_OBJECT_NAME = "effect.ai.object_name"
export const EFFECT_LOG_LEVEL_KEY = "effect.logLevel"

// -----------------------------------------------------------------------------
// Model Context Protocol (semantic-conventions-genai `docs/gen-ai/mcp.md`, `model/mcp/`; Development)
// -----------------------------------------------------------------------------

/** The JSON-RPC method of an MCP request or notification (required on MCP spans). @since 0.4.0 @category attributes */
export const ATTR_MCP_METHOD_NAME = "mcp.method.name"
/** The `Mcp-Session-Id` of a session-based revision; never set for 2026-07-28. @since 0.4.0 @category attributes */
export const ATTR_MCP_SESSION_ID = "mcp.session.id"
/** @since 0.4.0 @category attributes */
export const ATTR_MCP_PROTOCOL_VERSION = "mcp.protocol.version"
/** @since 0.4.0 @category attributes */
export const ATTR_MCP_RESOURCE_URI = "mcp.resource.uri"
/**
 * How an agent or workflow invocation ended: {@link AgentEndReason} (semantic-conventions-genai
 * draft after v1.41; a failed run is recorded by its ERROR status and `error.type` instead).
 * @since 0.4.0 @category attributes
 */
export const ATTR_GEN_AI_AGENT_INVOCATION_END_REASON = "gen_ai.agent.invocation.end_reason"
/** @since 0.4.0 @category values */
export const AgentEndReason = { completed: "completed", interrupted: "interrupted" } as const
/** An agent run's token budget, input and output tokens over its model calls (draft after v1.41). @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_AGENT_TOKEN_BUDGET_LIMIT = "gen_ai.agent.token_budget.limit"
/** The tokens the run's model calls used, counted against its budget. @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_AGENT_TOKEN_BUDGET_CONSUMED = "gen_ai.agent.token_budget.consumed"
/** An agent run's iteration budget, in model calls (draft after v1.41). @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_AGENT_ITERATION_BUDGET_LIMIT = "gen_ai.agent.iteration_budget.limit"
/** The model calls the run made, counted against its budget. @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_AGENT_ITERATION_BUDGET_CONSUMED = "gen_ai.agent.iteration_budget.consumed"
/** How a tool call that transfers to an agent passes control (draft after v1.41). @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_TRANSFER_MODE = "gen_ai.transfer.mode"
/** The agent a transfer targets. @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_TRANSFER_TARGET_NAME = "gen_ai.transfer.target.name"
/** The name of the prompt (template) a call was made from: MCP's prompts, `Prompt.withPrompt`. @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_PROMPT_NAME = "gen_ai.prompt.name"
/** The version of that prompt (semantic-conventions-genai, after v1.41). @since 0.4.0 @category attributes */
export const ATTR_GEN_AI_PROMPT_VERSION = "gen_ai.prompt.version"
/**
 * The prefix of the prompt's variables, `gen_ai.prompt.variable.<key>` (after v1.41; content:
 * written only with capture on). @since 0.4.0 @category attributes
 */
export const ATTR_GEN_AI_PROMPT_VARIABLE = "gen_ai.prompt.variable"
/** The prompt's template text (not in the conventions; content: capture on only). @since 0.4.0 @category attributes */
export const ATTR_BELUGA_PROMPT_TEMPLATE = "beluga.prompt.template"
/**
 * OpenInference's prompt template names, which Phoenix shows as a span's prompt template (its
 * ingestion does not read `gen_ai.prompt.*`). Template and variables are content.
 */
export const ATTR_LLM_PROMPT_TEMPLATE_TEMPLATE = "llm.prompt_template.template"
export const ATTR_LLM_PROMPT_TEMPLATE_VARIABLES = "llm.prompt_template.variables"
export const ATTR_LLM_PROMPT_TEMPLATE_VERSION = "llm.prompt_template.version"
/** The JSON-RPC `id` of a request, as a string (general `jsonrpc.*` conventions). @since 0.4.0 @category attributes */
export const ATTR_JSONRPC_REQUEST_ID = "jsonrpc.request.id"
/** Set only when the message's `jsonrpc` is not `2.0`. @since 0.4.0 @category attributes */
export const ATTR_JSONRPC_PROTOCOL_VERSION = "jsonrpc.protocol.version"
/** The JSON-RPC error code of the response, as a string. @since 0.4.0 @category attributes */
export const ATTR_RPC_RESPONSE_STATUS_CODE = "rpc.response.status_code"
/** `pipe` for stdio, `tcp` for HTTP. @since 0.4.0 @category attributes */
export const ATTR_NETWORK_TRANSPORT = "network.transport"
/** `http` for Streamable HTTP. @since 0.4.0 @category attributes */
export const ATTR_NETWORK_PROTOCOL_NAME = "network.protocol.name"
/** @since 0.4.0 @category attributes */
export const ATTR_CLIENT_ADDRESS = "client.address"
/** @since 0.4.0 @category attributes */
export const ATTR_CLIENT_PORT = "client.port"
/** The HTTP version of Streamable HTTP (`1.1`, `2`), where the transport knows it. @since 0.4.0 @category attributes */
export const ATTR_NETWORK_PROTOCOL_VERSION = "network.protocol.version"

/** `network.transport` and `network.protocol.name` values the MCP spans use. @since 0.4.0 @category values */
export const NetworkTransport = { pipe: "pipe", tcp: "tcp" } as const
/** @since 0.4.0 @category values */
export const NETWORK_PROTOCOL_HTTP = "http"

/**
 * `error.type` values of MCP spans besides a JSON-RPC error code: a `CallToolResult` with
 * `isError`, no answer within the caller's deadline, the peer gone before it answered, a request
 * cancelled by its sender.
 *
 * @since 0.4.0
 * @category values
 */
export const McpErrorType = {
  toolError: "tool_error",
  timeout: "timeout",
  connectionClosed: "connection_closed",
  cancelled: "cancelled"
} as const

/** `mcp.method.name` values the instrumentation reads a target or a result from. @since 0.4.0 @category values */
export const McpMethod = {
  initialize: "initialize",
  initialized: "notifications/initialized",
  cancelled: "notifications/cancelled",
  serverDiscover: "server/discover",
  toolsList: "tools/list",
  toolsCall: "tools/call",
  promptsGet: "prompts/get",
  completionComplete: "completion/complete",
  resourcesRead: "resources/read",
  resourcesSubscribe: "resources/subscribe",
  resourcesUnsubscribe: "resources/unsubscribe",
  resourcesUpdated: "notifications/resources/updated"
} as const

/** The `_meta` keys trace context travels in (SEP-414: unprefixed, the W3C formats). @since 0.4.0 @category values */
export const McpMetaKey = {
  traceparent: "traceparent",
  tracestate: "tracestate",
  baggage: "baggage",
  /** The 2026-07-28 revision's per-request protocol version. */
  protocolVersion: "io.modelcontextprotocol/protocolVersion"
} as const

/** The MCP span attributes a metric point may carry: bounded values only (no ids, no content). */
export const mcpMetricAttributeKeys: ReadonlyArray<string> = [
  ATTR_MCP_METHOD_NAME,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_ERROR_TYPE,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  ATTR_JSONRPC_PROTOCOL_VERSION,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION
]
/** The attributes of the MCP session durations. */
export const mcpSessionMetricAttributeKeys: ReadonlyArray<string> = [
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_JSONRPC_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_ERROR_TYPE
]

/** Logs: per `Effect.withLogSpan(label)`, the milliseconds from its start to the line (Effect's own name). */
export const ATTR_EFFECT_LOG_SPAN_PREFIX = "effect.log_span."
