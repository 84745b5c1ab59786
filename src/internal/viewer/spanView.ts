/**
 * What the viewer keeps of a span and shows: the decoded OTLP span reduced to display values, with
 * the GenAI conventions read once, here, so the browser code knows no attribute names. Content
 * attributes (messages, system instructions, tool definitions) are parsed from their JSON strings;
 * when one is not valid JSON it is kept as text.
 */
import * as N from "../semconv.ts"
import type { Attributes, RawSpan, Value } from "./otlpDecode.ts"

/** A message part as the conventions define it; unknown part types keep their fields. */
export type Part = { readonly type: string; readonly [key: string]: unknown }

export interface Message {
  readonly role: string
  readonly parts: ReadonlyArray<Part>
  readonly name?: string
  readonly finish_reason?: string
}

/** Captured content: the parsed messages, or the raw text when it was not the conventions' JSON. */
export type Content<A> = { readonly parsed: A } | { readonly text: string }

export interface GenAIView {
  readonly operation: string
  readonly provider?: string
  readonly requestModel?: string
  readonly responseModel?: string
  readonly inputTokens?: number
  readonly outputTokens?: number
  readonly cacheReadTokens?: number
  readonly cacheCreationTokens?: number
  readonly reasoningTokens?: number
  readonly cost?: number
  readonly currency?: string
  readonly finishReasons: ReadonlyArray<string>
  readonly responseId?: string
  /** Time to first chunk, milliseconds, on streamed calls. */
  readonly ttftMs?: number
  readonly streamed: boolean
  readonly abandoned: boolean
  readonly errorType?: string
  readonly conversationId?: string
  /** The request parameters that were set, as name and display value. */
  readonly params: ReadonlyArray<readonly [string, string]>
  readonly toolName?: string
  readonly toolCallId?: string
  readonly toolArguments?: string
  readonly toolResult?: string
  readonly system?: Content<ReadonlyArray<Part>>
  readonly input?: Content<ReadonlyArray<Message>>
  readonly output?: Content<ReadonlyArray<Message>>
  readonly toolDefinitions?: string
  /** Whether this operation is a model call whose usage counts towards the trace's totals. */
  readonly inference: boolean
}

export interface EventView {
  readonly name: string
  /** Milliseconds since the epoch. */
  readonly time: number
  readonly attributes: ReadonlyArray<readonly [string, string]>
}

export interface SpanView {
  readonly traceId: string
  readonly spanId: string
  readonly parentId: string
  readonly name: string
  readonly kind: number
  /** Milliseconds since the epoch, to the microsecond. */
  readonly start: number
  readonly end: number
  /** 0 unset, 1 ok, 2 error. */
  readonly status: number
  readonly statusMessage: string
  readonly service: string
  readonly scope: string
  readonly attributes: ReadonlyArray<readonly [string, string]>
  readonly resource: ReadonlyArray<readonly [string, string]>
  readonly events: ReadonlyArray<EventView>
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
  readonly genai?: GenAIView
}

/** Identity attributes a trace is filtered and grouped by. */
export interface Identity {
  readonly conversation?: string
  readonly session?: string
  readonly user?: string
}

const inferenceOperations = new Set<string>([
  N.Operation.chat,
  N.Operation.generateContent,
  N.Operation.textCompletion,
  N.Operation.embeddings
])

