/**
 * End-to-end export: the real `Tracing.layer`, the real OTLP/HTTP transport, and a real receiver
 * on 127.0.0.1 that decodes what arrives with its own protobuf and JSON readers
 * (`test/support/receiver.ts`), never with the serializers that produced it.
 *
 * Every run uses a one-minute batch delay, so the only thing that can deliver spans is the flush
 * in the layer's release: each test therefore also checks that releasing the layer flushes.
 * Each run reads its configuration from an explicit, usually empty, environment so that `OTEL_*`
 * variables on the machine running the tests cannot change what is tested.
 *
 * These tests use `it.live`: they need the real clock (the exporter's timers, `Retry-After`).
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { GenAI, Pipeline, Tracing } from "../src/index.ts"
import {
  type AttrValue,
  makeReceiver,
  type ReceivedRequest,
  type ReceivedSpan,
  type Receiver,
  Respond
} from "./support/receiver.ts"

// -----------------------------------------------------------------------------
// The traced program and how it is run
// -----------------------------------------------------------------------------

class DocumentRejected extends Data.TaggedError("DocumentRejected")<{ readonly reason: string }> {}

/**
 * An agent run: a document step with two children (one with an event), a chat call, and a
 * step that fails. The failure is caught inside the run so the program itself succeeds: the span
 * must still say ERROR.
 */
const agentWorkflow = Effect.gen(function*() {
  yield* Effect.gen(function*() {
    yield* Effect.void.pipe(Pipeline.step("parse-document"))
    yield* Pipeline.event("embedding-complete", { dimensions: 1536 }).pipe(Pipeline.step("embed-document"))
  }).pipe(Pipeline.step("process-document"))
  yield* Effect.succeed("The document is about whales.").pipe(
    GenAI.chat({ provider: "openai", model: "gpt-4o", temperature: 0.2, maxTokens: 100 }, () => ({
      response: { id: "r1", finishReasons: ["stop"] },
      usage: { inputTokens: 12, outputTokens: 7 }
    }))
  )
  yield* Effect.exit(Effect.fail(new DocumentRejected({ reason: "too long" })).pipe(Pipeline.step("validate-document")))
}).pipe(Pipeline.run("agent-workflow"))

const workflowSpanNames = [
  "agent-workflow",
  "process-document",
  "parse-document",
  "embed-document",
  "chat gpt-4o",
  "validate-document"
]

/** A batch delay no test waits for: only the shutdown flush delivers. */
const onlyShutdownFlushes = { scheduleDelayMillis: 60_000 }

/**
 * Runs `agentWorkflow` under `Tracing.layer(options)` and releases the layer before returning,
 * so the shutdown flush has happened. Warnings are captured instead of printed; delivery stats
 * are read after the release, when every export (retries included) has finished.
 */
const runTraced = (options: Tracing.Options, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const tracing = Tracing.layer({ batch: onlyShutdownFlushes, onWarning: (m) => warnings.push(m), ...options }).pipe(
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
    )
    const delivery = yield* Effect.gen(function*() {
      yield* agentWorkflow
      return yield* Tracing.Delivery
    }).pipe(Effect.provide(tracing))
    const stats = yield* delivery.stats
    return { warnings, stats }
  })

// -----------------------------------------------------------------------------
// Reading what the receiver got
// -----------------------------------------------------------------------------

const byName = (spans: ReadonlyArray<ReceivedSpan>, name: string): ReceivedSpan => {
  const found = spans.filter((span) => span.name === name)
  assert.strictEqual(found.length, 1, `exactly one span named ${name}; got ${spans.map((s) => s.name).join(", ")}`)
  return found[0]!
}

/** The only request, decoded without error. */
const onlyRequest = (receiver: Receiver): ReceivedRequest => {
  receiver.assertDecoded()
  assert.strictEqual(receiver.requests.length, 1, "exactly one export request")
  return receiver.requests[0]!
}

const string = (value: string): AttrValue => ({ type: "string", value })
const int = (value: number): AttrValue => ({ type: "int", value: BigInt(value) })
const double = (value: number): AttrValue => ({ type: "double", value })

