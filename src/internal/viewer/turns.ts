/**
 * A conversation's turn, read from one trace: what the user asked and what came back (when content
 * was captured), with the turn's tokens, cost and latency. The question and answer come from the
 * outermost GenAI span that carries messages — the agent's, when there is one — and otherwise from
 * the first and last model calls. A span whose content went out only as a content event
 * (`EVENT_ONLY` capture) has it from that event's log record.
 */
import type { TraceRow, Turn } from "./api.ts"
import type { LogView } from "./logView.ts"
import type { Message, SpanView } from "./spanView.ts"

const textOf = (message: Message | undefined): string | undefined => {
  if (message === undefined) return undefined
  const texts = message.parts.flatMap((part) =>
    part.type === "text" && typeof part["content"] === "string" ? [part["content"]] : []
  )
  return texts.length === 0 ? undefined : texts.join("\n")
}

const depthOf = (span: SpanView, byId: ReadonlyMap<string, SpanView>): number => {
  let depth = 0
  let at = byId.get(span.parentId)
  while (at !== undefined && depth < 10_000) {
    depth++
    at = byId.get(at.parentId)
  }
  return depth
}

const input = (span: SpanView | undefined) => {
  const content = span?.genai?.input
  return content !== undefined && "parsed" in content ? content.parsed : undefined
}
const output = (span: SpanView | undefined) => {
  const content = span?.genai?.output
  return content !== undefined && "parsed" in content ? content.parsed : undefined
}

/** The spans, each GenAI one without content given its content event's messages. */
const withEventContent = (spans: ReadonlyArray<SpanView>, logs: ReadonlyArray<LogView>): ReadonlyArray<SpanView> => {
  const events = new Map<string, LogView>()
  for (const log of logs) if (log.messages !== undefined && !events.has(log.spanId)) events.set(log.spanId, log)
  if (events.size === 0) return spans
  return spans.map((span) => {
    const g = span.genai
    const messages = events.get(span.spanId)?.messages
    if (g === undefined || messages === undefined || g.input !== undefined || g.output !== undefined) return span
    return { ...span, genai: { ...g, ...messages } }
  })
}

export const turnOf = (row: TraceRow, traceSpans: ReadonlyArray<SpanView>, logs: ReadonlyArray<LogView> = []): Turn => {
  const spans = withEventContent(traceSpans, logs)
  const byId = new Map(spans.map((span) => [span.spanId, span]))
  const withMessages = spans.filter((span) => span.genai?.input !== undefined || span.genai?.output !== undefined)
    .map((span) => ({ span, depth: depthOf(span, byId) }))
    .toSorted((a, b) => a.depth - b.depth || a.span.start - b.span.start)
  const calls = spans.filter((span) => span.genai?.inference === true).toSorted((a, b) => a.start - b.start)
  const top = withMessages[0]?.span
  const asked = input(top) ?? input(calls[0])
  const answered = output(top) ?? output(calls.at(-1))
  const question = textOf(asked?.findLast((message) => message.role === "user"))
  const answer = answered === undefined ? undefined : answered.map(textOf).filter((t) => t !== undefined).join("\n")
  const tools = spans.flatMap((span) => span.genai?.toolName === undefined ? [] : [span.genai.toolName])
  return {
    traceId: row.traceId,
    name: row.name,
    start: row.start,
    durationMs: row.durationMs,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cost: row.cost,
    currency: row.currency,
    errors: row.errors,
    models: row.models,
    calls: calls.length,
    tools,
    ...(question === undefined ? {} : { question }),
    ...(answer === undefined || answer === "" ? {} : { answer })
  }
}
