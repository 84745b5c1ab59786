/**
 * What the Gemini API answers, read into the conventions' terms: `GenerateContentResponse` bodies
 * and stream chunks (`candidates[].content.parts`, `finishReason`, `promptFeedback`,
 * `usageMetadata`, `responseId`, `modelVersion`), Google's error bodies, and embeddings. Vertex AI
 * answers in the same shapes, so both backends share this module; `Gemini.ts` builds the requests.
 *
 * Everything here reads untrusted JSON: a field of the wrong type reads as absent, and what a
 * stream may make the decoder keep (candidates, remembered thought signatures) is bounded.
 */
import type { MessagePart, StreamPart, Usage } from "./model.ts"
import {
  array,
  count,
  type Dialect,
  type Endpoint,
  eventJson,
  mapped,
  record,
  type StreamDecoder,
  streamError,
  string,
  totalTokens
} from "./providerKit.ts"
import { ChatError } from "./providerModel.ts"
import { FinishReason, type FinishReasonName } from "./semconv.ts"

// -----------------------------------------------------------------------------
// Errors
// -----------------------------------------------------------------------------

/** The `{ "error": … }` object of a body, also when a Vertex endpoint wraps it in an array. */
const errorObject = (body: unknown): Record<string, unknown> | undefined =>
  record(record(Array.isArray(body) ? body[0] : body)?.["error"])

/** The `details` entry of one `@type` (`google.rpc.ErrorInfo`, `google.rpc.RetryInfo`). */
const detail = (error: Record<string, unknown> | undefined, type: string): Record<string, unknown> | undefined =>
  array(error?.["details"]).map(record).find((item) => string(item?.["@type"])?.endsWith(type))

/**
 * Google's error body, `{"error": {"code": 429, "message": …, "status": "RESOURCE_EXHAUSTED",
 * "details": […]}}`: the type is the canonical status name (a small, fixed set: `INVALID_ARGUMENT`,
 * `PERMISSION_DENIED`, `NOT_FOUND`, `RESOURCE_EXHAUSTED`, `UNAVAILABLE`, …), else the code; the
 * `ErrorInfo` reason (`API_KEY_INVALID`), which is finer but not always there, joins the message.
 */
export const errorOf = (
  body: unknown
): { readonly errorType: string | undefined; readonly message: string | undefined } => {
  const error = errorObject(body)
  const code = count(error?.["code"])
  const reason = string(detail(error, "google.rpc.ErrorInfo")?.["reason"])
  const message = string(error?.["message"])
  return {
    errorType: string(error?.["status"]) ?? (code !== undefined ? String(code) : undefined),
    message: reason !== undefined ? `${message ?? "error"} (${reason})` : message
  }
}

/** A protobuf `Duration` in JSON (`"38s"`, `"1.5s"`) as milliseconds. */
const durationMs = (value: unknown): number | undefined => {
  const match = typeof value === "string" ? /^(\d{1,9}(?:\.\d{1,9})?)s$/.exec(value.trim()) : null
  return match !== null ? Number(match[1]) * 1000 : undefined
}

/** The wait a 429 body asks for in its `RetryInfo` (`"retryDelay": "38s"`); Google sends no `retry-after`. */
export const retryAfterOf = (body: unknown): number | undefined =>
  durationMs(detail(errorObject(body), "google.rpc.RetryInfo")?.["retryDelay"])

const dialect = (name: string, authHeaders: Dialect["authHeaders"]): Dialect => ({
  name,
  authHeaders,
  errorOf,
  retryAfterOf
})

/** The Gemini API: the key in `x-goog-api-key`, never in the URL (a URL reaches spans and logs). */
export const apiKeyDialect: Dialect = dialect("Gemini API", (key) => ({ "x-goog-api-key": key }))
/** Vertex AI with an OAuth access token. */
export const bearerDialect: Dialect = dialect("Vertex AI", (token) => ({ authorization: `Bearer ${token}` }))
/** Vertex AI express mode: an API key, in the same header as the Gemini API's. */
export const vertexKeyDialect: Dialect = dialect("Vertex AI", (key) => ({ "x-goog-api-key": key }))

