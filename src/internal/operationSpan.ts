/**
 * The span maker: every GenAI combinator is a thin shell over {@link traced} (one call, one span)
 * or {@link tracedStream} (one span over a whole stream, ended exactly once). A span is named and
 * kinded by its operation's {@link Spec}, gets the request attributes as it starts and the
 * result's when it succeeds, and the call's metrics are recorded beside it.
 */
import type * as Otel from "@opentelemetry/api"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Pull from "effect/Pull"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import { StreamAccumulator } from "./accumulator.ts"
import { eventsOn, type GenAISettings } from "./config.ts"
import { CurrentLogs, detailsWanted, emitDetails } from "./contentEvents.ts"
import { isLibraryTracer, RecordingSpan, StartAttributes, toAttributes, unsampledHere } from "./effectTracer.ts"
import { errorType } from "./errors.ts"
import type { LogSink } from "./logsPipeline.ts"
import { type AttributeSet, CurrentRecorder, type Histogram, nowMillis, type Recorder } from "./metrics.ts"
import type { StreamPart } from "./model.ts"
import {
  annotated,
  type Attributes,
  into,
  putOn,
  putResponse,
  Settings,
  type Spec,
  structuredSettings
} from "./operation.ts"
import { metered, OperationMetrics } from "./operationMetrics.ts"
import { copyPlain, notPlain, samePlain } from "./plainCopy.ts"
import { CurrentPrompt, promptedOperations } from "./prompt.ts"
import * as N from "./semconv.ts"

/**
 * What every GenAI span shares, streamed or not: its name, its kind, and its start attributes.
 * The start attributes depend only on the request and the settings, so they are built once per
 * settings object, not once per call, and kept while the request stays as it was.
 *
 * A call made once and run again may be made with content the program goes on changing: an agent
 * loop pushes to the one messages array it made the call with. With content captured, each run
 * therefore reads the request again and compares it with a copy of what the cached attributes were
 * built from ({@link copyPlain}); a request that changed is built again. One that changes again
 * after that is built every run, with no copy kept, as a call made anew each time is.
 */
class Prepared<A> {
  readonly name: string
  private cachedFor: GenAISettings | undefined = undefined
  private cached: Otel.Attributes = {}
  private request: Attributes = {}
  private metric: OperationMetrics | undefined = undefined
  private latest = false
  /** The request's attributes with content as values, for the details event and the check above. */
  private structured: Attributes | undefined = undefined
  /** A copy of {@link structured} as first read; `undefined` when no content is captured, or it is not followed. */
  private seen: unknown = undefined
  /** Runs since the caches were built: from the second on, the details event shares the request. */
  private runs = 0
  /** The request changed between runs more than once, or is not plain data: built every run. */
  private changing = false
  private changes = 0

  // A class, not closures: a `ChatModel` prepares a spec per call, and closures made per call were
  // measurable (named closures more so, under tsx).
  constructor(readonly spec: Spec<A>) {
    this.name = spec.target !== undefined && spec.target !== "" ? `${spec.operation} ${spec.target}` : spec.operation
  }

  /** The settings in force for this fiber, and the span options that start the span. */
  optionsFor(fiber: Fiber.Fiber<unknown, unknown>) {
    const settings = fiber.getRef(Settings)
    const spec = this.spec
    if (this.cachedFor !== settings || this.changing) this.prepare(settings, false)
    else if (!this.followed(settings)) this.prepare(settings, true)
    else this.runs++
    // Under `Prompt.withPrompt` a model call also starts with the prompt's attributes.
    const prompt = promptedOperations.has(spec.operation) ? fiber.getRef(CurrentPrompt) : undefined
    const attributes = prompt === undefined ? this.cached : { ...this.cached, ...prompt.for(settings) }
    // This library's tracer takes them through the annotations and sets them as the span
    // starts, where a sampler sees them; any other tracer gets them the usual way.
    const options: Tracer.SpanOptionsNoTrace = isLibraryTracer(fiber.getRef(Tracer.Tracer))
      ? { kind: spec.kind, annotations: Context.make(StartAttributes, attributes) }
      : { kind: spec.kind, attributes }
    return { settings, options }
  }

