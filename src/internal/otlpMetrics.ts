/**
 * `ExportMetricsServiceRequest` in both OTLP/HTTP encodings, exemplars included.
 *
 * `@opentelemetry/otlp-transformer` 0.223 serializes metrics without the `exemplars` field of any
 * data point (its protobuf writer lists the field numbers and skips them), and the exemplars are
 * what link a latency bucket to its trace. So the request is built here: first as the OTLP/JSON
 * object (lowerCamelCase, 64-bit integers as strings, ids as hex, enums as numbers), which is the
 * JSON body as is, then written field by field as protobuf from that same object, following
 * `opentelemetry/proto/metrics/v1/metrics.proto` and `common/v1/common.proto`.
 */
import type { Attributes, AttributeValue, HrTime } from "@opentelemetry/api"
import { ValueType } from "@opentelemetry/api"
import { type ExportResult, ExportResultCode } from "@opentelemetry/core"
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type ExponentialHistogram,
  type Histogram,
  InstrumentType,
  type MetricData,
  type PushMetricExporter,
  type ResourceMetrics
} from "@opentelemetry/sdk-metrics"
import type { TemporalityPreference } from "./config.ts"
import type { Exemplar, ExemplarDataPoint } from "./metrics.ts"
import type { Codec, OtlpHttpExporter } from "./otlp.ts"
import { partialSuccess } from "./otlpResponse.ts"

// -----------------------------------------------------------------------------
// The request as OTLP/JSON
// -----------------------------------------------------------------------------

type JsonAnyValue =
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  | { readonly intValue: string }
  | { readonly doubleValue: number }
  | { readonly arrayValue: { readonly values: ReadonlyArray<JsonAnyValue> } }
  | { readonly bytesValue: string }
interface JsonKeyValue {
  readonly key: string
  readonly value: JsonAnyValue
}
interface JsonExemplar {
  readonly timeUnixNano: string
  readonly asDouble?: number
  readonly asInt?: string
  readonly spanId: string
  readonly traceId: string
}
interface JsonNumberPoint {
  readonly attributes: ReadonlyArray<JsonKeyValue>
  readonly startTimeUnixNano: string
  readonly timeUnixNano: string
  readonly asDouble?: number
  readonly asInt?: string
}
interface JsonHistogramPoint {
  readonly attributes: ReadonlyArray<JsonKeyValue>
  readonly startTimeUnixNano: string
  readonly timeUnixNano: string
  readonly count: string
  readonly sum?: number
  readonly bucketCounts: ReadonlyArray<string>
  readonly explicitBounds: ReadonlyArray<number>
  readonly exemplars?: ReadonlyArray<JsonExemplar>
  readonly min?: number
  readonly max?: number
}
interface JsonBuckets {
  readonly offset: number
  readonly bucketCounts: ReadonlyArray<string>
}
interface JsonExponentialPoint {
  readonly attributes: ReadonlyArray<JsonKeyValue>
  readonly startTimeUnixNano: string
  readonly timeUnixNano: string
  readonly count: string
  readonly sum?: number
  readonly scale: number
  readonly zeroCount: string
  readonly positive: JsonBuckets
  readonly negative: JsonBuckets
  readonly min?: number
  readonly max?: number
}
interface JsonMetric {
  readonly name: string
  readonly description: string
  readonly unit: string
  readonly gauge?: { readonly dataPoints: ReadonlyArray<JsonNumberPoint> }
  readonly sum?: {
    readonly dataPoints: ReadonlyArray<JsonNumberPoint>
    readonly aggregationTemporality: number
    readonly isMonotonic: boolean
  }
  readonly histogram?: {
    readonly dataPoints: ReadonlyArray<JsonHistogramPoint>
    readonly aggregationTemporality: number
  }
  readonly exponentialHistogram?: {
    readonly dataPoints: ReadonlyArray<JsonExponentialPoint>
    readonly aggregationTemporality: number
  }
}
interface JsonRequest {
  readonly resourceMetrics: ReadonlyArray<{
    readonly resource: { readonly attributes: ReadonlyArray<JsonKeyValue> }
    readonly scopeMetrics: ReadonlyArray<{
      readonly scope: { readonly name: string; readonly version: string }
      readonly metrics: ReadonlyArray<JsonMetric>
    }>
  }>
}

