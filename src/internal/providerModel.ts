/**
 * What a model call gives back that the provider kit itself builds or fails with: `ChatError`,
 * `EmbeddingError` and `Embeddings`. They are defined here, below the kit, so that the kit need
 * not import the public modules; `ChatModel` and `Embedder` re-export them under the same names.
 * Requests and replies the kit only passes on (it is generic in them), so they stay in `ChatModel`.
 */
import * as Data from "effect/Data"

/**
 * A failed model call. `errorType` becomes the span's `error.type` (a provider error code such
 * as `rate_limit_exceeded` or `overloaded_error`, or one of the client's own: `timeout`,
 * `connection_error`, `invalid_response`, `response_too_large`, `incomplete_stream`); `status` is
 * the HTTP status when the provider answered with one.
 *
 * @since 0.1.0
 * @category errors
 */
export class ChatError extends Data.TaggedError("ChatError")<{
  readonly errorType: string
  readonly message: string
  readonly status?: number | undefined
}> {}

/**
 * The vectors for a batch of inputs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Embeddings {
  readonly model: string
  readonly vectors: ReadonlyArray<ReadonlyArray<number>>
  /** As the provider reported it; absent when it reports none (never a made-up 0). */
  readonly inputTokens?: number | undefined
}

/**
 * A failed embeddings call.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmbeddingError extends Data.TaggedError("EmbeddingError")<{
  readonly errorType: string
  readonly message: string
}> {}
