/**
 * What each GenAI operation writes on its span: a {@link Spec} per operation (its name, kind,
 * request attributes and result attributes) and the attribute writers they share. The span maker
 * (`operationSpan.ts`) and effect/ai's spans (`effectAiAnnotate.ts`) both take their attributes
 * from here, so an operation is recorded alike wherever its span comes from.
 */
import type { AttributeValue } from "@opentelemetry/api"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"
import { defaults, eventsOn, type GenAISettings } from "./config.ts"
import { boundedJson } from "./content.ts"
import type {
  Agent,
  EmbeddingsOutcome,
  EmbeddingsRequest,
  InferenceOutcome,
  Request,
  Response,
  RetrievalOutcome,
  RetrievalRequest,
  Server,
  ToolCall,
  ToolOutcome,
  Usage,
  Workflow
} from "./model.ts"
import * as N from "./semconv.ts"

/**
 * How GenAI spans are written: whether content is captured, how long it may be, and whether
 * deprecated names are emitted. Provided by `Tracing.layer` from its options and the environment;
 * the default records no content.
 *
 * @since 0.1.0
 * @category settings
 */
export const Settings = Context.Reference<GenAISettings>("beluga-o11y/GenAI/Settings", {
  defaultValue: () => ({
    captureContent: false,
    maxContentLength: defaults.maxContentLength,
    emitLegacyAttributes: false
  })
})

export type Attributes = Record<string, unknown>
/** Sets one attribute; `undefined` means "not known", and sets nothing. */
export type Put = (key: string, value: unknown) => void

export const into = (attributes: Attributes): Put => (key, value) => {
  if (value !== undefined) attributes[key] = value
}

/** What one operation contributes; every `GenAI` combinator is a thin shell over one. */
export interface Spec<A> {
  readonly operation: N.OperationName
  /** The name's suffix: `{operation} {target}`, or just `{operation}` when absent. */
  readonly target: string | undefined
  readonly kind: Tracer.SpanKind
  /** Request attributes, known before the call (content included when capture is on). */
  readonly start: (put: Put, settings: GenAISettings) => void
  /** Attributes from the result: response, usage, and content when capture is on. */
  readonly end?: ((result: A, put: Put, settings: GenAISettings) => void) | undefined
}

/** Sets attributes on `span`; `undefined` sets nothing. */
export const putOn = (span: Tracer.Span): Put => (key, value) => {
  if (value !== undefined) span.attribute(key, value)
}

/** Without metrics: a sampled span gets the result's attributes. */
export const annotated = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  span: Tracer.Span,
  end: Spec<A>["end"],
  settings: GenAISettings
): Effect.Effect<A, E, R> =>
  end === undefined || !span.sampled ? self : Effect.map(self, (result) => {
    // An extractor that throws must not fail the call it observes: its attributes are lost.
    try {
      end(result, putOn(span), settings)
    } catch {
      // ignored, see above
    }
    return result
  })

/** Settings that put content as it is (structured), for the content events; see {@link structuredSettings}. */
const structured = new WeakSet<GenAISettings>()
const structuredFor = new WeakMap<GenAISettings, GenAISettings>()

/**
 * `settings` with content on and written as values, not JSON strings: what an event's attributes
 * are built with (log records carry structured values; span attributes cannot).
 */
export const structuredSettings = (settings: GenAISettings): GenAISettings => {
  let out = structuredFor.get(settings)
  if (out === undefined) {
    out = { ...settings, captureContent: true }
    structured.add(out)
    structuredFor.set(settings, out)
  }
  return out
}

/** Content as a bounded JSON string (as a value for events); only when capture is on. */
const putContent = (put: Put, settings: GenAISettings, key: string, value: unknown): void => {
  if (!settings.captureContent || value === undefined) return
  put(key, structured.has(settings) ? (value as Attributes[string]) : boundedJson(value, settings.maxContentLength))
}

const putServer = (put: Put, server: Server): void => {
  if (server.serverAddress === undefined) return
  put(N.ATTR_SERVER_ADDRESS, server.serverAddress)
  // The conventions make the port conditional on the address.
  put(N.ATTR_SERVER_PORT, server.serverPort)
}

