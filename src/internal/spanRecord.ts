/**
 * The library's own span record and the code that starts one, in place of the OTel SDK's
 * `Tracer.startSpan` and `SpanImpl` for the spans this library's Effect tracer makes.
 *
 * Why: a traced step paid ~1.3 µs in the SDK (`startSpan`, `SpanImpl`'s twenty fields, its clock
 * anchoring, the sampler's context lookups, ids written through `Math.random`) and half of its
 * garbage. The record here does what the SDK span does for the rest of the pipeline — it is an
 * `Otel.Span` (OTel-instrumented code parents under it and may annotate it) and a `ReadableSpan`
 * (span processors, the exporters and `Testing` read it) — but keeps Effect's nanosecond times
 * and turns them into `HrTime` only when read, samples children of a local parent from the parent's
 * flag without a context lookup, and takes ids from a pooled buffer of crypto-random bytes.
 *
 * The behaviour the SDK gives the user is kept: the configured sampler decides roots and remote
 * parents, suppressed tracing makes no span, span limits apply as the SDK's defaults set them,
 * processors see `onStart`, `onEnding` (span still writable) and `onEnd` in order. The layer's tracer
 * provider hands out {@link RecordTracer}s, so spans OTel-instrumented libraries start are recorded alike.
 */
import * as Otel from "@opentelemetry/api"
import {
  type InstrumentationScope,
  isAttributeValue,
  isTimeInput,
  isTracingSuppressed,
  sanitizeAttributes,
  timeInputToHrTime
} from "@opentelemetry/core"
import type { Resource } from "@opentelemetry/resources"
import type { ReadableSpan, Sampler, SpanLimits, SpanProcessor, TimedEvent } from "@opentelemetry/sdk-trace"
import * as N from "./semconv.ts"

/** The limits the SDK's tracer provider applies when none are configured (`TracerProvider` defaults). */
export const defaultLimits: Required<SpanLimits> = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: Infinity,
  eventCountLimit: 128,
  linkCountLimit: 128,
  attributePerEventCountLimit: 128,
  attributePerLinkCountLimit: 128
}

const bigint1e9 = BigInt(1_000_000_000)
const bigint1e6 = BigInt(1_000_000)
export const toHrTime = (nanos: bigint): Otel.HrTime => [Number(nanos / bigint1e9), Number(nanos % bigint1e9)]

// Wall-clock nanoseconds from the monotonic clock, anchored once, as Effect's own clock does:
// `process.hrtime` where the runtime has it (Node, Bun, Deno), `performance.now` elsewhere.
const runtimeProcess = (globalThis as { process?: { hrtime?: { bigint?: () => bigint } } }).process
const monotonic: () => bigint = runtimeProcess?.hrtime?.bigint !== undefined
  ? () => runtimeProcess.hrtime!.bigint!()
  : () => BigInt(Math.round(performance.now() * 1_000_000))
const origin = BigInt(Date.now()) * bigint1e6 - monotonic()
const nowNanos = (): bigint => origin + monotonic()

/**
 * An OTel `TimeInput` in nanoseconds since the epoch, read as the SDK reads it (HrTime, epoch or
 * performance milliseconds, Date); the `HrTime` keeps what a double's milliseconds cannot.
 */
const toNanos = (time: Otel.TimeInput | undefined): bigint => {
  if (time === undefined) return nowNanos()
  const [seconds, nanos] = timeInputToHrTime(time)
  return BigInt(seconds) * bigint1e9 + BigInt(nanos)
}

/**
 * Trace and span ids: random bytes from a pool that Web Crypto refills, written as hex.
 * An all-zero id is invalid in W3C Trace Context; it is drawn again (one chance in 2^64 or 2^128).
 * `String.fromCharCode` over a digit table writes 8 bytes in a quarter of `Buffer#toString("hex")`'s time.
 */
