/**
 * Model Context Protocol tracing for Effect's `effect/ai` `McpClient` and `McpServer`: one trace
 * from the agent into the MCP server and back, by the GenAI conventions' MCP page.
 *
 * - Client: {@link layerClientStdio} / {@link layerClientHttp} (or {@link makeClient} over a
 *   transport of yours) in place of `McpClient.layerStdio` / `layerHttp`. Every request and
 *   notification is a CLIENT span `{mcp.method.name} {target}` (`tools/call get_weather`,
 *   `initialize`, `tools/list`) whose context travels in `params._meta` (`traceparent`,
 *   `tracestate`, `baggage`, by the configured propagators); inside the library's own
 *   `execute_tool` span for the same tool there is no second span: the MCP attributes go on it.
 * - Server: {@link layerServerStdio} / {@link layerServerHttp} in place of `McpServer.layerStdio`
 *   / `layerHttp` (or {@link serverStdio} / {@link serverHttp} around any server layer). Every
 *   request and notification is a SERVER span parented on the caller's `_meta` (on HTTP, the
 *   request's `traceparent` when `_meta` has none), linked to the HTTP request's span; the
 *   handler's own spans nest under it.
 * - Tools: {@link tools} (this library's `Tool`s) and {@link toolkit} (an `effect/ai` toolkit)
 *   from a server's `tools/list`; each call is one `execute_tool` span carrying the MCP attributes.
 * - Metrics: `mcp.client.operation.duration`, `mcp.server.operation.duration`, and the session
 *   durations of the session-based revisions, beside the GenAI metrics.
 *
 * Both protocol generations are traced: the session-based revisions (`initialize`,
 * `Mcp-Session-Id` as `mcp.session.id`) and the stateless 2026-07-28 revision (`server/discover`,
 * the revision per request from `_meta`, no session). Tool arguments and results are recorded only
 * with content capture on (`GenAI.Settings`, `captureContent`). The official TypeScript SDK is
 * traced by `McpSdk`.
 *
 * @example
 * ```ts
 * import { Mcp, Tracing } from "beluga-o11y"
 * import { McpClient, McpProtocol } from "effect/ai"
 * import { ChildProcess } from "effect/process"
 *
 * const Weather = Mcp.layerClientStdio({
 *   name: "agent",
 *   version: "1.0.0",
 *   protocol: McpProtocol.v2025_11_25,
 *   command: ChildProcess.make("node", ["weather-server.js"])
 * })
 * const forecast = Effect.gen(function*() {
 *   const client = yield* McpClient.McpClient
 *   const [tool] = yield* client.listTools() // span: tools/list
 *   return yield* client.callTool({ tool, arguments: { city: "Lisbon" } }) // span: tools/call get_weather
 * })
 * ```
 *
 * @since 0.4.0
 */
import * as Otel from "@opentelemetry/api"
import * as McpClient from "effect/ai/McpClient"
import * as McpClientError from "effect/ai/McpClientError"
import type * as McpSchema from "effect/ai/McpSchema"
import * as McpServer from "effect/ai/McpServer"
import * as AiTool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as EffectAi from "./EffectAi.ts"
import * as Internal from "./internal/mcpClient.ts"
import { routerLayer, ServerTap, stdioLayer, tracerLayer } from "./internal/mcpServer.ts"
import * as Wire from "./internal/mcpWire.ts"
import * as Propagation from "./Propagation.ts"
import * as Tool from "./Tool.ts"

export {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_JSONRPC_PROTOCOL_VERSION,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_RESOURCE_URI,
  ATTR_MCP_SESSION_ID,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_NETWORK_TRANSPORT,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  MCP_DURATION_BUCKETS,
  McpErrorType,
  McpMetaKey,
  McpMethod,
  METRIC_MCP_CLIENT_OPERATION_DURATION,
  METRIC_MCP_CLIENT_SESSION_DURATION,
  METRIC_MCP_SERVER_OPERATION_DURATION,
  METRIC_MCP_SERVER_SESSION_DURATION,
  NetworkTransport
} from "./internal/semconv.ts"

// -----------------------------------------------------------------------------
// Client
// -----------------------------------------------------------------------------

/**
 * How a traced client propagates.
 *
 * @since 0.4.0
 * @category models
 */