const requestParams: ReadonlyArray<readonly [string, string]> = [
  [N.ATTR_GEN_AI_REQUEST_TEMPERATURE, "temperature"],
  [N.ATTR_GEN_AI_REQUEST_TOP_P, "top_p"],
  [N.ATTR_GEN_AI_REQUEST_TOP_K, "top_k"],
  [N.ATTR_GEN_AI_REQUEST_MAX_TOKENS, "max_tokens"],
  [N.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, "stop_sequences"],
  [N.ATTR_GEN_AI_REQUEST_SEED, "seed"],
  [N.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY, "frequency_penalty"],
  [N.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY, "presence_penalty"],
  [N.ATTR_GEN_AI_REQUEST_CHOICE_COUNT, "choice.count"],
  [N.ATTR_GEN_AI_REQUEST_STREAM, "stream"],
  [N.ATTR_GEN_AI_REQUEST_ENCODING_FORMATS, "encoding_formats"],
  [N.ATTR_GEN_AI_OUTPUT_TYPE, "output.type"],
  [N.ATTR_GEN_AI_DATA_SOURCE_ID, "data_source.id"],
  [N.ATTR_GEN_AI_AGENT_NAME, "agent.name"],
  [N.ATTR_GEN_AI_AGENT_ID, "agent.id"],
  [N.ATTR_GEN_AI_WORKFLOW_NAME, "workflow.name"],
  [N.ATTR_SERVER_ADDRESS, N.ATTR_SERVER_ADDRESS],
  [N.ATTR_SERVER_PORT, N.ATTR_SERVER_PORT]
]

/** A value as one line of text: strings as they are, everything else as JSON. */
export const display = (value: Value): string => typeof value === "string" ? value : JSON.stringify(value)

/** Attributes as sorted display rows. */
export const entries = (attributes: Attributes): Array<readonly [string, string]> =>
  Object.keys(attributes).toSorted().map((key) => [key, display(attributes[key]!)] as const)

export const text = (value: Value | undefined): string | undefined =>
  value === undefined || value === null ? undefined : display(value)

const number = (value: Value | undefined): number | undefined => {
  if (typeof value === "number") return value
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value)
  return undefined
}

/** A content attribute: parsed when it is the conventions' shape (structured or as JSON text), else text. */
export const content = <A>(
  value: Value | undefined,
  valid: (parsed: unknown) => parsed is A
): Content<A> | undefined => {
  if (value === undefined || value === null) return undefined
  // The conventions serialize content to a JSON string; a structured value arrives already parsed.
  if (typeof value !== "string") return valid(value) ? { parsed: value } : { text: display(value) }
  try {
    const parsed: unknown = JSON.parse(value)
    return valid(parsed) ? { parsed } : { text: value }
  } catch {
    return { text: value }
  }
}

const isPart = (value: unknown): value is Part =>
  typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string"

export const isParts = (value: unknown): value is ReadonlyArray<Part> => Array.isArray(value) && value.every(isPart)

export const isMessages = (value: unknown): value is ReadonlyArray<Message> =>
  Array.isArray(value) &&
  value.every((message) =>
    typeof message === "object" && message !== null && typeof message.role === "string" && isParts(message.parts)
  )

/** Nanoseconds since the epoch as milliseconds, to the microsecond. */
export const ms = (ns: bigint): number => Number(ns / 1000n) / 1000

export const defined = <A extends object>(object: A): A => {
  for (const key of Object.keys(object)) {
    if ((object as Record<string, unknown>)[key] === undefined) delete (object as Record<string, unknown>)[key]
  }
  return object
}

