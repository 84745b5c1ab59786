/**
 * A conversation of three turns with a travel agent, as an LLM trace UI shows it: one session
 * (`gen_ai.conversation.id`), one trace per turn, each an `invoke_agent travel-agent` span (AGENT in
 * Phoenix) with the question and the answer, its retrieval, model calls and tools beneath, the
 * tokens and cost of the turn rolled up on it, and one evaluation of an answer.
 *
 *   npx tsx examples/conversation.ts
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006 npx tsx examples/conversation.ts   # into Phoenix
 *
 * Offline on the SIMULATED model, priced as if it were gpt-4o. Content capture is on (the messages
 * show in the UI), with a redaction hook that masks e-mail addresses and API keys wherever they
 * appear: the second question carries both.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import {
  Agent,
  ChatModel,
  Cost,
  Evaluation,
  type GenAI,
  Identity,
  Prompt,
  Redaction,
  Retriever,
  Simulated,
  Tool,
  Tracing
} from "../src/index.ts"

const TracingLive = Tracing.layer({
  serviceName: "beluga-agent",
  serviceVersion: "1.0.0",
  printTraces: true,
  captureContent: true,
  prices: Cost.prices([
    // USD per million tokens.
    { provider: "simulated", model: "sim-gpt-4o", input: 2.5, output: 10, cacheRead: 1.25 },
    { provider: "simulated", model: "sim-embedding-3-small", input: 0.02, output: 0 }
  ]),
  redact: Redaction.redactMatching([/[\w.+-]+@[\w-]+\.[\w.]+/g, /sk-[A-Za-z0-9_-]{8,}/g])
})

const tools = [
  Tool.make({
    name: "get_weather",
    description: "Current weather for a city",
    handler: (args: { readonly query: string }) =>
      Effect.sleep(60).pipe(Effect.as({ city: "Lisbon", forecast: "mild, 17°C", asked: args.query.length }))
  }),
  Tool.make({
    name: "search_trains",
    description: "Trains between two cities",
    handler: () => Effect.sleep(90).pipe(Effect.as({ from: "Lisbon", to: "Porto", duration: "2h58" }))
  })
]

/** One turn: retrieve, let the model call the tools, answer from their results. */
const turn = (history: Array<GenAI.InputMessage>, question: string, judge = false) =>
  Effect.gen(function*() {
    const model = yield* ChatModel.ChatModel
    const docs = yield* (yield* Retriever.Retriever).retrieve(question)
    history.push({ role: "user", parts: [{ type: "text", content: question }] })
    const knowledge = docs[0]?.text ?? ""
    const context: GenAI.InputMessage = { role: "system", parts: [{ type: "text", content: knowledge }] }
    // The system prompt is a versioned template: the model calls record which one, and with what.
    const prompt = Prompt.withPrompt({
      name: "travel-agent-system",
      version: "3",
      template: "{knowledge}",
      variables: { knowledge, question }
    })
    const plan = yield* model.chat({ messages: [context, ...history], tools: tools.map((t) => t.definition) }).pipe(
      prompt
    )
    history.push(ChatModel.toOutputMessage(plan))
    const results = yield* Tool.runAll(tools, plan.toolCalls)
    history.push({
      role: "tool",
      parts: results.map(({ call, result }) => ({ type: "tool_call_response" as const, id: call.id, response: result }))
    })
    const answer = yield* model.chat({ messages: [context, ...history] }).pipe(prompt)
    history.push(ChatModel.toOutputMessage(answer))
    if (judge) {
      // A judge (here, a fixed one) rates the answer: an evaluation event on this turn's agent span.
      yield* Evaluation.evaluate({
        name: "relevance",
        score: 0.9,
        label: "relevant",
        explanation: "answers with the train duration",
        responseId: answer.id
      })
    }
    return answer
  }).pipe(Agent.invoke("travel-agent", {
    provider: Simulated.providerName,
    description: "Plans trips between Lisbon and Porto",
    input: question,
    output: (answer) => answer.text
  }))

const conversation = Effect.gen(function*() {
  const history: Array<GenAI.InputMessage> = []
  yield* turn(history, "What is the weather in Lisbon today?")
  yield* turn(history, "Book me a train to Porto; write to ana@example.com, my key is sk-test-4f9a8b7c6d5e.", true)
  yield* turn(history, "And how long does that train take?")
}).pipe(Identity.withIdentity({ conversationId: "conv-lisbon-porto", sessionId: "session-1", userId: "user-7" }))

conversation.pipe(
  Effect.provide(Simulated.layer()),
  Effect.provide(TracingLive),
  NodeRuntime.runMain
)