export interface TraceOptions {
  /**
   * The propagator that writes `traceparent`, `tracestate` and `baggage` into `params._meta`.
   * Default: the global one (`propagation` from `@opentelemetry/api`), which `Tracing.layer`
   * registers from `OTEL_PROPAGATORS`; with none registered, nothing is written.
   */
  readonly propagator?: Propagation.Propagator | undefined
  /**
   * Send the current baggage (`Propagation.withBaggage`, and the OTel context's) in `_meta`.
   * Default true: the server is one the application chose to talk to. Set false when the server
   * must not see it.
   */
  readonly baggage?: boolean | undefined
}

/** The baggage `Propagation.currentBaggage` reads, read from the fiber without an effect per call. */
const baggageOf = (fiber: Fiber.Fiber<unknown, unknown>): Readonly<Record<string, string>> => {
  const own = fiber.getRef(Propagation.Baggage)
  const otel = Otel.propagation.getBaggage(Otel.context.active())
  if (otel === undefined) return own
  return { ...Object.fromEntries(otel.getAllEntries().map(([key, entry]) => [key, entry.value])), ...own }
}

const propagationOf = (options: TraceOptions): Internal.Propagation => ({
  propagator: options.propagator ?? Otel.propagation,
  baggage: options.baggage === false ? undefined : baggageOf
})

/**
 * `McpClient.make`, traced: connects over the `McpClient.Transport` in context (traced unless it
 * is already) and returns a client whose every request and notification is a span. Give `url`
 * for a transport that talks HTTP to that server (`server.address`, `server.port`,
 * `network.transport=tcp`); without it the transport is taken for stdio (`pipe`).
 *
 * @example
 * ```ts
 * const client = yield* Mcp.makeClient({ name: "agent", version: "1.0.0" }).pipe(
 *   Effect.provideServiceEffect(McpClient.Transport, McpClient.stdio({ command, protocol }))
 * )
 * ```
 *
 * @since 0.4.0
 * @category client
 */
export const makeClient = (
  options: Parameters<typeof McpClient.make>[0] & TraceOptions & { readonly url?: string | URL | undefined }
): Effect.Effect<McpClient.McpClient, McpClientError.McpClientError, Scope.Scope | McpClient.Transport> =>
  Internal.make(options, {
    peer: options.url !== undefined ? Wire.httpPeer(options.url) : Wire.stdioPeer,
    propagation: propagationOf(options)
  })

/**
 * `McpClient.layerStdio`, traced: a client of an MCP server run as a child process.
 *
 * @example
 * ```ts
 * const Tools = Mcp.layerClientStdio({
 *   name: "agent",
 *   version: "1.0.0",
 *   protocol: McpProtocol.v2025_11_25,
 *   command: ChildProcess.make("npx", ["tsx", "server.ts"])
 * }).pipe(Layer.provide(NodeServices.layer))
 * ```
 *
 * @since 0.4.0
 * @category client
 */
export const layerClientStdio = (
  options: Parameters<typeof McpClient.layerStdio>[0] & TraceOptions
): Layer.Layer<McpClient.McpClient, McpClientError.McpClientError, ChildProcessSpawner> => {
  const propagation = propagationOf(options)
  return Layer.effect(McpClient.McpClient, Internal.make(options, { peer: Wire.stdioPeer, propagation })).pipe(
    Layer.provide(Layer.effect(McpClient.Transport, Internal.stdio(options, propagation)))
  )
}

/**
 * `McpClient.layerHttp`, traced: a client of an MCP server over Streamable HTTP, with the
 * session the server assigns as `mcp.session.id`.
 *
 * @example
 * ```ts
 * const Tools = Mcp.layerClientHttp({
 *   name: "agent",
 *   version: "1.0.0",
 *   protocol: McpProtocol.v2026_07_28,
 *   url: "http://127.0.0.1:3000/mcp"
 * }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.4.0
 * @category client
 */
export const layerClientHttp = (
  options: Parameters<typeof McpClient.layerHttp>[0] & TraceOptions
): Layer.Layer<McpClient.McpClient, McpClientError.McpClientError, HttpClient.HttpClient> => {
  const propagation = propagationOf(options)
  return Layer.effect(McpClient.McpClient, Internal.make(options, { peer: Wire.httpPeer(options.url), propagation }))
    .pipe(Layer.provide(Layer.effect(McpClient.Transport, Internal.http(options, propagation))))
}

