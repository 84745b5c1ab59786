/**
 * The Effect `Tracer` that writes OpenTelemetry spans: the library's own span record
 * (`spanRecord.ts`), which the SDK's span processors and exporters take like an SDK span.
 *
 * `@effect/opentelemetry`'s `OtelTracer` does the same job and stays this library's integration
 * point (its `OtelTracer`/`OtelTracerProvider`/`Resource` services are what we provide), but two
 * of its choices conflict with the conventions this library promises:
 * - it sets status OK on every successful span, where the OTel spec says instrumentation should
 *   leave the status unset and the GenAI conventions say so explicitly;
 * - it sets attributes only after the span has started, so a sampler never sees the
 *   sampling-relevant GenAI attributes the conventions ask to be present at start.
 * So this tracer starts spans with the attributes a combinator passes through the span's
 * annotations ({@link StartAttributes}), leaves the status unset on success, and otherwise
 * behaves like the upstream one: parents from the fiber, OTel parents when there is no Effect
 * parent, exceptions and ERROR on failure, `effect.fiber.interrupted` on interruption.
 */
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import * as Otel from "@opentelemetry/api"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { toAttributeValue, wellFormed } from "./attributes.ts"
import * as EffectAi from "./effectAiSpans.ts"
import { errorType } from "./errors.ts"
import { hasContextManager } from "./global.ts"
import * as N from "./semconv.ts"
import { RecordedSpan, type SpanSource, toHrTime } from "./spanRecord.ts"

/**
 * Attributes to set when the span starts (visible to the sampler), carried in the span's
 * annotations because Effect's `Tracer.span` receives no attributes. Already valid OTel values
 * (see `toAttributes`): the producer converts once and reuses them for every span.
 */
export class StartAttributes extends Context.Service<StartAttributes, Otel.Attributes>()(
  "beluga-o11y/internal/StartAttributes"
) {}

const kinds: Record<Tracer.SpanKind, Otel.SpanKind> = {
  internal: Otel.SpanKind.INTERNAL,
  client: Otel.SpanKind.CLIENT,
  server: Otel.SpanKind.SERVER,
  producer: Otel.SpanKind.PRODUCER,
  consumer: Otel.SpanKind.CONSUMER
}

const emptyContext = Context.empty()

const isSampled = (flags: Otel.TraceFlags) => (flags & Otel.TraceFlags.SAMPLED) === Otel.TraceFlags.SAMPLED

// Marks the OTel span that Effect itself made active, so re-entry does not treat it as a parent.
const EffectSpanKey = Otel.createContextKey("beluga-o11y/EffectSpan")
class OtelParentSpanContext extends Context.Service<OtelParentSpanContext, Otel.SpanContext>()(
  "beluga-o11y/internal/OtelParentSpanContext"
) {}

