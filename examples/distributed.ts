/**
 * Distributed tracing: an agent and a tool service in two processes, one trace.
 *
 *   npx tsx examples/distributed.ts
 *
 * This process is the agent (`beluga-agent`). It starts the tool service (`beluga-tool-service`,
 * this same file with the argument `tool-service`) as a child process on a free port of
 * 127.0.0.1, runs one agent turn whose `execute_tool search_docs` span calls the tool service
 * over HTTP, then stops the child. Each process prints its own part of the trace — same trace
 * id — and exports it to the default OTLP endpoint (`http://localhost:4318`, or
 * `OTEL_EXPORTER_OTLP_ENDPOINT`); in Jaeger the two parts show up as one tree:
 *
 *   agent-workflow                                   beluga-agent
 *   ├─ chat sim-gpt-4o
 *   ├─ execute_tool search_docs
 *   │  └─ POST                                       (client span: traceparent, tracestate, baggage)
 *   │     └─ POST                                    beluga-tool-service (server span)
 *   │        ├─ retrieval knowledge-base
 *   │        └─ index-status GET /freshness  ✗       (timed out: interrupted)
 *   └─ chat sim-gpt-4o
 *
 * The agent sends baggage (`tenant.id`, `session.id`) to the tool service only, because its host
 * is the only one allowed; the tool service records `tenant.id` on its span because it asks for
 * it, and `session.id` is on no span. Everything is simulated and offline; without a collector
 * both processes finish promptly and say in one line that they could not export.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type ChildProcess, spawn } from "node:child_process"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import { Simulated, Tracing } from "../src/index.ts"
import { Propagation } from "../src/index.ts"
import * as Agent from "./distributed/agent.ts"
import * as ToolService from "./distributed/tool-service.ts"

// -----------------------------------------------------------------------------
// The tool service (child process)
// -----------------------------------------------------------------------------

const toolService = () =>
  Layer.launch(
    Layer.effectDiscard(ToolService.announce).pipe(
      Layer.provideMerge(ToolService.layer()),
      Layer.provide(Tracing.layer({ serviceName: ToolService.serviceName, serviceVersion: "1.0.0", printTraces: true }))
    )
  ).pipe(NodeRuntime.runMain) // SIGTERM from the agent: interrupt, flush spans, exit

// -----------------------------------------------------------------------------
// The agent (this process)
// -----------------------------------------------------------------------------

/** Stops the child: SIGTERM (it flushes its spans), SIGKILL if it has not exited after 5 s. */
const stop = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
    child.once("exit", () => {
      clearTimeout(timer)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  })

/**
 * Starts the tool service with the same Node and loader (tsx) as this process, waits for its
 * `LISTENING <url>` line and passes the rest of its output through. Released (stopped) when the
 * agent is done, also on failure or Ctrl-C; a hard exit of this process kills it too.
 */
const startToolService = Effect.acquireRelease(
  Effect.callback<{ readonly child: ChildProcess; readonly url: string }, Error>((resume) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "tool-service"], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    const killOnExit = () => child.kill("SIGKILL")
    process.once("exit", killOnExit)
    child.once("exit", () => process.off("exit", killOnExit))
    let url: string | undefined
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (url === undefined && line.startsWith("LISTENING ")) {
        url = line.slice("LISTENING ".length)
        resume(Effect.succeed({ child, url }))
      } else {
        process.stdout.write(`${line}\n`)
      }
    })
    child.once("error", (error) => resume(Effect.fail(error)))
    child.once("exit", (code, signal) => {
      if (url === undefined) {
        resume(Effect.fail(new Error(`the tool service exited (${signal ?? code}) before listening`)))
      }
    })
    return stop(child)
  }),
  ({ child }) => stop(child)
)

const main = Effect.gen(function*() {
  const { child, url } = yield* startToolService
  yield* Effect.log(`tool service (pid ${child.pid}) listening on ${url}`)
  const { answer } = yield* Agent.agent("How do traces get to Jaeger?", url).pipe(
    Propagation.withBaggage({ "tenant.id": "acme", "session.id": "s-42" }),
    Effect.provide(Agent.httpClientLayer(url))
  )
  yield* Effect.log(answer)
}).pipe(
  Effect.scoped,
  Effect.provide(Simulated.layer()),
  Effect.provide(Tracing.layer({ serviceName: Agent.serviceName, serviceVersion: "1.0.0", printTraces: true }))
)

if (process.argv[2] === "tool-service") toolService()
else NodeRuntime.runMain(main)
