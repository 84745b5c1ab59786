/**
 * The whole cost of a traced step: making the span, serializing it and sending it over OTLP/HTTP to
 * a sink in another process on 127.0.0.1 (`sink.ts`), beside Effect's native tracer and the
 * `always_off` sampler in the same interleaved rounds.
 *
 * The micro section's rows export to a no-op exporter, so they leave out what every real span also
 * costs. Here each row runs its samples (`--steps` steps in one `runSync`) with a turn of the event
 * loop between samples, so the batch processor's timer and the HTTP exports run as they would in a
 * program, and the row's window ends with a flush that waits until the sink has answered for every
 * span. What a row costs is the process's CPU time over its window ÷ the steps it ran: the
 * serializer, the request and the GC it causes all count, in any thread of the app.
 *
 * Rows (5 attributes a span, as in `rows.ts`):
 * - `native.root` / `native.child`: `Effect.withSpan`, Effect's native tracer (makes spans, exports nothing);
 * - `off.root`: `Effect.withSpan` under the beluga tracer with `always_off`, each step a root;
 * - `noop.root`: the beluga tracer, always_on, to a no-op exporter (making and recording the span);
 * - `proto.root` / `json.root`: the beluga tracer, always_on, exported over http/protobuf or http/json;
 * - `proto.child` / `json.child`: the same, every step a child of one parent per sample.
 *
 *   node --experimental-transform-types --expose-gc bench/delivered.ts [--quick] [--rounds=9] [--time=300]
 *     [--steps=256] [--rows=native.root,proto.root] [--context-manager] [--out=file.json]
 *
 * `--profile` runs each row of `--rows` for `--seconds` under V8's sampling profiler instead, and
 * prints where its CPU went: making the span, Effect's runtime, the batch processor, the serializer,
 * the HTTP request, GC (`npm run bench -- --sections=delivered --profile --rows=proto.root,json.root`);
 * `--top=20` adds the functions with the most self time, `--save=dir` writes the raw profiles.
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as fs from "node:fs"
import * as inspector from "node:inspector/promises"
import * as path from "node:path"
import * as Config from "../src/internal/config.ts"
import { Outages } from "../src/internal/exporter.ts"
import * as TracePipeline from "../src/internal/tracePipeline.ts"
import { compose } from "../src/internal/tracing.ts"
import { attributes, installContextManager, oursLayer } from "./rows.ts"
import { startSink } from "./spawn.ts"
import { args, ns, ratio, shuffle, summarize, type Summary, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const rounds = argv.number("rounds", quick ? 3 : 9)
/** With `--profile`: also the `--top` functions by self time. */
const top = argv.number("top", 0)
/** With `--profile`: also write each row's raw `.cpuprofile` into this folder (Chrome DevTools, speedscope). */
const save = argv.string("save", "")
const timeMs = argv.number("time", quick ? 150 : 300)
const steps = argv.number("steps", 256)
const seed = argv.number("seed", Date.now() % 100_000)

if (argv.has("context-manager")) installContextManager()

export const deliveredRows = {
  "native.root": "Effect.withSpan root step, Effect's native tracer (no export)",
  "native.child": "Effect.withSpan child step, Effect's native tracer (no export)",
  "native.runtime.root": "Effect.withSpan root step, Effect's native tracer, in a ManagedRuntime of Layer.empty",
  "off.root": "Effect.withSpan root step, beluga tracer, always_off",
  "noop.root": "Effect.withSpan root step, beluga tracer, no-op exporter",
  "proto.root": "Effect.withSpan root step, beluga, exported http/protobuf",
  "json.root": "Effect.withSpan root step, beluga, exported http/json",
  "proto.child": "Effect.withSpan child step, beluga, exported http/protobuf",
  "json.child": "Effect.withSpan child step, beluga, exported http/json"
} as const
export type DeliveredRowId = keyof typeof deliveredRows

export const deliveredRatios = [
  { id: "proto.root/native.root", numerator: "proto.root", denominator: "native.root" },
  { id: "json.root/native.root", numerator: "json.root", denominator: "native.root" },
  { id: "proto.child/native.child", numerator: "proto.child", denominator: "native.child" },
  { id: "json.child/native.child", numerator: "json.child", denominator: "native.child" },
  { id: "noop.root/native.root", numerator: "noop.root", denominator: "native.root" },
  { id: "off.root/native.root", numerator: "off.root", denominator: "native.root" },
  // What running in a runtime at all costs: every layer's context sits behind ManagedRuntime's memo map.
  { id: "native.runtime.root/native.root", numerator: "native.runtime.root", denominator: "native.root" },
  { id: "off.root/native.runtime.root", numerator: "off.root", denominator: "native.runtime.root" }
] as const satisfies ReadonlyArray<{ id: string; numerator: DeliveredRowId; denominator: DeliveredRowId }>

