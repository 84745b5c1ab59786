/**
 * `npm run bench`: the benchmark suite. Each section runs in its own Node process with the V8 flags
 * it needs, and this script prints the summary table at the end.
 *
 * - micro (`bench/micro.ts`): per-step cost of every row, interleaved rounds, ratios within a round;
 * - alloc (`bench/alloc.ts`): bytes allocated per step (GC-free windows), heap after many spans;
 * - delivered (`bench/delivered.ts`): a traced step's whole cost, the span made, serialized and sent
 *   over OTLP/HTTP to a sink process, beside Effect's native tracer and `always_off` in the same rounds;
 * - serializer (`bench/serializer.ts`): the library's OTLP span serializer ÷ otlp-transformer's;
 * - export (`bench/export.ts`): a 200k-span burst over OTLP/HTTP, both protocols, to a sink in
 *   another process on 127.0.0.1;
 * - decoders (`bench/decoders.ts`): each provider's stream decoder per chunk, tracing off and on;
 * - mcp (`bench/mcp.ts`): an MCP tool call over an in-process transport, traced ÷ untraced;
 * - logs (`bench/logs.ts`): content events on ÷ off per chat call, Effect log lines exported ÷ not, the details record encoded alone;
 * - content (`bench/content.ts`): captured content serialized for a span, ÷ through a JSON-safe copy;
 * - viewer (`bench/viewer.ts`): the local viewer's ingestion rate, memory, and render times in Chromium;
 * - runtimes (`bench/runtimes.ts`): Node, Bun and Deno from npm — cold start, traced ÷ native with
 *   export, a 20-span flush;
 * - bundle (`bench/bundle.ts`): the Cloudflare worker's bundle (wrangler, minified) against Effect's
 *   own OTLP export's, both built in the run (`--breakdown`: the worker's bytes by package).
 *
 *   npm run bench                     # the full run (~5 minutes on 2 cores)
 *   npm run bench -- --quick          # under a minute: fewer rounds, shorter samples, 100k-span heap check
 *   npm run bench -- --sections=micro,alloc --context-manager
 *
 *   npm run bench -- --sections=profile --rows=ours,ours.chat   # CPU profile, top self time
 *   npm run bench -- --sections=profile --alloc                 # allocation profile
 *   npm run bench -- --sections=delivered --profile --rows=proto.root,json.root   # the export path's CPU, by area
 *
 * The sections run under Node's own TypeScript transform, not tsx (see `spawn.ts`).
 */
import * as os from "node:os"
import type { AllocResult } from "./alloc.ts"
import type { BundleResult } from "./bundle.ts"
import type { DeliveredResult } from "./delivered.ts"
import type { ExportRun } from "./export.ts"
import type { MicroResult } from "./micro.ts"
import { exited, runSection, start } from "./spawn.ts"
import { args, bytes, count, ns, ratio, table } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const sections = argv.string(
  "sections",
  "micro,alloc,delivered,serializer,export,decoders,mcp,logs,content,runtimes,bundle,viewer"
)
  .split(
    ","
  )
const spans = argv.number("spans", 200_000)
const passThrough = (names: ReadonlyArray<string>) =>
  names.filter((name) => argv.has(name)).map((name) => `--${name}=${argv.string(name, "")}`)

const load = () => os.loadavg().map((n) => n.toFixed(2)).join(" ")

const showRatio = (id: string, result: MicroResult | undefined) => {
  const value = result?.ratios[id]
  return value === undefined
    ? "—"
    : `${ratio(value.median)} (${ratio(value.min)}–${ratio(value.max)}, best ${ratio(value.best)})`
}

const showDifference = (id: string, result: MicroResult | undefined) => {
  const value = result?.differences[id]
  return value === undefined ? "—" : `${ns(value.median)} (${ns(value.min)}–${ns(value.max)})`
}

const showBytes = (id: string, result: AllocResult | undefined) => {
  const value = result?.rows[id]
  return value === undefined ? "—" : `${bytes(value.median)} (${bytes(value.min)}–${bytes(value.max)})`
}

