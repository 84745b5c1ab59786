/**
 * The benchmark rows: one traced (or untraced) step, repeated `steps` times under one parent, in
 * each of the ways the suite compares. Every row that records spans has the same span shape (one
 * span with 5 attributes under one parent; the GenAI rows carry 10, see below) and the same span
 * processor: the SDK's env-free `BatchSpanProcessor` with the library's default queue 32768 / batch
 * 4096 over a no-op exporter (`noopBatch.ts`), so what is measured is span creation and recording,
 * never serialization or I/O (`delivered.ts` measures those).
 *
 * One call of `run()` is one sample: a parent and `steps` children, started and ended. Rows build
 * their step effect anew for every step, as agent code does (`yield* call.pipe(GenAI.chat(...))`
 * inside a loop), so per-construction costs such as `Effect.withSpan`'s stack capture are counted.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as Otel from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { ExportResultCode } from "@opentelemetry/core"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { AlwaysOffSampler, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Stream from "effect/Stream"
import * as GenAI from "../src/GenAI.ts"
import * as Config from "../src/internal/config.ts"
import { FiberContextManager } from "../src/internal/effectTracer.ts"
import { noDeliveries } from "../src/internal/exporter.ts"
import { compose } from "../src/internal/tracing.ts"
import * as Pipeline from "../src/Pipeline.ts"
import { makeBatchProcessor } from "./noopBatch.ts"

/** The 5 attributes of every step span (mixed types, as real spans have). */
export const attributes = {
  "bench.step.name": "parse-document",
  "bench.step.index": 7,
  "bench.step.ratio": 0.25,
  "bench.step.cached": false,
  "bench.document.id": "doc-7f3a"
} as const

/** The GenAI chat: 5 request attributes at start (operation, provider, model, temperature, max tokens). */
export const chatRequest: GenAI.Request = { provider: "openai", model: "gpt-4o", temperature: 0.2, maxTokens: 512 }
/** What the simulated provider returns. */
export const chatResult = { id: "chatcmpl-9a8b", model: "gpt-4o-2024-08-06", finish: "stop", input: 144, output: 67 }
/** ... and 5 response and usage attributes from the result (id, model, finish reasons, input and output tokens). */
export const describeChat = (r: typeof chatResult): GenAI.InferenceOutcome => ({
  response: { id: r.id, model: r.model, finishReasons: [r.finish] },
  usage: { inputTokens: r.input, outputTokens: r.output }
})
/** The same 10 attributes a `GenAI.chat` span ends up with, for a bare `withSpan` of the same shape. */
export const chatAttributes = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "openai",
  "gen_ai.request.model": "gpt-4o",
  "gen_ai.request.temperature": 0.2,
  "gen_ai.request.max_tokens": 512,
  "gen_ai.response.id": "chatcmpl-9a8b",
  "gen_ai.response.model": "gpt-4o-2024-08-06",
  "gen_ai.response.finish_reasons": ["stop"],
  "gen_ai.usage.input_tokens": 144,
  "gen_ai.usage.output_tokens": 67
} as const

export interface Row {
  readonly id: string
  readonly label: string
  /** One sample: a parent and `steps` children. Synchronous. */
  readonly run: () => void
  /** Spans the batch processor dropped (queue full); should stay 0. */
  readonly dropped: () => number
  readonly dispose: () => Promise<void>
}

export type RowId =
  | "untraced"
  | "native"
  | "native.off"
  | "native.nostack"
  | "upstream"
  | "upstream.off"
  | "raw"
  | "raw.off"
  | "ours"
  | "ours.off"
  | "ours.nostack"
  | "ours.step"
  | "ours.step.off"
  | "ours.step.noagent"
  | "ours.chat"
  | "ours.chat.off"
  | "ours.chat10"
  | "ours.chat.metrics"
  | "stream.bare"
  | "stream.ours"
  | "stream.content"
  | "stream.metrics"

