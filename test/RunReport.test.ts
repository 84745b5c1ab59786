/**
 * The run's report at exit (`Tracing.layer({ report })`): written once the layer is released, after
 * the spans, the last metrics collection and the last log records went out, with all three in
 * it — whether the collector took them, refused the logs (404, as Jaeger does) or was down — and
 * bounded, saying what it left out.
 */
import { assert, describe, it } from "@effect/vitest"
import { context, trace } from "@opentelemetry/api"
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ChatModel, Pipeline, Simulated, Tracing } from "../src/index.ts"
import { metricsCodec } from "../src/internal/otlpMetrics.ts"
import type { ReportData } from "../src/internal/viewer/client.ts"
import { RunReport } from "../src/internal/viewer/runReport.ts"
import { Receiver, Respond } from "./support/receiver.ts"
import { recordMetrics, resource } from "./viewer/recorded.ts"

/** The data a report embeds. */
const reportDataOf = (html: string): ReportData =>
  JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as ReportData

const question = "Which platform does the 08:00 to Porto leave from?"

/**
 * An agent run of three model calls and a log line in a step, traced by a layer that writes
 * `file`; `before` runs first, in the run.
 */
const agentRun = (file: string, options: Partial<Tracing.Options>, before: Effect.Effect<void> = Effect.void) =>
  Effect.runPromise(
    Effect.gen(function*() {
      yield* before
      const model = yield* ChatModel.ChatModel
      for (let turn = 0; turn < 3; turn++) {
        yield* model.chat({ messages: [{ role: "user", parts: [{ type: "text", content: question }] }] })
      }
      yield* Effect.logWarning("the timetable is a day old").pipe(Pipeline.step("check-timetable"))
    }).pipe(
      Pipeline.run("agent-workflow"),
      Effect.provide(Simulated.layer({ latency: 0 })),
      Effect.provide(
        Tracing.layer({
          serviceName: "report-run",
          report: file,
          registerGlobal: false,
          captureContent: "EVENT_ONLY",
          shutdownTimeout: "2 seconds",
          onWarning: () => {},
          ...options
        }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
      )
    )
  )

const withDir = async (use: (dir: string) => Promise<void>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-report-"))
  try {
    await use(dir)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The report holds the run: its trace, the model calls' histograms and the log records in that trace. */
const assertRun = (data: ReportData) => {
  assert.deepStrictEqual(data.rows.map((r) => [r.name, r.service, r.spans]), [["agent-workflow", "report-run", 5]])
  const traceId = data.rows[0]!.traceId
  const names = data.spans[traceId]!.map((s) => s.name)
  assert.includeMembers(names, ["agent-workflow", "check-timetable", "chat sim-gpt-4o"])

  const duration = data.histograms.find((h) => h.metric === "gen_ai.client.operation.duration")
  assert.isDefined(duration, "the duration histogram of the model calls")
  assert.deepStrictEqual([duration!.operation, duration!.model, duration!.count], ["chat", "sim-gpt-4o-2024-08-06", 3])
  const tokens = data.histograms.filter((h) => h.metric === "gen_ai.client.token.usage")
  assert.deepStrictEqual(tokens.map((h) => [h.tokenType, h.count]).toSorted(), [["input", 3], ["output", 3]])

  const line = data.logs.find((l) => l.body === "the timetable is a day old")
  assert.isDefined(line, "the Effect.log line")
  const step = data.spans[traceId]!.find((s) => s.name === "check-timetable")!
  assert.deepStrictEqual([line!.traceId, line!.spanId, line!.severity, line!.inTrace], [
    traceId,
    step.spanId,
    "WARN",
    true
  ])
  const details = data.logs.filter((l) => l.eventName === "gen_ai.client.inference.operation.details")
  assert.strictEqual(details.length, 3, "one content event per model call")
  assert.isTrue(details.every((l) => l.traceId === traceId && l.inTrace))
  assert.include(JSON.stringify(details[0]!.messages?.input), question)
}

describe("Tracing.layer({ report })", () => {
  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`holds the spans, metrics and log records the collector received (${protocol})`, () =>
      withDir(async (dir) => {
        const receiver = await Receiver.start()
        const file = path.join(dir, "nested", "run.html")
        try {
          await agentRun(file, { endpoint: receiver.url, protocol })
        } finally {
          await receiver.close()
        }
        const html = fs.readFileSync(file, "utf8")
        assert.match(html, /^<!doctype html>/i)
        // Self-contained: no script or stylesheet from elsewhere.
        assert.notMatch(html, /<script[^>]+src=|<link[^>]+href="http/)
        const data = reportDataOf(html)
        assertRun(data)
        // What the collector got, the report has.
        assert.strictEqual(receiver.spans().length, data.spans[data.rows[0]!.traceId]!.length)
        assert.strictEqual(receiver.logs().length, data.logs.length)
      }))
  }

  it("keeps the log records of an endpoint that takes no logs (404, as Jaeger answers), also those after the refusal", () =>
    withDir(async (dir) => {
      const receiver = await Receiver.start({ respondLogs: () => Respond.status(404) })
      const file = path.join(dir, "run.html")
      // The first line's batch goes out and is refused before the run logs the rest.
      const refusal = Effect.log("before the refusal").pipe(
        Effect.andThen(Effect.promise(async () => {
          while (receiver.logRequests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
        })),
        Effect.andThen(Effect.sleep("50 millis"))
      )
      try {
        await agentRun(file, { endpoint: receiver.url, logs: { batch: { scheduleDelayMillis: 10 } } }, refusal)
      } finally {
        await receiver.close()
      }
      assert.strictEqual(receiver.logRequests.length, 1, "offered once, refused, and not sent again")
      assert.deepStrictEqual(receiver.logs().map((l) => l.body?.value), ["before the refusal"])
      const data = reportDataOf(fs.readFileSync(file, "utf8"))
      assertRun(data)
      assert.isDefined(data.logs.find((l) => l.body === "before the refusal"))
    }))

  it("is written with all three signals when the collector is down", () =>
    withDir(async (dir) => {
      const file = path.join(dir, "run.html")
      await agentRun(file, { endpoint: "http://127.0.0.1:9", shutdownTimeout: "200 millis" })
      assert.isTrue(fs.existsSync(file))
      assertRun(reportDataOf(fs.readFileSync(file, "utf8")))
    }))

  it("is not written when the SDK is disabled", () =>
    withDir(async (dir) => {
      const file = path.join(dir, "run.html")
      await agentRun(file, { endpoint: "http://127.0.0.1:9", disabled: true })
      assert.isFalse(fs.existsSync(file))
    }))
})

/** A sealed batch of `items` log records (empty bodies: what is counted here is the records). */
const batch = (items: number) => ({ body: new Uint8Array(0), items })

describe("RunReport", () => {
  it("keeps each signal up to its limit and says what it left out", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beluga-report-"))
    const file = path.join(dir, "run.html")
    const warnings: Array<string> = []
    const collections = [await recordMetrics(), await recordMetrics()]
    const collectionBytes = metricsCodec.serialize(collections[0]!, "http/protobuf")!.byteLength
    const report = new RunReport(file, (m) => warnings.push(m), {
      spans: 3,
      logRecords: 3,
      logBytes: 1024,
      metricBytes: Math.round(collectionBytes * 1.5)
    })
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(report.spans)] })
    const tracer = provider.getTracer("report-test")
    const root = tracer.startSpan("agent-run")
    for (const name of ["step one", "step two", "step three"]) {
      tracer.startSpan(name, {}, trace.setSpan(context.active(), root)).end()
    }
    root.end()
    await provider.shutdown()
    // A batch of two records is kept; the next one would pass the limit, and so is every one after it.
    report.addLogs(batch(2), "http/protobuf")
    report.addLogs(batch(2), "http/protobuf")
    report.addLogs(batch(1), "http/protobuf")
    // Two collections of the same histogram (different providers: two series); only the latest fits.
    for (const collection of collections) report.addMetrics(collection)
    assert.isFalse(fs.existsSync(file), "written at release, not at the spans' shutdown")
    await report.write()
    await report.write()
    const data = reportDataOf(fs.readFileSync(file, "utf8"))
    assert.deepStrictEqual(data.rows.map((r) => [r.name, r.spans]), [["step one", 3]])
    assert.deepStrictEqual(data.histograms.map((h) => [h.metric, h.count]), [["gen_ai.client.operation.duration", 5]])
    assert.lengthOf(warnings, 1)
    assert.strictEqual(
      warnings[0]!.replace(/up to \d+ KB/, "up to … KB"),
      `beluga-o11y: the report ${file} keeps the first 3 spans (1 more were left out); ` +
        `the first 2 log records (3 more were left out); ` +
        `the latest metrics collections, up to … KB (1 earlier ones were left out)`
    )
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
