/**
 * Configuration through the public layers: every supported `OTEL_*` variable (and the explicit
 * options) rejects a value it cannot use with a `TracingConfigError` naming the variable, the value
 * and what is accepted; OTLP header secrets never appear in an error; and valid values take effect,
 * observed through real span output and `GenAI.Settings`.
 *
 * The environment is always supplied through `ConfigProvider.fromEnv({ env })`, so a developer's own
 * `OTEL_*` variables cannot change an outcome.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { inspect } from "node:util"
import { GenAI, Testing, Tracing } from "../src/index.ts"

type Env = Readonly<Record<string, string>>

/** `layer` reading its configuration from exactly `env`. */
const withEnv = <A, E>(layer: Layer.Layer<A, E>, env: Env, options?: { readonly preserveEmptyStrings: boolean }) =>
  Layer.provide(layer, ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...env }, ...options })))

/** Builds `layer` in a scope of its own and returns how construction ended. */
const buildExit = <A, E>(layer: Layer.Layer<A, E>) => Effect.scoped(Effect.exit(Layer.build(layer)))

/** The `TracingConfigError` that construction failed with; fails the test on success or on any other cause. */
const configErrorOf = (exit: Exit.Exit<unknown, unknown>): Tracing.TracingConfigError => {
  if (Exit.isSuccess(exit)) return assert.fail("expected layer construction to fail, but it succeeded")
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isNone(error) || !(error.value instanceof Tracing.TracingConfigError)) {
    return assert.fail(`expected a TracingConfigError, got:\n${Cause.pretty(exit.cause)}`)
  }
  return error.value
}

const assertBuilds = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isFailure(exit)) assert.fail(`expected layer construction to succeed, got:\n${Cause.pretty(exit.cause)}`)
}

/** Runs one traced operation under `Testing.layerFromConfig(options)` with `env`; the spans it finished. */
const spansWith = (env: Env, options: Tracing.Options = {}) =>
  Effect.gen(function*() {
    yield* Effect.void.pipe(Effect.withSpan("probe"))
    return yield* Testing.finishedSpans
  }).pipe(Effect.provide(withEnv(Testing.layerFromConfig(options), env)))

/** The one span a default-sampled run produces. */
const onlySpan = (spans: ReadonlyArray<ReadableSpan>): ReadableSpan => {
  assert.strictEqual(spans.length, 1, `expected exactly one finished span, got ${spans.map((s) => s.name).join(", ")}`)
  return spans[0]!
}

/** `GenAI.Settings` as provided by `Testing.layerFromConfig()` with `env`. */
const genaiSettingsWith = (env: Env) =>
  Effect.provide(Effect.service(GenAI.Settings), withEnv(Testing.layerFromConfig(), env))

// -----------------------------------------------------------------------------
// 1. Bad values
// -----------------------------------------------------------------------------

interface BadValues {
  readonly variables: ReadonlyArray<string>
  readonly values: ReadonlyArray<string>
  /** Fragments of "what is accepted" that the message must contain. */
  readonly accepts: ReadonlyArray<string>
  /** Other variables set alongside (all valid on their own). */
  readonly alongside?: Env
  /** The value is a secret: the error reports `<redacted>` instead. */
  readonly secret?: boolean
}