const nanos = (time: HrTime): string => (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString()

const anyValue = (value: AttributeValue): JsonAnyValue | undefined => {
  if (typeof value === "string") return { stringValue: value }
  if (typeof value === "boolean") return { boolValue: value }
  if (typeof value === "number") {
    return Number.isInteger(value) && Number.isSafeInteger(value)
      ? { intValue: value.toString() }
      : { doubleValue: value }
  }
  if (Array.isArray(value)) {
    const values: Array<JsonAnyValue> = []
    for (const item of value as ReadonlyArray<unknown>) {
      if (item === null || item === undefined) continue
      const converted = anyValue(item as AttributeValue)
      if (converted !== undefined) values.push(converted)
    }
    return { arrayValue: { values } }
  }
  return undefined
}

const keyValues = (attributes: Attributes | undefined): Array<JsonKeyValue> => {
  const out: Array<JsonKeyValue> = []
  if (attributes === undefined) return out
  for (const key of Object.keys(attributes)) {
    const raw = attributes[key]
    if (raw === undefined) continue
    const value = anyValue(raw)
    if (value !== undefined) out.push({ key, value })
  }
  return out
}

/** OTLP's enum: 1 delta, 2 cumulative (the SDK's enum counts from 0). */
const otlpTemporality = (t: AggregationTemporality): number => (t === AggregationTemporality.DELTA ? 1 : 2)

/** What every data point starts with: its attributes and its interval. */
const pointHeader = (point: DataPoint<unknown>) => ({
  attributes: keyValues(point.attributes),
  startTimeUnixNano: nanos(point.startTime),
  timeUnixNano: nanos(point.endTime)
})

/** A measured value as OTLP's `as_int` / `as_double` oneof. */
const measured = (value: number, integer: boolean) =>
  integer ? { asInt: Math.trunc(value).toString() } : { asDouble: value }

const numberPoint = (point: DataPoint<number>, integer: boolean): JsonNumberPoint => ({
  ...pointHeader(point),
  ...measured(point.value, integer)
})

const exemplar = (e: Exemplar, integer: boolean): JsonExemplar => ({
  timeUnixNano: e.timeUnixNano.toString(),
  ...measured(e.value, integer),
  spanId: e.spanId,
  traceId: e.traceId
})

const histogramPoint = (point: ExemplarDataPoint, integer: boolean): JsonHistogramPoint => {
  const h: Histogram = point.value
  return {
    ...pointHeader(point),
    count: h.count.toString(),
    ...(h.sum !== undefined ? { sum: h.sum } : {}),
    bucketCounts: h.buckets.counts.map((c) => c.toString()),
    explicitBounds: h.buckets.boundaries,
    ...(point.exemplars !== undefined && point.exemplars.length > 0
      ? { exemplars: point.exemplars.map((e) => exemplar(e, integer)) }
      : {}),
    ...(h.min !== undefined ? { min: h.min } : {}),
    ...(h.max !== undefined ? { max: h.max } : {})
  }
}

const exponentialPoint = (point: DataPoint<ExponentialHistogram>): JsonExponentialPoint => {
  const h = point.value
  return {
    ...pointHeader(point),
    count: h.count.toString(),
    ...(h.sum !== undefined ? { sum: h.sum } : {}),
    scale: h.scale,
    zeroCount: h.zeroCount.toString(),
    positive: { offset: h.positive.offset, bucketCounts: h.positive.bucketCounts.map((c) => c.toString()) },
    negative: { offset: h.negative.offset, bucketCounts: h.negative.bucketCounts.map((c) => c.toString()) },
    ...(h.min !== undefined ? { min: h.min } : {}),
    ...(h.max !== undefined ? { max: h.max } : {})
  }
}

const metric = (data: MetricData): JsonMetric => {
  const base = { name: data.descriptor.name, description: data.descriptor.description, unit: data.descriptor.unit }
  const integer = data.descriptor.valueType === ValueType.INT
  switch (data.dataPointType) {
    case DataPointType.GAUGE:
      return { ...base, gauge: { dataPoints: data.dataPoints.map((p) => numberPoint(p, integer)) } }
    case DataPointType.SUM:
      return {
        ...base,
        sum: {
          dataPoints: data.dataPoints.map((p) => numberPoint(p, integer)),
          aggregationTemporality: otlpTemporality(data.aggregationTemporality),
          isMonotonic: data.isMonotonic
        }
      }
    case DataPointType.HISTOGRAM:
      return {
        ...base,
        histogram: {
          dataPoints: data.dataPoints.map((p) => histogramPoint(p, integer)),
          aggregationTemporality: otlpTemporality(data.aggregationTemporality)
        }
      }
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return {
        ...base,
        exponentialHistogram: {
          dataPoints: data.dataPoints.map(exponentialPoint),
          aggregationTemporality: otlpTemporality(data.aggregationTemporality)
        }
      }
  }
}

/** The request as the OTLP/JSON object. Scopes with no metrics are left out. */
const toJsonRequest = (resourceMetrics: ResourceMetrics): JsonRequest => ({
  resourceMetrics: [{
    resource: { attributes: keyValues(resourceMetrics.resource.attributes) },
    scopeMetrics: resourceMetrics.scopeMetrics.filter((scope) => scope.metrics.length > 0).map((scope) => ({
      scope: { name: scope.scope.name, version: scope.scope.version ?? "" },
      metrics: scope.metrics.map(metric)
    }))
  }]
})

/** Data points in the request: what delivery is counted in. */
const countDataPoints = (resourceMetrics: ResourceMetrics): number => {
  let n = 0
  for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) n += m.dataPoints.length
  return n
}

