/**
 * The Phoenix the e2e suite exports to: `scripts/phoenix.sh` (arize-phoenix from PyPI in a cached
 * venv), on ports of its own so that a developer's Phoenix on 6006 is never touched, with its data in
 * a fresh directory, read back through its REST API and GraphQL.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { root } from "./child.ts"

export const phoenixPorts = { http: 16006, grpc: 14327 } as const
export const phoenixUrl = `http://127.0.0.1:${phoenixPorts.http}`

/** Runs `scripts/<script> <command>` with `env`, echoing its output (a first install prints progress). */
export const runScript = (script: string, command: string, env: NodeJS.ProcessEnv) =>
  new Promise<{ readonly code: number | null; readonly output: string }>((resolve, reject) => {
    const child = spawn(path.join(root, "scripts", script), [command], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    const echo = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      process.stderr.write(chunk)
    }
    child.stdout.on("data", echo)
    child.stderr.on("data", echo)
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })

/** Runs `scripts/phoenix.sh <command>` with the suite's ports and `stateDir`. */
export const phoenixSh = (command: string, stateDir: string) =>
  runScript("phoenix.sh", command, {
    ...process.env,
    PHOENIX_PORT: String(phoenixPorts.http),
    PHOENIX_GRPC_PORT: String(phoenixPorts.grpc),
    PHOENIX_STATE_DIR: stateDir
  })

/** A span as Phoenix's REST API returns it. */
export interface PhoenixSpan {
  readonly name: string
  readonly span_kind: string
  readonly parent_id: string | null
  readonly context: { readonly trace_id: string; readonly span_id: string }
  readonly attributes: Record<string, unknown>
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Record<string, unknown> }>
}

export const spansOf = async (project: string): Promise<Array<PhoenixSpan>> => {
  const response = await fetch(`${phoenixUrl}/v1/projects/${encodeURIComponent(project)}/spans?limit=1000`)
  if (response.status === 404) return []
  if (!response.ok) throw new Error(`Phoenix REST answered ${response.status}: ${await response.text()}`)
  return ((await response.json()) as { data: Array<PhoenixSpan> }).data
}

/** Waits until Phoenix holds `count` spans of `project` (ingestion is asynchronous). */
export const waitForSpans = async (project: string, count: number, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  let spans: Array<PhoenixSpan> = []
  while (Date.now() < deadline) {
    spans = await spansOf(project)
    if (spans.length >= count) return spans
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`Phoenix holds ${spans.length} spans of ${project} after ${timeoutMs} ms, expected ${count}`)
}

export const graphql = async <A>(query: string): Promise<A> => {
  const response = await fetch(`${phoenixUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query })
  })
  const body = (await response.json()) as { data?: A; errors?: unknown }
  if (body.errors !== undefined || body.data === undefined) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`)
  return body.data
}
