/**
 * MCP tracing across implementations and processes: the official TypeScript SDK's client calling
 * an Effect `McpServer`, and Effect's `McpClient` calling a server written with the SDK, each server
 * a child process (`test/fixtures/mcp-*.ts`, run with tsx as a user runs them) exporting its spans
 * over OTLP/HTTP to a receiver in this process; one trace each, asserted on the decoded spans with
 * their wire types. Then a server that dies in the middle of a call, and the 2.x SDK packages
 * (`@modelcontextprotocol/client` / `server`) in this process, over Streamable HTTP and in memory.
 */
import { NodeHttpServer, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Client as ClientV2, InMemoryTransport, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Client as SdkClient } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { McpServer as SdkServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { McpServer as ServerV2 } from "@modelcontextprotocol/server"
import * as Otel from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as McpClient from "effect/ai/McpClient"
import * as McpProtocol from "effect/ai/McpProtocol"
import * as Effect from "effect/Effect"
import { FetchHttpClient, HttpRouter, HttpServer } from "effect/http"
import * as Layer from "effect/Layer"
import * as ChildProcess from "effect/process/ChildProcess"
import * as http from "node:http"
import * as path from "node:path"
import { z } from "zod"
import { GenAI, Testing } from "../src/index.ts"
import * as Mcp from "../src/Mcp.ts"
import * as McpSdk from "../src/McpSdk.ts"
import * as Fixture from "./fixtures/mcp-tools.ts"
import { cleanEnv, root } from "./support/processes.ts"
import { type AttrValue, makeReceiver, type ReceivedSpan, type Receiver } from "./support/receiver.ts"

const tsx = path.join(root, "node_modules", ".bin", "tsx")
const fixture = (name: string) => path.join(root, "test", "fixtures", `${name}.ts`)
const SERVER = 2
const tracing = () => Testing.layer({ registerGlobal: true })

/** What a child needs to export to the receiver promptly. */
const childEnv = (receiver: Receiver): Record<string, string> => ({
  ...cleanEnv(),
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_BSP_SCHEDULE_DELAY: "50",
  OTEL_METRICS_EXPORTER: "none"
})

const text = (attributes: Readonly<Record<string, AttrValue>>, key: string): string | undefined => {
  const value = attributes[key]
  assert.isTrue(value === undefined || value.type === "string", `${key} is a string on the wire`)
  return value?.type === "string" ? value.value : undefined
}
const serviceOf = (span: ReceivedSpan) => text(span.resource, "service.name")

const received = (spans: ReadonlyArray<ReceivedSpan>, name: string, service: string): ReceivedSpan => {
  const found = spans.filter((span) => span.name === name && serviceOf(span) === service)
  assert.strictEqual(
    found.length,
    1,
    `one ${name} from ${service}; received:\n${spans.map((s) => `${serviceOf(s)} ${s.name}`).join("\n")}`
  )
  return found[0]!
}

const local = (spans: ReadonlyArray<ReadableSpan>, name: string, kind: Otel.SpanKind): ReadableSpan => {
  const found = spans.filter((span) => span.name === name && span.kind === kind)
  assert.strictEqual(found.length, 1, `one local ${name}:\n${Testing.render(spans)}`)
  return found[0]!
}

/** Waits until the receiver holds a span matching `predicate` (children end, and export, first). */
const waitFor = (receiver: Receiver, predicate: (span: ReceivedSpan) => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 300; i++) {
      if (receiver.spans().some(predicate)) return receiver.spans()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return receiver.spans()
  })

