/**
 * The library on the runtimes agents are deployed to, each a real binary from npm: Bun, Deno and
 * Cloudflare's workerd. Each runs a traced agent against the real OTLP receiver on 127.0.0.1, and
 * the tests read what arrived: the tree, the attributes, the resource, and that every request's
 * spans arrived before its response was complete (Bun and Deno: the serverless flush) or through
 * `waitUntil` (workerd).
 *
 * The programs import the package by name from a consumer folder (`support/consumer.ts`), so
 * each runtime's resolver, and wrangler's bundler for the worker, picks the export conditions it
 * would pick in a user's app.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as readline from "node:readline"
import { budgetBytes, bundle } from "./support/bundle.ts"
import { bin, execute, makeConsumer } from "./support/consumer.ts"
import { cleanEnv, root } from "./support/processes.ts"
import { type ReceivedSpan, Receiver } from "./support/receiver.ts"

let consumer = ""

beforeAll(async () => {
  consumer = await makeConsumer(
    fs.readdirSync(path.join(root, "test", "fixtures", "runtimes")).map((file) =>
      path.join("test", "fixtures", "runtimes", file)
    )
  )
}, 180_000)

afterAll(() => {
  if (consumer !== "") fs.rmSync(consumer, { recursive: true, force: true })
})

interface Exited {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Starts `command`; `onLine` sees each stdout line as it comes. */
const start = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string>; readonly onLine?: (line: string) => void }
): { readonly child: ChildProcess; readonly done: Promise<Exited> } => {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...cleanEnv(), ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    stdout += `${line}\n`
    options.onLine?.(line)
  })
  const done = new Promise<Exited>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })))
  return { child, done }
}

const show = (result: Exited) => `exit ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`

const int = (span: ReceivedSpan, key: string) => {
  const value = span.attributes[key]
  return value?.type === "int" ? Number(value.value) : undefined
}
const text = (attributes: ReceivedSpan["attributes"], key: string) => {
  const value = attributes[key]
  return value?.type === "string" ? value.value : undefined
}

/** Each root named `rootName`, with its two children (a chat call and `lookup`) under it in its own trace. */
const assertTrees = (spans: ReadonlyArray<ReceivedSpan>, rootName: string, key: string, count: number) => {
  const roots = spans.filter((span) => span.name === rootName)
  assert.deepStrictEqual(roots.map((span) => int(span, key)), Array.from({ length: count }, (_, i) => i + 1))
  for (const rootSpan of roots) {
    assert.strictEqual(rootSpan.parentSpanId, undefined)
    const children = spans.filter((span) => span.traceId === rootSpan.traceId && span !== rootSpan)
    assert.deepStrictEqual(children.map((span) => span.name).toSorted(), ["chat sim-gpt-4o", "lookup"])
    for (const child of children) assert.strictEqual(child.parentSpanId, rootSpan.spanId)
    const chat = children.find((span) => span.name === "chat sim-gpt-4o")!
    assert.strictEqual(chat.kind, 3, "chat is a CLIENT span")
    assert.strictEqual(text(chat.attributes, "gen_ai.operation.name"), "chat")
    assert.strictEqual(int(chat, "gen_ai.usage.input_tokens")! > 0, true)
  }
  assert.strictEqual(new Set(spans.map((span) => span.spanId)).size, spans.length, "no span sent twice")
}

/**
 * The serverless fixture on `runtime`: when each `INVOKED n` line is read the receiver must already
 * hold the 3n spans of invocations 1..n (each flush was awaited before the handler returned).
 */
