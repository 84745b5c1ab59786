/**
 * Testing support: a tracing layer that keeps finished spans in memory, a service to read them,
 * and helpers that assert a span tree by name, parent, kind, attributes, status and events.
 *
 * ```ts
 * it.effect("chat is a child of the run", () =>
 *   Effect.gen(function*() {
 *     yield* myAgent
 *     Testing.expectTree(yield* Testing.finishedSpans, {
 *       name: "agent-workflow",
 *       children: [{ name: "chat sim-gpt-4o", kind: "client" }]
 *     })
 *   }).pipe(Effect.provide(Testing.layer())))
 * ```
 *
 * @since 0.1.0
 */
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Tracer from "effect/Tracer"
import * as Config from "./internal/config.ts"
import { noDeliveries } from "./internal/exporter.ts"
import { nothingFlushed } from "./internal/flush.ts"
import { CurrentRecorder } from "./internal/metrics.ts"
import * as Prices from "./internal/prices.ts"
import type * as Shutdown from "./internal/shutdown.ts"
import { renderTrace } from "./internal/terminal.ts"
import * as TracePipeline from "./internal/tracePipeline.ts"
import { compose } from "./internal/tracing.ts"
import { toOverrides } from "./internal/tracingOptions.ts"
import * as Tracing from "./Tracing.ts"

/**
 * Finished spans, in the order they ended. The exporter behind it clears on shutdown, so read
 * spans while the layer is alive (inside the test's effect).
 *
 * @since 0.1.0
 * @category services
 */
export class Spans extends Context.Service<Spans, {
  readonly finished: Effect.Effect<ReadonlyArray<ReadableSpan>>
  readonly reset: Effect.Effect<void>
}>()("beluga-o11y/Testing/Spans") {}

/**
 * The spans finished so far.
 *
 * @since 0.1.0
 * @category accessors
 */
export const finishedSpans: Effect.Effect<ReadonlyArray<ReadableSpan>, never, Spans> = Effect.flatMap(
  Effect.service(Spans),
  (spans) => spans.finished
)

/**
 * One GenAI metric series as recorded so far (since the layer started): the histogram's name, the
 * point's attributes, and its count, sum, smallest and largest measurement.
 *
 * @since 0.3.0
 * @category models
 */
export interface MetricSeries {
  readonly name: string
  readonly attributes: Readonly<Record<string, string | number | boolean>>
  readonly count: number
  readonly sum: number
  readonly min: number
  readonly max: number
}

/**
 * The GenAI metrics the layer has recorded (every `gen_ai.*` histogram series), for asserting on
 * token usage, call counts and durations in tests. Empty outside a `Testing` or `Tracing` layer.
 *
 * @example
 * ```ts
 * const tokens = (yield* Testing.metrics).filter((m) => m.name === "gen_ai.client.token.usage")
 * ```
 *
 * @since 0.3.0
 * @category accessors
 */
export const metrics: Effect.Effect<ReadonlyArray<MetricSeries>> = Effect.withFiber((fiber) => {
  const recorder = fiber.getRef(CurrentRecorder)
  if (recorder === undefined) return Effect.succeed([])
  return Effect.succeed(
    [...recorder.summary()].flatMap(([name, series]) =>
      series.map((s) => ({ name, attributes: s.attributes, count: s.count, sum: s.sum, min: s.min, max: s.max }))
    )
  )
})

/**
 * The layers of `Tracing.layer` around an in-memory exporter: the same tracer provider, processors
 * and sampler, so a test sees the spans a program would export.
 */