const main = async () => {
  const started = performance.now()
  const loadBefore = load()
  console.log(
    `beluga-o11y bench${quick ? " --quick" : ""}: Node ${process.version}, ${os.cpus().length} CPUs ` +
      `(${os.cpus()[0]?.model ?? "?"}), load average ${loadBefore}\n`
  )
  const common = [...(quick ? ["--quick"] : []), ...passThrough(["steps", "seed"])]
  // `Tracing.layer` (so `TracingLive`) registers an AsyncLocalStorage context manager with the
  // global OTel API unless one is registered already (`registerGlobal`, default true), and with one
  // the tracer makes the Effect span the active OTel span around user code. That is global state,
  // so each section runs twice: without a context manager (all rows) and with one installed before
  // any row is built (the rows the summary needs; upstream pays for it too, as with `NodeSDK`).
  const cmRows =
    "untraced,native,raw,raw.off,upstream,upstream.off,ours,ours.off,ours.step,ours.step.off,ours.chat,ours.chat.off,ours.chat10,ours.chat.metrics,ours.step.noagent,stream.bare,stream.ours,stream.content,stream.metrics"
  const cmAllocRows = quick
    ? "upstream,ours,ours.step,ours.chat"
    : "native,raw,upstream,ours,ours.off,ours.step,ours.chat"
  const allocRows = quick ? "native,raw,ours" : undefined
  const rows = (fallback: string | undefined) =>
    argv.has("rows") ? [`--rows=${argv.string("rows", "")}`] : fallback === undefined ? [] : [`--rows=${fallback}`]
  const withCm = !argv.has("no-context-manager")

  let micro: MicroResult | undefined
  let microCm: MicroResult | undefined
  let alloc: AllocResult | undefined
  let allocCm: AllocResult | undefined
  let exported: { readonly spans: number; readonly runs: Record<string, ExportRun> } | undefined
  let delivered: DeliveredResult | undefined
  const microFlags = [...common, ...passThrough(["rounds", "time"])]
  const allocFlags = [...common, ...passThrough(["heap-spans", "repeats"])]
  const allocNode = ["--expose-gc", "--min-semi-space-size=256", "--max-semi-space-size=256"]
  if (sections.includes("micro")) {
    console.log("— without an OTel context manager (the tracing layers with registerGlobal: false) —")
    // --quick: only the rows the summary takes from this run.
    micro = await runSection<MicroResult>(
      "micro.ts",
      [...microFlags, ...rows(quick && withCm ? "native,raw,raw.off,ours,ours.off" : undefined)],
      ["--expose-gc"]
    )
    console.log()
    if (withCm) {
      console.log("— with an OTel context manager registered, as TracingLive does by default —")
      microCm = await runSection<MicroResult>("micro.ts", [...microFlags, ...rows(cmRows), "--context-manager"], [
        "--expose-gc"
      ])
      console.log()
    }
  }
  if (sections.includes("alloc")) {
    console.log("— without an OTel context manager —")
    alloc = await runSection<AllocResult>("alloc.ts", [...allocFlags, ...rows(allocRows), "--no-heap"], allocNode)
    console.log()
    if (withCm) {
      console.log("— with an OTel context manager registered, as TracingLive does by default —")
      allocCm = await runSection<AllocResult>(
        "alloc.ts",
        [...allocFlags, ...rows(cmAllocRows), "--context-manager"],
        allocNode
      )
      console.log()
    }
  }
  if (sections.includes("profile")) {
    const code = await exited(
      start("profile.ts", passThrough(["rows", "seconds", "top", "save", "alloc", "context-manager"]), {
        nodeFlags: ["--enable-source-maps"]
      })
    )
    if (code !== 0) throw new Error(`bench/profile.ts exited with ${code}`)
    console.log()
  }
  if (sections.includes("delivered")) {
    console.log(
      "— a traced step with its export: made, serialized, sent to a sink process (TracingLive's context manager) —"
    )
    delivered = await runSection<DeliveredResult>(
      "delivered.ts",
      [...common, ...passThrough(["rounds", "time", "rows", "profile", "seconds", "top", "save"]), "--context-manager"],
      ["--expose-gc"]
    )
    console.log()
  }
  if (sections.includes("export")) {
    exported = await runSection("export.ts", [
      `--spans=${spans}`,
      `--modes=${argv.string("modes", quick ? "otel" : "otel,effect")}`,
      ...passThrough(["protocols"])
    ])
    console.log()
  }

  if (sections.includes("serializer")) {
    // Prints its own table: the library's OTLP serializer ÷ otlp-transformer's, per span, both protocols.
    await runSection("serializer.ts", quick ? ["--quick"] : [])
    console.log()
  }

  if (sections.includes("decoders")) {
    // Prints its own table: each provider's stream decoder per chunk, tracing off and on.
    await runSection("decoders.ts", [...common, ...passThrough(["chunks"])])
    console.log()
  }

  if (sections.includes("mcp")) {
    // Prints its own table: a tools/call over an in-process transport, traced ÷ untraced.
    await runSection("mcp.ts", [...(quick ? ["--quick"] : []), ...(withCm ? ["--context-manager"] : [])], [
      "--expose-gc"
    ])
    console.log()
  }

  if (sections.includes("logs")) {
    // Prints its own table: content events on ÷ off per chat call, Effect log lines exported ÷ not.
    await runSection("logs.ts", quick ? ["--quick"] : [])
    console.log()
  }

  if (sections.includes("content")) {
    // Prints its own table: captured content serialized as it is ÷ through the JSON-safe copy.
    await runSection("content.ts", quick ? ["--quick"] : [])
    console.log()
  }

  if (sections.includes("runtimes")) {
    // Prints its own table: cold start, traced ÷ native and a 20-span flush on Node, Bun and Deno.
    await runSection("runtimes.ts", quick ? ["--quick"] : [])
    console.log()
  }

  let bundle: BundleResult | undefined
  if (sections.includes("bundle")) {
    // Prints its own table: both workers' sizes and the difference against the budget.
    bundle = await runSection<BundleResult>("bundle.ts", passThrough(["breakdown"]))
    console.log()
  }

  if (sections.includes("viewer")) {
    // Prints its own table: ingestion, memory, and render times in Chromium.
    await runSection("viewer.ts", quick ? ["--quick"] : [])
    console.log()
  }

  if (micro === undefined && alloc === undefined && exported === undefined && delivered === undefined) return
  const live = microCm ?? micro
  const allocLive = allocCm ?? alloc
  const exportOf = (protocol: string, mode: string) => {
    const run = exported?.runs[`${protocol} ${mode}`]
    return run === undefined
      ? "—"
      : `${count(run.deliveredPerSecond)}/s, ${count(run.app.dropped)} dropped (app CPU ${
        ((run.app.cpuUser + run.app.cpuSystem) / 1e6).toFixed(1)
      } s, sink CPU ${((run.sink.cpuUser + run.sink.cpuSystem) / 1e6).toFixed(1)} s, app peak RSS ${
        (run.app.maxRssKB / 1024).toFixed(0)
      } MB)`
  }
  const showDelivered = (id: string) => {
    const value = delivered?.ratios[id]
    return value === undefined ? "—" : `${ratio(value.median)} (${ratio(value.min)}–${ratio(value.max)})`
  }
  const cpuPerSpan = (protocol: string) => {
    const run = exported?.runs[`${protocol} otel`]
    return run === undefined || run.sink.spans === 0
      ? "—"
      : ns(((run.app.cpuUser + run.app.cpuSystem) * 1000) / run.sink.spans)
  }
  const heap = (allocCm ?? alloc)?.heap["ours"]
  const heapLine = heap === undefined ? "—" : (() => {
    const marks = heap.marks
    const tenth = marks[1]!
    const last = marks[marks.length - 1]!
    return `${bytes(tenth.heapUsed)} at ${count(tenth.spans)} spans → ${bytes(last.heapUsed)} at ${
      count(last.spans)
    } (${last.heapUsed - tenth.heapUsed >= 0 ? "+" : ""}${bytes(last.heapUsed - tenth.heapUsed)})`
  })()
  const cm = microCm !== undefined ? "" : " (no context manager run)"
  const k = `${count(spans / 1000)}k`

  console.log(
    "summary. TracingLive = the beluga tracer with the OTel context manager that Tracing.layer registers by" +
      " default. Ratios: the median over rounds of the ratio within a round (min–max over rounds, best =" +
      ` fastest round ÷ fastest round). Load average ${loadBefore} → ${load()}.`
  )
  console.log(table(
    ["measure", "anchor", "target", "measured"],
    [
      [
        `traced step via TracingLive ÷ raw OTel SDK span${cm}`,
        "5.8× (@effect/opentelemetry)",
        "≤ 2×",
        showRatio("ours/raw", live)
      ],
      ["  same, @effect/opentelemetry NodeSdk, same run", "", "", showRatio("upstream/raw", live)],
      ["  same, beluga without a context manager", "", "", showRatio("ours/raw", micro)],
      ["  same, Effect's native tracer (no OTel)", "", "", showRatio("native/raw", micro)],
      ["sampled-out step ÷ raw OTel non-recording span", "≈ 11×", "≤ 2×", showRatio("ours.off/raw.off", live)],
      ["  same, @effect/opentelemetry NodeSdk, same run", "", "", showRatio("upstream.off/raw.off", live)],
      ["  same, beluga without a context manager", "", "", showRatio("ours.off/raw.off", micro)],
      [
        "sampled-out ÷ traced step: Pipeline.step (no span made)",
        "1.03×",
        "≤ 0.25×",
        showRatio("step.off/step", live)
      ],
      [
        "  same, GenAI.chat / Effect.withSpan (Effect's span machinery stays)",
        "",
        "",
        `${showRatio("chat.off/chat", live)} / ${showRatio("ours.off/ours", live)}`
      ],
      [
        "traced step ÷ Effect's native tracer: Effect.withSpan",
        "1.56×",
        "≤ 1.0×",
        showRatio("ours/native", live)
      ],
      ["  same, Pipeline.step ÷ native Effect.withSpan", "", "", showRatio("step/native", live)],
      ["Pipeline.step ÷ bare Effect.withSpan, same layer", "—", "≤ 1.15×", showRatio("step/ours", live)],
      [
        "Pipeline.step with ÷ without the agent processor (identity, roll-ups, cost)",
        "—",
        "≤ 1.10×",
        showRatio("step/step.noagent", live)
      ],
      ["GenAI.chat ÷ Effect.withSpan with the same 10 attributes", "—", "≤ 1.15×", showRatio("chat/chat10", live)],
      ["  GenAI.chat (10 attributes) ÷ bare withSpan (5)", "", "", showRatio("chat/ours", live)],
      [
        "streamed chat span: added cost per chunk, capture off",
        "—",
        "≤ 1 µs",
        showDifference("stream.ours-bare", live)
      ],
      ["  same, capture on (text kept up to the content limit)", "", "", showDifference("stream.content-bare", live)],
      [
        "GenAI.chat with ÷ without GenAI metrics (the metrics' cost per call)",
        "—",
        "≤ 1.10×",
        showRatio("chat.metrics/chat", live)
      ],
      [
        "  same, added time per call / per streamed chunk",
        "",
        "",
        `${showDifference("chat.metrics-chat", live)} / ${showDifference("stream.metrics-ours", live)}`
      ],
      ["bytes allocated per traced step, TracingLive", "≈ 22 KB", "≤ 6 KB", showBytes("ours", allocLive)],
      ["  same, @effect/opentelemetry NodeSdk", "", "", showBytes("upstream", allocLive)],
      [
        "  same, Pipeline.step / GenAI.chat",
        "",
        "",
        `${showBytes("ours.step", allocLive)} / ${showBytes("ours.chat", allocLive)}`
      ],
      ["  same, beluga without a context manager", "", "", showBytes("ours", alloc)],
      [
        "  same, Effect native tracer / raw OTel span",
        "",
        "",
        `${showBytes("native", alloc)} / ${showBytes("raw", alloc)}`
      ],
      ["heap after a full GC, 10% → 100% of the spans", "—", "no growth", heapLine],
      [
        "traced root step, exported http/protobuf ÷ Effect's native tracer",
        "2.2×–2.9×",
        "≤ 1.5×",
        showDelivered("proto.root/native.root")
      ],
      ["  same, http/json", "", "", showDelivered("json.root/native.root")],
      [
        "  same, child steps (protobuf / json)",
        "",
        "",
        `${showDelivered("proto.child/native.child")} / ${showDelivered("json.child/native.child")}`
      ],
      ["  same, to a no-op exporter (the span made, not sent)", "", "", showDelivered("noop.root/native.root")],
      ["always_off root step ÷ Effect's native tracer", "1.2×–1.3×", "≤ 1.0×", showDelivered("off.root/native.root")],
      [
        "  same, both in a ManagedRuntime (÷ native in one of Layer.empty)",
        "",
        "",
        `${showDelivered("off.root/native.runtime.root")} (runtime alone ${
          showDelivered("native.runtime.root/native.root")
        })`
      ],
      [
        `app CPU per delivered span, ${k} burst, http/protobuf`,
        "7.0 µs",
        "≤ 3 µs",
        cpuPerSpan("http/protobuf")
      ],
      ["  same, http/json", "7.5 µs", "", cpuPerSpan("http/json")],
      [
        `delivered spans/s, http/protobuf, ${k} burst`,
        "≈ 120k, ~1% dropped",
        "≥ 120k, 0 dropped",
        exportOf("http/protobuf", "otel")
      ],
      [
        `delivered spans/s, http/json, ${k} burst`,
        "≈ 80k, ~30% dropped",
        "≥ 80k, 0 dropped",
        exportOf("http/json", "otel")
      ],
      [`  same, burst of Effect.withSpan spans, http/protobuf`, "", "", exportOf("http/protobuf", "effect")],
      [`  same, burst of Effect.withSpan spans, http/json`, "", "", exportOf("http/json", "effect")],
      [
        "Cloudflare worker bundle (wrangler --minify) − Effect's own OTLP export's",
        "187 KB",
        "≤ 150 KB",
        bundle === undefined
          ? "—"
          : `${(bundle.added / 1024).toFixed(1)} KB (${(bundle.ours.minified / 1024).toFixed(1)} KB − ${
            (bundle.effectOtlp.minified / 1024).toFixed(1)
          } KB)`
      ]
    ].filter((row) => row[3] !== "—" || row[1] !== "")
  ))
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}

await main()