describe("the official SDK's client → an Effect McpServer (child process, stdio)", () => {
  it.live(
    "one trace: the SDK client's CLIENT span parents the Effect server's SERVER span",
    () =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        const client = new SdkClient({ name: "sdk-agent", version: "1.0.0" })
        const transport = McpSdk.traceTransport(
          new StdioClientTransport({
            command: tsx,
            args: [fixture("mcp-effect-server")],
            env: childEnv(receiver),
            cwd: root
          })
        )
        const result = yield* Effect.promise(async () => {
          await client.connect(transport)
          return client.callTool({ name: "get_weather", arguments: { city: "Lisbon" } })
        }).pipe(Effect.withSpan("agent"))
        assert.deepStrictEqual(result.structuredContent, { city: "Lisbon", forecast: "sunny, 24°C" })
        const flaky = yield* Effect.promise(() => client.callTool({ name: "flaky", arguments: {} }))
        assert.isTrue(flaky.isError)
        yield* Effect.promise(() => client.close())

        const spans = yield* waitFor(receiver, (s) => s.name === "tools/call flaky" && s.kind === SERVER)
        const ours = yield* Testing.finishedSpans
        const agent = local(ours, "agent", Otel.SpanKind.INTERNAL)
        const call = local(ours, "tools/call get_weather", Otel.SpanKind.CLIENT)
        assert.strictEqual(call.parentSpanContext?.spanId, agent.spanContext().spanId)
        assert.strictEqual(call.attributes[Mcp.ATTR_NETWORK_TRANSPORT], "pipe")
        assert.strictEqual(call.attributes[Mcp.ATTR_MCP_PROTOCOL_VERSION], "2025-11-25")

        const server = received(spans, "tools/call get_weather", "mcp-effect-server")
        assert.strictEqual(server.kind, SERVER)
        assert.strictEqual(server.traceId, agent.spanContext().traceId)
        assert.strictEqual(server.parentSpanId, call.spanContext().spanId)
        assert.strictEqual(text(server.attributes, Mcp.ATTR_MCP_METHOD_NAME), "tools/call")
        assert.strictEqual(text(server.attributes, GenAI.ATTR_GEN_AI_TOOL_NAME), "get_weather")
        assert.strictEqual(
          text(server.attributes, Mcp.ATTR_JSONRPC_REQUEST_ID),
          String(call.attributes[Mcp.ATTR_JSONRPC_REQUEST_ID])
        )
        assert.strictEqual(text(server.attributes, Mcp.ATTR_NETWORK_TRANSPORT), "pipe")
        assert.strictEqual(text(server.attributes, Mcp.ATTR_MCP_PROTOCOL_VERSION), "2025-11-25")
        assert.strictEqual(server.status.code, 0, "status unset on success")
        const lookup = received(spans, "weather-lookup", "mcp-effect-server")
        assert.strictEqual(lookup.parentSpanId, server.spanId)
        assert.deepStrictEqual(spans.filter((s) => s.name.startsWith("McpServer")).map((s) => s.name), [])

        const failed = received(spans, "tools/call flaky", "mcp-effect-server")
        assert.strictEqual(text(failed.attributes, GenAI.ATTR_ERROR_TYPE), "tool_error")
        assert.strictEqual(failed.status.code, 2)
        assert.strictEqual(
          local(ours, "tools/call flaky", Otel.SpanKind.CLIENT).attributes[GenAI.ATTR_ERROR_TYPE],
          "tool_error"
        )
      }).pipe(Effect.scoped, Effect.provide(tracing())),
    60_000
  )
})

const effectClient = (receiver: Receiver, server: string) =>
  Mcp.layerClientStdio({
    name: "agent",
    version: "1.0.0",
    protocol: McpProtocol.v2025_11_25,
    command: ChildProcess.make(tsx, [fixture(server)], { cwd: root, env: childEnv(receiver), extendEnv: false })
  }).pipe(Layer.provide(NodeServices.layer))

const toolNamed = (name: string) =>
  Effect.flatMap(
    McpClient.McpClient,
    (client) => Effect.map(client.listTools(), (tools) => tools.find((tool) => tool.name === name)!)
  )