const badValues: ReadonlyArray<BadValues> = [
  {
    variables: ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"],
    values: ["not a url", "ftp://x", "localhost:4318"],
    accepts: ["http://", "https://"]
  },
  {
    variables: ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"],
    values: ["grpc", "http/xml", "json"],
    accepts: ["http/protobuf", "http/json"]
  },
  {
    variables: ["OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"],
    values: ["zstd", "deflate"],
    accepts: ["gzip", "none"]
  },
  {
    variables: ["OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"],
    values: ["ten", "-1", "1.5"],
    accepts: ["whole number", "milliseconds"]
  },
  {
    variables: ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"],
    // The last one has a usable pair next to a broken one: dropping the broken key silently would
    // send exports without the API key the user set.
    values: ["api-key", "a=%ZZ", "x-team=ml,api-key=%ZZ"],
    accepts: ["key=value"],
    secret: true
  },
  {
    variables: ["OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT"],
    values: ["abc", "-5", "2.5"],
    accepts: ["whole number", "0 or more"]
  },
  {
    variables: ["OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"],
    values: ["0", "many", "2.5", "-3"],
    accepts: ["whole number", "greater than 0"]
  },
  {
    variables: ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"],
    values: ["101", "5000"],
    accepts: ["at most the queue size (100)"],
    alongside: { OTEL_BSP_MAX_QUEUE_SIZE: "100" }
  },
  {
    variables: ["OTEL_TRACES_SAMPLER"],
    values: ["sometimes", "jaeger_remote"],
    accepts: ["parentbased_always_on", "traceidratio", "always_off"]
  },
  {
    variables: ["OTEL_TRACES_SAMPLER_ARG"],
    values: ["1.5", "-0.1", "half"],
    accepts: ["between 0 and 1"]
  },
  {
    variables: ["OTEL_SDK_DISABLED"],
    values: ["maybe", "1", "yes"],
    accepts: ["\"true\"", "\"false\""]
  },
  {
    variables: ["OTEL_RESOURCE_ATTRIBUTES"],
    values: ["novalue", "a=%ZZ", "=x", "team=ml,novalue"],
    accepts: ["key=value"]
  },
  {
    variables: ["OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"],
    values: ["0", "big", "-1"],
    accepts: ["whole number", "greater than 0"]
  },
  {
    variables: ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"],
    values: ["sometimes", "EVENT", "yes"],
    accepts: ["\"true\"", "\"false\"", "NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"]
  },
  {
    variables: ["BELUGA_GENAI_CONTENT_MAX_LENGTH"],
    values: ["0", "x"],
    accepts: ["whole number", "greater than 0"]
  }
]

/** Both public layers that read the environment. */
const layersFromEnv: ReadonlyArray<readonly [string, () => Layer.Layer<Tracing.Provides, Tracing.TracingConfigError>]> =
  [
    ["Tracing.layer()", () => Tracing.layer({ onWarning: () => {} })],
    ["Testing.layerFromConfig()", () => Testing.layerFromConfig()]
  ]

describe("a bad environment value fails layer construction", () => {
  for (const [layerName, makeLayer] of layersFromEnv) {
    describe(`${layerName}`, () => {
      for (const { accepts, alongside = {}, secret = false, values, variables } of badValues) {
        for (const variable of variables) {
          for (const value of values) {
            it.effect(`${variable}=${JSON.stringify(value)} is rejected`, () =>
              Effect.gen(function*() {
                const error = configErrorOf(yield* buildExit(withEnv(makeLayer(), { ...alongside, [variable]: value })))
                assert.propertyVal(error, "_tag", "TracingConfigError")
                assert.strictEqual(error.variable, variable)
                assert.strictEqual(error.value, secret ? "<redacted>" : value)
                assert.include(error.message, variable)
                if (secret) {
                  assert.include(error.message, "<redacted>")
                  assert.notInclude(error.message, `=${JSON.stringify(value)}`)
                } else {
                  assert.include(error.message, JSON.stringify(value))
                }
                for (const fragment of accepts) assert.include(error.message, fragment)
                assert.include(error.message, error.expected)
              }))
          }
        }
      }
    })
  }
})

interface BadOption {
  readonly option: string
  readonly options: Tracing.Options
  readonly value: string
  readonly accepts: string
}

const badOptions: ReadonlyArray<BadOption> = [
  { option: "samplerRatio", options: { samplerRatio: 2 }, value: "2", accepts: "between 0 and 1" },
  { option: "samplerRatio", options: { samplerRatio: -0.5 }, value: "-0.5", accepts: "between 0 and 1" },
  { option: "endpoint", options: { endpoint: "nope" }, value: "nope", accepts: "http://" },
  { option: "tracesEndpoint", options: { tracesEndpoint: "ftp://x" }, value: "ftp://x", accepts: "http://" },
  { option: "protocol", options: { protocol: "grpc" as any }, value: "grpc", accepts: "http/protobuf" },
  { option: "sampler", options: { sampler: "sometimes" as any }, value: "sometimes", accepts: "always_on" },
  { option: "batch.maxQueueSize", options: { batch: { maxQueueSize: 0 } }, value: "0", accepts: "1 or more" },
  {
    option: "batch.maxExportBatchSize",
    options: { batch: { maxExportBatchSize: 2.5 } },
    value: "2.5",
    accepts: "whole number"
  },
  { option: "batch.maxQueueBytes", options: { batch: { maxQueueBytes: 0 } }, value: "0", accepts: "1 or more" },
  {
    option: "batch.maxExportBatchBytes",
    options: { batch: { maxQueueBytes: 1000, maxExportBatchBytes: 2000 } },
    value: "2000",
    accepts: "at most the queue's bytes (1000)"
  },
  { option: "timeout", options: { timeout: -1 }, value: "-1", accepts: "milliseconds" },
  { option: "timeout", options: { timeout: Number.NaN }, value: "NaN", accepts: "milliseconds" },
  { option: "maxContentLength", options: { maxContentLength: 0 }, value: "0", accepts: "greater than 0" }
]