export class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly name: string
  readonly kind: Tracer.SpanKind
  readonly annotations: Context.Context<never>
  readonly links: Array<Tracer.SpanLink>
  /** The OTel span: a {@link RecordedSpan} when recorded, else a non-recording span with the context. */
  readonly span: Otel.Span
  readonly record: RecordedSpan | undefined
  readonly spanId: string
  readonly traceId: string
  readonly sampled: boolean
  readonly parent: Option.Option<Tracer.AnySpan>
  status: Tracer.SpanStatus
  /**
   * Called once as the span ends, with how it ended. The GenAI metrics record a failed call's
   * duration here: a hook on the span costs a call that succeeds nothing, where another Effect
   * frame around every call cost a quarter of the metrics.
   */
  onEnd: ((exit: Exit.Exit<unknown, unknown>) => void) | undefined = undefined
  /** The OTel context that makes this span the parent, kept for its children (see `withParent`). */
  private childContext: Otel.Context | undefined = undefined
  private childContextBase: Otel.Context | undefined = undefined
  private effectContext: Otel.Context | undefined = undefined
  private effectContextBase: Otel.Context | undefined = undefined

  /** Set for a model span of effect/ai's, which this tracer writes by the conventions (see `effectAiSpans.ts`). */
  private readonly ai: EffectAi.InferenceRule | undefined

  constructor(
    source: SpanSource,
    options: Parameters<Tracer.Tracer["span"]>[0],
    ai?: EffectAi.InferenceRule | undefined
  ) {
    this.name = options.name
    this.kind = ai?.kind ?? options.kind
    this.ai = ai
    this.annotations = options.annotations
    this.links = options.links
    const active = baseContext()
    // A transparent span's children belong to its nearest real ancestor.
    const parent = options.parent._tag === "Some" && options.parent.value instanceof TransparentSpan
      ? Option.fromNullishOr(options.parent.value.target)
      : options.parent
    let context: Otel.Context
    if (parent._tag === "Some") {
      this.parent = parent
      context = withParent(active, parent.value)
    } else if (options.root) {
      this.parent = parent
      context = Otel.trace.getSpan(active) === undefined ? active : Otel.trace.deleteSpan(active)
    } else {
      // No Effect parent: an active OTel span (from OTel-instrumented code) is the parent.
      this.parent = otelParent(active, options.annotations)
      context = this.parent._tag === "None" && Otel.trace.getSpan(active) !== undefined
        ? Otel.trace.deleteSpan(active)
        : active
    }
    // A recorded parent's context is valid by construction: no lookup, no validation.
    const parentContext =
      parent._tag === "Some" && parent.value instanceof RecordingSpan && parent.value.record !== undefined
        ? parent.value.record.spanContext()
        : validSpanContext(context)
    this.span = source.start(
      wellFormed(options.name),
      kinds[this.kind],
      options.startTime,
      // Most spans have no annotations: Effect passes its one empty context, which needs no lookup.
      options.annotations === emptyContext ? undefined : Context.getOrUndefined(options.annotations, StartAttributes),
      options.links.length > 0 ? options.links.map(toOtelLink) : undefined,
      context,
      parentContext
    )
    this.record = this.span instanceof RecordedSpan ? this.span : undefined
    const spanContext = this.span.spanContext()
    this.spanId = spanContext.spanId
    this.traceId = spanContext.traceId
    this.sampled = isSampled(spanContext.traceFlags)
    this.status = { _tag: "Started", startTime: options.startTime }
  }

  /** Read back from the OTel span (sanitized values), so recording needs no second map. */
  get attributes(): ReadonlyMap<string, unknown> {
    return new Map(Object.entries(this.record?.attributes ?? {}))
  }

  /** The context with this span as the active OTel span, built once per base context. */
  contextFor(base: Otel.Context): Otel.Context {
    if (this.childContextBase !== base || this.childContext === undefined) {
      this.childContextBase = base
      this.childContext = Otel.trace.setSpan(base, this.span)
    }
    return this.childContext
  }

  /** {@link effectContext} for this span, likewise built once per base context. */
  effectContextFor(base: Otel.Context): Otel.Context {
    if (this.effectContextBase !== base || this.effectContext === undefined) {
      this.effectContextBase = base
      this.effectContext = this.contextFor(base).setValue(EffectSpanKey, this.span)
    }
    return this.effectContext
  }

  attribute(key: string, value: unknown): void {
    // A span the sampler dropped records nothing: skip the sanitizing too.
    const record = this.record
    if (record === undefined || this.status._tag === "Ended") return
    if (this.ai !== undefined && EffectAi.isDropped(key, value)) return
    const attribute = toAttributeValue(value)
    if (attribute !== undefined) record.put(wellFormed(key), attribute)
  }

  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    const record = this.record
    if (record === undefined || this.status._tag === "Ended") return
    if (attributes !== undefined && N.EFFECT_LOG_LEVEL_KEY in attributes) attributes = logEventAttributes(attributes)
    record.eventAt(wellFormed(name), attributes !== undefined ? toAttributes(attributes) : undefined, startTime)
  }

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    if (this.status._tag === "Ended") return
    this.links.push(...links)
    this.span.addLinks(links.map(toOtelLink))
  }

  /** An effect/ai model span's name and operation, from what its provider annotated. */
  private nameByConventions(record: RecordedSpan, rule: EffectAi.InferenceRule): void {
    const attributes = record.attributes
    record.updateName(wellFormed(EffectAi.spanName(rule, attributes)))
    if (attributes[N.ATTR_GEN_AI_OPERATION_NAME] === undefined) record.put(N.ATTR_GEN_AI_OPERATION_NAME, rule.operation)
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    if (this.status._tag === "Ended") return
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    const onEnd = this.onEnd
    if (onEnd !== undefined) {
      this.onEnd = undefined
      try {
        onEnd(exit)
      } catch {
        // A hook must not keep the span from ending.
      }
    }
    const record = this.record
    // Not recorded: the non-recording OTel span has nothing to end.
    if (record === undefined) return
    if (this.ai !== undefined) this.nameByConventions(record, this.ai)
    // Success leaves the status unset, as the OTel spec asks of instrumentation.
    if (exit._tag === "Failure") {
      if (Cause.hasInterruptsOnly(exit.cause)) {
        record.put(N.ATTR_EFFECT_FIBER_INTERRUPTED, true)
      } else {
        const time = toHrTime(endTime)
        const errors = Cause.prettyErrors(exit.cause, { includeCauseInStack: true })
        for (const error of errors) {
          record.recordException({
            name: wellFormed(error.name),
            message: wellFormed(error.message),
            ...(error.stack !== undefined ? { stack: wellFormed(error.stack) } : {})
          }, time)
        }
        const first = errors[0]
        record.setStatus({
          code: Otel.SpanStatusCode.ERROR,
          ...(first !== undefined ? { message: wellFormed(first.message) } : {})
        })
        // An error type the instrumentation set already (a provider's code) is more specific.
        const type = errorType(exit.cause)
        if (type !== undefined && record.attributes[N.ATTR_ERROR_TYPE] === undefined) {
          record.put(N.ATTR_ERROR_TYPE, type)
        }
      }
    }
    record.endAt(endTime)
  }
}

