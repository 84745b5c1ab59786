/**
 * The registry in `semconv/` and the code stay in step: every attribute and event attribute the
 * library writes, across its combinators, components, streams, agents, effect/ai and Effect's own
 * log events, is either an OpenTelemetry semantic convention the library uses or defined in the
 * registry; the registry defines nothing the code has stopped writing; and docs/attributes.md is
 * what the registry generates.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { ConfigProvider, Data, Effect, Layer, Schema, Stream } from "effect"
import { LanguageModel, Tool as AiTool, Toolkit } from "effect/ai"
import * as fs from "node:fs"
import * as path from "node:path"
import { definedAttributes, loadRegistry, render, root } from "../scripts/attributes.ts"
import {
  Agent,
  ChatModel,
  Cost,
  EffectAi,
  Evaluation,
  GenAI,
  Identity,
  Pipeline,
  Prompt,
  Simulated,
  Testing,
  Tool
} from "../src/index.ts"

/** The OpenTelemetry semantic conventions (v1.41.1) the library writes, besides every GenAI constant. */
const otelNames = new Set([
  ...Object.entries(GenAI).flatMap(([key, value]) =>
    key.startsWith("ATTR_GEN_AI_") && typeof value === "string" ? [value] : []
  ),
  GenAI.ATTR_ERROR_TYPE,
  GenAI.ATTR_SERVER_ADDRESS,
  GenAI.ATTR_SERVER_PORT,
  Identity.ATTR_SESSION_ID,
  Identity.ATTR_USER_ID,
  "http.request.resend_count",
  "http.response.status_code",
  "exception.type",
  "exception.message",
  "exception.stacktrace"
])

class Flaky extends Data.TaggedError("Flaky")<{}> {}

/** A run that exercises every kind of span and event the library writes. */
const everything = Effect.gen(function*() {
  const model = yield* ChatModel.ChatModel
  const tool = Tool.make({
    name: "lookup",
    description: "Looks up",
    handler: (args: { readonly query: string }) => Effect.succeed(args)
  })
  const reply = yield* model.chat({
    messages: [{ role: "user", parts: [{ type: "text", content: "Lisbon?" }] }],
    tools: [tool.definition]
  })
  yield* Tool.runAll([tool], reply.toolCalls)
  yield* model.stream({ messages: [{ role: "user", parts: [{ type: "text", content: "Porto?" }] }] }).pipe(
    Stream.take(2),
    Stream.runDrain
  )
  yield* model.chat({ messages: [{ role: "user", parts: [{ type: "text", content: "Plan" }] }] }).pipe(
    Prompt.withPrompt({ name: "planner", version: "1", template: "Plan {city}", variables: { city: "Porto" } })
  )
  yield* model.chat({ messages: [{ role: "user", parts: [{ type: "text", content: "Weather?" }] }] }).pipe(
    Agent.invoke("weather_agent", { tokenBudget: 10_000, iterationBudget: 4 }),
    GenAI.executeTool({ name: "ask_agent", transfer: { target: "weather_agent", mode: "return_to_caller" } })
  )
  yield* Effect.log("a log line inside a span")
  yield* Effect.fail(new Flaky()).pipe(Pipeline.step("flaky"), Pipeline.retry({ times: 1 }), Effect.ignore)
  yield* Pipeline.event("checkpoint")
  yield* Evaluation.evaluate({ name: "relevance", score: 1, label: "ok", explanation: "fine", responseId: reply.id })
  yield* Effect.never.pipe(Pipeline.step("interrupted"), Effect.timeout(1), Effect.ignore)
  const Lookup = AiTool.make("Lookup", { parameters: Schema.Struct({ query: Schema.String }), success: Schema.String })
  const kit = Toolkit.make(Lookup)
  yield* LanguageModel.generateText({ prompt: "Lisbon?", toolkit: kit }).pipe(
    Effect.provide(Layer.mergeAll(
      EffectAi.layer(Simulated.chatProvider({ latency: 0 })),
      EffectAi.toolkitLayer(kit, { Lookup: ({ query }) => Effect.succeed(query) })
    ))
  )
}).pipe(
  Agent.invoke("registry-agent", { provider: "simulated", input: "Lisbon?", output: () => "answer" }),
  Identity.withIdentity({ conversationId: "c", sessionId: "s", userId: "u" }),
  Pipeline.run("agent-workflow")
)

const written = (spans: ReadonlyArray<ReadableSpan>): Set<string> =>
  new Set(spans.flatMap((span) => [
    ...Object.keys(span.attributes),
    ...span.events.flatMap((event) => Object.keys(event.attributes ?? {}))
  ]))