describe("a bad explicit option fails Tracing.layer construction", () => {
  for (const { accepts, option, options, value } of badOptions) {
    it.effect(`option ${option} = ${value} is rejected, naming ${option}`, () =>
      Effect.gen(function*() {
        const error = configErrorOf(yield* buildExit(withEnv(Tracing.layer({ ...options, onWarning: () => {} }), {})))
        assert.propertyVal(error, "_tag", "TracingConfigError")
        assert.strictEqual(error.variable, option)
        assert.strictEqual(error.value, value)
        assert.include(error.message, option)
        assert.include(error.message, value)
        assert.include(error.message, accepts)
      }))
  }
})

// -----------------------------------------------------------------------------
// 2. Secrets
// -----------------------------------------------------------------------------

describe("OTLP header secrets never leak", () => {
  for (const variable of ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"]) {
    for (const [layerName, makeLayer] of layersFromEnv) {
      it.effect(`${variable}="api-key=%ZZtopsecret" is not echoed by ${layerName}`, () =>
        Effect.gen(function*() {
          const exit = yield* buildExit(withEnv(makeLayer(), { [variable]: "api-key=%ZZtopsecret" }))
          const error = configErrorOf(exit)
          assert.strictEqual(error.variable, variable)
          assert.strictEqual(error.value, "<redacted>")
          const renderings = {
            message: error.message,
            string: String(error),
            json: JSON.stringify(error),
            inspect: inspect(error, { depth: 10 }),
            cause: Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
          }
          for (const [how, text] of Object.entries(renderings)) {
            assert.include(text, variable, `${how} should name the variable`)
            assert.notInclude(text, "topsecret", `${how} leaks the secret`)
          }
        }))
    }
  }
})

// -----------------------------------------------------------------------------
// 3. Valid values take effect
// -----------------------------------------------------------------------------