export const serializeJson = (resourceMetrics: ResourceMetrics): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(toJsonRequest(resourceMetrics)))

// -----------------------------------------------------------------------------
// The same request as protobuf
// -----------------------------------------------------------------------------

/** A growable protobuf writer: just the wire types this request uses. */
class Writer {
  private buffer = new Uint8Array(1024)
  private view = new DataView(this.buffer.buffer)
  length = 0

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return
    let size = this.buffer.length * 2
    while (size < this.length + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buffer.subarray(0, this.length))
    this.buffer = next
    this.view = new DataView(next.buffer)
  }
  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value))
    this.reserve(10)
    while (v >= 0x80n) {
      this.buffer[this.length++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.buffer[this.length++] = Number(v)
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire)
  }
  fixed64(field: number, value: bigint): void {
    this.tag(field, 1)
    this.reserve(8)
    this.view.setBigUint64(this.length, BigInt.asUintN(64, value), true)
    this.length += 8
  }
  double(field: number, value: number): void {
    this.tag(field, 1)
    this.reserve(8)
    this.view.setFloat64(this.length, value, true)
    this.length += 8
  }
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, 2)
    this.varint(value.length)
    this.reserve(value.length)
    this.buffer.set(value, this.length)
    this.length += value.length
  }
  string(field: number, value: string): void {
    if (value !== "") this.bytes(field, encoder.encode(value))
  }
  /** An embedded message written by `write` into its own writer. */
  message(field: number, write: (w: Writer) => void): void {
    const inner = new Writer()
    write(inner)
    this.bytes(field, inner.finish())
  }
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}

const encoder = new TextEncoder()

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, "hex"))

const writeAnyValue = (w: Writer, value: JsonAnyValue): void => {
  if ("stringValue" in value) w.bytes(1, encoder.encode(value.stringValue))
  else if ("boolValue" in value) {
    w.tag(2, 0)
    w.varint(value.boolValue ? 1 : 0)
  } else if ("intValue" in value) {
    w.tag(3, 0)
    w.varint(BigInt(value.intValue))
  } else if ("doubleValue" in value) w.double(4, value.doubleValue)
  else if ("arrayValue" in value) {
    w.message(5, (array) => {
      for (const item of value.arrayValue.values) array.message(1, (v) => writeAnyValue(v, item))
    })
  } else w.bytes(7, Buffer.from(value.bytesValue, "base64"))
}

