/**
 * GenAI content events over the logs signal: with `captureContent` `EVENT_ONLY` or `SPAN_AND_EVENT`,
 * each model call is also a `gen_ai.client.inference.operation.details` log record at a real OTLP
 * receiver — correlated to its span, its content structured (not JSON strings) — and `EVENT_ONLY`
 * keeps the content off the span. `SPAN_ONLY` and no capture send no such event.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import { ChatModel, Evaluation, GenAI, Identity, Pipeline, Simulated, Tracing } from "../src/index.ts"
import type { AttrValue, Receiver as ReceiverType } from "./support/receiver.ts"
import { Receiver } from "./support/receiver.ts"

const question = "How long is the train from Lisbon to Porto?"

const run = (receiver: ReceiverType, captureContent: Tracing.Options["captureContent"], protocol: Tracing.Protocol) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const model = yield* ChatModel.ChatModel
      const ask = {
        systemInstructions: [{ type: "text" as const, content: "You are a travel agent." }],
        messages: [{ role: "user" as const, parts: [{ type: "text" as const, content: question }] }]
      }
      const reply = yield* model.chat(ask)
      yield* model.stream(ask).pipe(Stream.runDrain)
      yield* Evaluation.evaluate({ name: "relevance", score: 0.8, responseId: reply.id }).pipe(Pipeline.step("judge"))
      yield* Tracing.flush()
    }).pipe(
      Effect.provide(Simulated.layer({ latency: 0 })),
      Effect.provide(
        Tracing.layer({
          serviceName: "content-events",
          endpoint: receiver.url,
          protocol,
          captureContent,
          registerGlobal: false,
          metrics: false,
          onWarning: () => {}
        }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
      )
    )
  )

const withReceiver = async <A>(use: (receiver: ReceiverType) => Promise<A>): Promise<A> => {
  const receiver = await Receiver.start()
  try {
    return await use(receiver)
  } finally {
    await receiver.close()
  }
}

/** The layer sending to `receiver`, its variables read from `env` alone (none of the machine's). */
const layerFor = (
  receiver: ReceiverType,
  serviceName: string,
  options: Pick<Tracing.Options, "captureContent" | "protocol">,
  env: Record<string, string> = {}
) =>
  Tracing.layer({
    serviceName,
    endpoint: receiver.url,
    ...options,
    registerGlobal: false,
    metrics: false,
    onWarning: () => {}
  }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))))

/** Events only, with `gen_ai.input.messages_delta` on, as its variable turns it on. */
const deltaLayer = (receiver: ReceiverType, serviceName: string) =>
  layerFor(receiver, serviceName, { captureContent: "EVENT_ONLY" }, { BELUGA_GENAI_CAPTURE_MESSAGES_DELTA: "true" })

const details = (receiver: ReceiverType) =>
  receiver.logs().filter((record) => record.eventName === "gen_ai.client.inference.operation.details")

/** A kvlist/array value as plain JSON, to compare with what the model was asked. */
const plain = (value: AttrValue | undefined): unknown => {
  if (value === undefined) return undefined
  switch (value.type) {
    case "array":
      return value.value.map(plain)
    case "kvlist":
      return Object.fromEntries(Object.entries(value.value).map(([k, v]) => [k, plain(v as AttrValue)]))
    case "int":
      return Number(value.value)
    default:
      return value.value
  }
}

const text = (role: "user" | "assistant", content: string) => ({
  role,
  parts: [{ type: "text" as const, content }]
})
const call = (messages: ReadonlyArray<GenAI.InputMessage>, turn: string) =>
  Effect.succeed("ok").pipe(
    GenAI.chat({ provider: "openai", model: "gpt-4o", messages }),
    Pipeline.step(turn)
  )

