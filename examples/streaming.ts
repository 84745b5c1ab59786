/**
 * Streamed answers, traced with no tracing code at the call site:
 *
 *   agent-workflow
 *   ├─ chat sim-gpt-4o   ttft=…   the whole answer, streamed to the terminal
 *   └─ chat sim-gpt-4o   ttft=…   ⊘ stream abandoned (the reader stopped after five words)
 *
 *   npx tsx examples/streaming.ts
 *
 * Offline it uses the SIMULATED model. A provider's own variables point it at a real endpoint
 * (the first provider, in this order, whose variables are set; each read by its `layerFromConfig`):
 *
 *   OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 npx tsx examples/streaming.ts   (Ollama, vLLM, …)
 *   OPENAI_API_KEY=sk-… OPENAI_MODEL=gpt-4o-mini npx tsx examples/streaming.ts
 *   OPENAI_API=responses OPENAI_API_KEY=sk-… OPENAI_MODEL=gpt-5-mini npx tsx examples/streaming.ts   (Responses API)
 *   ANTHROPIC_API_KEY=sk-ant-… ANTHROPIC_MODEL=claude-sonnet-4-5 npx tsx examples/streaming.ts
 *   GEMINI_API_KEY=… GEMINI_MODEL=gemini-2.5-flash npx tsx examples/streaming.ts
 *   GOOGLE_GENAI_USE_VERTEXAI=true GOOGLE_CLOUD_PROJECT=my-project GOOGLE_CLOUD_LOCATION=us-central1 \
 *     GOOGLE_OAUTH_ACCESS_TOKEN=$(gcloud auth print-access-token) npx tsx examples/streaming.ts   (Vertex AI)
 *   AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_REGION=us-east-1 BEDROCK_MODEL_ID=amazon.nova-lite-v1:0 \
 *     npx tsx examples/streaming.ts
 *   AWS_BEARER_TOKEN_BEDROCK=… AWS_REGION=us-east-1 npx tsx examples/streaming.ts   (a Bedrock API key)
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import {
  Anthropic,
  Bedrock,
  ChatModel,
  Gemini,
  OpenAI,
  OpenAIResponses,
  Pipeline,
  Simulated,
  Tracing
} from "../src/index.ts"

const TracingLive = Tracing.layer({ serviceName: "beluga-agent", serviceVersion: "1.0.0", printTraces: true })

/** A variable's value; unset when empty or blank, as the providers read their own. */
const setting = (name: string) =>
  Effect.map(Config.option(Config.String(name)), (value) => Option.filter(value, (text) => text.trim() !== ""))

const anySet = (...names: ReadonlyArray<string>) =>
  Effect.map(Effect.forEach(names, setting), (values) => values.some(Option.isSome))

/** The model the environment names (the first provider whose variables are set), else the simulated one. */
const ModelLive = Layer.unwrap(Effect.gen(function*() {
  if (yield* anySet("OPENAI_BASE_URL", "OPENAI_API_KEY")) {
    // Which OpenAI API, by the values of `openai.api.type`.
    const api = Option.getOrElse(yield* setting("OPENAI_API"), () => "chat_completions")
    if (api === "chat_completions") return OpenAI.layerFromConfig()
    if (api === "responses") return OpenAIResponses.layerFromConfig()
    return yield* new OpenAI.ProviderConfigError({
      variable: "OPENAI_API",
      value: api,
      expected: "chat_completions (the default) or responses"
    })
  }
  if (yield* anySet("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")) return Anthropic.layerFromConfig()
  const vertex = Option.getOrElse(yield* setting("GOOGLE_GENAI_USE_VERTEXAI"), () => "false")
  if (
    !["false", "0"].includes(vertex.trim().toLowerCase()) ||
    (yield* anySet("GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_BASE_URL"))
  ) {
    return Gemini.layerFromConfig()
  }
  if (yield* anySet("AWS_BEARER_TOKEN_BEDROCK", "BEDROCK_MODEL_ID", "BEDROCK_BASE_URL")) {
    return Bedrock.layerFromConfig()
  }
  return ChatModel.layer(Simulated.chatProvider())
})).pipe(Layer.provide(FetchHttpClient.layer))

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
