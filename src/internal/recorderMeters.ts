/**
 * The OTel metrics API's meter provider where the SDK's is left out (worker bundles, `#platform`):
 * histograms named as one of the library's own (`McpSdk`'s MCP durations, recorded through the API
 * because the MCP SDK's callbacks run outside Effect) go into the GenAI recorder, so they are
 * exported with the rest; every other instrument is the API's no-op.
 */
import * as Otel from "@opentelemetry/api"
import { AttributeSet, nowMillis, type Recorder } from "./metrics.ts"

/** The attributes a recorder's series can hold: strings, numbers and booleans. */
const primitives = (attributes: Otel.Attributes | undefined): AttributeSet => {
  const values: Record<string, string | number | boolean> = {}
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") values[key] = value
  }
  return new AttributeSet(values)
}

export const recorderMeterProvider = (recorder: Recorder): Otel.MeterProvider => {
  const noop = Otel.createNoopMeter()
  // The no-op meter's methods for every other instrument, with this one histogram over them.
  const meter: Otel.Meter = Object.assign(Object.create(noop) as Otel.Meter, {
    createHistogram: (name: string, options?: Otel.MetricOptions): Otel.Histogram => {
      const histogram = recorder.find(name)
      if (histogram === undefined) return noop.createHistogram(name, options)
      // As through the SDK's meter provider on Node: no exemplar (its histograms keep none).
      return { record: (value, attributes) => histogram.record(value, primitives(attributes), undefined, nowMillis()) }
    }
  })
  return { getMeter: () => meter }
}
