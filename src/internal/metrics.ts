/**
 * The GenAI histograms: aggregated here, read as a `MetricProducer` by the metrics side's
 * periodic collection (`metricsCollector.ts`), serialized by `otlpMetrics.ts`.
 *
 * Why not the SDK's own `Histogram` instruments? Two measured reasons:
 * - cost: the SDK's `record` took 3.3 µs a measurement on this project's machines (it hashes the
 *   attribute object, sorting its keys, on every call); a GenAI call records three or four, which
 *   would add a third to the cost of its span. Here the attribute set is hashed once, when the
 *   span's metric attributes are first built, and a measurement is a map lookup and a few adds;
 * - exemplars: `@opentelemetry/sdk-metrics` 2.12 ships exemplar reservoir classes, but none of
 *   its aggregators uses them and `@opentelemetry/otlp-transformer` does not serialize the
 *   `exemplars` field, so the SDK alone sends none. Here each histogram bucket keeps the last
 *   measurement made in a sampled span (the aligned-bucket reservoir of the metrics spec), and
 *   `otlpMetrics.ts` writes it on the wire.
 *
 * The other producers of the same collection are Effect's `Metric` module (`@effect/opentelemetry`'s
 * producer) and, on Node, Bun and Deno, the SDK's meter provider behind the OTel metrics API.
 */
import type { Attributes } from "@opentelemetry/api"
import { ValueType } from "@opentelemetry/api"
import type { Resource } from "@opentelemetry/resources"
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type Histogram as SdkHistogram,
  type HistogramMetricData,
  type MetricProducer
} from "@opentelemetry/sdk-metrics"
import * as Context from "effect/Context"
import type { ExemplarFilter, TemporalityPreference } from "./config.ts"
import { ATTR_OTEL_METRIC_OVERFLOW, type HistogramDefinition } from "./semconv.ts"
import { toHrTime } from "./spanRecord.ts"

/** A measurement's span: its exemplar points there. */
export interface SpanRef {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean
}

/** An exemplar as the OTLP `Exemplar` message carries it (no filtered attributes: ours have none). */
export interface Exemplar {
  readonly value: number
  readonly timeUnixNano: bigint
  readonly traceId: string
  readonly spanId: string
}

/** A histogram data point with the exemplars `otlpMetrics.ts` writes; the SDK's type has none. */
export type ExemplarDataPoint = DataPoint<SdkHistogram> & { readonly exemplars?: ReadonlyArray<Exemplar> }

/**
 * A set of metric attributes and its key, computed once: callers build these when a span's metric
 * attributes are first known and reuse them for every measurement.
 */
export class AttributeSet {
  readonly key: string
  constructor(readonly values: Readonly<Record<string, string | number | boolean>>) {
    this.key = JSON.stringify(Object.keys(values).toSorted().map((k) => [k, values[k]]))
  }
  /** This set with more attributes (`undefined` values left out). */
  with(extra: Readonly<Record<string, string | number | boolean | undefined>>): AttributeSet {
    const values: Record<string, string | number | boolean> = { ...this.values }
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) values[k] = v
    return new AttributeSet(values)
  }
}

/** One attribute set's aggregation in one histogram. */
class Series {
  readonly counts: Float64Array
  // The aligned-bucket reservoir, one slot per bucket, in flat arrays: a measurement allocates nothing.
  // It keeps the span itself (one per bucket and series, let go at each collection), not copies of
  // its ids: two id slots instead measured 0.8–1.2 µs more per GenAI call (`bench/micro.ts
  // --rows=ours.chat,ours.chat.metrics`), even with constant strings stored, for reasons not pinned down.
  readonly exemplarValues: Float64Array
  readonly exemplarTimes: Float64Array
  readonly exemplarSpans: Array<SpanRef | undefined>
  count = 0
  sum = 0
  min = Infinity
  max = -Infinity
  /** Since the library started, whatever the temporality: for the summary printed at exit. */
  readonly lifetimeCounts: Float64Array
  lifetimeCount = 0
  lifetimeSum = 0
  lifetimeMin = Infinity
  lifetimeMax = -Infinity
  constructor(readonly attributes: AttributeSet, buckets: number, public startNanos: bigint) {
    this.counts = new Float64Array(buckets)
    this.lifetimeCounts = new Float64Array(buckets)
    this.exemplarValues = new Float64Array(buckets)
    this.exemplarTimes = new Float64Array(buckets)
    this.exemplarSpans = Array.from({ length: buckets }, () => undefined)
  }
  reset(nowNanos: bigint): void {
    this.counts.fill(0)
    this.count = 0
    this.sum = 0
    this.min = Infinity
    this.max = -Infinity
    this.startNanos = nowNanos
  }
}