/**
 * Effect's own span, not sampled: what a dropped root is under `always_off` or a disabled layer.
 * Its options are Effect's, passed as they are; a copy with `sampled: false` cost an object per span.
 */
class UnsampledSpan extends Tracer.NativeSpan {
  constructor(options: Parameters<Tracer.Tracer["span"]>[0]) {
    super(options)
    ;(this as { sampled: boolean }).sampled = false
  }
}

/**
 * A span that is not recorded: effect/ai's wrappers around a model call (`Chat.generateText`, …).
 * It stands for its nearest real ancestor, `target`: children are parented by it, and propagation
 * sends its context.
 */
export class TransparentSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly name: string
  readonly kind: Tracer.SpanKind
  readonly annotations: Context.Context<never>
  readonly links: Array<Tracer.SpanLink>
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly target: Tracer.AnySpan | undefined
  readonly spanId: string
  readonly traceId: string
  readonly sampled: boolean
  status: Tracer.SpanStatus

  constructor(options: Parameters<Tracer.Tracer["span"]>[0]) {
    this.name = options.name
    this.kind = options.kind
    this.annotations = options.annotations
    this.links = options.links
    this.parent = options.parent
    const parent = Option.getOrUndefined(options.parent)
    this.target = parent instanceof TransparentSpan ? parent.target : parent
    this.spanId = this.target?.spanId ?? Otel.INVALID_SPANID
    this.traceId = this.target?.traceId ?? Otel.INVALID_TRACEID
    this.sampled = this.target?.sampled ?? options.sampled
    this.status = { _tag: "Started", startTime: options.startTime }
  }

  get attributes(): ReadonlyMap<string, unknown> {
    return new Map()
  }
  attribute(): void {}
  event(): void {}
  addLinks(): void {}
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    if (this.status._tag === "Started") this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
  }
}

/**
 * Effect's logger writes each log inside a span as an event with `effect.fiberId` and
 * `effect.logLevel`; camelCase breaks the attribute naming rules, so they are written
 * `effect.fiber.id` and `effect.log.level` (registered in `semconv/`).
 */
const logEventAttributes = (attributes: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key in attributes) {
    out[
      key === N.EFFECT_LOG_LEVEL_KEY
        ? N.ATTR_EFFECT_LOG_LEVEL
        : key === N.EFFECT_FIBER_ID_KEY
        ? N.ATTR_EFFECT_FIBER_ID
        : key
    ] = attributes[key]
  }
  return out
}

export const toAttributes = (record: Record<string, unknown>): Otel.Attributes => {
  const attributes: Otel.Attributes = {}
  for (const key in record) {
    const value = toAttributeValue(record[key])
    if (value !== undefined) attributes[wellFormed(key)] = value
  }
  return attributes
}

const toOtelLink = (link: Tracer.SpanLink): Otel.Link => ({
  context: spanContextOf(link.span),
  attributes: toAttributes(link.attributes)
})

/** An OTel span that is active in the OTel context (and not one Effect put there) becomes the parent. */
const otelParent = (active: Otel.Context, annotations: Context.Context<never>): Option.Option<Tracer.AnySpan> => {
  const span = Otel.trace.getSpan(active)
  if (span === undefined || span === active.getValue(EffectSpanKey)) return Option.none()
  const parent = span.spanContext()
  if (!Otel.trace.isSpanContextValid(parent)) return Option.none()
  return Option.some(Tracer.externalSpan({
    spanId: parent.spanId,
    traceId: parent.traceId,
    sampled: isSampled(parent.traceFlags),
    annotations: Context.add(annotations, OtelParentSpanContext, parent)
  }))
}

