/**
 * How the OTLP exporter sends one request, whatever the runtime: `post` resolves with the
 * collector's answer or with what stopped the request, and never rejects. Node's client is in
 * `platform/node.ts` (keep-alive sockets through `node:http`); the `fetch` client here serves the
 * runtimes that have no `node:http` worth using (workerd, edge runtimes).
 */

/** What one POST came to. */
export type HttpResult =
  | {
    readonly _tag: "Response"
    readonly status: number
    /** At most {@link maxBodyBytes} of the response body. */
    readonly body: Uint8Array
    readonly contentType: string | undefined
    readonly retryAfter: string | undefined
  }
  | {
    readonly _tag: "Error"
    readonly error: Error
    /** A network failure or a timeout: worth another try. */
    readonly retryable: boolean
    /** Nobody listens at the address: a retry at shutdown helps no one. */
    readonly refused: boolean
  }

export interface HttpClient {
  /** POSTs `body`; gives up after `timeoutMillis` with a {@link TimeoutError} naming `configuredMillis`. */
  post(
    url: URL,
    headers: Readonly<Record<string, string>>,
    body: Uint8Array,
    timeoutMillis: number,
    configuredMillis: number
  ): Promise<HttpResult>
  /** Ends every request in flight (each resolves as a failure) and closes idle connections. */
  destroy(reason: Error): void
}

/** Collector error bodies are for humans; keep enough to explain, not enough to flood a log. */
export const maxBodyBytes = 64 * 1024

/** No answer within the export timeout. */
export class TimeoutError extends Error {
  constructor(millis: number) {
    super(`no response within ${millis} ms (the export timeout)`)
    this.name = "TimeoutError"
  }
}

/** A timer that must never be what keeps the program alive (Node and Bun timers are objects; others are numbers). */
export const unrefTimer = (timer: ReturnType<typeof setTimeout>): void => {
  ;(timer as { unref?: () => void }).unref?.()
}

/**
 * The `fetch` client. `fetch` rejects with a `TypeError` on any network failure; the runtimes that
 * say why put it in `cause` (undici: `cause.code` = `ECONNREFUSED`).
 */
export const fetchClient = (): HttpClient => {
  const inFlight = new Set<AbortController>()
  return {
    post: async (url, headers, body, timeoutMillis, configuredMillis) => {
      const controller = new AbortController()
      inFlight.add(controller)
      const timer = setTimeout(() => controller.abort(new TimeoutError(configuredMillis)), Math.max(timeoutMillis, 1))
      unrefTimer(timer)
      try {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body: body as Uint8Array<ArrayBuffer>,
          signal: controller.signal
        })
        return {
          _tag: "Response",
          status: response.status,
          body: await readCapped(response),
          contentType: response.headers.get("content-type") ?? undefined,
          retryAfter: response.headers.get("retry-after") ?? undefined
        }
      } catch (error) {
        const reason: unknown = controller.signal.aborted ? controller.signal.reason : error
        if (reason instanceof TimeoutError) return { _tag: "Error", error: reason, retryable: true, refused: false }
        if (controller.signal.aborted) {
          return { _tag: "Error", error: asError(reason), retryable: false, refused: false }
        }
        const code = causeCode(error)
        return {
          _tag: "Error",
          error: code !== undefined
            ? Object.assign(new Error(`${code}: ${asError(error).message}`), { code })
            : asError(error),
          retryable: error instanceof TypeError,
          refused: code === "ECONNREFUSED"
        }
      } finally {
        clearTimeout(timer)
        inFlight.delete(controller)
      }
    },
    destroy: (reason) => {
      for (const controller of inFlight) controller.abort(reason)
    }
  }
}

/** The body up to {@link maxBodyBytes}; the rest is not read (a hostile collector may send without end). */
const readCapped = async (response: Response): Promise<Uint8Array> => {
  if (response.body === null) return new Uint8Array(0)
  const reader = response.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.byteLength
    if (size >= maxBodyBytes) {
      await reader.cancel().catch(() => {})
      break
    }
  }
  const out = new Uint8Array(Math.min(size, maxBodyBytes))
  let at = 0
  for (const chunk of chunks) {
    const part = chunk.subarray(0, out.length - at)
    out.set(part, at)
    at += part.length
    if (at === out.length) break
  }
  return out
}

const causeCode = (error: unknown): string | undefined => {
  const cause = (error as { cause?: { code?: unknown; errors?: ReadonlyArray<{ code?: unknown }> } } | undefined)?.cause
  const code = cause?.code ?? cause?.errors?.[0]?.code
  return typeof code === "string" ? code : undefined
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)))