// -----------------------------------------------------------------------------
// Server
// -----------------------------------------------------------------------------

/**
 * Traces an `McpServer` layer that serves over stdio (`McpServer.layerStdio`): the `Stdio` it is
 * given is wrapped, and Effect's own RPC spans stand for the SERVER spans. Pass the registrations
 * as the layer's `registrations` option so that the notifications they send are traced alike.
 *
 * @example
 * ```ts
 * const Server = McpServer.layerStdio({ name: "weather", version: "1.0.0", protocols, registrations }).pipe(
 *   Mcp.serverStdio,
 *   Layer.provide(NodeStdio.layer)
 * )
 * ```
 *
 * @since 0.4.0
 * @category server
 */
export const serverStdio = <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  Layer.unwrap(Effect.sync(() => {
    const tap = new ServerTap(Otel.propagation)
    return layer.pipe(Layer.provide(stdioLayer(tap)), Layer.provide(tracerLayer(tap))) as Layer.Layer<A, E, R>
  }))

/**
 * Traces an `McpServer` layer that registers its Streamable HTTP endpoint at `path` on the
 * `HttpRouter` (`McpServer.layerHttp`, `layerHttpRequestScoped`).
 *
 * @example
 * ```ts
 * const Server = McpServer.layerHttp({ name: "weather", version: "1.0.0", path: "/mcp", protocols }).pipe(
 *   Mcp.serverHttp("/mcp")
 * )
 * ```
 *
 * @since 0.4.0
 * @category server
 */
export const serverHttp = (path: string) => <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  Layer.unwrap(Effect.sync(() => {
    const tap = new ServerTap(Otel.propagation)
    return layer.pipe(Layer.provide(routerLayer(tap, path)), Layer.provide(tracerLayer(tap))) as Layer.Layer<A, E, R>
  }))

/**
 * `McpServer.layerStdio`, traced (see {@link serverStdio}); same options, same types.
 *
 * @example
 * ```ts
 * Mcp.layerServerStdio({ name: "weather", version: "1.0.0", protocols: [McpProtocol.v2025_11_25], registrations })
 * ```
 *
 * @since 0.4.0
 * @category server
 */
export const layerServerStdio: typeof McpServer.layerStdio =
  ((options: Parameters<typeof McpServer.layerStdio>[0]) =>
    serverStdio(McpServer.layerStdio(options))) as typeof McpServer.layerStdio

/**
 * `McpServer.layerHttp`, traced (see {@link serverHttp}); same options, same types.
 *
 * @example
 * ```ts
 * HttpRouter.serve(Mcp.layerServerHttp({ name: "weather", version: "1.0.0", path: "/mcp", protocols }))
 * ```
 *
 * @since 0.4.0
 * @category server
 */
export const layerServerHttp: typeof McpServer.layerHttp =
  ((options: Parameters<typeof McpServer.layerHttp>[0]) =>
    serverHttp(String(options.path))(McpServer.layerHttp(options))) as typeof McpServer.layerHttp

// -----------------------------------------------------------------------------
// Tools from tools/list
// -----------------------------------------------------------------------------

const toolFailure = (result: McpSchema.CallToolResult) =>
  new McpClientError.McpClientError({ reason: new McpClientError.ToolError({ result }) })

type Arguments = Parameters<McpClient.McpClient["callTool"]>[0]["arguments"]

/**
 * The server's tools (`tools/list`) as this library's `Tool`s: each `call` is one
 * `execute_tool {name}` span carrying the MCP attributes, parent of the server's span in the other
 * process. A result with `isError` fails the call with `McpClientError` (`ToolError`), recorded as
 * `error.type=tool_error`.
 *
 * @example
 * ```ts
 * const tools = yield* Mcp.tools(yield* McpClient.McpClient)
 * const reply = yield* model.chat({ messages, tools: tools.map((tool) => tool.definition) })
 * yield* Tool.runAll(tools, reply.toolCalls)
 * ```
 *
 * @since 0.4.0
 * @category tools
 */