const writeAttributes = (w: Writer, field: number, attributes: ReadonlyArray<JsonKeyValue>): void => {
  for (const kv of attributes) {
    w.message(field, (m) => {
      m.string(1, kv.key)
      m.message(2, (v) => writeAnyValue(v, kv.value))
    })
  }
}

const writeNumberPoint = (w: Writer, p: JsonNumberPoint): void => {
  w.fixed64(2, BigInt(p.startTimeUnixNano))
  w.fixed64(3, BigInt(p.timeUnixNano))
  if (p.asInt !== undefined) w.fixed64(6, BigInt(p.asInt))
  else w.double(4, p.asDouble ?? 0)
  writeAttributes(w, 7, p.attributes)
}

const writeExemplar = (w: Writer, e: JsonExemplar): void => {
  w.fixed64(2, BigInt(e.timeUnixNano))
  if (e.asInt !== undefined) w.fixed64(6, BigInt(e.asInt))
  else w.double(3, e.asDouble ?? 0)
  w.bytes(4, hexBytes(e.spanId))
  w.bytes(5, hexBytes(e.traceId))
}

const writeHistogramPoint = (w: Writer, p: JsonHistogramPoint): void => {
  w.fixed64(2, BigInt(p.startTimeUnixNano))
  w.fixed64(3, BigInt(p.timeUnixNano))
  w.fixed64(4, BigInt(p.count))
  if (p.sum !== undefined) w.double(5, p.sum)
  // Packed repeated fields: one length-delimited run of fixed64 counts, then of double bounds.
  if (p.bucketCounts.length > 0) {
    const counts = new Uint8Array(p.bucketCounts.length * 8)
    const view = new DataView(counts.buffer)
    p.bucketCounts.forEach((c, i) => view.setBigUint64(i * 8, BigInt(c), true))
    w.bytes(6, counts)
  }
  if (p.explicitBounds.length > 0) {
    const bounds = new Uint8Array(p.explicitBounds.length * 8)
    const view = new DataView(bounds.buffer)
    p.explicitBounds.forEach((b, i) => view.setFloat64(i * 8, b, true))
    w.bytes(7, bounds)
  }
  writeAttributes(w, 9, p.attributes)
  for (const e of p.exemplars ?? []) w.message(8, (m) => writeExemplar(m, e))
  if (p.min !== undefined) w.double(11, p.min)
  if (p.max !== undefined) w.double(12, p.max)
}

const writeMetric = (w: Writer, m: JsonMetric): void => {
  w.string(1, m.name)
  w.string(2, m.description)
  w.string(3, m.unit)
  if (m.gauge !== undefined) {
    const gauge = m.gauge
    w.message(5, (g) => {
      for (const p of gauge.dataPoints) g.message(1, (d) => writeNumberPoint(d, p))
    })
  } else if (m.sum !== undefined) {
    const sum = m.sum
    w.message(7, (s) => {
      for (const p of sum.dataPoints) s.message(1, (d) => writeNumberPoint(d, p))
      s.tag(2, 0)
      s.varint(sum.aggregationTemporality)
      if (sum.isMonotonic) {
        s.tag(3, 0)
        s.varint(1)
      }
    })
  } else if (m.histogram !== undefined) {
    const histogram = m.histogram
    w.message(9, (h) => {
      for (const p of histogram.dataPoints) h.message(1, (d) => writeHistogramPoint(d, p))
      h.tag(2, 0)
      h.varint(histogram.aggregationTemporality)
    })
  } else if (m.exponentialHistogram !== undefined) {
    const histogram = m.exponentialHistogram
    w.message(10, (h) => {
      for (const p of histogram.dataPoints) h.message(1, (d) => writeExponentialPoint(d, p))
      h.tag(2, 0)
      h.varint(histogram.aggregationTemporality)
    })
  }
}

