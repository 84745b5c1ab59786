/**
 * What the Bedrock provider needs beyond the provider kit: requests signed with SigV4 on every
 * attempt (a client wrapper, so that the kit's retries re-sign with a fresh `x-amz-date`), AWS's
 * error types (the `x-amzn-errortype` header, the stream's `:exception-type`) in one casing, the
 * credentials scrubbed from every text that could reach a span, and the `converse-stream` events
 * read from event-stream frames into reply parts.
 *
 * It knows the wire only: the request and reply shapes of `ChatModel` stay in `Bedrock.ts`.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as Redacted from "effect/Redacted"
import { type Frame, type FrameHandler, stringHeader } from "./eventStream.ts"
import type { StreamPart, Usage } from "./model.ts"
import { chatError, type Dialect, type Endpoint } from "./providerHttp.ts"
import { cacheExclusiveUsage, count, mapped, record, string } from "./providerKit.ts"
import { ChatError } from "./providerModel.ts"
import { FinishReason, type FinishReasonName } from "./semconv.ts"
import { makeSigner } from "./sigv4.ts"

/** AWS credentials as the options hold them: every part `Redacted`. */
export interface AwsCredentials {
  readonly accessKeyId: Redacted.Redacted<string>
  readonly secretAccessKey: Redacted.Redacted<string>
  /** Temporary credentials' session token, sent as `x-amz-security-token`. */
  readonly sessionToken?: Redacted.Redacted<string> | undefined
}

/**
 * Removes every secret from a text: the credentials (access key id included, which identifies
 * the account) and the bearer token, wherever a server or a client library repeated them.
 */
export const makeScrubber = (secrets: ReadonlyArray<unknown>) => {
  const values = secrets.flatMap((secret) => {
    const value: unknown = Redacted.isRedacted(secret) ? Redacted.value(secret) : undefined
    return typeof value === "string" && value.length >= 4 ? [value] : []
  })
  return (text: string): string => {
    let out = text
    for (const value of values) out = out.split(value).join("<redacted>")
    return out
  }
}

/** A scrubber: the text with every secret it knows removed. */
export type Scrub = (text: string) => string

/**
 * An AWS error type in the casing the stream's `:exception-type` uses, the first letter lower:
 * `ThrottlingException:http://internal.amazon.com/coral/…` and `com.amazon#ThrottlingException`
 * are both `throttlingException`. Anything that is not a plain identifier reads as absent, so
 * that no free text (nor a secret a server echoed) becomes an `error.type`.
 */
export const errorTypeOf = (raw: string | undefined, scrub: Scrub = (text) => text): string | undefined => {
  if (raw === undefined) return undefined
  const name = raw.split(":")[0]!.split("#").at(-1)!.trim()
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) || scrub(name) !== name) return undefined
  return name[0]!.toLowerCase() + name.slice(1)
}

/**
 * Bedrock's wire dialect: an API key is a bearer token; an error's type is in `x-amzn-errortype`
 * (restJson1), or in the body's `__type` or `code` where a proxy puts it, and its text in
 * `message` (`Message` in some services' bodies).
 */
export const makeDialect = (scrub: Scrub): Dialect => ({
  name: "Amazon Bedrock",
  authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  errorOf: (body, headers) => {
    const root = record(body)
    const message = string(root?.["message"]) ?? string(root?.["Message"])
    return {
      errorType: errorTypeOf(headers?.["x-amzn-errortype"], scrub) ?? errorTypeOf(string(root?.["__type"]), scrub) ??
        errorTypeOf(string(root?.["code"]), scrub),
      message: message !== undefined ? scrub(message) : undefined
    }
  }
})

/** The error with every secret scrubbed from its message, whichever layer made it. */
export const scrubChatError = (scrub: Scrub) => (error: ChatError): ChatError => {
  const message = scrub(error.message)
  return message === error.message
    ? error
    : new ChatError({
      errorType: error.errorType,
      message,
      ...(error.status !== undefined ? { status: error.status } : {})
    })
}

/** Headers the client must never record, whatever its header filter: the session token's. */
const secretHeaders = ["x-amz-security-token"]

/**
 * `client` with every request signed with SigV4 as it is sent, so that a retry carries a fresh
 * date and signature. The signed headers are the request's own (content type, extra headers)
 * with `host`, `x-amz-date` and `x-amz-security-token`; `content-length` is left to the
 * transport. The session token's header is added to the names the client redacts.
 */
