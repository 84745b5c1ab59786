/**
 * What OpenAI's two chat APIs (Chat Completions in `OpenAI.ts`, the Responses API in
 * `OpenAIResponses.ts`) share about the endpoint: how it reports errors, whether it is OpenAI's
 * own (only then are the `openai.*` attributes written), the attributes every call's span starts
 * with, the checks of the options both take, and the variables `layerFromConfig` reads.
 */
import type { AttributeValue } from "@opentelemetry/api"
import * as Config from "effect/Config"
import {
  checkOptionalText,
  checkWhole,
  type ConfigVariables,
  type Dialect,
  type OptionCheck,
  type ProviderOptions,
  record,
  string,
  variable
} from "./providerKit.ts"
import { ATTR_OPENAI_API_TYPE, ATTR_OPENAI_REQUEST_SERVICE_TIER, Provider, type ProviderName } from "./semconv.ts"

/** The options of `OpenAI.Options` this module reads. */
export interface OpenAIOptions extends ProviderOptions {
  readonly provider?: ProviderName | undefined
  readonly embeddingModel?: string | undefined
  readonly dimensions?: number | undefined
  readonly serviceTier?: string | undefined
}

/** OpenAI's error body, `{"error": {"message", "type", "code"}}`: the code is the specific one (`rate_limit_exceeded`). */
export const dialect = (name: string): Dialect => ({
  name,
  authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  errorOf: (body) => {
    const error = record(record(body)?.["error"])
    return { errorType: string(error?.["code"]) ?? string(error?.["type"]), message: string(error?.["message"]) }
  }
})

/** `gen_ai.provider.name` for these options: `openai` unless they name the compatible server. */
export const providerOf = (options: Pick<OpenAIOptions, "provider"> | undefined): ProviderName =>
  options?.provider ?? Provider.openai

/** True when the endpoint is OpenAI's own: only its spans carry the `openai.*` attributes. */
export const isOpenAI = (options: Pick<OpenAIOptions, "provider"> | undefined): boolean =>
  providerOf(options) === Provider.openai

/**
 * What every call's span starts with on OpenAI's own endpoint: the API (`openai.api.type`), and
 * the service tier asked for when it is not `auto` (as the conventions ask).
 */
export const requestAttributes =
  (apiType: string) => (options: OpenAIOptions): Readonly<Record<string, AttributeValue>> | undefined =>
    isOpenAI(options)
      ? {
        [ATTR_OPENAI_API_TYPE]: apiType,
        ...(options.serviceTier !== undefined && options.serviceTier !== "auto"
          ? { [ATTR_OPENAI_REQUEST_SERVICE_TIER]: options.serviceTier }
          : {})
      }
      : undefined

/** The checks of the options both APIs take; `serviceTiers` and `providers` are what the errors offer. */
export const checks = (
  options: OpenAIOptions,
  examples: { readonly providers: string; readonly serviceTiers: string }
): ReadonlyArray<OptionCheck> => [
  checkOptionalText("provider", options.provider, `a provider name, e.g. ${examples.providers}`),
  checkOptionalText("embeddingModel", options.embeddingModel, "an embeddings model name"),
  checkWhole("dimensions", options.dimensions, 1),
  checkOptionalText("serviceTier", options.serviceTier, `a service tier: ${examples.serviceTiers}`)
]

/** The variables `OpenAI.layerFromConfig` and `OpenAIResponses.layerFromConfig` read. */
export const configVariables = <Options extends OpenAIOptions>(defaultBaseUrl: string): ConfigVariables<Options> => ({
  apiKey: "OPENAI_API_KEY",
  baseUrl: "OPENAI_BASE_URL",
  model: "OPENAI_MODEL",
  defaultBaseUrl,
  defaultModel: "gpt-4o-mini",
  more: Config.all({
    embeddingModel: variable("OPENAI_EMBEDDING_MODEL"),
    provider: variable("OPENAI_PROVIDER_NAME")
  }) as Config.Config<Partial<Options>>
})