describe("the attribute registry (semconv/)", () => {
  const registry = loadRegistry()
  const defined = definedAttributes(registry)

  it.live("every name the library writes is an OTel convention it uses or in the registry", () =>
    Effect.gen(function*() {
      yield* everything
      const spans = yield* Testing.finishedSpans
      const names = written(spans)
      // A template attribute (`gen_ai.prompt.variable`) defines every `<id>.<key>`.
      const templates = [...defined].filter(([, a]) => a.type.startsWith("template[")).map(([id]) => `${id}.`)
      const isDefined = (name: string) => defined.has(name) || templates.some((prefix) => name.startsWith(prefix))
      const missing = [...names].filter((name) => !otelNames.has(name) && !isDefined(name)).toSorted()
      assert.deepStrictEqual(
        missing,
        [],
        `written but in neither the OTel conventions nor semconv/: ${missing.join(", ")}`
      )
      // Effect's own log attributes are written by the conventions' rules, not as Effect names them.
      assert.include([...names], "effect.log.level")
      assert.notInclude([...names], "effect.logLevel")
      // The library's own names are all exercised here (the examples' names are the examples').
      const own = [...defined.keys()].filter((name) =>
        ![
          "document.id",
          "document.type",
          "document.sentences",
          "dimensions",
          "vectors",
          "tenant.id",
          "downstream.name",
          "timeout.ms",
          "effect.cause"
        ]
          .includes(name) && !name.includes("cache_") && !name.includes("reasoning")
      )
      const exercised = (name: string) =>
        names.has(name) ||
        (defined.get(name)!.type.startsWith("template[") && [...names].some((n) => n.startsWith(`${name}.`)))
      // Not in this run: a retry delay needs a retry that waits, and the delta is written on content
      // events (log records), which `test/ContentEvents.test.ts` checks.
      const elsewhere = new Set(["beluga.retry.delay_ms", "gen_ai.input.messages_delta"])
      const unexercised = own.filter((name) => !exercised(name) && !elsewhere.has(name))
      assert.deepStrictEqual(unexercised, [], "defined in semconv/ but not written by this run")
    }).pipe(
      Effect.provide(Simulated.layer({ latency: 0 })),
      Effect.provide(Testing.layer({
        captureContent: true,
        prices: Cost.prices([{ model: "sim-gpt-4o", input: 1, output: 1 }])
      }))
    ))

  it.live("under gen_ai_latest_experimental too, every name written is a convention or in the registry", () =>
    Effect.gen(function*() {
      yield* everything
      const names = written(yield* Testing.finishedSpans)
      const templates = [...defined].filter(([, a]) => a.type.startsWith("template[")).map(([id]) => `${id}.`)
      const missing = [...names].filter((name) =>
        !otelNames.has(name) && !defined.has(name) && !templates.some((prefix) => name.startsWith(prefix))
      )
      assert.deepStrictEqual(
        missing,
        [],
        `written but in neither the OTel conventions nor semconv/: ${missing.join(", ")}`
      )
    }).pipe(
      Effect.provide(Simulated.layer({ latency: 0 })),
      Effect.provide(
        Testing.layerFromConfig({ captureContent: true }).pipe(
          Layer.provide(
            ConfigProvider.layer(
              ConfigProvider.fromEnv({ env: { OTEL_SEMCONV_STABILITY_OPT_IN: "gen_ai_latest_experimental" } })
            )
          ),
          Layer.orDie
        )
      )
    ))

  it("every attribute it defines has a type, a stability, a brief and examples", () => {
    for (const [id, attribute] of defined) {
      assert.include(["string", "int", "double", "boolean", "template[string]", "any"], attribute.type, id)
      assert.strictEqual(attribute.stability, "development", id)
      assert.isAbove(attribute.brief.length, 10, id)
      assert.isDefined(attribute.examples, id)
    }
  })

  it("defines exactly the metrics the library records beyond the conventions' own, with their units", () => {
    // The v1.41 client metrics and the MCP metrics are OpenTelemetry's: referred to, not defined.
    const v141 = new Set([
      GenAI.METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
      GenAI.METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
      GenAI.METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
      GenAI.METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
      "mcp.client.operation.duration",
      "mcp.server.operation.duration",
      "mcp.client.session.duration",
      "mcp.server.session.duration"
    ])
    const own = GenAI.Metrics.filter((m) => !v141.has(m.name))
    const metrics = registry.filter((group) => group.type === "metric")
    assert.sameMembers(metrics.map((m) => m.metric_name), own.map((m) => m.name))
    for (const metric of metrics) {
      const definition = own.find((m) => m.name === metric.metric_name)!
      assert.strictEqual(metric.unit, definition.unit, metric.id)
      assert.strictEqual(metric.instrument, "histogram", metric.id)
    }
  })

  it("docs/attributes.md is what the registry generates", () => {
    assert.strictEqual(fs.readFileSync(path.join(root, "docs", "attributes.md"), "utf8"), render(registry))
  })
})