describe("Effect's McpClient → a server written with the official SDK (child process, stdio)", () => {
  it.live(
    "one trace: the Effect client's CLIENT span parents the SDK server's SERVER span",
    () =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        yield* Effect.gen(function*() {
          const client = yield* McpClient.McpClient
          const weather = yield* toolNamed("get_weather")
          const result = yield* client.callTool({ tool: weather, arguments: { city: "Porto" } })
          assert.deepStrictEqual(result.content, [{ type: "text", text: "sunny in Porto" }])
          const flaky = yield* client.callTool({ tool: yield* toolNamed("flaky"), arguments: {} })
          assert.isTrue(flaky.isError)
        }).pipe(Effect.withSpan("agent"), Effect.provide(effectClient(receiver, "mcp-sdk-server")))

        const spans = yield* waitFor(receiver, (s) => s.name === "tools/call flaky" && s.kind === SERVER)
        const ours = yield* Testing.finishedSpans
        const agent = local(ours, "agent", Otel.SpanKind.INTERNAL)
        const call = local(ours, "tools/call get_weather", Otel.SpanKind.CLIENT)
        const server = received(spans, "tools/call get_weather", "mcp-sdk-server")
        assert.strictEqual(server.kind, SERVER)
        assert.strictEqual(server.traceId, agent.spanContext().traceId)
        assert.strictEqual(server.parentSpanId, call.spanContext().spanId)
        assert.strictEqual(text(server.attributes, GenAI.ATTR_GEN_AI_OPERATION_NAME), "execute_tool")
        assert.strictEqual(
          text(server.attributes, Mcp.ATTR_JSONRPC_REQUEST_ID),
          call.attributes[Mcp.ATTR_JSONRPC_REQUEST_ID]
        )
        assert.strictEqual(text(server.attributes, Mcp.ATTR_MCP_PROTOCOL_VERSION), "2025-11-25")
        assert.strictEqual(text(server.attributes, Mcp.ATTR_NETWORK_TRANSPORT), "pipe")
        assert.strictEqual(server.scope.name, "beluga-o11y")
        // The handler's own OTel span runs with the SERVER span active.
        assert.strictEqual(received(spans, "weather-lookup", "mcp-sdk-server").parentSpanId, server.spanId)
        const initialize = received(spans, "initialize", "mcp-sdk-server")
        assert.strictEqual(
          initialize.parentSpanId,
          local(ours, "initialize", Otel.SpanKind.CLIENT).spanContext().spanId
        )
        const failed = received(spans, "tools/call flaky", "mcp-sdk-server")
        assert.strictEqual(text(failed.attributes, GenAI.ATTR_ERROR_TYPE), "tool_error")
      }).pipe(Effect.scoped, Effect.provide(tracing())),
    60_000
  )

  it.live(
    "a server that dies in the middle of a call: the client's span ends with error.type, nothing hangs",
    () =>
      Effect.gen(function*() {
        const receiver = yield* makeReceiver()
        const error = yield* Effect.gen(function*() {
          const client = yield* McpClient.McpClient
          return yield* Effect.flip(client.callTool({ tool: yield* toolNamed("crash"), arguments: {} }))
        }).pipe(Effect.provide(effectClient(receiver, "mcp-effect-server")))
        assert.strictEqual(error._tag, "McpClientError")
        const span = local(yield* Testing.finishedSpans, "tools/call crash", Otel.SpanKind.CLIENT)
        assert.isTrue(span.ended)
        assert.strictEqual(span.status.code, Otel.SpanStatusCode.ERROR)
        assert.include(["TransportError", "connection_closed"], span.attributes[GenAI.ATTR_ERROR_TYPE])
      }).pipe(Effect.scoped, Effect.provide(tracing())),
    60_000
  )
})

