/**
 * The GenAI conventions' data model: message content (the JSON schemas of gen-ai-input-messages
 * and gen-ai-output-messages) and the request, response and usage shapes each operation records.
 * `GenAI` re-exports every type here.
 */
import type { AttributeValue } from "@opentelemetry/api"
import type { FinishReasonName, OutputTypeName, ProviderName } from "./semconv.ts"

/** One part of a message. @since 0.1.0 @category content */
export type MessagePart =
  | { readonly type: "text"; readonly content: string }
  | { readonly type: "tool_call"; readonly name: string; readonly id?: string; readonly arguments?: unknown }
  | { readonly type: "tool_call_response"; readonly response: unknown; readonly id?: string }
  | { readonly type: "reasoning"; readonly content: string }
  /** A tool the provider ran itself (web search, code interpreter, a remote MCP server). */
  | {
    readonly type: "server_tool_call"
    readonly name: string
    readonly id?: string
    readonly server_tool_call: { readonly type: string; readonly [key: string]: unknown }
  }
  /** What a tool the provider ran returned. */
  | {
    readonly type: "server_tool_call_response"
    readonly id?: string
    readonly server_tool_call_response: { readonly type: string; readonly [key: string]: unknown }
  }
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
  /**
   * Attributes of the provider's own conventions known before the call (`openai.api.type`,
   * `aws.bedrock.guardrail.id`), written as the span starts.
   */
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
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
  /** Attributes of the provider's own conventions from the reply (`openai.response.service_tier`). */
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

/** Token counts. @since 0.1.0 @category models */
export interface Usage {
  readonly inputTokens?: number | undefined
  readonly outputTokens?: number | undefined
  readonly cacheReadInputTokens?: number | undefined
  readonly cacheCreationInputTokens?: number | undefined
  readonly reasoningOutputTokens?: number | undefined
  /**
   * The call's cost as the response reported it (OpenRouter's `usage.cost`, a gateway's): written
   * as `gen_ai.usage.cost.amount` with `gen_ai.usage.cost.source=provider`, and not priced again.
   */
  readonly cost?: { readonly amount: number; readonly currency: string } | undefined
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
  | { readonly type: "text-delta"; readonly delta: string; readonly choice?: number | undefined }
  | { readonly type: "reasoning-delta"; readonly delta: string; readonly choice?: number | undefined }
  | {
    readonly type: "tool-call-delta"
    readonly index: number
    readonly id?: string | undefined
    readonly name?: string | undefined
    readonly argumentsDelta?: string | undefined
    readonly choice?: number | undefined
  }
  /** A part that arrives whole: a server tool call or its result, a file the model made. */
  | { readonly type: "message-part"; readonly part: MessagePart; readonly choice?: number | undefined }
  | {
    readonly type: "response-metadata"
    readonly id?: string | undefined
    readonly model?: string | undefined
    /** As {@link Response.attributes}; later reports add to earlier ones. */
    readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
  }
  | { readonly type: "finish"; readonly reason: FinishReasonName; readonly choice?: number | undefined }
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
  /**
   * A tool call that hands work to another agent (an agent as a tool, a hand-off): the span is
   * named `execute_tool {tool} {target}` and records the target and how control passes.
   */
  readonly transfer?: {
    readonly target: string
    /** `return_to_caller`: the caller waits for the target and resumes; `pass_control`: the target takes over. */
    readonly mode: "return_to_caller" | "pass_control"
  } | undefined
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
  /**
   * The run's token budget (input and output tokens over all its model calls) and iteration budget
   * (model calls), when the agent has them: recorded with what the run consumed of each.
   */
  readonly tokenBudget?: number | undefined
  readonly iterationBudget?: number | undefined
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
