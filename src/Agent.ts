/**
 * Agent runs, as LLM trace UIs (Phoenix, Langfuse) show them: {@link invoke} runs an effect as an
 * agent, an `invoke_agent {name}` span (Phoenix shows it as AGENT) with the question and the answer
 * when content capture is on. It is the entry point for agent runs and a thin shell over
 * `GenAI.invokeAgent`, the conventions-level combinator, so an agent span is made in one place.
 *
 * Roll-ups need no code: agent, workflow and run spans carry the usage of every inference beneath
 * them as `beluga.rollup.*` (and its cost, with a price table from `Cost.prices`).
 *
 * The rest of what this module held has a module of its own: `Identity` (conversation, session
 * and user), `Cost` (price tables), `Evaluation` (evaluation results) and `Redaction` (redaction
 * hooks). The old names here are deprecated aliases of those, kept for this release.
 *
 * @since 0.2.0
 */
import * as Cost from "./Cost.ts"
// `Identity` and `Evaluation` are also deprecated type names here, so their modules go by other names.
import * as EvaluationModule from "./Evaluation.ts"
import * as GenAI from "./GenAI.ts"
import * as IdentityModule from "./Identity.ts"
import * as Redaction from "./Redaction.ts"

/**
 * An agent run: the agent's description as `GenAI.invokeAgent` takes it, with the input and output
 * as text.
 *
 * @example
 * ```ts
 * const options: Agent.InvokeOptions<string> = { provider: "openai", input: question, output: (text) => text }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface InvokeOptions<A> extends Omit<GenAI.Agent, "name" | "messages"> {
  /** The question or task, recorded as the input message when content capture is on. */
  readonly input?: string | ReadonlyArray<GenAI.InputMessage> | undefined
  /** The answer, from the result, recorded as the output message when content capture is on. */
  readonly output?: ((result: A) => string) | undefined
}

/**
 * Runs `self` as an agent: span `invoke_agent {name}` (INTERNAL, CLIENT with `remote: true`), with
 * the agent's name, id, description, provider and model, the conversation when given, the input
 * and output messages when content capture is on, and, when it ends, the usage and cost of every
 * inference beneath it (`beluga.rollup.*`).
 *
 * The agent-run entry point, and a thin shell over `GenAI.invokeAgent`: it only turns `input` and
 * `output` into messages; the span, its name, kind and attributes are `GenAI.invokeAgent`'s.
 *
 * @example
 * ```ts
 * const answer = (question: string) =>
 *   respond(question).pipe(Agent.invoke("travel-agent", { input: question, output: (text) => text }))
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const invoke = <A>(name: string, options: InvokeOptions<A> = {}) =>
  GenAI.invokeAgent<A>(
    { ...options, name, messages: options.input !== undefined ? toMessages(options.input) : undefined },
    options.output !== undefined
      ? (result) => ({
        response: {
          outputMessages: [{
            role: "assistant",
            parts: [{ type: "text", content: options.output!(result) }],
            finish_reason: GenAI.FinishReason.stop
          }]
        }
      })
      : undefined
  )

const toMessages = (input: string | ReadonlyArray<GenAI.InputMessage>): ReadonlyArray<GenAI.InputMessage> =>
  typeof input === "string" ? [{ role: "user", parts: [{ type: "text", content: input }] }] : input

// -----------------------------------------------------------------------------
// Deprecated aliases: the same values as their new homes, so identity checks hold
// -----------------------------------------------------------------------------

/** @deprecated Use {@link IdentityModule.Identity | `Identity.Identity`}. @since 0.2.0 @category identity */
export type Identity = IdentityModule.Identity
/** @deprecated Use {@link IdentityModule.withIdentity | `Identity.withIdentity`}. @since 0.2.0 @category identity */
export const withIdentity = IdentityModule.withIdentity
/**
 * @deprecated Use {@link IdentityModule.withConversation | `Identity.withConversation`}.
 * @since 0.2.0 @category identity
 */
export const withConversation = IdentityModule.withConversation
/**
 * @deprecated Use {@link IdentityModule.ATTR_SESSION_ID | `Identity.ATTR_SESSION_ID`}.
 * @since 0.2.0 @category identity
 */
export const ATTR_SESSION_ID = IdentityModule.ATTR_SESSION_ID
/** @deprecated Use {@link IdentityModule.ATTR_USER_ID | `Identity.ATTR_USER_ID`}. @since 0.2.0 @category identity */
export const ATTR_USER_ID = IdentityModule.ATTR_USER_ID

/** @deprecated Use {@link Cost.ModelPrice}. @since 0.2.0 @category cost */
export type ModelPrice = Cost.ModelPrice
/** @deprecated Use {@link Cost.prices}. @since 0.2.0 @category cost */
export const prices = Cost.prices
/** @deprecated Use {@link Cost.ATTR_GEN_AI_USAGE_COST}. @since 0.2.0 @category cost */
export const ATTR_GEN_AI_USAGE_COST = Cost.ATTR_GEN_AI_USAGE_COST

/** @deprecated Use {@link EvaluationModule.Evaluation | `Evaluation.Evaluation`}. @since 0.2.0 @category evaluations */
export type Evaluation = EvaluationModule.Evaluation
/** @deprecated Use {@link EvaluationModule.evaluate | `Evaluation.evaluate`}. @since 0.2.0 @category evaluations */
export const evaluate = EvaluationModule.evaluate
/**
 * @deprecated Use
 * {@link EvaluationModule.EVENT_GEN_AI_EVALUATION_RESULT | `Evaluation.EVENT_GEN_AI_EVALUATION_RESULT`}.
 * @since 0.2.0 @category evaluations
 */
export const EVENT_GEN_AI_EVALUATION_RESULT = EvaluationModule.EVENT_GEN_AI_EVALUATION_RESULT

/** @deprecated Use {@link Redaction.redactMatching}. @since 0.2.0 @category redaction */
export const redactMatching = Redaction.redactMatching
/** @deprecated Use {@link Redaction.redactFields}. @since 0.2.0 @category redaction */
export const redactFields = Redaction.redactFields
/** @deprecated Use {@link Redaction.redactAll}. @since 0.2.0 @category redaction */
export const redactAll = Redaction.redactAll
