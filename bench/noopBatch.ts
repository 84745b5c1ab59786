/**
 * The micro rows' span processor: the SDK's batch span processor over a no-op exporter, with its
 * drops made visible, so that every row (ours, upstream, the raw SDK) pays the same queueing and
 * none pays serialization or I/O. The whole export path is measured by `delivered.ts`.
 *
 * When its queue is full the batch processor drops new spans and says so only through `diag`
 * (silent by default). It does count them, through its self-observability metrics
 * (`otel.sdk.processor.span.processed` with `error.type=queue_full`), so instead of
 * re-implementing the processor we hand it a tiny meter provider that forwards exactly that
 * count, and lets us read its queue size.
 */
import { createNoopMeter, type Meter, type MeterProvider, type ObservableCallback } from "@opentelemetry/api"
// The env-free class from `sdk-trace` (the `sdk-trace-base` one also reads OTEL_BSP_* from
// process.env, which would bypass our validated configuration).
import { BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace"
import type { BatchSettings } from "../src/internal/config.ts"
import { ATTR_ERROR_TYPE } from "../src/internal/semconv.ts"

export interface BatchProcessor {
  readonly processor: BatchSpanProcessor
  /** Spans waiting in the queue right now. */
  readonly queued: () => number
}

/**
 * The batch processor's `forceFlush` hands its queue to the exporter but does not wait for the
 * exporter's own requests; ours answers early (see `OtlpHttpExporter.export`), so wait for it too.
 */
class FlushingBatchSpanProcessor extends BatchSpanProcessor {
  constructor(private readonly options: ConstructorParameters<typeof BatchSpanProcessor>[0]) {
    super(options)
  }

  override forceFlush(): Promise<void> {
    return super.forceFlush().then(() => this.options.exporter.forceFlush?.())
  }
}

export const makeBatchProcessor = (
  exporter: SpanExporter,
  batch: BatchSettings,
  onDrop: (count: number) => void
): BatchProcessor => {
  let queueSize: ObservableCallback | undefined
  const noop = createNoopMeter()
  // The noop meter's methods live on its prototype: inherit them, override two.
  const meter: Meter = Object.assign(
    Object.create(noop) as Meter,
    {
      createCounter: (name, options) => {
        const counter = noop.createCounter(name, options)
        return Object.assign(Object.create(counter) as typeof counter, {
          add: (value: number, attributes?: Record<string, unknown>) => {
            if (attributes?.[ATTR_ERROR_TYPE] === "queue_full") onDrop(value)
          }
        })
      },
      createObservableUpDownCounter: (name, options) => {
        const gauge = noop.createObservableUpDownCounter(name, options)
        return Object.assign(Object.create(gauge) as typeof gauge, {
          addCallback: (callback: ObservableCallback) => {
            queueSize = callback
          },
          removeCallback: () => {
            queueSize = undefined
          }
        })
      }
    } satisfies Partial<Meter>
  )
  const meterProvider: MeterProvider = { getMeter: () => meter }
  const processor = new FlushingBatchSpanProcessor({
    exporter,
    scheduledDelayMillis: batch.scheduleDelayMillis,
    exportTimeoutMillis: batch.exportTimeoutMillis,
    maxQueueSize: batch.maxQueueSize,
    maxExportBatchSize: batch.maxExportBatchSize,
    selfObsMeterProvider: meterProvider
  })
  const queued = () => {
    let size = 0
    void queueSize?.({ observe: (value) => (size = value) })
    return size
  }
  return { processor, queued }
}