/** Every string in a span's attributes, events, links and resource, keys included. */
const allText = (span: ReceivedSpan): string => {
  const text = (value: AttrValue): string =>
    value.type === "array"
      ? value.value.map(text).join(" ")
      : value.type === "kvlist"
      ? attributesText(value.value)
      : String(value.value)
  const attributesText = (attributes: Readonly<Record<string, AttrValue>>): string =>
    Object.entries(attributes).map(([key, value]) => `${key}=${text(value)}`).join(" ")
  return [
    span.name,
    span.status.message,
    attributesText(span.attributes),
    attributesText(span.resource),
    ...span.events.map((event) => `${event.name} ${attributesText(event.attributes)}`),
    ...span.links.map((link) => attributesText(link.attributes))
  ].join(" ")
}

const protocols = ["http/protobuf", "http/json"] as const
const contentTypes = { "http/protobuf": "application/x-protobuf", "http/json": "application/json" } as const

// -----------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------

describe("export over OTLP/HTTP", () => {
  it.live.each(protocols)(
    "flushes every span on shutdown, exactly as traced (%s)",
    (protocol) =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        const { warnings, stats } = yield* runTraced({
          serviceName: "beluga-agent",
          serviceVersion: "1.0.0",
          endpoint: receiver.url,
          protocol
        })

        const request = onlyRequest(receiver)
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.path, "/v1/traces")
        assert.strictEqual(request.headers["content-type"], contentTypes[protocol])
        assert.strictEqual(request.protocol, protocol === "http/json" ? "json" : "protobuf")
        assert.isFalse(request.gzip)

        const spans = request.spans
        assert.sameMembers(spans.map((span) => span.name), workflowSpanNames)
        const root = byName(spans, "agent-workflow")
        const process = byName(spans, "process-document")
        const parse = byName(spans, "parse-document")
        const embed = byName(spans, "embed-document")
        const chat = byName(spans, "chat gpt-4o")
        const failed = byName(spans, "validate-document")

        // One trace, and the tree as the program nested it.
        assert.match(root.traceId, /^[0-9a-f]{32}$/)
        for (const span of spans) {
          assert.strictEqual(span.traceId, root.traceId, `${span.name} is in the run's trace`)
          assert.match(span.spanId, /^[0-9a-f]{16}$/)
        }
        assert.strictEqual(new Set(spans.map((span) => span.spanId)).size, spans.length, "span ids are unique")
        assert.isUndefined(root.parentSpanId)
        assert.strictEqual(process.parentSpanId, root.spanId)
        assert.strictEqual(parse.parentSpanId, process.spanId)
        assert.strictEqual(embed.parentSpanId, process.spanId)
        assert.strictEqual(chat.parentSpanId, root.spanId)
        assert.strictEqual(failed.parentSpanId, root.spanId)

        // SpanKind: CLIENT = 3 for the model call, INTERNAL = 1 for everything in-process.
        assert.strictEqual(chat.kind, 3)
        for (const span of [root, process, parse, embed, failed]) assert.strictEqual(span.kind, 1, span.name)

        // Times are nanoseconds since the epoch: a unit mistake (ms, µs) would land decades away.
        const nowNanos = BigInt(Date.now()) * 1_000_000n
        const hourNanos = 3_600n * 1_000_000_000n
        for (const span of spans) {
          assert.isTrue(span.startTimeUnixNano <= span.endTimeUnixNano, `${span.name} ends after it starts`)
          assert.isTrue(nowNanos - span.startTimeUnixNano < hourNanos, `${span.name} started within the hour`)
          assert.isTrue(span.startTimeUnixNano <= nowNanos, `${span.name} did not start in the future`)
        }

        // GenAI attributes arrive with their OTLP types: token counts are ints, temperature a double.
        assert.deepStrictEqual(chat.attributes["gen_ai.operation.name"], string("chat"))
        assert.deepStrictEqual(chat.attributes["gen_ai.provider.name"], string("openai"))
        assert.deepStrictEqual(chat.attributes["gen_ai.request.model"], string("gpt-4o"))
        assert.deepStrictEqual(chat.attributes["gen_ai.request.temperature"], double(0.2))
        assert.deepStrictEqual(chat.attributes["gen_ai.request.max_tokens"], int(100))
        assert.deepStrictEqual(chat.attributes["gen_ai.response.id"], string("r1"))
        assert.deepStrictEqual(chat.attributes["gen_ai.response.finish_reasons"], {
          type: "array",
          value: [string("stop")]
        })
        assert.deepStrictEqual(chat.attributes["gen_ai.usage.input_tokens"], int(12))
        assert.deepStrictEqual(chat.attributes["gen_ai.usage.output_tokens"], int(7))

        // The event, its attribute an int.
        assert.strictEqual(embed.events.length, 1)
        const event = embed.events[0]!
        assert.strictEqual(event.name, "embedding-complete")
        assert.deepStrictEqual(event.attributes["dimensions"], int(1536))
        assert.isTrue(event.timeUnixNano >= embed.startTimeUnixNano && event.timeUnixNano <= embed.endTimeUnixNano)

        // The failed step: ERROR (2) with error.type, although the program went on; its parent did not fail.
        assert.strictEqual(failed.status.code, 2)
        assert.deepStrictEqual(failed.attributes["error.type"], string("DocumentRejected"))
        assert.notStrictEqual(root.status.code, 2)
        assert.isUndefined(root.attributes["error.type"])

        // Resource and scope, on every span.
        for (const span of spans) {
          assert.deepStrictEqual(span.resource["service.name"], string("beluga-agent"))
          assert.deepStrictEqual(span.resource["service.version"], string("1.0.0"))
          assert.deepStrictEqual(span.resource["telemetry.sdk.language"], string("nodejs"))
          assert.strictEqual(span.scope.name, "beluga-o11y")
          assert.deepStrictEqual(span.resource["telemetry.distro.name"], string("beluga-o11y"))
        }

        assert.deepStrictEqual(warnings, [])
        assert.strictEqual(stats.exportedSpans, workflowSpanNames.length)
        assert.strictEqual(stats.failedSpans, 0)
      })
  )

  it.live.each(protocols)("compresses with gzip when asked (%s)", (protocol) =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* runTraced({ endpoint: receiver.url, protocol, compression: "gzip" })

      // `onlyRequest` checks the body decoded, which for a gzip request means it inflated: a plain
      // body sent under `Content-Encoding: gzip` would be a decode error.
      const request = onlyRequest(receiver)
      assert.strictEqual(request.headers["content-encoding"], "gzip")
      assert.isTrue(request.gzip)
      assert.sameMembers(request.spans.map((span) => span.name), workflowSpanNames)
      // Content-Length is the compressed size, as sent.
      assert.strictEqual(request.headers["content-length"], String(request.bytes))
    }))
})