export const labels: Record<RowId, string> = {
  "untraced": "untraced Effect step (Effect.succeed)",
  "native": "Effect.withSpan, Effect's native tracer",
  "native.off": "Effect.withSpan, native tracer, parent sampled: false",
  "native.nostack": "Effect.withSpan captureStackTrace:false, native tracer (diagnostic)",
  "upstream": "Effect.withSpan, @effect/opentelemetry NodeSdk",
  "upstream.off": "Effect.withSpan, NodeSdk, always_off",
  "raw": "raw OTel SDK span (startSpan + 5 setAttribute + end)",
  "raw.off": "raw OTel SDK non-recording span (always_off)",
  "ours": "Effect.withSpan, beluga tracer",
  "ours.off": "Effect.withSpan, beluga tracer, always_off",
  "ours.nostack": "Effect.withSpan captureStackTrace:false, beluga (diagnostic)",
  "ours.step": "Pipeline.step, beluga tracer",
  "ours.step.off": "Pipeline.step, beluga tracer, always_off",
  "ours.step.noagent": "Pipeline.step, beluga tracer without the agent processor (identity, roll-ups, cost)",
  "ours.chat": "GenAI.chat (10 attrs), beluga tracer",
  "ours.chat.off": "GenAI.chat, beluga tracer, always_off",
  "ours.chat10": "Effect.withSpan, same 10 attrs as chat, beluga",
  "ours.chat.metrics": "GenAI.chat, beluga tracer, GenAI metrics on (duration + 2 token measurements, exemplars)",
  "stream.bare": "a stream of text deltas, one per pull, no span (per chunk)",
  "stream.ours": "the same through GenAI.chatStream, capture off (per chunk)",
  "stream.content": "the same through GenAI.chatStream, capture on (per chunk)",
  "stream.metrics": "the same through GenAI.chatStream, capture off, metrics on (per chunk)"
}

export const allRows: ReadonlyArray<RowId> = Object.keys(labels) as Array<RowId>

const noopExporter: SpanExporter = {
  export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
  shutdown: () => Promise.resolve(),
  forceFlush: () => Promise.resolve()
}

/** The library's default batch settings, read the way `Tracing.layer` reads them (environment ignored). */
export const loadSettings = (overrides: Config.Overrides): Config.Settings =>
  Effect.runSync(
    Config.load(overrides).pipe(
      Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))),
      Effect.orDie
    )
  )

/** The processor every row uses: the library's batch processor over a no-op exporter, drops counted. */
const processor = () => {
  let dropped = 0
  const batch = makeBatchProcessor(noopExporter, loadSettings({}).batch, (n) => (dropped += n))
  return { processor: batch.processor, dropped: () => dropped }
}

const resource = resourceFromAttributes({ "service.name": "beluga-bench" })

/**
 * Installs the OTel context manager `Tracing.layer` registers by default (AsyncLocalStorage, read
 * through the running fiber), or with `"platform"` the plain AsyncLocalStorage one, as an app's own
 * `NodeSDK.start()` or `provider.register()` would. Without one (the default here) the beluga tracer
 * skips OTel context propagation; the upstream tracer does it regardless.
 */
export const installContextManager = (kind: "library" | "platform" = "library") => {
  const platform = new AsyncLocalStorageContextManager()
  Otel.context.setGlobalContextManager((kind === "library" ? new FiberContextManager(platform) : platform).enable())
}

type Step = () => Effect.Effect<unknown>

const loop = (steps: number, step: Step) =>
  Effect.gen(function*() {
    for (let i = 0; i < steps; i++) yield* step()
  })

const effectRow = async (
  layer: Layer.Layer<any> | undefined,
  steps: number,
  step: Step | Effect.Effect<unknown>,
  parent: { readonly traced: boolean; readonly sampled?: boolean },
  dropped: () => number
): Promise<Omit<Row, "id" | "label">> => {
  const body = Effect.isEffect(step) ? step : loop(steps, step)
  const program = parent.traced
    ? body.pipe(Effect.withSpan("parent", parent.sampled === false ? { sampled: false } : {}))
    : body
  if (layer === undefined) {
    return { run: () => Effect.runSync(program), dropped, dispose: () => Promise.resolve() }
  }
  const runtime = ManagedRuntime.make(layer)
  await runtime.runPromise(Effect.void)
  return { run: () => runtime.runSync(program), dropped, dispose: () => runtime.dispose() }
}

export const oursLayer = (
  sampler: Config.SamplerName | undefined,
  captureContent = false,
  withoutAgentProcessor = false,
  metrics = false
) => {
  const settings = loadSettings({ serviceName: "beluga-bench", sampler, captureContent })
  const p = processor()
  const shutdown = { timeout: 1000, warn: () => {} }
  const spans = { processors: [p.processor], stats: () => ({ ...noDeliveries, droppedSpans: p.dropped() }) }
  // The recorder the combinators write to, without an exporter: what a call pays. Export runs
  // once per interval on the reader's timer, off the calls' path.
  const layer = compose(settings, spans, {
    shutdown,
    withoutAgentProcessor,
    metrics: { print: metrics ? { write: () => {} } : undefined }
  })
  return { layer, dropped: p.dropped }
}

const upstreamLayer = (off: boolean) => {
  const p = processor()
  const layer = NodeSdk.layer(() => ({
    resource: { serviceName: "beluga-bench" },
    spanProcessor: p.processor,
    ...(off ? { tracerConfig: { sampler: new AlwaysOffSampler() } } : {})
  }))
  return { layer, dropped: p.dropped }
}

