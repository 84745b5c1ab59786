/**
 * The GenAI metrics of a call, from the same specs as its span: the duration histogram of its
 * operation, the tokens it reported, and, per bucket, an exemplar that leads to the span. The
 * attribute sets a measurement needs are built once per request shape and shared.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"
import type { GenAISettings } from "./config.ts"
import { RecordingSpan } from "./effectTracer.ts"
import { errorType as causeErrorType } from "./errors.ts"
import { AttributeSet, nowMillis, type Recorder, type SpanRef } from "./metrics.ts"
import { type Attributes, into, type Put, type Spec } from "./operation.ts"
import * as N from "./semconv.ts"

/** What a call reported that its metrics need, picked up from the attributes its span gets. */
export interface Observed {
  responseModel?: string | undefined
  inputTokens?: number | undefined
  outputTokens?: number | undefined
}

/** Settings for an extractor whose span was not sampled: it runs for the metrics, content is not read. */
const noContent = new WeakMap<GenAISettings, GenAISettings>()
const withoutContent = (settings: GenAISettings): GenAISettings => {
  if (!settings.captureContent) return settings
  let quiet = noContent.get(settings)
  if (quiet === undefined) {
    quiet = { ...settings, captureContent: false }
    noContent.set(settings, quiet)
  }
  return quiet
}

const tokenOperations: ReadonlySet<string> = new Set([
  N.Operation.chat,
  N.Operation.textCompletion,
  N.Operation.generateContent,
  N.Operation.embeddings
])

interface TrieNode {
  readonly next: Map<unknown, TrieNode>
  metrics: OperationMetrics | undefined
}

/** The attribute sets of one call's measurements. */
export interface MetricSets {
  readonly duration: AttributeSet
  readonly input: AttributeSet
  readonly output: AttributeSet
}

/**
 * One operation's metric attributes: the bounded subset of its request attributes, and the sets
 * for each response model and error type seen, built once and shared by every call with the same
 * request attributes (a `ChatModel` prepares a fresh spec per call), so a measurement allocates
 * next to nothing.
 */
export class OperationMetrics {
  private readonly duration: string
  private readonly tokens: boolean
  /** The token histograms: v1.41's one (by `gen_ai.token.type`), or `main`'s per direction. */
  private readonly inputTokens: string
  private readonly outputTokens: string | undefined
  private readonly byTokenType: boolean
  private readonly variants = new Map<string, MetricSets>()
  /** The last variant looked up: nearly every call of an operation answers with the same model. */
  private lastKey: string | undefined = undefined
  private last: MetricSets | undefined = undefined

  private constructor(operation: N.OperationName, private readonly base: AttributeSet, latest: boolean) {
    this.duration = (latest ? N.latestDurationMetric : N.durationMetric)[operation]
    this.tokens = tokenOperations.has(operation)
    this.byTokenType = !latest
    const embeddings = operation === N.Operation.embeddings
    this.inputTokens = !latest
      ? N.METRIC_GEN_AI_CLIENT_TOKEN_USAGE
      : embeddings
      ? N.METRIC_GEN_AI_CLIENT_EMBEDDINGS_INPUT_TOKENS
      : N.METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS
    this.outputTokens = !latest
      ? N.METRIC_GEN_AI_CLIENT_TOKEN_USAGE
      : embeddings
      ? undefined
      : N.METRIC_GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS
  }

  /**
   * Shared instances, in a trie keyed by the allow-listed attribute values in order: looking one
   * up is a few map lookups on strings the request already holds, where building a key string
   * cost half a microsecond a call.
   */
  private static readonly shared = new Map<string, TrieNode>()
  private static sharedCount = 0

  /**
   * The metrics of an operation with these request attributes (its span's start attributes),
   * under v1.41's names or, with `latest`, `main`'s.
   */
  static of(operation: N.OperationName, request: Attributes, latest = false): OperationMetrics {
    const rootKey = latest ? `${operation}:latest` : operation
    let root = OperationMetrics.shared.get(rootKey)
    if (root === undefined) {
      root = { next: new Map(), metrics: undefined }
      OperationMetrics.shared.set(rootKey, root)
    }
    let node: TrieNode = root
    const keys = N.metricAttributeKeys[operation]
    for (let i = 0; i < keys.length; i++) {
      const value = request[keys[i]!]
      let child: TrieNode | undefined = node.next.get(value)
      if (child === undefined) {
        // Bounded like the series themselves; past that, a request's metrics are built per call.
        if (OperationMetrics.sharedCount >= 4096) return OperationMetrics.make(operation, request, latest)
        child = { next: new Map(), metrics: undefined }
        node.next.set(value, child)
      }
      node = child
    }
    if (node.metrics === undefined) {
      node.metrics = OperationMetrics.make(operation, request, latest)
      OperationMetrics.sharedCount++
    }
    return node.metrics
  }

  private static make(operation: N.OperationName, request: Attributes, latest: boolean): OperationMetrics {
    const values: Record<string, string | number | boolean> = { [N.ATTR_GEN_AI_OPERATION_NAME]: operation }
    for (const name of N.metricAttributeKeys[operation]) {
      const value = request[name]
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") values[name] = value
    }
    return new OperationMetrics(operation, new AttributeSet(values), latest)
  }

