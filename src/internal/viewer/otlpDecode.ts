/**
 * OTLP trace and metrics requests, protobuf or JSON, decoded into one plain shape the viewer
 * stores, and the readers of values, attributes and resources that the logs decoder
 * (`otlpDecodeLogs.ts`) shares. Field numbers are opentelemetry-proto's (`trace/v1/trace.proto`,
 * `metrics/v1/metrics.proto`, `common/v1/common.proto`); JSON follows the OTLP/JSON rules (hex
 * ids, lowerCamelCase keys, 64-bit integers as strings or numbers). Anything that is not a valid
 * request throws {@link ProtobufError} or {@link OtlpError} with a reason a sender can act on.
 */
import { ProtobufError, Reader } from "./protobufReader.ts"

/** A request whose content is not OTLP. */
export class OtlpError extends Error {}

/** An attribute value as the viewer keeps it: JSON-compatible, 64-bit integers as numbers when safe. */
export type Value = string | number | boolean | null | ReadonlyArray<Value> | { readonly [key: string]: Value }

export type Attributes = Record<string, Value>

export interface RawEvent {
  readonly name: string
  readonly timeNs: bigint
  readonly attributes: Attributes
}

export interface RawLink {
  readonly traceId: string
  readonly spanId: string
  readonly attributes: Attributes
}

export interface RawSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly name: string
  readonly kind: number
  readonly startNs: bigint
  readonly endNs: bigint
  readonly attributes: Attributes
  readonly events: ReadonlyArray<RawEvent>
  readonly links: ReadonlyArray<RawLink>
  readonly statusCode: number
  readonly statusMessage: string
  readonly resource: Attributes
  readonly scope: string
}

export interface RawHistogramPoint {
  readonly metric: string
  readonly unit: string
  /** 1 delta, 2 cumulative. */
  readonly temporality: number
  readonly attributes: Attributes
  readonly resource: Attributes
  readonly startNs: bigint
  readonly timeNs: bigint
  readonly count: number
  readonly sum: number
  readonly bounds: ReadonlyArray<number>
  readonly counts: ReadonlyArray<number>
  /** The smallest and largest measurement, when the sender recorded them. */
  readonly min?: number
  readonly max?: number
}

/**
 * How deep an `AnyValue` may nest (arrays and key-value lists inside each other). Senders cap far
 * lower (this library at 16); the bound keeps a hostile body from exhausting the stack.
 */
export const maxValueDepth = 64

const tooDeep = (what: string) => new OtlpError(`${what} nests deeper than ${maxValueDepth} levels`)

export const hex = (bytes: Uint8Array, size: number, what: string): string => {
  if (bytes.length === 0) return ""
  if (bytes.length !== size) throw new OtlpError(`${what} is ${bytes.length} bytes, expected ${size}`)
  return Buffer.from(bytes).toString("hex")
}

/**
 * Sets a key read from the wire as an own property: a key `__proto__` is data like any other,
 * never the object's prototype.
 */
const setKey = (into: Attributes, key: string, value: Value): void => {
  if (key === "__proto__") {
    Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true })
  } else into[key] = value
}

const int64Value = (value: bigint): Value =>
  value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : String(value)

// -----------------------------------------------------------------------------
// Protobuf
// -----------------------------------------------------------------------------

const pbAnyValue = (r: Reader, depth: number): Value => {
  if (depth > maxValueDepth) throw tooDeep("AnyValue")
  // A oneof: the last field on the wire wins; none set is an empty value.
  let value: Value = null
  r.fields((n, w) => {
    if (n === 1) value = r.expect(w, 2, "AnyValue.string_value").string()
    else if (n === 2) value = r.expect(w, 0, "AnyValue.bool_value").bool()
    else if (n === 3) value = int64Value(r.expect(w, 0, "AnyValue.int_value").int64())
    else if (n === 4) value = r.expect(w, 1, "AnyValue.double_value").double()
    else if (n === 5) {
      r.expect(w, 2, "AnyValue.array_value")
      const items: Array<Value> = []
      const inner = r.message()
      inner.fields((m, w2) => {
        if (m === 1) items.push(pbAnyValue(inner.expect(w2, 2, "ArrayValue.values").message(), depth + 1))
      })
      value = items
    } else if (n === 6) {
      r.expect(w, 2, "AnyValue.kvlist_value")
      const object: Attributes = {}
      const inner = r.message()
      inner.fields((m, w2) => {
        if (m === 1) pbKeyValue(inner.expect(w2, 2, "KeyValueList.values").message(), object, depth)
      })
      value = object
    } else if (n === 7) value = Buffer.from(r.expect(w, 2, "AnyValue.bytes_value").bytes()).toString("base64")
  })
  return value
}

