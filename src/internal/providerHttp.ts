/**
 * The HTTP exchange every model provider makes: a JSON request POSTed with retries that honour
 * `retry-after` (each retry an event on the caller's span), a body read within a byte limit and
 * an idle timeout, and every failure a `ChatError` with an `error.type` and no secret in it.
 * Provider responses are untrusted input, so every read here is bounded in size and in time.
 * The endpoint options are checked before any of that ({@link endpointChecks}): a bad one is a
 * `ProviderConfigError` when the layer is built, never a request.
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ChatError } from "./providerModel.ts"
import { parseRetryAfter } from "./retryAfter.ts"
import {
  ATTR_BELUGA_RETRY_DELAY_MS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  EVENT_BELUGA_PROVIDER_RETRY
} from "./semconv.ts"

/** How a provider's endpoint is reached, and how much of its answers is believed. */
export interface Endpoint {
  readonly baseUrl: URL
  readonly apiKey: Redacted.Redacted<string> | undefined
  /** Extra headers (an organisation, a beta flag); never recorded. */
  readonly headers: Readonly<Record<string, string>>
  /** How long to wait for response headers, and for a whole non-streamed body. */
  readonly timeout: Duration.Duration
  /** How long a stream may go without a byte before it is given up. */
  readonly idleTimeout: Duration.Duration
  /** Retries after 408, 409, 429, 5xx or a failed connection; 0 turns them off. */
  readonly maxRetries: number
  /** The longest wait a `retry-after` may ask for; a longer one fails at once. */
  readonly maxRetryDelay: Duration.Duration
  /** The largest non-streamed body read, and the largest single stream event. */
  readonly maxResponseBytes: number
}

const defaultLimits = {
  timeout: Duration.seconds(600),
  idleTimeout: Duration.seconds(120),
  maxRetries: 2,
  maxRetryDelay: Duration.seconds(60),
  maxResponseBytes: 32 * 1024 * 1024
} as const

/** What a user may set about an endpoint; the rest of {@link Endpoint} has defaults. */
export interface EndpointOptions {
  readonly baseUrl?: string | URL | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Extra request headers (organisation, project, beta flags); never recorded. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Wait for response headers and whole plain bodies; default 10 minutes. */
  readonly timeout?: Duration.Input | undefined
  /** A stream silent this long fails with `timeout`; default 2 minutes. */
  readonly idleTimeout?: Duration.Input | undefined
  /** Retries after 408/409/429/5xx or a failed connection, honouring `retry-after`; default 2. */
  readonly maxRetries?: number | undefined
  /** The longest `retry-after` honoured; a longer one fails at once. Default 60 s. */
  readonly maxRetryDelay?: Duration.Input | undefined
  /** The largest body (or single stream event) believed; default 32 MiB. */
  readonly maxResponseBytes?: number | undefined
}

/** The endpoint `options` describe, with the defaults filled in. */
export const endpointOf = (options: EndpointOptions, defaultBaseUrl: string): Endpoint => ({
  baseUrl: new URL(options.baseUrl ?? defaultBaseUrl),
  apiKey: options.apiKey,
  headers: options.headers ?? {},
  timeout: options.timeout !== undefined ? Duration.fromInputUnsafe(options.timeout) : defaultLimits.timeout,
  idleTimeout: options.idleTimeout !== undefined
    ? Duration.fromInputUnsafe(options.idleTimeout)
    : defaultLimits.idleTimeout,
  maxRetries: options.maxRetries ?? defaultLimits.maxRetries,
  maxRetryDelay: options.maxRetryDelay !== undefined
    ? Duration.fromInputUnsafe(options.maxRetryDelay)
    : defaultLimits.maxRetryDelay,
  maxResponseBytes: options.maxResponseBytes ?? defaultLimits.maxResponseBytes
})

/**
 * A provider option, or the variable it was read from, whose value cannot be used: which one, the
 * value as given (credentials in it masked, secrets never shown), and what is accepted. The layer
 * fails with it when it is built, before any request.
 *
 * @since 0.4.0
 * @category errors
 */
export class ProviderConfigError extends Data.TaggedError("ProviderConfigError")<{
  /** The option (`baseUrl`) or the variable (`OPENAI_BASE_URL`). */
  readonly variable: string
  /** The value, with the user name and password of a URL masked; `<redacted>` for a secret. */
  readonly value: string
  readonly expected: string
}> {
  override get message(): string {
    return `${this.variable}=${JSON.stringify(this.value)} is invalid: expected ${this.expected}`
  }
}