/** The valid span context of the span active in `context`, if any: the parent the SDK would take. */
const validSpanContext = (context: Otel.Context): Otel.SpanContext | undefined => {
  const parent = Otel.trace.getSpanContext(context)
  return parent !== undefined && Otel.trace.isSpanContextValid(parent) ? parent : undefined
}

const withParent = (context: Otel.Context, span: Tracer.AnySpan): Otel.Context => {
  const parent = span instanceof TransparentSpan ? span.target : span
  if (parent === undefined) return Otel.trace.deleteSpan(context)
  // A RecordingSpan keeps the context it makes per base context: its children, started one after the
  // other from the same base, share it instead of each copying the context's map.
  return parent instanceof RecordingSpan
    ? parent.contextFor(context)
    : Otel.trace.setSpanContext(context, spanContextOf(parent))
}

/** The OTel span context of an Effect span, honouring the trace flags and state `OtelTracer` carries. */
export const spanContextOf = (span: Tracer.AnySpan): Otel.SpanContext => {
  if (span instanceof RecordingSpan) return span.span.spanContext()
  if (span instanceof TransparentSpan) {
    return span.target !== undefined ? spanContextOf(span.target) : Otel.INVALID_SPAN_CONTEXT
  }
  const otel = Context.getOrUndefined(span.annotations, OtelParentSpanContext)
  if (otel !== undefined) return otel
  // `@effect/opentelemetry`'s own spans keep the OTel span too.
  const upstream = (span as { readonly span?: { readonly spanContext?: unknown } }).span
  if (upstream !== undefined && typeof upstream.spanContext === "function") {
    return (upstream as Otel.Span).spanContext()
  }
  const traceState = Context.getOrUndefined(span.annotations, OtelTracer.OtelTraceState)
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    isRemote: span._tag === "ExternalSpan",
    traceFlags: Context.getOrUndefined(span.annotations, OtelTracer.OtelTraceFlags) ??
      (span.sampled ? Otel.TraceFlags.SAMPLED : Otel.TraceFlags.NONE),
    ...(traceState !== undefined ? { traceState } : {})
  }
}

const propagated = (span: Tracer.AnySpan | undefined): Tracer.AnySpan | undefined => {
  // Effect asks the tracer for no span with propagation disabled (it makes a no-op span itself), so
  // a span of ours propagates: no lookup on the hot path of every user-code primitive.
  if (span instanceof RecordingSpan) return span
  while (span !== undefined && Context.get(span.annotations, Tracer.DisablePropagation)) {
    span = span._tag === "Span" ? Option.getOrUndefined(span.parent) : undefined
  }
  return span
}

/**
 * The Effect tracer. When an OTel context manager is installed, the current Effect span is also
 * made the active OTel span while Effect code runs, so OTel-instrumented libraries called from
 * inside an Effect span create their spans as its children. Without one that work is skipped.
 */