  /** The attribute sets for a call that answered with `responseModel` and failed with `errorType`. */
  sets(responseModel: string | undefined, errorType: string | undefined): MetricSets {
    const key = errorType === undefined ? responseModel ?? "" : `${responseModel ?? ""}\u0000${errorType}`
    if (key === this.lastKey && this.last !== undefined) return this.last
    let sets = this.variants.get(key)
    if (sets === undefined) {
      const result = this.base.with({ [N.ATTR_GEN_AI_RESPONSE_MODEL]: responseModel })
      sets = {
        duration: errorType === undefined ? result : result.with({ [N.ATTR_ERROR_TYPE]: errorType }),
        input: this.byTokenType ? result.with({ [N.ATTR_GEN_AI_TOKEN_TYPE]: N.TokenType.input }) : result,
        output: this.byTokenType ? result.with({ [N.ATTR_GEN_AI_TOKEN_TYPE]: N.TokenType.output }) : result
      }
      // Bounded by models times error types; a provider echoing something unbounded stops here.
      if (this.variants.size < 256) this.variants.set(key, sets)
    }
    this.lastKey = key
    this.last = sets
    return sets
  }

  /**
   * A finished call: its duration (unless it was interrupted or abandoned: a cut-short duration
   * says nothing about the operation), and the tokens it reported.
   */
  record(
    recorder: Recorder,
    span: SpanRef,
    observed: Observed,
    seconds: number | undefined,
    errorType: string | undefined,
    /** {@link nowMillis} as the call ended: the exemplars' time. */
    now: number
  ): void {
    const sets = this.sets(observed.responseModel, errorType)
    if (seconds !== undefined) recorder.histogram(this.duration).record(seconds, sets.duration, span, now)
    if (!this.tokens) return
    if (observed.inputTokens !== undefined) {
      recorder.histogram(this.inputTokens).record(observed.inputTokens, sets.input, span, now)
    }
    if (observed.outputTokens !== undefined && this.outputTokens !== undefined) {
      recorder.histogram(this.outputTokens).record(observed.outputTokens, sets.output, span, now)
    }
  }
}

/** The settings metric attributes are read with: no content, no legacy names. */
const metricSettings: GenAISettings = { captureContent: false, maxContentLength: 1, emitLegacyAttributes: false }

/**
 * Runs `self` inside `span` and records its metrics when it ends. The extractor runs whether or
 * not the span is sampled (metrics count every call), writing to the span only when it is.
 */
export const metered = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  span: Tracer.AnySpan,
  end: Spec<A>["end"],
  settings: GenAISettings,
  recorder: Recorder,
  metric: OperationMetrics,
  /** `span` is the call's own (it becomes the parent); else it is the unsampled current span. */
  own: boolean
): Effect.Effect<A, E, R> => {
  const start = nowMillis()
  // Success and failure are recorded where they happen (a map, a cause tap), not in an `onExit`
  // finalizer, which masks interruption and cost more. An interrupted call records nothing: an
  // interrupted duration says nothing about the operation.
  const observedSelf = Effect.map(self, (result) => {
    const observed = end === undefined ? noObservation : observe(end, result, span, settings)
    const now = nowMillis()
    metric.record(recorder, span, observed, (now - start) / 1000, undefined, now)
    return result
  })
  // This library's spans take the failure at their end; any other tracer's through a cause tap.
  if (own && span instanceof RecordingSpan) {
    span.onEnd = (exit) => {
      if (exit._tag === "Failure") recordFailure(metric, recorder, span, exit.cause, start)
    }
    return Effect.withParentSpan(observedSelf, span, { captureStackTrace: false })
  }
  const tapped = Effect.tapCause(
    observedSelf,
    (cause) => Effect.sync(() => recordFailure(metric, recorder, span, cause, start))
  )
  return own ? Effect.withParentSpan(tapped, span, { captureStackTrace: false }) : tapped
}

/** A failed call's duration, with its error type; an interruption records nothing. */
const recordFailure = (
  metric: OperationMetrics,
  recorder: Recorder,
  span: SpanRef,
  cause: Cause.Cause<unknown>,
  start: number
): void => {
  if (Cause.hasInterruptsOnly(cause)) return
  const now = nowMillis()
  metric.record(recorder, span, noObservation, (now - start) / 1000, causeErrorType(cause), now)
}

const noObservation: Observed = {}

/**
 * Runs an extractor for the metrics (and the span, when sampled) and returns what it reported.
 * One `Observed` and one `Put` serve every call: the extractor runs synchronously and its result
 * is read right after, so no two calls can interleave here, and a call allocates nothing.
 */
const observe = <A>(end: NonNullable<Spec<A>["end"]>, result: A, span: Tracer.AnySpan, settings: GenAISettings) => {
  const observed = current.observed
  observed.responseModel = undefined
  observed.inputTokens = undefined
  observed.outputTokens = undefined
  current.span = span.sampled && span._tag === "Span" ? span : undefined
  try {
    end(result, current.put, span.sampled ? settings : withoutContent(settings))
  } catch {
    // An extractor that throws must not fail the call it observes: its attributes are lost.
  }
  current.span = undefined
  return observed
}

const current: { readonly observed: Observed; span: Tracer.Span | undefined; readonly put: Put } = {
  observed: {},
  span: undefined,
  put: (key, value) => {
    if (value === undefined) return
    current.span?.attribute(key, value)
    const observed = current.observed
    if (key === N.ATTR_GEN_AI_RESPONSE_MODEL && typeof value === "string") observed.responseModel = value
    else if (key === N.ATTR_GEN_AI_USAGE_INPUT_TOKENS && typeof value === "number") observed.inputTokens = value
    else if (key === N.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS && typeof value === "number") observed.outputTokens = value
  }
}

/** A spec's metrics, for a span someone else started (its start attributes read without content). */
export const metricsOf = (spec: Spec<any>): OperationMetrics => {
  const request: Attributes = { [N.ATTR_GEN_AI_OPERATION_NAME]: spec.operation }
  spec.start(into(request), metricSettings)
  return OperationMetrics.of(spec.operation, request)
}
