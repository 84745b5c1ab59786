/**
 * Instrumented tools: a tool's handler runs inside an `execute_tool {name}` span carrying the call
 * id, type and description (arguments and result only when content capture is on).
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type { ToolCallRequest } from "./ChatModel.ts"
import * as GenAI from "./GenAI.ts"

/**
 * A tool: its definition (what the model is told) and a traced `call`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tool<Args, A, E = never, R = never> {
  readonly definition: GenAI.ToolDefinition
  readonly call: (args: Args, callId?: string) => Effect.Effect<A, E, R>
}

/**
 * Defines a tool.
 *
 * @example
 * ```ts
 * const weather = Tool.make({
 *   name: "get_weather",
 *   description: "Current weather for a city",
 *   handler: ({ city }: { city: string }) => fetchWeather(city)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Args, A, E, R>(options: {
  readonly name: string
  readonly description?: string | undefined
  readonly parameters?: unknown
  readonly handler: (args: Args) => Effect.Effect<A, E, R>
}): Tool<Args, A, E, R> => ({
  definition: {
    type: "function",
    name: options.name,
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(options.parameters !== undefined ? { parameters: options.parameters } : {})
  },
  call: (args, callId) =>
    Effect.suspend(() => options.handler(args)).pipe(
      GenAI.executeTool({
        name: options.name,
        callId,
        type: "function",
        description: options.description,
        arguments: args
      })
    )
})

/**
 * Runs the tool calls a model asked for, in parallel: each is an `execute_tool` span, siblings
 * under the current span. A call naming an unknown tool fails with `UnknownToolError`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runAll = <E, R>(
  tools: ReadonlyArray<Tool<any, unknown, E, R>>,
  calls: ReadonlyArray<ToolCallRequest>,
  options: { readonly concurrency?: number | "unbounded" | undefined } = {}
): Effect.Effect<Array<{ readonly call: ToolCallRequest; readonly result: unknown }>, E | UnknownToolError, R> =>
  Effect.forEach(
    calls,
    (call): Effect.Effect<{ readonly call: ToolCallRequest; readonly result: unknown }, E | UnknownToolError, R> => {
      const tool = tools.find((t) => t.definition.name === call.name)
      return tool === undefined
        ? Effect.fail(new UnknownToolError({ name: call.name }))
        : Effect.map(tool.call(call.arguments, call.id), (result) => ({ call, result }))
    },
    { concurrency: options.concurrency ?? "unbounded" }
  )

/**
 * The model asked for a tool that does not exist.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownToolError extends Data.TaggedError("UnknownToolError")<{ readonly name: string }> {}