const build = <E>(
  options: Tracing.Options,
  load: Effect.Effect<Config.Settings, E>
): Layer.Layer<Spans | Tracing.Provides, E | Config.TracingConfigError> =>
  Layer.unwrap(Effect.map(
    Effect.flatMap(load, (settings) =>
      Effect.map(Prices.load(settings.pricesFile, options.prices), (prices) => ({ settings, prices }))),
    ({ settings, prices }) => {
      const exporter = new InMemorySpanExporter()
      const spans = TracePipeline.inMemory(exporter)
      // Off unless asked: tests build many layers, and the global OTel API holds one at a time.
      const registerGlobal = options.registerGlobal === true
      const shutdown: Shutdown.Policy = {
        timeout: options.shutdownTimeout ?? 1000,
        warn: options.onWarning ?? (() => {})
      }
      return Layer.mergeAll(
        compose(settings, spans, {
          shutdown,
          registerGlobal,
          prices,
          redact: options.redact,
          // The GenAI metrics, in memory, for `metrics` above.
          metrics: { record: true }
        }),
        Layer.succeed(
          Tracing.Delivery,
          Tracing.Delivery.of({
            stats: Effect.sync(spans.stats),
            metricStats: Effect.succeed(noDeliveries),
            logStats: Effect.succeed(noDeliveries),
            // In memory, every span is readable the moment it ends: there is never anything to send.
            flush: () =>
              Effect.succeed(nothingFlushed(false))
          })
        ),
        Layer.succeed(
          Spans,
          Spans.of({
            finished: Effect.sync(() => exporter.getFinishedSpans()),
            reset: Effect.sync(() => exporter.reset())
          })
        )
      )
    }
  ))

/**
 * In-memory tracing for tests, configured only by `options`: the environment is ignored, so a
 * developer's `OTEL_*` variables cannot change a test's outcome. It does not register with the
 * global OTel API unless `registerGlobal: true`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Tracing.Options = {}): Layer.Layer<Spans | Tracing.Provides> =>
  // An empty environment names no prices file: nothing here can fail but a bad option, a defect in a test.
  Layer.orDie(build(
    options,
    Config.load(toOverrides({ serviceName: "test", ...options })).pipe(
      Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} })))
    )
  ))

/**
 * In-memory tracing configured like `Tracing.layer`: from the current `ConfigProvider`, with
 * `options` on top. For testing configuration itself.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromConfig = (
  options: Tracing.Options = {}
): Layer.Layer<Spans | Tracing.Provides, Config.TracingConfigError> => build(options, Config.load(toOverrides(options)))

// -----------------------------------------------------------------------------
// Span tree assertions
// -----------------------------------------------------------------------------

/**
 * The expected shape of a span and, optionally, its children.
 *
 * @since 0.1.0
 * @category assertions
 */
export interface ExpectedSpan {
  readonly name: string
  readonly kind?: Tracer.SpanKind | undefined
  /** Each listed attribute must be present with this exact value (and so type). */
  readonly attributes?: Readonly<Record<string, unknown>> | undefined
  /** Attribute keys that must be absent. */
  readonly absent?: ReadonlyArray<string> | undefined
  readonly status?: "unset" | "ok" | "error" | undefined
  /** Events that must be present, in order, each with at least these attributes. */
  readonly events?: ReadonlyArray<{ readonly name: string; readonly attributes?: Record<string, unknown> }> | undefined
  /** When given, the span has exactly these children (in any order). */
  readonly children?: ReadonlyArray<ExpectedSpan> | undefined
}

const kinds: Record<Tracer.SpanKind, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER
}
const statuses = { unset: SpanStatusCode.UNSET, ok: SpanStatusCode.OK, error: SpanStatusCode.ERROR } as const

const sameValue = (a: unknown, b: unknown): boolean =>
  Array.isArray(a) && Array.isArray(b)
    ? a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
    : Object.is(a, b)

const show = (value: unknown) =>
  typeof value === "string" ? JSON.stringify(value) : `${String(value)} (${typeof value})`

/** Why `span` does not match `expected` (its own fields, not its children), or undefined. */
const mismatch = (span: ReadableSpan, expected: ExpectedSpan): string | undefined => {
  if (span.name !== expected.name) return `name ${JSON.stringify(span.name)} ≠ ${JSON.stringify(expected.name)}`
  if (expected.kind !== undefined && span.kind !== kinds[expected.kind]) {
    return `${span.name}: kind ${SpanKind[span.kind]} ≠ ${expected.kind}`
  }
  if (expected.status !== undefined && span.status.code !== statuses[expected.status]) {
    return `${span.name}: status ${SpanStatusCode[span.status.code]} ≠ ${expected.status}`
  }
  for (const [key, value] of Object.entries(expected.attributes ?? {})) {
    if (!sameValue(span.attributes[key], value)) {
      return `${span.name}: attribute ${key} is ${show(span.attributes[key])}, expected ${show(value)}`
    }
  }
  for (const key of expected.absent ?? []) {
    if (key in span.attributes) {
      return `${span.name}: attribute ${key} should be absent, is ${show(span.attributes[key])}`
    }
  }
  let from = 0
  for (const event of expected.events ?? []) {
    const index = span.events.findIndex((e, i) =>
      i >= from && e.name === event.name &&
      Object.entries(event.attributes ?? {}).every(([k, v]) => sameValue(e.attributes?.[k], v))
    )
    if (index < 0) {
      return `${span.name}: no event ${event.name} with ${JSON.stringify(event.attributes ?? {})}; events: ${
        JSON.stringify(span.events.map((e) => ({ name: e.name, attributes: e.attributes })))
      }`
    }
    from = index + 1
  }
  return undefined
}

