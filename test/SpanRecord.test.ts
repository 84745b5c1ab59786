/**
 * The library records its spans in its own record (`src/internal/spanRecord.ts`) instead of the OTel SDK's
 * `SpanImpl`. What the SDK span gave the rest of the pipeline must hold on the wire: ids, times from
 * Effect's clock, span limits and their dropped counts, OTel API calls on the active span, suppressed
 * tracing, a remote parent's trace state, and the sampler's say over roots.
 */
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import { assert, describe, it } from "@effect/vitest"
import * as Otel from "@opentelemetry/api"
import { suppressTracing } from "@opentelemetry/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Pipeline, Testing, Tracing } from "../src/index.ts"
import { newSpanId, newTraceId } from "../src/internal/spanRecord.ts"
import { makeReceiver, type Receiver } from "./support/receiver.ts"

const tracing = (receiver: Receiver, options: Partial<Tracing.Options> = {}) =>
  Tracing.layer({
    serviceName: "span-record",
    endpoint: receiver.url,
    batch: { scheduleDelayMillis: 60_000 },
    metrics: false,
    onWarning: (message) => assert.fail(message),
    ...options
  })

/** Runs `program` with the current services inside the OTel context `context`, as OTel-instrumented callers do. */
const inOtelContext = <A, E>(context: Otel.Context, program: Effect.Effect<A, E>) =>
  Effect.flatMap(
    Effect.context<never>(),
    (services) => Effect.promise(() => Otel.context.with(context, () => Effect.runPromiseWith(services)(program)))
  )

const named = <S extends { readonly name: string }>(spans: ReadonlyArray<S>, name: string): S => {
  const span = spans.find((s) => s.name === name)
  assert.isDefined(span, `no span named ${name}`)
  return span!
}

