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
 * All GenAI conventions are "Development" status upstream. The names are defined once, in the
 * library's names module, and re-exported here.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import { errorType as causeErrorType } from "./internal/errors.ts"
import type * as Model from "./internal/model.ts"
import * as Specs from "./internal/operation.ts"
import { traced, tracedStream } from "./internal/operationSpan.ts"
import { Operation } from "./internal/semconv.ts"

export { parseToolArguments, StreamAccumulator } from "./internal/accumulator.ts"
export type {
  Agent,
  EmbeddingsOutcome,
  EmbeddingsRequest,
  InferenceOutcome,
  InputMessage,
  MessagePart,
  OutputMessage,
  Request,
  Response,
  RetrievalOutcome,
  RetrievalRequest,
  RetrievedDocument,
  Role,
  Server,
  StreamPart,
  ToolCall,
  ToolDefinition,
  ToolOutcome,
  Usage,
  Workflow
} from "./internal/model.ts"
export { Settings } from "./internal/operation.ts"
export {
  ATTR_BELUGA_STREAM_ABANDONED,
  ATTR_BELUGA_STREAM_CONTENT_CHUNKS,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_AGENT_DESCRIPTION,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_AGENT_VERSION,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_DATA_SOURCE_ID,
  ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
  ATTR_GEN_AI_EVALUATION_EXPLANATION,
  ATTR_GEN_AI_EVALUATION_NAME,
  ATTR_GEN_AI_EVALUATION_SCORE_LABEL,
  ATTR_GEN_AI_EVALUATION_SCORE_VALUE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_CHOICE_COUNT,
  ATTR_GEN_AI_REQUEST_ENCODING_FORMATS,
  ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_K,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_RETRIEVAL_DOCUMENTS,
  ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_DEFINITIONS,
  ATTR_GEN_AI_TOOL_DESCRIPTION,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_GEN_AI_WORKFLOW_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DURATION_BUCKETS,
  durationMetric,
  FinishReason,
  LEGACY_ATTR_GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT,
  LEGACY_ATTR_GEN_AI_OPENAI_REQUEST_SEED,
  LEGACY_ATTR_GEN_AI_SYSTEM,
  LEGACY_ATTR_GEN_AI_USAGE_COMPLETION_TOKENS,
  LEGACY_ATTR_GEN_AI_USAGE_PROMPT_TOKENS,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  METRIC_GEN_AI_EXECUTE_TOOL_DURATION,
  METRIC_GEN_AI_INVOKE_AGENT_DURATION,
  METRIC_GEN_AI_WORKFLOW_DURATION,
  Metrics,
  Operation,
  OutputType,
  Provider,
  TOKEN_BUCKETS,
  TokenType
} from "./internal/semconv.ts"
export type { FinishReasonName, OperationName, OutputTypeName, ProviderName } from "./internal/semconv.ts"

/**
 * `error.type` for a failed span: the error's own `errorType` string if it has one (a provider's
 * error code), else its `_tag` (Effect's tagged errors), else its class name, else `_OTHER`.
 * Interruption is not an error and gives `undefined`. Every failed span gets it from the tracer.
 *
 * @since 0.1.0
 * @category errors
 */
export const errorType: (cause: Cause.Cause<unknown>) => string | undefined = causeErrorType

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
export const chat = <A>(
  request: Model.Request,
  describe?: (result: A) => Model.InferenceOutcome
) => traced(Specs.inference<A>(Operation.chat, request, describe))

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
export const chatStream = (
  request: Model.Request
) => tracedStream(Specs.inference<never>(Operation.chat, { ...request, stream: true }, undefined))

/**
 * A text completion: span `text_completion {model}`; otherwise as {@link chat}.
 *
 * @since 0.1.0
 * @category operations
 */
export const textCompletion = <A>(
  request: Model.Request,
  describe?: (result: A) => Model.InferenceOutcome
) => traced(Specs.inference<A>(Operation.textCompletion, request, describe))

/**
 * A multimodal generate-content call (Gemini style): span `generate_content {model}`; otherwise as {@link chat}.
 *
 * @since 0.1.0
 * @category operations
 */
export const generateContent = <A>(
  request: Model.Request,
  describe?: (result: A) => Model.InferenceOutcome
) => traced(Specs.inference<A>(Operation.generateContent, request, describe))

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
export const embeddings = <A>(
  request: Model.EmbeddingsRequest,
  describe?: (result: A) => Model.EmbeddingsOutcome
) => traced(Specs.embeddings(request, describe))

/**
 * A retrieval from a data source (vector store, search index): span `retrieval {data_source.id}`,
 * CLIENT. The query text and the returned documents are content: recorded only when capture is on.
 *
 * @since 0.1.0
 * @category operations
 */
export const retrieval = <A>(
  request: Model.RetrievalRequest,
  describe?: (result: A) => Model.RetrievalOutcome
) => traced(Specs.retrieval(request, describe))

/**
 * A tool execution: span `execute_tool {tool.name}`, INTERNAL, with call id, type and description.
 * Arguments and result are content: recorded only when capture is on.
 *
 * @since 0.1.0
 * @category operations
 */
export const executeTool = <A>(
  call: Model.ToolCall,
  describe?: (result: A) => Model.ToolOutcome
) => traced(Specs.executeTool(call, describe))

/**
 * An agent invocation: span `invoke_agent {agent.name}`, INTERNAL for an agent in this process,
 * CLIENT with `remote: true`. `describe` may report the agent's final response and usage.
 *
 * @since 0.1.0
 * @category operations
 */
export const invokeAgent = <A>(
  agent: Model.Agent,
  describe?: (result: A) => Model.InferenceOutcome
) => traced(Specs.invokeAgent(agent, describe))

/**
 * Creating an agent on a provider: span `create_agent {agent.name}`, CLIENT.
 *
 * @since 0.1.0
 * @category operations
 */
export const createAgent = <A>(agent: Model.Agent) => traced(Specs.createAgent<A>(agent))

/**
 * A multi-step workflow: span `invoke_workflow {workflow.name}`, INTERNAL.
 *
 * @since 0.1.0
 * @category operations
 */
export const invokeWorkflow = <A>(
  workflow: Model.Workflow,
  describe?: (result: A) => Pick<Model.Response, "outputMessages">
) => traced(Specs.invokeWorkflow(workflow, describe))
