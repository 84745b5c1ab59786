/**
 * Cost by the conventions (semantic-conventions-genai after v1.41): `gen_ai.usage.cost.amount`,
 * `.currency` and `.source` on inference spans, priced from the table (`local`) or carried by the
 * response (`provider`); the table's rates, dates and currency, from code and from the file named
 * by `BELUGA_GENAI_PRICES_FILE`; roll-ups; and the `gen_ai.client.operation.cost` histogram as a
 * real OTLP receiver gets it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Cost, GenAI, OpenAI, Pipeline, Testing, Tracing } from "../src/index.ts"
import { Receiver } from "./support/receiver.ts"

const chat = (model: string, usage: GenAI.Usage, provider = "openai") =>
  Effect.void.pipe(GenAI.chat({ provider, model }, () => ({ usage })))

/** What `Cost.fromJson` says is wrong with `text`. */
const jsonError = (text: string) => {
  const result = Cost.fromJson(text)
  return "error" in result ? result.error : "no error"
}

describe("Cost.prices", () => {
  it.effect("prices reasoning tokens at their own rate, the rest of the output at the output rate", () =>
    Effect.gen(function*() {
      yield* chat("o4-mini", { inputTokens: 1_000, outputTokens: 3_000, reasoningOutputTokens: 2_000 })
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "chat o4-mini")
      assert.closeTo(
        span.attributes["gen_ai.usage.cost.amount"] as number,
        (1_000 * 1 + 1_000 * 4 + 2_000 * 8) / 1e6,
        1e-12
      )
    }).pipe(Effect.provide(Testing.layer({
      prices: Cost.prices([{ model: "o4-mini", input: 1, output: 4, reasoning: 8 }])
    }))))

  // Live: the test clock starts at 1970, before every date in the table.
  it.live("prices each call at the price in effect when it started: a later price does not apply yet", () =>
    Effect.gen(function*() {
      yield* chat("gpt-4o", { inputTokens: 1_000_000, outputTokens: 0 })
      yield* chat("future-model", { inputTokens: 1_000_000, outputTokens: 0 })
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(Testing.spanNamed(spans, "chat gpt-4o").attributes["gen_ai.usage.cost.amount"], 2.5)
      assert.notProperty(Testing.spanNamed(spans, "chat future-model").attributes, "gen_ai.usage.cost.amount")
    }).pipe(Effect.provide(Testing.layer({
      prices: Cost.prices([
        { model: "gpt-4o", input: 5, output: 15, effectiveFrom: "2024-05-13" },
        { model: "gpt-4o", input: 2.5, output: 10, effectiveFrom: "2024-10-01" },
        { model: "gpt-4o", input: 99, output: 99, effectiveFrom: "2999-01-01" },
        { model: "future-model", input: 1, output: 1, effectiveFrom: "2999-01-01" }
      ])
    }))))

  it.effect("a table in another currency writes that currency on the span and the roll-up", () =>
    Effect.gen(function*() {
      yield* chat("mistral-large", { inputTokens: 1_000_000, outputTokens: 0 }, "mistral_ai").pipe(
        Pipeline.run("agent-workflow")
      )
      const spans = yield* Testing.finishedSpans
      const span = Testing.spanNamed(spans, "chat mistral-large")
      assert.strictEqual(span.attributes["gen_ai.usage.cost.currency"], "EUR")
      assert.strictEqual(Testing.spanNamed(spans, "agent-workflow").attributes["beluga.cost.currency"], "EUR")
    }).pipe(Effect.provide(Testing.layer({
      prices: Cost.prices([{ provider: "mistral_ai", model: "mistral-large", input: 1.8, output: 5.4 }], "EUR")
    }))))

  it("refuses a bad entry with a message naming it", () => {
    assert.throws(() => Cost.prices([{ model: "m", input: -1, output: 1 }]), /entry 0 \(m\): input must be a price/)
    assert.throws(() => Cost.prices([{ model: "m", input: 1, output: Number.NaN }]), /output must be a price/)
    assert.throws(() => Cost.prices([{ model: "m", input: 1, output: 1, effectiveFrom: "soon" }]), /effectiveFrom/)
    assert.throws(() => Cost.prices([], "usd"), /ISO 4217/)
  })

  it("merges tables: the overriding table's model keeps all its own dated prices", () => {
    const base = Cost.prices([{ model: "a", input: 1, output: 1 }, { model: "b", input: 2, output: 2 }])
    const merged = Cost.merge(base, Cost.prices([{ model: "b", input: 3, output: 3, effectiveFrom: "2025-01-01" }]))
    assert.deepStrictEqual([...merged.prices.keys()].toSorted(), ["a", "b"])
    assert.deepStrictEqual(merged.prices.get("b")!.map((p) => p.input), [3])
    assert.throws(() => Cost.merge(base, Cost.prices([], "EUR")), /USD and EUR/)
  })

  it("reads a prices file's JSON, or says what is wrong where", () => {
    const read = Cost.fromJson(JSON.stringify({ currency: "GBP", models: [{ model: "x", input: 1, output: 2 }] }))
    assert.isTrue("table" in read && read.table.currency === "GBP" && read.table.prices.has("x"))
    assert.match(jsonError("{"), /not JSON/)
    assert.match(jsonError("[]"), /"models" array/)
    assert.match(jsonError(JSON.stringify({ models: [{ input: 1, output: 1 }] })), /models\[0\]\.model/)
    assert.match(
      jsonError(JSON.stringify({ models: [{ model: "y", input: "1", output: 1 }] })),
      /models\[0\] \(y\): input/
    )
    assert.match(jsonError(JSON.stringify({ currency: "dollars", models: [] })), /ISO 4217/)
  })
})