/** What the summary at exit reads: every series with its lifetime bucket counts. */
export interface SeriesSummary {
  readonly attributes: Readonly<Record<string, string | number | boolean>>
  readonly boundaries: ReadonlyArray<number>
  readonly counts: ReadonlyArray<number>
  readonly count: number
  readonly sum: number
  readonly min: number
  readonly max: number
}

/** Series per histogram, the OTel SDK's default cardinality limit (the overflow series included). */
const cardinalityLimit = 2000
const overflow = new AttributeSet({ [ATTR_OTEL_METRIC_OVERFLOW]: true })

export class Histogram {
  private readonly series = new Map<string, Series>()
  private readonly lastBoundary: number

  constructor(
    readonly definition: HistogramDefinition,
    private readonly exemplarFilter: ExemplarFilter,
    private readonly startNanos: bigint
  ) {
    this.lastBoundary = definition.boundaries.length
  }

  /**
   * Records one measurement; `span`, when sampled (or always, by the filter), becomes its bucket's
   * exemplar. `now`: {@link nowMillis}, the exemplar's time (the caller has it for the duration).
   */
  record(value: number, attributes: AttributeSet, span: SpanRef | undefined, now: number): void {
    if (!(value >= 0) || value === Infinity) return // NaN, negative or infinite: not a duration or a count
    let series = this.series.get(attributes.key)
    if (series === undefined) {
      // The metrics SDK spec's cardinality limit: past it, measurements go to one overflow series,
      // so attribute values a provider echoes back (a response model) cannot grow memory forever.
      const set = this.series.size < cardinalityLimit - 1 ? attributes : overflow
      series = this.series.get(set.key)
      if (series === undefined) {
        series = new Series(set, this.lastBoundary + 1, this.startNanos)
        this.series.set(set.key, series)
      }
    }
    // Bucket i holds (boundaries[i-1], boundaries[i]]; the last one everything above.
    const boundaries = this.definition.boundaries
    let bucket = 0
    while (bucket < this.lastBoundary && value > boundaries[bucket]!) bucket++
    series.counts[bucket]!++
    series.lifetimeCounts[bucket]!++
    series.count++
    series.lifetimeCount++
    series.sum += value
    series.lifetimeSum += value
    if (value < series.min) series.min = value
    if (value > series.max) series.max = value
    if (value < series.lifetimeMin) series.lifetimeMin = value
    if (value > series.lifetimeMax) series.lifetimeMax = value
    if (
      span !== undefined &&
      (this.exemplarFilter === "always_on" || (this.exemplarFilter === "trace_based" && span.sampled))
    ) {
      series.exemplarValues[bucket] = value
      series.exemplarTimes[bucket] = now
      series.exemplarSpans[bucket] = span
    }
  }

  /** The data points since the last collection (delta) or since the start (cumulative). */
  collect(nowNanos: bigint, delta: boolean): HistogramMetricData | undefined {
    // Exemplar times are monotonic; backends order exemplars by wall-clock time. The offset between
    // the two now converts them (it moves only with clock adjustments, not within an interval).
    const wallOffset = Date.now() - nowMillis()
    const dataPoints: Array<ExemplarDataPoint> = []
    const endTime = toHrTime(nowNanos)
    for (const series of this.series.values()) {
      if (delta && series.count === 0) continue
      const exemplars: Array<Exemplar> = []
      for (let i = 0; i < series.exemplarSpans.length; i++) {
        const span = series.exemplarSpans[i]
        if (span === undefined) continue
        exemplars.push({
          value: series.exemplarValues[i]!,
          timeUnixNano: BigInt(Math.round((series.exemplarTimes[i]! + wallOffset) * 1e6)),
          traceId: span.traceId,
          spanId: span.spanId
        })
      }
      dataPoints.push({
        startTime: toHrTime(series.startNanos),
        endTime,
        attributes: series.attributes.values as Attributes,
        value: {
          buckets: { boundaries: [...this.definition.boundaries], counts: Array.from(series.counts) },
          count: series.count,
          sum: series.sum,
          ...(series.count > 0 ? { min: series.min, max: series.max } : {})
        },
        ...(exemplars.length > 0 ? { exemplars } : {})
      })
      // Exemplars describe one collection interval whatever the temporality: a bucket that saw
      // nothing new since gets none, instead of repeating an old trace forever.
      series.exemplarSpans.fill(undefined)
      if (delta) series.reset(nowNanos)
    }
    if (dataPoints.length === 0) return undefined
    return {
      descriptor: {
        name: this.definition.name,
        unit: this.definition.unit,
        description: this.definition.description,
        valueType: this.definition.integer ? ValueType.INT : ValueType.DOUBLE
      },
      aggregationTemporality: delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints
    }
  }

