/**
 * Sampled-out steps are nearly free because no span is made for them: with a sampler that follows
 * the parent (`parentbased_*`, `always_off`), a child of an unsampled span can only be unsampled, so
 * `Pipeline` and `GenAI` run their effect without a span and `Effect.withSpan` gets a transparent
 * span standing for its parent. What a trace needs from those spans must still hold: the "not
 * sampled" flag reaches child services and OTel-instrumented code, nothing is exported, the metrics
 * count the calls. With a sampler that does not follow the parent, children are decided afresh.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Otel from "@opentelemetry/api"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { GenAI, Pipeline, Testing } from "../src/index.ts"
import { spanContextOf } from "../src/internal/effectTracer.ts"

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
const unsampledCaller = Tracer.externalSpan({ traceId, spanId: "00f067aa0ba902b7", sampled: false })

/** What the innermost code sees: its current span's context, as OTel and propagation read it. */
const seen = Effect.gen(function*() {
  const parent = yield* Effect.currentParentSpan
  return { spanId: parent.spanId, traceId: parent.traceId, flags: spanContextOf(parent).traceFlags }
})

const nested = seen.pipe(
  Effect.withSpan("user-span"),
  GenAI.chat({ provider: "openai", model: "gpt-4o" }),
  Pipeline.step("inner-step"),
  Pipeline.step("outer-step")
)

describe("sampled-out steps", () => {
  it.effect("parentbased: under an unsampled caller no span is made; the caller's context and flag go on", () =>
    Effect.gen(function*() {
      const inside = yield* nested.pipe(Effect.withParentSpan(unsampledCaller))
      // Every level stood for the caller: same trace, the caller's span id, "not sampled".
      assert.deepStrictEqual(inside, { spanId: "00f067aa0ba902b7", traceId, flags: Otel.TraceFlags.NONE })
      assert.lengthOf(yield* Testing.finishedSpans, 0)
    }).pipe(Effect.provide(Layer.fresh(Testing.layer({ sampler: "parentbased_always_on" })))))

  it.effect("always_off: a root is made (its trace id is needed), its children are not", () =>
    Effect.gen(function*() {
      const { inside, root } = yield* Effect.gen(function*() {
        const run = yield* Effect.currentSpan
        return { root: run, inside: yield* nested }
      }).pipe(Pipeline.run("agent-run"))
      assert.isFalse(root.sampled)
      assert.match(root.traceId, /^[0-9a-f]{32}$/)
      assert.deepStrictEqual(inside, { spanId: root.spanId, traceId: root.traceId, flags: Otel.TraceFlags.NONE })
      assert.lengthOf(yield* Testing.finishedSpans, 0)
    }).pipe(Effect.provide(Layer.fresh(Testing.layer({ sampler: "always_off" })))))

  it.effect("always_on does not follow the parent: under an unsampled caller every step is made and kept", () =>
    Effect.gen(function*() {
      const inside = yield* nested.pipe(Effect.withParentSpan(unsampledCaller))
      assert.strictEqual(inside.traceId, traceId)
      assert.notStrictEqual(inside.spanId, "00f067aa0ba902b7")
      assert.strictEqual(inside.flags, Otel.TraceFlags.SAMPLED)
      const spans = yield* Testing.finishedSpans
      assert.sameMembers(spans.map((s) => s.name), ["user-span", "chat gpt-4o", "inner-step", "outer-step"])
    }).pipe(Effect.provide(Layer.fresh(Testing.layer({ sampler: "always_on" })))))

  it.effect("a new trace inside an unsampled one is decided afresh", () =>
    Effect.gen(function*() {
      const root = yield* Effect.currentSpan.pipe(
        Pipeline.run("batch-item", { newTrace: true }),
        Effect.withParentSpan(unsampledCaller)
      )
      assert.isTrue(root.sampled)
      assert.notStrictEqual(root.traceId, traceId)
      assert.deepStrictEqual((yield* Testing.finishedSpans).map((s) => s.name), ["batch-item"])
    }).pipe(Effect.provide(Layer.fresh(Testing.layer({ sampler: "parentbased_always_on" })))))

  it.effect("the GenAI metrics still count every sampled-out call (Testing.metrics)", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 3; i++) {
        yield* Effect.succeed("ok").pipe(
          GenAI.chat({ provider: "openai", model: "gpt-4o" }, () => ({ usage: { inputTokens: 10, outputTokens: 2 } })),
          Pipeline.step("step"),
          Effect.withParentSpan(unsampledCaller)
        )
      }
      assert.lengthOf(yield* Testing.finishedSpans, 0)
      const metrics = yield* Testing.metrics
      const duration = metrics.find((m) => m.name === "gen_ai.client.operation.duration")
      assert.strictEqual(duration?.count, 3)
      const input = metrics.find((m) =>
        m.name === "gen_ai.client.token.usage" && m.attributes["gen_ai.token.type"] === "input"
      )
      assert.deepStrictEqual([input?.count, input?.sum], [3, 30])
      assert.strictEqual(input?.attributes["gen_ai.request.model"], "gpt-4o")
    }).pipe(Effect.provide(Layer.fresh(Testing.layer({ sampler: "parentbased_always_on" })))))

  it.live("a failure inside a sampled-out step still fails the program, interruption still interrupts", () =>
    Effect.gen(function*() {
      const failed = yield* Effect.fail("boom").pipe(
        Pipeline.step("step"),
        Effect.withParentSpan(unsampledCaller),
        Effect.flip
      )
      assert.strictEqual(failed, "boom")
      const interrupted = yield* Effect.never.pipe(
        Pipeline.step("step"),
        Effect.withParentSpan(unsampledCaller),
        Effect.timeoutOption("10 millis")
      )
      assert.isTrue(Option.isNone(interrupted))
    }).pipe(Effect.provide(Layer.fresh(Testing.layer({ sampler: "parentbased_always_on" })))))
})