describe("a cost the response carried", () => {
  it.effect("is kept as source=provider, not priced again, and rolled up", () =>
    Effect.gen(function*() {
      yield* Effect.all([
        chat("openrouter/auto", { inputTokens: 100, outputTokens: 10, cost: { amount: 0.0042, currency: "USD" } }),
        chat("gpt-4o", { inputTokens: 1_000_000, outputTokens: 0 })
      ]).pipe(Pipeline.run("agent-workflow"))
      const spans = yield* Testing.finishedSpans
      const routed = Testing.spanNamed(spans, "chat openrouter/auto")
      assert.strictEqual(routed.attributes["gen_ai.usage.cost.amount"], 0.0042)
      assert.strictEqual(routed.attributes["gen_ai.usage.cost.currency"], "USD")
      assert.strictEqual(routed.attributes["gen_ai.usage.cost.source"], "provider")
      assert.strictEqual(routed.attributes["gen_ai.usage.cost"], 0.0042)
      const root = Testing.spanNamed(spans, "agent-workflow")
      assert.closeTo(root.attributes["beluga.rollup.cost"] as number, 0.0042 + 2.5, 1e-12)
    }).pipe(Effect.provide(Testing.layer({
      // The routed model is in the table too: the reported cost wins.
      prices: Cost.prices([{ model: "openrouter/auto", input: 1000, output: 1000 }, {
        model: "gpt-4o",
        input: 2.5,
        output: 10
      }])
    }))))

  it.effect("hostile costs are not recorded: negative, not finite, no currency code", () =>
    Effect.gen(function*() {
      yield* chat("a", { inputTokens: 1, outputTokens: 1, cost: { amount: -1, currency: "USD" } })
      yield* chat("b", { inputTokens: 1, outputTokens: 1, cost: { amount: Number.POSITIVE_INFINITY, currency: "USD" } })
      yield* chat("c", { inputTokens: 1, outputTokens: 1, cost: { amount: 1, currency: "<script>" } })
      for (const span of yield* Testing.finishedSpans) {
        assert.notProperty(span.attributes, "gen_ai.usage.cost.amount", span.name)
        assert.notProperty(span.attributes, "gen_ai.usage.cost", span.name)
      }
    }).pipe(Effect.provide(Testing.layer())))

  it("OpenAI-compatible usage.cost (OpenRouter's, in US dollars) is the reported cost", () => {
    assert.deepStrictEqual(OpenAI.toUsage({ prompt_tokens: 10, completion_tokens: 2, cost: 0.00031 })?.cost, {
      amount: 0.00031,
      currency: "USD"
    })
    assert.isUndefined(OpenAI.toUsage({ prompt_tokens: 10, completion_tokens: 2, cost: "0.1" })?.cost)
    assert.isUndefined(OpenAI.toUsage({ prompt_tokens: 10, completion_tokens: 2 })?.cost)
  })
})

const envLayer = (env: Record<string, string>, options: Tracing.Options) =>
  Testing.layerFromConfig(options).pipe(
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))),
    Layer.orDie
  )

