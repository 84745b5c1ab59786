/**
 * The OpenAI Responses API (`POST /responses`) in the conventions' terms: the request body built
 * from a chat request, the reply read from a response object, and the stream of semantic events
 * (`response.created` … `response.completed`) read into reply parts. `OpenAIResponses` is its
 * public face; this module knows only the wire format and the shapes of `model.ts`.
 *
 * One reading of output items serves both paths: the stream turns each finished item
 * (`response.output_item.done`) into the parts its deltas did not already carry, and a plain
 * response is read as if every item of its `output` had just finished, so a reply reads the same
 * streamed or not. The stream is untrusted input: it ends at `response.completed`,
 * `response.incomplete`, `response.failed` or `error`, anything after that is ignored, a stream
 * without one is truncated, and the state kept per output item is bounded.
 */
import type { AttributeValue } from "@opentelemetry/api"
import { StreamAccumulator } from "./accumulator.ts"
import type { InputMessage, MessagePart, StreamPart, ToolDefinition, Usage } from "./model.ts"
import { chatError, type Dialect, type Endpoint, endpointOf, type EndpointOptions } from "./providerHttp.ts"
import {
  accumulatedReply,
  array,
  type ChatReply,
  count,
  eventJson,
  jsonText,
  mapped,
  nonEmpty,
  record,
  type StreamDecoder,
  string,
  textOf,
  toolParameters
} from "./providerKit.ts"
import { ChatError } from "./providerModel.ts"
import { ATTR_OPENAI_RESPONSE_SERVICE_TIER, FinishReason, type FinishReasonName } from "./semconv.ts"

// -----------------------------------------------------------------------------
// Requests
// -----------------------------------------------------------------------------

/** The fields of a chat request the Responses API carries (`ChatModel.ChatRequest` has them all). */
export interface ResponsesRequest {
  readonly messages: ReadonlyArray<InputMessage>
  readonly systemInstructions?: ReadonlyArray<MessagePart> | undefined
  readonly tools?: ReadonlyArray<ToolDefinition> | undefined
  readonly temperature?: number | undefined
  readonly topP?: number | undefined
  readonly maxTokens?: number | undefined
  readonly conversationId?: string | undefined
  readonly previousResponseId?: string | undefined
  readonly responseFormat?: { readonly type: "json"; readonly name: string; readonly schema: unknown } | undefined
}

/** What the provider's options add to every request body. */
export interface BodySettings {
  readonly model: string
  readonly serviceTier?: string | undefined
  readonly store?: boolean | undefined
  readonly reasoning?: { readonly effort?: string | undefined; readonly summary?: string | undefined } | undefined
  /** False: the request's `conversationId` is recorded but not sent as `conversation`. */
  readonly sendConversationId?: boolean | undefined
}

type Fields = Readonly<Record<string, unknown>>

const mimeOf = (part: Fields): string | undefined => string(part["mime_type"])
const modalityOf = (part: Fields): string | undefined => {
  const modality = string(part["modality"])
  if (modality !== undefined) return modality
  const mime = mimeOf(part)
  return mime?.startsWith("image/") === true ? "image" : mime?.startsWith("audio/") === true ? "audio" : undefined
}
const filenameOf = (part: Fields): string => string(part["filename"]) ?? string(part["name"]) ?? "file"

/** A user-side content part as Responses input content; parts it cannot carry are left out. */
const inputContent = (part: MessagePart): Record<string, unknown> | undefined => {
  const p = part as Fields
  const modality = modalityOf(p)
  switch (part.type) {
    case "text":
      return { type: "input_text", text: string(p["content"]) ?? "" }
    case "blob": {
      const content = string(p["content"]) ?? ""
      if (modality === "audio") {
        return {
          type: "input_audio",
          input_audio: { data: content, format: /mpeg|mp3/.test(mimeOf(p) ?? "") ? "mp3" : "wav" }
        }
      }
      const mime = mimeOf(p) ?? (modality === "image" ? "image/png" : "application/octet-stream")
      const url = `data:${mime};base64,${content}`
      return modality === "image"
        ? { type: "input_image", image_url: url, detail: "auto" }
        : { type: "input_file", file_data: url, filename: filenameOf(p) }
    }
    case "uri": {
      const uri = string(p["uri"]) ?? ""
      return modality === "image"
        ? { type: "input_image", image_url: uri, detail: "auto" }
        : { type: "input_file", file_url: uri }
    }
    case "file": {
      const id = string(p["file_id"]) ?? ""
      return modality === "image"
        ? { type: "input_image", file_id: id, detail: "auto" }
        : { type: "input_file", file_id: id }
    }
    default:
      return undefined
  }
}

