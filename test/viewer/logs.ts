/**
 * Log records for the viewer tests: as the library's logs pipeline encodes them, hand-built
 * protobuf and OTLP/JSON requests (malformed or nested past the decoder's bound among them),
 * records of hostile text, and a program that logs with `Effect.log` under `Tracing.layer`.
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ChatModel, Pipeline, Simulated, Tracing } from "../../src/index.ts"
import { type LogRecordInput, logsEncoder } from "../../src/internal/otlpLogs.ts"
import { decodeLogsJson } from "../../src/internal/viewer/otlpDecodeLogs.ts"

/** The trace and span the library's records belong to unless told otherwise. */
export const logTrace = "5b8efff798038103d269b633813fc60c"
export const logSpan = "eee19b7ec3c1b174"

/** Records as the library emits them: an `Effect.log` line, a content event and one of no trace. */
export const libraryLogs = (traceId = logTrace, spanId = logSpan): Array<LogRecordInput> => [
  {
    time: 1700000000001000000n,
    severityNumber: 13,
    severityText: "WARN",
    body: ["cache miss", {
      city: "Porto",
      attempts: 2,
      tags: new Set(["a", "b"]),
      big: 2n ** 60n,
      ratio: 0.5,
      none: null,
      raw: Uint8Array.from([1, 2, 3])
    }],
    attributes: { "request.id": "req-42", nested: { deep: { deeper: [1, true] } } },
    span: { traceId, spanId, sampled: true }
  },
  {
    time: 1700000000003000000n,
    severityNumber: 9,
    severityText: "INFO",
    eventName: "gen_ai.client.inference.operation.details",
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.input.messages": [{ role: "user", parts: [{ type: "text", content: "Which platform?" }] }]
    },
    span: { traceId, spanId, sampled: true }
  },
  { time: new Date(1_700_000_000_009), body: "of no trace" }
]

/** The request the library's logs pipeline sends for `records`, in `protocol`'s encoding. */
export const libraryRequest = (
  records: ReadonlyArray<LogRecordInput>,
  protocol: "http/protobuf" | "http/json" = "http/protobuf"
): Uint8Array => {
  const encoder = logsEncoder(protocol, {
    resource: { "service.name": "logs-test" },
    scope: { name: "beluga-o11y", version: "0.0.0" }
  })
  for (const record of records) encoder.add(record)
  return encoder.seal()
}

/** A varint-prefixed protobuf field: `tag`, then the length of `body`, then `body`. */
export const field = (tag: number, body: ReadonlyArray<number>): Array<number> => {
  const length: Array<number> = []
  let n = body.length
  while (n > 0x7f) {
    length.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  length.push(n)
  return [tag, ...length, ...body]
}

/** An `ExportLogsServiceRequest` of one record whose fields are `record`. */
export const logsRequest = (record: ReadonlyArray<number>): Uint8Array =>
  Uint8Array.from(field(0x0a, field(0x12, field(0x12, record))))

/** An `AnyValue` of `levels` arrays, one inside the other, as protobuf. */
export const nestedProtobuf = (levels: number): Array<number> => {
  let value: Array<number> = []
  for (let i = 0; i < levels; i++) value = field(0x2a, field(0x0a, value))
  return value
}

/** The same as OTLP/JSON. */
export const nestedJson = (levels: number): unknown => {
  let value: unknown = { stringValue: "bottom" }
  for (let i = 0; i < levels; i++) value = { arrayValue: { values: [value] } }
  return value
}

/** An OTLP/JSON logs request of `records`, from one resource. */
export const jsonLogs = (records: ReadonlyArray<Record<string, unknown>>) => ({
  resourceLogs: [{
    resource: { attributes: [{ key: "service.name", value: { stringValue: "json-logs" } }] },
    scopeLogs: [{ scope: { name: "test" }, logRecords: records }]
  }]
})

/** `count` decoded records of no trace, numbered from `from`, each with `payload` in its body. */
export const looseLogs = (from: number, count: number, payload = "") =>
  decodeLogsJson(jsonLogs(Array.from({ length: count }, (_, i) => ({
    timeUnixNano: String(from + i),
    body: { stringValue: `record ${from + i}${payload}` }
  }))))

/** Log records of a hostile trace's span, and one of no trace: hostile text in every field. */
export const hostileLogs = (
  hostile: { readonly script: string; readonly img: string; readonly url: string },
  hostileTrace: string,
  spanId: string
) => ({
  resourceLogs: [{
    resource: { attributes: [{ key: "service.name", value: { stringValue: hostile.img } }] },
    scopeLogs: [{
      scope: { name: hostile.script },
      logRecords: [
        {
          traceId: hostileTrace,
          spanId,
          timeUnixNano: "1700000000200000000",
          severityNumber: 17,
          severityText: hostile.img,
          eventName: hostile.script,
          body: { stringValue: hostile.script },
          attributes: [{ key: hostile.img, value: { stringValue: hostile.url } }]
        },
        {
          traceId: hostileTrace,
          spanId,
          timeUnixNano: "1700000000300000000",
          severityNumber: 9,
          eventName: "gen_ai.client.inference.operation.details",
          body: {
            kvlistValue: {
              values: [{ key: hostile.script, value: { arrayValue: { values: [{ stringValue: hostile.img }] } } }]
            }
          },
          attributes: [{
            key: "gen_ai.input.messages",
            value: {
              arrayValue: {
                values: [{
                  kvlistValue: {
                    values: [
                      { key: "role", value: { stringValue: "user" } },
                      {
                        key: "parts",
                        value: {
                          arrayValue: {
                            values: [{
                              kvlistValue: {
                                values: [
                                  { key: "type", value: { stringValue: "text" } },
                                  { key: "content", value: { stringValue: hostile.img } }
                                ]
                              }
                            }]
                          }
                        }
                      }
                    ]
                  }
                }]
              }
            }
          }]
        },
        { timeUnixNano: "1700000000400000000", body: { stringValue: `loose ${hostile.url}` } }
      ]
    }]
  }]
})

export const loggingQuestion = "Which platform does the Porto train leave from?"

/**
 * A program that logs with `Effect.log` inside its spans, into the viewer through `Tracing.layer`
 * (protobuf), with content captured in events only: the model call's messages are not on its span.
 */
export const loggingRun = (endpoint: string) =>
  Effect.runPromise(
    Effect.gen(function*() {
      yield* Effect.log("planning the trip")
      yield* Effect.logWarning("cache miss", { city: "Porto", attempts: 2 }).pipe(
        Effect.annotateLogs({ "request.id": "req-42" }),
        Pipeline.step("lookup-cache")
      )
      const model = yield* ChatModel.ChatModel
      yield* model.chat({ messages: [{ role: "user", parts: [{ type: "text", content: loggingQuestion }] }] })
      yield* Effect.logError("the booking service said no").pipe(Pipeline.step("book-ticket"))
    }).pipe(
      Pipeline.run("logging-run"),
      Effect.provide(Simulated.layer({ latency: 0 })),
      Effect.provide(
        Tracing.layer({
          serviceName: "logging-service",
          endpoint,
          captureContent: "EVENT_ONLY",
          registerGlobal: false,
          metrics: false,
          onWarning: () => {}
        }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
      )
    )
  )
