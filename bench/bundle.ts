/**
 * The worker bundle's size against Effect's own OTLP export, both bundled in the same run by the
 * runtime's standard bundler (`wrangler deploy --dry-run --minify`) from a consumer folder that
 * installs the package as an app does (`test/support/consumer.ts`):
 * - `test/fixtures/runtimes/worker.ts`: this library's tracing, the simulated model, `Serverless`;
 * - `test/fixtures/runtimes/effect-otlp-worker.ts`: the same request shape on `Otlp.layerJson`
 *   over `FetchHttpClient`, none of this library;
 * - `test/fixtures/runtimes/effect-bare-worker.ts`: Effect with a bare `Effect.withSpan`, exporting nothing.
 *
 * Prints each bundle's minified and gzipped size, the library's worker minus Effect's export
 * against the 150 KB budget, and (`--breakdown`) the library's bundle by package, from wrangler's
 * esbuild metafile. With `--check`, exits with 1 when the budget is exceeded. KB = 1,024 bytes,
 * as wrangler counts; gzip at level 9.
 *
 *   node --experimental-transform-types bench/bundle.ts [--breakdown] [--check]
 *   npm run bench -- --sections=bundle
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { budgetBytes, bundle, type BundleSize, sizeOf } from "../test/support/bundle.ts"
import { makeConsumer } from "../test/support/consumer.ts"
import { args, table, writeResult } from "./stats.ts"

const argv = args()

export interface BundleResult {
  readonly ours: BundleSize
  readonly effectOtlp: BundleSize
  readonly effectBare: BundleSize
  /** `ours.minified - effectOtlp.minified`. */
  readonly added: number
  readonly budget: number
  /** The library's worker by package: minified bytes each contributes. */
  readonly breakdown: Readonly<Record<string, number>>
}

const workers = {
  ours: "worker.ts",
  effectOtlp: "effect-otlp-worker.ts",
  effectBare: "effect-bare-worker.ts"
} as const

/** `node_modules/<package>` of an input path (the last one: links are resolved), or the library's own. */
const packageOf = (input: string): string => {
  const parts = input.split("/")
  const at = parts.lastIndexOf("node_modules")
  if (at === -1) return "(other)"
  const name = parts[at + 1]!.startsWith("@") ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]!
  return name
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`

const main = async () => {
  const consumer = await makeConsumer(
    Object.values(workers).map((file) => path.join("test", "fixtures", "runtimes", file))
  )
  try {
    const ours = await bundle(consumer, workers.ours)
    const effectOtlp = await bundle(consumer, workers.effectOtlp)
    const effectBare = await bundle(consumer, workers.effectBare)
    const breakdown: Record<string, number> = {}
    for (const output of Object.values(ours.meta.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const name = input.includes("node_modules/beluga-o11y/") ? "beluga-o11y" : packageOf(input)
        breakdown[name] = (breakdown[name] ?? 0) + bytesInOutput
      }
    }
    const result: BundleResult = {
      ours: sizeOf(ours.code),
      effectOtlp: sizeOf(effectOtlp.code),
      effectBare: sizeOf(effectBare.code),
      added: ours.code.length - effectOtlp.code.length,
      budget: budgetBytes,
      breakdown
    }
    console.log(table(
      ["worker (wrangler deploy --dry-run --minify)", "minified", "gzipped (level 9)"],
      [
        ["test/fixtures/runtimes/worker.ts (beluga-o11y)", kb(result.ours.minified), kb(result.ours.gzipped)],
        [
          "Effect's own OTLP export (Otlp.layerJson, FetchHttpClient)",
          kb(result.effectOtlp.minified),
          kb(
            result.effectOtlp.gzipped
          )
        ],
        ["Effect alone, a bare Effect.withSpan", kb(result.effectBare.minified), kb(result.effectBare.gzipped)],
        [
          `beluga-o11y − Effect's export (budget ≤ ${kb(budgetBytes)})`,
          `${kb(result.added)} ${result.added <= budgetBytes ? "✓" : "✗"}`,
          kb(result.ours.gzipped - result.effectOtlp.gzipped)
        ]
      ]
    ))
    if (argv.has("breakdown")) {
      console.log()
      console.log(table(
        ["package in beluga-o11y's worker (esbuild metafile)", "minified"],
        Object.entries(breakdown).toSorted((a, b) => b[1] - a[1]).map(([name, n]) => [name, kb(n)])
      ))
    }
    writeResult(argv.string("out", "") || undefined, result)
    if (argv.has("check") && result.added > budgetBytes) process.exitCode = 1
  } finally {
    fs.rmSync(consumer, { recursive: true, force: true })
  }
}

if (import.meta.main) await main()
