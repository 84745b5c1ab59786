/**
 * Child processes for the reliability tests and figures: fixture programs run the way a user runs
 * them (`node_modules/.bin/tsx test/fixtures/<program>.ts`, on the project's Node 24), and the
 * out-of-process OTLP sink (`sink.ts`).
 *
 * A child gets this process's environment minus every `OTEL_*` and `BELUGA_*` variable, so a
 * collector configured on the developer's machine cannot redirect or reshape the export; each
 * caller adds back exactly the variables it is about.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import * as readline from "node:readline"
import type { Command, SinkBehaviour, SinkStats, SinkVerification } from "./sink.ts"

export const root = path.resolve(import.meta.dirname, "../..")
const tsx = path.join(root, "node_modules", ".bin", "tsx")

/** The environment a child starts from: ours without tracing configuration. */
export const cleanEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("OTEL_") || key.startsWith("BELUGA_") || key.startsWith("FIXTURE_")) {
      continue
    }
    env[key] = value
  }
  // tsx starts `node` from PATH: the Node running the tests first (the project's Node 24, or the
  // Node 22 CI also runs the suite on), never the machine's own.
  env.PATH = [path.dirname(process.execPath), path.join(root, "node_modules", ".bin"), env.PATH ?? ""].join(
    path.delimiter
  )
  // A vitest worker sets NODE_OPTIONS for its own loader; a child must not inherit it.
  delete env.NODE_OPTIONS
  return env
}

// -----------------------------------------------------------------------------
// Fixture programs
// -----------------------------------------------------------------------------

export interface Finished {
  readonly command: string
  /** `null` when the process was killed by a signal. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** From spawn to exit, as seen by the parent. */
  readonly millis: number
  /** True when the parent had to kill it after `timeoutMs`. */
  readonly timedOut: boolean
  /** From the signal the parent sent (if any) to exit. */
  readonly afterSignalMillis: number | undefined
}

export interface RunOptions {
  readonly env?: Record<string, string> | undefined
  /**
   * `tsx` (default): `node_modules/.bin/tsx <file>`, as a user runs a script. `node`:
   * `node --import tsx <file>`, one process; use it to send the program a signal, because the tsx
   * CLI runs the program as a child and SIGKILLs it when it does not acknowledge a relayed signal
   * within about 30 ms, which cuts the program's own shutdown short (see docs/reliability.md).
   */
  readonly runner?: "tsx" | "node" | undefined
  /** Killed with SIGKILL after this long; the result says `timedOut`. Default 60 s. */
  readonly timeoutMs?: number | undefined
  /** Sends `signal` once a stdout line matches `when`. */
  readonly signal?: { readonly when: RegExp; readonly signal: NodeJS.Signals } | undefined
  /** Called with every stdout line as it arrives. */
  readonly onLine?: ((line: string) => void) | undefined
}

/** Runs `test/fixtures/<program>.ts` with tsx and resolves when it exits. */
export const runFixture = (program: string, options: RunOptions = {}): Promise<Finished> =>
  new Promise((resolve, reject) => {
    const file = path.join("test", "fixtures", `${program}.ts`)
    const started = performance.now()
    let signalledAt: number | undefined
    const [command, args] = options.runner === "node"
      ? [path.join(root, "node_modules", ".bin", "node"), ["--import", "tsx", file]]
      : [tsx, [file]]
    const child = spawn(command, args, {
      cwd: root,
      env: { ...cleanEnv(), ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that the time limit can kill tsx and the program it runs: killing
      // tsx alone would leave the program holding the pipes open, and this promise unresolved.
      detached: true
    })
    let stdout = ""
    let stderr = ""
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      stdout += `${line}\n`
      options.onLine?.(line)
      if (options.signal !== undefined && signalledAt === undefined && options.signal.when.test(line)) {
        signalledAt = performance.now()
        child.kill(options.signal.signal)
      }
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, "SIGKILL")
      } catch {
        child.kill("SIGKILL")
      }
    }, options.timeoutMs ?? 60_000)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      const ended = performance.now()
      resolve({
        command: options.runner === "node" ? `node --import tsx ${file}` : `tsx ${file}`,
        code,
        signal,
        stdout,
        stderr,
        millis: ended - started,
        timedOut,
        afterSignalMillis: signalledAt === undefined ? undefined : ended - signalledAt
      })
    })
  })

/** How a finished child is shown in a failure message. */
export const showRun = (finished: Finished): string =>
  `\`${finished.command}\` exited with ${finished.signal ?? finished.code}${
    finished.timedOut ? " (killed: timed out)" : ""
  } after ${Math.round(finished.millis)} ms\n--- stdout\n${finished.stdout}--- stderr\n${finished.stderr}---`

/** The library's one-line warnings on standard error. */
export const libraryWarnings = (stderr: string): Array<string> =>
  stderr.split("\n").filter((line) => line.startsWith("beluga-o11y:"))

/** Stack-trace frames on standard error (`    at f (file:1:2)`). */
export const stackFrames = (stderr: string): Array<string> => stderr.split("\n").filter((line) => /^\s+at\s/.test(line))

