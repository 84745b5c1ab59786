/**
 * GenAI metrics on the wire: the real `Tracing.layer` sends them over OTLP/HTTP to a real receiver
 * on 127.0.0.1, which decodes the `ExportMetricsServiceRequest` with its own protobuf and JSON
 * readers (`test/support/receiver.ts`). Each run uses a one-minute export interval, so what
 * arrives is the last collection, sent when the layer is released.
 */
import { assert, describe, it } from "@effect/vitest"
import * as OtelApi from "@opentelemetry/api"
import { MeterProvider } from "@opentelemetry/sdk-metrics"
import { EmbeddingModel, LanguageModel } from "effect/ai"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import { EffectAi, GenAI, Pipeline, Simulated, Tracing } from "../src/index.ts"
import { Recorder } from "../src/internal/metrics.ts"
import { MetricsCollector, type MetricsExporter } from "../src/internal/metricsCollector.ts"
import { recorderMeterProvider } from "../src/internal/recorderMeters.ts"
import * as N from "../src/internal/semconv.ts"
import {
  type Attributes,
  makeReceiver,
  type ReceivedHistogramPoint,
  type ReceivedMetric,
  type Receiver,
  Respond
} from "./support/receiver.ts"

class RateLimited extends Data.TaggedError("RateLimited")<{}> {}

const chat = (model: string, usage: GenAI.Usage, responseModel = `${model}-2024-08-06`) =>
  Effect.succeed("ok").pipe(
    GenAI.chat({ provider: "openai", model, serverAddress: "api.openai.com", serverPort: 443 }, () => ({
      response: { id: "resp-1", model: responseModel, finishReasons: ["stop"] },
      usage
    }))
  )

/** Three chats on two models, one that fails, a tool, an agent, a stream and an embedding. */
const workload = Effect.gen(function*() {
  yield* chat("gpt-4o", { inputTokens: 100, outputTokens: 20 })
  yield* chat("gpt-4o", { inputTokens: 300, outputTokens: 40 })
  yield* chat("gpt-4o-mini", { inputTokens: 5000, outputTokens: 1 })
  yield* Effect.exit(
    Effect.fail(new RateLimited()).pipe(GenAI.chat({ provider: "openai", model: "gpt-4o", conversationId: "c-1" }))
  )
  yield* Effect.succeed({ forecast: "mild" }).pipe(
    GenAI.executeTool({ name: "get_weather", callId: "call-1", type: "function", arguments: { city: "Paris" } })
  )
  yield* Stream.make<Array<GenAI.StreamPart>>(
    { type: "response-metadata", id: "s-1", model: "claude-sonnet-4-5-20250929" },
    { type: "text-delta", delta: "Hel" },
    { type: "text-delta", delta: "lo" },
    { type: "text-delta", delta: "!" },
    { type: "finish", reason: "stop" },
    { type: "usage", usage: { inputTokens: 9, outputTokens: 3 } }
  ).pipe(
    GenAI.chatStream({ provider: "anthropic", model: "claude-sonnet-4-5" }),
    Stream.runDrain
  )
  yield* Effect.succeed([[0.1]]).pipe(
    GenAI.embeddings({ provider: "openai", model: "text-embedding-3-small" }, () => ({ usage: { inputTokens: 8 } }))
  )
}).pipe(GenAI.invokeAgent({ name: "travel-agent", provider: "openai", conversationId: "c-1" }), Pipeline.run("run"))

const quiet = { onWarning: (message: string) => assert.fail(message), batch: { scheduleDelayMillis: 60_000 } }

/** Runs `program` with a fresh layer reading only `env`, and releases it (the last collection goes out). */
const run = <A, E>(
  program: Effect.Effect<A, E, Tracing.Provides>,
  options: Tracing.Options,
  env: Record<string, string> = {}
) =>
  program.pipe(
    Effect.provide(Layer.fresh(Tracing.layer({ ...quiet, ...options }))),
    Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
  )

const metricNamed = (receiver: Receiver, name: string): ReceivedMetric => {
  const found = receiver.metrics().filter((m) => m.name === name)
  assert.lengthOf(found, 1, `one ${name} in ${receiver.metrics().map((m) => m.name).join(", ")}`)
  return found[0]!
}