/** One `KeyValue` into `into`; `depth` is that of the value it sits in (0 for an attribute). */
export const pbKeyValue = (r: Reader, into: Attributes, depth = 0): void => {
  let key = ""
  let value: Value = null
  r.fields((n, w) => {
    if (n === 1) key = r.expect(w, 2, "KeyValue.key").string()
    else if (n === 2) value = pbAnyValue(r.expect(w, 2, "KeyValue.value").message(), depth + 1)
  })
  setKey(into, key, value)
}

/** A top-level `AnyValue`, such as a log record's body. */
export const pbValue = (r: Reader): Value => pbAnyValue(r, 1)

const pbAttributes = (r: Reader, what: string): Attributes => {
  const attributes: Attributes = {}
  r.fields((n, w) => {
    if (n === 1) pbKeyValue(r.expect(w, 2, what).message(), attributes)
  })
  return attributes
}

const pbScopeName = (r: Reader): string => {
  let name = ""
  r.fields((n, w) => {
    if (n === 1) name = r.expect(w, 2, "InstrumentationScope.name").string()
  })
  return name
}

/** The field names of one signal's nesting, for the reasons a malformed request is given. */
export interface GroupNames {
  readonly scopes: string
  readonly items: string
}

/** The resource and scopes of one `ResourceSpans`, `ResourceMetrics` or `ResourceLogs`. */
export const pbResourceGroups = (
  r: Reader,
  onScopeItem: (item: Reader, resource: Attributes, scope: string) => void,
  names: GroupNames = { scopes: "scope_spans", items: "spans" }
): void => {
  let resource: Attributes = {}
  const scopes: Array<Reader> = []
  r.fields((n, w) => {
    if (n === 1) resource = pbAttributes(r.expect(w, 2, "resource").message(), "Resource.attributes")
    else if (n === 2) scopes.push(r.expect(w, 2, names.scopes).message())
  })
  for (const s of scopes) {
    let scope = ""
    const items: Array<Reader> = []
    s.fields((n, w) => {
      if (n === 1) scope = pbScopeName(s.expect(w, 2, "scope").message())
      else if (n === 2) items.push(s.expect(w, 2, names.items).message())
    })
    for (const item of items) onScopeItem(item, resource, scope)
  }
}

const pbSpan = (r: Reader, resource: Attributes, scope: string): RawSpan => {
  let traceId = ""
  let spanId = ""
  let parentSpanId = ""
  let name = ""
  let kind = 0
  let startNs = 0n
  let endNs = 0n
  const attributes: Attributes = {}
  const events: Array<RawEvent> = []
  const links: Array<RawLink> = []
  let statusCode = 0
  let statusMessage = ""
  r.fields((n, w) => {
    switch (n) {
      case 1:
        r.expect(w, 2, "Span.trace_id")
        traceId = hex(r.bytes(), 16, "Span.trace_id")
        break
      case 2:
        r.expect(w, 2, "Span.span_id")
        spanId = hex(r.bytes(), 8, "Span.span_id")
        break
      case 4:
        r.expect(w, 2, "Span.parent_span_id")
        parentSpanId = hex(r.bytes(), 8, "Span.parent_span_id")
        break
      case 5:
        r.expect(w, 2, "Span.name")
        name = r.string()
        break
      case 6:
        r.expect(w, 0, "Span.kind")
        kind = r.int32()
        break
      case 7:
        r.expect(w, 1, "Span.start_time_unix_nano")
        startNs = r.fixed64()
        break
      case 8:
        r.expect(w, 1, "Span.end_time_unix_nano")
        endNs = r.fixed64()
        break
      case 9:
        r.expect(w, 2, "Span.attributes")
        pbKeyValue(r.message(), attributes)
        break
      case 11: {
        r.expect(w, 2, "Span.events")
        const e = r.message()
        let time = 0n
        let eventName = ""
        const eventAttributes: Attributes = {}
        e.fields((m, w2) => {
          if (m === 1) time = e.expect(w2, 1, "Event.time_unix_nano").fixed64()
          else if (m === 2) eventName = e.expect(w2, 2, "Event.name").string()
          else if (m === 3) pbKeyValue(e.expect(w2, 2, "Event.attributes").message(), eventAttributes)
        })
        events.push({ name: eventName, timeNs: time, attributes: eventAttributes })
        break
      }
      case 13: {
        r.expect(w, 2, "Span.links")
        const l = r.message()
        let linkTrace = ""
        let linkSpan = ""
        const linkAttributes: Attributes = {}
        l.fields((m, w2) => {
          if (m === 1) linkTrace = hex(l.expect(w2, 2, "Link.trace_id").bytes(), 16, "Link.trace_id")
          else if (m === 2) linkSpan = hex(l.expect(w2, 2, "Link.span_id").bytes(), 8, "Link.span_id")
          else if (m === 4) pbKeyValue(l.expect(w2, 2, "Link.attributes").message(), linkAttributes)
        })
        links.push({ traceId: linkTrace, spanId: linkSpan, attributes: linkAttributes })
        break
      }
      case 15: {
        r.expect(w, 2, "Span.status")
        const s = r.message()
        s.fields((m, w2) => {
          if (m === 2) statusMessage = s.expect(w2, 2, "Status.message").string()
          else if (m === 3) statusCode = s.expect(w2, 0, "Status.code").int32()
        })
        break
      }
    }
  })
  return checkSpan({
    traceId,
    spanId,
    parentSpanId,
    name,
    kind,
    startNs,
    endNs,
    attributes,
    events,
    links,
    statusCode,
    statusMessage,
    resource,
    scope
  })
}

