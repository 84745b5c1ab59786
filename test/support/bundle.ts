/**
 * A worker bundled as `wrangler deploy --dry-run --minify` bundles it, from a consumer folder
 * (`consumer.ts`): what the bundle-size test and `bench/bundle.ts` measure.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { bin, execute } from "./consumer.ts"
import { cleanEnv } from "./processes.ts"

/** What the library may add, minified, over Effect's own OTLP export. */
export const budgetBytes = 150 * 1024

export interface BundleSize {
  readonly minified: number
  readonly gzipped: number
}

export interface Metafile {
  readonly outputs: Record<string, { readonly inputs: Record<string, { readonly bytesInOutput: number }> }>
}

/** Bundles `main` in `consumer` as `wrangler deploy` would; the bundle's text and its metafile. */
export const bundle = async (consumer: string, main: string): Promise<{ code: Buffer; meta: Metafile }> => {
  const name = path.basename(main, ".ts")
  const outDir = path.join(consumer, `${name}-out`)
  const config = path.join(consumer, `${name}.wrangler.toml`)
  fs.writeFileSync(
    config,
    [`name = "${name}"`, `main = "${main}"`, "compatibility_date = \"2026-11-17\""].join("\n")
  )
  const metafile = path.join(outDir, "meta.json")
  await execute(
    bin("wrangler"),
    ["deploy", "--dry-run", "--minify", "-c", config, "--outdir", outDir, "--metafile", metafile],
    { cwd: consumer, env: { ...cleanEnv(), WRANGLER_SEND_METRICS: "false", CI: "true" } }
  )
  return {
    code: fs.readFileSync(path.join(outDir, `${name}.js`)),
    meta: JSON.parse(fs.readFileSync(metafile, "utf8")) as Metafile
  }
}

export const sizeOf = (code: Buffer): BundleSize => ({
  minified: code.length,
  gzipped: zlib.gzipSync(code, { level: 9 }).length
})