  /**
   * Builds the caches; `follow`, on a call's second run and after, also keeps the copy of its content
   * to compare later runs with (a call run once, as a `ChatModel` makes each, is spared the copy).
   */
  private prepare(settings: GenAISettings, follow: boolean): void {
    const spec = this.spec
    const attributes: Attributes = { [N.ATTR_GEN_AI_OPERATION_NAME]: spec.operation }
    spec.start(into(attributes), settings)
    this.cached = toAttributes(attributes)
    this.request = attributes
    this.cachedFor = settings
    this.latest = settings.latestNames === true
    this.metric = undefined
    this.runs = 0
    this.structured = undefined
    this.seen = undefined
    if (follow && !this.changing && (settings.captureContent || eventsOn(settings))) {
      const structured = this.structuredRequest(settings)
      const seen = copyPlain(structured)
      if (seen === notPlain) this.changing = true
      else {
        this.structured = structured
        this.seen = seen
      }
    }
  }

  /**
   * Whether the caches still hold for this run: no content is captured, or the request reads as it
   * did when they were built. Not known on a second run (no copy was kept on the first), so false.
   */
  private followed(settings: GenAISettings): boolean {
    if (this.seen === undefined) return !(settings.captureContent || eventsOn(settings))
    if (samePlain(this.seen, this.structuredRequest(settings))) return true
    if (++this.changes > 1) this.changing = true
    return false
  }

  private structuredRequest(settings: GenAISettings): Attributes {
    const attributes: Attributes = { [N.ATTR_GEN_AI_OPERATION_NAME]: this.spec.operation }
    try {
      this.spec.start(into(attributes), structuredSettings(settings))
    } catch {
      // An extractor that throws loses its attributes, never the call.
    }
    return attributes
  }

  /**
   * The request's attributes for its details event (content structured), and whether this run
   * shares them with the runs before it (`sharedAttributes`), which an encoder then copies instead
   * of encoding them again. A call run once (a `ChatModel` prepares a spec per call) gains nothing
   * from that, and the encoder's memo of them would cost more than it saves. Called after
   * {@link optionsFor} in the same run.
   */
  detailsRequest(settings: GenAISettings): { readonly request: Readonly<Attributes>; readonly again: boolean } {
    const structured = this.structured
    return structured !== undefined && this.cachedFor === settings
      ? { request: structured, again: this.runs > 0 }
      : { request: this.structuredRequest(settings), again: false }
  }

  /** The operation's metrics, from the request attributes of the last `optionsFor`. */
  metricFor(): OperationMetrics {
    return (this.metric ??= OperationMetrics.of(this.spec.operation, this.request, this.latest))
  }
}

/**
 * Wraps `self` in a GenAI span: named and kinded per the conventions, request attributes set when
 * the span starts, result attributes when it succeeds; the tracer adds `error.type` and the ERROR
 * status when it fails.
 */
export const traced = <A>(spec: Spec<A>) => {
  const prepared = new Prepared(spec)
  const name = prepared.name
  return <E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiber((fiber) => {
      const recorder = fiber.getRef(CurrentRecorder)
      // Inside a trace that is not sampled no span is made; the metrics still count the call.
      if (unsampledHere(fiber)) {
        if (recorder === undefined) return self
        const { settings } = prepared.optionsFor(fiber)
        return metered(self, fiber.cache.span!, spec.end, settings, recorder, prepared.metricFor(), false)
      }
      const { options, settings } = prepared.optionsFor(fiber)
      const logs = detailsWanted(spec.operation, settings) ? fiber.getRef(CurrentLogs) : undefined
      return Effect.useSpan(name, options, (span) => {
        const end = spec.end
        const call = recorder !== undefined
          ? metered(self, span, end, settings, recorder, prepared.metricFor(), true)
          : Effect.withParentSpan(annotated(self, span, end, settings), span, { captureStackTrace: false })
        return logs === undefined || !span.sampled ? call : withDetails(call, span, prepared, settings, logs)
      })
    })
}

/**
 * `self`, and when it ends (not when interrupted) its details event, with the span's ids. On this
 * library's spans the event is written by the span's end hook, after the hooks set before it (the
 * metrics'): another Effect frame around every call cost more than the hook.
 */
const withDetails = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  span: Tracer.Span,
  prepared: Prepared<A>,
  settings: GenAISettings,
  logs: LogSink
): Effect.Effect<A, E, R> => {
  const emit = (exit: Exit.Exit<unknown, unknown>) => {
    if (exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)) return
    const { again, request } = prepared.detailsRequest(settings)
    const attributes: Attributes = again ? {} : { ...request }
    try {
      if (exit._tag === "Success") prepared.spec.end?.(exit.value as A, into(attributes), structuredSettings(settings))
      else attributes[N.ATTR_ERROR_TYPE] = errorType(exit.cause)
    } catch {
      // An extractor that throws loses its attributes, never the call.
    }
    emitDetails(logs, span, attributes, settings, again ? request : undefined)
  }
  if (span instanceof RecordingSpan) {
    const before = span.onEnd
    span.onEnd = before === undefined ? emit : (exit) => {
      before(exit)
      emit(exit)
    }
    return self
  }
  return Effect.onExit(self, (exit) => Effect.sync(() => emit(exit)))
}

