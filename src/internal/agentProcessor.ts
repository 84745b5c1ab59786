/**
 * A span processor for what an agent run adds up to, ahead of the exporting processors:
 *
 * - **Identity.** A span started under a span that carries `gen_ai.conversation.id`, `session.id` or
 *   `user.id` carries them too. This reaches spans that Effect's span annotations do not: those of
 *   OTel-instrumented libraries (an instrumented `fetch`), and the descendants of a server span that
 *   recorded them from baggage.
 * - **Cost.** An inference span whose provider and model are in the price table gets the
 *   conventions' `gen_ai.usage.cost.amount`, `.currency` and `.source=local`, and `gen_ai.usage.cost`
 *   (the name Langfuse reads as the generation's cost); one whose response carried a cost (the
 *   provider set `.amount` and `.source=provider`) keeps it and is not priced again. A model not in
 *   the table gets no cost, not a zero. Each cost is also a `gen_ai.client.operation.cost` point.
 * - **Roll-ups.** Agent, workflow and run spans (`invoke_agent`, `invoke_workflow`, and every span
 *   with no parent in this process) get the usage and cost of every inference span beneath them as
 *   `beluga.rollup.*`: each inference is added once to each such ancestor, so nested agents do not
 *   double count; a failed or interrupted inference counts what it reported; an inference span of
 *   an OTel-instrumented library counts like the library's own. The totals are not written as
 *   `gen_ai.usage.*`: Phoenix and Langfuse sum those over a trace themselves, and would count twice.
 *
 * Everything happens in `onStart` and `onEnding` (the span is still writable there), on one thread,
 * so parallel children add up without coordination. The per-span state is a property of the span
 * object (a WeakMap cost a fifth of a traced step) and goes with it.
 */
import type { Context } from "@opentelemetry/api"
import * as Otel from "@opentelemetry/api"
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as N from "./semconv.ts"

/** Prices per million tokens, in `currency`. */
export interface Price {
  readonly input: number
  readonly output: number
  readonly cacheRead?: number | undefined
  readonly cacheWrite?: number | undefined
  /** Reasoning output tokens, where a model prices them apart; default the output price. */
  readonly reasoning?: number | undefined
  /** From when the price applies (ISO 8601 date or time); without it, always. */
  readonly effectiveFrom?: string | undefined
}

/** A price with its effective time read once: milliseconds since the epoch, `-Infinity` for always. */
export interface DatedPrice extends Price {
  readonly from: number
}

export interface PriceTable {
  /** ISO 4217 code of every price in the table. */
  readonly currency: string
  /**
   * `provider/model` → its prices, the latest effective first; a model is looked up by response
   * model, then request model, and priced at the price in effect when its span started.
   */
  readonly prices: ReadonlyMap<string, ReadonlyArray<DatedPrice>>
}

/** Where the processor records each cost as a metric point; `recorder` is set while metrics run. */
export interface CostMeter {
  record: ((amount: number, currency: string, source: string, span: ReadableSpan) => void) | undefined
}

/** The key of a price in {@link PriceTable.prices}: `provider/model`, or the model alone for any provider. */
export const priceKey = (provider: string | undefined, model: string): string =>
  provider !== undefined ? `${provider}/${model}` : model

const inferenceOperations = new Set<string>([
  N.Operation.chat,
  N.Operation.textCompletion,
  N.Operation.generateContent,
  N.Operation.embeddings
])
const rollupOperations = new Set<string>([N.Operation.invokeAgent, N.Operation.invokeWorkflow])

/** Usage and cost, summed. */
class Totals {
  inputTokens = 0
  outputTokens = 0
  cacheReadInputTokens = 0
  cacheCreationInputTokens = 0
  reasoningOutputTokens = 0
  cost = 0
  costed = 0
  /** The currency of `cost`: the first priced inference's; others in another currency are not added. */
  currency: string | undefined = undefined
  inferences = 0

  constructor(readonly parent: Totals | undefined) {}
}

/** What the processor keeps per span: its own totals if it rolls up, and the nearest that does. */
interface State {
  readonly own: Totals | undefined
  readonly nearest: Totals | undefined
  /** The state of its children that do not roll up (shared by all of them). */
  readonly below?: State | undefined
}

const number = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0)

const isReadable = (span: Otel.Span | undefined): span is Otel.Span & ReadableSpan =>
  span !== undefined && typeof (span as Partial<ReadableSpan>).attributes === "object"

/**
 * The cost of one inference: uncached input, cache reads and writes, reasoning and the rest of the
 * output at their prices.
 */
