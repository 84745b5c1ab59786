/**
 * The cost of tracing an MCP call: Effect's `McpClient` calling an Effect `McpServer` over stdio
 * framing in memory (newline-delimited JSON-RPC through the real client transport and server
 * protocol, `test/support/mcp-memory.ts`), one `tools/call` of a tool that answers at once, under
 * one parent span per sample. Rows:
 *
 * - `plain`: `McpClient.layerStdio` + `McpServer.layerStdio`, no tracing layer (Effect's own
 *   native tracer still makes its RPC spans): what an application pays without this library;
 * - `plain.traced`: the same layers under the library's tracing layer: Effect's RPC spans recorded,
 *   no MCP conventions, no `_meta`;
 * - `traced`: `Mcp.layerClientStdio` + `Mcp.layerServerStdio` under the tracing layer: the CLIENT
 *   and SERVER spans, `_meta` injected and extracted, the server's lines rewritten, the MCP
 *   durations recorded;
 * - `traced.off`: the same, the trace sampled out (`always_off`);
 * - with `--parts`, `traced.client` and `traced.server`: one side traced, the other Effect's own
 *   layer, under the tracing layer: what each side adds.
 *
 * Every tracing layer is the library's own composition (`bench/rows.ts` `oursLayer`: the batch
 * processor over a no-op exporter, the metrics recorder on), so what is measured is the work per
 * call, never I/O. Rows are interleaved sample by sample: in each round the rows take turns (in a
 * shuffled order) for every sample, and the ratios are taken within a round; the median over rounds
 * is reported with the min–max.
 *
 *   node --experimental-transform-types --disable-warning=ExperimentalWarning --expose-gc bench/mcp.ts \
 *     [--quick] [--rounds=15] [--samples=15] [--calls=40] [--arg-bytes=0] [--parts] [--context-manager] [--out=file.json]
 *
 * `--profile=<row>` runs that row alone for `--seconds=10` (after a warm-up) and prints its CPU time
 * per call; with `--cpuprofile=<file>` it writes a CPU profile of those seconds alone (no start-up,
 * no warm-up, no other row), to open in Chrome's DevTools.
 */
import * as Otel from "@opentelemetry/api"
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core"
import * as McpClient from "effect/ai/McpClient"
import * as McpProtocol from "effect/ai/McpProtocol"
import * as McpServer from "effect/ai/McpServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type * as Stdio from "effect/Stdio"
import * as fs from "node:fs"
import * as Inspector from "node:inspector/promises"
import * as Mcp from "../src/Mcp.ts"
import * as Fixture from "../test/fixtures/mcp-tools.ts"
import { memoryCommand, spawnerFor } from "../test/support/mcp-memory.ts"
import { installContextManager, oursLayer } from "./rows.ts"
import { args, median, ns, ratio, shuffle, summarize, type Summary, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const rounds = argv.number("rounds", quick ? 5 : 15)
const samples = argv.number("samples", quick ? 7 : 15)
const calls = argv.number("calls", 40)
/** `--arg-bytes=N`: each call's argument padded to N characters (a tool given a document, say). */
const argBytes = argv.number("arg-bytes", 0)
const padding = "x".repeat(argBytes)
const seed = argv.number("seed", Date.now() % 100_000)

if (argv.has("context-manager")) installContextManager()
// What `Tracing.layer` registers from OTEL_PROPAGATORS (the default, tracecontext,baggage): the
// traced rows put their context in `_meta` through it.
Otel.propagation.setGlobalPropagator(
  new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] })
)

type RowId = "plain" | "plain.traced" | "traced" | "traced.off" | "traced.client" | "traced.server"
const baseRowIds: ReadonlyArray<RowId> = ["plain", "plain.traced", "traced", "traced.off"]
/** With `--parts`: one side traced at a time (the other Effect's own layer), under the tracing layer. */
const partRowIds: ReadonlyArray<RowId> = ["traced.client", "traced.server"]
const rowIds: ReadonlyArray<RowId> = argv.has("parts") ? [...baseRowIds, ...partRowIds] : baseRowIds

interface Row {
  readonly id: RowId
  readonly run: () => Promise<void>
  readonly dispose: () => Promise<void>
}

