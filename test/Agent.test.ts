/**
 * The agent-level view: identity on every descendant (an instrumented `fetch` included), roll-ups
 * under concurrency, nesting, failure and interruption (and an OTel-instrumented inference span),
 * cost arithmetic and unknown models, the evaluation event, and redaction over every attribute.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Otel from "@opentelemetry/api"
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Data, Effect, Fiber, Stream } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import * as TestClock from "effect/testing/TestClock"
import * as http from "node:http"
import { Agent, ChatModel, GenAI, Pipeline, Propagation, Simulated, Testing, Tool } from "../src/index.ts"
import { costOf } from "../src/internal/agentProcessor.ts"

const usage = (input: number, output: number, extra: Partial<GenAI.Usage> = {}) => ({
  usage: { inputTokens: input, outputTokens: output, ...extra }
})
/** A chat that reports `input`/`output` tokens. */
const chat = (model: string, input: number, output: number, extra: Partial<GenAI.Usage> = {}) =>
  Effect.void.pipe(GenAI.chat({ provider: "openai", model }, () => usage(input, output, extra)))

const rollup = (span: ReadableSpan) => ({
  inferences: span.attributes["beluga.rollup.inferences"],
  input: span.attributes["beluga.rollup.input_tokens"],
  output: span.attributes["beluga.rollup.output_tokens"]
})

/** Every name, attribute and event attribute of every span, as text. */
const everything = (spans: ReadonlyArray<ReadableSpan>) =>
  spans.flatMap((span) => [
    span.name,
    ...Object.entries(span.attributes).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
    ...span.events.flatMap((e) => Object.entries(e.attributes ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`))
  ]).join("\n")

const identity = { conversationId: "conv-1", sessionId: "sess-1", userId: "user-1" }

describe("identity", () => {
  it.live("every span inside carries it: the library's, nested agents', and an instrumented fetch's", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new Promise<http.Server>((resolve) => {
            const s = http.createServer((_, res) => res.end("ok"))
            s.listen(0, "127.0.0.1", () => resolve(s))
          })
        ),
        (s) => Effect.promise(() => new Promise<void>((resolve) => s.close(() => resolve())))
      )
      const port = (server.address() as { port: number }).port
      const instrumentation = yield* Effect.acquireRelease(
        Effect.sync(() => new UndiciInstrumentation()),
        (i) => Effect.sync(() => i.disable())
      )
      assert.isDefined(instrumentation)
      yield* Effect.gen(function*() {
        const model = yield* ChatModel.ChatModel
        yield* model.chat({ messages: [{ role: "user", parts: [{ type: "text", content: "hi" }] }] })
        yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/x`).then((r) => r.text())).pipe(
          Pipeline.step("call-backend")
        )
        yield* chat("gpt-4o", 1, 1).pipe(Agent.invoke("sub-agent", { provider: "openai" }))
      }).pipe(Pipeline.run("agent-workflow"), Agent.withIdentity(identity))
      const spans = yield* Testing.finishedSpans
      assert.sameMembers(spans.map((s) => s.name), [
        "agent-workflow",
        "chat sim-gpt-4o",
        "call-backend",
        "GET",
        "invoke_agent sub-agent",
        "chat gpt-4o"
      ])
      for (const span of spans) {
        assert.strictEqual(span.attributes["gen_ai.conversation.id"], "conv-1", span.name)
        assert.strictEqual(span.attributes["session.id"], "sess-1", span.name)
        assert.strictEqual(span.attributes["user.id"], "user-1", span.name)
      }
      assert.strictEqual(
        Testing.spanNamed(spans, "GET").instrumentationScope.name,
        "@opentelemetry/instrumentation-undici"
      )
    }).pipe(Effect.provide(Simulated.layer({ latency: 0 })), Effect.provide(Testing.layer({ registerGlobal: true }))))

  it.effect("spans outside the scope do not carry it, and it is put in the propagation baggage", () =>
    Effect.gen(function*() {
      yield* chat("gpt-4o", 1, 1).pipe(Agent.withConversation("conv-2"))
      yield* chat("gpt-4o-mini", 1, 1)
      const baggage = yield* Propagation.currentBaggage.pipe(
        Agent.withIdentity({ conversationId: "conv-3", userId: "u-3" })
      )
      assert.deepStrictEqual(baggage, { "gen_ai.conversation.id": "conv-3", "user.id": "u-3" })
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(Testing.spanNamed(spans, "chat gpt-4o").attributes["gen_ai.conversation.id"], "conv-2")
      assert.notProperty(Testing.spanNamed(spans, "chat gpt-4o-mini").attributes, "gen_ai.conversation.id")
    }).pipe(Effect.provide(Testing.layer())))
})