describe("Effect's McpClient → the official SDK's server over Streamable HTTP (this process)", () => {
  it.live(
    "the SDK server's span parents on _meta, over the HTTP request's own traceparent",
    () =>
      Effect.gen(function*() {
        const sdk = new SdkServer({ name: "sdk-weather", version: "1.0.0" })
        sdk.registerTool(
          "get_weather",
          { inputSchema: { city: z.string() } },
          async ({ city }) => ({ content: [{ type: "text" as const, text: `sunny in ${city}` }] })
        )
        const transport = McpSdk.traceTransport(new StreamableHTTPServerTransport({ sessionIdGenerator: () => "s-1" }))
        yield* Effect.promise(() => sdk.connect(transport))
        const endpoint = yield* Effect.acquireRelease(
          Effect.promise(() =>
            new Promise<{ readonly server: http.Server; readonly url: string }>((resolve) => {
              const server = http.createServer((request, response) => {
                let body = ""
                request.on("data", (chunk: Buffer) => (body += chunk.toString()))
                request.on("end", () => {
                  void transport.handleRequest(request, response, body === "" ? undefined : JSON.parse(body))
                })
              })
              server.listen(0, "127.0.0.1", () => {
                const address = server.address() as { readonly port: number }
                resolve({ server, url: `http://127.0.0.1:${address.port}/mcp` })
              })
            })
          ),
          ({ server }) =>
            Effect.promise(() =>
              new Promise<void>((resolve) => {
                server.closeAllConnections()
                server.close(() => resolve())
              })
            )
        ).pipe(Effect.map(({ url }) => url))
        yield* Effect.gen(function*() {
          const client = yield* McpClient.McpClient
          yield* client.callTool({ tool: yield* toolNamed("get_weather"), arguments: { city: "Faro" } })
        }).pipe(
          Effect.withSpan("agent"),
          Effect.provide(
            Mcp.layerClientHttp({
              name: "agent",
              version: "1.0.0",
              protocol: McpProtocol.v2025_11_25,
              url: endpoint
            }).pipe(
              Layer.provide(FetchHttpClient.layer)
            )
          )
        )
        const spans = yield* Testing.finishedSpans
        const call = local(spans, "tools/call get_weather", Otel.SpanKind.CLIENT)
        const served = local(spans, "tools/call get_weather", Otel.SpanKind.SERVER)
        // The HTTP request carried its own span's traceparent (Effect's HTTP client); _meta wins.
        assert.strictEqual(served.parentSpanContext?.spanId, call.spanContext().spanId)
        assert.strictEqual(served.attributes[Mcp.ATTR_MCP_SESSION_ID], "s-1")
        assert.strictEqual(call.attributes[Mcp.ATTR_MCP_SESSION_ID], "s-1")
        assert.strictEqual(served.attributes[Mcp.ATTR_NETWORK_TRANSPORT], "tcp")
        assert.strictEqual(served.attributes[Mcp.ATTR_MCP_PROTOCOL_VERSION], "2025-11-25")
        yield* Effect.promise(() => sdk.close())
      }).pipe(Effect.scoped, Effect.provide(tracing())),
    30_000
  )
})

// -----------------------------------------------------------------------------
// The 2.x SDK packages, in this process
// -----------------------------------------------------------------------------

