/**
 * What the provider tests share, so that each test file holds only what is particular to its
 * provider: calling the model in the context, picking spans out of `Testing.finishedSpans`, the
 * typed failure of a call, the table of untrusted responses and the retry event every provider
 * reports, and the fast-check helpers the stream-decoder fuzz tests split and decode bytes with.
 */
import { assert } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { ChatModel, type GenAI, Testing } from "../../src/index.ts"
import { endpointOf } from "../../src/internal/providerHttp.ts"
import type { Reply } from "./provider-server.ts"

// -----------------------------------------------------------------------------
// Calls and spans
// -----------------------------------------------------------------------------

/** The user turn most provider tests ask. */
export const question = { role: "user", parts: [{ type: "text" as const, content: "What is the weather in Lisbon?" }] }

/** One call to the `ChatModel` in the context. */
export const chat = (request: ChatModel.ChatRequest) =>
  Effect.flatMap(Effect.service(ChatModel.ChatModel), (m) => m.chat(request))
/** One streamed call to the `ChatModel` in the context. */
export const stream = (request: ChatModel.ChatRequest) =>
  Stream.unwrap(Effect.map(Effect.service(ChatModel.ChatModel), (m) => m.stream(request)))

/** The one `chat …` span among `spans`; fails the test when there are none or several. */
export const onlyChatSpan = (spans: ReadonlyArray<ReadableSpan>): ReadableSpan => {
  const chats = spans.filter((s) => s.name.startsWith("chat "))
  assert.strictEqual(chats.length, 1, `exactly one chat span: ${Testing.render(spans)}`)
  return chats[0]!
}
export const childrenOf = (spans: ReadonlyArray<ReadableSpan>, parent: ReadableSpan) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)
export const seconds = (span: ReadableSpan) => span.duration[0] + span.duration[1] / 1e9

/** Every string an exported span carries: name, attribute values, events, status. */
export const spanStrings = (spans: ReadonlyArray<ReadableSpan>): Array<string> =>
  spans.flatMap((span) => [
    span.name,
    span.status.message ?? "",
    ...Object.entries(span.attributes).flatMap(([k, v]) => [k, JSON.stringify(v)]),
    ...span.events.flatMap((e) => [e.name, JSON.stringify(e.attributes ?? {})])
  ])
/** {@link spanStrings} as one text, for `assert.notInclude`. */
export const everyString = (spans: ReadonlyArray<ReadableSpan>): string => spanStrings(spans).join("\n")

/** Layers that read their configuration from `env` alone. */
export const withEnv = <A, E, R>(layer: Layer.Layer<A, E, R>, env: Record<string, string>) =>
  Layer.provide(layer, ConfigProvider.layer(ConfigProvider.fromEnv({ env })))

// -----------------------------------------------------------------------------
// Failures
// -----------------------------------------------------------------------------

/** The typed failure of an exit: it failed, and with a `Fail` rather than a defect. */
export const typedFailureOf = (exit: Exit.Exit<unknown, unknown>, failed = "the call should fail"): unknown => {
  assert.isTrue(Exit.isFailure(exit), failed)
  const reason = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isFailReason) : undefined
  assert.isDefined(reason, `a typed failure, got ${Exit.isFailure(exit) ? String(exit.cause) : ""}`)
  return reason!.error
}
/** {@link typedFailureOf}, and that failure is a `ChatError`. */
export const chatFailureOf = (exit: Exit.Exit<unknown, unknown>, failed?: string): ChatModel.ChatError => {
  const error = typedFailureOf(exit, failed)
  assert.instanceOf(error, ChatModel.ChatError)
  return error as ChatModel.ChatError
}

/** The error carries this `error.type` and HTTP status. */
export const assertErrorStatus = (error: ChatModel.ChatError, errorType: string, status: number): void => {
  assert.strictEqual(error.errorType, errorType)
  assert.strictEqual(error.status, status)
}
/** The span ended with ERROR and this `error.type`. */
export const assertErrorSpan = (span: ReadableSpan, errorType: string): void => {
  assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
  assert.strictEqual(span.attributes["error.type"], errorType)
}

/** The `beluga.provider.retry` event of a first retry after `status`, waiting `delayMs`. */
export const retryEvent = (errorType: string, delayMs: number, status = 429) => ({
  name: "beluga.provider.retry",
  attributes: {
    "http.request.resend_count": 1,
    "http.response.status_code": status,
    "error.type": errorType,
    "beluga.retry.delay_ms": delayMs
  }
})

