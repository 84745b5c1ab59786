/**
 * The agent-level view that LLM trace UIs (Phoenix, Langfuse) are used for:
 *
 * - {@link withIdentity}: a conversation, session and user for everything inside: every span
 *   started within carries `gen_ai.conversation.id`, `session.id` and `user.id`, including spans
 *   of OTel-instrumented libraries nested under them; across processes they travel only as
 *   baggage, to the hosts the propagation allow-list names.
 * - {@link invoke}: an agent run as an `invoke_agent {name}` span (Phoenix shows it as AGENT), with
 *   the question and the answer when content capture is on.
 * - Roll-ups, with no code: agent, workflow and run spans carry the usage of every inference
 *   beneath them as `beluga.rollup.*`, and with a price table ({@link prices}, given to
 *   `Tracing.layer`) each inference span gets `gen_ai.usage.cost` and the runs roll it up.
 * - {@link evaluate}: an evaluation result (`gen_ai.evaluation.result`) on the evaluated span.
 * - {@link redactMatching}, {@link redactFields}: ready-made hooks for `Tracing.layer({ redact })`.
 *
 * @since 0.2.0
 */
import type { AttributeValue } from "@opentelemetry/api"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"
import * as GenAI from "./GenAI.ts"
import type { Price, PriceTable } from "./internal/agentProcessor.ts"
import type { Redact } from "./internal/redaction.ts"
import * as Propagation from "./Propagation.ts"

// -----------------------------------------------------------------------------
// Identity
// -----------------------------------------------------------------------------

/**
 * Who and what a run belongs to.
 *
 * @since 0.2.0
 * @category identity
 */
export interface Identity {
  /** `gen_ai.conversation.id`: Phoenix groups the traces that share it into a session. */
  readonly conversationId?: string | undefined
  /** `session.id`. */
  readonly sessionId?: string | undefined
  /** `user.id`: an opaque identifier, never a name or an address. */
  readonly userId?: string | undefined
}

/** The attribute names, in one place. @since 0.2.0 @category identity */
export const ATTR_SESSION_ID = "session.id"
/** @since 0.2.0 @category identity */
export const ATTR_USER_ID = "user.id"

const identityAttributes = (identity: Identity): Record<string, string> => {
  const attributes: Record<string, string> = {}
  if (identity.conversationId !== undefined) attributes[GenAI.ATTR_GEN_AI_CONVERSATION_ID] = identity.conversationId
  if (identity.sessionId !== undefined) attributes[ATTR_SESSION_ID] = identity.sessionId
  if (identity.userId !== undefined) attributes[ATTR_USER_ID] = identity.userId
  return attributes
}

/**
 * Runs `self` as part of a conversation, session and user: every span started within carries
 * them (this library's, effect/ai's, your own, and OTel-instrumented libraries' under them). They
 * are also put in the propagation baggage, so a call to a host on the allow-list carries them,
 * and a server that lists them in `baggageAttributes` records them on its spans.
 *
 * @example
 * ```ts
 * yield* answer(question).pipe(Agent.withIdentity({ conversationId: "conv-42", userId: "u-7" }))
 * ```
 *
 * @since 0.2.0
 * @category identity
 */
export const withIdentity = (identity: Identity) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const attributes = identityAttributes(identity)
  return self.pipe(Effect.annotateSpans(attributes), Propagation.withBaggage(attributes))
}

/**
 * {@link withIdentity} with a conversation id only.
 *
 * @since 0.2.0
 * @category identity
 */
export const withConversation = (conversationId: string) => withIdentity({ conversationId })

// -----------------------------------------------------------------------------
// Agent runs
// -----------------------------------------------------------------------------

/**
 * An agent run.
 *
 * @since 0.2.0
 * @category agents
 */
export interface InvokeOptions<A> extends Omit<GenAI.Agent, "name" | "messages"> {
  /** The question or task, recorded as the input message when content capture is on. */
  readonly input?: string | ReadonlyArray<GenAI.InputMessage> | undefined
  /** The answer, from the result, recorded as the output message when content capture is on. */
  readonly output?: ((result: A) => string) | undefined
}

const toMessages = (input: string | ReadonlyArray<GenAI.InputMessage>): ReadonlyArray<GenAI.InputMessage> =>
  typeof input === "string" ? [{ role: "user", parts: [{ type: "text", content: input }] }] : input

/**
 * Runs `self` as an agent: span `invoke_agent {name}` (INTERNAL, CLIENT with `remote: true`), with
 * the agent's name, id, description, provider and model, the conversation when given, the input
 * and output messages when content capture is on, and, when it ends, the usage and cost of every
 * inference beneath it (`beluga.rollup.*`).
 *
 * @example
 * ```ts
 * const answer = (question: string) =>
 *   respond(question).pipe(Agent.invoke("travel-agent", { input: question, output: (text) => text }))
 * ```
 *
 * @since 0.2.0
 * @category agents
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

// -----------------------------------------------------------------------------
// Cost
// -----------------------------------------------------------------------------

/**
 * One model's prices, per million tokens. Cache reads and writes default to the input price.
 *
 * @since 0.2.0
 * @category cost
 */
export interface ModelPrice extends Price {
  /** `gen_ai.provider.name`; without it the price applies to the model from any provider. */
  readonly provider?: string | undefined
  /** The model, matched against `gen_ai.response.model`, then `gen_ai.request.model`. */
  readonly model: string
}

