/**
 * The MCP tool server of `examples/mcp.ts`: two tools (`get_weather`, `search_trains`) on an
 * Effect `McpServer`, traced with `Mcp.layerServerStdio` / `Mcp.layerServerHttp`: every request is
 * a SERVER span under the caller's span (its context comes in `params._meta`), with the tool's own
 * work beneath it.
 *
 *   npx tsx examples/mcp-server.ts           # on its own: serves Streamable HTTP on 127.0.0.1, calls
 *                                            # its own tools once through a traced client, prints
 *                                            # the trace and exits
 *   npx tsx examples/mcp-server.ts --stdio   # how examples/mcp.ts runs it: MCP on stdin/stdout
 *
 * Over stdio, standard output is the protocol: the trace trees and the logs go to standard error.
 */
import { NodeHttpServer, NodeRuntime, NodeStdio } from "@effect/platform-node"
import * as McpClient from "effect/ai/McpClient"
import * as McpProtocol from "effect/ai/McpProtocol"
import * as McpServer from "effect/ai/McpServer"
import * as AiTool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import { FetchHttpClient, HttpMiddleware, HttpRouter, HttpServer } from "effect/http"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Schema from "effect/Schema"
import { createServer } from "node:http"
import { Pipeline, Tracing } from "../src/index.ts"
import * as Mcp from "../src/Mcp.ts"

export const serviceName = "beluga-mcp-server"

const Query = Schema.Struct({ query: Schema.String })

const GetWeather = AiTool.make("get_weather", {
  description: "Current weather for a city",
  parameters: Query,
  success: Schema.Struct({ city: Schema.String, forecast: Schema.String })
})
const SearchTrains = AiTool.make("search_trains", {
  description: "Train connections between two cities",
  parameters: Query,
  success: Schema.Struct({ from: Schema.String, to: Schema.String, duration: Schema.String, every: Schema.String })
})
const Tools = Toolkit.make(GetWeather, SearchTrains)

/** The tools' own work, each a span of this server beneath the MCP call's SERVER span. */
const registrations = McpServer.toolkit(Tools).pipe(Layer.provide(Tools.toLayer({
  get_weather: () =>
    Effect.sleep(60).pipe(
      Effect.as({ city: "Lisbon", forecast: "mild, 17°C, light rain" }),
      Pipeline.step("weather-api GET /current", { kind: "client" })
    ),
  search_trains: () =>
    Effect.sleep(80).pipe(
      Effect.as({ from: "Lisbon", to: "Porto", duration: "2h58", every: "1h" }),
      Pipeline.step("timetable lookup")
    )
})))

const server = { name: "travel-tools", version: "1.0.0", registrations }

/** The server over stdio, for a client that starts it as a child process. */
export const stdio = Mcp.layerServerStdio({ ...server, protocols: [McpProtocol.v2025_11_25] }).pipe(
  Layer.provide(NodeStdio.layer)
)

/**
 * The server over Streamable HTTP at `/mcp` on 127.0.0.1 (a free port), both protocol generations.
 * Its HTTP request spans are left out: the examples run it in the process of its client, where such
 * a span's parent (the client's `traceparent` header) would count as remote and cut the printed tree
 * in two. The MCP spans need none of them: the SERVER span's parent comes in `_meta`.
 */
export const http = HttpRouter.serve(
  Mcp.layerServerHttp({
    ...server,
    path: "/mcp",
    protocols: [McpProtocol.v2025_11_25, McpProtocol.v2026_07_28],
    allowSessionTermination: true
  }),
  { disableLogger: true, disableListenLog: true }
).pipe(
  Layer.provide(HttpMiddleware.layerTracerDisabledForUrls(["/mcp"])),
  Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" }))
)

/** The HTTP server's MCP endpoint. */
export const url = HttpServer.addressFormattedWith((address) => Effect.succeed(`${address}/mcp`))

/** On its own: serve over HTTP, call both tools once through a traced client, print the trace. */
const selfCheck = Effect.gen(function*() {
  const endpoint = yield* url
  yield* Effect.gen(function*() {
    const client = yield* McpClient.McpClient
    for (const tool of yield* client.listTools()) {
      yield* client.callTool({ tool, arguments: { query: "Lisbon to Porto" } })
    }
  }).pipe(
    Effect.provide(
      Mcp.layerClientHttp({ name: "self-check", version: "1.0.0", protocol: McpProtocol.v2026_07_28, url: endpoint })
        .pipe(Layer.provide(FetchHttpClient.layer))
    ),
    Pipeline.run("mcp-server-self-check")
  )
}).pipe(
  Effect.provide(http),
  Effect.provide(Tracing.layer({ serviceName, serviceVersion: "1.0.0", printTraces: true }))
)

if (import.meta.filename === process.argv[1]) {
  if (process.argv.includes("--stdio")) {
    Layer.launch(stdio).pipe(
      Effect.provide(Tracing.layer({
        serviceName,
        serviceVersion: "1.0.0",
        printTraces: { write: (text) => process.stderr.write(text) }
      })),
      Effect.provide(Layer.succeed(Logger.LogToStderr, true)),
      NodeRuntime.runMain({ disableErrorReporting: true })
    )
  } else {
    NodeRuntime.runMain(selfCheck)
  }
}