export const make = (
  source: SpanSource,
  config: {
    /**
     * The sampler never samples a child of an unsampled parent (`parentbased_*`, `always_off`): such a
     * child is then a {@link TransparentSpan} standing for its parent instead of a non-recording OTel
     * span, and the library's combinators skip the span altogether (see {@link unsampledHere}).
     */
    readonly unsampledChildren?: boolean | undefined
    /**
     * Nothing is ever sampled (`always_off`, or the SDK disabled): a root is Effect's own native span,
     * marked not sampled, its children stand for it, and no OTel context is set around user code. A span then costs what
     * it costs without this library. OTel-instrumented libraries still get non-recording spans from
     * the same sampler, but not the Effect span as their parent: a `traceparent` they send carries a
     * trace id of their own, with the same "not sampled" flag.
     */
    readonly neverSampled?: boolean | undefined
  } = {}
): Tracer.Tracer => {
  if (config.neverSampled === true) {
    return mark(
      Tracer.make({
        span: (options) =>
          isUnsampledChild(options)
            ? new TransparentSpan(options)
            : new UnsampledSpan(options)
      }),
      true
    )
  }
  const unsampledChildren = config.unsampledChildren === true
  const span: Tracer.Tracer["span"] = (options) => {
    if (unsampledChildren && isUnsampledChild(options)) return new TransparentSpan(options)
    const rule = EffectAi.rules.get(options.name)
    if (rule === undefined) return new RecordingSpan(source, options)
    return rule._tag === "Transparent" ? new TransparentSpan(options) : new RecordingSpan(source, options, rule)
  }
  if (!hasContextManager()) return mark(Tracer.make({ span }), unsampledChildren)
  const manager = registeredFiberContextManager()
  if (manager !== undefined) {
    return mark(
      Tracer.make({
        span,
        context<X>(primitive: Tracer.EffectPrimitive<X>, fiber: Fiber.Fiber<any, any>): X {
          // Synchronous code reads its context off the fiber (see FiberContextManager); only a
          // callback or promise started in a span needs the context carried into what runs later.
          const inSpan = (fiber as unknown as { cache: { span?: Tracer.AnySpan } }).cache.span
          if (inSpan === undefined || (primitive as unknown as Record<string, string>)[identifier] !== "Async") {
            return primitive[evaluate](fiber)
          }
          const current = propagated(inSpan)
          if (current === undefined) return primitive[evaluate](fiber)
          const base = manager.inner.active()
          const context = current instanceof RecordingSpan
            ? current.effectContextFor(base)
            : effectContext(base, current)
          return manager.inner.with(context, evaluatePrimitive<X>, undefined, primitive, fiber)
        }
      }),
      unsampledChildren,
      true
    )
  }
  return mark(
    Tracer.make({
      span,
      context<X>(primitive: Tracer.EffectPrimitive<X>, fiber: Fiber.Fiber<any, any>): X {
        // Another context manager than this library's knows nothing of fibers: the context is set
        // around the primitives that run the user's own code in a span. Setting it around every
        // other step would cost a context switch each. The span is read first: the fiber is one
        // class, a primitive one of many.
        const inSpan = (fiber as unknown as { cache: { span?: Tracer.AnySpan } }).cache.span
        if (inSpan === undefined || !userCode.has((primitive as unknown as Record<string, string>)[identifier]!)) {
          return primitive[evaluate](fiber)
        }
        const current = propagated(inSpan)
        if (current === undefined) return primitive[evaluate](fiber)
        const base = Otel.context.active()
        const context = current instanceof RecordingSpan ? current.effectContextFor(base) : effectContext(base, current)
        // `with`'s extra arguments instead of a closure: this runs for every user-code primitive.
        return Otel.context.with(context, evaluatePrimitive<X>, undefined, primitive, fiber)
      }
    }),
    unsampledChildren
  )
}

/**
 * A span whose parent is not sampled, made where the sampler follows the parent: it would be a
 * non-recording span with a span id of its own that nothing ever sees (its context carries the
 * parent's "not sampled" flag either way). Effect never asks for a span with propagation
 * disabled (see `propagated`), so there is no such annotation to look for.
 */
const isUnsampledChild = (options: Parameters<Tracer.Tracer["span"]>[0]): boolean =>
  options.parent._tag === "Some" && !options.parent.value.sampled

const evaluate = "~effect/Effect/evaluate"
const evaluatePrimitive = <X>(primitive: Tracer.EffectPrimitive<X>, fiber: Fiber.Fiber<any, any>): X =>
  primitive[evaluate](fiber)
const identifier = "~effect/Effect/identifier"
/**
 * The Effect primitives that call user code: `Effect.sync`/`try` (Sync), `Effect.promise`/
 * `tryPromise`/`callback` (Async), `Effect.suspend` (Suspend) and `Effect.gen` bodies (Iterator).
 */
const userCode = new Set(["Sync", "Async", "Suspend", "Iterator"])

/** The OTel context while Effect code runs inside `span`: the span is active, marked as Effect's. */
const effectContext = (base: Otel.Context, span: Tracer.AnySpan): Otel.Context => {
  const context = withParent(base, span)
  return context.setValue(EffectSpanKey, Otel.trace.getSpan(context))
}

// Global keys, so that two copies of the library in one process (an app and a dependency on
// different versions) recognise each other's tracer; they keep their first spelling for that reason.
const libraryTracer = Symbol.for("beluga-o11y/SdkTracer")
const skipsUnsampled = Symbol.for("beluga-o11y/SdkTracer/skipsUnsampled")
const readsFiber = Symbol.for("beluga-o11y/SdkTracer/readsFiber")
const mark = (tracer: Tracer.Tracer, unsampledChildren: boolean, fiberContext = false): Tracer.Tracer =>
  Object.assign(tracer, { [libraryTracer]: true, [skipsUnsampled]: unsampledChildren, [readsFiber]: fiberContext })

