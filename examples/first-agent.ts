/**
 * The README's example: an agent that retrieves, then answers in a stream, traced by one layer.
 *
 *   npx tsx examples/first-agent.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Stream } from "effect"
import { ChatModel, Pipeline, Retriever, Simulated, Tracing } from "../src/index.ts"

const agent = (question: string) =>
  Effect.gen(function*() {
    const docs = yield* (yield* Retriever.Retriever).retrieve(question) // retrieval knowledge-base
    const model = yield* ChatModel.ChatModel
    yield* model.stream({ // chat sim-gpt-4o, streamed
      messages: [
        { role: "system", parts: [{ type: "text", content: docs[0]?.text ?? "" }] },
        { role: "user", parts: [{ type: "text", content: question }] }
      ]
    }).pipe(
      Stream.runForEach((part) => Effect.sync(() => part.type === "text-delta" && process.stdout.write(part.delta)))
    )
    process.stdout.write("\n")
  }).pipe(Pipeline.run("agent-workflow")) // the root span

agent("How long is the train from Lisbon to Porto?").pipe(
  Effect.provide(Simulated.layer()), // or OpenAI.layer(…), Anthropic.layer(…), your own
  Effect.provide(Tracing.layer({ serviceName: "beluga-agent", printTraces: true })), // the one layer
  NodeRuntime.runMain // Ctrl-C interrupts, then every span that ended is flushed
)
