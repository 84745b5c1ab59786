/**
 * An agent run, traced end to end with no tracing code in the agent itself:
 *
 *   agent-workflow
 *   ├─ retrieval knowledge-base           (Retriever)
 *   ├─ chat sim-gpt-4o                    (ChatModel: asks for two tools)
 *   ├─ execute_tool get_weather  ✗        (attempt 1 fails: the weather API answers 503)
 *   │  └─ weather-api GET /current
 *   ├─ execute_tool get_weather           (attempt 2, retried, succeeds)
 *   │  └─ weather-api GET /current
 *   ├─ execute_tool search_trains         (ran in parallel with get_weather)
 *   └─ chat sim-gpt-4o                    (answers from the tool results)
 *
 *   npx tsx examples/agent-workflow.ts
 *
 * Everything runs offline with the SIMULATED model, retriever and tools. With a collector on
 * localhost:4318 the trace also lands there as service `beluga-agent` 1.0.0.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { ChatModel, Pipeline, Retriever, Simulated, Tool, Tracing } from "../src/index.ts"

const TracingLive = Tracing.layer({ serviceName: "beluga-agent", serviceVersion: "1.0.0", printTraces: true })

class WeatherApiError
  extends Data.TaggedError("WeatherApiError")<{ readonly errorType: string; readonly message: string }>
{}

/** A flaky downstream API: the first request gets a 503, later ones succeed. */
const makeWeatherApi = () => {
  let requests = 0
  return (city: string) =>
    Effect.gen(function*() {
      requests++
      yield* Effect.sleep(requests === 1 ? 80 : 120)
      if (requests === 1) {
        return yield* new WeatherApiError({ errorType: "503", message: "weather service unavailable" })
      }
      return { city, forecast: "mild, 17°C, light rain" }
    }).pipe(
      Pipeline.step("weather-api GET /current", {
        kind: "client",
        attributes: { "http.request.method": "GET", "server.address": "weather.example", "url.path": "/current" }
      })
    )
}

const weatherApi = makeWeatherApi()

const getWeather = Tool.make({
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { query: { type: "string" } } },
  handler: (_: { readonly query: string }) => weatherApi("Lisbon")
})

const searchTrains = Tool.make({
  name: "search_trains",
  description: "Train connections between two cities",
  parameters: { type: "object", properties: { query: { type: "string" } } },
  handler: (_: { readonly query: string }) =>
    Effect.sleep(150).pipe(Effect.as({ from: "Lisbon", to: "Porto", duration: "2h58", every: "1h" }))
})

const tools: ReadonlyArray<Tool.Tool<{ readonly query: string }, unknown, WeatherApiError>> = [getWeather, searchTrains]

const agent = (question: string) =>
  Effect.gen(function*() {
    const retriever = yield* Retriever.Retriever
    const model = yield* ChatModel.ChatModel

    const documents = yield* retriever.retrieve(question, { topK: 2 })
    const systemInstructions = [{
      type: "text" as const,
      content: `You are a travel assistant. Context: ${documents.map((d) => d.text).join(" ")}`
    }]
    const userMessage = { role: "user", parts: [{ type: "text" as const, content: question }] }

    const plan = yield* model.chat({
      messages: [userMessage],
      systemInstructions,
      tools: tools.map((tool) => tool.definition),
      temperature: 0.2,
      maxTokens: 512
    })

    // The model's tool calls run in parallel (sibling spans); each call is retried on failure,
    // and every attempt is its own span.
    const results = yield* Effect.forEach(plan.toolCalls, (call) => {
      const tool = tools.find((t) => t.definition.name === call.name)!
      return tool.call(call.arguments as { query: string }, call.id).pipe(
        Pipeline.retry({ times: 2 }),
        Effect.map((result) => ({ call, result }))
      )
    }, { concurrency: "unbounded" })

    const answer = yield* model.chat({
      messages: [
        userMessage,
        { role: "assistant", parts: plan.toolCalls.map((c) => ({ type: "tool_call" as const, ...c })) },
        ...results.map(({ call, result }) => ({
          role: "tool",
          parts: [{ type: "tool_call_response" as const, id: call.id, response: result }]
        }))
      ],
      systemInstructions,
      temperature: 0.2,
      maxTokens: 512
    })
    return answer.text
  }).pipe(Pipeline.run("agent-workflow", { attributes: { "gen_ai.agent.name": "travel-assistant" } }))

agent("What's the weather in Lisbon, and how do I get to Porto by train?").pipe(
  Effect.flatMap((answer) => Effect.log(answer)),
  Effect.provide(Simulated.layer()),
  Effect.provide(TracingLive),
  NodeRuntime.runMain
)
