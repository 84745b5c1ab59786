/**
 * The viewer's receiving end without a browser: OTLP protobuf and JSON decoded to the same spans
 * and histograms (encoded by OpenTelemetry's own serializers), the answers to bad input (400 with
 * a reason, 413, 415, 404) with the receiver serving on, gzip, retention by count and by bytes,
 * the UI's Host check, a clear error for a port in use, and the report built from captured JSON.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { context, trace, ValueType } from "@opentelemetry/api"
import {
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer
} from "@opentelemetry/otlp-transformer"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics"
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import * as zlib from "node:zlib"
import { Pipeline, Tracing } from "../src/index.ts"
import {
  decodeMetricsJson,
  decodeMetricsProtobuf,
  decodeTracesJson,
  decodeTracesProtobuf,
  OtlpError
} from "../src/internal/viewer/otlpDecode.ts"
import { ProtobufError } from "../src/internal/viewer/protobufReader.ts"
import { readCapturedJson, renderReport } from "../src/internal/viewer/report.ts"
import { ReportExporter } from "../src/internal/viewer/reportExporter.ts"
import { PortInUseError, startServers } from "../src/internal/viewer/server.ts"
import { Store } from "../src/internal/viewer/store.ts"
import { cleanEnv, root as projectRoot } from "./support/processes.ts"
import { otlpJson, postJson, spanIdOf, startViewer, traceIdOf, type Viewer } from "./viewer/support.ts"

const resource = resourceFromAttributes({ "service.name": "decode-test" })

const recordSpans = () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const tracer = provider.getTracer("decode-test")
  const root = tracer.startSpan("invoke_agent planner")
  {
    const child = tracer.startSpan("chat gpt-4o", {
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.cache_read.input_tokens": 20,
        "gen_ai.request.temperature": 0.25,
        "gen_ai.response.finish_reasons": ["stop", "length"],
        "gen_ai.request.stream": true,
        "big.int": 2 ** 40
      }
    }, trace.setSpan(context.active(), root))
    child.addEvent("first chunk", { "chunk.size": 7 })
    child.setStatus({ code: 2, message: "boom ✗" })
    child.end()
    root.end()
  }
  return exporter.getFinishedSpans()
}

class Collect extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override onForceFlush() {
    return Promise.resolve()
  }
  protected override onShutdown() {
    return Promise.resolve()
  }
}

const recordMetrics = async () => {
  const reader = new Collect()
  const provider = new MeterProvider({ resource, readers: [reader] })
  const histogram = provider.getMeter("decode-test").createHistogram("gen_ai.client.operation.duration", {
    unit: "s",
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: [0.1, 0.2, 0.4] }
  })
  for (const v of [0.05, 0.15, 0.15, 0.3, 0.9]) {
    histogram.record(v, { "gen_ai.operation.name": "chat", "gen_ai.request.model": "m" })
  }
  const { resourceMetrics } = await reader.collect()
  return resourceMetrics
}

describe("OTLP decoding", () => {
  it("reads protobuf and JSON from OpenTelemetry's serializers into the same spans", () => {
    const spans = recordSpans()
    const fromProtobuf = decodeTracesProtobuf(ProtobufTraceSerializer.serializeRequest(spans)!)
    const fromJson = decodeTracesJson(JsonTraceSerializer.serializeRequest(spans)!)
    assert.deepStrictEqual(fromProtobuf, fromJson)
    const chat = fromProtobuf.find((s) => s.name === "chat gpt-4o")!
    const root = fromProtobuf.find((s) => s.name === "invoke_agent planner")!
    assert.strictEqual(chat.parentSpanId, root.spanId)
    assert.strictEqual(root.parentSpanId, "")
    assert.strictEqual(chat.traceId, spans[0]!.spanContext().traceId)
    assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 120)
    assert.strictEqual(chat.attributes["gen_ai.request.temperature"], 0.25)
    assert.strictEqual(chat.attributes["big.int"], 2 ** 40)
    assert.deepStrictEqual(chat.attributes["gen_ai.response.finish_reasons"], ["stop", "length"])
    assert.deepStrictEqual(chat.events.map((e) => [e.name, e.attributes]), [["first chunk", { "chunk.size": 7 }]])
    assert.deepStrictEqual([chat.statusCode, chat.statusMessage], [2, "boom ✗"])
    assert.strictEqual(chat.resource["service.name"], "decode-test")
    assert.strictEqual(chat.scope, "decode-test")
  })

  it("reads histograms from protobuf and JSON alike", async () => {
    const metrics = await recordMetrics()
    const fromProtobuf = decodeMetricsProtobuf(ProtobufMetricsSerializer.serializeRequest(metrics)!)
    const fromJson = decodeMetricsJson(JsonMetricsSerializer.serializeRequest(metrics)!)
    assert.deepStrictEqual(fromProtobuf, fromJson)
    assert.strictEqual(fromProtobuf.length, 1)
    const point = fromProtobuf[0]!
    assert.deepStrictEqual([point.metric, point.unit, point.temporality], ["gen_ai.client.operation.duration", "s", 2])
    assert.deepStrictEqual(point.bounds, [0.1, 0.2, 0.4])
    assert.deepStrictEqual(point.counts, [1, 2, 1, 1])
    assert.deepStrictEqual([point.count, point.min, point.max], [5, 0.05, 0.9])
    const store = new Store({ file: ":memory:", maxTraces: 10, maxBytes: 1e6 })
    store.addHistograms(fromProtobuf)
    const [series] = store.histograms()
    // The median is the 2.5th of 5 measurements: inside the (0.1, 0.2] bucket, which holds two.
    assert.closeTo(series!.p50!, 0.1 + 0.1 * (1.5 / 2), 1e-9)
    assert.strictEqual(series!.p95, 0.4)
    store.close()
  })

  it("rejects what is not OTLP, with a reason", () => {
    assert.throws(() => decodeTracesProtobuf(Uint8Array.from([0x0a, 0x05, 0x01])), ProtobufError, /past the end/)
    assert.throws(() => decodeTracesProtobuf(Uint8Array.from([0x0b])), ProtobufError, /wire type 3/)
    assert.throws(() => decodeTracesJson("{"), OtlpError, /not JSON/)
    assert.throws(() => decodeTracesJson({ resourceSpans: {} }), OtlpError, /resourceSpans is not an array/)
    assert.throws(
      () => decodeTracesJson(otlpJson("s", [{ traceId: "xyz", spanId: spanIdOf(1), name: "a", startMs: 0, endMs: 1 }])),
      OtlpError,
      /traceId is not 32 hex/
    )
  })
})

const one = (n: number) =>
  otlpJson("svc", [{
    traceId: traceIdOf(n),
    spanId: spanIdOf(n),
    name: `op ${n}`,
    startMs: 1_000 + n,
    endMs: 1_010 + n
  }])

describe("the receiver", () => {
  let viewer: Viewer
  beforeAll(async () => {
    viewer = await startViewer({ maxBodyBytes: 64 * 1024 })
  })
  afterAll(() => viewer.close())
  const traces = () => `${viewer.servers.otlpUrl}/v1/traces`

  it("answers malformed bodies 400 with the reason and keeps serving", async () => {
    const bad = await fetch(traces(), {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: Uint8Array.from([0x0a, 0x7f, 0x00])
    })
    assert.strictEqual(bad.status, 400)
    assert.match(Buffer.from(await bad.arrayBuffer()).toString("utf8"), /malformed OTLP: value runs past the end/)
    const badJson = await fetch(traces(), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[1,"
    })
    assert.strictEqual(badJson.status, 400)
    assert.match((await badJson.json() as { message: string }).message, /not JSON/)
    const good = await postJson(traces(), one(1))
    assert.strictEqual(good.status, 200)
    assert.deepStrictEqual(viewer.store.traceRow(traceIdOf(1))?.name, "op 1")
  })

  it("answers 413 over the size limit, compressed or after decompression, and accepts gzip", async () => {
    const big = JSON.stringify(one(2)).padEnd(70 * 1024, " ")
    const tooBig = await fetch(traces(), { method: "POST", headers: { "content-type": "application/json" }, body: big })
    assert.strictEqual(tooBig.status, 413)
    const bomb = await fetch(traces(), {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: zlib.gzipSync(Buffer.from(big))
    })
    assert.strictEqual(bomb.status, 413)
    const gzipped = await fetch(traces(), {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: zlib.gzipSync(JSON.stringify(one(3)))
    })
    assert.strictEqual(gzipped.status, 200)
    assert.strictEqual(viewer.store.traceRow(traceIdOf(3))?.name, "op 3")
  })

  it("answers other content types 415, other paths 404, other methods 405; takes logs without storing them", async () => {
    const text = await fetch(traces(), { method: "POST", headers: { "content-type": "text/plain" }, body: "x" })
    assert.strictEqual(text.status, 415)
    assert.strictEqual((await postJson(`${viewer.servers.otlpUrl}/v2/traces`, {})).status, 404)
    assert.strictEqual((await fetch(traces())).status, 405)
    assert.strictEqual((await postJson(`${viewer.servers.otlpUrl}/v1/logs`, { resourceLogs: [] })).status, 200)
  })

  it("serves the UI only to its own host names, read-only", async () => {
    const port = Number(new URL(viewer.servers.uiUrl).port)
    const get = (host: string, method = "GET") =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: "/api/traces", method, headers: { host } }, (res) => {
          res.resume()
          resolve(res.statusCode!)
        })
        req.on("error", reject)
        req.end()
      })
    assert.strictEqual(await get(`127.0.0.1:${port}`), 200)
    assert.strictEqual(await get(`localhost:${port}`), 200)
    assert.strictEqual(await get(`attacker.example:${port}`), 403)
    assert.strictEqual(await get(`127.0.0.1:${port}`, "POST"), 405)
    const page = await fetch(viewer.servers.uiUrl)
    assert.match(page.headers.get("content-security-policy")!, /script-src 'sha256-[^']+'; style-src 'sha256-/)
  })

  it("says which port is taken and how to choose another", async () => {
    const port = Number(new URL(viewer.servers.otlpUrl).port)
    const store = new Store({ file: ":memory:", maxTraces: 10, maxBytes: 1e6 })
    const error = await startServers(store, { host: "127.0.0.1", otlpPort: port, uiPort: 0, maxBodyBytes: 1024 })
      .then(() => undefined, (e: unknown) => e)
    store.close()
    assert.instanceOf(error, PortInUseError)
    assert.strictEqual(
      (error as Error).message,
      `the OTLP port 127.0.0.1:${port} is already in use (another collector or viewer?); choose another with --otlp-port`
    )
  })

  it("binds 127.0.0.1 only", () => {
    assert.strictEqual(new URL(viewer.servers.otlpUrl).hostname, "127.0.0.1")
    assert.strictEqual(new URL(viewer.servers.uiUrl).hostname, "127.0.0.1")
  })
})

describe("retention", () => {
  it("keeps the newest traces within the count", () => {
    const store = new Store({ file: ":memory:", maxTraces: 100, maxBytes: 1e9 })
    for (let batch = 0; batch < 30; batch++) {
      store.addSpans(decodeTracesJson(otlpJson(
        "svc",
        Array.from({ length: 10 }, (_, i) => {
          const n = batch * 10 + i + 1
          return { traceId: traceIdOf(n), spanId: spanIdOf(n), name: `t${n}`, startMs: n, endMs: n + 1 }
        })
      )))
    }
    const stats = store.stats()
    assert.isAtMost(stats.traces, 100)
    assert.isAtLeast(stats.traces, 90)
    assert.strictEqual(stats.spans, stats.traces)
    assert.isDefined(store.traceRow(traceIdOf(300)))
    assert.isUndefined(store.traceRow(traceIdOf(1)))
    store.close()
  })

  it("stores a batch sent twice once", () => {
    const store = new Store({ file: ":memory:", maxTraces: 10, maxBytes: 1e6 })
    const request = otlpJson("svc", [
      { traceId: traceIdOf(1), spanId: spanIdOf(1), name: "root", startMs: 1, endMs: 9 },
      {
        traceId: traceIdOf(1),
        spanId: spanIdOf(2),
        parentSpanId: spanIdOf(1),
        name: "child",
        startMs: 2,
        endMs: 3,
        error: "x"
      }
    ])
    store.addSpans(decodeTracesJson(request))
    store.addSpans(decodeTracesJson(request))
    assert.deepStrictEqual(store.stats().spans, 2)
    assert.deepStrictEqual([store.traceRow(traceIdOf(1))?.spans, store.traceRow(traceIdOf(1))?.errors], [2, 1])
    store.close()
  })

  it("keeps the stored bytes within the limit under a flood", () => {
    const store = new Store({ file: ":memory:", maxTraces: 1e9, maxBytes: 200_000 })
    for (let n = 1; n <= 2_000; n++) {
      store.addSpans(decodeTracesJson(otlpJson("svc", [{
        traceId: traceIdOf(n),
        spanId: spanIdOf(n),
        name: "flood",
        startMs: n,
        endMs: n + 1,
        attributes: { payload: "x".repeat(500) }
      }])))
      assert.isAtMost(store.stats().bytes, 200_000)
    }
    assert.isDefined(store.traceRow(traceIdOf(2_000)))
    store.close()
  })
})

describe("the report", () => {
  const request = otlpJson("svc", [
    {
      traceId: traceIdOf(7),
      spanId: spanIdOf(1),
      name: "root</script><script>window.x=1</script>",
      startMs: 10,
      endMs: 20
    },
    { traceId: traceIdOf(7), spanId: spanIdOf(2), parentSpanId: spanIdOf(1), name: "child", startMs: 11, endMs: 12 }
  ])

  it("reads one request, an array of them, or one per line", () => {
    const line = JSON.stringify(request)
    assert.strictEqual(readCapturedJson(line).spans.length, 2)
    assert.strictEqual(readCapturedJson(JSON.stringify([request, request])).spans.length, 4)
    assert.strictEqual(readCapturedJson(`${line}\n\n${line}\n`).spans.length, 4)
    assert.throws(() => readCapturedJson(`${line}\n{oops`), OtlpError, /line 2 is not JSON/)
  })

  it("embeds the data so that no text in it can close its script element", () => {
    const html = renderReport(readCapturedJson(JSON.stringify(request)).spans)
    assert.strictEqual(html.match(/<script/g)?.length, 2)
    assert.strictEqual(html.match(/<\/script>/g)?.length, 2)
    assert.include(html, "root\\u003c/script>\\u003cscript>")
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/)
    assert.notInclude(html, "http://")
    assert.notInclude(html, "https://")
  })

  it("is written when the tracer provider shuts down, from the spans the run recorded", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "viewer-report-")), "nested", "run.html")
    const warnings: Array<string> = []
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(new ReportExporter(file, (m) => warnings.push(m), 3))]
    })
    const tracer = provider.getTracer("report-test")
    const root = tracer.startSpan("agent-run")
    for (const name of ["step one", "step two", "step three"]) {
      tracer.startSpan(name, {}, trace.setSpan(context.active(), root)).end()
    }
    root.end()
    await provider.shutdown()
    const html = fs.readFileSync(file, "utf8")
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as {
      rows: Array<{ name: string; spans: number }>
    }
    assert.deepStrictEqual(data.rows.map((r) => [r.name, r.spans]), [["step one", 3]])
    assert.deepStrictEqual(warnings, [`beluga-o11y: the report ${file} keeps the first 3 spans; 1 more were left out`])
  })
})

/** `beluga-o11y <args>` from source, on the project's Node, as one process (so signals reach it). */
const command = (...args: Array<string>) => {
  const child = spawn(
    path.join(projectRoot, "node_modules", ".bin", "node"),
    ["--import", "tsx", path.join(projectRoot, "src", "bin.ts"), ...args],
    { cwd: projectRoot, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] }
  )
  let stderr = ""
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  return { child, exited, stderr: () => stderr }
}

