/**
 * What inferences cost, with no code at the call sites: given a price table ({@link prices}, passed
 * to `Tracing.layer({ prices })`), each inference span of a listed model gets `gen_ai.usage.cost`
 * and `beluga.cost.currency`, and the agent, workflow and run spans above it add the cost up as
 * `beluga.rollup.cost`, next to the token roll-ups they always carry.
 *
 * @since 0.4.0
 */
import { type Price, priceKey, type PriceTable } from "./internal/agentProcessor.ts"

export { ATTR_GEN_AI_USAGE_COST } from "./internal/semconv.ts"

/**
 * One model's prices, per million tokens. Cache reads and writes default to the input price.
 *
 * @example
 * ```ts
 * const mini: Cost.ModelPrice = { provider: "openai", model: "gpt-4o-mini", input: 0.15, output: 0.6 }
 * ```
 *
 * @since 0.2.0
 * @category models
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
 *   prices: Cost.prices([
 *     { provider: "openai", model: "gpt-4o-mini", input: 0.15, output: 0.6, cacheRead: 0.075 },
 *     { provider: "anthropic", model: "claude-sonnet-4-5", input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }
 *   ])
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const prices = (models: ReadonlyArray<ModelPrice>, currency = "USD"): PriceTable => ({
  currency,
  prices: new Map(models.map((m) => [priceKey(m.provider, m.model), m]))
})
