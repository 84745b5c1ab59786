/**
 * What the logs signal costs, exported over OTLP/HTTP to a sink in another process on 127.0.0.1
 * (`sink.ts`), in interleaved rounds, CPU time per call with each round's flush included:
 * - a `GenAI.chat` call with its content also as a `gen_ai.client.inference.operation.details`
 *   record (`SPAN_AND_EVENT`) ÷ with its content on the span only (`SPAN_ONLY`; target ≤ 1.15×);
 * - the same call with its content in the record only (`EVENT_ONLY`) ÷ on the span only: what
 *   moving the content from spans to events costs;
 * - the same call with content on the span and, beside it, the same record as bytes encoded once
 *   and copied (every attribute shared, see `sharedAttributes`) ÷ on the span only: what a record
 *   costs that does no work of its own, past its envelope, its copy and its send, the floor under
 *   the first ratio;
 * - both ratios for a call through a provider's `ChatModel`, which builds its request (and so its
 *   span's start attributes) anew each call, where the `GenAI.chat` above is made once and run
 *   again, its start attributes kept from the first run;
 * - an `Effect.log` line inside a span, exported as a log record ÷ the same line with logs off
 *   (it is still a span event either way);
 * - the chat call's details record encoded alone (`otlpLogs.ts`, no export), per record: in
 *   http/json ÷ in http/protobuf, and with its request attributes built into each record ÷ shared
 *   between records as a call site run again has them.
 *
 *   node --experimental-transform-types bench/logs.ts [--quick] [--out=file.json]
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { ChatModel, GenAI, Pipeline, Tracing } from "../src/index.ts"
import { CurrentLogs } from "../src/internal/logsPipeline.ts"
import { type LogRecordInput, logsEncoder } from "../src/internal/otlpLogs.ts"
import { startSink } from "./spawn.ts"
import { args, ns, ratio, shuffle, summarize, type Summary, table, writeResult } from "./stats.ts"

const argv = args()
const quick = argv.has("quick")
const rounds = argv.number("rounds", quick ? 5 : 15)
const calls = argv.number("calls", quick ? 1_000 : 4_000)
const seed = argv.number("seed", Date.now() % 100_000)

const messages: ReadonlyArray<GenAI.InputMessage> = [
  { role: "user", parts: [{ type: "text", content: "How long is the train from Lisbon to Porto?" }] }
]
const chatOf = <E, R>(self: Effect.Effect<string, E, R>) =>
  self.pipe(
    GenAI.chat({ provider: "openai", model: "gpt-4o", messages }, (answer) => ({
      response: {
        id: "r1",
        model: "gpt-4o-2024-08-06",
        finishReasons: ["stop"],
        outputMessages: [{ role: "assistant", parts: [{ type: "text", content: answer }], finish_reason: "stop" }]
      },
      usage: { inputTokens: 12, outputTokens: 5 }
    }))
  )
const chat = chatOf(Effect.succeed("About three hours."))
/**
 * The same call through a provider's `ChatModel`, as an application makes it: every call builds its
 * request, and with it its span's start attributes and its event's, from nothing.
 */
const model = ChatModel.make({
  provider: "openai",
  model: "gpt-4o",
  complete: () =>
    Effect.succeed({
      id: "r1",
      model: "gpt-4o-2024-08-06",
      text: "About three hours.",
      toolCalls: [],
      finishReason: "stop",
      usage: { inputTokens: 12, outputTokens: 5 }
    })
})
const modelChat = Effect.suspend(() => model.chat({ messages })).pipe(Effect.orDie)
const logLine = Effect.log("tool call finished", { tool: "search_trains", results: 3 }).pipe(Pipeline.step("step"))