describe("the span record", () => {
  it("ids are lowercase hex of the right length, never all zero, and do not repeat", () => {
    const spanIds = new Set<string>()
    const traceIds = new Set<string>()
    // Enough to refill the id pool several times.
    for (let i = 0; i < 5_000; i++) {
      const spanId = newSpanId()
      const traceId = newTraceId()
      assert.match(spanId, /^[0-9a-f]{16}$/)
      assert.match(traceId, /^[0-9a-f]{32}$/)
      assert.notStrictEqual(spanId, "0".repeat(16))
      spanIds.add(spanId)
      traceIds.add(traceId)
    }
    assert.strictEqual(spanIds.size, 5_000)
    assert.strictEqual(traceIds.size, 5_000)
  })

  it.live("on the wire: times from Effect's clock, parents, kind, ids the program saw", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const before = BigInt(Date.now()) * 1_000_000n
      const seen = yield* Effect.gen(function*() {
        const step = yield* Effect.currentSpan
        yield* Effect.sleep(20)
        return { spanId: step.spanId, traceId: step.traceId }
      }).pipe(
        Effect.withSpan("timed", { kind: "client" }),
        Pipeline.run("root"),
        Effect.provide(tracing(receiver))
      )
      const after = BigInt(Date.now()) * 1_000_000n
      const spans = receiver.spans()
      const timed = named(spans, "timed")
      const root = named(spans, "root")
      assert.strictEqual(timed.spanId, seen.spanId)
      assert.strictEqual(timed.traceId, seen.traceId)
      assert.strictEqual(timed.parentSpanId, root.spanId)
      assert.isUndefined(root.parentSpanId)
      assert.strictEqual(timed.kind, 3)
      assert.strictEqual(timed.flags & 0xff, 1)
      // Within the run's wall-clock window (ms precision), and the sleep inside the span.
      assert.isTrue(timed.startTimeUnixNano >= before - 1_000_000n && timed.endTimeUnixNano <= after + 1_000_000n)
      assert.isTrue(timed.endTimeUnixNano - timed.startTimeUnixNano >= 19_000_000n)
      assert.isTrue(root.startTimeUnixNano <= timed.startTimeUnixNano && root.endTimeUnixNano >= timed.endTimeUnixNano)
      assert.deepStrictEqual(timed.scope.name, "beluga-o11y")
      assert.strictEqual(timed.resource["service.name"]?.value, "span-record")
    }))

  it.live("span limits: 128 attributes and events are kept, the rest counted as dropped; long values cut", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* Effect.gen(function*() {
        const span = yield* Effect.currentSpan
        span.attribute("test.cut", "y".repeat(300))
        for (let i = 0; i < 129; i++) span.attribute(`test.attribute.${String(i).padStart(3, "0")}`, i)
        span.attribute("test.attribute.000", "overwritten, not a new key")
        for (let i = 0; i < 131; i++) span.event(`event-${i}`, BigInt(Date.now()) * 1_000_000n)
        span.attribute("test.long", "x".repeat(300))
      }).pipe(
        Effect.withSpan("limited"),
        Effect.provide(
          tracing(receiver).pipe(
            Layer.provide(
              ConfigProvider.layer(ConfigProvider.fromEnv({ env: { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100" } }))
            )
          )
        )
      )
      const span = named(receiver.spans(), "limited")
      assert.strictEqual(Object.keys(span.attributes).length, 128)
      assert.strictEqual(span.droppedAttributesCount, 3)
      assert.deepStrictEqual(span.attributes["test.cut"], { type: "string", value: "y".repeat(100) })
      assert.deepStrictEqual(span.attributes["test.attribute.000"], {
        type: "string",
        value: "overwritten, not a new key"
      })
      // Over the count limit, so dropped; a value that fits is cut to OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.
      assert.isUndefined(span.attributes["test.long"])
      // The oldest events give way, as in the SDK.
      assert.strictEqual(span.events.length, 128)
      assert.strictEqual(span.droppedEventsCount, 3)
      assert.strictEqual(span.events[0]!.name, "event-3")
      assert.strictEqual(span.events[127]!.name, "event-130")
    }))

  it.live("OTel API calls on the active span land on the Effect span", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* Effect.sync(() => {
        const active = Otel.trace.getActiveSpan()
        assert.isDefined(active)
        assert.isTrue(active!.isRecording())
        active!.setAttribute("test.from_otel", 42)
        active!.setAttribute("test.invalid", { nested: true } as unknown as Otel.AttributeValue)
        active!.addEvent("otel-event", { "test.key": "value" }, new Date(1_700_000_000_000))
        active!.recordException(new TypeError("from a library"))
        active!.setStatus({ code: Otel.SpanStatusCode.ERROR, message: "library says no" })
      }).pipe(Pipeline.step("api-target"), Effect.provide(tracing(receiver)))
      const span = named(receiver.spans(), "api-target")
      assert.deepStrictEqual(span.attributes["test.from_otel"], { type: "int", value: 42n })
      assert.isUndefined(span.attributes["test.invalid"])
      const event = named(span.events, "otel-event")
      assert.strictEqual(event.timeUnixNano, 1_700_000_000_000_000_000n)
      assert.deepStrictEqual(event.attributes["test.key"], { type: "string", value: "value" })
      const exception = named(span.events, "exception")
      assert.deepStrictEqual(exception.attributes["exception.type"], { type: "string", value: "TypeError" })
      assert.deepStrictEqual(exception.attributes["exception.message"], { type: "string", value: "from a library" })
      assert.deepStrictEqual(span.status, { code: 2, message: "library says no" })
    }))

  it.live("OTel API tracers from the layer's provider record like the SDK's", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const answer = yield* Effect.sync(() => {
        const tracer = Otel.trace.getTracerProvider().getTracer("some-library", "1.2.3", {
          schemaUrl: "https://opentelemetry.io/schemas/1.30.0"
        })
        const linked = tracer.startSpan("linked")
        linked.end()
        return tracer.startActiveSpan("active", { kind: Otel.SpanKind.SERVER }, (active) => {
          const child = tracer.startSpan("explicit", {
            startTime: new Date(1_700_000_000_000),
            attributes: { "test.kept": "yes", "test.invalid": { nested: true } as unknown as Otel.AttributeValue },
            links: [{ context: linked.spanContext(), attributes: { "test.link": 1 } }]
          })
          child.end(new Date(1_700_000_000_250))
          tracer.startSpan("new-root", { root: true }).end()
          active.end()
          return 42
        })
      }).pipe(Pipeline.step("effect-parent"), Effect.provide(tracing(receiver)))
      assert.strictEqual(answer, 42)
      const spans = receiver.spans()
      const parent = named(spans, "effect-parent")
      const active = named(spans, "active")
      const explicit = named(spans, "explicit")
      const root = named(spans, "new-root")
      assert.deepStrictEqual(active.scope, { name: "some-library", version: "1.2.3" })
      assert.strictEqual(active.kind, 2)
      assert.strictEqual(active.parentSpanId, parent.spanId)
      assert.strictEqual(explicit.parentSpanId, active.spanId)
      assert.strictEqual(explicit.startTimeUnixNano, 1_700_000_000_000_000_000n)
      assert.strictEqual(explicit.endTimeUnixNano, 1_700_000_000_250_000_000n)
      assert.deepStrictEqual(explicit.attributes["test.kept"], { type: "string", value: "yes" })
      assert.isUndefined(explicit.attributes["test.invalid"])
      assert.strictEqual(explicit.links.length, 1)
      assert.strictEqual(explicit.links[0]!.spanId, named(spans, "linked").spanId)
      assert.deepStrictEqual(explicit.links[0]!.attributes["test.link"], { type: "int", value: 1n })
      assert.isUndefined(root.parentSpanId)
      assert.notStrictEqual(root.traceId, parent.traceId)
    }))

  it.live("suppressed tracing makes no span, as with the SDK", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* Effect.gen(function*() {
        yield* Effect.void.pipe(Effect.withSpan("kept"))
        yield* inOtelContext(suppressTracing(Otel.ROOT_CONTEXT), Effect.void.pipe(Effect.withSpan("suppressed")))
      }).pipe(Effect.provide(tracing(receiver)))
      assert.deepStrictEqual(receiver.spans().map((s) => s.name), ["kept"])
    }))

  it.live("a remote OTel parent: its trace and trace state carry to the Effect spans under it", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const remote = Otel.trace.setSpanContext(Otel.ROOT_CONTEXT, {
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7",
        traceFlags: Otel.TraceFlags.SAMPLED,
        isRemote: true,
        traceState: Otel.createTraceState("vendor=opaque")
      })
      yield* inOtelContext(remote, Effect.void.pipe(Effect.withSpan("child"), Effect.withSpan("server")))
        .pipe(Effect.provide(tracing(receiver)))
      const spans = receiver.spans()
      const server = named(spans, "server")
      const child = named(spans, "child")
      assert.strictEqual(server.traceId, "4bf92f3577b34da6a3ce929d0e0e4736")
      assert.strictEqual(server.parentSpanId, "00f067aa0ba902b7")
      assert.strictEqual(child.parentSpanId, server.spanId)
      assert.strictEqual(server.traceState, "vendor=opaque")
      assert.strictEqual(child.traceState, "vendor=opaque")
    }))

  it.effect("the sampler decides roots: traceidratio 0 keeps none, parent-based children follow", () =>
    Effect.gen(function*() {
      yield* Effect.void.pipe(Effect.withSpan("child"), Pipeline.run("root"))
      assert.lengthOf(yield* Testing.finishedSpans, 0)
    }).pipe(Effect.provide(Layer.fresh(Testing.layer({ sampler: "parentbased_traceidratio", samplerRatio: 0 })))))

  it.effect("two tracing layers built in one memo map each get their own OTel tracer and provider", () =>
    Effect.gen(function*() {
      const memo = yield* Layer.makeMemoMap
      const scope = yield* Effect.scope
      const first = yield* Layer.buildWithMemoMap(Testing.layer({ serviceName: "first" }), memo, scope)
      const second = yield* Layer.buildWithMemoMap(Testing.layer({ serviceName: "second" }), memo, scope)
      const tracerOf = (context: typeof first) => Context.get(context, OtelTracer.OtelTracer)
      assert.notStrictEqual(tracerOf(first), tracerOf(second))
      // Each tracer records into its own layer: the span goes to the second layer's spans only.
      tracerOf(second).startSpan("via the second").end()
      const spansOf = (context: typeof first) => Effect.runSync(Context.get(context, Testing.Spans).finished)
      assert.deepStrictEqual(spansOf(second).map((span) => span.name), ["via the second"])
      assert.deepStrictEqual(spansOf(first).map((span) => span.name), [])
    }))
})
