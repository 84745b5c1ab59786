/**
 * `ExportMetricsServiceRequest` in both OTLP/HTTP encodings, exemplars included.
 *
 * `@opentelemetry/otlp-transformer` 0.223 serializes metrics without the `exemplars` field of any
 * data point (its protobuf writer lists the field numbers and skips them), and the exemplars are
 * what link a latency bucket to its trace. So the request is built here: first as the OTLP/JSON
 * object (lowerCamelCase, 64-bit integers as strings, ids as hex, enums as numbers), which is the
 * JSON body as is, then written as protobuf from that same object, each JSON field through its
 * number and type in `opentelemetry/proto/metrics/v1/metrics.proto` and `common/v1/common.proto`
 * (a table, not code per message: this module is in every worker's bundle).
 *
 * Exponential histograms are not written: no producer here makes them (the OTel API's meter
 * provider has no views, and its default aggregation for histograms is explicit buckets).
 */
import type { Attributes, AttributeValue, HrTime } from "@opentelemetry/api"
import { ValueType } from "@opentelemetry/api"
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type Histogram,
  type MetricData,
  type ResourceMetrics
} from "@opentelemetry/sdk-metrics"
import type { Exemplar, ExemplarDataPoint } from "./metrics.ts"
import type { MetricsExporter } from "./metricsCollector.ts"
import type { Codec, OtlpHttpExporter } from "./otlp.ts"
import { partialSuccess } from "./otlpResponse.ts"
import { ProtobufWriter } from "./protobufWriter.ts"

// -----------------------------------------------------------------------------
// The request as OTLP/JSON
// -----------------------------------------------------------------------------

type JsonAnyValue =
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  | { readonly intValue: string }
  | { readonly doubleValue: number }
  | { readonly arrayValue: { readonly values: ReadonlyArray<JsonAnyValue> } }
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

/**
 * A measured value as OTLP's `as_int` / `as_double` oneof. An integer instrument's value that int64
 * cannot hold (an overflowing sum) goes out as a double, rather than failing the whole collection.
 */
const measured = (value: number, integer: boolean) =>
  integer && Number.isFinite(value) && Math.abs(value) < 2 ** 63
    ? { asInt: BigInt(Math.trunc(value)).toString() }
    : { asDouble: value }

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

const metric = (data: MetricData): JsonMetric | undefined => {
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
      return undefined
  }
}

