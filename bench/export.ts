/**
 * Export throughput end to end: for each protocol, a fresh sink process (`bench/sink.ts`, counting
 * the spans it decodes) and a fresh application process (`bench/burst.ts`, a burst of `--spans`
 * spans through `Tracing.layer` with the library's defaults), both on 127.0.0.1.
 *
 * Delivered spans/s = spans the sink counted ÷ time from the burst's first span to the end of the
 * app's release (every span delivered, dropped or failed). Also reported: spans dropped (queue
 * full) and failed, the time the burst itself took, app and sink CPU, and peak RSS of each.
 *
 *   node --experimental-transform-types bench/export.ts [--spans=200000] [--protocols=http/protobuf,http/json] [--out=file.json]
 */
import type { BurstResult } from "./burst.ts"
import type { SinkStats } from "./sink.ts"
import { runSection, startSink } from "./spawn.ts"
import { args, count, table, writeResult } from "./stats.ts"

const argv = args()
const spans = argv.number("spans", 200_000)
const protocols = argv.string("protocols", "http/protobuf,http/json").split(",")
const modes = argv.string("modes", "otel").split(",")

export interface ExportRun {
  readonly app: BurstResult
  readonly sink: SinkStats
  readonly deliveredPerSecond: number
  /** Spans the sink counted ÷ its first-to-last request time: the exporter's sustained rate. */
  readonly sinkRate: number
}

const runOne = async (protocol: string, mode: string): Promise<ExportRun> => {
  const sink = await startSink()
  const port = sink.port
  const app = await runSection<BurstResult>("burst.ts", [
    `--port=${port}`,
    `--protocol=${protocol}`,
    `--spans=${spans}`,
    `--mode=${mode}`
  ])
  const stats = await sink.stats()
  await sink.stop()
  return {
    app,
    sink: stats,
    deliveredPerSecond: stats.spans / app.totalSeconds,
    sinkRate: stats.spans / Math.max((stats.lastAt - stats.firstAt) / 1000, 1e-3)
  }
}

const seconds = (micros: number) => `${(micros / 1e6).toFixed(2)} s`

const main = async () => {
  const runs: Record<string, ExportRun> = {}
  for (const mode of modes) {
    for (const protocol of protocols) {
      console.log(`export: ${count(spans)}-span burst over ${protocol}, spans made through ${mode}…`)
      const run = await runOne(protocol, mode)
      runs[`${protocol} ${mode}`] = run
      for (const warning of run.app.warnings) console.log(`  app warned: ${warning}`)
    }
  }
  console.log()
  console.log(table(
    [
      "protocol, burst made by",
      "delivered/s",
      "delivered",
      "dropped",
      "failed",
      "burst made in",
      "all delivered in",
      "sink rate",
      "max queued",
      "spans / app CPU-s",
      "app CPU",
      "sink CPU",
      "app peak RSS",
      "sink peak RSS"
    ],
    Object.entries(runs).map(([protocol, r]) => [
      protocol,
      count(r.deliveredPerSecond),
      count(r.sink.spans),
      count(r.app.dropped),
      count(r.app.failed),
      `${r.app.produceSeconds.toFixed(2)} s`,
      `${r.app.totalSeconds.toFixed(2)} s`,
      `${count(r.sinkRate)}/s`,
      count(r.app.maxQueued),
      // Less sensitive to other processes on the machine than spans/s.
      count(r.sink.spans / ((r.app.cpuUser + r.app.cpuSystem) / 1e6)),
      seconds(r.app.cpuUser + r.app.cpuSystem),
      seconds(r.sink.cpuUser + r.sink.cpuSystem),
      `${(r.app.maxRssKB / 1024).toFixed(0)} MB`,
      `${(r.sink.maxRssKB / 1024).toFixed(0)} MB`
    ])
  ))
  for (const [protocol, r] of Object.entries(runs)) {
    if (r.sink.spans !== r.app.exported) {
      console.log(`  ${protocol}: the sink counted ${r.sink.spans} spans, the app reports ${r.app.exported} exported`)
    }
    if (r.sink.badRequests > 0) console.log(`  ${protocol}: ${r.sink.badRequests} requests the sink could not decode`)
  }
  writeResult(argv.string("out", ""), { spans, runs })
}

await main()