const poolSize = 8192
const pool = new Uint8Array(poolSize)
let poolOffset = poolSize
const digits = Array.from("0123456789abcdef", (digit) => digit.charCodeAt(0))
const take8 = (): number => {
  for (;;) {
    if (poolOffset + 8 > poolSize) {
      crypto.getRandomValues(pool)
      poolOffset = 0
    }
    const start = poolOffset
    poolOffset += 8
    for (let i = start; i < start + 8; i++) if (pool[i] !== 0) return start
  }
}
const hex8 = (at: number): string => {
  const p = pool
  const d = digits
  return String.fromCharCode(
    d[p[at]! >> 4]!,
    d[p[at]! & 15]!,
    d[p[at + 1]! >> 4]!,
    d[p[at + 1]! & 15]!,
    d[p[at + 2]! >> 4]!,
    d[p[at + 2]! & 15]!,
    d[p[at + 3]! >> 4]!,
    d[p[at + 3]! & 15]!,
    d[p[at + 4]! >> 4]!,
    d[p[at + 4]! & 15]!,
    d[p[at + 5]! >> 4]!,
    d[p[at + 5]! & 15]!,
    d[p[at + 6]! >> 4]!,
    d[p[at + 6]! & 15]!,
    d[p[at + 7]! >> 4]!,
    d[p[at + 7]! & 15]!
  )
}
export const newSpanId = (): string => hex8(take8())
/** Two non-zero halves: never all zero either. */
export const newTraceId = (): string => hex8(take8()) + hex8(take8())
/** Four pool bytes as one big-endian 32-bit number: how a span keeps its ids' bytes for the encoder. */
const word = (at: number): number =>
  ((pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!) >>> 0

const emptyAttributes: Otel.Attributes = Object.freeze({})
const noLinks: Array<Otel.Link> = Object.freeze([]) as unknown as Array<Otel.Link>
const noEvents: Array<TimedEvent> = Object.freeze([]) as unknown as Array<TimedEvent>
const unset: Otel.SpanStatus = Object.freeze({ code: Otel.SpanStatusCode.UNSET })

/**
 * Starts the spans of one tracer (one resource and instrumentation scope) with the provider's
 * sampler, processors and limits.
 */
export class SpanSource {
  private readonly endings: ReadonlyArray<SpanProcessor>
  readonly limits: Required<SpanLimits>

  constructor(
    readonly resource: Resource,
    readonly scope: InstrumentationScope,
    private readonly sampler: Sampler,
    /**
     * The sampler follows a valid parent's sampled flag (`parentbased_*` with its default
     * delegates): a child's decision is then read off the parent, without calling the sampler.
     */
    private readonly followsParent: boolean,
    readonly processors: ReadonlyArray<SpanProcessor>,
    limits: SpanLimits = {}
  ) {
    this.limits = { ...defaultLimits, ...limits }
    this.endings = processors.filter((processor) => typeof processor.onEnding === "function")
  }

  /**
   * A span for `name`, child of `parent` (already resolved from `context`, or undefined for a root),
   * sampled as the SDK would; a non-recording span carrying the context when not sampled.
   */
  start(
    name: string,
    kind: Otel.SpanKind,
    startNanos: bigint,
    attributes: Otel.Attributes | undefined,
    links: ReadonlyArray<Otel.Link> | undefined,
    context: Otel.Context,
    parent: Otel.SpanContext | undefined
  ): Otel.Span {
    if (isTracingSuppressed(context)) return Otel.trace.wrapSpanContext(Otel.INVALID_SPAN_CONTEXT)
    // The ids' bytes are kept beside their hex, so the encoder writes them without reading hex back.
    // Each id's words are read before the next draw, which may refill the pool.
    let at = take8()
    const spanId = hex8(at)
    const spanWord0 = word(at)
    const spanWord1 = word(at + 4)
    let traceId: string
    let traceWord0 = 0
    let traceWord1 = 0
    let traceWord2 = 0
    let traceWord3 = 0
    if (parent !== undefined) traceId = parent.traceId
    else {
      at = take8()
      traceId = hex8(at)
      traceWord0 = word(at)
      traceWord1 = word(at + 4)
      at = take8()
      traceId += hex8(at)
      traceWord2 = word(at)
      traceWord3 = word(at + 4)
    }
    let traceState = parent?.traceState
    let sampled: boolean
    let recorded: boolean
    let samplerAttributes: Otel.Attributes | undefined
    if (parent !== undefined && this.followsParent) {
      sampled = (parent.traceFlags & Otel.TraceFlags.SAMPLED) === Otel.TraceFlags.SAMPLED
      recorded = sampled
    } else {
      const result = this.sampler.shouldSample(
        context,
        traceId,
        name,
        kind,
        attributes ?? emptyAttributes,
        (links ?? []) as Array<Otel.Link>
      )
      sampled = result.decision === Otel.SamplingDecision.RECORD_AND_SAMPLED
      // RECORD_ONLY: recorded and seen by the processors, but not sampled (the SDK does the same).
      recorded = result.decision !== Otel.SamplingDecision.NOT_RECORD
      traceState = result.traceState ?? traceState
      samplerAttributes = result.attributes
    }
    const spanContext: Otel.SpanContext = {
      traceId,
      spanId,
      traceFlags: sampled ? Otel.TraceFlags.SAMPLED : Otel.TraceFlags.NONE
    }
    if (traceState !== undefined) spanContext.traceState = traceState
    if (!recorded) return Otel.trace.wrapSpanContext(spanContext)
    const span = new RecordedSpan(this, name, kind, spanContext, parent, startNanos)
    span.spanWord0 = spanWord0
    span.spanWord1 = spanWord1
    if (parent === undefined) {
      span.ownTrace = true
      span.traceWord0 = traceWord0
      span.traceWord1 = traceWord1
      span.traceWord2 = traceWord2
      span.traceWord3 = traceWord3
    }
    if (attributes !== undefined) span.putAll(attributes)
    if (samplerAttributes !== undefined) span.setAttributes(samplerAttributes)
    if (links !== undefined) span.addLinks(links as Array<Otel.Link>)
    // `BatchSpanProcessor.onStart` and the like do nothing; the SDK calls them anyway, so do we.
    for (const processor of this.processors) processor.onStart(span, context)
    return span
  }

  /** `onEnding` (the span still writable), then `onEnd`, for every processor in order. */
  ended(span: RecordedSpan): void {
    for (const processor of this.endings) processor.onEnding!(span)
    span.close()
    for (const processor of this.processors) processor.onEnd(span)
  }
}

/**
 * The OTel API's `Tracer` over a {@link SpanSource}: what the layer's tracer provider hands to
 * OTel-instrumented libraries and `OtelTracer` users, so their spans are recorded like the
 * library's own. Follows the SDK tracer: `root` ignores the active span, an invalid parent starts a
 * new trace, attributes and links are sanitized, `startActiveSpan` makes the span active for `fn`.
 */
export class RecordTracer implements Otel.Tracer {
  constructor(readonly source: SpanSource) {}

  startSpan(name: string, options: Otel.SpanOptions = {}, context: Otel.Context = Otel.context.active()): Otel.Span {
    if (options.root === true) context = Otel.trace.deleteSpan(context)
    const active = Otel.trace.getSpan(context)
    const parent = active?.spanContext()
    return this.source.start(
      name,
      options.kind ?? Otel.SpanKind.INTERNAL,
      toNanos(options.startTime),
      options.attributes !== undefined ? sanitizeAttributes(options.attributes) : undefined,
      options.links,
      context,
      // A recorded parent's context is valid by construction: its ids need no second reading.
      active instanceof RecordedSpan || (parent !== undefined && Otel.trace.isSpanContextValid(parent))
        ? parent
        : undefined
    )
  }

  startActiveSpan<F extends (span: Otel.Span) => unknown>(name: string, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Otel.Span) => unknown>(name: string, options: Otel.SpanOptions, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Otel.Span) => unknown>(
    name: string,
    options: Otel.SpanOptions,
    context: Otel.Context,
    fn: F
  ): ReturnType<F>
  startActiveSpan<F extends (span: Otel.Span) => unknown>(
    name: string,
    ...rest: [F] | [Otel.SpanOptions, F] | [Otel.SpanOptions, Otel.Context, F]
  ): ReturnType<F> {
    const fn = rest[rest.length - 1] as F
    const options = rest.length > 1 ? rest[0] as Otel.SpanOptions : undefined
    const parent = rest.length > 2 ? rest[1] as Otel.Context : Otel.context.active()
    const span = this.startSpan(name, options, parent)
    return Otel.context.with(
      Otel.trace.setSpan(parent, span),
      fn as (span: Otel.Span) => ReturnType<F>,
      undefined,
      span
    )
  }
}

/**
 * One recorded span: what the SDK's `SpanImpl` records, with times kept in nanoseconds and turned
 * into `HrTime` when read.
 */
export class RecordedSpan implements Otel.Span, ReadableSpan {
  readonly attributes: Otel.Attributes = {}
  // Most spans have no links or events and keep no status: they share these, made once.
  links: Array<Otel.Link> = noLinks
  events: Array<TimedEvent> = noEvents
  status: Otel.SpanStatus = unset
  droppedAttributesCount = 0
  droppedEventsCount = 0
  droppedLinksCount = 0
  private attributeCount = 0
  private endNanos: bigint | undefined = undefined
  private closed = false
  private start: Otel.HrTime | undefined = undefined
  private end_: Otel.HrTime | undefined = undefined
  readonly parentSpanContext?: Otel.SpanContext
  /** @internal The span id's bytes as two big-endian words, for the OTLP encoder. */
  spanWord0 = 0
  spanWord1 = 0
  /** @internal A root's trace id bytes as four words (`ownTrace`); a child's trace id is its parent's hex. */
  ownTrace = false
  traceWord0 = 0
  traceWord1 = 0
  traceWord2 = 0
  traceWord3 = 0

  constructor(
    private readonly source: SpanSource,
    public name: string,
    readonly kind: Otel.SpanKind,
    private readonly context: Otel.SpanContext,
    parentSpanContext: Otel.SpanContext | undefined,
    private readonly startNanos: bigint
  ) {
    if (parentSpanContext !== undefined) this.parentSpanContext = parentSpanContext
  }

  get resource(): Resource {
    return this.source.resource
  }
  get instrumentationScope(): InstrumentationScope {
    return this.source.scope
  }
  get startTime(): Otel.HrTime {
    return this.start ??= toHrTime(this.startNanos)
  }
  get endTime(): Otel.HrTime {
    if (this.endNanos === undefined) return [0, 0]
    return this.end_ ??= toHrTime(this.endNanos)
  }
  /** @internal The start in nanoseconds since the epoch, for the OTLP encoder (`otlpTraces.ts`): no `HrTime` made. */
  get startUnixNanos(): bigint {
    return this.startNanos
  }
  /** @internal The end in nanoseconds since the epoch, undefined until the span ends (`endTime` is then `[0, 0]`). */
  get endUnixNanos(): bigint | undefined {
    return this.endNanos
  }
  get duration(): Otel.HrTime {
    return this.endNanos === undefined ? [-1, -1] : toHrTime(this.endNanos - this.startNanos)
  }
  /** Set once `onEnding` has run: from then on the span takes no more changes. */
  get ended(): boolean {
    return this.closed
  }

  spanContext(): Otel.SpanContext {
    return this.context
  }

  isRecording(): boolean {
    return !this.closed
  }

  /** Sets an attribute already known to be a valid OTel value (the library's own, sanitized ones). */
  put(key: string, value: Otel.AttributeValue): void {
    if (this.closed) return
    const attributes = this.attributes
    const isNew = !Object.prototype.hasOwnProperty.call(attributes, key)
    if (isNew && this.attributeCount >= this.source.limits.attributeCountLimit) {
      this.droppedAttributesCount++
      return
    }
    attributes[key] = this.truncate(value, this.source.limits.attributeValueLengthLimit)
    if (isNew) this.attributeCount++
  }

  putAll(attributes: Otel.Attributes): void {
    for (const key in attributes) {
      const value = attributes[key]
      if (value !== undefined) this.put(key, value)
    }
  }

  setAttribute(key: string, value: Otel.AttributeValue): this {
    if (value != null && key.length > 0 && isAttributeValue(value)) this.put(key, value)
    return this
  }

  setAttributes(attributes: Otel.Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]!)
    return this
  }

  /** An event at `nanos`, its attributes already valid OTel values. */
  eventAt(name: string, attributes: Otel.Attributes | undefined, nanos: bigint): void {
    if (this.closed) return
    const limits = this.source.limits
    if (limits.eventCountLimit === 0) {
      this.droppedEventsCount++
      return
    }
    if (this.events === noEvents) this.events = []
    if (this.events.length >= limits.eventCountLimit) {
      this.events.shift()
      this.droppedEventsCount++
    }
    const [kept, dropped] = this.limited(attributes, limits.attributePerEventCountLimit)
    this.events.push({ name, time: toHrTime(nanos), attributes: kept, droppedAttributesCount: dropped })
  }

  addEvent(name: string, attributesOrTime?: Otel.Attributes | Otel.TimeInput, time?: Otel.TimeInput): this {
    let attributes: Otel.Attributes | undefined
    if (isTimeInput(attributesOrTime)) {
      time ??= attributesOrTime
    } else {
      attributes = attributesOrTime
    }
    this.eventAt(name, attributes !== undefined ? sanitizeAttributes(attributes) : undefined, toNanos(time))
    return this
  }

  addLink(link: Otel.Link): this {
    if (this.closed) return this
    const limits = this.source.limits
    if (limits.linkCountLimit === 0) {
      this.droppedLinksCount++
      return this
    }
    if (this.links === noLinks) this.links = []
    if (this.links.length >= limits.linkCountLimit) {
      this.links.shift()
      this.droppedLinksCount++
    }
    const processed: Otel.Link = { context: link.context }
    const [kept, dropped] = this.limited(sanitizeAttributes(link.attributes), limits.attributePerLinkCountLimit)
    if (Object.keys(kept).length > 0) processed.attributes = kept
    if (dropped > 0) processed.droppedAttributesCount = dropped
    this.links.push(processed)
    return this
  }

  addLinks(links: Array<Otel.Link>): this {
    for (const link of links) this.addLink(link)
    return this
  }

  /** As the SDK: UNSET changes nothing, OK is final, only ERROR keeps a (string) message. */
  setStatus(status: Otel.SpanStatus): this {
    if (this.closed || status.code === Otel.SpanStatusCode.UNSET) return this
    if (this.status.code === Otel.SpanStatusCode.OK) return this
    this.status = status.code === Otel.SpanStatusCode.ERROR && typeof status.message === "string"
      ? { code: status.code, message: status.message }
      : { code: status.code }
    return this
  }

  updateName(name: string): this {
    if (!this.closed) this.name = name
    return this
  }

  recordException(exception: Otel.Exception, time?: Otel.TimeInput): void {
    const attributes: Otel.Attributes = {}
    if (typeof exception === "string") {
      attributes[N.ATTR_EXCEPTION_MESSAGE] = exception
    } else if (exception !== undefined && exception !== null) {
      // As the SDK: a (truthy) code is the type, else the name.
      const type = exception.code ? String(exception.code) : exception.name
      if (type) attributes[N.ATTR_EXCEPTION_TYPE] = type
      if (exception.message) attributes[N.ATTR_EXCEPTION_MESSAGE] = exception.message
      if (exception.stack) attributes[N.ATTR_EXCEPTION_STACKTRACE] = exception.stack
    }
    if (attributes[N.ATTR_EXCEPTION_TYPE] !== undefined || attributes[N.ATTR_EXCEPTION_MESSAGE] !== undefined) {
      this.eventAt(N.EVENT_EXCEPTION, attributes, toNanos(time))
    }
  }

  end(endTime?: Otel.TimeInput): void {
    this.endAt(toNanos(endTime))
  }

  /** Ends the span at `nanos` (Effect's clock); an end before the start is taken as the start. */
  endAt(nanos: bigint): void {
    if (this.endNanos !== undefined) return
    this.endNanos = nanos < this.startNanos ? this.startNanos : nanos
    this.source.ended(this)
  }

  /** @internal Called by {@link SpanSource.ended} between `onEnding` and `onEnd`. */
  close(): void {
    this.closed = true
  }

  /** An event's or link's attributes within the per-item count limit, values cut to length; how many were dropped. */
  private limited(attributes: Otel.Attributes | undefined, countLimit: number): [Otel.Attributes, number] {
    const kept: Otel.Attributes = {}
    let count = 0
    let dropped = 0
    for (const key in attributes) {
      const value = attributes[key]
      if (value === undefined) continue
      if (count >= countLimit) {
        dropped++
        continue
      }
      kept[key] = this.truncate(value, this.source.limits.attributeValueLengthLimit)
      count++
    }
    return [kept, dropped]
  }

  private truncate(value: Otel.AttributeValue, limit: number): Otel.AttributeValue {
    if (limit === Infinity) return value
    if (typeof value === "string") return value.length <= limit ? value : value.substring(0, limit)
    if (Array.isArray(value)) {
      return value.map((item) =>
        typeof item === "string" && item.length > limit ? item.substring(0, limit) : item
      ) as Otel.AttributeValue
    }
    return value
  }
}
