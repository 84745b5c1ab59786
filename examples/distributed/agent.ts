/**
 * The agent of `examples/distributed.ts`: a simulated model asks for the `search_docs` tool, and
 * the tool's handler calls the tool service over HTTP with Effect's `HttpClient`.
 *
 *   agent-workflow
 *   ├─ chat sim-gpt-4o                 (asks for search_docs)
 *   ├─ execute_tool search_docs
 *   │  └─ POST                         (Effect's client span; traceparent, tracestate, baggage)
 *   │     └─ … the tool service's spans, in its own process
 *   └─ chat sim-gpt-4o                 (answers from the tool result)
 */
import * as Effect from "effect/Effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import * as Layer from "effect/Layer"
import { ChatModel, Pipeline, Tool } from "../../src/index.ts"
import { Propagation } from "../../src/index.ts"

export const serviceName = "beluga-agent"

/** The `search_docs` tool: a call to the tool service. */
export const searchDocs = (toolServiceUrl: string) =>
  Tool.make({
    name: "search_docs",
    description: "Searches the knowledge base of the tool service",
    parameters: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
    handler: ({ query }: { readonly query: string }) =>
      Effect.gen(function*() {
        const http = HttpClient.filterStatusOk(yield* HttpClient.HttpClient)
        const response = yield* http.execute(
          HttpClientRequest.post(new URL("/tools/search_docs", toolServiceUrl).href).pipe(
            HttpClientRequest.bodyJsonUnsafe({ query })
          )
        )
        return yield* response.json
      })
  })

/** One agent run: plan with the model, call the tool, answer. */
export const agent = (question: string, toolServiceUrl: string) =>
  Effect.gen(function*() {
    const model = yield* ChatModel.ChatModel
    const tools = [searchDocs(toolServiceUrl)]
    const userMessage = { role: "user", parts: [{ type: "text" as const, content: question }] }
    const plan = yield* model.chat({ messages: [userMessage], tools: tools.map((t) => t.definition), maxTokens: 512 })
    const results = yield* Tool.runAll(tools, plan.toolCalls)
    const answer = yield* model.chat({
      messages: [
        userMessage,
        { role: "assistant", parts: plan.toolCalls.map((c) => ({ type: "tool_call" as const, ...c })) },
        ...results.map(({ call, result }) => ({
          role: "tool",
          parts: [{ type: "tool_call_response" as const, id: call.id, response: result }]
        }))
      ],
      maxTokens: 512
    })
    return { answer: answer.text, results: results.map(({ result }) => result) }
  }).pipe(Pipeline.run("agent-workflow", { attributes: { "gen_ai.agent.name": "docs-assistant" } }))

/**
 * Effect's fetch client with propagation: every request carries `traceparent` + `tracestate`;
 * only the tool service's host gets the baggage.
 */
export const httpClientLayer = (toolServiceUrl: string) =>
  Propagation.layerClient({ baggageAllowList: [new URL(toolServiceUrl).host] }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )
