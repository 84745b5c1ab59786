/**
 * A streamed reply assembled from its parts; `GenAI` re-exports it.
 */
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
