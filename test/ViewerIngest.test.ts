/**
 * The viewer's receiving end without a browser: OTLP protobuf and JSON decoded to the same spans,
 * histograms and log records (encoded by OpenTelemetry's own serializers and the library's), the
 * answers to bad input (400 with a reason, 413, 415, 404) with the receiver serving on, gzip,
 * retention by count and by bytes with log records counted and bounded, the UI's Host check, a
 * clear error for a port in use, and the report built from captured JSON or protobuf requests.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { ROOT_CONTEXT, trace } from "@opentelemetry/api"
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer
} from "@opentelemetry/otlp-transformer"
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import * as zlib from "node:zlib"
import type { ReportData } from "../src/internal/viewer/client.ts"
import {
  decodeMetricsJson,
  decodeMetricsProtobuf,
  decodeTracesJson,
  decodeTracesProtobuf,
  maxValueDepth,
  OtlpError
} from "../src/internal/viewer/otlpDecode.ts"
import { decodeLogsJson, decodeLogsProtobuf } from "../src/internal/viewer/otlpDecodeLogs.ts"
import { ProtobufError } from "../src/internal/viewer/protobufReader.ts"
import { readCapturedJson, renderReport, renderReportFromRequests } from "../src/internal/viewer/report.ts"
import { PortInUseError, startServers } from "../src/internal/viewer/server.ts"
import { Store } from "../src/internal/viewer/store.ts"
import { cleanEnv, root as projectRoot } from "./support/processes.ts"
import {
  field,
  jsonLogs,
  libraryLogs,
  libraryRequest,
  logSpan,
  logsRequest,
  logTrace,
  looseLogs,
  nestedJson,
  nestedProtobuf
} from "./viewer/logs.ts"
import { recordMetrics, recordSpans, resource } from "./viewer/recorded.ts"
import { otlpJson, postJson, spanIdOf, startViewer, traceIdOf, type Viewer } from "./viewer/support.ts"

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

describe("OTLP log decoding", () => {
  it("reads the library's records, protobuf and JSON alike, their bodies and attributes structured", () => {
    const fromProtobuf = decodeLogsProtobuf(libraryRequest(libraryLogs()))
    assert.deepStrictEqual(fromProtobuf, decodeLogsJson(libraryRequest(libraryLogs(), "http/json")))
    const [line, details, loose] = fromProtobuf
    assert.deepStrictEqual([line!.traceId, line!.spanId, line!.timeNs], [logTrace, logSpan, 1700000000001000000n])
    assert.deepStrictEqual([line!.severityNumber, line!.severityText, line!.eventName], [13, "WARN", ""])
    assert.deepStrictEqual(line!.body, ["cache miss", {
      city: "Porto",
      attempts: 2,
      tags: ["a", "b"],
      big: "1152921504606846976",
      ratio: 0.5,
      none: null,
      raw: "AQID"
    }])
    assert.deepStrictEqual(line!.attributes, { "request.id": "req-42", nested: { deep: { deeper: [1, true] } } })
    assert.deepStrictEqual([line!.resource["service.name"], line!.scope], ["logs-test", "beluga-o11y"])
    assert.strictEqual(details!.eventName, "gen_ai.client.inference.operation.details")
    assert.deepStrictEqual(details!.attributes["gen_ai.input.messages"], [{
      role: "user",
      parts: [{ type: "text", content: "Which platform?" }]
    }])
    assert.strictEqual(details!.body, null)
    assert.deepStrictEqual([loose!.traceId, loose!.spanId, loose!.timeNs, loose!.body], [
      "",
      "",
      1700000000009000000n,
      "of no trace"
    ])
    // A record without a time of its own has the time it was observed.
    const observed = decodeLogsJson(jsonLogs([{ observedTimeUnixNano: "1700000000005000000" }]))
    assert.strictEqual(observed[0]!.timeNs, 1700000000005000000n)
  })

  it("reads OpenTelemetry's own log serializers, protobuf and JSON alike", async () => {
    const exporter = new InMemoryLogRecordExporter()
    const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] })
    const logger = provider.getLogger("otel-logs")
    const correlated = trace.setSpanContext(ROOT_CONTEXT, { traceId: logTrace, spanId: logSpan, traceFlags: 1 })
    logger.emit({
      severityNumber: 17,
      severityText: "ERROR",
      body: { message: "retries exhausted", code: 7 },
      attributes: { "http.status": 503, list: ["x", "y"] },
      eventName: "retry.exhausted",
      context: correlated
    })
    logger.emit({ body: "uncorrelated", timestamp: new Date(1_700_000_000_000) })
    await provider.forceFlush()
    const records = exporter.getFinishedLogRecords()
    const fromProtobuf = decodeLogsProtobuf(ProtobufLogsSerializer.serializeRequest(records)!)
    assert.deepStrictEqual(fromProtobuf, decodeLogsJson(JsonLogsSerializer.serializeRequest(records)!))
    const [error, plain] = fromProtobuf
    assert.deepStrictEqual([error!.traceId, error!.spanId, error!.severityNumber], [logTrace, logSpan, 17])
    assert.deepStrictEqual(error!.body, { message: "retries exhausted", code: 7 })
    assert.deepStrictEqual(error!.attributes, { "http.status": 503, list: ["x", "y"] })
    assert.deepStrictEqual([error!.eventName, error!.resource["service.name"], error!.scope], [
      "retry.exhausted",
      "decode-test",
      "otel-logs"
    ])
    assert.deepStrictEqual([plain!.traceId, plain!.timeNs, plain!.body], ["", 1700000000000000000n, "uncorrelated"])
    await provider.shutdown()
  })

  it("rejects malformed records with a reason: ids, wire types, nesting past the bound", () => {
    assert.throws(
      () => decodeLogsProtobuf(logsRequest([0x4a, 0x03, 1, 2, 3])),
      OtlpError,
      /LogRecord.trace_id is 3 bytes, expected 16/
    )
    assert.throws(
      () => decodeLogsProtobuf(logsRequest(field(0x12, [1]))),
      ProtobufError,
      /LogRecord.severity_number has wire type 2, expected 0/
    )
    assert.throws(() => decodeLogsProtobuf(Uint8Array.from([0x0a, 0x05, 0x12])), ProtobufError, /past the end/)
    assert.throws(() => decodeLogsJson(jsonLogs([{ spanId: "xyz" }])), OtlpError, /logRecord.spanId is not 16 hex/)
    assert.throws(
      () => decodeLogsJson(jsonLogs([{ timeUnixNano: "soon" }])),
      OtlpError,
      /timeUnixNano is not an integer/
    )
    assert.throws(() => decodeLogsJson({ resourceLogs: [{ scopeLogs: {} }] }), OtlpError, /scopeLogs is not an array/)
    // The body sits at depth 1, so maxValueDepth - 1 arrays around a value are the deepest allowed.
    const deepest = maxValueDepth - 1
    assert.strictEqual(decodeLogsProtobuf(logsRequest(field(0x2a, nestedProtobuf(deepest)))).length, 1)
    assert.strictEqual(decodeLogsJson(jsonLogs([{ body: nestedJson(deepest) }])).length, 1)
    assert.throws(
      () => decodeLogsProtobuf(logsRequest(field(0x2a, nestedProtobuf(deepest + 1)))),
      OtlpError,
      /nests deeper than 64 levels/
    )
    assert.throws(() => decodeLogsJson(jsonLogs([{ body: nestedJson(deepest + 1) }])), OtlpError, /deeper than 64/)
    // Far past the bound, no stack is exhausted: the reason is the same.
    assert.throws(() => decodeLogsProtobuf(logsRequest(field(0x2a, nestedProtobuf(1_000)))), OtlpError, /deeper/)
    assert.throws(() => decodeLogsJson(jsonLogs([{ body: nestedJson(100_000) }])), OtlpError, /deeper/)
    // Spans' attributes share the bound.
    const deepSpan = otlpJson("s", [{ traceId: traceIdOf(1), spanId: spanIdOf(1), name: "a", startMs: 0, endMs: 1 }])
    ;(deepSpan.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes as Array<unknown>).push({
      key: "deep",
      value: nestedJson(100)
    })
    assert.throws(() => decodeTracesJson(deepSpan), OtlpError, /span.attributes.value nests deeper than 64 levels/)
  })

  it("keeps an all-zero id as none, and a span id without a trace id as a record of no trace", () => {
    const [zero, orphan] = decodeLogsJson(jsonLogs([
      { traceId: "0".repeat(32), spanId: "0".repeat(16), body: { stringValue: "zeros" } },
      { spanId: logSpan, body: { stringValue: "span only" } }
    ]))
    assert.deepStrictEqual([zero!.traceId, zero!.spanId, orphan!.traceId, orphan!.spanId], ["", "", "", ""])
    const [proto] = decodeLogsJson(jsonLogs([{ attributes: [{ key: "__proto__", value: { stringValue: "data" } }] }]))
    assert.deepStrictEqual(Object.keys(proto!.attributes), ["__proto__"])
    assert.strictEqual(Object.getPrototypeOf(proto!.attributes), Object.prototype)
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

  it("answers other content types 415, other paths 404, other methods 405", async () => {
    const text = await fetch(traces(), { method: "POST", headers: { "content-type": "text/plain" }, body: "x" })
    assert.strictEqual(text.status, 415)
    assert.strictEqual((await postJson(`${viewer.servers.otlpUrl}/v2/traces`, {})).status, 404)
    assert.strictEqual((await fetch(traces())).status, 405)
    assert.strictEqual((await postJson(`${viewer.servers.otlpUrl}/v1/logs`, { resourceLogs: [] })).status, 200)
  })

  it("stores log records sent as protobuf (gzip too) or JSON, answers malformed ones 400 and keeps serving", async () => {
    const logs = `${viewer.servers.otlpUrl}/v1/logs`
    const bad = await fetch(logs, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: logsRequest([0x52, 0x02, 1, 2])
    })
    assert.strictEqual(bad.status, 400)
    assert.match(
      Buffer.from(await bad.arrayBuffer()).toString("utf8"),
      /malformed OTLP: LogRecord.span_id is 2 bytes, expected 8/
    )
    const deep = await postJson(logs, jsonLogs([{ body: nestedJson(200) }]))
    assert.strictEqual(deep.status, 400)
    assert.match((await deep.json() as { message: string }).message, /malformed OTLP: .*nests deeper than 64 levels/)
    const before = viewer.store.stats().logs
    const logged = traceIdOf(0x106)
    const protobuf = await fetch(logs, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", "content-encoding": "gzip" },
      body: zlib.gzipSync(libraryRequest(libraryLogs(logged, spanIdOf(1))))
    })
    assert.strictEqual(protobuf.status, 200)
    const json = await postJson(
      logs,
      jsonLogs([{
        traceId: logged,
        spanId: spanIdOf(2),
        timeUnixNano: "1700000000004000000",
        body: { stringValue: "json" }
      }])
    )
    assert.strictEqual(json.status, 200)
    assert.strictEqual(viewer.store.stats().logs, before + 4)
    // The records came before their trace's spans: they join it when the spans arrive.
    assert.strictEqual(viewer.store.traceLogs(logged).total, 0)
    const spans = otlpJson("svc", [
      { traceId: logged, spanId: spanIdOf(1), name: "logged", startMs: 1_000, endMs: 2_000 },
      { traceId: logged, spanId: spanIdOf(2), parentSpanId: spanIdOf(1), name: "child", startMs: 1_100, endMs: 1_200 }
    ])
    assert.strictEqual((await postJson(traces(), spans)).status, 200)
    const { logs: stored } = viewer.store.traceLogs(logged)
    assert.deepStrictEqual(stored.map((l) => [l.spanId, l.severity, l.body]).slice(1), [
      [spanIdOf(1), "INFO", null],
      [spanIdOf(2), "", "json"]
    ])
    assert.deepStrictEqual(stored[1]!.messages, {
      input: { parsed: [{ role: "user", parts: [{ type: "text", content: "Which platform?" }] }] }
    })
    // The content went to the chat; the other attributes stay.
    assert.deepStrictEqual(stored[1]!.attributes, [["gen_ai.operation.name", "chat"]])
    const api = await (await fetch(`${viewer.servers.uiUrl}/api/traces/${logged}`)).json() as {
      logs: Array<{ spanId: string }>
      logCount: number
    }
    assert.deepStrictEqual([api.logs.length, api.logCount], [3, 3])
    const page = await (await fetch(`${viewer.servers.uiUrl}/api/logs?severity=13`)).json() as {
      rows: Array<{ severity: string }>
    }
    assert.deepStrictEqual(page.rows.map((r) => r.severity), ["WARN"])
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

/** One record of 900 characters in trace 1. */
const chatty = (n: number) =>
  decodeLogsJson(jsonLogs([{ traceId: traceIdOf(1), timeUnixNano: String(n), body: { stringValue: "y".repeat(900) } }]))

