/**
 * A streamed reply assembled from its parts; `GenAI` re-exports it.
 */
import type { AttributeValue } from "@opentelemetry/api"
import type { MessagePart, OutputMessage, StreamPart, Usage } from "./model.ts"
import type { FinishReasonName } from "./semconv.ts"

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
    reasoningOutputTokens: next.reasoningOutputTokens ?? current.reasoningOutputTokens,
    cost: next.cost ?? current.cost
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

/** Whole parts kept per choice: a reply with more is cut there (each part is bounded when recorded). */
const maxWholeParts = 256

/** One choice's reply, as it is assembled. */
class Choice {
  text = ""
  reasoning = ""
  finishReason: FinishReasonName | undefined = undefined
  readonly toolCalls = new Map<number, PendingToolCall>()
  /** Parts that arrived whole (server tool calls and their results), in order. */
  readonly parts: Array<MessagePart> = []

  toolCallsInOrder(): Array<{ readonly id: string | undefined; readonly name: string; readonly arguments: unknown }> {
    return [...this.toolCalls.entries()]
      .toSorted(([a], [b]) => a - b)
      .map(([, call]) => ({ id: call.id, name: call.name, arguments: parseToolArguments(call.arguments) }))
  }

  message(fallbackReason: FinishReasonName): OutputMessage {
    const parts: Array<MessagePart> = []
    if (this.reasoning !== "") parts.push({ type: "reasoning", content: this.reasoning })
    parts.push(...this.parts)
    if (this.text !== "") parts.push({ type: "text", content: this.text })
    for (const call of this.toolCallsInOrder()) {
      parts.push({
        type: "tool_call",
        name: call.name,
        ...(call.id !== undefined ? { id: call.id } : {}),
        arguments: call.arguments
      })
    }
    return { role: "assistant", parts, finish_reason: this.finishReason ?? fallbackReason }
  }
}

/**
 * Assembles a streamed reply from its parts: response id and model, finish reasons, usage (later
 * reports win field by field), the provider's own response attributes, and, when `keepContent`,
 * each choice's text, reasoning, tool calls (arguments joined from their deltas) and whole parts,
 * each kept up to `limit` characters. The chat stream span uses one with the content settings;
 * `ChatModel.collect` uses one that keeps everything.
 *
 * @since 0.2.0
 * @category streaming
 */
export class StreamAccumulator {
  id: string | undefined = undefined
  model: string | undefined = undefined
  /** Every finish reason reported, in the order they came (one per choice, as a rule). */
  finishReasons: Array<FinishReasonName> = []
  usage: Usage | undefined = undefined
  /** The provider's own response attributes (`openai.response.service_tier`), merged. */
  attributes: Record<string, AttributeValue> | undefined = undefined
  /** Chunks that carried content: text, reasoning, tool-call deltas or whole parts. */
  contentChunks = 0
  /** The first choice; nearly every reply has no other. */
  private readonly first = new Choice()
  private others: Map<number, Choice> | undefined = undefined

  constructor(private readonly keepContent: boolean, private readonly limit: number) {}

  /** The first choice's text. */
  get text(): string {
    return this.first.text
  }

  /** The first choice's reasoning. */
  get reasoning(): string {
    return this.first.reasoning
  }

  private choice(index: number | undefined): Choice {
    if (index === undefined || index === 0) return this.first
    this.others ??= new Map()
    let choice = this.others.get(index)
    if (choice === undefined) {
      choice = new Choice()
      this.others.set(index, choice)
    }
    return choice
  }

  /** Returns true when `part` carried content (the moment time-to-first-chunk measures). */
  add(part: StreamPart): boolean {
    switch (part.type) {
      case "text-delta":
      case "reasoning-delta":
        if (this.keepContent) {
          const choice = this.choice(part.choice)
          if (part.type === "text-delta") choice.text = append(choice.text, part.delta, this.limit)
          else choice.reasoning = append(choice.reasoning, part.delta, this.limit)
        }
        this.contentChunks++
        return true
      case "tool-call-delta": {
        if (this.keepContent) {
          const calls = this.choice(part.choice).toolCalls
          let call = calls.get(part.index)
          if (call === undefined) {
            call = { id: undefined, name: "", arguments: "" }
            calls.set(part.index, call)
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
      case "message-part": {
        if (this.keepContent) {
          const parts = this.choice(part.choice).parts
          if (parts.length < maxWholeParts) parts.push(part.part)
        }
        this.contentChunks++
        return true
      }
      case "response-metadata":
        if (part.id !== undefined) this.id = part.id
        if (part.model !== undefined) this.model = part.model
        if (part.attributes !== undefined) this.attributes = { ...this.attributes, ...part.attributes }
        return false
      case "finish":
        this.finishReasons.push(part.reason)
        this.choice(part.choice).finishReason = part.reason
        return false
      case "usage":
        this.usage = mergeUsage(this.usage, part.usage)
        return false
    }
  }

  /** The first choice's assembled tool calls, in the order of their indexes. */
  assembledToolCalls(): Array<{ readonly id: string | undefined; readonly name: string; readonly arguments: unknown }> {
    return this.first.toolCallsInOrder()
  }

  /** The first choice's whole parts (server tool calls and their results). */
  wholeParts(): ReadonlyArray<MessagePart> {
    return this.first.parts
  }

  /** The first choice as the conventions' output message; `fallbackReason` when the stream gave none. */
  outputMessage(fallbackReason: FinishReasonName): OutputMessage {
    return this.first.message(fallbackReason)
  }

  /** One output message per choice, in the order of their indexes (the conventions map them 1:1). */
  outputMessages(fallbackReason: FinishReasonName): Array<OutputMessage> {
    const messages = [this.first.message(fallbackReason)]
    if (this.others !== undefined) {
      for (const [, choice] of [...this.others].toSorted(([a], [b]) => a - b)) {
        messages.push(choice.message(fallbackReason))
      }
    }
    return messages
  }
}