/** Attributes as plain values, for comparison. */
const plain = (attributes: Attributes) =>
  Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, v.value])) as Record<string, unknown>

const pointWith = (metric: ReceivedMetric, match: Record<string, unknown>): ReceivedHistogramPoint => {
  const found = metric.histogramPoints.filter((p) =>
    Object.entries(match).every(([k, v]) => plain(p.attributes)[k] === v)
  )
  assert.lengthOf(found, 1, `one ${metric.name} point with ${JSON.stringify(match)}`)
  return found[0]!
}

const durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
const tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]

describe("GenAI metrics over OTLP/HTTP", () => {
  it.live.each(["http/protobuf", "http/json"] as const)(
    "the v1.41 histograms, their attributes and exemplars (%s)",
    (protocol) =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        yield* run(workload, { endpoint: receiver.url, protocol })
        receiver.assertDecoded()
        assert.lengthOf(receiver.metricRequests, 1, "one collection, sent at release")
        const request = receiver.metricRequests[0]!
        assert.strictEqual(request.path, "/v1/metrics")
        assert.strictEqual(request.protocol, protocol === "http/json" ? "json" : "protobuf")
        const spans = receiver.spans()

        // gen_ai.client.token.usage: one point per model and token type, integer buckets.
        const tokens = metricNamed(receiver, "gen_ai.client.token.usage")
        assert.strictEqual(tokens.type, "histogram")
        assert.strictEqual(tokens.unit, "{token}")
        assert.strictEqual(tokens.temporality, 2, "cumulative by default")
        assert.deepStrictEqual(tokens.scope, { name: "beluga-o11y", version: tokens.scope.version })
        assert.strictEqual(tokens.resource["service.name"]?.value, "unknown_service:node")
        const gpt4oInput = pointWith(tokens, { "gen_ai.request.model": "gpt-4o", "gen_ai.token.type": "input" })
        assert.strictEqual(gpt4oInput.count, 2n)
        assert.strictEqual(gpt4oInput.sum, 400)
        assert.strictEqual(gpt4oInput.min, 100)
        assert.strictEqual(gpt4oInput.max, 300)
        assert.deepStrictEqual(gpt4oInput.explicitBounds, tokenBuckets)
        // 100 falls in (64, 256], 300 in (256, 1024].
        assert.strictEqual(gpt4oInput.bucketCounts[4], 1n)
        assert.strictEqual(gpt4oInput.bucketCounts[5], 1n)
        assert.deepStrictEqual(plain(gpt4oInput.attributes), {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o",
          "gen_ai.response.model": "gpt-4o-2024-08-06",
          "server.address": "api.openai.com",
          "server.port": 443n,
          "gen_ai.token.type": "input"
        })
        assert.strictEqual(gpt4oInput.attributes["server.port"]?.type, "int")
        assert.strictEqual(
          pointWith(tokens, { "gen_ai.request.model": "gpt-4o-mini", "gen_ai.token.type": "input" }).sum,
          5000
        )
        assert.strictEqual(
          pointWith(tokens, { "gen_ai.request.model": "gpt-4o", "gen_ai.token.type": "output" }).sum,
          60
        )
        assert.strictEqual(
          pointWith(tokens, { "gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.token.type": "output" }).sum,
          3
        )
        assert.strictEqual(
          pointWith(tokens, { "gen_ai.operation.name": "embeddings", "gen_ai.token.type": "input" }).sum,
          8
        )
        // The token totals equal the spans' usage attributes, model by model.
        const spanTokens = spans.flatMap((s) => {
          const input = s.attributes["gen_ai.usage.input_tokens"]
          return s.name.startsWith("chat ") && input !== undefined ? [Number(input.value)] : []
        }).reduce((a, b) => a + b, 0)
        const metricTokens = tokens.histogramPoints
          .filter((p) =>
            p.attributes["gen_ai.operation.name"]?.value === "chat" &&
            p.attributes["gen_ai.token.type"]?.value === "input"
          )
          .reduce((a, p) => a + (p.sum ?? 0), 0)
        assert.strictEqual(metricTokens, spanTokens)

        // gen_ai.client.operation.duration: the failed call apart, with error.type; no ids, no content.
        const duration = metricNamed(receiver, "gen_ai.client.operation.duration")
        assert.strictEqual(duration.unit, "s")
        const ok = pointWith(duration, { "gen_ai.request.model": "gpt-4o", "error.type": undefined })
        assert.strictEqual(ok.count, 2n)
        assert.deepStrictEqual(ok.explicitBounds, durationBuckets)
        const failed = pointWith(duration, { "error.type": "RateLimited" })
        assert.strictEqual(failed.count, 1n)
        assert.deepStrictEqual(plain(failed.attributes), {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o",
          "error.type": "RateLimited"
        })
        const chatSpans = spans.filter((s) => s.name.startsWith("chat ") || s.name.startsWith("embeddings "))
        const durationCount = duration.histogramPoints.reduce((a, p) => a + p.count, 0n)
        assert.strictEqual(Number(durationCount), chatSpans.length, "one duration per client operation span")
        for (const metric of receiver.metrics()) {
          for (const point of metric.histogramPoints) {
            for (const key of Object.keys(point.attributes)) {
              assert.notInclude(
                ["gen_ai.conversation.id", "gen_ai.response.id", "gen_ai.tool.call.id", "gen_ai.tool.call.arguments"],
                key
              )
            }
          }
        }

        // Exemplars: each names a span the collector received, whose duration fits the bucket.
        const byId = new Map(spans.map((s) => [s.spanId, s]))
        let exemplars = 0
        for (const point of duration.histogramPoints) {
          for (const exemplar of point.exemplars) {
            exemplars++
            const span = byId.get(exemplar.spanId)
            assert.isDefined(span, `exemplar span ${exemplar.spanId} was exported`)
            assert.strictEqual(span!.traceId, exemplar.traceId)
            assert.strictEqual(
              span!.attributes["gen_ai.request.model"]?.value,
              point.attributes["gen_ai.request.model"]?.value
            )
            assert.isTrue(typeof exemplar.value === "number" && exemplar.value >= 0)
            // Wall-clock milliseconds, taken as the call ended: not before the span started.
            assert.isTrue(exemplar.timeUnixNano + 1_000_000n >= span!.startTimeUnixNano)
            assert.isTrue(exemplar.timeUnixNano <= span!.endTimeUnixNano + 1_000_000n)
          }
        }
        assert.isAtLeast(exemplars, 3)
        const tokenExemplar = gpt4oInput.exemplars[0]
        assert.isDefined(tokenExemplar)
        assert.strictEqual(typeof tokenExemplar!.value, "bigint", "token exemplars are integers")

        // Streams: time to first chunk once, and a time per output chunk for each chunk after the first.
        const ttfc = metricNamed(receiver, "gen_ai.client.operation.time_to_first_chunk")
        assert.strictEqual(pointWith(ttfc, { "gen_ai.provider.name": "anthropic" }).count, 1n)
        assert.strictEqual(
          plain(ttfc.histogramPoints[0]!.attributes)["gen_ai.response.model"],
          "claude-sonnet-4-5-20250929"
        )
        const perChunk = metricNamed(receiver, "gen_ai.client.operation.time_per_output_chunk")
        assert.strictEqual(perChunk.histogramPoints[0]!.count, 2n)

        // Agent, tool: their own duration histograms, by name.
        const tool = metricNamed(receiver, "gen_ai.execute_tool.duration")
        assert.deepStrictEqual(plain(tool.histogramPoints[0]!.attributes), {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": "get_weather",
          "gen_ai.tool.type": "function"
        })
        const agent = metricNamed(receiver, "gen_ai.invoke_agent.duration")
        assert.strictEqual(agent.histogramPoints[0]!.attributes["gen_ai.agent.name"]?.value, "travel-agent")
        assert.notInclude(Object.keys(agent.histogramPoints[0]!.attributes), "gen_ai.conversation.id")
      })
  )

  it.live("metrics count every call when the sampler keeps no span; exemplars then point nowhere", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(workload, { endpoint: receiver.url, sampler: "always_off" })
      receiver.assertDecoded()
      assert.lengthOf(receiver.spans(), 0)
      const tokens = metricNamed(receiver, "gen_ai.client.token.usage")
      assert.strictEqual(pointWith(tokens, { "gen_ai.request.model": "gpt-4o", "gen_ai.token.type": "input" }).sum, 400)
      const perChunk = metricNamed(receiver, "gen_ai.client.operation.time_per_output_chunk")
      assert.strictEqual(perChunk.histogramPoints[0]!.count, 2n, "chunks are timed on an unsampled stream too")
      for (const metric of receiver.metrics()) {
        for (const point of metric.histogramPoints) assert.lengthOf(point.exemplars, 0, "trace_based: no sampled span")
      }
    }))

  it.live("OTEL_METRICS_EXEMPLAR_FILTER=always_off sends no exemplars", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(workload, { endpoint: receiver.url }, { OTEL_METRICS_EXEMPLAR_FILTER: "always_off" })
      assert.isAbove(receiver.metrics().length, 0)
      for (const metric of receiver.metrics()) {
        for (const point of metric.histogramPoints) assert.lengthOf(point.exemplars, 0)
      }
    }))

  it.live("an interrupted call records no duration, an abandoned stream no duration but its chunks", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(
        Effect.gen(function*() {
          const fiber = yield* Effect.never.pipe(GenAI.chat({ provider: "openai", model: "slow" }), Effect.forkChild)
          yield* Effect.sleep("10 millis")
          yield* Fiber.interrupt(fiber)
          yield* Stream.make<Array<GenAI.StreamPart>>(
            { type: "text-delta", delta: "a" },
            { type: "text-delta", delta: "b" },
            { type: "text-delta", delta: "c" }
          ).pipe(
            // One part per pull, as a provider's stream delivers them.
            Stream.rechunk(1),
            Stream.concat(Stream.never),
            GenAI.chatStream({ provider: "openai", model: "streamer" }),
            Stream.take(2),
            Stream.runDrain
          )
        }),
        { endpoint: receiver.url }
      )
      receiver.assertDecoded()
      const names = receiver.metrics().map((m) => m.name)
      assert.notInclude(names, "gen_ai.client.operation.duration")
      assert.strictEqual(
        metricNamed(receiver, "gen_ai.client.operation.time_to_first_chunk").histogramPoints[0]!.count,
        1n
      )
      assert.strictEqual(
        metricNamed(receiver, "gen_ai.client.operation.time_per_output_chunk").histogramPoints[0]!.count,
        1n
      )
    }))

  it.live("effect/ai calls through EffectAi are metered like the combinators: text, stream, embeddings", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(
        Effect.gen(function*() {
          yield* LanguageModel.generateText({ prompt: "Weather in Lisbon?" })
          yield* LanguageModel.streamText({ prompt: "And in Porto?" }).pipe(Stream.runDrain)
          yield* Effect.gen(function*() {
            const model = yield* EmbeddingModel.EmbeddingModel
            yield* model.embed("hello")
          }).pipe(
            Effect.provide(EffectAi.layerEmbedding(Simulated.embeddingProvider({ latency: 0, dimensions: 8 })))
          )
        }).pipe(Effect.provide(EffectAi.layer(Simulated.chatProvider({ latency: 0 })))),
        { endpoint: receiver.url }
      )
      receiver.assertDecoded()
      const spans = receiver.spans()
      const duration = metricNamed(receiver, "gen_ai.client.operation.duration")
      const chatPoint = pointWith(duration, { "gen_ai.operation.name": "chat" })
      assert.strictEqual(chatPoint.count, 2n, "generateText and streamText")
      assert.strictEqual(pointWith(duration, { "gen_ai.operation.name": "embeddings" }).count, 1n)
      const tokens = metricNamed(receiver, "gen_ai.client.token.usage")
      const chatInput = pointWith(tokens, { "gen_ai.operation.name": "chat", "gen_ai.token.type": "input" })
      const spanInput = spans.filter((s) => s.name.startsWith("chat ")).reduce(
        (a, s) => a + Number(s.attributes["gen_ai.usage.input_tokens"]?.value ?? 0),
        0
      )
      assert.strictEqual(chatInput.sum, spanInput)
      assert.strictEqual(chatInput.count, 2n)
      assert.strictEqual(
        metricNamed(receiver, "gen_ai.client.operation.time_to_first_chunk").histogramPoints[0]!.count,
        1n
      )
      // The exemplars point at effect/ai's own spans.
      const ids = new Set(spans.map((s) => s.spanId))
      for (const exemplar of chatPoint.exemplars) assert.isTrue(ids.has(exemplar.spanId))
    }))

  it.live("a provider echoing a new response model on every call: series capped, the rest in one overflow series", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(
        Effect.forEach(
          Array.from({ length: 2100 }, (_, i) => i),
          (i) => chat("gpt-4o", { inputTokens: 1 }, `gpt-4o-${i}`),
          { discard: true }
        ),
        { endpoint: receiver.url, sampler: "always_off" }
      )
      receiver.assertDecoded()
      const duration = metricNamed(receiver, "gen_ai.client.operation.duration")
      assert.strictEqual(duration.histogramPoints.length, 2000)
      const overflow = duration.histogramPoints.filter((p) => p.attributes["otel.metric.overflow"]?.value === true)
      assert.lengthOf(overflow, 1)
      assert.strictEqual(overflow[0]!.count, 101n)
      assert.strictEqual(duration.histogramPoints.reduce((n, p) => n + p.count, 0n), 2100n, "no call lost")
    }))

  it.live("Effect's own Metric values go out in the same request", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const documents = Metric.counter("documents_processed", { description: "Documents parsed", incremental: true })
      yield* run(
        Effect.gen(function*() {
          yield* Metric.update(Metric.withAttributes(documents, { source: "upload" }), 3)
          yield* chat("gpt-4o", { inputTokens: 1, outputTokens: 1 })
        }),
        { endpoint: receiver.url }
      )
      const counter = metricNamed(receiver, "documents_processed")
      assert.strictEqual(counter.type, "sum")
      assert.isTrue(counter.monotonic)
      const point = counter.numberPoints.find((p) => p.attributes["source"]?.value === "upload")
      assert.isDefined(point)
      assert.strictEqual(Number(point!.value), 3)
      assert.lengthOf(receiver.metricRequests, 1, "with the GenAI histograms, one request")
      metricNamed(receiver, "gen_ai.client.token.usage")
    }))

  it.live("instruments made through the OTel metrics API go out too (the layer's meter provider is global)", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(
        Effect.sync(() => {
          const counter = OtelApi.metrics.getMeter("my-app").createCounter("app.requests", { unit: "{request}" })
          counter.add(2, { route: "/ask" })
        }),
        { endpoint: receiver.url }
      )
      const counter = metricNamed(receiver, "app.requests")
      assert.strictEqual(counter.type, "sum")
      assert.strictEqual(counter.scope.name, "my-app")
      assert.strictEqual(Number(counter.numberPoints[0]!.value), 2)
      assert.strictEqual(counter.numberPoints[0]!.attributes["route"]?.value, "/ask")
      // Released: the global meter provider is this layer's no longer.
      assert.notInstanceOf(OtelApi.metrics.getMeterProvider(), MeterProvider)
    }))

  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it.live(`an integer instrument's value past int64 goes out as a double, the rest of the collection with it (${protocol})`, () =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        yield* run(
          Effect.sync(() => {
            const meter = OtelApi.metrics.getMeter("my-app")
            const options = { valueType: OtelApi.ValueType.INT }
            meter.createCounter("app.bytes", options).add(1e21)
            meter.createCounter("app.requests", options).add(3)
          }),
          { endpoint: receiver.url, protocol }
        )
        const big = metricNamed(receiver, "app.bytes").numberPoints[0]!
        assert.deepStrictEqual([big.value, typeof big.value], [1e21, "number"])
        const small = metricNamed(receiver, "app.requests").numberPoints[0]!
        assert.deepStrictEqual([small.value, typeof small.value], [3n, "bigint"])
      }))
  }

  it.live("delta temporality: each collection holds only what happened since the last", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(
        Effect.gen(function*() {
          yield* chat("gpt-4o", { inputTokens: 10, outputTokens: 1 })
          yield* Effect.promise(() => receiver.waitForMetricRequests(1))
          yield* chat("gpt-4o", { inputTokens: 20, outputTokens: 1 })
          yield* chat("gpt-4o", { inputTokens: 30, outputTokens: 1 })
        }),
        { endpoint: receiver.url, metrics: { exportInterval: "200 millis", temporality: "delta" } }
      )
      receiver.assertDecoded()
      const inputs = receiver.metricRequests.flatMap((request) =>
        request.metrics.filter((m) => m.name === "gen_ai.client.token.usage").map((m) => {
          assert.strictEqual(m.temporality, 1)
          return pointWith(m, { "gen_ai.token.type": "input" })
        })
      )
      assert.deepStrictEqual(inputs.map((p) => [p.count, p.sum]), [[1n, 10], [2n, 50]])
      assert.isTrue(
        inputs[1]!.startTimeUnixNano >= inputs[0]!.timeUnixNano,
        "the second interval starts where the first ended"
      )
    }))

  it.live("a collector that takes no metrics (404, as Jaeger without a metrics pipeline): one line, then none sent", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver({ respondMetrics: () => Respond.error(404, "Not Found") })
      const warnings: Array<string> = []
      yield* run(
        Effect.gen(function*() {
          yield* chat("gpt-4o", { inputTokens: 1 })
          yield* Effect.promise(() => receiver.waitForMetricRequests(1))
          // Two more intervals: nothing more is sent.
          yield* chat("gpt-4o", { inputTokens: 2 })
          yield* Effect.sleep("250 millis")
        }),
        {
          endpoint: receiver.url,
          metrics: { exportInterval: "100 millis" },
          onWarning: (message) => warnings.push(message)
        }
      )
      assert.lengthOf(receiver.metricRequests, 1)
      assert.deepStrictEqual(warnings, [
        `beluga-o11y: ${receiver.url}/v1/metrics takes no metrics (collector answered HTTP 404: Not Found), so none ` +
        "are sent there from now on. Send them to a backend that does with OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, " +
        "or turn them off with OTEL_METRICS_EXPORTER=none."
      ])
      assert.lengthOf(receiver.spans(), 2, "the spans are unaffected")
    }))

  it.live("a collector stalling on metrics: release gives up within the shutdown bound and says what was lost", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver({ respondMetrics: () => Respond.stall(30_000) })
      const warnings: Array<string> = []
      const stats = yield* run(
        Effect.gen(function*() {
          yield* chat("gpt-4o", { inputTokens: 1, outputTokens: 1 })
          return (yield* Tracing.Delivery).metricStats
        }),
        { endpoint: receiver.url, shutdownTimeout: "300 millis", onWarning: (message) => warnings.push(message) }
      )
      // The spans went out; the metrics request hung and was abandoned at the bound.
      assert.lengthOf(receiver.spans(), 1)
      assert.lengthOf(receiver.metricRequests, 1)
      // Three GenAI points, and any Effect Metric an earlier test left in the process-wide registry.
      const points = receiver.metrics().reduce((n, m) => n + m.histogramPoints.length + m.numberPoints.length, 0)
      assert.isAtLeast(points, 3)
      assert.deepStrictEqual(warnings, [
        `beluga-o11y: gave up sending the last metrics after 300ms; ${points} metric data points in flight were not delivered`
      ])
      const after = yield* stats
      assert.strictEqual(after.failedSpans, points, "the lost data points are counted")
      assert.strictEqual(after.exportedSpans, 0)
    }))

  it.live("traces delivered, metrics endpoint refusing connections: one warning, naming the metrics endpoint", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      const closed = yield* makeReceiver()
      const deadUrl = `${closed.url}/v1/metrics`
      yield* Effect.promise(() => closed.close())
      const warnings: Array<string> = []
      yield* run(chat("gpt-4o", { inputTokens: 1 }), {
        endpoint: receiver.url,
        metrics: { endpoint: deadUrl },
        onWarning: (message) => warnings.push(message)
      })
      assert.lengthOf(receiver.spans(), 1)
      assert.lengthOf(warnings, 1, warnings.join("\n"))
      assert.match(
        warnings[0]!,
        /^beluga-o11y: could not export \d+ metric data points to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics: .*ECONNREFUSED/
      )
    }))

  it.live("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is used as given; OTEL_METRICS_EXPORTER=none sends nothing", () =>
    Effect.gen(function*() {
      const receiver = yield* makeReceiver()
      yield* run(chat("gpt-4o", { inputTokens: 1 }), {}, {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/tenant-a/v1/metrics`
      })
      receiver.assertDecoded()
      assert.deepStrictEqual(receiver.metricRequests.map((r) => r.path), ["/tenant-a/v1/metrics"])
      assert.deepStrictEqual(receiver.requests.map((r) => r.path), ["/v1/traces"])
      const quietReceiver = yield* makeReceiver()
      yield* run(chat("gpt-4o", { inputTokens: 1 }), { endpoint: quietReceiver.url }, { OTEL_METRICS_EXPORTER: "none" })
      assert.lengthOf(quietReceiver.metricRequests, 0)
      assert.lengthOf(quietReceiver.spans(), 1, "the spans still go out")
    }))
})

/**
 * The collection the metrics side runs on every runtime (on workers without the OTel API's meter
 * provider among its producers): a producer that counts its collections, an exporter whose
 * answers the test gives.
 */
const collection = (options: { readonly intervalMillis?: number; readonly empty?: boolean } = {}) => {
  let collected = 0
  const answers: Array<() => void> = []
  const exported: Array<number> = []
  const calls: Array<string> = []
  const exporter: MetricsExporter = {
    export: (metrics) => {
      exported.push(metrics.scopeMetrics.length)
      return new Promise((resolve) => answers.push(resolve))
    },
    forceFlush: () => Promise.resolve(void calls.push("forceFlush")),
    shutdown: () => Promise.resolve(void calls.push("shutdown"))
  }
  const producer = {
    collect: () => {
      collected++
      const scopeMetrics = options.empty === true ? [] : [{ scope: { name: "test" }, metrics: [] }]
      return Promise.resolve({ resourceMetrics: { resource: {} as never, scopeMetrics }, errors: [] })
    }
  }
  const collector = new MetricsCollector([producer], exporter, {
    resource: {} as never,
    intervalMillis: options.intervalMillis ?? 60_000,
    exportTimeoutMillis: 30_000
  })
  return { collector, collected: () => collected, answers, exported, calls, settle }
}

/** A few milliseconds: promises already settled have run their callbacks. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5))

describe("the periodic collection", () => {
  it.live("a flush during a collection waits for it, then collects again; shutdown sends the last one", () =>
    Effect.promise(async () => {
      const c = collection()
      const first = c.collector.flush()
      await c.settle()
      const second = c.collector.flush() // called while the first collection's export is unanswered
      await c.settle()
      assert.strictEqual(c.collected(), 1, "collections never overlap")
      c.answers.shift()!()
      await first
      await c.settle()
      assert.strictEqual(c.collected(), 2, "the second flush collected the points as they were when it was called")
      c.answers.shift()!()
      await second
      assert.deepStrictEqual(c.calls, ["forceFlush", "forceFlush"])
      const shutdown = c.collector.shutdown()
      await c.settle()
      c.answers.shift()!()
      await shutdown
      assert.strictEqual(c.collected(), 3)
      assert.deepStrictEqual(c.calls, ["forceFlush", "forceFlush", "forceFlush", "shutdown"])
      await c.collector.flush()
      assert.strictEqual(c.collected(), 3, "nothing after shutdown")
    }))

  it.live("collects on its interval, skipping a tick while an export is unanswered; nothing to send, no export", () =>
    Effect.promise(async () => {
      const c = collection({ intervalMillis: 20 })
      c.collector.start()
      await new Promise((resolve) => setTimeout(resolve, 110))
      assert.strictEqual(c.collected(), 1, "the first export is still unanswered")
      c.answers.shift()!()
      for (let waited = 0; c.collected() < 2 && waited < 2000; waited += 10) await c.settle()
      assert.isAtLeast(c.collected(), 2, "the next tick collects again")
      for (const answer of c.answers) answer()
      const stop = c.collector.shutdown()
      await c.settle()
      for (const answer of c.answers) answer()
      await stop
      const empty = collection({ empty: true })
      await empty.collector.flush()
      assert.strictEqual(empty.collected(), 1)
      assert.deepStrictEqual(empty.exported, [], "a collection with no scopes makes no request")
    }))
})

describe("the OTel metrics API on workers (no SDK meter provider)", () => {
  it.live("the library's own histograms made through the API go into the recorder; others are no-ops", () =>
    Effect.promise(async () => {
      const recorder = new Recorder(N.Metrics, {
        temporality: "cumulative",
        exemplarFilter: "trace_based",
        resource: {} as never,
        scope: { name: N.LIBRARY_NAME, version: "0" }
      })
      const meter = recorderMeterProvider(recorder).getMeter(N.LIBRARY_NAME)
      meter.createHistogram(N.METRIC_MCP_CLIENT_OPERATION_DURATION).record(0.25, {
        [N.ATTR_MCP_METHOD_NAME]: "tools/call"
      })
      meter.createHistogram("app.latency").record(1)
      meter.createCounter("app.requests").add(1)
      const { resourceMetrics } = await recorder.collect()
      const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
      assert.deepStrictEqual(metrics.map((m) => m.descriptor.name), [N.METRIC_MCP_CLIENT_OPERATION_DURATION])
      const point = metrics[0]!.dataPoints[0]!
      assert.deepStrictEqual(point.attributes, { [N.ATTR_MCP_METHOD_NAME]: "tools/call" })
      assert.strictEqual((point.value as { readonly sum: number }).sum, 0.25)
    }))
})

const failure = (env: Record<string, string>, options: Tracing.Options = {}) =>
  Effect.flip(run(Effect.void, options, env))

describe("metrics configuration", () => {
  it.effect.each(
    [
      [{ OTEL_METRICS_EXPORTER: "prometheus" }, "OTEL_METRICS_EXPORTER", "prometheus"],
      [{ OTEL_METRIC_EXPORT_INTERVAL: "soon" }, "OTEL_METRIC_EXPORT_INTERVAL", "soon"],
      [{ OTEL_METRIC_EXPORT_TIMEOUT: "0" }, "OTEL_METRIC_EXPORT_TIMEOUT", "0"],
      [
        { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "sometimes" },
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
        "sometimes"
      ],
      [
        { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "localhost:4318" },
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "localhost:4318"
      ],
      [{ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "grpc" }, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"],
      [{ OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "-1" }, "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "-1"],
      [{ OTEL_METRICS_EXEMPLAR_FILTER: "sometimes" }, "OTEL_METRICS_EXEMPLAR_FILTER", "sometimes"]
    ] as const
  )("%j fails start-up naming %s", ([env, variable, value]) =>
    Effect.gen(function*() {
      const error = yield* failure(env)
      assert.strictEqual(error._tag, "TracingConfigError")
      assert.strictEqual(error.variable, variable)
      assert.strictEqual(error.value, value)
      assert.include(error.message, variable)
    }))

  it.effect("a bad metrics option names the option", () =>
    Effect.gen(function*() {
      const error = yield* failure({}, { metrics: { exportInterval: -5 } })
      assert.strictEqual(error.variable, "metrics.exportInterval")
      assert.strictEqual(error.value, "-5")
    }))

  it.effect("OTEL_EXPORTER_OTLP_METRICS_HEADERS is secret: a malformed value is not echoed", () =>
    Effect.gen(function*() {
      const error = yield* failure({ OTEL_EXPORTER_OTLP_METRICS_HEADERS: "api-key" })
      assert.strictEqual(error.variable, "OTEL_EXPORTER_OTLP_METRICS_HEADERS")
      assert.strictEqual(error.value, "<redacted>")
    }))
})