const serverOptions = {
  name: "bench",
  version: "1.0.0",
  protocols: [McpProtocol.v2025_11_25],
  registrations: Fixture.echoRegistrations
} as const
const clientOptions = { name: "bench", version: "1.0.0", protocol: McpProtocol.v2025_11_25, command: memoryCommand }

const makeRow = async (id: RowId): Promise<Row> => {
  const instrumented = id === "traced" || id === "traced.off"
  const server = (instrumented || id === "traced.server"
    ? Mcp.layerServerStdio(serverOptions)
    : McpServer.layerStdio(serverOptions)) as unknown as Layer.Layer<
      never,
      never,
      Stdio.Stdio
    >
  const client =
    (instrumented || id === "traced.client" ? Mcp.layerClientStdio(clientOptions) : McpClient.layerStdio(clientOptions))
      .pipe(
        Layer.provide(spawnerFor(server))
      )
  const layer: Layer.Layer<McpClient.McpClient, unknown> = id === "plain"
    ? client
    : client.pipe(
      Layer.provideMerge(oursLayer(id === "traced.off" ? "always_off" : undefined, false, false, true).layer)
    )
  const runtime = ManagedRuntime.make(layer)
  const tool = await runtime.runPromise(
    Effect.flatMap(McpClient.McpClient, (mcp) => Effect.map(mcp.listTools(), (tools) => tools[0]!))
  )
  const program = Effect.flatMap(McpClient.McpClient, (mcp) =>
    Effect.forEach(
      Array.from({ length: calls }, (_, i) => i),
      (i) => mcp.callTool({ tool, arguments: { query: `q${i}${padding}` } }),
      { discard: true }
    )).pipe(Effect.withSpan("agent"))
  return { id, run: () => runtime.runPromise(program), dispose: () => runtime.dispose() }
}

const gc = (globalThis as { gc?: () => void }).gc

/** One sample of a row: CPU time (user + system) and wall time per call, in nanoseconds. */
const sample = async (row: Row): Promise<{ readonly cpu: number; readonly wall: number }> => {
  const usage = process.cpuUsage()
  const started = performance.now()
  await row.run()
  const used = process.cpuUsage(usage)
  return { cpu: ((used.user + used.system) * 1e3) / calls, wall: ((performance.now() - started) * 1e6) / calls }
}

/**
 * Every row's cost per call in one round, the median over its samples. The rows take turns sample
 * by sample (in an order shuffled per sample), so a change in the machine's load (other processes on
 * its cores) falls on all of them alike. Everything runs in this process, so CPU time is the work a
 * call costs; wall time also counts the waits for a CPU the other processes hold.
 */
const measureRound = async (
  rows: ReadonlyArray<Row>,
  round: number
): Promise<Map<RowId, { readonly cpu: number; readonly wall: number }>> => {
  gc?.()
  for (const row of rows) await row.run() // warm-up
  const cpu = new Map<RowId, Array<number>>(rows.map((row) => [row.id, []]))
  const wall = new Map<RowId, Array<number>>(rows.map((row) => [row.id, []]))
  for (let i = 0; i < samples; i++) {
    for (const row of shuffle(rows, seed + round * samples + i)) {
      const value = await sample(row)
      cpu.get(row.id)!.push(value.cpu)
      wall.get(row.id)!.push(value.wall)
    }
  }
  return new Map(rows.map((row) => [row.id, { cpu: median(cpu.get(row.id)!), wall: median(wall.get(row.id)!) }]))
}

interface Ratio {
  readonly id: string
  readonly label: string
  readonly numerator: RowId
  readonly denominator: RowId
}

const ratios = ([
  {
    id: "traced/plain",
    label: "traced MCP call ÷ plain (no tracing layer)",
    numerator: "traced",
    denominator: "plain"
  },
  {
    id: "traced/plain.traced",
    label: "traced MCP call ÷ same layers traced by Effect's own RPC spans",
    numerator: "traced",
    denominator: "plain.traced"
  },
  { id: "traced.off/plain", label: "sampled-out MCP call ÷ plain", numerator: "traced.off", denominator: "plain" },
  {
    id: "traced.client/plain.traced",
    label: "client side traced alone ÷ plain.traced",
    numerator: "traced.client",
    denominator: "plain.traced"
  },
  {
    id: "traced.server/plain.traced",
    label: "server side traced alone ÷ plain.traced",
    numerator: "traced.server",
    denominator: "plain.traced"
  }
] satisfies ReadonlyArray<Ratio>).filter((r) => rowIds.includes(r.numerator) && rowIds.includes(r.denominator))

