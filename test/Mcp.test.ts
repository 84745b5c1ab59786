/**
 * MCP tracing in one process, over the real transports: Effect's `McpClient.stdio` talking
 * newline-delimited JSON-RPC to `McpServer.layerStdio` (through an in-memory "child process",
 * `support/mcp-memory.ts`), and `McpClient.http` talking Streamable HTTP to `McpServer.layerHttp`
 * on 127.0.0.1. Asserted on the spans the in-memory exporter holds and on the bytes on the wire:
 * names, kinds, attributes and their types, parents across the boundary, links, `_meta`, the
 * no-duplicate rule, content on and off, errors, hostile input, both protocol generations, metrics.
 */
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Otel from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as McpClient from "effect/ai/McpClient"
import * as McpProtocol from "effect/ai/McpProtocol"
import type * as McpSchema from "effect/ai/McpSchema"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { FetchHttpClient, HttpRouter, HttpServer } from "effect/http"
import * as Layer from "effect/Layer"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as Sink from "effect/Sink"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import * as http from "node:http"
import { EffectAi, GenAI, Propagation, Simulated, Testing, Tool } from "../src/index.ts"
import { ServerTap, tracedStdio } from "../src/internal/mcpServer.ts"
import * as Mcp from "../src/Mcp.ts"
import * as Fixture from "./fixtures/mcp-tools.ts"
import { memoryCommand, spawnerFor, type Wire } from "./support/mcp-memory.ts"

const v2025 = McpProtocol.v2025_11_25
const v2026 = McpProtocol.v2026_07_28
const { CLIENT, INTERNAL, SERVER } = Otel.SpanKind

/** The tracing layer of these tests: in memory, registered globally (the propagator and the context). */
const tracing = (options: Parameters<typeof Testing.layer>[0] = {}) =>
  Testing.layer({ registerGlobal: true, ...options })

const stdioServer = (registrations: Layer.Layer<never, never, any> = Fixture.registrations()) =>
  Mcp.layerServerStdio({
    name: "weather",
    version: "1.0.0",
    protocols: [v2025],
    registrations
  }) as unknown as Layer.Layer<
    never,
    never,
    Stdio.Stdio
  >

const stdioClient = (
  server: Layer.Layer<never, never, Stdio.Stdio>,
  options: Mcp.TraceOptions & {
    readonly wire?: Wire
    readonly rewrite?: (line: string) => string | ReadonlyArray<string>
    readonly hide?: (line: string) => boolean
  } = {}
) =>
  Mcp.layerClientStdio({
    name: "agent",
    version: "1.0.0",
    protocol: v2025,
    command: memoryCommand,
    ...(options.baggage !== undefined ? { baggage: options.baggage } : {})
  }).pipe(Layer.provide(spawnerFor(server, { wire: options.wire, rewrite: options.rewrite, hide: options.hide })))

const newWire = (): Wire => ({ toServer: [], toClient: [] })

/** The one span with this name and kind. */
const only = (spans: ReadonlyArray<ReadableSpan>, name: string, kind?: Otel.SpanKind): ReadableSpan => {
  const found = spans.filter((span) => span.name === name && (kind === undefined || span.kind === kind))
  assert.strictEqual(found.length, 1, `one ${name} (kind ${kind}); spans:\n${Testing.render(spans)}`)
  return found[0]!
}
const idOf = (span: ReadableSpan) => span.spanContext().spanId
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

/** The JSON-RPC messages a side wrote, parsed. */
const messages = (lines: ReadonlyArray<string>): Array<Record<string, any>> =>
  lines.join("").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line))

const callWeather = (options?: { readonly timeout?: Duration.Input }) =>
  Effect.gen(function*() {
    const client = yield* McpClient.McpClient
    const tools = yield* client.listTools()
    const weather = tools.find((tool) => tool.name === "get_weather")!
    return yield* client.callTool({ tool: weather, arguments: { city: "Lisbon" } }, options ?? {})
  })

const toolNamed = (name: string) =>
  Effect.flatMap(
    McpClient.McpClient,
    (client) => Effect.map(client.listTools(), (tools) => tools.find((tool) => tool.name === name)!)
  )

// -----------------------------------------------------------------------------
// stdio
// -----------------------------------------------------------------------------

