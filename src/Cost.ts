/**
 * What inferences cost, with no code at the call sites: given a price table ({@link prices}, passed
 * to `Tracing.layer({ prices })`, or a JSON file named by `BELUGA_GENAI_PRICES_FILE`), each
 * inference span of a listed model gets the conventions' `gen_ai.usage.cost.amount`,
 * `gen_ai.usage.cost.currency` and `gen_ai.usage.cost.source` (`local`), plus `gen_ai.usage.cost`
 * for Langfuse, and a `gen_ai.client.operation.cost` point; the agent, workflow and run spans above
 * it add the cost up as `beluga.rollup.cost`, next to the token roll-ups they always carry. A cost
 * the provider reported in its response (`source=provider`) is kept as it is and rolled up alike.
 *
 * @since 0.4.0
 */
import type { Price, PriceTable } from "./internal/agentProcessor.ts"
import * as Prices from "./internal/prices.ts"

export {
  ATTR_GEN_AI_USAGE_COST,
  ATTR_GEN_AI_USAGE_COST_AMOUNT,
  ATTR_GEN_AI_USAGE_COST_CURRENCY,
  ATTR_GEN_AI_USAGE_COST_SOURCE,
  CostSource,
  METRIC_GEN_AI_CLIENT_OPERATION_COST
} from "./internal/semconv.ts"

/**
 * One model's prices, per million tokens. Cache reads and writes default to the input price,
 * reasoning tokens to the output price. With `effectiveFrom`, the price applies to calls that
 * start at or after it, so a table can hold a model's old and new prices and each call is priced
 * at the one in effect when it was made.
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
 * A price table for `Tracing.layer({ prices })`, in one ISO 4217 `currency` (default `USD`).
 * Uncached input, cache reads, cache writes, reasoning and output are each priced once. A model
 * not in the table gets no cost at all, not a zero. Throws an `Error` naming the entry when a
 * price is negative or not a number, a date does not parse, or the currency is not three capital
 * letters.
 *
 * @example
 * ```ts
 * Tracing.layer({
 *   prices: Cost.prices([
 *     { provider: "openai", model: "gpt-4o-mini", input: 0.15, output: 0.6, cacheRead: 0.075 },
 *     { provider: "anthropic", model: "claude-sonnet-4-5", input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
 *     { provider: "openai", model: "o4-mini", input: 1.1, output: 4.4, reasoning: 4.4, effectiveFrom: "2026-06-01" }
 *   ])
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const prices = (models: ReadonlyArray<ModelPrice>, currency = "USD"): PriceTable => Prices.make(models, currency)

/**
 * `table` with `overrides` on top: a model in both keeps `overrides`' prices (all its dated
 * entries), every other model keeps its own. The currency must be the same.
 *
 * @since 0.4.0
 * @category combinators
 */
export const merge: (table: PriceTable, overrides: PriceTable) => PriceTable = Prices.merge

/**
 * A price table from the JSON text of a prices file: `{ "currency": "EUR", "models": [ModelPrice, …] }`
 * (the currency is optional, default `USD`). Fails with a message naming what is wrong where.
 *
 * @example
 * ```json
 * { "currency": "USD", "models": [{ "provider": "openai", "model": "gpt-4o", "input": 2.5, "output": 10 }] }
 * ```
 *
 * @since 0.4.0
 * @category constructors
 */
export const fromJson: (text: string) => { readonly table: PriceTable } | { readonly error: string } = Prices.fromJson