const childrenOf = (spans: ReadonlyArray<ReadableSpan>, parent: ReadableSpan) =>
  spans.filter((s) =>
    s.parentSpanContext?.spanId === parent.spanContext().spanId &&
    s.spanContext().traceId === parent.spanContext().traceId
  )

/** Matches `span` and its subtree against `expected`; a list of problems, empty when it matches. */
const matchTree = (spans: ReadonlyArray<ReadableSpan>, span: ReadableSpan, expected: ExpectedSpan): Array<string> => {
  const own = mismatch(span, expected)
  if (own !== undefined) return [own]
  if (expected.children === undefined) return []
  const actual = childrenOf(spans, span)
  if (actual.length !== expected.children.length) {
    return [
      `${span.name}: ${actual.length} children [${
        actual.map((s) => s.name).join(", ")
      }], expected ${expected.children.length} [${expected.children.map((c) => c.name).join(", ")}]`
    ]
  }
  // Assign each expected child to a distinct actual child that matches its whole subtree.
  const used = new Set<ReadableSpan>()
  for (const child of expected.children) {
    const candidates = actual.filter((s) => !used.has(s) && s.name === child.name)
    const problems: Array<string> = []
    const found = candidates.find((candidate) => {
      const result = matchTree(spans, candidate, child)
      problems.push(...result)
      return result.length === 0
    })
    if (found === undefined) return problems.length > 0 ? problems : [`${span.name}: no child named ${child.name}`]
    used.add(found)
  }
  return []
}

/**
 * Asserts that `spans` contain a tree of this shape, rooted at a span named `expected.name`
 * (the first that matches). Throws an error that shows the problem and the actual trees.
 *
 * @since 0.1.0
 * @category assertions
 */
export const expectTree = (spans: ReadonlyArray<ReadableSpan>, expected: ExpectedSpan): ReadableSpan => {
  const roots = spans.filter((s) => s.name === expected.name)
  const problems: Array<string> = []
  for (const root of roots) {
    const result = matchTree(spans, root, expected)
    if (result.length === 0) return root
    problems.push(...result)
  }
  throw new Error(
    `span tree mismatch: ${
      roots.length === 0 ? `no span named ${JSON.stringify(expected.name)}` : problems.join("; ")
    }\n` +
      `actual spans:\n${render(spans)}`
  )
}

/**
 * The one span named `name`; throws (listing the names present) when there is none or several.
 *
 * @since 0.1.0
 * @category assertions
 */
export const spanNamed = (spans: ReadonlyArray<ReadableSpan>, name: string): ReadableSpan => {
  const found = spans.filter((s) => s.name === name)
  if (found.length !== 1) {
    throw new Error(
      `expected one span named ${JSON.stringify(name)}, found ${found.length} among: ${
        spans.map((s) => s.name).join(", ")
      }`
    )
  }
  return found[0]!
}

/**
 * The spans as indented trees, for failure messages and debugging.
 *
 * @since 0.1.0
 * @category assertions
 */
export const render = (spans: ReadonlyArray<ReadableSpan>): string => {
  const byTrace = new Map<string, Array<ReadableSpan>>()
  for (const span of spans) {
    const list = byTrace.get(span.spanContext().traceId) ?? []
    list.push(span)
    byTrace.set(span.spanContext().traceId, list)
  }
  return [...byTrace.values()].map((trace) => renderTrace(trace)).join("")
}