/** The roles the Responses API takes; a tool's or an unknown role's remaining text goes as the user's. */
const roleOf = (role: string): string =>
  role === "assistant" || role === "system" || role === "developer" ? role : "user"

/**
 * The conversations' messages as input items, in order: message items for content, and a
 * `function_call` or `function_call_output` item for each tool call and result. The assistant's
 * earlier text goes as a plain string (the API takes no `input_text` from the assistant), and its
 * reasoning and server tool calls are left out: only a stored response can replay them.
 */
const toInput = (messages: ReadonlyArray<InputMessage>): Array<Record<string, unknown>> => {
  const items: Array<Record<string, unknown>> = []
  for (const message of messages) {
    const role = roleOf(message.role)
    let content: Array<Record<string, unknown>> = []
    const flush = () => {
      if (content.length === 0) return
      items.push(
        role === "assistant"
          ? { role, content: content.map((c) => string(c["text"]) ?? "").join("\n") }
          : { role, content }
      )
      content = []
    }
    for (const part of message.parts) {
      const p = part as Fields
      if (part.type === "tool_call") {
        flush()
        items.push({
          type: "function_call",
          call_id: string(p["id"]) ?? "",
          name: string(p["name"]) ?? "",
          arguments: jsonText(p["arguments"] ?? {})
        })
      } else if (part.type === "tool_call_response") {
        flush()
        items.push({ type: "function_call_output", call_id: string(p["id"]) ?? "", output: jsonText(p["response"]) })
      } else {
        const c = role === "assistant" ? (part.type === "text" ? inputContent(part) : undefined) : inputContent(part)
        if (c !== undefined) content.push(c)
      }
    }
    flush()
  }
  return items
}

/**
 * A tool definition as a Responses tool: `function` tools with their JSON Schema (not `strict`,
 * which would reject schemas that do not list every property as required), and any other type as
 * a built-in tool (`web_search`, `file_search`, `mcp`, …) configured by its `parameters`.
 */
const toTool = (tool: ToolDefinition): Record<string, unknown> =>
  tool.type === "function"
    ? {
      type: "function",
      name: tool.name,
      description: tool.description,
      parameters: toolParameters(tool),
      strict: false
    }
    : { ...record(tool.parameters), type: tool.type }

/** The request body; fields left `undefined` are not sent. */
export const toBody = (settings: BodySettings, request: ResponsesRequest, stream: boolean): Record<string, unknown> => {
  const instructions = textOf(request.systemInstructions ?? [])
  return {
    model: settings.model,
    instructions: instructions !== "" ? instructions : undefined,
    input: toInput(request.messages),
    tools: nonEmpty(request.tools)?.map(toTool),
    temperature: request.temperature,
    top_p: request.topP,
    max_output_tokens: request.maxTokens,
    text: request.responseFormat !== undefined
      ? { format: { type: "json_schema", name: request.responseFormat.name, schema: request.responseFormat.schema } }
      : undefined,
    conversation: settings.sendConversationId !== false ? request.conversationId : undefined,
    previous_response_id: request.previousResponseId,
    service_tier: settings.serviceTier,
    store: settings.store,
    reasoning: settings.reasoning,
    ...(stream ? { stream: true } : {})
  }
}

// -----------------------------------------------------------------------------
// Replies
// -----------------------------------------------------------------------------

