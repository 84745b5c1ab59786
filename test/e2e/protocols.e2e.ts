/**
 * Every wire format the exporter speaks, verified by a real collector: http/protobuf and http/json,
 * each plain and gzip-compressed. The program runs in this process under `Tracing.layer`; its
 * export goes through a recording proxy (so the test sees the Content-Type and Content-Encoding that
 * were really used) to Jaeger, which must decode it and store every span with its attribute values
 * and their types intact.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as zlib from "node:zlib"
import { GenAI, Pipeline, Tracing } from "../../src/index.ts"
import { explainTrace, Kind, outline, type Span, StatusCode, waitForSpans } from "./support/jaeger.ts"
import { startProxy } from "./support/proxy.ts"

/** Text that only survives if every encoding handles UTF-8 (accents, CJK, an astral emoji). */
const unicode = "naïve café · 漢字 · 🚀"

/**
 * A small traced run: a root with attributes of every OTLP value type, a chat call with GenAI
 * attributes, and a step with an event. Returns the trace id.
 */
const program = (label: string) =>
  Effect.gen(function*() {
    const root = yield* Effect.orDie(Effect.currentSpan)
    yield* Effect.succeed("ok").pipe(
      GenAI.chat({ provider: "simulated", model: "e2e-model", temperature: 0.5, maxTokens: 64 }, () => ({
        response: { id: "resp-1", finishReasons: ["stop", "length"] },
        usage: { inputTokens: 12, outputTokens: 7 }
      }))
    )
    yield* Pipeline.event("checkpoint", { step: 2, ratio: 0.25, ok: true, note: unicode }).pipe(
      Pipeline.step("record-checkpoint")
    )
    return root.traceId
  }).pipe(
    Pipeline.run("e2e-export", {
      attributes: {
        "e2e.case": label,
        "e2e.int": 42,
        "e2e.double": 1.5,
        "e2e.bool": true,
        "e2e.text": unicode,
        "e2e.strings": ["a", "b"],
        "e2e.ints": [1, 2, 3]
      }
    })
  )

const cases = [
  { protocol: "http/protobuf", compression: "none", contentType: "application/x-protobuf" },
  { protocol: "http/protobuf", compression: "gzip", contentType: "application/x-protobuf" },
  { protocol: "http/json", compression: "none", contentType: "application/json" },
  { protocol: "http/json", compression: "gzip", contentType: "application/json" }
] as const