/** The user name and password of a URL (`//user:pass@`, up to the authority's last `@`). */
const urlCredentials = /([/\\]{2})(?:[^/\\?#\s@]*@)+/g
/**
 * Everything before a configured value's last `@`, after its `scheme://`: a value that does not
 * parse as a URL (no scheme, a `/` in its password) may still hold credentials there.
 */
const leadingCredentials = /^([a-z][a-z\d+.-]*:[/\\]{2})?[^]*@/i

/** `text` with the user name and password of every URL in it replaced by `<redacted>`. */
export const maskCredentials = (text: string): string => text.replace(urlCredentials, "$1<redacted>@")

const maxShownLength = 200

/** A value as a configuration error shows it: as text, bounded, any URL credentials masked. */
const shown = (value: unknown): string => {
  let text: string
  if (typeof value === "string") text = value
  else if (value instanceof URL) text = value.href
  else if (Duration.isDuration(value)) text = Duration.format(value)
  else if (typeof value === "object" && value !== null) {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = Object.prototype.toString.call(value)
    }
  } else text = String(value)
  text = maskCredentials(text.toWellFormed())
  return text.length > maxShownLength ? `${text.slice(0, maxShownLength)}…` : text
}

/** The error for an option whose value is not what `expected` says. */
export const invalidOption = (variable: string, value: unknown, expected: string): ProviderConfigError =>
  new ProviderConfigError({ variable, value: shown(value), expected })

/** A check of one option: the error when its value cannot be used, else undefined. */
export type OptionCheck = ProviderConfigError | undefined

/** A required name (a model, an API version): a string that is not blank. */
export const checkText = (variable: string, value: unknown, what = "a non-empty string"): OptionCheck =>
  typeof value === "string" && value.trim() !== "" ? undefined : invalidOption(variable, value, what)

/** An optional name: absent, or a string that is not blank. */
export const checkOptionalText = (variable: string, value: unknown, what?: string): OptionCheck =>
  value === undefined ? undefined : checkText(variable, value, what)

/** An optional whole number of at least `minimum` (a count, a size in bytes). */
export const checkWhole = (variable: string, value: unknown, minimum: number): OptionCheck =>
  value === undefined || (typeof value === "number" && Number.isSafeInteger(value) && value >= minimum)
    ? undefined
    : invalidOption(variable, value, `a whole number of at least ${minimum}`)

/** An optional positive duration (`"30 seconds"`, milliseconds as a number, a `Duration`, `"Infinity"`). */
export const checkDuration = (variable: string, value: unknown): OptionCheck => {
  if (value === undefined) return undefined
  let duration: Duration.Duration | undefined
  try {
    duration = Duration.fromInputUnsafe(value as Duration.Input)
  } catch {
    duration = undefined
  }
  return duration !== undefined && Duration.isPositive(duration)
    ? undefined
    : invalidOption(variable, value, "a positive duration, e.g. \"30 seconds\", 30000 (milliseconds) or \"Infinity\"")
}

/**
 * A base URL a provider can be reached at: absolute http(s), with a host, and nothing a joined
 * path would break (a query, a fragment). A user name or password is refused, not stripped: a
 * client (`fetch`) cannot send them, and they would otherwise travel into error texts and spans.
 */
export const checkBaseUrl = (variable: string, value: unknown, example: string): OptionCheck => {
  const given = typeof value === "string" || value instanceof URL
    ? String(value).replace(leadingCredentials, "$1<redacted>@")
    : value
  const invalid = (expected: string) => invalidOption(variable, given, expected)
  let url: URL | undefined
  try {
    url = typeof value === "string" || value instanceof URL ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    return invalid(`an absolute http:// or https:// URL, e.g. ${example}`)
  }
  if (url.username !== "" || url.password !== "") {
    return invalid(
      `a URL without a user name or password (send the key as \`apiKey\`, or an \`authorization\` header in \`headers\`), e.g. ${example}`
    )
  }
  if (url.search !== "" || url.hash !== "") {
    return invalid(
      `a URL without a query or fragment (paths are appended to it), e.g. ${example}`
    )
  }
  return undefined
}

/** A header name as HTTP allows it (a token). */
const headerName = /^[!#$%&'*+.^_`|~\dA-Za-z-]+$/

/** Extra headers: names HTTP accepts, string values on one line. Values are never shown (they may hold keys). */
export const checkHeaders = (variable: string, value: unknown): OptionCheck => {
  if (value === undefined) return undefined
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalidOption(variable, typeof value, "an object of header names to string values")
  }
  for (const [name, text] of Object.entries(value)) {
    if (!headerName.test(name)) {
      return invalidOption(`${variable}`, name, "header names made of letters, digits and !#$%&'*+.^_`|~-")
    }
    if (typeof text !== "string" || /[\r\n\0]/.test(text)) {
      return invalidOption(`${variable}.${name}`, "<redacted>", "a string on one line (no CR, LF or NUL)")
    }
  }
  return undefined
}

/** An API key: absent, or a non-empty `Redacted` string. Its value is never shown. */
export const checkApiKey = (variable: string, value: unknown): OptionCheck => {
  if (value === undefined) return undefined
  if (!Redacted.isRedacted(value)) {
    return invalidOption(
      variable,
      typeof value === "string" ? "<redacted>" : typeof value,
      "a Redacted string (Redacted.make(key))"
    )
  }
  const key = Redacted.value(value)
  return typeof key === "string" && key !== "" && !/[\r\n\0]/.test(key)
    ? undefined
    : invalidOption(variable, "<redacted>", "a non-empty key on one line, or no key")
}

/**
 * Every endpoint option checked, in the order a reader meets them: the first bad one is reported.
 * `example` is the provider's own base URL, shown in the error as what is accepted.
 */
export const endpointChecks = (options: EndpointOptions, example: string): ReadonlyArray<OptionCheck> => [
  options.baseUrl === undefined ? undefined : checkBaseUrl("baseUrl", options.baseUrl, example),
  checkApiKey("apiKey", options.apiKey),
  checkHeaders("headers", options.headers),
  checkDuration("timeout", options.timeout),
  checkDuration("idleTimeout", options.idleTimeout),
  checkWhole("maxRetries", options.maxRetries, 0),
  checkDuration("maxRetryDelay", options.maxRetryDelay),
  checkWhole("maxResponseBytes", options.maxResponseBytes, 1)
]

/** `server.address` and `server.port` from a base URL, the port defaulting by scheme. */
export const serverOf = (url: URL): { readonly serverAddress: string; readonly serverPort: number } => ({
  serverAddress: url.hostname.replace(/^\[(.*)\]$/, "$1"),
  serverPort: url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80
})

/**
 * `base` + `path`, keeping the base's own path (`…/v1` + `/chat/completions`). A user name or
 * password is never sent on: the options refuse them, and an endpoint made without that check
 * still does not hand them to the client, whose errors and spans would repeat them.
 */
const joinUrl = (base: URL, path: string): string => {
  const url = new URL(base)
  url.username = ""
  url.password = ""
  return `${url.href.replace(/\/+$/, "")}${path}`
}

/** What a provider makes of an error body. */
export interface ErrorInfo {
  readonly errorType: string | undefined
  readonly message: string | undefined
}

/** A provider's wire dialect: how it authenticates and how it reports errors. */
export interface Dialect {
  readonly name: string
  readonly authHeaders: (apiKey: string) => Record<string, string>
  /** `headers` are the error response's (AWS names the error type in `x-amzn-errortype`, not the body). */
  readonly errorOf: (body: unknown, headers?: Readonly<Record<string, string | undefined>>) => ErrorInfo
  /**
   * How long an error body asks the client to wait before retrying, in milliseconds (Google's
   * `RetryInfo.retryDelay`); a `retry-after` header, when there is one, wins.
   */
  readonly retryAfterOf?: ((body: unknown) => number | undefined) | undefined
}

const maxMessageLength = 500

/**
 * A message safe to put on a span or in a log: the API key removed wherever the provider echoed
 * it, the user name and password of any URL in it masked (a client library's error repeats the
 * URL it was given), lone surrogates replaced, and the length bounded.
 */
const safeMessage = (text: string, endpoint: Endpoint): string => {
  let out = maskCredentials(text.toWellFormed())
  const key = endpoint.apiKey !== undefined ? Redacted.value(endpoint.apiKey) : ""
  if (key.length >= 4) out = out.split(key).join("<redacted>")
  return out.length > maxMessageLength ? `${out.slice(0, maxMessageLength)}…` : out
}

/** A `ChatError` whose message is safe to record (see {@link safeMessage}). */
export const chatError = (endpoint: Endpoint, errorType: string, message: string, status?: number): ChatError =>
  new ChatError({ errorType, message: safeMessage(message, endpoint), ...(status !== undefined ? { status } : {}) })

/** The messages of an error and its causes (`fetch failed: connect ECONNREFUSED …`), a few levels deep. */
const describeError = (error: unknown, depth = 0): string => {
  if (!(error instanceof Error) || depth > 3) return error === undefined ? "" : String(error)
  const cause = (error as { cause?: unknown }).cause
  const inner = cause !== undefined ? describeError(cause, depth + 1) : ""
  return inner !== "" && inner !== error.message ? `${error.message}: ${inner}` : error.message
}

/** A transport failure as a `ChatError`: the connection broke, or the request never left. */
export const transportError = (endpoint: Endpoint, error: unknown): ChatError =>
  chatError(endpoint, "connection_error", `${endpoint.baseUrl.host}: ${describeError(error)}`)

/**
 * A failure of the HTTP client as a `ChatError`. Only a transport failure is `connection_error`
 * (and retried); a request the client could not build (its URL, its body) is `invalid_request`,
 * which no retry can mend.
 */
const clientError = (endpoint: Endpoint, reason: { readonly _tag: string }): ChatError =>
  reason._tag === "TransportError"
    ? transportError(endpoint, reason)
    : chatError(endpoint, "invalid_request", `the request could not be sent: ${describeError(reason)}`)

/**
 * Reads a whole body, failing once it passes `limit` bytes, goes quiet for the idle timeout, or
 * takes longer than the endpoint's `timeout` (a body that trickles in never goes quiet).
 */
export const readBody = (
  response: HttpClientResponse.HttpClientResponse,
  endpoint: Endpoint,
  limit: number = endpoint.maxResponseBytes
): Effect.Effect<string, ChatError> =>
  Effect.suspend(() => {
    const decoder = new TextDecoder()
    let text = ""
    let bytes = 0
    return response.stream.pipe(
      Stream.mapError((error) => transportError(endpoint, error)),
      idleTimeout(endpoint),
      Stream.runForEachArray((chunks) =>
        Effect.suspend(() => {
          for (const chunk of chunks) {
            bytes += chunk.byteLength
            if (bytes > limit) {
              return Effect.fail(
                chatError(endpoint, "response_too_large", `response body over ${limit} bytes`, response.status)
              )
            }
            text += decoder.decode(chunk, { stream: true })
          }
          return Effect.void
        })
      ),
      Effect.map(() => text + decoder.decode()),
      Effect.timeoutOrElse({
        duration: endpoint.timeout,
        orElse: () =>
          Effect.fail(
            chatError(
              endpoint,
              "timeout",
              `the body from ${endpoint.baseUrl.host} took over ${Duration.format(endpoint.timeout)}`,
              response.status
            )
          )
      })
    )
  })

/** Fails a stream with `timeout` when no element arrives for the endpoint's idle timeout. */
export const idleTimeout =
  (endpoint: Endpoint) => <A, R>(self: Stream.Stream<A, ChatError, R>): Stream.Stream<A, ChatError, R> =>
    Stream.transformPull(self, (pull) =>
      Effect.succeed(pull.pipe(Effect.timeoutOrElse({
        duration: endpoint.idleTimeout,
        orElse: () =>
          Effect.fail(
            chatError(
              endpoint,
              "timeout",
              `no data from ${endpoint.baseUrl.host} for ${Duration.format(endpoint.idleTimeout)}`
            )
          )
      }))))

/** Parses JSON, or fails with `invalid_response`. */
export const parseJson = (text: string, endpoint: Endpoint, what: string): Effect.Effect<unknown, ChatError> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: () => chatError(endpoint, "invalid_response", `${what} is not valid JSON (${text.length} characters)`)
  })

