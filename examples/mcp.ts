/**
 * An agent whose tools come from MCP servers, traced into one trace: the weather over stdio (the
 * server of `examples/mcp-server.ts` as a child process), the trains over Streamable HTTP (the same
 * server, in this process). The MCP layers replace Effect's `McpClient.layerStdio` / `layerHttp`;
 * the agent code has no tracing in it.
 *
 *   npx tsx examples/mcp.ts
 *
 *   mcp-agent                                  beluga-agent
 *   ├─ initialize, tools/list                  (stdio: CLIENT spans; the child prints their SERVER spans)
 *   ├─ initialize, tools/list                  (HTTP: CLIENT spans, each with its POST and SERVER span)
 *   ├─ chat sim-gpt-4o                         (asks for both tools)
 *   ├─ execute_tool get_weather                (the MCP attributes on the tool's own span, no second span)
 *   ├─ execute_tool search_trains
 *   │  ├─ POST                                 (the HTTP exchange)
 *   │  └─ tools/call search_trains             (the server's SERVER span, in this process)
 *   │     └─ timetable lookup
 *   └─ chat sim-gpt-4o                         (answers from the tool results)
 *
 *   tools/call get_weather                     beluga-mcp-server, the child, same trace id
 *   └─ weather-api GET /current
 *
 * Each process prints what it recorded: this one the first tree, the child (on its standard error:
 * its standard output is the protocol) its part, under the same trace id; a collector shows them
 * as one tree, the child's `tools/call get_weather` under `execute_tool get_weather`. Everything is
 * simulated and offline; with no collector on localhost:4318 both processes say so in one line.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import * as McpClient from "effect/ai/McpClient"
import * as McpProtocol from "effect/ai/McpProtocol"
import type * as McpSchema from "effect/ai/McpSchema"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { FetchHttpClient } from "effect/http"
import * as Layer from "effect/Layer"
import * as ChildProcess from "effect/process/ChildProcess"
import { fileURLToPath } from "node:url"
import { ChatModel, Pipeline, Simulated, Tool, Tracing } from "../src/index.ts"
import * as Mcp from "../src/Mcp.ts"
import * as ToolServer from "./mcp-server.ts"

/** The tool server as a child process, started the way this program was (Node with tsx's loader). */
const WeatherClient = Mcp.layerClientStdio({
  name: "travel-agent",
  version: "1.0.0",
  protocol: McpProtocol.v2025_11_25,
  command: ChildProcess.make(
    process.execPath,
    [...process.execArgv, fileURLToPath(new URL("mcp-server.ts", import.meta.url)), "--stdio"],
    { stderr: "inherit" }
  )
}).pipe(Layer.provide(NodeServices.layer))

const TrainsClient = (url: string) =>
  Mcp.layerClientHttp({ name: "travel-agent", version: "1.0.0", protocol: McpProtocol.v2025_11_25, url }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )

/** One client per server (each its own `McpClient`), open for the rest of the run. */
const connect = <E, R>(layer: Layer.Layer<McpClient.McpClient, E, R>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, McpClient.McpClient))

const agent = (question: string) =>
  Effect.gen(function*() {
    const weather = yield* connect(WeatherClient)
    const trains = yield* connect(TrainsClient(yield* ToolServer.url))
    // The agent's tools are the servers' (tools/list), one of each.
    const tools = [
      ...(yield* Mcp.tools(weather)).filter((tool) => tool.definition.name === "get_weather"),
      ...(yield* Mcp.tools(trains)).filter((tool) => tool.definition.name === "search_trains")
    ]
    const model = yield* ChatModel.ChatModel
    const user = { role: "user", parts: [{ type: "text" as const, content: question }] }
    const plan = yield* model.chat({ messages: [user], tools: tools.map((tool) => tool.definition) })
    const results = yield* Tool.runAll(tools, plan.toolCalls)
    const answer = yield* model.chat({
      messages: [
        user,
        { role: "assistant", parts: plan.toolCalls.map((call) => ({ type: "tool_call" as const, ...call })) },
        ...results.map(({ call, result }) => ({
          role: "tool",
          parts: [{
            type: "tool_call_response" as const,
            id: call.id,
            response: (result as McpSchema.CallToolResult).structuredContent
          }]
        }))
      ]
    })
    return answer.text
  }).pipe(Effect.scoped, Pipeline.run("mcp-agent"))

agent("What's the weather in Lisbon, and how do I get to Porto by train?").pipe(
  Effect.flatMap((answer) => Effect.log(answer)),
  Effect.provide(ToolServer.http),
  Effect.provide(Simulated.layer()),
  Effect.provide(Tracing.layer({ serviceName: "beluga-agent", serviceVersion: "1.0.0", printTraces: true })),
  NodeRuntime.runMain
)