const checkSpan = (span: RawSpan): RawSpan => {
  if (span.traceId === "") throw new OtlpError(`span "${span.name.slice(0, 80)}" has no trace_id`)
  if (span.spanId === "") throw new OtlpError(`span "${span.name.slice(0, 80)}" has no span_id`)
  return span
}

/** Decodes an `ExportTraceServiceRequest` (protobuf). */
export const decodeTracesProtobuf = (body: Uint8Array): Array<RawSpan> => {
  const spans: Array<RawSpan> = []
  const r = new Reader(body)
  r.fields((n, w) => {
    if (n !== 1) return
    r.expect(w, 2, "resource_spans")
    pbResourceGroups(r.message(), (item, resource, scope) => spans.push(pbSpan(item, resource, scope)))
  })
  return spans
}

const pbHistogramPoint = (r: Reader, metric: string, unit: string, temporality: number, resource: Attributes) => {
  let startNs = 0n
  let timeNs = 0n
  let count = 0
  let sum = 0
  let min: number | undefined
  let max: number | undefined
  const counts: Array<number> = []
  const bounds: Array<number> = []
  const attributes: Attributes = {}
  r.fields((n, w) => {
    if (n === 2) startNs = r.expect(w, 1, "start_time_unix_nano").fixed64()
    else if (n === 3) timeNs = r.expect(w, 1, "time_unix_nano").fixed64()
    else if (n === 4) count = Number(r.expect(w, 1, "count").fixed64())
    else if (n === 5) sum = r.expect(w, 1, "sum").double()
    else if (n === 6) r.packed64(w, (p) => counts.push(Number(p.fixed64())))
    else if (n === 7) r.packed64(w, (p) => bounds.push(p.double()))
    else if (n === 9) pbKeyValue(r.expect(w, 2, "HistogramDataPoint.attributes").message(), attributes)
    else if (n === 11) min = r.expect(w, 1, "min").double()
    else if (n === 12) max = r.expect(w, 1, "max").double()
  })
  const point = { metric, unit, temporality, attributes, resource, startNs, timeNs, count, sum, bounds, counts }
  return checkPoint(min === undefined || max === undefined ? point : { ...point, min, max })
}

const checkPoint = (point: RawHistogramPoint): RawHistogramPoint => {
  if (point.counts.length > 0 && point.counts.length !== point.bounds.length + 1) {
    throw new OtlpError(`${point.metric}: ${point.counts.length} bucket counts for ${point.bounds.length} bounds`)
  }
  return point
}

/** Decodes the histograms of an `ExportMetricsServiceRequest` (protobuf); other metric types are read and left. */
export const decodeMetricsProtobuf = (body: Uint8Array): Array<RawHistogramPoint> => {
  const points: Array<RawHistogramPoint> = []
  const r = new Reader(body)
  r.fields((n, w) => {
    if (n !== 1) return
    r.expect(w, 2, "resource_metrics")
    pbResourceGroups(r.message(), (m, resource) => {
      let name = ""
      let unit = ""
      let histogram: Reader | undefined
      m.fields((k, w2) => {
        if (k === 1) name = m.expect(w2, 2, "Metric.name").string()
        else if (k === 3) unit = m.expect(w2, 2, "Metric.unit").string()
        else if (k === 9) histogram = m.expect(w2, 2, "Metric.histogram").message()
      })
      if (histogram === undefined) return
      const h = histogram
      const data: Array<Reader> = []
      let temporality = 0
      h.fields((k, w2) => {
        if (k === 1) data.push(h.expect(w2, 2, "Histogram.data_points").message())
        else if (k === 2) temporality = h.expect(w2, 0, "Histogram.aggregation_temporality").int32()
      })
      for (const point of data) points.push(pbHistogramPoint(point, name, unit, temporality, resource))
    }, { scopes: "scope_metrics", items: "metrics" })
  })
  return points
}