describe("endpoint rules", () => {
  // The general endpoint is a base that `v1/traces` is appended to; the traces endpoint is exact.
  const cases: ReadonlyArray<{
    readonly name: string
    readonly options: (base: string) => Tracing.Options
    readonly env: (base: string) => Record<string, string>
    readonly path: string
  }> = [
    {
      name: "endpoint option, trailing slash",
      options: (base) => ({ endpoint: `${base}/custom/` }),
      env: () => ({}),
      path: "/custom/v1/traces"
    },
    {
      name: "endpoint option, no trailing slash",
      options: (base) => ({ endpoint: `${base}/custom` }),
      env: () => ({}),
      path: "/custom/v1/traces"
    },
    {
      name: "tracesEndpoint option",
      options: (base) => ({ tracesEndpoint: `${base}/exact/path` }),
      env: () => ({}),
      path: "/exact/path"
    },
    {
      name: "OTEL_EXPORTER_OTLP_ENDPOINT",
      options: () => ({}),
      env: (base) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/custom/` }),
      path: "/custom/v1/traces"
    },
    {
      name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
      options: () => ({}),
      env: (base) => ({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${base}/exact/path` }),
      path: "/exact/path"
    },
    {
      name: "TRACES_ENDPOINT beats ENDPOINT",
      options: () => ({}),
      env: (base) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/general`,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${base}/exact/path`
      }),
      path: "/exact/path"
    },
    {
      name: "the option beats both variables",
      options: (base) => ({ endpoint: `${base}/custom/` }),
      env: (base) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/general`,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${base}/exact/path`
      }),
      path: "/custom/v1/traces"
    }
  ]

  it.live.each(cases)("$name → $path", ({ env, options, path }) =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* runTraced(options(receiver.url), env(receiver.url))
      const request = onlyRequest(receiver)
      assert.strictEqual(request.path, path)
      assert.sameMembers(request.spans.map((span) => span.name), workflowSpanNames)
    }))
})

