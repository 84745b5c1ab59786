/**
 * The logs signal on the wire: the real `Tracing.layer` sends `Effect.log*` lines and the library's
 * own records as OTLP log records to a real receiver on 127.0.0.1, which decodes the
 * `ExportLogsServiceRequest` with its own protobuf and JSON readers (`test/support/receiver.ts`).
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import { Tracing } from "../src/index.ts"
import { load } from "../src/internal/config.ts"
import { CurrentLogs } from "../src/internal/logsPipeline.ts"
import { version } from "../src/internal/version.ts"
import {
  type Attributes,
  type AttrValue,
  makeReceiver,
  type ReceivedLogRecord,
  Receiver,
  Respond
} from "./support/receiver.ts"

const quiet = {
  onWarning: (message: string) => assert.fail(message),
  metrics: false,
  batch: { scheduleDelayMillis: 60_000 }
} as const

/**
 * Runs `program` with a fresh layer reading only `env`, and releases it (the last records go out).
 * The program's loggers are Effect's tracer logger and `loggers` (no console output): the layer
 * adds its own to them.
 */
const run = <A, E>(
  program: Effect.Effect<A, E, Tracing.Provides>,
  options: Tracing.Options,
  env: Record<string, string> = {},
  loggers: ReadonlyArray<Logger.Logger<unknown, unknown>> = []
) =>
  program.pipe(
    Effect.provide(Layer.fresh(Tracing.layer({ ...quiet, ...options }))),
    Effect.provide(Logger.layer([Logger.tracerLogger, ...loggers])),
    Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
  )

/** A value as plain JavaScript, for comparison: ints as numbers, kvlists as objects. */
const plain = (value: AttrValue): unknown => {
  switch (value.type) {
    case "int":
      return Number(value.value)
    case "array":
      return value.value.map(plain)
    case "kvlist":
      return plainAttributes(value.value)
    case "bytes":
      return [...value.value]
    case "empty":
      return null
    default:
      return value.value
  }
}
const plainAttributes = (attributes: Attributes) =>
  Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, plain(v)]))

const withBody = (records: ReadonlyArray<ReceivedLogRecord>, body: string): ReceivedLogRecord => {
  const found = records.filter((r) => r.body.type === "string" && r.body.value === body)
  assert.lengthOf(found, 1, `one record ${JSON.stringify(body)}`)
  return found[0]!
}