/** What a hostile client sends before its `tools/list`: junk, and `_meta` no parser should trust. */
const hostile = (line: string): string | ReadonlyArray<string> => {
  const message = JSON.parse(line.trim()) as Record<string, any>
  if (message.method !== "tools/list") return line
  const junk = [
    "{\"jsonrpc\":\"2.0\",\"id\":900}",
    "[]",
    "[1, \"two\", null]",
    JSON.stringify({ jsonrpc: "2.0", method: "x".repeat(10_000), params: {} }),
    JSON.stringify({ jsonrpc: "2.0", id: { nested: true }, method: "tools/list" }),
    JSON.stringify({ jsonrpc: "2.0", method: "notifications/roots/list_changed", params: { _meta: "a string" } })
  ]
  const meta = [
    { traceparent: "00-zzzz" },
    { traceparent: `00-${"0".repeat(32)}-${"0".repeat(16)}-01` },
    { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01${"x".repeat(9000)}` },
    { traceparent: 42 },
    { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01`, tracestate: "k=v,".repeat(5000) },
    { baggage: "k=v,".repeat(5000) }
  ]
  return [
    // Not JSON: passed on as it came (Effect's server drops the chunk and reads on).
    "not json at all\n",
    [
      ...junk,
      ...meta.map((m, i) => JSON.stringify({ jsonrpc: "2.0", id: 1000 + i, method: "ping", params: { _meta: m } })),
      line.trim()
    ].join("\n") + "\n"
  ]
}

/** A `tools/call` of `get_weather` as a client writes it. */
const weatherCall = (id: number, city: string) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "get_weather", arguments: { city } } })
const utf8 = (value: string) => new TextEncoder().encode(value)
/** `bytes` cut at each of `cuts`. */
const cutAt = (bytes: Uint8Array, cuts: ReadonlyArray<number>) =>
  [0, ...cuts].map((start, i) => bytes.slice(start, cuts[i] ?? bytes.length))