const putProvider = (put: Put, provider: N.ProviderName | undefined, settings: GenAISettings): void => {
  put(N.ATTR_GEN_AI_PROVIDER_NAME, provider)
  if (settings.emitLegacyAttributes && provider !== undefined) {
    put(
      N.LEGACY_ATTR_GEN_AI_SYSTEM,
      (Object.hasOwn(N.legacySystemNames, provider) ? N.legacySystemNames[provider] : undefined) ?? provider
    )
  }
}

const putUsage = (put: Put, usage: Usage | undefined, settings: GenAISettings): void => {
  if (usage === undefined) return
  put(N.ATTR_GEN_AI_USAGE_INPUT_TOKENS, usage.inputTokens)
  put(N.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, usage.outputTokens)
  put(N.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cacheReadInputTokens)
  put(
    settings.latestNames === true
      ? N.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS
      : N.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    usage.cacheCreationInputTokens
  )
  put(N.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoningOutputTokens)
  const cost = usage.cost
  // A response's cost is untrusted input: only a finite amount ≥ 0 in a currency code is recorded.
  if (
    cost !== undefined && Number.isFinite(cost.amount) && cost.amount >= 0 && /^[A-Z]{3}$/.test(cost.currency)
  ) {
    put(N.ATTR_GEN_AI_USAGE_COST_AMOUNT, cost.amount)
    put(N.ATTR_GEN_AI_USAGE_COST_CURRENCY, cost.currency)
    put(N.ATTR_GEN_AI_USAGE_COST_SOURCE, N.CostSource.provider)
  }
  if (settings.emitLegacyAttributes) {
    put(N.LEGACY_ATTR_GEN_AI_USAGE_PROMPT_TOKENS, usage.inputTokens)
    put(N.LEGACY_ATTR_GEN_AI_USAGE_COMPLETION_TOKENS, usage.outputTokens)
  }
}

/** A provider's own attributes, as given. */
const putAll = (put: Put, attributes: Readonly<Record<string, AttributeValue>> | undefined): void => {
  if (attributes === undefined) return
  for (const key in attributes) put(key, attributes[key])
}

export const putResponse = (put: Put, outcome: InferenceOutcome, settings: GenAISettings): void => {
  const response = outcome.response
  if (response !== undefined) {
    put(N.ATTR_GEN_AI_RESPONSE_ID, response.id)
    put(N.ATTR_GEN_AI_RESPONSE_MODEL, response.model)
    put(N.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, response.finishReasons)
    put(N.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, response.timeToFirstChunk)
    putAll(put, response.attributes)
    putContent(put, settings, N.ATTR_GEN_AI_OUTPUT_MESSAGES, response.outputMessages)
  }
  putUsage(put, outcome.usage, settings)
}

/** The operations that call a model for an answer. */
export type InferenceOperation =
  | typeof N.Operation.chat
  | typeof N.Operation.textCompletion
  | typeof N.Operation.generateContent

