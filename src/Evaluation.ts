/**
 * Evaluations of a GenAI operation's result (a judge's score, a human's label), recorded where
 * trace UIs look for them: a `gen_ai.evaluation.result` event on the evaluated span.
 *
 * @since 0.4.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"
import { eventsOn } from "./internal/config.ts"
import { CurrentLogs } from "./internal/contentEvents.ts"
import { Settings } from "./internal/operation.ts"
import {
  ATTR_GEN_AI_EVALUATION_EXPLANATION,
  ATTR_GEN_AI_EVALUATION_NAME,
  ATTR_GEN_AI_EVALUATION_SCORE_LABEL,
  ATTR_GEN_AI_EVALUATION_SCORE_VALUE,
  ATTR_GEN_AI_RESPONSE_ID,
  EVENT_GEN_AI_EVALUATION_RESULT
} from "./internal/semconv.ts"

export { EVENT_GEN_AI_EVALUATION_RESULT } from "./internal/semconv.ts"

/**
 * An evaluation of a GenAI operation's result (a judge's score, a human's label).
 *
 * @example
 * ```ts
 * const verdict: Evaluation.Evaluation = { name: "relevance", score: 0.9, label: "relevant" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Evaluation {
  /** `gen_ai.evaluation.name`, e.g. `relevance`. */
  readonly name: string
  readonly score?: number | undefined
  readonly label?: string | undefined
  readonly explanation?: string | undefined
  /** `gen_ai.response.id` of the evaluated response, when known. */
  readonly responseId?: string | undefined
}

/**
 * Records an evaluation as a `gen_ai.evaluation.result` event on `span` (the evaluated operation's
 * span), or on the current span: `gen_ai.evaluation.name`, `gen_ai.evaluation.score.value`,
 * `gen_ai.evaluation.score.label`, `gen_ai.evaluation.explanation`, `gen_ai.response.id`. Outside
 * any span it does nothing.
 *
 * @example
 * ```ts
 * yield* Evaluation.evaluate({ name: "relevance", score: 0.9, label: "relevant", responseId: reply.id })
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const evaluate = (evaluation: Evaluation, span?: Tracer.AnySpan): Effect.Effect<void> =>
  Effect.gen(function*() {
    const target = span ?? (yield* Effect.currentSpan.pipe(Effect.orElseSucceed(() => undefined)))
    if (target === undefined || target._tag !== "Span") return
    const now = yield* Clock.currentTimeNanos
    const attributes: Record<string, unknown> = { [ATTR_GEN_AI_EVALUATION_NAME]: evaluation.name }
    if (evaluation.score !== undefined) attributes[ATTR_GEN_AI_EVALUATION_SCORE_VALUE] = evaluation.score
    if (evaluation.label !== undefined) attributes[ATTR_GEN_AI_EVALUATION_SCORE_LABEL] = evaluation.label
    if (evaluation.explanation !== undefined) attributes[ATTR_GEN_AI_EVALUATION_EXPLANATION] = evaluation.explanation
    if (evaluation.responseId !== undefined) attributes[ATTR_GEN_AI_RESPONSE_ID] = evaluation.responseId
    target.event(EVENT_GEN_AI_EVALUATION_RESULT, now, attributes)
    // When content events go out, the evaluation goes out as a log record too, on the judged span.
    const logs = yield* CurrentLogs
    if (logs !== undefined && eventsOn(yield* Settings)) {
      logs.emit({
        eventName: EVENT_GEN_AI_EVALUATION_RESULT,
        severityNumber: 9,
        severityText: "INFO",
        attributes,
        span: target
      })
    }
  })
