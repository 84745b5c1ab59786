/**
 * The local viewer (`beluga-o11y view`): how fast it stores what exporters send, how quickly the
 * browser shows a big trace and a long list, and how much memory it holds with many spans stored.
 *
 * - ingestion: the viewer in its own process (its default SQLite file storage, in a temporary
 *   directory), fed OTLP/HTTP protobuf batches of 500 spans (50 traces of 10: an agent turn with
 *   model calls and tools carrying the GenAI attributes) by two concurrent senders, as fast as it
 *   answers; the batches are encoded before the clock starts, by OpenTelemetry's own serializer;
 * - resident memory of the viewer process once 100,000 spans are stored (10,000 traces, the
 *   default retention), and again after three times as many arrived (retention keeps it bounded);
 * - in Debian's Chromium (playwright-core): the time from navigating to the view until it is
 *   rendered and the next frame is drawn (fetch, DOM, layout) for a trace of 2,000 spans and for
 *   the traces list with 10,000 traces stored (sorted by start, then by duration); median of the runs.
 *
 *   node --experimental-transform-types --disable-warning=ExperimentalWarning bench/viewer.ts [--quick] [--out=file.json]
 */
import { context, trace } from "@opentelemetry/api"
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { cleanEnv, nodeTypeScript, root } from "./spawn.ts"
import { args, count, median, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const spansPerTrace = 10
const tracesPerBatch = 50
const stored = 100_000
const flood = quick ? stored : 3 * stored
const renderRuns = quick ? 3 : 7

/** One agent turn: a root, two model calls, tools, a retrieval; GenAI attributes as the library writes them. */
const makeSpans = (traces: number, childrenPerTrace = spansPerTrace - 1) => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "bench-agent", "service.version": "1.0.0" }),
    spanProcessors: [new SimpleSpanProcessor(exporter)]
  })
  const tracer = provider.getTracer("bench")
  for (let t = 0; t < traces; t++) {
    const turn = tracer.startSpan("invoke_agent travel-agent", {
      attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": `conv-${t % 500}` }
    })
    const parent = trace.setSpan(context.active(), turn)
    for (let c = 0; c < childrenPerTrace; c++) {
      const chat = c % 3 === 0
      const span = tracer.startSpan(chat ? "chat gpt-4o" : `execute_tool tool_${c}`, {
        attributes: chat
          ? {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.max_tokens": 512,
            "gen_ai.response.id": `chatcmpl-${t}-${c}`,
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 144 + c,
            "gen_ai.usage.output_tokens": 67,
            "gen_ai.usage.cost": 0.0012,
            "server.address": "api.openai.com",
            "server.port": 443
          }
          : {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": `tool_${c}`,
            "gen_ai.tool.call.id": `call_${c}`
          }
      }, parent)
      span.end()
    }
    turn.end()
  }
  return exporter.getFinishedSpans()
}

const batches = (traces: number) => {
  const spans = makeSpans(traces)
  const out: Array<Uint8Array> = []
  const batch = tracesPerBatch * spansPerTrace
  for (let i = 0; i < spans.length; i += batch) {
    out.push(ProtobufTraceSerializer.serializeRequest(spans.slice(i, i + batch))!)
  }
  return out
}

const rssMb = (pid: number): number => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024
}