/**
 * A price table for `Tracing.layer({ prices })`. Each inference span of a listed model gets
 * `gen_ai.usage.cost` (a double, in `currency`; the name Langfuse reads as the cost) and
 * `beluga.cost.currency`; agent and run spans roll the cost up as `beluga.rollup.cost`. Uncached
 * input, cache reads, cache writes and output are each priced once. A model not in the table
 * gets no cost at all, not a zero.
 *
 * @example
 * ```ts
 * Tracing.layer({
 *   prices: Agent.prices([
 *     { provider: "openai", model: "gpt-4o-mini", input: 0.15, output: 0.6, cacheRead: 0.075 },
 *     { provider: "anthropic", model: "claude-sonnet-4-5", input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }
 *   ])
 * })
 * ```
 *
 * @since 0.2.0
 * @category cost
 */
export const prices = (models: ReadonlyArray<ModelPrice>, currency = "USD"): PriceTable => ({
  currency,
  prices: new Map(models.map((m) => [m.provider !== undefined ? `${m.provider}/${m.model}` : m.model, m]))
})

/** @since 0.2.0 @category cost */
export const ATTR_GEN_AI_USAGE_COST = "gen_ai.usage.cost"

// -----------------------------------------------------------------------------
// Evaluations
// -----------------------------------------------------------------------------

/**
 * An evaluation of a GenAI operation's result (a judge's score, a human's label).
 *
 * @since 0.2.0
 * @category evaluations
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

/** @since 0.2.0 @category evaluations */
export const EVENT_GEN_AI_EVALUATION_RESULT = "gen_ai.evaluation.result"

/**
 * Records an evaluation as a `gen_ai.evaluation.result` event on `span` (the evaluated operation's
 * span), or on the current span: `gen_ai.evaluation.name`, `gen_ai.evaluation.score.value`,
 * `gen_ai.evaluation.score.label`, `gen_ai.evaluation.explanation`, `gen_ai.response.id`.
 *
 * @example
 * ```ts
 * yield* Agent.evaluate({ name: "relevance", score: 0.9, label: "relevant", responseId: reply.id })
 * ```
 *
 * @since 0.2.0
 * @category evaluations
 */
export const evaluate = (evaluation: Evaluation, span?: Tracer.AnySpan): Effect.Effect<void> =>
  Effect.flatMap(
    span !== undefined ? Effect.succeed(span) : Effect.currentSpan.pipe(Effect.orElseSucceed(() => undefined)),
    (target) =>
      Effect.flatMap(Clock.currentTimeNanos, (now) =>
        Effect.sync(() => {
          if (target === undefined || target._tag !== "Span") return
          const attributes: Record<string, unknown> = { [GenAI.ATTR_GEN_AI_EVALUATION_NAME]: evaluation.name }
          if (evaluation.score !== undefined) attributes[GenAI.ATTR_GEN_AI_EVALUATION_SCORE_VALUE] = evaluation.score
          if (evaluation.label !== undefined) attributes[GenAI.ATTR_GEN_AI_EVALUATION_SCORE_LABEL] = evaluation.label
          if (evaluation.explanation !== undefined) {
            attributes[GenAI.ATTR_GEN_AI_EVALUATION_EXPLANATION] = evaluation.explanation
          }
          if (evaluation.responseId !== undefined) attributes[GenAI.ATTR_GEN_AI_RESPONSE_ID] = evaluation.responseId
          target.event(EVENT_GEN_AI_EVALUATION_RESULT, now, attributes)
        }))
  )

// -----------------------------------------------------------------------------
// Redaction
// -----------------------------------------------------------------------------

/**
 * A redaction hook that replaces every match of `patterns` in every string value (and each string
 * in an array), content included: API keys, e-mail addresses, card numbers.
 *
 * @example
 * ```ts
 * Tracing.layer({ redact: Agent.redactMatching([/sk-[A-Za-z0-9-]{8,}/g, /[\w.+-]+@[\w-]+\.[\w.]+/g]) })
 * ```
 *
 * @since 0.2.0
 * @category redaction
 */
export const redactMatching = (patterns: ReadonlyArray<RegExp>, replacement = "[redacted]"): Redact => {
  const global = patterns.map((p) => p.global ? p : new RegExp(p.source, `${p.flags}g`))
  const clean = (text: string) => global.reduce((out, pattern) => out.replace(pattern, replacement), text)
  return (_key, value) =>
    typeof value === "string"
      ? clean(value)
      : Array.isArray(value)
      ? value.map((item) => typeof item === "string" ? clean(item) : item) as AttributeValue
      : value
}

/**
 * A redaction hook that masks the named fields wherever they appear inside JSON attribute values
 * (tool arguments and results, messages), at any depth, and drops attributes with those names.
 *
 * @example
 * ```ts
 * Tracing.layer({ redact: Agent.redactFields(["apiKey", "password", "email"]) })
 * ```
 *
 * @since 0.2.0
 * @category redaction
 */
export const redactFields = (fields: ReadonlyArray<string>, replacement = "[redacted]"): Redact => {
  const names = new Set(fields.map((f) => f.toLowerCase()))
  const mask = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(mask)
      : typeof value === "object" && value !== null
      ? Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, names.has(k.toLowerCase()) ? replacement : mask(v)])
      )
      : value
  return (key, value) => {
    if (names.has(key.toLowerCase())) return undefined
    if (typeof value !== "string" || (value[0] !== "{" && value[0] !== "[")) return value
    try {
      return JSON.stringify(mask(JSON.parse(value)))
    } catch {
      return value
    }
  }
}

/**
 * Several redaction hooks, applied in order.
 *
 * @since 0.2.0
 * @category redaction
 */
export const redactAll = (...hooks: ReadonlyArray<Redact>): Redact => (key, value) => {
  let current: AttributeValue | undefined = value
  for (const hook of hooks) {
    if (current === undefined) return undefined
    current = hook(key, current)
  }
  return current
}