/** An inference: `{operation} {model}`, CLIENT (INTERNAL for a model in this process). */
export const inference = <A>(
  operation: InferenceOperation,
  request: Request,
  describe: ((result: A) => InferenceOutcome) | undefined
): Spec<A> => ({
  operation,
  target: request.model,
  kind: request.inProcess === true ? "internal" : "client",
  start: (put, settings) => {
    putProvider(put, request.provider, settings)
    put(N.ATTR_GEN_AI_REQUEST_MODEL, request.model)
    putServer(put, request)
    put(N.ATTR_GEN_AI_REQUEST_TEMPERATURE, request.temperature)
    put(N.ATTR_GEN_AI_REQUEST_TOP_P, request.topP)
    put(N.ATTR_GEN_AI_REQUEST_TOP_K, request.topK)
    put(N.ATTR_GEN_AI_REQUEST_MAX_TOKENS, request.maxTokens)
    put(N.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, request.stopSequences)
    put(N.ATTR_GEN_AI_REQUEST_SEED, request.seed)
    put(N.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY, request.frequencyPenalty)
    put(N.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY, request.presencePenalty)
    if (request.choiceCount !== 1) put(N.ATTR_GEN_AI_REQUEST_CHOICE_COUNT, request.choiceCount)
    put(N.ATTR_GEN_AI_REQUEST_STREAM, request.stream)
    put(N.ATTR_GEN_AI_OUTPUT_TYPE, request.outputType)
    put(N.ATTR_GEN_AI_CONVERSATION_ID, request.conversationId)
    putContent(put, settings, N.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, request.systemInstructions)
    putContent(put, settings, N.ATTR_GEN_AI_INPUT_MESSAGES, request.messages)
    putContent(put, settings, N.ATTR_GEN_AI_TOOL_DEFINITIONS, request.toolDefinitions)
    putAll(put, request.attributes)
    if (settings.emitLegacyAttributes && request.provider === N.Provider.openai) {
      put(N.LEGACY_ATTR_GEN_AI_OPENAI_REQUEST_SEED, request.seed)
      put(N.LEGACY_ATTR_GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT, request.outputType)
    }
  },
  end: describe && describedOnce(describe)
})

/**
 * `describe` as a spec's `end`, run once for the span and the details event of one call: with
 * content events on, the span's end keeps the outcome of an object result, and the event's end,
 * given that same object, takes it (once) instead of describing it again. A primitive result is
 * described each time: another call's equal string is not told apart from this one's.
 */
const describedOnce = <A>(describe: (result: A) => InferenceOutcome): NonNullable<Spec<A>["end"]> => {
  let kept: unknown = undefined
  let keptOutcome: InferenceOutcome | undefined = undefined
  return (result, put, settings) => {
    let outcome: InferenceOutcome
    if (keptOutcome !== undefined && kept === result) {
      outcome = keptOutcome
      kept = keptOutcome = undefined
    } else {
      outcome = describe(result)
      if (eventsOn(settings) && !structured.has(settings) && typeof result === "object" && result !== null) {
        kept = result
        keptOutcome = outcome
      }
    }
    putResponse(put, outcome, settings)
  }
}

const putAgent = (put: Put, agent: Agent, settings: GenAISettings): void => {
  putProvider(put, agent.provider, settings)
  put(N.ATTR_GEN_AI_AGENT_NAME, agent.name)
  put(N.ATTR_GEN_AI_AGENT_ID, agent.id)
  put(N.ATTR_GEN_AI_AGENT_DESCRIPTION, agent.description)
  put(N.ATTR_GEN_AI_AGENT_VERSION, agent.version)
  put(N.ATTR_GEN_AI_REQUEST_MODEL, agent.model)
  put(N.ATTR_GEN_AI_CONVERSATION_ID, agent.conversationId)
  put(N.ATTR_GEN_AI_DATA_SOURCE_ID, agent.dataSourceId)
  put(N.ATTR_GEN_AI_AGENT_TOKEN_BUDGET_LIMIT, agent.tokenBudget)
  put(N.ATTR_GEN_AI_AGENT_ITERATION_BUDGET_LIMIT, agent.iterationBudget)
  putServer(put, agent)
  putContent(put, settings, N.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, agent.systemInstructions)
  putContent(put, settings, N.ATTR_GEN_AI_INPUT_MESSAGES, agent.messages)
}

/** An embeddings call: `embeddings {model}`, CLIENT, with the dimension count. */
export const embeddings = <A>(request: EmbeddingsRequest, describe?: (result: A) => EmbeddingsOutcome): Spec<A> => ({
  operation: N.Operation.embeddings,
  target: request.model,
  kind: "client",
  start: (put, settings) => {
    putProvider(put, request.provider, settings)
    put(N.ATTR_GEN_AI_REQUEST_MODEL, request.model)
    putServer(put, request)
    put(N.ATTR_GEN_AI_REQUEST_ENCODING_FORMATS, request.encodingFormats)
    put(N.ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, request.dimensions)
  },
  end: describe && ((result, put, settings) => {
    const outcome = describe(result)
    put(N.ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, outcome.dimensions)
    put(N.ATTR_GEN_AI_RESPONSE_MODEL, outcome.responseModel)
    putUsage(put, outcome.usage, settings)
  })
})

