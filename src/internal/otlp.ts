/**
 * The OTLP/HTTP exporter of spans and metrics: their serialized requests over the runtime's HTTP
 * client (`#platform`: `node:http` on Node, Bun and Deno; `fetch` on workerd and the edge).
 *
 * Why not the SDK's `OTLPTraceExporter`? Its retry timers cannot be cancelled and are not
 * `unref`'d, so a program whose collector is down stays alive for the whole export timeout after
 * its work is done, and it reports failures only through `diag`, which is silent by default. This
 * transport follows the same OTLP rules (retry 429/502/503/504 and connection failures with
 * exponential backoff and jitter, honour `Retry-After`, never retry other 4xx, bound everything
 * by the export timeout) and adds what a library inside someone else's program needs:
 * - at shutdown a refused connection is not retried (nobody is listening; waiting helps no one),
 *   and `abort()` ends whatever is still in flight once the shutdown budget is spent;
 * - every outcome is reported to the caller (delivered, failed, rejected by partial success), so
 *   the user gets one clear line instead of silence or a stream of stack traces.
 */
import * as Platform from "#platform"
import { type ExportResult, ExportResultCode } from "@opentelemetry/core"
import { type HttpClient, unrefTimer } from "./httpClient.ts"
import { partialSuccess, rpcStatusMessage } from "./otlpResponse.ts"
import { parseRetryAfter } from "./retryAfter.ts"
import { LIBRARY_NAME } from "./semconv.ts"
import type { EncodedBatch } from "./spanBatcher.ts"

export interface OtlpOptions {
  readonly url: string
  readonly protocol: "http/protobuf" | "http/json"
  readonly headers: Readonly<Record<string, string>>
  readonly compression: "gzip" | "none"
  /** Budget for one export, retries included; 0 means no limit, as in the OTLP spec. */
  readonly timeoutMillis: number
}

/** The largest delay `setTimeout` takes: what "no limit" becomes. */
const noLimitMillis = 2_147_483_647

/**
 * How one signal's payload goes on the wire: spans here, metrics in `otlpMetrics.ts`. `count` is
 * what delivery is reported in (spans, data points); `rejected` reads the count a collector's
 * partial success rejected from its response body.
 */
export interface Codec<Payload> {
  readonly serialize: (payload: Payload, protocol: OtlpOptions["protocol"]) => Uint8Array | undefined
  readonly count: (payload: Payload) => number
  readonly rejected: (
    body: Uint8Array,
    protocol: OtlpOptions["protocol"]
  ) => { readonly rejected: number; readonly message: string | undefined }
}

/** Batches the span batcher serialized already (`spanBatcher.ts`): the body goes out as it is. */
export const encodedBatchCodec: Codec<EncodedBatch> = {
  serialize: (batch) => batch.body,
  count: (batch) => batch.items,
  rejected: (body, protocol) => partialSuccess(body, protocol, "rejectedSpans")
}

/** What happened to one export call, for reporting; `items` counts spans or metric data points. */
export type Outcome =
  | {
    readonly _tag: "Delivered"
    readonly items: number
    readonly rejected: number
    readonly message: string | undefined
  }
  | {
    readonly _tag: "Failed"
    readonly items: number
    readonly error: Error
    readonly retryable: boolean
    /** Counted, not announced: the caller says it in its own words. */
    readonly quiet?: boolean
  }

const retryableStatus = new Set([429, 502, 503, 504])
/** Export requests that may be on the wire at once. */
const maxInFlight = 2
const maxRetries = 5
const initialBackoffMillis = 1000
const maxBackoffMillis = 5000
const backoffMultiplier = 1.5
const jitter = 0.2

type Attempt =
  | { readonly status: "success"; readonly body: Uint8Array }
  | {
    readonly status: "retryable"
    readonly error: Error
    readonly retryAfterMillis: number | undefined
    readonly refused: boolean
  }
  | { readonly status: "failure"; readonly error: Error }

export class OtlpHttpExporter<Payload> {
  private readonly client: HttpClient
  private readonly url: URL
  private readonly pending = new Set<Promise<void>>()
  /** Pending retry waits; `refused` ones end early at shutdown. */
  private readonly sleepers = new Map<() => void, { readonly refused: boolean }>()
  private shuttingDown = false
  private aborted = false
  /** Retries performed so far (all exports). */
  retries = 0

