/**
 * The terminal view prints each trace once its root ends, as an indented tree with durations,
 * status and the key gen_ai attributes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { GenAI, Pipeline, Tracing } from "../src/index.ts"

class Nope extends Data.TaggedError("Nope")<{}> {}

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
})