describe("retention of log records", () => {
  it("deletes a trace's records with the trace, and keeps records of no trace within their own count", () => {
    const store = new Store({ file: ":memory:", maxTraces: 5, maxBytes: 1e9, maxLooseLogs: 100 })
    store.addSpans(decodeTracesJson(one(1)))
    store.addLogs(decodeLogsProtobuf(libraryRequest(libraryLogs(traceIdOf(1), spanIdOf(1)))))
    assert.strictEqual(store.traceLogs(traceIdOf(1)).total, 2)
    assert.deepStrictEqual([store.stats().logs, store.stats().looseLogs], [3, 1])
    for (let n = 2; n <= 10; n++) store.addSpans(decodeTracesJson(one(n)))
    assert.isUndefined(store.traceRow(traceIdOf(1)))
    assert.strictEqual(store.traceLogs(traceIdOf(1)).total, 0)
    assert.deepStrictEqual([store.stats().logs, store.stats().looseLogs], [1, 1])
    for (let batch = 0; batch < 30; batch++) store.addLogs(looseLogs(batch * 10 + 1, 10))
    const { logs, looseLogs: loose } = store.stats()
    assert.isAtMost(loose, 100)
    assert.isAtLeast(loose, 90)
    assert.strictEqual(logs, loose)
    const newest = store.logList({ limit: 500 }).rows.map((r) => r.body)
    assert.strictEqual(newest[0], "record 300")
    assert.notInclude(newest, "record 1")
    store.close()
  })

  it("counts records in the stored bytes: a flood of records of no trace does not push out the traces", () => {
    const store = new Store({ file: ":memory:", maxTraces: 1e9, maxBytes: 200_000, maxLooseLogs: 1e9 })
    for (let n = 1; n <= 400; n++) {
      store.addSpans(decodeTracesJson(one(n)))
      store.addLogs(looseLogs(n * 10, 10, "x".repeat(500)))
      assert.isAtMost(store.stats().bytes, 200_000)
    }
    // Records of no trace hold about a quarter of the bytes at most: most of the traces stay.
    assert.isAtLeast(store.stats().traces, 100)
    assert.isAbove(store.stats().looseLogs, 0)
    assert.isDefined(store.traceRow(traceIdOf(400)))
    store.close()
  })

  it("counts a trace's records in its bytes, so a trace that logs without end is the one that goes", () => {
    const store = new Store({ file: ":memory:", maxTraces: 1e9, maxBytes: 100_000 })
    store.addSpans(decodeTracesJson(one(1)))
    store.addSpans(decodeTracesJson(one(2)))
    for (let n = 0; n < 200 && store.traceRow(traceIdOf(1)) !== undefined; n++) store.addLogs(chatty(n))
    assert.isUndefined(store.traceRow(traceIdOf(1)))
    assert.isDefined(store.traceRow(traceIdOf(2)))
    assert.deepStrictEqual([store.stats().logs, store.stats().looseLogs], [0, 0])
    assert.isAtMost(store.stats().bytes, 100_000)
    store.close()
  })

  it("stores a batch sent twice once, and keeps its counts true across a reopen of the file", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "viewer-logs-")), "viewer.sqlite")
    const store = new Store({ file, maxTraces: 20, maxBytes: 60_000, maxLooseLogs: 50 })
    const batch = looseLogs(1, 5)
    store.addLogs(batch)
    store.addLogs(batch)
    assert.strictEqual(store.stats().logs, 5)
    for (let n = 1; n <= 60; n++) {
      store.addSpans(decodeTracesJson(one(n)))
      store.addLogs(decodeLogsProtobuf(libraryRequest(libraryLogs(traceIdOf(n), spanIdOf(n)))))
      store.addLogs(looseLogs(1_000 + n * 3, 3, "z".repeat(200)))
    }
    const stats = store.stats()
    store.close()
    const reopened = new Store({ file, maxTraces: 20, maxBytes: 60_000, maxLooseLogs: 50 })
    assert.deepStrictEqual(reopened.stats(), stats)
    reopened.close()
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
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

  it("reads log requests beside trace requests, and shows the records with their traces", () => {
    const logs = JSON.parse(
      new TextDecoder().decode(libraryRequest(libraryLogs(traceIdOf(7), spanIdOf(2)), "http/json"))
    )
    const captured = readCapturedJson(`${JSON.stringify(request)}\n${JSON.stringify(logs)}\n`)
    assert.deepStrictEqual([captured.spans.length, captured.logs.length], [2, 3])
    const data = reportDataOf(renderReport(captured))
    assert.deepStrictEqual(data.logs.map((l) => [l.traceId, l.inTrace]), [
      ["", false],
      [traceIdOf(7), true],
      [traceIdOf(7), true]
    ])
  })

  it("is made from protobuf log requests too", () => {
    const spans = recordSpans()
    const chat = spans.find((s) => s.name === "chat gpt-4o")!.spanContext()
    const html = renderReportFromRequests({
      traces: [ProtobufTraceSerializer.serializeRequest(spans)!],
      logs: [{ body: libraryRequest(libraryLogs(chat.traceId, chat.spanId)), protocol: "http/protobuf" }]
    })
    const data = reportDataOf(html)
    assert.strictEqual(data.logs.length, 3)
    const details = data.logs.find((l) => l.eventName === "gen_ai.client.inference.operation.details")!
    assert.deepStrictEqual([details.traceId, details.spanId, details.inTrace], [chat.traceId, chat.spanId, true])
    assert.isDefined(details.messages?.input)
  })

  it("embeds the data so that no text in it can close its script element", () => {
    const html = renderReport(readCapturedJson(JSON.stringify(request)))
    assert.strictEqual(html.match(/<script/g)?.length, 2)
    assert.strictEqual(html.match(/<\/script>/g)?.length, 2)
    assert.include(html, "root\\u003c/script>\\u003cscript>")
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/)
    assert.notInclude(html, "http://")
    assert.notInclude(html, "https://")
  })
})

/** The data a report embeds. */
const reportDataOf = (html: string): ReportData =>
  JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as ReportData

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
