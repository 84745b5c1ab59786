/**
 * The histograms this library records: their names, units, descriptions and bucket boundaries.
 * Part of `semconv.ts`, which re-exports everything here: the one home of every written name.
 */
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
/**
 * Histogram of the cost of each priced inference operation, in the point's
 * `gen_ai.usage.cost.currency` (semantic-conventions-genai, after v1.41). @since 0.4.0 @category metrics
 */
export const METRIC_GEN_AI_CLIENT_OPERATION_COST = "gen_ai.client.operation.cost"
/** Histogram of `invoke_agent` durations, `s` (semantic-conventions drafts after v1.41). @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration"
/** Histogram of `execute_tool` durations, `s` (drafts after v1.41). @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration"
/** Histogram of `invoke_workflow` durations, `s` (drafts after v1.41). @since 0.3.0 @category metrics */
export const METRIC_GEN_AI_WORKFLOW_DURATION = "gen_ai.workflow.duration"

/**
 * The inference, embeddings and token metrics under semantic-conventions-genai `main`'s names,
 * recorded instead of the v1.41 ones with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`.
 * @since 0.4.0 @category metrics
 */
export const METRIC_GEN_AI_CLIENT_INFERENCE_DURATION = "gen_ai.client.inference.duration"
/** @since 0.4.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK = "gen_ai.client.inference.time_to_first_chunk"
/** @since 0.4.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK = "gen_ai.client.inference.time_per_output_chunk"
/** @since 0.4.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_EMBEDDINGS_DURATION = "gen_ai.client.embeddings.duration"
/** @since 0.4.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS = "gen_ai.client.inference.usage.input_tokens"
/** @since 0.4.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS = "gen_ai.client.inference.usage.output_tokens"
/** @since 0.4.0 @category metrics */
export const METRIC_GEN_AI_CLIENT_EMBEDDINGS_INPUT_TOKENS = "gen_ai.client.embeddings.operation.input_tokens"

/** One histogram this library records. */
export interface HistogramDefinition {
  readonly name: string
  readonly unit: string
  readonly description: string
  /** Explicit bucket boundaries, ascending. */
  readonly boundaries: ReadonlyArray<number>
  /** Whole-number measurements (token counts). */
  readonly integer: boolean
}

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
/**
 * The bucket boundaries of `gen_ai.client.operation.cost`: a hundredth of a cent to ten units of the
 * currency, about three per decade (the conventions advise none yet). @since 0.4.0 @category metrics
 */
export const COST_BUCKETS: ReadonlyArray<number> = [
  0.0001,
  0.0002,
  0.0005,
  0.001,
  0.002,
  0.005,
  0.01,
  0.02,
  0.05,
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
  10
]
/** The advised bucket boundaries of `gen_ai.client.token.usage` (powers of 4). @since 0.3.0 @category metrics */
export const TOKEN_BUCKETS: ReadonlyArray<number> = Array.from({ length: 14 }, (_, i) => 4 ** i)

/**
 * The MCP operation and session durations (semantic-conventions-genai `model/mcp/metrics.yaml`),
 * with their advised buckets, in seconds.
 *
 * @since 0.4.0
 * @category metrics
 */
export const METRIC_MCP_CLIENT_OPERATION_DURATION = "mcp.client.operation.duration"
/** @since 0.4.0 @category metrics */
export const METRIC_MCP_SERVER_OPERATION_DURATION = "mcp.server.operation.duration"
/** @since 0.4.0 @category metrics */
export const METRIC_MCP_CLIENT_SESSION_DURATION = "mcp.client.session.duration"
/** @since 0.4.0 @category metrics */
export const METRIC_MCP_SERVER_SESSION_DURATION = "mcp.server.session.duration"
/** The advised bucket boundaries of the MCP duration histograms, in seconds. @since 0.4.0 @category metrics */
export const MCP_DURATION_BUCKETS: ReadonlyArray<number> = [
  0.01,
  0.02,
  0.05,
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
  10,
  30,
  60,
  120,
  300
]

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
    name: METRIC_GEN_AI_CLIENT_INFERENCE_DURATION,
    unit: "s",
    description: "Duration of a GenAI inference operation.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK,
    unit: "s",
    description: "Time to receive the first chunk in a streaming inference operation.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK,
    unit: "s",
    description: "Time per output chunk, for each chunk received after the first one.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_CLIENT_EMBEDDINGS_DURATION,
    unit: "s",
    description: "Duration of a GenAI embeddings operation.",
    boundaries: DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS,
    unit: "{token}",
    description: "The number of input (prompt) tokens used per inference operation.",
    boundaries: TOKEN_BUCKETS,
    integer: true
  },
  {
    name: METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS,
    unit: "{token}",
    description: "The number of output (completion) tokens used per inference operation.",
    boundaries: TOKEN_BUCKETS,
    integer: true
  },
  {
    name: METRIC_GEN_AI_CLIENT_EMBEDDINGS_INPUT_TOKENS,
    unit: "{token}",
    description: "The number of input tokens used per embeddings operation.",
    boundaries: TOKEN_BUCKETS,
    integer: true
  },
  {
    name: METRIC_GEN_AI_CLIENT_OPERATION_COST,
    unit: "{cost}",
    description: "The cost of a GenAI operation, in the currency of its gen_ai.usage.cost.currency attribute.",
    boundaries: COST_BUCKETS,
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
  },
  {
    name: METRIC_MCP_CLIENT_OPERATION_DURATION,
    unit: "s",
    description:
      "The duration of the MCP request or notification as observed on the sender from the time it was sent until the response or ack is received.",
    boundaries: MCP_DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_MCP_SERVER_OPERATION_DURATION,
    unit: "s",
    description:
      "MCP request or notification duration as observed on the receiver from the time it was received until the result or ack is sent.",
    boundaries: MCP_DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_MCP_CLIENT_SESSION_DURATION,
    unit: "s",
    description: "The duration of the MCP session as observed on the MCP client.",
    boundaries: MCP_DURATION_BUCKETS,
    integer: false
  },
  {
    name: METRIC_MCP_SERVER_SESSION_DURATION,
    unit: "s",
    description: "The duration of the MCP session as observed on the MCP server.",
    boundaries: MCP_DURATION_BUCKETS,
    integer: false
  }
]