const startViewer = async (dir: string) => {
  const child = spawn(process.execPath, [
    ...nodeTypeScript,
    path.join(root, "src", "bin.ts"),
    "view",
    "--db",
    path.join(dir, "viewer.sqlite"),
    "--otlp-port",
    "0",
    "--ui-port",
    "0"
  ], { cwd: root, env: cleanEnv(), stdio: ["ignore", "pipe", "inherit"] })
  const urls: Record<string, string> = {}
  const lines = readline.createInterface({ input: child.stdout })
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the viewer exited with ${code}`)))
    lines.on("line", (line) => {
      const match = /^\s+(OTLP\/HTTP|UI)\s+(\S+)/.exec(line)
      if (match !== null) urls[match[1]!] = match[2]!
      if (urls["OTLP/HTTP"] !== undefined && urls["UI"] !== undefined) resolve()
    })
  })
  return { child, otlp: urls["OTLP/HTTP"]!, ui: urls["UI"]! }
}

/** Sends every batch, `concurrency` requests in flight; resolves with the seconds it took. */
const send = async (url: string, bodies: ReadonlyArray<Uint8Array>, concurrency = 2) => {
  let next = 0
  const started = performance.now()
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!
      const response = await fetch(`${url}/v1/traces`, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf" },
        body: body as Uint8Array<ArrayBuffer>
      })
      if (response.status !== 200) throw new Error(`the viewer answered ${response.status}`)
      await response.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return (performance.now() - started) / 1000
}

const browserRender = async (ui: string, bigTrace: string) => {
  let chromium
  try {
    chromium = (await import("playwright-core")).chromium
  } catch {
    return undefined
  }
  const executablePath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"
  if (!fs.existsSync(executablePath)) return undefined
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] })
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(`${ui}/#/metrics`)
    await page.waitForFunction(() => (globalThis as any).document.documentElement.dataset.rendered !== undefined)
    /**
     * Milliseconds from setting the route until it is rendered and a frame has been drawn after it,
     * and of those, the page's own DOM building.
     */
    const measure = (hash: string) =>
      page.evaluate((target) =>
        new Promise<{ total: number; dom: number }>((resolve) => {
          const g = globalThis as any
          const html = g.document.documentElement
          const before = Number(html.dataset.rendered)
          const started = performance.now()
          g.location.hash = target
          const poll = () => {
            if (Number(html.dataset.rendered) > before) {
              g.requestAnimationFrame(() =>
                resolve({ total: performance.now() - started, dom: Number(html.dataset.renderMs) })
              )
            } else g.requestAnimationFrame(poll)
          }
          poll()
        }), hash)
    const runs = async (hash: string) => {
      const times: Array<number> = []
      const dom: Array<number> = []
      for (let i = 0; i < renderRuns; i++) {
        // Away first: setting the hash the page already shows would not route.
        await measure("#/conversations")
        const time = await measure(hash)
        times.push(time.total)
        dom.push(time.dom)
      }
      return { total: median(times), dom: median(dom) }
    }
    return {
      trace: await runs(`#/trace/${bigTrace}`),
      list: await runs("#/"),
      listByDuration: await runs("#/?sort=duration&order=desc")
    }
  } finally {
    await browser.close()
  }
}

const ms = (value: { total: number; dom: number } | undefined) =>
  value === undefined
    ? "— (no /usr/bin/chromium)"
    : `${value.total.toFixed(0)} ms (building the DOM: ${value.dom.toFixed(0)} ms)`

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-viewer-bench-"))
  const viewer = await startViewer(dir)
  try {
    const first = batches(stored / spansPerTrace)
    const seconds = await send(viewer.otlp, first)
    const rssStored = rssMb(viewer.child.pid!)
    let rssFlood = rssStored
    for (let sent = stored; sent < flood; sent += stored) {
      await send(viewer.otlp, batches(stored / spansPerTrace))
      rssFlood = Math.max(rssFlood, rssMb(viewer.child.pid!))
    }
    const version = await (await fetch(`${viewer.ui}/api/version`)).json() as { traces: number; spans: number }
    // The big trace arrives last, so retention keeps it.
    const big = makeSpans(1, 1_999)
    await fetch(`${viewer.otlp}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: ProtobufTraceSerializer.serializeRequest(big)! as Uint8Array<ArrayBuffer>
    })
    const render = await browserRender(viewer.ui, big[0]!.spanContext().traceId)
    const result = {
      spansPerSecond: stored / seconds,
      rssStoredMb: rssStored,
      rssFloodMb: rssFlood,
      storedAfterFlood: version,
      render
    }
    console.log(table(["viewer", "measured"], [
      ["ingestion, OTLP protobuf, 500-span batches", `${count(result.spansPerSecond)} spans/s (target ≥ 20,000)`],
      ["resident memory, 100,000 spans stored", `${result.rssStoredMb.toFixed(0)} MB`],
      [
        `resident memory, after ${count(flood)} spans (kept: ${count(version.traces)} traces, ${
          count(version.spans)
        } spans)`,
        `${result.rssFloodMb.toFixed(0)} MB (peak)`
      ],
      ["browser: a 2,000-span trace, rendered", `${ms(render?.trace)}; target ≤ 200 ms`],
      ["browser: the list, 10,000 traces stored", `${ms(render?.list)}; target ≤ 200 ms`],
      ["browser: the list sorted by duration", ms(render?.listByDuration)]
    ]))
    writeResult(argv.string("out", ""), result)
  } finally {
    viewer.child.kill("SIGTERM")
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
