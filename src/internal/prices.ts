/**
 * Price tables: built and checked (`Cost.prices`), merged, and read from a prices file's JSON.
 * The public face, with the documentation, is `Cost.ts`.
 */
import * as Platform from "#platform"
import * as Effect from "effect/Effect"
import { type DatedPrice, type Price, priceKey, type PriceTable } from "./agentProcessor.ts"
import { TracingConfigError } from "./config.ts"

/** One model's prices (see `Cost.ModelPrice`). */
export interface ModelPrice extends Price {
  readonly provider?: string | undefined
  readonly model: string
}

export const make = (models: ReadonlyArray<ModelPrice>, currency = "USD"): PriceTable => {
  const problem = currencyProblem(currency)
  if (problem !== undefined) throw new Error(`Cost.prices: ${problem}`)
  const byKey = new Map<string, Array<DatedPrice>>()
  models.forEach((model, index) => {
    const found = priceProblem(model)
    if (found !== undefined) throw new Error(`Cost.prices: entry ${index} (${model.model}): ${found}`)
    const key = priceKey(model.provider, model.model)
    const dated = { ...model, from: model.effectiveFrom === undefined ? -Infinity : Date.parse(model.effectiveFrom) }
    byKey.set(key, [...(byKey.get(key) ?? []), dated])
  })
  for (const list of byKey.values()) list.sort((a, b) => b.from - a.from)
  return { currency, prices: byKey }
}

export const merge = (table: PriceTable, overrides: PriceTable): PriceTable => {
  if (table.currency !== overrides.currency) {
    throw new Error(`Cost.merge: the tables are in ${table.currency} and ${overrides.currency}; use one currency`)
  }
  return { currency: table.currency, prices: new Map([...table.prices, ...overrides.prices]) }
}

export const fromJson = (text: string): { readonly table: PriceTable } | { readonly error: string } => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return { error: `not JSON (${error instanceof Error ? error.message : String(error)})` }
  }
  if (typeof parsed !== "object" || parsed === null || !Array.isArray((parsed as { models?: unknown }).models)) {
    return { error: "expected an object with a \"models\" array" }
  }
  const { currency = "USD", models } = parsed as { currency?: unknown; models: ReadonlyArray<unknown> }
  if (typeof currency !== "string") return { error: "\"currency\" must be a string such as \"USD\"" }
  const problem = currencyProblem(currency)
  if (problem !== undefined) return { error: problem }
  const entries: Array<ModelPrice> = []
  for (const [index, entry] of models.entries()) {
    if (typeof entry !== "object" || entry === null) return { error: `models[${index}] is not an object` }
    const model = entry as Record<string, unknown>
    if (typeof model.model !== "string" || model.model === "") {
      return { error: `models[${index}].model must be a non-empty string` }
    }
    for (const key of ["provider", "effectiveFrom"] as const) {
      if (model[key] !== undefined && typeof model[key] !== "string") {
        return { error: `models[${index}].${key} must be a string` }
      }
    }
    const found = priceProblem(model as unknown as ModelPrice)
    if (found !== undefined) return { error: `models[${index}] (${model.model}): ${found}` }
    entries.push(model as unknown as ModelPrice)
  }
  return { table: make(entries, currency) }
}

const currencyProblem = (currency: string): string | undefined =>
  /^[A-Z]{3}$/.test(currency)
    ? undefined
    : `currency must be an ISO 4217 code such as "USD", got ${JSON.stringify(currency)}`

const rates = ["input", "output", "cacheRead", "cacheWrite", "reasoning"] as const

const priceProblem = (model: ModelPrice): string | undefined => {
  for (const rate of rates) {
    const value = model[rate]
    if (value === undefined && rate !== "input" && rate !== "output") continue
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      return `${rate} must be a price per million tokens (a number ≥ 0), got ${JSON.stringify(value)}`
    }
  }
  if (model.effectiveFrom !== undefined && Number.isNaN(Date.parse(model.effectiveFrom))) {
    return `effectiveFrom must be an ISO 8601 date such as "2026-06-01", got ${JSON.stringify(model.effectiveFrom)}`
  }
  return undefined
}

const pricesVariable = "BELUGA_GENAI_PRICES_FILE"

/**
 * The price table a tracing layer works with: the prices file's (when `file` is set), with the
 * table given in code on top. A file that cannot be read or parsed fails the layer, naming the
 * variable, the file and what is wrong.
 */
export const load = (
  file: string | undefined,
  inCode: PriceTable | undefined
): Effect.Effect<PriceTable | undefined, TracingConfigError> =>
  Effect.suspend(() => {
    if (file === undefined) return Effect.succeed(inCode)
    const fail = (expected: string) =>
      Effect.fail(new TracingConfigError({ variable: pricesVariable, value: file, expected }))
    let text: string
    try {
      text = Platform.readTextFile(file)
    } catch (error) {
      return fail(`a readable prices file (${error instanceof Error ? error.message : String(error)})`)
    }
    const read = fromJson(text)
    if ("error" in read) return fail(`a prices file of the form { "currency", "models": [...] }: ${read.error}`)
    if (inCode === undefined) return Effect.succeed(read.table)
    if (inCode.currency !== read.table.currency) {
      return fail(
        `prices in ${inCode.currency}, the currency of the prices passed in code (the file's are in ${read.table.currency})`
      )
    }
    return Effect.succeed(merge(read.table, inCode))
  })