describe("headers", () => {
  const secret = "s3cret"
  const sources: ReadonlyArray<{
    readonly name: string
    readonly options: Tracing.Options
    readonly env: Record<string, string>
  }> = [
    { name: "the headers option", options: { headers: { "api-key": secret } }, env: {} },
    { name: "OTEL_EXPORTER_OTLP_HEADERS", options: {}, env: { OTEL_EXPORTER_OTLP_HEADERS: `api-key=${secret}` } },
    {
      name: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
      options: {},
      env: { OTEL_EXPORTER_OTLP_TRACES_HEADERS: `api-key=${secret}` }
    }
  ]

  it.live.each(sources)(
    "from $name reach the collector and never a warning or a span",
    ({ env, options }) =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        // A refusal, so there is a warning to inspect for the secret.
        receiver.respondWith(Respond.error(401, "unknown api key"))
        const { warnings } = yield* runTraced({ endpoint: receiver.url, ...options }, env)

        const request = onlyRequest(receiver)
        assert.strictEqual(request.headers["api-key"], secret)
        assert.strictEqual(warnings.length, 1)
        assert.include(warnings[0], "unknown api key")
        for (const warning of warnings) assert.notInclude(warning, secret)
        assert.strictEqual(request.spans.length, workflowSpanNames.length)
        for (const span of request.spans) assert.notInclude(allText(span), secret, span.name)
      })
  )
})