const rawRow = (steps: number, off: boolean): Omit<Row, "id" | "label"> => {
  const p = processor()
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [p.processor],
    ...(off ? { sampler: new AlwaysOffSampler() } : {})
  })
  const tracer = provider.getTracer("beluga-bench")
  const run = () => {
    const parent = tracer.startSpan("parent", undefined, Otel.ROOT_CONTEXT)
    const context = Otel.trace.setSpan(Otel.ROOT_CONTEXT, parent)
    for (let i = 0; i < steps; i++) {
      const span = tracer.startSpan("step", undefined, context)
      span.setAttribute("bench.step.name", attributes["bench.step.name"])
      span.setAttribute("bench.step.index", attributes["bench.step.index"])
      span.setAttribute("bench.step.ratio", attributes["bench.step.ratio"])
      span.setAttribute("bench.step.cached", attributes["bench.step.cached"])
      span.setAttribute("bench.document.id", attributes["bench.document.id"])
      span.end()
    }
    parent.end()
  }
  return { run, dropped: p.dropped, dispose: () => provider.shutdown() }
}

const none = () => 0
const one = Effect.succeed(1)
const withSpanStep: Step = () => Effect.withSpan(one, "step", { attributes })
const noStackStep: Step = () => Effect.withSpan(one, "step", { attributes, captureStackTrace: false })
const pipelineStep: Step = () => Pipeline.step("step", { attributes })(one)
const chatCall = Effect.succeed(chatResult)
const chatStep: Step = () => GenAI.chat(chatRequest, describeChat)(chatCall)
const chat10Step: Step = () => Effect.withSpan(chatCall, "chat gpt-4o", { kind: "client", attributes: chatAttributes })

/**
 * One streamed chat reply of `chunks` text deltas (plus metadata, finish and usage), delivered one
 * part per pull as a provider's stream delivers them; with `traced`, under one `GenAI.chatStream` span.
 */
const streamedReply = (chunks: number, traced: boolean): Effect.Effect<unknown> => {
  const parts: Array<GenAI.StreamPart> = [
    { type: "response-metadata", id: chatResult.id, model: chatResult.model },
    ...Array.from(
      { length: chunks },
      (_, i) => ({ type: "text-delta" as const, delta: i % 2 === 0 ? " the" : " answer" })
    ),
    { type: "finish", reason: "stop" },
    { type: "usage", usage: { inputTokens: chatResult.input, outputTokens: chunks } }
  ]
  const stream = Stream.fromArray(parts).pipe(Stream.rechunk(1))
  return Effect.suspend(() => Stream.runDrain(traced ? stream.pipe(GenAI.chatStream(chatRequest)) : stream))
}

/** Builds one row; `steps` children per sample. */
export const makeRow = async (id: RowId, steps: number): Promise<Row> => {
  const build = async (): Promise<Omit<Row, "id" | "label">> => {
    switch (id) {
      case "untraced":
        return effectRow(undefined, steps, () => one, { traced: false }, none)
      case "native":
        return effectRow(undefined, steps, withSpanStep, { traced: true }, none)
      case "native.off":
        return effectRow(undefined, steps, withSpanStep, { traced: true, sampled: false }, none)
      case "native.nostack":
        return effectRow(undefined, steps, noStackStep, { traced: true }, none)
      case "upstream":
      case "upstream.off": {
        const { dropped, layer } = upstreamLayer(id === "upstream.off")
        return effectRow(layer, steps, withSpanStep, { traced: true }, dropped)
      }
      case "raw":
        return rawRow(steps, false)
      case "raw.off":
        return rawRow(steps, true)
      case "stream.bare":
      case "stream.ours":
      case "stream.content":
      case "stream.metrics": {
        const { dropped, layer } = oursLayer(undefined, id === "stream.content", false, id === "stream.metrics")
        return effectRow(layer, steps, streamedReply(steps, id !== "stream.bare"), { traced: true }, dropped)
      }
      default: {
        const off = id.endsWith(".off")
        const { dropped, layer } = oursLayer(
          off ? "always_off" : undefined,
          false,
          id === "ours.step.noagent",
          id === "ours.chat.metrics"
        )
        const step = id.startsWith("ours.step")
          ? pipelineStep
          : id === "ours.chat10"
          ? chat10Step
          : id.startsWith("ours.chat")
          ? chatStep
          : id === "ours.nostack"
          ? noStackStep
          : withSpanStep
        return effectRow(layer, steps, step, { traced: true }, dropped)
      }
    }
  }
  return { id, label: labels[id], ...(await build()) }
}

/** Lets the batch processor finish the export it started (its `finally` runs on a microtask). */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve))
