/**
 * Which prompt a model call was made from. Inside {@link withPrompt}, every model call (`chat`,
 * `text_completion`, `generate_content` spans, this library's and its providers') records the
 * prompt: its name and version always, and — with content capture on, because they are the
 * prompt's text and inputs — its template and variables. The names are the GenAI conventions'
 * (`gen_ai.prompt.name`, `gen_ai.prompt.version`, `gen_ai.prompt.variable.<key>`, from
 * semantic-conventions-genai after v1.41), this library's `beluga.prompt.template`, and
 * OpenInference's `llm.prompt_template.*`, which Phoenix shows as the LLM span's prompt template.
 *
 * ```ts
 * yield* answer(question).pipe(
 *   Prompt.withPrompt({ name: "trip-planner", version: "7", template: "Plan a trip to {city}", variables: { city } })
 * )
 * ```
 *
 * @since 0.4.0
 */
import * as Effect from "effect/Effect"
import { CurrentPrompt, PromptAttributes } from "./internal/prompt.ts"

export {
  ATTR_BELUGA_PROMPT_TEMPLATE,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_PROMPT_VARIABLE,
  ATTR_GEN_AI_PROMPT_VERSION
} from "./internal/semconv.ts"

/**
 * A prompt: its name (as a prompt registry names it), the version in use, and optionally the
 * template and the values it was filled with.
 *
 * @since 0.4.0
 * @category models
 */
export interface Prompt {
  readonly name: string
  /** Any scheme; where a prompt registry keeps the prompt, its version identifier. */
  readonly version?: string | undefined
  /** The template's text. Content: recorded only with capture on. */
  readonly template?: string | undefined
  /** The values the template was filled with, each as `gen_ai.prompt.variable.<key>`. Content: capture on only. */
  readonly variables?: Readonly<Record<string, string | number | boolean>> | undefined
}

/**
 * Runs `self` with `prompt` as the prompt of every model call inside it. An inner `withPrompt`
 * replaces an outer one for its own calls.
 *
 * @example
 * ```ts
 * const reply = yield* model.chat(request).pipe(Prompt.withPrompt({ name: "support-answer", version: "2026-11-30" }))
 * ```
 *
 * @since 0.4.0
 * @category combinators
 */
export const withPrompt = (prompt: Prompt) => {
  if (typeof prompt.name !== "string" || prompt.name === "") {
    throw new Error("Prompt.withPrompt: the prompt needs a name")
  }
  const attributes = new PromptAttributes(prompt)
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.provideService(self, CurrentPrompt, attributes)
}