/** The request as the OTLP/JSON object. Scopes with no metrics are left out. */
const toJsonRequest = (resourceMetrics: ResourceMetrics): JsonRequest => ({
  resourceMetrics: [{
    resource: { attributes: keyValues(resourceMetrics.resource.attributes) },
    scopeMetrics: resourceMetrics.scopeMetrics.filter((scope) => scope.metrics.length > 0).map((scope) => ({
      scope: { name: scope.scope.name, version: scope.scope.version ?? "" },
      metrics: scope.metrics.flatMap((data) => metric(data) ?? [])
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

/**
 * How a JSON field is written: `S` a string (left out when empty), `M` a message, `F` a fixed64
 * from its decimal text, `D` a double, `B` a bool (left out when false), `I` an int64 varint from
 * its decimal text, `H` bytes from hex, `PF` / `PD` packed fixed64s / doubles. A oneof member is
 * written even when it holds its type's default: `S1` and `B1`.
 */
const S = 0, M = 1, F = 2, D = 3, B = 4, I = 5, H = 6, PF = 7, PD = 8, S1 = 9, B1 = 10
/** A kind's wire type. */
const wire = [2, 2, 1, 1, 0, 0, 2, 2, 2, 2, 0]

/** A message's fields by their JSON name: the field number, the kind, a message's own fields. */
interface Fields {
  readonly [json: string]: readonly [number, number, Fields?]
}

const arrayValue: { values?: readonly [number, number, Fields] } = {}
const anyValueFields: Fields = {
  stringValue: [1, S1],
  boolValue: [2, B1],
  intValue: [3, I],
  doubleValue: [4, D],
  arrayValue: [5, M, arrayValue]
}
arrayValue.values = [1, M, anyValueFields]
const keyValueFields: Fields = { key: [1, S], value: [2, M, anyValueFields] }
const times = { startTimeUnixNano: [2, F], timeUnixNano: [3, F] } as const
const numberPointFields: Fields = { ...times, asDouble: [4, D], asInt: [6, F], attributes: [7, M, keyValueFields] }
const histogramPointFields: Fields = {
  ...times,
  count: [4, F],
  sum: [5, D],
  bucketCounts: [6, PF],
  explicitBounds: [7, PD],
  exemplars: [8, M, { timeUnixNano: [2, F], asDouble: [3, D], spanId: [4, H], traceId: [5, H], asInt: [6, F] }],
  attributes: [9, M, keyValueFields],
  min: [11, D],
  max: [12, D]
}
const requestFields: Fields = {
  resourceMetrics: [1, M, {
    resource: [1, M, { attributes: [1, M, keyValueFields] }],
    scopeMetrics: [2, M, {
      scope: [1, M, { name: [1, S], version: [2, S] }],
      metrics: [2, M, {
        name: [1, S],
        description: [2, S],
        unit: [3, S],
        gauge: [5, M, { dataPoints: [1, M, numberPointFields] }],
        sum: [7, M, { dataPoints: [1, M, numberPointFields], aggregationTemporality: [2, I], isMonotonic: [3, B] }],
        histogram: [9, M, { dataPoints: [1, M, histogramPointFields], aggregationTemporality: [2, I] }]
      }]
    }]
  }]
}

/** A value its kind leaves out: an empty string, `false`, an empty packed run. */
const isDefault = (kind: number, value: unknown): boolean =>
  (kind === S && value === "") || (kind === B && value === false) ||
  ((kind === PF || kind === PD) && (value as ReadonlyArray<unknown>).length === 0)

const writeMessage = (w: ProtobufWriter, message: object, fields: Fields): void => {
  for (const [key, value] of Object.entries(message)) {
    const field = fields[key]
    if (field === undefined) continue
    const [number, kind, inner] = field
    // A repeated field is one JSON array: each item is a field of its own, unless packed.
    for (const item of kind !== PF && kind !== PD && Array.isArray(value) ? value as Array<unknown> : [value]) {
      if (isDefault(kind, item)) continue
      w.varint(number * 8 + wire[kind]!)
      writeValue(w, kind, item, inner)
    }
  }
}

const writeValue = (w: ProtobufWriter, kind: number, value: unknown, inner: Fields | undefined): void => {
  if (kind === S || kind === S1) w.string(value as string)
  else if (kind === D) w.double(value as number)
  else if (kind === F) w.fixed64Big(BigInt.asUintN(64, BigInt(value as string)))
  else if (kind === B || kind === B1) w.varint(value === true ? 1 : 0)
  else if (kind === I) w.varint(Number(value))
  else if (kind === H) w.hexBytes(value as string)
  else {
    const start = w.begin(1)
    if (kind === M) writeMessage(w, value as object, inner!)
    else {for (const item of value as ReadonlyArray<string | number>) {
        if (kind === PD) w.double(item as number)
        else w.fixed64Big(BigInt(item))
      }}
    w.end(start, 1)
  }
}

export const serializeProtobuf = (resourceMetrics: ResourceMetrics): Uint8Array => {
  const w = new ProtobufWriter()
  writeMessage(w, toJsonRequest(resourceMetrics), requestFields)
  return w.copy(0)
}

// -----------------------------------------------------------------------------
// The exporter the collection hands its requests to
// -----------------------------------------------------------------------------

/** Metrics over the OTLP transport the spans use: same retries, same bounded shutdown. */
export const metricsCodec: Codec<ResourceMetrics> = {
  serialize: (metrics, protocol) => (protocol === "http/json" ? serializeJson(metrics) : serializeProtobuf(metrics)),
  count: countDataPoints,
  rejected: (body, protocol) => partialSuccess(body, protocol, "rejectedDataPoints")
}

export class OtlpMetricExporter implements MetricsExporter {
  constructor(
    private readonly transport: OtlpHttpExporter<ResourceMetrics>,
    /** The endpoint said it takes no metrics (404, 405): stop sending them. */
    private readonly refused: () => boolean = () => false,
    /** Also handed every collection: the run's report. */
    private readonly report?: { readonly addMetrics: (metrics: ResourceMetrics) => void }
  ) {}

  export(metrics: ResourceMetrics): Promise<void> {
    // A collection with nothing in it (no calls yet) is not worth a request, nor a place in the report.
    if (countDataPoints(metrics) === 0) return Promise.resolve()
    this.report?.addMetrics(metrics)
    if (this.refused()) return Promise.resolve()
    return new Promise((resolve) => this.transport.export(metrics, () => resolve()))
  }

  forceFlush(): Promise<void> {
    return this.transport.forceFlush()
  }

  shutdown(): Promise<void> {
    return this.transport.shutdown()
  }
}