// -----------------------------------------------------------------------------
// JSON
// -----------------------------------------------------------------------------

export type Json = Record<string, unknown>

const object = (value: unknown, what: string): Json => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OtlpError(`${what} is not an object`)
  }
  return value as Json
}

const array = (value: unknown, what: string): ReadonlyArray<unknown> => {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new OtlpError(`${what} is not an array`)
  return value
}

export const string = (value: unknown, what: string): string => {
  if (value === undefined || value === null) return ""
  if (typeof value !== "string") throw new OtlpError(`${what} is not a string`)
  return value
}

export const integer = (value: unknown, what: string): bigint => {
  if (value === undefined || value === null) return 0n
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value)
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value)
  throw new OtlpError(`${what} is not an integer`)
}

const double = (value: unknown, what: string): number => {
  if (value === undefined || value === null) return 0
  if (typeof value === "number") return value
  if (value === "NaN" || value === "Infinity" || value === "-Infinity") return Number(value)
  throw new OtlpError(`${what} is not a number`)
}

export const jsonId = (value: unknown, size: number, what: string): string => {
  const text = string(value, what)
  if (text === "") return ""
  if (text.length !== size * 2 || !/^[0-9a-fA-F]+$/.test(text)) {
    throw new OtlpError(`${what} is not ${size * 2} hex characters`)
  }
  return text.toLowerCase()
}

const jsonAnyValue = (value: unknown, what: string, depth: number): Value => {
  if (value === undefined || value === null) return null
  if (depth > maxValueDepth) throw tooDeep(what.slice(0, 60))
  const any = object(value, what)
  if ("stringValue" in any) return string(any["stringValue"], `${what}.stringValue`)
  if ("boolValue" in any) {
    if (typeof any["boolValue"] !== "boolean") throw new OtlpError(`${what}.boolValue is not a boolean`)
    return any["boolValue"]
  }
  if ("intValue" in any) return int64Value(integer(any["intValue"], `${what}.intValue`))
  if ("doubleValue" in any) return double(any["doubleValue"], `${what}.doubleValue`)
  if ("arrayValue" in any) {
    const values = object(any["arrayValue"], `${what}.arrayValue`)["values"]
    return array(values, `${what}.arrayValue.values`).map((item) => jsonAnyValue(item, what, depth + 1))
  }
  if ("kvlistValue" in any) {
    const values = object(any["kvlistValue"], `${what}.kvlistValue`)["values"]
    return jsonKeyValues(values, `${what}.kvlistValue.values`, depth)
  }
  if ("bytesValue" in any) return string(any["bytesValue"], `${what}.bytesValue`)
  return null
}

const jsonKeyValues = (value: unknown, what: string, depth: number): Attributes => {
  const attributes: Attributes = {}
  for (const item of array(value, what)) {
    const kv = object(item, what)
    setKey(attributes, string(kv["key"], `${what}.key`), jsonAnyValue(kv["value"], `${what}.value`, depth + 1))
  }
  return attributes
}

/** A list of `KeyValue`s (attributes) as an object. */
export const jsonAttributes = (value: unknown, what: string): Attributes => jsonKeyValues(value, what, 0)

/** A top-level `AnyValue`, such as a log record's body. */
export const jsonValue = (value: unknown, what: string): Value => jsonAnyValue(value, what, 1)

export const jsonGroups = (
  request: unknown,
  groupKey: string,
  scopeKey: string,
  itemKey: string,
  onItem: (item: Json, resource: Attributes, scope: string) => void
): void => {
  for (const group of array(object(request, "the request")[groupKey], groupKey)) {
    const g = object(group, groupKey)
    const resourceField = g["resource"]
    const resource = resourceField === undefined
      ? {}
      : jsonAttributes(object(resourceField, "resource")["attributes"], "resource.attributes")
    for (const scopeGroup of array(g[scopeKey], scopeKey)) {
      const s = object(scopeGroup, scopeKey)
      const scope = s["scope"] === undefined ? "" : string(object(s["scope"], "scope")["name"], "scope.name")
      for (const item of array(s[itemKey], itemKey)) onItem(object(item, itemKey), resource, scope)
    }
  }
}