describe("resource attributes", () => {
  it.effect("OTEL_SERVICE_NAME and percent-decoded OTEL_RESOURCE_ATTRIBUTES reach span.resource", () =>
    Effect.gen(function*() {
      const span = onlySpan(
        yield* spansWith({
          OTEL_SERVICE_NAME: "agent-svc",
          OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=prod,team=ml%20ops"
        })
      )
      assert.strictEqual(span.resource.attributes["service.name"], "agent-svc")
      assert.strictEqual(span.resource.attributes["deployment.environment.name"], "prod")
      assert.strictEqual(span.resource.attributes["team"], "ml ops")
    }))

  it.effect("OTEL_SERVICE_NAME wins over service.name inside OTEL_RESOURCE_ATTRIBUTES", () =>
    Effect.gen(function*() {
      const span = onlySpan(
        yield* spansWith({
          OTEL_SERVICE_NAME: "from-variable",
          OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attributes"
        })
      )
      assert.strictEqual(span.resource.attributes["service.name"], "from-variable")
    }))

  it.effect("service.name inside OTEL_RESOURCE_ATTRIBUTES is used when OTEL_SERVICE_NAME is unset", () =>
    Effect.gen(function*() {
      const span = onlySpan(yield* spansWith({ OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attributes" }))
      assert.strictEqual(span.resource.attributes["service.name"], "from-attributes")
    }))

  it.effect("the serviceName option wins over OTEL_SERVICE_NAME", () =>
    Effect.gen(function*() {
      const span = onlySpan(yield* spansWith({ OTEL_SERVICE_NAME: "from-variable" }, { serviceName: "from-option" }))
      assert.strictEqual(span.resource.attributes["service.name"], "from-option")
    }))
})

interface SamplingCase {
  readonly name: string
  readonly env: Env
  readonly spans: number
}

const samplingCases: ReadonlyArray<SamplingCase> = [
  { name: "the default (parentbased_always_on) records spans", env: {}, spans: 1 },
  {
    name: "OTEL_TRACES_SAMPLER=parentbased_always_on records spans",
    env: { OTEL_TRACES_SAMPLER: "parentbased_always_on" },
    spans: 1
  },
  { name: "OTEL_TRACES_SAMPLER=always_off records none", env: { OTEL_TRACES_SAMPLER: "always_off" }, spans: 0 },
  {
    name: "OTEL_TRACES_SAMPLER=traceidratio with OTEL_TRACES_SAMPLER_ARG=0 records none",
    env: { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" },
    spans: 0
  },
  {
    name: "OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0 records none",
    env: { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" },
    spans: 0
  },
  {
    name: "OTEL_TRACES_SAMPLER=traceidratio with OTEL_TRACES_SAMPLER_ARG=1 records spans",
    env: { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "1" },
    spans: 1
  },
  {
    name: "OTEL_TRACES_SAMPLER=Always_On (any case) records spans",
    env: { OTEL_TRACES_SAMPLER: "Always_On" },
    spans: 1
  },
  { name: "OTEL_TRACES_SAMPLER=\"\" counts as unset and records spans", env: { OTEL_TRACES_SAMPLER: "" }, spans: 1 },
  { name: "OTEL_SDK_DISABLED=true records none", env: { OTEL_SDK_DISABLED: "true" }, spans: 0 },
  { name: "OTEL_SDK_DISABLED=TRUE (any case) records none", env: { OTEL_SDK_DISABLED: "TRUE" }, spans: 0 },
  { name: "OTEL_SDK_DISABLED=false records spans", env: { OTEL_SDK_DISABLED: "false" }, spans: 1 }
]

describe("sampling and OTEL_SDK_DISABLED", () => {
  for (const { env, name, spans } of samplingCases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const finished = yield* spansWith(env)
        assert.strictEqual(finished.length, spans, `finished: ${finished.map((s) => s.name).join(", ")}`)
        if (spans > 0) assert.strictEqual(finished[0]!.name, "probe")
      }))
  }
})

/** Every supported variable, set to the empty string. */
const allEmpty: Env = Object.fromEntries(
  [
    "OTEL_SDK_DISABLED",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "BELUGA_GENAI_CONTENT_MAX_LENGTH"
  ].map((name) => [name, ""])
)

/** Valid values written in unusual case or otherwise worth checking are accepted. */
const accepted: Env = {
  OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example:4318/base",
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces",
  OTEL_EXPORTER_OTLP_HEADERS: "api-key=abc%20123,x-team=ml",
  OTEL_EXPORTER_OTLP_PROTOCOL: "HTTP/JSON",
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "Http/Protobuf",
  OTEL_EXPORTER_OTLP_COMPRESSION: "GZIP",
  OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "None",
  OTEL_EXPORTER_OTLP_TIMEOUT: "0",
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "2500",
  OTEL_BSP_SCHEDULE_DELAY: "0",
  OTEL_BSP_EXPORT_TIMEOUT: "1000",
  OTEL_BSP_MAX_QUEUE_SIZE: "512",
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "512",
  OTEL_TRACES_SAMPLER: "Always_On",
  OTEL_TRACES_SAMPLER_ARG: "0.25",
  OTEL_SDK_DISABLED: "False",
  OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "4096",
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "span_only",
  BELUGA_GENAI_CONTENT_MAX_LENGTH: "1000"
}

describe("valid values are accepted", () => {
  for (const [layerName, makeLayer] of layersFromEnv) {
    it.effect(`${layerName}: every variable set to "" counts as unset`, () =>
      Effect.gen(function*() {
        assertBuilds(yield* buildExit(withEnv(makeLayer(), allEmpty)))
      }))

    it.effect(`${layerName}: every variable set to "" counts as unset, even when the provider keeps empty strings`, () =>
      Effect.gen(function*() {
        assertBuilds(yield* buildExit(withEnv(makeLayer(), allEmpty, { preserveEmptyStrings: true })))
      }))

    it.effect(`${layerName}: case-insensitive enums and other valid values are accepted`, () =>
      Effect.gen(function*() {
        assertBuilds(yield* buildExit(withEnv(makeLayer(), accepted)))
      }))

    it.effect(`${layerName}: OTEL_BSP_MAX_QUEUE_SIZE below the default batch size is accepted on its own`, () =>
      Effect.gen(function*() {
        assertBuilds(yield* buildExit(withEnv(makeLayer(), { OTEL_BSP_MAX_QUEUE_SIZE: "100" })))
      }))
  }

  it.effect("Tracing.layer({ batch: { maxQueueSize: 100 } }) is accepted on its own", () =>
    Effect.gen(function*() {
      assertBuilds(yield* buildExit(withEnv(Tracing.layer({ batch: { maxQueueSize: 100 }, onWarning: () => {} }), {})))
    }))

  it.effect("all variables set to \"\" behave like the defaults: spans recorded, content not captured", () =>
    Effect.gen(function*() {
      assert.strictEqual(onlySpan(yield* spansWith(allEmpty)).name, "probe")
      const settings = yield* genaiSettingsWith(allEmpty)
      assert.deepStrictEqual(settings, {
        captureContent: false,
        contentMode: "NO_CONTENT",
        maxContentLength: 16_384,
        emitLegacyAttributes: false,
        messagesDelta: false,
        latestNames: false
      })
    }))

  it.effect("the case-insensitive values take effect: spans recorded, content captured", () =>
    Effect.gen(function*() {
      assert.strictEqual(onlySpan(yield* spansWith(accepted)).name, "probe")
      const settings = yield* genaiSettingsWith(accepted)
      assert.isTrue(settings.captureContent)
      assert.strictEqual(settings.maxContentLength, 1000)
    }))
})

const contentCaptureCases: ReadonlyArray<readonly [string, boolean]> = [
  ["true", true],
  ["TRUE", true],
  ["True", true],
  ["false", false],
  ["FALSE", false],
  ["False", false],
  ["NO_CONTENT", false],
  ["SPAN_ONLY", true],
  ["SPAN_AND_EVENT", true]
]

describe("GenAI settings from the environment", () => {
  it.effect("content capture is off when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is unset", () =>
    Effect.gen(function*() {
      assert.isFalse((yield* genaiSettingsWith({})).captureContent)
    }))

  for (const [value, captureContent] of contentCaptureCases) {
    it.effect(`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=${value} → captureContent ${captureContent}`, () =>
      Effect.gen(function*() {
        const settings = yield* genaiSettingsWith({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: value })
        assert.strictEqual(settings.captureContent, captureContent)
      }))
  }

  it.effect("the captureContent option wins over the variable", () =>
    Effect.gen(function*() {
      const settings = yield* Effect.provide(
        Effect.service(GenAI.Settings),
        withEnv(Testing.layerFromConfig({ captureContent: false }), {
          OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "SPAN_ONLY"
        })
      )
      assert.isFalse(settings.captureContent)
    }))

  it.effect("legacy GenAI attributes are off by default", () =>
    Effect.gen(function*() {
      assert.isFalse((yield* genaiSettingsWith({})).emitLegacyAttributes)
    }))

  for (const value of ["gen_ai/dup", "http, gen_ai/dup"]) {
    it.effect(`OTEL_SEMCONV_STABILITY_OPT_IN=${JSON.stringify(value)} → emitLegacyAttributes true`, () =>
      Effect.gen(function*() {
        assert.isTrue((yield* genaiSettingsWith({ OTEL_SEMCONV_STABILITY_OPT_IN: value })).emitLegacyAttributes)
      }))
  }

  it.effect("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=100 caps maxContentLength to 100", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* genaiSettingsWith({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100" })).maxContentLength, 100)
    }))

  it.effect("BELUGA_GENAI_CONTENT_MAX_LENGTH sets maxContentLength, under the attribute limit", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* genaiSettingsWith({ BELUGA_GENAI_CONTENT_MAX_LENGTH: "500" })).maxContentLength, 500)
      const both = yield* genaiSettingsWith({
        BELUGA_GENAI_CONTENT_MAX_LENGTH: "50",
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100"
      })
      assert.strictEqual(both.maxContentLength, 50)
    }))

  it.effect("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=100 truncates a long span attribute to 100 characters", () =>
    Effect.gen(function*() {
      const spans = yield* Effect.gen(function*() {
        yield* Effect.annotateCurrentSpan({ long: "x".repeat(300) }).pipe(Effect.withSpan("probe"))
        return yield* Testing.finishedSpans
      }).pipe(Effect.provide(withEnv(Testing.layerFromConfig(), { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100" })))
      assert.strictEqual(onlySpan(spans).attributes["long"], "x".repeat(100))
    }))
})