// -----------------------------------------------------------------------------
// Untrusted responses
// -----------------------------------------------------------------------------

/** A hostile or broken reply, whether it is read by `chat` or `stream`, and the error it must end in. */
export interface UntrustedCase<Script = Reply> {
  readonly name: string
  readonly reply: Script
  readonly streamed: boolean
  readonly errorType: string
}

/** A plain body larger than any limit. */
export const hugeBody: UntrustedCase<Reply> = {
  name: "a body of 40 MB",
  reply: { kind: "huge", bytes: 40 * 1024 * 1024, contentType: "application/json" },
  streamed: false,
  errorType: "response_too_large"
}
/** One server-sent event larger than any limit. */
export const hugeEvent: UntrustedCase<Reply> = {
  name: "a stream event of 40 MB with no line end",
  reply: { kind: "huge", bytes: 40 * 1024 * 1024, contentType: "text/event-stream", fill: "data: xxxxxxxx" },
  streamed: true,
  errorType: "response_too_large"
}
/** A server that takes the request and never answers. */
export const neverAnswers: UntrustedCase<Reply> = {
  name: "a server that never answers",
  reply: { kind: "stall" },
  streamed: false,
  errorType: "timeout"
}

/** The limits an untrusted reply is read under: no retry, a 1 MiB body, a one-second timeout. */
export const untrustedLimits = { maxRetries: 0, maxResponseBytes: 1024 * 1024, timeout: "1 second" } as const

/** The exit of asking `question` under `layer`, streamed (and drained) or not. */
export const askExit = <E>(layer: Layer.Layer<ChatModel.ChatModel, E>, streamed: boolean) =>
  streamed
    ? stream({ messages: [question] }).pipe(Stream.runDrain, Effect.provide(layer), Effect.exit)
    : chat({ messages: [question] }).pipe(Effect.provide(layer), Effect.exit)

// -----------------------------------------------------------------------------
// Fuzzing stream decoders
// -----------------------------------------------------------------------------

/** `FUZZ_RUNS_SCALE=100 npx vitest run test/Fuzz.test.ts` searches longer than the suite does. */
export const runs = (n: number) => n * Number(process.env["FUZZ_RUNS_SCALE"] ?? 1)

/** An endpoint on a closed port with this key, for decoders fed by hand. */
export const fuzzEndpoint = (key: string, maxResponseBytes = 64 * 1024) =>
  endpointOf({ apiKey: Redacted.make(key), idleTimeout: "5 seconds", maxResponseBytes }, "http://127.0.0.1:1")

/** Runs a decoded stream to its exit. */
export const exitOf = <A, E>(parts: Stream.Stream<A, E>) =>
  parts.pipe(Stream.runCollect, Effect.exit, Effect.runPromise)

/** Splits `bytes` at the given cut points. */
export const split = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].toSorted((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let from = 0
  for (const point of [...points, bytes.length]) {
    out.push(bytes.subarray(from, point))
    from = point
  }
  return out
}

/** Any split of `bytes` (at up to `maxCuts` points) decodes to `whole`. */
export const assertSplitsDecodeTo = (
  bytes: Uint8Array,
  whole: unknown,
  decode: (chunks: ReadonlyArray<Uint8Array>) => Promise<unknown>,
  numRuns: number,
  maxCuts = 40
) =>
  fc.assert(
    fc.asyncProperty(fc.array(fc.nat(), { maxLength: maxCuts }), async (cuts) => {
      assert.deepStrictEqual(await decode(split(bytes, cuts)), whole)
    }),
    { numRuns }
  )

/** Chunks of random bytes, or one chunk of `fragment`s joined: inputs both far from and near the grammar. */
export const generatedChunks = (fragment: fc.Arbitrary<string>): fc.Arbitrary<ReadonlyArray<Uint8Array>> =>
  fc.oneof(
    fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }),
    fc.array(fragment, { maxLength: 40 }).map((pieces) => [new TextEncoder().encode(pieces.join(""))])
  )

/** Every token count is absent or a safe non-negative integer. */
export const assertTokenCounts = (usage: GenAI.StreamPart & { readonly type: "usage" }): void => {
  for (const n of Object.values(usage.usage)) assert.isTrue(n === undefined || (Number.isSafeInteger(n) && n >= 0))
}