const jsonSpan = (s: Json, resource: Attributes, scope: string): RawSpan => {
  const status = s["status"] === undefined ? {} : object(s["status"], "span.status")
  return checkSpan({
    traceId: jsonId(s["traceId"], 16, "span.traceId"),
    spanId: jsonId(s["spanId"], 8, "span.spanId"),
    parentSpanId: jsonId(s["parentSpanId"], 8, "span.parentSpanId"),
    name: string(s["name"], "span.name"),
    kind: Number(integer(s["kind"], "span.kind")),
    startNs: integer(s["startTimeUnixNano"], "span.startTimeUnixNano"),
    endNs: integer(s["endTimeUnixNano"], "span.endTimeUnixNano"),
    attributes: jsonAttributes(s["attributes"], "span.attributes"),
    events: array(s["events"], "span.events").map((event) => {
      const e = object(event, "span.events")
      return {
        name: string(e["name"], "event.name"),
        timeNs: integer(e["timeUnixNano"], "event.timeUnixNano"),
        attributes: jsonAttributes(e["attributes"], "event.attributes")
      }
    }),
    links: array(s["links"], "span.links").map((link) => {
      const l = object(link, "span.links")
      return {
        traceId: jsonId(l["traceId"], 16, "link.traceId"),
        spanId: jsonId(l["spanId"], 8, "link.spanId"),
        attributes: jsonAttributes(l["attributes"], "link.attributes")
      }
    }),
    statusCode: Number(integer(status["code"], "span.status.code")),
    statusMessage: string(status["message"], "span.status.message"),
    resource,
    scope
  })
}

export const parseJson = (body: Uint8Array | string): unknown => {
  try {
    return JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"))
  } catch (error) {
    throw new OtlpError(`the body is not JSON: ${(error as Error).message}`)
  }
}

/** Decodes an `ExportTraceServiceRequest` (OTLP/JSON), as text or an already-parsed value. */
export const decodeTracesJson = (body: Uint8Array | string | object): Array<RawSpan> => {
  const spans: Array<RawSpan> = []
  const request = typeof body === "object" && !(body instanceof Uint8Array) ? body : parseJson(body)
  jsonGroups(request, "resourceSpans", "scopeSpans", "spans", (s, resource, scope) => {
    spans.push(jsonSpan(s, resource, scope))
  })
  return spans
}

/** Decodes the histograms of an `ExportMetricsServiceRequest` (OTLP/JSON). */
export const decodeMetricsJson = (body: Uint8Array | string | object): Array<RawHistogramPoint> => {
  const points: Array<RawHistogramPoint> = []
  const request = typeof body === "object" && !(body instanceof Uint8Array) ? body : parseJson(body)
  jsonGroups(request, "resourceMetrics", "scopeMetrics", "metrics", (m, resource) => {
    if (m["histogram"] === undefined) return
    const h = object(m["histogram"], "metric.histogram")
    const metric = string(m["name"], "metric.name")
    const unit = string(m["unit"], "metric.unit")
    const temporality = Number(integer(h["aggregationTemporality"], "histogram.aggregationTemporality"))
    for (const point of array(h["dataPoints"], "histogram.dataPoints")) {
      const p = object(point, "histogram.dataPoints")
      const extremes = p["min"] === undefined || p["max"] === undefined
        ? {}
        : { min: double(p["min"], "dataPoint.min"), max: double(p["max"], "dataPoint.max") }
      points.push(checkPoint({
        ...extremes,
        metric,
        unit,
        temporality,
        attributes: jsonAttributes(p["attributes"], "dataPoint.attributes"),
        resource,
        startNs: integer(p["startTimeUnixNano"], "dataPoint.startTimeUnixNano"),
        timeNs: integer(p["timeUnixNano"], "dataPoint.timeUnixNano"),
        count: Number(integer(p["count"], "dataPoint.count")),
        sum: double(p["sum"], "dataPoint.sum"),
        counts: array(p["bucketCounts"], "dataPoint.bucketCounts").map((c) => Number(integer(c, "bucketCounts"))),
        bounds: array(p["explicitBounds"], "dataPoint.explicitBounds").map((b) => double(b, "explicitBounds"))
      }))
    }
  })
  return points
}

export { ProtobufError }
