/**
 * Runs a program as its own process, the way a user would (`npx tsx examples/quickstart.ts`), and
 * captures what it prints.
 *
 * The child gets this process's environment minus every `OTEL_*` and `BELUGA_*` variable, so a
 * collector configured on the developer's machine cannot redirect or reshape the export; a test
 * adds back exactly the variables it is about. `node_modules/.bin` goes first on `PATH`, so `npx`
 * and `tsx` run on the project's Node 24 and never on the machine's own Node.
 */
import { spawn } from "node:child_process"
import { cleanEnv, root } from "../../support/processes.ts"

export { root }

export interface Finished {
  readonly command: string
  /** `null` when the process was killed by a signal. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly millis: number
}

const ansi = new RegExp(String.raw`\u001b\[[0-9;]*m`, "g")

/**
 * Runs `command args` in the project root and resolves when it exits; it is killed after
 * `timeoutMs`. The output has terminal colours stripped.
 */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  { env = {}, timeoutMs = 60_000 }: { readonly env?: Record<string, string>; readonly timeoutMs?: number } = {}
): Promise<Finished> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(command, args, {
      cwd: root,
      env: { ...cleanEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({
        command: [command, ...args].join(" "),
        code,
        signal,
        stdout: stdout.replace(ansi, ""),
        stderr: stderr.replace(ansi, ""),
        millis: performance.now() - started
      })
    })
  })

/** How a finished child is shown in a failure message. */
export const showRun = (finished: Finished): string =>
  `\`${finished.command}\` exited with ${finished.signal ?? finished.code} after ${Math.round(finished.millis)} ms\n` +
  `--- stdout\n${finished.stdout}--- stderr\n${finished.stderr}---`

/** Runs an example with `npx tsx`. */
export const runExample = (file: string, options?: Parameters<typeof run>[2]) => run("npx", ["tsx", file], options)

/**
 * The traces a program printed: the terminal tree starts each trace with `trace <id> · <service>`.
 */
export const printedTraces = (stdout: string): Array<{ readonly traceId: string; readonly service: string }> =>
  [...stdout.matchAll(/^trace ([0-9a-f]{32}) · (\S+)$/gm)].map((m) => ({ traceId: m[1]!, service: m[2]! }))

/**
 * The one-line warnings the library writes to standard error when an export fails or shutdown gives
 * up. An end-to-end run against a healthy collector has none.
 */
export const exportWarnings = (stderr: string): Array<string> =>
  stderr.split("\n").filter((line) => line.startsWith("beluga-o11y:"))

/**
 * The span names in the printed tree of trace `traceId`: the lines after its header, up to the
 * blank line that ends the tree, without the tree glyphs and what follows the name (two spaces,
 * then duration and details).
 */
export const printedSpanNames = (stdout: string, traceId: string): Array<string> => {
  const lines = stdout.split("\n")
  const header = lines.findIndex((line) => line.startsWith(`trace ${traceId} `))
  if (header === -1) return []
  const end = lines.findIndex((line, i) => i > header && line.trim() === "")
  return lines.slice(header + 1, end === -1 ? undefined : end)
    .map((line) => line.replace(/^[│├└─\s]+/, "").split("  ")[0]!)
}
