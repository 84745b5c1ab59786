/**
 * Per-request delivery: `Tracing.flush` and `Serverless.make`, against a real OTLP/HTTP receiver
 * on 127.0.0.1. A batch delay no test waits for (60 s) means only a flush delivers, so every span
 * that arrives here arrived because of one.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { GenAI, Pipeline, Serverless, Tracing } from "../src/index.ts"
import { Receiver, Respond } from "./support/receiver.ts"

const onlyFlushes = { scheduleDelayMillis: 60_000 }

const tracing = (receiver: { readonly url: string }, options: Tracing.Options = {}) =>
  Tracing.layer({
    serviceName: "serverless-test",
    endpoint: receiver.url,
    batch: onlyFlushes,
    metrics: { endpoint: `${receiver.url}/v1/metrics`, exportInterval: "1 hour" },
    registerGlobal: false,
    onWarning: () => {},
    ...options
  }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))

/** One request's work: a root with a chat call and a tool step under it (3 spans). */
const request = (n: number) =>
  Effect.gen(function*() {
    yield* Effect.succeed("answer").pipe(
      GenAI.chat({ provider: "openai", model: "gpt-4o" }, () => ({ usage: { inputTokens: 10, outputTokens: n } }))
    )
    yield* Effect.void.pipe(Pipeline.step("lookup"))
    return n
  }).pipe(Pipeline.run("handle-request", { attributes: { "request.number": n } }))

const withReceiver = <A>(use: (receiver: Receiver) => Promise<A>, respond?: () => ReturnType<typeof Respond.stall>) =>
  Receiver.start(respond !== undefined ? { respond } : {}).then((receiver) =>
    use(receiver).finally(() => receiver.close())
  )

const gc: () => void = (() => {
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
})()

describe("Tracing.flush", () => {
  it("delivers every span that has ended, and the metric points, before the batch delay", () =>
    withReceiver(async (receiver) => {
      const result = await Effect.runPromise(
        Effect.gen(function*() {
          yield* request(1)
          return yield* Tracing.flush()
        }).pipe(Effect.provide(tracing(receiver)))
      )
      // Already here when flush returned: the layer's release has not run yet for these.
      assert.strictEqual(result.complete, true)
      assert.strictEqual(result.released, false)
      assert.deepStrictEqual(result.spans, { delivered: 3, lost: 0, pending: 0 })
      assert.isAbove(result.metricPoints.delivered, 0)
      assert.strictEqual(result.metricPoints.pending, 0)
      receiver.assertDecoded()
      const names = receiver.requests[0]!.spans.map((span) => span.name).toSorted()
      assert.deepStrictEqual(names, ["chat gpt-4o", "handle-request", "lookup"])
      assert.strictEqual(receiver.requests.length, 1, "one request before release")
      const metricNames = receiver.metrics().map((metric) => metric.name)
      assert.include(metricNames, "gen_ai.client.token.usage")
    }))

  it("returns within its timeout when the collector stalls, counting what is still pending", () =>
    withReceiver(async (receiver) => {
      const started = Date.now()
      const [first, second] = await Effect.runPromise(
        Effect.gen(function*() {
          yield* request(1)
          const early = yield* Tracing.flush({ timeout: "200 millis" })
          const waited = Date.now() - started
          // The stall ends after 1.5 s; a second flush waits for the same batch and sees it answered.
          const late = yield* Tracing.flush({ timeout: "10 seconds" })
          return [{ ...early, waited }, late] as const
        }).pipe(Effect.provide(tracing(receiver, { metrics: false })))
      )
      assert.strictEqual(first.complete, false)
      assert.deepStrictEqual(first.spans, { delivered: 0, lost: 0, pending: 3 })
      assert.isBelow(first.waited, 1_400, "the first flush did not wait for the stalled collector")
      assert.strictEqual(second.complete, true)
      assert.strictEqual(second.spans.pending, 0)
      assert.strictEqual(receiver.spans().length, 3)
    }, () => Respond.stall(1_500)))

  it("is safe to call concurrently: each call waits, and every span arrives once", () =>
    withReceiver(async (receiver) => {
      const results = await Effect.runPromise(
        Effect.gen(function*() {
          yield* Effect.all([request(1), request(2), request(3)], { concurrency: "unbounded" })
          return yield* Effect.all([Tracing.flush(), Tracing.flush(), Tracing.flush()], { concurrency: "unbounded" })
        }).pipe(Effect.provide(tracing(receiver, { metrics: false })))
      )
      for (const result of results) assert.strictEqual(result.complete, true)
      const ids = receiver.spans().map((span) => span.spanId)
      assert.strictEqual(ids.length, 9)
      assert.strictEqual(new Set(ids).size, 9, "no span sent twice")
    }))

  it("after the layer's release is a no-op that says so", () =>
    withReceiver(async (receiver) => {
      const delivery = await Effect.runPromise(
        Effect.gen(function*() {
          yield* request(1)
          return yield* Tracing.Delivery
        }).pipe(Effect.provide(tracing(receiver, { metrics: false })))
      )
      const before = receiver.requests.length
      const result = await Effect.runPromise(delivery.flush(Duration.seconds(1)))
      assert.strictEqual(result.released, true)
      assert.strictEqual(result.complete, true)
      assert.deepStrictEqual(result.spans, { delivered: 0, lost: 0, pending: 0 })
      assert.strictEqual(receiver.requests.length, before, "nothing sent after release")
      assert.strictEqual(receiver.spans().length, 3, "the release delivered the spans")
    }))
})