const summaries = (values: Map<string, Array<number>>): Record<string, Summary> =>
  Object.fromEntries([...values].map(([id, list]) => [id, summarize(list)]))
const range = (s: Summary, show: (n: number) => string) => `${show(s.median)} (${show(s.min)}–${show(s.max)})`

const main = async () => {
  const rows = await Promise.all(rowIds.map(makeRow))
  const cpu = new Map<RowId, Array<number>>(rowIds.map((id) => [id, []]))
  const wall = new Map<RowId, Array<number>>(rowIds.map((id) => [id, []]))
  const cpuRatios = new Map<string, Array<number>>(ratios.map((r) => [r.id, []]))
  const wallRatios = new Map<string, Array<number>>(ratios.map((r) => [r.id, []]))
  for (let round = 0; round < rounds; round++) {
    const measured = await measureRound(rows, round)
    for (const [id, value] of measured) {
      cpu.get(id)!.push(value.cpu)
      wall.get(id)!.push(value.wall)
    }
    for (const r of ratios) {
      cpuRatios.get(r.id)!.push(measured.get(r.numerator)!.cpu / measured.get(r.denominator)!.cpu)
      wallRatios.get(r.id)!.push(measured.get(r.numerator)!.wall / measured.get(r.denominator)!.wall)
    }
  }
  await Promise.all(rows.map((row) => row.dispose()))

  const perCall = { cpu: summaries(cpu), wall: summaries(wall) }
  const ratioSummaries = { cpu: summaries(cpuRatios), wall: summaries(wallRatios) }
  console.log(
    `bench/mcp.ts: ${rounds} rounds × ${samples} samples × ${calls} tools/call per row, seed ${seed}` +
      `${argv.has("context-manager") ? ", OTel context manager installed" : ""}`
  )
  console.log(table(
    ["row", "CPU time per call (median over rounds, min–max)", "wall time per call"],
    rowIds.map((id) => [id, range(perCall.cpu[id]!, ns), range(perCall.wall[id]!, ns)])
  ))
  console.log()
  console.log(table(
    ["ratio (within a round)", "CPU time", "added CPU per call", "wall time"],
    ratios.map((r) => [
      r.label,
      range(ratioSummaries.cpu[r.id]!, ratio),
      ns(perCall.cpu[r.numerator]!.median - perCall.cpu[r.denominator]!.median),
      range(ratioSummaries.wall[r.id]!, ratio)
    ])
  ))
  writeResult(argv.string("out", ""), { perCall, ratios: ratioSummaries })
}

/** One row alone, for a CPU profile: nothing else in the process runs. */
const runAlone = async (id: RowId) => {
  const row = await makeRow(id)
  for (let i = 0; i < 20; i++) await row.run()
  const out = argv.string("cpuprofile", "")
  const session = out !== "" ? new Inspector.Session() : undefined
  if (session !== undefined) {
    session.connect()
    await session.post("Profiler.enable")
    await session.post("Profiler.setSamplingInterval", { interval: 100 })
    await session.post("Profiler.start")
  }
  const until = performance.now() + argv.number("seconds", 10) * 1000
  const usage = process.cpuUsage()
  let runs = 0
  while (performance.now() < until) {
    await row.run()
    runs++
  }
  const used = process.cpuUsage(usage)
  if (session !== undefined) {
    const { profile } = await session.post("Profiler.stop")
    fs.writeFileSync(out, JSON.stringify(profile))
    session.disconnect()
  }
  await row.dispose()
  console.log(
    `bench/mcp.ts --profile=${id}: ${runs * calls} calls, ${
      ns(((used.user + used.system) * 1e3) / (runs * calls))
    } CPU per call`
  )
}

const profiled = argv.string("profile", "")
if (profiled === "") await main()
else if ([...baseRowIds, ...partRowIds].includes(profiled as RowId)) await runAlone(profiled as RowId)
else throw new Error(`--profile: one of ${[...baseRowIds, ...partRowIds].join(", ")}`)