/**
 * The OTel context manager this library registers, around the platform's own (AsyncLocalStorage on
 * Node, Bun and Deno). While a fiber of this library's tracer runs, the active context is made from
 * the fiber's current Effect span when it is asked for, so OTel-instrumented code called from any
 * Effect code finds the span as its parent: a generator's body after a `yield*` too, which no
 * context set around a single step would reach. And nothing is switched around each step.
 *
 * An explicit `context.with` (or a function from `bind`) wins inside its callback, as it does with
 * any context manager. Work that outlives the step it started in, a promise or a callback, takes its
 * context from the platform's manager: the tracer sets that around `Effect.promise`, `tryPromise`
 * and `callback`.
 */
export class FiberContextManager implements Otel.ContextManager {
  /** The one last enabled and not disabled since: the one registered (see `register` in `global.ts`). */
  static enabled: FiberContextManager | undefined = undefined
  /** The fiber inside an explicit `with`: there the context is the one `with` set, not its span's. */
  private shadowed: Fiber.Fiber<unknown, unknown> | undefined = undefined

  constructor(readonly inner: Otel.ContextManager) {}

  active(): Otel.Context {
    const base = this.inner.active()
    const fiber = Fiber.getCurrent()
    if (fiber === undefined || fiber === this.shadowed) return base
    const cache = (fiber as unknown as { cache: { span?: Tracer.AnySpan; tracer?: { [readsFiber]?: boolean } } }).cache
    if (cache.span === undefined || cache.tracer?.[readsFiber] !== true) return base
    const current = propagated(cache.span)
    if (current === undefined) return base
    return current instanceof RecordingSpan ? current.effectContextFor(base) : effectContext(base, current)
  }

  with<A extends Array<unknown>, F extends (...args: A) => ReturnType<F>>(
    context: Otel.Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const shadowed = this.shadowed
    this.shadowed = Fiber.getCurrent()
    try {
      return this.inner.with(context, fn, thisArg, ...args)
    } finally {
      this.shadowed = shadowed
    }
  }

  bind<T>(context: Otel.Context, target: T): T {
    // Event emitters keep the platform manager's binding of their listeners.
    if (typeof target !== "function") return this.inner.bind(context, target)
    const run = this.with.bind(this)
    const fn = target as unknown as (...args: Array<unknown>) => unknown
    return function(this: unknown, ...args: Array<unknown>) {
      return run(context, fn, this, ...args)
    } as unknown as T
  }

  enable(): this {
    this.inner.enable()
    FiberContextManager.enabled = this
    return this
  }

  disable(): this {
    this.inner.disable()
    if (FiberContextManager.enabled === this) FiberContextManager.enabled = undefined
    return this
  }
}

/** The {@link FiberContextManager} registered globally (by this copy of the library), if it is. */
const registeredFiberContextManager = (): FiberContextManager | undefined => {
  // `_getContextManager` is the API's own accessor for what is registered; it is not in its types.
  const manager = (Otel.context as unknown as { _getContextManager?: () => unknown })._getContextManager?.()
  return manager instanceof FiberContextManager ? manager : undefined
}

/**
 * The context the platform's manager holds, without the fiber's span: a span starting reads its
 * parent off the fiber itself.
 */
const baseContext = (): Otel.Context => {
  const manager = FiberContextManager.enabled
  return manager !== undefined ? manager.inner.active() : Otel.context.active()
}

/**
 * Whether a span started now in `fiber` is certain not to be sampled: this library's tracer, a
 * sampler that follows the parent, and a current span that is not sampled. The library's own
 * combinators (`Pipeline`, `GenAI`) then run their effect without making a span at all, which is
 * what makes a sampled-out step nearly free; the trace's "not sampled" flag still reaches child
 * services and OTel-instrumented code through the current (parent) span.
 */
export const unsampledHere = (fiber: Fiber.Fiber<unknown, unknown>): boolean => {
  const parent = fiber.cache.span
  if (parent === undefined || parent.sampled) return false
  const tracer = fiber.cache.tracer as { [skipsUnsampled]?: boolean } | undefined
  return tracer !== undefined && tracer[skipsUnsampled] === true &&
    !Context.get(parent.annotations, Tracer.DisablePropagation)
}

/** Whether `tracer` is this library's, which reads {@link StartAttributes}. */
export const isLibraryTracer = (tracer: Tracer.Tracer): boolean =>
  (tracer as { [libraryTracer]?: boolean })[libraryTracer] === true