const genaiView = (a: Attributes): GenAIView | undefined => {
  const operation = text(a[N.ATTR_GEN_AI_OPERATION_NAME])
  if (operation === undefined) return undefined
  const finish = a[N.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]
  const finishReasons = Array.isArray(finish)
    ? finish.map(display)
    : finish === undefined || finish === null
    ? []
    : [display(finish)]
  const ttft = number(a[N.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK])
  const params = requestParams.flatMap(([key, label]) =>
    a[key] === undefined ? [] : [[label, display(a[key]!)] as const]
  )
  return defined({
    operation,
    provider: text(a[N.ATTR_GEN_AI_PROVIDER_NAME] ?? a[N.LEGACY_ATTR_GEN_AI_SYSTEM]),
    requestModel: text(a[N.ATTR_GEN_AI_REQUEST_MODEL]),
    responseModel: text(a[N.ATTR_GEN_AI_RESPONSE_MODEL]),
    inputTokens: number(a[N.ATTR_GEN_AI_USAGE_INPUT_TOKENS] ?? a[N.LEGACY_ATTR_GEN_AI_USAGE_PROMPT_TOKENS]),
    outputTokens: number(a[N.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] ?? a[N.LEGACY_ATTR_GEN_AI_USAGE_COMPLETION_TOKENS]),
    cacheReadTokens: number(a[N.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]),
    cacheCreationTokens: number(
      a[N.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] ?? a[N.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]
    ),
    reasoningTokens: number(a[N.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]),
    // The conventions' names first; `gen_ai.usage.cost` from other instrumentations (and older versions of this one).
    cost: number(a[N.ATTR_GEN_AI_USAGE_COST_AMOUNT] ?? a[N.ATTR_GEN_AI_USAGE_COST]),
    currency: text(a[N.ATTR_GEN_AI_USAGE_COST_CURRENCY] ?? a[N.ATTR_BELUGA_COST_CURRENCY]),
    finishReasons,
    responseId: text(a[N.ATTR_GEN_AI_RESPONSE_ID]),
    ttftMs: ttft === undefined ? undefined : ttft * 1000,
    streamed: a[N.ATTR_GEN_AI_REQUEST_STREAM] === true || ttft !== undefined,
    abandoned: a[N.ATTR_BELUGA_STREAM_ABANDONED] === true || finishReasons.includes(N.FINISH_REASON_ABANDONED),
    errorType: text(a[N.ATTR_ERROR_TYPE]),
    conversationId: text(a[N.ATTR_GEN_AI_CONVERSATION_ID]),
    params,
    toolName: text(a[N.ATTR_GEN_AI_TOOL_NAME]),
    toolCallId: text(a[N.ATTR_GEN_AI_TOOL_CALL_ID]),
    toolArguments: text(a[N.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]),
    toolResult: text(a[N.ATTR_GEN_AI_TOOL_CALL_RESULT]),
    system: content(a[N.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS], isParts),
    input: content(a[N.ATTR_GEN_AI_INPUT_MESSAGES], isMessages),
    output: content(a[N.ATTR_GEN_AI_OUTPUT_MESSAGES], isMessages),
    toolDefinitions: text(a[N.ATTR_GEN_AI_TOOL_DEFINITIONS]),
    inference: inferenceOperations.has(operation)
  }) as GenAIView
}

/** The span as the viewer stores and shows it. */
export const spanView = (span: RawSpan): SpanView => {
  const genai = genaiView(span.attributes)
  const view: SpanView = {
    traceId: span.traceId,
    spanId: span.spanId,
    parentId: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    start: ms(span.startNs),
    end: ms(span.endNs < span.startNs ? span.startNs : span.endNs),
    status: span.statusCode,
    statusMessage: span.statusMessage,
    service: text(span.resource[N.ATTR_SERVICE_NAME]) ?? "",
    scope: span.scope,
    attributes: entries(span.attributes),
    resource: entries(span.resource),
    events: span.events.map((event) => ({
      name: event.name,
      time: ms(event.timeNs),
      attributes: entries(event.attributes)
    })),
    links: span.links.map((link) => ({ traceId: link.traceId, spanId: link.spanId }))
  }
  return genai === undefined ? view : { ...view, genai }
}

/** The conversation, session and user a span belongs to, when it says. */
export const identityOf = (span: RawSpan): Identity =>
  defined({
    conversation: text(span.attributes[N.ATTR_GEN_AI_CONVERSATION_ID]),
    session: text(span.attributes[N.ATTR_SESSION_ID]),
    user: text(span.attributes[N.ATTR_USER_ID])
  }) as Identity

/** Which model a GenAI span used: the response's when the provider said, else the request's. */
export const modelOf = (genai: GenAIView | undefined): string | undefined => genai?.responseModel ?? genai?.requestModel