export const tools = (
  client: McpClient.McpClient
): Effect.Effect<
  Array<Tool.Tool<Readonly<Record<string, unknown>>, McpSchema.CallToolResult, McpClientError.McpClientError>>,
  McpClientError.McpClientError
> =>
  Effect.map(client.listTools(), (descriptors) =>
    descriptors.map((descriptor) =>
      Tool.make({
        name: descriptor.name,
        description: descriptor.description,
        parameters: descriptor.inputSchema,
        handler: (args: Readonly<Record<string, unknown>>) =>
          Effect.flatMap(
            client.callTool({ tool: descriptor, arguments: args as Arguments }),
            (result) => result.isError === true ? Effect.fail(toolFailure(result)) : Effect.succeed(result)
          )
      })
    ))

/** A tool result as the model reads it: its text, else its structured content as JSON. */
const toText = (result: McpSchema.CallToolResult): string => {
  const texts = result.content.flatMap((block) => block.type === "text" ? [block.text] : [])
  return texts.length > 0 ? texts.join("\n") : JSON.stringify(result.structuredContent ?? result.content)
}

const Arguments = Schema.Record(Schema.String, Schema.Unknown)

/**
 * `McpClient.toolkit`, traced: the server's tools as an `effect/ai` toolkit whose handlers run as
 * `EffectAi.toolkitLayer` runs them, each call one `execute_tool {name}` span (a sibling of the
 * model call that asked for it) carrying the MCP attributes. `prefix` qualifies the names the
 * model sees (`reports__`); `gen_ai.tool.name` on the MCP side stays the server's name.
 *
 * @example
 * ```ts
 * const kit = yield* Mcp.toolkit(yield* McpClient.McpClient)
 * const reply = yield* LanguageModel.generateText({ prompt, toolkit: kit })
 * ```
 *
 * @since 0.4.0
 * @category tools
 */
export const toolkit = (
  client: McpClient.McpClient,
  prefix = ""
): Effect.Effect<Toolkit.WithHandler<Record<string, AiTool.Any>>, McpClientError.McpClientError> =>
  Effect.gen(function*() {
    const descriptors = yield* client.listTools()
    const definitions: Array<AiTool.Any> = []
    const handlers: Record<string, (params: unknown) => Effect.Effect<string, McpClientError.McpClientError>> = {}
    for (const descriptor of descriptors) {
      const name = `${prefix}${descriptor.name}`
      if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name) || Object.hasOwn(handlers, name)) {
        return yield* new McpClientError.McpClientError({
          reason: new McpClientError.ConfigurationError({ description: `Invalid or duplicate MCP tool name: ${name}` })
        })
      }
      definitions.push(
        AiTool.dynamic(name, {
          parameters: descriptor.inputSchema,
          description: descriptor.description,
          success: Schema.String,
          failure: McpClientError.McpClientError
        }).annotate(AiTool.Strict, false)
      )
      handlers[name] = (params: unknown) =>
        Effect.gen(function*() {
          const args = yield* Schema.decodeUnknownEffect(Arguments)(params).pipe(
            Effect.mapError((cause) =>
              new McpClientError.McpClientError({
                reason: new McpClientError.ValidationError({
                  description: "MCP tool arguments must be an object",
                  cause
                })
              })
            )
          )
          // The execute_tool span the toolkit runs this in: the MCP call annotates it.
          const span = yield* Effect.orElseSucceed(Effect.currentSpan, () => undefined)
          const result = yield* client.callTool({ tool: descriptor, arguments: args as Arguments }).pipe(
            Effect.provideService(Internal.ToolSpan, span)
          )
          return result.isError === true ? yield* Effect.fail(toolFailure(result)) : toText(result)
        })
    }
    const kit = Toolkit.make(...definitions) as unknown as Toolkit.Toolkit<Record<string, AiTool.Any>>
    return yield* (kit as unknown as Effect.Effect<Toolkit.WithHandler<Record<string, AiTool.Any>>, never, any>).pipe(
      Effect.provide(EffectAi.toolkitLayer(kit, handlers as any) as Layer.Layer<any>)
    ) as Effect.Effect<Toolkit.WithHandler<Record<string, AiTool.Any>>>
  })