describe("gen_ai.client.inference.operation.details", () => {
  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`EVENT_ONLY (${protocol}): one event per model call, structured content, none of it on the spans`, () =>
      withReceiver(async (receiver) => {
        await run(receiver, "EVENT_ONLY", protocol)
        receiver.assertDecoded()
        const events = details(receiver)
        assert.strictEqual(events.length, 2, "the plain call and the streamed one")
        const spans = receiver.spans().filter((span) => span.name.startsWith("chat "))
        assert.strictEqual(spans.length, 2)
        for (const event of events) {
          const span = spans.find((s) => s.spanId === event.spanId)
          assert.isDefined(span, "the event names its span")
          assert.strictEqual(event.traceId, span!.traceId)
          assert.strictEqual(event.severityNumber, 9)
          assert.strictEqual(event.attributes["gen_ai.operation.name"]?.value, "chat")
          assert.strictEqual(event.attributes["gen_ai.request.model"]?.value, "sim-gpt-4o")
          // Structured, not JSON text.
          assert.strictEqual(event.attributes["gen_ai.input.messages"]?.type, "array")
          assert.deepStrictEqual(plain(event.attributes["gen_ai.input.messages"]), [
            { role: "user", parts: [{ type: "text", content: question }] }
          ])
          assert.deepStrictEqual(plain(event.attributes["gen_ai.system_instructions"]), [
            { type: "text", content: "You are a travel agent." }
          ])
          const output = plain(event.attributes["gen_ai.output.messages"]) as Array<{ role: string; parts: Array<any> }>
          assert.strictEqual(output[0]!.role, "assistant")
          assert.isString(output[0]!.parts[0].content)
          assert.isAbove(Number(event.attributes["gen_ai.usage.output_tokens"]?.value), 0)
        }
        for (const span of spans) {
          for (const key of ["gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"]) {
            assert.notProperty(span.attributes, key, `${span.name}: EVENT_ONLY keeps content off the span`)
          }
        }
      }))
  }

  it("SPAN_AND_EVENT: the content on the span (as JSON) and in the event (structured); the evaluation as a record", () =>
    withReceiver(async (receiver) => {
      await run(receiver, "SPAN_AND_EVENT", "http/protobuf")
      assert.strictEqual(details(receiver).length, 2)
      const evaluations = receiver.logs().filter((record) => record.eventName === "gen_ai.evaluation.result")
      assert.strictEqual(evaluations.length, 1)
      const judge = receiver.spans().find((span) => span.name === "judge")!
      assert.strictEqual(evaluations[0]!.spanId, judge.spanId)
      assert.strictEqual(evaluations[0]!.attributes["gen_ai.evaluation.score.value"]?.value, 0.8)
      // And still the span event it always was.
      assert.isTrue(judge.events.some((event) => event.name === "gen_ai.evaluation.result"))
      for (const span of receiver.spans().filter((s) => s.name.startsWith("chat "))) {
        assert.strictEqual(span.attributes["gen_ai.input.messages"]?.type, "string")
      }
    }))

  it("SPAN_ONLY and no capture send no content event, and the spans keep what they had", () =>
    withReceiver(async (receiver) => {
      await run(receiver, "SPAN_ONLY", "http/protobuf")
      await run(receiver, false, "http/protobuf")
      assert.strictEqual(details(receiver).length, 0)
      assert.strictEqual(receiver.logs().filter((r) => r.eventName === "gen_ai.evaluation.result").length, 0)
      const spans = receiver.spans().filter((s) => s.name.startsWith("chat "))
      assert.strictEqual(spans.filter((s) => s.attributes["gen_ai.input.messages"] !== undefined).length, 2)
    }))

  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`a call run again (${protocol}): each event has the request once, beside that run's result, identity and failure`, () =>
      withReceiver(async (receiver) => {
        // One combinator, so one request: its attributes are built once and shared by the runs after the first.
        let runs = 0
        const messages = [text("user", question)]
        const chat = Effect.suspend(() =>
          ++runs === 4 ? Effect.fail({ _tag: "NoModel" as const }) : Effect.succeed(`answer ${runs}`)
        ).pipe(
          GenAI.chat({ provider: "openai", model: "gpt-4o", messages }, (answer) => ({
            response: {
              id: `r-${answer}`,
              outputMessages: [{ ...text("assistant", answer), finish_reason: "stop" }],
              // A result that names a request attribute again: the record must carry the key once.
              attributes: answer === "answer 3" ? { "gen_ai.request.model": "gpt-4o-mini" } : undefined
            },
            usage: { inputTokens: 12, outputTokens: runs }
          }))
        )
        await Effect.runPromise(
          Effect.gen(function*() {
            yield* chat.pipe(Pipeline.step("run 1"))
            yield* chat.pipe(Pipeline.step("run 2"), Identity.withConversation("conv-again"))
            yield* chat.pipe(Pipeline.step("run 3"))
            yield* chat.pipe(Effect.ignore, Pipeline.step("run 4"))
            yield* Tracing.flush()
          }).pipe(
            Effect.provide(
              layerFor(receiver, "content-again", { protocol, captureContent: "EVENT_ONLY" })
            )
          )
        )
        receiver.assertDecoded()
        const steps = new Map(receiver.spans().map((span) => [span.spanId, span]))
        const byRun = new Map(
          details(receiver).map((event) => [steps.get(steps.get(event.spanId!)!.parentSpanId!)!.name, event])
        )
        assert.deepStrictEqual([...byRun.keys()].toSorted(), ["run 1", "run 2", "run 3", "run 4"])
        for (const [name, event] of byRun) {
          const attribute = (key: string) => plain(event.attributes[key])
          assert.strictEqual(attribute("gen_ai.operation.name"), "chat", name)
          assert.strictEqual(attribute("gen_ai.provider.name"), "openai", name)
          assert.strictEqual(attribute("gen_ai.request.model"), name === "run 3" ? "gpt-4o-mini" : "gpt-4o", name)
          assert.deepStrictEqual(attribute("gen_ai.input.messages"), messages, name)
          assert.strictEqual(attribute("gen_ai.conversation.id"), name === "run 2" ? "conv-again" : undefined, name)
          if (name === "run 4") {
            assert.strictEqual(attribute("error.type"), "NoModel")
            assert.isUndefined(attribute("gen_ai.output.messages"))
            assert.isUndefined(attribute("gen_ai.response.id"))
          } else {
            const answer = `answer ${name.slice(4)}`
            assert.isUndefined(attribute("error.type"), name)
            assert.strictEqual(attribute("gen_ai.response.id"), `r-${answer}`)
            assert.deepStrictEqual(attribute("gen_ai.output.messages"), [
              { ...text("assistant", answer), finish_reason: "stop" }
            ])
            assert.strictEqual(attribute("gen_ai.usage.output_tokens"), Number(name.slice(4)))
          }
        }
      }))
  }

  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`SPAN_AND_EVENT (${protocol}): a result described once for its span and its event, stamped at the span's end, concurrent calls apart`, () =>
      withReceiver(async (receiver) => {
        let described = 0
        let runs = 0
        const chat = Effect.suspend(() => {
          const answer = { text: `answer ${++runs}` }
          return Effect.yieldNow.pipe(Effect.as(answer))
        }).pipe(
          GenAI.chat({ provider: "openai", model: "gpt-4o", messages: [text("user", question)] }, (answer) => {
            described++
            return {
              response: {
                id: `r-${answer.text}`,
                outputMessages: [{ ...text("assistant", answer.text), finish_reason: "stop" }]
              },
              usage: { inputTokens: 12, outputTokens: runs }
            }
          })
        )
        let describedInSequence = 0
        await Effect.runPromise(
          Effect.gen(function*() {
            for (let i = 0; i < 3; i++) yield* chat
            describedInSequence = described
            // Calls that interleave, the fibers yielding after every operation, so that one call's
            // span may end between another's result and its end: each must keep its own result.
            yield* Effect.all(Array.from({ length: 8 }, () => chat), { concurrency: "unbounded" }).pipe(
              Effect.provideService(References.MaxOpsBeforeYield, 7)
            )
            yield* Tracing.flush()
          }).pipe(Effect.provide(layerFor(receiver, "content-once", { protocol, captureContent: "SPAN_AND_EVENT" })))
        )
        receiver.assertDecoded()
        assert.strictEqual(describedInSequence, 3, "once per call, not once for the span and again for the event")
        const spans = new Map(receiver.spans().map((span) => [span.spanId, span]))
        const events = details(receiver)
        assert.strictEqual(events.length, 11)
        for (const event of events) {
          const span = spans.get(event.spanId!)!
          const id = plain(event.attributes["gen_ai.response.id"])
          assert.strictEqual(span.attributes["gen_ai.response.id"]?.value, id, "the event's result is its span's")
          const answer = String(id).slice(2)
          assert.deepStrictEqual(plain(event.attributes["gen_ai.output.messages"]), [
            { ...text("assistant", answer), finish_reason: "stop" }
          ])
          assert.strictEqual(
            span.attributes["gen_ai.output.messages"]?.value,
            JSON.stringify([{ ...text("assistant", answer), finish_reason: "stop" }])
          )
          assert.strictEqual(event.timeUnixNano, span.endTimeUnixNano, "the event is the call as it ends")
          assert.strictEqual(event.observedTimeUnixNano, span.endTimeUnixNano)
        }
        assert.strictEqual(new Set(events.map((event) => plain(event.attributes["gen_ai.response.id"]))).size, 11)
      }))
  }

  it("a call run again follows the messages the program changes: pushed to, edited in place, replaced", () =>
    withReceiver(async (receiver) => {
      const u1 = text("user", "Trains from Lisbon to Porto?")
      const request = { provider: "openai" as const, model: "gpt-4o", messages: [u1] as Array<GenAI.InputMessage> }
      const chat = Effect.succeed("ok").pipe(GenAI.chat(request))
      const expected: Array<unknown> = []
      const turn = (name: string) =>
        Effect.suspend(() => {
          expected.push(structuredClone(request.messages))
          return chat.pipe(Pipeline.step(name))
        })
      await Effect.runPromise(
        Effect.gen(function*() {
          yield* turn("turn 1")
          request.messages.push(text("assistant", "Every hour."), text("user", "And to Faro?"))
          yield* turn("turn 2")
          yield* turn("turn 3")
          ;(request.messages[0]!.parts[0] as { content: string }).content = "Trains from Lisbon to Braga?"
          yield* turn("turn 4")
          yield* turn("turn 5")
          request.messages = [text("user", "A new question.")]
          yield* turn("turn 6")
          yield* Tracing.flush()
        }).pipe(
          Effect.provide(
            layerFor(receiver, "content-follows", { captureContent: "SPAN_AND_EVENT" })
          )
        )
      )
      receiver.assertDecoded()
      const steps = new Map(receiver.spans().map((span) => [span.spanId, span]))
      const chats = receiver.spans().filter((span) => span.name === "chat gpt-4o")
      const events = new Map(details(receiver).map((event) => [steps.get(event.spanId!)!, event]))
      assert.strictEqual(chats.length, 6)
      for (const span of chats) {
        const name = steps.get(span.parentSpanId!)!.name
        const want = expected[Number(name.slice(5)) - 1]
        assert.deepStrictEqual(
          JSON.parse(String(span.attributes["gen_ai.input.messages"]?.value)),
          want,
          `${name}, span`
        )
        assert.deepStrictEqual(plain(events.get(span)!.attributes["gen_ai.input.messages"]), want, `${name}, event`)
      }
    }))

  it("captureMessagesDelta with one call run turn after turn on the history it is given", () =>
    withReceiver(async (receiver) => {
      const messages: Array<GenAI.InputMessage> = [text("user", "Trains from Lisbon to Porto?")]
      const chat = Effect.succeed("ok").pipe(GenAI.chat({ provider: "openai", model: "gpt-4o", messages }))
      await Effect.runPromise(
        Effect.gen(function*() {
          yield* chat.pipe(Pipeline.step("turn 1"))
          messages.push(text("assistant", "Every hour."), text("user", "And to Faro?"))
          yield* chat.pipe(Pipeline.step("turn 2"))
          messages.push(text("assistant", "Four a day."), text("user", "The first one?"))
          yield* chat.pipe(Pipeline.step("turn 3"))
          yield* chat.pipe(Pipeline.step("turn 4"))
          yield* Tracing.flush()
        }).pipe(
          Identity.withConversation("conv-one-call"),
          Effect.provide(
            deltaLayer(receiver, "content-delta-one-call")
          )
        )
      )
      receiver.assertDecoded()
      const steps = new Map(receiver.spans().map((span) => [span.spanId, span]))
      const byTurn = new Map(
        details(receiver).map((event) => [steps.get(steps.get(event.spanId!)!.parentSpanId!)!.name, event])
      )
      const attribute = (turn: string, key: string) => plain(byTurn.get(turn)!.attributes[key])
      assert.deepStrictEqual(attribute("turn 1", "gen_ai.input.messages"), [messages[0]])
      assert.deepStrictEqual(attribute("turn 2", "gen_ai.input.messages_delta"), messages.slice(1, 3))
      assert.deepStrictEqual(attribute("turn 3", "gen_ai.input.messages_delta"), messages.slice(3, 5))
      assert.deepStrictEqual(attribute("turn 4", "gen_ai.input.messages_delta"), [])
      for (const turn of ["turn 2", "turn 3", "turn 4"]) {
        assert.isUndefined(attribute(turn, "gen_ai.input.messages"), `${turn}: the delta replaces the whole input`)
        assert.strictEqual(attribute(turn, "gen_ai.conversation.id"), "conv-one-call")
      }
    }))

  it("captureMessagesDelta: a conversation's later calls carry only their new input messages; a rewritten history all of it", () =>
    withReceiver(async (receiver) => {
      const u1 = text("user", "Trains from Lisbon to Porto?")
      const a1 = text("assistant", "Every hour.")
      const u2 = text("user", "And to Faro?")
      const a2 = text("assistant", "Four a day.")
      const u3 = text("user", "The first one?")
      const calls = Effect.gen(function*() {
        yield* call([u1], "turn 1")
        yield* call([u1, a1, u2], "turn 2")
        yield* call([u1, a1, u2, a2, u3], "turn 3")
        yield* call([u1, a1, u2, a2, u3], "retry of turn 3")
        // Summarized: no longer the previous input with messages appended.
        yield* call([text("user", "Summary: trains to Porto and Faro."), u3], "turn 4")
      })
      await Effect.runPromise(
        Effect.gen(function*() {
          yield* calls.pipe(Identity.withConversation("conv-trains"))
          // Another conversation, and calls in none, are followed apart.
          yield* call([u1, a1, u2], "other conversation").pipe(Identity.withConversation("conv-other"))
          yield* call([u1], "no conversation 1")
          yield* call([u1, a1, u2], "no conversation 2")
          yield* Tracing.flush()
        }).pipe(
          Effect.provide(
            deltaLayer(receiver, "content-delta")
          )
        )
      )
      receiver.assertDecoded()
      const steps = new Map(receiver.spans().map((span) => [span.spanId, span]))
      const byTurn = new Map(
        details(receiver).map((event) => {
          const chat = steps.get(event.spanId!)!
          return [steps.get(chat.parentSpanId!)!.name, event]
        })
      )
      assert.strictEqual(byTurn.size, 8)
      const full = (turn: string) => plain(byTurn.get(turn)!.attributes["gen_ai.input.messages"])
      const delta = (turn: string) => plain(byTurn.get(turn)!.attributes["gen_ai.input.messages_delta"])
      assert.deepStrictEqual(full("turn 1"), [u1])
      assert.isUndefined(delta("turn 1"))
      assert.deepStrictEqual(delta("turn 2"), [a1, u2])
      assert.isUndefined(full("turn 2"), "the delta replaces the whole input")
      assert.deepStrictEqual(delta("turn 3"), [a2, u3])
      assert.deepStrictEqual(delta("retry of turn 3"), [])
      assert.deepStrictEqual(full("turn 4"), [text("user", "Summary: trains to Porto and Faro."), u3])
      assert.deepStrictEqual(full("other conversation"), [u1, a1, u2])
      assert.deepStrictEqual(full("no conversation 2"), [u1, a1, u2])
      // The conversation the calls inherit goes on their events.
      assert.strictEqual(byTurn.get("turn 2")!.attributes["gen_ai.conversation.id"]?.value, "conv-trains")
      assert.strictEqual(byTurn.get("other conversation")!.attributes["gen_ai.conversation.id"]?.value, "conv-other")
      assert.isUndefined(byTurn.get("no conversation 2")!.attributes["gen_ai.conversation.id"])
    }))
})
