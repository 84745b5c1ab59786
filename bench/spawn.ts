/**
 * Runs a bench script in its own Node process: the same Node 24, with chosen V8 flags, and the
 * TypeScript run by Node's own type transform rather than tsx. tsx compiles with esbuild's
 * `keepNames`, which wraps every named closure the library creates per call in a `__name(...)`
 * (an `Object.defineProperty`): ~1 µs a `GenAI.chat` step that the published build (tsc output)
 * does not pay. Node's transform only removes types (and lowers parameter properties), like tsc.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { SinkStats } from "./sink.ts"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** The environment without `OTEL_*`/`BELUGA_*`: every section measures the library's defaults. */
export const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(OTEL_|BELUGA_)/.test(key)))

/** Node's type transform, and `#platform` from the source (`beluga-source`), not a build that may be older. */
export const nodeTypeScript: ReadonlyArray<string> = [
  "--experimental-transform-types",
  "--disable-warning=ExperimentalWarning",
  "--conditions=beluga-source"
]

export const start = (
  script: string,
  args: ReadonlyArray<string>,
  options: { readonly nodeFlags?: ReadonlyArray<string>; readonly ipc?: boolean; readonly quiet?: boolean } = {}
): ChildProcess =>
  spawn(
    process.execPath,
    [...nodeTypeScript, ...(options.nodeFlags ?? []), path.join(root, "bench", script), ...args],
    {
      cwd: root,
      env: cleanEnv(),
      stdio: [
        "ignore",
        options.quiet === true ? "ignore" : "inherit",
        "inherit",
        ...(options.ipc === true ? ["ipc" as const] : [])
      ]
    }
  )

export const exited = (child: ChildProcess): Promise<number> =>
  new Promise((resolve, reject) => {
    child.once("error", reject)
    child.once("exit", (code, signal) => resolve(code ?? (signal !== null ? 1 : 0)))
  })

let counter = 0
/** A fresh file for a section's JSON results. */
export const resultFile = (name: string) =>
  path.join(os.tmpdir(), `beluga-bench-${process.pid}-${++counter}-${name}.json`)

/** Runs a section and reads its JSON result. */
export const runSection = async <A>(
  script: string,
  args: ReadonlyArray<string>,
  nodeFlags: ReadonlyArray<string> = []
): Promise<A> => {
  const out = resultFile(script.replace(/\W/g, "_"))
  const started = performance.now()
  const code = await exited(start(script, [...args, `--out=${out}`], { nodeFlags }))
  if (code !== 0) throw new Error(`bench/${script} exited with ${code}`)
  console.log(`(bench/${script} took ${((performance.now() - started) / 1000).toFixed(1)} s)`)
  const result = JSON.parse(fs.readFileSync(out, "utf8")) as A
  fs.rmSync(out, { force: true })
  return result
}

const message = <A>(child: ChildProcess, predicate: (value: unknown) => value is A): Promise<A> =>
  new Promise((resolve, reject) => {
    const onMessage = (value: unknown) => {
      if (!predicate(value)) return
      child.off("message", onMessage)
      resolve(value)
    }
    child.on("message", onMessage)
    child.once("exit", () => reject(new Error("the sink exited")))
  })

/** An OTLP/HTTP sink (`sink.ts`) in its own process on 127.0.0.1: its port, its counts, a way to stop it. */
export const startSink = async () => {
  const sink = start("sink.ts", [], { ipc: true })
  const { port } = await message(sink, (v): v is { port: number } => typeof v === "object" && v !== null && "port" in v)
  return {
    port,
    stats: () => {
      sink.send("stats")
      return message(sink, (v): v is SinkStats => typeof v === "object" && v !== null && "spans" in v)
    },
    stop: () => {
      sink.send("exit")
      return exited(sink)
    }
  }
}
