/**
 * An instrumented embedder: every call is an `embeddings {model}` span with the dimension count
 * and input tokens.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as GenAI from "./GenAI.ts"
import { EmbeddingError, type Embeddings } from "./internal/providerModel.ts"

// Defined below the provider kit, which builds and fails with them; their doc comments are there.
export { EmbeddingError, type Embeddings }

/**
 * What a provider supplies.
 *
 * @since 0.1.0
 * @category models
 */
export interface Provider {
  readonly provider: GenAI.ProviderName
  readonly model: string
  readonly dimensions: number
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
  readonly embed: (inputs: ReadonlyArray<string>) => Effect.Effect<Embeddings, EmbeddingError>
}

/**
 * The embedder service.
 *
 * @since 0.1.0
 * @category services
 */
export class Embedder extends Context.Service<Embedder, {
  readonly dimensions: number
  readonly embed: (inputs: ReadonlyArray<string>) => Effect.Effect<Embeddings, EmbeddingError>
}>()("beluga-o11y/Embedder") {}

/**
 * The conventions' view of a call to `provider`: what `embeddings` spans record at their start.
 *
 * @since 0.2.0
 * @category models
 */
export const toGenAIRequest = (provider: Provider): GenAI.EmbeddingsRequest => ({
  provider: provider.provider,
  model: provider.model,
  dimensions: provider.dimensions,
  serverAddress: provider.serverAddress,
  serverPort: provider.serverPort,
  encodingFormats: ["float"]
})

/**
 * What a result says about itself: the dimensions, the response model, the input tokens.
 *
 * @since 0.2.0
 * @category models
 */
export const toOutcome = (result: Embeddings): GenAI.EmbeddingsOutcome => ({
  dimensions: result.vectors[0]?.length,
  responseModel: result.model,
  usage: { inputTokens: result.inputTokens }
})

/**
 * Instruments a provider.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (provider: Provider): Embedder["Service"] =>
  Embedder.of({
    dimensions: provider.dimensions,
    embed: (inputs) => provider.embed(inputs).pipe(GenAI.embeddings(toGenAIRequest(provider), toOutcome))
  })

/**
 * A layer providing the instrumented embedder.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (provider: Provider): Layer.Layer<Embedder> => Layer.succeed(Embedder, make(provider))
