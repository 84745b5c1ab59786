/**
 * Per-step cost of every row, measured side by side in one process with mitata.
 *
 * Absolute times drift 30–50% on these machines, so rows are interleaved: each round measures
 * every row once (in a shuffled order) with mitata's `measure` (its sampling loop, a GC before each
 * row, at least `--time` ms of samples), and every ratio is computed within a round, then the
 * median over rounds is reported with the min–max across rounds. A sample is one parent with
 * `--steps` children run in one `runSync`; the time per step is the sample's time ÷ steps, so the
 * runtime's per-run overhead is amortized the same way in every row.
 *
 *   node --experimental-transform-types --expose-gc bench/micro.ts [--quick] [--rounds=25] [--time=100] [--steps=256]
 *     [--rows=ours,raw] [--context-manager] [--out=file.json]
 */
import { measure } from "mitata"
import { allRows, installContextManager, makeRow, type Row, type RowId, settle } from "./rows.ts"
import { args, ns, ratio, shuffle, summarize, type Summary, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const rounds = argv.number("rounds", quick ? 5 : 25)
const timeMs = argv.number("time", quick ? 30 : 100)
const steps = argv.number("steps", 256)
const seed = argv.number("seed", Date.now() % 100_000)
const only = argv.string("rows", "")
const ids = only === "" ? allRows : (only.split(",") as Array<RowId>)

if (argv.has("context-manager")) installContextManager()

/** A ratio of two rows, computed within each round. */
export interface RatioSpec {
  readonly id: string
  readonly label: string
  readonly numerator: RowId
  readonly denominator: RowId
}

export const ratioSpecs: ReadonlyArray<RatioSpec> = [
  { id: "ours/raw", label: "traced step, beluga ÷ raw OTel SDK span", numerator: "ours", denominator: "raw" },
  {
    id: "upstream/raw",
    label: "traced step, @effect/opentelemetry ÷ raw OTel SDK span",
    numerator: "upstream",
    denominator: "raw"
  },
  {
    id: "native/raw",
    label: "traced step, Effect native ÷ raw OTel SDK span",
    numerator: "native",
    denominator: "raw"
  },
  { id: "step/raw", label: "Pipeline.step, beluga ÷ raw OTel SDK span", numerator: "ours.step", denominator: "raw" },
  { id: "chat/raw", label: "GenAI.chat, beluga ÷ raw OTel SDK span", numerator: "ours.chat", denominator: "raw" },
  { id: "untraced/raw", label: "untraced Effect step ÷ raw OTel SDK span", numerator: "untraced", denominator: "raw" },
  {
    id: "ours.off/raw.off",
    label: "sampled out, beluga ÷ raw non-recording span",
    numerator: "ours.off",
    denominator: "raw.off"
  },
  {
    id: "upstream.off/raw.off",
    label: "sampled out, @effect/opentelemetry ÷ raw non-recording",
    numerator: "upstream.off",
    denominator: "raw.off"
  },
  {
    id: "native.off/raw.off",
    label: "unsampled, Effect native ÷ raw non-recording",
    numerator: "native.off",
    denominator: "raw.off"
  },
  {
    id: "step.off/raw.off",
    label: "sampled out, Pipeline.step ÷ raw non-recording",
    numerator: "ours.step.off",
    denominator: "raw.off"
  },
  {
    id: "chat.off/raw.off",
    label: "sampled out, GenAI.chat ÷ raw non-recording",
    numerator: "ours.chat.off",
    denominator: "raw.off"
  },
  {
    id: "untraced/raw.off",
    label: "untraced Effect step ÷ raw non-recording",
    numerator: "untraced",
    denominator: "raw.off"
  },
  {
    id: "step.off/step",
    label: "sampled-out ÷ traced Pipeline.step, beluga",
    numerator: "ours.step.off",
    denominator: "ours.step"
  },
  {
    id: "chat.off/chat",
    label: "sampled-out ÷ traced GenAI.chat, beluga",
    numerator: "ours.chat.off",
    denominator: "ours.chat"
  },
  {
    id: "ours.off/ours",
    label: "sampled-out ÷ traced Effect.withSpan, beluga",
    numerator: "ours.off",
    denominator: "ours"
  },
  {
    id: "ours/native",
    label: "traced Effect.withSpan, beluga ÷ Effect's native tracer",
    numerator: "ours",
    denominator: "native"
  },
  {
    id: "step/native",
    label: "traced Pipeline.step, beluga ÷ Effect.withSpan, Effect's native tracer",
    numerator: "ours.step",
    denominator: "native"
  },
  {
    id: "step/ours",
    label: "Pipeline.step ÷ bare withSpan (5 attrs), beluga",
    numerator: "ours.step",
    denominator: "ours"
  },
  {
    id: "step/step.noagent",
    label: "Pipeline.step with ÷ without the agent processor, beluga",
    numerator: "ours.step",
    denominator: "ours.step.noagent"
  },
  {
    id: "chat/chat10",
    label: "GenAI.chat ÷ withSpan with the same 10 attrs, beluga",
    numerator: "ours.chat",
    denominator: "ours.chat10"
  },
  {
    id: "chat/ours",
    label: "GenAI.chat ÷ bare withSpan (5 attrs), beluga",
    numerator: "ours.chat",
    denominator: "ours"
  },
  {
    id: "chat.metrics/chat",
    label: "GenAI.chat with ÷ without GenAI metrics, beluga",
    numerator: "ours.chat.metrics",
    denominator: "ours.chat"
  },
  {
    id: "nostack/ours",
    label: "withSpan captureStackTrace:false ÷ withSpan, beluga",
    numerator: "ours.nostack",
    denominator: "ours"
  },
  {
    id: "upstream/ours",
    label: "@effect/opentelemetry ÷ beluga, traced step",
    numerator: "upstream",
    denominator: "ours"
  }
]

/** A difference of two rows' per-step times, computed within each round: the added cost per step. */
export interface DifferenceSpec {
  readonly id: string
  readonly label: string
  readonly minuend: RowId
  readonly subtrahend: RowId
}

export const differenceSpecs: ReadonlyArray<DifferenceSpec> = [
  {
    id: "stream.ours-bare",
    label: "streamed chat span, added cost per chunk, capture off",
    minuend: "stream.ours",
    subtrahend: "stream.bare"
  },
  {
    id: "chat.metrics-chat",
    label: "GenAI metrics, added cost per GenAI.chat call",
    minuend: "ours.chat.metrics",
    subtrahend: "ours.chat"
  },
  {
    id: "stream.metrics-ours",
    label: "GenAI metrics, added cost per streamed chunk",
    minuend: "stream.metrics",
    subtrahend: "stream.ours"
  },
  {
    id: "stream.content-bare",
    label: "streamed chat span, added cost per chunk, capture on",
    minuend: "stream.content",
    subtrahend: "stream.bare"
  }
]

export interface MicroResult {
  readonly steps: number
  readonly rounds: number
  readonly timeMs: number
  readonly seed: number
  readonly contextManager: boolean
  /** Per-step time (ns): the median over rounds of each round's mitata p50 ÷ steps. */
  readonly rows: Record<string, Summary & { readonly label: string; readonly avg: number; readonly samples: number }>
  /**
   * Each ratio within each round (median, min–max over rounds), and `best`: the ratio of the two
   * rows' fastest rounds, a cross-check that is insensitive to rounds slowed by other processes.
   */
  readonly ratios: Record<string, Summary & { readonly label: string; readonly best: number }>
  /** Each difference within each round (ns per step: median, min–max over rounds). */
  readonly differences: Record<string, Summary & { readonly label: string }>
  readonly dropped: Record<string, number>
}

const gc = (globalThis as { gc?: () => void }).gc

const main = async () => {
  console.log(
    `micro: ${ids.length} rows × ${rounds} rounds, ≥ ${timeMs} ms of samples per row per round, ${steps} steps a sample` +
      ` (seed ${seed}${gc === undefined ? ", no --expose-gc: GC not forced between rows" : ""})`
  )
  const rows: Array<Row> = []
  for (const id of ids) rows.push(await makeRow(id, steps))

  // Warm-up: every row runs for a while before anything is recorded, so JIT tiers settle first.
  const warmupMs = quick ? 40 : 250
  for (const row of rows) {
    const end = performance.now() + warmupMs
    while (performance.now() < end) {
      row.run()
      await settle()
    }
  }

  const perRound = new Map<string, Array<number>>(ids.map((id) => [id, []]))
  const avgs = new Map<string, Array<number>>(ids.map((id) => [id, []]))
  const samples = new Map<string, number>(ids.map((id) => [id, 0]))
  for (let round = 0; round < rounds; round++) {
    const order = shuffle(rows, seed + round)
    const line: Array<string> = []
    for (const row of order) {
      const stats = await measure(async () => row.run(), {
        min_cpu_time: timeMs * 1e6,
        // Short windows, many rounds: a burst of load from another process then spoils one round
        // of one pair, which the median over rounds discards.
        min_samples: 6,
        // One sample = one run of `steps` steps; never batch runs (a run is ≥ 50 µs anyway).
        batch_threshold: -1,
        gc: gc ?? false
      })
      perRound.get(row.id)!.push(stats.p50 / steps)
      avgs.get(row.id)!.push(stats.avg / steps)
      samples.set(row.id, samples.get(row.id)! + stats.samples.length)
      line.push(`${row.id} ${ns(stats.p50 / steps)}`)
      await settle()
    }
    console.log(`  round ${round + 1}/${rounds}: ${line.join(", ")}`)
  }

  const result: MicroResult = {
    steps,
    rounds,
    timeMs,
    seed,
    contextManager: argv.has("context-manager"),
    rows: Object.fromEntries(ids.map((id) => {
      const row = rows.find((r) => r.id === id)!
      return [id, {
        label: row.label,
        ...summarize(perRound.get(id)!),
        avg: summarize(avgs.get(id)!).median,
        samples: samples.get(id)!
      }]
    })),
    ratios: Object.fromEntries(
      ratioSpecs
        .filter((spec) => ids.includes(spec.numerator) && ids.includes(spec.denominator))
        .map((spec) => {
          const num = perRound.get(spec.numerator)!
          const den = perRound.get(spec.denominator)!
          return [spec.id, {
            label: spec.label,
            ...summarize(num.map((n, i) => n / den[i]!)),
            best: Math.min(...num) / Math.min(...den)
          }]
        })
    ),
    differences: Object.fromEntries(
      differenceSpecs
        .filter((spec) => ids.includes(spec.minuend) && ids.includes(spec.subtrahend))
        .map((spec) => {
          const a = perRound.get(spec.minuend)!
          const b = perRound.get(spec.subtrahend)!
          return [spec.id, { label: spec.label, ...summarize(a.map((x, i) => x - b[i]!)) }]
        })
    ),
    dropped: Object.fromEntries(rows.map((row) => [row.id, row.dropped()]))
  }
  for (const row of rows) await row.dispose()

  console.log()
  console.log(table(
    ["row", "median / step", "rounds min–max", "mean / step", "samples"],
    ids.map((id) => {
      const r = result.rows[id]!
      return [`${id}: ${r.label}`, ns(r.median), `${ns(r.min)} – ${ns(r.max)}`, ns(r.avg), String(r.samples)]
    })
  ))
  console.log()
  console.log(table(
    ["ratio (within each round)", "median", "rounds min–max", "fastest ÷ fastest"],
    Object.values(result.ratios).map((
      r
    ) => [r.label, ratio(r.median), `${ratio(r.min)} – ${ratio(r.max)}`, ratio(r.best)])
  ))
  if (Object.keys(result.differences).length > 0) {
    console.log()
    console.log(table(
      ["difference (within each round)", "median", "rounds min–max"],
      Object.values(result.differences).map((d) => [d.label, ns(d.median), `${ns(d.min)} – ${ns(d.max)}`])
    ))
  }
  const drops = Object.entries(result.dropped).filter(([, n]) => n > 0)
  console.log(
    drops.length === 0
      ? "\nno span dropped by any batch processor"
      : `\nDROPPED: ${drops.map(([id, n]) => `${id} ${n}`).join(", ")}`
  )
  writeResult(argv.string("out", ""), result)
}

await main()
