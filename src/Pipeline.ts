/**
 * Spans for the steps of an agent pipeline that are not GenAI operations themselves: the run as a
 * whole (the seed's `agent-workflow`), custom steps such as `process-document` → `parse-document`,
 * span events such as `embedding-complete`, and retries whose every attempt is visible.
 *
 * Parenting comes from Effect's fiber context: a step started inside another is its child, steps
 * run with `Effect.all(..., { concurrency })` are siblings, a failed step is ERROR with
 * `error.type`, an interrupted one (timeout, lost race) ends with `effect.fiber.interrupted`.
 * These hold for every span this library's tracer records, `Effect.withSpan` and `Effect.fn`
 * included; the combinators here add names, attributes, events and attempt numbers.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type * as Tracer from "effect/Tracer"
import { unsampledHere } from "./internal/effectTracer.ts"
import { ATTR_BELUGA_ATTEMPT } from "./internal/semconv.ts"

/**
 * Options for {@link run} and {@link step}.
 *
 * @since 0.1.0
 * @category models
 */
export interface StepOptions {
  readonly attributes?: Record<string, unknown> | undefined
  readonly kind?: Tracer.SpanKind | undefined
  /** Links to other spans, e.g. the request that queued this work. */
  readonly links?: ReadonlyArray<Tracer.SpanLink> | undefined
}

/**
 * Options for {@link run}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions extends StepOptions {
  /**
   * Start a new trace even inside another span, linked to that span. Use it for a batch job
   * whose every item should be its own trace. By default a run continues the current trace, so a
   * run inside an HTTP request handler stays in the caller's trace.
   */
  readonly newTrace?: boolean | undefined
}

/**
 * The shared span maker for runs and steps. A plain `Effect.withSpan`: the tracer records the
 * ERROR status and `error.type` of a failing span itself.
 */
const span = (name: string, options: StepOptions & { readonly root?: boolean }) => {
  const spanOptions = {
    kind: options.kind ?? "internal",
    attributes: options.attributes,
    links: options.links,
    root: options.root,
    captureStackTrace: false
  } as const
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    // Inside a trace that is not sampled, a step (not a new trace) would be a span nobody keeps:
    // it is not made at all.
    options.root === true
      ? Effect.withSpan(self, name, spanOptions)
      : Effect.withFiber((fiber) => (unsampledHere(fiber) ? self : Effect.withSpan(self, name, spanOptions)))
}

/**
 * The span for a whole run of an agent or pipeline; every step inside becomes its descendant.
 *
 * @example
 * ```ts
 * const program = agent(question).pipe(Pipeline.run("agent-workflow", { attributes: { "job.id": job.id } }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const run =
  (name: string, options: RunOptions = {}) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    options.newTrace === true
      ? Effect.flatMap(Effect.option(Effect.currentParentSpan), (parent) =>
        span(name, {
          ...options,
          root: true,
          links: parent._tag === "Some"
            ? [...(options.links ?? []), { span: parent.value, attributes: {} }]
            : options.links
        })(self))
      : span(name, options)(self)

/**
 * A custom step with attributes, as a child of whatever span is current.
 *
 * @example
 * ```ts
 * const parsed = parse(doc).pipe(Pipeline.step("parse-document", { attributes: { "document.id": doc.id } }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const step = (name: string, options: StepOptions = {}) => span(name, options)

/**
 * Adds an event to the current span, e.g. `embedding-complete` with `dimensions=1536`.
 * Outside any span it does nothing: an event is never worth failing a pipeline for.
 *
 * @example
 * ```ts
 * yield* Pipeline.event("embedding-complete", { dimensions: 1536 })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const event = (name: string, attributes?: Record<string, unknown>): Effect.Effect<void> =>
  Effect.flatMap(Effect.option(Effect.currentSpan), (current) =>
    current._tag === "None"
      ? Effect.void
      : Effect.map(Clock.currentTimeNanos, (now) => current.value.event(name, now, attributes)))

/**
 * Adds attributes to the current span (a no-op outside any span).
 *
 * @since 0.1.0
 * @category combinators
 */
export const annotate = (attributes: Record<string, unknown>): Effect.Effect<void> =>
  Effect.annotateCurrentSpan(attributes)

/**
 * The attribute that numbers attempts under {@link retry}, starting at 1.
 *
 * @since 0.1.0
 * @category attributes
 */
export const ATTR_ATTEMPT = ATTR_BELUGA_ATTEMPT

/**
 * Retries a step; each attempt is its own span (the step's span sits inside the retry) carrying
 * `beluga.attempt`, so a trace shows the failed attempts, their errors and the one that worked.
 *
 * @example
 * ```ts
 * callWeatherApi.pipe(Pipeline.step("weather-api"), Pipeline.retry({ times: 2 }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry = (policy: {
  readonly times?: number | undefined
  readonly schedule?: Schedule.Schedule<any, any, any, any> | undefined
  /** Retry only errors this accepts (default: every typed failure). */
  readonly while?: ((error: any) => boolean) | undefined
}) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    let attempt = 0
    return Effect.suspend(() => Effect.annotateSpans(self, ATTR_ATTEMPT, ++attempt)).pipe(
      Effect.retry({ times: policy.times, schedule: policy.schedule, while: policy.while })
    )
  })