describe("BELUGA_GENAI_PRICES_FILE", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-prices-"))
  const file = path.join(dir, "prices.json")
  fs.writeFileSync(
    file,
    JSON.stringify({
      currency: "USD",
      models: [{ model: "gpt-4o", input: 2.5, output: 10 }, { model: "o3", input: 2, output: 8 }]
    })
  )

  it.effect("prices from the file, with the table given in code on top", () =>
    Effect.gen(function*() {
      yield* chat("gpt-4o", { inputTokens: 1_000_000, outputTokens: 0 })
      yield* chat("o3", { inputTokens: 1_000_000, outputTokens: 0 })
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(Testing.spanNamed(spans, "chat gpt-4o").attributes["gen_ai.usage.cost.amount"], 2.5)
      // o3 is in both: the code's price wins.
      assert.strictEqual(Testing.spanNamed(spans, "chat o3").attributes["gen_ai.usage.cost.amount"], 1)
    }).pipe(Effect.provide(envLayer({ BELUGA_GENAI_PRICES_FILE: file }, {
      prices: Cost.prices([{ model: "o3", input: 1, output: 4 }])
    }))))

  it("a file that is missing or not a price table fails the layer, naming the variable and the file", async () => {
    const missing = path.join(dir, "missing.json")
    const bad = path.join(dir, "bad.json")
    fs.writeFileSync(bad, JSON.stringify({ models: [{ model: "x", input: -3, output: 1 }] }))
    for (const [value, expected] of [[missing, /readable prices file/], [bad, /models\[0\] \(x\): input/]] as const) {
      const exit = await Effect.runPromiseExit(
        Effect.void.pipe(Effect.provide(
          Tracing.layer({ metrics: false, registerGlobal: false }).pipe(
            Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { BELUGA_GENAI_PRICES_FILE: value } })))
          )
        ))
      )
      assert.isTrue(Exit.isFailure(exit))
      const message = String(Exit.isFailure(exit) ? exit.cause : "")
      assert.include(message, "BELUGA_GENAI_PRICES_FILE")
      assert.include(message, value)
      assert.match(message, expected)
    }
  })
})

describe("gen_ai.client.operation.cost", () => {
  it("is a histogram point per priced inference, with its currency, source and model, its exemplar the span", async () => {
    const receiver = await Receiver.start()
    try {
      const layer = Tracing.layer({
        serviceName: "cost-test",
        endpoint: receiver.url,
        registerGlobal: false,
        onWarning: () => {},
        metrics: { exportInterval: "1 hour" },
        prices: Cost.prices([{ provider: "openai", model: "gpt-4o", input: 2.5, output: 10 }])
      }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
      await Effect.runPromise(
        Effect.gen(function*() {
          yield* chat("gpt-4o", { inputTokens: 1_000_000, outputTokens: 100_000 })
          yield* chat("gpt-4o", { inputTokens: 0, outputTokens: 1_000_000 })
          yield* chat("routed", { inputTokens: 5, outputTokens: 5, cost: { amount: 0.5, currency: "USD" } })
          yield* Tracing.flush()
        }).pipe(Effect.provide(layer))
      )
      receiver.assertDecoded()
      // The flush's collection (the release sends another, cumulative, whose exemplars are spent).
      const points = receiver.metricRequests[0]!.metrics.filter((m) => m.name === "gen_ai.client.operation.cost")
        .flatMap((m) => m.histogramPoints)
      const local = points.find((p) => p.attributes["gen_ai.usage.cost.source"]?.value === "local")!
      assert.strictEqual(local.count, 2n)
      assert.closeTo(local.sum!, 3.5 + 10, 1e-9)
      assert.strictEqual(local.attributes["gen_ai.usage.cost.currency"]?.value, "USD")
      assert.strictEqual(local.attributes["gen_ai.request.model"]?.value, "gpt-4o")
      assert.strictEqual(local.attributes["gen_ai.operation.name"]?.value, "chat")
      const provider = points.find((p) => p.attributes["gen_ai.usage.cost.source"]?.value === "provider")!
      assert.strictEqual(provider.count, 1n)
      const chatIds = new Set(receiver.spans().filter((s) => s.name.startsWith("chat ")).map((s) => s.spanId))
      for (const point of points) {
        assert.isAbove(point.exemplars.length, 0)
        for (const exemplar of point.exemplars) assert.isTrue(chatIds.has(exemplar.spanId), "exemplar → a chat span")
      }
    } finally {
      await receiver.close()
    }
  })
})