describe("the command", () => {
  it("runs the viewer until interrupted, receiving and serving on the ports it prints", async () => {
    const viewer = command("view", "--memory", "--otlp-port", "0", "--ui-port", "0")
    const urls: Record<string, string> = {}
    await new Promise<void>((resolve) =>
      readline.createInterface({ input: viewer.child.stdout }).on("line", (line) => {
        const match = /^\s+(OTLP\/HTTP|UI)\s+(\S+)/.exec(line)
        if (match !== null) urls[match[1]!] = match[2]!
        if (urls["OTLP/HTTP"] !== undefined && urls["UI"] !== undefined) resolve()
      })
    )
    assert.match(urls["OTLP/HTTP"]!, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.strictEqual((await postJson(`${urls["OTLP/HTTP"]}/v1/traces`, one(42))).status, 200)
    const list = await (await fetch(`${urls["UI"]}/api/traces`)).json() as { rows: Array<{ name: string }> }
    assert.deepStrictEqual(list.rows.map((r) => r.name), ["op 42"])
    viewer.child.kill("SIGTERM")
    assert.strictEqual(await viewer.exited, 0)
  })

  it("says in one line that a port is taken, and exits 1", async () => {
    const taken = http.createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const port = (taken.address() as { port: number }).port
    const viewer = command("view", "--memory", "--ui-port", String(port), "--otlp-port", "0")
    const code = await viewer.exited
    taken.close()
    assert.strictEqual(code, 1)
    assert.strictEqual(
      viewer.stderr(),
      `beluga-o11y view: the UI port 127.0.0.1:${port} is already in use (another collector or viewer?); choose another with --ui-port\n`
    )
  })
})

describe("Tracing.layer({ report })", () => {
  it("writes the run's self-contained report when the layer is released, beside the export", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-report-"))
    const file = path.join(dir, "nested", "run.html")
    try {
      await Effect.runPromise(
        Effect.void.pipe(Pipeline.step("parse-document"), Pipeline.run("agent-workflow")).pipe(
          Effect.provide(
            Tracing.layer({
              serviceName: "report-run",
              endpoint: "http://127.0.0.1:9",
              report: file,
              metrics: false,
              registerGlobal: false,
              onWarning: () => {}
            }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
          )
        )
      )
      const html = fs.readFileSync(file, "utf8")
      assert.match(html, /^<!doctype html>/i)
      assert.include(html, "agent-workflow")
      assert.include(html, "parse-document")
      assert.include(html, "report-run")
      // Self-contained: no script or stylesheet from elsewhere.
      assert.notMatch(html, /<script[^>]+src=|<link[^>]+href="http/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