const serverlessOn = async (command: string, args: ReadonlyArray<string>) => {
  const receiver = await Receiver.start()
  try {
    const seenAt: Array<number> = []
    const { done } = start(command, args, {
      cwd: consumer,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      onLine: (line) => {
        if (line.startsWith("INVOKED ")) seenAt.push(receiver.spans().length)
      }
    })
    const result = await done
    assert.strictEqual(result.code, 0, show(result))
    assert.include(result.stdout, "DONE", show(result))
    receiver.assertDecoded()
    // The child runs on while its stdout is read here, so a later invocation's spans may have
    // arrived too; what must hold is that none of invocation n's are still missing.
    assert.strictEqual(seenAt.length, 3, show(result))
    seenAt.forEach((count, i) =>
      assert.isAtLeast(count, 3 * (i + 1), `invocation ${i + 1}'s spans arrived before it returned: ${seenAt}`)
    )
    const spans = receiver.spans()
    assert.strictEqual(spans.length, 9)
    assertTrees(spans, "invocation", "invocation.number", 3)
    for (const span of spans) {
      assert.strictEqual(text(span.resource, "service.name"), "lambda-agent")
      assert.strictEqual(text(span.resource, "telemetry.distro.name"), "beluga-o11y")
    }
    return result
  } finally {
    await receiver.close()
  }
}

describe("Bun (the npm package `bun`)", () => {
  it("runs a serverless handler by the package name: each invocation flushed before it returns", async () => {
    const result = await serverlessOn(bin("bun"), ["lambda-agent.ts"])
    assert.strictEqual(result.stdout.match(/^FLUSHED /gm)?.length, 3)
  })

  it("runs examples/agent-workflow.ts unchanged: one tree of 9 spans", async () => {
    const receiver = await Receiver.start()
    try {
      const { done } = start(bin("bun"), ["examples/agent-workflow.ts"], {
        cwd: root,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRICS_EXPORTER: "none" }
      })
      const result = await done
      assert.strictEqual(result.code, 0, show(result))
      const spans = receiver.spans()
      assert.strictEqual(spans.length, 9, show(result))
      const rootSpan = spans.find((span) => span.name === "agent-workflow")!
      assert.strictEqual(rootSpan.parentSpanId, undefined)
      assert.isTrue(spans.every((span) => span.traceId === rootSpan.traceId), "one trace")
      const ids = new Set(spans.map((span) => span.spanId))
      assert.isTrue(spans.every((span) => span === rootSpan || ids.has(span.parentSpanId!)), "one tree")
    } finally {
      await receiver.close()
    }
  })
})

describe("Deno (the npm package `deno`)", () => {
  it("runs a serverless handler by the package name: each invocation flushed before it returns", async () => {
    const result = await serverlessOn(bin("deno"), [
      "run",
      "--allow-env",
      "--allow-net",
      "--allow-read",
      "--allow-sys",
      "lambda-agent.ts"
    ])
    assert.strictEqual(result.stdout.match(/^FLUSHED /gm)?.length, 3)
  })
})

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