/** The fixture's `RESULT {json}` line, parsed. */
export const resultOf = <A = FixtureResult>(finished: Finished): A => {
  const line = finished.stdout.split("\n").find((l) => l.startsWith("RESULT "))
  if (line === undefined) throw new Error(`the fixture printed no RESULT line\n${showRun(finished)}`)
  return JSON.parse(line.slice("RESULT ".length)) as A
}

/** What `test/fixtures/common.ts` prints after the tracing layer was released. */
export interface FixtureResult {
  /** Spans the program started (ended or interrupted). */
  readonly created: number
  readonly stats: {
    readonly exportedSpans: number
    readonly failedSpans: number
    readonly rejectedSpans: number
    readonly droppedSpans: number
    readonly queuedSpans: number
    readonly failedExports: number
    readonly retries: number
    readonly lastError: string | undefined
  }
  /** Milliseconds since the process started (`performance.now()`). */
  readonly times: {
    readonly pipelineStart: number
    readonly pipelineEnd: number
    readonly released: number
  }
  /** The most spans seen waiting in the export queue, sampled every 10 ms. */
  readonly maxQueued: number
  /** Peak resident set size of the process so far, bytes. */
  readonly maxRssBytes: number
  /** RSS before the pipeline started, bytes. */
  readonly startRssBytes: number
  /** V8 heap in use after a full GC at the end of the pipeline; only with `NODE_OPTIONS=--expose-gc`. */
  readonly retainedHeapBytes?: number | undefined
}

/** The fixture's `EXIT <ms>` line: when its `exit` event fired, in ms since it started. */
export const exitTimeOf = (finished: Finished): number | undefined => {
  const line = finished.stdout.split("\n").find((l) => l.startsWith("EXIT "))
  return line === undefined ? undefined : Number(line.slice("EXIT ".length))
}

// -----------------------------------------------------------------------------
// The sink
// -----------------------------------------------------------------------------

export interface Sink {
  readonly port: number
  /** The base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  readonly url: string
  readonly stats: () => Promise<SinkStats>
  readonly verify: () => Promise<SinkVerification>
  readonly respond: (...behaviours: ReadonlyArray<SinkBehaviour>) => Promise<void>
  readonly setDefault: (behaviour: SinkBehaviour) => Promise<void>
  readonly down: () => Promise<void>
  readonly up: () => Promise<void>
  readonly close: () => Promise<void>
}

/** Starts `sink.ts` in its own process. */
export const startSink = (
  options: { readonly behaviour?: SinkBehaviour; readonly port?: number; readonly keepBytes?: number } = {}
): Promise<Sink> =>
  new Promise((resolve, reject) => {
    const env: Record<string, string> = { ...cleanEnv() }
    if (options.behaviour !== undefined) env.SINK_BEHAVIOUR = JSON.stringify(options.behaviour)
    if (options.port !== undefined) env.SINK_PORT = String(options.port)
    if (options.keepBytes !== undefined) env.SINK_KEEP_BYTES = String(options.keepBytes)
    const child: ChildProcess = spawn(tsx, [path.join("test", "support", "sink.ts")], {
      cwd: root,
      env,
      stdio: ["pipe", "pipe", "inherit"]
    })
    const replies: Array<(line: string) => void> = []
    let started = false
    child.on("error", reject)
    child.on("exit", (code) => {
      if (!started) reject(new Error(`the sink exited with ${code} before listening`))
      for (const waiter of replies.splice(0)) waiter(JSON.stringify({ error: `sink exited with ${code}` }))
    })
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!started) {
        started = true
        const { port } = JSON.parse(line) as { port: number }
        resolve(sink(port))
        return
      }
      replies.shift()?.(line)
    })
    const ask = <A>(command: Command): Promise<A> =>
      new Promise((done, fail) => {
        replies.push((line) => {
          const value = JSON.parse(line) as A & { error?: string }
          if (value.error !== undefined) fail(new Error(value.error))
          else done(value)
        })
        child.stdin!.write(`${JSON.stringify(command)}\n`)
      })
    const sink = (port: number): Sink => ({
      port,
      url: `http://127.0.0.1:${port}`,
      stats: () => ask<SinkStats>({ cmd: "stats" }),
      verify: () => ask<SinkVerification>({ cmd: "verify" }),
      respond: (...behaviours) => ask<unknown>({ cmd: "respond", behaviours }).then(() => {}),
      setDefault: (behaviour) => ask<unknown>({ cmd: "default", behaviour }).then(() => {}),
      down: () => ask<unknown>({ cmd: "down" }).then(() => {}),
      up: () => ask<unknown>({ cmd: "up" }).then(() => {}),
      close: () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done()
          child.once("exit", () => done())
          child.stdin!.end()
        })
    })
  })

/** A port nothing listens on: bound by the OS, then released. */
export const closedPort = async (): Promise<number> => {
  const net = await import("node:net")
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = address !== null && typeof address !== "string" ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