describe("Serverless.make: a Lambda-shaped instance", () => {
  it("keeps one runtime across 50 invocations; each one's spans arrive before it returns, none lost or sent twice, memory flat", () =>
    withReceiver(async (receiver) => {
      const app = Serverless.make(tracing(receiver, { metrics: false }))
      const heap: Array<number> = []
      try {
        for (let n = 1; n <= 50; n++) {
          assert.strictEqual(await app.run(request(n)), n)
          // The response is complete here: the invocation's three spans must be at the receiver.
          assert.strictEqual(receiver.spans().length, 3 * n, `invocation ${n}'s spans arrived before it returned`)
          if (n === 10 || n === 50) {
            gc()
            heap.push(process.memoryUsage().heapUsed)
          }
        }
      } finally {
        await app.dispose()
      }
      const spans = receiver.spans()
      assert.strictEqual(new Set(spans.map((span) => span.spanId)).size, 150, "no span sent twice")
      const roots = spans.filter((span) => span.name === "handle-request")
      assert.deepStrictEqual(
        roots.map((span) => span.attributes["request.number"]).map((value) => value?.type === "int" && value.value),
        Array.from({ length: 50 }, (_, i) => BigInt(i + 1))
      )
      // One trace per invocation, its children under its root.
      for (const root of roots) {
        const children = spans.filter((span) => span.traceId === root.traceId && span !== root)
        assert.deepStrictEqual(children.map((span) => span.parentSpanId), [root.spanId, root.spanId])
      }
      // 40 invocations of garbage collected away: what is left is not growing with them.
      assert.isBelow(heap[1]! - heap[0]!, 4 * 1024 * 1024, `heap grew by ${heap[1]! - heap[0]!} bytes`)
    }))

  it("with a collector down, each invocation costs at most its flush bound and answers normally", async () => {
    // A port nobody listens on: start a receiver and close it.
    const gone = await Receiver.start()
    const url = gone.url
    await gone.close()
    const results: Array<Tracing.FlushResult> = []
    const app = Serverless.make(tracing({ url }, { metrics: false }), {
      flushTimeout: "300 millis",
      onFlush: (result) => results.push(result)
    })
    try {
      for (let n = 1; n <= 3; n++) {
        const started = Date.now()
        assert.strictEqual(await app.run(request(n)), n)
        // The refused connection is retried for seconds; the invocation waits its bound only.
        assert.isBelow(Date.now() - started, 2_000, `invocation ${n} was held by the collector`)
      }
    } finally {
      await app.dispose()
    }
    assert.strictEqual(results.length, 3)
    for (const result of results) assert.strictEqual(result.complete, false)
    assert.isAbove(results[0]!.spans.pending, 0)
  })

  it("hands the flush to waitUntil and returns the result first; a failure still flushes and rejects", () =>
    withReceiver(async (receiver) => {
      const app = Serverless.make(tracing(receiver, { metrics: false }))
      const handed: Array<Promise<unknown>> = []
      try {
        const value = await app.run(request(7), { waitUntil: (promise) => handed.push(promise) })
        assert.strictEqual(value, 7)
        assert.strictEqual(handed.length, 1)
        // Returned before the stalled collector answered: nothing has arrived yet.
        assert.strictEqual(receiver.spans().length, 0)
        const flushed = (await handed[0]) as Tracing.FlushResult
        assert.strictEqual(flushed.complete, true)
        assert.strictEqual(receiver.spans().length, 3)

        const failing = Effect.fail(new Error("tool exploded")).pipe(Pipeline.run("failing-request"))
        const error = await app.run(failing).then(() => undefined, (e: unknown) => e)
        assert.instanceOf(error, Error)
        assert.strictEqual((error as Error).message, "tool exploded")
        const failed = receiver.spans().find((span) => span.name === "failing-request")
        assert.strictEqual(failed?.status.code, 2, "the failed request's span arrived, status ERROR")
      } finally {
        await app.dispose()
      }
    }, () => Respond.stall(300)))

  it("after dispose, flush says released and sends nothing", () =>
    withReceiver(async (receiver) => {
      const app = Serverless.make(tracing(receiver, { metrics: false }))
      await app.run(request(1))
      await app.dispose()
      const requests = receiver.requests.length
      const result = await app.flush()
      assert.strictEqual(result.released, true)
      assert.strictEqual(receiver.requests.length, requests)
    }))
})
