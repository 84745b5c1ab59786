/**
 * What the viewer tests share: the viewer started in-process on free ports, the examples run
 * into it as child processes the way a user runs them (`npx tsx examples/<name>.ts`), a capture
 * server that keeps OTLP/JSON request bodies (traces, metrics, logs) as a file would, and Debian's Chromium driven by
 * playwright-core (no browser download).
 */
import { spawn } from "node:child_process"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { type Browser, chromium } from "playwright-core"
import { type Servers, startServers } from "../../src/internal/viewer/server.ts"
import { Store, type StoreOptions } from "../../src/internal/viewer/store.ts"
import { cleanEnv, root } from "../support/processes.ts"

export const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu"] })

export interface Viewer {
  readonly store: Store
  readonly servers: Servers
  readonly close: () => Promise<void>
}

export const startViewer = async (options: Partial<StoreOptions> & { readonly maxBodyBytes?: number } = {}) => {
  const store = new Store({ file: ":memory:", maxTraces: 10_000, maxBytes: 512 * 1024 * 1024, ...options })
  const servers = await startServers(store, {
    host: "127.0.0.1",
    otlpPort: 0,
    uiPort: 0,
    maxBodyBytes: options.maxBodyBytes ?? 32 * 1024 * 1024
  })
  return {
    store,
    servers,
    close: async () => {
      await servers.close()
      store.close()
    }
  } satisfies Viewer
}

export interface ExampleRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `examples/<name>.ts` with tsx, exporting to `endpoint`, and resolves when it exits. */
export const runExample = (name: string, endpoint: string, env: Record<string, string> = {}): Promise<ExampleRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(path.join(root, "node_modules", ".bin", "tsx"), [path.join("examples", `${name}.ts`)], {
      cwd: root,
      env: { ...cleanEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** An OTLP/HTTP endpoint that keeps every JSON body, in arrival order, as a file exporter would. */
export const startCapture = async () => {
  const bodies: Array<string> = []
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      if (["/v1/traces", "/v1/metrics", "/v1/logs"].some((signal) => req.url?.startsWith(signal) === true)) {
        bodies.push(Buffer.concat(chunks).toString("utf8"))
      }
      res.writeHead(200, { "content-type": "application/json" })
      res.end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** Posts an OTLP/JSON body. */
export const postJson = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

/** A one-span-per-entry OTLP/JSON traces request. */
export const otlpJson = (
  service: string,
  spans: ReadonlyArray<{
    readonly traceId: string
    readonly spanId: string
    readonly parentSpanId?: string
    readonly name: string
    readonly startMs: number
    readonly endMs: number
    readonly attributes?: Record<string, string | number | boolean>
    readonly error?: string
  }>
) => ({
  resourceSpans: [{
    resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
    scopeSpans: [{
      scope: { name: "test" },
      spans: spans.map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        ...(s.parentSpanId === undefined ? {} : { parentSpanId: s.parentSpanId }),
        name: s.name,
        kind: 1,
        startTimeUnixNano: String(BigInt(Math.round(s.startMs * 1000)) * 1000n),
        endTimeUnixNano: String(BigInt(Math.round(s.endMs * 1000)) * 1000n),
        attributes: Object.entries(s.attributes ?? {}).map(([key, value]) => ({
          key,
          value: typeof value === "string"
            ? { stringValue: value }
            : typeof value === "boolean"
            ? { boolValue: value }
            : Number.isInteger(value)
            ? { intValue: String(value) }
            : { doubleValue: value }
        })),
        status: s.error === undefined ? {} : { code: 2, message: s.error }
      }))
    }]
  }]
})

/** Hex ids for synthetic spans. */
export const traceIdOf = (n: number) => n.toString(16).padStart(32, "0")
export const spanIdOf = (n: number) => n.toString(16).padStart(16, "0")