/** A response body read: a reply, or the failure it reports (`status: "failed"`, or no final status). */
export type Reading =
  | { readonly _tag: "Reply"; readonly reply: ChatReply }
  | { readonly _tag: "Failure"; readonly errorType: string | undefined; readonly message: string }

/** `incomplete_details.reason` in the conventions' words. */
const incompleteReasons: Readonly<Record<string, FinishReasonName>> = {
  max_output_tokens: FinishReason.length,
  content_filter: FinishReason.contentFilter
}

/**
 * Usage in the conventions' terms: `input_tokens` already includes the cached ones, and
 * `output_tokens` the reasoning ones. A field the response leaves out stays absent.
 */
export const toUsage = (usage: unknown): Usage | undefined => {
  const u = record(usage)
  if (u === undefined) return undefined
  return {
    inputTokens: count(u["input_tokens"]),
    outputTokens: count(u["output_tokens"]),
    cacheReadInputTokens: count(record(u["input_tokens_details"])?.["cached_tokens"]),
    reasoningOutputTokens: count(record(u["output_tokens_details"])?.["reasoning_tokens"])
  }
}

/**
 * The service tier that served a response, as a response attribute: OpenAI's own, so only for
 * OpenAI's endpoint (`vendor`), as the Chat Completions provider does.
 */
const attributesOf = (response: Fields | undefined, vendor: boolean): Record<string, AttributeValue> | undefined => {
  const tier = vendor ? string(response?.["service_tier"]) : undefined
  return tier !== undefined ? { [ATTR_OPENAI_RESPONSE_SERVICE_TIER]: tier } : undefined
}

/** What the items read so far decide about the finish reason. */
interface Seen {
  toolCall: boolean
  refusal: boolean
}

/**
 * The finish reason of a response: `incomplete_details.reason` for an incomplete one
 * (`max_output_tokens` → `length`), else `tool_call` when it asks for a function call,
 * `content_filter` when the model refused, `stop` otherwise.
 */
export const finishReasonOf = (response: Fields | undefined, seen: Seen): FinishReasonName => {
  if (response?.["status"] === "incomplete") {
    const reason = string(record(response["incomplete_details"])?.["reason"])
    if (reason === undefined) return FinishReason.length
    return mapped(incompleteReasons, reason) ?? reason
  }
  return seen.toolCall ? FinishReason.toolCall : seen.refusal ? FinishReason.contentFilter : FinishReason.stop
}

/**
 * The built-in tools the provider runs itself: each item becomes a `server_tool_call` part (its
 * inputs) and, once it holds one, a `server_tool_call_response` part (the fields listed here).
 * Any other `*_call` item is read the same way, with no result fields.
 */
const serverTools: Readonly<Record<string, { readonly type: string; readonly result: ReadonlyArray<string> }>> = {
  web_search_call: { type: "web_search", result: [] },
  file_search_call: { type: "file_search", result: ["results"] },
  code_interpreter_call: { type: "code_interpreter", result: ["outputs"] },
  image_generation_call: { type: "image_generation", result: ["result"] },
  mcp_call: { type: "mcp", result: ["output", "error"] },
  mcp_list_tools: { type: "mcp_list_tools", result: ["tools", "error"] }
}

/** A built-in tool's item as whole parts: its call and, when the item holds one, its result. */
const serverToolParts = (item: Fields, itemType: string): Array<MessagePart> => {
  const tool = mapped(serverTools, itemType) ?? { type: itemType.replace(/_call$/, ""), result: [] }
  const id = string(item["id"])
  const call: Record<string, unknown> = { type: tool.type }
  const result: Record<string, unknown> = { type: tool.type }
  let hasResult = false
  for (const key in item) {
    if (key === "id" || key === "type" || key === "status") continue
    const value = item[key]
    if (tool.result.includes(key)) {
      if (value !== null && value !== undefined) {
        result[key] = value
        hasResult = true
      }
    } else call[key] = value
  }
  const name = (itemType === "mcp_call" ? string(item["name"]) : undefined) ?? tool.type
  const callPart: MessagePart = {
    type: "server_tool_call",
    name,
    ...(id !== undefined ? { id } : {}),
    server_tool_call: call as { readonly type: string }
  }
  if (!hasResult) return [callPart]
  return [callPart, {
    type: "server_tool_call_response",
    ...(id !== undefined ? { id } : {}),
    server_tool_call_response: result as { readonly type: string }
  }]
}