describe("Cloudflare workerd (the npm package `workerd`, bundled by wrangler)", () => {
  it("serves a traced worker: each request's spans arrive through waitUntil, the bundle has no Node-only module", async () => {
    const outDir = path.join(consumer, "worker-out")
    fs.writeFileSync(
      path.join(consumer, "wrangler.toml"),
      ["name = \"agent-worker\"", "main = \"worker.ts\"", "compatibility_date = \"2026-11-17\""].join("\n")
    )
    const metafile = path.join(outDir, "meta.json")
    const bundled = await execute(
      bin("wrangler"),
      ["deploy", "--dry-run", "--minify", "--outdir", outDir, "--metafile", metafile],
      { cwd: consumer, env: { ...cleanEnv(), WRANGLER_SEND_METRICS: "false", CI: "true" } }
    )
    const workerCode = fs.readFileSync(path.join(outDir, "worker.js"), "utf8")
    // The worker build of the platform: fetch, CompressionStream, AsyncLocalStorage and nothing else from Node.
    const nodeImports = [...workerCode.matchAll(/from\s*"((?:node:)?[a-z_/]+)"/g)].map((match) => match[1]).toSorted()
    assert.deepStrictEqual(nodeImports, ["node:async_hooks"], bundled.stdout)
    // No meter provider of the SDK's (45 KB): only the enums `@effect/opentelemetry`'s producer reads.
    const meta = JSON.parse(fs.readFileSync(metafile, "utf8")) as {
      readonly outputs: Record<string, { readonly inputs: Record<string, { readonly bytesInOutput: number }> }>
    }
    const sdkMetrics = Object.values(meta.outputs).flatMap((output) =>
      Object.entries(output.inputs).filter(([input]) => input.includes("@opentelemetry/sdk-metrics/"))
    )
    assert.isBelow(sdkMetrics.reduce((n, [, input]) => n + input.bytesInOutput, 0), 2048, JSON.stringify(sdkMetrics))

    const receiver = await Receiver.start()
    const port = await freePort()
    fs.writeFileSync(
      path.join(consumer, "config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker-out/worker.js") ],
  compatibilityDate = "2026-11-17",
  bindings = [ (name = "OTEL_EXPORTER_OTLP_ENDPOINT", text = "${receiver.url}") ],
  globalOutbound = "loopback",
);
`
    )
    const { child, done } = start(bin("workerd"), ["serve", "config.capnp", "--experimental"], { cwd: consumer })
    try {
      const ask = async (n: number) => {
        for (let attempt = 0;; attempt++) {
          try {
            return await fetch(`http://127.0.0.1:${port}/?n=${n}`).then((response) => response.text())
          } catch (error) {
            if (attempt > 100 || child.exitCode !== null) {
              throw new Error(`workerd: ${show(await done)}`, { cause: error })
            }
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
      }
      for (let n = 1; n <= 3; n++) {
        const answer = await ask(n)
        assert.include(answer, `question ${n}`)
        // Flushed through ctx.waitUntil, after the response: they follow it shortly.
        await receiver.waitForSpans(3 * n, 10_000)
      }
      receiver.assertDecoded()
      const spans = receiver.spans()
      assert.strictEqual(spans.length, 9)
      assertTrees(spans, "worker-request", "request.number", 3)
      for (const span of spans) assert.strictEqual(text(span.resource, "service.name"), "agent-worker")
      // The batch timer was never what delivered them: each request's three spans came in one export.
      assert.deepStrictEqual(receiver.requests.map((request) => request.spans.length), [3, 3, 3])
      // Each flush sent the metrics too (cumulative): the last collection counts the three chat calls.
      await receiver.waitForMetricRequests(3, 10_000)
      const durations = receiver.metricRequests.at(-1)!.metrics.find((metric) =>
        metric.name === "gen_ai.client.operation.duration"
      )
      assert.isDefined(durations, JSON.stringify(receiver.metrics().map((metric) => metric.name)))
      const chat = durations!.histogramPoints.find((point) =>
        text(point.attributes, "gen_ai.operation.name") === "chat"
      )
      assert.strictEqual(chat?.count, 3n)
      assert.strictEqual(text(durations!.resource, "service.name"), "agent-worker")
    } finally {
      child.kill("SIGTERM")
      await done
      await receiver.close()
    }
  })

  it("bundles to at most 150 KB over Effect's own OTLP export of the same worker", async () => {
    // The same request shape on `Otlp.layerJson` over `FetchHttpClient`: what a user would have
    // without this library. Both minified by wrangler, as `bench/bundle.ts` reports them.
    const ours = await bundle(consumer, "worker.ts")
    const effectOtlp = await bundle(consumer, "effect-otlp-worker.ts")
    const byInput = Object.values(ours.meta.outputs).flatMap((output) =>
      Object.entries(output.inputs).map(([input, { bytesInOutput }]) => `${bytesInOutput} ${input}`)
    )
    assert.isAtMost(
      ours.code.length - effectOtlp.code.length,
      budgetBytes,
      byInput.toSorted((a, b) => Number.parseInt(b) - Number.parseInt(a)).slice(0, 20).join("\n")
    )
    // The SDK's own tracer and span classes are not in it: every span goes through the span record.
    assert.notInclude(byInput.join("\n"), "@opentelemetry/sdk-trace/build/esm/Tracer.js")
  })
})