export const costOf = (price: Price, usage: {
  readonly input: number
  readonly output: number
  readonly cacheRead: number
  readonly cacheWrite: number
  readonly reasoning?: number | undefined
}): number => {
  const cacheRead = usage.cacheRead
  const cacheWrite = usage.cacheWrite
  // `gen_ai.usage.input_tokens` includes the cached tokens (the conventions say so for Anthropic,
  // and OpenAI's prompt_tokens already do), and output tokens include the reasoning tokens: each
  // kind is priced once.
  const uncached = Math.max(0, usage.input - cacheRead - cacheWrite)
  const reasoning = Math.min(usage.reasoning ?? 0, usage.output)
  return (uncached * price.input + cacheRead * (price.cacheRead ?? price.input) +
    cacheWrite * (price.cacheWrite ?? price.input) + (usage.output - reasoning) * price.output +
    reasoning * (price.reasoning ?? price.output)) / 1_000_000
}

/** Where a span's {@link State} is kept: on the span itself, which is cheaper than a WeakMap lookup. */
const stateKey = Symbol.for("beluga-o11y/AgentProcessor/State")
type WithState = { [stateKey]?: State }

export class AgentProcessor implements SpanProcessor {
  constructor(
    private readonly priceTable: PriceTable | undefined,
    private readonly meter: CostMeter | undefined = undefined
  ) {}

  onStart(span: Span, parentContext: Context): void {
    const parent = Otel.trace.getSpan(parentContext)
    const readableParent = isReadable(parent) ? parent : undefined
    if (readableParent !== undefined) {
      for (const key of N.identityKeys) {
        const value = readableParent.attributes[key]
        if (value !== undefined && span.attributes[key] === undefined) span.setAttribute(key, value)
      }
    }
    const parentState = readableParent !== undefined ? (readableParent as WithState)[stateKey] : undefined
    const operation = span.attributes[N.ATTR_GEN_AI_OPERATION_NAME]
    // A span with no parent in this process (a run, a request a server handles) rolls up too.
    const rollsUp = (typeof operation === "string" && rollupOperations.has(operation)) || parentState === undefined
    if (rollsUp) {
      const own = new Totals(parentState?.nearest)
      ;(span as WithState)[stateKey] = { own, nearest: own, below: { own: undefined, nearest: own } }
    } else if (parentState !== undefined) {
      ;(span as WithState)[stateKey] = parentState.below ?? parentState
    }
  }

  onEnding(span: Span): void {
    const state = (span as WithState)[stateKey]
    const attributes = span.attributes
    const operation = attributes[N.ATTR_GEN_AI_OPERATION_NAME]
    if (typeof operation === "string" && inferenceOperations.has(operation)) this.inference(span, state)
    const own = state?.own
    if (typeof operation === "string" && rollupOperations.has(operation)) this.outcome(span, own)
    if (own !== undefined && own.inferences > 0) {
      span.setAttribute(N.ATTR_BELUGA_ROLLUP_INFERENCES, own.inferences)
      span.setAttribute(N.ATTR_BELUGA_ROLLUP_INPUT_TOKENS, own.inputTokens)
      span.setAttribute(N.ATTR_BELUGA_ROLLUP_OUTPUT_TOKENS, own.outputTokens)
      if (own.cacheReadInputTokens > 0) {
        span.setAttribute(N.ATTR_BELUGA_ROLLUP_CACHE_READ_INPUT_TOKENS, own.cacheReadInputTokens)
      }
      if (own.cacheCreationInputTokens > 0) {
        span.setAttribute(N.ATTR_BELUGA_ROLLUP_CACHE_CREATION_INPUT_TOKENS, own.cacheCreationInputTokens)
      }
      if (own.reasoningOutputTokens > 0) {
        span.setAttribute(N.ATTR_BELUGA_ROLLUP_REASONING_OUTPUT_TOKENS, own.reasoningOutputTokens)
      }
      if (own.costed > 0 && own.currency !== undefined) {
        span.setAttribute(N.ATTR_BELUGA_ROLLUP_COST, own.cost)
        span.setAttribute(N.ATTR_BELUGA_COST_CURRENCY, own.currency)
      }
    }
  }

