/**
 * Model Context Protocol tracing for clients and servers written with the official TypeScript SDK
 * (`@modelcontextprotocol/sdk` 1.x, and the 2.x `@modelcontextprotocol/client` and
 * `@modelcontextprotocol/server`): wrap the transport before connecting it, and every message it
 * carries is traced by the same conventions as `Mcp` traces Effect's client and server.
 *
 * ```ts
 * import { McpSdk } from "beluga-o11y"
 *
 * await client.connect(McpSdk.traceTransport(new StdioClientTransport({ command: "weather-server" })))
 * await server.connect(McpSdk.traceTransport(new StdioServerTransport()))
 * ```
 *
 * - a request the wrapped side sends is a CLIENT span `{mcp.method.name} {target}`, parented on
 *   the active OpenTelemetry context (inside an Effect span of this library's tracer, that span),
 *   its context injected into `params._meta`; inside the library's `execute_tool` span for the same
 *   tool there is no second span: the MCP attributes go on it;
 * - a request or notification it receives is a SERVER span parented on `_meta` (on HTTP, the
 *   request's `traceparent` header when `_meta` has none), linked to the active context, and the
 *   SDK's handler runs with it active.
 *
 * Opting in is that one call per transport: this module imports nothing from the SDK (its types are
 * matched structurally), so an application without the SDK loads it for free, and the SDK is not a
 * dependency of this package. Spans go to the global tracer provider and durations to the global
 * meter provider, both registered by `Tracing.layer` (its `registerGlobal`, default on; metrics
 * need an export configured).
 *
 * @since 0.4.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type { SdkOptions, SdkTransport } from "./internal/mcpSdk.ts"
import * as Internal from "./internal/mcpSdk.ts"
import { McpMethod } from "./internal/semconv.ts"
import * as Tool from "./Tool.ts"

/**
 * What the wrapper needs of an SDK transport; every transport of both SDK generations
 * (stdio, Streamable HTTP, SSE, in-memory) has it.
 *
 * @since 0.4.0
 * @category models
 */
export type Transport = SdkTransport

/**
 * Options of {@link traceTransport}.
 *
 * - `network`: `pipe` (stdio) or `tcp` (HTTP); guessed from the transport's class when absent.
 * - `url`: the server's URL for a client over HTTP (`server.address`, `server.port`); read from
 *   the SDK's HTTP client transport when absent.
 * - `captureContent`: record tool arguments and results (`gen_ai.tool.call.*`). Default false:
 *   the SDK's code runs outside Effect, where `Tracing.layer`'s `captureContent` cannot reach.
 * - `maxContentLength`: the longest recorded content, in characters. Default 16384.
 * - `propagator`: default the global one, which `Tracing.layer` registers from `OTEL_PROPAGATORS`.
 *
 * @since 0.4.0
 * @category models
 */
export type Options = SdkOptions

/**
 * Wraps an SDK transport so that every JSON-RPC message through it is traced; pass the result to
 * `client.connect` or `server.connect`. Properties and methods of the transport (`sessionId`,
 * `handleRequest`, …) are still there; wrapping twice is wrapping once.
 *
 * @example
 * ```ts
 * const transport = McpSdk.traceTransport(new StreamableHTTPClientTransport(new URL("http://127.0.0.1:3000/mcp")))
 * await client.connect(transport)
 * await client.callTool({ name: "get_weather", arguments: { city: "Lisbon" } }) // span: tools/call get_weather
 * ```
 *
 * @since 0.4.0
 * @category tracing
 */
export const traceTransport: <T extends Transport>(transport: T, options?: Options) => T = Internal.traceTransport

/**
 * A call to an SDK client failed (the SDK rejected), or its tool answered with `isError`.
 *
 * @since 0.4.0
 * @category errors
 */
export class McpSdkError extends Data.TaggedError("McpSdkError")<{
  readonly method: string
  readonly cause: unknown
  /** The tool's result, when the tool reported the error. */
  readonly result?: unknown
}> {
  override get message(): string {
    return this.result !== undefined
      ? `MCP tool reported an error (${this.method})`
      : `MCP ${this.method} failed: ${String(this.cause)}`
  }
}

/**
 * What {@link tools} needs of an SDK client (`Client` of either SDK generation).
 *
 * @since 0.4.0
 * @category models
 */
export interface Client {
  readonly listTools: (params?: { readonly cursor?: string }) => Promise<{
    readonly tools: ReadonlyArray<
      { readonly name: string; readonly description?: string; readonly inputSchema?: unknown }
    >
    readonly nextCursor?: string
  }>
  readonly callTool: (
    params: { readonly name: string; readonly arguments?: Record<string, unknown> }
  ) => Promise<unknown>
}

const maxPages = 100

/**
 * The tools of a server an SDK client is connected to (`tools/list`, every page) as this library's
 * `Tool`s: each `call` is one `execute_tool {name}` span; a traced transport under the client
 * (see {@link traceTransport}) puts the MCP attributes on it and sends its context to the server.
 * A result with `isError` fails the call with {@link McpSdkError} (`error.type=tool_error`).
 *
 * @example
 * ```ts
 * const tools = yield* McpSdk.tools(client)
 * yield* Tool.runAll(tools, reply.toolCalls)
 * ```
 *
 * @since 0.4.0
 * @category tools
 */
export const tools = (
  client: Client
): Effect.Effect<Array<Tool.Tool<Record<string, unknown>, unknown, McpSdkError>>, McpSdkError> =>
  Effect.gen(function*() {
    const found: Array<{ readonly name: string; readonly description?: string; readonly inputSchema?: unknown }> = []
    let cursor: string | undefined
    for (let page = 0; page < maxPages; page++) {
      const listed = yield* Effect.tryPromise({
        try: () => client.listTools(cursor !== undefined ? { cursor } : undefined),
        catch: (cause) => new McpSdkError({ method: McpMethod.toolsList, cause })
      })
      found.push(...listed.tools)
      cursor = listed.nextCursor
      if (cursor === undefined) break
    }
    return found.map((descriptor) =>
      Tool.make({
        name: descriptor.name,
        description: descriptor.description,
        parameters: descriptor.inputSchema,
        handler: (args: Record<string, unknown>) =>
          Effect.flatMap(
            Effect.tryPromise({
              try: () => client.callTool({ name: descriptor.name, arguments: args }),
              catch: (cause) => new McpSdkError({ method: McpMethod.toolsCall, cause })
            }),
            (result) =>
              (result as { readonly isError?: unknown } | undefined)?.isError === true
                ? Effect.fail(new McpSdkError({ method: McpMethod.toolsCall, cause: undefined, result }))
                : Effect.succeed(result)
          )
      })
    )
  })