// -----------------------------------------------------------------------------
// Finish reasons and usage
// -----------------------------------------------------------------------------

const finishReasons: Readonly<Record<string, FinishReasonName>> = {
  STOP: FinishReason.stop,
  MAX_TOKENS: FinishReason.length,
  SAFETY: FinishReason.contentFilter,
  RECITATION: FinishReason.contentFilter,
  BLOCKLIST: FinishReason.contentFilter,
  PROHIBITED_CONTENT: FinishReason.contentFilter,
  SPII: FinishReason.contentFilter,
  IMAGE_SAFETY: FinishReason.contentFilter,
  IMAGE_PROHIBITED_CONTENT: FinishReason.contentFilter,
  IMAGE_RECITATION: FinishReason.contentFilter,
  MALFORMED_FUNCTION_CALL: FinishReason.error
}

/**
 * A candidate's `finishReason` in the conventions' words. Gemini ends a turn that calls a function
 * with `STOP`; the conventions call that `tool_call`, as OpenAI's `tool_calls` and Anthropic's
 * `tool_use` are, so `toolCalled` turns `STOP` into `tool_call`. Reasons without a conventions
 * value are lower-cased (`LANGUAGE` → `language`, `OTHER` → `other`).
 */
export const toFinishReason = (reason: string, toolCalled = false): FinishReasonName =>
  reason === "STOP" && toolCalled ? FinishReason.toolCall : mapped(finishReasons, reason) ?? reason.toLowerCase()

/** The `usageMetadata` counts the conventions need, as Gemini reports them (absent stays absent). */
export interface UsageCounts {
  readonly prompt?: number | undefined
  readonly cached?: number | undefined
  readonly candidates?: number | undefined
  readonly toolUsePrompt?: number | undefined
  readonly thoughts?: number | undefined
}

/** `usageMetadata` as counts; undefined when it is not an object. */
export const usageCounts = (value: unknown): UsageCounts | undefined => {
  const u = record(value)
  if (u === undefined) return undefined
  return {
    prompt: count(u["promptTokenCount"]),
    cached: count(u["cachedContentTokenCount"]),
    candidates: count(u["candidatesTokenCount"]),
    toolUsePrompt: count(u["toolUsePromptTokenCount"]),
    thoughts: count(u["thoughtsTokenCount"])
  }
}

/** Later counts win field by field; a field a later report leaves out keeps its value. */
const mergeCounts = (current: UsageCounts | undefined, next: UsageCounts): UsageCounts =>
  current === undefined ? next : {
    prompt: next.prompt ?? current.prompt,
    cached: next.cached ?? current.cached,
    candidates: next.candidates ?? current.candidates,
    toolUsePrompt: next.toolUsePrompt ?? current.toolUsePrompt,
    thoughts: next.thoughts ?? current.thoughts
  }

/** The sum of the counts reported; undefined when none is. */
const sum = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0)

/**
 * Gemini's counts in the conventions' terms. `promptTokenCount` already includes the cached
 * tokens (`cachedContentTokenCount`, the cache read), and the tool-use prompt (the results of
 * Google's own tools) is input too; `thoughtsTokenCount` is reasoning, counted apart from
 * `candidatesTokenCount`, so output is both.
 */
export const usageOf = (counts: UsageCounts): Usage => ({
  inputTokens: sum(counts.prompt, counts.toolUsePrompt),
  outputTokens: sum(counts.candidates, counts.thoughts),
  cacheReadInputTokens: counts.cached,
  reasoningOutputTokens: counts.thoughts
})

const reportsAny = (usage: Usage): boolean => Object.values(usage).some((n) => n !== undefined)

// -----------------------------------------------------------------------------
// Thought signatures
// -----------------------------------------------------------------------------

/**
 * The thought signatures of the function calls a provider returned, so that the calls can carry
 * them again when the conversation is sent back: Gemini 3 refuses a function call in the history
 * without its signature, and the conventions' `tool_call` part has no field for one. A call is
 * known by its name and arguments (Gemini gives most calls no id). Bounded: the oldest are
 * forgotten past `capacity`, and an oversized signature is not kept.
 */
export interface SignatureStore {
  readonly remember: (name: string, args: unknown, signature: string) => void
  readonly recall: (name: string, args: unknown) => string | undefined
}