export interface DeliveredResult {
  readonly steps: number
  readonly rounds: number
  /** CPU nanoseconds per step, one value per round. */
  readonly rows: Record<string, Summary>
  readonly ratios: Record<string, Summary>
  /** Spans the sink counted ÷ spans the exporting rows made: 1 when nothing was lost. */
  readonly deliveredShare: number
}

interface Row {
  readonly id: DeliveredRowId
  readonly run: () => void
  /** Resolves when every span ended so far has been answered for by the sink (or there is no export). */
  readonly flush: () => Promise<void>
  /** Spans this row handed to an exporter. */
  readonly exported: () => number
  readonly dispose: () => Promise<void>
}

const one = Effect.succeed(1)
const step = () => Effect.withSpan(one, "step", { attributes })
const roots = Effect.gen(function*() {
  for (let i = 0; i < steps; i++) yield* step()
})
const children = roots.pipe(Effect.withSpan("parent"))

/** `Tracing.layer`'s composition with its real OTLP pipeline, to the sink at `port`. */
const exportingLayer = (port: number, protocol: Config.Protocol) => {
  const settings = Effect.runSync(
    Config.load({ serviceName: "beluga-bench", endpoint: `http://127.0.0.1:${port}`, protocol, metrics: false }).pipe(
      Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))),
      Effect.orDie
    )
  )
  const warn = (message: string) => console.error(`  (${protocol}) ${message}`)
  const spans = TracePipeline.otlp(settings, { warn, outages: new Outages() })
  const layer = compose(settings, spans, { shutdown: { timeout: 5000, warn }, metrics: {} })
  const flush = async () => {
    for (const processor of spans.processors) await processor.forceFlush()
  }
  return { layer, flush, stats: spans.stats }
}

