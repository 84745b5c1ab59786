/**
 * `Prompt.withPrompt`: the model calls inside record the prompt they were made from — name and
 * version always, template and variables only with content capture on — under the conventions'
 * names and OpenInference's (for Phoenix); other spans, and calls outside, do not.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { ChatModel, GenAI, Pipeline, Prompt, Simulated, Testing } from "../src/index.ts"

const planner: Prompt.Prompt = {
  name: "trip-planner",
  version: "7",
  template: "Plan a trip to {city} in {days} days",
  variables: { city: "Lisbon <script>", days: 3 }
}

const run = Effect.gen(function*() {
  const model = yield* ChatModel.ChatModel
  const ask = { messages: [{ role: "user" as const, parts: [{ type: "text" as const, content: "plan" }] }] }
  yield* Effect.gen(function*() {
    yield* model.chat(ask)
    yield* model.stream(ask).pipe(Stream.runDrain)
    yield* Effect.void.pipe(GenAI.executeTool({ name: "lookup" }))
    yield* Effect.void.pipe(GenAI.embeddings({ provider: "openai", model: "text-embedding-3-small" }))
    // An inner prompt replaces the outer one for its own calls.
    yield* model.chat(ask).pipe(Prompt.withPrompt({ name: "summarizer" }))
  }).pipe(Prompt.withPrompt(planner), Pipeline.step("plan"))
  yield* model.chat(ask)
}).pipe(Pipeline.run("agent-workflow"), Effect.provide(Simulated.layer({ latency: 0 })))

describe("Prompt.withPrompt", () => {
  it.effect("with capture off: the name and version on every model call inside, nothing of the prompt's text", () =>
    Effect.gen(function*() {
      yield* run
      const spans = yield* Testing.finishedSpans
      const chats = spans.filter((span) => span.name === "chat sim-gpt-4o")
      assert.strictEqual(chats.length, 4)
      const [plain, streamed, inner, outside] = chats.toSorted((a, b) =>
        a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]
      )
      for (const span of [plain!, streamed!]) {
        assert.strictEqual(span.attributes["gen_ai.prompt.name"], "trip-planner")
        assert.strictEqual(span.attributes["gen_ai.prompt.version"], "7")
        assert.strictEqual(span.attributes["llm.prompt_template.version"], "7")
        for (const key of Object.keys(span.attributes)) {
          assert.notMatch(
            key,
            /^(gen_ai\.prompt\.variable|beluga\.prompt\.template|llm\.prompt_template\.(template|variables))/
          )
        }
      }
      assert.strictEqual(inner!.attributes["gen_ai.prompt.name"], "summarizer")
      assert.notProperty(inner!.attributes, "gen_ai.prompt.version")
      assert.notProperty(outside!.attributes, "gen_ai.prompt.name")
      // Not a model call: no prompt.
      for (const name of ["execute_tool lookup", "embeddings text-embedding-3-small", "plan", "agent-workflow"]) {
        assert.notProperty(Testing.spanNamed(spans, name).attributes, "gen_ai.prompt.name", name)
      }
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("with capture on: the template and each variable, typed, and OpenInference's template names", () =>
    Effect.gen(function*() {
      yield* run
      const spans = (yield* Testing.finishedSpans).filter((span) =>
        span.attributes["gen_ai.prompt.name"] === "trip-planner"
      )
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        assert.strictEqual(span.attributes["beluga.prompt.template"], planner.template)
        assert.strictEqual(span.attributes["llm.prompt_template.template"], planner.template)
        assert.strictEqual(span.attributes["gen_ai.prompt.variable.city"], "Lisbon <script>")
        assert.strictEqual(span.attributes["gen_ai.prompt.variable.days"], 3)
        assert.deepStrictEqual(
          JSON.parse(span.attributes["llm.prompt_template.variables"] as string),
          planner.variables
        )
      }
    }).pipe(Effect.provide(Testing.layer({ captureContent: true }))))

  it.effect("content stays within the content length limit", () =>
    Effect.gen(function*() {
      yield* Effect.void.pipe(
        GenAI.chat({ provider: "openai", model: "gpt-4o" }),
        Prompt.withPrompt({ name: "long", template: "x".repeat(500), variables: { text: "y".repeat(500) } })
      )
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "chat gpt-4o")
      assert.strictEqual((span.attributes["beluga.prompt.template"] as string).length, 100)
      assert.strictEqual((span.attributes["gen_ai.prompt.variable.text"] as string).length, 100)
    }).pipe(Effect.provide(Testing.layer({ captureContent: true, maxContentLength: 100 }))))

  it("refuses a prompt without a name", () => {
    assert.throws(() => Prompt.withPrompt({ name: "" }), /needs a name/)
  })
})