  summary(): Array<SeriesSummary> {
    return [...this.series.values()].map((series) => ({
      attributes: series.attributes.values,
      boundaries: this.definition.boundaries,
      counts: Array.from(series.lifetimeCounts),
      count: series.lifetimeCount,
      sum: series.lifetimeSum,
      min: series.lifetimeMin,
      max: series.lifetimeMax
    }))
  }
}

/**
 * The GenAI instruments of one tracing layer, and the `MetricProducer` that hands their data to
 * each collection.
 */
export class Recorder implements MetricProducer {
  private readonly histograms = new Map<string, Histogram>()
  private readonly delta: boolean

  constructor(
    definitions: ReadonlyArray<HistogramDefinition>,
    options: {
      readonly temporality: TemporalityPreference
      readonly exemplarFilter: ExemplarFilter
      readonly resource: Resource
      readonly scope: { readonly name: string; readonly version: string }
    }
  ) {
    const start = epochNanos()
    for (const definition of definitions) {
      this.histograms.set(definition.name, new Histogram(definition, options.exemplarFilter, start))
    }
    // Histograms are synchronous instruments: `lowmemory` makes them delta as well.
    this.delta = options.temporality !== "cumulative"
    this.resource = options.resource
    this.scope = options.scope
  }

  private readonly resource: Resource
  private readonly scope: { readonly name: string; readonly version: string }

  /** The histogram named `name`; it must be one of the definitions. */
  histogram(name: string): Histogram {
    const histogram = this.histograms.get(name)
    if (histogram === undefined) throw new Error(`beluga-o11y: no histogram named ${name}`)
    return histogram
  }

  /** The histogram named `name`, if it is one of the definitions. */
  find(name: string): Histogram | undefined {
    return this.histograms.get(name)
  }

  collect(): Promise<CollectionResult> {
    const now = epochNanos()
    const metrics: Array<HistogramMetricData> = []
    for (const histogram of this.histograms.values()) {
      const data = histogram.collect(now, this.delta)
      if (data !== undefined) metrics.push(data)
    }
    return Promise.resolve({
      resourceMetrics: { resource: this.resource, scopeMetrics: [{ scope: this.scope, metrics }] },
      errors: []
    })
  }

  /** Every histogram's lifetime series, for the summary printed at exit. */
  summary(): ReadonlyMap<string, Array<SeriesSummary>> {
    return new Map([...this.histograms].map(([name, histogram]) => [name, histogram.summary()]))
  }
}

/**
 * The recorder of the tracing layer in force, read by the GenAI combinators; `undefined` when
 * metrics are off, so a program without them pays one lookup per span.
 */
export const CurrentRecorder = Context.Reference<Recorder | undefined>("beluga-o11y/Metrics/Recorder", {
  defaultValue: () => undefined
})

/** Wall-clock nanoseconds (millisecond precision): data points' start and end times. */
const epochNanos = (): bigint => BigInt(Date.now()) * 1_000_000n

/**
 * Milliseconds with a fractional part from the monotonic clock (counted from about the epoch, but
 * not adjusted with the wall clock): what measurements are timed with. A number, not Effect's
 * bigint nanoseconds, because a measurement must cost next to nothing.
 */
export const nowMillis = (): number => performance.timeOrigin + performance.now()

/**
 * The value below which `quantile` of the measurements fall, estimated from bucket counts by
 * linear interpolation inside the bucket (as PromQL's `histogram_quantile` does), then kept
 * within the smallest and largest measurement seen, which the buckets alone do not know.
 */
export const quantile = (summary: SeriesSummary, q: number): number | undefined => {
  const estimate = bucketQuantile(summary, q)
  return estimate === undefined ? undefined : Math.min(Math.max(estimate, summary.min), summary.max)
}

const bucketQuantile = (summary: SeriesSummary, q: number): number | undefined => {
  if (summary.count === 0) return undefined
  const rank = q * summary.count
  let seen = 0
  for (let i = 0; i < summary.counts.length; i++) {
    const inBucket = summary.counts[i]!
    if (seen + inBucket >= rank && inBucket > 0) {
      if (i >= summary.boundaries.length) return summary.boundaries[summary.boundaries.length - 1]
      const lower = i === 0 ? 0 : summary.boundaries[i - 1]!
      const upper = summary.boundaries[i]!
      return lower + (upper - lower) * ((rank - seen) / inBucket)
    }
    seen += inBucket
  }
  return summary.boundaries[summary.boundaries.length - 1]
}
