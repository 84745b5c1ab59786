/**
 * The application side of the export benchmark: `Tracing.layer` with the library's defaults
 * (batch queue 32768, batch 4096, delay 1 s, no compression), exporting over OTLP/HTTP to the sink
 * at `--port`, makes a burst of `--spans` spans as fast as it can: traces of one `burst` root and
 * 999 `burst-span` children with 5 attributes each. The program then ends and the layer's release
 * flushes what is left, as at the end of a real program. Writes what it measured to `--out`.
 *
 * Two ways to make the burst (`--mode`):
 * - `otel` (default): the spans are started through the layer's own OTel tracer (`OtelTracer`, the
 *   same provider, batch processor and exporter that Effect spans go to), 500 spans per turn of the
 *   event loop. Span creation (~3 µs) is then much cheaper than export, so this measures the export
 *   pipeline: queue, serialization, HTTP.
 * - `effect`: the spans are `Effect.withSpan` steps run by the Effect runtime (which yields to the
 *   event loop every 2048 operations). This is what an Effect program achieves end to end; here
 *   span creation, not export, is the bottleneck.
 *
 *   node --experimental-transform-types bench/burst.ts --port=4318 --protocol=http/protobuf --spans=200000 [--mode=otel|effect]
 */
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import * as Otel from "@opentelemetry/api"
import * as Effect from "effect/Effect"
import * as Tracing from "../src/Tracing.ts"
import { args, writeResult } from "./stats.ts"

const argv = args()
const port = argv.number("port", 4318)
const protocol = argv.string("protocol", "http/protobuf") as Tracing.Protocol
const total = argv.number("spans", 200_000)
const perTrace = 1000
const traces = Math.ceil(total / perTrace)
const mode = argv.string("mode", "otel")
const chunk = argv.number("chunk", 500)

export interface BurstResult {
  readonly protocol: string
  readonly mode: string
  readonly spans: number
  /** From the first span to the end of the burst (all spans ended). */
  readonly produceSeconds: number
  /** From the first span to the end of the layer's release (every span delivered or lost). */
  readonly totalSeconds: number
  readonly exported: number
  readonly dropped: number
  readonly failed: number
  readonly rejected: number
  readonly maxQueued: number
  readonly cpuUser: number
  readonly cpuSystem: number
  readonly maxRssKB: number
  readonly startedAt: number
  readonly warnings: ReadonlyArray<string>
}

const wallNow = () => performance.timeOrigin + performance.now()
const warnings: Array<string> = []

const burst = Effect.gen(function*() {
  for (let t = 0; t < traces; t++) {
    yield* Effect.gen(function*() {
      for (let i = 1; i < perTrace; i++) {
        yield* Effect.withSpan(Effect.void, "burst-span", {
          attributes: {
            "burst.trace": t,
            "burst.index": i,
            "burst.name": "parse-document",
            "burst.ratio": 0.25,
            "burst.cached": false
          }
        })
      }
    }).pipe(Effect.withSpan("burst"))
  }
})

/** The same burst through the OTel tracer of the layer, yielding to the event loop every `chunk` spans. */
const otelBurst = (tracer: Otel.Tracer) =>
  Effect.promise(async () => {
    let sinceYield = 0
    for (let t = 0; t < traces; t++) {
      const root = tracer.startSpan("burst", undefined, Otel.ROOT_CONTEXT)
      const context = Otel.trace.setSpan(Otel.ROOT_CONTEXT, root)
      for (let i = 1; i < perTrace; i++) {
        const span = tracer.startSpan("burst-span", undefined, context)
        span.setAttribute("burst.trace", t)
        span.setAttribute("burst.index", i)
        span.setAttribute("burst.name", "parse-document")
        span.setAttribute("burst.ratio", 0.25)
        span.setAttribute("burst.cached", false)
        span.end()
        if (++sinceYield === chunk) {
          sinceYield = 0
          await new Promise<void>((resolve) => setImmediate(resolve))
        }
      }
      root.end()
    }
  })

const main = async () => {
  let maxQueued = 0
  const program = Effect.gen(function*() {
    const delivery = yield* Tracing.Delivery
    const sampler = setInterval(() => {
      const stats = Effect.runSync(delivery.stats)
      maxQueued = Math.max(maxQueued, stats.queuedSpans)
    }, 5)
    const startedAt = wallNow()
    const cpu = process.cpuUsage()
    if (mode === "effect") yield* burst
    else yield* otelBurst(yield* OtelTracer.OtelTracer)
    const producedAt = wallNow()
    maxQueued = Math.max(maxQueued, (yield* delivery.stats).queuedSpans)
    return { delivery, startedAt, producedAt, cpu, sampler }
  })
  const run = await Effect.runPromise(program.pipe(
    Effect.provide(Tracing.layer({
      serviceName: "beluga-bench-burst",
      endpoint: `http://127.0.0.1:${port}`,
      protocol,
      onWarning: (message) => warnings.push(message)
    }))
  ))
  const doneAt = wallNow()
  clearInterval(run.sampler)
  const cpu = process.cpuUsage(run.cpu)
  const stats = await Effect.runPromise(run.delivery.stats)
  const result: BurstResult = {
    protocol,
    mode,
    spans: traces * perTrace,
    produceSeconds: (run.producedAt - run.startedAt) / 1000,
    totalSeconds: (doneAt - run.startedAt) / 1000,
    exported: stats.exportedSpans,
    dropped: stats.droppedSpans,
    failed: stats.failedSpans,
    rejected: stats.rejectedSpans,
    maxQueued,
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    maxRssKB: process.resourceUsage().maxRSS,
    startedAt: run.startedAt,
    warnings
  }
  writeResult(argv.string("out", ""), result)
  if (!argv.has("out")) console.log(result)
}

await main()
