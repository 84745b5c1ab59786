/**
 * `error.type` for a failed span, shared by the tracer (every failing span gets one) and the
 * public `GenAI.errorType`.
 */
import * as Cause from "effect/Cause"
import { ERROR_TYPE_OTHER } from "./semconv.ts"

/**
 * The error's own `errorType` string if it has one (a provider's error code), else its `_tag`
 * (Effect's tagged errors), else its class name, else `_OTHER`. Interruption is not an error and
 * gives `undefined`.
 */
export const errorType = (cause: Cause.Cause<unknown>): string | undefined => {
  const failure = cause.reasons.find((reason) => !Cause.isInterruptReason(reason))
  if (failure === undefined) return undefined
  const error = Cause.isFailReason(failure) ? failure.error : Cause.isDieReason(failure) ? failure.defect : undefined
  if (typeof error === "object" && error !== null) {
    const code = (error as { errorType?: unknown }).errorType
    if (typeof code === "string" && code !== "") return code
    const tag = (error as { _tag?: unknown })._tag
    // effect/ai wraps every failure in an `AiError`; its reason says what went wrong.
    const reason = (error as { reason?: { _tag?: unknown } }).reason?._tag
    if (tag === "AiError" && typeof reason === "string" && reason !== "") return reason
    if (typeof tag === "string" && tag !== "") return tag
    if (error instanceof Error) return error.name !== "Error" ? error.name : error.constructor.name
  }
  return ERROR_TYPE_OTHER
}
