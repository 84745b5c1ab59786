/**
 * The library on each runtime — Node, Bun and Deno, each a binary from npm — from a consumer
 * folder that imports the package by name (`test/support/consumer.ts`), exporting to an OTLP
 * receiver in this process on 127.0.0.1:
 * - cold start: a process that imports the library, builds the layer, makes one span and flushes
 *   it, from spawn to exit (median of 10 processes);
 * - traced ÷ native on the same runtime: a root step with five attributes under `Tracing.layer`,
 *   its spans exported and flushed within the round, against Effect's native tracer, CPU time,
 *   interleaved rounds (`bench/runtimeProbe.ts`);
 * - a per-request flush of 20 spans to the local receiver, wall time (median of 30).
 *
 *   node --experimental-transform-types bench/runtimes.ts [--quick]
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { bin, makeConsumer } from "../test/support/consumer.ts"
import { cleanEnv } from "../test/support/processes.ts"
import { Receiver } from "../test/support/receiver.ts"
import { args, median, ratio, summarize, type Summary, table } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const processes = quick ? 3 : 10

export interface RuntimeRow {
  readonly coldStartMillis: Summary
  readonly tracedNanos: Summary
  readonly nativeNanos: Summary
  /** Per-round traced ÷ native. */
  readonly ratio: Summary
  readonly flushMillis: Summary
}

export interface RuntimesResult {
  readonly rows: Readonly<Record<string, RuntimeRow>>
}

const runtimes: ReadonlyArray<
  { readonly name: string; readonly command: string; readonly args: ReadonlyArray<string> }
> = [
  { name: "node", command: process.execPath, args: [] },
  { name: "bun", command: bin("bun"), args: [] },
  { name: "deno", command: bin("deno"), args: ["run", "--allow-env", "--allow-net", "--allow-read", "--allow-sys"] }
]

const runProbe = (
  consumer: string,
  runtime: (typeof runtimes)[number],
  env: Record<string, string>
): Promise<{ readonly stdout: string; readonly millis: number }> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(runtime.command, [...runtime.args, "runtimeProbe.ts"], {
      cwd: consumer,
      env: { ...cleanEnv(), ...env },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.once("error", reject)
    child.once("close", (code) =>
      code === 0
        ? resolve({ stdout, millis: performance.now() - started })
        : reject(new Error(`${runtime.name} probe exited with ${code}: ${stdout}`)))
  })

const main = async () => {
  const consumer = await makeConsumer([path.join("bench", "runtimeProbe.ts")])
  const receiver = await Receiver.start()
  const rows: Record<string, RuntimeRow> = {}
  try {
    for (const runtime of runtimes) {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }
      const cold: Array<number> = []
      for (let i = 0; i < processes; i++) {
        const { stdout, millis } = await runProbe(consumer, runtime, { ...env, PROBE: "cold" })
        if (!stdout.includes("DELIVERED") || stdout.includes("NOT DELIVERED")) {
          throw new Error(`${runtime.name}: ${stdout}`)
        }
        cold.push(millis)
      }
      const { stdout } = await runProbe(consumer, runtime, {
        ...env,
        PROBE: "steps",
        STEPS: quick ? "5000" : "20000",
        ROUNDS: quick ? "3" : "9"
      })
      const measured = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
        native: Array<number>
        ours: Array<number>
        flushes: Array<number>
      }
      rows[runtime.name] = {
        coldStartMillis: summarize(cold),
        nativeNanos: summarize(measured.native),
        tracedNanos: summarize(measured.ours),
        ratio: summarize(measured.ours.map((t, i) => t / measured.native[i]!)),
        flushMillis: summarize(measured.flushes)
      }
      receiver.requests.length = 0
    }
  } finally {
    await receiver.close()
    fs.rmSync(consumer, { recursive: true, force: true })
  }
  const node = rows.node!.ratio.median
  console.log()
  console.log(table(
    [
      "runtime",
      "cold start (spawn → first span delivered → exit)",
      "native step",
      "traced step, export included",
      "traced ÷ native (rounds min–max)",
      "÷ Node's ratio (≤ 1.25×)",
      "flush of 20 spans (≤ 5 ms)"
    ],
    Object.entries(rows).map(([name, row]) => [
      name,
      `${row.coldStartMillis.median.toFixed(0)} ms (${row.coldStartMillis.min.toFixed(0)}–${
        row.coldStartMillis.max.toFixed(0)
      })`,
      `${(row.nativeNanos.median / 1000).toFixed(2)} µs`,
      `${(row.tracedNanos.median / 1000).toFixed(2)} µs`,
      `${ratio(row.ratio.median)} (${ratio(row.ratio.min)}–${ratio(row.ratio.max)})`,
      ratio(row.ratio.median / node),
      `${median(row.flushMillis.values).toFixed(2)} ms (${row.flushMillis.min.toFixed(2)}–${
        row.flushMillis.max.toFixed(2)
      })`
    ])
  ))
  const out = argv.string("out", "")
  if (out !== "") fs.writeFileSync(out, JSON.stringify({ rows } satisfies RuntimesResult))
}

await main()
