/**
 * Streamed answers, traced with no tracing code at the call site:
 *
 *   agent-workflow
 *   ├─ chat sim-gpt-4o   ttft=…   the whole answer, streamed to the terminal
 *   └─ chat sim-gpt-4o   ttft=…   ⊘ stream abandoned (the reader stopped after five words)
 *
 *   npx tsx examples/streaming.ts
 *
 * Offline it uses the SIMULATED model. Two environment variables point it at a real endpoint:
 *
 *   OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 npx tsx examples/streaming.ts   (Ollama, vLLM, …)
 *   OPENAI_API_KEY=sk-… OPENAI_MODEL=gpt-4o-mini npx tsx examples/streaming.ts
 *   ANTHROPIC_API_KEY=sk-ant-… ANTHROPIC_MODEL=claude-sonnet-4-5 npx tsx examples/streaming.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Anthropic, ChatModel, OpenAI, Pipeline, Simulated, Tracing } from "../src/index.ts"

const TracingLive = Tracing.layer({ serviceName: "beluga-agent", serviceVersion: "1.0.0", printTraces: true })

/** The model the environment names, else the simulated one. */
const ModelLive = Layer.unwrap(Effect.gen(function*() {
  const openai = yield* Config.option(
    Config.String("OPENAI_BASE_URL").pipe(Config.orElse(() => Config.String("OPENAI_API_KEY")))
  )
  const anthropic = yield* Config.option(Config.String("ANTHROPIC_API_KEY"))
  if (Option.isSome(openai)) return OpenAI.layerFromConfig().pipe(Layer.provide(FetchHttpClient.layer))
  if (Option.isSome(anthropic)) return Anthropic.layerFromConfig().pipe(Layer.provide(FetchHttpClient.layer))
  return ChatModel.layer(Simulated.chatProvider())
}))

const ask = (text: string): ChatModel.ChatRequest => ({
  systemInstructions: [{ type: "text", content: "Answer in two sentences." }],
  messages: [{ role: "user", parts: [{ type: "text", content: text }] }],
  maxTokens: 200
})

const program = Effect.gen(function*() {
  const model = yield* ChatModel.ChatModel

  // The whole answer, written as it arrives.
  yield* model.stream(ask("Why does a trace show where an agent spent its time?")).pipe(
    Stream.runForEach((part) =>
      part.type === "text-delta" ? Effect.sync(() => process.stdout.write(part.delta)) : Effect.void
    )
  )
  process.stdout.write("\n")

  // A reader that has seen enough after five words: the span ends then, marked abandoned.
  const opening = yield* model.stream(ask("Tell me about the trains from Lisbon to Porto.")).pipe(
    Stream.filter((part) => part.type === "text-delta"),
    Stream.take(5),
    Stream.runFold(() => "", (text, part) => text + part.delta)
  )
  console.log(`${opening} …`)
}).pipe(Pipeline.run("agent-workflow"))

program.pipe(Effect.provide(ModelLive), Effect.provide(TracingLive), NodeRuntime.runMain)