describe("identity across processes", () => {
  it.effect("travels as baggage to the hosts the allow-list names, and to no other", () =>
    Effect.gen(function*() {
      const sent: Array<Readonly<Record<string, string>>> = []
      const recording = HttpClient.make((request) =>
        Effect.sync(() => {
          sent.push({ ...request.headers })
          return HttpClientResponse.fromWeb(request, new Response("ok"))
        })
      )
      const client = Propagation.client(recording, { baggageAllowList: ["tools.internal"] })
      yield* Effect.all([client.get("http://tools.internal/a"), client.get("http://third-party.example/b")]).pipe(
        Agent.withIdentity({ conversationId: "conv-x", userId: "u-x" }),
        Pipeline.run("agent-workflow")
      )
      const baggage = (sent[0]!.baggage ?? "").split(",").toSorted()
      assert.deepStrictEqual(baggage, ["gen_ai.conversation.id=conv-x", "user.id=u-x"])
      assert.isUndefined(sent[1]!.baggage)
    }).pipe(Effect.provide(Testing.layer({ registerGlobal: true }))))
})

describe("roll-ups", () => {
  it.effect("a run sums every inference beneath it, parallel ones included", () =>
    Effect.gen(function*() {
      yield* Effect.all([chat("a", 10, 1), chat("b", 20, 2), chat("c", 30, 3).pipe(Pipeline.step("deep"))], {
        concurrency: "unbounded"
      }).pipe(Pipeline.run("agent-workflow"))
      const root = Testing.spanNamed(yield* Testing.finishedSpans, "agent-workflow")
      assert.deepStrictEqual(rollup(root), { inferences: 3, input: 60, output: 6 })
      assert.notProperty(root.attributes, "gen_ai.usage.input_tokens")
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("an inference at the root is not a roll-up of itself", () =>
    Effect.gen(function*() {
      yield* chat("gpt-4o", 5, 5)
      const span = Testing.spanNamed(yield* Testing.finishedSpans, "chat gpt-4o")
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 5)
      assert.notProperty(span.attributes, "beluga.rollup.inferences")
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("nested agents: each counts what is beneath it, the outer counts each inference once", () =>
    Effect.gen(function*() {
      const inner = chat("a", 100, 10).pipe(Agent.invoke("inner", { provider: "openai" }))
      const outer = Effect.all([inner, chat("b", 1, 1)]).pipe(Agent.invoke("outer", { provider: "openai" }))
      yield* outer.pipe(Pipeline.run("agent-workflow"))
      const spans = yield* Testing.finishedSpans
      assert.deepStrictEqual(rollup(Testing.spanNamed(spans, "invoke_agent inner")), {
        inferences: 1,
        input: 100,
        output: 10
      })
      assert.deepStrictEqual(rollup(Testing.spanNamed(spans, "invoke_agent outer")), {
        inferences: 2,
        input: 101,
        output: 11
      })
      assert.deepStrictEqual(rollup(Testing.spanNamed(spans, "agent-workflow")), {
        inferences: 2,
        input: 101,
        output: 11
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("a failed and an interrupted stream still count what they reported", () =>
    Effect.gen(function*() {
      class Boom extends Data.TaggedError("Boom")<{}> {}
      const reported = (model: string): Stream.Stream<GenAI.StreamPart, Boom> =>
        Stream.fromIterable<GenAI.StreamPart>([
          { type: "usage", usage: { inputTokens: 50 } },
          { type: "text-delta", delta: "partial" }
        ]).pipe(Stream.concat(model === "fails" ? Stream.fail(new Boom()) : Stream.never))
      const fiber = yield* Effect.all([
        reported("fails").pipe(
          GenAI.chatStream({ provider: "openai", model: "fails" }),
          Stream.runDrain,
          Effect.ignore
        ),
        reported("hangs").pipe(
          GenAI.chatStream({ provider: "openai", model: "hangs" }),
          Stream.runDrain,
          Effect.timeout("1 second"),
          Effect.ignore
        )
      ], { concurrency: "unbounded" }).pipe(Pipeline.run("agent-workflow"), Effect.forkChild)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(fiber)
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(Testing.spanNamed(spans, "chat fails").attributes["error.type"], "Boom")
      assert.strictEqual(Testing.spanNamed(spans, "chat hangs").attributes["effect.fiber.interrupted"], true)
      assert.deepStrictEqual(rollup(Testing.spanNamed(spans, "agent-workflow")), {
        inferences: 2,
        input: 100,
        output: 0
      })
    }).pipe(Effect.provide(Testing.layer())))

  it.effect("an inference span of an OTel-instrumented library counts like the library's own", () =>
    Effect.gen(function*() {
      yield* Effect.sync(() => {
        // What an instrumented SDK does: a span through the global OTel API, under the active span.
        const span = Otel.trace.getTracer("instrumentation-openai").startSpan("chat gpt-4o", {
          kind: Otel.SpanKind.CLIENT,
          attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o" }
        })
        span.setAttributes({ "gen_ai.usage.input_tokens": 7, "gen_ai.usage.output_tokens": 3 })
        span.end()
      }).pipe(Pipeline.step("sdk-call"), Pipeline.run("agent-workflow"))
      const spans = yield* Testing.finishedSpans
      assert.strictEqual(spans.length, 3)
      assert.deepStrictEqual(rollup(Testing.spanNamed(spans, "agent-workflow")), { inferences: 1, input: 7, output: 3 })
    }).pipe(Effect.provide(Testing.layer({ registerGlobal: true }))))
})

describe("cost", () => {
  const table = Agent.prices([
    { provider: "anthropic", model: "claude-sonnet-4-5", input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
    { model: "gpt-4o", input: 2.5, output: 10 }
  ])

  it("prices uncached input, cache reads, cache writes and output once each", () => {
    // 1,000,000 input of which 200,000 cache reads and 100,000 cache writes, 10,000 output.
    const cost = costOf({ input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }, {
      input: 1_000_000,
      cacheRead: 200_000,
      cacheWrite: 100_000,
      output: 10_000
    })
    assert.closeTo(cost, 0.7 * 3 + 0.2 * 0.3 + 0.1 * 3.75 + 0.01 * 15, 1e-12)
  })

  it.effect("each priced inference gets gen_ai.usage.cost, the run the sum; an unknown model gets none", () =>
    Effect.gen(function*() {
      yield* Effect.all([
        Effect.void.pipe(
          GenAI.chat(
            { provider: "anthropic", model: "claude-sonnet-4-5" },
            () => usage(10_000, 1_000, { cacheReadInputTokens: 4_000, cacheCreationInputTokens: 1_000 })
          )
        ),
        chat("gpt-4o", 2_000, 500),
        chat("mystery-model", 1_000_000, 1_000_000)
      ]).pipe(Pipeline.run("agent-workflow"))
      const spans = yield* Testing.finishedSpans
      const claude = Testing.spanNamed(spans, "chat claude-sonnet-4-5")
      const claudeCost = (5_000 * 3 + 4_000 * 0.3 + 1_000 * 3.75 + 1_000 * 15) / 1_000_000
      assert.closeTo(claude.attributes["gen_ai.usage.cost.amount"] as number, claudeCost, 1e-12)
      assert.strictEqual(claude.attributes["gen_ai.usage.cost.currency"], "USD")
      assert.strictEqual(claude.attributes["gen_ai.usage.cost.source"], "local")
      // Langfuse's name, beside the conventions': the same amount.
      assert.strictEqual(claude.attributes["gen_ai.usage.cost"], claude.attributes["gen_ai.usage.cost.amount"])
      assert.notProperty(claude.attributes, "beluga.cost.currency")
      const gpt = Testing.spanNamed(spans, "chat gpt-4o")
      assert.closeTo(gpt.attributes["gen_ai.usage.cost"] as number, (2_000 * 2.5 + 500 * 10) / 1_000_000, 1e-12)
      assert.notProperty(Testing.spanNamed(spans, "chat mystery-model").attributes, "gen_ai.usage.cost")
      assert.notProperty(Testing.spanNamed(spans, "chat mystery-model").attributes, "gen_ai.usage.cost.amount")
      const root = Testing.spanNamed(spans, "agent-workflow")
      assert.closeTo(root.attributes["beluga.rollup.cost"] as number, claudeCost + 0.01, 1e-12)
      assert.strictEqual(root.attributes["beluga.cost.currency"], "USD")
      // The conventions put cost on inference spans only: a run's would count its inferences twice.
      assert.notProperty(root.attributes, "gen_ai.usage.cost.amount")
      assert.strictEqual(root.attributes["beluga.rollup.inferences"], 3)
    }).pipe(Effect.provide(Testing.layer({ prices: table }))))

  it.effect("with no priced model beneath, a run has no cost at all", () =>
    Effect.gen(function*() {
      yield* chat("mystery-model", 10, 10).pipe(Pipeline.run("agent-workflow"))
      const root = Testing.spanNamed(yield* Testing.finishedSpans, "agent-workflow")
      assert.notProperty(root.attributes, "beluga.rollup.cost")
      assert.strictEqual(root.attributes["beluga.rollup.input_tokens"], 10)
    }).pipe(Effect.provide(Testing.layer({ prices: table }))))
})

describe("evaluations", () => {
  it.effect("gen_ai.evaluation.result on the evaluated span, with the conventions' attributes and types", () =>
    Effect.gen(function*() {
      yield* Agent.evaluate({
        name: "relevance",
        score: 0.75,
        label: "relevant",
        explanation: "on topic",
        responseId: "resp-1"
      }).pipe(Agent.invoke("travel-agent", { provider: "openai" }))
      yield* Agent.evaluate({ name: "toxicity", score: 0 }).pipe(Pipeline.step("judge"))
      const spans = yield* Testing.finishedSpans
      const [event] = Testing.spanNamed(spans, "invoke_agent travel-agent").events
      assert.strictEqual(event?.name, "gen_ai.evaluation.result")
      assert.deepStrictEqual(event?.attributes, {
        "gen_ai.evaluation.name": "relevance",
        "gen_ai.evaluation.score.value": 0.75,
        "gen_ai.evaluation.score.label": "relevant",
        "gen_ai.evaluation.explanation": "on topic",
        "gen_ai.response.id": "resp-1"
      })
      assert.deepStrictEqual(Testing.spanNamed(spans, "judge").events[0]?.attributes, {
        "gen_ai.evaluation.name": "toxicity",
        "gen_ai.evaluation.score.value": 0
      })
    }).pipe(Effect.provide(Testing.layer())))
})

describe("redaction", () => {
  const secrets = ["ana@example.com", "sk-live-0123456789abcdef", "4111 1111 1111 1111"]

  const agent = Effect.gen(function*() {
    const model = yield* ChatModel.ChatModel
    const book = Tool.make({
      name: "book_train",
      handler: (args: { readonly email: string; readonly card: string }) =>
        Effect.succeed({ booked: true, to: args.email })
    })
    const question = `Book a train; mail ${secrets[0]}, card ${secrets[2]}, key ${secrets[1]}`
    const plan = yield* model.chat({
      messages: [{ role: "user", parts: [{ type: "text", content: question }] }],
      tools: [book.definition]
    })
    yield* Effect.forEach(plan.toolCalls, (call) => book.call({ email: secrets[0]!, card: secrets[2]! }, call.id))
    yield* Pipeline.event("note", { text: `sent to ${secrets[0]}` })
  }).pipe(
    Agent.invoke("booking-agent", { provider: "simulated", input: `key ${secrets[1]}` }),
    Pipeline.run("agent-workflow")
  )

  it.effect("with capture on and no hook, the secrets are recorded (the control)", () =>
    Effect.gen(function*() {
      yield* agent
      const all = everything(yield* Testing.finishedSpans)
      for (const secret of secrets) assert.include(all, secret)
    }).pipe(Effect.provide(Simulated.layer({ latency: 0 })), Effect.provide(Testing.layer({ captureContent: true }))))

  it.effect("a hook masks them in every attribute and event of every span, content included", () =>
    Effect.gen(function*() {
      yield* agent
      const spans = yield* Testing.finishedSpans
      const all = everything(spans)
      for (const secret of secrets) assert.notInclude(all, secret)
      assert.include(all, "[redacted]")
      // Field-level masking keeps the JSON valid and the other fields.
      const args = JSON.parse(
        Testing.spanNamed(spans, "execute_tool book_train").attributes["gen_ai.tool.call.arguments"] as string
      )
      assert.deepStrictEqual(args, { email: "[redacted]", card: "[redacted]" })
    }).pipe(
      Effect.provide(Simulated.layer({ latency: 0 })),
      Effect.provide(Testing.layer({
        captureContent: true,
        redact: Agent.redactAll(
          Agent.redactFields(["email", "card"]),
          Agent.redactMatching([/[\w.+-]+@[\w-]+\.[\w.]+/g, /sk-[A-Za-z0-9_-]{8,}/g, /\b(?:\d[ -]?){13,16}\b/g])
        )
      }))
    ))
})
