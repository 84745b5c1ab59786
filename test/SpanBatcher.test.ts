/**
 * The OTLP pipeline's batch processor (`src/internal/spanBatcher.ts`) on its own: when batches
 * leave, what waits and what is dropped, what a flush and an abandon do, and that the export runs
 * with tracing suppressed. The encoder records which spans went into which batch; the exporter is
 * a test double that holds each batch until the test lets it go, as a busy collector would. The
 * whole pipeline against a real OTLP receiver is in `Export.test.ts` and `Reliability.test.ts`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Otel from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { type ExportResult, ExportResultCode, isTracingSuppressed } from "@opentelemetry/core"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import type { BatchSettings } from "../src/internal/config.ts"
import { type BatchEncoder, type BatchExporter, type EncodedBatch, SpanBatcher } from "../src/internal/spanBatcher.ts"

const span = (name: string, sampled = true): ReadableSpan =>
  ({
    name,
    spanContext: () => ({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: sampled ? Otel.TraceFlags.SAMPLED : Otel.TraceFlags.NONE
    })
  }) as unknown as ReadableSpan

/** Writes each batch as the names of its spans, comma-separated. */
const namesEncoder = (): BatchEncoder => {
  let names: Array<string> = []
  return {
    add: (s) => {
      names.push(s.name)
    },
    get count() {
      return names.length
    },
    get bytes() {
      return names.join(",").length
    },
    seal: () => {
      const body = new TextEncoder().encode(names.join(","))
      names = []
      return body
    }
  }
}