describe("the 2.x SDK (@modelcontextprotocol/client and server)", () => {
  it.live(
    "its client over Streamable HTTP → an Effect McpServer, both revisions: one trace each",
    () =>
      Effect.gen(function*() {
        const server = yield* Layer.build(
          HttpRouter.serve(
            Mcp.layerServerHttp({
              name: "weather",
              version: "1.0.0",
              path: "/mcp",
              protocols: [McpProtocol.v2026_07_28, McpProtocol.v2025_11_25],
              registrations: Fixture.registrations()
            }),
            { disableLogger: true, disableListenLog: true }
          ).pipe(Layer.provideMerge(NodeHttpServer.layer(() => http.createServer(), { port: 0, host: "127.0.0.1" })))
        )
        const url = new URL(
          `${yield* HttpServer.addressFormattedWith(Effect.succeed).pipe(Effect.provideContext(server))}/mcp`
        )
        const client = new ClientV2({ name: "sdk2-agent", version: "2.0.0" })
        yield* Effect.promise(() => client.connect(McpSdk.traceTransport(new StreamableHTTPClientTransport(url))))
        const result = yield* Effect.promise(() =>
          client.callTool({ name: "get_weather", arguments: { city: "Lisbon" } })
        )
          .pipe(Effect.withSpan("agent"))
        assert.deepStrictEqual(result.structuredContent, { city: "Lisbon", forecast: "sunny, 24°C" })
        yield* Effect.promise(() => client.close())
        const spans = yield* Testing.finishedSpans
        const call = local(spans, "tools/call get_weather", Otel.SpanKind.CLIENT)
        const served = local(spans, "tools/call get_weather", Otel.SpanKind.SERVER)
        assert.strictEqual(served.parentSpanContext?.spanId, call.spanContext().spanId)
        assert.strictEqual(call.attributes[GenAI.ATTR_SERVER_ADDRESS], "127.0.0.1")
        assert.strictEqual(call.attributes[Mcp.ATTR_NETWORK_TRANSPORT], "tcp")
        const version = served.attributes[Mcp.ATTR_MCP_PROTOCOL_VERSION]
        assert.include(["2025-11-25", "2026-07-28"], version)
        if (version === "2026-07-28") assert.isUndefined(served.attributes[Mcp.ATTR_MCP_SESSION_ID])
        else assert.isString(served.attributes[Mcp.ATTR_MCP_SESSION_ID])
      }).pipe(Effect.scoped, Effect.provide(tracing())),
    30_000
  )

  it.live(
    "its client and server in memory, both traced: the handler runs under the SERVER span",
    () =>
      Effect.gen(function*() {
        const server = new ServerV2({ name: "sdk2-weather", version: "2.0.0" })
        server.registerTool(
          "get_weather",
          { description: "Current weather", inputSchema: z.object({ city: z.string() }) },
          async ({ city }: { readonly city: string }) =>
            Otel.trace.getTracer("sdk2").startActiveSpan("weather-lookup", (span) => {
              span.end()
              return { content: [{ type: "text" as const, text: `sunny in ${city}` }] }
            })
        )
        const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
        yield* Effect.promise(() => server.connect(McpSdk.traceTransport(serverSide as any)))
        const client = new ClientV2({ name: "sdk2-agent", version: "2.0.0" })
        yield* Effect.promise(() => client.connect(McpSdk.traceTransport(clientSide as any)))
        yield* Effect.promise(() => client.callTool({ name: "get_weather", arguments: { city: "Faro" } })).pipe(
          Effect.withSpan("agent")
        )
        yield* Effect.promise(() => client.close())
        const spans = yield* Testing.finishedSpans
        const agent = local(spans, "agent", Otel.SpanKind.INTERNAL)
        const call = local(spans, "tools/call get_weather", Otel.SpanKind.CLIENT)
        const served = local(spans, "tools/call get_weather", Otel.SpanKind.SERVER)
        assert.strictEqual(call.parentSpanContext?.spanId, agent.spanContext().spanId)
        assert.strictEqual(served.parentSpanContext?.spanId, call.spanContext().spanId)
        assert.strictEqual(
          local(spans, "weather-lookup", Otel.SpanKind.INTERNAL).parentSpanContext?.spanId,
          served.spanContext().spanId
        )
      }).pipe(Effect.scoped, Effect.provide(tracing())),
    30_000
  )

  it.live(
    "McpSdk.tools: the SDK client's tools as execute_tool spans carrying the MCP attributes",
    () =>
      Effect.gen(function*() {
        const server = new ServerV2({ name: "sdk2-weather", version: "2.0.0" })
        server.registerTool(
          "get_weather",
          { inputSchema: z.object({ city: z.string() }) },
          async ({ city }: { readonly city: string }) => ({
            content: [{ type: "text" as const, text: `sunny in ${city}` }]
          })
        )
        const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
        yield* Effect.promise(() => server.connect(McpSdk.traceTransport(serverSide as any)))
        const client = new ClientV2({ name: "sdk2-agent", version: "2.0.0" })
        yield* Effect.promise(() => client.connect(McpSdk.traceTransport(clientSide as any)))
        const tools = yield* McpSdk.tools(client as unknown as McpSdk.Client)
        yield* tools[0]!.call({ city: "Faro" }, "call_9").pipe(Effect.withSpan("agent"))
        yield* Effect.promise(() => client.close())
        const spans = yield* Testing.finishedSpans
        assert.deepStrictEqual(
          spans.filter((s) => s.name === "tools/call get_weather" && s.kind === Otel.SpanKind.CLIENT),
          []
        )
        const tool = local(spans, "execute_tool get_weather", Otel.SpanKind.INTERNAL)
        assert.strictEqual(tool.attributes[Mcp.ATTR_MCP_METHOD_NAME], "tools/call")
        assert.strictEqual(tool.attributes[GenAI.ATTR_GEN_AI_TOOL_CALL_ID], "call_9")
        assert.strictEqual(
          local(spans, "tools/call get_weather", Otel.SpanKind.SERVER).parentSpanContext?.spanId,
          tool.spanContext().spanId
        )
      }).pipe(Effect.scoped, Effect.provide(tracing())),
    30_000
  )
})
