/**
 * GenAI attributes and metrics on spans effect/ai makes and ends itself (`LanguageModel` and
 * `EmbeddingModel` spans), for the `EffectAi` providers: the request's attributes are written when
 * the call starts, the result's (or a stream's) when it ends, from the same specs as the
 * library's own spans.
 */
import * as Channel from "effect/Channel"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type { GenAISettings } from "./config.ts"
import { CurrentRecorder, type Recorder } from "./metrics.ts"
import type { EmbeddingsOutcome, EmbeddingsRequest, InferenceOutcome, Request, StreamPart } from "./model.ts"
import {
  annotated,
  embeddings,
  inference,
  type InferenceOperation,
  type Put,
  putOn,
  Settings,
  type Spec
} from "./operation.ts"
import { metered, metricsOf } from "./operationMetrics.ts"
import { StreamSpan } from "./operationSpan.ts"
import * as N from "./semconv.ts"

/**
 * For an inference span someone else made and ends (effect/ai's `LanguageModel` spans): writes the
 * request's attributes on it now, and, for a stream, everything `GenAI.chatStream` records, when
 * the stream ends. Used by the `EffectAi` providers.
 */
export const annotateInference = (
  span: Tracer.Span,
  request: Request,
  operation: InferenceOperation = N.Operation.chat
) =>
  Effect.withFiber((fiber) => {
    const settings = fiber.getRef(Settings)
    const recorder = fiber.getRef(CurrentRecorder)
    const clock = fiber.getRef(Clock.Clock)
    const spec = inference<InferenceOutcome>(operation, request, (outcome) => outcome)
    if (span.sampled) {
      // effect/ai names its span a chat; the tracer renames it after the operation written here.
      span.attribute(N.ATTR_GEN_AI_OPERATION_NAME, operation)
      spec.start(putOn(span), settings)
    }
    return Effect.succeed({
      /** Runs the provider call: the reply's attributes go on the span, its duration and tokens to the metrics. */
      call: <A, E, R>(self: Effect.Effect<A, E, R>, describe: (result: A) => InferenceOutcome) =>
        observeCall(self, { span, settings, recorder, spec, describe }),
      /** The reply's attributes, from the parts of a stream, written when it ends. */
      stream: <E, R>(self: Stream.Stream<StreamPart, E, R>): Stream.Stream<StreamPart, E, R> =>
        Stream.suspend(() => {
          const state = new StreamSpan(
            span,
            settings,
            clock,
            fiber.getRef(References.TracerTimingEnabled),
            recorder,
            () => metricsOf(spec)
          )
          return Stream.fromChannel(
            Channel.fromTransform((upstream, scope) =>
              Effect.map(Channel.toTransform(self.channel)(upstream, scope), (pull) => state.observe(pull))
            )
          ).pipe(Stream.onExit((exit) => Effect.sync(() => state.record(exit))))
        })
    })
  })

/**
 * A call inside a span someone else made (effect/ai's): on success its result's attributes go on
 * the span when sampled, and with metrics on, its duration and tokens are recorded either way.
 */
const observeCall = <A, O, E, R>(
  self: Effect.Effect<A, E, R>,
  context: {
    readonly span: Tracer.Span
    readonly settings: GenAISettings
    readonly recorder: Recorder | undefined
    readonly spec: Spec<O>
    readonly describe: (result: A) => O
  }
): Effect.Effect<A, E, R> => {
  const { describe, recorder, settings, span, spec } = context
  const specEnd = spec.end
  // The spec describes the provider's outcome: `describe` turns the call's result into one (inside
  // the extractor's guard, so a `describe` that throws loses the attributes, not the call).
  const end = specEnd === undefined
    ? undefined
    : (result: A, put: Put, forEnd: GenAISettings) => specEnd(describe(result), put, forEnd)
  return recorder === undefined
    ? annotated(self, span, end, settings)
    : metered(self, span, end, settings, recorder, metricsOf(spec), false)
}

/**
 * For an embeddings span someone else made and ends (effect/ai's `EmbeddingModel` spans): writes
 * the request's attributes now, and returns the function that writes the outcome's.
 */
export const annotateEmbeddings = (span: Tracer.Span, request: EmbeddingsRequest) =>
  Effect.withFiber((fiber) => {
    const settings = fiber.getRef(Settings)
    const spec = embeddings<EmbeddingsOutcome>(request, (outcome) => outcome)
    if (span.sampled) spec.start(putOn(span), settings)
    const context = {
      span,
      settings,
      recorder: fiber.getRef(CurrentRecorder),
      spec
    }
    return Effect.succeed(<A, E, R>(self: Effect.Effect<A, E, R>, describe: (result: A) => EmbeddingsOutcome) =>
      observeCall(self, { ...context, describe })
    )
  })