/** A message item's text: its `output_text` parts, and its `refusal` parts (the model's words too). */
const messageText = (item: Fields, seen: Seen): string =>
  array(item["content"]).map((raw) => {
    const part = record(raw)
    if (part?.["type"] === "refusal") {
      seen.refusal = true
      return string(part["refusal"]) ?? ""
    }
    return part?.["type"] === "output_text" ? string(part["text"]) ?? "" : ""
  }).join("")

/** Separates the summaries of a reasoning stream as a plain response's reading joins them. */
const reasoningSeparator = "\n\n"

/** A reasoning item's text: its summaries, else its raw reasoning (open-weight models send that). */
const reasoningText = (item: Fields): string => {
  const texts = (key: string) =>
    array(item[key]).flatMap((raw) => {
      const text = string(record(raw)?.["text"])
      return text !== undefined && text !== "" ? [text] : []
    })
  const summary = texts("summary")
  return (summary.length > 0 ? summary : texts("content")).join(reasoningSeparator)
}

/** How far the stream has told one output item. */
interface ItemState {
  /** A function call's id and name were sent. */
  announced: boolean
  /** Deltas of its content arrived (text, reasoning, arguments); the finished item adds none. */
  streamed: boolean
  /** Its `response.output_item.done` was read. */
  closed: boolean
}

const freshState = (): ItemState => ({ announced: false, streamed: false, closed: false })

/** Reads output items into parts, remembering what each has already sent. */
class ItemReader {
  readonly seen: Seen = { toolCall: false, refusal: false }
  private readonly items = new Map<number, ItemState>()
  private reasoningKey: string | undefined = undefined

  constructor(private readonly maxItems: number, private readonly vendor: boolean) {}

  /** The state of output item `index`; undefined once more items than the limit were seen. */
  state(index: number): ItemState | undefined {
    let state = this.items.get(index)
    if (state === undefined) {
      if (this.items.size >= this.maxItems) return undefined
      state = freshState()
      this.items.set(index, state)
    }
    return state
  }

  /** A reasoning delta, after a separator when it starts another summary than the last one did. */
  reasoning(key: string, delta: string): StreamPart {
    const separate = this.reasoningKey !== undefined && this.reasoningKey !== key
    this.reasoningKey = key
    return { type: "reasoning-delta", delta: separate ? reasoningSeparator + delta : delta }
  }

  /** The parts a finished item adds to what its deltas sent. */
  done(raw: unknown, index: number, state: ItemState): Array<StreamPart> {
    if (state.closed) return []
    state.closed = true
    const item = record(raw)
    const type = string(item?.["type"])
    if (item === undefined || type === undefined) return []
    switch (type) {
      case "message": {
        const text = messageText(item, this.seen)
        return !state.streamed && text !== "" ? [{ type: "text-delta", delta: text }] : []
      }
      case "reasoning": {
        const text = reasoningText(item)
        return !state.streamed && text !== "" ? [this.reasoning(`${index}`, text)] : []
      }
      case "function_call":
      case "custom_tool_call": {
        this.seen.toolCall = true
        const args = string(item[type === "function_call" ? "arguments" : "input"]) ?? ""
        const argumentsDelta = !state.streamed && args !== "" ? args : undefined
        state.streamed = true
        if (state.announced) {
          return argumentsDelta !== undefined
            ? [{ type: "tool-call-delta", index, argumentsDelta }]
            : []
        }
        state.announced = true
        return [{
          type: "tool-call-delta",
          index,
          id: string(item["call_id"]) ?? string(item["id"]),
          name: string(item["name"]) ?? "",
          argumentsDelta
        }]
      }
      default:
        return Object.hasOwn(serverTools, type) || type.endsWith("_call")
          ? serverToolParts(item, type).map((part) => ({ type: "message-part", part }))
          : []
    }
  }