/**
 * Wraps a stream of reply parts in one GenAI span that starts when the stream is run and ends
 * exactly once, when the stream completes, fails, or its consumer stops early. The parts pass
 * through unchanged; the span gets what they report (see {@link StreamAccumulator}), the time to
 * the first content chunk, and `beluga.stream.abandoned` when it was cut short.
 */
export const tracedStream = (spec: Spec<never>) => {
  const prepared = new Prepared(spec)
  const name = prepared.name
  return <E, R>(self: Stream.Stream<StreamPart, E, R>): Stream.Stream<StreamPart, E, R> =>
    Stream.fromChannel(Channel.acquireUseRelease(
      Effect.withFiber((fiber) => {
        const { options, settings } = prepared.optionsFor(fiber)
        const timed = fiber.getRef(References.TracerTimingEnabled)
        const logs = detailsWanted(spec.operation, settings) ? fiber.getRef(CurrentLogs) : undefined
        return Effect.map(
          Effect.makeSpan(name, options),
          (span) =>
            new StreamSpan(
              span,
              settings,
              fiber.getRef(Clock.Clock),
              timed,
              fiber.getRef(CurrentRecorder),
              () => prepared.metricFor(),
              logs !== undefined ? { logs, spec } : undefined
            )
        )
      }),
      (state) =>
        Channel.fromTransform((upstream, scope) =>
          state.asParent(Effect.map(Channel.toTransform(self.channel)(upstream, scope), (pull) => state.observe(pull)))
        ),
      (state, exit) => Effect.sync(() => state.end(exit))
    ))
}

/** One streamed span's state: what the parts reported so far, and whether the stream finished. */
export class StreamSpan {
  private readonly accumulator: StreamAccumulator
  private readonly startNanos: bigint
  private firstChunkNanos: bigint | undefined = undefined
  private completed = false
  private recorded = false
  /** With metrics on: when the stream started and when the last content chunk came (`nowMillis()`). */
  private readonly meteredFrom: number
  private lastChunk: number | undefined = undefined
  /** With metrics on: the chunk histograms and attributes, looked up once per stream and model. */
  private chunks:
    | {
      readonly model: string | undefined
      readonly first: Histogram
      readonly next: Histogram
      readonly attributes: AttributeSet
    }
    | undefined = undefined
  private readonly metric: OperationMetrics | undefined

  constructor(
    readonly span: Tracer.Span,
    private readonly settings: GenAISettings,
    private readonly clock: Clock.Clock,
    private readonly timed: boolean,
    private readonly recorder: Recorder | undefined,
    metricFor: () => OperationMetrics,
    /** With content events on: where the stream's details event goes, and what its request was. */
    private readonly details?: { readonly logs: LogSink; readonly spec: Spec<never> } | undefined
  ) {
    // Content is kept only for a sampled span (or its event); the metrics need none.
    this.accumulator = new StreamAccumulator(
      (settings.captureContent || details !== undefined) && span.sampled,
      settings.maxContentLength
    )
    this.metric = recorder !== undefined ? metricFor() : undefined
    this.meteredFrom = recorder !== undefined ? nowMillis() : 0
    // Time to first chunk counts from the span's start: the request.
    this.startNanos = span.status._tag === "Started" && timed ? span.status.startTime : clock.currentTimeNanosUnsafe()
  }

  // The context with this span as the parent, built once per context it is run in: Effect's own
  // `provideService` copies the context on every pull, which cost more than all the rest per chunk.
  private base: Context.Context<any> | undefined = undefined
  private withSpan: Context.Context<any> | undefined = undefined

