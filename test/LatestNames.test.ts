/**
 * `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`: the names of semantic-conventions-genai's
 * `main` where they differ from v1.41 (`latestRenames` in semconv.ts, the table in docs/attributes.md),
 * on spans and on the metrics a real OTLP receiver gets, with `main`'s schema URL on the scope. Without
 * the opt-in nothing changes (the rest of the suite checks that).
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { Agent, ChatModel, Embedder, GenAI, Simulated, Testing, Tracing } from "../src/index.ts"
import { Receiver } from "./support/receiver.ts"

const optIn = { OTEL_SEMCONV_STABILITY_OPT_IN: "gen_ai/dup, gen_ai_latest_experimental" }

const work = Effect.gen(function*() {
  const model = yield* ChatModel.ChatModel
  const ask = { messages: [{ role: "user" as const, parts: [{ type: "text" as const, content: "hi" }] }] }
  yield* model.chat(ask)
  yield* model.stream(ask).pipe(Stream.runDrain)
  yield* (yield* Embedder.Embedder).embed(["a", "b"])
  yield* Effect.void.pipe(
    GenAI.chat({ provider: "anthropic", model: "claude-sonnet-4-5" }, () => ({
      usage: { inputTokens: 100, outputTokens: 10, cacheCreationInputTokens: 40 }
    }))
  )
}).pipe(Agent.invoke("assistant"), Effect.provide(Simulated.layer({ latency: 0 })))

describe("gen_ai_latest_experimental", () => {
  it.effect("spans: cache writes under main's name, main's schema URL on the scope, the rest as in v1.41", () =>
    Effect.gen(function*() {
      yield* work
      const spans = yield* Testing.finishedSpans
      const claude = Testing.spanNamed(spans, "chat claude-sonnet-4-5")
      assert.strictEqual(claude.attributes["gen_ai.usage.cache_write.input_tokens"], 40)
      assert.notProperty(claude.attributes, "gen_ai.usage.cache_creation.input_tokens")
      assert.strictEqual(claude.attributes["gen_ai.usage.input_tokens"], 100)
      // gen_ai/dup still adds the deprecated names beside.
      assert.strictEqual(claude.attributes["gen_ai.usage.prompt_tokens"], 100)
      for (const span of spans) {
        assert.strictEqual(
          span.instrumentationScope.schemaUrl,
          "https://opentelemetry.io/schemas/gen-ai-dev/1.42.0-dev",
          span.name
        )
      }
      // The roll-up reads the cache writes under either name.
      assert.strictEqual(
        Testing.spanNamed(spans, "invoke_agent assistant").attributes["beluga.rollup.cache_creation.input_tokens"],
        40
      )
    }).pipe(
      Effect.provide(
        Testing.layerFromConfig().pipe(
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: optIn }))),
          Layer.orDie
        )
      )
    ))

  it("metrics: inference and embeddings durations and tokens by main's names, no v1.41 name for them", async () => {
    const receiver = await Receiver.start()
    try {
      const layer = Tracing.layer({
        serviceName: "latest-names",
        endpoint: receiver.url,
        registerGlobal: false,
        onWarning: () => {},
        metrics: { exportInterval: "1 hour" }
      }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: optIn }))))
      await Effect.runPromise(work.pipe(Effect.andThen(Tracing.flush()), Effect.provide(layer)))
      receiver.assertDecoded()
      const metrics = receiver.metricRequests[0]!.metrics
      const names = new Set(metrics.map((m) => m.name))
      for (
        const name of [
          "gen_ai.client.inference.duration",
          "gen_ai.client.inference.time_to_first_chunk",
          "gen_ai.client.inference.time_per_output_chunk",
          "gen_ai.client.inference.usage.input_tokens",
          "gen_ai.client.inference.usage.output_tokens",
          "gen_ai.client.embeddings.duration",
          "gen_ai.client.embeddings.operation.input_tokens",
          // Agent durations are the same in both.
          "gen_ai.invoke_agent.duration"
        ]
      ) assert.isTrue(names.has(name), name)
      for (const name of ["gen_ai.client.operation.duration", "gen_ai.client.token.usage"]) {
        assert.isFalse(names.has(name), name)
      }
      const points = (name: string) => metrics.filter((m) => m.name === name).flatMap((m) => m.histogramPoints)
      const input = points("gen_ai.client.inference.usage.input_tokens")
      assert.strictEqual(input.reduce((n, p) => n + Number(p.count), 0), 3, "three model calls")
      for (const point of input) assert.notProperty(point.attributes, "gen_ai.token.type")
      const chats = points("gen_ai.client.inference.duration")
      assert.deepStrictEqual(
        [...new Set(chats.map((p) => p.attributes["gen_ai.operation.name"]?.value))],
        ["chat"]
      )
      const embeddings = points("gen_ai.client.embeddings.duration")
      assert.strictEqual(embeddings[0]!.attributes["gen_ai.operation.name"]?.value, "embeddings")
      // The metrics unit of the token histograms.
      assert.strictEqual(metrics.find((m) => m.name === "gen_ai.client.inference.usage.input_tokens")!.unit, "{token}")
    } finally {
      await receiver.close()
    }
  })
})