describe("Effect logs over OTLP/HTTP", () => {
  it.live.each(["http/protobuf", "http/json"] as const)(
    "%s: records of the span they were written in",
    (protocol) =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        yield* run(
          Effect.gen(function*() {
            yield* Effect.log("plain text")
            yield* Effect.logWarning({
              city: "Lisbon",
              trains: 3,
              ratio: 0.5,
              direct: true,
              stops: ["Coimbra", "Aveiro"],
              nested: { deep: { id: 7n } },
              missing: null
            })
            yield* Effect.logError("two", "parts")
            yield* Effect.logDebug("below the minimum level")
            yield* Effect.logFatal("fatal").pipe(
              Effect.annotateLogs({ "tenant.id": "t-1", attempt: 2, ratio: 0.25, retry: true, tags: ["a", 1] })
            )
            yield* Effect.logInfo("in a log span").pipe(Effect.withLogSpan("step"))
            yield* Effect.logError("failed", new Error("boom"))
            yield* Effect.log("in a child span").pipe(Effect.withSpan("child"))
          }).pipe(Effect.withSpan("work")),
          { endpoint: receiver.url, protocol, serviceName: "logs-test" }
        )
        receiver.assertDecoded()
        const all = receiver.logs()
        assert.lengthOf(all, 7, "the debug line is below Effect's default minimum level")
        const [span] = receiver.spans().filter((s) => s.name === "work")
        const [child] = receiver.spans().filter((s) => s.name === "child")
        assert.isDefined(span)
        // A child's record carries its own span id and the trace id it inherited.
        const inChild = all.at(-1)!
        assert.deepStrictEqual([inChild.traceId, inChild.spanId], [span!.traceId, child!.spanId])
        const records = all.slice(0, -1)
        for (const record of records) {
          assert.strictEqual(record.traceId, span!.traceId)
          assert.strictEqual(record.spanId, span!.spanId)
          assert.strictEqual(record.flags, 1, "sampled")
          assert.strictEqual(plain(record.resource["service.name"]!), "logs-test")
          assert.deepStrictEqual(record.scope, { name: "beluga-o11y", version })
          assert.isTrue(record.timeUnixNano > 0n && record.observedTimeUnixNano >= record.timeUnixNano)
          assert.strictEqual(record.attributes["effect.fiber.id"]?.type, "int")
        }
        const text = withBody(records, "plain text")
        assert.deepStrictEqual([text.severityNumber, text.severityText], [9, "INFO"])

        const structured = records.find((r) => r.body.type === "kvlist")!
        assert.deepStrictEqual([structured.severityNumber, structured.severityText], [13, "WARN"])
        assert.deepStrictEqual(plain(structured.body), {
          city: "Lisbon",
          trains: 3,
          ratio: 0.5,
          direct: true,
          stops: ["Coimbra", "Aveiro"],
          nested: { deep: { id: 7 } },
          missing: null
        })
        const kv = structured.body.type === "kvlist" ? structured.body.value : {}
        assert.deepStrictEqual(
          Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, v.type])),
          {
            city: "string",
            trains: "int",
            ratio: "double",
            direct: "bool",
            stops: "array",
            nested: "kvlist",
            missing: "empty"
          }
        )

        const parts = records.find((r) => r.body.type === "array")!
        assert.deepStrictEqual([parts.severityNumber, parts.severityText, plain(parts.body)], [17, "ERROR", [
          "two",
          "parts"
        ]])

        const fatal = withBody(records, "fatal")
        assert.deepStrictEqual([fatal.severityNumber, fatal.severityText], [21, "FATAL"])
        assert.strictEqual(plain(fatal.attributes["tenant.id"]!), "t-1")
        assert.deepStrictEqual(fatal.attributes["attempt"], { type: "int", value: 2n })
        assert.deepStrictEqual(fatal.attributes["ratio"], { type: "double", value: 0.25 })
        assert.deepStrictEqual(fatal.attributes["retry"], { type: "bool", value: true })
        assert.deepStrictEqual(plain(fatal.attributes["tags"]!), ["a", 1])

        const spanned = withBody(records, "in a log span")
        assert.strictEqual(spanned.attributes["effect.log_span.step"]?.type, "int")

        const failed = records.find((r) =>
          r.body.type === "array" && plain(r.body) !== null && (plain(r.body) as Array<unknown>)[0] === "failed"
        )!
        assert.deepStrictEqual(plain(failed.body), ["failed", "Error: boom"])

        // The same lines stay events of the span, as Effect writes them by default.
        assert.includeMembers(span!.events.map((e) => e.name), ["plain text", "fatal"])
      })
  )

  it.live("logs outside any span carry no trace context; Effect's minimum level is respected", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(
        Effect.gen(function*() {
          yield* Effect.logDebug("debug, now shown")
          yield* Effect.logTrace("trace, still below")
        }).pipe(Effect.provideService(References.MinimumLogLevel, "Debug")),
        { endpoint: receiver.url }
      )
      const records = receiver.logs()
      assert.deepStrictEqual(records.map((r) => [plain(r.body), r.severityNumber, r.severityText]), [[
        "debug, now shown",
        5,
        "DEBUG"
      ]])
      assert.isUndefined(records[0]!.traceId)
      assert.isUndefined(records[0]!.spanId)
    }))

  it.live("spanEvents: false keeps the lines off the spans; effectLogs: false keeps them out of the logs", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(Effect.log("only a record").pipe(Effect.withSpan("quiet")), {
        endpoint: receiver.url,
        logs: { spanEvents: false }
      })
      assert.deepStrictEqual(receiver.logs().map((r) => plain(r.body)), ["only a record"])
      assert.deepStrictEqual(receiver.spans()[0]!.events, [])

      const second = yield* makeReceiver()
      yield* run(Effect.log("only an event").pipe(Effect.withSpan("loud")), {
        endpoint: second.url,
        logs: { effectLogs: false }
      })
      assert.lengthOf(second.logRequests, 0)
      assert.deepStrictEqual(second.spans()[0]!.events.map((e) => e.name), ["only an event"])
    }))

  it.live("the program's own loggers keep every line", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const seen: Array<unknown> = []
      yield* run(Effect.log("for both"), { endpoint: receiver.url }, {}, [
        Logger.make(({ message }) => seen.push(message))
      ])
      assert.deepStrictEqual(seen, [["for both"]])
      assert.deepStrictEqual(receiver.logs().map((r) => plain(r.body)), ["for both"])
    }))

  it.live("the library's own records go through CurrentLogs: event name, structured body, the span's ids", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(
        Effect.gen(function*() {
          const logs = yield* CurrentLogs
          const span = yield* Effect.currentSpan
          logs!.emit({
            eventName: "gen_ai.client.inference.operation.details",
            severityNumber: 9,
            body: { messages: [{ role: "user", parts: [{ type: "text", content: "hi" }] }] },
            attributes: { "gen_ai.operation.name": "chat", bytes: new Uint8Array([1, 2]) },
            span
          })
        }).pipe(Effect.withSpan("chat")),
        { endpoint: receiver.url, protocol: "http/json" }
      )
      const [record] = receiver.logs()
      const [span] = receiver.spans()
      assert.strictEqual(record!.eventName, "gen_ai.client.inference.operation.details")
      assert.strictEqual(record!.traceId, span!.traceId)
      assert.strictEqual(record!.spanId, span!.spanId)
      assert.deepStrictEqual(plain(record!.body), {
        messages: [{ role: "user", parts: [{ type: "text", content: "hi" }] }]
      })
      assert.deepStrictEqual(plainAttributes(record!.attributes), { "gen_ai.operation.name": "chat", bytes: [1, 2] })
    }))

  it.live.each(["http/protobuf", "http/json"] as const)(
    "%s: the values a body can hold, edge cases included",
    (protocol) =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        const cyclic: Record<string, unknown> = { name: "loop" }
        cyclic["self"] = cyclic
        const long = "x".repeat(40_000)
        yield* run(
          Effect.gen(function*() {
            const logs = yield* CurrentLogs
            logs!.emit({
              severityNumber: 9,
              body: {
                negative: -5,
                big: 2n ** 63n - 1n,
                huge: 2n ** 70n,
                unsafe: 2 ** 60,
                nan: Number.NaN,
                date: new Date(Date.UTC(2026, 11, 2)),
                map: new Map([["k", 1]]),
                set: new Set(["s"]),
                error: new TypeError("bad"),
                nothing: undefined,
                long,
                cyclic
              }
            })
          }),
          { endpoint: receiver.url, protocol }
        )
        receiver.assertDecoded()
        const [record] = receiver.logs()
        const body = record!.body.type === "kvlist" ? record!.body.value : {}
        assert.deepStrictEqual(body["negative"], { type: "int", value: -5n })
        assert.deepStrictEqual(body["big"], { type: "int", value: 2n ** 63n - 1n })
        assert.deepStrictEqual(body["huge"], { type: "string", value: String(2n ** 70n) })
        assert.deepStrictEqual(body["unsafe"], { type: "double", value: 2 ** 60 })
        assert.deepStrictEqual(body["nan"], { type: "string", value: "NaN" })
        assert.deepStrictEqual(body["date"], { type: "string", value: "2026-12-02T00:00:00.000Z" })
        assert.deepStrictEqual(plain(body["map"]!), { k: 1 })
        assert.deepStrictEqual(plain(body["set"]!), ["s"])
        assert.deepStrictEqual(body["error"], { type: "string", value: "TypeError: bad" })
        assert.notProperty(body, "nothing")
        assert.strictEqual(plain(body["long"]!), long)
        // A cycle is followed to a fixed depth, then written as text.
        let level: AttrValue | undefined = body["cyclic"]
        let depth = 0
        while (level?.type === "kvlist") {
          level = level.value["self"]
          depth++
        }
        assert.deepStrictEqual([depth, level], [15, { type: "string", value: "[object Object]" }])
      })
  )

  it.live("OTEL_LOGS_EXPORTER=none: nothing sent, no sink, the lines stay span events", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const sink = yield* run(
        Effect.gen(function*() {
          yield* Effect.log("not exported")
          return yield* CurrentLogs
        }).pipe(Effect.withSpan("s")),
        { endpoint: receiver.url },
        { OTEL_LOGS_EXPORTER: "none" }
      )
      assert.isUndefined(sink)
      assert.lengthOf(receiver.logRequests, 0)
      assert.deepStrictEqual(receiver.spans()[0]!.events.map((e) => e.name), ["not exported"])
      const off = yield* run(
        Effect.gen(function*() {
          return yield* CurrentLogs
        }),
        { endpoint: receiver.url, logs: false }
      )
      assert.isUndefined(off)
      // With the signal off, the span events can still be turned off.
      const third = yield* makeReceiver()
      yield* run(Effect.log("nowhere").pipe(Effect.withSpan("bare")), {
        endpoint: third.url,
        logs: { spanEvents: false }
      }, { OTEL_LOGS_EXPORTER: "none" })
      assert.deepStrictEqual(third.spans()[0]!.events, [])
      assert.lengthOf(third.logRequests, 0)
    }))

  it.live("release sends every record logged, within the shutdown bound", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(
        Effect.forEach(Array.from({ length: 1500 }, (_, i) => i), (i) => Effect.log(`line ${i}`), { discard: true }),
        { endpoint: receiver.url, logs: { batch: { scheduleDelayMillis: 60_000, maxExportBatchSize: 512 } } }
      )
      const bodies = receiver.logs().map((r) => plain(r.body))
      assert.lengthOf(bodies, 1500)
      assert.strictEqual(bodies[1499], "line 1499")
      // Release sends the batches in order, each at most the batch size.
      assert.deepStrictEqual(receiver.logRequests.map((r) => r.logs.length), [512, 512, 476])
    }))

  it.live("a collector stalling on logs: release gives up within the shutdown bound and says what was lost", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver({ respondLogs: () => Respond.stall(30_000) })
      const warnings: Array<string> = []
      const started = Date.now()
      yield* run(Effect.log("held").pipe(Effect.withSpan("s")), {
        endpoint: receiver.url,
        shutdownTimeout: "300 millis",
        onWarning: (message) => warnings.push(message)
      })
      assert.isBelow(Date.now() - started, 3_000)
      assert.lengthOf(receiver.spans(), 1, "the spans went out")
      assert.lengthOf(receiver.logRequests, 1)
      assert.deepStrictEqual(warnings, [
        "beluga-o11y: gave up sending the last log records after 300ms; 1 log record in flight or queued " +
        "were not delivered"
      ])
    }))

  it.live("a full queue drops new records, counts them and says so once", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver({ respondLogs: () => Respond.stall(300) })
      const warnings: Array<string> = []
      const stats = yield* run(
        Effect.gen(function*() {
          for (let i = 0; i < 40; i++) yield* Effect.log(`line ${i}`)
          const delivery = yield* Tracing.Delivery
          yield* delivery.flush(Duration.seconds(5))
          return yield* delivery.logStats
        }),
        {
          endpoint: receiver.url,
          logs: { batch: { maxQueueSize: 4, maxExportBatchSize: 2 } },
          onWarning: (message) => warnings.push(message)
        }
      )
      assert.isAbove(stats.droppedSpans, 0)
      assert.strictEqual(stats.droppedSpans + stats.exportedSpans, 40)
      assert.strictEqual(receiver.logs().length, stats.exportedSpans)
      assert.deepStrictEqual(warnings, [
        `beluga-o11y: the log queue is full, so new log records are being dropped until the exporter to ` +
        `${receiver.url}/v1/logs catches up. Raise OTEL_BLRP_MAX_QUEUE_SIZE or log less; Tracing.Delivery counts ` +
        "the drops."
      ])
    }))

  it.live("a collector that is down: one line for spans and logs together", () =>
    Effect.gen(function*() {
      const closed = yield* Effect.promise(() => Receiver.start())
      const url = closed.url
      yield* Effect.promise(() => closed.close())
      const warnings: Array<string> = []
      const stats = yield* run(
        Effect.gen(function*() {
          yield* Effect.log("lost")
          const delivery = yield* Tracing.Delivery
          yield* delivery.flush(Duration.seconds(5))
          return yield* delivery.logStats
        }).pipe(Effect.withSpan("lost")),
        { endpoint: url, timeout: "300 millis", onWarning: (message) => warnings.push(message) }
      )
      assert.strictEqual(stats.failedSpans, 1)
      assert.lengthOf(warnings, 1, warnings.join("\n"))
      assert.match(warnings[0]!, /^beluga-o11y: could not export 1 (log record|span) to http:\/\/127\.0\.0\.1:\d+\//)
    }))

  it.live("a collector that takes no logs (404): one line, then none sent", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver({ respondLogs: () => Respond.error(404, "Not Found") })
      const warnings: Array<string> = []
      yield* run(
        Effect.gen(function*() {
          yield* Effect.log("first")
          yield* Effect.promise(() => receiver.waitForLogs(1))
          yield* Effect.sleep("100 millis")
          yield* Effect.log("second")
          yield* Effect.log("third")
          yield* Effect.sleep("150 millis")
        }).pipe(Effect.withSpan("s")),
        {
          endpoint: receiver.url,
          logs: { batch: { scheduleDelayMillis: 20 } },
          onWarning: (message) => warnings.push(message)
        }
      )
      assert.lengthOf(receiver.logRequests, 1)
      assert.deepStrictEqual(warnings, [
        `beluga-o11y: ${receiver.url}/v1/logs takes no logs (collector answered HTTP 404: Not Found), so none are ` +
        "sent there from now on. Send them to a backend that does with OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, or turn " +
        "them off with OTEL_LOGS_EXPORTER=none."
      ])
      assert.lengthOf(receiver.spans(), 1, "the spans are unaffected")
    }))

  it.live.each(["http/protobuf", "http/json"] as const)(
    "%s: a partial success is counted as rejected",
    (protocol) =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver({ respondLogs: () => Respond.partialSuccess(1, "too old") })
        const warnings: Array<string> = []
        const stats = yield* run(
          Effect.gen(function*() {
            yield* Effect.log("a")
            yield* Effect.log("b")
            const delivery = yield* Tracing.Delivery
            yield* delivery.flush(Duration.seconds(5))
            return yield* delivery.logStats
          }),
          { endpoint: receiver.url, protocol, onWarning: (message) => warnings.push(message) }
        )
        assert.deepStrictEqual([stats.exportedSpans, stats.rejectedSpans], [1, 1])
        assert.deepStrictEqual(warnings, [
          `beluga-o11y: the collector at ${receiver.url}/v1/logs rejected 1 of 2 log records: too old. ` +
          "Further rejections are counted, not printed."
        ])
      })
  )

  it.live("Tracing.flush sends the records and counts them", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const result = yield* run(
        Effect.gen(function*() {
          yield* Effect.log("one")
          yield* Effect.log("two")
          yield* Effect.log("three").pipe(Effect.withSpan("s"))
          return yield* Tracing.flush({ timeout: "5 seconds" })
        }),
        { endpoint: receiver.url, logs: { batch: { scheduleDelayMillis: 60_000 } } }
      )
      assert.deepStrictEqual(result.logRecords, { delivered: 3, lost: 0, pending: 0 })
      assert.deepStrictEqual(result.spans, { delivered: 1, lost: 0, pending: 0 })
      assert.isTrue(result.complete)
      assert.lengthOf(receiver.logs(), 3)
    }))
})