describe("Mcp over stdio", () => {
  it.live("one trace: CLIENT then SERVER spans by the conventions, the handler's spans beneath", () =>
    Effect.gen(function*() {
      const wire = newWire()
      const result = yield* callWeather().pipe(
        Effect.withSpan("agent"),
        Effect.provide(stdioClient(stdioServer(), { wire }))
      )
      assert.deepStrictEqual(result.structuredContent, { city: "Lisbon", forecast: "sunny, 24°C" })
      const spans = yield* Testing.finishedSpans
      assert.deepStrictEqual(spans.filter((s) => s.name.startsWith("McpServer")).map((s) => s.name), [])

      const agent = only(spans, "agent")
      const client = only(spans, "tools/call get_weather", CLIENT)
      const server = only(spans, "tools/call get_weather", SERVER)
      const lookup = only(spans, "weather-lookup")
      assert.strictEqual(parentOf(client), idOf(agent))
      assert.strictEqual(parentOf(server), idOf(client))
      // Read from _meta; in one process the client's span itself is the parent (one printed tree).
      assert.notStrictEqual(server.parentSpanContext?.isRemote, true)
      assert.strictEqual(parentOf(lookup), idOf(server))
      for (const span of [client, server, lookup]) {
        assert.strictEqual(span.spanContext().traceId, agent.spanContext().traceId)
      }
      assert.strictEqual(parentOf(only(spans, "tools/list", SERVER)), idOf(only(spans, "tools/list", CLIENT)))

      for (const span of [client, server]) {
        assert.deepStrictEqual(
          span.attributes,
          {
            [Mcp.ATTR_MCP_METHOD_NAME]: "tools/call",
            [GenAI.ATTR_GEN_AI_OPERATION_NAME]: "execute_tool",
            [GenAI.ATTR_GEN_AI_TOOL_NAME]: "get_weather",
            [Mcp.ATTR_JSONRPC_REQUEST_ID]: "3",
            [Mcp.ATTR_MCP_PROTOCOL_VERSION]: "2025-11-25",
            [Mcp.ATTR_NETWORK_TRANSPORT]: "pipe"
          },
          span.kind === SERVER ? "server" : "client"
        )
        assert.strictEqual(span.status.code, Otel.SpanStatusCode.UNSET)
      }
      // The handshake is traced too, and only the request gets jsonrpc.request.id.
      const initialize = only(spans, "initialize", CLIENT)
      assert.strictEqual(initialize.attributes[Mcp.ATTR_JSONRPC_REQUEST_ID], "1")
      assert.strictEqual(parentOf(only(spans, "initialize", SERVER)), idOf(initialize))
      const initialized = only(spans, "notifications/initialized", SERVER)
      assert.isUndefined(initialized.attributes[Mcp.ATTR_JSONRPC_REQUEST_ID])
      assert.isUndefined(initialized.attributes[GenAI.ATTR_GEN_AI_OPERATION_NAME])
      assert.strictEqual(parentOf(initialized), idOf(only(spans, "notifications/initialized", CLIENT)))

      // On the wire: the client span's context, unprefixed, in params._meta of every message.
      const sent = messages(wire.toServer)
      const call = sent.find((m) => m.method === "tools/call")!
      assert.strictEqual(
        call.params._meta.traceparent,
        `00-${client.spanContext().traceId}-${idOf(client)}-01`
      )
      for (const message of sent) assert.isString(message.params?._meta?.traceparent, JSON.stringify(message))
      // What the client sent is MCP: no Effect RPC trace fields.
      assert.isUndefined(call.traceId)
    }).pipe(Effect.provide(tracing())))

  it.live("tool arguments and results only with content capture on", () =>
    Effect.gen(function*() {
      yield* callWeather().pipe(Effect.provide(stdioClient(stdioServer())))
      const spans = yield* Testing.finishedSpans
      for (const kind of [CLIENT, SERVER]) {
        const span = only(spans, "tools/call get_weather", kind)
        assert.strictEqual(span.attributes[GenAI.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS], JSON.stringify({ city: "Lisbon" }))
        assert.deepStrictEqual(
          JSON.parse(span.attributes[GenAI.ATTR_GEN_AI_TOOL_CALL_RESULT] as string),
          { city: "Lisbon", forecast: "sunny, 24°C" }
        )
      }
      // Listing tools carries no content.
      assert.isUndefined(only(spans, "tools/list", CLIENT).attributes[GenAI.ATTR_GEN_AI_TOOL_CALL_RESULT])
    }).pipe(Effect.provide(tracing({ captureContent: true }))))

  it.live("tracestate and baggage travel in _meta; baggage: false sends none", () =>
    Effect.gen(function*() {
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      const parent = OtelTracer.makeExternalSpan({
        traceId,
        spanId: "00f067aa0ba902b7",
        traceFlags: 1,
        traceState: "rojo=00f067aa0ba902b7"
      })
      const wire = newWire()
      yield* callWeather().pipe(
        Propagation.withBaggage({ "tenant.id": "acme" }),
        Effect.withParentSpan(parent),
        Effect.provide(stdioClient(stdioServer(), { wire }))
      )
      const call = messages(wire.toServer).find((m) => m.method === "tools/call")!
      assert.strictEqual(call.params._meta.tracestate, "rojo=00f067aa0ba902b7")
      assert.strictEqual(call.params._meta.baggage, "tenant.id=acme")
      const spans = yield* Testing.finishedSpans
      const server = only(spans, "tools/call get_weather", SERVER)
      assert.strictEqual(server.spanContext().traceId, traceId)
      assert.strictEqual(server.spanContext().traceState?.serialize(), "rojo=00f067aa0ba902b7")
      // Baggage is never recorded as an attribute.
      assert.notInclude(JSON.stringify(spans.map((s) => s.attributes)), "acme")

      const quiet = newWire()
      yield* callWeather().pipe(
        Propagation.withBaggage({ "tenant.id": "acme" }),
        Effect.provide(stdioClient(stdioServer(), { wire: quiet, baggage: false }))
      )
      const quietCall = messages(quiet.toServer).find((m) => m.method === "tools/call")!
      assert.isString(quietCall.params._meta.traceparent)
      assert.isUndefined(quietCall.params._meta.baggage)
    }).pipe(Effect.provide(tracing())))

  it.live("inside the library's execute_tool span: no second span, the MCP attributes go on it", () =>
    Effect.gen(function*() {
      const wire = newWire()
      yield* Effect.gen(function*() {
        const client = yield* McpClient.McpClient
        // A tool of the agent's own whose handler calls the MCP server...
        const weather = yield* toolNamed("get_weather")
        const tool = Tool.make({
          name: "get_weather",
          handler: (args: { readonly city: string }) => client.callTool({ tool: weather, arguments: args })
        })
        yield* tool.call({ city: "Lisbon" }, "call_1")
        // ...and the tools built from tools/list.
        const tools = yield* Mcp.tools(client)
        yield* Tool.runAll(tools, [{ id: "call_2", name: "get_weather", arguments: { city: "Porto" } }])
        const failed = yield* Effect.flip(Tool.runAll(tools, [{ id: "call_3", name: "flaky", arguments: {} }]))
        assert.strictEqual((failed as { readonly _tag: string })._tag, "McpClientError")
      }).pipe(Effect.withSpan("agent"), Effect.provide(stdioClient(stdioServer(), { wire })))
      const spans = yield* Testing.finishedSpans
      assert.deepStrictEqual(spans.filter((s) => s.name.startsWith("tools/call") && s.kind === CLIENT), [])
      const tools = spans.filter((s) => s.name === "execute_tool get_weather")
      assert.strictEqual(tools.length, 2)
      const calls = messages(wire.toServer).filter((m) => m.method === "tools/call")
      for (
        const [i, tool] of tools.toSorted((a, b) =>
          a.startTime[1] - b.startTime[1] + (a.startTime[0] - b.startTime[0]) * 1e9
        ).entries()
      ) {
        assert.strictEqual(tool.kind, INTERNAL)
        assert.strictEqual(tool.attributes[Mcp.ATTR_MCP_METHOD_NAME], "tools/call")
        assert.strictEqual(tool.attributes[Mcp.ATTR_NETWORK_TRANSPORT], "pipe")
        assert.isString(tool.attributes[Mcp.ATTR_JSONRPC_REQUEST_ID])
        assert.strictEqual(tool.attributes[GenAI.ATTR_GEN_AI_TOOL_CALL_ID], `call_${i + 1}`)
        const server = spans.find((s) => s.kind === SERVER && parentOf(s) === idOf(tool))
        assert.isDefined(server, `a SERVER span under ${tool.name}`)
        assert.strictEqual(server!.name, "tools/call get_weather")
        assert.include(
          calls.map((c) => c.params._meta.traceparent),
          `00-${tool.spanContext().traceId}-${idOf(tool)}-01`
        )
      }
      const flaky = only(spans, "execute_tool flaky")
      assert.strictEqual(flaky.attributes[GenAI.ATTR_ERROR_TYPE], "tool_error")
      assert.strictEqual(flaky.status.code, Otel.SpanStatusCode.ERROR)
      assert.strictEqual(only(spans, "tools/call flaky", SERVER).attributes[GenAI.ATTR_ERROR_TYPE], "tool_error")
    }).pipe(Effect.provide(tracing())))

  it.live("Mcp.toolkit: effect/ai runs the server's tools as execute_tool spans beside the model call", () =>
    Effect.gen(function*() {
      const answer = yield* Effect.gen(function*() {
        const kit = yield* Mcp.toolkit(yield* McpClient.McpClient, "docs__")
        return yield* LanguageModel.generateText({ prompt: "What is MCP?", toolkit: kit }).pipe(
          Effect.provide(EffectAi.layer(Simulated.chatProvider({ latency: 0 })))
        )
      }).pipe(Effect.withSpan("agent"), Effect.provide(stdioClient(stdioServer(Fixture.echoRegistrations))))
      assert.include(JSON.stringify(answer.content), "you said: What is MCP?")
      const spans = yield* Testing.finishedSpans
      const agent = only(spans, "agent")
      const tool = only(spans, "execute_tool docs__echo")
      assert.strictEqual(parentOf(tool), idOf(agent), "a sibling of the model call")
      assert.strictEqual(tool.attributes[GenAI.ATTR_GEN_AI_TOOL_NAME], "echo", "the MCP name of the tool")
      assert.strictEqual(tool.attributes[Mcp.ATTR_MCP_METHOD_NAME], "tools/call")
      assert.strictEqual(parentOf(only(spans, "tools/call echo", SERVER)), idOf(tool))
      assert.deepStrictEqual(spans.filter((s) => s.name === "tools/call echo" && s.kind === CLIENT), [])
    }).pipe(Effect.provide(tracing())))

  it.live("errors: a JSON-RPC error code, a tool's isError, the client's deadline", () =>
    Effect.gen(function*() {
      const outcome = yield* Effect.gen(function*() {
        const client = yield* McpClient.McpClient
        const flaky = yield* toolNamed("flaky")
        const slow = yield* toolNamed("slow")
        const reported = yield* client.callTool({ tool: flaky, arguments: {} })
        const unknown = yield* Effect.flip(
          client.callTool({ tool: { ...flaky, name: "no_such_tool" } as McpSchema.Tool, arguments: {} })
        )
        const timedOut = yield* Effect.flip(client.callTool({ tool: slow, arguments: {} }, { timeout: "150 millis" }))
        return { reported, unknown, timedOut }
      }).pipe(Effect.provide(stdioClient(stdioServer())))
      assert.isTrue(outcome.reported.isError)
      assert.strictEqual(outcome.timedOut.reason._tag, "TimeoutError")
      const spans = yield* Testing.finishedSpans

      for (const kind of [CLIENT, SERVER]) {
        const flaky = only(spans, "tools/call flaky", kind)
        assert.strictEqual(flaky.attributes[GenAI.ATTR_ERROR_TYPE], "tool_error")
        assert.isUndefined(flaky.attributes[Mcp.ATTR_RPC_RESPONSE_STATUS_CODE])
        assert.strictEqual(flaky.status.code, Otel.SpanStatusCode.ERROR)
        assert.deepStrictEqual(flaky.events.map((e) => e.name), [], "a tool's error is no exception")
      }
      // An unknown tool is the caller's mistake (-32602): an error on the CLIENT span; the SERVER
      // span records the code and is no error (the conventions' rpc.response.status_code).
      const unknownClient = only(spans, "tools/call no_such_tool", CLIENT)
      assert.strictEqual(unknownClient.attributes[GenAI.ATTR_ERROR_TYPE], "-32602")
      assert.strictEqual(unknownClient.attributes[Mcp.ATTR_RPC_RESPONSE_STATUS_CODE], "-32602")
      assert.strictEqual(unknownClient.status.code, Otel.SpanStatusCode.ERROR)
      assert.include(unknownClient.status.message ?? "", "no_such_tool")
      const unknownServer = only(spans, "tools/call no_such_tool", SERVER)
      assert.strictEqual(unknownServer.attributes[Mcp.ATTR_RPC_RESPONSE_STATUS_CODE], "-32602")
      assert.isUndefined(unknownServer.attributes[GenAI.ATTR_ERROR_TYPE])
      assert.strictEqual(unknownServer.status.code, Otel.SpanStatusCode.UNSET)
      const serverCalls = (yield* Testing.metrics).filter((m) =>
        m.name === Mcp.METRIC_MCP_SERVER_OPERATION_DURATION &&
        m.attributes[GenAI.ATTR_GEN_AI_TOOL_NAME] === "no_such_tool"
      )
      assert.strictEqual(serverCalls.length, 1)
      assert.strictEqual(serverCalls[0]!.attributes[Mcp.ATTR_RPC_RESPONSE_STATUS_CODE], "-32602")
      assert.isUndefined(serverCalls[0]!.attributes[GenAI.ATTR_ERROR_TYPE])
      const slow = only(spans, "tools/call slow", CLIENT)
      assert.strictEqual(slow.attributes[GenAI.ATTR_ERROR_TYPE], "timeout")
      assert.strictEqual(slow.status.code, Otel.SpanStatusCode.ERROR)
      assert.isTrue(slow.ended)
      // The client cancelled the call: the server's span ends then, never answered.
      const served = only(spans, "tools/call slow", SERVER)
      assert.strictEqual(served.attributes[GenAI.ATTR_ERROR_TYPE], "cancelled")
    }).pipe(Effect.provide(tracing())))

  it.live("hostile input: malformed JSON-RPC and broken or oversized _meta start new traces, nothing throws", () =>
    Effect.gen(function*() {
      const tools = yield* Effect.flatMap(McpClient.McpClient, (client) => client.listTools()).pipe(
        // The hostile client's answers are not the real client's to read.
        Effect.provide(stdioClient(stdioServer(), {
          rewrite: hostile,
          hide: (line) => {
            const message = JSON.parse(line) as { readonly id?: unknown; readonly method?: unknown }
            if (Array.isArray(message)) return true
            const id = message.id
            return message.method === undefined && !(typeof id === "number" && id > 0 && id < 900)
          }
        }))
      )
      assert.isAbove(tools.length, 0, "the server still answers")
      const spans = yield* Testing.finishedSpans
      const pings = spans.filter((s) => s.name === "ping" && s.kind === SERVER)
      assert.strictEqual(pings.length, 6)
      for (const ping of pings) {
        // Only the valid traceparent with an oversized tracestate is a parent; its state is dropped.
        if (ping.parentSpanContext !== undefined) {
          assert.strictEqual(ping.parentSpanContext.spanId, "b".repeat(16))
          assert.isUndefined(ping.spanContext().traceState)
        }
      }
      assert.strictEqual(pings.filter((s) => s.parentSpanContext === undefined).length, 5)
      assert.isTrue(spans.every((s) => s.ended))
      assert.isFalse(spans.some((s) => s.name.length > 1000), "an oversized method is no span name")
    }).pipe(Effect.provide(tracing())))

  it.live("a notification flood: every span ends, the server keeps answering", () =>
    Effect.gen(function*() {
      const flood = 2000
      const burst = (line: string): string => {
        const message = JSON.parse(line.trim()) as Record<string, any>
        if (message.method !== "tools/list") return line
        const notification = JSON.stringify({ jsonrpc: "2.0", method: "notifications/roots/list_changed" })
        return `${Array.from({ length: flood }, () => notification).join("\n")}\n${line.trim()}\n`
      }
      const tools = yield* Effect.flatMap(McpClient.McpClient, (client) => client.listTools()).pipe(
        Effect.provide(stdioClient(stdioServer(), { rewrite: burst }))
      )
      assert.isAbove(tools.length, 0)
      const spans = yield* Testing.finishedSpans
      const notifications = spans.filter((s) => s.name === "notifications/roots/list_changed")
      assert.strictEqual(notifications.length, flood)
      assert.isTrue(notifications.every((s) => s.ended && s.kind === SERVER && s.parentSpanContext === undefined))
    }).pipe(Effect.provide(tracing())))

  it.live("the server reads what the client wrote, whatever the chunks: split characters and lines, junk", () =>
    Effect.gen(function*() {
      const answer = JSON.stringify({ jsonrpc: "2.0", id: 9, result: {} })
      const first = utf8(`${weatherCall(1, "São Paulo 東京 🌧")}\n`)
      const chunks = [
        // Cut inside the first line, inside 東 (three bytes) and inside 🌧 (four), then its end and a junk line.
        ...cutAt(first, [5, first.indexOf(0xe6) + 1, first.indexOf(0xf0) + 2]).slice(0, -1),
        new Uint8Array([...first.slice(first.indexOf(0xf0) + 2), ...utf8("not json\n")]),
        // A chunk of whole lines that needs no change.
        utf8(`${answer}\n`),
        // Two lines, cut inside the first.
        ...cutAt(utf8(`${weatherCall(2, "Zürich")}\n${weatherCall(3, "Kraków")}\n`), [60])
      ]
      const stdio = yield* tracedStdio(
        Stdio.make({
          args: Effect.succeed([]),
          stdin: Stream.fromIterable(chunks),
          stdout: () => Sink.drain,
          stderr: () => Sink.drain
        }),
        new ServerTap(Otel.propagation)
      )
      // Effect's own stdio server reads its input with this parser, chunk by chunk.
      const parser = RpcSerialization.ndjson.makeUnsafe()
      const out = yield* Stream.runCollect(stdio.stdin)
      // Every chunk goes on as bytes, as `Stdio` says: rewritten lines encoded, the chunk left alone as it came.
      assert.isTrue(out.every((chunk) => chunk instanceof Uint8Array))
      assert.isTrue(
        out.some((chunk) => chunks.some((given) => given === chunk)),
        "the chunk left alone is passed as it came"
      )
      const read = out.flatMap((chunk) => parser.decode(chunk)) as Array<Record<string, any>>
      assert.deepStrictEqual(read.map((message) => message.params?.arguments?.city ?? message.id), [
        "São Paulo 東京 🌧",
        9,
        "Zürich",
        "Kraków"
      ])
      // Each request now names its SERVER span; the line that is not JSON was dropped, the response kept as sent.
      const spans = yield* Testing.finishedSpans
      for (const message of read.filter((m) => m.method === "tools/call")) {
        assert.match(message.spanId, /^[0-9a-f]{16}$/)
        assert.strictEqual(message.sampled, true)
      }
      assert.deepStrictEqual(read[1], JSON.parse(answer))
      // The input ended with three requests unanswered: their spans end as the connection closes.
      assert.deepStrictEqual(
        spans.filter((s) => s.kind === SERVER).map((s) => s.attributes[GenAI.ATTR_ERROR_TYPE]),
        ["connection_closed", "connection_closed", "connection_closed"]
      )
    }).pipe(Effect.provide(tracing())))

  it.live("records mcp.client/server.operation.duration and the session durations", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const client = yield* McpClient.McpClient
        yield* client.callTool({ tool: yield* toolNamed("flaky"), arguments: {} })
        yield* callWeather()
      }).pipe(Effect.provide(stdioClient(stdioServer())))
      const series = yield* Testing.metrics
      const clientCalls = series.filter((m) =>
        m.name === Mcp.METRIC_MCP_CLIENT_OPERATION_DURATION && m.attributes[Mcp.ATTR_MCP_METHOD_NAME] === "tools/call"
      )
      assert.deepStrictEqual(
        clientCalls.map((
          m
        ) => [m.attributes[GenAI.ATTR_GEN_AI_TOOL_NAME], m.attributes[GenAI.ATTR_ERROR_TYPE], m.count])
          .toSorted(),
        [["flaky", "tool_error", 1], ["get_weather", undefined, 1]] as Array<unknown>
      )
      for (const m of clientCalls) {
        assert.strictEqual(m.attributes[Mcp.ATTR_NETWORK_TRANSPORT], "pipe")
        assert.strictEqual(m.attributes[GenAI.ATTR_GEN_AI_OPERATION_NAME], "execute_tool")
        assert.isUndefined(m.attributes[Mcp.ATTR_JSONRPC_REQUEST_ID], "no ids on metric points")
      }
      assert.isTrue(series.some((m) => m.name === Mcp.METRIC_MCP_SERVER_OPERATION_DURATION && m.count >= 1))
      const sessions = series.filter((m) => m.name === Mcp.METRIC_MCP_CLIENT_SESSION_DURATION)
      assert.strictEqual(sessions.length, 1)
      assert.strictEqual(sessions[0]!.attributes[Mcp.ATTR_MCP_PROTOCOL_VERSION], "2025-11-25")
      assert.isTrue(series.some((m) => m.name === Mcp.METRIC_MCP_SERVER_SESSION_DURATION))
    }).pipe(Effect.provide(tracing())))

  it.live("a sampled-out trace still sends its context (flag 00), and records no span", () =>
    Effect.gen(function*() {
      const wire = newWire()
      yield* callWeather().pipe(Effect.withSpan("agent"), Effect.provide(stdioClient(stdioServer(), { wire })))
      const call = messages(wire.toServer).find((m) => m.method === "tools/call")!
      assert.match(call.params._meta.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/)
      assert.deepStrictEqual((yield* Testing.finishedSpans).map((s) => s.name), [])
    }).pipe(Effect.provide(tracing({ sampler: "always_off" }))))
})

