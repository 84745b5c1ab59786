/**
 * The batch span processor of the OTLP pipeline: each span is serialized the moment it ends, into
 * the open batch's buffer, and batches go to the exporter as bytes. The logs pipeline batches its
 * records the same way, through the same {@link Batcher} with the log processor's settings.
 *
 * Why not the SDK's `BatchSpanProcessor`? It keeps every span object until its batch is
 * serialized, up to the schedule delay later. At tens of thousands of spans a second those objects
 * outlive a young-generation collection or two, are copied and promoted, and the collector's work
 * became the largest cost of a traced step after the serializer itself. Serialized at once, a span
 * dies young, and what waits in the queue is a few hundred bytes of protobuf or JSON per span.
 *
 * The behaviour is the SDK processor's, by the same settings (`OTEL_BSP_*`): only sampled spans go
 * out; a batch leaves when it holds `maxExportBatchSize` spans or `scheduleDelayMillis` after its
 * first span; at most `maxQueueSize` spans wait, and beyond that new spans are dropped and counted;
 * the library adds two bounds in bytes, which spans carrying content reach long before the counts: a
 * batch also leaves once it holds `maxExportBatchBytes`, and new spans are also dropped while
 * `maxQueueBytes` wait;
 * the export runs with tracing suppressed, so the request is not itself traced; `forceFlush` and
 * `shutdown` send everything that has ended. One batch is handed to the exporter at a time; the
 * exporter takes it as soon as it has a request slot (see `OtlpHttpExporter.export`), and a batch it
 * has not taken within `exportTimeoutMillis` stays with it while the next one goes ahead.
 */
import * as Otel from "@opentelemetry/api"
import { type ExportResult, suppressTracing } from "@opentelemetry/core"
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import type { BatchSettings } from "./config.ts"

/** Items (spans, log records) serialized as they come, one batch at a time. */
export interface BatchEncoder<Item = ReadableSpan> {
  /** Serializes `item` into the open batch. */
  add(item: Item): void
  /** Items in the open batch. */
  readonly count: number
  /** The open batch's encoded bytes so far. */
  readonly bytes: number
  /** The export request for the open batch's items; the next batch starts empty. */
  seal(): Uint8Array
}

/** One sealed batch: the request body and how many items (spans, log records) it carries. */
export interface EncodedBatch {
  readonly body: Uint8Array
  readonly items: number
}

/** Where sealed batches go: `OtlpHttpExporter<EncodedBatch>`, or anything with its two methods. */
export interface BatchExporter {
  export(batch: EncodedBatch, done: (result: ExportResult) => void): void
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

/** Serialized items, batched by the batch processor's rules (see the module's header). */
export class Batcher<Item> {
  /** Sealed batches not yet handed to the exporter, oldest first. */
  private readonly sealed: Array<EncodedBatch> = []
  private sealedItems = 0
  private sealedBytes = 0
  private exporting = false
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  private stopped: Promise<void> | undefined = undefined
  private abandoned = false
  /** Resolves the `drained` promises once nothing is sealed or being handed over. */
  private readonly drainWaiters: Array<() => void> = []

  constructor(
    private readonly encoder: BatchEncoder<Item>,
    private readonly exporter: BatchExporter,
    private readonly settings: BatchSettings,
    /** `byBytes` when `maxQueueBytes` was reached rather than `maxQueueSize`. */
    private readonly onDrop: (count: number, byBytes: boolean) => void
  ) {}

  /** Items waiting: in the open batch and in sealed batches not yet handed to the exporter. */
  queued(): number {
    return this.encoder.count + this.sealedItems
  }

  /** Serializes `item` into the open batch, or counts it dropped when the queue is full. */
  add(item: Item): void {
    if (this.stopped !== undefined) return
    const encoder = this.encoder
    const settings = this.settings
    if (encoder.count + this.sealedItems >= settings.maxQueueSize) {
      this.onDrop(1, false)
      return
    }
    if (encoder.bytes + this.sealedBytes >= settings.maxQueueBytes) {
      this.onDrop(1, true)
      return
    }
    encoder.add(item)
    if (encoder.count >= settings.maxExportBatchSize || encoder.bytes >= settings.maxExportBatchBytes) {
      this.seal()
      this.next()
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        this.seal()
        this.next()
      }, this.settings.scheduleDelayMillis)
      // A batch waiting for its delay must never be what keeps the user's program alive.
      this.timer.unref?.()
    }
  }

  /** Sends every item added, and waits for the exporter to answer for them. */
  forceFlush(): Promise<void> {
    if (this.stopped !== undefined) return this.stopped
    return this.flush()
  }

  shutdown(): Promise<void> {
    this.stopped ??= this.flush().then(() => this.exporter.shutdown())
    return this.stopped
  }

  /**
   * The shutdown budget is spent: nothing more goes to the exporter. Returns the items that were
   * still waiting, now lost; the exporter answers for those it holds.
   */
  abandon(): number {
    const lost = this.queued()
    if (this.encoder.count > 0) this.encoder.seal()
    this.sealed.length = 0
    this.sealedItems = 0
    this.sealedBytes = 0
    this.abandoned = true
    this.stopped ??= Promise.resolve()
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    for (const wake of this.drainWaiters.splice(0)) wake()
    return lost
  }

  private async flush(): Promise<void> {
    this.seal()
    this.next()
    await this.drained()
    await this.exporter.forceFlush()
  }

  private seal(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    const items = this.encoder.count
    if (items === 0) return
    const body = this.encoder.seal()
    this.sealed.push({ body, items })
    this.sealedItems += items
    this.sealedBytes += body.length
  }

  /** Hands the oldest sealed batch to the exporter, unless one is being handed over now. */
  private next(): void {
    if (this.exporting || this.abandoned) return
    const batch = this.sealed.shift()
    if (batch === undefined) {
      for (const wake of this.drainWaiters.splice(0)) wake()
      return
    }
    this.exporting = true
    // The exporter counts the batch from here on (in flight, then delivered or failed).
    this.sealedItems -= batch.items
    this.sealedBytes -= batch.body.length
    let answered = false
    const done = () => {
      if (answered) return
      answered = true
      clearTimeout(giveUp)
      this.exporting = false
      this.next()
    }
    // As the SDK's processor: an exporter that has not taken the batch within the export timeout
    // keeps it (and answers for it), and the next batch goes ahead.
    const giveUp = setTimeout(done, this.settings.exportTimeoutMillis)
    giveUp.unref?.()
    try {
      // The exporter's own HTTP request must not become a span of the program's trace.
      Otel.context.with(suppressTracing(Otel.context.active()), () => this.exporter.export(batch, done))
    } catch {
      // The exporter counts and reports its own failures; a throw here must not stall the queue.
      done()
    }
  }

  private drained(): Promise<void> {
    if (!this.exporting && this.sealed.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }
}

/** The spans' batch processor: sampled spans, serialized as they end. */
export class SpanBatcher extends Batcher<ReadableSpan> implements SpanProcessor {
  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & Otel.TraceFlags.SAMPLED) === 0) return
    this.add(span)
  }
}