const loadWith = (env: Record<string, string>, overrides: Parameters<typeof load>[0] = {}) =>
  load(overrides).pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))))

describe("logs configuration", () => {
  it.effect("the bounds in bytes: set alone, a queue's bytes lower the default batch's to fit; logs have their own", () =>
    Effect.gen(function*() {
      const settings = yield* loadWith({}, {
        batch: { maxQueueBytes: 1_000_000 },
        logs: { batch: { maxExportBatchBytes: 65_536 } }
      })
      assert.deepStrictEqual(
        [settings.batch.maxQueueBytes, settings.batch.maxExportBatchBytes],
        [1_000_000, 1_000_000]
      )
      assert.deepStrictEqual(
        [settings.logs.batch.maxQueueBytes, settings.logs.batch.maxExportBatchBytes],
        [64 * 1024 * 1024, 65_536]
      )
      const error = yield* Effect.flip(
        loadWith({}, { logs: { batch: { maxQueueBytes: 10, maxExportBatchBytes: 20 } } })
      )
      assert.strictEqual(error.variable, "logs.batch.maxExportBatchBytes")
      assert.strictEqual(error.value, "20")
    }))

  it.effect("the logs variables, each falling back to the general one", () =>
    Effect.gen(function*() {
      const defaults = yield* loadWith({})
      assert.strictEqual(defaults.logs.url, "http://localhost:4318/v1/logs")
      assert.isTrue(defaults.logs.enabled)
      assert.deepStrictEqual(defaults.logs.batch, {
        scheduleDelayMillis: 1000,
        exportTimeoutMillis: 30_000,
        maxQueueSize: 32_768,
        maxExportBatchSize: 4096,
        maxQueueBytes: 64 * 1024 * 1024,
        maxExportBatchBytes: 4 * 1024 * 1024
      })
      const general = yield* loadWith({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/base",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
        OTEL_EXPORTER_OTLP_TIMEOUT: "1234",
        OTEL_EXPORTER_OTLP_HEADERS: "a=1"
      })
      assert.strictEqual(general.logs.url, "http://collector:4318/base/v1/logs")
      assert.deepStrictEqual(
        [general.logs.protocol, general.logs.compression, general.logs.timeoutMillis],
        ["http/json", "gzip", 1234]
      )
      const own = yield* loadWith({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_HEADERS: "a=1",
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://logs:9428/insert/opentelemetry/v1/logs",
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: "b=2",
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: "gzip",
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: "99",
        OTEL_BLRP_SCHEDULE_DELAY: "10",
        OTEL_BLRP_EXPORT_TIMEOUT: "20",
        OTEL_BLRP_MAX_QUEUE_SIZE: "30",
        OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: "5"
      })
      assert.strictEqual(own.logs.url, "http://logs:9428/insert/opentelemetry/v1/logs")
      assert.strictEqual(own.tracesUrl, "http://collector:4318/v1/traces")
      assert.deepStrictEqual(
        [own.logs.protocol, own.logs.compression, own.logs.timeoutMillis, own.protocol],
        ["http/json", "gzip", 99, "http/protobuf"]
      )
      assert.deepStrictEqual(own.logs.batch, {
        scheduleDelayMillis: 10,
        exportTimeoutMillis: 20,
        maxQueueSize: 30,
        maxExportBatchSize: 5,
        maxQueueBytes: 64 * 1024 * 1024,
        maxExportBatchBytes: 4 * 1024 * 1024
      })
      assert.isFalse((yield* loadWith({ OTEL_LOGS_EXPORTER: "none" })).logs.enabled)
      assert.isFalse((yield* loadWith({ OTEL_SDK_DISABLED: "true" })).logs.enabled)
      assert.isFalse((yield* loadWith({}, { logs: false })).logs.enabled)
      const option = yield* loadWith({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://env/v1/logs" }, {
        logs: { endpoint: "http://option/v1/logs", batch: { maxQueueSize: 8 } }
      })
      assert.strictEqual(option.logs.url, "http://option/v1/logs")
      assert.deepStrictEqual([option.logs.batch.maxQueueSize, option.logs.batch.maxExportBatchSize], [8, 8])
    }))

  it.effect("the content capture modes: the boolean on spans stays true exactly when content goes on spans", () =>
    Effect.gen(function*() {
      const modes = [
        ["true", "SPAN_ONLY", true],
        ["false", "NO_CONTENT", false],
        ["NO_CONTENT", "NO_CONTENT", false],
        ["span_only", "SPAN_ONLY", true],
        ["EVENT_ONLY", "EVENT_ONLY", false],
        ["SPAN_AND_EVENT", "SPAN_AND_EVENT", true]
      ] as const
      for (const [value, mode, onSpans] of modes) {
        const { genai } = yield* loadWith({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: value })
        assert.deepStrictEqual([genai.contentMode, genai.captureContent], [mode, onSpans], value)
      }
      const unset = yield* loadWith({})
      assert.deepStrictEqual([unset.genai.contentMode, unset.genai.captureContent], ["NO_CONTENT", false])
      const option = yield* loadWith({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "true" }, {
        captureContent: "EVENT_ONLY"
      })
      assert.deepStrictEqual([option.genai.contentMode, option.genai.captureContent], ["EVENT_ONLY", false])
      const boolean = yield* loadWith({}, { captureContent: true })
      assert.deepStrictEqual([boolean.genai.contentMode, boolean.genai.captureContent], ["SPAN_ONLY", true])
    }))

  it.effect("a bad value fails start-up with a TracingConfigError naming the variable and the value", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, string>, string, string]> = [
        [{ OTEL_LOGS_EXPORTER: "console" }, "OTEL_LOGS_EXPORTER", "console"],
        [{ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "logs:4318" }, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "logs:4318"],
        [{ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "grpc" }, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"],
        [{ OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: "br" }, "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "br"],
        [{ OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: "-1" }, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "-1"],
        [{ OTEL_EXPORTER_OTLP_LOGS_HEADERS: "no-equals" }, "OTEL_EXPORTER_OTLP_LOGS_HEADERS", "<redacted>"],
        [{ OTEL_BLRP_SCHEDULE_DELAY: "soon" }, "OTEL_BLRP_SCHEDULE_DELAY", "soon"],
        [{ OTEL_BLRP_EXPORT_TIMEOUT: "1.5" }, "OTEL_BLRP_EXPORT_TIMEOUT", "1.5"],
        [{ OTEL_BLRP_MAX_QUEUE_SIZE: "0" }, "OTEL_BLRP_MAX_QUEUE_SIZE", "0"],
        [{ OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: "many" }, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "many"],
        [
          { OTEL_BLRP_MAX_QUEUE_SIZE: "10", OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: "11" },
          "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
          "11"
        ],
        [
          { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "sometimes" },
          "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
          "sometimes"
        ]
      ]
      for (const [env, variable, value] of cases) {
        const exit = yield* Effect.exit(loadWith(env))
        assert.isTrue(Exit.isFailure(exit), variable)
        const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
        const failure = error?._tag === "Fail" ? error.error : undefined
        assert.strictEqual(failure?._tag, "TracingConfigError", variable)
        assert.deepStrictEqual([failure?.variable, failure?.value], [variable, value])
      }
      const option = yield* Effect.exit(loadWith({}, { logs: { batch: { maxQueueSize: 0 } } }))
      assert.isTrue(Exit.isFailure(option))
      const optionError = yield* Effect.flip(loadWith({}, { logs: { endpoint: "nowhere" } }))
      assert.deepStrictEqual([optionError.variable, optionError.value], ["logs.endpoint", "nowhere"])
      const mode = yield* Effect.flip(loadWith({}, { captureContent: "ALWAYS" as never }))
      assert.deepStrictEqual([mode.variable, mode.value], ["captureContent", "ALWAYS"])
    }))
})