/** Takes every batch at once (`hold: false`) or keeps each until `release()`, like a busy exporter. */
const exporterDouble = (options: { readonly hold?: boolean; readonly throws?: boolean } = {}) => {
  const batches: Array<string> = []
  const suppressed: Array<boolean> = []
  const held: Array<(result: ExportResult) => void> = []
  let shutDown = false
  const exporter: BatchExporter = {
    export: (batch: EncodedBatch, done) => {
      suppressed.push(isTracingSuppressed(Otel.context.active()))
      batches.push(new TextDecoder().decode(batch.body))
      if (options.throws === true) throw new Error("exporter bug")
      if (options.hold === true) held.push(done)
      else done({ code: ExportResultCode.SUCCESS })
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => {
      shutDown = true
      return Promise.resolve()
    }
  }
  return {
    exporter,
    batches,
    suppressed,
    release: () => held.shift()?.({ code: ExportResultCode.SUCCESS }),
    shutDown: () => shutDown
  }
}

const settings = (overrides: Partial<BatchSettings> = {}): BatchSettings => ({
  scheduleDelayMillis: 60_000,
  exportTimeoutMillis: 30_000,
  maxQueueSize: 100,
  maxExportBatchSize: 3,
  maxQueueBytes: 1 << 30,
  maxExportBatchBytes: 1 << 30,
  ...overrides
})

const make = (
  batch: Partial<BatchSettings> = {},
  exporterOptions: Parameters<typeof exporterDouble>[0] = {}
) => {
  const double = exporterDouble(exporterOptions)
  let dropped = 0
  const batcher = new SpanBatcher(namesEncoder(), double.exporter, settings(batch), (n) => (dropped += n))
  return { batcher, ...double, dropped: () => dropped }
}

const end = (batcher: SpanBatcher, ...names: Array<string>) => {
  for (const name of names) batcher.onEnd(span(name))
}

describe("SpanBatcher", () => {
  it("a full batch leaves at once; the rest waits in the open batch", () => {
    const { batcher, batches } = make()
    end(batcher, "a", "b", "c", "d")
    expect(batches).toEqual(["a,b,c"])
    expect(batcher.queued()).toBe(1)
  })

  it("a partial batch leaves after the schedule delay", async () => {
    const { batcher, batches } = make({ scheduleDelayMillis: 10 })
    end(batcher, "a")
    expect(batches).toEqual([])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(batches).toEqual(["a"])
    expect(batcher.queued()).toBe(0)
  })

  it("unsampled spans are not exported", async () => {
    const { batcher, batches } = make()
    batcher.onEnd(span("kept"))
    batcher.onEnd(span("dropped", false))
    await batcher.forceFlush()
    expect(batches).toEqual(["kept"])
  })

  it("one batch is handed over at a time: later ones wait, sealed, until the exporter takes it", async () => {
    const { batcher, batches, release } = make({}, { hold: true })
    end(batcher, "a", "b", "c", "d", "e", "f", "g")
    expect(batches).toEqual(["a,b,c"])
    // The one handed over counts as the exporter's; the sealed one and the open one wait.
    expect(batcher.queued()).toBe(4)
    release()
    expect(batches).toEqual(["a,b,c", "d,e,f"])
    release()
    const flushed = batcher.forceFlush()
    release()
    await flushed
    expect(batches).toEqual(["a,b,c", "d,e,f", "g"])
    expect(batcher.queued()).toBe(0)
  })

  it("beyond the queue bound new spans are dropped and counted; the queue never grows past it", () => {
    const { batcher, batches, dropped } = make({ maxQueueSize: 5, maxExportBatchSize: 2 }, { hold: true })
    end(batcher, "1", "2", "3", "4", "5", "6", "7", "8", "9")
    // "1,2" is with the exporter; "3,4" and "5,6" are sealed, "7" is open: 5 waiting, the bound.
    expect(batches).toEqual(["1,2"])
    expect(batcher.queued()).toBe(5)
    expect(dropped()).toBe(2)
  })

  it("a batch also leaves once it holds maxExportBatchBytes, passing it by at most its last span", () => {
    const { batcher, batches, dropped } = make({ maxExportBatchSize: 100, maxExportBatchBytes: 10 })
    end(batcher, "aaaa", "bbbb", "cccc", "d", "a-span-of-many-bytes", "e")
    expect(dropped()).toBe(0)
    // "aaaa,bbbb" is 9 bytes, under the bound; "cccc" takes it to 14, so the batch leaves.
    expect(batches).toEqual(["aaaa,bbbb,cccc", "d,a-span-of-many-bytes"])
    expect(batcher.queued()).toBe(1)
  })

  it("beyond the queue's bytes new spans are dropped and counted, whatever their number", () => {
    const { batcher, batches, dropped } = make(
      { maxQueueSize: 100, maxExportBatchSize: 2, maxQueueBytes: 12, maxExportBatchBytes: 12 },
      { hold: true }
    )
    end(batcher, "11111", "22222", "33333", "44444", "55555", "66666", "77777")
    // "11111,22222" is with the exporter; "33333,44444" (11 bytes) is sealed and "55555" open: 16
    // bytes wait, past the 12, so the last two are dropped.
    expect(batches).toEqual(["11111,22222"])
    expect(batcher.queued()).toBe(3)
    expect(dropped()).toBe(2)
  })

  it("abandon: nothing more reaches the exporter, and what waited is returned as lost", async () => {
    const { batcher, batches, release } = make({}, { hold: true })
    end(batcher, "a", "b", "c", "d", "e", "f", "g")
    expect(batcher.abandon()).toBe(4)
    expect(batcher.queued()).toBe(0)
    release()
    end(batcher, "late")
    await batcher.forceFlush()
    expect(batches).toEqual(["a,b,c"])
  })

  it("shutdown sends what has ended, then shuts the exporter down; later spans are ignored", async () => {
    const { batcher, batches, shutDown } = make()
    end(batcher, "a", "b")
    await batcher.shutdown()
    expect(batches).toEqual(["a,b"])
    expect(shutDown()).toBe(true)
    end(batcher, "late")
    await batcher.forceFlush()
    expect(batches).toEqual(["a,b"])
  })

  it("an exporter that throws does not stall the queue", async () => {
    const { batcher, batches } = make({}, { throws: true })
    end(batcher, "a", "b", "c", "d", "e", "f", "g")
    await batcher.forceFlush()
    expect(batches).toEqual(["a,b,c", "d,e,f", "g"])
  })

  it("the export runs with tracing suppressed, so the request is not itself traced", () => {
    const manager = new AsyncLocalStorageContextManager().enable()
    Otel.context.setGlobalContextManager(manager)
    try {
      const { batcher, suppressed } = make()
      end(batcher, "a", "b", "c")
      expect(suppressed).toEqual([true])
      expect(isTracingSuppressed(Otel.context.active())).toBe(false)
    } finally {
      Otel.context.disable()
    }
  })
})

describe("SpanBatcher export timeout", () => {
  it("a batch the exporter has not taken within the export timeout stays with it; the next goes ahead", async () => {
    const { batcher, batches } = make({ exportTimeoutMillis: 20 }, { hold: true })
    end(batcher, "a", "b", "c", "d", "e", "f")
    expect(batches).toEqual(["a,b,c"])
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(batches).toEqual(["a,b,c", "d,e,f"])
  })
})