  /**
   * An item announced before it finishes: a function call's id and name. Arguments it may already
   * hold are left to the deltas that follow, or to the finished item when none do, so that they
   * are never sent twice.
   */
  added(raw: unknown, index: number, state: ItemState): Array<StreamPart> {
    const item = record(raw)
    const type = string(item?.["type"])
    if (item === undefined || (type !== "function_call" && type !== "custom_tool_call") || state.announced) return []
    this.seen.toolCall = true
    state.announced = true
    return [{
      type: "tool-call-delta",
      index,
      id: string(item["call_id"]) ?? string(item["id"]),
      name: string(item["name"]) ?? ""
    }]
  }

  /** The parts that close a response: items it holds that were not finished yet, the finish and the usage. */
  finish(response: Fields | undefined): Array<StreamPart> {
    const parts: Array<StreamPart> = []
    const output = array(response?.["output"])
    for (let index = 0; index < output.length; index++) {
      const state = this.state(index)
      if (state === undefined) break
      parts.push(...this.done(output[index], index, state))
    }
    parts.push({
      type: "response-metadata",
      id: string(response?.["id"]),
      model: string(response?.["model"]),
      attributes: attributesOf(response, this.vendor)
    })
    parts.push({ type: "finish", reason: finishReasonOf(response, this.seen) })
    const usage = toUsage(response?.["usage"])
    if (usage !== undefined) parts.push({ type: "usage", usage })
    return parts
  }
}

/** More output items than any real response holds: a stream past this is refused, so its state stays bounded. */
const maxOutputItems = 4096

/**
 * A response object as a {@link Reading}: `completed` and `incomplete` responses are replies,
 * read as the stream would read them; `failed` ones report their `error`; one still `queued` or
 * `in_progress` (a background response) is a failure too. Undefined when the body is no response.
 */
export const readResponse = (body: unknown, vendor: boolean): Reading | undefined => {
  const root = record(body)
  if (root === undefined) return undefined
  const status = string(root["status"])
  if (status === "failed" || status === "cancelled") {
    const error = record(root["error"])
    return {
      _tag: "Failure",
      errorType: string(error?.["code"]) ?? (status === "cancelled" ? status : undefined),
      message: `the response ${status}: ${string(error?.["message"]) ?? "no reason given"}`
    }
  }
  if (status === "queued" || status === "in_progress") {
    return { _tag: "Failure", errorType: "invalid_response", message: `the response is still ${status}` }
  }
  if (!Array.isArray(root["output"])) return undefined
  const reader = new ItemReader(maxOutputItems, vendor)
  const reply = new StreamAccumulator(true, Number.POSITIVE_INFINITY)
  for (const part of reader.finish(root)) reply.add(part)
  return { _tag: "Reply", reply: accumulatedReply(reply) }
}

/** A failure a response body reports, as a `ChatError` whose message is safe to record. */
export const failureError = (
  options: EndpointOptions,
  defaultBaseUrl: string,
  failure: Extract<Reading, { _tag: "Failure" }>
): ChatError => chatError(endpointOf(options, defaultBaseUrl), failure.errorType ?? "_OTHER", failure.message)

// -----------------------------------------------------------------------------
// Streams
// -----------------------------------------------------------------------------

/** The error an `error` event or a failed response carries: nested under `error`, or at the top. */
const errorFields = (root: Fields): Fields => record(root["error"]) ?? { code: root["code"], message: root["message"] }

const streamFailure = (endpoint: Endpoint, dialect: Dialect, error: Fields, what: string): ChatError => {
  const info = dialect.errorOf({ error })
  return chatError(endpoint, info.errorType ?? "_OTHER", `${what}: ${info.message ?? "unknown"}`)
}

/** The output item an event is about: its `output_index`. */
const indexOf = (root: Fields): number => count(root["output_index"]) ?? 0