export const signingClient = (
  client: HttpClient.HttpClient,
  credentials: AwsCredentials,
  region: string,
  service = "bedrock"
): HttpClient.HttpClient => {
  const sign = makeSigner({
    accessKeyId: Redacted.value(credentials.accessKeyId),
    secretAccessKey: Redacted.value(credentials.secretAccessKey),
    sessionToken: credentials.sessionToken !== undefined ? Redacted.value(credentials.sessionToken) : undefined
  })
  const signed = HttpClient.mapRequestEffect(client, (request) =>
    Effect.gen(function*() {
      const url = new URL(request.url)
      const headers: Record<string, string> = { host: url.host }
      for (const [name, value] of Object.entries(request.headers)) {
        if (name !== "content-length" && name !== "host") headers[name] = value
      }
      const body = request.body._tag === "Uint8Array" ? request.body.body : new Uint8Array(0)
      const date = new Date(yield* Clock.currentTimeMillis)
      const added = yield* Effect.promise(() =>
        sign({ method: request.method, path: url.pathname, query: [...url.searchParams], headers, body }, {
          region,
          service,
          date
        })
      )
      return HttpClientRequest.setHeaders(request, added)
    }))
  return HttpClient.transform(
    signed,
    (effect) => Effect.updateService(effect, Headers.CurrentRedactedNames, (names) => [...names, ...secretHeaders])
  )
}

/** The region in a Bedrock runtime host name (`bedrock-runtime.eu-west-1.amazonaws.com`, FIPS too). */
export const regionOf = (url: URL): string | undefined =>
  /^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname)?.[1]

// Converse's media formats, by MIME type.
const imageFormats: Readonly<Record<string, string>> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp"
}
const videoFormats: Readonly<Record<string, string>> = {
  "video/x-matroska": "mkv",
  "video/quicktime": "mov",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/x-flv": "flv",
  "video/mpeg": "mpeg",
  "video/x-ms-wmv": "wmv",
  "video/3gpp": "three_gp"
}
const documentFormats: Readonly<Record<string, string>> = {
  "application/pdf": "pdf",
  "text/csv": "csv",
  "application/msword": "doc",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.ms-excel": "xls",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "text/html": "html",
  "text/plain": "txt",
  "text/markdown": "md"
}

/** A document's name as Converse accepts it: letters, digits, single spaces, `-()[]`. */
const documentName = (name: unknown, index: number): string => {
  const cleaned = typeof name === "string"
    ? name.replace(/[^A-Za-z0-9\s\-()[\]]/g, "-").replace(/\s+/g, " ").trim().slice(0, 200)
    : ""
  return cleaned !== "" ? cleaned : `document-${index + 1}`
}

/**
 * A media part (`blob` with base64 bytes, or `uri` with an `s3://` location) as an image, video
 * or document block, its format from the MIME type; one Converse cannot carry is left out.
 */
export const mediaBlock = (
  p: Record<string, unknown>,
  nextDocument: () => number
): Array<Record<string, unknown>> => {
  const mime = (string(p["mime_type"]) ?? "").toLowerCase().split(";")[0]!.trim()
  const source = p["type"] === "blob"
    ? { bytes: string(p["content"]) ?? "" }
    : typeof p["uri"] === "string" && p["uri"].startsWith("s3://")
    ? { s3Location: { uri: p["uri"] } }
    : undefined
  if (source === undefined) return []
  const image = mapped(imageFormats, mime)
  if (image !== undefined && string(p["modality"]) !== "document") return [{ image: { format: image, source } }]
  const video = mapped(videoFormats, mime)
  if (video !== undefined) return [{ video: { format: video, source } }]
  const document = mapped(documentFormats, mime)
  if (document !== undefined) {
    return [{ document: { format: document, name: documentName(p["name"], nextDocument()), source } }]
  }
  return []
}

const finishReasons: Readonly<Record<string, FinishReasonName>> = {
  end_turn: FinishReason.stop,
  stop_sequence: FinishReason.stop,
  max_tokens: FinishReason.length,
  model_context_window_exceeded: FinishReason.length,
  tool_use: FinishReason.toolCall,
  guardrail_intervened: FinishReason.contentFilter,
  content_filtered: FinishReason.contentFilter,
  malformed_model_output: FinishReason.error,
  malformed_tool_use: FinishReason.error
}

