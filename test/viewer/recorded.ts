/**
 * Telemetry recorded by OpenTelemetry's own SDK, for the viewer's decoding tests to read back:
 * spans with GenAI attributes, an event and an error, and a histogram with explicit buckets.
 */
import { context, trace, ValueType } from "@opentelemetry/api"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics"
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"

export const resource = resourceFromAttributes({ "service.name": "decode-test" })

/** Two spans, a model call under an agent, with an event and an error, as OpenTelemetry's SDK records them. */
export const recordSpans = () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const tracer = provider.getTracer("decode-test")
  const root = tracer.startSpan("invoke_agent planner")
  {
    const child = tracer.startSpan("chat gpt-4o", {
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.cache_read.input_tokens": 20,
        "gen_ai.request.temperature": 0.25,
        "gen_ai.response.finish_reasons": ["stop", "length"],
        "gen_ai.request.stream": true,
        "big.int": 2 ** 40
      }
    }, trace.setSpan(context.active(), root))
    child.addEvent("first chunk", { "chunk.size": 7 })
    child.setStatus({ code: 2, message: "boom ✗" })
    child.end()
    root.end()
  }
  return exporter.getFinishedSpans()
}

class Collect extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override onForceFlush() {
    return Promise.resolve()
  }
  protected override onShutdown() {
    return Promise.resolve()
  }
}

/** A GenAI duration histogram of five measurements, as OpenTelemetry's SDK collects it. */
export const recordMetrics = async () => {
  const reader = new Collect()
  const provider = new MeterProvider({ resource, readers: [reader] })
  const histogram = provider.getMeter("decode-test").createHistogram("gen_ai.client.operation.duration", {
    unit: "s",
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: [0.1, 0.2, 0.4] }
  })
  for (const v of [0.05, 0.15, 0.15, 0.3, 0.9]) {
    histogram.record(v, { "gen_ai.operation.name": "chat", "gen_ai.request.model": "m" })
  }
  const { resourceMetrics } = await reader.collect()
  return resourceMetrics
}
