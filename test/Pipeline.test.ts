/**
 * Pipeline spans: parenting from the fiber context, siblings under concurrency, failures,
 * interruptions (timeout, lost race), visible retries, events and new-trace runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import { Pipeline, Testing } from "../src/index.ts"

class ParseError extends Data.TaggedError("ParseError")<{ readonly reason: string }> {}

describe("Pipeline", () => {
  it.effect("the document pipeline: run → step → children, with the embedding event", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* Effect.void.pipe(Pipeline.step("parse-document"))
        yield* Pipeline.event("embedding-complete", { dimensions: 1536 }).pipe(Pipeline.step("embed-document"))
      }).pipe(
        Pipeline.step("process-document", { attributes: { "document.id": "doc-1", "document.pages": 3 } }),
        Pipeline.run("agent-workflow")
      )
      const root = Testing.expectTree(yield* Testing.finishedSpans, {
        name: "agent-workflow",
        kind: "internal",
        children: [{
          name: "process-document",
          kind: "internal",
          attributes: { "document.id": "doc-1", "document.pages": 3 },
          children: [
            { name: "parse-document", children: [] },
            {
              name: "embed-document",
              events: [{ name: "embedding-complete", attributes: { dimensions: 1536 } }],
              children: []
            }
          ]
        }]
      })
      assert.isUndefined(root.parentSpanContext)
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("steps run with concurrency are siblings under their parent, in one trace", () =>
    Effect.gen(function*() {
      yield* Effect.all([
        Effect.sleep(30).pipe(Pipeline.step("tool-a")),
        Effect.sleep(10).pipe(Pipeline.step("tool-b")),
        Effect.sleep(20).pipe(Pipeline.step("tool-c"))
      ], { concurrency: "unbounded" }).pipe(Pipeline.run("agent-workflow"), Effect.forkChild, (fiber) =>
        Effect.flatMap(fiber, (f) =>
          Effect.andThen(TestClock.adjust(30), Fiber.join(f))))
      const spans = yield* Testing.finishedSpans
      const root = Testing.expectTree(spans, {
        name: "agent-workflow",
        children: [{ name: "tool-a" }, { name: "tool-b" }, { name: "tool-c" }]
      })
      for (const span of spans) {
        assert.strictEqual(span.spanContext().traceId, root.spanContext().traceId)
      }
      // They really overlapped: each started before any of them ended.
      const tools = spans.filter((s) =>
        s.name.startsWith("tool-")
      )
      const firstEnd = Math.min(...tools.map((s) => s.endTime[0] * 1e9 + s.endTime[1]))
      for (const tool of tools) assert.isBelow(tool.startTime[0] * 1e9 + tool.startTime[1], firstEnd)
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a failed step records ERROR, the exception event and error.type; its parent fails too", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.fail(new ParseError({ reason: "not a PDF" })).pipe(
          Pipeline.step("parse-document"),
          Pipeline.step("process-document")
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "process-document",
        status: "error",
        attributes: { "error.type": "ParseError" },
        children: [{
          name: "parse-document",
          status: "error",
          attributes: { "error.type": "ParseError" },
          events: [{ name: "exception", attributes: { "exception.type": "ParseError" } }]
        }]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a step cut short by a timeout is ended and marked interrupted, not failed", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.sleep(10_000).pipe(
        Pipeline.step("slow-api"),
        Effect.timeout(100),
        Pipeline.step("with-deadline"),
        Effect.exit,
        Effect.forkChild
      )
      yield* TestClock.adjust(100)
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "with-deadline",
        status: "error",
        children: [{ name: "slow-api", attributes: { "effect.fiber.interrupted": true } }]
      })
      const slow = Testing.spanNamed(spans, "slow-api")
      assert.notStrictEqual(slow.status.code, SpanStatusCode.ERROR)
      assert.notProperty(slow.attributes, "error.type")
      assert.isTrue(slow.ended)
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("the loser of a race is ended and marked interrupted; the winner is not", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.race(
        Effect.sleep(50).pipe(Effect.as("fast"), Pipeline.step("fast-model")),
        Effect.sleep(500).pipe(Effect.as("slow"), Pipeline.step("slow-model"))
      ).pipe(Pipeline.step("hedged-call"), Effect.forkChild)
      yield* TestClock.adjust(50)
      assert.strictEqual(yield* Fiber.join(fiber), "fast")
      const spans = yield* Testing.finishedSpans
      Testing.expectTree(spans, {
        name: "hedged-call",
        children: [
          { name: "fast-model", absent: ["effect.fiber.interrupted"] },
          { name: "slow-model", attributes: { "effect.fiber.interrupted": true } }
        ]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("every retry attempt is its own span, numbered, the failed ones with ERROR", () =>
    Effect.gen(function*() {
      let calls = 0
      const flaky = Effect.suspend(() =>
        ++calls < 3 ? Effect.fail(new ParseError({ reason: `try ${calls}` })) : Effect.succeed("parsed")
      )
      const result = yield* flaky.pipe(
        Pipeline.step("parse-document"),
        Pipeline.retry({ times: 5 }),
        Pipeline.run("agent-workflow")
      )
      assert.strictEqual(result, "parsed")
      Testing.expectTree(yield* Testing.finishedSpans, {
        name: "agent-workflow",
        status: "unset",
        children: [
          { name: "parse-document", status: "error", attributes: { "beluga.attempt": 1, "error.type": "ParseError" } },
          { name: "parse-document", status: "error", attributes: { "beluga.attempt": 2, "error.type": "ParseError" } },
          { name: "parse-document", absent: ["error.type"], attributes: { "beluga.attempt": 3 } }
        ]
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a retry that runs out of attempts fails with the last error", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.fail(new ParseError({ reason: "always" })).pipe(Pipeline.step("doomed"), Pipeline.retry({ times: 1 }))
      )
      assert.isTrue(Exit.isFailure(exit))
      const attempts = (yield* Testing.finishedSpans).filter((s) => s.name === "doomed")
      assert.deepStrictEqual(attempts.map((s) => s.attributes["beluga.attempt"]), [1, 2])
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("events and annotations outside any span are no-ops, not failures", () =>
    Effect.gen(function*() {
      yield* Pipeline.event("orphan", { a: 1 })
      yield* Pipeline.annotate({ b: 2 })
      assert.lengthOf(yield* Testing.finishedSpans, 0)
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a run continues the current trace by default; newTrace starts a linked one", () =>
    Effect.gen(function*() {
      yield* Effect.all([
        Effect.void.pipe(Pipeline.run("nested-run")),
        Effect.void.pipe(Pipeline.run("batch-item", { newTrace: true }))
      ]).pipe(Pipeline.run("batch"))
      const spans = yield* Testing.finishedSpans
      const batch = Testing.spanNamed(spans, "batch")
      const nested = Testing.spanNamed(spans, "nested-run")
      const item = Testing.spanNamed(spans, "batch-item")
      assert.strictEqual(nested.parentSpanContext?.spanId, batch.spanContext().spanId)
      assert.isUndefined(item.parentSpanContext)
      assert.notStrictEqual(item.spanContext().traceId, batch.spanContext().traceId)
      assert.strictEqual(item.links[0]?.context.spanId, batch.spanContext().spanId)
    }).pipe(Effect.provide(Testing.layer())))
})