const zigzag = (n: number): bigint => BigInt.asUintN(64, (BigInt(n) << 1n) ^ (BigInt(n) >> 63n))

const writeBuckets = (w: Writer, b: JsonBuckets): void => {
  if (b.offset !== 0) {
    w.tag(1, 0)
    w.varint(zigzag(b.offset))
  }
  if (b.bucketCounts.length > 0) {
    const packed = new Writer()
    for (const c of b.bucketCounts) packed.varint(BigInt(c))
    w.bytes(2, packed.finish())
  }
}

const writeExponentialPoint = (w: Writer, p: JsonExponentialPoint): void => {
  writeAttributes(w, 1, p.attributes)
  w.fixed64(2, BigInt(p.startTimeUnixNano))
  w.fixed64(3, BigInt(p.timeUnixNano))
  w.fixed64(4, BigInt(p.count))
  if (p.sum !== undefined) w.double(5, p.sum)
  if (p.scale !== 0) {
    w.tag(6, 0)
    w.varint(zigzag(p.scale))
  }
  w.fixed64(7, BigInt(p.zeroCount))
  w.message(8, (b) => writeBuckets(b, p.positive))
  w.message(9, (b) => writeBuckets(b, p.negative))
  if (p.min !== undefined) w.double(12, p.min)
  if (p.max !== undefined) w.double(13, p.max)
}

export const serializeProtobuf = (resourceMetrics: ResourceMetrics): Uint8Array => {
  const request = toJsonRequest(resourceMetrics)
  const w = new Writer()
  for (const rm of request.resourceMetrics) {
    w.message(1, (r) => {
      r.message(1, (resource) => writeAttributes(resource, 1, rm.resource.attributes))
      for (const sm of rm.scopeMetrics) {
        r.message(2, (s) => {
          s.message(1, (scope) => {
            scope.string(1, sm.scope.name)
            scope.string(2, sm.scope.version)
          })
          for (const m of sm.metrics) s.message(2, (metricWriter) => writeMetric(metricWriter, m))
        })
      }
    })
  }
  return w.finish()
}

// -----------------------------------------------------------------------------
// The exporter the SDK's periodic reader calls
// -----------------------------------------------------------------------------

/** Metrics over the OTLP transport the spans use: same retries, same bounded shutdown. */
export const metricsCodec: Codec<ResourceMetrics> = {
  serialize: (metrics, protocol) => (protocol === "http/json" ? serializeJson(metrics) : serializeProtobuf(metrics)),
  count: countDataPoints,
  rejected: (body, protocol) => partialSuccess(body, protocol, "rejectedDataPoints")
}

/**
 * The temporality of each instrument kind for a preference, as the OTLP exporter spec defines
 * them: `delta` makes the monotonic ones delta, `lowmemory` only the synchronous monotonic ones.
 */
export const temporalityFor = (preference: TemporalityPreference, kind: InstrumentType): AggregationTemporality => {
  if (preference === "cumulative") return AggregationTemporality.CUMULATIVE
  const delta = kind === InstrumentType.COUNTER || kind === InstrumentType.HISTOGRAM ||
    (preference === "delta" && kind === InstrumentType.OBSERVABLE_COUNTER)
  return delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE
}

export class OtlpMetricExporter implements PushMetricExporter {
  constructor(
    private readonly transport: OtlpHttpExporter<ResourceMetrics>,
    private readonly temporality: TemporalityPreference,
    /** The endpoint said it takes no metrics (404, 405): stop sending them. */
    private readonly refused: () => boolean = () => false
  ) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    // A collection with nothing in it (no calls yet) is not worth a request.
    if (countDataPoints(metrics) === 0 || this.refused()) return resultCallback({ code: ExportResultCode.SUCCESS })
    this.transport.export(metrics, resultCallback)
  }

  forceFlush(): Promise<void> {
    return this.transport.forceFlush()
  }

  shutdown(): Promise<void> {
    return this.transport.shutdown()
  }

  selectAggregationTemporality(kind: InstrumentType): AggregationTemporality {
    return temporalityFor(this.temporality, kind)
  }
}
