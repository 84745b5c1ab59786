/**
 * Quickstart: the Beluga tracing guide's steps 2–4 in Effect.
 *
 * One layer (`Tracing.layer`) installs the tracer; `Pipeline.run` makes the root span
 * `agent-workflow`; `process-document` has two children, `parse-document` and `embed-document`,
 * and the embedding step records an `embedding-complete` event with `dimensions=1536`.
 *
 *   npx tsx examples/quickstart.ts
 *
 * The trace tree prints in the terminal. With a collector on localhost:4318 (Jaeger, Tempo, an
 * OpenTelemetry Collector) the same trace lands there as service `beluga-agent` 1.0.0.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import { Embedder, Pipeline, Simulated, Tracing } from "../src/index.ts"

const TracingLive = Tracing.layer({ serviceName: "beluga-agent", serviceVersion: "1.0.0", printTraces: true })

const parseDocument = (text: string) =>
  Effect.sync(() => text.split(/(?<=\.)\s+/)).pipe(
    Effect.tap((sentences) => Pipeline.annotate({ "document.sentences": sentences.length })),
    Pipeline.step("parse-document")
  )

const embedDocument = (sentences: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const embedder = yield* Embedder.Embedder
    const result = yield* embedder.embed(sentences)
    yield* Pipeline.event("embedding-complete", { dimensions: embedder.dimensions, vectors: result.vectors.length })
    return result
  }).pipe(Pipeline.step("embed-document"))

const processDocument = (id: string, text: string) =>
  Effect.gen(function*() {
    const sentences = yield* parseDocument(text)
    const embeddings = yield* embedDocument(sentences)
    return { id, vectors: embeddings.vectors.length }
  }).pipe(Pipeline.step("process-document", { attributes: { "document.id": id } }))

const program = Effect.gen(function*() {
  const result = yield* processDocument(
    "doc-1",
    "Effect gives structured concurrency. OpenTelemetry gives a common wire format. Together they explain an agent."
  )
  yield* Effect.log(`processed ${result.id}: ${result.vectors} vectors`)
}).pipe(Pipeline.run("agent-workflow"))

program.pipe(
  Effect.provide(Embedder.layer(Simulated.embeddingProvider())),
  Effect.provide(TracingLive),
  NodeRuntime.runMain
)