  private readonly options: OtlpOptions

  constructor(
    options: OtlpOptions,
    private readonly report: (outcome: Outcome) => void,
    private readonly codec: Codec<Payload>
  ) {
    this.options = options.timeoutMillis === 0 ? { ...options, timeoutMillis: noLimitMillis } : options
    this.url = new URL(options.url)
    this.client = Platform.httpClient(this.url)
  }

  /**
   * The batch processor sends one batch at a time and waits for its callback before the next.
   * Waiting for the collector's answer would leave the connection idle while the collector
   * decodes (slow for JSON) and the queue fills, so the callback comes once the batch holds one
   * of {@link maxInFlight} request slots: up to that many requests overlap, and when all are
   * busy the processor waits, which bounds memory. The outcome goes to `report`, which is where
   * delivery is counted; `forceFlush` and `shutdown` wait for every request.
   */
  export(payload: Payload, resultCallback: (result: ExportResult) => void): void {
    const batch = { items: this.codec.count(payload), settled: false }
    this.unsettled.add(batch)
    const done = this.acquireSlot()
      .then(() => {
        resultCallback({ code: ExportResultCode.SUCCESS })
        return this.send(payload, batch.items)
      })
      .then((outcome) => {
        // After `abort` the batch was already reported as lost; its late answer changes nothing.
        if (!batch.settled) this.report(outcome)
      })
      .finally(() => {
        batch.settled = true
        this.unsettled.delete(batch)
        this.releaseSlot()
      })
    this.pending.add(done)
    void done.finally(() => this.pending.delete(done))
  }

  /** Batches handed to us whose outcome is not reported yet (waiting for a slot, or on the wire). */
  private readonly unsettled = new Set<{ readonly items: number; settled: boolean }>()

  /** Items (spans, data points) handed to us whose outcome is not reported yet. */
  unsettledItems(): number {
    let items = 0
    for (const batch of this.unsettled) items += batch.items
    return items
  }

  private inFlight = 0
  private readonly slotWaiters: Array<() => void> = []

  private acquireSlot(): Promise<void> {
    if (this.inFlight < maxInFlight) {
      this.inFlight++
      return Promise.resolve()
    }
    return new Promise((resolve) => this.slotWaiters.push(resolve))
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift()
    if (next !== undefined) next()
    else this.inFlight--
  }

  /** Waits for every export handed to us (the batch processor flushes its own queue first). */
  async forceFlush(): Promise<void> {
    await Promise.all(this.pending)
  }

  /**
   * Called when the program is ending, before the final flush: from now on a refused connection
   * is final (nobody is listening), while a collector that answers 503 still gets its retries
   * within the shutdown budget.
   */
  beginShutdown(): void {
    this.shuttingDown = true
    for (const [wake, { refused }] of this.sleepers) if (refused) wake()
  }

  async shutdown(): Promise<void> {
    this.beginShutdown()
    await this.forceFlush()
    this.client.destroy(new Error("exporter shut down"))
  }

  /**
   * Ends everything still in flight: the shutdown budget is spent. Those batches are reported as
   * failed here and now, so the counts a program reads on its way out are complete; returns how
   * many spans that was.
   */
  abort(): number {
    let lost = 0
    for (const batch of this.unsettled) {
      batch.settled = true
      lost += batch.items
      this.report({
        _tag: "Failed",
        items: batch.items,
        error: new Error("export aborted at shutdown"),
        retryable: false,
        quiet: true
      })
    }
    this.unsettled.clear()
    this.shuttingDown = true
    this.aborted = true
    for (const wake of this.sleepers.keys()) wake()
    this.client.destroy(new Error("export aborted at shutdown"))
    return lost
  }