describe("collector faults", () => {
  it.live("no collector: the program and the release complete, with one warning naming the URL", () =>
    Effect.gen(function*() {
      // A port that was just listening and is now closed: connections are refused.
      const gone = yield* makeReceiver()
      const url = gone.tracesUrl
      yield* Effect.promise(() => gone.close())

      const { warnings, stats } = yield* runTraced({ endpoint: gone.url })

      // Exactly one line: no stack traces, no retry noise, and no "gave up flushing" line, which
      // would mean release sat out its whole shutdown budget on a collector that is not there.
      assert.strictEqual(warnings.length, 1, warnings.join("\n"))
      const warning = warnings[0]!
      assert.include(warning, "could not export")
      assert.include(warning, url)
      assert.include(warning, "ECONNREFUSED")
      assert.strictEqual(stats.exportedSpans, 0)
      assert.strictEqual(stats.failedSpans, workflowSpanNames.length)
      // Nobody is listening at shutdown: retrying would only delay the exit.
      assert.strictEqual(stats.retries, 0)
    }))

  it.live.each(protocols)(
    "400 is not retried and its message reaches the warning (%s)",
    (protocol) =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        // Longer than 32 bytes: the protobuf Status's length prefix is then a printable byte, which
        // a text excerpt would leak into the message; the body must be decoded, not scraped.
        const message = "span name must not be empty (span agent-workflow in batch 1)"
        receiver.respondWith(Respond.error(400, message))
        const { warnings, stats } = yield* runTraced({ endpoint: receiver.url, protocol })

        onlyRequest(receiver)
        assert.strictEqual(warnings.length, 1, warnings.join("\n"))
        assert.include(warnings[0], `HTTP 400: ${message}.`)
        assert.strictEqual(stats.retries, 0)
        assert.strictEqual(stats.failedSpans, workflowSpanNames.length)
        assert.strictEqual(stats.exportedSpans, 0)
      })
  )

  it.live.each(protocols)(
    "spans carrying content go out in requests of at most maxExportBatchBytes, a span over it at most (%s)",
    (protocol) =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        const question = "Which trains leave Lisbon for Porto after six? ".repeat(200)
        const answer = "The 18:09 Alfa Pendular, the 19:09 Intercidades and the 20:09 Alfa. ".repeat(150)
        const calls = 40
        const chat = Effect.succeed(answer).pipe(
          GenAI.chat(
            {
              provider: "openai",
              model: "gpt-4o",
              messages: [{ role: "user", parts: [{ type: "text", content: question }] }]
            },
            (text) => ({
              response: {
                outputMessages: [{ role: "assistant", parts: [{ type: "text", content: text }], finish_reason: "stop" }]
              }
            })
          )
        )
        const maxExportBatchBytes = 200_000
        const tracing = Tracing.layer({
          endpoint: receiver.url,
          protocol,
          captureContent: true,
          batch: { ...onlyShutdownFlushes, maxExportBatchBytes },
          onWarning: () => {}
        }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
        yield* Effect.provide(Effect.repeat(chat, { times: calls - 1 }), tracing)

        receiver.assertDecoded()
        const spans = receiver.spans()
        assert.strictEqual(spans.length, calls)
        assert.isTrue(spans.every((span) => allText(span).includes("after six?")), "every span kept its content")
        const largest = Math.max(...receiver.requests.map((request) => request.bytes))
        const perSpan = receiver.requests.reduce((sum, request) => sum + request.bytes, 0) / calls
        // About 10 kB a span: with the 4096-span batch alone, all 40 would have gone in one request.
        assert.isAtLeast(receiver.requests.length, Math.floor((calls * perSpan) / (maxExportBatchBytes + perSpan)))
        assert.isAtLeast(receiver.requests.length, 2)
        assert.isAtMost(largest, maxExportBatchBytes + 2 * perSpan, `largest request ${largest} B`)
      })
  )

  it.live("503 with Retry-After is retried and then delivered", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      receiver.respondWith(Respond.error(503, "collector busy", { retryAfter: "1" }), Respond.accept)
      const { warnings, stats } = yield* runTraced({ endpoint: receiver.url })

      receiver.assertDecoded()
      assert.strictEqual(receiver.requests.length, 2)
      const [refused, delivered] = receiver.requests as [ReceivedRequest, ReceivedRequest]
      // The retry resends the same batch: the same spans, not a new or partial set.
      assert.sameMembers(delivered.spans.map((span) => span.name), workflowSpanNames)
      assert.sameMembers(
        delivered.spans.map((span) => span.spanId),
        refused.spans.map((span) => span.spanId)
      )
      assert.strictEqual(stats.retries, 1)
      assert.strictEqual(stats.exportedSpans, workflowSpanNames.length)
      assert.strictEqual(stats.failedSpans, 0)
      // A retry that succeeds is not worth a line on the user's terminal.
      assert.deepStrictEqual(warnings, [])
    }))

  it.live.each(protocols)("partial success: rejected spans are counted and the collector's message shown (%s)", (
    protocol
  ) =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      receiver.respondWith(Respond.partialSuccess(2, "2 spans exceed the attribute limit"))
      const { warnings, stats } = yield* runTraced({ endpoint: receiver.url, protocol })

      onlyRequest(receiver)
      assert.strictEqual(warnings.length, 1, warnings.join("\n"))
      assert.include(warnings[0], "2 spans exceed the attribute limit")
      assert.strictEqual(stats.rejectedSpans, 2)
      assert.strictEqual(stats.exportedSpans, workflowSpanNames.length - 2)
      // Partial success is final: never retried.
      assert.strictEqual(stats.retries, 0)
    }))

  it.live("a dropped connection is retried and then delivered", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      receiver.respondWith(Respond.destroy, Respond.accept)
      const { warnings, stats } = yield* runTraced({ endpoint: receiver.url })

      receiver.assertDecoded()
      assert.strictEqual(receiver.requests.length, 2)
      assert.strictEqual(stats.retries, 1)
      assert.strictEqual(stats.exportedSpans, workflowSpanNames.length)
      assert.deepStrictEqual(warnings, [])
    }))

  it.live("a collector that does not answer in time is given up on, with one warning", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      // Far past the export timeout; the receiver's close ends the stall.
      receiver.respondWith(Respond.stall(20_000))
      const { warnings, stats } = yield* runTraced({ endpoint: receiver.url, timeout: "300 millis" })

      assert.strictEqual(receiver.requests.length, 1)
      assert.strictEqual(warnings.length, 1, warnings.join("\n"))
      assert.include(warnings[0], "could not export")
      assert.include(warnings[0], "no response within")
      assert.strictEqual(stats.failedSpans, workflowSpanNames.length)
      assert.strictEqual(stats.exportedSpans, 0)
    }))
})

const post = (url: string, contentType: string, body: string | Uint8Array) =>
  Effect.promise(() => fetch(url, { method: "POST", headers: { "content-type": contentType }, body }))