  private inference(span: Span, state: State | undefined): void {
    const attributes = span.attributes
    const usage = {
      input: number(attributes[N.ATTR_GEN_AI_USAGE_INPUT_TOKENS]),
      output: number(attributes[N.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]),
      cacheRead: number(attributes[N.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]),
      cacheWrite: number(
        attributes[N.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] ??
          attributes[N.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]
      )
    }
    const reasoning = number(attributes[N.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS])
    const reported = this.reportedCost(span)
    if (usage.input === 0 && usage.output === 0 && reported === undefined) return
    let cost: { readonly amount: number; readonly currency: string } | undefined = reported
    if (cost === undefined) {
      const price = this.priceOf(attributes, span.startTime)
      if (price !== undefined) {
        cost = { amount: costOf(price, { ...usage, reasoning }), currency: this.priceTable!.currency }
        span.setAttribute(N.ATTR_GEN_AI_USAGE_COST_AMOUNT, cost.amount)
        span.setAttribute(N.ATTR_GEN_AI_USAGE_COST_CURRENCY, cost.currency)
        span.setAttribute(N.ATTR_GEN_AI_USAGE_COST_SOURCE, N.CostSource.local)
      }
    }
    if (cost !== undefined) {
      // Langfuse reads this name as the generation's cost (and not the conventions' `.amount`).
      if (attributes[N.ATTR_GEN_AI_USAGE_COST] === undefined) span.setAttribute(N.ATTR_GEN_AI_USAGE_COST, cost.amount)
      this.meter?.record?.(cost.amount, cost.currency, String(attributes[N.ATTR_GEN_AI_USAGE_COST_SOURCE]), span)
    }
    // An inference that is itself a run (no parent here) counts for itself only through its own attributes.
    for (
      let totals = state?.own !== undefined ? state.own.parent : state?.nearest;
      totals !== undefined;
      totals = totals.parent
    ) {
      totals.inferences++
      totals.inputTokens += usage.input
      totals.outputTokens += usage.output
      totals.cacheReadInputTokens += usage.cacheRead
      totals.cacheCreationInputTokens += usage.cacheWrite
      totals.reasoningOutputTokens += reasoning
      if (cost !== undefined && (totals.currency === undefined || totals.currency === cost.currency)) {
        totals.currency = cost.currency
        totals.cost += cost.amount
        totals.costed++
      }
    }
  }

  /**
   * How an agent or workflow run ended, and what it consumed of the budgets it declared. A failed
   * run has its ERROR status and `error.type` (the draft conventions give failure no end reason).
   */
  private outcome(span: Span, own: Totals | undefined): void {
    const attributes = span.attributes
    if (attributes[N.ATTR_EFFECT_FIBER_INTERRUPTED] === true) {
      span.setAttribute(N.ATTR_GEN_AI_AGENT_INVOCATION_END_REASON, N.AgentEndReason.interrupted)
    } else if (span.status.code !== Otel.SpanStatusCode.ERROR) {
      span.setAttribute(N.ATTR_GEN_AI_AGENT_INVOCATION_END_REASON, N.AgentEndReason.completed)
    }
    if (attributes[N.ATTR_GEN_AI_AGENT_TOKEN_BUDGET_LIMIT] !== undefined) {
      span.setAttribute(N.ATTR_GEN_AI_AGENT_TOKEN_BUDGET_CONSUMED, (own?.inputTokens ?? 0) + (own?.outputTokens ?? 0))
    }
    if (attributes[N.ATTR_GEN_AI_AGENT_ITERATION_BUDGET_LIMIT] !== undefined) {
      span.setAttribute(N.ATTR_GEN_AI_AGENT_ITERATION_BUDGET_CONSUMED, own?.inferences ?? 0)
    }
  }

  /** A cost the response carried, as the provider wrote it: a finite, non-negative amount with a currency. */
  private reportedCost(span: Span): { readonly amount: number; readonly currency: string } | undefined {
    const attributes = span.attributes
    const amount = attributes[N.ATTR_GEN_AI_USAGE_COST_AMOUNT]
    if (amount === undefined) return undefined
    const currency = attributes[N.ATTR_GEN_AI_USAGE_COST_CURRENCY]
    return typeof amount === "number" && Number.isFinite(amount) && amount >= 0 && typeof currency === "string"
      ? { amount, currency }
      : undefined
  }

  private priceOf(attributes: ReadableSpan["attributes"], start: Otel.HrTime): Price | undefined {
    const table = this.priceTable
    if (table === undefined) return undefined
    const provider = attributes[N.ATTR_GEN_AI_PROVIDER_NAME] ?? attributes[N.LEGACY_ATTR_GEN_AI_SYSTEM]
    const at = start[0] * 1000 + start[1] / 1_000_000
    for (const model of [attributes[N.ATTR_GEN_AI_RESPONSE_MODEL], attributes[N.ATTR_GEN_AI_REQUEST_MODEL]]) {
      if (typeof model !== "string") continue
      const prices = table.prices.get(priceKey(String(provider), model)) ?? table.prices.get(priceKey(undefined, model))
      const price = prices?.find((candidate) => candidate.from <= at)
      if (price !== undefined) return price
    }
    return undefined
  }

  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve()
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}
