/**
 * What instruments made through the OTel metrics API (`metrics.getMeter(…)`, in the program or in
 * the libraries it uses) report to: the SDK's `MeterProvider`, whose reader only answers the
 * collections `metricsCollector.ts` makes, as one more producer beside the GenAI recorder. On
 * Node, Bun and Deno (`#platform`); worker bundles leave the SDK out (`recorderMeters.ts`).
 */
import type * as Otel from "@opentelemetry/api"
import type { Resource } from "@opentelemetry/resources"
import {
  AggregationTemporality,
  InstrumentType,
  MeterProvider,
  type MetricProducer,
  MetricReader
} from "@opentelemetry/sdk-metrics"
import type { TemporalityPreference } from "./config.ts"

/**
 * The API's meter provider, the producer a collection reads it through (none when it records into
 * the GenAI recorder, `recorderMeters.ts`), and its shutdown.
 */
export interface ApiMeters {
  readonly provider: Otel.MeterProvider
  readonly producer?: MetricProducer | undefined
  readonly shutdown?: (() => Promise<void>) | undefined
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

/** A reader with nothing to flush: when it collects is the library's collection's to decide. */
class CollectedReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

export const apiMeters = (resource: Resource, temporality: TemporalityPreference): ApiMeters => {
  const reader = new CollectedReader({ aggregationTemporalitySelector: (kind) => temporalityFor(temporality, kind) })
  const provider = new MeterProvider({ resource, readers: [reader] })
  return {
    provider,
    producer: { collect: (options) => reader.collect(options) },
    shutdown: () => provider.shutdown()
  }
}