  private async send(payload: Payload, items: number): Promise<Outcome> {
    // A batch still waiting for a request slot when the shutdown budget ran out: `abort` counted
    // it; sending it now would hold the process open on a collector we gave up on.
    if (this.aborted) {
      return { _tag: "Failed", items, error: new Error("export aborted at shutdown"), retryable: false }
    }
    let body: Uint8Array | undefined
    try {
      body = this.codec.serialize(payload, this.options.protocol)
    } catch (error) {
      return { _tag: "Failed", items, error: asError(error), retryable: false }
    }
    if (body === undefined) {
      return {
        _tag: "Failed",
        items,
        error: new Error("the payload could not be serialized"),
        retryable: false
      }
    }
    if (this.options.compression === "gzip") body = await Platform.gzip(body)

    const deadline = Date.now() + this.options.timeoutMillis
    let backoff = initialBackoffMillis
    for (let retry = 0;; retry++) {
      const attempt = await this.attempt(body, deadline - Date.now())
      if (attempt.status === "success") return this.delivered(items, attempt.body)
      if (attempt.status === "failure") {
        return { _tag: "Failed", items, error: attempt.error, retryable: false }
      }
      // Retryable. Give up when out of tries, when the wait would pass the deadline, or when
      // shutting down and nobody is listening at all.
      const wait = attempt.retryAfterMillis ?? backoff * (1 + (Math.random() * 2 - 1) * jitter)
      backoff = Math.min(backoff * backoffMultiplier, maxBackoffMillis)
      const giveUp = () => this.aborted || (this.shuttingDown && attempt.refused)
      if (retry >= maxRetries || Date.now() + wait >= deadline || giveUp()) {
        return { _tag: "Failed", items, error: attempt.error, retryable: true }
      }
      await this.sleep(wait, attempt.refused)
      if (giveUp()) return { _tag: "Failed", items, error: attempt.error, retryable: true }
      this.retries++
    }
  }

  private delivered(items: number, body: Uint8Array): Outcome {
    let rejected = 0
    let message: string | undefined
    if (body.length > 0) {
      try {
        ;({ rejected, message } = this.codec.rejected(body, this.options.protocol))
      } catch {
        // A 2xx with a body we cannot read is still a delivery (some proxies answer with text).
      }
    }
    return { _tag: "Delivered", items, rejected, message }
  }

  private sleep(millis: number, refused: boolean): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.sleepers.delete(wake)
        resolve()
      }
      // unref: a retry pending must never be what keeps the user's program alive. At shutdown
      // the release's own bounded wait keeps the process up while retries are worth waiting for.
      const timer = setTimeout(wake, millis)
      unrefTimer(timer)
      this.sleepers.set(wake, { refused })
    })
  }

  private readonly headers = (): Record<string, string> => ({
    ...this.options.headers,
    "Content-Type": this.options.protocol === "http/json" ? "application/json" : "application/x-protobuf",
    ...(this.options.compression === "gzip" ? { "Content-Encoding": "gzip" } : {}),
    "User-Agent": LIBRARY_NAME
  })

  private async attempt(body: Uint8Array, timeoutMillis: number): Promise<Attempt> {
    // The attempt waits for what is left of the export timeout, but the message names the
    // configured timeout: a computed remainder (999 ms) reads like a different setting.
    const result = await this.client.post(this.url, this.headers(), body, timeoutMillis, this.options.timeoutMillis)
    if (result._tag === "Error") {
      return result.retryable
        ? { status: "retryable", error: result.error, retryAfterMillis: undefined, refused: result.refused }
        : { status: "failure", error: result.error }
    }
    const { status } = result
    if (status >= 200 && status < 300) return { status: "success", body: result.body }
    const error = new CollectorError(status, describeBody(result.body, result.contentType))
    if (retryableStatus.has(status)) {
      return { status: "retryable", error, retryAfterMillis: parseRetryAfter(result.retryAfter), refused: false }
    }
    return { status: "failure", error }
  }
}

/** The collector answered with an error status. */
export class CollectorError extends Error {
  constructor(readonly status: number, readonly detail: string) {
    super(`collector answered HTTP ${status}${detail !== "" ? `: ${detail}` : ""}`)
    this.name = "CollectorError"
  }
}

/** A collector's error body: the `google.rpc.Status` message (JSON or protobuf), else a text excerpt. */
const describeBody = (body: Uint8Array, contentType: string | undefined): string => {
  if (body.length === 0) return ""
  if (contentType?.includes("protobuf") === true) {
    const message = rpcStatusMessage(body)
    if (message !== undefined) return message
  }
  const text = new TextDecoder().decode(body)
  if (contentType?.includes("json") === true) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown }
      if (typeof parsed.message === "string") return parsed.message
    } catch {
      // fall through to the text excerpt
    }
  }
  // A protobuf Status or an HTML page: keep printable characters only.
  const printable = text.replace(/[^\x20-\x7e]+/g, " ").trim()
  return printable.length > 200 ? `${printable.slice(0, 200)}…` : printable
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)))