/**
 * Reads a Responses stream of semantic events. The event's type is read from its data (`type`),
 * else from the SSE event name. Text, refusal, reasoning and function-argument deltas become
 * parts as they come; a finished item adds what its deltas did not carry (all of it, from a
 * server that sends no deltas), and a built-in tool's item becomes whole `server_tool_call` parts;
 * `response.completed` and `response.incomplete` end the stream with the finish reason and the
 * usage; `response.failed` and `error` fail it with their code. `sequence_number` is not relied
 * on: events are read in the order they arrive. Unknown events are skipped.
 */
export const streamDecoder = (endpoint: Endpoint, dialect: Dialect, vendor: boolean) => (): StreamDecoder => {
  let done = false
  let metadataSent = false
  const reader = new ItemReader(maxOutputItems, vendor)
  const tooMany = () =>
    chatError(endpoint, "invalid_response", `the stream describes more than ${maxOutputItems} output items`)
  return {
    finished: () => done,
    onEvent: (event) => {
      if (done) return []
      const data = eventJson(event, endpoint)
      if (data instanceof ChatError) return data
      const root = record(data)
      const type = string(root?.["type"]) ?? (event.event !== "message" ? event.event : undefined)
      if (type === "error") return streamFailure(endpoint, dialect, errorFields(root ?? {}), "stream error")
      if (root === undefined) return []
      switch (type) {
        case "response.created":
        case "response.in_progress":
        case "response.queued": {
          if (metadataSent) return []
          const response = record(root["response"])
          metadataSent = true
          // Its `service_tier` is still the one asked for (`auto`): the finished response names the one used.
          return [{ type: "response-metadata", id: string(response?.["id"]), model: string(response?.["model"]) }]
        }
        case "response.output_text.delta":
        case "response.refusal.delta": {
          const delta = string(root["delta"])
          const state = reader.state(indexOf(root))
          if (state === undefined) return tooMany()
          if (delta === undefined || delta === "") return []
          state.streamed = true
          if (type === "response.refusal.delta") reader.seen.refusal = true
          return [{ type: "text-delta", delta }]
        }
        case "response.reasoning_summary_text.delta":
        case "response.reasoning_text.delta": {
          const delta = string(root["delta"])
          const index = indexOf(root)
          const state = reader.state(index)
          if (state === undefined) return tooMany()
          if (delta === undefined || delta === "") return []
          state.streamed = true
          const part = count(root["summary_index"]) ?? count(root["content_index"]) ?? 0
          return [reader.reasoning(`${index}:${part}`, delta)]
        }
        case "response.function_call_arguments.delta":
        case "response.custom_tool_call_input.delta":
        case "response.function_call_arguments.done": {
          const index = indexOf(root)
          const state = reader.state(index)
          if (state === undefined) return tooMany()
          reader.seen.toolCall = true
          const isDone = type === "response.function_call_arguments.done"
          // The finished arguments count only when no delta carried them.
          if (isDone && state.streamed) return []
          const argumentsDelta = string(root[isDone ? "arguments" : "delta"])
          if (argumentsDelta === undefined || argumentsDelta === "") return []
          state.streamed = true
          return [{ type: "tool-call-delta", index, argumentsDelta }]
        }
        case "response.output_item.added":
        case "response.output_item.done": {
          const index = indexOf(root)
          const state = reader.state(index)
          if (state === undefined) return tooMany()
          return type === "response.output_item.added"
            ? reader.added(root["item"], index, state)
            : reader.done(root["item"], index, state)
        }
        case "response.completed":
        case "response.incomplete": {
          done = true
          const response = record(root["response"])
          // The event names the status when the response object does not.
          const status = type === "response.incomplete" ? "incomplete" : "completed"
          return reader.finish(response !== undefined ? { status, ...response } : { status })
        }
        case "response.failed": {
          done = true
          return streamFailure(endpoint, dialect, record(record(root["response"])?.["error"]) ?? {}, "response failed")
        }
        default:
          return []
      }
    }
  }
}
