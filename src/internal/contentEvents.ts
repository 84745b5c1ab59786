/**
 * The GenAI content events: with content capture set to `EVENT_ONLY` or `SPAN_AND_EVENT` and the
 * logs signal on, each model call (`chat`, `text_completion`, `generate_content`) also becomes a
 * `gen_ai.client.inference.operation.details` log record, correlated to its span by trace and span
 * id, carrying the call's attributes with its content structured (`gen_ai.input.messages`,
 * `gen_ai.output.messages`, `gen_ai.system_instructions`, `gen_ai.tool.definitions` as values,
 * not JSON strings), and the span's conversation, session and user. `EVENT_ONLY` keeps the content
 * off the span. With `messagesDelta` a conversation's later calls carry only their new input
 * messages (`messagesDelta.ts`). Evaluations (`Evaluation.evaluate`) go out as
 * `gen_ai.evaluation.result` records then too.
 */
import type * as Tracer from "effect/Tracer"
import { eventsOn, type GenAISettings } from "./config.ts"
import { RecordingSpan } from "./effectTracer.ts"
import { CurrentLogs, type LogSink } from "./logsPipeline.ts"
import { MessageHistories } from "./messagesDelta.ts"
import type { Attributes } from "./operation.ts"
import * as N from "./semconv.ts"

export { CurrentLogs }

const detailed: ReadonlySet<string> = new Set([
  N.Operation.chat,
  N.Operation.textCompletion,
  N.Operation.generateContent
])

/** Whether a call of `operation` under `settings` is one whose details go out as an event. */
export const detailsWanted = (operation: string, settings: GenAISettings): boolean =>
  eventsOn(settings) && detailed.has(operation)

/** Each tracing layer's conversations, for the deltas: one sink per layer. */
const histories = new WeakMap<LogSink, MessageHistories>()

/**
 * Emits one call's details event: `attributes` built with `structuredSettings`, after `request`,
 * the request's attributes built so once for every run of the call (see `sharedAttributes` in
 * `otlpLogs.ts`), when the caller has them apart.
 */
export const emitDetails = (
  logs: LogSink,
  span: Tracer.Span,
  attributes: Attributes,
  settings: GenAISettings,
  request?: Readonly<Attributes>
): void => {
  // The deltas rewrite the request's messages; a result that repeats a request key replaces it.
  if (request !== undefined && (settings.messagesDelta === true || overlaps(attributes, request))) {
    attributes = { ...request, ...attributes }
    request = undefined
  }
  // The identity a span inherits (`Identity.withIdentity`, its parent's) is on the span, not in the call's attributes.
  const recorded = span instanceof RecordingSpan ? span.record?.attributes : undefined
  if (recorded !== undefined) {
    for (const key of N.identityKeys) {
      if (attributes[key] === undefined && request?.[key] === undefined && recorded[key] !== undefined) {
        attributes[key] = recorded[key]
      }
    }
  }
  const conversation = attributes[N.ATTR_GEN_AI_CONVERSATION_ID]
  const input = attributes[N.ATTR_GEN_AI_INPUT_MESSAGES]
  if (settings.messagesDelta === true && typeof conversation === "string" && Array.isArray(input)) {
    let history = histories.get(logs)
    if (history === undefined) histories.set(logs, history = new MessageHistories())
    const delta = history.delta(conversation, input)
    if (delta !== undefined) {
      delete attributes[N.ATTR_GEN_AI_INPUT_MESSAGES]
      attributes[N.ATTR_GEN_AI_INPUT_MESSAGES_DELTA] = delta
    }
  }
  // The event is the call's, as it ends: emitted at the span's end, it takes the span's end time
  // (a span timed with no clock, `withTracerTiming(false)`, ends at 0: the record is stamped now).
  const status = span.status
  const time = status._tag === "Ended" && status.endTime > 0n ? status.endTime : undefined
  logs.emit({
    eventName: N.EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS,
    time,
    observedTime: time,
    severityNumber: 9,
    severityText: "INFO",
    sharedAttributes: request,
    attributes,
    span
  })
}

const overlaps = (attributes: Attributes, request: Readonly<Attributes>): boolean => {
  for (const key in attributes) if (Object.hasOwn(request, key)) return true
  return false
}
