/**
 * The GenAI content events: with content capture set to `EVENT_ONLY` or `SPAN_AND_EVENT` and the
 * logs signal on, each model call (`chat`, `text_completion`, `generate_content`) also becomes a
 * `gen_ai.client.inference.operation.details` log record, correlated to its span by trace and span
 * id, carrying the call's attributes with its content structured (`gen_ai.input.messages`,
 * `gen_ai.output.messages`, `gen_ai.system_instructions`, `gen_ai.tool.definitions` as values,
 * not JSON strings). `EVENT_ONLY` keeps the content off the span. Evaluations
 * (`Evaluation.evaluate`) go out as `gen_ai.evaluation.result` records then too.
 */
import type { GenAISettings } from "./config.ts"
import { CurrentLogs, type LogSink } from "./logsPipeline.ts"
import type { Attributes } from "./operation.ts"
import * as N from "./semconv.ts"

export { CurrentLogs }

const detailed: ReadonlySet<string> = new Set([
  N.Operation.chat,
  N.Operation.textCompletion,
  N.Operation.generateContent
])

/** Whether content capture sends events: `EVENT_ONLY` or `SPAN_AND_EVENT`. */
export const eventsOn = (settings: GenAISettings): boolean =>
  settings.contentMode === "EVENT_ONLY" || settings.contentMode === "SPAN_AND_EVENT"

/** Whether a call of `operation` under `settings` is one whose details go out as an event. */
export const detailsWanted = (operation: string, settings: GenAISettings): boolean =>
  eventsOn(settings) && detailed.has(operation)

/** Emits one call's details event: `attributes` built with `structuredSettings`. */
export const emitDetails = (
  logs: LogSink,
  span: { readonly traceId: string; readonly spanId: string; readonly sampled: boolean },
  attributes: Attributes
): void =>
  logs.emit({
    eventName: N.EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS,
    severityNumber: 9,
    severityText: "INFO",
    attributes,
    span
  })
