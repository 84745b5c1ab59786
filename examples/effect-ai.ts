/**
 * An agent loop written with effect/ai (`LanguageModel`, a `Toolkit` of two tools), traced by the
 * conventions with no tracing code in the agent:
 *
 *   agent-workflow
 *   ├─ chat sim-gpt-4o                 (generateText: asks for both tools)
 *   ├─ execute_tool GetWeather  ✗      (the weather service fails once; the model is told)
 *   ├─ execute_tool SearchTrains
 *   ├─ chat sim-gpt-4o                 (asks for GetWeather again)
 *   ├─ execute_tool GetWeather
 *   └─ chat sim-gpt-4o  ttft=…         (streamText: the answer, streamed)
 *
 *   npx tsx examples/effect-ai.ts
 *
 * Offline on the SIMULATED model. `EffectAi.layer(OpenAI.chatProvider(…))` or
 * `EffectAi.layer(Anthropic.chatProvider(…))` (with `FetchHttpClient.layer`) runs it on a real one.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema, Stream } from "effect"
import { LanguageModel, Prompt, Tool, Toolkit } from "effect/ai"
import { EffectAi, Pipeline, Simulated, Tracing } from "../src/index.ts"

class WeatherUnavailable extends Schema.TaggedError<WeatherUnavailable>()("WeatherUnavailable", {
  message: Schema.String
}) {}

const GetWeather = Tool.make("GetWeather", {
  description: "Current weather for a city",
  parameters: Schema.Struct({ query: Schema.String }),
  success: Schema.Struct({ forecast: Schema.String }),
  failure: WeatherUnavailable,
  // A failure goes back to the model as the tool's result, instead of failing the call.
  failureMode: "return"
})
const SearchTrains = Tool.make("SearchTrains", {
  description: "Trains between two cities",
  parameters: Schema.Struct({ query: Schema.String }),
  success: Schema.Struct({ duration: Schema.String, every: Schema.String })
})
const AgentTools = Toolkit.make(GetWeather, SearchTrains)

let weatherCalls = 0
const AgentToolsLive = EffectAi.toolkitLayer(AgentTools, {
  GetWeather: () =>
    Effect.gen(function*() {
      yield* Effect.sleep(80)
      if (++weatherCalls === 1) return yield* new WeatherUnavailable({ message: "weather service unavailable" })
      return { forecast: "mild, 17°C, light rain" }
    }),
  SearchTrains: () => Effect.sleep(120).pipe(Effect.as({ duration: "2h58", every: "1h" }))
})

const question = "What's the weather in Lisbon, and how do I get to Porto by train?"

const agent = Effect.gen(function*() {
  let prompt = Prompt.make(question)
  // Call the model with the tools until every tool it asked for has answered (three tries at most).
  for (let step = 0; step < 3; step++) {
    const response = yield* LanguageModel.generateText({ prompt, toolkit: AgentTools })
    prompt = Prompt.concat(prompt, Prompt.fromResponseParts(response.content))
    if (!response.toolResults.some((result) => result.isFailure)) break
  }
  // Then the answer, streamed as it is written.
  let answer = ""
  yield* LanguageModel.streamText({ prompt }).pipe(
    Stream.runForEach((part) => Effect.sync(() => part.type === "text-delta" && (answer += part.delta)))
  )
  return answer
}).pipe(Pipeline.run("agent-workflow"))

agent.pipe(
  Effect.tap((answer) => Effect.log(answer)),
  Effect.provide(Layer.mergeAll(EffectAi.layer(Simulated.chatProvider()), AgentToolsLive)),
  Effect.provide(Tracing.layer({ serviceName: "beluga-agent", serviceVersion: "1.0.0", printTraces: true })),
  NodeRuntime.runMain
)