  /** Runs `effect` with this span as the parent, so work done while the stream runs nests under it. */
  asParent<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.updateContext(effect, (context: Context.Context<R>) => {
      if (context !== this.base || this.withSpan === undefined) {
        this.base = context
        this.withSpan = Context.add(context, Tracer.ParentSpan, this.span)
      }
      return this.withSpan as Context.Context<R>
    })
  }

  /** Each pull: what it brings is observed, and the end of the stream is noted when it comes. */
  observe<A extends ReadonlyArray<StreamPart>, E, Done, R>(pull: Pull.Pull<A, E, Done, R>): Pull.Pull<A, E, Done, R> {
    // A span the sampler dropped, with metrics off, records nothing: no work per chunk.
    if (!this.span.sampled && this.recorder === undefined) return this.asParent(pull)
    return this.asParent(pull).pipe(
      // The end of the stream, not of the consumer's interest: after `take`, no pull says Done.
      Effect.tapCause((cause) => {
        if (Pull.isDoneCause(cause)) this.completed = true
        return Effect.void
      }),
      Effect.map((parts) => {
        for (let i = 0; i < parts.length; i++) {
          if (!this.accumulator.add(parts[i]!)) continue
          if (this.firstChunkNanos === undefined) this.firstChunkNanos = this.clock.currentTimeNanosUnsafe()
          if (this.recorder !== undefined) this.chunkMetrics(this.recorder, this.metric!)
        }
        return parts
      })
    )
  }

  /** A content chunk with metrics on: time to the first, then the time since the one before. */
  private chunkMetrics(recorder: Recorder, metric: OperationMetrics): void {
    const now = nowMillis()
    const model = this.accumulator.model
    let chunks = this.chunks
    if (chunks === undefined || chunks.model !== model) {
      chunks = {
        model,
        first: recorder.histogram(
          this.settings.latestNames === true
            ? N.METRIC_GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK
            : N.METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK
        ),
        next: recorder.histogram(
          this.settings.latestNames === true
            ? N.METRIC_GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK
            : N.METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK
        ),
        attributes: metric.sets(model, undefined).duration
      }
      this.chunks = chunks
    }
    if (this.lastChunk === undefined) {
      chunks.first.record((now - this.meteredFrom) / 1000, chunks.attributes, this.span, now)
    } else {
      chunks.next.record((now - this.lastChunk) / 1000, chunks.attributes, this.span, now)
    }
    this.lastChunk = now
  }

  end(exit: Exit.Exit<unknown, unknown>): void {
    this.record(exit)
    this.span.end(this.timed ? this.clock.currentTimeNanosUnsafe() : 0n, exit)
  }

  /** Writes what the stream reported, and how it ended, on the span (which it does not end). */
  record(exit: Exit.Exit<unknown, unknown>): void {
    if (this.recorded) return
    this.recorded = true
    const failed = exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)
    if (this.recorder !== undefined && this.metric !== undefined) {
      const usage = this.accumulator.usage
      const observed = {
        responseModel: this.accumulator.model,
        inputTokens: usage?.inputTokens,
        outputTokens: usage?.outputTokens
      }
      const now = nowMillis()
      // A stream its consumer stopped reading has no duration worth a bucket; its tokens still count.
      const seconds = this.completed || failed ? (now - this.meteredFrom) / 1000 : undefined
      this.metric.record(
        this.recorder,
        this.span,
        observed,
        seconds,
        failed ? errorType(exit.cause) : undefined,
        now
      )
    }
    if (this.span.sampled) {
      const put = putOn(this.span)
      const abandoned = !this.completed && !failed
      const accumulator = this.accumulator
      const ttft = this.firstChunkNanos !== undefined
        ? Number(this.firstChunkNanos - this.startNanos) / 1e9
        : undefined
      put(N.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttft)
      const kept = this.settings.captureContent || this.details !== undefined
      const outputMessages = kept
        ? accumulator.outputMessages(
          failed ? N.FinishReason.error : abandoned ? N.FINISH_REASON_ABANDONED : N.FinishReason.stop
        )
        : undefined
      const outcome = (messages: typeof outputMessages) => ({
        response: {
          id: accumulator.id,
          model: accumulator.model,
          finishReasons: accumulator.finishReasons.length > 0 ? accumulator.finishReasons : undefined,
          outputMessages: messages,
          attributes: accumulator.attributes
        },
        usage: accumulator.usage
      })
      putResponse(put, outcome(this.settings.captureContent ? outputMessages : undefined), this.settings)
      put(N.ATTR_BELUGA_STREAM_CONTENT_CHUNKS, accumulator.contentChunks)
      if (abandoned) put(N.ATTR_BELUGA_STREAM_ABANDONED, true)
      if (this.details !== undefined) {
        const attributes: Attributes = { [N.ATTR_GEN_AI_OPERATION_NAME]: this.details.spec.operation }
        const structured = structuredSettings(this.settings)
        this.details.spec.start(into(attributes), structured)
        putResponse(into(attributes), outcome(outputMessages), structured)
        into(attributes)(N.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttft)
        if (failed) attributes[N.ATTR_ERROR_TYPE] = errorType(exit.cause)
        emitDetails(this.details.logs, this.span, attributes, this.settings)
      }
    }
  }
}