/** The chat call's details record as `contentEvents.ts` emits it: its request shared, its result its own. */
const request = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "openai",
  "gen_ai.request.model": "gpt-4o",
  "gen_ai.input.messages": messages
}
const resultAttributes = (answer: string) => ({
  "gen_ai.response.id": "r1",
  "gen_ai.response.model": "gpt-4o-2024-08-06",
  "gen_ai.response.finish_reasons": ["stop"],
  "gen_ai.output.messages": [{ role: "assistant", parts: [{ type: "text", content: answer }], finish_reason: "stop" }],
  "gen_ai.usage.input_tokens": 12,
  "gen_ai.usage.output_tokens": 5
})
/** The floor: the chat call's record, every attribute in one object encoded once, emitted in its span. */
const floorRecord = { ...request, ...resultAttributes("About three hours.") }
const floorChat = chatOf(Effect.withFiber((fiber) => {
  fiber.getRef(CurrentLogs)?.emit({
    eventName: "gen_ai.client.inference.operation.details",
    severityNumber: 9,
    severityText: "INFO",
    sharedAttributes: floorRecord,
    span: fiber.cache.span?._tag === "Span" ? fiber.cache.span : undefined
  })
  return Effect.succeed("About three hours.")
}))
const recordSpan = { traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b174", sampled: true }
const details = (shared: boolean): LogRecordInput => ({
  eventName: "gen_ai.client.inference.operation.details",
  severityNumber: 9,
  severityText: "INFO",
  sharedAttributes: shared ? request : undefined,
  attributes: shared
    ? resultAttributes("About three hours.")
    : { ...request, ...resultAttributes("About three hours.") },
  span: recordSpan
})
const encodings = [
  { name: "encode.protobuf", protocol: "http/protobuf", shared: true },
  { name: "encode.json", protocol: "http/json", shared: true },
  { name: "encode.protobuf.unshared", protocol: "http/protobuf", shared: false }
] as const

interface Row {
  readonly name: string
  readonly options: Tracing.Options
  readonly work: Effect.Effect<unknown>
}

export interface LogsResult {
  readonly rows: Readonly<Record<string, Summary>>
  readonly ratios: Readonly<Record<string, Summary>>
}

const cpuMicros = () => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

const main = async () => {
  const sink = await startSink()
  const endpoint = `http://127.0.0.1:${sink.port}`
  const rows: ReadonlyArray<Row> = [
    { name: "chat.span", options: { captureContent: "SPAN_ONLY" }, work: chat },
    { name: "chat.events", options: { captureContent: "SPAN_AND_EVENT" }, work: chat },
    { name: "chat.eventsOnly", options: { captureContent: "EVENT_ONLY" }, work: chat },
    { name: "chat.floor", options: { captureContent: "SPAN_ONLY" }, work: floorChat },
    { name: "model.span", options: { captureContent: "SPAN_ONLY" }, work: modelChat },
    { name: "model.events", options: { captureContent: "SPAN_AND_EVENT" }, work: modelChat },
    { name: "model.eventsOnly", options: { captureContent: "EVENT_ONLY" }, work: modelChat },
    { name: "log.off", options: { logs: false }, work: logLine },
    { name: "log.exported", options: {}, work: logLine }
  ]
  const runtimes = new Map(rows.map((row) => [
    row.name,
    ManagedRuntime.make(
      Tracing.layer({ serviceName: "bench-logs", endpoint, metrics: false, registerGlobal: false, ...row.options })
        .pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
    )
  ]))
  const timed = async (row: Row) => {
    const runtime = runtimes.get(row.name)!
    const loop = Effect.gen(function*() {
      for (let i = 0; i < calls; i++) yield* row.work
    })
    const start = cpuMicros()
    await runtime.runPromise(loop)
    await runtime.runPromise(Tracing.flush({ timeout: "30 seconds" }))
    return ((cpuMicros() - start) * 1000) / calls
  }
  for (const row of rows) await timed(row) // warm-up
  console.log(`logs: ${rows.length} rows × ${rounds} rounds, ${calls} calls a sample (seed ${seed})`)
  const times = new Map(rows.map((row) => [row.name, [] as Array<number>]))
  for (let round = 0; round < rounds; round++) {
    for (const row of shuffle(rows, seed + round)) times.get(row.name)!.push(await timed(row))
  }
  // The record alone: encoded in batches of the default 4096 and sealed, as the logs pipeline does.
  const encoders = new Map(
    encodings.map((
      e
    ) => [
      e.name,
      logsEncoder(e.protocol, {
        resource: { "service.name": "bench-logs" },
        scope: { name: "beluga-o11y", version: "0.0.0" }
      })
    ])
  )
  const encodeTimed = (e: (typeof encodings)[number]) => {
    const encoder = encoders.get(e.name)!
    const start = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) {
      // A fresh record each time, as each call emits one.
      encoder.add(details(e.shared))
      if (encoder.count >= 4096) encoder.seal()
    }
    encoder.seal()
    return Number(process.hrtime.bigint() - start) / calls
  }
  for (const e of encodings) {
    times.set(e.name, [])
    encodeTimed(e) // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    for (const e of shuffle(encodings, seed + round)) times.get(e.name)!.push(encodeTimed(e))
  }
  for (const runtime of runtimes.values()) await runtime.dispose()
  await sink.stop()
  const per = (name: string) => times.get(name)!
  const within = (a: string, b: string) => summarize(per(a).map((t, i) => t / per(b)[i]!))
  const result: LogsResult = {
    rows: Object.fromEntries([...times].map(([name, values]) => [name, summarize(values)])),
    ratios: {
      "chat, content events on ÷ off": within("chat.events", "chat.span"),
      "chat, content in events only ÷ on spans only": within("chat.eventsOnly", "chat.span"),
      "chat, with a record encoded once and copied ÷ off (the floor)": within("chat.floor", "chat.span"),
      "ChatModel call, content events on ÷ off": within("model.events", "model.span"),
      "ChatModel call, content in events only ÷ on spans only": within("model.eventsOnly", "model.span"),
      "Effect.log line, exported ÷ not": within("log.exported", "log.off"),
      "details record encoded, http/json ÷ http/protobuf": within("encode.json", "encode.protobuf"),
      "details record encoded, request in each record ÷ shared": within("encode.protobuf.unshared", "encode.protobuf")
    }
  }
  console.log()
  console.log(table(
    ["row", "CPU per call, or time per record encoded (median)", "rounds min–max"],
    Object.entries(result.rows).map(([name, s]) => [name, ns(s.median), `${ns(s.min)} – ${ns(s.max)}`])
  ))
  console.log()
  console.log(table(
    ["ratio (within each round)", "median", "rounds min–max", "target"],
    Object.entries(result.ratios).map(([name, s]) => [
      name,
      ratio(s.median),
      `${ratio(s.min)} – ${ratio(s.max)}`,
      name.startsWith("chat, content events") ? "≤ 1.15×" : "—"
    ])
  ))
  writeResult(argv.string("out", "") || undefined, result)
}

await main()