const retryable = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500

/** How long the provider asked to wait: `retry-after-ms` (OpenAI), else `retry-after`. */
const retryAfter = (headers: Readonly<Record<string, string | undefined>>, now: number): number | undefined => {
  const ms = Number(headers["retry-after-ms"])
  if (headers["retry-after-ms"] !== undefined && Number.isFinite(ms) && ms >= 0) return ms
  return parseRetryAfter(headers["retry-after"], now)
}

/** Exponential backoff with jitter when the provider names no delay: 0.5 s, 1 s, 2 s … up to 8 s. */
const backoff = (attempt: number) => Math.min(8000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.25)

/** A failed response as a `ChatError`, from its (bounded) error body, with the delay the body asks for. */
const statusError = (
  response: HttpClientResponse.HttpClientResponse,
  endpoint: Endpoint,
  dialect: Dialect
): Effect.Effect<AttemptFailure> =>
  readBody(response, endpoint, 64 * 1024).pipe(
    Effect.map((text) => {
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        body = undefined
      }
      const info = dialect.errorOf(body, response.headers)
      const error = chatError(
        endpoint,
        info.errorType ?? String(response.status),
        `${dialect.name} answered ${response.status}${info.message !== undefined ? `: ${info.message}` : ""}`,
        response.status
      )
      const wait = dialect.retryAfterOf?.(body)
      return wait !== undefined ? { error, retryAfter: wait } : { error }
    }),
    // An unreadable error body still reports the status.
    Effect.catch((error) =>
      Effect.succeed({
        error: new ChatError({ errorType: error.errorType, message: error.message, status: response.status })
      })
    )
  )

