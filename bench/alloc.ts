/**
 * Memory: bytes allocated per step, and the heap after many spans.
 *
 * Bytes allocated. Node 24 has no counter of total bytes allocated (`v8.getHeapStatistics()`
 * reports the heap in use, not what was allocated since start). But between two garbage
 * collections V8 allocates by bumping a pointer in the young generation, so the growth of
 * `used_heap_size` across a stretch of code during which no GC ran is exactly what that code
 * allocated on the JS heap. This script therefore runs with a young generation large enough to
 * hold the whole stretch (`--min-semi-space-size=256 --max-semi-space-size=256`, set by the
 * orchestrator), forces a full GC, runs `--alloc-steps` steps, reads the growth, and checks with
 * `v8.GCProfiler` that no GC ran in between; a measurement with a GC in it is discarded and
 * repeated. It counts JS-heap allocation only (no off-heap buffers, which these rows do not use),
 * including short-lived garbage: it measures allocation rate, which is what drives GC cost.
 *
 * Heap growth. `--heap-spans` spans are made (bare `withSpan` and `GenAI.chat` on the beluga layer),
 * and `heapUsed` after a full GC is read at 0 (after warm-up), at 10% of the spans and at the end.
 * No growth between the 10% and the 100% marks means no per-span retention (leak).
 *
 *   node --experimental-transform-types --expose-gc --min-semi-space-size=256 --max-semi-space-size=256 \
 *     bench/alloc.ts [--quick]
 */
import * as v8 from "node:v8"
import { allRows, installContextManager, makeRow, type RowId, settle } from "./rows.ts"
import { args, bytes, count, summarize, type Summary, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const steps = argv.number("steps", 256)
const allocSteps = argv.number("alloc-steps", 2048)
const repeats = argv.number("repeats", quick ? 3 : 7)
const heapSpans = argv.number("heap-spans", quick ? 50_000 : 1_000_000)
const only = argv.string("rows", "")
/** The rows the summary table needs, for `--quick`. */
const quickRows: ReadonlyArray<RowId> = ["untraced", "native", "upstream", "raw", "ours", "ours.step", "ours.chat"]
const ids = only !== "" ? (only.split(",") as Array<RowId>) : quick ? quickRows : allRows
const heapRows: ReadonlyArray<RowId> = quick ? ["ours"] : ["ours", "ours.chat"]

if (argv.has("context-manager")) installContextManager()

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error("alloc: needs --expose-gc")
  process.exit(2)
}
const fullGc = () => {
  gc()
  gc()
}
const used = () => v8.getHeapStatistics().used_heap_size

export interface AllocResult {
  readonly allocSteps: number
  /** Bytes allocated per step, over `repeats` GC-free measurements. */
  readonly rows: Record<string, Summary & { readonly label: string; readonly discarded: number }>
  readonly heap: Record<string, {
    readonly label: string
    readonly spans: number
    readonly marks: ReadonlyArray<{ readonly spans: number; readonly heapUsed: number }>
    readonly seconds: number
  }>
  readonly semiSpaceMB: number
}

const measureRow = async (id: RowId) => {
  const row = await makeRow(id, steps)
  const samples = Math.max(1, Math.round(allocSteps / steps))
  for (let i = 0; i < 30; i++) {
    row.run()
    await settle()
  }
  const values: Array<number> = []
  let discarded = 0
  while (values.length < repeats && discarded < 50) {
    await settle()
    fullGc()
    const profiler = new v8.GCProfiler()
    profiler.start()
    const before = used()
    for (let i = 0; i < samples; i++) row.run()
    const after = used()
    const gcs = profiler.stop().statistics.length
    if (gcs > 0) discarded++
    else values.push((after - before) / (samples * steps))
  }
  await row.dispose()
  return { label: row.label, ...summarize(values), discarded }
}

const heapGrowth = async (id: RowId) => {
  const perRun = 1000
  const row = await makeRow(id, perRun)
  for (let i = 0; i < 20; i++) {
    row.run()
    await settle()
  }
  await settle()
  fullGc()
  const marks = [{ spans: 0, heapUsed: process.memoryUsage().heapUsed }]
  const checkpoints = [heapSpans / 10, heapSpans]
  const start = performance.now()
  let made = 0
  for (const checkpoint of checkpoints) {
    while (made < checkpoint) {
      row.run()
      made += perRun
      // Between runs the batch processor finishes its synchronous export (a microtask), as it
      // would between requests in a server.
      await settle()
    }
    await settle()
    fullGc()
    marks.push({ spans: made, heapUsed: process.memoryUsage().heapUsed })
  }
  const seconds = (performance.now() - start) / 1000
  const dropped = row.dropped()
  await row.dispose()
  if (dropped > 0) console.log(`  ${id}: ${dropped} spans dropped by the batch processor`)
  return { label: row.label, spans: made, marks, seconds }
}

const main = async () => {
  const semiSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0
  console.log(
    `alloc: ${ids.length} rows, ${allocSteps} steps per measurement, ${repeats} GC-free measurements each` +
      ` (young generation ${bytes(semiSpace / 2)} a semi-space)`
  )
  const rows: Record<string, Summary & { label: string; discarded: number }> = {}
  for (const id of ids) {
    rows[id] = await measureRow(id)
    const r = rows[id]
    console.log(`  ${id}: ${bytes(r.median)} per step (${bytes(r.min)} – ${bytes(r.max)}, ${r.discarded} discarded)`)
  }
  const heap: Record<string, AllocResult["heap"][string]> = {}
  for (const id of heapRows) {
    if (argv.has("no-heap")) break
    console.log(`heap: ${count(heapSpans)} spans, ${id}…`)
    heap[id] = await heapGrowth(id)
  }
  const result: AllocResult = { allocSteps, rows, heap, semiSpaceMB: semiSpace / 2 / 1024 / 1024 }

  console.log()
  const base = rows["untraced"]?.median ?? 0
  console.log(table(
    ["row", "allocated / step", "min – max", "net of untraced step"],
    ids.map((id) => {
      const r = rows[id]!
      return [`${id}: ${r.label}`, bytes(r.median), `${bytes(r.min)} – ${bytes(r.max)}`, bytes(r.median - base)]
    })
  ))
  if (Object.keys(heap).length > 0) {
    console.log()
    console.log(table(
      ["heap after a full GC", ...heap[heapRows[0]!]!.marks.map((m) => `${count(m.spans)} spans`), "growth 10%→100%"],
      Object.entries(heap).map(([id, h]) => [
        `${id}: ${h.label}`,
        ...h.marks.map((m) => bytes(m.heapUsed)),
        bytes(h.marks[h.marks.length - 1]!.heapUsed - h.marks[1]!.heapUsed)
      ])
    ))
  }
  writeResult(argv.string("out", ""), result)
}

await main()
