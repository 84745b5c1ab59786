/**
 * What the viewer keeps of a log record and shows: the decoded record reduced to what the store
 * writes (body and attributes as JSON text, the service from the resource), and the display form
 * the UI reads, with the GenAI content events read here, once, so the browser code knows no
 * attribute names: a record carrying `gen_ai.input.messages`, `gen_ai.output.messages` or
 * `gen_ai.system_instructions` (the `gen_ai.client.inference.operation.details` event) has them
 * parsed into the messages the span pane renders as a chat.
 */
import * as N from "../semconv.ts"
import type { Attributes, Value } from "./otlpDecode.ts"
import type { RawLog } from "./otlpDecodeLogs.ts"
import {
  type Content,
  content,
  defined,
  entries,
  isMessages,
  isParts,
  type Message,
  ms,
  type Part,
  text
} from "./spanView.ts"

/** A record as a row of the store holds it. */
export interface StoredLog {
  readonly traceId: string
  readonly spanId: string
  /** Milliseconds since the epoch, to the microsecond. */
  readonly time: number
  readonly severityNumber: number
  readonly severityText: string
  readonly eventName: string
  readonly service: string
  /** The body as JSON text (`null` for none). */
  readonly body: string
  /** The attributes as a JSON object's text. */
  readonly attributes: string
}

/** The messages of a GenAI content event, in the span's shapes. */
export interface MessagesView {
  readonly system?: Content<ReadonlyArray<Part>>
  readonly input?: Content<ReadonlyArray<Message>>
  readonly output?: Content<ReadonlyArray<Message>>
}

export interface LogView {
  readonly traceId: string
  readonly spanId: string
  /** Milliseconds since the epoch. */
  readonly time: number
  /** The log data model's 1–24; 0 unspecified. */
  readonly severityNumber: number
  /** The sender's severity text, or the data model's name for the number. */
  readonly severity: string
  readonly eventName: string
  readonly service: string
  /** The body as it came: text, or a structured value; `null` for none. */
  readonly body: Value
  /** The attributes, less the content shown as {@link messages}. */
  readonly attributes: ReadonlyArray<readonly [string, string]>
  readonly messages?: MessagesView
  /** Whether the record's trace is stored (its spans arrived), so a link to it leads somewhere. */
  readonly inTrace: boolean
}

export const toStored = (log: RawLog): StoredLog => ({
  traceId: log.traceId,
  spanId: log.spanId,
  time: ms(log.timeNs),
  severityNumber: log.severityNumber,
  severityText: log.severityText,
  eventName: log.eventName,
  service: text(log.resource[N.ATTR_SERVICE_NAME]) ?? "",
  body: JSON.stringify(log.body),
  attributes: JSON.stringify(log.attributes)
})

/** The log data model's short names, one per range of four numbers (TRACE is 1–4, …, FATAL 21–24). */
const severityNames = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const

const severityName = (n: number): string => (n < 1 ? "" : severityNames[Math.min(5, Math.floor((n - 1) / 4))]!)

const contentKeys = [
  [N.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, "system", isParts],
  [N.ATTR_GEN_AI_INPUT_MESSAGES, "input", isMessages],
  [N.ATTR_GEN_AI_OUTPUT_MESSAGES, "output", isMessages]
] as const

export const logView = (log: StoredLog, inTrace: boolean): LogView => {
  const attributes = JSON.parse(log.attributes) as Attributes
  const messages: Record<string, Content<unknown>> = {}
  for (const [key, field, valid] of contentKeys) {
    const found = content(attributes[key], valid as (value: unknown) => value is unknown)
    if (found === undefined) continue
    messages[field] = found
    delete attributes[key]
  }
  return defined({
    traceId: log.traceId,
    spanId: log.spanId,
    time: log.time,
    severityNumber: log.severityNumber,
    severity: log.severityText === "" ? severityName(log.severityNumber) : log.severityText,
    eventName: log.eventName,
    service: log.service,
    body: JSON.parse(log.body) as Value,
    attributes: entries(attributes),
    messages: Object.keys(messages).length === 0 ? undefined : messages as MessagesView,
    inTrace
  }) as LogView
}