/**
 * A Converse `stopReason` in the conventions' words: `end_turn`, `stop_sequence` → `stop`;
 * `max_tokens`, `model_context_window_exceeded` → `length`; `tool_use` → `tool_call`;
 * `guardrail_intervened`, `content_filtered` → `content_filter`; `malformed_*` → `error`; others
 * as sent.
 *
 * @example
 * ```ts
 * Bedrock.toFinishReason("guardrail_intervened") // "content_filter"
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const toFinishReason = (reason: string): FinishReasonName => mapped(finishReasons, reason) ?? reason

/**
 * Converse usage in the conventions' terms. Bedrock's `inputTokens` leaves out the tokens read
 * from and written to the prompt cache (its `totalTokens` adds all four), so the input tokens
 * recorded are the three together, and the cache reads and writes are also recorded on their own.
 * A field Bedrock did not report stays absent.
 *
 * @example
 * ```ts
 * Bedrock.toUsage({ inputTokens: 4, outputTokens: 3, cacheReadInputTokens: 1200 })
 * // { inputTokens: 1204, outputTokens: 3, cacheReadInputTokens: 1200, cacheCreationInputTokens: undefined }
 * ```
 *
 * @since 0.4.0
 * @category mapping
 */
export const toUsage = (usage: unknown): Usage | undefined => {
  const u = record(usage)
  return u !== undefined
    ? cacheExclusiveUsage({
      input: u["inputTokens"],
      output: u["outputTokens"],
      cacheRead: u["cacheReadInputTokens"],
      cacheWrite: u["cacheWriteInputTokens"]
    })
    : undefined
}

const utf8 = new TextDecoder()

/** A frame's payload as JSON, or an `invalid_response` error naming the event (never its content). */
const payloadJson = (frame: Frame, endpoint: Endpoint, what: string): unknown => {
  try {
    return JSON.parse(utf8.decode(frame.payload)) as unknown
  } catch {
    return chatError(endpoint, "invalid_response", `a stream event (${what.slice(0, 64)}) is not valid JSON`)
  }
}

/**
 * Reads a `converse-stream` reply, frame by frame. `:message-type` `event` frames are named by
 * `:event-type` (`messageStart`, `contentBlockStart`, `contentBlockDelta`, `contentBlockStop`,
 * `messageStop`, `metadata`; others skipped); an `exception` frame fails the stream with its
 * `:exception-type` (`throttlingException`, `modelStreamErrorException`, …) and an `error` frame
 * with its `:error-code`. The stream is complete once `messageStop` arrived (`metadata`, with the
 * usage, follows it).
 */
export const converseStreamHandler = (endpoint: Endpoint, scrub: Scrub) => (): FrameHandler => {
  let done = false
  return {
    finished: () => done,
    onFrame: (frame): ReadonlyArray<StreamPart> | ChatError => {
      const messageType = stringHeader(frame, ":message-type")
      if (messageType === "exception") {
        const data = payloadJson(frame, endpoint, "exception")
        const message = string(record(data)?.["message"]) ?? "unknown"
        const type = errorTypeOf(stringHeader(frame, ":exception-type"), scrub) ?? "_OTHER"
        return chatError(endpoint, type, scrub(`stream error: ${message}`))
      }
      if (messageType === "error") {
        const type = errorTypeOf(stringHeader(frame, ":error-code"), scrub) ?? "_OTHER"
        return chatError(endpoint, type, scrub(`stream error: ${stringHeader(frame, ":error-message") ?? "unknown"}`))
      }
      if (messageType !== "event") return []
      const eventType = stringHeader(frame, ":event-type") ?? ""
      const data = payloadJson(frame, endpoint, eventType)
      if (data instanceof ChatError) return data
      const root = record(data) ?? {}
      const index = count(root["contentBlockIndex"]) ?? 0
      switch (eventType) {
        case "contentBlockStart": {
          const toolUse = record(record(root["start"])?.["toolUse"])
          return toolUse !== undefined
            ? [{
              type: "tool-call-delta",
              index,
              id: string(toolUse["toolUseId"]),
              name: string(toolUse["name"]),
              argumentsDelta: ""
            }]
            : []
        }
        case "contentBlockDelta": {
          const delta = record(root["delta"]) ?? {}
          const parts: Array<StreamPart> = []
          const text = string(delta["text"])
          if (text !== undefined && text !== "") parts.push({ type: "text-delta", delta: text })
          const toolUse = record(delta["toolUse"])
          if (toolUse !== undefined) {
            parts.push({ type: "tool-call-delta", index, argumentsDelta: string(toolUse["input"]) ?? "" })
          }
          // A reasoning block's signature and redacted content are opaque: only its text is a part.
          const reasoning = string(record(delta["reasoningContent"])?.["text"])
          if (reasoning !== undefined && reasoning !== "") parts.push({ type: "reasoning-delta", delta: reasoning })
          return parts
        }
        case "messageStop": {
          done = true
          const reason = string(root["stopReason"])
          return reason !== undefined ? [{ type: "finish", reason: toFinishReason(reason) }] : []
        }
        case "metadata": {
          const usage = toUsage(root["usage"])
          return usage !== undefined ? [{ type: "usage", usage }] : []
        }
        default:
          return []
      }
    }
  }
}