// The receiver's own readers, on inputs the SDK never produces: the tests above rely on them.
describe("test receiver", () => {
  it.live("reads OTLP/JSON as the spec writes it: int64 as strings, hex ids, enums as integers", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const request = {
        resourceSpans: [{
          resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] },
          scopeSpans: [{
            scope: { name: "manual", version: "0.0.1" },
            spans: [{
              traceId: "5B8EFFF798038103D269B633813FC60C",
              spanId: "EEE19B7EC3C1B174",
              parentSpanId: "",
              name: "checkout",
              kind: 2,
              startTimeUnixNano: "1544712660000000000",
              endTimeUnixNano: "1544712661000000000",
              attributes: [
                { key: "big", value: { intValue: "9007199254740993" } },
                { key: "ratio", value: { doubleValue: 1 } },
                { key: "tags", value: { arrayValue: { values: [{ stringValue: "a" }, { boolValue: true }] } } },
                { key: "nested", value: { kvlistValue: { values: [{ key: "k", value: { intValue: "-3" } }] } } },
                { key: "raw", value: { bytesValue: "AQI=" } },
                { key: "unset", value: {} }
              ],
              events: [{ timeUnixNano: "1544712660500000000", name: "e", attributes: [] }],
              status: { code: 2, message: "boom" },
              // Unknown fields are ignored, as OTLP/JSON requires.
              futureField: { anything: true }
            }]
          }]
        }]
      }
      const response = yield* post(receiver.tracesUrl, "application/json", JSON.stringify(request))
      assert.strictEqual(response.status, 200)
      assert.strictEqual(yield* Effect.promise(() => response.text()), "{}")

      receiver.assertDecoded()
      const span = byName(receiver.spans(), "checkout")
      assert.strictEqual(span.traceId, "5b8efff798038103d269b633813fc60c")
      assert.strictEqual(span.spanId, "eee19b7ec3c1b174")
      assert.isUndefined(span.parentSpanId)
      assert.strictEqual(span.kind, 2)
      assert.strictEqual(span.startTimeUnixNano, 1544712660000000000n)
      assert.strictEqual(span.endTimeUnixNano, 1544712661000000000n)
      // Beyond 2^53: only a string-to-bigint read keeps it exact.
      assert.deepStrictEqual(span.attributes["big"], { type: "int", value: 9007199254740993n })
      // `doubleValue: 1` stays a double although JSON cannot tell 1 from 1.0.
      assert.deepStrictEqual(span.attributes["ratio"], double(1))
      assert.deepStrictEqual(span.attributes["tags"], {
        type: "array",
        value: [string("a"), { type: "bool", value: true }]
      })
      assert.deepStrictEqual(span.attributes["nested"], { type: "kvlist", value: { k: int(-3) } })
      assert.deepStrictEqual(span.attributes["raw"], { type: "bytes", value: new Uint8Array([1, 2]) })
      assert.deepStrictEqual(span.attributes["unset"], { type: "empty", value: undefined })
      assert.strictEqual(span.events[0]?.timeUnixNano, 1544712660500000000n)
      assert.deepStrictEqual(span.status, { code: 2, message: "boom" })
      assert.deepStrictEqual(span.resource, { "service.name": string("svc") })
      assert.deepStrictEqual(span.scope, { name: "manual", version: "0.0.1" })
    }))

  it.live("records a body it cannot read as a decode error and answers 400", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      // resource_spans (field 1, length-delimited) claiming 16 bytes, followed by 2.
      const truncated = new Uint8Array([0x0a, 0x10, 0x0a, 0x00])
      const response = yield* post(receiver.tracesUrl, "application/x-protobuf", truncated)
      assert.strictEqual(response.status, 400)
      assert.strictEqual(receiver.decodeErrors().length, 1)
      assert.include(receiver.decodeErrors()[0], "past the end")
      assert.throws(() => receiver.assertDecoded(), /could not decode 1 request/)

      // An enum name where OTLP/JSON requires its number.
      const named = {
        resourceSpans: [{
          scopeSpans: [{
            spans: [{
              traceId: "5b8efff798038103d269b633813fc60c",
              spanId: "eee19b7ec3c1b174",
              kind: "SPAN_KIND_CLIENT"
            }]
          }]
        }]
      }
      yield* post(receiver.tracesUrl, "application/json", JSON.stringify(named))
      assert.strictEqual(receiver.decodeErrors().length, 2)
      assert.include(receiver.decodeErrors()[1], "kind must be an integer")
    }))
})