interface AttemptFailure {
  readonly error: ChatError
  readonly retryAfter?: number
}

/**
 * POSTs `body` as JSON and returns the successful response, retrying retryable failures. Each
 * attempt is its own HTTP client span under the caller's span; each retry is an event on the
 * caller's span, with the status and the delay.
 */
export const post = (
  client: HttpClient.HttpClient,
  endpoint: Endpoint,
  dialect: Dialect,
  path: string,
  body: unknown
): Effect.Effect<HttpClientResponse.HttpClientResponse, ChatError> => {
  /** One attempt; a failure carries how long the provider asked to wait before the next. */
  const attempt = (
    request: HttpClientRequest.HttpClientRequest,
    n: number
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, AttemptFailure> =>
    client.execute(request).pipe(
      Effect.mapError((error): AttemptFailure => ({ error: clientError(endpoint, error.reason) })),
      Effect.timeoutOrElse({
        duration: endpoint.timeout,
        orElse: () =>
          Effect.fail<AttemptFailure>({
            error: chatError(
              endpoint,
              "timeout",
              `no response from ${endpoint.baseUrl.host} in ${Duration.format(endpoint.timeout)}`
            )
          })
      }),
      Effect.flatMap((response) =>
        response.status >= 200 && response.status < 300
          ? Effect.succeed(response)
          : Effect.flatMap(statusError(response, endpoint, dialect), ({ error, retryAfter: asked }) => {
            const wait = retryAfter(response.headers, Date.now()) ?? asked
            return Effect.fail<AttemptFailure>(wait !== undefined ? { error, retryAfter: wait } : { error })
          })
      ),
      Effect.catch((failure: AttemptFailure) => {
        const { error } = failure
        const canRetry = error.status === undefined ? error.errorType === "connection_error" : retryable(error.status)
        if (!canRetry || n >= endpoint.maxRetries) return Effect.fail(failure)
        const wait = failure.retryAfter ?? backoff(n)
        if (wait > Duration.toMillis(endpoint.maxRetryDelay)) return Effect.fail(failure)
        return Effect.gen(function*() {
          const span = yield* Effect.currentSpan.pipe(Effect.orElseSucceed(() => undefined))
          span?.event(EVENT_BELUGA_PROVIDER_RETRY, yield* Clock.currentTimeNanos, {
            [ATTR_HTTP_REQUEST_RESEND_COUNT]: n + 1,
            ...(error.status !== undefined ? { [ATTR_HTTP_RESPONSE_STATUS_CODE]: error.status } : {}),
            [ATTR_ERROR_TYPE]: error.errorType,
            [ATTR_BELUGA_RETRY_DELAY_MS]: Math.round(wait)
          })
          yield* Effect.sleep(Duration.millis(wait))
          return yield* attempt(request, n + 1)
        })
      })
    )
  const auth = endpoint.apiKey !== undefined ? dialect.authHeaders(Redacted.value(endpoint.apiKey)) : {}
  const secretNames = secretHeaderNames(endpoint, auth)
  return Effect.try({
    try: () =>
      HttpClientRequest.post(joinUrl(endpoint.baseUrl, path)).pipe(
        HttpClientRequest.setHeaders({ ...endpoint.headers, ...auth }),
        HttpClientRequest.bodyJsonUnsafe(body)
      ),
    // A body JSON cannot hold (a BigInt, a cycle in tool arguments) fails the call, not the fiber.
    catch: (error) => chatError(endpoint, "invalid_request", `the request body is not JSON: ${describeError(error)}`)
  }).pipe(
    Effect.flatMap((request) => Effect.mapError(attempt(request, 0), (failure) => failure.error)),
    Effect.updateService(Headers.CurrentRedactedNames, (names) => [...names, ...secretNames])
  )
}

/**
 * The request headers an HTTP client span must show as `<redacted>` should its header filter let
 * them through: the credential's header (`x-goog-api-key` is not among Effect's defaults) and
 * every extra header, which may carry a key of its own (Azure's `api-key`).
 */
const secretHeaderNames = (endpoint: Endpoint, auth: Readonly<Record<string, string>>): ReadonlyArray<string> =>
  [...Object.keys(endpoint.headers), ...Object.keys(auth)].map((name) => name.toLowerCase())
