/**
 * How agent and workflow runs end and what they consume, by the draft conventions after v1.41
 * (semantic-conventions-genai): `gen_ai.agent.invocation.end_reason` (`completed`, `interrupted`;
 * a failed run keeps its ERROR status and `error.type` instead), the declared token and iteration
 * budgets with what was consumed, and tool calls that transfer to another agent.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { Agent, GenAI, Pipeline, Testing } from "../src/index.ts"

class Refused extends Data.TaggedError("Refused")<{}> {}

const chat = (input: number, output: number) =>
  Effect.void.pipe(
    GenAI.chat({ provider: "openai", model: "gpt-4o" }, () => ({ usage: { inputTokens: input, outputTokens: output } }))
  )

describe("agent outcomes", () => {
  it.effect("a run that succeeds ends completed; one that fails has ERROR and no end reason; a workflow too", () =>
    Effect.gen(function*() {
      yield* chat(10, 5).pipe(Agent.invoke("planner"))
      yield* Effect.exit(Effect.fail(new Refused()).pipe(Agent.invoke("refuser")))
      yield* Effect.void.pipe(GenAI.invokeWorkflow({ name: "trip" }))
      const spans = yield* Testing.finishedSpans
      const planner = Testing.spanNamed(spans, "invoke_agent planner")
      assert.strictEqual(planner.attributes["gen_ai.agent.invocation.end_reason"], "completed")
      const refuser = Testing.spanNamed(spans, "invoke_agent refuser")
      assert.strictEqual(refuser.status.code, 2)
      assert.strictEqual(refuser.attributes["error.type"], "Refused")
      assert.notProperty(refuser.attributes, "gen_ai.agent.invocation.end_reason")
      const trip = Testing.spanNamed(spans, "invoke_workflow trip")
      assert.strictEqual(trip.attributes["gen_ai.agent.invocation.end_reason"], "completed")
      // Not an agent or workflow: no end reason.
      assert.notProperty(Testing.spanNamed(spans, "chat gpt-4o").attributes, "gen_ai.agent.invocation.end_reason")
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("an interrupted run ends interrupted", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.never.pipe(Agent.invoke("waiter"), Effect.forkChild)
      yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "invoke_agent waiter")
      assert.strictEqual(span.attributes["gen_ai.agent.invocation.end_reason"], "interrupted")
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("declared budgets are recorded with what the run consumed; nested agents count for themselves", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* chat(100, 20)
        yield* chat(200, 30).pipe(Agent.invoke("researcher", { iterationBudget: 3 }))
        yield* chat(50, 10)
      }).pipe(Agent.invoke("lead", { tokenBudget: 1_000, iterationBudget: 5 }))
      yield* chat(1, 1).pipe(Agent.invoke("unbudgeted"))
      const spans = yield* Testing.finishedSpans
      const lead = Testing.spanNamed(spans, "invoke_agent lead")
      assert.strictEqual(lead.attributes["gen_ai.agent.token_budget.limit"], 1_000)
      assert.strictEqual(lead.attributes["gen_ai.agent.token_budget.consumed"], 410)
      assert.strictEqual(lead.attributes["gen_ai.agent.iteration_budget.limit"], 5)
      assert.strictEqual(lead.attributes["gen_ai.agent.iteration_budget.consumed"], 3)
      const researcher = Testing.spanNamed(spans, "invoke_agent researcher")
      assert.strictEqual(researcher.attributes["gen_ai.agent.iteration_budget.consumed"], 1)
      assert.notProperty(researcher.attributes, "gen_ai.agent.token_budget.consumed")
      const unbudgeted = Testing.spanNamed(spans, "invoke_agent unbudgeted")
      for (const key of Object.keys(unbudgeted.attributes)) assert.notMatch(key, /budget/)
    }).pipe(Effect.provide(Testing.layer())))
})

describe("transfers", () => {
  it.effect("a tool call that hands work to an agent: named for both, with the mode and the target", () =>
    Effect.gen(function*() {
      yield* chat(5, 5).pipe(
        Agent.invoke("weather_agent"),
        GenAI.executeTool({ name: "ask_agent", transfer: { target: "weather_agent", mode: "return_to_caller" } }),
        Pipeline.run("agent-workflow")
      )
      const spans = yield* Testing.finishedSpans
      const transfer = Testing.spanNamed(spans, "execute_tool ask_agent weather_agent")
      assert.strictEqual(transfer.attributes["gen_ai.tool.name"], "ask_agent")
      assert.strictEqual(transfer.attributes["gen_ai.transfer.mode"], "return_to_caller")
      assert.strictEqual(transfer.attributes["gen_ai.transfer.target.name"], "weather_agent")
      assert.strictEqual(
        Testing.spanNamed(spans, "invoke_agent weather_agent").parentSpanContext?.spanId,
        transfer.spanContext().spanId
      )
    }).pipe(Effect.provide(Testing.layer())))
})