describe("OTLP/HTTP encodings, decoded by Jaeger", () => {
  for (const { protocol, compression, contentType } of cases) {
    const label = `${protocol.replace("/", "-")}${compression === "gzip" ? "-gzip" : ""}`
    const serviceName = `beluga-e2e-${label}`

    it(`${protocol}, compression ${compression}: spans and typed attributes arrive intact`, async () => {
      const proxy = await startProxy()
      const warnings: Array<string> = []
      const tracing = Tracing.layer({
        serviceName,
        serviceVersion: "1.0.0",
        protocol,
        compression,
        endpoint: proxy.url,
        onWarning: (message) => warnings.push(message)
      }).pipe(
        // Only the options above: `OTEL_*` variables on this machine must not change the test.
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} })))
      )
      // Releasing the layer at the end flushes the spans.
      const traceId = await Effect.runPromise(program(label).pipe(Effect.provide(tracing))).finally(() => proxy.close())
      assert.deepStrictEqual(warnings, [], "the export reported problems")

      // The exporter used the encoding asked for, and Jaeger accepted it.
      assert.isAbove(proxy.requests.length, 0, "no export request was made")
      for (const request of proxy.requests) {
        // Spans and metrics, both through the proxy to Jaeger, which stores the one and serves the other.
        assert.include(["/v1/traces", "/v1/metrics"], request.path)
        assert.strictEqual(request.contentType, contentType)
        assert.strictEqual(request.contentEncoding, compression === "gzip" ? "gzip" : undefined)
        assert.strictEqual(request.status, 200, `Jaeger answered ${request.status}`)
        const body = compression === "gzip" ? zlib.gunzipSync(request.body) : request.body
        if (protocol === "http/json") assert.doesNotThrow(() => JSON.parse(body.toString("utf8")))
      }

      const spans: Array<Span> = await waitForSpans(traceId, 3)
      explainTrace(spans, () => {
        assert.strictEqual(
          outline(spans),
          "e2e-export (INTERNAL)\n  chat e2e-model (CLIENT)\n  record-checkpoint (INTERNAL)"
        )
        for (const span of spans) {
          assert.deepStrictEqual(span.resource["service.name"], { stringValue: serviceName })
          assert.deepStrictEqual(span.resource["service.version"], { stringValue: "1.0.0" })
          assert.notStrictEqual(span.statusCode, StatusCode.error)
        }

        const root = spans.find((s) => s.name === "e2e-export")!
        assert.deepStrictEqual(root.attributes, {
          "e2e.case": { stringValue: label },
          "e2e.int": { intValue: "42" },
          "e2e.double": { doubleValue: 1.5 },
          "e2e.bool": { boolValue: true },
          "e2e.text": { stringValue: unicode },
          "e2e.strings": { arrayValue: { values: [{ stringValue: "a" }, { stringValue: "b" }] } },
          "e2e.ints": { arrayValue: { values: [{ intValue: "1" }, { intValue: "2" }, { intValue: "3" }] } },
          // The run's roll-up of the chat beneath it.
          "beluga.rollup.inferences": { intValue: "1" },
          "beluga.rollup.input_tokens": { intValue: "12" },
          "beluga.rollup.output_tokens": { intValue: "7" }
        })

        const chat = spans.find((s) => s.name === "chat e2e-model")!
        assert.strictEqual(chat.kind, Kind.client)
        assert.deepStrictEqual(chat.attributes["gen_ai.operation.name"], { stringValue: "chat" })
        assert.deepStrictEqual(chat.attributes["gen_ai.provider.name"], { stringValue: "simulated" })
        assert.deepStrictEqual(chat.attributes["gen_ai.request.temperature"], { doubleValue: 0.5 })
        assert.deepStrictEqual(chat.attributes["gen_ai.request.max_tokens"], { intValue: "64" })
        assert.deepStrictEqual(chat.attributes["gen_ai.usage.input_tokens"], { intValue: "12" })
        assert.deepStrictEqual(chat.attributes["gen_ai.usage.output_tokens"], { intValue: "7" })
        assert.deepStrictEqual(chat.attributes["gen_ai.response.finish_reasons"], {
          arrayValue: { values: [{ stringValue: "stop" }, { stringValue: "length" }] }
        })

        const step = spans.find((s) => s.name === "record-checkpoint")!
        assert.deepStrictEqual(step.events, [{
          name: "checkpoint",
          attributes: {
            step: { intValue: "2" },
            ratio: { doubleValue: 0.25 },
            ok: { boolValue: true },
            note: { stringValue: unicode }
          }
        }])
      })
    })
  }

  it(
    "2000 spans carrying content (~30 MB, past Jaeger's 20 MiB a request) all arrive, in requests of at most ~4 MiB",
    async () => {
      const proxy = await startProxy()
      const warnings: Array<string> = []
      const question = "Which trains leave Lisbon for Porto after six? ".repeat(300)
      const chat = Effect.succeed("ok").pipe(
        GenAI.chat(
          {
            provider: "simulated",
            model: "e2e-model",
            messages: [{ role: "user", parts: [{ type: "text", content: question }] }]
          },
          () => ({})
        )
      )
      const tracing = Tracing.layer({
        serviceName: "beluga-e2e-large-batches",
        endpoint: proxy.url,
        captureContent: true,
        metrics: false,
        logs: false,
        // Only the shutdown flush sends: every span would wait for one request without the bytes bound.
        batch: { scheduleDelayMillis: 60_000 },
        onWarning: (message) => warnings.push(message)
      }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
      const traceId = await Effect.runPromise(
        Effect.gen(function*() {
          for (let i = 0; i < 2000; i++) yield* chat
          return (yield* Effect.orDie(Effect.currentSpan)).traceId
        }).pipe(Pipeline.run("e2e-large-batches"), Effect.provide(tracing))
      ).finally(() => proxy.close())
      assert.deepStrictEqual(warnings, [], "the export reported problems")
      const sent = proxy.requests.reduce((sum, request) => sum + request.body.length, 0)
      assert.isAbove(sent, 25 * 1024 * 1024)
      for (const request of proxy.requests) {
        assert.strictEqual(request.status, 200, `Jaeger answered ${request.status}`)
        assert.isAtMost(request.body.length, 4 * 1024 * 1024 + 32 * 1024)
      }
      const spans = await waitForSpans(traceId, 2001, { timeoutMs: 30_000 })
      assert.strictEqual(spans.filter((span) => span.name === "chat e2e-model").length, 2000)
    },
    60_000
  )
})
