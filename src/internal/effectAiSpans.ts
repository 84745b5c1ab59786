/**
 * How the tracer writes the spans `effect/ai` makes, so that an `effect/ai` program reads like the
 * same agent written with this library's `ChatModel` and `Tool`:
 *
 * - `LanguageModel.generateText` / `generateObject` / `streamText` become `chat {model}` CLIENT
 *   spans, and `EmbeddingModel.embedMany` and the embedding resolver `embeddings {model}` CLIENT
 *   spans. The model is known only once the provider has annotated the span, so the name is set
 *   when the span ends; `gen_ai.operation.name` is added when the provider did not set it.
 * - `Chat.*` and `EmbeddingModel.embed` only wrap one of those calls: they are transparent (no span
 *   of their own; what runs inside them is parented by their parent), so one call is one span.
 * - The annotations effect/ai writes outside the conventions are dropped: `Toolkit` puts every tool
 *   call's name and arguments (`tool`, `parameters`) on the model span whatever the content
 *   settings, `effect.ai.*` repeats the request options, `batchSize` counts a resolver's batch. Tool calls become `execute_tool`
 *   spans of their own instead (see `EffectAi.toolkitLayer`), where arguments follow the content
 *   settings.
 *
 * The span names are effect 4.1's (`effect/ai/LanguageModel.ts`, `EmbeddingModel.ts`, `Chat.ts`);
 * the tests pin them.
 */
import type * as Tracer from "effect/Tracer"
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  EFFECT_AI_CONCURRENCY,
  EFFECT_AI_OBJECT_NAME,
  EFFECT_AI_TOOL_CHOICE,
  Operation,
  OutputType
} from "./semconv.ts"

/** A span effect/ai makes for a model call: its GenAI operation and kind. */
export interface InferenceRule {
  readonly _tag: "Inference"
  readonly operation: typeof Operation.chat | typeof Operation.embeddings
  readonly kind: Tracer.SpanKind
}

/** A span effect/ai makes around another one: it makes no span of its own. */
export interface TransparentRule {
  readonly _tag: "Transparent"
}

const chat: InferenceRule = { _tag: "Inference", operation: Operation.chat, kind: "client" }
const embeddings: InferenceRule = { _tag: "Inference", operation: Operation.embeddings, kind: "client" }
const transparent: TransparentRule = { _tag: "Transparent" }

export const rules: ReadonlyMap<string, InferenceRule | TransparentRule> = new Map<
  string,
  InferenceRule | TransparentRule
>([
  ["LanguageModel.generateText", chat],
  ["LanguageModel.generateObject", chat],
  ["LanguageModel.streamText", chat],
  ["EmbeddingModel.embedMany", embeddings],
  ["EmbeddingModel.resolver", embeddings],
  ["EmbeddingModel.embed", transparent],
  ["Chat.generateText", transparent],
  ["Chat.generateObject", transparent],
  ["Chat.streamText", transparent]
])

/** Annotations effect/ai writes on its model spans that are not GenAI conventions (see above). */
const droppedAttributes: ReadonlySet<string> = new Set([
  "tool",
  "parameters",
  EFFECT_AI_TOOL_CHOICE,
  EFFECT_AI_CONCURRENCY,
  EFFECT_AI_OBJECT_NAME,
  // The embedding resolver's batch size.
  "batchSize"
])

/**
 * Whether an annotation effect/ai writes on a model span is left out: the ones above, and
 * `gen_ai.output.type=text`, which effect/ai writes on every call while the conventions make the
 * attribute conditional on the request naming an output format (a plain text call names none).
 */
export const isDropped = (key: string, value: unknown): boolean =>
  droppedAttributes.has(key) || (key === ATTR_GEN_AI_OUTPUT_TYPE && value === OutputType.text)

/** The conventions' name for an effect/ai model span, from what its provider annotated. */
export const spanName = (rule: InferenceRule, attributes: Readonly<Record<string, unknown>>): string => {
  const model = attributes[ATTR_GEN_AI_REQUEST_MODEL] ?? attributes[ATTR_GEN_AI_RESPONSE_MODEL]
  // The provider's own operation when it annotated one (`generate_content` for Gemini).
  const recorded = attributes[ATTR_GEN_AI_OPERATION_NAME]
  const operation = typeof recorded === "string" && recorded !== "" ? recorded : rule.operation
  return typeof model === "string" && model !== "" ? `${operation} ${model}` : operation
}

/** Whether `name` is one of effect/ai's model-call spans, within which `Toolkit` runs the tools. */
export const isChatSpan = (name: string): boolean => {
  const rule = rules.get(name)
  return rule?._tag === "Inference" && rule.operation === Operation.chat
}
