/**
 * The prompt a piece of work was made from (`Prompt.withPrompt`), as the inference spans inside it
 * record it: `gen_ai.prompt.name` and `gen_ai.prompt.version` always; with content capture on, the
 * variables (`gen_ai.prompt.variable.<key>`) and the template (`beluga.prompt.template`); and the
 * same under OpenInference's `llm.prompt_template.*` names, which Phoenix shows as the prompt
 * template of an LLM span. The attributes are built once per settings object and reused.
 */
import type * as Otel from "@opentelemetry/api"
import * as Context from "effect/Context"
import type { GenAISettings } from "./config.ts"
import * as N from "./semconv.ts"

export interface PromptInfo {
  readonly name: string
  readonly version?: string | undefined
  readonly template?: string | undefined
  readonly variables?: Readonly<Record<string, string | number | boolean>> | undefined
}

export class PromptAttributes {
  private cachedFor: GenAISettings | undefined = undefined
  private cached: Otel.Attributes = {}

  constructor(readonly info: PromptInfo) {}

  /** The attributes an inference span under this prompt starts with, for `settings`. */
  for(settings: GenAISettings): Otel.Attributes {
    if (this.cachedFor === settings) return this.cached
    const { name, version, template, variables } = this.info
    const attributes: Record<string, Otel.AttributeValue> = { [N.ATTR_GEN_AI_PROMPT_NAME]: name }
    if (version !== undefined) {
      attributes[N.ATTR_GEN_AI_PROMPT_VERSION] = version
      attributes[N.ATTR_LLM_PROMPT_TEMPLATE_VERSION] = version
    }
    if (settings.captureContent) {
      const cut = (text: string) =>
        text.length > settings.maxContentLength ? text.slice(0, settings.maxContentLength) : text
      if (template !== undefined) {
        attributes[N.ATTR_BELUGA_PROMPT_TEMPLATE] = cut(template)
        attributes[N.ATTR_LLM_PROMPT_TEMPLATE_TEMPLATE] = cut(template)
      }
      if (variables !== undefined) {
        for (const [key, value] of Object.entries(variables)) {
          attributes[`${N.ATTR_GEN_AI_PROMPT_VARIABLE}.${key}`] = typeof value === "string" ? cut(value) : value
        }
        attributes[N.ATTR_LLM_PROMPT_TEMPLATE_VARIABLES] = cut(JSON.stringify(variables))
      }
    }
    this.cachedFor = settings
    this.cached = attributes
    return attributes
  }
}

/** The prompt in force for this fiber, if any: read by the inference spans as they start. */
export const CurrentPrompt = Context.Reference<PromptAttributes | undefined>("beluga-o11y/Prompt/Current", {
  defaultValue: () => undefined
})

/** The operations a prompt marks: model calls that take one, not embeddings, tools or agents. */
export const promptedOperations: ReadonlySet<string> = new Set([
  N.Operation.chat,
  N.Operation.textCompletion,
  N.Operation.generateContent
])
