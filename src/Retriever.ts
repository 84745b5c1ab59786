/**
 * An instrumented retriever: every search of a data source (vector store, search index) is a
 * `retrieval {data_source.id}` span.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as GenAI from "./GenAI.ts"

/**
 * A retrieved document.
 *
 * @since 0.1.0
 * @category models
 */
export interface Document {
  readonly id: string
  readonly score: number
  readonly text: string
}

/**
 * A failed search.
 *
 * @since 0.1.0
 * @category errors
 */
export class RetrievalError extends Data.TaggedError("RetrievalError")<{
  readonly errorType: string
  readonly message: string
}> {}

/**
 * What a backend supplies.
 *
 * @since 0.1.0
 * @category models
 */
export interface Backend {
  readonly dataSourceId: string
  readonly provider?: GenAI.ProviderName | undefined
  readonly model?: string | undefined
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
  readonly search: (query: string, topK: number) => Effect.Effect<ReadonlyArray<Document>, RetrievalError>
}

/**
 * The retriever service.
 *
 * @since 0.1.0
 * @category services
 */
export class Retriever extends Context.Service<Retriever, {
  readonly retrieve: (
    query: string,
    options?: { readonly topK?: number | undefined }
  ) => Effect.Effect<ReadonlyArray<Document>, RetrievalError>
}>()("beluga-o11y/Retriever") {}

/**
 * Instruments a backend.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (backend: Backend): Retriever["Service"] =>
  Retriever.of({
    retrieve: (query, options = {}) => {
      const topK = options.topK ?? 4
      return backend.search(query, topK).pipe(
        GenAI.retrieval({
          dataSourceId: backend.dataSourceId,
          provider: backend.provider,
          model: backend.model,
          serverAddress: backend.serverAddress,
          serverPort: backend.serverPort,
          topK,
          query
        }, (documents) => ({ documents: documents.map(({ id, score }) => ({ id, score })) }))
      )
    }
  })

/**
 * A layer providing the instrumented retriever.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (backend: Backend): Layer.Layer<Retriever> => Layer.succeed(Retriever, make(backend))