// -----------------------------------------------------------------------------
// Streamable HTTP
// -----------------------------------------------------------------------------

const httpServer = (protocols: ReadonlyArray<McpProtocol.ProtocolAdapter>, allowSessionTermination = false) =>
  Effect.gen(function*() {
    const server = yield* Layer.build(
      HttpRouter.serve(
        Mcp.layerServerHttp({
          name: "weather",
          version: "1.0.0",
          path: "/mcp",
          protocols: protocols as [McpProtocol.ProtocolAdapter],
          registrations: Fixture.registrations(),
          allowSessionTermination
        }),
        { disableLogger: true, disableListenLog: true }
      ).pipe(Layer.provideMerge(NodeHttpServer.layer(() => http.createServer(), { port: 0, host: "127.0.0.1" })))
    )
    return `${yield* HttpServer.addressFormattedWith(Effect.succeed).pipe(Effect.provideContext(server))}/mcp`
  })

const httpClient = (url: string, protocol: McpProtocol.ProtocolAdapter<McpClient.ProtocolVersion>) =>
  Mcp.layerClientHttp({ name: "agent", version: "1.0.0", protocol, url }).pipe(Layer.provide(FetchHttpClient.layer))

describe("Mcp over Streamable HTTP", () => {
  it.live("2025-11-25: the session id on both sides, a link to the HTTP request's span", () =>
    Effect.gen(function*() {
      const url = yield* httpServer([v2025])
      yield* callWeather().pipe(Effect.withSpan("agent"), Effect.provide(httpClient(url, v2025)))
      const spans = yield* Testing.finishedSpans
      const client = only(spans, "tools/call get_weather", CLIENT)
      const server = only(spans, "tools/call get_weather", SERVER)
      assert.strictEqual(parentOf(server), idOf(client))
      const session = client.attributes[Mcp.ATTR_MCP_SESSION_ID]
      assert.isString(session)
      assert.strictEqual(server.attributes[Mcp.ATTR_MCP_SESSION_ID], session)
      // The session is assigned in initialize's answer: both initialize spans have it too.
      assert.strictEqual(only(spans, "initialize", CLIENT).attributes[Mcp.ATTR_MCP_SESSION_ID], session)
      assert.strictEqual(only(spans, "initialize", SERVER).attributes[Mcp.ATTR_MCP_SESSION_ID], session)
      assert.strictEqual(client.attributes[Mcp.ATTR_NETWORK_TRANSPORT], "tcp")
      assert.strictEqual(client.attributes[Mcp.ATTR_NETWORK_PROTOCOL_NAME], "http")
      assert.strictEqual(client.attributes[GenAI.ATTR_SERVER_ADDRESS], "127.0.0.1")
      assert.strictEqual(client.attributes[GenAI.ATTR_SERVER_PORT], Number(new URL(url).port))
      assert.strictEqual(server.attributes[Mcp.ATTR_CLIENT_ADDRESS], "127.0.0.1")
      // The HTTP exchange under the client span, linked from the server span.
      const httpServerSpan = spans.find((s) =>
        s.kind === SERVER && s.name === "POST" && s.spanContext().spanId === server.links[0]?.context.spanId
      )
      assert.isDefined(httpServerSpan, `the server span links the HTTP request's span:\n${Testing.render(spans)}`)
      assert.strictEqual(parentOf(only(spans, "weather-lookup")), idOf(server))
      assert.deepStrictEqual(spans.filter((s) => s.name.startsWith("McpServer")).map((s) => s.name), [])
      const sessions = (yield* Testing.metrics).filter((m) => m.name === Mcp.METRIC_MCP_CLIENT_SESSION_DURATION)
      assert.strictEqual(sessions[0]?.attributes[Mcp.ATTR_NETWORK_PROTOCOL_NAME], "http")
    }).pipe(Effect.scoped, Effect.provide(tracing())))

  it.live("a session the client ends (DELETE) records its duration on both sides", () =>
    Effect.gen(function*() {
      const url = yield* httpServer([v2025], true)
      yield* callWeather().pipe(Effect.provide(httpClient(url, v2025)))
      const series = yield* Testing.metrics
      for (const name of [Mcp.METRIC_MCP_CLIENT_SESSION_DURATION, Mcp.METRIC_MCP_SERVER_SESSION_DURATION]) {
        const sessions = series.filter((m) => m.name === name)
        assert.strictEqual(sessions.length, 1, name)
        assert.strictEqual(sessions[0]!.count, 1, name)
        assert.strictEqual(sessions[0]!.attributes[Mcp.ATTR_MCP_PROTOCOL_VERSION], "2025-11-25", name)
        assert.strictEqual(sessions[0]!.attributes[Mcp.ATTR_NETWORK_PROTOCOL_NAME], "http", name)
        assert.isUndefined(sessions[0]!.attributes[Mcp.ATTR_MCP_SESSION_ID], `${name}: no ids on metric points`)
      }
    }).pipe(Effect.scoped, Effect.provide(tracing())))

  it.live("the HTTP version and the client's port: the server's from the request, the client's where its HTTP client tells", () =>
    Effect.gen(function*() {
      const url = yield* httpServer([v2025])
      const nodeHttp = Mcp.layerClientHttp({ name: "agent", version: "1.0.0", protocol: v2025, url }).pipe(
        Layer.provide(NodeHttpClient.layerNodeHttp)
      )
      yield* callWeather().pipe(Effect.withSpan("agent"), Effect.provide(nodeHttp))
      yield* callWeather().pipe(Effect.withSpan("fetch agent"), Effect.provide(httpClient(url, v2025)))
      const spans = yield* Testing.finishedSpans
      const calls = spans.filter((s) => s.name === "tools/call get_weather")
      assert.strictEqual(calls.length, 4)
      for (const server of calls.filter((s) => s.kind === SERVER)) {
        assert.strictEqual(server.attributes[Mcp.ATTR_NETWORK_PROTOCOL_VERSION], "1.1")
        assert.strictEqual(server.attributes[Mcp.ATTR_CLIENT_ADDRESS], "127.0.0.1")
        const port = server.attributes[Mcp.ATTR_CLIENT_PORT]
        assert.isTrue(Number.isInteger(port) && (port as number) > 0, `client.port ${String(port)}`)
        assert.notStrictEqual(port, Number(new URL(url).port), "the client's own port, not the server's")
        assert.isUndefined(server.attributes[GenAI.ATTR_SERVER_PORT])
      }
      const clientSpans = (name: string) =>
        spans.filter((s) => s.name === name && s.kind === CLIENT).toSorted((a, b) =>
          a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]
        )
      const [viaNode, viaFetch] = clientSpans("tools/call get_weather")
      // node:http tells the version of each response; fetch does not, so nothing is guessed.
      assert.strictEqual(viaNode!.attributes[Mcp.ATTR_NETWORK_PROTOCOL_VERSION], "1.1")
      assert.isUndefined(viaFetch!.attributes[Mcp.ATTR_NETWORK_PROTOCOL_VERSION])
      // The first request learns it from its own response (an end attribute), those after start with it.
      const [initialize] = clientSpans("initialize")
      assert.strictEqual(initialize!.attributes[Mcp.ATTR_NETWORK_PROTOCOL_VERSION], "1.1")
      assert.strictEqual(clientSpans("tools/list")[0]!.attributes[Mcp.ATTR_NETWORK_PROTOCOL_VERSION], "1.1")
      assert.isUndefined(viaNode!.attributes[Mcp.ATTR_CLIENT_PORT], "client.port is the server side's")
      // The version is on the operation durations; the client's port (unbounded) is not.
      const points = (yield* Testing.metrics).filter((m) => m.name === Mcp.METRIC_MCP_SERVER_OPERATION_DURATION)
      assert.isAbove(points.length, 0)
      for (const point of points) {
        assert.strictEqual(point.attributes[Mcp.ATTR_NETWORK_PROTOCOL_VERSION], "1.1")
        assert.isUndefined(point.attributes[Mcp.ATTR_CLIENT_PORT])
        assert.isUndefined(point.attributes[Mcp.ATTR_CLIENT_ADDRESS])
      }
    }).pipe(Effect.scoped, Effect.provide(tracing())))

  it.live("2026-07-28: server/discover, the revision per request, no session", () =>
    Effect.gen(function*() {
      const url = yield* httpServer([v2026])
      yield* callWeather().pipe(Effect.withSpan("agent"), Effect.provide(httpClient(url, v2026)))
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(spans.filter((s) => s.name === "initialize").length, 0)
      assert.strictEqual(parentOf(only(spans, "server/discover", SERVER)), idOf(only(spans, "server/discover", CLIENT)))
      const mcpSpans = spans.filter((s) => s.attributes[Mcp.ATTR_MCP_METHOD_NAME] !== undefined)
      assert.isAbove(mcpSpans.length, 5)
      for (const span of mcpSpans) {
        assert.strictEqual(span.attributes[Mcp.ATTR_MCP_PROTOCOL_VERSION], "2026-07-28", span.name)
        assert.isUndefined(span.attributes[Mcp.ATTR_MCP_SESSION_ID], span.name)
      }
      assert.strictEqual(
        parentOf(only(spans, "tools/call get_weather", SERVER)),
        idOf(only(spans, "tools/call get_weather", CLIENT))
      )
      const sessions = (yield* Testing.metrics).filter((m) => m.name.endsWith(".session.duration"))
      assert.deepStrictEqual(sessions, [], "no session, no session duration")
    }).pipe(Effect.scoped, Effect.provide(tracing())))

  it.live("without _meta the server parents on the request's traceparent header", () =>
    Effect.gen(function*() {
      const url = yield* httpServer([v2026])
      const traceId = "0af7651916cd43dd8448eb211c80319c"
      const response = yield* Effect.promise(() =>
        fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "mcp-protocol-version": "2026-07-28",
            "mcp-method": "tools/list",
            traceparent: `00-${traceId}-b7ad6b7169203331-01`
          },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 7,
            method: "tools/list",
            params: {
              _meta: {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
                "io.modelcontextprotocol/clientCapabilities": {}
              }
            }
          })
        }).then((r) => r.text())
      )
      assert.include(response, "get_weather")
      const spans = yield* Testing.finishedSpans
      const server = only(spans, "tools/list", SERVER)
      assert.strictEqual(server.spanContext().traceId, traceId)
      assert.strictEqual(parentOf(server), "b7ad6b7169203331")
      assert.strictEqual(server.attributes[Mcp.ATTR_JSONRPC_REQUEST_ID], "7")
    }).pipe(Effect.scoped, Effect.provide(tracing())))
})