/** A retrieval: `retrieval {data_source.id}`, CLIENT; the query and documents are content. */
export const retrieval = <A>(request: RetrievalRequest, describe?: (result: A) => RetrievalOutcome): Spec<A> => ({
  operation: N.Operation.retrieval,
  target: request.dataSourceId,
  kind: "client",
  start: (put, settings) => {
    putProvider(put, request.provider, settings)
    put(N.ATTR_GEN_AI_DATA_SOURCE_ID, request.dataSourceId)
    put(N.ATTR_GEN_AI_REQUEST_MODEL, request.model)
    put(N.ATTR_GEN_AI_REQUEST_TOP_K, request.topK)
    putServer(put, request)
    putContent(put, settings, N.ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT, request.query)
  },
  end: describe && ((result, put, settings) => {
    if (settings.captureContent) {
      putContent(put, settings, N.ATTR_GEN_AI_RETRIEVAL_DOCUMENTS, describe(result).documents)
    }
  })
})

/** A tool execution: `execute_tool {tool.name}`, INTERNAL; arguments and result are content. */
export const executeTool = <A>(call: ToolCall, describe?: (result: A) => ToolOutcome): Spec<A> => ({
  operation: N.Operation.executeTool,
  target: call.transfer !== undefined ? `${call.name} ${call.transfer.target}` : call.name,
  kind: "internal",
  start: (put, settings) => {
    put(N.ATTR_GEN_AI_TOOL_NAME, call.name)
    put(N.ATTR_GEN_AI_TRANSFER_MODE, call.transfer?.mode)
    put(N.ATTR_GEN_AI_TRANSFER_TARGET_NAME, call.transfer?.target)
    put(N.ATTR_GEN_AI_TOOL_CALL_ID, call.callId)
    put(N.ATTR_GEN_AI_TOOL_TYPE, call.type)
    put(N.ATTR_GEN_AI_TOOL_DESCRIPTION, call.description)
    putContent(put, settings, N.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, call.arguments)
  },
  end: (result, put, settings) => {
    if (settings.captureContent) {
      putContent(
        put,
        settings,
        N.ATTR_GEN_AI_TOOL_CALL_RESULT,
        describe !== undefined ? describe(result).result : result
      )
    }
  }
})

/** An agent invocation: `invoke_agent {agent.name}`, INTERNAL, or CLIENT for a remote agent. */
export const invokeAgent = <A>(agent: Agent, describe?: (result: A) => InferenceOutcome): Spec<A> => ({
  operation: N.Operation.invokeAgent,
  target: agent.name,
  kind: agent.remote === true ? "client" : "internal",
  start: (put, settings) => putAgent(put, agent, settings),
  end: describe && ((result, put, settings) => putResponse(put, describe(result), settings))
})

/** Creating an agent on a provider: `create_agent {agent.name}`, CLIENT. */
export const createAgent = <A>(agent: Agent): Spec<A> => ({
  operation: N.Operation.createAgent,
  target: agent.name,
  kind: "client",
  start: (put, settings) => putAgent(put, agent, settings)
})

/** A workflow: `invoke_workflow {workflow.name}`, INTERNAL; its messages are content. */
export const invokeWorkflow = <A>(
  workflow: Workflow,
  describe?: (result: A) => Pick<Response, "outputMessages">
): Spec<A> => ({
  operation: N.Operation.invokeWorkflow,
  target: workflow.name,
  kind: "internal",
  start: (put, settings) => {
    put(N.ATTR_GEN_AI_WORKFLOW_NAME, workflow.name)
    putContent(put, settings, N.ATTR_GEN_AI_INPUT_MESSAGES, workflow.messages)
  },
  end: describe && ((result, put, settings) => {
    if (settings.captureContent) {
      putContent(put, settings, N.ATTR_GEN_AI_OUTPUT_MESSAGES, describe(result).outputMessages)
    }
  })
})
