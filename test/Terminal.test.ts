/**
 * The terminal view prints each trace once its root ends, as an indented tree with durations,
 * status and the key gen_ai attributes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Tracer from "effect/Tracer"
import { GenAI, Pipeline, Testing, Tracing } from "../src/index.ts"

class Nope extends Data.TaggedError("Nope")<{}> {}

/** A tracing layer that prints into `lines` and exports nowhere. */
const printing = (lines: Array<string>, serviceName: string) =>
  Layer.fresh(Tracing.layer({
    serviceName,
    endpoint: "http://127.0.0.1:9",
    printTraces: { write: (text) => lines.push(text), colors: false },
    onWarning: () => {},
    shutdownTimeout: 100,
    metrics: false
  }))

/** The printed trees only (not the metrics summary), each as lines with the durations masked. */
const trees = (lines: ReadonlyArray<string>) =>
  lines.filter((text) => text.startsWith("trace ")).map((text) =>
    text.trimEnd().split("\n").map((line) => line.replace(/ {2}\d+(\.\d+)?(ms|s)\b/, "  <d>"))
  )

/** The span in another process a request came from, as a server extracts it from `_meta`. */
const remote = (spanId: string) =>
  Tracer.externalSpan({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId, sampled: true })

describe("terminal view", () => {
  it.effect("prints the whole tree when the root ends", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const tracing = Tracing.layer({
        serviceName: "beluga-agent",
        // Nothing listens there: the terminal view must not depend on the collector.
        endpoint: "http://127.0.0.1:9",
        printTraces: { write: (text) => lines.push(text), colors: false },
        onWarning: () => {},
        shutdownTimeout: 100
      })
      yield* Effect.gen(function*() {
        yield* Effect.succeed("hi").pipe(
          GenAI.chat({ provider: "openai", model: "gpt-4o" }, () => ({
            response: { finishReasons: ["stop"] },
            usage: { inputTokens: 12, outputTokens: 3 }
          }))
        )
        yield* Effect.exit(Effect.fail(new Nope()).pipe(Pipeline.step("flaky")))
        yield* Pipeline.event("embedding-complete", { dimensions: 1536 })
        assert.lengthOf(lines, 0, "nothing is printed before the root ends")
      }).pipe(Pipeline.run("agent-workflow"), Effect.provide(Layer.fresh(tracing)))
      // The tree, then the metrics summary printed at exit.
      assert.lengthOf(lines, 2)
      assert.strictEqual(lines[1]!.split("\n")[0], "metrics (p50/p95 estimated from histogram buckets)")
      assert.include(lines[1], "\n  tokens    gpt-4o (openai): 12 in, 3 out\n")
      assert.match(lines[1]!, /\n {2}duration {2}chat: 1 call, p50 ≈ \d+ ms, p95 ≈ \d+ ms\n$/)
      const text = lines[0]!
      assert.match(text, /^trace [0-9a-f]{32} · beluga-agent\n/)
      assert.match(text, /\nagent-workflow {2}\S+ {2}Σin=12 Σout=3 {2}⚑ embedding-complete dimensions=1536\n/)
      assert.match(text, /\n├─ chat gpt-4o {2}\S+ {2}provider=openai model=gpt-4o in=12 out=3 finish=stop\n/)
      assert.match(text, /\n└─ flaky {2}\S+ {2}error\.type=Nope {2}✗ ERROR/)
    }))

  it.effect("sums the tokens and durations at exit under the latest names too (one histogram per token type)", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const tracing = Tracing.layer({
        serviceName: "beluga-agent",
        endpoint: "http://127.0.0.1:9",
        printTraces: { write: (text) => lines.push(text), colors: false },
        onWarning: () => {},
        shutdownTimeout: 100
      }).pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
          env: { OTEL_SEMCONV_STABILITY_OPT_IN: "gen_ai_latest_experimental" }
        })))
      )
      yield* Effect.succeed("hi").pipe(
        GenAI.chat({ provider: "openai", model: "gpt-4o" }, () => ({ usage: { inputTokens: 12, outputTokens: 3 } })),
        Effect.repeat({ times: 1 }),
        Pipeline.run("agent-workflow"),
        Effect.provide(Layer.fresh(tracing))
      )
      assert.include(lines[1], "\n  tokens    gpt-4o (openai): 24 in, 6 out\n")
      assert.match(lines[1]!, /\n {2}duration {2}chat: 2 calls, p50 ≈ \d+ ms, p95 ≈ \d+ ms\n$/)
    }))

  it.effect("a piece whose parent is in another process is a subtree under a line naming that parent", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      yield* Effect.void.pipe(
        Pipeline.step("weather-api GET /current", { kind: "client" }),
        Effect.withSpan("tools/call get_weather", {
          kind: "server",
          attributes: { "mcp.method.name": "tools/call", "gen_ai.tool.name": "get_weather" }
        }),
        Effect.withParentSpan(remote("b7ad6b7169203331")),
        Effect.provide(printing(lines, "beluga-mcp-server"))
      )
      assert.deepStrictEqual(trees(lines), [[
        "trace 0af7651916cd43dd8448eb211c80319c · beluga-mcp-server",
        "⇠ continues span b7ad6b7169203331 of another process",
        "└─ tools/call get_weather  <d>",
        "   └─ weather-api GET /current  <d>"
      ]])
    }))

  it.effect("an MCP call served in another process names the span it sent; one served here, or no MCP call, does not", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const sent = yield* Effect.gen(function*() {
        const own = yield* Effect.currentSpan
        yield* Effect.void.pipe(
          Effect.withSpan("tools/call search_trains", {
            kind: "server",
            attributes: { "mcp.method.name": "tools/call" }
          }),
          Effect.withSpan("tools/call search_trains", {
            kind: "client",
            attributes: { "mcp.method.name": "tools/call" }
          })
        )
        yield* Effect.void.pipe(Effect.withSpan("chat gpt-4o", { kind: "client" }))
        return own.spanId
      }).pipe(
        Effect.withSpan("execute_tool get_weather", {
          attributes: { "gen_ai.operation.name": "execute_tool", "mcp.method.name": "tools/call" }
        }),
        Pipeline.run("mcp-agent"),
        Effect.provide(printing(lines, "beluga-agent"))
      )
      assert.match(sent, /^[0-9a-f]{16}$/)
      const [tree] = trees(lines)
      assert.deepStrictEqual(tree!.slice(1), [
        "mcp-agent  <d>",
        `└─ execute_tool get_weather  <d>  ⇢ span ${sent}`,
        "   ├─ tools/call search_trains  <d>",
        "   │  └─ tools/call search_trains  <d>",
        "   └─ chat gpt-4o  <d>"
      ])
    }))

  it.effect("roots in a row that continue the same remote span share its line; the others have their own", () =>
    Effect.gen(function*() {
      const spans = yield* Effect.gen(function*() {
        const roots = [["a", "1111111111111111"], ["b", "1111111111111111"], ["c", "2222222222222222"], [
          "d",
          "1111111111111111"
        ]] as const
        for (const [name, parent] of roots) {
          yield* Effect.void.pipe(Effect.withSpan(name, { kind: "server" }), Effect.withParentSpan(remote(parent)))
        }
        return yield* Testing.finishedSpans
      }).pipe(Effect.provide(Layer.fresh(Testing.layer())))
      const text = Testing.render(
        spans.filter((span) => span.spanContext().traceId === "0af7651916cd43dd8448eb211c80319c")
      )
      assert.deepStrictEqual(trees([text])[0], [
        "trace 0af7651916cd43dd8448eb211c80319c · test",
        "⇠ continues span 1111111111111111 of another process",
        "├─ a  <d>",
        "└─ b  <d>",
        "⇠ continues span 2222222222222222 of another process",
        "└─ c  <d>",
        "⇠ continues span 1111111111111111 of another process",
        "└─ d  <d>"
      ])
    }))
})