const maxSignatureLength = 64 * 1024

/** A short digest of a call (FNV-1a, two 32-bit lanes), so that large arguments are not kept as keys. */
const callKey = (name: string, args: unknown): string | undefined => {
  let text: string
  try {
    text = `${name}\u0000${JSON.stringify(args ?? {})}`
  } catch {
    return undefined
  }
  let a = 0x811c9dc5
  let b = 0x050c5d1f
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 15)
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}.${text.length}`
}

export const makeSignatureStore = (capacity = 512): SignatureStore => {
  const signatures = new Map<string, string>()
  return {
    remember: (name, args, signature) => {
      const key = callKey(name, args)
      if (key === undefined || signature.length > maxSignatureLength) return
      signatures.delete(key)
      signatures.set(key, signature)
      if (signatures.size > capacity) signatures.delete(signatures.keys().next().value!)
    },
    recall: (name, args) => {
      const key = callKey(name, args)
      return key !== undefined ? signatures.get(key) : undefined
    }
  }
}

// -----------------------------------------------------------------------------
// Candidates
// -----------------------------------------------------------------------------

/** A function call Gemini asked for; `id` is Gemini's, or `call_{n}` (its place in the candidate). */
export interface FunctionCall {
  readonly id: string
  readonly name: string
  readonly arguments: unknown
}

/** One response part in the conventions' terms. */
type PartReading =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "reasoning"; readonly text: string }
  | { readonly kind: "call"; readonly name: string; readonly id: string | undefined; readonly args: unknown }
  | { readonly kind: "whole"; readonly part: MessagePart }

/** The modality of a MIME type (`image/png` → `image`), as the conventions' blob and uri parts name it. */
export const modalityOf = (mimeType: string | undefined): string => {
  const top = mimeType?.split("/")[0]
  return top === "image" || top === "video" || top === "audio" ? top : "file"
}

/** The name the conventions' server tool call parts give Gemini's code execution. */
const codeExecution = "code_execution"

/**
 * One Gemini `Part` of a response, or undefined for what the conventions do not record
 * (`videoMetadata`, an empty text). A call's thought signature goes to `signatures`.
 */
const readPart = (value: unknown, signatures: SignatureStore | undefined): PartReading | undefined => {
  const part = record(value)
  if (part === undefined) return undefined
  const text = string(part["text"])
  if (text !== undefined) {
    if (text === "") return undefined
    return part["thought"] === true ? { kind: "reasoning", text } : { kind: "text", text }
  }
  const call = record(part["functionCall"])
  if (call !== undefined) {
    const name = string(call["name"])
    if (name === undefined) return undefined
    const args = call["args"] ?? {}
    const signature = string(part["thoughtSignature"])
    if (signature !== undefined) signatures?.remember(name, args, signature)
    return { kind: "call", name, id: string(call["id"]), args }
  }
  const code = record(part["executableCode"])
  if (code !== undefined) {
    return {
      kind: "whole",
      part: {
        type: "server_tool_call",
        name: codeExecution,
        server_tool_call: { type: codeExecution, language: string(code["language"]), code: string(code["code"]) }
      }
    }
  }
  const result = record(part["codeExecutionResult"])
  if (result !== undefined) {
    return {
      kind: "whole",
      part: {
        type: "server_tool_call_response",
        server_tool_call_response: {
          type: codeExecution,
          outcome: string(result["outcome"]),
          output: string(result["output"])
        }
      }
    }
  }
  const inline = record(part["inlineData"])
  if (inline !== undefined) {
    const mimeType = string(inline["mimeType"])
    return {
      kind: "whole",
      part: {
        type: "blob",
        modality: modalityOf(mimeType),
        content: string(inline["data"]) ?? "",
        ...(mimeType !== undefined ? { mime_type: mimeType } : {})
      }
    }
  }
  const file = record(part["fileData"])
  const uri = string(file?.["fileUri"])
  if (uri !== undefined) {
    const mimeType = string(file?.["mimeType"])
    return {
      kind: "whole",
      part: {
        type: "uri",
        modality: modalityOf(mimeType),
        uri,
        ...(mimeType !== undefined ? { mime_type: mimeType } : {})
      }
    }
  }
  return undefined
}

/** A candidate of a complete (non-streamed) response. */
export interface CandidateReading {
  readonly text: string
  readonly reasoning: string
  readonly toolCalls: ReadonlyArray<FunctionCall>
  /** Parts that arrive whole: code execution and its result, files and inline data. */
  readonly parts: ReadonlyArray<MessagePart>
  readonly finishReason: FinishReasonName
}

/** What a complete `GenerateContentResponse` holds. */
export interface ResponseReading {
  readonly id: string | undefined
  readonly model: string | undefined
  /** In the order of their `index` (their order in the body when they have none). */
  readonly candidates: ReadonlyArray<CandidateReading>
  /** `promptFeedback.blockReason`: the prompt was refused, and there are no candidates. */
  readonly blockReason: string | undefined
  readonly usage: Usage | undefined
}

const readCandidate = (value: Record<string, unknown>, signatures: SignatureStore | undefined): CandidateReading => {
  let text = ""
  let reasoning = ""
  const toolCalls: Array<FunctionCall> = []
  const parts: Array<MessagePart> = []
  for (const item of array(record(value["content"])?.["parts"])) {
    const part = readPart(item, signatures)
    if (part === undefined) continue
    if (part.kind === "text") text += part.text
    else if (part.kind === "reasoning") reasoning += part.text
    else if (part.kind === "call") {
      toolCalls.push({ id: part.id ?? `call_${toolCalls.length}`, name: part.name, arguments: part.args })
    } else parts.push(part.part)
  }
  const reason = string(value["finishReason"])
  return {
    text,
    reasoning,
    toolCalls,
    parts,
    finishReason: reason !== undefined ? toFinishReason(reason, toolCalls.length > 0) : FinishReason.stop
  }
}

/**
 * A `GenerateContentResponse` body; undefined when it is not one (neither candidates nor a
 * blocked prompt's feedback).
 */
export const readResponse = (body: unknown, signatures?: SignatureStore): ResponseReading | undefined => {
  const root = record(body)
  if (root === undefined) return undefined
  const blockReason = string(record(root["promptFeedback"])?.["blockReason"])
  const candidates = array(root["candidates"]).flatMap((item, position) => {
    const candidate = record(item)
    return candidate !== undefined ? [{ index: count(candidate["index"]) ?? position, candidate }] : []
  })
  if (candidates.length === 0 && blockReason === undefined) return undefined
  const counts = usageCounts(root["usageMetadata"])
  return {
    id: string(root["responseId"]),
    model: string(root["modelVersion"]),
    candidates: candidates.toSorted((a, b) => a.index - b.index).map(({ candidate }) =>
      readCandidate(candidate, signatures)
    ),
    blockReason,
    usage: counts !== undefined ? usageOf(counts) : undefined
  }
}

// -----------------------------------------------------------------------------
// Streams
// -----------------------------------------------------------------------------

/** Candidates a stream may open; Gemini returns at most 8, and the decoder keeps state for each. */
const maxCandidates = 16

interface CandidateState {
  calls: number
  finished: boolean
}

/**
 * Reads a `streamGenerateContent?alt=sse` stream: `data: {GenerateContentResponse}` events with no
 * end marker. Each chunk's parts become deltas (under `choice` for candidates past the first), a
 * function call one whole `tool-call-delta`, a `thought` part reasoning; a candidate's
 * `finishReason` its finish; `usageMetadata`, which Gemini repeats in every chunk with the running
 * counts, one usage part per chunk with the counts so far (later reports win, never a sum). The
 * stream ended properly once every candidate it opened has finished, or the prompt was blocked;
 * an `{"error": …}` event fails it with Google's status.
 */
export const streamDecoder = (
  endpoint: Endpoint,
  errors: Dialect = apiKeyDialect,
  signatures?: SignatureStore
) =>
(): StreamDecoder => {
  let metadataSent = false
  let blocked = false
  let counts: UsageCounts | undefined
  const candidates = new Map<number, CandidateState>()
  return {
    finished: () => blocked || (candidates.size > 0 && [...candidates.values()].every((c) => c.finished)),
    onEvent: (event) => {
      const chunk = eventJson(event, endpoint)
      if (chunk instanceof ChatError) return chunk
      if (errorObject(chunk) !== undefined) return streamError(endpoint, errors, chunk)
      const root = record(chunk)
      if (root === undefined) return []
      const parts: Array<StreamPart> = []
      const id = string(root["responseId"])
      const model = string(root["modelVersion"])
      if (!metadataSent && (id !== undefined || model !== undefined)) {
        metadataSent = true
        parts.push({ type: "response-metadata", id, model })
      }
      for (const [position, item] of array(root["candidates"]).entries()) {
        const candidate = record(item)
        if (candidate === undefined) continue
        const index = count(candidate["index"]) ?? position
        let state = candidates.get(index)
        if (state === undefined) {
          if (candidates.size >= maxCandidates) continue
          state = { calls: 0, finished: false }
          candidates.set(index, state)
        }
        const choice = index === 0 ? undefined : index
        for (const value of array(record(candidate["content"])?.["parts"])) {
          const part = readPart(value, signatures)
          if (part === undefined) continue
          if (part.kind === "text") parts.push({ type: "text-delta", delta: part.text, choice })
          else if (part.kind === "reasoning") parts.push({ type: "reasoning-delta", delta: part.text, choice })
          else if (part.kind === "whole") parts.push({ type: "message-part", part: part.part, choice })
          else {
            const n = state.calls++
            parts.push({
              type: "tool-call-delta",
              index: n,
              id: part.id ?? `call_${n}`,
              name: part.name,
              argumentsDelta: JSON.stringify(part.args),
              choice
            })
          }
        }
        const reason = string(candidate["finishReason"])
        if (reason !== undefined && !state.finished) {
          state.finished = true
          parts.push({ type: "finish", reason: toFinishReason(reason, state.calls > 0), choice })
        }
      }
      if (candidates.size === 0 && !blocked && string(record(root["promptFeedback"])?.["blockReason"]) !== undefined) {
        blocked = true
        parts.push({ type: "finish", reason: FinishReason.contentFilter })
      }
      const reported = usageCounts(root["usageMetadata"])
      if (reported !== undefined) {
        counts = mergeCounts(counts, reported)
        const usage = usageOf(counts)
        if (reportsAny(usage)) parts.push({ type: "usage", usage })
      }
      return parts
    }
  }
}

// -----------------------------------------------------------------------------
// Embeddings
// -----------------------------------------------------------------------------

/** The vectors of an embeddings body, in input order, and the input tokens where it reports them. */
export interface EmbeddingsBody {
  readonly vectors: ReadonlyArray<ReadonlyArray<unknown>>
  readonly inputTokens: number | undefined
}

/** `:embedContent`: `{"embedding": {"values": […]}}`. */
export const readEmbedding = (body: unknown): EmbeddingsBody => {
  const root = record(body)
  const embedding = record(root?.["embedding"])
  return {
    vectors: embedding !== undefined ? [array(embedding["values"])] : [],
    inputTokens: count(record(root?.["usageMetadata"])?.["promptTokenCount"])
  }
}

/** `:batchEmbedContents`: `{"embeddings": [{"values": […]}, …]}`, in the order of the requests. */
export const readEmbeddings = (body: unknown): EmbeddingsBody => {
  const root = record(body)
  return {
    vectors: array(root?.["embeddings"]).map((item) => array(record(item)?.["values"])),
    inputTokens: count(record(root?.["usageMetadata"])?.["promptTokenCount"])
  }
}

/**
 * Vertex AI's `:predict`: `{"predictions": [{"embeddings": {"values": […], "statistics":
 * {"token_count": 2}}}]}`, the input tokens the sum of the instances' counts.
 */
export const readPredictions = (body: unknown): EmbeddingsBody => {
  const predictions = array(record(body)?.["predictions"]).map((item) => record(record(item)?.["embeddings"]))
  const tokens = predictions.map((embeddings) => count(record(embeddings?.["statistics"])?.["token_count"]))
  return {
    vectors: predictions.map((embeddings) => array(embeddings?.["values"])),
    inputTokens: totalTokens(tokens)
  }
}