const makeRow = async (id: DeliveredRowId, port: number): Promise<Row> => {
  const program = id.endsWith(".child") ? children : roots
  const runIn = async (layer: Layer.Layer<any, never, never>, rest: Pick<Row, "flush" | "exported">): Promise<Row> => {
    const runtime = ManagedRuntime.make(layer)
    await runtime.runPromise(Effect.void)
    return { id, run: () => runtime.runSync(program), ...rest, dispose: () => runtime.dispose() }
  }
  switch (id) {
    case "native.root":
    case "native.child":
      return {
        id,
        run: () => Effect.runSync(program),
        flush: () => Promise.resolve(),
        exported: () => 0,
        dispose: () => Promise.resolve()
      }
    case "native.runtime.root":
      return runIn(Layer.empty as Layer.Layer<any, never, never>, { flush: () => Promise.resolve(), exported: () => 0 })
    case "off.root":
      return runIn(oursLayer("always_off").layer, { flush: () => Promise.resolve(), exported: () => 0 })
    case "noop.root":
      return runIn(oursLayer(undefined).layer, { flush: () => Promise.resolve(), exported: () => 0 })
    default: {
      const { flush, layer, stats } = exportingLayer(port, id.startsWith("json") ? "http/json" : "http/protobuf")
      return runIn(layer, { flush, exported: () => stats().exportedSpans })
    }
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** CPU nanoseconds per step over one window of `ms` (samples with a turn between them, then the flush). */
const measure = async (row: Row, ms: number): Promise<number> => {
  // No forced GC between windows: after \`gc()\` V8 shrinks the young generation and the next
  // window runs up to 3× slower until it grows back, which would swamp the differences measured.
  await turn()
  const cpu = process.cpuUsage()
  const end = performance.now() + ms
  let made = 0
  while (performance.now() < end) {
    row.run()
    made += steps
    await turn()
  }
  await row.flush()
  const used = process.cpuUsage(cpu)
  return ((used.user + used.system) * 1000) / made
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string }
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** Where a sample's function belongs, by its file. */
const area = (frame: ProfileNode["callFrame"]): string => {
  const url = frame.url
  if (frame.functionName === "(garbage collector)") return "GC"
  if (frame.functionName === "(idle)") return "idle (waiting for the sink, timers)"
  if (
    url.includes("otlp-transformer") || /src\/internal\/(otlpTraces|otlpTracesJson|otlpSpan|protobufWriter)/.test(url)
  ) return "serializer"
  if (url.includes("/sdk-trace/") || url.includes("/sdk-trace-base/")) return "batch processor"
  if (
    /src\/internal\/(otlp|exporter)\.ts/.test(url) ||
    /^node:(_http|http|net|stream|internal\/(stream|http|net))/.test(url)
  ) {
    return "HTTP request (ours and Node's)"
  }
  if (frame.functionName === "writev" || frame.functionName === "writeUtf8String") {
    return "HTTP request (ours and Node's)"
  }
  if (url.includes("/src/")) return "span record, tracer, processors (ours)"
  if (url.includes("/effect/")) return "Effect runtime"
  if (url.includes("@opentelemetry")) return "OTel API and context"
  return "other"
}

const profileRows = async (rows: ReadonlyArray<Row>, seconds: number) => {
  const session = new inspector.Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.setSamplingInterval", { interval: 100 })
  for (const row of rows) {
    await session.post("Profiler.start")
    const cpu = process.cpuUsage()
    let made = 0
    const end = performance.now() + seconds * 1000
    while (performance.now() < end) {
      row.run()
      made += steps
      await turn()
    }
    await row.flush()
    const used = process.cpuUsage(cpu)
    const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile }
    if (save !== "") {
      fs.mkdirSync(save, { recursive: true })
      fs.writeFileSync(path.join(save, `${row.id}.cpuprofile`), JSON.stringify(profile))
    }
    const byId = new Map(profile.nodes.map((node) => [node.id, node]))
    const totals = new Map<string, number>()
    const functions = new Map<string, number>()
    let busy = 0
    for (let i = 0; i < profile.samples.length; i++) {
      const frame = byId.get(profile.samples[i]!)!.callFrame
      const name = area(frame)
      const delta = profile.timeDeltas[i] ?? 0
      totals.set(name, (totals.get(name) ?? 0) + delta)
      if (!name.startsWith("idle")) busy += delta
      const fn = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(node_modules|src)\//, "$1/")}`
      functions.set(fn, (functions.get(fn) ?? 0) + delta)
    }
    const perStep = ((used.user + used.system) * 1000) / made
    console.log(`\n${row.id}: ${deliveredRows[row.id]} — ${ns(perStep)} CPU per step (${made} steps)`)
    console.log(table(
      ["where (self time of the main thread)", "share of busy time", "per step"],
      [...totals].filter(([name]) => !name.startsWith("idle")).toSorted((a, b) => b[1] - a[1]).map((
        [name, micros]
      ) => [name, `${((100 * micros) / busy).toFixed(1)}%`, ns((micros * 1000) / made)])
    ))
    if (top > 0) {
      console.log(table(
        ["function (self time)", "per step"],
        [...functions].filter(([name]) => !name.startsWith("(idle)")).toSorted((a, b) => b[1] - a[1]).slice(0, top)
          .map(([name, micros]) => [name, ns((micros * 1000) / made)])
      ))
    }
  }
  session.disconnect()
}

const main = async () => {
  const sink = await startSink()
  const only = argv.string("rows", "")
  const ids = only === ""
    ? Object.keys(deliveredRows) as Array<DeliveredRowId>
    : only.split(",") as Array<DeliveredRowId>
  const rows = await Promise.all(ids.map((id) => makeRow(id, sink.port)))
  for (const row of rows) await measure(row, quick ? 100 : 300)
  if (argv.has("profile")) {
    await profileRows(rows, argv.number("seconds", 3))
    for (const row of rows) await row.dispose()
    await sink.stop()
    writeResult(argv.string("out", ""), { steps, rounds: 0, rows: {}, ratios: {}, deliveredShare: 1 })
    return
  }
  const spanCount = async () => (await sink.stats()).spans
  const before = await spanCount()
  const exportedBefore = rows.reduce((sum, row) => sum + row.exported(), 0)

  const values: Record<string, Array<number>> = {}
  const ratios: Record<string, Array<number>> = {}
  for (let round = 0; round < rounds; round++) {
    const times: Partial<Record<DeliveredRowId, number>> = {}
    for (const row of shuffle(rows, seed + round)) times[row.id] = await measure(row, timeMs)
    for (const [id, value] of Object.entries(times)) (values[id] ??= []).push(value)
    for (const spec of deliveredRatios) {
      const numerator = times[spec.numerator]
      const denominator = times[spec.denominator]
      if (numerator !== undefined && denominator !== undefined) (ratios[spec.id] ??= []).push(numerator / denominator)
    }
    process.stdout.write(".")
  }
  console.log()
  const received = (await spanCount()) - before
  const exported = rows.reduce((sum, row) => sum + row.exported(), 0) - exportedBefore
  for (const row of rows) await row.dispose()
  await sink.stop()

  const result: DeliveredResult = {
    steps,
    rounds,
    rows: Object.fromEntries(Object.entries(values).map(([id, v]) => [id, summarize(v)])),
    ratios: Object.fromEntries(Object.entries(ratios).map(([id, v]) => [id, summarize(v)])),
    deliveredShare: exported === 0 ? 1 : received / exported
  }
  console.log(table(
    ["row", "CPU per step (median, min–max over rounds)"],
    ids.map((id) => {
      const s = result.rows[id]!
      return [`${id}: ${deliveredRows[id]}`, `${ns(s.median)} (${ns(s.min)}–${ns(s.max)})`]
    })
  ))
  console.log()
  console.log(table(
    ["ratio (within a round)", "median (min–max)"],
    Object.entries(result.ratios).map((
      [id, s]
    ) => [id, `${ratio(s.median)} (${ratio(s.min)}–${ratio(s.max)})`])
  ))
  console.log(
    `\nthe sink counted ${received} spans of the ${exported} the exporting rows delivered (${
      (result.deliveredShare * 100).toFixed(2)
    }%)`
  )
  writeResult(argv.string("out", ""), result)
}

await main()
