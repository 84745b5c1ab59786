/**
 * `Gemini.layerFromConfig`: the Gemini options from the variables Google's SDKs read. The Gemini
 * API's key is `GEMINI_API_KEY`, else `GOOGLE_API_KEY`; `GOOGLE_GENAI_USE_VERTEXAI=true` selects
 * Vertex AI, with `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION` and an access token in
 * `GOOGLE_OAUTH_ACCESS_TOKEN` (the variable Google's Terraform provider and other tools read a
 * ready token from; the SDKs mint one from Application Default Credentials, which this library
 * does not carry). It is generic in the options because an internal module never imports the
 * public one that defines them.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import {
  checkBaseUrl,
  invalidOption,
  type ProviderConfigError,
  secretVariable,
  setFields,
  variable
} from "./providerKit.ts"

/** The fields of the Gemini options the variables can set. */
export interface ConfigurableOptions {
  readonly model: string
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly baseUrl?: string | URL | undefined
  readonly embeddingModel?: string | undefined
  readonly vertex?: {
    readonly project?: string | undefined
    readonly location?: string | undefined
    readonly accessToken?: Redacted.Redacted<string> | undefined
  } | undefined
}

/** The variables, named once. */
export const variables = {
  apiKey: "GEMINI_API_KEY",
  googleApiKey: "GOOGLE_API_KEY",
  baseUrl: "GEMINI_BASE_URL",
  model: "GEMINI_MODEL",
  embeddingModel: "GEMINI_EMBEDDING_MODEL",
  useVertex: "GOOGLE_GENAI_USE_VERTEXAI",
  project: "GOOGLE_CLOUD_PROJECT",
  location: "GOOGLE_CLOUD_LOCATION",
  accessToken: "GOOGLE_OAUTH_ACCESS_TOKEN"
} as const

/** A true/false variable, read as Google's SDKs read `GOOGLE_GENAI_USE_VERTEXAI` (also `1`/`0`). */
const flag = (name: string): Effect.Effect<boolean | undefined, Config.ConfigError | ProviderConfigError> =>
  Effect.gen(function*() {
    const value = yield* variable(name)
    if (value === undefined) return undefined
    const text = value.trim().toLowerCase()
    if (text === "true" || text === "1") return true
    if (text === "false" || text === "0") return false
    return yield* invalidOption(name, value, "true or false")
  })

/**
 * `layer` over the options the variables give, the options passed in overriding them (and an
 * options `vertex` filled in from the Vertex AI variables). A Vertex AI setup that could not
 * authenticate fails at once, naming the variable to set: no project and no key, or a project
 * and neither a token nor a key, unless a base URL points at a proxy.
 */
export const layerFromConfig = <Options extends ConfigurableOptions, A, E, R>(
  options: Partial<Options>,
  defaults: { readonly defaultBaseUrl: string; readonly defaultModel: string },
  layer: (options: Options) => Layer.Layer<A, E, R>
): Layer.Layer<A, E | Config.ConfigError | ProviderConfigError, R> =>
  Layer.unwrap(Effect.gen(function*() {
    const given = setFields(options)
    const apiKey = (yield* secretVariable(variables.apiKey)) ?? (yield* secretVariable(variables.googleApiKey))
    const baseUrl = yield* variable(variables.baseUrl)
    const model = yield* variable(variables.model)
    const embeddingModel = yield* variable(variables.embeddingModel)
    const useVertex = yield* flag(variables.useVertex)
    if (given.baseUrl === undefined && baseUrl !== undefined) {
      const failure = checkBaseUrl(variables.baseUrl, baseUrl, defaults.defaultBaseUrl)
      if (failure !== undefined) return yield* failure
    }
    let vertex = given.vertex
    if (useVertex === true || vertex !== undefined) {
      const fromEnv = setFields({
        project: yield* variable(variables.project),
        location: yield* variable(variables.location),
        accessToken: yield* secretVariable(variables.accessToken)
      })
      vertex = { ...fromEnv, ...setFields(vertex ?? {}) }
      const key = given.apiKey ?? apiKey
      const proxied = (given.baseUrl ?? baseUrl) !== undefined
      if (!proxied && key === undefined && vertex.accessToken === undefined) {
        return yield* vertex.project === undefined
          ? invalidOption(
            variables.project,
            "",
            "a Google Cloud project (or GOOGLE_API_KEY for Vertex AI express mode)"
          )
          : invalidOption(variables.accessToken, "", "an OAuth access token, e.g. from gcloud auth print-access-token")
      }
    } else vertex = undefined
    return layer({
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(baseUrl !== undefined ? { baseUrl } : {}),
      ...(embeddingModel !== undefined ? { embeddingModel } : {}),
      ...given,
      ...(vertex !== undefined ? { vertex } : {}),
      model: given.model ?? model ?? defaults.defaultModel
    } as Options)
  }))
